"""GlanceAPI children (spec §5): assertions taken from the spec text."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glance_operator.api.v1beta1 import GlanceAPI
from glance_operator.render.facts import Database, GlanceAPIFacts, Keystone, Memcached, NetworkAttachment
from glance_operator.render.glanceapi import (
    CRONJOB_NAME_MAX,
    RenderError,
    build_glance_api,
    cronjob_name,
    parse_go_bool,
    parse_quantity,
)
from glance_operator.render.hashing import object_hash
from glance_operator.render.network import networks_annotation_value

from .k8s_shape import check_object

NS = "openstack"


def make_api(
    name: str = "glance-default-single",
    api_type: str = "single",
    key: str | None = "default",
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> GlanceAPI:
    labels = {"service": "glance"}
    if key is not None:
        labels["api-name"] = key
    body: dict[str, Any] = {
        "containerImage": "quay.io/podified/glance-api:current",
        "apiType": api_type,
        "serviceAccount": "glance-glance",
        "databaseHostname": "openstack.openstack.svc",
        "secret": "osp-secret",
        "replicas": 1,
        "apiTimeout": 60,
        "serviceUser": "glance",
        "storage": {"storageRequest": "10G"},
        "imageCache": {"size": "", "cleanerScheduler": "*/30 * * * *", "prunerScheduler": "1 0 * * *"},
    }
    body.update(spec)
    return GlanceAPI.model_validate(
        {
            "metadata": {
                "name": name,
                "namespace": NS,
                "uid": "uid-1",
                "labels": labels,
                "annotations": annotations or {},
            },
            "spec": body,
        }
    )


FACTS = GlanceAPIFacts(
    owner_uid="uid-1",
    database=Database(hostname="openstack.openstack.svc", username="glance_abc", password="dbpw"),
    keystone=Keystone(internal_url="http://keystone-internal.openstack.svc:5000", public_url="http://ks.example"),
    service_password="svcpw",
    memcached=Memcached(servers=("memcached-0.memcached.openstack.svc:11211",)),
    input_hashes=(("certs", "certhash"),),
)


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for item in items:
        if item["name"] == name:
            return item
    raise AssertionError(f"{name} not in {[i['name'] for i in items]}")


def containers(objs: Any) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in objs.statefulset["spec"]["template"]["spec"]["containers"]}


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container["env"]}


def secret_text(objs: Any, key: str) -> str:
    return base64.b64decode(objs.config_secret["data"][key]).decode()


def all_objects(objs: Any) -> list[dict[str, Any]]:
    out = [
        objs.config_secret,
        objs.headless_service,
        *objs.endpoint_services,
        objs.statefulset,
        *objs.cronjobs,
    ]
    if objs.keystone_endpoint:
        out.append(objs.keystone_endpoint)
    return out


# --- layouts, names, services --------------------------------------------------------------------


def test_split_external_serves_public_only() -> None:
    objs = build_glance_api(make_api("glance-default-external", "external"), FACTS)
    assert objs.statefulset["metadata"]["name"] == "glance-default-external-api"
    assert objs.headless_service["metadata"]["name"] == "glance-default-external-api"
    assert [s["metadata"]["name"] for s in objs.endpoint_services] == ["glance-default-public"]
    assert objs.api_endpoints == {"public": "http://glance-default-public.openstack.svc:9292"}
    assert objs.domain == "glance-default-external-api.openstack.svc"
    labels = objs.statefulset["metadata"]["labels"]
    assert labels == {
        "service": "glance",
        "component": "glance-api",
        "glanceAPI": "glance-default-external",
        "owner": "glance-default-external",
    }


def test_split_internal_and_edge_serve_internal_only() -> None:
    for name, api_type in (("glance-default-internal", "internal"), ("glance-e0-edge", "edge")):
        key = name.split("-")[1]
        objs = build_glance_api(make_api(name, api_type, key=key), FACTS)
        assert [s["metadata"]["name"] for s in objs.endpoint_services] == [f"glance-{key}-internal"]
        assert set(objs.api_endpoints) == {"internal"}
        assert objs.statefulset["metadata"]["name"] == f"{name}-api"


def test_single_serves_both_sorted_and_sts_named_like_api() -> None:
    objs = build_glance_api(make_api(), FACTS)
    assert objs.statefulset["metadata"]["name"] == "glance-default-single"
    assert objs.statefulset["spec"]["serviceName"] == "glance-default-single"
    assert [s["metadata"]["name"] for s in objs.endpoint_services] == [
        "glance-default-internal",
        "glance-default-public",
    ]


def test_headless_service_shape() -> None:
    svc = build_glance_api(make_api(), FACTS).headless_service
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["metadata"]["annotations"] == {
        "endpoint": "headless",
        "core.openstack.org/ingress_create": "false",
    }
    assert svc["spec"]["selector"] == svc["metadata"]["labels"]
    assert svc["spec"]["ports"] == [{"name": "glance-default-single", "port": 9292, "protocol": "TCP"}]
    assert "osctlplane" not in svc["metadata"]["labels"]


def test_endpoint_service_labels_annotations_and_ingress() -> None:
    api = make_api(annotations={"keystoneEndpoint": "true"})
    objs = build_glance_api(api, FACTS)
    internal, public = objs.endpoint_services
    assert public["metadata"]["labels"]["endpoint"] == "public"
    assert public["metadata"]["annotations"]["core.openstack.org/ingress_create"] == "true"
    assert internal["metadata"]["annotations"]["core.openstack.org/ingress_create"] == "false"
    assert public["metadata"]["annotations"]["additionalSubjectNames"] == (
        "*.glance-default-single.openstack.svc,*.glance-default-single.openstack.svc.cluster.local"
    )
    assert public["spec"]["type"] == "ClusterIP"
    assert "endpoint" not in public["spec"]["selector"]
    # not keystone-selected -> never ingress
    plain = build_glance_api(make_api(), FACTS)
    assert all(
        s["metadata"]["annotations"]["core.openstack.org/ingress_create"] == "false" for s in plain.endpoint_services
    )
    assert plain.keystone_endpoint is None


def test_overrides_labels_annotations_spec_and_endpoint_url() -> None:
    override = {
        "service": {
            "public": {
                "metadata": {
                    "labels": {"osctlplane": "", "osctlplane-service": "glance", "endpoint": "mine"},
                    "annotations": {"endpoint": "custom", "foo": "bar"},
                },
                "endpointURL": "https://glance-default-public-openstack.apps.example",
            },
            "internal": {
                "metadata": {"annotations": {"metallb.universe.tf/address-pool": "internalapi"}},
                "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
            },
        }
    }
    objs = build_glance_api(make_api(annotations={"keystoneEndpoint": "true"}, override=override), FACTS)
    internal, public = objs.endpoint_services
    assert public["metadata"]["labels"]["osctlplane"] == ""
    assert public["metadata"]["labels"]["endpoint"] == "mine"  # override wins on labels
    assert public["metadata"]["annotations"]["endpoint"] == "custom"  # override wins on annotations
    assert public["metadata"]["annotations"]["foo"] == "bar"
    assert objs.api_endpoints["public"] == "https://glance-default-public-openstack.apps.example"
    assert internal["spec"]["type"] == "LoadBalancer"
    assert internal["spec"]["externalTrafficPolicy"] == "Local"
    assert internal["spec"]["ports"][0]["port"] == 9292
    ann = internal["metadata"]["annotations"]
    assert ann["dnsmasq.network.openstack.org/hostname"] == "glance-default-internal.openstack.svc"
    assert ann["core.openstack.org/ingress_create"] == "false"
    assert "osctlplane" not in objs.headless_service["metadata"]["labels"]


def test_public_loadbalancer_is_not_ingress_even_when_selected() -> None:
    override = {"service": {"public": {"spec": {"type": "LoadBalancer"}}}}
    objs = build_glance_api(make_api(annotations={"keystoneEndpoint": "true"}, override=override), FACTS)
    public = objs.endpoint_services[1]
    assert public["metadata"]["annotations"]["core.openstack.org/ingress_create"] == "false"
    assert "dnsmasq.network.openstack.org/hostname" in public["metadata"]["annotations"]


def test_keystone_endpoint_only_when_annotated() -> None:
    objs = build_glance_api(make_api(annotations={"keystoneEndpoint": "true"}), FACTS)
    ke = objs.keystone_endpoint
    assert ke is not None
    assert ke["kind"] == "KeystoneEndpoint"
    assert ke["metadata"]["name"] == "glance-default-single"
    assert ke["metadata"]["finalizers"] == ["openstack.org/glanceapi"]
    assert ke["spec"] == {"serviceName": "glance", "endpoints": objs.api_endpoints}
    assert set(ke["spec"]["endpoints"]) == {"internal", "public"}
    assert build_glance_api(make_api(annotations={"keystoneEndpoint": "false"}), FACTS).keystone_endpoint is None


def test_owner_reference_on_every_object() -> None:
    objs = build_glance_api(make_api(annotations={"keystoneEndpoint": "true"}, imageCache={"size": "1G"}), FACTS)
    for obj in all_objects(objs):
        assert obj["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "glance.openstack.org/v1beta1",
                "kind": "GlanceAPI",
                "name": "glance-default-single",
                "uid": "uid-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ], obj["kind"]
        assert obj["metadata"]["namespace"] == NS


# --- config Secret --------------------------------------------------------------------------------


def test_config_secret_shape() -> None:
    objs = build_glance_api(make_api(), FACTS)
    sec = objs.config_secret
    assert sec["metadata"]["name"] == "glance-default-single-config-data"
    assert sec["type"] == "Opaque"
    assert sec["metadata"]["labels"]["glance.openstack.org/uid"] == "uid-1"
    assert sec["metadata"]["labels"]["owner"] == "glance-default-single"
    assert set(sec["data"]) >= {"00-config.conf", "02-config.conf", "03-config.conf", "my.cnf", "httpd.conf"}
    assert "svcpw" in secret_text(objs, "00-config.conf")
    assert objs.input_hashes["glance-default-single-config-data"] != ""


def test_custom_config_template_warning() -> None:
    api = make_api(customServiceConfig="[DEFAULT]\nfoo = {{ .NoSuchKey }}\n")
    objs = build_glance_api(api, FACTS)
    assert any("NoSuchKey" in w for w in objs.warnings)


def test_rbd_on_external_enables_image_conversion() -> None:
    cfg = "[DEFAULT]\nenabled_backends = default_backend:rbd\n"
    ext = build_glance_api(make_api("glance-default-external", "external", customServiceConfig=cfg), FACTS)
    assert "image_conversion" in secret_text(ext, "00-config.conf")
    internal = build_glance_api(make_api("glance-default-internal", "internal", customServiceConfig=cfg), FACTS)
    assert "image_conversion" not in secret_text(internal, "00-config.conf")


def test_s3_with_ca_bundle_gets_cacert_option() -> None:
    cfg = "[DEFAULT]\nenabled_backends = s3a:s3\n[s3a]\ns3_store_host = https://s3\n"
    objs = build_glance_api(make_api(customServiceConfig=cfg, tls={"caBundleSecretName": "combined-ca-bundle"}), FACTS)
    assert "[s3a]\ns3_store_cacert = /etc/pki/tls/certs/ca-bundle.crt\ns3_store_host" in secret_text(
        objs, "02-config.conf"
    )


# --- WSGI ---------------------------------------------------------------------------------------


def test_wsgi_default_two_containers() -> None:
    objs = build_glance_api(make_api(), FACTS)
    assert list(containers(objs)) == ["glance-log", "glance-httpd"]
    httpd = containers(objs)["glance-httpd"]
    assert httpd["command"] == ["/usr/bin/dumb-init"]
    script = httpd["args"][-1]
    assert httpd["args"][:4] == ["--single-child", "--", "/bin/bash", "-c"]
    assert script.endswith("exec /usr/sbin/httpd -DFOREGROUND")
    assert "worker_self_reference_url=${URISCHEME,,}://$(hostname).${GLANCE_DOMAIN}:${GLANCE_PORT}" in script
    paths = [m["mountPath"] for m in httpd["volumeMounts"]]
    assert "/etc/httpd/conf.d/10-glance-wsgi.conf" in paths
    log = containers(objs)["glance-log"]
    assert log["args"][-1] == "/usr/bin/tail -n+1 -F /var/log/glance/glance-default-single.log 2>/dev/null"
    assert log["volumeMounts"] == [{"name": "logs", "mountPath": "/var/log/glance"}]
    assert "livenessProbe" not in log


def test_wsgi_false_adds_glance_api_container() -> None:
    objs = build_glance_api(make_api(annotations={"glance.openstack.org/wsgi": "F"}), FACTS)
    cs = containers(objs)
    assert list(cs) == ["glance-log", "glance-httpd", "glance-api"]
    assert cs["glance-api"]["args"][-1].endswith("exec /usr/bin/glance-api --config-dir /etc/glance/glance.conf.d")
    api_paths = [m["mountPath"] for m in cs["glance-api"]["volumeMounts"]]
    assert not any(p.startswith("/etc/httpd") for p in api_paths)
    assert "/etc/httpd/conf.d/10-glance-proxypass.conf" in [m["mountPath"] for m in cs["glance-httpd"]["volumeMounts"]]


def test_wsgi_invalid_annotation_raises_naming_it() -> None:
    with pytest.raises(RenderError, match=r"glance\.openstack\.org/wsgi"):
        build_glance_api(make_api(annotations={"glance.openstack.org/wsgi": "yes"}), FACTS)


@pytest.mark.parametrize(("text", "value"), [("1", True), ("t", True), ("TRUE", True), ("False", False), ("0", False)])
def test_parse_go_bool(text: str, value: bool) -> None:
    assert parse_go_bool(text) is value


# --- env, mounts, volumes -----------------------------------------------------------------------


def test_env_sorted_and_values() -> None:
    objs = build_glance_api(make_api(), FACTS)
    for c in containers(objs).values():
        assert [e["name"] for e in c["env"]] == ["CONFIG_HASH", "GLANCE_DOMAIN", "GLANCE_PORT", "URISCHEME"]
        env = env_of(c)
        assert env["CONFIG_HASH"] == objs.config_hash
        assert env["GLANCE_DOMAIN"] == "glance-default-single.openstack.svc"
        assert env["GLANCE_PORT"] == "9292"
        # corev1.URISchemeHTTP: upper case; the worker script lower-cases it with ${URISCHEME,,}
        assert env["URISCHEME"] == "HTTP"


def test_mount_lists_in_order() -> None:
    api = make_api(customServiceConfigSecrets=["s1", "s2"])
    httpd = containers(build_glance_api(api, FACTS))["glance-httpd"]
    assert [(m["name"], m["mountPath"]) for m in httpd["volumeMounts"]] == [
        ("glance-config-dir", "/etc/glance/glance.conf.d"),
        ("config-data", "/etc/glance/glance.conf.d/00-config.conf"),
        ("config-data", "/etc/glance/glance.conf.d/02-config.conf"),
        ("config-data", "/etc/glance/glance.conf.d/03-config.conf"),
        ("config-data", "/etc/my.cnf"),
        ("config-data", "/etc/httpd/conf/httpd.conf"),
        ("config-data", "/etc/httpd/conf.d/10-glance-wsgi.conf"),
        ("config-data", "/etc/httpd/conf.d/ssl.conf"),
        ("glance", "/var/lib/glance"),
        ("s1", "/var/lib/config-data/secret-0"),
        ("s2", "/var/lib/config-data/secret-1"),
        ("logs", "/var/log/glance"),
        ("scripts", "/usr/local/bin/container-scripts"),
        ("run-httpd", "/run/httpd"),
    ]


def test_volumes_in_order() -> None:
    api = make_api(customServiceConfigSecrets=["s1"])
    vols = build_glance_api(api, FACTS).statefulset["spec"]["template"]["spec"]["volumes"]
    assert [v["name"] for v in vols] == [
        "config-data",
        "s1",
        "glance-config-dir",
        "logs",
        "scripts",
        "run-httpd",
    ]
    assert vols[0]["secret"] == {"secretName": "glance-default-single-config-data", "defaultMode": 0o440}
    assert vols[4]["secret"] == {"secretName": "glance-scripts", "defaultMode": 0o755}


# --- TLS ----------------------------------------------------------------------------------------


def test_tls_on_single() -> None:
    tls = {
        "caBundleSecretName": "combined-ca-bundle",
        "api": {"internal": {"secretName": "cert-internal"}, "public": {"secretName": "cert-public"}},
    }
    objs = build_glance_api(make_api(tls=tls), FACTS)
    assert objs.api_endpoints == {
        "internal": "https://glance-default-internal.openstack.svc:9292",
        "public": "https://glance-default-public.openstack.svc:9292",
    }
    httpd = containers(objs)["glance-httpd"]
    assert env_of(httpd)["URISCHEME"] == "HTTPS"
    assert httpd["livenessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert httpd["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    mounts = {m["mountPath"]: m for m in httpd["volumeMounts"]}
    assert mounts["/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"]["subPath"] == "tls-ca-bundle.pem"
    assert mounts["/etc/pki/tls/certs/internal.crt"]["name"] == "internal-tls-certs"
    assert mounts["/etc/pki/tls/private/public.key"]["subPath"] == "tls.key"
    vols = objs.statefulset["spec"]["template"]["spec"]["volumes"]
    assert [v["name"] for v in vols][-3:] == ["combined-ca-bundle", "internal-tls-certs", "public-tls-certs"]
    assert by_name(vols, "combined-ca-bundle")["secret"]["defaultMode"] == 0o444
    assert by_name(vols, "public-tls-certs")["secret"] == {"secretName": "cert-public", "defaultMode": 0o400}
    assert "SSLEngine on" in secret_text(objs, "10-glance-wsgi.conf")


def test_tls_off() -> None:
    objs = build_glance_api(make_api(), FACTS)
    assert all(u.startswith("http://") for u in objs.api_endpoints.values())
    httpd = containers(objs)["glance-httpd"]
    assert httpd["livenessProbe"]["httpGet"]["scheme"] == "HTTP"
    assert not any("tls" in v["name"] for v in objs.statefulset["spec"]["template"]["spec"]["volumes"])


def test_internal_scheme_follows_internal_tls_only() -> None:
    tls = {"api": {"public": {"secretName": "cert-public"}}}
    internal = build_glance_api(make_api("glance-default-internal", "internal", tls=tls), FACTS)
    assert env_of(containers(internal)["glance-httpd"])["URISCHEME"] == "HTTP"
    assert internal.api_endpoints["internal"].startswith("http://")
    assert "SSLEngine on" not in secret_text(internal, "10-glance-wsgi.conf")


def _vhost_blocks(objs: Any) -> dict[str, str]:
    text = secret_text(objs, "10-glance-wsgi.conf")
    return {
        re.search(r"ServerName (\S+)", b).group(1): b  # type: ignore[union-attr]
        for b in re.findall(r"<VirtualHost \*:9292>(.*?)</VirtualHost>", text, flags=re.S)
    }


@pytest.mark.parametrize("with_cert", ["public", "internal"])
def test_single_api_with_one_certificate_serves_one_protocol_defect_28(with_cert: str) -> None:
    """Upstream put an SSL and a plain vhost on the one port of a single API; one of them (or the probes) broke.

    Here the port's protocol is the public endpoint's (as the probes' scheme is upstream), both vhosts
    follow it, the reported URLs match what is served, and the user is warned.
    """
    objs = build_glance_api(make_api(tls={"api": {with_cert: {"secretName": f"cert-{with_cert}"}}}), FACTS)
    blocks = _vhost_blocks(objs)
    assert set(blocks) == {"glance-internal.openstack.svc", "glance-public.openstack.svc"}
    httpd = containers(objs)["glance-httpd"]
    tls_mounts = [m["mountPath"] for m in httpd["volumeMounts"] if "tls-certs" in m["name"]]
    if with_cert == "public":
        assert all("SSLEngine on" in b and "/etc/pki/tls/certs/public.crt" in b for b in blocks.values())
        assert set(objs.api_endpoints.values()) == {
            "https://glance-default-internal.openstack.svc:9292",
            "https://glance-default-public.openstack.svc:9292",
        }
        assert env_of(httpd)["URISCHEME"] == "HTTPS" and httpd["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
        assert tls_mounts == ["/etc/pki/tls/certs/public.crt", "/etc/pki/tls/private/public.key"]
    else:
        assert not any("SSLEngine" in b for b in blocks.values())
        assert all(u.startswith("http://") for u in objs.api_endpoints.values())
        assert env_of(httpd)["URISCHEME"] == "HTTP" and httpd["readinessProbe"]["httpGet"]["scheme"] == "HTTP"
        assert tls_mounts == []
    (warning,) = [w for w in objs.warnings if w.startswith("tls:")]
    assert ("served HTTPS" if with_cert == "public" else "served plain HTTP") in warning


def test_single_api_with_both_certificates_serves_each_its_own() -> None:
    tls = {"api": {"public": {"secretName": "cert-public"}, "internal": {"secretName": "cert-internal"}}}
    objs = build_glance_api(make_api(tls=tls), FACTS)
    blocks = _vhost_blocks(objs)
    assert "/etc/pki/tls/certs/internal.crt" in blocks["glance-internal.openstack.svc"]
    assert "/etc/pki/tls/certs/public.crt" in blocks["glance-public.openstack.svc"]
    assert all(u.startswith("https://") for u in objs.api_endpoints.values())
    assert not [w for w in objs.warnings if w.startswith("tls:")]


# --- storage and cache --------------------------------------------------------------------------


def test_local_pvc_template_and_storage_class() -> None:
    objs = build_glance_api(make_api(storage={"storageRequest": "10G", "storageClass": "local"}), FACTS)
    (claim,) = objs.statefulset["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "glance"
    assert claim["metadata"]["labels"]["backup.openstack.org/restore-order"] == "00"
    assert claim["metadata"]["labels"]["owner"] == "glance-default-single"
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "10G"}},
        "storageClassName": "local",
    }


def test_empty_storage_class_is_omitted_defect_26() -> None:
    objs = build_glance_api(make_api(), FACTS)
    (claim,) = objs.statefulset["spec"]["volumeClaimTemplates"]
    assert "storageClassName" not in claim["spec"]


def test_external_storage_has_no_local_pvc() -> None:
    objs = build_glance_api(make_api(storage={"external": True}), FACTS)
    assert "volumeClaimTemplates" not in objs.statefulset["spec"]
    mounts = containers(objs)["glance-httpd"]["volumeMounts"]
    assert "/var/lib/glance" not in [m["mountPath"] for m in mounts]


def test_cache_on() -> None:
    api = make_api(replicas=2, imageCache={"size": "2Gi", "cleanerScheduler": "*/5 * * * *", "prunerScheduler": ""})
    objs = build_glance_api(api, FACTS)
    claims = objs.statefulset["spec"]["volumeClaimTemplates"]
    assert [c["metadata"]["name"] for c in claims] == ["glance", "glance-cache"]
    assert claims[1]["metadata"]["annotations"] == {"image-cache": "true"}
    assert claims[1]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    mounts = containers(objs)["glance-httpd"]["volumeMounts"]
    assert {"name": "glance-cache", "mountPath": "/var/lib/glance/image-cache"} in mounts
    config = secret_text(objs, "00-config.conf")
    assert "flavor = keystone+cachemanagement" in config
    assert "image_cache_max_size =  2147483648" in config  # two spaces, as upstream
    names = [c["metadata"]["name"] for c in objs.cronjobs]
    assert names == [
        "glance-default-single-0-cleaner",
        "glance-default-single-0-pruner",
        "glance-default-single-1-cleaner",
        "glance-default-single-1-pruner",
    ]
    cleaner = objs.cronjobs[0]
    assert cleaner["spec"]["schedule"] == "*/5 * * * *"
    assert objs.cronjobs[1]["spec"]["schedule"] == "1 0 * * *"  # empty -> CRD default
    assert cleaner["spec"]["concurrencyPolicy"] == "Forbid"
    job = cleaner["spec"]["jobTemplate"]
    assert job["metadata"]["annotations"] == {"k8s.v1.cni.cncf.io/networks": "[]"}
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Never"
    term = pod_spec["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["labelSelector"]["matchExpressions"][0]["values"] == ["glance-default-single-0"]
    (c,) = pod_spec["containers"]
    assert c["name"] == "glance-default-single-0-cleaner"
    assert c["args"] == ["-c", "/usr/bin/glance-cache-cleaner --config-dir /etc/glance/glance.conf.d"]
    assert by_name(pod_spec["volumes"], "glance-cache")["persistentVolumeClaim"] == {
        "claimName": "glance-cache-glance-default-single-0"
    }


def test_cache_jobs_mount_the_custom_config_files_defect_22() -> None:
    """defect 22: upstream's cleaner/pruner see only 00-config.conf, so the user's cache options (02, 03) are lost."""
    api = make_api(
        imageCache={"size": "1G"},
        customServiceConfig="[DEFAULT]\nimage_cache_driver = centralized_db\n",
        customServiceConfigSecrets=["cache-secret"],
        tls={"caBundleSecretName": "ca"},
    )
    objs = build_glance_api(api, FACTS)
    assert [c["metadata"]["name"] for c in objs.cronjobs] == [
        "glance-default-single-0-cleaner",
        "glance-default-single-0-pruner",
    ]
    for cronjob in objs.cronjobs:
        pod_spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        config = by_name(pod_spec["volumes"], "image-cache-config-data")["secret"]
        assert config["secretName"] == "glance-default-single-config-data"
        assert [i["key"] for i in config["items"]] == ["00-config.conf", "02-config.conf", "03-config.conf"]
        (c,) = pod_spec["containers"]
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        assert mounts["/etc/glance/glance.conf.d"]["name"] == "image-cache-config-data"
        assert mounts["/etc/my.cnf"] == {
            "name": "config-data",
            "mountPath": "/etc/my.cnf",
            "subPath": "my.cnf",
            "readOnly": True,
        }
        assert "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem" in mounts
        assert mounts["/var/lib/glance/image-cache"]["name"] == "glance-cache"
        assert c["args"][1].endswith("--config-dir /etc/glance/glance.conf.d")
    assert "image_cache_driver = centralized_db" in secret_text(objs, "02-config.conf")


def test_cache_job_names_fit_the_cronjob_limit_defect_22() -> None:
    """defect 22: `<sts>-<n>-cleaner` could exceed the 52-character CronJob name limit."""
    api = make_api(
        "glance-averyveryverylongnamexx-external", "external", key="averyveryverylongnamexx", imageCache={"size": "1G"}
    )
    objs = build_glance_api(api, FACTS)
    names = [c["metadata"]["name"] for c in objs.cronjobs]
    assert all(len(n) <= CRONJOB_NAME_MAX for n in names), names
    assert names[0].endswith("-cleaner") and names[1].endswith("-pruner")
    assert len(set(names)) == 2


def test_memcached_ipv6_from_serverlist_with_inet_defect_31() -> None:
    """defect 31: on IPv6 the token cache servers are written inet6:[host]:port (upstream's WithInet style)."""
    facts = GlanceAPIFacts(
        **{
            **FACTS.__dict__,
            "memcached": Memcached(
                servers=("memcached-0.memcached.openstack.svc:11211",),
                servers_with_inet=("inet6:[memcached-0.memcached.openstack.svc]:11211",),
            ),
        }
    )
    config = secret_text(build_glance_api(make_api(), facts), "00-config.conf")
    assert "memcached_servers = inet6:[memcached-0.memcached.openstack.svc]:11211\n" in config
    assert "memcached_servers = memcached-0.memcached.openstack.svc:11211\n" in secret_text(
        build_glance_api(make_api(), FACTS), "00-config.conf"
    )


def test_config_secret_volumes_have_valid_unique_names() -> None:
    """Found by the Glance property test: upstream names each customServiceConfigSecrets volume like the Secret,
    but a Secret name may have dots or 253 characters, or be `logs`/`glance`, which made the StatefulSet invalid
    (or replaced the logs volume once deduplicated). Valid, free names are kept (no rollout on takeover)."""
    long_name = "s" * 70
    secrets = ["s3-creds", "my.secret", long_name, "logs", "glance", "config-secret-1"]
    objs = build_glance_api(make_api(customServiceConfigSecrets=secrets), FACTS)
    pod_spec = objs.statefulset["spec"]["template"]["spec"]
    volumes = {v["name"]: v.get("secret", {}).get("secretName") for v in pod_spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in containers(objs)["glance-httpd"]["volumeMounts"]}
    expected = [
        "s3-creds",
        "config-secret-1-1",
        "config-secret-2",
        "config-secret-3",
        "config-secret-4",
        "config-secret-1",
    ]
    for i, (secret, volume) in enumerate(zip(secrets, expected, strict=True)):
        assert mounts[f"/var/lib/config-data/secret-{i}"] == volume
        assert volumes[volume] == secret
    assert mounts["/var/log/glance"] == "logs" and volumes["logs"] is None  # still the emptyDir
    assert check_object(objs.statefulset) == []


def test_cache_off() -> None:
    objs = build_glance_api(make_api(), FACTS)
    assert objs.cronjobs == ()
    assert "keystone+cachemanagement" not in secret_text(objs, "00-config.conf")
    mounts = containers(objs)["glance-httpd"]["volumeMounts"]
    assert "/var/lib/glance/image-cache" not in [m["mountPath"] for m in mounts]


def test_cronjob_names_fit_52() -> None:
    pod = "glance-averyveryverylongname-external-api-12"
    name = cronjob_name(pod, "cleaner")
    assert len(name) <= CRONJOB_NAME_MAX
    assert name.endswith("-cleaner")
    assert name != cronjob_name(pod.replace("12", "13"), "cleaner")
    assert cronjob_name("glance-default-single-0", "pruner") == "glance-default-single-0-pruner"


def test_bad_cache_size_raises() -> None:
    with pytest.raises(RenderError):
        build_glance_api(make_api(imageCache={"size": "lots"}), FACTS)


@pytest.mark.parametrize(
    ("text", "value"), [("1G", 10**9), ("2Gi", 2 * 2**30), ("1.5k", 1500), ("1e3", 1000), ("1m", 1)]
)
def test_parse_quantity(text: str, value: int) -> None:
    assert parse_quantity(text) == value


# --- cinder -------------------------------------------------------------------------------------


def test_cinder_backend_privileged() -> None:
    cfg = "[DEFAULT]\nenabled_backends = default_backend:cinder\n"
    objs = build_glance_api(make_api(customServiceConfig=cfg), FACTS)
    assert objs.privileged
    pod_spec = objs.statefulset["spec"]["template"]["spec"]
    assert pod_spec["hostPID"] is True
    httpd = containers(objs)["glance-httpd"]
    assert httpd["securityContext"]["privileged"] is True
    assert containers(objs)["glance-log"]["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = httpd["volumeMounts"]
    shims = [m["mountPath"] for m in mounts if m.get("subPath") == "run-on-host"]
    assert shims == [
        "/usr/sbin/multipath",
        "/usr/sbin/multipathd",
        "/usr/sbin/iscsiadm",
        "/lib/udev/scsi_id",
        "/usr/sbin/nvme",
    ]
    assert all(m["name"] == "scripts" for m in mounts if m.get("subPath") == "run-on-host")
    vols = pod_spec["volumes"]
    assert by_name(vols, "var-locks-brick")["hostPath"] == {
        "path": "/var/locks/openstack/os-brick",
        "type": "DirectoryOrCreate",
    }
    assert by_name(vols, "etc-iscsi")["hostPath"] == {"path": "/etc/iscsi"}
    plain = build_glance_api(make_api(), FACTS).statefulset["spec"]["template"]["spec"]
    assert "hostPID" not in plain


# --- extraMounts --------------------------------------------------------------------------------


def _extra(propagation: list[str] | None, vol: str, path: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "volumes": [{"name": vol, "configMap": {"name": vol}}],
        "mounts": [{"name": vol, "mountPath": path}],
    }
    if propagation is not None:
        entry["propagation"] = propagation
    return {"extraVol": [entry]}


def test_extra_mounts_propagation_and_dedup() -> None:
    extra = [
        _extra(["Glance", "GlanceAPI"], "ceph", "/etc/ceph"),  # matches twice: used once (defect 36)
        _extra(["default"], "only-default", "/etc/a"),
        _extra(["edge0"], "only-edge", "/etc/b"),
        _extra(["All"], "everyone", "/etc/c"),
        _extra(None, "no-prop", "/etc/d"),
        _extra(["DBSync"], "dbsync", "/etc/e"),
    ]
    objs = build_glance_api(make_api(extraMounts=extra), FACTS)
    vols = [v["name"] for v in objs.statefulset["spec"]["template"]["spec"]["volumes"]]
    assert vols[:6] == ["config-data", "ceph", "only-default", "everyone", "no-prop", "glance-config-dir"]
    mounts = [m["mountPath"] for m in containers(objs)["glance-httpd"]["volumeMounts"]]
    idx = mounts.index("/var/lib/glance")
    assert mounts[idx + 1 : idx + 5] == ["/etc/ceph", "/etc/a", "/etc/c", "/etc/d"]
    assert check_object(objs.statefulset) == []


def test_extra_mounts_clash_is_dropped_with_warning() -> None:
    extra = [
        _extra(None, "logs", "/etc/x"),
        _extra(None, "dup", "/etc/ceph"),
        _extra(None, "dup", "/etc/ceph2"),
    ]
    objs = build_glance_api(make_api(extraMounts=extra), FACTS)
    assert check_object(objs.statefulset) == []
    assert any("'logs'" in w for w in objs.warnings)
    assert any("'dup'" in w for w in objs.warnings)


def test_memcached_mtls_mounts() -> None:
    facts = GlanceAPIFacts(
        **{**FACTS.__dict__, "memcached": Memcached(servers=("m:11211",), tls=True, mtls_secret="mc-cert")}
    )
    objs = build_glance_api(make_api(), facts)
    vols = objs.statefulset["spec"]["template"]["spec"]["volumes"]
    assert by_name(vols, "mc-cert")["secret"] == {"secretName": "mc-cert", "defaultMode": 0o400}
    mounts = {m["mountPath"]: m for m in containers(objs)["glance-httpd"]["volumeMounts"]}
    assert mounts["/etc/pki/tls/certs/mtls.crt"]["subPath"] == "tls.crt"
    assert mounts["/etc/pki/tls/private/mtls.key"]["subPath"] == "tls.key"
    assert mounts["/etc/pki/tls/certs/mtls-ca.crt"]["subPath"] == "ca.crt"


# --- topology, nodeSelector, NADs ---------------------------------------------------------------


def test_default_anti_affinity_and_node_selector() -> None:
    objs = build_glance_api(make_api(nodeSelector={"node-role": "glance"}), FACTS)
    pod_spec = objs.statefulset["spec"]["template"]["spec"]
    term = pod_spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["weight"] == 100
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchExpressions"] == [
        {"key": "service", "operator": "In", "values": ["glance"]}
    ]
    assert pod_spec["nodeSelector"] == {"node-role": "glance"}
    assert objs.statefulset["spec"]["podManagementPolicy"] == "Parallel"
    assert pod_spec["automountServiceAccountToken"] is False
    assert pod_spec["securityContext"]["fsGroup"] == 42415


def test_topology_replaces_default_affinity() -> None:
    topology = {
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]
    }
    facts = GlanceAPIFacts(**{**FACTS.__dict__, "topology": topology})
    pod_spec = build_glance_api(make_api(), facts).statefulset["spec"]["template"]["spec"]
    assert "affinity" not in pod_spec
    (tsc,) = pod_spec["topologySpreadConstraints"]
    assert tsc["labelSelector"]["matchLabels"]["owner"] == "glance-default-single"


def test_nad_annotation_always_present() -> None:
    objs = build_glance_api(make_api(), FACTS)
    assert objs.statefulset["spec"]["template"]["metadata"]["annotations"] == {"k8s.v1.cni.cncf.io/networks": "[]"}
    assert networks_annotation_value(
        [
            NetworkAttachment("internalapi", NS, gateway="10.0.0.1"),
            NetworkAttachment("storage-network-long", NS),
        ]
    ) == (
        '[{"name":"internalapi","namespace":"openstack","interface":"internalapi","default-route":["10.0.0.1"]},'
        '{"name":"storage-network-long","namespace":"openstack","interface":"storage-network"}]'
    )


# --- probes -------------------------------------------------------------------------------------


def test_probe_formulas_api_timeout_60_and_startup_probe_attached_defect_29() -> None:
    """defect 29: upstream computes the startup probe but never attaches it; it is attached here."""
    httpd = containers(build_glance_api(make_api(), FACTS))["glance-httpd"]
    for probe in (httpd["livenessProbe"], httpd["readinessProbe"]):
        assert probe == {
            "httpGet": {"path": "/healthcheck", "port": 9292, "scheme": "HTTP"},
            "initialDelaySeconds": 5,
            "timeoutSeconds": 14,
            "periodSeconds": 18,
            "failureThreshold": 3,
        }
    assert httpd["startupProbe"] == {
        "httpGet": {"path": "/healthcheck", "port": 9292, "scheme": "HTTP"},
        "initialDelaySeconds": 5,
        "timeoutSeconds": 5,
        "periodSeconds": 9,
        "failureThreshold": 12,
    }


def test_probe_formulas_small_timeout() -> None:
    httpd = containers(build_glance_api(make_api(apiTimeout=10), FACTS))["glance-httpd"]
    assert httpd["livenessProbe"]["periodSeconds"] == 3
    assert httpd["livenessProbe"]["timeoutSeconds"] == 5
    assert httpd["startupProbe"]["periodSeconds"] == 5


def test_probe_overrides_merge_field_by_field() -> None:
    override = {
        "probes": {
            "livenessProbes": {"periodSeconds": 30, "path": "/other"},
            "readinessProbes": {"failureThreshold": 7},
        }
    }
    httpd = containers(build_glance_api(make_api(override=override), FACTS))["glance-httpd"]
    live, ready = httpd["livenessProbe"], httpd["readinessProbe"]
    assert live["periodSeconds"] == 30
    assert live["httpGet"]["path"] == "/other"
    assert live["timeoutSeconds"] == 14
    assert ready["failureThreshold"] == 7
    assert ready["periodSeconds"] == 18


# --- CONFIG_HASH and determinism ------------------------------------------------------------------


def test_config_hash_changes_only_with_inputs_that_matter() -> None:
    base = build_glance_api(make_api(), FACTS).config_hash
    assert build_glance_api(make_api(), FACTS).config_hash == base
    # irrelevant: replicas, node selector, resources
    assert build_glance_api(make_api(replicas=3, nodeSelector={"a": "b"}), FACTS).config_hash == base
    # keystoneEndpoint annotation
    assert build_glance_api(make_api(annotations={"keystoneEndpoint": "true"}), FACTS).config_hash != base
    # service password (and with it the secret content)
    other_pw = GlanceAPIFacts(**{**FACTS.__dict__, "service_password": "other"})
    assert build_glance_api(make_api(), other_pw).config_hash != base
    # secret content only
    assert build_glance_api(make_api(customServiceConfig="[DEFAULT]\ndebug = true\n"), FACTS).config_hash != base
    # certs input hash
    other_certs = GlanceAPIFacts(**{**FACTS.__dict__, "input_hashes": (("certs", "other"),)})
    assert build_glance_api(make_api(), other_certs).config_hash != base


def test_input_map_keys() -> None:
    objs = build_glance_api(make_api(annotations={"keystoneEndpoint": "true"}), FACTS)
    assert set(objs.input_hashes) == {
        "certs",
        "osp-secret",
        "glance-default-single-config-data",
        "keystoneEndpoint",
    }
    assert objs.input_hashes["keystoneEndpoint"] == "true"
    assert objs.input_hashes["certs"] == "certhash"
    nocerts = GlanceAPIFacts(**{**FACTS.__dict__, "input_hashes": ()})
    assert build_glance_api(make_api(), nocerts).input_hashes["certs"] == object_hash([])


def test_backend_hash_tracks_backends_storage_and_cache_size() -> None:
    base = build_glance_api(make_api(), FACTS).backend_hash
    assert build_glance_api(make_api(replicas=2), FACTS).backend_hash == base
    cfg = "[DEFAULT]\nenabled_backends = default_backend:rbd\n"
    assert build_glance_api(make_api(customServiceConfig=cfg), FACTS).backend_hash != base
    assert build_glance_api(make_api(storage={"storageRequest": "20G"}), FACTS).backend_hash != base
    assert build_glance_api(make_api(imageCache={"size": "1G"}), FACTS).backend_hash != base


def test_rendering_is_deterministic() -> None:
    api = make_api(annotations={"keystoneEndpoint": "true"}, imageCache={"size": "1G"}, replicas=2)
    assert build_glance_api(api, FACTS) == build_glance_api(api, FACTS)


# --- api-name (defect 32) and missing facts --------------------------------------------------------


def test_missing_api_name_label_derives_from_name() -> None:
    objs = build_glance_api(make_api("mine-external", "external", key=None), FACTS)
    assert objs.api_name == "mine"
    assert objs.endpoint_services[0]["metadata"]["name"] == "glance-mine-public"
    assert objs.statefulset["metadata"]["labels"]["glanceAPI"] == "glance-mine-external"
    assert any("api-name" in w for w in objs.warnings)


def test_missing_database_facts_raises() -> None:
    with pytest.raises(RenderError, match="database"):
        build_glance_api(make_api(), GlanceAPIFacts(keystone=FACTS.keystone))


# --- property: any valid GlanceAPI renders into well-shaped objects --------------------------------

_name = st.from_regex(r"[a-z][a-z0-9]{0,9}", fullmatch=True)
_extra_vol = st.builds(
    lambda vol, path, prop: _extra(prop, vol, path),
    st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True),
    st.sampled_from(["/etc/ceph", "/var/lib/glance", "/etc/glance/glance.conf.d", "/mnt/x", "/run/httpd"]),
    st.one_of(st.none(), st.lists(st.sampled_from(["Glance", "GlanceAPI", "All", "default", "other"]), max_size=3)),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    glance=_name,
    key=_name,
    api_type=st.sampled_from(["external", "internal", "single", "edge"]),
    replicas=st.integers(min_value=0, max_value=32),
    cache=st.sampled_from(["", "1G", "500Mi"]),
    external=st.booleans(),
    wsgi=st.sampled_from([None, "true", "false"]),
    keystone=st.booleans(),
    backend=st.sampled_from(["", "a:file", "a:rbd", "a:cinder", "a:s3,b:swift"]),
    tls=st.booleans(),
    extra=st.lists(_extra_vol, max_size=4),
    secrets=st.lists(_name, max_size=3),
    api_timeout=st.integers(min_value=1, max_value=600),
)
def test_property_any_valid_api_renders_well_shaped(
    glance: str,
    key: str,
    api_type: str,
    replicas: int,
    cache: str,
    external: bool,
    wsgi: str | None,
    keystone: bool,
    backend: str,
    tls: bool,
    extra: list[dict[str, Any]],
    secrets: list[str],
    api_timeout: int,
) -> None:
    annotations = {}
    if wsgi is not None:
        annotations["glance.openstack.org/wsgi"] = wsgi
    if keystone:
        annotations["keystoneEndpoint"] = "true"
    tls_spec: dict[str, Any] = {}
    if tls:
        tls_spec = {
            "caBundleSecretName": "ca",
            "api": {"internal": {"secretName": "ci"}, "public": {"secretName": "cp"}},
        }
    api = make_api(
        f"{glance}-{key}-{api_type}",
        api_type,
        key=key,
        annotations=annotations,
        replicas=replicas,
        imageCache={"size": cache},
        storage={"external": external, "storageRequest": "" if external else "10G"},
        customServiceConfig=f"[DEFAULT]\nenabled_backends = {backend}\n" if backend else "",
        tls=tls_spec,
        extraMounts=extra,
        customServiceConfigSecrets=secrets,
        apiTimeout=api_timeout,
    )
    objs = build_glance_api(api, FACTS)
    problems = [p for obj in all_objects(objs) for p in check_object(obj)]
    assert problems == []
    assert len(objs.cronjobs) == (2 * replicas if cache else 0)
    assert objs.statefulset["spec"]["template"]["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"] == "[]"
