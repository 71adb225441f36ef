"""The CRDs the harness wrote itself (glance_operator/testing/crds/) against the shared dependency CRDs:
which one is installed, and that ours stays equivalent to the shared one it stands in for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from glance_operator.testing import cluster
from glance_operator.testing.kubeapi import load_yaml_documents

NAD_FILE = "k8s.cni.cncf.io_network-attachment-definitions.yaml"
OURS = cluster.FALLBACK_CRDS / NAD_FILE
SHARED = cluster.SHARED_CRDS / "dependencies" / NAD_FILE


def crd(path: Path) -> dict[str, Any]:
    [doc] = [d for d in load_yaml_documents(path) if d.get("kind") == "CustomResourceDefinition"]
    return doc


def essential(node: Any) -> Any:
    """A schema without what does not change what the apiserver accepts or serves: descriptions, and the
    apiVersion/kind/metadata properties every structural schema gets anyway."""
    if isinstance(node, dict):
        out = {k: essential(v) for k, v in node.items() if k != "description"}
        props = out.get("properties")
        if isinstance(props, dict) and {"spec"} <= props.keys():
            out["properties"] = {k: v for k, v in props.items() if k not in ("apiVersion", "kind", "metadata")}
        return out
    if isinstance(node, list):
        return [essential(v) for v in node]
    return node


def test_our_nad_crd_defines_what_the_operator_reads() -> None:
    ours = crd(OURS)
    assert ours["metadata"]["name"] == "network-attachment-definitions.k8s.cni.cncf.io"
    [v1] = ours["spec"]["versions"]
    assert (v1["name"], v1["served"], v1["storage"]) == ("v1", True, True)
    spec_schema = v1["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert essential(spec_schema) == {"type": "object", "properties": {"config": {"type": "string"}}}
    assert "subresources" not in v1  # no status: nothing of a NAD is ever written by an operator


@pytest.mark.skipif(not SHARED.exists(), reason="no ../shared/reference/crds/dependencies checkout")
def test_our_nad_crd_is_equivalent_to_the_shared_one() -> None:
    ours, shared = crd(OURS), crd(SHARED)
    assert ours["metadata"]["name"] == shared["metadata"]["name"]
    assert essential(ours["spec"]) == essential(shared["spec"])


@pytest.mark.skipif(not SHARED.exists(), reason="no ../shared/reference/crds/dependencies checkout")
def test_the_shared_nad_crd_is_installed_when_there_is_one() -> None:
    nads = [p for p in cluster.crd_files() if p.name == NAD_FILE]
    assert nads == [SHARED]


def test_ours_is_installed_when_the_shared_set_has_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "dependencies").mkdir()
    monkeypatch.setattr(cluster, "SHARED_CRDS", tmp_path)
    nads = [p for p in cluster.crd_files() if p.name == NAD_FILE]
    assert nads == [OURS]
