"""AdmissionReview v1 in, AdmissionReview v1 out: the pure part of the admission webhooks.

Mutation and validation reuse the offline pipeline (`api.admission`, `api.defaults`), so the webhook,
`glance-operator validate` and openstack-operator's embedded copy of the rules give the same verdicts.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from ..api.admission import KINDS, Kind, admit
from ..api.defaults import Defaults, default_glance, default_glance_api
from ..api.errors import FieldError, invalid_message
from ..api.schema import crd_schema
from ..api.serialize import to_dict
from ..api.structural import apply_defaults
from ..api.v1beta1 import GROUP, Glance, GlanceAPI
from . import patch

REVIEW_API_VERSION = "admission.k8s.io/v1"
Action = Literal["mutate", "validate"]


@dataclass(frozen=True)
class Webhook:
    """One registered webhook, as in upstream's config/webhook/manifests.yaml (spec §3.1)."""

    name: str
    path: str
    kind: Kind
    action: Action

    @property
    def resource(self) -> str:
        return self.kind.lower() + "s"


def _webhook(kind: Kind, action: Action) -> Webhook:
    letter = "m" if action == "mutate" else "v"
    return Webhook(
        name=f"{letter}{kind.lower()}-v1beta1.kb.io",
        path=f"/{action}-glance-openstack-org-v1beta1-{kind.lower()}",
        kind=kind,
        action=action,
    )


WEBHOOKS: tuple[Webhook, ...] = tuple(_webhook(k, a) for a in ("mutate", "validate") for k in KINDS)
BY_PATH = {w.path: w for w in WEBHOOKS}

# metav1.CauseType per field.ErrorType (apimachinery's field.ErrorType.String() -> CauseType)
_CAUSE_TYPE = {
    "Invalid value": "FieldValueInvalid",
    "Required value": "FieldValueRequired",
    "Forbidden": "FieldValueForbidden",
    "Unsupported value": "FieldValueNotSupported",
    "Duplicate value": "FieldValueDuplicate",
    "Not found": "FieldValueNotFound",
    "Too long": "FieldValueTooLong",
    "Too many": "FieldValueTooMany",
    "Unknown field": "FieldValueInvalid",
}


class BadReview(ValueError):
    """A request that is not an AdmissionReview at all: answered with HTTP 400."""


def respond(hook: Webhook, body: bytes, defaults: Defaults) -> dict[str, Any]:
    """The AdmissionReview answer for one request body; raises BadReview when there is no review to answer."""
    try:
        review = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadReview(f"request body is not JSON: {exc}") from None
    if not isinstance(review, dict):
        raise BadReview("request body is not a JSON object")
    request = review.get("request")
    if not isinstance(request, dict) or not isinstance(request.get("uid"), str) or not request["uid"]:
        raise BadReview("not an AdmissionReview: request.uid missing")
    uid = request["uid"]
    if review.get("apiVersion") != REVIEW_API_VERSION or review.get("kind") != "AdmissionReview":
        return _answer(uid, _denied(400, "BadRequest", f"expected an {REVIEW_API_VERSION} AdmissionReview"))
    problem = _request_problem(hook, request)
    if problem:
        return _answer(uid, _denied(400, "BadRequest", problem))
    if request["operation"] in ("DELETE", "CONNECT"):
        return _answer(uid, {"allowed": True})  # upstream's delete validator accepts everything
    if hook.action == "mutate":
        return _answer(uid, mutate(hook.kind, request["object"], defaults))
    old = request.get("oldObject") if request["operation"] == "UPDATE" else None
    return _answer(uid, validate(request["object"], defaults, old, str(request.get("namespace") or "")))


def _request_problem(hook: Webhook, request: dict[str, Any]) -> str:
    operation = request.get("operation")
    if operation not in ("CREATE", "UPDATE", "DELETE", "CONNECT"):
        return f"unsupported operation {operation!r}"
    kind = request.get("kind")
    if not isinstance(kind, dict) or (kind.get("group"), kind.get("kind")) != (GROUP, hook.kind):
        return f"this webhook admits {GROUP}/{hook.kind} only, got {kind!r}"
    if operation in ("CREATE", "UPDATE") and not isinstance(request.get("object"), dict):
        return "request.object must be an object"
    if operation == "UPDATE" and not isinstance(request.get("oldObject"), dict):
        return "request.oldObject must be an object on UPDATE"
    return ""


def mutate(kind: Kind, obj: dict[str, Any], defaults: Defaults) -> dict[str, Any]:
    """Default `obj`; the patch covers `spec` only, the one part defaulting changes, so metadata the
    models do not carry (managedFields, ownerReferences, ...) can never be touched."""
    body = {k: v for k, v in obj.items() if k != "status"}
    try:
        # CRD defaults first, as the apiserver has already applied them to what it sends us
        decoded = apply_defaults(body, crd_schema(kind))
        if kind == "Glance":
            defaulted = to_dict(default_glance(Glance.model_validate(decoded), defaults))
        else:
            defaulted = to_dict(default_glance_api(GlanceAPI.model_validate(decoded), defaults))
    except (ValidationError, TypeError, ValueError, AttributeError, KeyError):
        # Not decodable into the models: nothing to default; schema and validation refuse it next.
        return {"allowed": True}
    before = {"spec": obj["spec"]} if "spec" in obj else {}
    ops = patch.diff(before, {"spec": defaulted.get("spec", {})})
    if not ops:
        return {"allowed": True}
    encoded = base64.b64encode(json.dumps(ops, separators=(",", ":")).encode()).decode()
    return {"allowed": True, "patchType": "JSONPatch", "patch": encoded}


def validate(obj: dict[str, Any], defaults: Defaults, old: dict[str, Any] | None, namespace: str) -> dict[str, Any]:
    result = admit(obj, defaults, old=old, namespace=namespace)
    response: dict[str, Any] = {"allowed": result.allowed}
    if result.warnings:
        # the apiserver drops warnings with control characters, so keep each on one line
        response["warnings"] = [" ".join(w.split()) for w in result.warnings]
    if not result.allowed:
        response["status"] = invalid_status(result.kind, result.name, result.errors)
    return response


def invalid_status(kind: str, name: str, errors: list[FieldError]) -> dict[str, Any]:
    """apierrors.NewInvalid(...).ErrStatus, as controller-runtime returns it for a validator error."""
    kind = kind if kind in KINDS else "Glance"
    return {
        "metadata": {},
        "status": "Failure",
        "code": 422,
        "reason": "Invalid",
        "message": invalid_message(kind, name, errors),
        "details": {
            "name": name,
            "group": GROUP,
            "kind": kind,
            "causes": [
                {
                    "reason": _CAUSE_TYPE.get(e.type, "FieldValueInvalid"),
                    "message": str(e).removeprefix(f"{e.path}: ") if e.path else str(e),
                    "field": e.path,
                }
                for e in errors
            ],
        },
    }


def _denied(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "allowed": False,
        "status": {"metadata": {}, "status": "Failure", "code": code, "reason": reason, "message": message},
    }


def _answer(uid: str, response: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": REVIEW_API_VERSION, "kind": "AdmissionReview", "response": {"uid": uid, **response}}
