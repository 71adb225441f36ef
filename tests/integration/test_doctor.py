"""`glance-operator doctor` against broken situations built on the real control plane.

Each test breaks one thing the way users do, lets the operator (and dependency player) settle, then
expects doctor to name that thing as the cause, with its fix. The JSON output is what is asserted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
from pathlib import Path
from typing import Any

from glance_operator.cli import main
from glance_operator.testing import KubeApi

from .operator_env import eventually, glance, is_ready, running_operator, service_secret


def doctor(kubeconfig: Path, namespace: str) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["doctor", "-n", namespace, "--output", "json", "--kubeconfig", str(kubeconfig)])
    return code, json.loads(out.getvalue())


async def cause_of(kubeconfig: Path, namespace: str, kind: str, expected: str, timeout: float = 60) -> dict[str, Any]:
    """Poll doctor until the report for `kind` names `expected` in its cause; returns that report."""
    last: list[dict[str, Any]] = []

    def check() -> dict[str, Any] | None:
        nonlocal last
        code, reports = doctor(kubeconfig, namespace)
        last = reports
        # a chain means the operator has reported its blocking condition: doctor sees what users see
        found = next((r for r in reports if r["kind"] == kind and expected in r["cause"] and r["chain"]), None)
        assert found is None or code == 1
        return found

    result: dict[str, Any] = await eventually(check, timeout=timeout, interval=0.5, describe=lambda: last)
    return result


async def test_doctor_reports_healthy_glance(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
        code, reports = await asyncio.to_thread(doctor, kubeconfig, namespace)
        assert code == 0 and [(r["kind"], r["ready"]) for r in reports] == [("Glance", True), ("GlanceAPI", True)]


async def test_missing_memcached(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, memcachedInstance="memcached-typo"))
        r = await cause_of(kubeconfig, namespace, "Glance", "Memcached memcached-typo not found")
        assert r["fix"] == "create it or fix spec.memcachedInstance"
        assert r["chain"][0].startswith("MemcachedReady=False")


async def test_missing_password_key(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        secret = service_secret(namespace)
        secret["data"] = {"NovaPassword": base64.b64encode(b"12345678").decode()}
        api.apply(secret)
        api.apply(glance(namespace))
        r = await cause_of(kubeconfig, namespace, "Glance", "Secret osp-secret has no key GlancePassword")
        assert "add GlancePassword to Secret osp-secret" in r["fix"]


async def test_database_held_not_ready(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace, hold=("MariaDBDatabase",)):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        r = await cause_of(kubeconfig, namespace, "Glance", "MariaDBDatabase glance is not Ready")
        assert "the mariadb operator reports" in r["cause"]
        assert "Galera openstack" in r["fix"]


async def test_pvc_pending_on_missing_storage_class(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, storage={"storageRequest": "1G", "storageClass": "local-storage"}))
        r = await cause_of(
            kubeconfig,
            namespace,
            "Glance",
            "PVC glance-glance-default-single-0 Pending: no StorageClass 'local-storage'",
        )
        assert r["chain"][0].startswith("GlanceAPIReady=")  # Unknown or False, depending on timing
        assert r["chain"][1].startswith("GlanceAPI glance-default-single Ready=False")
        api_report = await cause_of(kubeconfig, namespace, "GlanceAPI", "no StorageClass 'local-storage'")
        assert "spec.storage.storageClass" in api_report["fix"]


async def test_failing_db_sync_job(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    # kwok completes every Job pod; a Job fails for real when its pods cannot run before its deadline:
    # a quota of zero pods, then a 1s activeDeadlineSeconds (a field the operator does not set)
    api.apply(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "no-pods", "namespace": namespace},
            "spec": {"hard": {"pods": "0"}},
        }
    )
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(lambda: api.read("batch/v1", "Job", "glance-db-sync", namespace), timeout=60)
        api.merge_patch(
            f"/apis/batch/v1/namespaces/{namespace}/jobs/glance-db-sync", {"spec": {"activeDeadlineSeconds": 1}}
        )
        r = await cause_of(kubeconfig, namespace, "Glance", "glance-db-sync Job failed: DeadlineExceeded")
        assert r["chain"][0].startswith("DBSyncReady=False")
        assert "exceeded quota" in r["cause"]  # the newest Warning on the Job says why no pod ran
        assert "delete Job glance-db-sync" in r["fix"]


async def test_missing_network_attachment(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(
            glance(namespace, apis={"default": {"type": "single", "replicas": 1, "networkAttachments": ["storage"]}})
        )
        r = await cause_of(kubeconfig, namespace, "Glance", "NetworkAttachmentDefinition storage not found")
        assert "remove it from networkAttachments" in r["fix"]
