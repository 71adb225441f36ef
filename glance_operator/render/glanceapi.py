"""Desired state of a GlanceAPI's children (spec §5), as plain Kubernetes dicts. Pure: no I/O.

:func:`build_glance_api` takes the GlanceAPI and the observed :class:`GlanceAPIFacts` and returns the config
Secret, headless and endpoint Services, KeystoneEndpoint (only for the keystone-selected API), StatefulSet and
image-cache CronJobs, plus the values the controller stores in status (``apiEndpoint``, ``domain``,
``hash.input`` = CONFIG_HASH, ``hash.backendHash``) and warnings.

How the pod runs Glance: see :mod:`glance_operator.render.pod` (upstream commands kept exactly: httpd +
mod_wsgi ``/var/www/cgi-bin/glance/glance-wsgi`` by default, ``glance-api`` binary only in legacy mode).

Decisions on upstream defects (spec §9):

* 10: this builder honours ``spec.storage.external`` and ``storageRequest`` as given; the inheritance fix
  lives in the Glance → GlanceAPI child construction.
* 21: cache CronJobs are one pair per replica ordinal ``0..replicas-1`` (not per PVC found), so orphan PVCs of
  scaled-down replicas get no jobs and no list is needed. The controller deletes owned CronJobs carrying the
  serviceLabels that are not in :attr:`GlanceAPIObjects.cronjobs`.
* 22: cache jobs mount ``00``, ``02`` and ``03-config.conf`` (user cache options apply) and ``my.cnf`` (the
  centralized cache driver keeps its metadata in the database); names ``<pod>-cleaner``/``<pod>-pruner`` are
  kept when ≤ 52 characters, otherwise the pod part is truncated and an 8-character hash inserted.
* 26: an empty ``storageClass`` omits ``storageClassName`` (cluster default class) instead of sending ``""``.
* 28: vhost names are upstream's (configfiles.build_vhosts).
* 29: the startup probe is attached, with path ``/healthcheck`` (timeout 5, period 5-10, threshold 12: up to
  ~2 minutes before a restart, more lenient than liveness, so attaching it cannot kill a pod liveness would
  have kept). Cost: one rollout when taking over an upstream-managed StatefulSet.
* 32: without an ``api-name`` label the API name is the GlanceAPI name minus a trailing ``-<apiType>``
  (``glance-default-single`` -> ``glance-default``): never empty, shared by both split halves; warns.
* 36: a ``VolMounts`` matching several selectors is used once; extra volumes whose name is already used, and
  mounts whose path is already mounted, are dropped with a warning, so the StatefulSet is always valid.
* 35 kept (image conversion on ``external`` only, in configfiles).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from glance_operator.api.backends import enabled_backends
from glance_operator.api.v1beta1 import (
    DEFAULT_API_TIMEOUT,
    DEFAULT_CLEANER_SCHEDULE,
    DEFAULT_PRUNER_SCHEDULE,
    GlanceAPI,
    RoutedOverrideSpec,
)
from glance_operator.render import names, pod
from glance_operator.render.configfiles import (
    CONFIG_00,
    CUSTOM_CONFIG_02,
    CUSTOM_SECRETS_03,
    MY_CNF,
    ApiConfigParams,
    RenderedSecret,
    build_vhosts,
    concat_config_secrets,
    glance_api_secret,
)
from glance_operator.render.facts import GlanceAPIFacts
from glance_operator.render.hashing import env_hash, go_struct, object_hash, omitempty, secret_values_hash
from glance_operator.render.network import networks_annotation

Obj = dict[str, Any]

__all__ = [
    "CRONJOB_NAME_MAX",
    "GlanceAPIObjects",
    "RenderError",
    "api_name",
    "backend_hash",
    "build_glance_api",
    "cronjob_name",
    "parse_go_bool",
    "parse_quantity",
    "wsgi_mode",
]

CRONJOB_NAME_MAX = 52
KEYSTONE_API_VERSION = "keystone.openstack.org/v1beta1"
INGRESS_CREATE = "core.openstack.org/ingress_create"
DNSMASQ_HOSTNAME = "dnsmasq.network.openstack.org/hostname"
S3_CACERT = "/etc/pki/tls/certs/ca-bundle.crt"
BACKUP_LABELS = {
    "backup.openstack.org/backup": "true",
    "backup.openstack.org/category": "controlplane",
    "backup.openstack.org/restore": "true",
    "backup.openstack.org/restore-order": "00",
}


class RenderError(ValueError):
    """The GlanceAPI cannot be rendered (bad annotation, quantity, missing facts)."""


@dataclass(frozen=True)
class GlanceAPIObjects:
    config_secret: Obj
    headless_service: Obj
    endpoint_services: tuple[Obj, ...]
    keystone_endpoint: Obj | None
    statefulset: Obj
    cronjobs: tuple[Obj, ...]
    api_endpoints: dict[str, str]  # status.apiEndpoint
    domain: str  # status.domain
    config_hash: str  # CONFIG_HASH, status.hash.input
    input_hashes: dict[str, str]  # the map CONFIG_HASH is computed from
    backend_hash: str  # status.hash.backendHash
    api_name: str
    wsgi: bool
    privileged: bool  # cinder mode
    warnings: tuple[str, ...] = field(default=())

    def all(self) -> list[Obj]:
        """Every object, in apply order."""
        objs = [self.config_secret, self.headless_service, *self.endpoint_services]
        if self.keystone_endpoint is not None:
            objs.append(self.keystone_endpoint)
        return [*objs, self.statefulset, *self.cronjobs]


# --- small parsers ------------------------------------------------------------------------------

_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def parse_go_bool(value: str) -> bool:
    """Go ``strconv.ParseBool``."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"strconv.ParseBool: parsing {value!r}: invalid syntax")


