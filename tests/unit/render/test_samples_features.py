"""Per sample: the feature it demonstrates is in the rendered objects, as the spec describes it.

Expected values come from the spec (upstream-behaviour.md: names §5.3/§5.7/§10.4, mounts §5.8, probes §5.9,
cache jobs §5.12, config §6.2-§6.5, TLS §6.8, region §6.9), not from our output.
"""

from __future__ import annotations

import configparser
import pathlib
from typing import Any

import pytest

from .test_samples_config import SAMPLE_DIR, decoded, ini, rendered

Obj = dict[str, Any]


def sample(name: str) -> pathlib.Path:
    return SAMPLE_DIR / f"glance_v1beta1_{name}.yaml"


def render(name: str, facts: dict[str, Any] | None = None) -> list[Obj]:
    return rendered(sample(name), facts)[1]


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[Obj], kind: str, name: str) -> Obj:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name, [o["metadata"]["name"] for o in of_kind(objects, kind)])
    return found[0]


def config(objects: list[Obj], api: str, key: str = "00-config.conf") -> str:
    return decoded(named(objects, "Secret", f"{api}-config-data"), key)


def pod(objects: list[Obj], api: str) -> Obj:
    sts = next(o for o in of_kind(objects, "StatefulSet") if o["metadata"]["labels"]["owner"] == api)
    return sts["spec"]["template"]["spec"]


def container(objects: list[Obj], api: str, name: str = "glance-httpd") -> Obj:
    return next(c for c in pod(objects, api)["containers"] if c["name"] == name)


def mounts(c: Obj) -> dict[str, Obj]:
    return {m["mountPath"]: m for m in c["volumeMounts"]}


def volumes(p: Obj) -> dict[str, Obj]:
    return {v["name"]: v for v in p["volumes"]}


def layered(objects: list[Obj], api: str) -> configparser.ConfigParser:
    """00 < 02 < 03, as oslo.config reads --config-dir (spec 6.3)."""
    parser = ini(config(objects, api))
    for key in ("02-config.conf", "03-config.conf"):
        parser.read_string(config(objects, api, key))
    return parser


# --- layouts and names (§10.4, §5.3, §5.7) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "apis", "statefulsets", "services"),
    [
        (
            "glance_single",
            ["glance-default-single"],
            ["glance-default-single"],
            ["glance-default-internal", "glance-default-public", "glance-default-single"],
        ),
        (
            "glance_split",
            ["glance-default-external", "glance-default-internal"],
            ["glance-default-external-api", "glance-default-internal-api"],
            [
                "glance-default-external-api",
                "glance-default-internal",
                "glance-default-internal-api",
                "glance-default-public",
            ],
        ),
        (
            "glance_edge",
            ["glance-az1-edge", "glance-az2-edge", "glance-central-single"],
            ["glance-az1-edge-api", "glance-az2-edge-api", "glance-central-single"],
            [
                "glance-az1-edge-api",
                "glance-az1-internal",
                "glance-az2-edge-api",
                "glance-az2-internal",
                "glance-central-internal",
                "glance-central-public",
                "glance-central-single",
            ],
        ),
    ],
)
def test_layout_names(name: str, apis: list[str], statefulsets: list[str], services: list[str]) -> None:
    objects = render(name)
    assert sorted(o["metadata"]["name"] for o in of_kind(objects, "GlanceAPI")) == apis
    assert sorted(o["metadata"]["name"] for o in of_kind(objects, "StatefulSet")) == statefulsets
    assert sorted(o["metadata"]["name"] for o in of_kind(objects, "Service")) == services
    for sts in of_kind(objects, "StatefulSet"):
        assert sts["spec"]["serviceName"] == sts["metadata"]["name"]  # the headless Service
        headless = named(objects, "Service", sts["metadata"]["name"])
        assert headless["spec"]["clusterIP"] == "None"


def test_split_external_serves_public_and_hides_locations() -> None:
    objects = render("glance_split")
    ks = {o["metadata"]["name"]: o["spec"]["endpoints"] for o in of_kind(objects, "KeystoneEndpoint")}
    assert ks == {
        "glance-default-external": {"public": "http://glance-default-public.openstack.svc:9292"},
        "glance-default-internal": {"internal": "http://glance-default-internal.openstack.svc:9292"},
    }
    external = ini(config(objects, "glance-default-external"))["DEFAULT"]
    internal = ini(config(objects, "glance-default-internal"))["DEFAULT"]
    assert (external["show_image_direct_url"], external["show_multiple_locations"]) == ("false", "false")
    assert (internal["show_image_direct_url"], internal["show_multiple_locations"]) == ("true", "true")
    assert {s["spec"]["replicas"] for s in of_kind(objects, "StatefulSet")} == {2}


