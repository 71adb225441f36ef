"""The multistore sample, split layout: stores, upload to a chosen store, copy-image, interoperable import
(glance-direct via the staging store), disk-format restrictions, and split location hiding (spec §6.2).

The CR is config/samples/glance_v1beta1_glance_multistore.yaml as shipped (``type: split``: both GlanceAPIs,
external and internal, run as two Glance processes sharing the database), with only the changes in
``sample_for_this_machine`` below, each needed because there is no Ceph cluster here. The Ceph half is proven
up to librados in test_store_drivers.py. The sample's NFS export is one directory shared by both pods, as an
NFS export is (``pod.materialise``).
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from glance_operator.testing.processes import wait_until

from .client import GlanceClient, MiB
from .conftest import Deployer, Deployment
from .pod import load_sample

SAMPLE = "glance_v1beta1_glance_multistore.yaml"
PAYLOAD = os.urandom(2 * MiB + 5)
SHA512 = hashlib.sha512(PAYLOAD).hexdigest()


def _replace_once(text: str, old: str, new: str) -> str:
    """Replace ``old`` exactly once; fail if the sample no longer contains it (then update this test)."""
    assert text.count(old) == 1, f"{SAMPLE} changed: expected exactly one {old!r} in\n{text}"
    return text.replace(old, new)


def sample_for_this_machine() -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    doc, sources = load_sample(SAMPLE)
    doc = copy.deepcopy(doc)
    spec = doc["spec"]
    conf = spec["customServiceConfig"]
    # 1. No Ceph cluster: the store `ceph` becomes a file store (same id, still the default backend). Its rbd
    #    options go; a datadir takes their place. (So the operator no longer renders image conversion on the
    #    external API: it does that only with an rbd store.)
    conf = _replace_once(conf, "enabled_backends = ceph:rbd,nfs:file", "enabled_backends = ceph:file,nfs:file")
    conf = _replace_once(
        conf,
        "rbd_store_ceph_conf = /etc/ceph/ceph.conf\nrbd_store_pool = images\nrbd_store_user = openstack\n",
        "filesystem_store_datadir = /var/lib/glance/ceph/\n",
    )
    spec["customServiceConfig"] = conf
    # 2. Ceph is shared by the external and internal pods; so must its stand-in be: an NFS volume (here one
    #    directory shared by the deployment's pods) at that datadir, beside the sample's own volumes.
    (extra,) = spec["extraMounts"][0]["extraVol"]
    extra["volumes"].append({"name": "ceph-standin", "nfs": {"server": "ceph-standin", "path": "/images"}})
    extra["mounts"].append({"name": "ceph-standin", "mountPath": "/var/lib/glance/ceph"})
    # Kept as shipped: type split, replicas 1, the ceph-conf-files Secret at /etc/ceph (unused now), the NFS
    # store, import methods, disk formats.
    assert spec["glanceAPIs"]["default"]["type"] == "split"
    return doc, sources


@pytest.fixture(scope="module")
def multistore(deployer: Deployer) -> Iterator[Deployment]:
    doc, sources = sample_for_this_machine()
    dep = deployer.deploy("multistore", doc, sources)
    yield dep
    deployer.teardown(dep)


@pytest.fixture
def admin(multistore: Deployment, admin_token: str) -> Iterator[GlanceClient]:
    """The external (public) API, the one users talk to."""
    with GlanceClient(multistore.api("external").url, admin_token) as c:
        yield c


@pytest.fixture
def internal(multistore: Deployment, admin_token: str) -> Iterator[GlanceClient]:
    """The internal API, the one Nova and Cinder talk to."""
    with GlanceClient(multistore.api("internal").url, admin_token) as c:
        yield c


def test_both_halves_run(multistore: Deployment) -> None:
    assert sorted(a.api_type for a in multistore.rendered.apis) == ["external", "internal"]
    assert len(multistore.apis) == 2


@pytest.mark.parametrize("api_type", ["external", "internal"])
def test_stores_listed(multistore: Deployment, admin_token: str, api_type: str) -> None:
    with GlanceClient(multistore.api(api_type).url, admin_token) as c:
        stores = c.http.get("/v2/info/stores").json()["stores"]
        assert [(s["id"], s.get("default")) for s in stores] == [("ceph", "true"), ("nfs", None)], stores
        methods = c.http.get("/v2/info/import").json()["import-methods"]["value"]
        assert sorted(methods) == ["copy-image", "glance-direct", "web-download"], methods


def test_upload_to_chosen_store_then_copy(multistore: Deployment, admin: GlanceClient, internal: GlanceClient) -> None:
    img = admin.create_image("e2e-to-nfs")
    r = admin.upload(img["id"], PAYLOAD, store="nfs")
    assert r.status_code == 204, r.text
    assert admin.image(img["id"])["stores"] == "nfs"
    pod = multistore.api("external").pod
    assert hashlib.sha512(pod.path(f"/var/lib/glance/images/{img['id']}").read_bytes()).hexdigest() == SHA512
    r = admin.import_image(img["id"], "copy-image", stores=["ceph"])
    assert r.status_code == 202, r.text
    done = admin.wait_image(img["id"], lambda i: set(i["stores"].split(",")) == {"ceph", "nfs"}, "in both stores")
    assert done["os_hash_value"] == SHA512
    assert hashlib.sha512(pod.path(f"/var/lib/glance/ceph/{img['id']}").read_bytes()).hexdigest() == SHA512
    locations = internal.http.get(f"/v2/images/{img['id']}/locations").json()
    assert sorted(loc["metadata"]["store"] for loc in locations) == ["ceph", "nfs"], locations


def test_split_location_hiding(multistore: Deployment, admin: GlanceClient, internal: GlanceClient) -> None:
    """Spec §6.2: the external API hides image locations, the internal one shows them (and serves the data)."""
    img = admin.create_image("e2e-locations")
    assert admin.upload(img["id"], PAYLOAD).status_code == 204
    external_view = admin.image(img["id"])
    assert external_view["stores"] == "ceph", external_view
    assert "locations" not in external_view and "direct_url" not in external_view, external_view
    internal_view = internal.image(img["id"])
    # A location is the writing pod's datadir path; in-pod both pods say /var/lib/glance/ceph, here it is the
    # external pod's translated path (which the internal pod can also open, so the download proves no sharing).
    datadir = multistore.api("external").pod.path("/var/lib/glance/ceph")
    assert internal_view["direct_url"] == f"file://{datadir}/{img['id']}", internal_view
    assert [loc["metadata"]["store"] for loc in internal_view["locations"]] == ["ceph"], internal_view
    r = internal.download(img["id"])
    assert r.status_code == 200 and hashlib.sha512(r.content).hexdigest() == SHA512


def test_glance_direct_import(multistore: Deployment, demo_token: str) -> None:
    external = multistore.api("external")
    with GlanceClient(external.url, demo_token) as member:
        img = member.create_image("e2e-glance-direct")
        r = member.stage(img["id"], PAYLOAD)
        assert r.status_code == 204, r.text
        staged = external.pod.path(f"/var/lib/glance/os_glance_staging_store/{img['id']}")
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


@pytest.mark.parametrize("api_type", ["external", "internal"])
def test_no_unexpected_errors_logged(multistore: Deployment, api_type: str) -> None:
    assert multistore.api(api_type).errors() == []
