"""Serialise models the way Go's encoding/json serialises the upstream structs.

The stored shape matters: the upstream webhook answers with the diff between the request and the
re-serialised Go object, so fields without `omitempty` and all non-pointer structs appear on stored
objects even when the user left them out (spec §3.2). Rules: `None` (a nil pointer) is omitted;
an `omitempty` scalar, list or map is omitted when empty; a struct is always written.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .fields import field_meta


def _empty(value: Any) -> bool:
    return value is False or value == 0 or value == "" or value == [] or value == {}


def to_dict(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            continue
        if not isinstance(value, BaseModel) and field_meta(info).omitempty and _empty(value):
            continue
        out[info.alias or name] = _plain(value)
    if model.model_extra:
        out.update({k: _plain(v) for k, v in model.model_extra.items()})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        if not type(value).model_fields or value.model_config.get("extra") == "allow":
            # metadata: keep what we were given, only without empty defaults we added
            return {k: _plain(v) for k, v in value.model_dump(by_alias=True).items() if v not in ("", 0, {})}
        return to_dict(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