def test_edge_only_central_is_in_keystone_and_mounts_reach_their_key() -> None:
    objects = render("glance_edge")
    assert [o["metadata"]["name"] for o in of_kind(objects, "KeystoneEndpoint")] == ["glance-central-single"]
    for api, secrets in (
        ("glance-central-single", ["ceph-conf-az0", "ceph-conf-az1", "ceph-conf-az2"]),
        ("glance-az1-edge", ["ceph-conf-az0", "ceph-conf-az1"]),
        ("glance-az2-edge", ["ceph-conf-az0", "ceph-conf-az2"]),
    ):
        ceph = volumes(pod(objects, api))["ceph"]
        assert [s["secret"]["name"] for s in ceph["projected"]["sources"]] == secrets
        assert mounts(container(objects, api))["/etc/ceph"]["name"] == "ceph"
    edge = ini(config(objects, "glance-az1-edge", "02-config.conf"))
    assert edge["DEFAULT"]["enabled_backends"] == "az1:rbd,az0:rbd"
    assert edge["glance_store"]["default_backend"] == "az1"
    env = {e["name"]: e.get("value") for e in container(objects, "glance-az1-edge")["env"]}
    assert env["GLANCE_DOMAIN"] == "glance-az1-edge-api.openstack.svc"


# --- keystone endpoint selection (§5.4, §5.3 item 2) --------------------------------------------------


def test_keystone_endpoint_only_for_the_selected_api() -> None:
    objects = render("glance_keystone_endpoint")
    (endpoint,) = of_kind(objects, "KeystoneEndpoint")
    assert endpoint["metadata"]["name"] == "glance-main-single"
    assert endpoint["spec"] == {
        "serviceName": "glance",
        "endpoints": {
            "internal": "http://glance-main-internal.openstack.svc:9292",
            "public": "http://glance-main-public.openstack.svc:9292",
        },
    }
    annotated = {
        o["metadata"]["name"]
        for o in of_kind(objects, "GlanceAPI")
        if o["metadata"]["annotations"].get("keystoneEndpoint")
    }
    assert annotated == {"glance-main-single"}
    ingress = {
        o["metadata"]["name"]: o["metadata"]["annotations"]["core.openstack.org/ingress_create"]
        for o in of_kind(objects, "Service")
        if o["metadata"]["annotations"].get("endpoint") == "public"
    }
    assert ingress == {"glance-main-public": "true", "glance-default-public": "false"}


# --- TLS (§5.3 item 4, §5.8, §5.9, §6.5, §6.8) --------------------------------------------------------


