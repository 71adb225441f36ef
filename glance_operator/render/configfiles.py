"""Pure rendering of every file the operator writes into its config Secrets (spec 4.7, 6.2, 6.5-6.7).

No Kubernetes I/O: builders resolve the inputs (KeystoneAPI, MariaDB, Memcached, notification Secret, ...)
into the frozen dataclasses below and get back file contents. Output is deterministic for given inputs.

Secrets and their keys:

* ``<glance>-config-data`` (jobs): 00-config.conf (minimal), 01-config.conf, my.cnf, ssl.conf
  -> :func:`glance_job_secret`.
* ``<glanceapi>-config-data``: 00-config.conf (full), 02-config.conf, 03-config.conf, my.cnf, httpd.conf,
  10-glance-wsgi.conf, 10-glance-proxypass.conf, ssl.conf -> :func:`glance_api_secret`. Both vhost files
  are stored, as upstream renders every template; the pod mounts the one its WSGI mode selects.
* ``glance-scripts``: run-on-host -> :func:`scripts_secret_data`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import jinja2

from glance_operator.render.gotemplate import TemplateExpansion, TemplateValue, expand
from glance_operator.render.hashing import secret_hash

__all__ = [
    "API_TYPES",
    "CONFIG_00",
    "CUSTOM_CONFIG_01",
    "CUSTOM_CONFIG_02",
    "CUSTOM_SECRETS_03",
    "HTTPD_CONF",
    "IMAGE_CACHE_DIR",
    "MY_CNF",
    "PROXYPASS_VHOSTS",
    "RUN_ON_HOST",
    "SSL_CONF",
    "WSGI_VHOSTS",
    "ApiConfigParams",
    "ApplicationCredential",
    "Notifications",
    "RenderedSecret",
    "VHost",
    "api_endpoints",
    "build_vhosts",
    "concat_config_secrets",
    "glance_api_secret",
    "glance_job_secret",
    "job_template_parameters",
    "render_config",
    "render_httpd_conf",
    "render_minimal_config",
    "render_my_cnf",
    "render_proxypass_vhosts",
    "render_run_on_host",
    "render_ssl_conf",
    "render_wsgi_vhosts",
    "scripts_secret_data",
    "template_parameters",
    "vhost_file_name",
]

API_TYPES: Final = ("internal", "external", "single", "edge")

CONFIG_00: Final = "00-config.conf"
CUSTOM_CONFIG_01: Final = "01-config.conf"
CUSTOM_CONFIG_02: Final = "02-config.conf"
CUSTOM_SECRETS_03: Final = "03-config.conf"
MY_CNF: Final = "my.cnf"
SSL_CONF: Final = "ssl.conf"
HTTPD_CONF: Final = "httpd.conf"
WSGI_VHOSTS: Final = "10-glance-wsgi.conf"
PROXYPASS_VHOSTS: Final = "10-glance-proxypass.conf"
RUN_ON_HOST: Final = "run-on-host"

LOG_DIR: Final = "/var/log/glance/"
IMAGE_CACHE_DIR: Final = "/var/lib/glance/image-cache"

_ENV: Final = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # config files, not HTML
)


def _render(template: str, **context: object) -> str:
    return _ENV.get_template(template).render(**context)


def _go_bool(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class ApplicationCredential:
    """Keystone application credential (AC secret keys ``AC_ID`` / ``AC_SECRET``)."""

    id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Notifications:
    """Content of the notification bus Secret (``transport_url``, ``quorumqueues == "true"``)."""

    transport_url: str = field(repr=False)
    quorum_queues: bool = False


@dataclass(frozen=True, kw_only=True)
class ApiConfigParams:
    """Inputs of a GlanceAPI's ``00-config.conf`` (and of the custom-config template map)."""

    glance_api_name: str
    api_type: str  # one of API_TYPES
    database_connection: str = field(repr=False)
    keystone_internal_url: str
    keystone_public_url: str
    service_user: str
    service_password: str = field(repr=False)
    # Set: auth uses the application credential instead of the service user's password.
    application_credential: ApplicationCredential | None = None
    # Memcached status.serverList; joined by "," (none -> no memcached keys).
    memcached_servers: tuple[str, ...] = ()
    memcached_tls: bool = False  # the Memcached serves TLS
    memcached_mtls: bool = False  # ... and requires client certificates (mounted at the mtls.* paths)
    # Memcached status.serverListWithInet (template key MemcachedServersWithInet); `inet6:` entries mean IPv6.
    memcached_servers_with_inet: tuple[str, ...] = ()
    # KeystoneAPI status.region. The config's region keys are rendered only together with endpoint_id
    # (spec 6.9); custom-config templates get {{ .Region }} whenever it is known (defect 19).
    region: str | None = None
    # KeystoneEndpoint status.endpointIDs[public for external, internal otherwise], once published.
    endpoint_id: str | None = None
    image_cache_size_bytes: int | None = None  # imageCache.size as a parsed quantity; None = no cache
    quota: bool = False
    notifications: Notifications | None = None
    # An rbd store is among enabled_backends: the external API converts imports to raw (spec 6.2).
    rbd_backend: bool = False
    horizon_endpoint: str | None = None  # Horizon status.endpoint, for CORS

    def __post_init__(self) -> None:
        if self.api_type not in API_TYPES:
            raise ValueError(f"api_type must be one of {API_TYPES}, got {self.api_type!r}")
        if self.image_cache_size_bytes is not None and self.image_cache_size_bytes < 0:
            raise ValueError("image_cache_size_bytes must not be negative")
        # Accept any sequence from callers but keep the dataclass hashable.
        object.__setattr__(self, "memcached_servers", tuple(self.memcached_servers))
        object.__setattr__(self, "memcached_servers_with_inet", tuple(self.memcached_servers_with_inet))

    @property
    def authtoken_memcached_servers(self) -> str:
        """``[keystone_authtoken] memcached_servers`` (defect 31, see :func:`memcached_client_servers`)."""
        return memcached_client_servers(self.memcached_servers, self.memcached_servers_with_inet)

    @property
    def show_locations(self) -> bool:
        """Image locations are hidden on the user-facing external API only."""
        return self.api_type != "external"

    @property
    def image_conversion(self) -> bool:
        # Upstream limits conversion to the external API (defect 35 kept: single/edge do not convert).
        return self.rbd_backend and self.api_type == "external"

    @property
    def log_file(self) -> str:
        return f"{LOG_DIR}{self.glance_api_name}.log"

    @property
    def endpoint_region(self) -> str | None:
        """Region for the config's region keys: only once the endpoint ID is known (spec 6.9)."""
        return self.region if self.endpoint_id and self.region else None


