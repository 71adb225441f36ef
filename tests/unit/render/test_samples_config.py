"""For every sample: the rendered config files parse and hold what spec §6.2 says for that sample's inputs.

Every file in config/samples (Glance samples and the standalone GlanceAPI) is rendered with the example facts
and the Secrets the sample ships; per-feature assertions live in test_samples_features.py.
"""

from __future__ import annotations

import base64
import configparser
import pathlib
from typing import Any

import pytest
import yaml

from glance_operator.api.admission import admit
from glance_operator.api.backends import enabled_backends
from glance_operator.api.defaults import Defaults
from glance_operator.render.offline import render_object

from .k8s_shape import check_object

SAMPLE_DIR = pathlib.Path(__file__).resolve().parents[3] / "config/samples"
SAMPLES = sorted(SAMPLE_DIR.glob("glance_v1beta1_*.yaml"))
NS = "openstack"


def documents(sample: pathlib.Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(sample.read_text()) if d]


def rendered(
    sample: pathlib.Path, facts: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """(the admitted Glance or GlanceAPI, every rendered object, warnings) as `glance-operator render` gives."""
    docs = documents(sample)
    doc = next(d for d in docs if d.get("kind") in ("Glance", "GlanceAPI"))
    result = admit(doc, Defaults(), namespace=NS)
    assert result.object is not None, result.errors
    objects, warnings, _ = render_object(result.object, facts, NS, docs)
    return result.object, objects, warnings


def ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    return parser


def decoded(secret: dict, key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def test_every_sample_file_is_covered() -> None:
    listed = yaml.safe_load((SAMPLE_DIR / "kustomization.yaml").read_text())["resources"]
    files = {p.name for p in SAMPLE_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert {p.name for p in SAMPLES} == files
    assert set(listed) | {"glance_v1beta1_glanceapi.yaml"} == files


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_object_is_well_shaped(sample: pathlib.Path) -> None:
    _, objects, _ = rendered(sample)
    assert [p for o in objects for p in check_object(o)] == []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_each_api_config_matches_its_inputs(sample: pathlib.Path) -> None:
    owner, objects, _ = rendered(sample)
    if owner["kind"] == "GlanceAPI":
        apis = [owner]
        notifications = bool(owner["spec"].get("notificationBusSecret"))
        quota = bool(owner["spec"].get("quota"))
    else:
        apis = [o for o in objects if o["kind"] == "GlanceAPI"]
        notifications = bool(owner["spec"].get("notificationsBus") or owner["spec"].get("notificationBusInstance"))
        quota = any(v > 0 for v in (owner["spec"].get("quotas") or {}).values())
    assert apis
    for api in apis:
        spec, name = api["spec"], api["metadata"]["name"]
        secret = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == f"{name}-config-data")
        conf = ini(decoded(secret, "00-config.conf"))
        assert conf["database"]["connection"].startswith("mysql+pymysql://glance_a1b2:")
        assert conf["database"]["connection"].endswith("/glance?read_default_file=/etc/my.cnf")
        assert conf["keystone_authtoken"]["www_authenticate_uri"] == "http://keystone-public.openstack.svc:5000"
        assert conf["keystone_authtoken"]["auth_url"] == "http://keystone-internal.openstack.svc:5000"
        assert conf["os_glance_staging_store"]["filesystem_store_datadir"] == "/var/lib/glance/os_glance_staging_store/"
        assert conf["os_glance_tasks_store"]["filesystem_store_datadir"] == "/var/lib/glance/os_glance_tasks_store/"
        assert conf["DEFAULT"]["log_file"] == f"/var/log/glance/{name}.log"
        assert conf["DEFAULT"]["show_image_direct_url"] == ("false" if spec["apiType"] == "external" else "true")
        cache = bool(spec["imageCache"]["size"])
        assert conf["paste_deploy"]["flavor"] == ("keystone+cachemanagement" if cache else "keystone")
        assert ("image_cache_dir" in conf["DEFAULT"]) == cache
        assert conf["DEFAULT"]["use_keystone_limits"] == ("true" if quota else "false")
        driver = conf["oslo_messaging_notifications"]["driver"]
        assert driver == ("messagingv2" if notifications else "noop")
        rbd = "rbd" in enabled_backends(spec.get("customServiceConfig", "")).types()
        plugins = conf["image_import_opts"]["image_import_plugins"]
        assert plugins == ("['image_conversion']" if rbd and spec["apiType"] == "external" else "['no_op']")
        # the user's config is the effective customServiceConfig, expanded, and parses on its own
        custom = decoded(secret, "02-config.conf")
        ini(custom)
        assert "{{ .ServicePassword }}" not in custom and "{{ .KeystoneInternalURL }}" not in custom
        ini(decoded(secret, "03-config.conf"))
        sts = next(o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["labels"]["owner"] == name)
        claims = [c["metadata"]["name"] for c in sts["spec"].get("volumeClaimTemplates", [])]
        assert ("glance" in claims) == (not spec["storage"].get("external", False))
        assert ("glance-cache" in claims) == cache
        mounts = {m["mountPath"] for c in sts["spec"]["template"]["spec"]["containers"] for m in c["volumeMounts"]}
        assert {
            "/etc/glance/glance.conf.d/00-config.conf",
            "/etc/glance/glance.conf.d/02-config.conf",
            "/etc/glance/glance.conf.d/03-config.conf",
            "/etc/my.cnf",
        } <= mounts
