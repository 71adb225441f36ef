"""Why is a Glance not Ready? Pure functions over a snapshot of the namespace (see snapshot.py).

For each Glance and GlanceAPI whose Ready condition is not True, `diagnose` walks from Ready down
to the first blocking cause it can name and suggests a fix. Checks run in the order the
controllers reconcile (input, memcached, bus, database, keystone, db-sync, APIs, pods), so the
first finding is what blocks progress; a generic finding from the conditions is the fallback.

Snapshot shape: {"namespace": str, "objects": {kind: [obj, ...]}, "logs": {"pod/container": [line, ...]}}.
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
    if not spec.get("notificationBusInstance") and not spec.get("notificationsBus"):
        return None
    name = f"{g['metadata']['name']}-glance-transport"
    obj = get(snap, "TransportURL", name)
    if obj is not None and not is_ready(obj):
        return Finding(
            f"TransportURL {name} is not Ready: the infra (rabbitmq) operator reports {ready_message(obj)!r}",
            "check that the RabbitMQ cluster named in spec.notificationBusInstance exists and is Ready",
        )
    return None


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


def check_keystone_service(snap: Snapshot, g: Obj) -> Finding | None:
    obj = get(snap, "KeystoneService", "glance")
    if obj is not None and not is_ready(obj):
        return Finding(
            f"KeystoneService glance is not Ready: the keystone operator reports {ready_message(obj)!r}",
            "check KeystoneAPI and the keystone operator",
        )
    return None


def job_failure(snap: Snapshot, job: Obj) -> Finding | None:
    name = job["metadata"]["name"]
    failed = next(
        (c for c in conditions(job) if c.get("type") == "Failed" and c.get("status") == "True"),
        None,
    )
    if failed is None:
        return None
    detail = f"{failed.get('reason', '')}: {failed.get('message', '')}".strip(": ")
    pods = [p for p in objects(snap, "Pod") if (p["metadata"].get("labels") or {}).get("job-name") == name]
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


def check_keystone_api(snap: Snapshot, api: Obj) -> Finding | None:
    kapis = objects(snap, "KeystoneAPI")
    if not kapis:
        return Finding("KeystoneAPI not found", "deploy Keystone (KeystoneAPI) in this namespace")
    return None


def check_topology(snap: Snapshot, api: Obj) -> Finding | None:
    ref = (api.get("spec") or {}).get("topologyRef") or {}
    if ref.get("name") and get(snap, "Topology", ref["name"]) is None:
        return Finding(f"Topology {ref['name']} not found", "create the Topology or fix topologyRef")
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
    for pod in _statefulset_pods(snap, api):
        pname = pod["metadata"]["name"]
        status = pod.get("status") or {}
        for cs in status.get("containerStatuses") or []:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            terminated = (cs.get("lastState") or {}).get("terminated") or {}
            if waiting.get("reason") in (
                "CrashLoopBackOff",
                "ImagePullBackOff",
                "ErrImagePull",
                "CreateContainerConfigError",
            ):
                lines = (snap.get("logs") or {}).get(f"{pname}/{cs['name']}") or []
                detail = lines[-1] if lines else waiting.get("message") or terminated.get("reason") or ""
                return Finding(
                    f"Pod {pname} container {cs['name']} {waiting['reason']}: {detail}".rstrip(": "),
                    "see `kubectl logs --previous` for the container; check customServiceConfig and backend secrets",
                )
        if status.get("phase") == "Pending":
            sched = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
            if sched and sched.get("status") == "False":
                return Finding(
                    f"Pod {pname} unschedulable: {sched.get('message', '')}".rstrip(": "),
                    "check nodeSelector, topologyRef and node capacity",
                )
    return None


def check_endpoint(snap: Snapshot, api: Obj) -> Finding | None:
    name = api["metadata"]["name"]
    obj = get(snap, "KeystoneEndpoint", name)
    if obj is not None and not is_ready(obj):
        return Finding(
            f"KeystoneEndpoint {name} is not Ready: the keystone operator reports {ready_message(obj)!r}",
            "check KeystoneAPI and the keystone operator",
        )
    return None


def check_api_secret(snap: Snapshot, api: Obj) -> Finding | None:
    name = (api.get("spec") or {}).get("secret")
    if name and get(snap, "Secret", name) is None:
        return Finding(f"Secret {name} not found", f"create Secret {name} or fix spec.secret")
    return None


API_CHECKS: list[tuple[Check, str]] = [
    (check_api_secret, "InputReady"),
    (check_keystone_api, "ServiceConfigReady"),
    (check_network_attachments, "NetworkAttachmentsReady"),
    (check_topology, "TopologyReady"),
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