@dataclass(frozen=True, kw_only=True)
class VHost:
    """One httpd virtual host, i.e. one served endpoint (spec 6.5)."""

    endpoint: str  # "internal" or "public"
    server_name: str
    server_alias: str
    timeout: int
    tls_cert_file: str | None = None
    tls_key_file: str | None = None

    def __post_init__(self) -> None:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file must be set together")

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None


def _is_ipv6_literal(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host.strip("[]")), ipaddress.IPv6Address)
    except ValueError:
        return False


def memcached_client_servers(servers: Sequence[str], servers_with_inet: Sequence[str] = ()) -> str:
    """keystonemiddleware's ``memcached_servers`` from Memcached ``serverList`` (defect 31, IPv6 part).

    keystonemiddleware's python-memcached client resolves a plain ``host:port`` over IPv4 only; upstream
    computes ``MemcachedServersWithInet`` (``inet6:[host]:port`` on IPv6) but renders the plain list, so on an
    IPv6-only cluster the token cache never connects. When the Memcached is IPv6 (an ``inet6:`` entry in
    ``serverListWithInet``, or a server given as an IPv6 literal), each server is written
    ``inet6:[host]:port``, keeping serverList's port (the TLS port when TLS is on; serverListWithInet always
    names the plain port). IPv4 keeps upstream's plain list, byte for byte.
    """
    hosts = [(host, port) for host, _, port in (s.rpartition(":") for s in servers)]
    ipv6 = any(w.startswith("inet6:") for w in servers_with_inet) or any(_is_ipv6_literal(h) for h, _ in hosts)
    if not ipv6:
        return ",".join(servers)
    return ",".join(f"inet6:[{host.strip('[]')}]:{port}" for host, port in hosts)


