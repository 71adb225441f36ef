"""The Glance's own children (spec §4, §6.11, §7.1), asserted from the spec text."""

from __future__ import annotations

import base64
import configparser
import json

import pytest

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.api.v1beta1 import Glance
from glance_operator.render.facts import Database, GlanceFacts, NetworkAttachment
from glance_operator.render.glance import build_glance
from glance_operator.render.glanceapi import RenderError
from glance_operator.render.glanceapi import parse_go_bool as parse_bool

DB = Database(hostname="openstack.openstack.svc", username="glance_a1b2", password="s3cret", tls=True)
FACTS = GlanceFacts(owner_uid="uid-1", database=DB, transport_url_secret="rabbitmq-transport-secret")


def glance(spec: dict | None = None, annotations: dict | None = None, name: str = "glance") -> Glance:
    doc = {
        "apiVersion": "glance.openstack.org/v1beta1",
        "kind": "Glance",
        "metadata": {"name": name, "namespace": "openstack", "annotations": annotations or {}},
        "spec": {
            "databaseInstance": "openstack",
            "secret": "osp-secret",
            "storage": {"storageRequest": "10G"},
            "glanceAPIs": {"default": {"type": "single"}},
            **(spec or {}),
        },
    }
    result = admit(doc, Defaults())
    assert result.allowed, result.errors
    return Glance.model_validate(result.object)


def decode(secret: dict, key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def test_rbac_names_and_scc_rule() -> None:
    objs = build_glance(glance(), FACTS)
    assert objs.service_account["metadata"]["name"] == "glance-glance"
    assert objs.role["metadata"]["name"] == "glance-glance-role"
    assert objs.role["rules"] == [
        {
            "apiGroups": ["security.openshift.io"],
            "resources": ["securitycontextconstraints"],
            "resourceNames": ["privileged", "hostmount-anyuid", "nonroot-v2"],
            "verbs": ["use"],
        }
    ]
    assert objs.role_binding["roleRef"]["name"] == "glance-glance-role"
    assert objs.role_binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "glance-glance", "namespace": "openstack"}
    ]
    for obj in objs.all():
        (owner,) = obj["metadata"]["ownerReferences"]
        assert owner == {
            "apiVersion": "glance.openstack.org/v1beta1",
            "kind": "Glance",
            "name": "glance",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }


def test_database_and_account() -> None:
    objs = build_glance(glance({"databaseAccount": "glance-acct"}), FACTS)
    assert objs.database["metadata"]["name"] == "glance"
    assert objs.database["metadata"]["labels"] == {"dbName": "openstack"}
    assert objs.database["spec"] == {"name": "glance"}
    assert objs.account["metadata"]["name"] == "glance-acct"
    assert objs.account["metadata"]["labels"] == {"mariaDBDatabaseName": "glance"}
    assert objs.account["spec"]["secret"] == "glance-acct-db-secret"
    assert objs.account["spec"]["requireTLS"] is False


def test_keystone_service() -> None:
    spec = build_glance(glance({"serviceUser": "img"}), FACTS).keystone_service["spec"]
    assert spec == {
        "serviceType": "image",
        "serviceName": "glance",
        "serviceDescription": "Glance Service",
        "enabled": True,
        "serviceUser": "img",
        "secret": "osp-secret",
        "passwordSelector": "GlancePassword",
    }


@pytest.mark.parametrize(
    ("spec", "cluster", "user"),
    [
        ({}, None, None),
        ({"notificationBusInstance": "rabbitmq"}, "rabbitmq", ""),
        # defect 1: the new field alone enables notifications
        (
            {"notificationsBus": {"cluster": "rabbitmq-notif", "user": "u", "vhost": "v"}},
            "rabbitmq-notif",
            "u",
        ),
    ],
)
def test_transport_url_only_when_notifications_are_configured(spec, cluster, user) -> None:
    transport = build_glance(glance(spec), FACTS).transport_url
    if cluster is None:
        assert transport is None
    else:
        assert transport["metadata"]["name"] == "glance-glance-transport"
        assert transport["metadata"]["labels"] == {"service": "glance"}
        assert transport["spec"]["rabbitmqClusterName"] == cluster
        assert transport["spec"]["username"] == user


