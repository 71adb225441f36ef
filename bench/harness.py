"""Shared pieces of the benchmark and the chaos runs: the operator as a subprocess, apiserver write
counts, the Glance under test, and the invariants (children, PVCs, databases) checked after faults.

Everything runs on 127.0.0.1 against a dedicated `ControlPlane` (never the test session's shared one).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from glance_operator.testing import ApiError, KubeApi, apimetrics
from glance_operator.testing.processes import ManagedProcess, free_port

GLANCE_V = "glance.openstack.org/v1beta1"
IMAGE = "quay.io/podified-antelope-centos9/openstack-glance-api:current-podified"
SERVICE_PASSWORD = "S3rvice-Pa55-ch4os"  # the service password of every Glance created here

# Resources the operator writes, plus Leases (leader election is part of the operator's cost here).
OUR_RESOURCES = apimetrics.OUR_RESOURCES | {"leases"}
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Child kinds the operator creates for a Glance, checked for duplicates and orphans.
CHILD_KINDS: tuple[tuple[str, str], ...] = (
    (GLANCE_V, "GlanceAPI"),
    ("apps/v1", "StatefulSet"),
    ("v1", "Service"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("keystone.openstack.org/v1beta1", "KeystoneService"),
    ("keystone.openstack.org/v1beta1", "KeystoneEndpoint"),
    ("mariadb.openstack.org/v1beta1", "MariaDBDatabase"),
    ("mariadb.openstack.org/v1beta1", "MariaDBAccount"),
    ("rabbitmq.openstack.org/v1beta1", "TransportURL"),
)
# Never to be removed by the operator while the Glance exists (data!).
PRECIOUS_KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "PersistentVolumeClaim"),
    ("mariadb.openstack.org/v1beta1", "MariaDBDatabase"),
    ("mariadb.openstack.org/v1beta1", "MariaDBAccount"),
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the objects under test ------------------------------------------------------------------------
def service_secret(namespace: str, password: str = SERVICE_PASSWORD) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "osp-secret", "namespace": namespace},
        "data": {"GlancePassword": base64.b64encode(password.encode()).decode()},
    }


def glance(namespace: str, apis: int = 2, replicas: int = 1, **spec: Any) -> dict[str, Any]:
    """A Glance with `apis` APIs (`api0`, `api1`, ... single type), notifications on (a TransportURL)."""
    glance_apis = {f"api{i}": {"type": "single", "replicas": replicas} for i in range(apis)}
    return {
        "apiVersion": GLANCE_V,
        "kind": "Glance",
        "metadata": {"name": "glance", "namespace": namespace},
        "spec": {
            "containerImage": IMAGE,
            "databaseInstance": "openstack",
            "secret": "osp-secret",
            "notificationBusInstance": "rabbitmq",
            "imageCache": {"size": ""},
            "storage": {"storageRequest": "1G"},
            "glanceAPIs": glance_apis,
            "keystoneEndpoint": "api0",
            **spec,
        },
    }


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            found: dict[str, Any] = c
            return found
    return None


def ready_obj(api: KubeApi, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    """The object if Ready=True for its current generation."""
    obj = api.read(GLANCE_V, kind, name, namespace)
    c = condition(obj, "Ready")
    if (
        obj
        and c
        and c.get("status") == "True"
        and obj["status"].get("observedGeneration") == obj["metadata"]["generation"]
    ):
        return obj
    return None


def glance_converged(api: KubeApi, namespace: str, apis: int, replicas: int = 1) -> bool:
    """Glance Ready for its generation, with every API at `replicas` ready pods."""
    g = ready_obj(api, "Glance", "glance", namespace)
    if g is None:
        return False
    counts = g["status"].get("glanceAPIReadyCounts") or {}
    return counts == {f"api{i}": replicas for i in range(apis)}


async def poll(
    check: Callable[[], Any],
    timeout: float,
    what: str,
    interval: float = 0.2,
    describe: Callable[[], Any] | None = None,
) -> Any:
    """Poll `check` (sync, run in a thread; exceptions count as "not yet") until truthy; raise on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await asyncio.to_thread(check)
        except (ApiError, httpx.HTTPError, OSError) as e:
            last = e
        if last and not isinstance(last, BaseException):
            return last
        await asyncio.sleep(interval)  # poll
    extra = ""
    if describe is not None:
        with contextlib.suppress(Exception):
            extra = f"; state: {await asyncio.to_thread(describe)!r}"
    raise TimeoutError(f"{what}: not within {timeout:.0f}s (last: {last!r}){extra}")


# --- apiserver metrics ------------------------------------------------------------------------------
def apiserver_requests(api: KubeApi, writes_only: bool = True) -> dict[tuple[str, str, str], float]:
    """apiserver_request_total summed by (verb, resource, subresource), for the resources the operator writes."""
    return apimetrics.apiserver_requests(api, writes_only, OUR_RESOURCES)