def wsgi_mode(api: GlanceAPI) -> bool:
    value = api.metadata.annotations.get(names.WSGI_ANNOTATION)
    if value is None:
        return True
    try:
        return parse_go_bool(value)
    except ValueError:
        raise RenderError(
            f"annotation {names.WSGI_ANNOTATION}={value!r} is not a boolean (use true or false)"
        ) from None


_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$"
)
_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def parse_quantity(text: str) -> int:
    """``resource.MustParse(text).Value()``: a Kubernetes quantity as an integer, rounded up."""
    m = _QUANTITY.match(text.strip())
    if not m:
        raise RenderError(f"{text!r} is not a Kubernetes quantity (e.g. 10G, 500Mi)")
    try:
        number = Decimal(m.group(1))
        scale = Decimal(10) ** int(m.group(3)) if m.group(3) else _SUFFIX[m.group(2) or ""]
    except (InvalidOperation, OverflowError) as exc:
        raise RenderError(f"{text!r} is not a Kubernetes quantity: {exc}") from None
    return int((number * scale).to_integral_value(rounding=ROUND_CEILING))


# --- names and labels ---------------------------------------------------------------------------


def api_name(api: GlanceAPI) -> tuple[str, str | None]:
    """The API key (label ``api-name``) and a warning when it had to be derived (defect 32)."""
    label = api.metadata.labels.get("api-name", "")
    if label:
        return label, None
    name = api.metadata.name
    suffix = f"-{api.spec.api_type}"
    derived = name[: -len(suffix)] if name.endswith(suffix) and len(name) > len(suffix) else name
    return derived, f"GlanceAPI has no api-name label; using {derived!r} as the API name"


def cronjob_name(pod_name: str, kind: str) -> str:
    """``<pod>-<kind>``; when longer than 52 characters, truncated with a hash (defect 22)."""
    name = f"{pod_name}-{kind}"
    if len(name) <= CRONJOB_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    keep = CRONJOB_NAME_MAX - len(kind) - len(digest) - 2
    return f"{pod_name[:keep].rstrip('-.')}-{digest}-{kind}"


