"""Spec §10 ("must get right"), on the real apiserver: one scenario per item that lives in the cluster.

Each test is named after its §10 item. Items that are properties of the rendered objects alone are proven
offline: schemas (1) in tests/unit/test_crds.py, webhook defaulting and verdicts (2, 3) in tests/unit/api and
tests/integration/test_webhooks.py, names and config files (4, 13-16, 18) in tests/unit/render, template
expansion (14) in tests/unit/render and the e2e suite; conditions (12) in test_condition_transitions.py;
removal of APIs (21) and keystoneEndpoint moves (8) in test_operator.py; finalizers (24) in
test_foreign_finalizers.py and test_operator.py.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from glance_operator.testing import KubeApi

from .operator_env import (
    GLANCE_V,
    SWIFT_CONFIG,
    condition,
    eventually,
    glance,
    is_ready,
    running_operator,
    secret,
    service_secret,
)


def read(api: KubeApi, api_version: str, kind: str, name: str, ns: str) -> dict[str, Any] | None:
    return api.read(api_version, kind, name, ns)


def ready(api: KubeApi, ns: str, name: str = "glance"):
    return lambda: is_ready(api, "Glance", name, ns)


def pvc_uid(api: KubeApi, name: str, ns: str) -> str | None:
    pvc = read(api, "v1", "PersistentVolumeClaim", name, ns)
    return pvc["metadata"]["uid"] if pvc else None


async def test_10_5_and_10_20_storage_layout_change_recreates_the_statefulset_and_reattaches_pvcs(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(ready(api, namespace), timeout=90)
        sts = read(api, "apps/v1", "StatefulSet", "glance-default-single", namespace)
        claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
        assert claims == {"glance"}
        image_pvc = pvc_uid(api, "glance-glance-default-single-0", namespace)
        assert image_pvc
        backend_hash = read(api, GLANCE_V, "GlanceAPI", "glance-default-single", namespace)["status"]["hash"][
            "backendHash"
        ]
        # when an image cache is added, the claim templates change (immutable): the StatefulSet is recreated
        api.apply(glance(namespace, imageCache={"size": "2G"}))

        def recreated() -> dict[str, Any] | None:
            s = read(api, "apps/v1", "StatefulSet", "glance-default-single", namespace)
            return s if s and s["metadata"]["uid"] != sts["metadata"]["uid"] else None

        new = await eventually(recreated, timeout=60)
        assert {t["metadata"]["name"] for t in new["spec"]["volumeClaimTemplates"]} == {"glance", "glance-cache"}
        await eventually(
            ready(api, namespace),
            timeout=90,
            describe=lambda: (
                read(api, "apps/v1", "StatefulSet", "glance-default-single", namespace)["status"],
                [
                    (
                        p["metadata"]["name"],
                        p["status"].get("phase"),
                        p["metadata"].get("deletionTimestamp"),
                        p["metadata"].get("ownerReferences"),
                        p["metadata"]["labels"].get("controller-revision-hash"),
                        p["status"].get("conditions"),
                    )
                    for p in api.list("v1", "Pod", namespace)
                ],
                [
                    (c["metadata"]["name"], c["status"].get("phase"))
                    for c in api.list("v1", "PersistentVolumeClaim", namespace)
                ],
            ),
        )
        # then the image PVC is the same claim, reattached; the cache claim is new; the backend hash moved
        assert pvc_uid(api, "glance-glance-default-single-0", namespace) == image_pvc
        assert pvc_uid(api, "glance-cache-glance-default-single-0", namespace)
        child = read(api, GLANCE_V, "GlanceAPI", "glance-default-single", namespace)
        assert child["status"]["hash"]["backendHash"] != backend_hash
        mounts = {
            m["mountPath"]
            for c in new["spec"]["template"]["spec"]["containers"]
            for m in c.get("volumeMounts") or []
            if m["name"] in ("glance", "glance-cache")
        }
        assert mounts == {"/var/lib/glance", "/var/lib/glance/image-cache"}


async def test_10_6_and_10_7_services_carry_the_control_planes_labels_and_annotations(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    def override(endpoint: str) -> dict[str, Any]:
        labels = {"osctlplane": "", "osctlplane-service": "glance", "tlGlanceAPI": "glance-default"}
        return {
            "metadata": {"labels": labels},
            **({"endpointURL": "https://glance.example.com"} if endpoint == "public" else {}),
        }

    apis = {
        "default": {
            "type": "split",
            "replicas": 1,
            "override": {"service": {"public": override("public"), "internal": override("internal")}},
        }
    }
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, apis=apis, customServiceConfig=SWIFT_CONFIG))
        g = await eventually(ready(api, namespace), timeout=90)
        # openstack-operator lists Services by its labels and needs exactly 2 per split API
        tagged = api.list("v1", "Service", namespace, labelSelector="osctlplane-service=glance")
        assert sorted(s["metadata"]["name"] for s in tagged) == ["glance-default-internal", "glance-default-public"]
        for half in ("external", "internal"):
            headless = read(api, "v1", "Service", f"glance-default-{half}-api", namespace)
            assert headless is not None and "osctlplane" not in headless["metadata"]["labels"]
        public = read(api, "v1", "Service", "glance-default-public", namespace)
        assert {
            k: public["metadata"]["labels"][k] for k in ("service", "component", "glanceAPI", "owner", "endpoint")
        } == {
            "service": "glance",
            "component": "glance-api",
            "glanceAPI": "glance-default-external",
            "owner": "glance-default-external",
            "endpoint": "public",
        }
        internal = read(api, "v1", "Service", "glance-default-internal", namespace)
        # only the public Service of the keystone-selected API asks for an ingress
        assert public["metadata"]["annotations"]["core.openstack.org/ingress_create"] == "true"
        assert internal["metadata"]["annotations"]["core.openstack.org/ingress_create"] == "false"
        assert public["metadata"]["annotations"]["endpoint"] == "public"
        # the reported URL honours override.service.public.endpointURL
        assert g["status"]["apiEndpoint"]["default-public"] == "https://glance.example.com"
        assert g["status"]["apiEndpoint"]["default-internal"] == f"http://glance-default-internal.{namespace}.svc:9292"
        pods = api.list("v1", "Pod", namespace, labelSelector="glanceAPI=glance-default-external")
        assert pods and all(p["metadata"]["labels"]["owner"] == "glance-default-external" for p in pods)


async def test_10_9_a_new_database_account_is_created_and_the_old_one_released(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    mariadb = "mariadb.openstack.org/v1beta1"
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(ready(api, namespace), timeout=90)
        old = read(api, mariadb, "MariaDBAccount", "glance", namespace)
        assert old["spec"]["userName"].startswith("glance_") and "openstack.org/glance" in old["metadata"]["finalizers"]
        # when the Glance moves to another account
        api.apply(glance(namespace, databaseAccount="glance-two"))
        await eventually(
            lambda: (g := is_ready(api, "Glance", "glance", namespace)) and g["metadata"]["generation"] == 2,
            timeout=90,
        )
        # then the new account exists with its own user and Secret, and the old one is released, not deleted
        new = read(api, mariadb, "MariaDBAccount", "glance-two", namespace)
        assert new["spec"]["userName"].startswith("glance_") and new["spec"]["secret"] == "glance-two-db-secret"
        await eventually(
            lambda: (
                "openstack.org/glance"
                not in (read(api, mariadb, "MariaDBAccount", "glance", namespace)["metadata"].get("finalizers") or [])
            ),
            timeout=30,
        )
        config = read(api, "v1", "Secret", "glance-config-data", namespace)
        conf = base64.b64decode(config["data"]["00-config.conf"]).decode()
        assert f"mysql+pymysql://{new['spec']['userName']}:" in conf and "read_default_file=/etc/my.cnf" in conf


async def test_10_10_db_sync_reruns_only_when_its_pod_spec_changes(api: KubeApi, kubeconfig, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        g = await eventually(ready(api, namespace), timeout=90)
        first_hash = g["status"]["hash"]["dbsync"]
        job = read(api, "batch/v1", "Job", "glance-db-sync", namespace)
        assert "glance-manage --config-dir /etc/glance/glance.conf.d db sync glance" in " ".join(
            job["spec"]["template"]["spec"]["containers"][0]["command"]
        ) + " ".join(job["spec"]["template"]["spec"]["containers"][0].get("args") or [])
        # when something outside the job's pod spec changes (replicas), the job is not run again
        api.apply(glance(namespace, apis={"default": {"type": "single", "replicas": 2}}))
        g = await eventually(
            lambda: (g := is_ready(api, "Glance", "glance", namespace)) and g["metadata"]["generation"] == 2 and g,
            timeout=90,
        )
        assert g["status"]["hash"]["dbsync"] == first_hash
        assert read(api, "batch/v1", "Job", "glance-db-sync", namespace)["metadata"]["uid"] == job["metadata"]["uid"]
        # when the image changes, the job's pod spec changes: it is replaced and run again
        api.apply(
            glance(
                namespace, apis={"default": {"type": "single", "replicas": 2}}, containerImage="example.org/glance:2"
            )
        )
        g = await eventually(
            lambda: (g := is_ready(api, "Glance", "glance", namespace)) and g["metadata"]["generation"] == 3 and g,
            timeout=90,
        )
        assert g["status"]["hash"]["dbsync"] != first_hash
        rerun = read(api, "batch/v1", "Job", "glance-db-sync", namespace)
        assert rerun["metadata"]["uid"] != job["metadata"]["uid"]
        assert rerun["spec"]["template"]["spec"]["containers"][0]["image"] == "example.org/glance:2"


async def test_10_17_single_layout_with_a_non_file_backend_needs_location_api(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        doc = glance(namespace, customServiceConfig=SWIFT_CONFIG)
        api.apply(doc)

        def refused() -> dict[str, Any] | None:
            c = condition(read(api, GLANCE_V, "Glance", "glance", namespace), "GlanceAPIReady")
            return c if c and c["status"] == "False" else None

        c = await eventually(refused, timeout=60)
        assert (c["reason"], c["severity"], c["message"]) == (
            "Error",
            "Warning",
            "glanceAPI layout type: single can only be used in combination with File and NFS backend",
        )
        assert read(api, GLANCE_V, "GlanceAPI", "glance-default-single", namespace) is None
        # when the location API is explicitly allowed, the same layout is deployed
        doc["metadata"]["annotations"] = {"glance.openstack.org/location-api": "true"}
        api.apply(doc)
        await eventually(ready(api, namespace), timeout=90)


async def test_10_19_taking_over_existing_objects_does_not_roll_the_pods(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    """Objects created by another controller with the same content (as after a move from the upstream operator)
    are adopted by a fresh operator without a new StatefulSet generation, i.e. without restarting pods."""
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(ready(api, namespace), timeout=90)
    sts = read(api, "apps/v1", "StatefulSet", "glance-default-single", namespace)
    pod = read(api, "v1", "Pod", "glance-default-single-0", namespace)
    # given objects that carry nothing of ours: our applied-hash marker removed by another field manager
    for api_version, kind, name in (
        ("apps/v1", "StatefulSet", "glance-default-single"),
        ("v1", "Service", "glance-default-internal"),
        ("v1", "Service", "glance-default-public"),
        ("v1", "Secret", "glance-default-single-config-data"),
    ):
        obj = read(api, api_version, kind, name, namespace)
        marker = [k for k in obj["metadata"].get("annotations") or {} if k.startswith("glance.openstack.org/applied")]
        assert marker, f"{kind} {name} has no applied-hash annotation"
        api.merge_patch(api.path_of(obj), {"metadata": {"annotations": dict.fromkeys(marker)}})
    # when a fresh operator takes them over
    async with running_operator(kubeconfig, namespace):
        await eventually(
            lambda: any(
                k.startswith("glance.openstack.org/applied")
                for k in read(api, "apps/v1", "StatefulSet", "glance-default-single", namespace)["metadata"].get(
                    "annotations"
                )
                or {}
            ),
            timeout=60,
        )
        await eventually(ready(api, namespace), timeout=60)
    # then the pod template is unchanged: same generation, same pod
    after = read(api, "apps/v1", "StatefulSet", "glance-default-single", namespace)
    assert after["metadata"]["generation"] == sts["metadata"]["generation"]
    assert read(api, "v1", "Pod", "glance-default-single-0", namespace)["metadata"]["uid"] == pod["metadata"]["uid"]


async def test_10_22_notifications_go_through_the_transport_url(api: KubeApi, kubeconfig, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, notificationsBus={"cluster": "rabbitmq"}))
        g = await eventually(ready(api, namespace), timeout=90)
        transport = read(api, "rabbitmq.openstack.org/v1beta1", "TransportURL", "glance-glance-transport", namespace)
        assert transport["spec"]["rabbitmqClusterName"] == "rabbitmq"
        secret_name = transport["status"]["secretName"]
        assert g["status"]["notificationBusSecret"] == secret_name
        child = read(api, GLANCE_V, "GlanceAPI", "glance-default-single", namespace)
        assert child["spec"]["notificationBusSecret"] == secret_name
        url = base64.b64decode(read(api, "v1", "Secret", secret_name, namespace)["data"]["transport_url"]).decode()
        config = read(api, "v1", "Secret", "glance-default-single-config-data", namespace)
        rendered = "".join(base64.b64decode(v).decode() for v in config["data"].values())
        assert re.search(rf"^transport_url\s*=\s*{re.escape(url)}$", rendered, re.M), "transport_url not rendered"
        assert re.search(r"^driver\s*=\s*messagingv2$", rendered, re.M), "notification driver not rendered"


async def test_10_23_image_cache_jobs_follow_the_pods_and_cache_claims_stay(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    apis = {"default": {"type": "single", "replicas": 2}}
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, apis=apis, imageCache={"size": "2G"}))
        await eventually(ready(api, namespace), timeout=120)
        crons = {c["metadata"]["name"] for c in api.list("batch/v1", "CronJob", namespace)}
        per_pod = {f"glance-default-single-{i}-{k}" for i in (0, 1) for k in ("cleaner", "pruner")}
        assert per_pod | {"glance-db-purge"} <= crons
        cleaner = read(api, "batch/v1", "CronJob", "glance-default-single-1-cleaner", namespace)
        affinity = cleaner["spec"]["jobTemplate"]["spec"]["template"]["spec"]["affinity"]["podAffinity"]
        term = affinity["requiredDuringSchedulingIgnoredDuringExecution"][0]
        assert term["labelSelector"]["matchExpressions"][0]["values"] == ["glance-default-single-1"]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        cache_claim = pvc_uid(api, "glance-cache-glance-default-single-1", namespace)
        assert cache_claim
        # when scaled down, the removed pod's jobs go; its claims stay (data is never deleted)
        api.apply(glance(namespace, apis={"default": {"type": "single", "replicas": 1}}, imageCache={"size": "2G"}))
        await eventually(
            lambda: read(api, "batch/v1", "CronJob", "glance-default-single-1-cleaner", namespace) is None, timeout=60
        )
        await eventually(ready(api, namespace), timeout=90)
        assert read(api, "batch/v1", "CronJob", "glance-default-single-0-pruner", namespace)
        assert pvc_uid(api, "glance-cache-glance-default-single-1", namespace) == cache_claim


async def test_10_25_rbac_objects_and_tls_wiring(api: KubeApi, kubeconfig, namespace: str) -> None:
    tls = {
        "caBundleSecretName": "combined-ca-bundle",
        "api": {"internal": {"secretName": "cert-glance-internal"}, "public": {"secretName": "cert-glance-public"}},
    }
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(secret(namespace, "combined-ca-bundle", **{"tls-ca-bundle.pem": "CA"}))
        for endpoint in ("internal", "public"):
            api.apply(secret(namespace, f"cert-glance-{endpoint}", **{"tls.crt": "CRT", "tls.key": "KEY"}))
        api.apply(glance(namespace, apis={"default": {"type": "single", "replicas": 1, "tls": tls}}))
        g = await eventually(ready(api, namespace), timeout=90)
        # RBAC objects of the Glance's pods, with the SCC rule
        assert read(api, "v1", "ServiceAccount", "glance-glance", namespace)
        role = read(api, "rbac.authorization.k8s.io/v1", "Role", "glance-glance-role", namespace)
        assert any("securitycontextconstraints" in r.get("resources", []) for r in role["rules"])
        binding = read(api, "rbac.authorization.k8s.io/v1", "RoleBinding", "glance-glance-rolebinding", namespace)
        assert binding["subjects"][0]["name"] == "glance-glance" and binding["roleRef"]["name"] == "glance-glance-role"
        # TLS: https URLs, HTTPS probes, certificates and CA bundle at their paths
        assert g["status"]["apiEndpoint"] == {
            "default-internal": f"https://glance-default-internal.{namespace}.svc:9292",
            "default-public": f"https://glance-default-public.{namespace}.svc:9292",
        }
        pod = read(api, "apps/v1", "StatefulSet", "glance-default-single", namespace)["spec"]["template"]["spec"]
        httpd = next(c for c in pod["containers"] if c["name"] == "glance-httpd")
        assert httpd["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
        mounts = {m["mountPath"] for m in httpd["volumeMounts"]}
        assert {
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            "/etc/pki/tls/certs/internal.crt",
            "/etc/pki/tls/private/internal.key",
            "/etc/pki/tls/certs/public.crt",
            "/etc/pki/tls/private/public.key",
        } <= mounts
