"""A real, local Kubernetes control plane for tests and the demo.

etcd + kube-apiserver + kube-controller-manager + kube-scheduler on 127.0.0.1 (free ports), kwok
faking the kubelets of a few Nodes (pods become Running/Ready, Job pods Succeeded), our hostPath
provisioner for PVCs, the project's CRDs and their dependencies installed, and a default
StorageClass. Readiness is always polled from real endpoints, never assumed after a sleep.

    with ControlPlane() as cp:
        cp.api.get("/version")
        os.environ["KUBECONFIG"] = str(cp.kubeconfig)

CLI (used by `make cluster`): python -m glance_operator.testing up [--dir DIR] [--nodes N]
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from glance_operator.testing.binaries import REPO_ROOT, Binaries, ensure_binaries
from glance_operator.testing.kubeapi import ApiError, KubeApi, load_yaml_documents
from glance_operator.testing.pki import Pki, generate_pki, issue_server_cert, write_kubeconfig
from glance_operator.testing.processes import ManagedProcess, free_port, wait_until
from glance_operator.testing.provisioner import PROVISIONER, HostPathProvisioner

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
KWOK_STAGES = HERE / "kwok" / "stages.yaml"
FALLBACK_CRDS = HERE / "crds"
SHARED_CRDS = REPO_ROOT.parent / "shared" / "reference" / "crds"
OWN_CRDS = REPO_ROOT / "config" / "crd" / "bases"

STORAGE_CLASS = "standard"
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")

# Things the harness owns inside a user-given --dir; only these are wiped on start.
_STATE_ENTRIES = ("etcd", "pki", "logs", "volumes", "kcm", "scheduler", "kubeconfig")


def crd_files() -> list[Path]:
    """Our CRDs (or upstream Glance's until ours exist), then the dependencies' CRDs.

    testing/crds/ holds CRDs we wrote for dependencies that have no operator here (today only the
    NetworkAttachmentDefinition, k8s.cni.cncf.io/v1). Each is installed only when the shared
    dependency CRDs lack a file of that name: the same CRD applied twice would just overwrite itself,
    and the shared copy is the reference every other test and helper is written against. For the
    NAD the two are equivalent for the operator (it looks NADs up by name and reads the
    `spec.config` string, which both define the same way; ours only adds descriptions and the
    implicit apiVersion/kind/metadata); tests/unit/testing/test_fallback_crds.py keeps them equivalent.
    """
    own = sorted(OWN_CRDS.glob("*.yaml"))
    if not own:
        own = sorted((SHARED_CRDS / "upstream-glance").glob("*.yaml"))
    deps = sorted((SHARED_CRDS / "dependencies").glob("*.yaml"))
    have = {p.name for p in deps}
    fallback = [p for p in sorted(FALLBACK_CRDS.glob("*.yaml")) if p.name not in have]
    return own + deps + fallback


class ControlPlane:
    def __init__(
        self,
        dir: Path | None = None,
        *,
        nodes: int = 3,
        binaries: Binaries | None = None,
        build: bool = True,
        crds: list[Path] | None = None,
        start_timeout: float = 120.0,
    ):
        self._given_dir = dir
        self.nodes = nodes
        self._binaries = binaries
        self._build = build
        self._crds = crds
        self.start_timeout = start_timeout
        self.dir: Path = Path()
        self.pki: Pki | None = None
        self.kubeconfig: Path = Path()
        self.server = ""
        self._api: KubeApi | None = None
        self._procs: dict[str, ManagedProcess] = {}
        self._provisioner: HostPathProvisioner | None = None
        self.timings: dict[str, float] = {}

    # --- public --------------------------------------------------------------------------------
    @property
    def api(self) -> KubeApi:
        if self._api is None:
            raise RuntimeError("control plane not started")
        return self._api

    @property
    def processes(self) -> dict[str, ManagedProcess]:
        return dict(self._procs)

    def __enter__(self) -> ControlPlane:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ControlPlane:
        t0 = time.monotonic()
        binaries = self._binaries or ensure_binaries(build=self._build)
        self._prepare_dir()
        self.pki = generate_pki(self.dir / "pki")
        self._timed("pki", t0)

        etcd_url = self._start_etcd(binaries)
        self._timed("etcd", t0)
        self._start_apiserver(binaries, etcd_url)
        self._timed("kube-apiserver", t0)
        # The rest only needs the apiserver: start it all, then wait for each piece.
        scheduler = self._start_scheduler(binaries)
        kwok = self._start_kwok(binaries)
        self._provisioner = HostPathProvisioner(self.api, self.dir / "volumes").start()
        self._create_storage_class()
        self._create_nodes()
        self._wait_crds_established(self._install_crds())
        self._timed("crds", t0)
        # Started after the CRDs are served so that the garbage collector's first discovery
        # already watches the custom resources (it re-discovers only every 30 s).
        kcm = self._start_controller_manager(binaries)
        self._wait_healthz("kube-scheduler", scheduler)
        self._wait_healthz("kube-controller-manager", kcm)
        self._timed("controller-manager+scheduler", t0)
        self._wait_nodes_schedulable(kwok)
        self._timed("nodes", t0)
        # The serviceaccount controller creating "default" shows the controllers really run.
        wait_until(
            lambda: self.api.get_or_none("/api/v1/namespaces/default/serviceaccounts/default"),
            timeout=self.start_timeout,
            what="the default ServiceAccount (kube-controller-manager)",
            watch=self._procs.values(),
        )
        self._timed("ready", t0)
        log.info("control plane ready at %s in %.1fs", self.server, time.monotonic() - t0)
        return self

    def stop(self) -> None:
        if self._provisioner is not None:
            self._provisioner.stop()
            self._provisioner = None
        for name in reversed(list(self._procs)):
            self._procs.pop(name).stop()
        if self._api is not None:
            self._api.close()
            self._api = None
        if self._given_dir is None and self.dir != Path() and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)

    def check(self) -> None:
        """Raise if a component died (with the end of its log)."""
        for proc in self._procs.values():
            proc.check()

    def restart(self, name: str) -> None:
        """Stop one component and start it again with the same flags and ports (fault injection)."""
        proc = self._procs[name]
        proc.stop()
        proc.start()
        if name == "kube-apiserver":
            wait_until(
                lambda: self.api.request("GET", "/readyz") == "ok",
                timeout=self.start_timeout,
                what="kube-apiserver /readyz after restart",
                watch=[proc],
            )
        elif name == "etcd":
            wait_until(
                lambda: self.api.request("GET", "/readyz") == "ok",
                timeout=self.start_timeout,
                what="kube-apiserver /readyz after an etcd restart",
                watch=[proc],
            )

    def create_namespace(self, prefix: str = "test") -> str:
        """A fresh namespace whose default ServiceAccount exists (pods can be created at once)."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.api.post("/api/v1/namespaces", {"metadata": {"name": name}})
        wait_until(
            lambda: self.api.get_or_none(f"/api/v1/namespaces/{name}/serviceaccounts/default"),
            timeout=30,
            what=f"ServiceAccount default in {name}",
            watch=self._procs.values(),
        )
        return name

    def delete_namespace(self, name: str) -> None:
        self.api.delete(f"/api/v1/namespaces/{name}")

    def register_webhooks(self, port: int, dir: Path | None = None) -> Path:
        """Point the apiserver's admission at our webhook server on 127.0.0.1:<port>.

        Issues tls.crt/tls.key for 127.0.0.1 from the harness CA into a cert dir (returned) and
        creates the Mutating/ValidatingWebhookConfigurations with URL client configs and the CA bundle.
        """
        import base64

        from glance_operator.webhooks.review import WEBHOOKS

        assert self.pki is not None
        cert_dir = dir or self.dir / "webhook-certs"
        issue_server_cert(self.pki, cert_dir, "tls")
        ca_bundle = base64.b64encode(self.pki.ca.cert.read_bytes()).decode()
        for kind, action in (
            ("MutatingWebhookConfiguration", "mutate"),
            ("ValidatingWebhookConfiguration", "validate"),
        ):
            hooks = [
                {
                    "name": w.name,
                    "admissionReviewVersions": ["v1"],
                    "clientConfig": {"url": f"https://127.0.0.1:{port}{w.path}", "caBundle": ca_bundle},
                    "failurePolicy": "Fail",
                    "sideEffects": "None",
                    "timeoutSeconds": 10,
                    "rules": [
                        {
                            "apiGroups": ["glance.openstack.org"],
                            "apiVersions": ["v1beta1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": [w.resource],
                        }
                    ],
                }
                for w in WEBHOOKS
                if w.action == action
            ]
            self.api.apply(
                {
                    "apiVersion": "admissionregistration.k8s.io/v1",
                    "kind": kind,
                    "metadata": {"name": f"glance-operator-{action}-webhook-configuration"},
                    "webhooks": hooks,
                }
            )
        return cert_dir

    def unregister_webhooks(self) -> None:
        for kind, action in (
            ("mutatingwebhookconfigurations", "mutate"),
            ("validatingwebhookconfigurations", "validate"),
        ):
            self.api.delete(
                f"/apis/admissionregistration.k8s.io/v1/{kind}/glance-operator-{action}-webhook-configuration"
            )

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    # --- steps ---------------------------------------------------------------------------------
    def _timed(self, step: str, t0: float) -> None:
        self.timings[step] = round(time.monotonic() - t0, 2)
        log.debug("%s ready after %.1fs", step, self.timings[step])

    def _prepare_dir(self) -> None:
        if self._given_dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="glance-operator-cp-"))
        else:
            self.dir = self._given_dir.expanduser().resolve()
            self.dir.mkdir(parents=True, exist_ok=True)
            for entry in _STATE_ENTRIES:  # a fresh cluster each time, but only remove our own files
                path = self.dir / entry
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
        (self.dir / "logs").mkdir()

    def _spawn(self, name: str, argv: list[str]) -> ManagedProcess:
        proc = ManagedProcess(name, argv, self.dir / "logs" / f"{name}.log").start()
        self._procs[name] = proc
        return proc

    def _start_etcd(self, binaries: Binaries) -> str:
        client, peer = free_port(), free_port()
        data = self.dir / "etcd"
        data.mkdir(mode=0o700)
        url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        proc = self._spawn(
            "etcd",
            [
                str(binaries.etcd),
                "--name=default",
                f"--data-dir={data}",
                f"--listen-client-urls={url}",
                f"--advertise-client-urls={url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--initial-cluster-state=new",
                "--unsafe-no-fsync",  # throwaway data: no fsync makes the whole suite much faster
                "--log-level=warn",
            ],
        )

        def healthy() -> bool:
            r = httpx.get(f"{url}/health", timeout=2)
            return r.status_code == 200 and r.json().get("health") == "true"

        wait_until(healthy, timeout=self.start_timeout, what="etcd /health", watch=[proc])
        return url

    def _start_apiserver(self, binaries: Binaries, etcd_url: str) -> None:
        assert self.pki is not None
        pki = self.pki
        port = free_port()
        self.server = f"https://127.0.0.1:{port}"
        proc = self._spawn(
            "kube-apiserver",
            [
                str(binaries.kube_apiserver),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self.dir / 'pki' / 'apiserver'}",
                f"--tls-cert-file={pki.serving.cert}",
                f"--tls-private-key-file={pki.serving.key}",
                f"--client-ca-file={pki.ca.cert}",
                # Published to kube-system/extension-apiserver-authentication; without it the
                # controller-manager and scheduler log an error about it every few seconds.
                f"--requestheader-client-ca-file={pki.ca.cert}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--service-account-issuer={self.server}",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--authorization-mode=RBAC",
                "--allow-privileged=true",
                # 127.0.0.1 is not a valid endpoint address for the `kubernetes` Service.
                "--endpoint-reconciler-type=none",
                "--profiling=false",
                "--v=0",
            ],
        )
        self.kubeconfig = write_kubeconfig(self.dir / "kubeconfig", self.server, pki)
        self._api = KubeApi(self.server, pki.ca.cert, pki.admin.cert, pki.admin.key)

        def ready() -> bool:
            return bool(self.api.request("GET", "/readyz") == "ok")

        wait_until(ready, timeout=self.start_timeout, what="kube-apiserver /readyz", watch=[proc])

    def _component_flags(self, name: str) -> tuple[int, list[str]]:
        port = free_port()
        kubeconfig = str(self.kubeconfig)
        return port, [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={self.dir / name}",
            "--leader-elect=false",
            "--v=0",
        ]

    def _start_controller_manager(self, binaries: Binaries) -> tuple[ManagedProcess, int]:
        assert self.pki is not None
        port, flags = self._component_flags("kcm")
        proc = self._spawn(
            "kube-controller-manager",
            [
                str(binaries.kube_controller_manager),
                *flags,
                "--controllers=*",
                f"--service-account-private-key-file={self.pki.sa_key}",
                f"--root-ca-file={self.pki.ca.cert}",
                f"--cluster-signing-cert-file={self.pki.ca.cert}",
                f"--cluster-signing-key-file={self.pki.ca.key}",
                "--use-service-account-credentials=false",
            ],
        )
        return proc, port

    def _start_scheduler(self, binaries: Binaries) -> tuple[ManagedProcess, int]:
        port, flags = self._component_flags("scheduler")
        proc = self._spawn("kube-scheduler", [str(binaries.kube_scheduler), *flags])
        return proc, port

    def _start_kwok(self, binaries: Binaries) -> ManagedProcess:
        key, value = KWOK_NODE_ANNOTATION
        return self._spawn(
            "kwok",
            [
                str(binaries.kwok),
                f"--kubeconfig={self.kubeconfig}",
                f"--config={KWOK_STAGES}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={key}={value}",
                "--cidr=10.244.0.1/16",
                "--node-ip=10.0.0.1",
                "--node-lease-duration-seconds=40",
                # no --server-address: kwok then opens no port at all
            ],
        )

    def _wait_healthz(self, what: str, proc_port: tuple[ManagedProcess, int]) -> None:
        _, port = proc_port

        def healthy() -> bool:
            # Self-signed serving cert in --cert-dir; this is loopback only.
            r = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=False, timeout=2)
            return r.status_code == 200 and r.text == "ok"

        wait_until(healthy, timeout=self.start_timeout, what=f"{what} /healthz", watch=self._procs.values())

    def _create_storage_class(self) -> None:
        self.api.apply(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": STORAGE_CLASS,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": PROVISIONER,
                "reclaimPolicy": "Delete",
                "allowVolumeExpansion": True,
                "volumeBindingMode": "Immediate",
            }
        )

    def _install_crds(self) -> list[str]:
        names: list[str] = []
        for path in self._crds if self._crds is not None else crd_files():
            for doc in load_yaml_documents(path):
                if doc.get("kind") != "CustomResourceDefinition":
                    continue  # e.g. a kustomization.yaml next to the CRDs
                try:
                    self.api.apply(doc)
                except ApiError as e:
                    raise RuntimeError(f"installing CRD from {path}: {e}") from e
                names.append(doc["metadata"]["name"])
        return names

    def _wait_crds_established(self, names: list[str]) -> None:
        def established(name: str) -> bool:
            crd = self.api.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            conds = {c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []}
            return conds.get("Established") == "True"

        pending = list(names)

        def all_established() -> bool:
            while pending and established(pending[0]):
                pending.pop(0)
            return not pending

        wait_until(
            all_established,
            timeout=self.start_timeout,
            what=f"all {len(names)} CRDs Established",
            watch=self._procs.values(),
        )

    def _create_nodes(self) -> None:
        key, value = KWOK_NODE_ANNOTATION
        for i in range(self.nodes):
            name = f"kwok-node-{i}"
            self.api.apply(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "annotations": {key: value, "node.alpha.kubernetes.io/ttl": "0"},
                        "labels": {
                            "kubernetes.io/hostname": name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                            "type": "kwok",
                            "topology.kubernetes.io/zone": f"zone-{i % 3}",
                        },
                    },
                }
            )

    def _wait_nodes_schedulable(self, kwok: ManagedProcess) -> None:
        def schedulable() -> bool:
            nodes = self.api.get("/api/v1/nodes", labelSelector="type=kwok")["items"]
            ok = 0
            for node in nodes:
                conds = {c["type"]: c["status"] for c in (node.get("status") or {}).get("conditions") or []}
                taints = node.get("spec", {}).get("taints") or []
                if conds.get("Ready") == "True" and not taints:
                    ok += 1
            return ok == self.nodes

        wait_until(
            schedulable,
            timeout=self.start_timeout,
            what=f"{self.nodes} kwok nodes Ready and untainted",
            watch=self._procs.values(),
        )


@contextlib.contextmanager
def control_plane(**kwargs: Any) -> Iterator[ControlPlane]:
    with ControlPlane(**kwargs) as cp:
        yield cp
