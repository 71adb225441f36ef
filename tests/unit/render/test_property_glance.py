"""Property: any Glance the admission pipeline accepts renders, and every object it yields is well shaped.

Glance names and API keys go up to the longest the validation allows (spec §3.3, defect 5: the key limit is
computed from the real StatefulSet suffix), over every layout, several backends, cache on/off,
notifications, TLS, extraMounts and customServiceConfigSecrets. Everything the Glance controller creates
(RBAC, MariaDB*, TransportURL, KeystoneService, Secrets, db-sync Job, db-purge CronJob, GlanceAPI
children) and everything each GlanceAPI controller creates goes through `k8s_shape.check_object`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.api.v1beta1 import Glance
from glance_operator.api.validation import MAX_STATEFULSET_NAME, STATEFULSET_SUFFIX, max_key_length
from glance_operator.render import names
from glance_operator.render.offline import load_facts, render_all

from .k8s_shape import check_object

NS = "openstack"
# the longest Glance name that still leaves room for a one-character key of a single API
MAX_GLANCE_NAME = MAX_STATEFULSET_NAME - len(STATEFULSET_SUFFIX["single"]) - 2 - 1

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def label(length: int) -> st.SearchStrategy[str]:
    """A DNS-1123 label of exactly `length` characters, starting with a letter (Service names must)."""
    if length == 1:
        return st.sampled_from("abcdefghijklmnopqrstuvwxyz")
    return st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
        st.text(alphabet=_ALNUM + "-", min_size=length - 2, max_size=length - 2),
        st.sampled_from(_ALNUM),
    )


def sized_label(max_length: int) -> st.SearchStrategy[str]:
    """Labels up to `max_length`, with the limit itself drawn often."""
    lengths = st.one_of(st.just(max_length), st.integers(min_value=1, max_value=max_length))
    return lengths.flatmap(label)


def secret_name() -> st.SearchStrategy[str]:
    """A valid Secret name: a DNS-1123 subdomain (dots allowed), up to 253 characters."""
    return st.one_of(
        sized_label(20),
        st.lists(sized_label(20), min_size=2, max_size=3).map(".".join),
        sized_label(63).map(lambda s: (s + "-" + s + "-" + s + "-" + s)[:253].rstrip("-") or "a"),
    )


BACKENDS = {
    "file": "[DEFAULT]\nenabled_backends = default_backend:file\n",
    "rbd": "[DEFAULT]\nenabled_backends = default_backend:rbd\n[default_backend]\nrbd_store_pool = images\n",
    "cinder": "[DEFAULT]\nenabled_backends = default_backend:cinder\n",
    "swift": "[DEFAULT]\nenabled_backends = default_backend:swift\n",
    "s3": "[DEFAULT]\nenabled_backends = default_backend:s3\n",
    "multistore": "[DEFAULT]\nenabled_backends = a:rbd,b:file,c:s3\n[glance_store]\ndefault_backend = a\n",
}
NADS = ["internalapi", "storage", "a-very-long-network-attachment-name"]
FACTS = {
    "network_attachments": {"internalapi": "172.17.0.1", "storage": None},
    "topologies": {"spread": {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone"}]}},
}
EXTRA_PATHS = ["/etc/ceph", "/var/lib/glance", "/var/lib/glance/images", "/etc/httpd/conf_custom", "/mnt/x"]


@st.composite
def extra_mounts(draw: Any, keys: list[str]) -> list[dict[str, Any]]:
    entries = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        vol = draw(sized_label(30))
        propagation = draw(
            st.one_of(st.none(), st.lists(st.sampled_from(["Glance", "GlanceAPI", "All", *keys]), max_size=3))
        )
        entry: dict[str, Any] = {
            "volumes": [{"name": vol, "secret": {"secretName": draw(secret_name())}}],
            "mounts": [{"name": vol, "mountPath": draw(st.sampled_from(EXTRA_PATHS)), "readOnly": True}],
        }
        if propagation is not None:
            entry["propagation"] = propagation
        entries.append({"extraVol": [entry]})
    return entries


@st.composite
def glance_doc(draw: Any) -> dict[str, Any]:
    name = draw(sized_label(MAX_GLANCE_NAME))
    apis: dict[str, dict[str, Any]] = {}
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        layout = draw(st.sampled_from(["single", "split", "edge"]))
        limit = max_key_length(name, layout)
        if limit < 1:
            continue
        key = draw(sized_label(min(limit, 63)))
        if key in apis:
            continue
        replicas = draw(st.one_of(st.integers(min_value=0, max_value=3), st.just(32)))
        backend = draw(st.sampled_from(sorted(BACKENDS)))
        if layout == "split" and backend == "file" and replicas:
            backend = "swift"  # the webhook refuses split with a file backend (spec 3.4)
        api: dict[str, Any] = {"type": layout, "replicas": replicas, "customServiceConfig": BACKENDS[backend]}
        if draw(st.booleans()):
            api["imageCache"] = {"size": draw(st.sampled_from(["1G", "500Mi", "10Gi"]))}
        if draw(st.booleans()):
            api["tls"] = {
                "caBundleSecretName": draw(secret_name()),
                "api": {
                    "internal": {"secretName": draw(secret_name())},
                    "public": {"secretName": draw(secret_name())},
                },
            }
        if draw(st.booleans()):
            api["customServiceConfigSecrets"] = draw(st.lists(secret_name(), max_size=3, unique=True))
        if draw(st.booleans()):
            api["storage"] = {"storageRequest": "5G", "storageClass": draw(st.sampled_from(["", "local"]))}
        if draw(st.booleans()):
            api["networkAttachments"] = draw(st.lists(st.sampled_from(NADS), max_size=2, unique=True))
        if draw(st.booleans()):
            api["topologyRef"] = {"name": "spread"}
        apis[key] = api
    if not apis:  # a name too long for any key: the webhook's `default` API would be refused as well
        apis[draw(sized_label(max_key_length(name, "single")))] = {"type": "single", "replicas": 0}
    endpoint_keys = sorted(k for k, a in apis.items() if a["type"] != "edge")
    if not endpoint_keys:
        key = draw(sized_label(max_key_length(name, "single")))
        apis[key] = {"type": "single", "replicas": 1}
        endpoint_keys = [key]
    spec: dict[str, Any] = {
        "databaseInstance": "openstack",
        "secret": "osp-secret",
        "keystoneEndpoint": draw(st.sampled_from(endpoint_keys)),
        "glanceAPIs": apis,
        "extraMounts": draw(extra_mounts(sorted(apis))),
    }
    if draw(st.booleans()):
        spec["storage"] = {"storageRequest": "10G"}
    if draw(st.booleans()):
        spec["notificationsBus"] = {"cluster": "rabbitmq", "user": "glance", "vhost": "glance"}
    if draw(st.booleans()):
        spec["imageCache"] = {"size": "2G"}
    if draw(st.booleans()):
        spec["quotas"] = {"imageCountTotal": 10}
    if draw(st.booleans()):
        spec["preserveJobs"] = True
    if draw(st.booleans()):
        spec["nodeSelector"] = {"node-role.kubernetes.io/worker": ""}
    annotations = {"glance.openstack.org/location-api": "true"}
    if draw(st.booleans()):
        annotations["glance.openstack.org/wsgi"] = "false"
    return {
        "apiVersion": "glance.openstack.org/v1beta1",
        "kind": "Glance",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": spec,
    }


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=glance_doc(), transport=st.booleans())
def test_property_any_valid_glance_renders_well_shaped(doc: dict[str, Any], transport: bool) -> None:
    result = admit(doc, Defaults(), namespace=NS)
    assert result.allowed, [str(e) for e in result.errors]
    glance = Glance.model_validate(result.object)
    facts = load_facts({**FACTS, **({} if transport else {"transport_url": ""})}, NS)
    objects, _ = render_all(glance, facts)

    problems = [p for obj in objects for p in check_object(obj)]
    assert problems == []

    kinds = [o["kind"] for o in objects]
    for kind in ("ServiceAccount", "Role", "RoleBinding", "MariaDBDatabase", "MariaDBAccount", "KeystoneService"):
        assert kinds.count(kind) == 1, kind
    assert {o["metadata"]["name"] for o in objects if o["kind"] == "Job"} == {names.DB_SYNC_JOB}
    assert names.db_purge_cronjob(glance.metadata.name) in {o["metadata"]["name"] for o in objects}
    assert kinds.count("TransportURL") == (1 if "notificationsBus" in doc["spec"] else 0)
    children = [o for o in objects if o["kind"] == "GlanceAPI"]
    expected = sorted(
        names.glance_api(glance.metadata.name, key, t)
        for key, api in glance.spec.glance_apis.items()
        for t in names.api_types(api.type)
    )
    assert sorted(c["metadata"]["name"] for c in children) == expected
    for child in children:  # what the Glance controller writes, the apiserver (schema) accepts
        admitted = admit(child, Defaults(), namespace=NS)
        assert admitted.allowed, (child["metadata"]["name"], [str(e) for e in admitted.errors])
    statefulsets = {o["metadata"]["labels"]["owner"] for o in objects if o["kind"] == "StatefulSet"}
    assert statefulsets == set(expected)
    selected = glance.spec.keystone_endpoint
    endpoints = sorted(o["metadata"]["name"] for o in objects if o["kind"] == "KeystoneEndpoint")
    assert endpoints == sorted(
        c["metadata"]["name"] for c in children if c["metadata"]["labels"]["api-name"] == selected
    )
    # every object name is unique per kind (no two children collide)
    seen = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(seen) == len(set(seen))
