"""The operator itself, run against the embedded control plane and the real Keystone of the e2e session.

The dependency player plays MariaDB, Memcached and the keystone operator's CRs as in the integration
tests, except that the KeystoneAPI CR points at the real Keystone (`override.service.*.endpointURL`)
with the real admin password in its Secret, and the KeystoneService `glance` carries the real image
service ID (the player keeps a serviceID it finds). What the operator does in Keystone is therefore
real: it authenticates with the KeystoneAPI's admin credentials and registers limits there.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.testing import ControlPlane, KubeApi
from glance_operator.testing.processes import ManagedProcess, wait_until
from tests.integration.operator_env import secret

from .services.keystone import ADMIN_PASSWORD, REGION, Keystone

KEYSTONE_V = "keystone.openstack.org/v1beta1"
GLANCE_V = "glance.openstack.org/v1beta1"


@dataclass
class ClusterOperator:
    api: KubeApi
    namespace: str
    keystone: Keystone
    processes: list[ManagedProcess]

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self.api.apply(obj, self.namespace)

    def glance(self, name: str = "glance") -> dict[str, Any] | None:
        return self.api.read(GLANCE_V, "Glance", name, self.namespace)

    def registered_limits(self) -> dict[str, dict[str, Any]]:
        """The image service's registered limits in Keystone, by resource name."""
        with self.keystone.admin() as c:
            r = c.get("/registered_limits", params={"service_id": self.keystone.ids["image_service"]})
            r.raise_for_status()
            return {lim["resource_name"]: lim for lim in r.json()["registered_limits"]}

    def apply_glance(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Apply a Glance as the defaulting webhook would have stored it (the operator runs without it here)."""
        admitted = admit({**doc, "metadata": {**doc["metadata"], "namespace": self.namespace}}, Defaults())
        assert admitted.object is not None, admitted.errors
        return self.apply(admitted.object)

    def wait(self, check: Callable[[], Any], timeout: float = 90, what: str = "") -> Any:
        """Poll `check` until truthy (failing at once if the operator or player dies); on timeout, fail with the
        operator's last log lines."""
        try:
            return wait_until(check, timeout=timeout, what=what or str(check), interval=0.3, watch=self.processes)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\noperator log:\n{self.processes[-1].log_tail(40)}") from None

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.stop(timeout=20)


def start_operator(control_plane: ControlPlane, keystone: Keystone, logs: Path, prefix: str) -> ClusterOperator:
    api = control_plane.api
    ns = control_plane.create_namespace(prefix)
    api.apply(secret(ns, "keystone-admin", AdminPassword=ADMIN_PASSWORD), ns)
    api.apply(secret(ns, "osp-secret", GlancePassword="glance-e2e-password"), ns)
    api.apply(
        {
            "apiVersion": KEYSTONE_V,
            "kind": "KeystoneAPI",
            "metadata": {"name": "keystone", "namespace": ns},
            "spec": {
                "containerImage": "keystone:e2e",
                "databaseInstance": "openstack",
                "memcachedInstance": "memcached",
                "secret": "keystone-admin",
                "region": REGION,
                "override": {
                    "service": {
                        "internal": {"endpointURL": keystone.url},
                        "public": {"endpointURL": keystone.url},
                    }
                },
            },
        },
        ns,
    )
    service = api.apply(
        {
            "apiVersion": KEYSTONE_V,
            "kind": "KeystoneService",
            "metadata": {"name": "glance", "namespace": ns},
            "spec": {
                "enabled": True,
                "passwordSelector": "GlancePassword",
                "secret": "osp-secret",
                "serviceName": "glance",
                "serviceType": "image",
                "serviceUser": "glance",
            },
        },
        ns,
    )
    api.merge_patch(api.path_of(service, ns) + "/status", {"status": {"serviceID": keystone.ids["image_service"]}})
    env = {**os.environ, "ENABLE_WEBHOOKS": "false"}
    cli = [sys.executable, "-m", "glance_operator.cli"]
    kubeconfig = str(control_plane.kubeconfig)
    deps = ManagedProcess(
        "deps", [*cli, "dev", "deps", "--kubeconfig", kubeconfig, "-n", ns], logs / f"{prefix}-deps.log", env
    ).start()
    operator = ManagedProcess(
        "operator",
        [
            *cli,
            "run",
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            ns,
            "--health-probe-bind-address",
            "0",
            "--log-format",
            "text",
        ],
        logs / f"{prefix}-operator.log",
        env,
    ).start()
    return ClusterOperator(api, ns, keystone, [deps, operator])
