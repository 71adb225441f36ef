"""Read what `diagnose` needs from a live cluster, into a plain snapshot dict.

Synchronous lightkube: a one-shot CLI read. Kinds whose CRD is absent (or that we may not list) are
left empty and named in `unreadable`; Secret values are blanked (only the keys matter to the checks,
and a snapshot may be printed or saved). The last log lines of failing containers are read when the
cluster can serve them; when it cannot (no kubelet behind the node, no pods/log permission) the error
is kept in `log_errors`, so that doctor says so instead of guessing.
"""

from __future__ import annotations

from typing import Any

from lightkube import ApiError, Client, KubeConfig
from lightkube.generic_resource import create_namespaced_resource

from ..runtime.kinds import Kind, namespaced, resource

KINDS: dict[str, str] = {
    "Glance": "glance.openstack.org/v1beta1",
    "GlanceAPI": "glance.openstack.org/v1beta1",
    "MariaDBDatabase": "mariadb.openstack.org/v1beta1",
    "MariaDBAccount": "mariadb.openstack.org/v1beta1",
    "KeystoneAPI": "keystone.openstack.org/v1beta1",
    "KeystoneService": "keystone.openstack.org/v1beta1",
    "KeystoneEndpoint": "keystone.openstack.org/v1beta1",
    "Memcached": "memcached.openstack.org/v1beta1",
    "TransportURL": "rabbitmq.openstack.org/v1beta1",
    "RabbitMq": "rabbitmq.openstack.org/v1beta1",
    "Cinder": "cinder.openstack.org/v1beta1",
    "Topology": "topology.openstack.org/v1beta1",
    "NetworkAttachmentDefinition": "k8s.cni.cncf.io/v1",
    "Secret": "v1",
    "Service": "v1",
    "StatefulSet": "apps/v1",
    "Job": "batch/v1",
    "PersistentVolumeClaim": "v1",
    "Pod": "v1",
    "Event": "v1",
    "StorageClass": "storage.k8s.io/v1",
}
LOG_LINES = 20
# kinds the operator itself never reads (so runtime.kinds does not know them): their plural
EXTRA_PLURALS = {"RabbitMq": "rabbitmqs"}


def make_client(kubeconfig: str | None) -> Client:
    config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
    return Client(config=config, trust_env=False)


def _resource(kind: Kind) -> Any:
    if kind.kind in EXTRA_PLURALS:
        group, _, version = kind.api_version.rpartition("/")
        return create_namespaced_resource(group, version, kind.kind, EXTRA_PLURALS[kind.kind])
    return resource(kind)


def _list(client: Client, kind: Kind, namespace: str) -> list[dict[str, Any]] | None:
    """The objects, or None when they cannot be listed (CRD not installed, or not ours to read)."""
    kwargs: dict[str, Any] = {"namespace": namespace} if namespaced(kind) else {}
    try:
        items = [i if isinstance(i, dict) else i.to_dict() for i in client.list(_resource(kind), **kwargs)]
    except ApiError as exc:
        if exc.status.code in (403, 404):
            return None
        raise
    for obj in items:
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
    return items


def _failing_containers(pod: dict[str, Any]) -> list[str]:
    out = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        state = cs.get("state") or {}
        terminated = state.get("terminated") or {}
        if (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff" or terminated.get("exitCode", 0) != 0:
            out.append(cs["name"])
    if (pod.get("status") or {}).get("phase") == "Failed":
        out += [c["name"] for c in (pod.get("spec") or {}).get("containers") or [] if c["name"] not in out]
    return out


def read_snapshot(client: Client, namespace: str) -> dict[str, Any]:
    listed = {name: _list(client, Kind(av, name), namespace) for name, av in KINDS.items()}
    objects = {name: items or [] for name, items in listed.items()}
    unreadable = sorted(name for name, items in listed.items() if items is None)
    for secret in objects["Secret"]:
        secret["data"] = dict.fromkeys(secret.get("data") or {}, "")
        secret.pop("stringData", None)
        (secret.get("metadata") or {}).pop("managedFields", None)
    logs: dict[str, list[str]] = {}
    log_errors: dict[str, str] = {}
    for pod in objects["Pod"]:
        for container in _failing_containers(pod):
            key = f"{pod['metadata']['name']}/{container}"
            try:
                lines = list(
                    client.log(pod["metadata"]["name"], namespace=namespace, container=container, tail_lines=LOG_LINES)
                )
            except ApiError as exc:  # e.g. no kubelet answers for the node, or no pods/log permission
                log_errors[key] = f"{exc.status.code}: {exc.status.message or exc.status.reason}"
                continue
            except Exception as exc:  # the node's kubelet unreachable: diagnose without the log
                log_errors[key] = f"{type(exc).__name__}: {exc}"
                continue
            logs[key] = [ln.rstrip("\n") for ln in lines if ln.strip()]
    return {
        "namespace": namespace,
        "objects": objects,
        "unreadable": unreadable,
        "logs": logs,
        "log_errors": log_errors,
    }