def test_job_config_secret_minimal_config_and_custom_config() -> None:
    g = glance({"customServiceConfig": "[DEFAULT]\ndebug = true\n"})
    secret = build_glance(g, FACTS).config_secret
    assert secret["metadata"]["name"] == "glance-config-data"
    assert secret["metadata"]["labels"] == {
        "glance.openstack.org/uid": "uid-1",
        "glance.openstack.org/namespace": "openstack",
        "glance.openstack.org/name": "glance",
        "service": "glance",
    }
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(decode(secret, "00-config.conf"))
    assert parser["database"]["connection"] == (
        "mysql+pymysql://glance_a1b2:s3cret@openstack.openstack.svc/glance?read_default_file=/etc/my.cnf"
    )
    assert decode(secret, "01-config.conf") == "[DEFAULT]\ndebug = true\n"
    assert decode(secret, "my.cnf") == "[client]\nssl=0"
    assert "ssl.conf" in secret["data"]


def test_my_cnf_uses_tls_when_an_api_has_a_ca_bundle_and_the_database_supports_it() -> None:
    g = glance({"glanceAPIs": {"default": {"type": "single", "tls": {"caBundleSecretName": "combined-ca-bundle"}}}})
    secret = build_glance(g, FACTS).config_secret
    assert decode(secret, "my.cnf") == "[client]\nssl-ca=/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem\nssl=1"


def test_db_sync_job() -> None:
    job = build_glance(glance(), FACTS).db_sync_job
    assert job["metadata"]["name"] == "glance-db-sync"
    assert job["metadata"]["labels"] == {"service": "glance"}
    assert job["spec"]["ttlSecondsAfterFinished"] == 600
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "OnFailure"
    assert pod["serviceAccountName"] == "glance-glance"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsUser"] == 42415
    (container,) = pod["containers"]
    assert container["name"] == "glance-db-sync"
    assert "db sync glance" in container["args"][1]
    assert "db_load_metadefs" in container["args"][1]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/glance/glance.conf.d"]["name"] == "db-sync-config-data"
    assert mounts["/etc/my.cnf"]["subPath"] == "my.cnf"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert [i["key"] for i in volumes["db-sync-config-data"]["secret"]["items"]] == [
        "00-config.conf",
        "01-config.conf",
    ]
    assert job["spec"]["template"]["metadata"]["annotations"] == {"k8s.v1.cni.cncf.io/networks": "[]"}


def test_db_load_metadefs_gets_the_config_dir_defect_39() -> None:
    """defect 39: upstream runs `glance-manage db_load_metadefs` without `--config-dir`."""
    (container,) = build_glance(glance(), FACTS).db_sync_job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["/bin/bash"]
    assert container["args"] == [
        "-c",
        "glance-manage --config-dir /etc/glance/glance.conf.d db sync glance && "
        "glance-manage --config-dir /etc/glance/glance.conf.d db_load_metadefs",
    ]
    # the directory given is the one the job's config files are mounted at
    assert {"name": "db-sync-config-data", "mountPath": "/etc/glance/glance.conf.d", "readOnly": True} in container[
        "volumeMounts"
    ]


def test_preserve_jobs_drops_the_ttl() -> None:
    job = build_glance(glance({"preserveJobs": True}), FACTS).db_sync_job
    assert "ttlSecondsAfterFinished" not in job["spec"]


def test_jobs_carry_the_network_attachments() -> None:
    facts = GlanceFacts(
        owner_uid="u",
        database=DB,
        network_attachments=(
            NetworkAttachment("storage", "openstack", "172.18.0.1"),
            NetworkAttachment("internalapi-long-name", "openstack"),
        ),
    )
    job = build_glance(glance(), facts).db_sync_job
    networks = json.loads(job["spec"]["template"]["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"])
    assert networks == [
        {
            "name": "storage",
            "namespace": "openstack",
            "interface": "storage",
            "default-route": ["172.18.0.1"],
        },
        {"name": "internalapi-long-name", "namespace": "openstack", "interface": "internalapi-lon"},
    ]


