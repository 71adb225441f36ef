"""Admission webhooks against the real apiserver: our server registered by URL, plain client calls.

Every denial is compared with the offline pipeline (`admit`), so the webhook and
`glance-operator validate` provably give the same paths and messages.
"""

from __future__ import annotations

import asyncio
import copy
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.api.errors import invalid_message
from glance_operator.api.validation import SPLIT_DEPRECATED_MSG
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
    api = control_plane.api
    hooks: InProcessWebhooks | None = None
    ns: str | None = None
    try:
        hooks = InProcessWebhooks(control_plane)  # registers the webhook configurations
        ns = control_plane.create_namespace("webhook-probe")
        probe_ns = ns

        def active() -> bool:
            # the apiserver picks up new configurations asynchronously; both must be live before testing
            defaulted = dry_create(api, probe_ns, glance(containerImage=None))
            try:
                dry_create(api, probe_ns, glance(keystoneEndpoint="nope"))
            except ApiError as e:
                return "containerImage" in defaulted["spec"] and "vglance-v1beta1.kb.io" in e.message
            return False

        wait_until(active, timeout=30, what="webhook configurations active", watch=control_plane.processes.values())
        yield hooks
    finally:
        # failurePolicy Fail: never leave them pointing at a dead server, even if the wait above timed out
        control_plane.unregister_webhooks()
        if ns is not None:
            control_plane.delete_namespace(ns)
        if hooks is not None:
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
    # beyond upstream: a name that cannot start the API's Service names (upstream fails on every pass)
    (
        "name-not-dns-1035",
        glance("1glance"),
        'metadata.name: Invalid value: "1glance": a DNS-1035 label must consist of lower case alphanumeric',
    ),
    (
        "name-with-dot",
        glance("my.glance"),
        "the Glance name starts its Services' names",
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


# Every rule of validate_glance_api (spec §3.3 rules that a GlanceAPI object can break; upstream runs none on
# GlanceAPI, defect 37). Key names, keystoneEndpoint, notificationBusInstance and the layout/backend check
# have no GlanceAPI field to break or belong to the owning Glance. Schema-enforced probe checks never
# reach the webhook (the CRD refuses them first), so only the Exec-without-command one is here.
GLANCEAPI_RULES: list[tuple[str, dict[str, Any], str]] = [
    (
        "topology-namespace",
        {"topologyRef": {"name": "t", "namespace": "other"}},
        'spec.topologyRef.namespace: Invalid value: "namespace": Customizing namespace field is not supported',
    ),
    (
        "service-override-key",
        {"override": {"service": {"admin": {}}}},
        'spec.override.service[admin]: Invalid value: "admin": invalid endpoint type: admin',
    ),
    (
        "exec-probe-without-command",
        {"override": {"probes": {"startupProbes": {"type": "Exec"}}}},
        "spec.override.probes.startupProbes.command: Invalid value: []: command is required for exec probe type",
    ),
    (
        "enabled-backends-malformed",
        {"customServiceConfig": "[DEFAULT]\nenabled_backends = default_backend\n"},
        'spec.customServiceConfig: Invalid value: "enabled_backends": line 2: enabled_backends entry '
        "'default_backend' must have the form <store id>:<store type>",
    ),
    (
        "storage-request-quantity",
        {"storage": {"storageRequest": "ten"}},
        'spec.storage.storageRequest: Invalid value: "ten": must be a Kubernetes quantity',
    ),
    (
        "image-cache-size-quantity",
        {"imageCache": {"size": "big"}},
        'spec.imageCache.size: Invalid value: "big": must be a Kubernetes quantity',
    ),
    (
        "catalogue-misspelt-option",
        {"customServiceConfig": "[DEFAULT]\ndebg = true\n"},
        'spec.customServiceConfig: Invalid value: "customServiceConfig": line 2: [DEFAULT] debg: unknown option; '
        'did you mean "debug"?',
    ),
    (
        "catalogue-wrong-type",
        {"customServiceConfig": "[DEFAULT]\nimage_size_cap = abc\n"},
        "line 2: [DEFAULT] image_size_cap: 'abc' is not an integer",
    ),
    (
        "catalogue-managed-option",
        {"customServiceConfig": "[database]\nconnection = sqlite://\n"},
        "[database] connection: cannot be set in customServiceConfig",
    ),
    (
        "catalogue-unparseable",
        {"customServiceConfig": "[DEFAULT\n"},
        "cannot parse as an INI file: line 1: invalid section header '[DEFAULT'",
    ),
]


def test_glanceapi_name_must_start_service_names(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    bad = glance_api("0api")
    err = denial(api, namespace, bad)
    assert 'metadata.name: Invalid value: "0api": a DNS-1035 label' in err.message
    assert err.message.endswith(offline(bad, namespace))


@pytest.mark.parametrize("operation", ["create", "update"])
@pytest.mark.parametrize(("spec", "expected"), [pytest.param(s, e, id=i) for i, s, e in GLANCEAPI_RULES])
def test_glanceapi_rule_denied(
    webhooks: InProcessWebhooks, api: KubeApi, namespace: str, spec: dict[str, Any], expected: str, operation: str
) -> None:
    bad = glance_api("rule", **spec)
    old = glance_api("rule") if operation == "update" else None
    err = denial(api, namespace, bad, update_of=old)
    assert err.status == 422 and err.reason == "Invalid", err
    assert expected in err.message
    assert err.message == (
        f'admission webhook "vglanceapi-v1beta1.kb.io" denied the request: {offline(bad, namespace, old=old)}'
    )
    causes = err.body["details"]["causes"]
    assert causes and all(c["field"] for c in causes)


def test_glanceapi_api_type_immutable(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    old = glance_api("immutable")
    new = glance_api("immutable", apiType="external")
    err = denial(api, namespace, new, update_of=old)
    assert 'spec.apiType: Invalid value: "external": apiType cannot be changed' in err.message
    assert err.message.endswith(offline(new, namespace, old=old))


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


def _warnings(resp: Any) -> list[str]:
    """The texts of the `Warning: 299 - "<text>"` headers (RFC 7234 quoted strings, one header each)."""
    out = []
    for value in resp.headers.get_list("warning"):
        m = re.fullmatch(r'\d{3} \S+ "((?:[^"\\]|\\.)*)"(?: .*)?', value.strip())
        assert m, value
        out.append(re.sub(r"\\(.)", r"\1", m.group(1)))
    return out


def _dry_run_warnings(api: KubeApi, ns: str, obj: dict[str, Any], *, update: bool = False) -> list[str]:
    # the Warning header is not exposed by KubeApi.request
    if update:
        current = api.read(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], ns)
        assert current is not None
        obj = _clean(obj)
        obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        resp = api._client.put(api.path_of(obj, ns), json=obj, params={"dryRun": "All"})
        assert resp.status_code == 200, resp.text
    else:
        resp = api._client.post(api.path_of(obj, ns, named=False), json=_clean(obj), params={"dryRun": "All"})
        assert resp.status_code == 201, resp.text
    return _warnings(resp)


def test_warnings_reach_the_client(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    # split layout with a non-file backend is allowed, with the deprecation warning
    obj = glance("warned", customServiceConfig=RBD_CONFIG, glanceAPIs={"default": {"type": "split", "replicas": 1}})
    assert SPLIT_DEPRECATED_MSG in _dry_run_warnings(api, namespace, obj)


BUS_DEPRECATED = (
    'field "spec.notificationBusInstance" is deprecated, please use "spec.notificationsBus.cluster" instead'
)
BUS_SAME = (
    'both "spec.notificationBusInstance" and "spec.notificationsBus.cluster" are set with the same value. Please '
    'migrate to using only "spec.notificationsBus.cluster" and clear "spec.notificationBusInstance"'
)


def test_notification_bus_deprecation_warnings_reach_the_client(
    webhooks: InProcessWebhooks, api: KubeApi, namespace: str
) -> None:
    """Spec §3.3: deprecated field alone, and both fields with the same value, are warnings (create and update)."""
    deprecated_only = glance("bus", notificationBusInstance="rabbitmq")
    both_same = glance("bus", notificationBusInstance="rabbitmq", notificationsBus={"cluster": "rabbitmq"})
    assert _dry_run_warnings(api, namespace, deprecated_only) == [BUS_DEPRECATED]
    assert _dry_run_warnings(api, namespace, both_same) == [BUS_SAME]
    # what `glance-operator validate` prints for the same objects
    assert admit(_clean(deprecated_only), Defaults(), namespace=namespace).warnings == [BUS_DEPRECATED]
    assert admit(_clean(both_same), Defaults(), namespace=namespace).warnings == [BUS_SAME]
    # on update: keeping the deprecated field (alone, or equal to the new one) still warns
    api.create(_clean(deprecated_only), namespace)
    assert _dry_run_warnings(api, namespace, deprecated_only, update=True) == [BUS_DEPRECATED]
    assert _dry_run_warnings(api, namespace, both_same, update=True) == [BUS_SAME]
    # migrated: no warning at all
    migrated = glance("bus", notificationsBus={"cluster": "rabbitmq"})
    assert _dry_run_warnings(api, namespace, migrated, update=True) == []


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
_API_FIELDS = ["apiType", "databaseHostname", "serviceAccount", "memcachedInstance", "customServiceConfigSecrets"]
# the required fields each kind needs before anything else can be judged; everything else is fuzzed
_BASE = {
    "Glance": {"secret": "osp-secret", "databaseInstance": "openstack"},
    "GlanceAPI": {"secret": "osp-secret", "databaseHostname": "db"},
}
_names = st.text(max_size=10) | st.sampled_from(["default", "api", "edge1", "public", "internal", "admin", ""])
_quantity = st.sampled_from(["10G", "500Gi", "ten", "", "1.5T"]) | st.text(max_size=6)
_INI = ["[DEFAULT]", "[glance_store]", "[debg]", "debug = true", "debg = 1", "image_size_cap = abc", "x", "= 1",
        "enabled_backends = b:rbd", "enabled_backends = b", "[database]", "connection = sqlite://", "# comment"]  # fmt: skip
# Values of the right shape (so objects get past the CRD schema) but breaking the webhook's rules: wrong
# keys, namespaces, endpoint names, layouts, quantities, probes and option names. Each field draws from these
# or from arbitrary JSON, so the schema, the mutating and the validating webhooks all see a share.
_PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "containerImage": st.text(max_size=12),
    "replicas": st.integers(-1, 33),
    "type": st.sampled_from(["split", "single", "edge", "double"]),
    "apiType": st.sampled_from(["split", "single", "edge", "internal", "external", "x"]),
    "keystoneEndpoint": _names,
    "notificationBusInstance": _names,
    "notificationsBus": st.fixed_dictionaries({"cluster": _names}),
    "apiTimeout": st.integers(-1, 120),
    "topologyRef": st.fixed_dictionaries({"name": _names}, optional={"namespace": _names}),
    "storage": st.fixed_dictionaries({}, optional={"storageRequest": _quantity, "external": st.booleans()}),
    "imageCache": st.fixed_dictionaries({}, optional={"size": _quantity, "cleanerScheduler": st.text(max_size=10)}),
    "override": st.fixed_dictionaries(
        {},
        optional={
            "service": st.dictionaries(_names, st.just({}), max_size=2),
            "probes": st.fixed_dictionaries(
                {},
                optional={
                    "livenessProbes": st.fixed_dictionaries(
                        {"type": st.sampled_from(["HTTP", "Exec", ""])},
                        optional={"path": st.sampled_from(["/", "/healthcheck", "healthz"])},
                    )
                },
            ),
        },
    ),
    "customServiceConfig": st.lists(st.sampled_from(_INI) | st.text(max_size=20), max_size=4).map("\n".join),
}


def _field(f: str) -> st.SearchStrategy[Any]:
    plausible = _PLAUSIBLE.get(f)
    return _values if plausible is None else st.one_of(plausible, plausible, _values)


_api_entry = st.lists(st.sampled_from(_FIELDS), max_size=4, unique=True).flatmap(
    lambda fields: st.fixed_dictionaries({f: _field(f) for f in fields})
)


def _specs(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    base = _BASE[kind]
    fields = _FIELDS + (_API_FIELDS if kind == "GlanceAPI" else [])
    return st.fixed_dictionaries(
        {k: st.just(v) for k, v in base.items()},
        optional={
            **{f: _field(f) for f in fields if f not in base},
            "glanceAPIs": st.dictionaries(st.text("abcXY_-.", min_size=1, max_size=50), _api_entry, max_size=3),
            "customServiceConfig": st.one_of(
                _PLAUSIBLE["customServiceConfig"], st.text(max_size=80).map(lambda t: "[DEFAULT]\n" + t)
            ),
        },
    )


_objects = st.sampled_from(["Glance", "GlanceAPI"]).flatmap(lambda kind: st.tuples(st.just(kind), _specs(kind)))
# "spec.glanceAPIs[k].replicas", "spec.override.service[x]", "spec.nodeSelector.<key>": never blank or the object
_FIELD_PATH = re.compile(r"(spec|metadata)([.\[].*)?", re.DOTALL)


def _named_fields(e: ApiError) -> list[str]:
    """The field paths a denial names: its metav1.Status causes, each also spelled out in the message."""
    details = e.body.get("details") if isinstance(e.body, dict) else None
    causes = (details or {}).get("causes") or []
    fields = [str(c.get("field") or "") for c in causes]
    assert fields, f"a denial without causes: {e}"
    for f in fields:
        assert _FIELD_PATH.fullmatch(f), f"not a concrete field path: {f!r} in {e}"
        assert f"{f}: " in e.message, f"cause {f!r} not in the message: {e}"
    return fields


def test_malformed_objects_never_break_the_server(webhooks: InProcessWebhooks, api: KubeApi, namespace: str) -> None:
    """200 generated objects through the apiserver: the server keeps answering, every denial names the field
    paths it is about (from the CRD schema or from our validating webhook), and enough of them get past the
    schema to prove the validating webhooks were exercised, not just the mutating ones."""
    server = webhooks.server
    reviews_before, denials_before = dict(server.reviews), dict(server.denials)
    seen: dict[str, int] = {"accepted": 0, "schema": 0, "webhook": 0}

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(generated=_objects)
    def check(generated: tuple[str, dict[str, Any]]) -> None:
        kind, spec = generated
        obj = {"apiVersion": GV, "kind": kind, "metadata": {"name": "fuzz"}, "spec": spec}
        try:
            api.request("POST", api.path_of(obj, namespace, named=False), body=obj, params={"dryRun": "All"})
            seen["accepted"] += 1
            return
        except ApiError as e:
            # a webhook failure (timeout, 500, bad answer) shows as "failed calling webhook": never allowed;
            # schema and webhook denials alike are 422 Invalid, with the field paths as causes
            assert "failed calling webhook" not in e.message, e
            assert (e.status, e.reason) == (422, "Invalid"), e
            _named_fields(e)
            ours = f'admission webhook "v{kind.lower()}-v1beta1.kb.io" denied the request: '
            if e.message.startswith(ours):
                seen["webhook"] += 1
            else:
                assert "admission webhook" not in e.message, e
                seen["schema"] += 1

    check()
    reviews = {k: v - reviews_before.get(k, 0) for k, v in server.reviews.items()}
    denials = {k: v - denials_before.get(k, 0) for k, v in server.denials.items()}
    summary = f"client saw {seen}; server reviews {reviews}, denials {denials}"
    assert sum(seen.values()) >= 200, summary
    for hook in ("mglance", "vglance", "mglanceapi", "vglanceapi"):
        assert reviews.get(f"{hook}-v1beta1.kb.io", 0) > 0, f"{hook} never reached: {summary}"
    # every denial of our validating webhooks reached the client as one, and nothing else denied
    assert seen["webhook"] > 0 and seen["schema"] > 0, summary
    ours = denials.get("vglance-v1beta1.kb.io", 0) + denials.get("vglanceapi-v1beta1.kb.io", 0)
    assert ours == seen["webhook"], summary
    assert not denials.get("mglance-v1beta1.kb.io") and not denials.get("mglanceapi-v1beta1.kb.io"), summary
    assert server.serving
    stored = api.apply(glance("after-fuzz"), namespace)  # still answering
    assert stored["spec"]["containerImage"]