def api_endpoints(api_type: str) -> tuple[str, ...]:
    """Endpoints served by an API type: single serves both, external public, internal and edge internal."""
    if api_type == "single":
        return ("internal", "public")
    if api_type == "external":
        return ("public",)
    if api_type in ("internal", "edge"):
        return ("internal",)
    raise ValueError(f"api_type must be one of {API_TYPES}, got {api_type!r}")


def build_vhosts(
    *,
    glance_api_name: str,
    api_type: str,
    namespace: str,
    api_timeout: int,
    tls_endpoints: Collection[str] = (),
    borrowed_cert: str | None = None,
) -> tuple[VHost, ...]:
    """The upstream vhost set: ``glance-<endpoint>.<ns>.svc`` aliased to the StatefulSet's headless name.

    ``tls_endpoints`` names the endpoints with a certificate Secret. The ServerNames are upstream's fixed
    ones, not the Service DNS names (defect 28, kept); build :class:`VHost` directly to deviate.
    ``borrowed_cert`` names the endpoint whose certificate the endpoints without one serve: all vhosts of
    one port must agree on TLS (defect 28, fixed; see ``build_glance_api``).
    """
    sts = glance_api_name if api_type == "single" else f"{glance_api_name}-api"
    out = []
    for endpoint in api_endpoints(api_type):
        cert = endpoint if endpoint in tls_endpoints else borrowed_cert
        out.append(
            VHost(
                endpoint=endpoint,
                server_name=f"glance-{endpoint}.{namespace}.svc",
                server_alias=f"{sts}.{namespace}.svc",
                timeout=api_timeout,
                tls_cert_file=f"/etc/pki/tls/certs/{cert}.crt" if cert else None,
                tls_key_file=f"/etc/pki/tls/private/{cert}.key" if cert else None,
            )
        )
    return tuple(out)


def render_config(params: ApiConfigParams) -> str:
    """The GlanceAPI ``00-config.conf`` (full variant)."""
    return _render(
        "00-config.conf.j2",
        show_locations=_go_bool(params.show_locations),
        log_file=params.log_file,
        cache_max_size=params.image_cache_size_bytes,
        image_cache_dir=IMAGE_CACHE_DIR,
        quota=_go_bool(params.quota),
        database_connection=params.database_connection,
        keystone_public_url=params.keystone_public_url,
        keystone_internal_url=params.keystone_internal_url,
        ac=params.application_credential,
        service_user=params.service_user,
        service_password=params.service_password,
        memcached_servers=params.authtoken_memcached_servers,
        memcached_mtls=params.memcached_mtls,
        memcached_tls=params.memcached_tls,
        endpoint_id=params.endpoint_id or None,
        endpoint_region=params.endpoint_region,
        notifications=params.notifications,
        image_conversion=params.image_conversion,
        horizon_endpoint=params.horizon_endpoint or None,
    )


def render_minimal_config(database_connection: str) -> str:
    """The Glance job ``00-config.conf`` (minimal variant, byte-identical to upstream)."""
    return _render("00-config-minimal.conf.j2", database_connection=database_connection)


def render_httpd_conf(*, wsgi: bool) -> str:
    return _render("httpd.conf.j2", wsgi=wsgi)


def _sorted_vhosts(vhosts: Sequence[VHost]) -> list[VHost]:
    # Upstream ranges over a Go map keyed by endpoint, i.e. in sorted key order.
    return sorted(vhosts, key=lambda v: v.endpoint)


