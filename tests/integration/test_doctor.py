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

from .operator_env import CINDER_CONFIG, eventually, glance, is_ready, running_operator, service_secret


def doctor(kubeconfig: Path, namespace: str) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["doctor", "-n", namespace, "--output", "json", "--kubeconfig", str(kubeconfig)])
    return code, json.loads(out.getvalue())


async def cause_of(
    kubeconfig: Path,
    namespace: str,
    kind: str,
    expected: str,
    timeout: float = 60,
    chain: list[str] | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """Poll doctor until the report for `kind` names `expected` in its cause (is `expected`, if exact) and
    its chain starts with `chain` (once the operator has written those conditions); returns that report."""
    last: list[dict[str, Any]] = []

    def matches(r: dict[str, Any]) -> bool:
        # a chain means the operator has reported its blocking condition: doctor sees what users see
        wanted = r["chain"][: len(chain)] == chain if chain is not None else bool(r["chain"])
        named = r["cause"] == expected if exact else expected in r["cause"]
        return r["kind"] == kind and named and wanted

    def check() -> dict[str, Any] | None:
        nonlocal last
        code, reports = doctor(kubeconfig, namespace)
        last = reports
        found = next((r for r in reports if matches(r)), None)
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


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": {k: b64(v) for k, v in data.items()},
    }


def single_api(**template: Any) -> dict[str, Any]:
    return {"default": {"type": "single", "replicas": 1, **template}}


async def test_transport_url_held_not_ready(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace, hold=("TransportURL",)):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, notificationsBus={"cluster": "rabbitmq"}))
        waiting = "TransportURL glance-glance-transport is not Ready: the infra (rabbitmq) operator reports"
        chain = ["NotificationBusInstanceReady=False: NotificationBusInstance creation in progress"]
        # no RabbitMq named by notificationsBus.cluster either: doctor says so next to the infra operator's words
        r = await cause_of(kubeconfig, namespace, "Glance", "RabbitMq rabbitmq not found", chain=chain)
        assert r["cause"] == f"{waiting} 'TransportURL in progress'; RabbitMq rabbitmq not found"
        assert r["fix"] == f"create RabbitMq rabbitmq in {namespace} or fix spec.notificationsBus.cluster"
        # the cluster exists: the TransportURL itself is what waits
        api.apply(
            {
                "apiVersion": "rabbitmq.openstack.org/v1beta1",
                "kind": "RabbitMq",
                "metadata": {"name": "rabbitmq", "namespace": namespace},
                "spec": {"containerImage": "quay.io/podified-antelope-centos9/openstack-rabbitmq:current-podified"},
            }
        )
        cause = f"{waiting} 'TransportURL in progress'"
        r = await cause_of(kubeconfig, namespace, "Glance", cause, chain=chain, exact=True)
        assert r["fix"] == (
            "check RabbitMq rabbitmq (from spec.notificationsBus.cluster) and the infra operator"
            " (`kubectl describe transporturl glance-glance-transport`)"
        )


async def test_missing_topology(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, topologyRef={"name": "spread-zones"}))
        cause = "Topology spread-zones not found (named in spec.topologyRef of Glance glance)"
        chain = ["TopologyReady=False: Topology config create error occurred Topology spread-zones not found"]
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", cause, chain=chain)
        assert r["cause"] == cause
        assert r["fix"] == (
            f"create Topology spread-zones in {namespace}, or fix or remove spec.topologyRef of Glance glance"
        )
        g = await cause_of(kubeconfig, namespace, "Glance", cause)
        assert g["chain"][1].startswith("GlanceAPI glance-default-single Ready=False")
        # doing what the fix says makes it Ready
        api.apply(
            {
                "apiVersion": "topology.openstack.org/v1beta1",
                "kind": "Topology",
                "metadata": {"name": "spread-zones", "namespace": namespace},
                "spec": {},
            }
        )
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=60)


