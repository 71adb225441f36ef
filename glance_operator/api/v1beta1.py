"""Glance and GlanceAPI, glance.openstack.org/v1beta1, as pydantic models.

Field names, types, enums, bounds, CRD defaults and required lists follow the upstream CRDs; the
CRDs in config/crd/bases are generated from these classes (`glance-operator crds`). Python defaults
are Go zero values (see fields.py); CRD defaults are applied separately by `structural.apply_defaults`
exactly as the apiserver does.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .fields import kfield

GROUP = "glance.openstack.org"
VERSION = "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"

TemplateType = Literal["split", "single", "edge"]
APIType = Literal["internal", "external", "single", "edge"]
ProbeType = Literal["HTTP", "Exec", ""]

DEFAULT_CLEANER_SCHEDULE = "*/30 * * * *"
DEFAULT_PRUNER_SCHEDULE = "1 0 * * *"
DEFAULT_DB_PURGE_SCHEDULE = "1 0 * * *"
DEFAULT_DB_PURGE_AGE = 30
DEFAULT_API_TIMEOUT = 60


class Model(BaseModel):
    """Base: JSON names via aliases, unknown fields refused (the apiserver prunes or rejects them)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", validate_default=False)


# --- shared structs (lib-common / infra-operator types used by the templates) -------------------


class TopologyRef(Model):
    """Reference to a Topology CR (infra-operator `TopoRef`)."""

    name: str = kfield("name", default="", description="Name of the Topology CR.")
    namespace: str = kfield(
        "namespace",
        default="",
        description="Namespace of the Topology CR; must be empty or the CR's own namespace.",
    )


class Storage(Model):
    storage_class: str = kfield("storageClass", default="", description="StorageClass of the PVCs.")
    storage_request: str = kfield(
        "storageRequest",
        default="",
        description="Size of the per-pod /var/lib/glance PVC (a Kubernetes quantity, e.g. 10G).",
    )
    external: bool = kfield(
        "external",
        default=False,
        description="No PVC for /var/lib/glance: storage comes from extraMounts.",
    )


class ImageCache(Model):
    size: str = kfield(
        "size",
        default="",
        crd_default="",
        required=True,
        omitempty=False,
        description="Per-pod image cache PVC size (quantity); empty disables the cache.",
    )
    cleaner_scheduler: str = kfield(
        "cleanerScheduler",
        default="",
        crd_default=DEFAULT_CLEANER_SCHEDULE,
        omitempty=False,
        description="Cron schedule of the image cache cleaner.",
    )
    pruner_scheduler: str = kfield(
        "prunerScheduler",
        default="",
        crd_default=DEFAULT_PRUNER_SCHEDULE,
        omitempty=False,
        description="Cron schedule of the image cache pruner.",
    )


class EmbeddedLabelsAnnotations(Model):
    labels: dict[str, str] | None = kfield("labels", default=None)
    annotations: dict[str, str] | None = kfield("annotations", default=None)


class SessionAffinityClientIP(Model):
    timeout_seconds: int | None = kfield("timeoutSeconds", default=None, fmt="int32")


class SessionAffinityConfig(Model):
    client_ip: SessionAffinityClientIP | None = kfield("clientIP", default=None)


class OverrideServiceSpec(Model):
    """The subset of a Service spec that may be overridden (lib-common `OverrideServiceSpec`)."""

    type: str | None = kfield("type", default=None)
    session_affinity: str | None = kfield("sessionAffinity", default=None)
    load_balancer_source_ranges: list[str] | None = kfield(
        "loadBalancerSourceRanges", default=None, extensions={"x-kubernetes-list-type": "atomic"}
    )
    external_name: str | None = kfield("externalName", default=None)
    external_traffic_policy: str | None = kfield("externalTrafficPolicy", default=None)
    session_affinity_config: SessionAffinityConfig | None = kfield("sessionAffinityConfig", default=None)
    ip_family_policy: str | None = kfield("ipFamilyPolicy", default=None)
    load_balancer_class: str | None = kfield("loadBalancerClass", default=None)
    internal_traffic_policy: str | None = kfield("internalTrafficPolicy", default=None)


class RoutedOverrideSpec(Model):
    metadata: EmbeddedLabelsAnnotations | None = kfield("metadata", default=None)
    spec: OverrideServiceSpec | None = kfield("spec", default=None)
    endpoint_url: str | None = kfield(
        "endpointURL", default=None, description="URL reported for this endpoint instead of the Service's."
    )


