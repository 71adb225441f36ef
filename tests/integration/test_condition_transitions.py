"""One scenario per condition transition (spec §8, with §4 and §5 for what sets each condition).

Every row of the table below reads: given a world where one input is broken, then the condition
reports it exactly as the operator sets it (status, reason, severity, message), `Ready` mirrors it
(§8.3) and `status.observedGeneration` is current; when the input is fixed, then the condition
turns True with its True message and the resource becomes Ready. Throughout, `lastTransitionTime`
moves only on real transitions (§8.2): conditions that stayed True keep theirs in every row, and the
KeystoneEndpointReady row checks that a single flip moves nothing but that condition and Ready.

Rows with `after_ready=True` start from a healthy Glance and break it (a True -> False -> True
round trip); the others are broken from the start (Unknown -> False -> True). Five rows first found
operator bugs (write errors and a bad annotation left conditions at Init; a Python list in a
message), fixed with them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from glance_operator.testing import KubeApi
from glance_operator.testing.deps import DependencyPlayer

from .operator_env import (
    CINDER_CONFIG,
    GLANCE_V,
    condition,
    eventually,
    glance,
    is_ready,
    running_operator,
    service_secret,
)

Obj = dict[str, Any]
SINGLE = {"type": "single", "replicas": 1}
CHILD = "glance-default-single"
NAD_NAME = "storage"


# --- the world a row runs in ----------------------------------------------------------------------


@dataclass
class Env:
    api: KubeApi
    deps: DependencyPlayer
    ns: str
    spec: dict[str, Any]  # Glance spec fields on top of the sample (operator_env.glance)
    annotations: dict[str, str]

    def apply_glance(self) -> None:
        spec = dict(self.spec)
        obj = glance(self.ns, apis=spec.pop("glanceAPIs", None), **spec)
        if self.annotations:
            obj["metadata"]["annotations"] = dict(self.annotations)
        self.api.apply(obj)  # server-side apply: fields left out are removed


Action = Callable[[Env], Awaitable[None]]
Factory = Callable[[str], Obj]  # namespace -> object


def hold(kind: str, name: str | None = None) -> Action:
    async def act(env: Env) -> None:
        env.deps.hold(kind, name)

    return act


def release(kind: str, name: str | None = None) -> Action:
    async def act(env: Env) -> None:
        env.deps.release(kind, name)

    return act


def create(*factories: Factory) -> Action:
    async def act(env: Env) -> None:
        for make in factories:
            env.api.apply(make(env.ns))

    return act


def delete(api_version: str, kind: str, name: str) -> Action:
    async def act(env: Env) -> None:
        env.api.remove(api_version, kind, name, env.ns)

    return act


def respec(**changes: Any) -> Action:
    """Edit the Glance spec (a value of None removes the field)."""

    async def act(env: Env) -> None:
        for key, value in changes.items():
            if value is None:
                env.spec.pop(key, None)
            else:
                env.spec[key] = value
        env.apply_glance()

    return act


def unannotate(key: str) -> Action:
    async def act(env: Env) -> None:
        env.annotations.pop(key, None)
        env.apply_glance()

    return act


def steps(*actions: Action) -> Action:
    async def act(env: Env) -> None:
        for a in actions:
            await a(env)

    return act


async def fail_db_sync_job(env: Env) -> None:
    # kwok completes every Job pod: a Job fails for real when its pods cannot run before its deadline
    # (a pod quota of zero, then a 1 s activeDeadlineSeconds, a field the operator does not set)
    await eventually(lambda: env.api.read("batch/v1", "Job", "glance-db-sync", env.ns), timeout=60)
    env.api.merge_patch(
        f"/apis/batch/v1/namespaces/{env.ns}/jobs/glance-db-sync", {"spec": {"activeDeadlineSeconds": 1}}
    )


async def give_load_balancer_address(env: Env) -> None:
    # what a load balancer controller does (none runs in the test cluster)
    env.api.merge_patch(
        f"/api/v1/namespaces/{env.ns}/services/glance-default-internal/status",
        {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}},
    )


async def report_pod_ips(env: Env) -> None:
    # what Multus does: the pod's network-status annotation lists its IP on the attachment
    status = [{"name": f"{env.ns}/{NAD_NAME}", "interface": "net1", "ips": ["172.18.0.10"]}]
    pod = await eventually(lambda: env.api.read("v1", "Pod", f"{CHILD}-0", env.ns), timeout=30)
    env.api.merge_patch(
        env.api.path_of(pod), {"metadata": {"annotations": {"k8s.v1.cni.cncf.io/network-status": json.dumps(status)}}}
    )


# --- objects --------------------------------------------------------------------------------------


def secret(name: str, data: Mapping[str, str]) -> Factory:
    return lambda ns: {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns},
        "stringData": dict(data),
    }


def quota(name: str, resource: str) -> Factory:
    """A ResourceQuota of zero `resource` (e.g. `pods`, `count/cronjobs.batch`): its creation is refused."""
    return lambda ns: {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"hard": {resource: "0"}},
    }


def nad(ns: str) -> Obj:
    config = {"cniVersion": "0.3.1", "name": NAD_NAME, "type": "macvlan", "ipam": {"type": "whereabouts"}}
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": NAD_NAME, "namespace": ns},
        "spec": {"config": json.dumps(config)},
    }


def second_db_service(ns: str) -> Obj:
    """A second Service carrying the database labels (spec 4.6 step 3: exactly one is expected)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "openstack-copy",
            "namespace": ns,
            "labels": {"app": "mariadb", "cr": "mariadb-openstack"},
        },
        "spec": {"ports": [{"name": "database", "port": 3306}], "selector": {"app": "galera"}},
    }


