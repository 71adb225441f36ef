"""The policy sample: a policy file given through extraMounts changes what a user may do.

Baseline (test_file_backend.py): with Glance's defaults, a member may create a community image. The sample's
ConfigMap mounts a policy.yaml restricting ``communitize_image`` to admins, and customServiceConfig points
``[oslo_policy] policy_file`` at it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .client import GlanceClient
from .conftest import Deployer, Deployment
from .pod import load_sample


@pytest.fixture(scope="module")
def policy_glance(deployer: Deployer) -> Iterator[Deployment]:
    doc, sources = load_sample("glance_v1beta1_glance_policy.yaml")
    dep = deployer.deploy("policy", doc, sources)
    yield dep
    deployer.teardown(dep)


def test_policy_file_mounted(policy_glance: Deployment) -> None:
    g = policy_glance.api()
    assert "communitize_image" in g.pod.path("/etc/glance/policy.d/policy.yaml").read_text()


def test_member_may_not_communitize(policy_glance: Deployment, demo_token: str) -> None:
    with GlanceClient(policy_glance.api().url, demo_token) as c:
        refused = c.create_image("e2e-community", visibility="community", expect=403)
        assert "communitize" in refused["text"] or "not authorized" in refused["text"], refused["text"][:500]
        c.create_image("e2e-private", expect=201)  # everything else keeps its default


def test_admin_may_communitize(policy_glance: Deployment, admin_token: str) -> None:
    with GlanceClient(policy_glance.api().url, admin_token) as c:
        c.create_image("e2e-community-admin", visibility="community", expect=201)


def test_no_unexpected_errors_logged(policy_glance: Deployment) -> None:
    assert policy_glance.api().errors() == []
