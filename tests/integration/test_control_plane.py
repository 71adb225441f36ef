"""Smoke tests of the test control plane itself: CRD storage and validation, kwok-run workloads,
our volume provisioner, and garbage collection, all through the real apiserver."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from glance_operator.testing import ApiError, ControlPlane, KubeApi
from glance_operator.testing.kubeapi import Obj, load_yaml_documents
from glance_operator.testing.processes import wait_until
from glance_operator.testing.provisioner import PROVISIONER, parse_quantity

pytestmark = pytest.mark.integration

GLANCE_API_VERSION = "glance.openstack.org/v1beta1"
SAMPLES = Path(__file__).resolve().parents[2] / "config" / "samples"

DEFAULT_IMAGE = "quay.io/podified-antelope-centos9/openstack-glance-api:current-podified"
MINIMAL_GLANCE: Obj = {
    "apiVersion": GLANCE_API_VERSION,
    "kind": "Glance",
    "metadata": {"name": "glance"},
    "spec": {
        "containerImage": DEFAULT_IMAGE,
        "databaseInstance": "openstack",
        "keystoneEndpoint": "default",
        "secret": "osp-secret",
        "storage": {"storageRequest": "10G"},
        "imageCache": {"size": ""},
        "glanceAPIs": {"default": {"type": "single", "replicas": 1}},
    },
}


def with_webhook_defaults(glance: Obj) -> Obj:
    """What the defaulting webhook adds before the schema is checked (upstream does the same):
    the CRD requires spec.containerImage and spec.imageCache, which samples leave out."""
    glance["spec"].setdefault("containerImage", DEFAULT_IMAGE)
    glance["spec"].setdefault("imageCache", {})
    return glance


def glance_samples() -> dict[str, Obj]:
    """Every Glance in config/samples, by file stem (a minimal valid one until samples exist)."""
    samples: dict[str, Obj] = {}
    for path in sorted(SAMPLES.glob("*.yaml")):
        for doc in load_yaml_documents(path):
            if doc.get("kind") == "Glance" and doc.get("apiVersion") == GLANCE_API_VERSION:
                doc["metadata"].pop("namespace", None)
                samples[path.stem] = with_webhook_defaults(doc)
    return samples or {"minimal": copy.deepcopy(MINIMAL_GLANCE)}


def sample_glance() -> Obj:
    samples = glance_samples()
    return samples.get("glance_v1beta1_glance_file") or next(iter(samples.values()))


def assert_subset(expected: Any, actual: Any, path: str = "") -> None:
    """Everything we sent is stored unchanged (the apiserver may add defaults)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} was dropped by the apiserver"
            assert_subset(value, actual[key], f"{path}.{key}")
    else:
        assert expected == actual, f"{path}: sent {expected!r}, read back {actual!r}"


def condition(obj: Obj | None, type_: str) -> str | None:
    for c in (obj or {}).get("status", {}).get("conditions") or []:
        if c["type"] == type_:
            return str(c["status"])
    return None


def test_glance_samples_round_trip(api: KubeApi, namespace: str) -> None:
    samples = glance_samples()
    for stem, glance in samples.items():
        name = stem.removeprefix("glance_v1beta1_").replace("_", "-")
        glance["metadata"]["name"] = name
        try:
            created = api.create(glance, namespace)
        except ApiError as e:
            pytest.fail(f"config/samples/{stem}.yaml rejected: {e.message}")

        stored = api.read(GLANCE_API_VERSION, "Glance", name, namespace)
        assert stored is not None
        assert stored["metadata"]["uid"] == created["metadata"]["uid"]
        assert_subset(glance["spec"], stored["spec"], f"{stem}: spec")
        if "serviceUser" not in glance["spec"]:
            assert stored["spec"]["serviceUser"] == "glance", "CRD schema default not applied"
    listed = api.list(GLANCE_API_VERSION, "Glance", namespace)
    assert len(listed) == len(samples)


def test_bad_enum_is_rejected_by_the_crd_schema(api: KubeApi, namespace: str) -> None:
    glance = sample_glance()
    glance["spec"]["glanceAPIs"] = {"default": {"type": "bogus"}}

    with pytest.raises(ApiError) as excinfo:
        api.create(glance, namespace)

    err = excinfo.value
    assert err.status == 422 and err.reason == "Invalid"
    assert err.message == (
        f'Glance.glance.openstack.org "{glance["metadata"]["name"]}" is invalid: '
        'spec.glanceAPIs.default.type: Unsupported value: "bogus": '
        'supported values: "split", "single", "edge"'
    )
    assert api.read(GLANCE_API_VERSION, "Glance", glance["metadata"]["name"], namespace) is None