def cinder(ns: str) -> Obj:
    image = "quay.io/podified-antelope-centos9/openstack-cinder-api:current-podified"
    return {
        "apiVersion": "cinder.openstack.org/v1beta1",
        "kind": "Cinder",
        "metadata": {"name": "cinder", "namespace": ns},
        "spec": {
            "cinderAPI": {"containerImage": image},
            "cinderScheduler": {"containerImage": image},
            "databaseInstance": "openstack",
            "memcachedInstance": "memcached",
            "secret": "osp-secret",
        },
    }


def topology(ns: str) -> Obj:
    return {
        "apiVersion": "topology.openstack.org/v1beta1",
        "kind": "Topology",
        "metadata": {"name": "glance-topology", "namespace": ns},
        "spec": {},
    }


def memcached(name: str) -> Factory:
    return lambda ns: {
        "apiVersion": "memcached.openstack.org/v1beta1",
        "kind": "Memcached",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containerImage": "quay.io/podified-antelope-centos9/openstack-memcached:current-podified"},
    }


PEM = "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n"
CERT = {"tls.crt": PEM, "tls.key": "-----BEGIN PRIVATE KEY-----\nMIIBdummy\n-----END PRIVATE KEY-----\n"}
RBD_ONLY = "[DEFAULT]\nenabled_backends = default_backend:rbd\n[glance_store]\ndefault_backend = default_backend\n"
NOWHERE = {"kubernetes.io/hostname": "no-such-node"}


def api_with(**template: Any) -> dict[str, Any]:
    return {"default": {**SINGLE, **template}}


# --- the table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Then:
    status: str
    reason: str
    severity: str
    message: str
    prefix: bool = False  # the message ends with an apiserver error text: match its start

    def matches(self, c: Obj | None) -> bool:
        if c is None:
            return False
        message = c.get("message", "")
        return (c.get("status"), c.get("reason"), c.get("severity", "")) == self.state()[:3] and (
            message.startswith(self.message) if self.prefix else message == self.message
        )

    def state(self) -> tuple[str, str, str, str]:
        return self.status, self.reason, self.severity, self.message


def false(reason: str, severity: str, message: str, prefix: bool = False) -> Then:
    return Then("False", reason, severity, message, prefix)


def unknown(reason: str, message: str) -> Then:
    return Then("Unknown", reason, "", message)


@dataclass(frozen=True)
class Row:
    kind: str  # "Glance" or "GlanceAPI" (the child named `child`)
    condition: str
    then: Then
    fix: Action
    true: str  # the condition's True message
    hold: tuple[str, ...] = ()
    objects: tuple[Factory, ...] = ()
    spec: Mapping[str, Any] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    no_secret: bool = False
    when: Action | None = None  # how the input breaks (None: it is broken from the start)
    after_ready: bool = False  # run `when` once the Glance is Ready
    child: str = CHILD
    glance_sees: str | None = "GlanceAPIReady"  # GlanceAPI rows: the Glance condition showing the same state
    unaffected: bool = False  # §8.2: other conditions keep their lastTransitionTime
    timeout: float = 60.0


