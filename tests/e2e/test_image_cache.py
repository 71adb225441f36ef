"""The image cache sample: a second download is served from the cache and shows in the cache API."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import httpx
import pytest

from .client import GlanceClient, MiB
from .conftest import Deployer, Deployment
from .pod import load_sample


@pytest.fixture(scope="module")
def cache_glance(deployer: Deployer) -> Iterator[Deployment]:
    doc, sources = load_sample("glance_v1beta1_glance_image_cache.yaml")
    dep = deployer.deploy("image-cache", doc, sources)
    yield dep
    deployer.teardown(dep)


def test_worker_self_reference_url_written(cache_glance: Deployment) -> None:
    g = cache_glance.api()
    assert f"worker_self_reference_url=http://127.0.0.1:{g.port}" in g.config("01-config.conf")


def test_cache_api_version(cache_glance: Deployment) -> None:
    r = httpx.get(f"{cache_glance.api().url}/versions", timeout=10)
    assert [v["id"] for v in r.json()["versions"] if v["status"] == "CURRENT"] == ["v2.18"], r.text


def test_second_download_served_from_cache(cache_glance: Deployment, admin_token: str) -> None:
    g = cache_glance.api()
    payload = os.urandom(2 * MiB + 3)
    sha512 = hashlib.sha512(payload).hexdigest()
    with GlanceClient(g.url, admin_token) as c:
        assert c.http.get("/v2/cache").json() == {"cached_images": [], "queued_images": []}
        img = c.create_image("e2e-cache")
        assert c.upload(img["id"], payload).status_code == 204
        for _ in range(2):
            r = c.download(img["id"])
            assert r.status_code == 200 and hashlib.sha512(r.content).hexdigest() == sha512
        cached = c.http.get("/v2/cache").json()["cached_images"]
        assert [(x["image_id"], x["hits"]) for x in cached] == [(img["id"], 1)], cached
        # the legacy API of the keystone+cachemanagement flavor the operator renders
        assert c.http.get("/v2/cached_images").status_code == 200
    cache_file = g.pod.path(f"/var/lib/glance/image-cache/{img['id']}")
    assert hashlib.sha512(cache_file.read_bytes()).hexdigest() == sha512


def test_no_unexpected_errors_logged(cache_glance: Deployment) -> None:
    assert cache_glance.api().errors() == []
