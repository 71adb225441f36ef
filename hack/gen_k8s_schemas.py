#!/usr/bin/env python3
"""Extract the schemas of the Kubernetes core types embedded in our CRDs.

Source: the OpenAPI v3 document shipped in the k8s.io/kubernetes Go module (fetched from the Go
module proxy with `go mod download`). Output: glance_operator/api/data/k8s-schemas.json, one fully
inlined schema per type, in the form controller-gen writes into CRDs:

* `$ref`/`allOf` wrappers are inlined;
* Quantity and IntOrString become `anyOf: [integer, string]` + `x-kubernetes-int-or-string`
  (Quantity also gets apimachinery's pattern);
* defaults: openapi-gen gives every required member a zero-value default and every struct item a
  `{}` default; controller-gen only emits explicit `+default` markers. We keep scalar defaults of
  optional members (e.g. LocalObjectReference.name: "") and drop the rest.

Usage: hack/gen_k8s_schemas.py [k8s-version]   (default: v1.34.2)
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

ROOTS = {
    "VolumeMount": "io.k8s.api.core.v1.VolumeMount",
    "ResourceRequirements": "io.k8s.api.core.v1.ResourceRequirements",
    "ConfigMapVolumeSource": "io.k8s.api.core.v1.ConfigMapVolumeSource",
    "CSIVolumeSource": "io.k8s.api.core.v1.CSIVolumeSource",
    "EmptyDirVolumeSource": "io.k8s.api.core.v1.EmptyDirVolumeSource",
    "NFSVolumeSource": "io.k8s.api.core.v1.NFSVolumeSource",
    "PersistentVolumeClaimVolumeSource": "io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource",
    "ProjectedVolumeSource": "io.k8s.api.core.v1.ProjectedVolumeSource",
    "SecretVolumeSource": "io.k8s.api.core.v1.SecretVolumeSource",
}
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
    r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
# Go types that embed LocalObjectReference (`+structType=atomic`): controller-gen carries the embedded
# struct's marker up to them as `x-kubernetes-map-type: atomic`, but the OpenAPI document, which
# flattens the embedding, does not. Upstream's CRDs have it, so we add it to match.
EMBED_ATOMIC_REFERENCE = {
    "io.k8s.api.core.v1.ConfigMapVolumeSource",
    "io.k8s.api.core.v1.ConfigMapProjection",
    "io.k8s.api.core.v1.SecretProjection",
    "io.k8s.api.core.v1.ConfigMapEnvSource",
    "io.k8s.api.core.v1.SecretEnvSource",
}
SPECIAL = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "pattern": QUANTITY_PATTERN,
        "x-kubernetes-int-or-string": True,
    },
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "x-kubernetes-int-or-string": True,
    },
}


def openapi_document(version: str) -> dict[str, Any]:
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
        check=True,
        capture_output=True,
        text=True,
        cwd="/",
    ).stdout
    moddir = pathlib.Path(json.loads(out)["Dir"])
    return json.loads((moddir / "api/openapi-spec/v3/api__v1_openapi.json").read_text())


def inline(schema: dict[str, Any], defs: dict[str, Any], required_member: bool = False) -> dict[str, Any]:
    ref = schema.get("$ref") or (schema.get("allOf") or [{}])[0].get("$ref")
    desc = schema.get("description")
    if ref:
        name = ref.rsplit("/", 1)[1]
        out = dict(SPECIAL[name]) if name in SPECIAL else inline(defs[name], defs)
        if name in EMBED_ATOMIC_REFERENCE:
            out["x-kubernetes-map-type"] = "atomic"
        if desc:
            out["description"] = desc
        return out
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "default":
            if isinstance(value, dict | list) or required_member:
                continue
            out[key] = value
        elif key == "properties":
            required = set(schema.get("required", []))
            out[key] = {p: inline(s, defs, p in required) for p, s in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            # openapi-gen's zero defaults on list items and map values are not markers either
            out[key] = inline(value, defs, required_member=True)
        elif key == "x-kubernetes-unions":
            continue
        else:
            out[key] = value
    return out


def main() -> None:
    version = sys.argv[1] if len(sys.argv) > 1 else "v1.34.2"
    defs = openapi_document(version)["components"]["schemas"]
    result = {"source": f"k8s.io/kubernetes@{version} api/openapi-spec/v3/api__v1_openapi.json"}
    for short, full in ROOTS.items():
        result[short] = inline({"$ref": f"#/components/schemas/{full}"}, defs)
    target = pathlib.Path(__file__).resolve().parent.parent / "glance_operator/api/data/k8s-schemas.json"
    target.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target} ({target.stat().st_size} bytes) from {version}")


if __name__ == "__main__":
    main()