delta = apimetrics.delta


# --- the operator as a subprocess ----------------------------------------------------------------------
@dataclass
class OperatorProcess:
    """`glance-operator run` in its own process (so CPU and RSS are its own), logging JSON to a file."""

    kubeconfig: Path
    log_dir: Path
    namespace: str | None = None  # None: every namespace
    name: str = "operator"
    leader_elect: bool = False
    leader_election_namespace: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)
    starts: int = 0
    proc: ManagedProcess | None = None
    probe_port: int = 0
    metrics_port: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self) -> OperatorProcess:
        """Start (from the main thread: the child dies with the thread that forked it)."""
        self.probe_port, self.metrics_port = free_port(), free_port()
        argv = [
            sys.executable,
            "-m",
            "glance_operator",
            "run",
            f"--kubeconfig={self.kubeconfig}",
            f"--namespace={self.namespace or ''}",
            f"--health-probe-bind-address=127.0.0.1:{self.probe_port}",
            f"--metrics-bind-address=127.0.0.1:{self.metrics_port}",
            "--log-format=json",
            *self.extra_args,
        ]
        if self.leader_elect:
            argv += ["--leader-elect", f"--leader-election-namespace={self.leader_election_namespace}"]
        env = {**os.environ, "ENABLE_WEBHOOKS": "false", **self.env}
        self.proc = ManagedProcess(self.name, argv, self.log_path, env=env).start()
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None and self.proc.pid is not None
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.running()

    def kill9(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.proc.stop()  # reaps it
            self.proc = None

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def ready(self) -> bool:
        """/readyz: caches synced (and, with --leader-elect, leading)."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.probe_port}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def writes(self) -> float:
        """The operator's own count of write requests (Writer stats)."""
        return self.metrics().get("glance_operator_write_requests_total", 0.0)

    def cpu_seconds(self) -> float:
        """utime + stime of the process, from /proc/<pid>/stat."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def rss_kib(self, key: str = "VmHWM") -> int:
        """Peak (VmHWM) or current (VmRSS) resident set size in KiB, from /proc/<pid>/status."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


# --- invariants ----------------------------------------------------------------------------------------
def owned_children(api: KubeApi, namespace: str) -> dict[tuple[str, str], str]:
    """(kind, name) -> uid of every object in `namespace` whose controller is a Glance or GlanceAPI."""
    out: dict[tuple[str, str], str] = {}
    for api_version, kind in CHILD_KINDS:
        try:
            items = api.list(api_version, kind, namespace)
        except LookupError:
            continue
        for obj in items:
            refs = obj["metadata"].get("ownerReferences") or []
            if any(r.get("controller") and r.get("kind") in ("Glance", "GlanceAPI") for r in refs):
                out[(kind, obj["metadata"]["name"])] = obj["metadata"]["uid"]
    return out


def precious(api: KubeApi, namespace: str) -> dict[tuple[str, str], str]:
    """(kind, name) -> uid of the PVCs and database objects in `namespace`."""
    out: dict[tuple[str, str], str] = {}
    for api_version, kind in PRECIOUS_KINDS:
        for obj in api.list(api_version, kind, namespace):
            out[(kind, obj["metadata"]["name"])] = obj["metadata"]["uid"]
    return out


def orphans(api: KubeApi, namespace: str) -> list[str]:
    """Objects owned (controller ref) by a Glance/GlanceAPI that no longer exists (or has another uid)."""
    owners = {
        (o["kind"], o["metadata"]["name"]): o["metadata"]["uid"]
        for kind in ("Glance", "GlanceAPI")
        for o in api.list(GLANCE_V, kind, namespace)
    }
    found: list[str] = []
    for api_version, kind in CHILD_KINDS:
        for obj in api.list(api_version, kind, namespace):
            if obj["metadata"].get("deletionTimestamp"):
                continue
            for r in obj["metadata"].get("ownerReferences") or []:
                mine = r.get("controller") and r.get("kind") in ("Glance", "GlanceAPI")
                if mine and owners.get((r["kind"], r["name"])) != r.get("uid"):
                    found.append(f"{kind}/{obj['metadata']['name']} (owner {r['kind']}/{r['name']})")
    return found


def duplicates(children: dict[tuple[str, str], str], expected: set[tuple[str, str]]) -> list[str]:
    """Children beyond the fault-free reference set (same kinds, other names) are duplicates."""
    return sorted(f"{k}/{n}" for k, n in children if (k, n) not in expected)


def lost(before: dict[tuple[str, str], str], after: dict[tuple[str, str], str]) -> list[str]:
    """Objects gone or recreated (other uid) between two snapshots."""
    return sorted(f"{k}/{n}" for (k, n), uid in before.items() if after.get((k, n)) != uid)
