"""Backends that need outside services (Ceph, Swift, S3, Cinder): render, then load the store driver.

For each sample, the rendered files are materialised as in a pod and Glance's own start-up code path
(``wsgi_app``'s config discovery, ``glance_store.register_store_opts`` / ``create_multi_stores`` /
``verify_store``) runs, then ``get_store_from_store_identifier`` + ``configure_add`` per backend. None of
these drivers contacts its service before the first image operation, so this proves that Glance accepts the
rendered options and that every option in the backend's section is one the driver knows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import Deployer
from .pod import load_sample, render
from .services.glance import load_stores

CASES = {
    # sample: (backend id, driver class)
    "glance_v1beta1_glance_swift.yaml": ("default_backend", "glance_store._drivers.swift.store.SingleTenantStore"),
    "glance_v1beta1_glance_s3.yaml": ("default_backend", "glance_store._drivers.s3.Store"),
    "glance_v1beta1_glance_cinder.yaml": ("default_backend", "glance_store._drivers.cinder.store.Store"),
}


def _render_and_load(sample: str, deployer: Deployer, tmp_path: Path) -> list[dict[str, Any]]:
    doc, sources = load_sample(sample)
    rendered = render(doc, deployer.facts, config_secrets=sources)
    reports = []
    for api in rendered.apis:
        assert "{{" not in api.files["02-config.conf"], (
            f"unexpanded template in {api.name}: {api.files['02-config.conf']}"
        )
        report = load_stores(api, tmp_path / api.name, deployer.venv, {**rendered.secrets, **sources})
        report["api"] = api.name
        reports.append(report)
    return reports


@pytest.mark.parametrize("sample", sorted(CASES))
def test_store_driver_loads(sample: str, deployer: Deployer, tmp_path: Path) -> None:
    store_id, driver = CASES[sample]
    for report in _render_and_load(sample, deployer, tmp_path):
        where = f"{sample} ({report['api']})"
        assert "error" not in report, f"{where}: {report['error']}\n{report['log']}"
        entry = report["stores"][store_id]
        assert entry["unknown_options"] == [], f"{where}: options the {entry['type']} driver ignores: {entry}"
        assert entry["driver"] == driver, f"{where}: {entry}\n{report['log']}"
        assert entry["configured"], f"{where}: {entry}"


def test_rbd_driver_reaches_librados(deployer: Deployer, tmp_path: Path) -> None:
    """The rbd driver connects at start-up (glance_store 5.7), so without a Ceph cluster Glance cannot start.

    Proven instead: every option is known to the driver, and librados (Debian's, real) is handed the mounted
    ceph.conf and fails on exactly that file's mon_host, i.e. the rendered path, user and pool reached Ceph.
    """
    for report in _render_and_load("glance_v1beta1_glance_ceph.yaml", deployer, tmp_path):
        entry = report["stores"]["default_backend"]
        assert entry["type"] == "rbd" and entry["unknown_options"] == [], entry
        log = str(report["log"])
        assert "Error connecting to ceph cluster" in log, log
        assert "unable to parse addrs in 'ceph-mon-0.example.com" in log, log  # the sample's ceph.conf mon_host
