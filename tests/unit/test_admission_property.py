"""Property: whatever JSON-like object comes in, admission answers with an object or field errors."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.api.errors import FieldError

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 100), st.text(max_size=12))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
FIELDS = [
    "containerImage",
    "databaseInstance",
    "secret",
    "keystoneEndpoint",
    "customServiceConfig",
    "storage",
    "glanceAPIs",
    "imageCache",
    "quotas",
    "dbPurge",
    "apiTimeout",
    "extraMounts",
    "topologyRef",
    "notificationBusInstance",
    "notificationsBus",
    "passwordSelectors",
    "nodeSelector",
]
API_FIELDS = [
    "type",
    "replicas",
    "customServiceConfig",
    "override",
    "storage",
    "tls",
    "imageCache",
    "apiTimeout",
    "topologyRef",
    "networkAttachments",
    "resources",
]
CONFIGS = st.sampled_from(
    ["", "[DEFAULT]\nenabled_backends=a:file", "enabled_backends", "enabled_backends = a:rbd,b:", "x=1"]
)

BASE = {
    "apiVersion": "glance.openstack.org/v1beta1",
    "kind": "Glance",
    "metadata": {"name": "glance", "namespace": "openstack"},
    "spec": {
        "databaseInstance": "openstack",
        "secret": "osp-secret",
        "glanceAPIs": {"default": {"type": "single"}},
    },
}


@st.composite
def glances(draw: st.DrawFn) -> dict:
    doc = copy.deepcopy(BASE)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        doc["spec"][name] = draw(JSON)
    apis = {}
    for key in draw(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True), max_size=3)):
        api: dict = {"type": draw(st.sampled_from(["split", "single", "edge", "bogus"]))}
        api["customServiceConfig"] = draw(CONFIGS)
        for name in draw(st.lists(st.sampled_from(API_FIELDS), max_size=3, unique=True)):
            api[name] = draw(JSON)
        apis[key] = api
    if apis and draw(st.booleans()):
        doc["spec"]["glanceAPIs"] = apis
    return doc


def check_admission(result) -> None:
    assert all(isinstance(e, FieldError) and e.path for e in result.errors) or result.kind == ""
    if result.allowed:
        assert result.object is not None
        json.dumps(result.object)  # stored objects are plain JSON
        # and a stored object is a fixed point: admitting it again changes nothing
        again = admit(result.object, Defaults())
        assert again.allowed and again.object == result.object
    else:
        assert result.object is None
        assert all(str(e) for e in result.errors)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(glances())
def test_any_glance_gives_an_object_or_field_errors(doc: dict) -> None:
    check_admission(admit(doc, Defaults()))


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_json_value_gives_field_errors(value) -> None:
    result = admit(value, Defaults())
    assert not result.allowed
    assert result.errors


@settings(max_examples=100, deadline=None)
@given(glances(), glances())
def test_updates_never_raise(old: dict, new: dict) -> None:
    first = admit(old, Defaults())
    if first.allowed:
        check_admission(admit(new, Defaults(), old=first.object))