class ProbeConf(Model):
    """Liveness/readiness/startup probe overrides (lib-common `ProbeConf`)."""

    type: ProbeType | None = kfield("type", default=None)
    path: str | None = kfield("path", default=None, pattern=r"^(/.*)?$")
    port: int | None = kfield("port", default=None, fmt="int32", minimum=1, maximum=65535)
    scheme: str | None = kfield("scheme", default=None)
    command: list[str] | None = kfield("command", default=None, extensions={"x-kubernetes-list-type": "atomic"})
    initial_delay_seconds: int | None = kfield("initialDelaySeconds", default=None, fmt="int32", minimum=0)
    timeout_seconds: int | None = kfield("timeoutSeconds", default=None, fmt="int32", minimum=1)
    period_seconds: int | None = kfield("periodSeconds", default=None, fmt="int32", minimum=1)
    failure_threshold: int | None = kfield("failureThreshold", default=None, fmt="int32", minimum=1)


class ProbeOverrides(Model):
    liveness_probes: ProbeConf | None = kfield("livenessProbes", default=None)
    readiness_probes: ProbeConf | None = kfield("readinessProbes", default=None)
    startup_probes: ProbeConf | None = kfield("startupProbes", default=None)


class APIOverrideSpec(Model):
    service: dict[str, RoutedOverrideSpec] | None = kfield(
        "service",
        default=None,
        description="Service overrides per endpoint type; keys are `public` or `internal`.",
    )
    probes: ProbeOverrides | None = kfield("probes", default=None, description="Probe overrides.")


class GenericService(Model):
    secret_name: str | None = kfield(
        "secretName", default=None, description="Secret with tls.crt and tls.key for this endpoint."
    )


class APIService(Model):
    public: GenericService = kfield("public", default_factory=GenericService)
    internal: GenericService = kfield("internal", default_factory=GenericService)


class APITLS(Model):
    api: APIService = kfield("api", default_factory=APIService)
    ca_bundle_secret_name: str = kfield(
        "caBundleSecretName", default="", description="Secret with the CA bundle (key tls-ca-bundle.pem)."
    )


class AuthSpec(Model):
    application_credential_secret: str = kfield(
        "applicationCredentialSecret",
        default="",
        description="Secret with AC_ID and AC_SECRET: authenticate with a Keystone application credential.",
    )


# --- extraMounts (lib-common `storage.VolMounts`) -----------------------------------------------


class Volume(Model):
    """A volume: a name plus one of the volume sources lib-common allows."""

    name: str = kfield("name", required=True, omitempty=False)
    config_map: dict[str, Any] | None = kfield("configMap", default=None, k8s_type="ConfigMapVolumeSource")
    csi: dict[str, Any] | None = kfield("csi", default=None, k8s_type="CSIVolumeSource")
    empty_dir: dict[str, Any] | None = kfield("emptyDir", default=None, k8s_type="EmptyDirVolumeSource")
    nfs: dict[str, Any] | None = kfield("nfs", default=None, k8s_type="NFSVolumeSource")
    persistent_volume_claim: dict[str, Any] | None = kfield(
        "persistentVolumeClaim", default=None, k8s_type="PersistentVolumeClaimVolumeSource"
    )
    projected: dict[str, Any] | None = kfield("projected", default=None, k8s_type="ProjectedVolumeSource")
    secret: dict[str, Any] | None = kfield("secret", default=None, k8s_type="SecretVolumeSource")


class VolMounts(Model):
    propagation: list[str] | None = kfield(
        "propagation",
        default=None,
        description="Where to mount: empty = everywhere; `Glance`/`GlanceAPI`/`All` or an API key.",
    )
    extra_vol_type: str = kfield("extraVolType", default="")
    volumes: list[Volume] = kfield("volumes", default_factory=list, required=True, omitempty=False)
    mounts: list[dict[str, Any]] = kfield(
        "mounts", default_factory=list, required=True, omitempty=False, k8s_type="VolumeMount"
    )


class GlanceExtraVolMounts(Model):
    name: str = kfield("name", default="")
    region: str = kfield("region", default="")
    extra_vol: list[VolMounts] = kfield("extraVol", default_factory=list, required=True, omitempty=False)


# --- the API template ---------------------------------------------------------------------------


