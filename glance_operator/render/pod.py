"""Containers, volumes, mounts, probes and security contexts of the GlanceAPI pod (spec 5.8, 5.9, 5.11).

Pure functions returning plain Kubernetes dicts. Volume and mount order follows upstream
(``internal/glance/volumes.go`` and ``internal/glanceapi/statefulset.go``) because any difference changes the
pod template and restarts every pod on takeover (must-get-right 19).

How the pod runs Glance: exactly as upstream, with the upstream image's commands. In WSGI mode (the default,
``glance.openstack.org/wsgi`` missing or true) ``glance-httpd`` runs ``/usr/sbin/httpd -DFOREGROUND`` and
mod_wsgi loads ``/var/www/cgi-bin/glance/glance-wsgi`` (10-glance-wsgi.conf); in legacy mode (annotation
false) httpd proxies to a ``glance-api`` container running ``/usr/bin/glance-api``, which current Glance
releases no longer ship (glance-runtime.md §3.4, §11: WSGI only) — legacy mode is kept for images that still
have it. Both commands are prefixed with the worker script writing ``01-config.conf`` with
``worker_self_reference_url`` (required by Glance's centralized cache driver when the cache is on).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glance_operator.api.v1beta1 import GlanceExtraVolMounts, ProbeConf
from glance_operator.render.configfiles import (
    CONFIG_00,
    CUSTOM_CONFIG_02,
    CUSTOM_SECRETS_03,
    HTTPD_CONF,
    IMAGE_CACHE_DIR,
    MY_CNF,
    RUN_ON_HOST,
    SSL_CONF,
    vhost_file_name,
)
from glance_operator.render.names import API_PORT, GLANCE_UID, SCRIPTS_SECRET

Obj = dict[str, Any]

__all__ = [
    "CONFIG_DIR",
    "Probes",
    "api_volume_mounts",
    "api_volumes",
    "config_volume_mounts",
    "container_env",
    "default_probes",
    "extra_mounts_for",
    "pod_security_context",
    "privileged_security_context",
    "restrictive_security_context",
]

CONFIG_DIR = "/etc/glance/glance.conf.d"
LOG_DIR = "/var/log/glance"
CONFIG_MODE = 0o440
SCRIPTS_MODE = 0o755
CA_BUNDLE_MODE = 0o444
CERT_MODE = 0o400
CA_BUNDLE_KEY = "tls-ca-bundle.pem"
CA_BUNDLE_PATH = "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
CA_BUNDLE_VOLUME = "combined-ca-bundle"
HEALTHCHECK_PATH = "/healthcheck"

WORKER_SCRIPT = (
    'if [ -n "$GLANCE_DOMAIN" ]; then cat > /etc/glance/glance.conf.d/01-config.conf <<EOF\n'
    "[DEFAULT]\n"
    "worker_self_reference_url=${URISCHEME,,}://$(hostname).${GLANCE_DOMAIN}:${GLANCE_PORT}\n"
    "EOF\n"
    "fi\n"
)

# --- security contexts (5.11) -----------------------------------------------------------------


def pod_security_context() -> Obj:
    return {
        "fsGroup": GLANCE_UID,
        "runAsGroup": GLANCE_UID,
        "runAsNonRoot": True,
        "runAsUser": GLANCE_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restrictive_security_context() -> Obj:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsGroup": GLANCE_UID,
        "runAsNonRoot": True,
        "runAsUser": GLANCE_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def privileged_security_context() -> Obj:
    return {"privileged": True, "runAsGroup": GLANCE_UID, "runAsNonRoot": True, "runAsUser": GLANCE_UID}


# --- probes (5.9) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Probes:
    liveness: Obj
    readiness: Obj
    startup: Obj


def probe_timings(api_timeout: int) -> tuple[int, int, int]:
    """``(period, timeout, startupPeriod)`` from apiTimeout (``internal/glance/funcs.go``).

    Deviation: the period is at least 1 (apiTimeout < 4 would give 0, which the apiserver replaces by 10).
    """
    period = max(1, int(api_timeout * 0.3))
    timeout = max(int(period * 0.8), 5)
    startup_period = max(5, min(10, period // 2))
    return period, timeout, startup_period


def _http_probe(scheme: str, *, timeout: int, period: int, failure: int, path: str = HEALTHCHECK_PATH) -> Obj:
    return {
        "httpGet": {"path": path, "port": API_PORT, "scheme": scheme},
        "initialDelaySeconds": 5,
        "timeoutSeconds": timeout,
        "periodSeconds": period,
        "failureThreshold": failure,
    }


def _merge_probe(probe: Obj, override: ProbeConf | None) -> Obj:
    """Field-by-field override (lib-common ``probes.CreateProbeSet``): set, non-zero values win."""
    if override is None:
        return probe
    out = dict(probe)
    if override.type == "Exec" and override.command:
        out.pop("httpGet", None)
        out["exec"] = {"command": list(override.command)}
    elif "httpGet" in out:
        http = dict(out["httpGet"])
        if override.path:
            http["path"] = override.path
        if override.port:
            http["port"] = override.port
        if override.scheme:
            http["scheme"] = override.scheme
        out["httpGet"] = http
    for attr, key in (
        ("initial_delay_seconds", "initialDelaySeconds"),
        ("timeout_seconds", "timeoutSeconds"),
        ("period_seconds", "periodSeconds"),
        ("failure_threshold", "failureThreshold"),
    ):
        value = getattr(override, attr)
        if value:
            out[key] = value
    return out


def default_probes(
    api_timeout: int,
    scheme: str,
    *,
    liveness: ProbeConf | None = None,
    readiness: ProbeConf | None = None,
    startup: ProbeConf | None = None,
) -> Probes:
    """Liveness/readiness per 5.9 and the startup probe upstream computes but never attaches (defect 29).

    The startup probe gets path ``/healthcheck`` (upstream leaves it empty, which would probe ``/``: the
    version document, a 300 that kubelet counts as success but which says nothing about the app's health).
    """
    period, timeout, startup_period = probe_timings(api_timeout)
    return Probes(
        liveness=_merge_probe(_http_probe(scheme, timeout=timeout, period=period, failure=3), liveness),
        readiness=_merge_probe(_http_probe(scheme, timeout=timeout, period=period, failure=3), readiness),
        startup=_merge_probe(_http_probe(scheme, timeout=5, period=startup_period, failure=12), startup),
    )


# --- env --------------------------------------------------------------------------------------


def container_env(values: Mapping[str, str]) -> list[Obj]:
    """``env.MergeEnvs``: sorted by name; an empty value is omitted like Go's ``omitempty``."""
    out: list[Obj] = []
    for name in sorted(values, key=lambda n: n.encode("utf-8")):
        item: Obj = {"name": name}
        if values[name]:
            item["value"] = values[name]
        out.append(item)
    return out


# --- extraMounts (2.4) ------------------------------------------------------------------------


def extra_mounts_for(
    extra_mounts: Sequence[GlanceExtraVolMounts], selectors: Sequence[str]
) -> tuple[list[Obj], list[Obj]]:
    """Volumes and mounts of every ``VolMounts`` propagated to ``selectors``.

    Defect 36 fix: a ``VolMounts`` matching several selectors (e.g. ``[Glance, GlanceAPI]``) is used once,
    not once per match. Duplicate names/paths across entries are removed later by the caller.
    """
    volumes: list[Obj] = []
    mounts: list[Obj] = []
    for extra in extra_mounts:
        for vm in extra.extra_vol:
            propagation = vm.propagation or []
            if propagation and not any(p == "All" or p in selectors for p in propagation):
                continue
            volumes.extend(v.model_dump(by_alias=True, exclude_none=True) for v in vm.volumes)
            mounts.extend(dict(m) for m in vm.mounts)
    return volumes, mounts


# --- volumes and mounts (5.8) -----------------------------------------------------------------

CINDER_HOST_PATHS: tuple[tuple[str, str, bool], ...] = (
    # (volume name, host path, DirectoryOrCreate)
    ("etc-iscsi", "/etc/iscsi", False),
    ("dev", "/dev", False),
    ("lib-modules", "/lib/modules", False),
    ("run", "/run", False),
    ("sys", "/sys", False),
    ("var-locks-brick", "/var/locks/openstack/os-brick", True),
    ("etc-nvme", "/etc/nvme", True),
)
CINDER_MOUNTS: tuple[tuple[str, str, bool], ...] = (
    ("etc-iscsi", "/etc/iscsi", True),
    ("dev", "/dev", False),
    ("lib-modules", "/lib/modules", True),
    ("run", "/run", False),
    ("sys", "/sys", False),
    ("var-locks-brick", "/var/locks/openstack/os-brick", False),
    ("etc-nvme", "/etc/nvme", False),
)
RUN_ON_HOST_PATHS = (
    "/usr/sbin/multipath",
    "/usr/sbin/multipathd",
    "/usr/sbin/iscsiadm",
    "/lib/udev/scsi_id",
    "/usr/sbin/nvme",
)


def _mount(name: str, path: str, *, read_only: bool = False, sub_path: str | None = None) -> Obj:
    out: Obj = {"name": name, "mountPath": path}
    if sub_path is not None:
        out["subPath"] = sub_path
    if read_only:
        out["readOnly"] = True
    return out


def _empty_dir(name: str) -> Obj:
    return {"name": name, "emptyDir": {}}


def _secret_volume(name: str, secret: str, mode: int, items: Sequence[str] | None = None) -> Obj:
    source: Obj = {"secretName": secret, "defaultMode": mode}
    if items is not None:
        source["items"] = [{"key": key, "path": key} for key in items]
    return {"name": name, "secret": source}


def ca_bundle_volume(secret: str) -> Obj:
    return _secret_volume(CA_BUNDLE_VOLUME, secret, CA_BUNDLE_MODE)


def ca_bundle_mount() -> Obj:
    return _mount(CA_BUNDLE_VOLUME, CA_BUNDLE_PATH, read_only=True, sub_path=CA_BUNDLE_KEY)


_VOLUME_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# every other volume name a GlanceAPI pod can have (the PVC templates included)
POD_VOLUMES = frozenset(
    {"config-data", "glance-config-dir", "logs", "scripts", "run-httpd", CA_BUNDLE_VOLUME, "glance", "glance-cache"}
    | {name for name, _, _ in CINDER_HOST_PATHS}
    | {"internal-tls-certs", "public-tls-certs"}
)


def config_secret_volumes(config_secrets: Sequence[str]) -> list[tuple[str, str]]:
    """``(volume name, Secret name)`` per ``customServiceConfigSecrets`` entry.

    Upstream names the volume like the Secret; that is kept whenever it is a valid volume name (a DNS-1123
    label of at most 63 characters) no other pod volume uses. A Secret name with dots, longer than 63
    characters, or equal to a pod volume (``logs``, ``glance``, ...) made the StatefulSet invalid upstream
    (or, once deduplicated, replaced that volume); such an entry gets ``config-secret-<i>`` instead.
    """
    used = set(POD_VOLUMES)
    keep = []
    for name in config_secrets:
        ok = len(name) <= 63 and _VOLUME_NAME.fullmatch(name) is not None and name not in used
        keep.append(ok)
        if ok:
            used.add(name)
    out = []
    for i, (name, ok) in enumerate(zip(config_secrets, keep, strict=True)):
        volume = name
        if not ok:
            volume, n = f"config-secret-{i}", 0
            while volume in used:
                n += 1
                volume = f"config-secret-{i}-{n}"
            used.add(volume)
        out.append((volume, name))
    return out


def config_volume_mounts(
    *,
    httpd: bool,
    wsgi: bool,
    local_pvc: bool,
    extra: Iterable[Obj],
    config_secrets: Sequence[str],
    cinder: bool,
) -> list[Obj]:
    """Mount list A (``GetVolumeMounts``): config dir and files, PVC, extraMounts, secrets, cinder."""
    mounts = [
        _mount("glance-config-dir", CONFIG_DIR),  # first, so the subPath files overlay it
        *(
            _mount("config-data", f"{CONFIG_DIR}/{f}", read_only=True, sub_path=f)
            for f in (CONFIG_00, CUSTOM_CONFIG_02, CUSTOM_SECRETS_03)
        ),
        _mount("config-data", "/etc/my.cnf", read_only=True, sub_path=MY_CNF),
    ]
    if httpd:
        vhost = vhost_file_name(wsgi=wsgi)
        mounts += [
            _mount("config-data", "/etc/httpd/conf/httpd.conf", read_only=True, sub_path=HTTPD_CONF),
            _mount("config-data", f"/etc/httpd/conf.d/{vhost}", read_only=True, sub_path=vhost),
            _mount("config-data", "/etc/httpd/conf.d/ssl.conf", read_only=True, sub_path=SSL_CONF),
        ]
    if local_pvc:
        mounts.append(_mount("glance", "/var/lib/glance"))
    mounts.extend(extra)
    mounts.extend(
        _mount(volume, f"/var/lib/config-data/secret-{i}", read_only=True)
        for i, (volume, _) in enumerate(config_secret_volumes(config_secrets))
    )
    if cinder:
        mounts.extend(_mount(name, path, read_only=ro) for name, path, ro in CINDER_MOUNTS)
        mounts.extend(_mount("scripts", path, sub_path=RUN_ON_HOST) for path in RUN_ON_HOST_PATHS)
    return mounts


def api_volume_mounts(
    *, cache: bool, ca_bundle: bool, mtls_secret: str | None, tls_endpoints: Sequence[str]
) -> list[Obj]:
    """Mount list B (``GetAPIVolumeMount`` + CA bundle + memcached mTLS + endpoint certs)."""
    mounts = [
        _mount("logs", LOG_DIR),
        _mount("scripts", "/usr/local/bin/container-scripts", read_only=True),
        _mount("run-httpd", "/run/httpd"),
    ]
    if cache:
        mounts.append(_mount("glance-cache", IMAGE_CACHE_DIR))
    if ca_bundle:
        mounts.append(ca_bundle_mount())
    if mtls_secret:
        mounts += [
            _mount(mtls_secret, "/etc/pki/tls/certs/mtls.crt", read_only=True, sub_path="tls.crt"),
            _mount(mtls_secret, "/etc/pki/tls/private/mtls.key", read_only=True, sub_path="tls.key"),
            _mount(mtls_secret, "/etc/pki/tls/certs/mtls-ca.crt", read_only=True, sub_path="ca.crt"),
        ]
    for endpoint in tls_endpoints:
        mounts += [
            _mount(
                f"{endpoint}-tls-certs",
                f"/etc/pki/tls/certs/{endpoint}.crt",
                read_only=True,
                sub_path="tls.crt",
            ),
            _mount(
                f"{endpoint}-tls-certs",
                f"/etc/pki/tls/private/{endpoint}.key",
                read_only=True,
                sub_path="tls.key",
            ),
        ]
    return mounts


def api_volumes(
    *,
    config_secret: str,
    extra: Iterable[Obj],
    config_secrets: Sequence[str],
    cinder: bool,
    ca_bundle_secret: str,
    mtls_secret: str | None,
    tls_secrets: Sequence[tuple[str, str]],
) -> list[Obj]:
    """Pod volumes in upstream order. ``tls_secrets``: ``(endpoint, secretName)`` in endpoint order."""
    volumes = [_secret_volume("config-data", config_secret, CONFIG_MODE)]
    volumes.extend(extra)
    volumes.extend(_secret_volume(volume, name, CONFIG_MODE) for volume, name in config_secret_volumes(config_secrets))
    if cinder:
        for name, path, or_create in CINDER_HOST_PATHS:
            host: Obj = {"path": path}
            if or_create:
                host["type"] = "DirectoryOrCreate"
            volumes.append({"name": name, "hostPath": host})
    volumes += [
        _empty_dir("glance-config-dir"),
        _empty_dir("logs"),
        _secret_volume("scripts", SCRIPTS_SECRET, SCRIPTS_MODE),
        _empty_dir("run-httpd"),
    ]
    if ca_bundle_secret:
        volumes.append(ca_bundle_volume(ca_bundle_secret))
    if mtls_secret:
        volumes.append(_secret_volume(mtls_secret, mtls_secret, CERT_MODE))
    volumes.extend(_secret_volume(f"{endpoint}-tls-certs", secret, CERT_MODE) for endpoint, secret in tls_secrets)
    return volumes


def dedupe(items: Iterable[Obj], key: str) -> tuple[list[Obj], list[Obj]]:
    """Keep the first item per ``item[key]``; return ``(kept, dropped)``."""
    seen: set[object] = set()
    kept: list[Obj] = []
    dropped: list[Obj] = []
    for item in items:
        k = item.get(key)
        if k in seen:
            dropped.append(item)
            continue
        seen.add(k)
        kept.append(item)
    return kept, dropped
