"""The Kubernetes kinds the operator reads and writes, and their lightkube resource classes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from lightkube.generic_resource import create_global_resource, create_namespaced_resource
from lightkube.resources.apps_v1 import StatefulSet
from lightkube.resources.batch_v1 import CronJob, Job
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import (
    ConfigMap,
    Event,
    Namespace,
    PersistentVolumeClaim,
    Pod,
    Secret,
    Service,
    ServiceAccount,
)
from lightkube.resources.rbac_authorization_v1 import Role, RoleBinding
from lightkube.resources.storage_v1 import StorageClass


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


_BUILTIN: dict[tuple[str, str], Any] = {
    ("v1", "Secret"): Secret,
    ("v1", "Service"): Service,
    ("v1", "ServiceAccount"): ServiceAccount,
    ("v1", "PersistentVolumeClaim"): PersistentVolumeClaim,
    ("v1", "Pod"): Pod,
    ("v1", "ConfigMap"): ConfigMap,
    ("v1", "Event"): Event,
    ("v1", "Namespace"): Namespace,
    ("apps/v1", "StatefulSet"): StatefulSet,
    ("batch/v1", "Job"): Job,
    ("batch/v1", "CronJob"): CronJob,
    ("rbac.authorization.k8s.io/v1", "Role"): Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): RoleBinding,
    ("coordination.k8s.io/v1", "Lease"): Lease,
    ("storage.k8s.io/v1", "StorageClass"): StorageClass,
}

# Custom resources: (apiVersion, kind) -> plural
_CUSTOM: dict[tuple[str, str], str] = {
    ("glance.openstack.org/v1beta1", "Glance"): "glances",
    ("glance.openstack.org/v1beta1", "GlanceAPI"): "glanceapis",
    ("mariadb.openstack.org/v1beta1", "MariaDBDatabase"): "mariadbdatabases",
    ("mariadb.openstack.org/v1beta1", "MariaDBAccount"): "mariadbaccounts",
    ("mariadb.openstack.org/v1beta1", "Galera"): "galeras",
    ("keystone.openstack.org/v1beta1", "KeystoneAPI"): "keystoneapis",
    ("keystone.openstack.org/v1beta1", "KeystoneService"): "keystoneservices",
    ("keystone.openstack.org/v1beta1", "KeystoneEndpoint"): "keystoneendpoints",
    ("keystone.openstack.org/v1beta1", "KeystoneApplicationCredential"): "keystoneapplicationcredentials",
    ("memcached.openstack.org/v1beta1", "Memcached"): "memcacheds",
    ("rabbitmq.openstack.org/v1beta1", "TransportURL"): "transporturls",
    ("topology.openstack.org/v1beta1", "Topology"): "topologies",
    ("cinder.openstack.org/v1beta1", "Cinder"): "cinders",
    ("horizon.openstack.org/v1beta1", "Horizon"): "horizons",
    ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition"): "network-attachment-definitions",
}
_CLUSTER_SCOPED = {("storage.k8s.io/v1", "StorageClass"), ("v1", "Namespace")}

GLANCE = Kind("glance.openstack.org/v1beta1", "Glance")
GLANCE_API = Kind("glance.openstack.org/v1beta1", "GlanceAPI")


def kind_of(obj: dict[str, Any]) -> Kind:
    return Kind(obj["apiVersion"], obj["kind"])


def builtin(kind: Kind) -> bool:
    """A Kubernetes kind (whose associative lists runtime.compare knows), not a custom resource."""
    return (kind.api_version, kind.kind) in _BUILTIN


def namespaced(kind: Kind) -> bool:
    return (kind.api_version, kind.kind) not in _CLUSTER_SCOPED


@cache
def resource(kind: Kind) -> Any:
    """The lightkube resource class for a kind."""
    key = (kind.api_version, kind.kind)
    if key in _BUILTIN:
        return _BUILTIN[key]
    if key not in _CUSTOM:
        raise KeyError(f"unknown kind {kind.api_version}/{kind.kind}")
    group, _, version = kind.api_version.rpartition("/")
    create = create_namespaced_resource if namespaced(kind) else create_global_resource
    return create(group, version, kind.kind, _CUSTOM[key])
