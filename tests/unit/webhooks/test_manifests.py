"""config/webhook registers exactly what the server serves (names, paths, rules as upstream §3.1)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from glance_operator.webhooks.review import WEBHOOKS
from glance_operator.webhooks.server import DEFAULT_CERT_DIR, DEFAULT_PORT

CONFIG = Path(__file__).resolve().parents[3] / "config"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_manifests_match_served_webhooks() -> None:
    registered = {}
    for doc in _docs(CONFIG / "webhook" / "manifests.yaml"):
        action = {"MutatingWebhookConfiguration": "mutate", "ValidatingWebhookConfiguration": "validate"}[doc["kind"]]
        for hook in doc["webhooks"]:
            assert hook["admissionReviewVersions"] == ["v1"]
            assert hook["failurePolicy"] == "Fail" and hook["sideEffects"] == "None"
            assert "timeoutSeconds" not in hook  # upstream relies on the 10 s default
            assert hook["clientConfig"]["service"]["name"] == "webhook-service"
            (rule,) = hook["rules"]
            registered[hook["name"]] = (
                action,
                hook["clientConfig"]["service"]["path"],
                tuple(rule["apiGroups"]),
                tuple(rule["apiVersions"]),
                tuple(rule["operations"]),
                tuple(rule["resources"]),
            )
    served = {
        w.name: (w.action, w.path, ("glance.openstack.org",), ("v1beta1",), ("CREATE", "UPDATE"), (w.resource,))
        for w in WEBHOOKS
    }
    assert registered == served


def test_service_targets_the_server_port() -> None:
    (service,) = _docs(CONFIG / "webhook" / "service.yaml")
    assert service["metadata"]["name"] == "webhook-service"
    assert service["spec"]["ports"] == [{"port": 443, "protocol": "TCP", "targetPort": DEFAULT_PORT}]


def test_certificate_secret_is_mounted_where_the_server_reads() -> None:
    cert = next(d for d in _docs(CONFIG / "certmanager" / "certificate.yaml") if d["kind"] == "Certificate")
    patch = yaml.safe_load((CONFIG / "default" / "manager_webhook_patch.yaml").read_text())
    mounts = [op["value"] for op in patch if op["path"].endswith("volumeMounts/-")]
    volumes = [op["value"] for op in patch if op["path"].endswith("volumes/-")]
    assert mounts[0]["mountPath"] == DEFAULT_CERT_DIR
    assert volumes[0]["secret"]["secretName"] == cert["spec"]["secretName"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_default_overlay_builds_with_ca_injection() -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(CONFIG / "default")], capture_output=True, text=True, check=True
    ).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    configs = [d for d in docs if d["kind"].endswith("WebhookConfiguration")]
    assert len(configs) == 2
    for c in configs:
        assert c["metadata"]["annotations"]["cert-manager.io/inject-ca-from"].endswith("/glance-operator-serving-cert")
        for hook in c["webhooks"]:
            assert hook["clientConfig"]["service"]["name"] == "glance-operator-webhook-service"
    cert = next(d for d in docs if d["kind"] == "Certificate")
    assert cert["spec"]["dnsNames"][0] == "glance-operator-webhook-service.glance-operator-system.svc"