def row(id_: str, r: Row) -> Any:
    return pytest.param(r, id=id_)


G, A = "Glance", "GlanceAPI"
REQUESTED, ERROR = "Requested", "Error"
INFO, WARNING = "Info", "Warning"
MEMCACHED_WAIT = " Memcached instance has not been provisioned"
MEMCACHED_TRUE = " Memcached instance has been provisioned"
KS_WAIT = "Keystone Service registration not started"
KE_WAIT = "Keystone Endpoints registration not started"
SINGLE_LAYOUT = "glanceAPI layout type: single can only be used in combination with File and NFS backend"
DBSYNC_FAILED = "DBsync job error occurred Job has reached the specified backoff limit. Check job logs"
NAD_MISSING = f"NetworkAttachment resources missing: {NAD_NAME}"
NAD_NO_IPS = (
    "NetworkAttachments error occurred not all pods have interfaces with ips as configured in NetworkAttachments"
)
WSGI = "glance.openstack.org/wsgi"
WSGI_INVALID = f'metadata.annotations["{WSGI}"]: Invalid value: "maybe": must be "true" or "false"'
LB_PENDING = "Create service error occurred glance-default-internal LoadBalancer IP still pending"
CA, CERT_INTERNAL = "combined-ca-bundle", "cert-glance-default-internal-svc"
EXTRA_CONF = {"extra.conf": "[DEFAULT]\nimage_size_cap = 1000\n"}

