#!/usr/bin/env python3
"""Generate the OLM bundle (bundle/, bundle.Dockerfile) from `kubectl kustomize config/manifests`.

What operator-sdk's `generate bundle` does, for this operator: CRDs and extra objects (Services,
the metrics-reader ClusterRole) become files under bundle/manifests; the CSV base gets the install
strategy (the manager Deployment, its ClusterRoles as clusterPermissions and Role as permissions,
all for the controller-manager ServiceAccount), webhook definitions (OLM serves their certificates,
so cert-manager objects are dropped), relatedImages and alm-examples from config/samples.

    hack/gen_bundle.py [--version 0.0.1] [--image quay.io/.../glance-operator:v0.0.1] [--channels alpha]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "glance-operator"
Obj = dict[str, Any]
DROPPED = {"Namespace", "ServiceAccount", "ClusterRoleBinding", "RoleBinding", "Certificate", "Issuer"}
WEBHOOK_SERVICE_SUFFIX = "webhook-service"


def kubectl() -> str:
    sys.path.insert(0, str(ROOT))
    from glance_operator.testing.binaries import Binaries

    return str(Binaries.pinned().kubectl)


def build(kubectl_path: str) -> list[Obj]:
    out = subprocess.run(
        [kubectl_path, "kustomize", str(ROOT / "config" / "manifests")], check=True, capture_output=True, text=True
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _bound_roles(docs: list[Obj], sa: str) -> tuple[list[str], list[str]]:
    cluster, namespaced = [], []
    for d in docs:
        if d["kind"] in ("ClusterRoleBinding", "RoleBinding") and any(
            s.get("kind") == "ServiceAccount" and s.get("name") == sa for s in d.get("subjects") or []
        ):
            (cluster if d["roleRef"]["kind"] == "ClusterRole" else namespaced).append(d["roleRef"]["name"])
    return cluster, namespaced


def _webhooks(docs: list[Obj], deployment: str) -> list[Obj]:
    out = []
    for d in docs:
        if d["kind"] not in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            continue
        type_ = "MutatingAdmissionWebhook" if d["kind"].startswith("Mutating") else "ValidatingAdmissionWebhook"
        for w in d["webhooks"]:
            svc = w["clientConfig"]["service"]
            entry = {
                "type": type_,
                "generateName": w["name"],
                "admissionReviewVersions": w["admissionReviewVersions"],
                "containerPort": 443,
                "targetPort": 9443,
                "deploymentName": deployment,
                "failurePolicy": w.get("failurePolicy", "Fail"),
                "rules": w["rules"],
                "sideEffects": w["sideEffects"],
                "webhookPath": svc["path"],
            }
            out.append(entry)
    return out


def related_images(deployment: Obj) -> list[Obj]:
    images = []
    for c in deployment["spec"]["template"]["spec"]["containers"]:
        images.append({"name": f"{PACKAGE}-{c['name']}", "image": c["image"]})
        for env in c.get("env") or []:
            if env["name"].startswith("RELATED_IMAGE_") and env.get("value"):
                images.append({"name": env["name"].removeprefix("RELATED_IMAGE_").lower(), "image": env["value"]})
    return images


def alm_examples() -> list[Obj]:
    examples = []
    for name in ("glance_v1beta1_glance_file.yaml", "glance_v1beta1_glanceapi.yaml"):
        for doc in yaml.safe_load_all((ROOT / "config" / "samples" / name).read_text()):
            if doc and doc.get("apiVersion", "").startswith("glance.openstack.org/"):
                examples.append(doc)
    return examples


def make_csv(docs: list[Obj], version: str, image: str | None) -> tuple[Obj, list[Obj]]:
    (csv,) = [d for d in docs if d["kind"] == "ClusterServiceVersion"]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    if image:
        for c in deployment["spec"]["template"]["spec"]["containers"]:
            if c["name"] == "manager":
                c["image"] = image
    # OLM mounts the webhook certificate itself (apiservice-cert / webhook-cert volumes)
    pod = deployment["spec"]["template"]["spec"]
    pod["volumes"] = [v for v in pod.get("volumes") or [] if v["name"] != "cert"]
    for c in pod["containers"]:
        c["volumeMounts"] = [m for m in c.get("volumeMounts") or [] if m["name"] != "cert"]
    sa = pod["serviceAccountName"]
    cluster_roles, roles = _bound_roles(docs, sa)
    rules = {(d["kind"], d["metadata"]["name"]): d["rules"] for d in docs if d["kind"] in ("ClusterRole", "Role")}
    csv["metadata"]["name"] = f"{PACKAGE}.v{version}"
    csv["metadata"].pop("namespace", None)
    annotations = csv["metadata"].setdefault("annotations", {})
    annotations["alm-examples"] = json.dumps(alm_examples(), indent=2)
    annotations["containerImage"] = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    annotations["operators.operatorframework.io/project_layout"] = "python.glance-operator"
    spec = csv["spec"]
    spec["version"] = version
    spec["install"] = {
        "strategy": "deployment",
        "spec": {
            "deployments": [
                {
                    "name": deployment["metadata"]["name"],
                    "label": deployment["metadata"].get("labels", {}),
                    "spec": deployment["spec"],
                }
            ],
            "clusterPermissions": [
                {"serviceAccountName": sa, "rules": rule}
                for name in cluster_roles
                for rule in [rules[("ClusterRole", name)]]
            ],
            "permissions": [{"serviceAccountName": sa, "rules": rules[("Role", name)]} for name in roles],
        },
    }
    spec["webhookdefinitions"] = _webhooks(docs, deployment["metadata"]["name"])
    spec["relatedImages"] = related_images(deployment)
    bound = set(cluster_roles)
    extra = [
        d
        for d in docs
        if d["kind"] not in DROPPED
        and d["kind"] not in ("ClusterServiceVersion", "Deployment", "CustomResourceDefinition", "Role")
        and not d["kind"].endswith("WebhookConfiguration")
        and not (d["kind"] == "ClusterRole" and d["metadata"]["name"] in bound)
        and not (d["kind"] == "Service" and d["metadata"]["name"].endswith(WEBHOOK_SERVICE_SUFFIX))
    ]
    return csv, extra


def _file_name(obj: Obj) -> str:
    if obj["kind"] == "CustomResourceDefinition":
        return f"{obj['spec']['group']}_{obj['spec']['names']['plural']}.yaml"
    if obj["kind"] == "ClusterServiceVersion":
        return f"{PACKAGE}.clusterserviceversion.yaml"
    group = obj["apiVersion"].rpartition("/")[0] or "v1"
    return f"{obj['metadata']['name']}_{group.replace('.', '_') if group != 'v1' else 'v1'}_{obj['kind'].lower()}.yaml"


def write_bundle(out: pathlib.Path, docs: list[Obj], version: str, image: str | None, channels: str) -> list[str]:
    csv, extra = make_csv(docs, version, image)
    crds = [d for d in docs if d["kind"] == "CustomResourceDefinition"]
    manifests = out / "bundle" / "manifests"
    metadata = out / "bundle" / "metadata"
    shutil.rmtree(out / "bundle", ignore_errors=True)
    manifests.mkdir(parents=True)
    metadata.mkdir(parents=True)
    written = []
    for obj in [*crds, *extra, csv]:
        if obj["kind"] in ("CustomResourceDefinition", "ClusterRole"):  # cluster-scoped: OLM places the rest
            obj["metadata"].pop("namespace", None)
        path = manifests / _file_name(obj)
        path.write_text(yaml.safe_dump(obj, sort_keys=False, width=1000))
        written.append(str(path.relative_to(out)))
    labels = {
        "operators.operatorframework.io.bundle.mediatype.v1": "registry+v1",
        "operators.operatorframework.io.bundle.manifests.v1": "manifests/",
        "operators.operatorframework.io.bundle.metadata.v1": "metadata/",
        "operators.operatorframework.io.bundle.package.v1": PACKAGE,
        "operators.operatorframework.io.bundle.channels.v1": channels,
        "operators.operatorframework.io.bundle.channel.default.v1": channels.split(",")[0],
    }
    (metadata / "annotations.yaml").write_text(yaml.safe_dump({"annotations": labels}, sort_keys=False))
    dockerfile = ["FROM scratch", ""]
    dockerfile += [f"LABEL {k}={v}" for k, v in labels.items()]
    dockerfile += ["", "COPY bundle/manifests /manifests/", "COPY bundle/metadata /metadata/", ""]
    (out / "bundle.Dockerfile").write_text("\n".join(dockerfile))
    written += ["bundle/metadata/annotations.yaml", "bundle.Dockerfile"]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default="0.0.1")
    parser.add_argument("--image", default=None, help="operator image (default: config/manager's)")
    parser.add_argument("--channels", default="alpha")
    parser.add_argument("--out", default=str(ROOT), help="directory receiving bundle/ and bundle.Dockerfile")
    args = parser.parse_args(argv)
    for path in write_bundle(pathlib.Path(args.out), build(kubectl()), args.version, args.image, args.channels):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
