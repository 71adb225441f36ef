"""The admission pipeline, offline: what the apiserver and our webhooks do to a submitted object.

Order as in the apiserver: structural defaults on decode, the mutating webhook, structural defaults
again (for anything the webhook added), schema validation, then the validating webhook. Used by
`glance-operator validate` and by the admission server, so both give the same verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from .defaults import Defaults, default_glance, default_glance_api
from .errors import FieldError, invalid, path
from .options import check_custom_configs
from .schema import crd_schema
from .serialize import to_dict
from .structural import apply_defaults, validate
from .v1beta1 import API_VERSION, Glance, GlanceAPI
from .validation import Result, validate_glance_api, validate_glance_create, validate_glance_update

Kind = Literal["Glance", "GlanceAPI"]
KINDS: tuple[Kind, ...] = ("Glance", "GlanceAPI")


@dataclass
class Admission:
    kind: str
    name: str
    object: dict[str, Any] | None = None  # the object as it would be stored, when accepted
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.errors


def _header_errors(doc: Any) -> list[FieldError]:
    if not isinstance(doc, dict):
        return [invalid("", type(doc).__name__, "a Kubernetes object must be a mapping")]
    errors = []
    if doc.get("apiVersion") != API_VERSION:
        errors.append(invalid("apiVersion", doc.get("apiVersion"), f"must be {API_VERSION}"))
    if doc.get("kind") not in KINDS:
        errors.append(invalid("kind", doc.get("kind"), "must be Glance or GlanceAPI"))
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        errors.append(FieldError("metadata.name", "Required value", "name is required"))
    return errors


def _pydantic_errors(exc: ValidationError) -> list[FieldError]:
    # Only reachable for inputs the schema lets through but the models refuse; keep the path.
    out = []
    for err in exc.errors():
        p = path(*[str(x) for x in err["loc"]])
        out.append(invalid(p, err.get("input"), err["msg"]))
    return out


def _schema_pass(
    kind: Kind, doc: dict[str, Any], before_webhook: bool = False
) -> tuple[dict[str, Any], list[FieldError]]:
    schema = crd_schema(kind)
    body = {k: v for k, v in doc.items() if k != "status"}
    defaulted = apply_defaults(body, schema)
    errors = [
        e
        for e in validate(defaulted, schema, path())
        if not e.path.startswith("metadata")  # metadata is validated by the apiserver itself
        # required fields are checked after the mutating webhook had its chance to fill them
        and not (before_webhook and e.type == "Required value")
    ]
    return defaulted, errors


def admit(
    doc: Any,
    defaults: Defaults,
    old: dict[str, Any] | None = None,
    namespace: str = "",
) -> Admission:
    """Default and validate one submitted object; `old` is the stored object for an update."""
    header = _header_errors(doc)
    if header:
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        name = meta.get("name", "") if isinstance(meta, dict) else ""
        given_kind = doc.get("kind", "") if isinstance(doc, dict) else ""
        return Admission(str(given_kind), str(name), errors=header)
    kind: Kind = "Glance" if doc["kind"] == "Glance" else "GlanceAPI"
    name = doc["metadata"]["name"]
    result = Admission(kind, name)
    defaulted, errors = _schema_pass(kind, doc, before_webhook=True)
    if errors:
        result.errors = errors
        return result
    if namespace and not defaulted["metadata"].get("namespace"):
        defaulted["metadata"]["namespace"] = namespace
    try:
        verdict, stored = _webhooks(kind, defaulted, defaults, old)
    except ValidationError as exc:
        result.errors = _pydantic_errors(exc)
        return result
    stored, errors = _schema_pass(kind, stored)
    # beyond upstream: every customServiceConfig against Glance's option catalogue (api/options.py)
    option_errors, option_warnings = check_custom_configs(kind, stored)
    result.errors = errors + verdict.errors + option_errors
    result.warnings = verdict.warnings + option_warnings
    if result.allowed:
        result.object = stored
    return result


def _webhooks(
    kind: Kind, obj: dict[str, Any], defaults: Defaults, old: dict[str, Any] | None
) -> tuple[Result, dict[str, Any]]:
    if kind == "Glance":
        glance = default_glance(Glance.model_validate(obj), defaults)
        if old is None:
            verdict = validate_glance_create(glance)
        else:
            previous = Glance.model_validate(_schema_pass("Glance", old)[0])
            verdict = validate_glance_update(glance, previous)
        return verdict, to_dict(glance)
    api = default_glance_api(GlanceAPI.model_validate(obj), defaults)
    previous_api = GlanceAPI.model_validate(_schema_pass("GlanceAPI", old)[0]) if old is not None else None
    return validate_glance_api(api, previous_api), to_dict(api)
