"""Webhook validation for Glance and GlanceAPI (spec §3.3), as pure functions.

Messages and paths are upstream's, since clients and openstack-operator's embedded copy match on
them. Where upstream is wrong we do the right thing and say so (spec §9):

* defect 3: malformed `enabled_backends` is an error, not a crash;
* defect 5: key length is checked against the real StatefulSet names (`-external-api`, `-edge-api`);
* defect 6: probe overrides are checked once per API, at their real JSON paths;
* defect 7: overrides and probes of APIs added by an update are checked too;
* defect 8: conflicting deprecated/new notification fields are refused on create as on update;
* defect 34: the split-layout deprecation warning is given on create as well;
* defect 37: GlanceAPI gets the checks that apply to it (topology, overrides, probes, backends).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .backends import enabled_backends, is_file_backend
from .errors import FieldError, Path, forbidden, invalid, path
from .v1beta1 import Glance, GlanceAPI, GlanceAPITemplate, ProbeConf, TopologyRef

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
# Pod label values (controller-revision-hash = "<statefulset>-<hash of up to 10 chars>") are limited
# to 63 characters, so a StatefulSet name may have at most 63 - 11 characters.
MAX_STATEFULSET_NAME = 63 - 11
# Longest StatefulSet-name suffix per layout: <glance>-<key>-<suffix>.
STATEFULSET_SUFFIX = {"split": "external-api", "single": "single", "edge": "edge-api"}

LAYOUT_FILE_MSG = "The GlanceAPI layout type: split cannot be used in combination with File and NFS backend"
LAYOUT_IMMUTABLE_MSG = (
    "The GlanceAPI layout (type) cannot be modified. To proceed, please add a new API with the desired "
    "layout and then decommission the previous API"
)
SPLIT_DEPRECATED_MSG = (
    "The GlanceAPI split layout is deprecated. It is recommended to remove this parameter and rely on "
    "the default single layout"
)
KEYSTONE_ENDPOINT_MSG = "KeystoneEndpoint is assigned to an invalid GlanceAPI instance"
TOPOLOGY_NAMESPACE_MSG = "Customizing namespace field is not supported"
DEPRECATED_BUS = "spec.notificationBusInstance"
NEW_BUS = "spec.notificationsBus.cluster"


# apimachinery's quantity grammar (as in the CRD schema of resources); sizes upstream parses at reconcile
QUANTITY = re.compile(
    r"(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?"
)
QUANTITY_MSG = "must be a Kubernetes quantity such as 10G or 500Gi"


def _quantity_errors(storage_request: str, cache_size: str, p: Path) -> list[FieldError]:
    """Sizes upstream only parses while reconciling (a bad one is accepted, then never deploys)."""
    out = []
    for value, field_path in (
        (storage_request, p.child("storage", "storageRequest")),
        (cache_size, p.child("imageCache", "size")),
    ):
        if value and not QUANTITY.fullmatch(value):
            out.append(invalid(field_path, value, QUANTITY_MSG))
    return out


@dataclass
class Result:
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def max_key_length(glance_name: str, api_type: str) -> int:
    suffix = STATEFULSET_SUFFIX.get(api_type, STATEFULSET_SUFFIX["split"])
    return MAX_STATEFULSET_NAME - (len(glance_name) + len(suffix) + 2)


def _name_errors(name: str, kind: str) -> list[FieldError]:
    """The name starts the API's Service names, which must be DNS-1035 labels.

    Beyond upstream, which admits e.g. `1glance` or `my.glance` and then fails to create the Services on
    every pass. An empty name is left to the apiserver (generateName fills it after admission).
    """
    if not name or DNS1035_LABEL.fullmatch(name):
        return []
    return [invalid(path("metadata", "name"), name, f"{DNS1035_LABEL_MSG}; the {kind} name starts its Services' names")]


def _key_errors(glance: Glance) -> list[FieldError]:
    out = []
    for key, api in glance.spec.glance_apis.items():
        p = path("spec", "glanceAPIs").key(key)
        # apimachinery's IsDNS1123Label: length and character set are separate errors
        if len(key) > 63:
            out.append(invalid(p, key, "must be no more than 63 characters"))
        if not DNS1123_LABEL.fullmatch(key):
            out.append(invalid(p, key, DNS1123_LABEL_MSG))
        limit = max_key_length(glance.metadata.name, api.type or "split")
        if len(key) > limit:
            out.append(invalid(p, key, f"must be no more than {limit} characters"))
    return out


def _topology_errors(ref: TopologyRef | None, p: Path, namespace: str) -> list[FieldError]:
    if ref is not None and ref.namespace and ref.namespace != namespace:
        return [invalid(p.child("topologyRef", "namespace"), "namespace", TOPOLOGY_NAMESPACE_MSG)]
    return []


def _backend_errors(key: str, api: GlanceAPITemplate, top_level_file: bool, p: Path) -> list[FieldError]:
    out = [
        invalid(p.child("customServiceConfig"), "enabled_backends", problem)
        for problem in enabled_backends(api.custom_service_config).problems
    ]
    if out:
        return out
    if api.replicas == 0:
        return []
    if api.type == "split" and is_file_backend(api.custom_service_config, top_level_file):
        return [invalid(p, key, LAYOUT_FILE_MSG)]
    return []


def _override_errors(api: GlanceAPITemplate, p: Path) -> list[FieldError]:
    out = []
    for endpoint in api.override.service or {}:
        if endpoint not in ("public", "internal"):
            out.append(
                invalid(
                    p.child("override", "service").key(endpoint),
                    endpoint,
                    f"invalid endpoint type: {endpoint}",
                )
            )
    probes = api.override.probes
    if probes is not None:
        for name, conf in (
            ("livenessProbes", probes.liveness_probes),
            ("readinessProbes", probes.readiness_probes),
            ("startupProbes", probes.startup_probes),
        ):
            if conf is not None:
                out.extend(_probe_errors(conf, p.child("override", "probes", name)))
    return out


def _probe_errors(conf: ProbeConf, p: Path) -> list[FieldError]:
    """lib-common's ProbeConf checks (most are also enforced by the CRD schema)."""
    out = []
    if conf.type not in (None, "", "HTTP", "Exec"):
        out.append(invalid(p.child("type"), conf.type, "type must be one of: HTTP, Exec, or unset"))
    if conf.type == "Exec" and not conf.command:
        out.append(invalid(p.child("command"), conf.command or [], "command is required for exec probe type"))
    if conf.path and not conf.path.startswith("/"):
        out.append(invalid(p.child("path"), conf.path, "path must start with '/' if specified"))
    if conf.initial_delay_seconds is not None and conf.initial_delay_seconds < 0:
        out.append(
            invalid(
                p.child("initialDelaySeconds"),
                conf.initial_delay_seconds,
                "initialDelaySeconds must be non-negative",
            )
        )
    for attr, name, msg in (
        ("timeout_seconds", "timeoutSeconds", "timeoutSeconds must be at least 1 second when set"),
        ("period_seconds", "periodSeconds", "periodSeconds must be at least 1 second when set"),
        ("failure_threshold", "failureThreshold", "failureThreshold must be at least 1 when set"),
    ):
        value = getattr(conf, attr)
        if value is not None and value < 1:
            out.append(invalid(p.child(name), value, msg))
    return out