def test_db_purge_cronjob() -> None:
    cron = build_glance(glance({"dbPurge": {"age": 7, "schedule": "0 3 * * *"}}), FACTS).db_purge_cronjob
    assert cron["metadata"]["name"] == "glance-db-purge"
    assert cron["spec"]["schedule"] == "0 3 * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    template = cron["spec"]["jobTemplate"]
    assert template["metadata"]["labels"] == {"service": "glance"}
    pod = template["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["containers"][0]["name"] == "glance-dbpurge"
    assert pod["containers"][0]["args"][1].endswith("db purge 7")


def test_nothing_needing_the_database_before_it_is_known() -> None:
    objs = build_glance(glance(), GlanceFacts(owner_uid="u"))
    assert objs.config_secret is None and objs.db_sync_job is None and objs.db_purge_cronjob is None


def test_children_names_labels_annotations_per_layout() -> None:
    g = glance(
        {
            "customServiceConfig": "[DEFAULT]\nenabled_backends = default_backend:rbd",
            "keystoneEndpoint": "central",
            "glanceAPIs": {
                "central": {"type": "split"},
                "az1": {"type": "edge"},
                "files": {"type": "single"},
            },
        },
        annotations={"glance.openstack.org/wsgi": "false"},
    )
    children = build_glance(g, FACTS).glance_apis
    assert [c["metadata"]["name"] for c in children] == [
        "glance-az1-edge",
        "glance-central-external",
        "glance-central-internal",
        "glance-files-single",
    ]
    by_name = {c["metadata"]["name"]: c for c in children}
    assert by_name["glance-az1-edge"]["metadata"]["labels"] == {"service": "glance", "api-name": "az1"}
    assert by_name["glance-az1-edge"]["metadata"]["annotations"] == {"glance.openstack.org/wsgi": "false"}
    assert by_name["glance-central-internal"]["metadata"]["annotations"] == {
        "glance.openstack.org/wsgi": "false",
        "keystoneEndpoint": "true",
    }
    assert [by_name[n]["spec"]["apiType"] for n in sorted(by_name)] == [
        "edge",
        "external",
        "internal",
        "single",
    ]


def test_child_spec_inherits_and_fills_controller_fields() -> None:
    g = glance(
        {
            "customServiceConfig": "[DEFAULT]\nenabled_backends = default_backend:file",
            "customServiceConfigSecrets": ["s3-creds"],
            "nodeSelector": {"node": "glance"},
            "imageCache": {"size": "5G"},
            "storage": {"storageRequest": "10G", "storageClass": "local"},
            "quotas": {"imageSizeTotal": 1000},
            "notificationsBus": {"cluster": "rabbitmq"},
            "keystoneEndpoint": "default",
            "glanceAPIs": {
                "default": {"type": "single", "customServiceConfig": "[DEFAULT]\nenabled_backends = x:file"},
                "other": {"type": "single", "nodeSelector": {"own": "yes"}, "imageCache": {"size": "1G"}},
            },
        }
    )
    children = {c["metadata"]["name"]: c["spec"] for c in build_glance(g, FACTS).glance_apis}
    default, other = children["glance-default-single"], children["glance-other-single"]
    assert default["customServiceConfig"] == "[DEFAULT]\nenabled_backends = x:file"  # replaced, not merged
    assert other["customServiceConfig"] == "[DEFAULT]\nenabled_backends = default_backend:file"
    assert default["customServiceConfigSecrets"] == ["s3-creds"]
    assert default["nodeSelector"] == {"node": "glance"} and other["nodeSelector"] == {"own": "yes"}
    assert default["imageCache"]["size"] == "5G" and other["imageCache"]["size"] == "1G"
    assert default["storage"] == {"storageClass": "local", "storageRequest": "10G"}
    assert default["containerImage"] == g.spec.container_image
    assert default["databaseHostname"] == "openstack.openstack.svc"
    assert default["serviceAccount"] == "glance-glance"
    assert default["quota"] is True
    assert default["notificationBusSecret"] == "rabbitmq-transport-secret"
    assert default["memcachedInstance"] == "memcached"
    assert default["apiTimeout"] == 60


def test_own_storage_request_wins_over_defaulted_top_level_external() -> None:
    # defect 10: the top level has no storageRequest, so the webhook set storage.external=true
    g = glance(
        {
            "storage": {},
            "glanceAPIs": {
                "a": {"type": "single", "storage": {"storageRequest": "20G"}},
                "b": {"type": "single"},
            },
            "keystoneEndpoint": "a",
        }
    )
    assert g.spec.storage.external is True
    children = {c["metadata"]["name"]: c["spec"] for c in build_glance(g, FACTS).glance_apis}
    assert children["glance-a-single"]["storage"] == {"storageRequest": "20G"}
    assert children["glance-b-single"]["storage"] == {"external": True}


@pytest.mark.parametrize("value", ["1", "t", "T", "TRUE", "true", "True"])
def test_parse_bool_true(value: str) -> None:
    assert parse_bool(value) is True


def test_invalid_wsgi_annotation_names_the_annotation() -> None:
    with pytest.raises(RenderError, match=r'glance.openstack.org/wsgi.*"yes"'):
        build_glance(glance(annotations={"glance.openstack.org/wsgi": "yes"}), FACTS)


def test_rendering_is_deterministic() -> None:
    g = glance({"notificationsBus": {"cluster": "rabbitmq"}})
    assert build_glance(g, FACTS).all() == build_glance(g, FACTS).all()