def _meta(name: str, namespace: str, labels: dict[str, str], owner: Obj, **extra: Any) -> Obj:
    meta: Obj = {"name": name, "namespace": namespace, "labels": dict(labels), "ownerReferences": [owner]}
    meta.update(extra)
    return meta


# --- hashes -------------------------------------------------------------------------------------


def backend_hash(api: GlanceAPI) -> str:
    """5.2 step 3: ``ObjectHash(ObjectHash(list) + ObjectHash(storage) + ObjectHash(imageCache.size))``."""
    entries = enabled_backends(api.spec.custom_service_config).entries
    storage = api.spec.storage
    storage_struct = go_struct(
        storageClass=omitempty(storage.storage_class),
        storageRequest=omitempty(storage.storage_request),
        external=omitempty(storage.external),
    )
    return object_hash(
        object_hash(list(entries) if entries else None)
        + object_hash(storage_struct)
        + object_hash(api.spec.image_cache.size)
    )


# --- custom config ------------------------------------------------------------------------------


def _add_ini_option(config: str, section: str, key: str, value: str) -> str:
    """lib-common ``ExtendCustomServiceConfig`` (unique option): insert after ``[section]`` unless present."""
    lines = config.split("\n")
    header = None
    for i, line in enumerate(lines):
        if line.strip() == f"[{section}]":
            header = i
            break
    if header is None:
        return config
    for line in lines[header + 1 :]:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            break
        if stripped.partition("=")[0].strip() == key:
            return config
    lines.insert(header + 1, f"{key} = {value}")
    return "\n".join(lines)


# --- Services (5.3) -----------------------------------------------------------------------------