# fmt: off
ROWS = [
    # --- Glance (§4) ---------------------------------------------------------------------------
    row("Glance-DBReady-database-held", Row(G, "DBReady", hold=("MariaDBDatabase",),
        then=unknown(REQUESTED, "DB create job still running"),
        fix=release("MariaDBDatabase"), true="DB create completed")),
    row("Glance-DBReady-two-database-services", Row(G, "DBReady", objects=(second_db_service,),
        then=false(ERROR, WARNING, "DB create job error occurred more than one database Service for openstack"),
        fix=delete("v1", "Service", "openstack-copy"), true="DB create completed")),
    row("Glance-DBSyncReady-job-pending", Row(G, "DBSyncReady", spec={"nodeSelector": NOWHERE},
        then=false(REQUESTED, INFO, "DBsync job still running"),
        fix=respec(nodeSelector=None), true="DBsync completed")),
    row("Glance-DBSyncReady-job-failed", Row(G, "DBSyncReady", objects=(quota("no-pods", "pods"),),
        when=fail_db_sync_job,
        then=false(ERROR, WARNING, DBSYNC_FAILED),
        fix=steps(delete("v1", "ResourceQuota", "no-pods"), delete("batch/v1", "Job", "glance-db-sync")),
        true="DBsync completed")),
    row("Glance-MemcachedReady-held", Row(G, "MemcachedReady", hold=("Memcached",),
        then=false(REQUESTED, INFO, MEMCACHED_WAIT),
        fix=release("Memcached"), true=MEMCACHED_TRUE)),
    row("Glance-MemcachedReady-missing", Row(G, "MemcachedReady", spec={"memcachedInstance": "memcached-typo"},
        then=false(ERROR, WARNING, MEMCACHED_WAIT),
        fix=create(memcached("memcached-typo")), true=MEMCACHED_TRUE)),
    row("Glance-InputReady-secret-missing", Row(G, "InputReady", no_secret=True,
        then=false(ERROR, WARNING, "Input data resources missing"),
        fix=create(service_secret), true="Input data complete")),
    row("Glance-InputReady-field-missing", Row(G, "InputReady", no_secret=True,
        objects=(secret("osp-secret", {"NovaPassword": "12345678"}),),
        then=false(ERROR, WARNING, "Input data error occurred field 'GlancePassword' not found in Secret osp-secret"),
        fix=create(secret("osp-secret", {"GlancePassword": "12345678"})), true="Input data complete")),
    row("Glance-InputReady-password-invalid", Row(G, "InputReady", no_secret=True,
        objects=(secret("osp-secret", {"GlancePassword": "pa$(whoami)ss"}),),
        then=false(ERROR, WARNING, "Input data error occurred the password contains '$(', which a shell would expand"),
        fix=create(secret("osp-secret", {"GlancePassword": "good-password"})), true="Input data complete")),
    row("Glance-ServiceConfigReady-wsgi-annotation", Row(G, "ServiceConfigReady", annotations={WSGI: "maybe"},
        then=false(ERROR, WARNING, f"Service config create error occurred {WSGI_INVALID}"),
        fix=unannotate(WSGI), true="Service config create completed")),
    row("Glance-GlanceAPIReady-single-needs-file", Row(G, "GlanceAPIReady", spec={"customServiceConfig": RBD_ONLY},
        then=false(ERROR, WARNING, SINGLE_LAYOUT),
        fix=respec(customServiceConfig=None), true="Setup complete")),
    row("Glance-GlanceAPIReady-child-not-ready", Row(G, "GlanceAPIReady", hold=("KeystoneEndpoint",),
        then=false(REQUESTED, INFO, KE_WAIT),
        fix=release("KeystoneEndpoint"), true="Setup complete")),
    row("Glance-GlanceAPIReady-child-create-error", Row(G, "GlanceAPIReady",
        objects=(quota("no-glanceapis", "count/glanceapis.glance.openstack.org"),),
        then=false(ERROR, WARNING, "GlanceAPI error occured ", prefix=True),
        fix=delete("v1", "ResourceQuota", "no-glanceapis"), true="Setup complete")),
    row("Glance-KeystoneServiceReady-held", Row(G, "KeystoneServiceReady", hold=("KeystoneService",),
        then=false(REQUESTED, INFO, KS_WAIT),
        fix=release("KeystoneService"), true="Setup complete")),
    row("Glance-CronJobReady-create-error", Row(G, "CronJobReady",
        objects=(quota("no-cronjobs", "count/cronjobs.batch"),),
        then=false(ERROR, WARNING, "CronJob error occurred ", prefix=True),
        fix=delete("v1", "ResourceQuota", "no-cronjobs"), true="CronJob completed")),
    row("Glance-NotificationBusInstanceReady-held", Row(G, "NotificationBusInstanceReady",
        spec={"notificationBusInstance": "rabbitmq"}, hold=("TransportURL",),
        then=false(REQUESTED, INFO, "NotificationBusInstance creation in progress"),
        fix=release("TransportURL"), true="NotificationBusInstance successfully created")),
    row("Glance-MariaDBAccountReady-create-error", Row(G, "MariaDBAccountReady",
        objects=(quota("no-accounts", "count/mariadbaccounts.mariadb.openstack.org"),),
        then=false(ERROR, WARNING, "MariaDBAccount is not present: ", prefix=True),
        fix=delete("v1", "ResourceQuota", "no-accounts"), true="MariaDBAccount creation complete")),
    row("Glance-NetworkAttachmentsReady-nad-missing", Row(G, "NetworkAttachmentsReady",
        spec={"glanceAPIs": api_with(replicas=0, networkAttachments=[NAD_NAME])},
        then=false(ERROR, WARNING, NAD_MISSING),
        fix=create(nad), true="NetworkAttachments completed")),
    # --- GlanceAPI (§5) ------------------------------------------------------------------------
    row("GlanceAPI-CinderReady-no-cinder", Row(A, "CinderReady", child="glance-default-edge",
        spec={"glanceAPIs": {"default": {"type": "edge", "replicas": 1}}, "customServiceConfig": CINDER_CONFIG},
        then=false(REQUESTED, INFO, "Waiting for Cinder resources"),
        fix=create(cinder), true="Cinder resources exist")),
    row("GlanceAPI-MemcachedReady-held", Row(A, "MemcachedReady", after_ready=True, when=hold("Memcached"),
        glance_sees="MemcachedReady",
        then=false(REQUESTED, INFO, MEMCACHED_WAIT),
        fix=release("Memcached"), true=MEMCACHED_TRUE)),
    row("GlanceAPI-CreateServiceReady-lb-pending", Row(A, "CreateServiceReady",
        spec={"glanceAPIs": api_with(override={"service": {"internal": {"spec": {"type": "LoadBalancer"}}}})},
        then=false(ERROR, WARNING, LB_PENDING),
        fix=give_load_balancer_address, true="Create service completed")),
    row("GlanceAPI-InputReady-secret-deleted", Row(A, "InputReady", after_ready=True,
        when=delete("v1", "Secret", "osp-secret"), glance_sees="InputReady",
        then=false(ERROR, WARNING, "Input data resources missing"),
        fix=create(service_secret), true="Input data complete")),
    row("GlanceAPI-ServiceConfigReady-config-secret-missing", Row(A, "ServiceConfigReady",
        spec={"glanceAPIs": api_with(customServiceConfigSecrets=["glance-extra"])},
        then=false(ERROR, WARNING, "Service config create error occurred Secret glance-extra not found"),
        fix=create(secret("glance-extra", EXTRA_CONF)), true="Service config create completed")),
    row("GlanceAPI-ServiceConfigReady-cache-size-invalid", Row(A, "ServiceConfigReady",
        spec={"imageCache": {"size": "lots"}},
        then=false(ERROR, WARNING, "Service config create error occurred 'lots' is not a Kubernetes quantity (e.g. 10G, 500Mi)"),
        fix=respec(imageCache={"size": ""}), true="Service config create completed")),
    row("GlanceAPI-DeploymentReady-pods-unschedulable", Row(A, "DeploymentReady",
        spec={"glanceAPIs": api_with(nodeSelector=NOWHERE)},
        then=false(REQUESTED, INFO, "Deployment in progress"),
        fix=respec(glanceAPIs=api_with()), true="Deployment completed")),
    row("GlanceAPI-TLSInputReady-ca-bundle-missing", Row(A, "TLSInputReady",
        spec={"glanceAPIs": api_with(tls={"caBundleSecretName": CA})},
        then=false(ERROR, WARNING, f"TLSInput is missing: {CA}"),
        fix=create(secret(CA, {"tls-ca-bundle.pem": PEM})), true="Input data complete")),
    row("GlanceAPI-TLSInputReady-cert-missing", Row(A, "TLSInputReady",
        spec={"glanceAPIs": api_with(tls={"api": {"internal": {"secretName": CERT_INTERNAL}}})},
        then=false(REQUESTED, INFO, f"TLSInput is missing: {CERT_INTERNAL}"),
        fix=create(secret(CERT_INTERNAL, CERT)), true="Input data complete")),
    row("GlanceAPI-KeystoneEndpointReady-held", Row(A, "KeystoneEndpointReady", after_ready=True,
        when=hold("KeystoneEndpoint"), unaffected=True,
        then=false(REQUESTED, INFO, KE_WAIT),
        fix=release("KeystoneEndpoint"), true="Setup complete")),
    row("GlanceAPI-NetworkAttachmentsReady-nad-deleted", Row(A, "NetworkAttachmentsReady", after_ready=True,
        spec={"glanceAPIs": api_with(replicas=0, networkAttachments=[NAD_NAME])}, objects=(nad,),
        when=delete("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition", NAD_NAME),
        glance_sees="NetworkAttachmentsReady",
        then=false(ERROR, WARNING, NAD_MISSING),
        fix=create(nad), true="NetworkAttachments completed")),
    row("GlanceAPI-NetworkAttachmentsReady-no-pod-ips", Row(A, "NetworkAttachmentsReady",
        spec={"glanceAPIs": api_with(networkAttachments=[NAD_NAME])}, objects=(nad,),
        then=false(ERROR, WARNING, f"{NAD_NO_IPS}: [{NAD_NAME}]"),
        fix=report_pod_ips, true="NetworkAttachments completed")),
    row("GlanceAPI-TopologyReady-topology-missing", Row(A, "TopologyReady",
        spec={"topologyRef": {"name": "glance-topology"}},
        then=false(ERROR, WARNING, "Topology config create error occurred Topology glance-topology not found"),
        fix=create(topology), true="Topology config create completed")),
]
# fmt: on


