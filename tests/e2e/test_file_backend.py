"""The file backend sample, end to end: healthcheck, version document, auth, create/upload/download."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .client import GlanceClient, MiB
from .conftest import Deployer, Deployment
from .pod import load_sample
from .services.glance import RenderedConfigError, start_glance_api


@pytest.fixture(scope="module")
def file_glance(deployer: Deployer) -> Iterator[Deployment]:
    doc, sources = load_sample("glance_v1beta1_glance_file.yaml")
    dep = deployer.deploy("file", doc, sources)
    yield dep
    deployer.teardown(dep)


def test_db_sync_ran(file_glance: Deployment) -> None:
    out = file_glance.db_sync_output
    assert "Database is synced successfully" in out or "Upgraded database" in out, out[-3000:]


def test_healthcheck(file_glance: Deployment) -> None:
    g = file_glance.api()
    r = httpx.get(f"{g.url}/healthcheck", timeout=10)
    assert (r.status_code, r.text) == (200, "OK")
    # the paste file's disable_by_file_path points into the (translated) image /etc/glance
    flag = g.pod.path("/etc/glance/healthcheck_disable")
    flag.touch()
    try:
        r = httpx.get(f"{g.url}/healthcheck", timeout=10)
        assert (r.status_code, r.text) == (503, "DISABLED BY FILE")
    finally:
        flag.unlink()


def test_version_document_and_auth(file_glance: Deployment) -> None:
    g = file_glance.api()
    r = httpx.get(f"{g.url}/versions", timeout=10)
    current = [v["id"] for v in r.json()["versions"] if v["status"] == "CURRENT"]
    assert r.status_code == 200 and current == ["v2.17"], r.text  # no image cache in this sample
    r = httpx.get(f"{g.url}/v2/images", timeout=10)
    assert r.status_code == 401 and "Keystone uri=" in r.headers.get("WWW-Authenticate", "")


def test_create_upload_download(file_glance: Deployment, admin_token: str) -> None:
    g = file_glance.api()
    payload = os.urandom(3 * MiB + 17)
    md5, sha512 = hashlib.md5(payload).hexdigest(), hashlib.sha512(payload).hexdigest()
    with GlanceClient(g.url, admin_token) as c:
        img = c.create_image("e2e-file")
        assert img["status"] == "queued"
        r = c.upload(img["id"], payload)
        assert r.status_code == 204, r.text
        img = c.image(img["id"])
        assert img["status"] == "active" and img["checksum"] == md5 and img["os_hash_value"] == sha512, img
        assert img["stores"] == "default_backend", img
        r = c.download(img["id"])
        assert r.status_code == 200 and hashlib.sha512(r.content).hexdigest() == sha512
        assert r.headers["Content-MD5"] == md5
    # the bytes are where the rendered filesystem_store_datadir says, on the pod's PVC
    on_disk = g.pod.path(f"/var/lib/glance/images/{img['id']}")
    assert hashlib.sha512(on_disk.read_bytes()).hexdigest() == sha512


def test_member_may_publish_community_image(file_glance: Deployment, demo_token: str) -> None:
    """Baseline for the policy scenario: with Glance's default policy a member may create a community image."""
    with GlanceClient(file_glance.api().url, demo_token) as c:
        c.create_image("e2e-community", visibility="community", expect=201)


def test_no_unexpected_errors_logged(file_glance: Deployment) -> None:
    assert file_glance.api().errors() == []


def test_missing_staging_store_fails_the_start(file_glance: Deployment, deployer: Deployer, tmp_path: Path) -> None:
    """The harness's own check (glance-runtime.md pitfall 5): Glance starts without a staging store and only
    warns; every start in this suite must fail then. Proven by starting this deployment's API once more with
    ``[os_glance_staging_store]`` cut from its rendered 00-config.conf."""
    api = file_glance.rendered.api()
    conf = api.files["00-config.conf"]
    cut = re.sub(r"^\[os_glance_staging_store\]\n(?:(?!\[).*\n?)*", "", conf, flags=re.MULTILINE)
    assert cut != conf and "os_glance_staging_store" not in cut
    broken = dataclasses.replace(api, files={**api.files, "00-config.conf": cut})
    with pytest.raises(RenderedConfigError, match="Imports will fail!"):
        g = start_glance_api(broken, tmp_path / "pod", deployer.venv, tmp_path, file_glance.rendered.secrets)
        g.stop()
