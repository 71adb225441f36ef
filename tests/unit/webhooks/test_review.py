"""AdmissionReview handling: mutation patches, denials worded like `validate`, malformed reviews."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.api.errors import invalid_message
from glance_operator.webhooks import patch
from glance_operator.webhooks.review import BY_PATH, WEBHOOKS, BadReview, respond

GV = "glance.openstack.org/v1beta1"
M_GLANCE = BY_PATH["/mutate-glance-openstack-org-v1beta1-glance"]
V_GLANCE = BY_PATH["/validate-glance-openstack-org-v1beta1-glance"]
M_API = BY_PATH["/mutate-glance-openstack-org-v1beta1-glanceapi"]
V_API = BY_PATH["/validate-glance-openstack-org-v1beta1-glanceapi"]


def glance(**spec: Any) -> dict[str, Any]:
    base = {"databaseInstance": "openstack", "secret": "osp-secret"}
    return {"apiVersion": GV, "kind": "Glance", "metadata": {"name": "g", "namespace": "ns"}, "spec": {**base, **spec}}


def review(obj: Any, kind: str = "Glance", operation: str = "CREATE", old: Any = None) -> bytes:
    request: dict[str, Any] = {
        "uid": "abc",
        "operation": operation,
        "kind": {"group": "glance.openstack.org", "version": "v1beta1", "kind": kind},
        "namespace": "ns",
        "object": obj,
    }
    if old is not None:
        request["oldObject"] = old
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}).encode()


def answer(hook: Any, body: bytes) -> dict[str, Any]:
    out = respond(hook, body, Defaults())
    assert out["apiVersion"] == "admission.k8s.io/v1" and out["kind"] == "AdmissionReview"
    assert out["response"]["uid"] == "abc"
    response: dict[str, Any] = out["response"]
    return response


def test_paths_and_names_as_upstream() -> None:
    assert {(w.name, w.path, w.resource) for w in WEBHOOKS} == {
        ("mglance-v1beta1.kb.io", "/mutate-glance-openstack-org-v1beta1-glance", "glances"),
        ("mglanceapi-v1beta1.kb.io", "/mutate-glance-openstack-org-v1beta1-glanceapi", "glanceapis"),
        ("vglance-v1beta1.kb.io", "/validate-glance-openstack-org-v1beta1-glance", "glances"),
        ("vglanceapi-v1beta1.kb.io", "/validate-glance-openstack-org-v1beta1-glanceapi", "glanceapis"),
    }


def test_mutation_patch_gives_the_defaulted_spec() -> None:
    obj = glance()
    resp = answer(M_GLANCE, review(obj))
    assert resp["allowed"] and resp["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(resp["patch"]))
    patched = patch.apply(obj, ops)
    stored = admit(obj, Defaults()).object
    assert stored is not None
    assert patched["spec"] == stored["spec"]
    assert patched["metadata"] == obj["metadata"]  # the patch never touches metadata
    assert all(op["path"].startswith("/spec") for op in ops)


def test_mutation_of_a_defaulted_object_is_empty() -> None:
    stored = admit(glance(), Defaults()).object
    assert answer(M_GLANCE, review(stored)) == {"uid": "abc", "allowed": True}


def test_glanceapi_mutation_sets_container_image() -> None:
    obj = {"apiVersion": GV, "kind": "GlanceAPI", "metadata": {"name": "a"}, "spec": {"apiType": "single"}}
    ops = json.loads(base64.b64decode(answer(M_API, review(obj, "GlanceAPI"))["patch"]))
    assert patch.apply(obj, ops)["spec"]["containerImage"] == Defaults().container_image


def test_mutation_of_undecodable_object_allows_without_patch() -> None:
    # the schema and the validating webhook refuse it next; defaulting has nothing to say
    assert answer(M_GLANCE, review(glance(replicas="many", glanceAPIs=[1]))) == {"uid": "abc", "allowed": True}


def test_denial_carries_validate_messages() -> None:
    obj = glance(keystoneEndpoint="nope", glanceAPIs={"default": {"type": "single"}})
    resp = answer(V_GLANCE, review(obj))
    result = admit(obj, Defaults(), namespace="ns")
    assert not resp["allowed"]
    status = resp["status"]
    assert status["code"] == 422 and status["reason"] == "Invalid" and status["status"] == "Failure"
    assert status["message"] == invalid_message("Glance", "g", result.errors)
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.keystoneEndpoint",
            "message": 'Invalid value: "nope": KeystoneEndpoint is assigned to an invalid GlanceAPI instance',
        }
    ]
    assert status["details"]["kind"] == "Glance" and status["details"]["group"] == "glance.openstack.org"


def test_warnings_are_returned() -> None:
    obj = glance(customServiceConfig="[DEFAULT]\nenabled_backends=a:rbd\n", glanceAPIs={"default": {"type": "split"}})
    resp = answer(V_GLANCE, review(obj))
    assert resp["allowed"]
    assert any("split layout is deprecated" in w for w in resp["warnings"])


def test_update_checks_against_old_object() -> None:
    cfg = "[DEFAULT]\nenabled_backends=a:rbd\n"
    old = admit(glance(customServiceConfig=cfg, glanceAPIs={"default": {"type": "single"}}), Defaults()).object
    new = glance(customServiceConfig=cfg, glanceAPIs={"default": {"type": "split"}})
    resp = answer(V_GLANCE, review(new, operation="UPDATE", old=old))
    assert not resp["allowed"]
    assert "The GlanceAPI layout (type) cannot be modified" in resp["status"]["message"]


def test_delete_is_accepted() -> None:
    body = review(None, operation="DELETE", old=glance())
    assert answer(V_GLANCE, body) == {"uid": "abc", "allowed": True}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b'{"request": {}}',
        b'{"request": {"uid": 5}}',
        "\udcff".encode("utf-8", "surrogatepass"),
    ],
)
def test_not_a_review_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadReview):
        respond(V_GLANCE, body, Defaults())


@pytest.mark.parametrize(
    ("mangle", "fragment"),
    [
        (lambda r: r.update(apiVersion="admission.k8s.io/v1beta1"), "expected an admission.k8s.io/v1"),
        (lambda r: r["request"].update(operation="PATCH"), "unsupported operation"),
        (
            lambda r: r["request"].update(kind={"group": "apps", "kind": "Deployment"}),
            "admits glance.openstack.org/Glance",
        ),
        (lambda r: r["request"].update(kind="Glance"), "admits glance.openstack.org/Glance"),
        (lambda r: r["request"].update(object="text"), "request.object must be an object"),
        (lambda r: r["request"].update(operation="UPDATE"), "request.oldObject must be an object"),
    ],
)
def test_malformed_review_is_denied_with_a_message(mangle: Any, fragment: str) -> None:
    raw = json.loads(review(glance()))
    mangle(raw)
    resp = answer(V_GLANCE, json.dumps(raw).encode())
    assert resp["allowed"] is False
    assert resp["status"]["code"] == 400 and fragment in resp["status"]["message"]


def test_wrong_kind_object_is_denied_by_validation() -> None:
    obj = glance()
    obj["kind"] = "Other"
    resp = answer(V_GLANCE, review(obj))
    assert not resp["allowed"] and "kind" in resp["status"]["details"]["causes"][0]["field"]


def test_glanceapi_validation() -> None:
    obj = {
        "apiVersion": GV,
        "kind": "GlanceAPI",
        "metadata": {"name": "a", "namespace": "ns"},
        "spec": {"containerImage": "x", "topologyRef": {"name": "t", "namespace": "other"}},
    }
    resp = answer(V_API, review(obj, "GlanceAPI"))
    assert not resp["allowed"]
    assert resp["status"]["message"].startswith(
        'GlanceAPI.glance.openstack.org "a" is invalid: spec.topologyRef.namespace'
    )