def crash_loop(api: KubeApi, namespace: str, pod_name: str, container: str) -> None:
    """Write what a kubelet reports for a container that keeps exiting. kwok's stages only move Pending pods
    (to Running) and Job pods (to Succeeded), so a Running StatefulSet pod keeps the status written here."""
    pod = api.read("v1", "Pod", pod_name, namespace)
    assert pod and pod["status"].get("phase") == "Running", pod
    statuses = []
    for cs in pod["status"]["containerStatuses"]:
        if cs["name"] == container:
            since = pod["status"]["startTime"]
            cs = {
                **cs,
                "ready": False,
                "started": False,
                "restartCount": 3,
                "state": {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 40s restarting failed container={container} pod={pod_name}_{namespace}",
                    }
                },
                "lastState": {
                    "terminated": {"exitCode": 1, "reason": "Error", "startedAt": since, "finishedAt": since}
                },
            }
        statuses.append(cs)
    unready = {
        "status": "False",
        "reason": "ContainersNotReady",
        "message": f"containers with unready status: [{container}]",
    }
    conds = [{**c, **unready} if c["type"] in ("Ready", "ContainersReady") else c for c in pod["status"]["conditions"]]
    api.merge_patch(
        f"/api/v1/namespaces/{namespace}/pods/{pod_name}/status",
        {"status": {"containerStatuses": statuses, "conditions": conds}},
    )


async def test_crash_looping_api_pod(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
        crash_loop(api, namespace, "glance-default-single-0", "glance-httpd")
        cause = "Pod glance-default-single-0 container glance-httpd CrashLoopBackOff: back-off 40s restarting failed"
        chain = ["DeploymentReady=False: Deployment in progress"]
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", cause, chain=chain)
        assert r["cause"].startswith(
            f"{cause} container=glance-httpd pod=glance-default-single-0_{namespace}; last exit code 1 (Error);"
            " 3 restarts; its log could not be read ("
        )
        assert "last log line" not in r["cause"]  # kwok's nodes have no kubelet: no log, and none invented
        assert r["fix"].startswith(
            f"read why it exits: `kubectl logs -n {namespace} glance-default-single-0 -c glance-httpd --previous`"
        )
        g = await cause_of(kubeconfig, namespace, "Glance", cause)
        assert g["chain"][1] == "GlanceAPI glance-default-single Ready=False: Deployment in progress"


async def test_keystone_endpoint_held_not_ready(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace, hold=("KeystoneEndpoint",)):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        cause = (
            "KeystoneEndpoint glance-default-single is not Ready: the keystone operator reports"
            " 'Keystone Endpoints registration not started'"
        )
        chain = ["KeystoneEndpointReady=False: Keystone Endpoints registration not started"]
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", cause, chain=chain)
        assert r["fix"] == (
            "check the keystone operator (`kubectl describe keystoneendpoint glance-default-single`) and KeystoneAPI"
        )
        await cause_of(kubeconfig, namespace, "Glance", cause)


async def test_missing_keystone_api(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace) as (_, deps):
        # the dependency player creates a KeystoneAPI when it starts; this namespace must have none. Delete
        # it once the player has written its status, so that no write of the player's brings it back to its cache
        await deps.wait_ready("KeystoneAPI", "keystone", namespace)
        api.remove("keystone.openstack.org/v1beta1", "KeystoneAPI", "keystone", namespace)
        await eventually(lambda: not api.list("keystone.openstack.org/v1beta1", "KeystoneAPI", namespace))
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        chain = [
            "KeystoneServiceReady=False: KeystoneAPI not found",
            "KeystoneService glance Ready=False: KeystoneAPI not found",
        ]
        r = await cause_of(kubeconfig, namespace, "Glance", "KeystoneAPI not found", chain=chain)
        assert r["cause"] == "KeystoneAPI not found"
        assert r["fix"].startswith(f"deploy Keystone (one KeystoneAPI) in {namespace}")
        chain = ["ServiceConfigReady=False: Service config create error occurred expected one KeystoneAPI, found 0"]
        a = await cause_of(kubeconfig, namespace, "GlanceAPI", "KeystoneAPI not found", chain=chain)
        assert a["cause"] == "KeystoneAPI not found"


async def test_missing_tls_secrets(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    tls = {"caBundleSecretName": "combined-ca-bundle", "api": {"internal": {"secretName": "cert-glance-internal"}}}
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, apis=single_api(tls=tls)))
        field = "spec.glanceAPIs.default.tls.caBundleSecretName of Glance glance"
        cause = f"Secret combined-ca-bundle not found (named in {field})"
        chain = ["TLSInputReady=False: TLSInput is missing: combined-ca-bundle"]
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", cause, chain=chain)
        assert r["fix"] == f"create Secret combined-ca-bundle in {namespace} with tls-ca-bundle.pem, or fix {field}"
        # the CA bundle is there: the endpoint certificate is next (a Secret without one of its keys)
        api.apply(secret(namespace, "combined-ca-bundle", {"tls-ca-bundle.pem": "-----BEGIN CERTIFICATE-----"}))
        api.apply(secret(namespace, "cert-glance-internal", {"tls.crt": "-----BEGIN CERTIFICATE-----"}))
        chain = ["TLSInputReady=False: TLSInput is missing: cert-glance-internal"]
        r = await cause_of(
            kubeconfig, namespace, "GlanceAPI", "Secret cert-glance-internal has no key tls.key", chain=chain
        )
        assert r["fix"] == "add tls.key to Secret cert-glance-internal"