def render_wsgi_vhosts(vhosts: Sequence[VHost]) -> str:
    """``10-glance-wsgi.conf``: mod_wsgi vhosts, with ``LimitRequestBody 0`` and the conf_custom include."""
    return _render("10-glance-wsgi.conf.j2", vhosts=_sorted_vhosts(vhosts))


def render_proxypass_vhosts(vhosts: Sequence[VHost]) -> str:
    """``10-glance-proxypass.conf``: vhosts proxying to a standalone glance-api on localhost:9293."""
    return _render("10-glance-proxypass.conf.j2", vhosts=_sorted_vhosts(vhosts))


def vhost_file_name(*, wsgi: bool) -> str:
    """The vhost file httpd.conf includes (and the pod mounts) for a WSGI mode."""
    return WSGI_VHOSTS if wsgi else PROXYPASS_VHOSTS


def render_ssl_conf() -> str:
    """lib-common's common ``ssl.conf`` (byte-identical)."""
    return _render("ssl.conf.j2")


def render_my_cnf(*, tls: bool) -> str:
    """MariaDB client config: TLS when the API has a CA bundle and the database supports TLS."""
    return _render("my.cnf.j2", tls=tls)


def render_run_on_host() -> str:
    """Shim mounted over multipath/iscsiadm/... in cinder mode: runs the same path on the host."""
    return _render("run-on-host.j2")


def template_parameters(params: ApiConfigParams) -> dict[str, TemplateValue]:
    """Upstream's GlanceAPI template map, as seen by ``{{ .Key }}`` in custom config (must-get-right 14).

    Keys are present under the same conditions as upstream, except ``Region`` which is present whenever
    the KeystoneAPI region is known (defect 19). ``VHosts``/``Wsgi`` are not scalars; referencing them
    reports a missing key.
    """
    values: dict[str, TemplateValue] = {
        "ServiceUser": params.service_user,
        "ServicePassword": params.service_password,
        "KeystoneInternalURL": params.keystone_internal_url,
        "KeystonePublicURL": params.keystone_public_url,
        "DatabaseConnection": params.database_connection,
        "QuotaEnabled": params.quota,
        "LogFile": params.log_file,
        "ShowImageDirectUrl": params.show_locations,
        "ShowMultipleLocations": params.show_locations,
        "MemcachedServers": ",".join(params.memcached_servers),
        "MemcachedServersWithInet": ",".join(params.memcached_servers_with_inet),
    }
    if params.application_credential is not None:
        values["ApplicationCredentialID"] = params.application_credential.id
        values["ApplicationCredentialSecret"] = params.application_credential.secret
    if params.endpoint_id:
        values["EndpointID"] = params.endpoint_id
    if params.region:
        values["Region"] = params.region
    if params.api_type == "external":
        values["ImageConversion"] = params.image_conversion
    if params.image_cache_size_bytes is not None:
        values["CacheEnabled"] = True
        values["CacheMaxSize"] = params.image_cache_size_bytes
        values["ImageCacheDir"] = IMAGE_CACHE_DIR
    if params.memcached_mtls:
        values["MemcachedAuthCert"] = "/etc/pki/tls/certs/mtls.crt"
        values["MemcachedAuthKey"] = "/etc/pki/tls/private/mtls.key"
        values["MemcachedAuthCa"] = "/etc/pki/tls/certs/mtls-ca.crt"
    if params.notifications is not None:
        values["TransportURL"] = params.notifications.transport_url
        values["QuorumQueues"] = params.notifications.quorum_queues
    if params.horizon_endpoint:
        values["HorizonEndpoint"] = params.horizon_endpoint
    return values


def job_template_parameters(database_connection: str) -> dict[str, TemplateValue]:
    """Template map of the Glance job secret (defect 23: no dead cache parameters)."""
    return {"MinimalConfig": True, "DatabaseConnection": database_connection}


