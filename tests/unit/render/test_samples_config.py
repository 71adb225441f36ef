"""For every sample: the rendered config files parse and hold what spec §6.2 says for that sample's inputs."""

from __future__ import annotations

import base64
import configparser
import pathlib

import pytest
import yaml

from glance_operator.api.admission import admit
from glance_operator.api.backends import enabled_backends
from glance_operator.api.defaults import Defaults
from glance_operator.api.v1beta1 import Glance
from glance_operator.render.offline import load_facts, render_all

SAMPLES = sorted((pathlib.Path(__file__).resolve().parents[3] / "config/samples").glob("glance_v1beta1_glance_*.yaml"))


def rendered(sample: pathlib.Path) -> tuple[Glance, list[dict]]:
    doc = next(d for d in yaml.safe_load_all(sample.read_text()) if d)
    result = admit(doc, Defaults(), namespace="openstack")
    assert result.object is not None, result.errors
    glance = Glance.model_validate(result.object)
    objects, _ = render_all(glance, load_facts(None, "openstack"))
    return glance, objects


def ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    return parser


def decoded(secret: dict, key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_each_api_config_matches_its_inputs(sample: pathlib.Path) -> None:
    glance, objects = rendered(sample)
    apis = [o for o in objects if o["kind"] == "GlanceAPI"]
    assert apis
    notifications = bool(glance.spec.notifications_bus or glance.spec.notification_bus_instance)
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
        assert conf["DEFAULT"]["use_keystone_limits"] == ("true" if glance.spec.quotas.enabled() else "false")
        driver = conf["oslo_messaging_notifications"]["driver"]
        assert driver == ("messagingv2" if notifications else "noop")
        rbd = "rbd" in enabled_backends(spec.get("customServiceConfig", "")).types()
        plugins = conf["image_import_opts"]["image_import_plugins"]
        assert plugins == ("['image_conversion']" if rbd and spec["apiType"] == "external" else "['no_op']")
        # the user's config is the effective customServiceConfig, expanded, and parses on its own
        custom = decoded(secret, "02-config.conf")
        ini(custom)
        assert "{{ .ServicePassword }}" not in custom and "{{ .KeystoneInternalURL }}" not in custom
        sts = next(o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["labels"]["owner"] == name)
        claims = [c["metadata"]["name"] for c in sts["spec"].get("volumeClaimTemplates", [])]
        assert ("glance" in claims) == (not spec["storage"].get("external", False))
        assert ("glance-cache" in claims) == cache
        mounts = {m["mountPath"] for c in sts["spec"]["template"]["spec"]["containers"] for m in c["volumeMounts"]}
        assert {
            "/etc/glance/glance.conf.d/00-config.conf",
            "/etc/glance/glance.conf.d/02-config.conf",
            "/etc/my.cnf",
        } <= mounts
