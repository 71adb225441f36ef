"""Multistore, interoperable import (glance-direct via the staging store), copy-image, disk-format restrictions.

The multistore sample pairs a Ceph store with a file store on NFS (split APIs). Ceph needs a cluster, so this
CR keeps the sample's shape and options with the rbd store replaced by a second file store on the pod's PVC,
and ``type: single`` (one pod: two split pods would need the NFS share between them). The Ceph half is proven
by driver load in test_store_drivers.py.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest

from glance_operator.testing.processes import wait_until

from .client import GlanceClient, MiB
from .conftest import Deployer, Deployment

CR = {
    "apiVersion": "glance.openstack.org/v1beta1",
    "kind": "Glance",
    "metadata": {"name": "glance"},
    "spec": {
        "databaseInstance": "openstack",
        "memcachedInstance": "memcached",
        "secret": "osp-secret",
        "keystoneEndpoint": "default",
        "storage": {"storageRequest": "10G"},
        "customServiceConfig": "\n".join(
            [
                "[DEFAULT]",
                "enabled_backends = fast:file,nfs:file",
                "enabled_import_methods = [web-download,glance-direct,copy-image]",
                "[glance_store]",
                "default_backend = fast",
                "[fast]",
                "filesystem_store_datadir = /var/lib/glance/fast/",
                "store_description = Fast file store (default)",
                "[nfs]",
                "filesystem_store_datadir = /var/lib/glance/images/",
                "store_description = NFS file store",
                "[image_format]",
                "disk_formats = raw,qcow2,iso",
                "",
            ]
        ),
        "glanceAPIs": {"default": {"type": "single", "replicas": 1}},
    },
}
PAYLOAD = os.urandom(2 * MiB + 5)
SHA512 = hashlib.sha512(PAYLOAD).hexdigest()


@pytest.fixture(scope="module")
def multistore(deployer: Deployer) -> Iterator[Deployment]:
    dep = deployer.deploy("multistore", CR)
    yield dep
    deployer.teardown(dep)


@pytest.fixture
def admin(multistore: Deployment, admin_token: str) -> Iterator[GlanceClient]:
    with GlanceClient(multistore.api().url, admin_token) as c:
        yield c


def test_stores_listed(admin: GlanceClient) -> None:
    stores = admin.http.get("/v2/info/stores").json()["stores"]
    assert [(s["id"], s.get("default")) for s in stores] == [("fast", "true"), ("nfs", None)], stores
    methods = admin.http.get("/v2/info/import").json()["import-methods"]["value"]
    assert sorted(methods) == ["copy-image", "glance-direct", "web-download"], methods


def test_upload_to_chosen_store_then_copy(multistore: Deployment, admin: GlanceClient) -> None:
    img = admin.create_image("e2e-to-nfs")
    r = admin.upload(img["id"], PAYLOAD, store="nfs")
    assert r.status_code == 204, r.text
    assert admin.image(img["id"])["stores"] == "nfs"
    pod = multistore.api().pod
    assert hashlib.sha512(pod.path(f"/var/lib/glance/images/{img['id']}").read_bytes()).hexdigest() == SHA512
    r = admin.import_image(img["id"], "copy-image", stores=["fast"])
    assert r.status_code == 202, r.text
    done = admin.wait_image(img["id"], lambda i: set(i["stores"].split(",")) == {"fast", "nfs"}, "in both stores")
    assert done["os_hash_value"] == SHA512
    assert hashlib.sha512(pod.path(f"/var/lib/glance/fast/{img['id']}").read_bytes()).hexdigest() == SHA512
    locations = admin.http.get(f"/v2/images/{img['id']}/locations").json()
    assert sorted(loc["metadata"]["store"] for loc in locations) == ["fast", "nfs"], locations


def test_glance_direct_import(multistore: Deployment, demo_token: str) -> None:
    pod = multistore.api().pod
    with GlanceClient(multistore.api().url, demo_token) as member:
        img = member.create_image("e2e-glance-direct")
        r = member.stage(img["id"], PAYLOAD)
        assert r.status_code == 204, r.text
        staged = pod.path(f"/var/lib/glance/os_glance_staging_store/{img['id']}")
        assert staged.exists(), "the staged data is not in the rendered staging store"
        assert member.image(img["id"])["status"] == "uploading"
        r = member.import_image(img["id"], "glance-direct", stores=["nfs"])
        assert r.status_code == 202, r.text
        done = member.wait_image(img["id"], lambda i: i["status"] == "active", "active")
        assert done["stores"] == "nfs" and done["os_hash_value"] == SHA512, done
        # the import task removes the staged data just after the image goes active
        wait_until(lambda: not staged.exists(), timeout=30, what=f"staging data {staged} to be removed")


def test_disk_format_restriction(admin: GlanceClient) -> None:
    admin.create_image("e2e-qcow2", disk_format="qcow2", expect=201)
    refused = admin.create_image("e2e-vmdk", disk_format="vmdk", expect=400)
    assert "vmdk" in refused["text"] and "disk_format" in refused["text"], refused["text"][:500]


def test_no_unexpected_errors_logged(multistore: Deployment) -> None:
    assert multistore.api().errors() == []
