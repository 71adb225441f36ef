"""Admission webhooks against the real apiserver: our server registered by URL, plain client calls.

Every denial is compared with the offline pipeline (`admit`), so the webhook and
`glance-operator validate` provably give the same paths and messages.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.api.errors import invalid_message
from glance_operator.testing import ApiError, ControlPlane, KubeApi
from glance_operator.testing.processes import free_port, wait_until
from glance_operator.webhooks.server import WebhookServer

GV = "glance.openstack.org/v1beta1"
FILE_CONFIG = (
    "[DEFAULT]\nenabled_backends = default_backend:file\n[glance_store]\ndefault_backend = default_backend\n"
    "[default_backend]\nfilesystem_store_datadir = /var/lib/glance/images/\n"
)
RBD_CONFIG = "[DEFAULT]\nenabled_backends = default_backend:rbd\n[default_backend]\nrbd_store_pool = images\n"


def glance(name: str = "glance", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "databaseInstance": "openstack",
        "secret": "osp-secret",
        "keystoneEndpoint": "default",
        "storage": {"storageRequest": "10G"},
        "customServiceConfig": FILE_CONFIG,
        "glanceAPIs": {"default": {"type": "single", "replicas": 1}},
    }
    body.update(spec)
    return {"apiVersion": GV, "kind": "Glance", "metadata": {"name": name}, "spec": body}


def glance_api(name: str = "glance-standalone", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "containerImage": "quay.io/example/glance:1",
        "apiType": "single",
        "databaseHostname": "db",
        "databaseAccount": "glance",
        "secret": "osp-secret",
        "customServiceConfig": FILE_CONFIG,
    }
    body.update(spec)
    return {"apiVersion": GV, "kind": "GlanceAPI", "metadata": {"name": name}, "spec": body}


class InProcessWebhooks:
    """The operator's webhook server on its own event loop thread, as it runs inside the manager."""

    def __init__(self, control_plane: ControlPlane) -> None:
        self.port = free_port()
        self.cert_dir = control_plane.register_webhooks(self.port)
        self.server = WebhookServer(self.cert_dir, self.port, "127.0.0.1", Defaults())
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="webhooks", daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def webhooks(control_plane: ControlPlane) -> Iterator[InProcessWebhooks]:
    hooks = InProcessWebhooks(control_plane)
    api = control_plane.api
    ns = control_plane.create_namespace("webhook-probe")

    def active() -> bool:
        # the apiserver picks up new configurations asynchronously; both must be live before testing
        defaulted = dry_create(api, ns, glance(containerImage=None))
        try:
            dry_create(api, ns, glance(keystoneEndpoint="nope"))
        except ApiError as e:
            return "containerImage" in defaulted["spec"] and "vglance-v1beta1.kb.io" in e.message
        return False

    wait_until(active, timeout=30, what="webhook configurations active", watch=control_plane.processes.values())
    yield hooks
    control_plane.unregister_webhooks()  # failurePolicy Fail: never leave them pointing at a dead server
    control_plane.delete_namespace(ns)
    hooks.close()


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["spec"] = {k: v for k, v in obj["spec"].items() if v is not None}
    return obj