class GlanceAPITemplate(Model):
    """One entry of `Glance.spec.glanceAPIs`; also inlined in `GlanceAPI.spec`."""

    replicas: int | None = kfield(
        "replicas",
        default=None,
        crd_default=1,
        fmt="int32",
        minimum=0,
        maximum=32,
        omitempty=False,
        description="Number of API pods. 0 disables backend validation.",
    )
    node_selector: dict[str, str] | None = kfield("nodeSelector", default=None)
    topology_ref: TopologyRef | None = kfield("topologyRef", default=None)
    custom_service_config: str = kfield(
        "customServiceConfig",
        default="",
        description="oslo.config snippet (02-config.conf); replaces the top-level value when set.",
    )
    custom_service_config_secrets: list[str] = kfield(
        "customServiceConfigSecrets",
        default_factory=list,
        description="Secrets whose values are concatenated into 03-config.conf.",
    )
    resources: dict[str, Any] = kfield(
        "resources", default_factory=dict, omitempty=False, k8s_type="ResourceRequirements"
    )
    network_attachments: list[str] = kfield(
        "networkAttachments", default_factory=list, description="NetworkAttachmentDefinition names."
    )
    override: APIOverrideSpec = kfield("override", default_factory=APIOverrideSpec)
    storage: Storage = kfield("storage", default_factory=Storage)
    type: TemplateType = kfield(
        "type",
        default="split",
        crd_default="split",
        description="Layout: split (external + internal APIs), single, or edge (internal only).",
    )
    tls: APITLS = kfield("tls", default_factory=APITLS)
    auth: AuthSpec = kfield("auth", default_factory=AuthSpec)
    image_cache: ImageCache = kfield("imageCache", default_factory=ImageCache)
    api_timeout: int = kfield("apiTimeout", default=0, minimum=1, description="httpd and probe timeout, seconds.")


# --- Glance ---------------------------------------------------------------------------------------


class PasswordSelector(Model):
    service: str = kfield(
        "service",
        default="",
        crd_default="GlancePassword",
        omitempty=False,
        description="Key of the service password in `secret`.",
    )


class QuotaLimits(Model):
    image_size_total: int = kfield("imageSizeTotal", default=0, crd_default=0, required=True, omitempty=False)
    image_stage_total: int = kfield("imageStageTotal", default=0, crd_default=0, required=True, omitempty=False)
    image_count_total: int = kfield("imageCountTotal", default=0, crd_default=0, required=True, omitempty=False)
    image_count_upload: int = kfield("imageCountUpload", default=0, crd_default=0, required=True, omitempty=False)

    def enabled(self) -> bool:
        return any(
            v > 0
            for v in (
                self.image_size_total,
                self.image_stage_total,
                self.image_count_total,
                self.image_count_upload,
            )
        )


class DBPurge(Model):
    age: int = kfield(
        "age", default=0, crd_default=DEFAULT_DB_PURGE_AGE, minimum=1, omitempty=False, description="Days."
    )
    schedule: str = kfield("schedule", default="", crd_default=DEFAULT_DB_PURGE_SCHEDULE, omitempty=False)


class NotificationsBus(Model):
    cluster: str = kfield(
        "cluster", default="", required=True, omitempty=False, min_length=1, description="RabbitMQ cluster."
    )
    user: str = kfield("user", default="")
    vhost: str = kfield("vhost", default="")


class GlanceSpec(Model):
    container_image: str = kfield(
        "containerImage",
        default="",
        required=True,
        omitempty=False,
        description="Image of every Glance container and job (defaulted from RELATED_IMAGE_*).",
    )
    service_user: str = kfield("serviceUser", default="", crd_default="glance", omitempty=False)
    database_instance: str = kfield("databaseInstance", default="", required=True, omitempty=False)
    database_account: str = kfield("databaseAccount", default="", crd_default="glance", omitempty=False)
    memcached_instance: str = kfield(
        "memcachedInstance", default="", crd_default="memcached", required=True, omitempty=False
    )
    secret: str = kfield(
        "secret",
        default="",
        required=True,
        omitempty=False,
        description="Secret holding the Keystone service password.",
    )
    password_selectors: PasswordSelector = kfield(
        "passwordSelectors",
        default_factory=PasswordSelector,
        crd_default={"service": "GlancePassword"},
    )
    node_selector: dict[str, str] | None = kfield("nodeSelector", default=None)
    topology_ref: TopologyRef | None = kfield("topologyRef", default=None)
    preserve_jobs: bool = kfield("preserveJobs", default=False, crd_default=False, omitempty=False)
    custom_service_config: str = kfield("customServiceConfig", default="")
    custom_service_config_secrets: list[str] = kfield("customServiceConfigSecrets", default_factory=list)
    storage: Storage = kfield("storage", default_factory=Storage)
    glance_apis: dict[str, GlanceAPITemplate] = kfield(
        "glanceAPIs", default_factory=dict, crd_default={}, required=True, omitempty=False
    )
    extra_mounts: list[GlanceExtraVolMounts] = kfield("extraMounts", default_factory=list)
    quotas: QuotaLimits = kfield("quotas", default_factory=QuotaLimits)
    image_cache: ImageCache = kfield("imageCache", default_factory=ImageCache, required=True)
    keystone_endpoint: str = kfield(
        "keystoneEndpoint",
        default="",
        crd_default="",
        required=True,
        omitempty=False,
        description="Key of the glanceAPIs entry registered in the Keystone catalog.",
    )
    db_purge: DBPurge = kfield("dbPurge", default_factory=DBPurge)
    api_timeout: int = kfield("apiTimeout", default=0, crd_default=DEFAULT_API_TIMEOUT, minimum=1, omitempty=False)
    notification_bus_instance: str | None = kfield(
        "notificationBusInstance",
        default=None,
        description="Deprecated: use notificationsBus.cluster.",
    )
    notifications_bus: NotificationsBus | None = kfield("notificationsBus", default=None)


