"""The operator registers `spec.quotas` as Keystone registered limits, in a real Keystone (spec §6.10).

Given the operator running against the embedded control plane, with a KeystoneAPI CR that points at the
session's real Keystone, when a Glance with quotas is applied, changed, zeroed, re-enabled and deleted,
then Keystone's registered limits for the image service follow each step (defect 20 fixed: zeroing removes
them, and the delete flow removes them while the Keystone service still exists).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from glance_operator.testing import ControlPlane

from .operator import GLANCE_V, ClusterOperator, start_operator
from .pod import load_sample
from .services.keystone import REGION, Keystone

QUOTAS = {"imageSizeTotal": 100, "imageStageTotal": 50, "imageCountTotal": 20, "imageCountUpload": 0}


@pytest.fixture(scope="module")
def operator(control_plane: ControlPlane, keystone: Keystone, e2e_dir: Path) -> Iterator[ClusterOperator]:
    keystone.set_registered_limits({})
    op = start_operator(control_plane, keystone, e2e_dir / "logs", "e2e-quota-limits")
    try:
        yield op
    finally:
        op.stop()
        keystone.set_registered_limits({})


def quota_glance(quotas: dict[str, int]) -> dict[str, Any]:
    doc, _ = load_sample("glance_v1beta1_glance_quotas.yaml")
    doc = copy.deepcopy(doc)
    doc["spec"]["quotas"] = dict(quotas)
    return doc


def defaults(op: ClusterOperator) -> dict[str, int]:
    return {name: lim["default_limit"] for name, lim in op.registered_limits().items()}


def test_limits_follow_spec_quotas(operator: ClusterOperator) -> None:
    op = operator
    # given a Glance with quotas (one of them 0, which upstream registers as a 0 limit too)
    op.apply_glance(quota_glance(QUOTAS))
    expected = {"image_size_total": 100, "image_stage_total": 50, "image_count_total": 20, "image_count_uploading": 0}
    op.wait(lambda: defaults(op) == expected, what="registered limits created")
    limits = op.registered_limits()
    assert {lim["region_id"] for lim in limits.values()} == {REGION}
    assert limits["image_size_total"]["description"] == "default limit for  image_size_total"
    glance = op.glance()
    assert glance is not None and glance["status"]["serviceID"] == op.keystone.ids["image_service"]
    op.wait(lambda: "quotas" in ((op.glance() or {}).get("status") or {}).get("hash", {}), what="status.hash.quotas")

    # when one value changes, the existing limit is updated in place (same ID)
    op.apply_glance(quota_glance({**QUOTAS, "imageSizeTotal": 300}))
    op.wait(lambda: defaults(op).get("image_size_total") == 300, what="image_size_total updated")
    assert op.registered_limits()["image_size_total"]["id"] == limits["image_size_total"]["id"]

    # when every quota is set back to 0, the limits are removed (upstream leaves them behind)
    op.apply_glance(quota_glance(dict.fromkeys(QUOTAS, 0)))
    op.wait(lambda: op.registered_limits() == {}, what="limits removed when quotas are off")
    op.wait(
        lambda: "quotas" not in ((op.glance() or {}).get("status") or {}).get("hash", {}),
        what="status.hash.quotas cleared",
    )

    # when quotas come back and the Glance is then deleted, the delete flow removes them
    op.apply_glance(quota_glance(QUOTAS))
    op.wait(lambda: defaults(op) == expected, what="registered limits created again")
    op.api.remove(GLANCE_V, "Glance", "glance", op.namespace)
    op.wait(lambda: op.glance() is None, what="Glance deleted")
    assert op.registered_limits() == {}
