"""Desired state of a Glance's own children (spec §4, §6.11, §7), as pure functions.

`build_glance(glance, facts)` returns every object the Glance controller creates, as plain dicts, in
the order the controller applies them. Fixes of upstream defects made here (spec §9):

* defect 1: `notificationsBus.cluster` is honoured (upstream only reads the deprecated
  `notificationBusInstance`, which openstack-operator now clears, silently disabling notifications);
* defect 10: an API with its own `storage.storageRequest` keeps its PVC even when the top level was
  defaulted to `storage.external: true` (the top-level flag is OR-ed in only for APIs without one);
* defect 18: the jobs get the network attachments of every API, not only the last one's.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from ..api.serialize import to_dict
from ..api.v1beta1 import Glance, GlanceAPISpec, GlanceAPITemplate
from . import names
from .configfiles import RenderedSecret, glance_job_secret, scripts_secret_data
from .facts import GlanceFacts
from .glanceapi import RenderError, parse_go_bool
from .network import networks_annotation
from .pod import pod_security_context, restrictive_security_context

Obj = dict[str, Any]

DB_SYNC_COMMAND = (
    "glance-manage --config-dir /etc/glance/glance.conf.d db sync glance && "
    # defect 39: upstream relies on oslo.config's implicit conf.d discovery for db_load_metadefs
    "glance-manage --config-dir /etc/glance/glance.conf.d db_load_metadefs"
)
CA_BUNDLE_VOLUME = "combined-ca-bundle"
CA_BUNDLE_PATH = "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
JOB_TTL_SECONDS = 600
SCC_RULE = {
    "apiGroups": ["security.openshift.io"],
    "resources": ["securitycontextconstraints"],
    "resourceNames": ["privileged", "hostmount-anyuid", "nonroot-v2"],
    "verbs": ["use"],
}


def job_network_attachment_names(glance: Glance) -> list[str]:
    """The NADs the db-sync and db-purge pods attach: every API's, keys sorted, first mention first (defect 18:
    upstream attached only the last API's)."""
    apis = glance.spec.glance_apis
    return list(dict.fromkeys(n for key in sorted(apis) for n in apis[key].network_attachments))


@dataclass
class GlanceObjects:
    """Everything the Glance controller applies, plus what it reports."""

    service_account: Obj
    role: Obj
    role_binding: Obj
    transport_url: Obj | None
    database: Obj
    account: Obj
    keystone_service: Obj
    config_secret: Obj | None  # needs the database facts
    scripts_secret: Obj
    db_sync_job: Obj | None
    db_purge_cronjob: Obj | None
    glance_apis: list[Obj]
    warnings: list[str] = field(default_factory=list)

    def all(self) -> list[Obj]:
        objs = [self.service_account, self.role, self.role_binding, self.transport_url, self.database]
        objs += [self.account, self.keystone_service, self.config_secret, self.scripts_secret]
        objs += [self.db_sync_job, self.db_purge_cronjob, *self.glance_apis]
        return [o for o in objs if o is not None]


def annotation_bool(glance: Glance, annotation: str, default: bool) -> bool:
    raw = glance.metadata.annotations.get(annotation)
    if raw is None:
        return default
    try:
        return parse_go_bool(raw)
    except ValueError:
        raise RenderError(
            f'metadata.annotations["{annotation}"]: Invalid value: "{raw}": must be "true" or "false"'
        ) from None


def _meta(glance: Glance, name: str, uid: str, labels: dict[str, str] | None = None) -> Obj:
    meta: Obj = {
        "name": name,
        "namespace": glance.metadata.namespace,
        "ownerReferences": [names.owner_reference("Glance", glance.metadata.name, uid)],
    }
    if labels:
        meta["labels"] = labels
    return meta


def notification_cluster(glance: Glance) -> str:
    """RabbitMQ cluster: `notificationsBus.cluster`, else the deprecated field (defect 1)."""
    if glance.spec.notifications_bus and glance.spec.notifications_bus.cluster:
        return glance.spec.notifications_bus.cluster
    return glance.spec.notification_bus_instance or ""


def _ca_bundle_secret(glance: Glance) -> str:
    """The first API (sorted by key) with a CA bundle provides it to the jobs (spec 4.7, 4.9)."""
    for key in sorted(glance.spec.glance_apis):
        secret = glance.spec.glance_apis[key].tls.ca_bundle_secret_name
        if secret:
            return secret
    return ""


def _job_pod_spec(glance: Glance, container: Obj, volumes: list[Obj], restart: str) -> Obj:
    ca = _ca_bundle_secret(glance)
    if ca:
        volumes = [*volumes, {"name": CA_BUNDLE_VOLUME, "secret": {"secretName": ca, "defaultMode": 0o444}}]
        container["volumeMounts"].append(
            {
                "name": CA_BUNDLE_VOLUME,
                "mountPath": CA_BUNDLE_PATH,
                "subPath": "tls-ca-bundle.pem",
                "readOnly": True,
            }
        )
    spec: Obj = {
        "restartPolicy": restart,
        "serviceAccountName": names.service_account(glance.metadata.name),
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(),
        "containers": [container],
        "volumes": volumes,
    }
    if glance.spec.node_selector:
        spec["nodeSelector"] = dict(glance.spec.node_selector)
    return spec