class Condition(Model):
    type: str = kfield("type", required=True, omitempty=False)
    status: str = kfield("status", required=True, omitempty=False)
    severity: str = kfield("severity", default="")
    last_transition_time: str = kfield("lastTransitionTime", required=True, omitempty=False, fmt="date-time")
    reason: str = kfield("reason", default="")
    message: str = kfield("message", default="")


class GlanceStatus(Model):
    hash: dict[str, str] = kfield("hash", default_factory=dict)
    api_endpoint: dict[str, str] = kfield("apiEndpoint", default_factory=dict)
    service_id: str = kfield("serviceID", default="")
    conditions: list[Condition] = kfield("conditions", default_factory=list)
    database_hostname: str = kfield("databaseHostname", default="")
    glance_api_ready_counts: dict[str, int] = kfield(
        "glanceAPIReadyCounts", default_factory=dict, extensions={"items-format": "int32"}
    )
    observed_generation: int = kfield("observedGeneration", default=0, fmt="int64")
    notification_bus_secret: str = kfield("notificationBusSecret", default="")


class ObjectMeta(BaseModel):
    """The part of metadata we read; everything else is kept untouched."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    name: str = ""
    namespace: str = ""
    uid: str = ""
    generation: int = 0
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class Glance(Model):
    api_version: str = kfield("apiVersion", default=API_VERSION)
    kind: str = kfield("kind", default="Glance")
    metadata: ObjectMeta = kfield("metadata", default_factory=ObjectMeta)
    spec: GlanceSpec = kfield("spec", default_factory=GlanceSpec)
    status: GlanceStatus | None = kfield("status", default=None)


# --- GlanceAPI ------------------------------------------------------------------------------------


class GlanceAPISpec(GlanceAPITemplate):
    container_image: str = kfield("containerImage", default="", required=True, omitempty=False)
    api_type: APIType = kfield("apiType", default="single", crd_default="single", omitempty=False)
    service_user: str = kfield("serviceUser", default="", crd_default="glance", omitempty=False)
    service_account: str = kfield("serviceAccount", default="", required=True, omitempty=False)
    database_hostname: str = kfield("databaseHostname", default="", required=True, omitempty=False)
    database_account: str = kfield("databaseAccount", default="", crd_default="glance", omitempty=False)
    secret: str = kfield("secret", default="", required=True, omitempty=False)
    password_selectors: PasswordSelector = kfield(
        "passwordSelectors",
        default_factory=PasswordSelector,
        crd_default={"service": "GlancePassword"},
    )
    extra_mounts: list[GlanceExtraVolMounts] = kfield("extraMounts", default_factory=list)
    quota: bool = kfield("quota", default=False, crd_default=False, omitempty=False)
    memcached_instance: str = kfield(
        "memcachedInstance", default="", crd_default="memcached", required=True, omitempty=False
    )
    notification_bus_secret: str = kfield("notificationBusSecret", default="")


class GlanceAPIStatus(Model):
    ready_count: int = kfield(
        "readyCount", default=0, crd_default=0, required=True, omitempty=False, fmt="int32", minimum=0
    )
    hash: dict[str, str] = kfield("hash", default_factory=dict)
    api_endpoint: dict[str, str] = kfield("apiEndpoint", default_factory=dict)
    conditions: list[Condition] = kfield("conditions", default_factory=list)
    network_attachments: dict[str, list[str]] = kfield("networkAttachments", default_factory=dict)
    observed_generation: int = kfield("observedGeneration", default=0, fmt="int64")
    domain: str = kfield("domain", default="")
    last_applied_topology: TopologyRef | None = kfield("lastAppliedTopology", default=None)
    notification_bus_secret: str = kfield("notificationBusSecret", default="")
    application_credential_secret: str = kfield("applicationCredentialSecret", default="")


class GlanceAPI(Model):
    api_version: str = kfield("apiVersion", default=API_VERSION)
    kind: str = kfield("kind", default="GlanceAPI")
    metadata: ObjectMeta = kfield("metadata", default_factory=ObjectMeta)
    spec: GlanceAPISpec = kfield("spec", default_factory=GlanceAPISpec)
    status: GlanceAPIStatus | None = kfield("status", default=None)