# --- checks ---------------------------------------------------------------------------------------


def current(obj: Obj | None) -> bool:
    """status.observedGeneration == metadata.generation (what openstack-operator checks first)."""
    return obj is not None and (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"]


def state(c: Obj | None) -> tuple[str, str, str, str]:
    c = c or {}
    return c.get("status", ""), c.get("reason", ""), c.get("severity", ""), c.get("message", "")


def summary(obj: Obj | None) -> list[str]:
    return [
        "{}={}/{}/{}: {}".format(c["type"], *state(c))
        for c in ((obj or {}).get("status") or {}).get("conditions") or []
    ]


def stamps(obj: Obj) -> dict[str, tuple[Any, ...]]:
    return {c["type"]: (*state(c), c.get("lastTransitionTime")) for c in obj["status"]["conditions"]}


def moved(before: Obj, after: Obj) -> set[str]:
    """Condition types whose state or lastTransitionTime differ between two reads."""
    old, new = stamps(before), stamps(after)
    return {t for t in old.keys() | new.keys() if old.get(t) != new.get(t)}


def kept_true(before: Obj, after: Obj) -> set[str]:
    """Sub-conditions True, with the same message, in both reads."""
    old, new = stamps(before), stamps(after)
    return {t for t in old.keys() & new.keys() if t != "Ready" and old[t][0] == "True" and old[t][:4] == new[t][:4]}


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("r", ROWS)
async def test_condition_transition(r: Row, api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    ns = namespace
    names = {G: "glance", A: r.child}

    def read(kind: str) -> Obj | None:
        return api.read(GLANCE_V, kind, names[kind], ns)

    def ready(kind: str) -> Callable[[], Obj | None]:
        return lambda: is_ready(api, kind, names[kind], ns)

    def showing(kind: str, types: tuple[str, ...]) -> Callable[[], Obj | None]:
        def check() -> Obj | None:
            obj = read(kind)
            return obj if current(obj) and all(r.then.matches(condition(obj, t)) for t in types) else None

        return check

    def describe() -> dict[str, list[str]]:
        return {f"{kind} {names[kind]}": summary(read(kind)) for kind in dict.fromkeys((G, r.kind))}

    async with running_operator(kubeconfig, ns, hold=r.hold) as (_manager, deps):
        env = Env(api, deps, ns, dict(r.spec), dict(r.annotations))
        # given
        for make in r.objects:
            api.apply(make(ns))
        if not r.no_secret:
            api.apply(service_secret(ns))
        env.apply_glance()
        before: dict[str, Obj] = {}
        if r.after_ready:
            for kind in dict.fromkeys((G, r.kind)):
                before[kind] = await eventually(ready(kind), timeout=90, describe=describe)
        if r.unaffected:
            latest = max(c["lastTransitionTime"] for obj in before.values() for c in obj["status"]["conditions"])
            await eventually(lambda: utc_now() > latest, timeout=5)  # from now on a moved time is visible
        if r.when is not None:
            await r.when(env)

        # then: the condition says exactly what is wrong, Ready mirrors it (§8.3), the generation is current
        failing = await eventually(showing(r.kind, (r.condition, "Ready")), timeout=r.timeout, describe=describe)
        assert state(condition(failing, "Ready")) == state(condition(failing, r.condition))
        assert failing["status"]["observedGeneration"] == failing["metadata"]["generation"]
        glance_failing: Obj = {}
        if r.kind == A and r.glance_sees:
            # and the owning Glance shows the same state, up to its own Ready (§4.10 step 8)
            glance_failing = await eventually(showing(G, (r.glance_sees, "Ready")), timeout=30, describe=describe)
        if r.unaffected:
            # §8.2: only the conditions that changed state got a new lastTransitionTime
            assert moved(before[r.kind], failing) == {"Ready", r.condition}, describe()
            if r.kind == A:
                assert moved(before[G], glance_failing) == {"Ready", r.glance_sees}, describe()

        # when the input is fixed
        await r.fix(env)

        # then the condition turns True with its True message, and the resource and its Glance are Ready
        def healed() -> Obj | None:
            obj = ready(r.kind)()
            return obj if state(condition(obj, r.condition)) == ("True", "Ready", "", r.true) else None

        healthy = await eventually(healed, timeout=90, describe=describe)
        glance_healthy = await eventually(ready(G), timeout=60, describe=describe)
        # §8.2 in every row: a condition that was already True while the input was broken kept its time
        # a GlanceAPI decides these only once its StatefulSet has observed the latest spec: while a rollout
        # catches up they are legitimately Unknown for a pass, so True -> Unknown -> True moves their time
        after_rollout = {"NetworkAttachmentsReady", "CronJobReady"} if r.kind == A else set()
        stable = kept_true(failing, healthy) - after_rollout
        assert not stable & moved(failing, healthy), (stamps(failing), stamps(healthy))
        if r.unaffected:
            assert moved(before[r.kind], healthy) == {"Ready", r.condition}, describe()
            if r.kind == A:
                assert moved(before[G], glance_healthy) == {"Ready", r.glance_sees}, describe()