async def test_missing_custom_service_config_secret(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, customServiceConfigSecrets=["glance-extra"]))
        field = "spec.customServiceConfigSecrets of Glance glance"
        cause = f"Secret glance-extra not found (named in {field})"
        chain = ["ServiceConfigReady=False: Service config create error occurred Secret glance-extra not found"]
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", cause, chain=chain)
        assert r["fix"] == f"create Secret glance-extra in {namespace} with the extra config, or remove it from {field}"
        # present, but with an option Glance does not have: the operator's own check, quoted
        config = "[DEFAULT]\nenabled_backend = default_backend:file\n"
        api.apply(secret(namespace, "glance-extra", {"extra.conf": config}))
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", "invalid options in customServiceConfigSecrets")
        assert "Secret glance-extra key extra.conf: line 2: [DEFAULT] enabled_backend: unknown option" in r["cause"]
        assert "default_backend:file" not in r["cause"]  # names, never values


async def test_missing_application_credential_secret(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, apis=single_api(auth={"applicationCredentialSecret": "ac-glance"})))
        field = "spec.glanceAPIs.default.auth.applicationCredentialSecret of Glance glance"
        cause = f"Secret ac-glance not found (named in {field})"
        error = "ServiceConfigReady=False: Service config create error occurred ApplicationCredential secret"
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", cause, chain=[f"{error} not found: ac-glance"])
        assert r["fix"] == f"create Secret ac-glance in {namespace} with AC_ID, AC_SECRET, or fix {field}"
        api.apply(secret(namespace, "ac-glance", {"AC_ID": "0123456789abcdef"}))
        chain = [f"{error} missing required keys: ac-glance"]
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", "Secret ac-glance has no key AC_SECRET", chain=chain)
        assert r["fix"] == "add AC_SECRET to Secret ac-glance"


