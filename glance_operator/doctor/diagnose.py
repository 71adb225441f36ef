"""Why is a Glance not Ready? Pure functions over a snapshot of the namespace (see snapshot.py).

For each Glance and GlanceAPI whose Ready condition is not True, `diagnose` walks from Ready down
to the first blocking cause it can name and suggests a fix. Checks run in the order the
controllers reconcile (Glance: input, memcached, bus, database, keystone, db-sync, APIs; GlanceAPI:
input, memcached, cinder, TLS, network attachments, service config inputs, topology, services,
PVCs, pods, keystone endpoint), so the first finding is what blocks progress; a generic finding
from the conditions is the fallback.

Snapshot shape: {"namespace": str, "objects": {kind: [obj, ...]}, "unreadable": [kind, ...],
"logs": {"pod/container": [line, ...]}, "log_errors": {"pod/container": why the log could not be read}}.
Secret values are never in a snapshot: only their keys (the reader blanks the values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

Obj = dict[str, Any]
Snapshot = dict[str, Any]


@dataclass
class Finding:
    cause: str
    fix: str
    chain: list[str] = field(default_factory=list)  # intermediate links, Ready first


@dataclass
class Report:
    kind: str
    name: str
    ready: bool
    message: str
    chain: list[str] = field(default_factory=list)
    cause: str = ""
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- snapshot helpers -----------------------------------------------------------------------------


def objects(snap: Snapshot, kind: str) -> list[Obj]:
    found: list[Obj] = (snap.get("objects") or {}).get(kind) or []
    return found


def get(snap: Snapshot, kind: str, name: str) -> Obj | None:
    return next((o for o in objects(snap, kind) if o["metadata"]["name"] == name), None)


def conditions(obj: Obj | None) -> list[Obj]:
    found: list[Obj] = ((obj or {}).get("status") or {}).get("conditions") or []
    return found


def condition(obj: Obj | None, type_: str) -> Obj | None:
    return next((c for c in conditions(obj) if c.get("type") == type_), None)


def is_ready(obj: Obj | None) -> bool:
    c = condition(obj, "Ready")
    return bool(c and c.get("status") == "True")


def ready_message(obj: Obj | None) -> str:
    c = condition(obj, "Ready")
    return ((c or {}).get("message") or "no Ready condition yet").strip()


def first_not_true(obj: Obj) -> Obj | None:
    """The condition that blocks: the first False one after Ready, else the first Unknown one."""
    rest = [c for c in conditions(obj) if c.get("type") != "Ready"]
    return next((c for c in rest if c.get("status") == "False"), None) or next(
        (c for c in rest if c.get("status") != "True"), None
    )


def _link(c: Obj) -> str:
    return f"{c['type']}={c['status']}: {(c.get('message') or '').strip()}"


def warnings_for(snap: Snapshot, kind: str, name: str) -> list[Obj]:
    evs = [
        e
        for e in objects(snap, "Event")
        if (e.get("involvedObject") or {}).get("kind") == kind
        and (e.get("involvedObject") or {}).get("name") == name
        and e.get("type") == "Warning"
    ]
    return sorted(evs, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "", reverse=True)


def last_warning(snap: Snapshot, kind: str, name: str) -> str:
    evs = warnings_for(snap, kind, name)
    return f"{evs[0].get('reason')}: {evs[0].get('message', '').strip()}" if evs else ""


def _dep_not_ready(snap: Snapshot, kind: str, name: str, operator: str, fix_missing: str) -> Finding | None:
    obj = get(snap, kind, name)
    if obj is None:
        return Finding(f"{kind} {name} not found", fix_missing)
    if not is_ready(obj):
        return Finding(
            f"{kind} {name} is not Ready: the {operator} operator reports {ready_message(obj)!r}",
            f"check the {operator} operator and `kubectl describe {kind.lower()} {name}`",
        )
    return None


# --- where a GlanceAPI setting comes from -------------------------------------------------------------


def dig(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def owner_glance(snap: Snapshot, api: Obj) -> Obj | None:
    for o in api["metadata"].get("ownerReferences") or []:
        if o.get("kind") == "Glance":
            return get(snap, "Glance", o.get("name", ""))
    return None


def where(snap: Snapshot, api: Obj, path: str, inherited: bool = False) -> str:
    """The field a user edits for a GlanceAPI setting: its Glance's template (or, for settings a template
    inherits, the Glance's own spec), else the GlanceAPI's spec."""
    g = owner_glance(snap, api)
    key = (api["metadata"].get("labels") or {}).get("api-name")
    if g is not None and key:
        spec = g.get("spec") or {}
        if dig((spec.get("glanceAPIs") or {}).get(key), path) or not (inherited and dig(spec, path)):
            return f"spec.glanceAPIs.{key}.{path} of Glance {g['metadata']['name']}"
        return f"spec.{path} of Glance {g['metadata']['name']}"
    return f"spec.{path} of GlanceAPI {api['metadata']['name']}"


def readable(snap: Snapshot, kind: str) -> bool:
    """False when the snapshot could not list `kind` (CRD absent or forbidden): absence proves nothing."""
    return kind not in (snap.get("unreadable") or [])


def secret_problem(snap: Snapshot, name: str, keys: tuple[str, ...], field_: str) -> Finding | None:
    secret = get(snap, "Secret", name)
    if secret is None:
        return Finding(
            f"Secret {name} not found (named in {field_})",
            f"create Secret {name} in {snap.get('namespace')} with {', '.join(keys)}, or fix {field_}",
        )
    missing = [k for k in keys if k not in (secret.get("data") or {})]
    if missing:
        return Finding(f"Secret {name} has no key {missing[0]}", f"add {', '.join(missing)} to Secret {name}")
    return None


# --- Glance checks ----------------------------------------------------------------------------------

Check = Callable[[Snapshot, Obj], Finding | None]


def check_secret(snap: Snapshot, g: Obj) -> Finding | None:
    spec = g.get("spec") or {}
    name = spec.get("secret") or "osp-secret"
    key = (spec.get("passwordSelectors") or {}).get("service") or "GlancePassword"
    secret = get(snap, "Secret", name)
    if secret is None:
        return Finding(f"Secret {name} not found", f"create Secret {name} with key {key}, or fix spec.secret")
    if key not in (secret.get("data") or {}) and key not in (secret.get("stringData") or {}):
        return Finding(
            f"Secret {name} has no key {key}",
            f"add {key} to Secret {name} (or fix spec.passwordSelectors.service)",
        )
    return None


def check_memcached(snap: Snapshot, g: Obj) -> Finding | None:
    name = (g.get("spec") or {}).get("memcachedInstance") or "memcached"
    return _dep_not_ready(snap, "Memcached", name, "infra (memcached)", "create it or fix spec.memcachedInstance")


def check_bus(snap: Snapshot, g: Obj) -> Finding | None:
    spec = g.get("spec") or {}
    bus = spec.get("notificationsBus") or {}
    cluster = bus.get("cluster") or spec.get("notificationBusInstance")
    if not cluster:
        return None
    field_ = "spec.notificationsBus.cluster" if bus.get("cluster") else "spec.notificationBusInstance"
    name = f"{g['metadata']['name']}-glance-transport"
    obj = get(snap, "TransportURL", name)
    if obj is None or (is_ready(obj) and (obj.get("status") or {}).get("secretName")):
        return None  # not created yet (the operator's log says why), or done
    if is_ready(obj):
        cause = f"TransportURL {name} is Ready but has no status.secretName"
    else:
        cause = f"TransportURL {name} is not Ready: the infra (rabbitmq) operator reports {ready_message(obj)!r}"
    if readable(snap, "RabbitMq") and get(snap, "RabbitMq", cluster) is None:
        return Finding(
            f"{cause}; RabbitMq {cluster} not found",
            f"create RabbitMq {cluster} in {snap.get('namespace')} or fix {field_}",
        )
    return Finding(
        cause,
        f"check RabbitMq {cluster} (from {field_}) and the infra operator (`kubectl describe transporturl {name}`)",
    )


def check_database(snap: Snapshot, g: Obj) -> Finding | None:
    account = (g.get("spec") or {}).get("databaseAccount") or "glance"
    for kind, name in (("MariaDBDatabase", "glance"), ("MariaDBAccount", account)):  # the account waits for the DB
        obj = get(snap, kind, name)
        if obj is not None and not is_ready(obj):
            instance = (g.get("spec") or {}).get("databaseInstance")
            return Finding(
                f"{kind} {name} is not Ready: the mariadb operator reports {ready_message(obj)!r}",
                f"check Galera {instance} and the mariadb operator (`kubectl describe {kind.lower()} {name}`)",
            )
    return None


def check_network_attachments(snap: Snapshot, g: Obj) -> Finding | None:
    wanted: list[str] = []
    if g.get("kind") == "Glance":
        for api in ((g.get("spec") or {}).get("glanceAPIs") or {}).values():
            wanted += (api or {}).get("networkAttachments") or []
    else:
        wanted = (g.get("spec") or {}).get("networkAttachments") or []
    for nad in dict.fromkeys(wanted):
        if get(snap, "NetworkAttachmentDefinition", nad) is None:
            return Finding(
                f"NetworkAttachmentDefinition {nad} not found",
                f"create NetworkAttachmentDefinition {nad} in {snap.get('namespace')}"
                " or remove it from networkAttachments",
            )
    return None


def keystone_api_problem(snap: Snapshot) -> Finding | None:
    """Glance needs exactly one KeystoneAPI in its namespace (the keystone operator's rule too)."""
    ns = snap.get("namespace")
    kapis = objects(snap, "KeystoneAPI")
    if not kapis:
        return Finding(
            "KeystoneAPI not found",
            f"deploy Keystone (one KeystoneAPI) in {ns}: Glance registers its service, endpoints and user there",
        )
    if len(kapis) > 1:
        found = ", ".join(sorted(k["metadata"]["name"] for k in kapis))
        return Finding(
            f"{len(kapis)} KeystoneAPIs in {ns} ({found}); exactly one is needed",
            f"delete the KeystoneAPIs that are not this control plane's from {ns}",
        )
    return None


def check_keystone_service(snap: Snapshot, g: Obj) -> Finding | None:
    obj = get(snap, "KeystoneService", "glance")
    if obj is None or is_ready(obj):
        return None
    link = f"KeystoneService glance Ready=False: {ready_message(obj)}"
    found = keystone_api_problem(snap)
    if found is not None:
        return Finding(found.cause, found.fix, [link])
    kapi = objects(snap, "KeystoneAPI")[0]
    if not is_ready(kapi):
        name = kapi["metadata"]["name"]
        return Finding(
            f"KeystoneAPI {name} is not Ready: the keystone operator reports {ready_message(kapi)!r}",
            f"check the keystone operator (`kubectl describe keystoneapi {name}`)",
            [link],
        )
    return Finding(
        f"KeystoneService glance is not Ready: the keystone operator reports {ready_message(obj)!r}",
        "check the keystone operator (`kubectl describe keystoneservice glance`)",
    )


BAD_WAITING = (
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
)


def pod_problem(snap: Snapshot, pod: Obj) -> Finding | None:
    """A container that cannot start or keeps crashing, or a pod that cannot be scheduled."""
    ns, pname = snap.get("namespace"), pod["metadata"]["name"]
    status = pod.get("status") or {}
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        waiting = state.get("waiting") or {}
        exited = state.get("terminated") or {}
        if waiting.get("reason") in BAD_WAITING:
            reason = waiting["reason"]
        elif exited and exited.get("exitCode", 0) != 0:
            reason = f"exited with code {exited.get('exitCode')}"
        else:
            continue
        details = [waiting["message"].strip()] if waiting.get("message") else []
        last = (cs.get("lastState") or {}).get("terminated") or {}
        if last:
            details.append(
                f"last exit code {last.get('exitCode')}" + (f" ({last['reason']})" if last.get("reason") else "")
            )
        if cs.get("restartCount"):
            details.append(f"{cs['restartCount']} restarts")
        key = f"{pname}/{cs['name']}"
        lines = (snap.get("logs") or {}).get(key) or []
        if lines:
            details.append(f"last log line: {lines[-1]}")
        elif key in (snap.get("log_errors") or {}):
            details.append(f"its log could not be read ({snap['log_errors'][key]})")
        cause = f"Pod {pname} container {cs['name']} {reason}" + (f": {'; '.join(details)}" if details else "")
        if reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
            fix = f"check the image {cs.get('image', '')!r} (spec.containerImage) and the registry's pull access"
        elif reason == "CreateContainerConfigError":
            fix = f"a Secret or ConfigMap the pod uses is missing: see `kubectl describe pod -n {ns} {pname}`"
        else:
            fix = (
                f"read why it exits: `kubectl logs -n {ns} {pname} -c {cs['name']} --previous`; usual causes are "
                "customServiceConfig, customServiceConfigSecrets, backend credentials and the CA bundle"
            )
        return Finding(cause, fix)
    if status.get("phase") == "Pending":
        sched = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        if sched and sched.get("status") == "False":
            return Finding(
                f"Pod {pname} unschedulable: {sched.get('message', '')}".rstrip(": "),
                "check nodeSelector, topologyRef and node capacity",
            )
    return None


def job_failure(snap: Snapshot, job: Obj) -> Finding | None:
    name = job["metadata"]["name"]
    pods = [p for p in objects(snap, "Pod") if (p["metadata"].get("labels") or {}).get("job-name") == name]
    failed = next(
        (c for c in conditions(job) if c.get("type") == "Failed" and c.get("status") == "True"),
        None,
    )
    if failed is None:  # still running: say so if its pod cannot run
        for pod in pods:
            found = pod_problem(snap, pod)
            if found is not None:
                return Finding(f"{name} Job cannot run: {found.cause}", found.fix)
        return None
    detail = f"{failed.get('reason', '')}: {failed.get('message', '')}".strip(": ")
    for pod in pods:
        for key, lines in (snap.get("logs") or {}).items():
            if key.startswith(pod["metadata"]["name"] + "/") and lines:
                detail = lines[-1]
    # the newest Warning saying something the condition does not (e.g. why no pod could be created)
    other = [e for e in warnings_for(snap, "Job", name) if (e.get("message") or "").strip() != failed.get("message")]
    if other:
        detail += f" (last event {other[0].get('reason')}: {(other[0].get('message') or '').strip()})"
    return Finding(
        f"{name} Job failed: {detail}",
        f"fix the cause, then delete Job {name}; the operator re-runs it",
    )


def check_db_sync(snap: Snapshot, g: Obj) -> Finding | None:
    job = get(snap, "Job", "glance-db-sync")
    return job_failure(snap, job) if job else None


def check_apis(snap: Snapshot, g: Obj) -> Finding | None:
    for api in objects(snap, "GlanceAPI"):
        owners = api["metadata"].get("ownerReferences") or []
        if not any(o.get("kind") == "Glance" and o.get("name") == g["metadata"]["name"] for o in owners):
            continue
        if is_ready(api):
            continue
        report = diagnose_api(snap, api)
        if report.cause:
            link = f"GlanceAPI {api['metadata']['name']} Ready=False: {report.message}"
            return Finding(report.cause, report.fix, [link, *report.chain])
    return None


# each check with the condition it explains (the chain's first link when that condition is not True)
GLANCE_CHECKS: list[tuple[Check, str]] = [
    (check_secret, "InputReady"),
    (check_memcached, "MemcachedReady"),
    (check_bus, "NotificationBusInstanceReady"),
    (check_database, "DBReady"),
    (check_network_attachments, "NetworkAttachmentsReady"),
    (check_keystone_service, "KeystoneServiceReady"),
    (check_db_sync, "DBSyncReady"),
    (check_apis, "GlanceAPIReady"),
]


# --- GlanceAPI checks ---------------------------------------------------------------------------------


def _statefulset_pods(snap: Snapshot, api: Obj) -> list[Obj]:
    name = api["metadata"]["name"]
    sts_names = {name, f"{name}-api"}
    return [
        p
        for p in objects(snap, "Pod")
        if any(
            o.get("kind") == "StatefulSet" and o.get("name") in sts_names
            for o in p["metadata"].get("ownerReferences") or []
        )
    ]


def _not_true(api: Obj, type_: str) -> bool:
    c = condition(api, type_)
    return c is not None and c.get("status") != "True"


def check_cinder(snap: Snapshot, api: Obj) -> Finding | None:
    c = condition(api, "CinderReady")
    if c is None or c.get("status") != "False" or not readable(snap, "Cinder") or objects(snap, "Cinder"):
        return None
    return Finding(
        f"no Cinder in {snap.get('namespace')}: the cinder backend in customServiceConfig needs one",
        f"deploy Cinder (a Cinder CR) in {snap.get('namespace')}, or change enabled_backends in "
        + where(snap, api, "customServiceConfig", inherited=True),
    )


def check_tls(snap: Snapshot, api: Obj) -> Finding | None:
    tls = (api.get("spec") or {}).get("tls") or {}
    ca = tls.get("caBundleSecretName")
    if ca:
        found = secret_problem(snap, ca, ("tls-ca-bundle.pem",), where(snap, api, "tls.caBundleSecretName"))
        if found is not None:
            return found
    for endpoint in ("internal", "public"):
        name = dig(tls, f"api.{endpoint}.secretName")
        if name:
            field_ = where(snap, api, f"tls.api.{endpoint}.secretName")
            found = secret_problem(snap, name, ("tls.crt", "tls.key"), field_)
            if found is not None:
                return found
    return None


def check_keystone_api(snap: Snapshot, api: Obj) -> Finding | None:
    found = keystone_api_problem(snap)
    if found is not None or not _not_true(api, "ServiceConfigReady"):
        return found
    kapi = objects(snap, "KeystoneAPI")[0]
    endpoints = (kapi.get("status") or {}).get("apiEndpoints") or {}
    if endpoints.get("internal") and endpoints.get("public"):
        return None
    name = kapi["metadata"]["name"]
    return Finding(
        f"KeystoneAPI {name} has not published its internal and public endpoints: the keystone operator reports "
        f"{ready_message(kapi)!r}",
        f"check the keystone operator (`kubectl describe keystoneapi {name}`)",
    )


def check_application_credential(snap: Snapshot, api: Obj) -> Finding | None:
    name = dig(api.get("spec"), "auth.applicationCredentialSecret")
    if not name:
        return None
    return secret_problem(snap, name, ("AC_ID", "AC_SECRET"), where(snap, api, "auth.applicationCredentialSecret"))


def check_config_secrets(snap: Snapshot, api: Obj) -> Finding | None:
    names = (api.get("spec") or {}).get("customServiceConfigSecrets") or []
    field_ = where(snap, api, "customServiceConfigSecrets", inherited=True)
    for name in names:
        if get(snap, "Secret", name) is None:
            return Finding(
                f"Secret {name} not found (named in {field_})",
                f"create Secret {name} in {snap.get('namespace')} with the extra config, or remove it from {field_}",
            )
    # the operator checks their options before any pod gets them; its message names the Secret and key
    c = condition(api, "ServiceConfigReady")
    message = ((c or {}).get("message") or "").removeprefix("Service config create error occurred ")
    if c is not None and c.get("status") == "False" and any(f"Secret {n} key " in message for n in names):
        return Finding(
            f"invalid options in customServiceConfigSecrets: {message}",
            "fix the option names in those Secrets (values are never shown)",
        )
    return None


def check_topology(snap: Snapshot, api: Obj) -> Finding | None:
    ref = (api.get("spec") or {}).get("topologyRef") or {}
    if ref.get("name") and get(snap, "Topology", ref["name"]) is None:
        field_ = where(snap, api, "topologyRef", inherited=True)
        return Finding(
            f"Topology {ref['name']} not found (named in {field_})",
            f"create Topology {ref['name']} in {snap.get('namespace')}, or fix or remove {field_}",
        )
    return None


def check_services(snap: Snapshot, api: Obj) -> Finding | None:
    if not _not_true(api, "CreateServiceReady"):
        return None
    name = api["metadata"]["name"]
    for svc in objects(snap, "Service"):
        labels = svc["metadata"].get("labels") or {}
        if labels.get("owner") != name or (svc.get("spec") or {}).get("type") != "LoadBalancer":
            continue
        if not dig(svc.get("status"), "loadBalancer.ingress"):
            endpoint = labels.get("endpoint", "<endpoint>")
            return Finding(
                f"Service {svc['metadata']['name']} is type LoadBalancer and has no address yet",
                "check the load balancer controller (e.g. MetalLB) and its address pools, or change "
                + where(snap, api, f"override.service.{endpoint}.spec.type"),
            )
    return None


def check_pvcs(snap: Snapshot, api: Obj) -> Finding | None:
    classes = {sc["metadata"]["name"] for sc in objects(snap, "StorageClass")}
    defaults = [
        sc
        for sc in objects(snap, "StorageClass")
        if (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    ]
    sts = api["metadata"]["name"]
    for pvc in objects(snap, "PersistentVolumeClaim"):
        name = pvc["metadata"]["name"]
        if not (name.startswith(f"glance-{sts}-") or name.startswith(f"glance-cache-{sts}-")):
            continue
        if (pvc.get("status") or {}).get("phase") == "Bound":
            continue
        wanted = (pvc.get("spec") or {}).get("storageClassName")
        if wanted and wanted not in classes:
            return Finding(
                f"PVC {name} Pending: no StorageClass {wanted!r}",
                f"create StorageClass {wanted!r} or set spec.storage.storageClass to one of {sorted(classes)}",
            )
        if not wanted and not defaults:
            return Finding(f"PVC {name} Pending: no default StorageClass", "set spec.storage.storageClass")
        warning = last_warning(snap, "PersistentVolumeClaim", name)
        return Finding(
            f"PVC {name} Pending" + (f": {warning}" if warning else ""),
            "check the provisioner of the StorageClass",
        )
    return None


def check_pods(snap: Snapshot, api: Obj) -> Finding | None:
    pods = sorted(_statefulset_pods(snap, api), key=lambda p: p["metadata"]["name"])
    for pod in pods:
        found = pod_problem(snap, pod)
        if found is not None:
            return found
    # pods that were never created: the apiserver refused them (quota, LimitRange, Pod Security admission)
    name = api["metadata"]["name"]
    for sts in objects(snap, "StatefulSet"):
        sname = sts["metadata"]["name"]
        if sname not in (name, f"{name}-api") or len(pods) >= ((sts.get("spec") or {}).get("replicas") or 0):
            continue
        refused = [e for e in warnings_for(snap, "StatefulSet", sname) if e.get("reason") == "FailedCreate"]
        if refused:
            return Finding(
                f"StatefulSet {sname} cannot create pods: {(refused[0].get('message') or '').strip()}",
                f"lift what refuses the pod (a ResourceQuota, LimitRange or Pod Security level of namespace "
                f"{snap.get('namespace')}); the StatefulSet retries by itself",
            )
    return None


def check_endpoint(snap: Snapshot, api: Obj) -> Finding | None:
    name = api["metadata"]["name"]
    obj = get(snap, "KeystoneEndpoint", name)
    if obj is not None and not is_ready(obj):
        return Finding(
            f"KeystoneEndpoint {name} is not Ready: the keystone operator reports {ready_message(obj)!r}",
            f"check the keystone operator (`kubectl describe keystoneendpoint {name}`) and KeystoneAPI",
        )
    return None


# in the order the GlanceAPI controller reconciles
API_CHECKS: list[tuple[Check, str]] = [
    (check_secret, "InputReady"),
    (check_memcached, "MemcachedReady"),
    (check_cinder, "CinderReady"),
    (check_tls, "TLSInputReady"),
    (check_network_attachments, "NetworkAttachmentsReady"),
    (check_keystone_api, "ServiceConfigReady"),
    (check_application_credential, "ServiceConfigReady"),
    (check_config_secrets, "ServiceConfigReady"),
    (check_topology, "TopologyReady"),
    (check_services, "CreateServiceReady"),
    (check_pvcs, "DeploymentReady"),
    (check_pods, "DeploymentReady"),
    (check_endpoint, "KeystoneEndpointReady"),
]


# --- entry points -------------------------------------------------------------------------------------


def _run(snap: Snapshot, obj: Obj, checks: list[tuple[Check, str]]) -> Report:
    kind, name = obj["kind"], obj["metadata"]["name"]
    report = Report(kind, name, is_ready(obj), ready_message(obj))
    if report.ready:
        return report
    blocking = first_not_true(obj)
    for check, explains in checks:
        found = check(snap, obj)
        if found is not None:
            c = condition(obj, explains)
            c = c if c is not None and c.get("status") != "True" else blocking
            report.chain = ([_link(c)] if c else []) + found.chain
            report.cause, report.fix = found.cause, found.fix
            return report
    if blocking is not None:
        report.chain.append(_link(blocking))
    # nothing specific: say what the conditions and the newest warning say
    warning = last_warning(snap, kind, name)
    report.cause = warning or (report.chain[-1] if report.chain else report.message)
    report.fix = f"see `kubectl describe {kind.lower()} {name}` and the operator log"
    return report


def diagnose_glance(snap: Snapshot, glance: Obj) -> Report:
    return _run(snap, glance, GLANCE_CHECKS)


def diagnose_api(snap: Snapshot, api: Obj) -> Report:
    return _run(snap, api, API_CHECKS)


def diagnose(snap: Snapshot, name: str | None = None) -> list[Report]:
    """Reports for every Glance (or the named one) and every GlanceAPI, Glances first."""
    out: list[Report] = []
    for g in objects(snap, "Glance"):
        if name is None or g["metadata"]["name"] == name:
            out.append(diagnose_glance(snap, g))
    for api in objects(snap, "GlanceAPI"):
        owners = {o.get("name") for o in api["metadata"].get("ownerReferences") or [] if o.get("kind") == "Glance"}
        if name is None or name in owners or api["metadata"]["name"] == name:
            out.append(diagnose_api(snap, api))
    return out


def format_text(reports: list[Report]) -> str:
    if not reports:
        return "no Glance or GlanceAPI found\n"
    lines: list[str] = []
    for r in reports:
        if r.ready:
            lines.append(f"{r.kind} {r.name}: Ready")
            continue
        lines.append(f"{r.kind} {r.name}: Ready=False: {r.message}")
        for i, link in enumerate(r.chain):
            lines.append("  " * (i + 1) + f"-> {link}")
        lines.append("  " * (len(r.chain) + 1) + f"=> cause: {r.cause}")
        lines.append("  " * (len(r.chain) + 1) + f"   fix:   {r.fix}")
    return "\n".join(lines) + "\n"