def concat_config_secrets(secrets: Sequence[Mapping[str, str | bytes]]) -> str:
    """``03-config.conf``: every value of every ``customServiceConfigSecrets`` Secret, each plus ``\\n``.

    Secrets in list order, values in key order (upstream iterates a Go map, i.e. in random order, which makes
    its output and hash unstable whenever a Secret has more than one key).
    """
    parts: list[str] = []
    for data in secrets:
        for key in sorted(data):
            value = data[key]
            parts.append(value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
            parts.append("\n")
    return "".join(parts)


@dataclass(frozen=True)
class RenderedSecret:
    """File contents of one config Secret plus the outcome of custom-config template expansion."""

    data: Mapping[str, str]
    # Per custom file (01/02/03, my.cnf): the expansion result, to report missing keys or parse failures.
    expansions: Mapping[str, TemplateExpansion] = field(default_factory=dict)

    def as_bytes(self) -> dict[str, bytes]:
        return {key: value.encode("utf-8") for key, value in sorted(self.data.items())}

    def hash(self) -> str:
        """The Secret hash upstream adds to the input hashes (``secret.Hash`` after the server round trip)."""
        return secret_hash(self.as_bytes())

    def warnings(self) -> tuple[str, ...]:
        """One human-readable line per custom file that was not fully expanded."""
        lines: list[str] = []
        for key, result in sorted(self.expansions.items()):
            if result.error is not None:
                lines.append(f"{key}: {result.error}; the file is used without template expansion")
            elif result.missing_keys:
                missing = ", ".join(result.missing_keys)
                lines.append(f"{key}: unknown template keys left unexpanded: {missing}")
        return tuple(lines)


def _with_custom(
    rendered: dict[str, str], custom: Mapping[str, str], params: Mapping[str, TemplateValue]
) -> RenderedSecret:
    expansions = {key: expand(text, params) for key, text in custom.items()}
    data = dict(rendered)
    data.update({key: result.text for key, result in expansions.items()})
    return RenderedSecret(data=dict(sorted(data.items())), expansions=expansions)


def glance_api_secret(
    params: ApiConfigParams,
    *,
    vhosts: Sequence[VHost],
    wsgi: bool,
    db_tls: bool,
    custom_service_config: str,
    custom_config_secrets: str,
) -> RenderedSecret:
    """Data of ``<glanceapi>-config-data``.

    ``custom_service_config`` is the effective customServiceConfig (already extended, e.g. with the S3 CA
    option); ``custom_config_secrets`` is :func:`concat_config_secrets` of the customServiceConfigSecrets.
    """
    rendered = {
        CONFIG_00: render_config(params),
        HTTPD_CONF: render_httpd_conf(wsgi=wsgi),
        WSGI_VHOSTS: render_wsgi_vhosts(vhosts),
        PROXYPASS_VHOSTS: render_proxypass_vhosts(vhosts),
        SSL_CONF: render_ssl_conf(),
    }
    custom = {
        CUSTOM_CONFIG_02: custom_service_config,
        CUSTOM_SECRETS_03: custom_config_secrets,
        MY_CNF: render_my_cnf(tls=db_tls),
    }
    return _with_custom(rendered, custom, template_parameters(params))


def glance_job_secret(*, database_connection: str, custom_service_config: str, db_tls: bool) -> RenderedSecret:
    """Data of ``<glance>-config-data`` (db-sync and db-purge read 00 + 01)."""
    rendered = {CONFIG_00: render_minimal_config(database_connection), SSL_CONF: render_ssl_conf()}
    custom = {CUSTOM_CONFIG_01: custom_service_config, MY_CNF: render_my_cnf(tls=db_tls)}
    return _with_custom(rendered, custom, job_template_parameters(database_connection))


def scripts_secret_data() -> dict[str, str]:
    """Data of ``glance-scripts``."""
    return {RUN_ON_HOST: render_run_on_host()}
