"""`kubectl kustomize config/default` builds, and the real apiserver accepts every object (server dry-run).

cert-manager is not installed in the test control plane: minimal stand-in CRDs for Certificate and
Issuer (schema-less) are installed so those objects are dry-run too, rather than filtered out.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from glance_operator.testing import KubeApi
from glance_operator.testing.binaries import REPO_ROOT, Binaries

KUBECTL = str(Binaries.pinned().kubectl)
NAMESPACE = "glance-operator-system"


def kustomize(path: str) -> list[dict[str, Any]]:
    out = subprocess.run([KUBECTL, "kustomize", str(REPO_ROOT / path)], check=True, capture_output=True, text=True)
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def stub_crd(kind: str, plural: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.cert-manager.io"},
        "spec": {
            "group": "cert-manager.io",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }


def install_cert_manager_stubs(api: KubeApi) -> None:
    for kind, plural in (("Certificate", "certificates"), ("Issuer", "issuers")):
        api.apply(stub_crd(kind, plural))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # poll: CRDs are served once Established
        crds = [
            api.read("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"{p}.cert-manager.io")
            for p in ("certificates", "issuers")
        ]
        if all(
            any(
                c["type"] == "Established" and c["status"] == "True"
                for c in ((crd or {}).get("status") or {}).get("conditions") or []  # null until the CRD controller runs
            )
            for crd in crds
        ):
            return
        time.sleep(0.2)  # poll
    raise AssertionError("cert-manager stub CRDs not Established")


def test_default_overlay_builds_with_the_expected_objects() -> None:
    docs = kustomize("config/default")
    by_kind: dict[str, list[str]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d["metadata"]["name"])
    assert sorted(by_kind["CustomResourceDefinition"]) == [
        "glanceapis.glance.openstack.org",
        "glances.glance.openstack.org",
    ]
    assert by_kind["Namespace"] == [NAMESPACE]
    assert by_kind["Deployment"] == ["glance-operator-controller-manager"]
    assert "glance-operator-manager-role" in by_kind["ClusterRole"]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["serviceAccountName"] == "glance-operator-controller-manager"
    assert container["args"][:2] == ["run", "--leader-elect"]
    assert "--metrics-bind-address=:8443" in container["args"]
    env = {e["name"] for e in container["env"]}
    assert {"RELATED_IMAGE_GLANCE_API_IMAGE_URL_DEFAULT", "LEASE_DURATION", "RENEW_DEADLINE", "RETRY_PERIOD"} <= env
    assert container["resources"]["limits"]["memory"] == "128Mi"
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] and sc["capabilities"]["drop"] == ["ALL"] and not sc["allowPrivilegeEscalation"]
    assert (
        pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    )
    # every namespaced object lands in the operator namespace; bindings point at the prefixed ServiceAccount
    for d in docs:
        if d["kind"] not in ("CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterRoleBinding") and not d[
            "kind"
        ].endswith("WebhookConfiguration"):
            assert d["metadata"].get("namespace") == NAMESPACE, d["metadata"]["name"]
        for s in d.get("subjects", []):
            assert (s["name"], s["namespace"]) == ("glance-operator-controller-manager", NAMESPACE)


def test_default_overlay_applies_with_server_dry_run(api: KubeApi, kubeconfig: Path) -> None:
    install_cert_manager_stubs(api)
    # dry-run creates nothing, so the namespace must exist for the namespaced objects to be checked
    api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    built = subprocess.run(
        [KUBECTL, "kustomize", str(REPO_ROOT / "config/default")], check=True, capture_output=True, text=True
    ).stdout
    result = subprocess.run(
        [
            KUBECTL,
            f"--kubeconfig={kubeconfig}",
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=glance-operator-install-test",
            "--dry-run=server",
            "-f",
            "-",
        ],
        input=built,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    applied = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(applied) == len([d for d in yaml.safe_load_all(built) if d]), result.stdout
    assert any(
        "deployment.apps/glance-operator-controller-manager serverside-applied (server dry run)" in line
        for line in applied
    )
