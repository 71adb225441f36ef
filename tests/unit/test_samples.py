"""Every sample in config/samples passes `validate`; a broken copy is refused with the field named."""

from __future__ import annotations

import copy
import pathlib

import pytest
import yaml

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults

SAMPLES = sorted((pathlib.Path(__file__).resolve().parents[2] / "config/samples").glob("glance_v1beta1_*.yaml"))


def _ours(path: pathlib.Path) -> list[dict]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return [d for d in docs if d.get("apiVersion", "").startswith("glance.openstack.org/")]


def test_there_is_a_sample_per_feature() -> None:
    names = {p.stem.removeprefix("glance_v1beta1_") for p in SAMPLES}
    for feature in (
        "glance_file",
        "glance_nfs",
        "glance_ceph",
        "glance_cinder",
        "glance_swift",
        "glance_s3",
        "glance_multistore",
        "glance_image_cache",
        "glance_quotas",
        "glance_notifications",
        "glance_policy",
        "glance_import_plugins",
        "glance_signature_verification",
        "glance_horizon_upload",
        "glance_httpd_overrides",
        "glance_storage_external",
        "glance_split",
        "glance_single",
        "glance_edge",
        "glance_tls",
        "glance_keystone_endpoint",
        "glanceapi",
    ):
        assert feature in names


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_is_accepted(path: pathlib.Path) -> None:
    docs = _ours(path)
    assert docs, "a sample holds at least one Glance or GlanceAPI"
    assert docs[0] == next(d for d in yaml.safe_load_all(path.read_text()) if d), "ours comes first"
    for doc in docs:
        result = admit(doc, Defaults(), namespace="openstack")
        assert result.errors == []
        assert result.object is not None


@pytest.mark.parametrize("path", [p for p in SAMPLES if _ours(p)[0]["kind"] == "Glance"], ids=lambda p: p.name)
def test_broken_sample_is_refused_naming_the_field(path: pathlib.Path) -> None:
    doc = copy.deepcopy(_ours(path)[0])
    key = sorted(doc["spec"]["glanceAPIs"])[0]
    doc["spec"]["glanceAPIs"][key]["type"] = "triple"
    doc["spec"]["keystoneEndpoint"] = "nowhere"
    result = admit(doc, Defaults(), namespace="openstack")
    assert [str(e) for e in result.errors] == [
        f'spec.glanceAPIs[{key}].type: Unsupported value: "triple": supported values: "split", "single", "edge"'
    ]
    doc["spec"]["glanceAPIs"][key]["type"] = "single"
    result = admit(doc, Defaults(), namespace="openstack")
    assert (
        'spec.keystoneEndpoint: Invalid value: "nowhere": KeystoneEndpoint is assigned to an invalid GlanceAPI instance'
        in [str(e) for e in result.errors]
    )