def test_statefulset_with_volume_claims_gets_ready_pods(api: KubeApi, namespace: str) -> None:
    labels = {"app": "web"}
    api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "web"},
            "spec": {
                "serviceName": "web",
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": "registry.invalid/web:1",
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                            }
                        ]
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
        namespace,
    )

    def ready() -> bool:
        sts = api.read("apps/v1", "StatefulSet", "web", namespace) or {}
        return bool(sts.get("status", {}).get("readyReplicas") == 2)

    wait_until(ready, timeout=90, what="StatefulSet web to have 2 ready replicas")

    pods = api.list("v1", "Pod", namespace, labelSelector="app=web")
    assert sorted(p["metadata"]["name"] for p in pods) == ["web-0", "web-1"]
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert condition(pod, "Ready") == "True"
        assert pod["spec"]["nodeName"].startswith("kwok-node-")
    for claim in ("data-web-0", "data-web-1"):
        pvc = api.read("v1", "PersistentVolumeClaim", claim, namespace)
        assert pvc is not None and pvc["status"]["phase"] == "Bound"
        assert pvc["spec"]["storageClassName"] == "standard"  # the default class was applied
        pv = api.read("v1", "PersistentVolume", pvc["spec"]["volumeName"])
        assert pv is not None and pv["status"]["phase"] == "Bound"
        assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
        assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == PROVISIONER
        assert Path(pv["spec"]["hostPath"]["path"]).is_dir()


def test_pvc_expansion_completes(api: KubeApi, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/data"
    api.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
        namespace,
    )
    wait_until(lambda: api.get(path)["status"].get("phase") == "Bound", timeout=60, what="PVC bound")

    api.merge_patch(path, {"spec": {"resources": {"requests": {"storage": "2Gi"}}}})

    def expanded() -> bool:
        capacity = api.get(path)["status"].get("capacity", {}).get("storage", "0")
        return parse_quantity(capacity) == 2 * 2**30

    wait_until(expanded, timeout=60, what="PVC status capacity 2Gi")
    pv = api.read("v1", "PersistentVolume", api.get(path)["spec"]["volumeName"])
    assert pv is not None and parse_quantity(pv["spec"]["capacity"]["storage"]) == 2 * 2**30


def test_job_completes(api: KubeApi, namespace: str) -> None:
    api.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "db-sync"},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "db-sync", "image": "registry.invalid/job:1"}],
                    }
                },
            },
        },
        namespace,
    )

    def complete() -> Obj | None:
        job = api.read("batch/v1", "Job", "db-sync", namespace)
        return job if condition(job, "Complete") == "True" else None

    job = wait_until(complete, timeout=90, what="Job db-sync Complete")
    assert job["status"]["succeeded"] == 1
    assert condition(job, "Failed") in (None, "False")
    pods = api.list("v1", "Pod", namespace, labelSelector="job-name=db-sync")
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"]


def test_deleting_an_owner_garbage_collects_its_children(
    api: KubeApi, namespace: str, control_plane: ControlPlane
) -> None:
    owner = api.create(sample_glance(), namespace)
    owner_ref = {
        "apiVersion": GLANCE_API_VERSION,
        "kind": "Glance",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    children = [
        ("ConfigMap", f"/api/v1/namespaces/{namespace}/configmaps/glance-config"),
        ("Secret", f"/api/v1/namespaces/{namespace}/secrets/glance-secret"),
    ]
    for kind, path in children:
        api.create(
            {
                "apiVersion": "v1",
                "kind": kind,
                "metadata": {"name": path.rsplit("/", 1)[1], "ownerReferences": [owner_ref]},
                "data": {},
            },
            namespace,
        )
    api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bystander"}}, namespace)

    api.remove(GLANCE_API_VERSION, "Glance", owner["metadata"]["name"], namespace)

    for kind, path in children:

        def gone(path: str = path) -> bool:
            return api.get_or_none(path) is None

        wait_until(gone, timeout=60, what=f"{kind} collected")
    assert api.read("v1", "ConfigMap", "bystander", namespace) is not None
    control_plane.check()