async def test_cinder_backend_without_cinder(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(
            glance(namespace, apis={"default": {"type": "split", "replicas": 1}}, customServiceConfig=CINDER_CONFIG)
        )
        cause = f"no Cinder in {namespace}: the cinder backend in customServiceConfig needs one"
        chain = ["CinderReady=False: Waiting for Cinder resources"]
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", cause, chain=chain)
        assert r["fix"] == (
            f"deploy Cinder (a Cinder CR) in {namespace}, or change enabled_backends in"
            " spec.customServiceConfig of Glance glance"
        )
        await cause_of(kubeconfig, namespace, "Glance", cause)


async def test_load_balancer_without_address(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    # no load balancer controller runs in the test cluster: a LoadBalancer Service never gets an address
    override = {"service": {"internal": {"spec": {"type": "LoadBalancer"}}}}
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, apis=single_api(override=override)))
        cause = "Service glance-default-internal is type LoadBalancer and has no address yet"
        chain = [
            "CreateServiceReady=False: Create service error occurred glance-default-internal LoadBalancer IP still pending"
        ]
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", cause, chain=chain)
        assert r["fix"] == (
            "check the load balancer controller (e.g. MetalLB) and its address pools, or change"
            " spec.glanceAPIs.default.override.service.internal.spec.type of Glance glance"
        )
        # what a load balancer controller does: then the operator carries on
        api.merge_patch(
            f"/api/v1/namespaces/{namespace}/services/glance-default-internal/status",
            {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}},
        )
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=60)


async def test_unschedulable_db_sync(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, nodeSelector={"node-role.kubernetes.io/glance": "true"}))
        chain = ["DBSyncReady=False: DBsync job still running"]
        r = await cause_of(
            kubeconfig, namespace, "Glance", "glance-db-sync Job cannot run: Pod glance-db-sync-", chain=chain
        )
        assert "unschedulable: 0/" in r["cause"] and "node affinity/selector" in r["cause"]
        assert r["fix"] == "check nodeSelector, topologyRef and node capacity"


async def test_statefulset_cannot_create_pods(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
        # room for the one API pod that runs, not for a second
        api.apply(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": "one-pod", "namespace": namespace},
                "spec": {"hard": {"pods": "1"}},
            }
        )
        api.merge_patch(
            f"/apis/glance.openstack.org/v1beta1/namespaces/{namespace}/glances/glance",
            {"spec": {"glanceAPIs": {"default": {"replicas": 2}}}},
        )
        cause = "StatefulSet glance-default-single cannot create pods: create Pod glance-default-single-1"
        r = await cause_of(
            kubeconfig, namespace, "GlanceAPI", cause, chain=["DeploymentReady=False: Deployment in progress"]
        )
        assert 'pods "glance-default-single-1" is forbidden' in r["cause"]
        assert f"a ResourceQuota, LimitRange or Pod Security level of namespace {namespace}" in r["fix"]


async def test_keystone_api_held_not_ready(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace, hold=("KeystoneAPI",)):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        chain = [
            "KeystoneServiceReady=False: KeystoneAPI not yet ready",
            "KeystoneService glance Ready=False: KeystoneAPI not yet ready",
        ]
        r = await cause_of(kubeconfig, namespace, "Glance", "KeystoneAPI keystone is not Ready", chain=chain)
        assert r["cause"] == "KeystoneAPI keystone is not Ready: the keystone operator reports 'Deployment in progress'"
        assert r["fix"] == "check the keystone operator (`kubectl describe keystoneapi keystone`)"


async def test_two_keystone_apis(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        keystone = api.read("keystone.openstack.org/v1beta1", "KeystoneAPI", "keystone", namespace)
        assert keystone is not None
        api.apply({**keystone, "metadata": {"name": "keystone-old", "namespace": namespace}, "status": {}})
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        cause = f"2 KeystoneAPIs in {namespace} (keystone, keystone-old); exactly one is needed"
        chain = ["ServiceConfigReady=False: Service config create error occurred expected one KeystoneAPI, found 2"]
        r = await cause_of(kubeconfig, namespace, "GlanceAPI", cause, chain=chain)
        assert r["fix"] == f"delete the KeystoneAPIs that are not this control plane's from {namespace}"
        await cause_of(kubeconfig, namespace, "Glance", cause)