def _config_volume(name: str, secret: str, items: list[str] | None = None) -> Obj:
    source: Obj = {"secretName": secret, "defaultMode": 0o440}
    if items:
        source["items"] = [{"key": k, "path": k} for k in items]
    return {"name": name, "secret": source}


def db_sync_job(glance: Glance, facts: GlanceFacts) -> Obj:
    secret = names.config_secret(glance.metadata.name)
    container: Obj = {
        "name": "glance-db-sync",
        "image": glance.spec.container_image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/bash"],
        "args": ["-c", DB_SYNC_COMMAND],
        "securityContext": restrictive_security_context(),
        "volumeMounts": [
            {"name": "db-sync-config-data", "mountPath": "/etc/glance/glance.conf.d", "readOnly": True},
            {"name": "config-data", "mountPath": "/etc/my.cnf", "subPath": "my.cnf", "readOnly": True},
        ],
    }
    volumes = [
        _config_volume("db-sync-config-data", secret, ["00-config.conf", "01-config.conf"]),
        _config_volume("config-data", secret),
    ]
    job: Obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(glance, names.DB_SYNC_JOB, facts.owner_uid, names.glance_labels()),
        "spec": {
            "backoffLimit": 6,
            "template": {
                "metadata": {"annotations": networks_annotation(facts.network_attachments)},
                "spec": _job_pod_spec(glance, container, volumes, "OnFailure"),
            },
        },
    }
    if not glance.spec.preserve_jobs:
        job["spec"]["ttlSecondsAfterFinished"] = JOB_TTL_SECONDS
    return job


def db_purge_cronjob(glance: Glance, facts: GlanceFacts) -> Obj:
    secret = names.config_secret(glance.metadata.name)
    command = f"/usr/bin/glance-manage --config-dir /etc/glance/glance.conf.d db purge {glance.spec.db_purge.age}"
    container: Obj = {
        "name": "glance-dbpurge",
        "image": glance.spec.container_image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/bash"],
        "args": ["-c", command],
        "securityContext": restrictive_security_context(),
        "volumeMounts": [
            {"name": "db-purge-config-data", "mountPath": "/etc/glance/glance.conf.d", "readOnly": True},
            {"name": "config-data", "mountPath": "/etc/my.cnf", "subPath": "my.cnf", "readOnly": True},
        ],
    }
    volumes = [
        _config_volume("db-purge-config-data", secret, ["00-config.conf"]),
        _config_volume("config-data", secret),
    ]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(glance, names.db_purge_cronjob(glance.metadata.name), facts.owner_uid),
        "spec": {
            "schedule": glance.spec.db_purge.schedule,
            "concurrencyPolicy": "Forbid",
            "suspend": False,
            "jobTemplate": {
                "metadata": {
                    "labels": names.glance_labels(),
                    "annotations": networks_annotation(facts.network_attachments),
                },
                "spec": {
                    "parallelism": 1,
                    "completions": 1,
                    "template": {"spec": _job_pod_spec(glance, container, volumes, "Never")},
                },
            },
        },
    }


def secret_object(glance: Glance, name: str, data: dict[str, str], labels: dict[str, str], uid: str) -> Obj:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in sorted(data.items())}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": _meta(glance, name, uid, labels),
        "data": encoded,
    }


def job_config(glance: Glance, facts: GlanceFacts) -> RenderedSecret | None:
    if facts.database is None:
        return None
    return glance_job_secret(
        database_connection=facts.database.connection(),
        custom_service_config=glance.spec.custom_service_config,
        db_tls=bool(_ca_bundle_secret(glance)) and facts.database.tls,
    )


