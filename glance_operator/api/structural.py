"""What the apiserver does with a custom resource and its structural schema, done offline.

`apply_defaults` and `validate` follow apiextensions-apiserver: nulls of non-nullable fields are
dropped, missing fields with a `default` get it (recursively), then the object is validated against
type, enum, bounds, pattern and required lists. Unknown fields are reported, as `kubectl apply`
(strict field validation) does, with a suggestion when a known field is close.
"""

from __future__ import annotations

import copy
import difflib
import re
from functools import cache
from typing import Any

from .errors import FieldError, Path, invalid, not_supported, required, unknown_field

Schema = dict[str, Any]


def apply_defaults(obj: Any, schema: Schema) -> Any:
    """Return a copy of `obj` with the schema's defaults filled in and stray nulls removed."""
    obj = copy.deepcopy(obj)
    _default(obj, schema)
    return obj


def _default(obj: Any, schema: Schema) -> None:
    if isinstance(obj, dict):
        props: dict[str, Schema] = schema.get("properties") or {}
        for name in [k for k, v in obj.items() if v is None and not props.get(k, {}).get("nullable")]:
            del obj[name]
        for name, sub in props.items():
            if name not in obj and "default" in sub:
                obj[name] = copy.deepcopy(sub["default"])
            if name in obj:
                _default(obj[name], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for value in obj.values():
                _default(value, extra)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for item in obj:
            _default(item, schema["items"])


@cache
def _pattern(regex: str) -> re.Pattern[str]:
    # Go's `$` (no multi-line flag) matches only at the very end; Python's also before a final newline.
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", regex))


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "object": (dict,),
    "array": (list,),
}


def _type_ok(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[kind])


def validate(obj: Any, schema: Schema, at: Path) -> list[FieldError]:
    errors: list[FieldError] = []
    _validate(obj, schema, at, errors)
    return errors


def _validate(value: Any, schema: Schema, at: Path, errors: list[FieldError]) -> None:
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, bool) or not isinstance(value, int | str):
            errors.append(invalid(at, value, "must be an integer or a string"))
        elif isinstance(value, str) and "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            errors.append(invalid(at, value, f"must be a quantity or an integer (pattern {schema['pattern']})"))
        return
    kind = schema.get("type")
    if kind is None:
        return
    if not _type_ok(value, kind):
        errors.append(invalid(at, value, f"must be of type {kind}"))
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(not_supported(at, value, schema["enum"]))
    if kind == "string":
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(invalid(at, value, f"should be at least {schema['minLength']} chars long"))
        if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            errors.append(invalid(at, value, f"should match '{schema['pattern']}'"))
    elif kind in ("integer", "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(invalid(at, value, f"should be greater than or equal to {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(invalid(at, value, f"should be less than or equal to {schema['maximum']}"))
    elif kind == "object":
        _validate_object(value, schema, at, errors)
    elif kind == "array" and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _validate(item, schema["items"], at.item(i), errors)


def _validate_object(value: dict[str, Any], schema: Schema, at: Path, errors: list[FieldError]) -> None:
    props: dict[str, Schema] | None = schema.get("properties")
    extra = schema.get("additionalProperties")
    for name in schema.get("required", []):
        if name not in value:
            errors.append(required(at.child(name)))
    for name, item in value.items():
        if props is not None and name in props:
            _validate(item, props[name], at.child(name), errors)
        elif isinstance(extra, dict):
            _validate(item, extra, at.key(name), errors)
        elif props is not None and not schema.get("x-kubernetes-preserve-unknown-fields"):
            hint = difflib.get_close_matches(name, list(props), n=1, cutoff=0.6)
            detail = f'field "{name}" is not known' + (f'; did you mean "{hint[0]}"?' if hint else "")
            errors.append(unknown_field(at.child(name), detail))
