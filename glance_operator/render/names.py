"""Names and labels of everything we create (spec §7.1), in one place.

Several names are hard-coded upstream (`glance-db-sync`, `glance-scripts`, MariaDBDatabase `glance`,
KeystoneService `glance`, Services `glance-<key>-<endpoint>`): the rest of the control plane finds
them by these names (spec §10), so they are kept, and two Glance CRs in one namespace still collide
(defect 16, documented).
"""

from __future__ import annotations

SERVICE_NAME = "glance"
DB_NAME = "glance"  # MariaDBDatabase name and schema
KEYSTONE_SERVICE = "glance"
DB_SYNC_JOB = "glance-db-sync"
SCRIPTS_SECRET = "glance-scripts"
GLANCE_FINALIZER = "openstack.org/glance"
GLANCEAPI_FINALIZER = "openstack.org/glanceapi"


def ac_consumer_finalizer(api_name: str, api_type: str) -> str:
    """Placed on the application-credential Secret a GlanceAPI uses (spec 7.2, as upstream)."""
    return f"openstack.org/glance-{api_name}-{api_type}-ac-consumer"


def topology_finalizers(api_name: str, api_type: str) -> tuple[str, str]:
    """(ours, upstream's) on a referenced Topology. Upstream's `openstack.org/glanceapi-<api-name>` is
    shared by both halves of a split API, so deleting one released the other's protection (defect 24);
    ours adds the type. Upstream's is still removed where we remove ours, so objects it left behind are
    released too."""
    return f"openstack.org/glanceapi-{api_name}-{api_type}", f"openstack.org/glanceapi-{api_name}"


API_PORT = 9292
GLANCE_UID = 42415
WSGI_ANNOTATION = "glance.openstack.org/wsgi"
LOCATION_API_ANNOTATION = "glance.openstack.org/location-api"
KEYSTONE_ENDPOINT_ANNOTATION = "keystoneEndpoint"
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"


def service_account(glance: str) -> str:
    return f"glance-{glance}"


def role(glance: str) -> str:
    return f"glance-{glance}-role"


def role_binding(glance: str) -> str:
    return f"glance-{glance}-rolebinding"


def transport_url(glance: str) -> str:
    return f"{glance}-glance-transport"


def config_secret(owner: str) -> str:
    return f"{owner}-config-data"


def db_purge_cronjob(glance: str) -> str:
    return f"{glance}-db-purge"


def api_types(template_type: str) -> tuple[str, ...]:
    """apiType of each GlanceAPI a template creates (spec §1): split/empty → external, internal."""
    if template_type == "single":
        return ("single",)
    if template_type == "edge":
        return ("edge",)
    return ("external", "internal")


def glance_api(glance: str, key: str, api_type: str) -> str:
    return f"{glance}-{key}-{api_type}"


def statefulset(glance_api_name: str, api_type: str) -> str:
    """StatefulSet and headless Service name (spec 5.7)."""
    return glance_api_name if api_type == "single" else f"{glance_api_name}-api"


def endpoint_service(api_name: str, endpoint: str) -> str:
    return f"glance-{api_name}-{endpoint}"


def endpoints(api_type: str) -> tuple[str, ...]:
    """Endpoint types a GlanceAPI serves, sorted (spec 5.3)."""
    return {"external": ("public",), "internal": ("internal",), "single": ("internal", "public")}.get(
        api_type, ("internal",)
    )


def glance_labels() -> dict[str, str]:
    return {"service": SERVICE_NAME}


def config_secret_labels(owner_uid: str, namespace: str, name: str) -> dict[str, str]:
    return {
        "glance.openstack.org/uid": owner_uid,
        "glance.openstack.org/namespace": namespace,
        "glance.openstack.org/name": name,
        "service": SERVICE_NAME,
    }


def service_labels(api_name: str, api_type: str, glance_api_name: str) -> dict[str, str]:
    """`serviceLabels` of a GlanceAPI: Services, StatefulSet, pods and PVCs carry them (spec 5.3)."""
    return {
        "service": SERVICE_NAME,
        "component": "glance-api",
        "glanceAPI": f"glance-{api_name}-{api_type}",
        "owner": glance_api_name,
    }


def owner_reference(
    kind: str, name: str, uid: str, api_version: str = "glance.openstack.org/v1beta1"
) -> dict[str, object]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