def child_spec(glance: Glance, key: str, template: GlanceAPITemplate, api_type: str, facts: GlanceFacts) -> Obj:
    """A GlanceAPI child's spec: the template, inherited values and controller-filled fields (4.11)."""
    spec = glance.spec
    api = GlanceAPISpec.model_validate(template.model_dump(by_alias=True))
    if api.node_selector is None and spec.node_selector is not None:
        api.node_selector = dict(spec.node_selector)
    if api.topology_ref is None and spec.topology_ref is not None:
        api.topology_ref = spec.topology_ref.model_copy()
    if not api.image_cache.size:
        api.image_cache.size = spec.image_cache.size
    own_request = bool(api.storage.storage_request)
    if not api.storage.storage_request:
        api.storage.storage_request = spec.storage.storage_request
    if not api.storage.storage_class:
        api.storage.storage_class = spec.storage.storage_class
    # defect 10: the top-level `external` (webhook-set when the top level has no storageRequest) only
    # applies to APIs without a storageRequest of their own.
    api.storage.external = api.storage.external or (spec.storage.external and not own_request)
    if not api.custom_service_config:
        api.custom_service_config = spec.custom_service_config
    if not api.custom_service_config_secrets:
        api.custom_service_config_secrets = list(spec.custom_service_config_secrets)
    api.api_type = api_type  # type: ignore[assignment]
    api.container_image = spec.container_image
    api.database_hostname = facts.database.hostname if facts.database else ""
    api.database_account = spec.database_account
    api.secret = spec.secret
    api.extra_mounts = [m.model_copy(deep=True) for m in spec.extra_mounts]
    api.password_selectors = spec.password_selectors.model_copy()
    api.service_user = spec.service_user
    api.service_account = names.service_account(glance.metadata.name)
    api.quota = spec.quotas.enabled()
    api.notification_bus_secret = facts.transport_url_secret
    api.memcached_instance = spec.memcached_instance
    return to_dict(api)


def glance_api_children(glance: Glance, facts: GlanceFacts) -> list[Obj]:
    wsgi = annotation_bool(glance, names.WSGI_ANNOTATION, True)
    out = []
    for key in sorted(glance.spec.glance_apis):
        template = glance.spec.glance_apis[key]
        annotations = {names.WSGI_ANNOTATION: "true" if wsgi else "false"}
        if glance.spec.keystone_endpoint == key:
            annotations[names.KEYSTONE_ENDPOINT_ANNOTATION] = "true"
        for api_type in names.api_types(template.type):
            meta = _meta(
                glance,
                names.glance_api(glance.metadata.name, key, api_type),
                facts.owner_uid,
                {"service": names.SERVICE_NAME, "api-name": key},
            )
            meta["annotations"] = dict(annotations)
            out.append(
                {
                    "apiVersion": "glance.openstack.org/v1beta1",
                    "kind": "GlanceAPI",
                    "metadata": meta,
                    "spec": child_spec(glance, key, template, api_type, facts),
                }
            )
    return out


def build_glance(glance: Glance, facts: GlanceFacts) -> GlanceObjects:
    name, ns, uid = glance.metadata.name, glance.metadata.namespace, facts.owner_uid
    sa = names.service_account(name)
    cluster = notification_cluster(glance)
    transport = None
    if cluster:
        bus = glance.spec.notifications_bus
        transport = {
            "apiVersion": "rabbitmq.openstack.org/v1beta1",
            "kind": "TransportURL",
            "metadata": _meta(glance, names.transport_url(name), uid, names.glance_labels()),
            "spec": {
                "rabbitmqClusterName": cluster,
                "username": bus.user if bus else "",
                "vhost": bus.vhost if bus else "",
            },
        }
    config = job_config(glance, facts)
    secret_labels = names.config_secret_labels(uid, ns, name)
    warnings = list(config.warnings()) if config else []
    return GlanceObjects(
        service_account={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(glance, sa, uid)},
        role={
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(glance, names.role(name), uid),
            "rules": [SCC_RULE],
        },
        role_binding={
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(glance, names.role_binding(name), uid),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": names.role(name)},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
        },
        transport_url=transport,
        database={
            "apiVersion": "mariadb.openstack.org/v1beta1",
            "kind": "MariaDBDatabase",
            "metadata": _meta(glance, names.DB_NAME, uid, {"dbName": glance.spec.database_instance}),
            "spec": {"name": names.DB_NAME},
        },
        account={
            "apiVersion": "mariadb.openstack.org/v1beta1",
            "kind": "MariaDBAccount",
            "metadata": _meta(glance, glance.spec.database_account, uid, {"mariaDBDatabaseName": names.DB_NAME}),
            "spec": {
                "userName": facts.database.username if facts.database else "",
                "secret": f"{glance.spec.database_account}-db-secret",
                "requireTLS": False,
                "accountType": "User",
            },
        },
        keystone_service={
            "apiVersion": "keystone.openstack.org/v1beta1",
            "kind": "KeystoneService",
            "metadata": _meta(glance, names.KEYSTONE_SERVICE, uid, names.glance_labels()),
            "spec": {
                "serviceType": "image",
                "serviceName": "glance",
                "serviceDescription": "Glance Service",
                "enabled": True,
                "serviceUser": glance.spec.service_user,
                "secret": glance.spec.secret,
                "passwordSelector": glance.spec.password_selectors.service,
            },
        },
        config_secret=secret_object(glance, names.config_secret(name), dict(config.data), secret_labels, uid)
        if config
        else None,
        scripts_secret=secret_object(glance, names.SCRIPTS_SECRET, scripts_secret_data(), secret_labels, uid),
        db_sync_job=db_sync_job(glance, facts) if config else None,
        db_purge_cronjob=db_purge_cronjob(glance, facts) if config else None,
        glance_apis=glance_api_children(glance, facts),
        warnings=warnings,
    )
