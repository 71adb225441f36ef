"""Walk two CRD schemas and list every path whose presence, type, enum, default, bounds, list/map semantics
or required-ness differs."""

from __future__ import annotations

from typing import Any

FACETS = (
    "type",
    "enum",
    "default",
    "format",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "nullable",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
)


def _type(node: dict[str, Any]) -> Any:
    if node.get("x-kubernetes-int-or-string"):
        return "int-or-string"
    return node.get("type")


def diff(ours: dict[str, Any], theirs: dict[str, Any], path: str = "") -> list[str]:
    out: list[str] = []
    for facet in FACETS:
        a = _type(ours) if facet == "type" else ours.get(facet)
        b = _type(theirs) if facet == "type" else theirs.get(facet)
        if a != b:
            out.append(f"{path or '.'}: {facet} ours={a!r} upstream={b!r}")
    req_a, req_b = set(ours.get("required", [])), set(theirs.get("required", []))
    for name in sorted(req_a ^ req_b):
        out.append(f"{path}.{name}: required ours={name in req_a} upstream={name in req_b}")
    props_a, props_b = ours.get("properties", {}), theirs.get("properties", {})
    for name in sorted(set(props_a) | set(props_b)):
        sub = f"{path}.{name}"
        if name not in props_a:
            out.append(f"{sub}: missing in ours")
        elif name not in props_b:
            out.append(f"{sub}: only in ours")
        else:
            out.extend(diff(props_a[name], props_b[name], sub))
    for key, label in (("items", "[]"), ("additionalProperties", "{*}")):
        a, b = ours.get(key), theirs.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            if not isinstance(a, dict) or not isinstance(b, dict):
                out.append(f"{path}{label}: {key} ours={a is not None} upstream={b is not None}")
            else:
                out.extend(diff(a, b, path + label))
    return out