def dry_create(api: KubeApi, ns: str, obj: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = api.request(
        "POST", api.path_of(obj, ns, named=False), body=_clean(obj), params={"dryRun": "All"}
    )
    return result


def denial(api: KubeApi, ns: str, obj: dict[str, Any], *, update_of: dict[str, Any] | None = None) -> ApiError:
    with pytest.raises(ApiError) as info:
        if update_of is None:
            dry_create(api, ns, obj)
        else:
            current = api.create(_clean(update_of), ns)
            changed = _clean(obj)
            changed["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            api.put(api.path_of(changed, ns), changed)
    return info.value


def offline(obj: dict[str, Any], ns: str, old: dict[str, Any] | None = None) -> str:
    """The message `glance-operator validate` gives for the same object (old: the stored object)."""
    stored_old = None
    if old is not None:
        stored_old = admit(_clean(old), Defaults(), namespace=ns).object
    result = admit(_clean(obj), Defaults(), old=stored_old, namespace=ns)
    assert not result.allowed, "the offline pipeline accepts this object"
    return invalid_message(result.kind, result.name, result.errors)


DNS_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters"
CREATE_RULES: list[tuple[str, dict[str, Any], str]] = [
    (
        "key-not-dns-label",
        glance(glanceAPIs={"Bad_Key": {"type": "single"}}, keystoneEndpoint="Bad_Key"),
        f'spec.glanceAPIs[Bad_Key]: Invalid value: "Bad_Key": {DNS_MSG}',
    ),
    (
        "key-too-long",
        glance(glanceAPIs={"k" * 40: {"type": "single"}}, keystoneEndpoint="k" * 40),
        "must be no more than 38 characters",
    ),
    (
        "topology-namespace",
        glance(topologyRef={"name": "t", "namespace": "elsewhere"}),
        'spec.topologyRef.namespace: Invalid value: "namespace": Customizing namespace field is not supported',
    ),
    (
        "api-topology-namespace",
        glance(glanceAPIs={"default": {"type": "single", "topologyRef": {"name": "t", "namespace": "x"}}}),
        "spec.glanceAPIs[default].topologyRef.namespace: Invalid value",
    ),
    (
        "split-with-file-backend",
        glance(glanceAPIs={"default": {"type": "split", "replicas": 1}}),
        'spec.glanceAPIs[default]: Invalid value: "default": The GlanceAPI layout type: split cannot be used '
        "in combination with File and NFS backend",
    ),
    (
        "service-override-key",
        glance(glanceAPIs={"default": {"type": "single", "override": {"service": {"admin": {}}}}}),
        'spec.glanceAPIs[default].override.service[admin]: Invalid value: "admin": invalid endpoint type: admin',
    ),
    (
        "exec-probe-without-command",
        glance(glanceAPIs={"default": {"type": "single", "override": {"probes": {"startupProbes": {"type": "Exec"}}}}}),
        # most probe checks are pre-empted by the CRD schema (spec §3.3); this one is the webhook's
        "spec.glanceAPIs[default].override.probes.startupProbes.command: Invalid value: []: "
        "command is required for exec probe type",
    ),
    (
        "keystone-endpoint",
        glance(keystoneEndpoint="missing"),
        'spec.keystoneEndpoint: Invalid value: "missing": KeystoneEndpoint is assigned to an invalid GlanceAPI '
        "instance",
    ),
    (
        "keystone-endpoint-on-edge",
        glance(glanceAPIs={"default": {"type": "edge"}}),
        "KeystoneEndpoint is assigned to an invalid GlanceAPI instance",
    ),
    (
        "notification-bus-conflict",
        glance(notificationBusInstance="rabbitmq", notificationsBus={"cluster": "rabbitmq-2"}),
        'spec.notificationBusInstance: Invalid value: "rabbitmq": cannot set both deprecated field',
    ),
    (
        "enabled-backends-malformed",
        glance(customServiceConfig="[DEFAULT]\nenabled_backends = default_backend\n"),
        'spec.customServiceConfig: Invalid value: "enabled_backends": line 2: enabled_backends entry '
        "'default_backend' must have the form <store id>:<store type>",
    ),
    # beyond upstream: the option catalogue (api/options.py)
    (
        "catalogue-misspelt-option",
        glance(customServiceConfig=FILE_CONFIG + "[DEFAULT]\ndebg = true\n"),
        'line 8: [DEFAULT] debg: unknown option; did you mean "debug"?',
    ),
    (
        "catalogue-wrong-type",
        glance(glanceAPIs={"default": {"type": "single", "customServiceConfig": "[DEFAULT]\nimage_size_cap = abc\n"}}),
        'spec.glanceAPIs[default].customServiceConfig: Invalid value: "customServiceConfig": line 2: [DEFAULT] '
        "image_size_cap: 'abc' is not an integer",
    ),
    (
        "catalogue-managed-option",
        glance(customServiceConfig=FILE_CONFIG + "[database]\nconnection = sqlite://\n"),
        "[database] connection: cannot be set in customServiceConfig",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), [pytest.param(o, e, id=i) for i, o, e in CREATE_RULES])
def test_create_rule_denied(webhooks: InProcessWebhooks, api: KubeApi, namespace: str, obj: Any, expected: str) -> None:
    err = denial(api, namespace, obj)
    assert err.status == 422 and err.reason == "Invalid", err
    assert expected in err.message
    assert err.message == f'admission webhook "vglance-v1beta1.kb.io" denied the request: {offline(obj, namespace)}'
    causes = err.body["details"]["causes"]
    assert causes and all(c["field"] for c in causes)


def test_glanceapi_rules_denied(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    bad = glance_api(topologyRef={"name": "t", "namespace": "other"})
    err = denial(api, namespace, bad)
    assert err.message == f'admission webhook "vglanceapi-v1beta1.kb.io" denied the request: {offline(bad, namespace)}'
    assert "spec.topologyRef.namespace" in err.message
    # apiType is immutable
    old = glance_api("immutable")
    new = glance_api("immutable", apiType="external")
    err = denial(api, namespace, new, update_of=old)
    assert 'spec.apiType: Invalid value: "external": apiType cannot be changed' in err.message


def test_layout_type_immutable_on_update(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    old = glance("layout", customServiceConfig=RBD_CONFIG)
    new = glance("layout", customServiceConfig=RBD_CONFIG, glanceAPIs={"default": {"type": "split", "replicas": 1}})
    err = denial(api, namespace, new, update_of=old)
    assert 'spec.glanceAPIs[default]: Invalid value: "default": The GlanceAPI layout (type) cannot be modified' in (
        err.message
    )
    assert err.message.endswith(offline(new, namespace, old=old))


def test_notification_bus_change_forbidden_on_update(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    old = glance("bus", notificationBusInstance="rabbitmq")
    new = glance("bus", notificationBusInstance="other")
    err = denial(api, namespace, new, update_of=old)
    assert 'spec.notificationBusInstance: Forbidden: field "spec.notificationBusInstance" is deprecated' in err.message


def test_defaults_are_stored(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    obj = {"apiVersion": GV, "kind": "Glance", "metadata": {"name": "minimal"}, "spec": {"secret": "osp-secret"}}
    obj["spec"]["databaseInstance"] = "openstack"
    stored = api.apply(obj, namespace)
    spec = stored["spec"]
    assert spec["containerImage"] == Defaults().container_image
    assert spec["keystoneEndpoint"] == "default"
    assert spec["customServiceConfig"].startswith("[DEFAULT]\nenabled_backends=backend1:type1")
    assert spec["storage"]["external"] is True
    assert spec["apiTimeout"] == 60 and spec["dbPurge"] == {"age": 30, "schedule": "1 0 * * *"}
    # materialised keys of spec §3.2, as the Go webhook's re-serialisation produces them
    for key in ("imageCache", "quotas", "dbPurge", "storage"):
        assert key in spec, key
    api_spec = spec["glanceAPIs"]["default"]
    assert api_spec["type"] == "split" and api_spec["replicas"] == 0  # type from the CRD default, after the webhook
    assert api_spec["imageCache"]["cleanerScheduler"] == "*/30 * * * *"
    assert api_spec["imageCache"]["prunerScheduler"] == "1 0 * * *"
    for key in ("override", "resources", "storage", "auth"):
        assert key in api_spec, key
    assert api_spec["tls"] == {"api": {"internal": {}, "public": {}}}
    # exactly what `glance-operator validate` prints for the same input
    expected = admit(obj, Defaults(), namespace=namespace).object
    assert expected is not None and spec == expected["spec"]


def test_glanceapi_defaults_container_image(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    stored = api.apply(glance_api(containerImage=None, apiTimeout=None), namespace)
    assert stored["spec"]["containerImage"] == Defaults().container_image
    assert stored["spec"]["apiTimeout"] == 60


def test_update_and_delete_accepted(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    before = webhooks.server.requests
    api.apply(glance("kept"), namespace)
    updated = api.apply(glance("kept", apiTimeout=120), namespace)
    assert updated["spec"]["apiTimeout"] == 120
    assert webhooks.server.requests >= before + 4  # mutate + validate, twice
    api.remove(GV, "Glance", "kept", namespace)
    assert api.read(GV, "Glance", "kept", namespace) is None


def test_warnings_reach_the_client(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    # split layout with a non-file backend is allowed, with the deprecation warning
    obj = glance("warned", customServiceConfig=RBD_CONFIG, glanceAPIs={"default": {"type": "split", "replicas": 1}})
    resp = api._client.post(  # the Warning header is not exposed by KubeApi.request
        api.path_of(obj, namespace, named=False), json=obj, params={"dryRun": "All"}
    )
    assert resp.status_code == 201, resp.text
    assert "split layout is deprecated" in resp.headers.get("warning", "")


# --- malformed input never breaks the server --------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
_values = st.recursive(
    _scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8
)
_FIELDS = [
    "containerImage", "replicas", "type", "glanceAPIs", "customServiceConfig", "keystoneEndpoint", "storage",
    "imageCache", "apiTimeout", "dbPurge", "topologyRef", "notificationBusInstance", "notificationsBus", "override",
    "quotas", "extraMounts", "secret", "databaseInstance", "nodeSelector", "tls",
]  # fmt: skip
_api_entry = st.dictionaries(st.sampled_from(_FIELDS), _values, max_size=4)
_specs = st.fixed_dictionaries(
    {"secret": st.just("osp-secret"), "databaseInstance": st.just("openstack")},
    optional={
        **{f: _values for f in _FIELDS if f not in ("secret", "databaseInstance")},
        "glanceAPIs": st.dictionaries(st.text("abcXY_-.", min_size=1, max_size=50), _api_entry, max_size=3),
        "customServiceConfig": st.text(max_size=80).map(lambda t: "[DEFAULT]\n" + t),
    },
)


def test_malformed_objects_never_break_the_server(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    seen = {"denied": 0, "accepted": 0}

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(spec=_specs, kind=st.sampled_from(["Glance", "GlanceAPI"]))
    def check(spec: dict[str, Any], kind: str) -> None:
        obj = {"apiVersion": GV, "kind": kind, "metadata": {"name": "fuzz"}, "spec": spec}
        try:
            api.request("POST", api.path_of(obj, namespace, named=False), body=obj, params={"dryRun": "All"})
            seen["accepted"] += 1
        except ApiError as e:
            seen["denied"] += 1
            # a webhook failure (timeout, 500, bad answer) shows as "failed calling webhook": never allowed
            assert "failed calling webhook" not in e.message and e.status in (400, 422), e
            details = e.body.get("details", {}) if isinstance(e.body, dict) else {}
            fields = [c.get("field", "") for c in details.get("causes", [])]
            assert any(fields) or "spec" in e.message, e

    check()
    assert seen["denied"] and webhooks.server.serving
    stored = api.apply(glance("after-fuzz"), namespace)  # still answering
    assert stored["spec"]["containerImage"]
