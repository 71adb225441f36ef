"""Quotas through Keystone unified limits: an upload over imageSizeTotal is refused with Glance's message.

The CR is the quotas sample with small limits (MiB and image counts). The whole chain is real: the operator,
running against the embedded control plane with a KeystoneAPI CR that points at the session's Keystone,
registers ``spec.quotas`` as Keystone registered limits; the Glance API started from the rendered config
(``use_keystone_limits`` and ``[oslo_limit]``) enforces them.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from glance_operator.testing import ControlPlane

from .client import GlanceClient, MiB, response_reason
from .conftest import Deployer, Deployment
from .operator import GLANCE_V, start_operator
from .pod import load_sample
from .services.keystone import Keystone

QUOTAS = {"imageSizeTotal": 5, "imageStageTotal": 5, "imageCountTotal": 4, "imageCountUpload": 2}
KEYSTONE_RESOURCE = {
    "imageSizeTotal": "image_size_total",
    "imageStageTotal": "image_stage_total",
    "imageCountTotal": "image_count_total",
    "imageCountUpload": "image_count_uploading",
}


@pytest.fixture(scope="module")
def quota_glance(
    deployer: Deployer, keystone: Keystone, control_plane: ControlPlane, e2e_dir: Path
) -> Iterator[Deployment]:
    doc, sources = load_sample("glance_v1beta1_glance_quotas.yaml")
    doc = copy.deepcopy(doc)
    doc["spec"]["quotas"] = dict(QUOTAS)
    keystone.set_registered_limits({})  # nothing but the operator's limits
    op = start_operator(control_plane, keystone, e2e_dir / "logs", "e2e-quotas")
    try:
        op.apply_glance(doc)
        wanted = {KEYSTONE_RESOURCE[k]: v for k, v in QUOTAS.items()}
        op.wait(
            lambda: {n: lim["default_limit"] for n, lim in op.registered_limits().items()} == wanted,
            what="the operator registering spec.quotas in Keystone",
        )
        dep = deployer.deploy("quotas", doc, sources)
        yield dep
        deployer.teardown(dep)
        op.api.remove(GLANCE_V, "Glance", "glance", op.namespace)
        op.wait(lambda: op.glance() is None, what="Glance deleted")
        assert op.registered_limits() == {}, "the delete flow leaves no registered limits behind"
    finally:
        op.stop()
        keystone.set_registered_limits({})


def test_limits_rendered(quota_glance: Deployment) -> None:
    conf = quota_glance.api().config("00-config.conf")
    assert "use_keystone_limits = true" in conf


def test_usage_reports_the_limits(quota_glance: Deployment, demo_token: str) -> None:
    with GlanceClient(quota_glance.api().url, demo_token) as c:
        usage = c.http.get("/v2/info/usage").json()["usage"]
    assert {k: v["limit"] for k, v in usage.items()} == {KEYSTONE_RESOURCE[k]: v for k, v in QUOTAS.items()}


def test_upload_over_image_size_total_refused(quota_glance: Deployment, demo_token: str) -> None:
    with GlanceClient(quota_glance.api().url, demo_token) as c:
        first = c.create_image("e2e-quota-1")
        assert c.upload(first["id"], os.urandom(3 * MiB)).status_code == 204
        second = c.create_image("e2e-quota-2")
        r = c.upload(second["id"], os.urandom(3 * MiB))
        assert r.status_code == 413, r.text
        reason = response_reason(r)
        assert (
            "is over a limit for [Resource image_size_total is over limit of 5 due to current usage 3 and delta 3]"
            in (reason)
        ), reason


def test_no_unexpected_errors_logged(quota_glance: Deployment) -> None:
    assert quota_glance.api().errors() == []


def test_admin_creates_within_the_registered_limits(quota_glance: Deployment, admin_token: str) -> None:
    """Limits are defaults for every project: another project (admin) may create until its own count is reached."""
    with GlanceClient(quota_glance.api().url, admin_token) as c:
        r = c.http.post("/v2/images", json={"name": "e2e-q", "disk_format": "raw", "container_format": "bare"})
    assert r.status_code == 201, f"POST /v2/images -> {r.status_code}: {response_reason(r)}"