def _keystone_endpoint_errors(glance: Glance) -> list[FieldError]:
    spec = glance.spec
    api = spec.glance_apis.get(spec.keystone_endpoint)
    if api is None or api.type == "edge":
        return [invalid(path("spec", "keystoneEndpoint"), spec.keystone_endpoint, KEYSTONE_ENDPOINT_MSG)]
    return []


def _deprecated_bus(glance: Glance, result: Result) -> None:
    old = glance.spec.notification_bus_instance
    new = glance.spec.notifications_bus.cluster if glance.spec.notifications_bus else ""
    if not old:
        return
    if not new:
        result.warnings.append(f'field "{DEPRECATED_BUS}" is deprecated, please use "{NEW_BUS}" instead')
    elif old == new:
        result.warnings.append(
            f'both "{DEPRECATED_BUS}" and "{NEW_BUS}" are set with the same value. Please migrate to using '
            f'only "{NEW_BUS}" and clear "{DEPRECATED_BUS}"'
        )
    else:
        result.errors.append(
            invalid(
                DEPRECATED_BUS,
                old,
                f'cannot set both deprecated field "{DEPRECATED_BUS}" and new field "{NEW_BUS}" with '
                f'different values (deprecated: "{old}", new: "{new}"). Use "{NEW_BUS}" only',
            )
        )