def _merge(base: Obj, patch: Obj) -> Obj:
    """Strategic-merge of an OverrideServiceSpec: maps merge recursively, scalars and lists replace."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


MIXED_TLS_WARNING = (
    "tls: a single API serves its public and internal endpoints on one port, and only one of them has a "
    "certificate; both are served {served}, as the public endpoint's setting decides. Set "
    "tls.api.internal.secretName and tls.api.public.secretName together, or neither"
)


def _endpoint_url(override: RoutedOverrideSpec | None, svc: str, namespace: str, tls: bool) -> str:
    if override is not None and override.endpoint_url:
        return override.endpoint_url
    proto = "https" if tls else "http"
    return f"{proto}://{svc}.{namespace}.svc:{names.API_PORT}"


# --- the builder --------------------------------------------------------------------------------


def build_glance_api(api: GlanceAPI, facts: GlanceAPIFacts) -> GlanceAPIObjects:
    spec = api.spec
    name = api.metadata.name
    namespace = api.metadata.namespace
    api_type = spec.api_type
    warnings: list[str] = []

    if facts.database is None:
        raise RenderError("database facts are required (MariaDBDatabase/Account not ready)")
    if facts.keystone is None:
        raise RenderError("keystone facts are required (KeystoneAPI endpoints not known)")

    key, warning = api_name(api)
    if warning:
        warnings.append(warning)
    wsgi = wsgi_mode(api)
    api_timeout = spec.api_timeout if spec.api_timeout > 0 else DEFAULT_API_TIMEOUT
    replicas = spec.replicas if spec.replicas is not None else 1

    labels = names.service_labels(key, api_type, name)
    owner = names.owner_reference("GlanceAPI", name, facts.owner_uid)
    sts_name = names.statefulset(name, api_type)
    endpoints = names.endpoints(api_type)
    domain = f"{sts_name}.{namespace}.svc"
    keystone_selected = api.metadata.annotations.get(names.KEYSTONE_ENDPOINT_ANNOTATION, "")

    tls_secret = {
        "internal": spec.tls.api.internal.secret_name or "",
        "public": spec.tls.api.public.secret_name or "",
    }
    main_endpoint = "internal" if api_type in ("internal", "edge") else "public"
    # One port serves every endpoint of the pod, so TLS is the port's, decided by the main endpoint as the
    # probes and URISCHEME are (upstream). Defect 28: a single API with a certificate for one endpoint only
    # got one SSL and one plain vhost on the same port, which breaks one of them (or the probes); here
    # both vhosts follow the port, an endpoint without a certificate serves the main endpoint's, and the
    # reported URLs say what is served.
    port_tls = bool(tls_secret[main_endpoint])
    tls_endpoints = [e for e in endpoints if tls_secret[e] and port_tls]
    if len(endpoints) > 1 and bool(tls_secret["internal"]) != bool(tls_secret["public"]):
        warnings.append(MIXED_TLS_WARNING.format(served="HTTPS" if port_tls else "plain HTTP"))
    scheme = "HTTPS" if port_tls else "HTTP"
    ca_bundle = spec.tls.ca_bundle_secret_name

    # --- backends (5.2 step 4) ---
    parsed = enabled_backends(spec.custom_service_config)
    warnings.extend(f"customServiceConfig: {p}" for p in parsed.problems)
    backends = parsed.parsed()
    types = {b.store_type for b in backends}
    privileged = "cinder" in types
    custom_config = spec.custom_service_config
    if ca_bundle:
        for backend in backends:
            if backend.store_type == "s3":
                custom_config = _add_ini_option(custom_config, backend.store_id, "s3_store_cacert", S3_CACERT)

    cache = bool(spec.image_cache.size)
    cache_bytes = parse_quantity(spec.image_cache.size) if cache else None
    if not spec.storage.external and spec.storage.storage_request:
        parse_quantity(spec.storage.storage_request)

    # --- config Secret (5.5, §6) ---
    params = ApiConfigParams(
        glance_api_name=name,
        api_type=api_type,
        database_connection=facts.database.connection(),
        keystone_internal_url=facts.keystone.internal_url,
        keystone_public_url=facts.keystone.public_url,
        service_user=spec.service_user or "glance",
        service_password=facts.service_password,
        application_credential=facts.application_credential,
        memcached_servers=facts.memcached.servers,
        memcached_servers_with_inet=facts.memcached.servers_with_inet,
        memcached_tls=facts.memcached.tls,
        memcached_mtls=bool(facts.memcached.mtls_secret),
        region=facts.keystone.region or None,
        endpoint_id=facts.endpoint_id or None,
        image_cache_size_bytes=cache_bytes,
        quota=spec.quota,
        notifications=facts.notifications,
        rbd_backend="rbd" in types,
        horizon_endpoint=facts.horizon_endpoint or None,
    )
    vhosts = build_vhosts(
        glance_api_name=name,
        api_type=api_type,
        namespace=namespace,
        api_timeout=api_timeout,
        tls_endpoints=tls_endpoints,
        borrowed_cert=main_endpoint if port_tls else None,
    )
    rendered: RenderedSecret = glance_api_secret(
        params,
        vhosts=vhosts,
        wsgi=wsgi,
        db_tls=bool(ca_bundle) and facts.database.tls,
        custom_service_config=custom_config,
        custom_config_secrets=concat_config_secrets([data for _, data in facts.config_secrets]),
    )
    warnings.extend(rendered.warnings())
    secret_name = names.config_secret(name)
    config_secret: Obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(
            secret_name,
            namespace,
            {**names.config_secret_labels(facts.owner_uid, namespace, name), **labels},
            owner,
        ),
        "type": "Opaque",
        "data": {k: base64.b64encode(v).decode("ascii") for k, v in rendered.as_bytes().items()},
    }

    # --- CONFIG_HASH (5.2, 5.5) ---
    inputs: dict[str, str] = {"certs": object_hash([])}
    inputs.update(dict(facts.input_hashes))
    inputs[spec.secret] = secret_values_hash([facts.service_password.encode("utf-8")])
    inputs[secret_name] = rendered.hash()
    inputs["keystoneEndpoint"] = keystone_selected
    config_hash = env_hash(inputs)

    # --- Services (5.3) ---
    headless: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(
            sts_name,
            namespace,
            labels,
            owner,
            annotations={"endpoint": "headless", INGRESS_CREATE: "false"},
        ),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "None",
            "selector": dict(labels),
            "ports": [{"name": sts_name, "port": names.API_PORT, "protocol": "TCP"}],
        },
    }
    overrides = spec.override.service or {}
    services: list[Obj] = []
    api_endpoints: dict[str, str] = {}
    for endpoint in endpoints:
        svc_name = names.endpoint_service(key, endpoint)
        override = overrides.get(endpoint)
        meta_override = override.metadata if override is not None else None
        svc_labels = {
            **labels,
            "endpoint": endpoint,
            **((meta_override.labels if meta_override else None) or {}),
        }
        svc_spec: Obj = {
            "type": "ClusterIP",
            "selector": dict(labels),
            "ports": [{"name": svc_name, "port": names.API_PORT, "protocol": "TCP"}],
        }
        if override is not None and override.spec is not None:
            svc_spec = _merge(svc_spec, override.spec.model_dump(by_alias=True, exclude_none=True))
        annotations = dict((meta_override.annotations if meta_override else None) or {})
        svc_type = svc_spec.get("type") or "ClusterIP"
        ingress = keystone_selected == "true" and endpoint == "public" and svc_type == "ClusterIP"
        defaults = {
            "endpoint": endpoint,
            "additionalSubjectNames": f"*.{domain},*.{domain}.cluster.local",
            INGRESS_CREATE: "true" if ingress else "false",
        }
        if svc_type == "LoadBalancer":
            defaults[DNSMASQ_HOSTNAME] = f"{svc_name}.{namespace}.svc"
        for k, v in defaults.items():
            annotations.setdefault(k, v)
        services.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": _meta(svc_name, namespace, svc_labels, owner, annotations=annotations),
                "spec": svc_spec,
            }
        )
        api_endpoints[endpoint] = _endpoint_url(override, svc_name, namespace, port_tls)

    # --- KeystoneEndpoint (5.4) ---
    keystone_endpoint: Obj | None = None
    if keystone_selected == "true":
        keystone_endpoint = {
            "apiVersion": KEYSTONE_API_VERSION,
            "kind": "KeystoneEndpoint",
            "metadata": _meta(name, namespace, labels, owner, finalizers=[names.GLANCEAPI_FINALIZER]),
            "spec": {"serviceName": names.KEYSTONE_SERVICE, "endpoints": dict(api_endpoints)},
        }

    # --- StatefulSet (5.7, 5.8, 5.9, 5.11) ---
    selectors = ["Glance", "GlanceAPI", key]
    extra_volumes, extra_mounts = pod.extra_mounts_for(spec.extra_mounts, selectors)
    local_pvc = not spec.storage.external
    mtls = facts.memcached.mtls_secret
    config_secrets = list(dict.fromkeys(spec.custom_service_config_secrets))
    tls_pairs = [(e, tls_secret[e]) for e in tls_endpoints]

    builtin_volumes = pod.api_volumes(
        config_secret=secret_name,
        extra=[],
        config_secrets=config_secrets,
        cinder=privileged,
        ca_bundle_secret=ca_bundle,
        mtls_secret=mtls,
        tls_secrets=tls_pairs,
    )
    builtin_names = {v["name"] for v in builtin_volumes} | {"glance", "glance-cache"}
    kept_extra_volumes = []
    for vol in extra_volumes:
        if vol["name"] in builtin_names:
            warnings.append(f"extraMounts volume {vol['name']!r} clashes with a volume of the pod; ignored")
        else:
            kept_extra_volumes.append(vol)
    kept_extra_volumes, dropped = pod.dedupe(kept_extra_volumes, "name")
    for vol in dropped:
        warnings.append(f"extraMounts volume {vol['name']!r} is defined more than once; the first is used")
    volumes = pod.api_volumes(
        config_secret=secret_name,
        extra=kept_extra_volumes,
        config_secrets=config_secrets,
        cinder=privileged,
        ca_bundle_secret=ca_bundle,
        mtls_secret=mtls,
        tls_secrets=tls_pairs,
    )
    volumes, dropped = pod.dedupe(volumes, "name")
    for vol in dropped:
        warnings.append(f"volume {vol['name']!r} is defined more than once; the first is used")
    volume_names = (
        {v["name"] for v in volumes} | ({"glance"} if local_pvc else set()) | ({"glance-cache"} if cache else set())
    )
    usable_extra_mounts = []
    for mount in extra_mounts:
        if mount.get("name") not in volume_names:
            warnings.append(f"extraMounts mount of unknown volume {mount.get('name')!r} ignored")
        else:
            usable_extra_mounts.append(mount)

    list_b = pod.api_volume_mounts(
        cache=cache, ca_bundle=bool(ca_bundle), mtls_secret=mtls, tls_endpoints=tls_endpoints
    )

    builtin_paths = {
        m["mountPath"]
        for m in pod.config_volume_mounts(
            httpd=True,
            wsgi=wsgi,
            local_pvc=local_pvc,
            extra=[],
            config_secrets=config_secrets,
            cinder=privileged,
        )
        + list_b
    }
    extra_paths: set[str] = set()
    filtered_mounts = []
    for mount in usable_extra_mounts:
        path = mount.get("mountPath")
        if path in builtin_paths or path in extra_paths:
            warnings.append(f"extraMounts mount at {path!r} duplicates a mount path of the pod; ignored")
            continue
        extra_paths.add(str(path))
        filtered_mounts.append(mount)
    usable_extra_mounts = filtered_mounts

    def mounts_for(httpd: bool) -> list[Obj]:
        mounts = pod.config_volume_mounts(
            httpd=httpd,
            wsgi=wsgi,
            local_pvc=local_pvc,
            extra=usable_extra_mounts,
            config_secrets=config_secrets,
            cinder=privileged,
        )
        kept, dropped_mounts = pod.dedupe(mounts + list_b, "mountPath")
        for m in dropped_mounts:
            message = f"mount of {m.get('name')!r} at {m.get('mountPath')!r} duplicates a mount path; ignored"
            if message not in warnings:
                warnings.append(message)
        return kept

    env = pod.container_env(
        {
            "CONFIG_HASH": config_hash,
            "GLANCE_DOMAIN": domain,
            "GLANCE_PORT": str(names.API_PORT),
            "URISCHEME": scheme,
        }
    )
    probe_overrides = spec.override.probes
    probes = pod.default_probes(
        api_timeout,
        scheme,
        liveness=probe_overrides.liveness_probes if probe_overrides else None,
        readiness=probe_overrides.readiness_probes if probe_overrides else None,
        startup=probe_overrides.startup_probes if probe_overrides else None,
    )
    main_sc = pod.privileged_security_context() if privileged else pod.restrictive_security_context()
    image = spec.container_image

    def container(cname: str, shell: str, script: str, sc: Obj, mounts: list[Obj], with_probes: bool) -> Obj:
        c: Obj = {
            "name": cname,
            "image": image,
            "command": ["/usr/bin/dumb-init"],
            "args": ["--single-child", "--", shell, "-c", script],
            "env": [dict(e) for e in env],
            "resources": dict(spec.resources),
            "securityContext": sc,
            "volumeMounts": mounts,
        }
        if with_probes:
            c["livenessProbe"] = dict(probes.liveness)
            c["readinessProbe"] = dict(probes.readiness)
            c["startupProbe"] = dict(probes.startup)
        return c

    containers = [
        container(
            "glance-log",
            "/bin/sh",
            f"/usr/bin/tail -n+1 -F /var/log/glance/{name}.log 2>/dev/null",
            pod.restrictive_security_context(),
            [{"name": "logs", "mountPath": "/var/log/glance"}],
            False,
        ),
        container(
            "glance-httpd",
            "/bin/bash",
            pod.WORKER_SCRIPT + "exec /usr/sbin/httpd -DFOREGROUND",
            dict(main_sc),
            mounts_for(True),
            True,
        ),
    ]
    if not wsgi:
        containers.append(
            container(
                "glance-api",
                "/bin/bash",
                pod.WORKER_SCRIPT + "exec /usr/bin/glance-api --config-dir /etc/glance/glance.conf.d",
                dict(main_sc),
                mounts_for(False),
                True,
            )
        )

    nad_annotation = networks_annotation(facts.network_attachments)
    pod_spec: Obj = {
        "serviceAccountName": spec.service_account,
        "automountServiceAccountToken": False,
        "securityContext": pod.pod_security_context(),
        "containers": containers,
        "volumes": volumes,
    }
    if privileged:
        pod_spec["hostPID"] = True
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(spec.node_selector)
    if facts.topology is not None:
        _apply_topology(pod_spec, facts.topology, labels)
    else:
        pod_spec["affinity"] = {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {
                                "matchExpressions": [
                                    {"key": "service", "operator": "In", "values": [names.SERVICE_NAME]}
                                ]
                            },
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            }
        }

    claims: list[Obj] = []
    if local_pvc:
        claims.append(
            _claim(
                "glance",
                spec.storage.storage_request,
                spec.storage.storage_class,
                {**labels, **BACKUP_LABELS},
                None,
            )
        )
    if cache:
        claims.append(
            _claim(
                "glance-cache",
                spec.image_cache.size,
                spec.storage.storage_class,
                labels,
                {"image-cache": "true"},
            )
        )
    sts_spec: Obj = {
        "serviceName": sts_name,
        "replicas": replicas,
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": dict(labels)},
        "template": {
            "metadata": {"labels": dict(labels), "annotations": dict(nad_annotation)},
            "spec": pod_spec,
        },
    }
    if claims:
        sts_spec["volumeClaimTemplates"] = claims
    statefulset: Obj = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(sts_name, namespace, labels, owner),
        "spec": sts_spec,
    }

    # --- image cache CronJobs (5.12) ---
    cronjobs: list[Obj] = []
    if cache:
        for ordinal in range(replicas):
            pod_name = f"{sts_name}-{ordinal}"
            for kind, schedule in (
                ("cleaner", spec.image_cache.cleaner_scheduler or DEFAULT_CLEANER_SCHEDULE),
                ("pruner", spec.image_cache.pruner_scheduler or DEFAULT_PRUNER_SCHEDULE),
            ):
                cronjobs.append(
                    _cache_cronjob(
                        api=api,
                        kind=kind,
                        schedule=schedule,
                        pod_name=pod_name,
                        labels=labels,
                        owner=owner,
                        annotations=nad_annotation,
                        config_secret=secret_name,
                        ca_bundle=ca_bundle,
                    )
                )

    return GlanceAPIObjects(
        config_secret=config_secret,
        headless_service=headless,
        endpoint_services=tuple(services),
        keystone_endpoint=keystone_endpoint,
        statefulset=statefulset,
        cronjobs=tuple(cronjobs),
        api_endpoints=api_endpoints,
        domain=domain,
        config_hash=config_hash,
        input_hashes=dict(sorted(inputs.items())),
        backend_hash=backend_hash(api),
        api_name=key,
        wsgi=wsgi,
        privileged=privileged,
        warnings=tuple(warnings),
    )


def _claim(
    claim: str, request: str, storage_class: str, labels: dict[str, str], annotations: dict[str, str] | None
) -> Obj:
    metadata: Obj = {"name": claim, "labels": dict(labels)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    spec: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": request}}}
    if storage_class:  # defect 26: empty -> cluster default class
        spec["storageClassName"] = storage_class
    return {"metadata": metadata, "spec": spec}


def _apply_topology(pod_spec: Obj, topology: dict[str, object], labels: dict[str, str]) -> None:
    """infra-operator ``Topology.ApplyTo`` plus the labelSelector defaulting of ``EnsureServiceTopology``."""
    constraints = topology.get("topologySpreadConstraints")
    if isinstance(constraints, list) and constraints:
        filled = []
        for c in constraints:
            item = dict(c) if isinstance(c, dict) else {}
            item.setdefault("labelSelector", {"matchLabels": dict(labels)})
            filled.append(item)
        pod_spec["topologySpreadConstraints"] = filled
    affinity = topology.get("affinity")
    if isinstance(affinity, dict) and affinity:
        pod_spec["affinity"] = dict(affinity)


def _cache_cronjob(
    *,
    api: GlanceAPI,
    kind: str,
    schedule: str,
    pod_name: str,
    labels: dict[str, str],
    owner: Obj,
    annotations: dict[str, str],
    config_secret: str,
    ca_bundle: str,
) -> Obj:
    spec = api.spec
    cj_name = cronjob_name(pod_name, kind)
    volumes: list[Obj] = [
        {
            "name": "image-cache-config-data",
            "secret": {
                "secretName": config_secret,
                "defaultMode": pod.CONFIG_MODE,
                "items": [{"key": k, "path": k} for k in (CONFIG_00, CUSTOM_CONFIG_02, CUSTOM_SECRETS_03)],
            },
        },
        {"name": "config-data", "secret": {"secretName": config_secret, "defaultMode": pod.CONFIG_MODE}},
    ]
    mounts: list[Obj] = [
        {"name": "image-cache-config-data", "mountPath": pod.CONFIG_DIR, "readOnly": True},
        {"name": "config-data", "mountPath": "/etc/my.cnf", "subPath": MY_CNF, "readOnly": True},
    ]
    if ca_bundle:
        volumes.append(pod.ca_bundle_volume(ca_bundle))
        mounts.append(pod.ca_bundle_mount())
    volumes.append({"name": "glance-cache", "persistentVolumeClaim": {"claimName": f"glance-cache-{pod_name}"}})
    mounts.append({"name": "glance-cache", "mountPath": "/var/lib/glance/image-cache"})
    pod_spec: Obj = {
        "restartPolicy": "Never",
        "serviceAccountName": spec.service_account,
        "automountServiceAccountToken": False,
        "securityContext": pod.pod_security_context(),
        "affinity": {
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {
                            "matchExpressions": [
                                {
                                    "key": "statefulset.kubernetes.io/pod-name",
                                    "operator": "In",
                                    "values": [pod_name],
                                }
                            ]
                        },
                        "topologyKey": "kubernetes.io/hostname",
                    }
                ]
            }
        },
        "containers": [
            {
                "name": cj_name,
                "image": spec.container_image,
                "command": ["/bin/bash"],
                "args": ["-c", f"/usr/bin/glance-cache-{kind} --config-dir {pod.CONFIG_DIR}"],
                "securityContext": pod.restrictive_security_context(),
                "volumeMounts": mounts,
            }
        ],
        "volumes": volumes,
    }
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(spec.node_selector)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(cj_name, api.metadata.namespace, labels, owner),
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "metadata": {"labels": dict(labels), "annotations": dict(annotations)},
                "spec": {
                    "parallelism": 1,
                    "completions": 1,
                    "template": {"spec": pod_spec},
                },
            },
        },
    }
