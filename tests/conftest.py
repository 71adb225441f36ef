"""Shared fixtures: one real control plane per session (started only when a test asks for it), a fresh
namespace per test. Integration tests and the e2e scenarios that run the operator share it.

The control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) comes
from glance_operator.testing; missing binaries are built by hack/build-control-plane.sh first
(slow the first time). Component logs stay in pytest's basetemp (see the report header).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from glance_operator.testing import ControlPlane, KubeApi


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    with ControlPlane(tmp_path_factory.mktemp("control-plane"), build=True) as cp:
        yield cp


@pytest.fixture
def api(control_plane: ControlPlane) -> KubeApi:
    control_plane.check()  # a dead component should fail here, with its log, not as a timeout later
    return control_plane.api


@pytest.fixture
def kubeconfig(control_plane: ControlPlane) -> Path:
    return control_plane.kubeconfig


@pytest.fixture
def namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    # a DNS label from the test name, e.g. test_job_completes[x] -> job-completes-x-1a2b3c4d
    prefix = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())[:40].strip("-")
    ns = control_plane.create_namespace(prefix or "test")
    yield ns
    control_plane.delete_namespace(ns)  # the namespace controller finishes it in the background
