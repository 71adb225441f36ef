"""Webhook validation, spec §3.3 (create, update, delete) and the GlanceAPI checks of defect 37.

Expected messages are quoted from the spec. Deliberate deviations (defects 3, 5, 6, 7, 8, 34, 37 of
§9, see the module docstring of glance_operator.api.validation) test our documented behaviour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.api.errors import FieldError, invalid, invalid_message
from glance_operator.api.v1beta1 import Glance, GlanceAPI
from glance_operator.api.validation import (
    Result,
    max_key_length,
    validate_delete,
    validate_glance_api,
    validate_glance_create,
    validate_glance_update,
)

NS = "openstack"

DNS_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
LAYOUT_FILE = "The GlanceAPI layout type: split cannot be used in combination with File and NFS backend"
LAYOUT_IMMUTABLE = (
    "The GlanceAPI layout (type) cannot be modified. To proceed, please add a new API with the desired "
    "layout and then decommission the previous API"
)
SPLIT_DEPRECATED = (
    "The GlanceAPI split layout is deprecated. It is recommended to remove this parameter and rely on the "
    "default single layout"
)
KEYSTONE_MSG = "KeystoneEndpoint is assigned to an invalid GlanceAPI instance"
TOPOLOGY_MSG = "Customizing namespace field is not supported"
W_DEPRECATED = 'field "spec.notificationBusInstance" is deprecated, please use "spec.notificationsBus.cluster" instead'
W_SAME = (
    'both "spec.notificationBusInstance" and "spec.notificationsBus.cluster" are set with the same value. '
    'Please migrate to using only "spec.notificationsBus.cluster" and clear "spec.notificationBusInstance"'
)
E_FORBIDDEN = (
    'spec.notificationBusInstance: Forbidden: field "spec.notificationBusInstance" is deprecated, use '
    '"spec.notificationsBus.cluster" instead. To migrate, first set "spec.notificationsBus.cluster", then '
    "clear this field"
)


def e_conflict(deprecated: str, new: str) -> str:
    return (
        f'spec.notificationBusInstance: Invalid value: "{deprecated}": cannot set both deprecated field '
        f'"spec.notificationBusInstance" and new field "spec.notificationsBus.cluster" with different values '
        f'(deprecated: "{deprecated}", new: "{new}"). Use "spec.notificationsBus.cluster" only'
    )


def e_key(key: str, detail: str) -> str:
    # the bad value is quoted and escaped like Go's %q
    return f"spec.glanceAPIs[{key}]: Invalid value: {json.dumps(key)}: {detail}"


def e_topology(prefix: str) -> str:
    return f'{prefix}.topologyRef.namespace: Invalid value: "namespace": {TOPOLOGY_MSG}'


def e_keystone(value: str) -> str:
    return f'spec.keystoneEndpoint: Invalid value: "{value}": {KEYSTONE_MSG}'


def e_service(key: str, endpoint: str) -> str:
    return (
        f'spec.glanceAPIs[{key}].override.service[{endpoint}]: Invalid value: "{endpoint}": '
        f"invalid endpoint type: {endpoint}"
    )


SINGLE = {"type": "single", "replicas": 1}
RBD = "[DEFAULT]\nenabled_backends=default_backend:rbd"
FILE = "[DEFAULT]\nenabled_backends=default_backend:file"


def glance(apis: dict[str, Any], name: str = "glance", keystone: str | None = None, **spec: Any) -> Glance:
    if keystone is None:
        keystone = next(iter(apis), "")
    return Glance.model_validate(
        {
            "metadata": {"name": name, "namespace": NS},
            "spec": {"glanceAPIs": apis, "keystoneEndpoint": keystone, **spec},
        }
    )


def create(new: Glance) -> Result:
    return validate_glance_create(new)


def update_same(new: Glance) -> Result:
    """Update where the old object has the same APIs (existing keys)."""
    return validate_glance_update(new, new.model_copy(deep=True))


def update_new_keys(new: Glance) -> Result:
    """Update where every API of the new object is new (the old one had a single unrelated API)."""
    old = glance({"old-api": dict(SINGLE)}, name=new.metadata.name)
    return validate_glance_update(new, old)


Validator = Callable[[Glance], Result]
ALL_OPS = [
    pytest.param(create, id="create"),
    pytest.param(update_same, id="update"),
    pytest.param(update_new_keys, id="update-new-key"),
]
CREATE_AND_UPDATE = ALL_OPS[:2]


def errors(result: Result) -> list[str]:
    return sorted(str(e) for e in result.errors)


# --- 1. key names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glance_name", "api_type", "limit"),
    [
        # defect 5 fix (ours): 52 - len(glance) - 2 - len(real StatefulSet suffix)
        pytest.param("glance", "split", 52 - 6 - 2 - len("external-api"), id="split-external-api"),
        pytest.param("glance", "edge", 52 - 6 - 2 - len("edge-api"), id="edge-edge-api"),
        pytest.param("glance", "single", 52 - 6 - 2 - len("single"), id="single-single"),
        pytest.param("glance-a1b2c", "split", 52 - 12 - 2 - len("external-api"), id="unique-name-split"),
        pytest.param("glance-a1b2c", "edge", 52 - 12 - 2 - len("edge-api"), id="unique-name-edge"),
        pytest.param("g", "single", 52 - 1 - 2 - len("single"), id="short-name-single"),
    ],
)
def test_max_key_length_defect5(glance_name: str, api_type: str, limit: int) -> None:
    assert max_key_length(glance_name, api_type) == limit


@pytest.mark.parametrize(
    ("api_type", "sts_suffix"),
    [("split", "-external-api"), ("split", "-internal-api"), ("edge", "-edge-api"), ("single", "-single")],
)
def test_longest_key_gives_52_char_statefulset_name_defect5(api_type: str, sts_suffix: str) -> None:
    # controller-revision-hash = "<statefulset>-<hash up to 10 chars>" must fit in 63 characters
    key = "k" * max_key_length("glance", api_type)
    assert len(f"glance-{key}{sts_suffix}") == 63 - 11


KEY_CASES = [
    pytest.param("default", SINGLE, [], id="valid"),
    pytest.param("a-1", SINGLE, [], id="valid-with-dash"),
    pytest.param("123", SINGLE, [], id="valid-digits"),
    pytest.param("Default", SINGLE, [DNS_MSG], id="uppercase"),
    pytest.param("my_api", SINGLE, [DNS_MSG], id="underscore"),
    pytest.param("api.one", SINGLE, [DNS_MSG], id="dot"),
    pytest.param("-api", SINGLE, [DNS_MSG], id="leading-dash"),
    pytest.param("api-", SINGLE, [DNS_MSG], id="trailing-dash"),
    pytest.param("api\n", SINGLE, [DNS_MSG], id="trailing-newline"),
    # boundaries for glance name "glance" (defect 5 fix: 32 split, 36 edge, 38 single)
    pytest.param("a" * 32, {"type": "split", "replicas": 0}, [], id="split-longest-accepted-32"),
    pytest.param(
        "a" * 33,
        {"type": "split", "replicas": 0},
        ["must be no more than 32 characters"],
        id="split-one-longer-refused-33",
    ),
    pytest.param("e" * 36, {"type": "edge", "replicas": 1}, [], id="edge-longest-accepted-36"),
    pytest.param(
        "e" * 37,
        {"type": "edge", "replicas": 1},
        ["must be no more than 36 characters"],
        id="edge-one-longer-refused-37",
    ),
    pytest.param("s" * 38, SINGLE, [], id="single-longest-accepted-38"),
    pytest.param("s" * 39, SINGLE, ["must be no more than 38 characters"], id="single-one-longer-refused-39"),
    pytest.param("Ab" + "c" * 37, SINGLE, [DNS_MSG, "must be no more than 38 characters"], id="both-errors"),
    # apimachinery's IsDNS1123Label: over 63 characters is a length error, not a character-set error
    pytest.param(
        "a" * 64,
        SINGLE,
        ["must be no more than 63 characters", "must be no more than 38 characters"],
        id="longer-than-a-label",
    ),
]


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize(("key", "api", "details"), KEY_CASES)
def test_key_names(op: Validator, key: str, api: dict[str, Any], details: list[str]) -> None:
    # keystoneEndpoint names a separate valid API so that only the key check can fail
    result = op(glance({"main": dict(SINGLE), key: dict(api)}, keystone="main"))
    assert errors(result) == sorted(e_key(key, d) for d in details)


@pytest.mark.parametrize(
    ("glance_name", "key", "ok"),
    [
        pytest.param("glance-a1b2c", "k" * 26, True, id="unique-name-split-26-accepted"),
        pytest.param("glance-a1b2c", "k" * 27, False, id="unique-name-split-27-refused"),
    ],
)
def test_key_length_depends_on_glance_name(glance_name: str, key: str, ok: bool) -> None:
    result = create(glance({key: {"type": "split", "replicas": 0}}, name=glance_name))
    assert errors(result) == ([] if ok else [e_key(key, "must be no more than 26 characters")])


# --- 2. deprecated notification fields -------------------------------------------------------------


def bus(deprecated: str | None, cluster: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if deprecated is not None:
        spec["notificationBusInstance"] = deprecated
    if cluster is not None:
        spec["notificationsBus"] = {"cluster": cluster}
    return spec


@pytest.mark.parametrize(
    ("deprecated", "cluster", "warnings", "errs"),
    [
        pytest.param(None, None, [], [], id="none"),
        pytest.param(None, "rabbitmq", [], [], id="new-only"),
        pytest.param("rabbitmq", None, [W_DEPRECATED], [], id="deprecated-only-warning"),
        pytest.param("rabbitmq", "rabbitmq", [W_SAME], [], id="both-same-warning"),
        # defect 8 fix (ours): upstream computes this error on create and discards it
        pytest.param("rabbitmq", "other", [], [e_conflict("rabbitmq", "other")], id="defect8-conflict-refused"),
    ],
)
def test_deprecated_fields_create(
    deprecated: str | None, cluster: str | None, warnings: list[str], errs: list[str]
) -> None:
    result = create(glance({"default": dict(SINGLE)}, **bus(deprecated, cluster)))
    assert result.warnings == warnings
    assert errors(result) == errs


@pytest.mark.parametrize(
    ("old", "deprecated", "cluster", "warnings", "errs"),
    [
        pytest.param(None, None, "rabbitmq", [], [], id="new-only"),
        pytest.param("rabbitmq", "rabbitmq", None, [W_DEPRECATED], [], id="unchanged-deprecated-warning"),
        pytest.param("rabbitmq", "rabbitmq", "rabbitmq", [W_SAME], [], id="same-values-warning"),
        pytest.param("rabbitmq", "rabbitmq", "other", [], [e_conflict("rabbitmq", "other")], id="conflict-invalid"),
        pytest.param("rabbitmq", "rabbit2", None, [W_DEPRECATED], [E_FORBIDDEN], id="changed-forbidden"),
        pytest.param(
            "rabbitmq",
            "rabbit2",
            "other",
            [],
            sorted([E_FORBIDDEN, e_conflict("rabbit2", "other")]),
            id="changed-and-conflicting",
        ),
        # "changing notificationBusInstance to a different non-empty value" includes setting it anew
        pytest.param(None, "rabbitmq", None, [W_DEPRECATED], [E_FORBIDDEN], id="newly-set-forbidden"),
        pytest.param("", "rabbitmq", "rabbitmq", [W_SAME], [E_FORBIDDEN], id="set-from-empty-forbidden"),
        # "Clearing it is allowed."
        pytest.param("rabbitmq", None, "rabbitmq", [], [], id="cleared-after-migration"),
        pytest.param("rabbitmq", "", None, [], [], id="cleared-to-empty-string"),
        pytest.param("rabbitmq", None, None, [], [], id="cleared-without-new"),
    ],
)
def test_deprecated_fields_update(
    old: str | None, deprecated: str | None, cluster: str | None, warnings: list[str], errs: list[str]
) -> None:
    apis = {"default": dict(SINGLE)}
    result = validate_glance_update(glance(apis, **bus(deprecated, cluster)), glance(apis, **bus(old, None)))
    assert result.warnings == warnings
    assert errors(result) == errs


# --- 3./4. topology namespace ----------------------------------------------------------------------


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize(
    ("top", "api", "errs"),
    [
        pytest.param(None, None, [], id="no-topology"),
        pytest.param({"name": "t"}, {"name": "t"}, [], id="no-namespace"),
        pytest.param({"name": "t", "namespace": NS}, {"name": "t", "namespace": NS}, [], id="own-namespace"),
        pytest.param({"name": "t", "namespace": "other"}, None, [e_topology("spec")], id="top-level-other"),
        pytest.param(
            None,
            {"name": "t", "namespace": "other"},
            [e_topology("spec.glanceAPIs[default]")],
            id="per-api-other",
        ),
        pytest.param(
            {"name": "t", "namespace": "x"},
            {"name": "t", "namespace": "y"},
            sorted([e_topology("spec"), e_topology("spec.glanceAPIs[default]")]),
            id="both-other",
        ),
    ],
)
def test_topology_namespace(
    op: Validator, top: dict[str, str] | None, api: dict[str, str] | None, errs: list[str]
) -> None:
    template: dict[str, Any] = dict(SINGLE)
    if api is not None:
        template["topologyRef"] = api
    spec = {"topologyRef": top} if top is not None else {}
    assert errors(op(glance({"default": template}, **spec))) == errs


# --- 4. backend / layout check (§3.4) -------------------------------------------------------------


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize(
    ("top_config", "api", "refused"),
    [
        # empty/absent top-level config counts as file
        pytest.param("", {"type": "split", "replicas": 1}, True, id="split-default-file-refused"),
        pytest.param("", {"type": "split", "replicas": 3}, True, id="split-3-replicas-refused"),
        pytest.param("", {"type": "split", "replicas": 0}, False, id="split-replicas-0-accepted"),
        pytest.param("", {"type": "single", "replicas": 1}, False, id="single-file-accepted"),
        pytest.param("", {"type": "edge", "replicas": 1}, False, id="edge-file-accepted"),
        # an API without its own enabled_backends inherits the top-level verdict
        pytest.param(FILE, {"type": "split", "replicas": 1}, True, id="inherits-top-level-file"),
        pytest.param(RBD, {"type": "split", "replicas": 1}, False, id="inherits-top-level-rbd"),
        pytest.param(RBD, {"type": "split", "replicas": 1, "customServiceConfig": FILE}, True, id="own-file-over-rbd"),
        pytest.param(FILE, {"type": "split", "replicas": 1, "customServiceConfig": RBD}, False, id="own-rbd-over-file"),
        pytest.param(
            FILE,
            {"type": "split", "replicas": 1, "customServiceConfig": "[DEFAULT]\ndebug=true"},
            True,
            id="own-config-without-list-inherits-file",
        ),
        pytest.param(
            "", {"type": "split", "replicas": 0, "customServiceConfig": FILE}, False, id="own-file-replicas-0"
        ),
        # multistore is never file
        pytest.param(
            "",
            {"type": "split", "replicas": 1, "customServiceConfig": "enabled_backends=a:file,b:rbd"},
            False,
            id="own-multistore-with-file",
        ),
        pytest.param("enabled_backends=a:file,b:file", {"type": "split", "replicas": 1}, False, id="top-multistore"),
        pytest.param(
            "[DEFAULT]\nenabled_backends=backend1:type1 # CHANGE_ME",
            {"type": "split", "replicas": 1},
            False,
            id="placeholder-not-file",
        ),
    ],
)
def test_backend_layout(op: Validator, top_config: str, api: dict[str, Any], refused: bool) -> None:
    apis = {"main": dict(SINGLE), "default": api}
    result = op(glance(apis, keystone="main", customServiceConfig=top_config))
    assert errors(result) == ([e_key("default", LAYOUT_FILE)] if refused else [])


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize(
    ("top_config", "api_config", "path"),
    [
        pytest.param("enabled_backends", "", "spec.customServiceConfig", id="top-level-bare-key"),
        pytest.param(RBD, "enabled_backends", "spec.glanceAPIs[default].customServiceConfig", id="api-bare-key"),
        pytest.param(
            RBD, "enabled_backends=a:rbd,b", "spec.glanceAPIs[default].customServiceConfig", id="api-no-colon"
        ),
        pytest.param(
            RBD,
            "enabled_backends=a:rbd,",
            "spec.glanceAPIs[default].customServiceConfig",
            id="api-trailing-comma",
        ),
    ],
)
def test_malformed_backends_reported_defect3(op: Validator, top_config: str, api_config: str, path: str) -> None:
    apis = {"default": {"type": "single", "replicas": 1, "customServiceConfig": api_config}}
    result = op(glance(apis, customServiceConfig=top_config))
    assert [(e.path, e.type, e.value) for e in result.errors] == [(path, "Invalid value", "enabled_backends")]


def test_backends_outside_default_section_warn() -> None:
    config = "[glance_store]\nenabled_backends=default_backend:rbd"
    result = create(glance({"default": {"type": "single", "customServiceConfig": config}}))
    assert result.errors == []
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("spec.glanceAPIs[default].customServiceConfig: ")


# --- 4. override service keys ------------------------------------------------------------------------


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize(
    ("endpoints", "bad"),
    [
        pytest.param([], [], id="none"),
        pytest.param(["public"], [], id="public"),
        pytest.param(["internal"], [], id="internal"),
        pytest.param(["public", "internal"], [], id="both"),
        pytest.param(["admin"], ["admin"], id="admin-refused"),
        pytest.param(["public", "Public"], ["Public"], id="case-sensitive"),
        pytest.param(["external", "internal", "edge"], ["edge", "external"], id="several-refused"),
    ],
)
def test_override_service_keys(op: Validator, endpoints: list[str], bad: list[str]) -> None:
    # defect 7 fix (ours): also checked for APIs added by an update (op update-new-key)
    api = {**SINGLE, "override": {"service": {ep: {} for ep in endpoints}}}
    assert errors(op(glance({"default": api}))) == sorted(e_service("default", ep) for ep in bad)


# --- 4. probe overrides --------------------------------------------------------------------------

PROBE_CASES = [
    pytest.param({}, [], id="empty"),
    pytest.param(
        {
            "type": "HTTP",
            "path": "/healthcheck",
            "port": 9292,
            "scheme": "HTTP",
            "initialDelaySeconds": 0,
            "timeoutSeconds": 1,
            "periodSeconds": 1,
            "failureThreshold": 1,
        },
        [],
        id="valid-http",
    ),
    pytest.param({"type": "Exec", "command": ["/bin/true"]}, [], id="valid-exec"),
    pytest.param({"type": ""}, [], id="type-unset"),
    pytest.param({"type": "Exec"}, [("command", "command is required for exec probe type")], id="exec-no-command"),
    pytest.param(
        {"type": "Exec", "command": []},
        [("command", "command is required for exec probe type")],
        id="exec-empty",
    ),
    pytest.param({"path": "healthcheck"}, [("path", "path must start with '/' if specified")], id="relative-path"),
    pytest.param(
        {"initialDelaySeconds": -1},
        [("initialDelaySeconds", "initialDelaySeconds must be non-negative")],
        id="negative-initial-delay",
    ),
    pytest.param(
        {"timeoutSeconds": 0},
        [("timeoutSeconds", "timeoutSeconds must be at least 1 second when set")],
        id="timeout-0",
    ),
    pytest.param(
        {"periodSeconds": 0},
        [("periodSeconds", "periodSeconds must be at least 1 second when set")],
        id="period-0",
    ),
    pytest.param(
        {"failureThreshold": 0},
        [("failureThreshold", "failureThreshold must be at least 1 when set")],
        id="failure-threshold-0",
    ),
    pytest.param(
        {"type": "Exec", "path": "x", "timeoutSeconds": -5},
        [
            ("command", "command is required for exec probe type"),
            ("path", "path must start with '/' if specified"),
            ("timeoutSeconds", "timeoutSeconds must be at least 1 second when set"),
        ],
        id="several",
    ),
]


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize("probe", ["livenessProbes", "readinessProbes", "startupProbes"])
@pytest.mark.parametrize(("conf", "expected"), PROBE_CASES)
def test_probe_overrides(op: Validator, probe: str, conf: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    # defect 6 fix (ours): each error once, at the real JSON path, only for the API that has it;
    # defect 7 fix (ours): APIs added by an update are checked too (op update-new-key)
    apis = {
        "default": {**SINGLE, "override": {"probes": {probe: conf}}},
        "other": {**SINGLE, "override": {"probes": {probe: {"path": "/ok"}}}},
    }
    result = op(glance(apis, keystone="default"))
    got = sorted((e.path, e.type, e.detail) for e in result.errors)
    prefix = f"spec.glanceAPIs[default].override.probes.{probe}."
    assert got == sorted((prefix + field, "Invalid value", detail) for field, detail in expected)


# --- 5. keystoneEndpoint ------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize(
    ("apis", "keystone", "errs"),
    [
        pytest.param({"default": SINGLE}, "default", [], id="single-api"),
        pytest.param({"default": {"type": "split", "replicas": 0}}, "default", [], id="split-api"),
        pytest.param({"central": SINGLE, "edge0": {"type": "edge"}}, "central", [], id="central-with-edge"),
        pytest.param({"default": SINGLE}, "missing", [e_keystone("missing")], id="unknown-key"),
        pytest.param({"central": SINGLE, "edge0": {"type": "edge"}}, "edge0", [e_keystone("edge0")], id="edge-refused"),
        pytest.param({"edge0": {"type": "edge"}}, "edge0", [e_keystone("edge0")], id="only-edge-refused"),
        pytest.param({"a": SINGLE, "b": SINGLE}, "", [e_keystone("")], id="empty-with-two-apis"),
    ],
)
def test_keystone_endpoint(op: Validator, apis: dict[str, Any], keystone: str, errs: list[str]) -> None:
    assert errors(op(glance({k: dict(v) for k, v in apis.items()}, keystone=keystone))) == errs


# --- UPDATE only: layout immutability, new APIs --------------------------------------------------------


@pytest.mark.parametrize(
    ("old_type", "new_type", "replicas", "refused"),
    [
        pytest.param("split", "split", 0, False, id="split-unchanged"),
        pytest.param("single", "single", 1, False, id="single-unchanged"),
        pytest.param("split", "single", 0, True, id="split-to-single"),
        pytest.param("single", "split", 0, True, id="single-to-split"),
        pytest.param("single", "edge", 1, True, id="single-to-edge"),
        pytest.param("edge", "single", 1, True, id="edge-to-single"),
        pytest.param("split", "edge", 0, True, id="split-to-edge"),
    ],
)
def test_update_layout_type_change(old_type: str, new_type: str, replicas: int, refused: bool) -> None:
    def make(api_type: str) -> Glance:
        return glance({"main": dict(SINGLE), "default": {"type": api_type, "replicas": replicas}}, keystone="main")

    result = validate_glance_update(make(new_type), make(old_type))
    assert errors(result) == ([e_key("default", LAYOUT_IMMUTABLE)] if refused else [])


def test_update_rename_with_other_layout_is_not_a_type_change() -> None:
    old = glance({"default": {"type": "split", "replicas": 0}})
    new = glance({"central": dict(SINGLE)})
    assert errors(validate_glance_update(new, old)) == []


def test_update_type_change_and_file_backend_both_reported() -> None:
    old = glance({"main": dict(SINGLE), "default": dict(SINGLE)}, keystone="main")
    new = glance({"main": dict(SINGLE), "default": {"type": "split", "replicas": 1}}, keystone="main")
    assert errors(validate_glance_update(new, old)) == sorted(
        [e_key("default", LAYOUT_IMMUTABLE), e_key("default", LAYOUT_FILE)]
    )


@pytest.mark.parametrize(
    ("new_api", "errs"),
    [
        pytest.param(dict(SINGLE), [], id="valid-new-api"),
        pytest.param({"type": "split", "replicas": 1}, [e_key("new", LAYOUT_FILE)], id="backend-checked"),
        pytest.param({"type": "split", "replicas": 0}, [], id="backend-skipped-replicas-0"),
        # defect 7 fix (ours): upstream skips the override/probe checks for new keys
        pytest.param(
            {**SINGLE, "override": {"service": {"admin": {}}}},
            [e_service("new", "admin")],
            id="defect7-service",
        ),
        pytest.param(
            {**SINGLE, "override": {"probes": {"livenessProbes": {"path": "hc"}}}},
            [
                'spec.glanceAPIs[new].override.probes.livenessProbes.path: Invalid value: "hc": '
                "path must start with '/' if specified"
            ],
            id="defect7-probes",
        ),
    ],
)
def test_update_new_api(new_api: dict[str, Any], errs: list[str]) -> None:
    old = glance({"default": dict(SINGLE)})
    new = glance({"default": dict(SINGLE), "new": new_api}, keystone="default")
    assert errors(validate_glance_update(new, old)) == errs


# --- split deprecation warning -----------------------------------------------------------------------


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize(
    ("types", "count"),
    [
        pytest.param(["single"], 0, id="single"),
        pytest.param(["edge", "single"], 0, id="edge-single"),
        pytest.param(["split"], 1, id="one-split"),
        pytest.param(["split", "split", "single"], 2, id="two-split"),
    ],
)
def test_split_deprecation_warning(op: Validator, types: list[str], count: int) -> None:
    # update: "once per split API"; create: defect 34 fix (ours), the warning is given on create too
    apis = {f"api{i}": {"type": t, "replicas": 0} for i, t in enumerate(types)}
    keystone = next(k for k, v in apis.items() if v["type"] != "edge")
    result = op(glance(apis, keystone=keystone))
    assert result.errors == []
    assert result.warnings == [SPLIT_DEPRECATED] * count


# --- DELETE ----------------------------------------------------------------------------------------------


def test_delete_accepted() -> None:
    result = validate_delete()
    assert (result.errors, result.warnings, result.ok) == ([], [], True)


# --- GlanceAPI (defect 37: checks upstream never ran) ----------------------------------------------------


def glance_api(api_type: str = "single", **spec: Any) -> GlanceAPI:
    return GlanceAPI.model_validate(
        {
            "metadata": {"name": f"glance-default-{api_type}", "namespace": NS},
            "spec": {"apiType": api_type, "containerImage": "img", **spec},
        }
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, [], id="valid"),
        pytest.param({"topologyRef": {"name": "t", "namespace": NS}}, [], id="own-namespace"),
        pytest.param({"override": {"service": {"public": {}, "internal": {}}}}, [], id="valid-service-keys"),
        pytest.param({"customServiceConfig": FILE, "type": "split"}, [], id="layout-rules-belong-to-glance"),
        pytest.param(
            {"topologyRef": {"name": "t", "namespace": "other"}},
            [("spec.topologyRef.namespace", "namespace", TOPOLOGY_MSG)],
            id="topology-namespace",
        ),
        pytest.param(
            {"override": {"service": {"admin": {}}}},
            [("spec.override.service[admin]", "admin", "invalid endpoint type: admin")],
            id="service-key",
        ),
        pytest.param(
            {"override": {"probes": {"readinessProbes": {"periodSeconds": 0}}}},
            [
                (
                    "spec.override.probes.readinessProbes.periodSeconds",
                    0,
                    "periodSeconds must be at least 1 second when set",
                )
            ],
            id="probe",
        ),
    ],
)
def test_glance_api_checks_defect37(spec: dict[str, Any], expected: list[tuple[str, Any, str]]) -> None:
    result = validate_glance_api(glance_api(**spec))
    assert [(e.path, e.value, e.detail) for e in result.errors] == expected


def test_glance_api_malformed_backends_defect37_defect3() -> None:
    result = validate_glance_api(glance_api(customServiceConfig="[DEFAULT]\nenabled_backends"))
    assert [(e.path, e.type) for e in result.errors] == [("spec.customServiceConfig", "Invalid value")]


@pytest.mark.parametrize(
    ("old_type", "new_type", "refused"),
    [
        pytest.param("single", "single", False, id="unchanged"),
        pytest.param("external", "internal", True, id="changed"),
    ],
)
def test_glance_api_type_change_defect37(old_type: str, new_type: str, refused: bool) -> None:
    result = validate_glance_api(glance_api(new_type), glance_api(old_type))
    assert [e.path for e in result.errors] == (["spec.apiType"] if refused else [])


# --- through the admission pipeline --------------------------------------------------------------------


def glance_doc(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "glance.openstack.org/v1beta1",
        "kind": "Glance",
        "metadata": {"name": "glance"},
        "spec": {"databaseInstance": "openstack", "secret": "osp-secret", **spec},
    }


@pytest.mark.parametrize(
    ("spec", "errs"),
    [
        # replicas defaults to 1 (CRD) and type to split (CRD): default file backend is refused
        pytest.param({"glanceAPIs": {"default": {}}}, [e_key("default", LAYOUT_FILE)], id="split-crd-defaults"),
        # the webhook's own default API has replicas 0 and passes
        pytest.param({}, [], id="webhook-default-api"),
        pytest.param({"glanceAPIs": {"default": {"type": "single"}}}, [], id="single"),
        pytest.param(
            {"glanceAPIs": {"a": {"type": "single"}, "b": {"type": "single"}}},
            [e_keystone("")],
            id="two-apis-no-keystone-endpoint",
        ),
        pytest.param(
            {
                "topologyRef": {"name": "t", "namespace": "other"},
                "glanceAPIs": {"default": {"type": "single"}},
            },
            [e_topology("spec")],
            id="namespace-from-request",
        ),
        pytest.param(
            {"topologyRef": {"name": "t", "namespace": NS}, "glanceAPIs": {"default": {"type": "single"}}},
            [],
            id="own-namespace-from-request",
        ),
        pytest.param({"glanceAPIs": {"api\n": {"type": "single"}}}, [e_key("api\n", DNS_MSG)], id="newline-key"),
    ],
)
def test_admit_create(spec: dict[str, Any], errs: list[str]) -> None:
    result = admit(glance_doc(spec), Defaults(), namespace=NS)
    assert sorted(str(e) for e in result.errors) == errs
    assert (result.object is None) == bool(errs)


@pytest.mark.parametrize(
    ("conf", "field"),
    [
        pytest.param({"type": "TCP"}, "type", id="type-enum"),
        pytest.param({"path": "healthcheck"}, "path", id="path-pattern"),
        pytest.param({"path": "/healthcheck\n"}, "path", id="path-pattern-trailing-newline"),
        pytest.param({"port": 0}, "port", id="port-minimum"),
        pytest.param({"port": 65536}, "port", id="port-maximum"),
        pytest.param({"timeoutSeconds": 0}, "timeoutSeconds", id="timeout-minimum"),
        pytest.param({"initialDelaySeconds": -1}, "initialDelaySeconds", id="initial-delay-minimum"),
    ],
)
def test_admit_probe_overrides_preempted_by_schema(conf: dict[str, Any], field: str) -> None:
    # "most of these are pre-empted by CRD schema checks"
    api = {"type": "single", "override": {"probes": {"livenessProbes": conf}}}
    result = admit(glance_doc({"glanceAPIs": {"default": api}}), Defaults(), namespace=NS)
    path = f"spec.glanceAPIs[default].override.probes.livenessProbes.{field}"
    assert [e.path for e in result.errors] == [path]


def test_admit_update_layout_change_refused() -> None:
    first = admit(glance_doc({"glanceAPIs": {"default": {"type": "single"}}}), Defaults(), namespace=NS)
    assert first.object is not None
    changed = glance_doc({"glanceAPIs": {"default": {"type": "edge"}, "main": {"type": "single"}}})
    changed["spec"]["keystoneEndpoint"] = "main"
    result = admit(changed, Defaults(), old=first.object, namespace=NS)
    assert [str(e) for e in result.errors] == [e_key("default", LAYOUT_IMMUTABLE)]


def test_admit_update_omitted_type_keeps_split() -> None:
    # the CRD default `split` applies again, so omitting the type is not a layout change
    first = admit(glance_doc({"glanceAPIs": {"default": {"replicas": 0}}}), Defaults(), namespace=NS)
    assert first.object is not None
    result = admit(glance_doc({"glanceAPIs": {"default": {"replicas": 0}}}), Defaults(), old=first.object)
    assert result.errors == []
    assert result.warnings == [SPLIT_DEPRECATED]


# --- error summary -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errs", "expected"),
    [
        pytest.param(
            [invalid("spec.keystoneEndpoint", "x", KEYSTONE_MSG)],
            f'Glance.glance.openstack.org "glance" is invalid: {e_keystone("x")}',
            id="one-error-no-brackets",
        ),
        pytest.param(
            [
                invalid("spec.glanceAPIs[default]", "default", LAYOUT_FILE),
                invalid("spec.keystoneEndpoint", "x", KEYSTONE_MSG),
            ],
            f'Glance.glance.openstack.org "glance" is invalid: [{e_key("default", LAYOUT_FILE)}, {e_keystone("x")}]',
            id="two-errors-brackets",
        ),
        pytest.param(
            [
                FieldError("spec.notificationBusInstance", "Forbidden", E_FORBIDDEN.split("Forbidden: ", 1)[1]),
                invalid("spec.keystoneEndpoint", "", KEYSTONE_MSG),
                invalid("spec.topologyRef.namespace", "namespace", TOPOLOGY_MSG),
            ],
            f'Glance.glance.openstack.org "glance" is invalid: [{E_FORBIDDEN}, {e_keystone("")}, {e_topology("spec")}]',
            id="three-errors-forbidden-has-no-value",
        ),
    ],
)
def test_invalid_message(errs: list[FieldError], expected: str) -> None:
    assert invalid_message("Glance", "glance", errs) == expected


def test_invalid_message_from_validation_result() -> None:
    result = create(glance({"default": {"type": "split", "replicas": 1}}, keystone="missing"))
    message = invalid_message("Glance", "glance", result.errors)
    assert message == (
        f'Glance.glance.openstack.org "glance" is invalid: [{e_key("default", LAYOUT_FILE)}, {e_keystone("missing")}]'
    )


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("imageCache", {"size": "10Gi"}, True),
        ("imageCache", {"size": "lots"}, False),
        ("storage", {"storageRequest": "1.5T"}, True),
        ("storage", {"storageRequest": "10 G"}, False),
    ],
)
def test_sizes_must_be_quantities_at_admission(field: str, value: dict, ok: bool) -> None:
    # upstream accepts these and fails every reconcile afterwards; we refuse them with the field named
    from glance_operator.api.admission import admit
    from glance_operator.api.defaults import Defaults

    doc = {
        "apiVersion": "glance.openstack.org/v1beta1",
        "kind": "Glance",
        "metadata": {"name": "glance", "namespace": "openstack"},
        "spec": {
            "databaseInstance": "openstack",
            "secret": "osp-secret",
            "glanceAPIs": {"a": {"type": "single", field: value}},
            "keystoneEndpoint": "a",
        },
    }
    errors = [str(e) for e in admit(doc, Defaults()).errors]
    sub = "size" if field == "imageCache" else "storageRequest"
    bad = [e for e in errors if e.startswith(f"spec.glanceAPIs[a].{field}.{sub}: Invalid value")]
    assert (bad == []) == ok
    if not ok:
        assert "must be a Kubernetes quantity such as 10G or 500Gi" in bad[0]


# --- defect 28: a single API with a certificate for one endpoint only --------------------------------------


@pytest.mark.parametrize(
    ("layout", "tls", "served"),
    [
        pytest.param("single", {"public": {"secretName": "p"}}, "HTTPS with the public certificate", id="public"),
        pytest.param("single", {"internal": {"secretName": "i"}}, "plain HTTP", id="internal"),
        pytest.param("single", {"public": {"secretName": "p"}, "internal": {"secretName": "i"}}, None, id="both"),
        pytest.param("single", {}, None, id="neither"),
        pytest.param("edge", {"internal": {"secretName": "i"}}, None, id="edge-serves-one-endpoint"),
    ],
)
def test_mixed_tls_on_a_single_api_warns_defect_28(layout: str, tls: dict[str, Any], served: str | None) -> None:
    g = glance({"default": {"type": layout, "tls": {"api": tls}}, "main": SINGLE}, keystone="main")
    api = glance_api(layout, tls={"api": tls})
    for result, field in ((create(g), "spec.glanceAPIs[default].tls"), (validate_glance_api(api), "spec.tls")):
        assert result.ok
        tls_warnings = [w for w in result.warnings if ".tls:" in w]
        if served is None:
            assert tls_warnings == []
        else:
            (warning,) = tls_warnings
            assert warning.startswith(f"{field}: a single API serves its public and internal endpoints on one port")
            assert served in warning and "tls.api.internal.secretName and tls.api.public.secretName" in warning


# --- names that cannot start a Service name (beyond upstream) --------------------------------------------


@pytest.mark.parametrize(
    ("name", "ok"),
    [("glance", True), ("g1", True), ("", True), ("1glance", False), ("my.glance", False), ("glance-", False)],
)
def test_name_must_start_service_names(name: str, ok: bool) -> None:
    """Upstream admits these and then fails to create the Services on every pass."""
    for result, kind in (
        (create(glance({"default": SINGLE}, name=name)), "Glance"),
        (
            validate_glance_api(
                GlanceAPI.model_validate({"metadata": {"name": name, "namespace": NS}, "spec": {"containerImage": "i"}})
            ),
            "GlanceAPI",
        ),
    ):
        errs = [e for e in result.errors if e.path == "metadata.name"]
        if ok:
            assert errs == []
        else:
            (e,) = errs
            assert str(e).startswith(f'metadata.name: Invalid value: "{name}": a DNS-1035 label must consist')
            assert str(e).endswith(f"the {kind} name starts its Services' names")
