"""Field declaration helper carrying the Kubernetes-specific facts pydantic has no words for.

Every API field is declared with `kfield`, which records, next to the pydantic default:

* the JSON name (alias) exactly as in the upstream CRD;
* the CRD (structural) default, which is *not* the Python default: the Python default is the Go zero
  value, because the upstream webhook re-serialises Go structs and the stored objects depend on it
  (e.g. a top-level `imageCache` the user omitted is stored with empty schedules);
* whether the CRD lists the field as required, Go's `omitempty`, and OpenAPI facts (format, bounds,
  pattern, kubernetes extensions) used by the CRD generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo

_UNSET: Any = object()
META_KEY = "k8s"


@dataclass(frozen=True)
class FieldMeta:
    """Kubernetes facts about one field, read by the schema generator and the serialiser."""

    crd_default: Any = _UNSET
    required: bool = False
    omitempty: bool = True
    fmt: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    k8s_type: str | None = None  # name in data/k8s-schemas.json for embedded Kubernetes types
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def has_crd_default(self) -> bool:
        return self.crd_default is not _UNSET


def kfield(
    name: str,
    *,
    default: Any = _UNSET,
    default_factory: Any = None,
    description: str = "",
    crd_default: Any = _UNSET,
    required: bool = False,
    omitempty: bool = True,
    fmt: str | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
    min_length: int | None = None,
    pattern: str | None = None,
    k8s_type: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> Any:
    meta = FieldMeta(
        crd_default=crd_default,
        required=required,
        omitempty=omitempty,
        fmt=fmt,
        minimum=minimum,
        maximum=maximum,
        min_length=min_length,
        pattern=pattern,
        k8s_type=k8s_type,
        extensions=extensions or {},
    )
    kwargs: dict[str, Any] = {
        "alias": name,
        "description": description,
        "json_schema_extra": {META_KEY: meta},
    }
    if default_factory is not None:
        kwargs["default_factory"] = default_factory
    elif default is not _UNSET:
        kwargs["default"] = default
    return Field(**kwargs)


def field_meta(info: FieldInfo) -> FieldMeta:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get(META_KEY), FieldMeta):
        meta: FieldMeta = extra[META_KEY]  # type: ignore[assignment]
        return meta
    return FieldMeta()