def _mixed_tls_warning(api: GlanceAPITemplate, single: bool, p: Path) -> list[str]:
    """Defect 28: one port serves both endpoints of a single API; a certificate for one only cannot work."""
    public, internal = api.tls.api.public.secret_name, api.tls.api.internal.secret_name
    if not single or bool(public) == bool(internal):
        return []
    served = "HTTPS with the public certificate" if public else "plain HTTP (the internal certificate is unused)"
    return [
        f"{p.child('tls')}: a single API serves its public and internal endpoints on one port; with a certificate "
        f"for only the {'public' if public else 'internal'} endpoint both are served {served}. Set "
        "tls.api.internal.secretName and tls.api.public.secretName together, or neither"
    ]


def validate_glance_create(glance: Glance) -> Result:
    return _validate_glance(glance, None)


def validate_glance_update(glance: Glance, old: Glance) -> Result:
    return _validate_glance(glance, old)


def _validate_glance(glance: Glance, old: Glance | None) -> Result:
    """The create rules; on update (``old`` given) also the immutability rules of 3.3."""
    result = Result()
    spec = glance.spec
    result.errors.extend(_name_errors(glance.metadata.name, "Glance"))
    result.errors.extend(_key_errors(glance))
    _deprecated_bus(glance, result)
    new_bus = spec.notification_bus_instance
    # any change but clearing is refused, including setting it where it was unset
    if old is not None and new_bus and new_bus != (old.spec.notification_bus_instance or ""):
        result.errors.append(
            forbidden(
                DEPRECATED_BUS,
                f'field "{DEPRECATED_BUS}" is deprecated, use "{NEW_BUS}" instead. To migrate, first set '
                f'"{NEW_BUS}", then clear this field',
            )
        )
    result.errors.extend(_topology_errors(spec.topology_ref, path("spec"), glance.metadata.namespace))
    result.errors.extend(_quantity_errors(spec.storage.storage_request, spec.image_cache.size, path("spec")))
    top_level_file = _top_level_file(glance, result)
    for key in sorted(spec.glance_apis):
        api = spec.glance_apis[key]
        p = path("spec", "glanceAPIs").key(key)
        if api.type == "split":
            result.warnings.append(SPLIT_DEPRECATED_MSG)
        result.warnings.extend(_mixed_tls_warning(api, api.type == "single", p))
        result.errors.extend(_topology_errors(api.topology_ref, p, glance.metadata.namespace))
        result.errors.extend(_quantity_errors(api.storage.storage_request, api.image_cache.size, p))
        previous = old.spec.glance_apis.get(key) if old is not None else None
        if previous is not None and (previous.type or "split") != (api.type or "split"):
            result.errors.append(invalid(p, key, LAYOUT_IMMUTABLE_MSG))
        result.errors.extend(_backend_errors(key, api, top_level_file, p))
        result.errors.extend(_override_errors(api, p))
    result.errors.extend(_keystone_endpoint_errors(glance))
    return result


def _top_level_file(glance: Glance, result: Result) -> bool:
    config = glance.spec.custom_service_config
    parsed = enabled_backends(config)
    for problem in parsed.problems:
        result.errors.append(invalid(path("spec", "customServiceConfig"), "enabled_backends", problem))
    result.warnings.extend(f"spec.customServiceConfig: {note}" for note in parsed.notes)
    for key in sorted(glance.spec.glance_apis):
        notes = enabled_backends(glance.spec.glance_apis[key].custom_service_config).notes
        result.warnings.extend(f"spec.glanceAPIs[{key}].customServiceConfig: {n}" for n in notes)
    return is_file_backend(config, True)


def validate_glance_api(api: GlanceAPI, old: GlanceAPI | None = None) -> Result:
    """Checks upstream never ran on GlanceAPI (defect 37). Layout rules belong to the owning Glance."""
    result = Result()
    p = path("spec")
    result.errors.extend(_name_errors(api.metadata.name, "GlanceAPI"))
    result.errors.extend(_topology_errors(api.spec.topology_ref, p, api.metadata.namespace))
    result.errors.extend(_quantity_errors(api.spec.storage.storage_request, api.spec.image_cache.size, p))
    for problem in enabled_backends(api.spec.custom_service_config).problems:
        result.errors.append(invalid(p.child("customServiceConfig"), "enabled_backends", problem))
    result.errors.extend(_override_errors(api.spec, p))
    result.warnings.extend(_mixed_tls_warning(api.spec, api.spec.api_type == "single", p))
    if old is not None and old.spec.api_type != api.spec.api_type:
        result.errors.append(
            invalid(p.child("apiType"), api.spec.api_type, "apiType cannot be changed; create a new GlanceAPI")
        )
    return result


def validate_delete() -> Result:
    return Result()
