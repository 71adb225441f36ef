"""Field errors worded like Kubernetes' `field.Error`, so messages match what kubectl users see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class Path(tuple[str, ...]):
    """A field path; `str()` renders it the Kubernetes way: `spec.glanceAPIs[default].type`."""

    def child(self, *names: str) -> Path:
        return Path((*self, *names))

    def key(self, key: str) -> Path:
        return Path((*self, f"[{key}]"))

    def item(self, i: int) -> Path:
        return Path((*self, f"[{i}]"))

    def __str__(self) -> str:
        out = ""
        for part in self:
            out += part if part.startswith("[") or not out else "." + part
        return out


def path(*names: str) -> Path:
    return Path(names)


def _value(v: Any) -> str:
    # Go's %#v for the scalars we report: quoted strings, bare numbers and booleans.
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, int | float):
        return str(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class FieldError:
    path: str
    type: str  # "Invalid value", "Forbidden", "Required value", "Unsupported value", ...
    detail: str = ""
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        text = f"{self.path}: {self.type}"
        if self.has_value:
            text += f": {_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text


def invalid(p: Path | str, value: Any, detail: str) -> FieldError:
    return FieldError(str(p), "Invalid value", detail, value, True)


def forbidden(p: Path | str, detail: str) -> FieldError:
    return FieldError(str(p), "Forbidden", detail)


def required(p: Path | str, detail: str = "") -> FieldError:
    return FieldError(str(p), "Required value", detail)


def not_supported(p: Path | str, value: Any, supported: list[Any]) -> FieldError:
    detail = "supported values: " + ", ".join(_value(s) for s in supported)
    return FieldError(str(p), "Unsupported value", detail, value, True)


def unknown_field(p: Path | str, detail: str) -> FieldError:
    return FieldError(str(p), "Unknown field", detail)


def invalid_message(kind: str, name: str, errors: list[FieldError]) -> str:
    """The apiserver's summary for a rejected object, e.g. as returned by an admission webhook."""
    body = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    return f'{kind}.glance.openstack.org "{name}" is invalid: {body}'