def test_tls_https_endpoints_ssl_vhosts_certs_and_ca_bundle() -> None:
    objects = render("glance_tls")
    api = "glance-default-single"
    (endpoint,) = of_kind(objects, "KeystoneEndpoint")
    assert endpoint["spec"]["endpoints"] == {
        "internal": "https://glance-default-internal.openstack.svc:9292",
        "public": "https://glance-default-public.openstack.svc:9292",
    }
    vhosts = config(objects, api, "10-glance-wsgi.conf")
    assert vhosts.count("SSLEngine on") == 2
    for endpoint_type in ("internal", "public"):
        assert f'SSLCertificateFile      "/etc/pki/tls/certs/{endpoint_type}.crt"' in vhosts
        assert f'SSLCertificateKeyFile   "/etc/pki/tls/private/{endpoint_type}.key"' in vhosts
    httpd = container(objects, api)
    m, v = mounts(httpd), volumes(pod(objects, api))
    for endpoint_type, secret in (
        ("internal", "cert-glance-default-internal-svc"),
        ("public", "cert-glance-default-public-svc"),
    ):
        assert v[f"{endpoint_type}-tls-certs"]["secret"]["secretName"] == secret
        assert m[f"/etc/pki/tls/certs/{endpoint_type}.crt"]["subPath"] == "tls.crt"
        assert m[f"/etc/pki/tls/private/{endpoint_type}.key"]["subPath"] == "tls.key"
    ca_path = "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
    assert v["combined-ca-bundle"]["secret"]["secretName"] == "combined-ca-bundle"
    assert m[ca_path]["subPath"] == "tls-ca-bundle.pem"
    assert httpd["livenessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert {e["name"]: e.get("value") for e in httpd["env"]}["URISCHEME"] == "HTTPS"
    # the CA bundle reaches the jobs too (6.8)
    sync = named(objects, "Job", "glance-db-sync")["spec"]["template"]["spec"]
    purge = named(objects, "CronJob", "glance-db-purge")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    for job_pod in (sync, purge):
        assert ca_path in mounts(job_pod["containers"][0])
    # my.cnf: TLS only when the database supports it (6.7)
    assert "ssl=1" not in config(objects, api, "my.cnf")
    tls_db = render("glance_tls", {"database": {**DB, "tls": True}})
    assert "ssl=1" in config(tls_db, api, "my.cnf")


DB = {"hostname": "openstack.openstack.svc", "username": "glance_a1b2", "password": "db-password"}


# --- policy, import plugins, signature verification, httpd overrides (§6.3, §6.4, §6.5) ---------------


def test_policy_file_from_extra_mount() -> None:
    objects = render("glance_policy")
    api = "glance-default-single"
    assert ini(config(objects, api, "02-config.conf"))["oslo_policy"]["policy_file"] == (
        "/etc/glance/policy.d/policy.yaml"
    )
    defaults = ini(config(objects, api))["oslo_policy"]
    assert (defaults["enforce_new_defaults"], defaults["enforce_scope"]) == ("true", "true")
    assert "policy_file" not in defaults  # the operator adds no policy file (6.3)
    assert layered(objects, api)["oslo_policy"]["policy_file"] == "/etc/glance/policy.d/policy.yaml"
    assert volumes(pod(objects, api))["glance-policy"]["configMap"] == {"name": "glance-policy"}
    for name in ("glance-httpd",):
        assert mounts(container(objects, api, name))["/etc/glance/policy.d"]["name"] == "glance-policy"


def test_import_plugins_from_custom_config() -> None:
    objects = render("glance_import_plugins")
    api = "glance-default-single"
    assert ini(config(objects, api))["image_import_opts"]["image_import_plugins"] == "['no_op']"
    merged = layered(objects, api)
    assert merged["image_import_opts"]["image_import_plugins"] == "[image_decompression,inject_image_metadata]"
    assert merged["inject_metadata_properties"]["inject"] == "hw_disk_bus:scsi,hw_scsi_model:virtio-scsi"
    assert merged["DEFAULT"]["enabled_import_methods"] == "[web-download,glance-direct]"


def test_signature_verification_uses_barbican() -> None:
    api = "glance-default-single"
    conf = ini(config(render("glance_signature_verification"), api))
    assert conf["key_manager"]["backend"] == "barbican"
    assert conf["barbican"]["auth_endpoint"] == "http://keystone-internal.openstack.svc:5000"
    assert "barbican_region_name" not in conf["barbican"]  # no endpoint ID yet (6.9)
    registered = render("glance_signature_verification", {"endpoint_ids": {api: "e1"}})
    conf = ini(config(registered, api))
    assert conf["barbican"]["barbican_region_name"] == "regionOne"
    assert ini(config(registered, api, "02-config.conf"))["barbican"]["barbican_endpoint_type"] == "internal"


def test_horizon_upload_cors_limits_and_timeouts() -> None:
    objects = render("glance_horizon_upload")
    api = "glance-default-single"
    assert ini(config(objects, api))["cors"]["allowed_origin"] == "https://horizon-openstack.apps.example.com"
    vhosts = config(objects, api, "10-glance-wsgi.conf")
    assert vhosts.count("LimitRequestBody 0") == 2
    assert vhosts.count("Timeout 600") == 2
    probe = container(objects, api)["livenessProbe"]
    assert (probe["periodSeconds"], probe["timeoutSeconds"]) == (180, 144)  # floor(600*0.3), int(180*0.8)
    assert layered(objects, api)["DEFAULT"]["image_size_cap"] == "107374182400"
    without = render("glance_horizon_upload", {"horizon_endpoint": ""})
    assert "cors" not in ini(config(without, api))


def test_httpd_overrides_mounted_and_included() -> None:
    objects = render("glance_httpd_overrides")
    api = "glance-default-single"
    assert volumes(pod(objects, api))["glance-httpd-overrides"]["configMap"] == {"name": "glance-httpd-overrides"}
    assert mounts(container(objects, api))["/etc/httpd/conf_custom"]["name"] == "glance-httpd-overrides"
    assert 'ServerRoot "/etc/httpd"' in config(objects, api, "httpd.conf")
    assert config(objects, api, "10-glance-wsgi.conf").count("IncludeOptional conf_custom/*.conf") == 2


# --- backends (§3.4, §6.4) -----------------------------------------------------------------------------


def test_multistore_enabled_backends_and_conversion_on_external() -> None:
    objects = render("glance_multistore")
    for api in ("glance-default-external", "glance-default-internal"):
        merged = layered(objects, api)
        assert merged["DEFAULT"]["enabled_backends"] == "ceph:rbd,nfs:file"
        assert merged["glance_store"]["default_backend"] == "ceph"
        assert merged["nfs"]["filesystem_store_datadir"] == "/var/lib/glance/images/"
        m = mounts(container(objects, api))
        assert m["/etc/ceph"]["name"] == "ceph"
        assert m["/var/lib/glance/images"]["name"] == "glance-nfs"
    external = ini(config(objects, "glance-default-external"))
    assert external["image_import_opts"]["image_import_plugins"] == "['image_conversion']"
    assert external["image_conversion"]["output_format"] == "raw"
    internal = ini(config(objects, "glance-default-internal"))
    assert internal["image_import_opts"]["image_import_plugins"] == "['no_op']"


def test_nfs_volume_at_the_image_directory() -> None:
    objects = render("glance_nfs")
    api = "glance-default-single"
    nfs = volumes(pod(objects, api))["glance-nfs"]
    assert nfs["nfs"] == {"server": "nfs.example.com", "path": "/exports/glance"}
    m = mounts(container(objects, api))
    assert m["/var/lib/glance/images"]["name"] == "glance-nfs"
    assert m["/var/lib/glance"]["name"] == "glance"  # staging and tasks stay on the pod's PVC
    assert layered(objects, api)["default_backend"]["filesystem_store_datadir"] == "/var/lib/glance/images/"
    assert named(objects, "StatefulSet", api)["spec"]["replicas"] == 3


def test_cinder_runs_privileged_with_host_mounts() -> None:
    objects = render("glance_cinder")
    for api in ("glance-default-external", "glance-default-internal"):
        p = pod(objects, api)
        assert p["hostPID"] is True
        httpd = container(objects, api)
        assert httpd["securityContext"]["privileged"] is True
        assert container(objects, api, "glance-log")["securityContext"]["allowPrivilegeEscalation"] is False
        m = mounts(httpd)
        for path in (
            "/dev",
            "/sys",
            "/run",
            "/lib/modules",
            "/etc/iscsi",
            "/etc/nvme",
            "/var/locks/openstack/os-brick",
        ):
            assert path in m, path
        for tool in ("/usr/sbin/iscsiadm", "/usr/sbin/multipath", "/usr/sbin/nvme"):
            assert (m[tool]["name"], m[tool]["subPath"]) == ("scripts", "run-on-host")
        custom = ini(config(objects, api, "02-config.conf"))["default_backend"]
        assert custom["cinder_store_auth_address"] == "http://keystone-internal.openstack.svc:5000"
        assert custom["cinder_store_password"] == "service-password"
    _, _, warnings = rendered(sample("glance_cinder"), {"cinder_present": False})
    assert any("Cinder" in w for w in warnings)


def test_storage_external_has_no_local_pvc() -> None:
    objects = render("glance_storage_external")
    api = "glance-default-single"
    sts = named(objects, "StatefulSet", api)
    assert "glance" not in [c["metadata"]["name"] for c in sts["spec"].get("volumeClaimTemplates", [])]
    assert "glance" not in volumes(pod(objects, api))
    m = mounts(container(objects, api))
    assert m["/var/lib/glance"]["name"] == "glance-shared"
    assert volumes(pod(objects, api))["glance-shared"]["persistentVolumeClaim"] == {"claimName": "glance-shared"}


def test_ceph_rbd_conversion_and_ceph_files() -> None:
    objects = render("glance_ceph")
    assert ini(config(objects, "glance-default-external"))["image_conversion"]["output_format"] == "raw"
    for api in ("glance-default-external", "glance-default-internal"):
        assert volumes(pod(objects, api))["ceph"]["secret"] == {"secretName": "ceph-conf-files"}
        assert mounts(container(objects, api))["/etc/ceph"]["readOnly"] is True


def test_swift_template_values_are_filled() -> None:
    objects = render("glance_swift")
    custom = ini(config(objects, "glance-default-external", "02-config.conf"))["default_backend"]
    assert custom["swift_store_auth_address"] == "http://keystone-internal.openstack.svc:5000"
    assert custom["swift_store_key"] == "service-password"
    assert custom["swift_store_user"] == "service:glance"


def test_s3_credentials_secret_becomes_03_config() -> None:
    objects = render("glance_s3")
    for i, api in enumerate(("glance-default-external", "glance-default-internal")):
        assert config(objects, api, "03-config.conf") == (
            "[default_backend]\n"
            "s3_store_host = https://s3.example.com\n"
            "s3_store_access_key = REPLACE_WITH_ACCESS_KEY\n"
            "s3_store_secret_key = REPLACE_WITH_SECRET_KEY\n"
            "s3_store_bucket = glance\n"
            "\n"
        ), i
        assert volumes(pod(objects, api))["glance-s3-credentials"]["secret"]["secretName"] == "glance-s3-credentials"
        assert mounts(container(objects, api))["/var/lib/config-data/secret-0"]["name"] == "glance-s3-credentials"
        assert "s3_store_cacert" not in config(objects, api, "02-config.conf")  # no CA bundle (6.3)


# --- cache, notifications, quotas ----------------------------------------------------------------------


def test_image_cache_pvc_options_and_jobs() -> None:
    objects = render("glance_image_cache")
    api = "glance-default-single"
    conf = ini(config(objects, api))
    assert conf["DEFAULT"]["image_cache_max_size"] == "2000000000"  # 2G (6.2)
    assert conf["DEFAULT"]["image_cache_dir"] == "/var/lib/glance/image-cache"
    assert conf["paste_deploy"]["flavor"] == "keystone+cachemanagement"
    claims = {c["metadata"]["name"]: c for c in named(objects, "StatefulSet", api)["spec"]["volumeClaimTemplates"]}
    assert claims["glance-cache"]["spec"]["resources"]["requests"]["storage"] == "2G"
    jobs = {o["metadata"]["name"]: o["spec"]["schedule"] for o in of_kind(objects, "CronJob")}
    assert jobs == {
        "glance-db-purge": "1 0 * * *",
        f"{api}-0-cleaner": "*/30 * * * *",
        f"{api}-0-pruner": "1 0 * * *",
    }


def test_notifications_through_notifications_bus_cluster() -> None:
    objects = render("glance_notifications")
    transport = named(objects, "TransportURL", "glance-glance-transport")
    assert transport["spec"]["rabbitmqClusterName"] == "rabbitmq"  # defect 1: the new field is honoured
    conf = ini(config(objects, "glance-default-single"))["oslo_messaging_notifications"]
    assert conf["driver"] == "messagingv2"
    assert conf["transport_url"].startswith("rabbit://")


def test_quotas_use_keystone_limits() -> None:
    objects = render("glance_quotas", {"endpoint_ids": {"glance-default-single": "e1"}})
    conf = ini(config(objects, "glance-default-single"))
    assert conf["DEFAULT"]["use_keystone_limits"] == "true"
    assert (conf["oslo_limit"]["endpoint_id"], conf["oslo_limit"]["endpoint_region_name"]) == ("e1", "regionOne")
    assert named(objects, "GlanceAPI", "glance-default-single")["spec"]["quota"] is True


# --- standalone GlanceAPI (§5) -------------------------------------------------------------------------


def test_standalone_glance_api() -> None:
    objects = render("glanceapi")
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in objects)
    assert kinds == [
        ("Secret", "glance-standalone-single-config-data"),
        ("Service", "glance-standalone-internal"),
        ("Service", "glance-standalone-public"),
        ("Service", "glance-standalone-single"),
        ("StatefulSet", "glance-standalone-single"),
    ]  # no KeystoneEndpoint: not annotated keystoneEndpoint
    assert pod(objects, "glance-standalone-single")["serviceAccountName"] == "glance-glance"


def test_standalone_glance_api_selected_for_keystone(tmp_path: pathlib.Path) -> None:
    text = (
        sample("glanceapi")
        .read_text()
        .replace("  labels:\n", "  annotations:\n    keystoneEndpoint: 'true'\n  labels:\n")
    )
    annotated = tmp_path / "api.yaml"
    annotated.write_text(text)
    objects = rendered(annotated)[1]
    (endpoint,) = of_kind(objects, "KeystoneEndpoint")
    assert endpoint["metadata"]["name"] == "glance-standalone-single"
    assert set(endpoint["spec"]["endpoints"]) == {"internal", "public"}
