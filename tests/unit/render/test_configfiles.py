"""Rendered config files: spec 6.2 key table, httpd files (6.5), ssl.conf (6.6), my.cnf (6.7), secrets."""

from __future__ import annotations

import configparser
import dataclasses
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glance_operator.render import configfiles as cf
from glance_operator.render.configfiles import (
    ApiConfigParams,
    ApplicationCredential,
    Notifications,
    VHost,
)
from glance_operator.render.hashing import secret_hash

KS_INTERNAL = "https://keystone-internal.openstack.svc:5000"
KS_PUBLIC = "https://keystone-public-openstack.apps.example.com"
DB = "mysql+pymysql://glance_1:dbpass@openstack.openstack.svc/glance?read_default_file=/etc/my.cnf"

BASE = ApiConfigParams(
    glance_api_name="glance-default-external",
    api_type="external",
    database_connection=DB,
    keystone_internal_url=KS_INTERNAL,
    keystone_public_url=KS_PUBLIC,
    service_user="glance",
    service_password="12345678",
)


def params(**changes: object) -> ApiConfigParams:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def ini(text: str, *, strict: bool = False) -> dict[str, dict[str, str]]:
    """Sections as plain dicts; [DEFAULT] is an ordinary section here (no inheritance into others)."""
    parser = configparser.ConfigParser(strict=strict, interpolation=None, default_section="__none__")
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return {name: dict(parser[name]) for name in parser.sections()}


def conf(**changes: object) -> dict[str, dict[str, str]]:
    return ini(cf.render_config(params(**changes)), strict=True)


# --- 00-config.conf, full variant ----------------------------------------------------------------------


def test_section_order_and_fixed_values() -> None:
    text = cf.render_config(params(notifications=Notifications("rabbit://u:p@rabbit/", quorum_queues=True)))
    sections = re.findall(r"^\[([^\]]+)\]$", text, flags=re.M)
    assert sections == [
        "DEFAULT",
        "database",
        "file",
        "glance_store",
        "keystone_authtoken",
        "service_user",
        "oslo_messaging_notifications",
        "oslo_messaging_rabbit",
        "oslo_middleware",
        "paste_deploy",
        "os_glance_staging_store",
        "os_glance_tasks_store",
        "oslo_limit",
        "os_brick",
        "oslo_concurrency",
        "oslo_policy",
        "image_import_opts",
        "key_manager",
        "barbican",
    ]
    c = ini(text, strict=True)
    assert c["DEFAULT"] == {
        "verbose": "True",
        "show_image_direct_url": "false",
        "show_multiple_locations": "false",
        "enabled_import_methods": "[web-download,glance-direct]",
        "bind_host": "localhost",
        "bind_port": "9293",
        "workers": "3",
        "max_logfile_count": "1",
        "max_logfile_size_mb": "20",
        "log_rotation_type": "size",
        "log_file": "/var/log/glance/glance-default-external.log",
        "enabled_backends": "default_backend:file",
        "use_keystone_limits": "false",
    }
    assert "# enable log rotation in oslo config by default\nmax_logfile_count=1\n" in text
    assert c["database"] == {"connection": DB, "max_retries": "-1", "db_max_retries": "-1"}
    assert c["file"] == {"filesystem_store_datadir": "/var/lib/glance/images"}
    assert c["glance_store"] == {"default_backend": "default_backend"}
    assert c["oslo_middleware"] == {"enable_proxy_headers_parsing": "True"}
    # Glance 33 only warns without a staging store, and every import then fails (glance-runtime pitfall 5)
    assert c["os_glance_staging_store"] == {"filesystem_store_datadir": "/var/lib/glance/os_glance_staging_store/"}
    assert c["os_glance_tasks_store"] == {"filesystem_store_datadir": "/var/lib/glance/os_glance_tasks_store/"}
    assert c["os_brick"] == {"lock_path": "/var/locks/openstack/os-brick"}
    assert c["oslo_concurrency"] == {"lock_path": "/var/lib/glance/tmp"}
    assert c["oslo_policy"] == {"enforce_new_defaults": "true", "enforce_scope": "true"}
    assert c["key_manager"] == {"backend": "barbican"}
    assert c["barbican"] == {"auth_endpoint": KS_INTERNAL}
    assert c["keystone_authtoken"]["www_authenticate_uri"] == KS_PUBLIC
    assert c["keystone_authtoken"]["auth_url"] == KS_INTERNAL
    assert c["keystone_authtoken"]["service_type"] == "image"
    assert text.endswith("\n") and not text.endswith("\n\n")


@pytest.mark.parametrize(
    ("api_type", "shown"), [("external", "false"), ("internal", "true"), ("single", "true"), ("edge", "true")]
)
def test_external_hides_locations(api_type: str, shown: str) -> None:
    default = conf(api_type=api_type)["DEFAULT"]
    assert default["show_image_direct_url"] == shown
    assert default["show_multiple_locations"] == shown


@pytest.mark.parametrize(
    ("size", "flavor", "raw_line"),
    [
        (None, "keystone", None),
        (
            10737418240,
            "keystone+cachemanagement",
            "image_cache_max_size =  10737418240\n",
        ),  # 10Gi, two spaces
        (2000000000, "keystone+cachemanagement", "image_cache_max_size =  2000000000\n"),  # 2G
        (0, "keystone+cachemanagement", "image_cache_max_size =  0\n"),
    ],
)
def test_image_cache(size: int | None, flavor: str, raw_line: str | None) -> None:
    text = cf.render_config(params(image_cache_size_bytes=size))
    c = ini(text, strict=True)
    assert c["paste_deploy"] == {"flavor": flavor}
    cache_keys = {"image_cache_dir", "image_cache_max_size", "image_cache_stall_time"}
    if size is None:
        assert not cache_keys & c["DEFAULT"].keys()
    else:
        assert c["DEFAULT"]["image_cache_dir"] == "/var/lib/glance/image-cache"
        assert c["DEFAULT"]["image_cache_max_size"] == str(size)
        assert c["DEFAULT"]["image_cache_stall_time"] == "86400"
        assert raw_line is not None and raw_line in text


@pytest.mark.parametrize(("quota", "value"), [(False, "false"), (True, "true")])
def test_quota_toggles_keystone_limits_and_oslo_limit_is_always_there(quota: bool, value: str) -> None:
    c = conf(quota=quota)
    assert c["DEFAULT"]["use_keystone_limits"] == value
    assert c["oslo_limit"] == {
        "auth_url": KS_INTERNAL,
        "auth_type": "password",
        "username": "glance",
        "password": "12345678",
        "system_scope": "all",
        "user_domain_id": "default",
    }


@pytest.mark.parametrize(
    ("notifications", "expected_notifications", "expected_rabbit"),
    [
        (None, {"driver": "noop"}, None),
        (
            Notifications("rabbit://u:p@rabbitmq.openstack.svc:5672/?ssl=1"),
            {"driver": "messagingv2", "transport_url": "rabbit://u:p@rabbitmq.openstack.svc:5672/?ssl=1"},
            None,
        ),
        (
            Notifications("rabbit://u:p@r/", quorum_queues=True),
            {"driver": "messagingv2", "transport_url": "rabbit://u:p@r/"},
            {
                "rabbit_quorum_queue": "true",
                "rabbit_transient_quorum_queue": "true",
                "amqp_durable_queues": "true",
            },
        ),
    ],
)
def test_notifications(
    notifications: Notifications | None,
    expected_notifications: dict[str, str],
    expected_rabbit: dict[str, str] | None,
) -> None:
    c = conf(notifications=notifications)
    assert c["oslo_messaging_notifications"] == expected_notifications
    assert c.get("oslo_messaging_rabbit") == expected_rabbit


PASSWORD_AUTH = {
    "auth_type": "password",
    "username": "glance",
    "password": "12345678",
    "project_domain_name": "Default",
    "user_domain_name": "Default",
    "project_name": "service",
}
AC_AUTH = {
    "auth_type": "v3applicationcredential",
    "application_credential_id": "ac-id",
    "application_credential_secret": "ac-secret",
}


@pytest.mark.parametrize(
    ("ac", "auth", "limit_auth"),
    [
        (None, PASSWORD_AUTH, {**PASSWORD_AUTH, "system_scope": "all", "user_domain_id": "default"}),
        (ApplicationCredential("ac-id", "ac-secret"), AC_AUTH, AC_AUTH),
    ],
)
def test_password_vs_application_credential(
    ac: ApplicationCredential | None, auth: dict[str, str], limit_auth: dict[str, str]
) -> None:
    c = conf(application_credential=ac)
    ks = c["keystone_authtoken"]
    assert {k: ks[k] for k in auth} == auth
    assert ks.keys() == {"www_authenticate_uri", "auth_url", "service_type", *auth}
    # Defect 30: [service_user] is a complete keystoneauth section (auth_url + credentials).
    assert c["service_user"] == {"auth_url": KS_INTERNAL, **auth}
    assert "send_service_user_token" not in c["service_user"]
    limit = dict(c["oslo_limit"])
    assert limit.pop("auth_url") == KS_INTERNAL
    # oslo_limit has no project: password mode is system scoped
    limit_expected = {
        k: v for k, v in limit_auth.items() if k not in ("project_domain_name", "user_domain_name", "project_name")
    }
    assert limit == limit_expected


@pytest.mark.parametrize(
    ("region", "endpoint_id", "region_keys"),
    [
        (None, None, False),
        ("regionOne", None, False),  # region alone: not rendered until the endpoint ID is published
        ("regionOne", "e0d1", True),
        (None, "e0d1", False),
    ],
)
def test_region_only_with_endpoint_id(region: str | None, endpoint_id: str | None, region_keys: bool) -> None:
    c = conf(region=region, endpoint_id=endpoint_id)
    assert ("region_name" in c["keystone_authtoken"]) is region_keys
    assert ("endpoint_region_name" in c["oslo_limit"]) is region_keys
    assert ("barbican_region_name" in c["barbican"]) is region_keys
    assert c["oslo_limit"].get("endpoint_id") == endpoint_id
    if region_keys:
        assert c["keystone_authtoken"]["region_name"] == "regionOne"
        assert c["oslo_limit"]["endpoint_region_name"] == "regionOne"
        assert c["barbican"]["barbican_region_name"] == "regionOne"


@pytest.mark.parametrize(
    ("api_type", "rbd", "converts"),
    [
        ("external", True, True),
        ("external", False, False),
        ("internal", True, False),
        ("single", True, False),  # defect 35 kept: only the external API converts
        ("edge", True, False),
    ],
)
def test_rbd_image_conversion_only_on_external(api_type: str, rbd: bool, converts: bool) -> None:
    c = conf(api_type=api_type, rbd_backend=rbd)
    if converts:
        assert c["image_import_opts"] == {"image_import_plugins": "['image_conversion']"}
        assert c["image_conversion"] == {"output_format": "raw"}
    else:
        assert c["image_import_opts"] == {"image_import_plugins": "['no_op']"}
        assert "image_conversion" not in c


@pytest.mark.parametrize(
    ("horizon", "cors"), [(None, None), ("", None), ("https://horizon.example", "https://horizon.example")]
)
def test_horizon_cors(horizon: str | None, cors: str | None) -> None:
    c = conf(horizon_endpoint=horizon)
    assert c.get("cors") == (None if cors is None else {"allowed_origin": cors})


MTLS_KEYS = {
    "memcache_tls_certfile": "/etc/pki/tls/certs/mtls.crt",
    "memcache_tls_keyfile": "/etc/pki/tls/private/mtls.key",
    "memcache_tls_cafile": "/etc/pki/tls/certs/mtls-ca.crt",
    "memcache_tls_enabled": "true",
}


M0, M1 = "memcached-0.memcached.openstack.svc:11211", "memcached-1.memcached.openstack.svc:11211"
POOL_KEYS = {"memcache_pool_dead_retry": "10", "memcache_pool_conn_get_timeout": "2"}


@pytest.mark.parametrize(
    ("servers", "tls", "mtls", "expected"),
    [
        ((), False, False, {}),
        ((M0, M1), False, False, {"memcached_servers": f"{M0},{M1}", **POOL_KEYS}),
        ((M0,), True, True, {"memcached_servers": M0, **POOL_KEYS, **MTLS_KEYS}),
        ((M0,), False, True, {"memcached_servers": M0, **POOL_KEYS, **MTLS_KEYS}),
        # defect 31: TLS without client certificates still enables TLS on the client
        ((M0,), True, False, {"memcached_servers": M0, **POOL_KEYS, "memcache_tls_enabled": "true"}),
    ],
)
def test_memcached(servers: tuple[str, ...], tls: bool, mtls: bool, expected: dict[str, str]) -> None:
    ks = conf(memcached_servers=servers, memcached_tls=tls, memcached_mtls=mtls)["keystone_authtoken"]
    assert {k: v for k, v in ks.items() if k.startswith("memcache")} == expected


IPV6_WITH_INET = (
    "inet6:[memcached-0.memcached.openstack.svc]:11211",
    "inet6:[memcached-1.memcached.openstack.svc]:11211",
)


@pytest.mark.parametrize(
    ("servers", "with_inet", "expected"),
    [
        # IPv4: upstream's plain serverList, byte for byte (no spurious rollout on takeover)
        ((M0, M1), ("inet:[memcached-0.memcached.openstack.svc]:11211",), f"{M0},{M1}"),
        ((M0, M1), (), f"{M0},{M1}"),
        # IPv6 (serverListWithInet says inet6): python-memcached needs inet6:[host]:port
        ((M0, M1), IPV6_WITH_INET, ",".join(IPV6_WITH_INET)),
        # ... keeping serverList's port, the TLS one when the Memcached serves TLS
        (
            ("memcached-0.memcached.openstack.svc:11212",),
            IPV6_WITH_INET[:1],
            "inet6:[memcached-0.memcached.openstack.svc]:11212",
        ),
        # IPv6 literals are recognised without serverListWithInet
        (("[fd00::10]:11211", "fd00::11:11211"), (), "inet6:[fd00::10]:11211,inet6:[fd00::11]:11211"),
        (("10.0.0.1:11211",), (), "10.0.0.1:11211"),
    ],
)
def test_memcached_ipv6_servers_use_the_inet6_style_defect_31(
    servers: tuple[str, ...], with_inet: tuple[str, ...], expected: str
) -> None:
    """defect 31 (IPv6 part): upstream computes MemcachedServersWithInet (inet6:[host]:port) but never uses it."""
    ks = conf(memcached_servers=servers, memcached_servers_with_inet=with_inet)["keystone_authtoken"]
    assert ks["memcached_servers"] == expected
    values = cf.template_parameters(params(memcached_servers=servers, memcached_servers_with_inet=with_inet))
    assert values["MemcachedServers"] == ",".join(servers)  # the template map keeps upstream's values
    assert values["MemcachedServersWithInet"] == ",".join(with_inet)


@pytest.mark.parametrize("bad", ["split", "", "External"])
def test_api_type_is_validated(bad: str) -> None:
    with pytest.raises(ValueError, match="api_type"):
        params(api_type=bad)
    with pytest.raises(ValueError, match="api_type"):
        cf.api_endpoints(bad)


def test_params_repr_hides_credentials() -> None:
    p = params(
        application_credential=ApplicationCredential("ac-id", "ac-secret"),
        notifications=Notifications("rabbit://user:rabbitpass@r/"),
    )
    text = repr(p)
    for secret in ("12345678", "dbpass", "ac-secret", "rabbitpass"):
        assert secret not in text
    assert "ac-id" in text


_PARAMS = st.builds(
    ApiConfigParams,
    glance_api_name=st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True),
    api_type=st.sampled_from(cf.API_TYPES),
    database_connection=st.just(DB),
    keystone_internal_url=st.just(KS_INTERNAL),
    keystone_public_url=st.just(KS_PUBLIC),
    service_user=st.sampled_from(["glance", "glance-svc"]),
    service_password=st.from_regex(r"[A-Za-z0-9%$#@!]{1,32}", fullmatch=True),
    application_credential=st.none() | st.builds(ApplicationCredential, st.uuids().map(str), st.uuids().map(str)),
    memcached_servers=st.lists(st.from_regex(r"m[0-9]\.svc:11211", fullmatch=True), max_size=3).map(tuple),
    memcached_tls=st.booleans(),
    memcached_mtls=st.booleans(),
    region=st.none() | st.sampled_from(["regionOne", "RegionTwo"]),
    endpoint_id=st.none() | st.uuids().map(lambda u: u.hex),
    image_cache_size_bytes=st.none() | st.integers(min_value=0, max_value=2**62),
    quota=st.booleans(),
    notifications=st.none() | st.builds(Notifications, st.just("rabbit://u:p@r:5672/"), st.booleans()),
    rbd_backend=st.booleans(),
    horizon_endpoint=st.none() | st.just("https://horizon"),
)


@given(_PARAMS)
def test_full_config_always_parses_and_is_deterministic(p: ApiConfigParams) -> None:
    text = cf.render_config(p)
    assert cf.render_config(dataclasses.replace(p)) == text
    c = ini(text, strict=True)  # no duplicate sections or keys in any combination
    assert "\n\n\n" not in text
    # the paste pipeline always authenticates; noauth breaks imports on Glance 33 (glance-runtime pitfall 6)
    assert c["paste_deploy"]["flavor"].startswith("keystone")
    # the cache flavor comes with image_cache_dir, never alone
    assert (c["paste_deploy"]["flavor"] == "keystone+cachemanagement") is ("image_cache_dir" in c["DEFAULT"])
    assert c["DEFAULT"]["show_image_direct_url"] == ("false" if p.api_type == "external" else "true")


# --- 00-config.conf, minimal variant (Glance job secret) ------------------------------------------------


def test_minimal_config_is_upstream_bytes() -> None:
    assert cf.render_minimal_config(DB) == f"[DEFAULT]\nverbose=True\n\n[database]\nconnection = {DB}\n\n"
    assert ini(cf.render_minimal_config(DB), strict=True) == {
        "DEFAULT": {"verbose": "True"},
        "database": {"connection": DB},
    }


# --- httpd ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("wsgi", "include"), [(True, "10-glance-wsgi.conf"), (False, "10-glance-proxypass.conf")])
def test_httpd_conf(wsgi: bool, include: str) -> None:
    text = cf.render_httpd_conf(wsgi=wsgi)
    lines = text.splitlines()
    for directive in (
        "ServerTokens Prod",
        "ServerSignature Off",
        "TraceEnable Off",
        "PidFile /run/httpd/httpd.pid",
        'ServerRoot "/etc/httpd"',
        'ServerName "glance.openstack.svc"',
        "User glance",
        "Group glance",
        "Listen 9292",
        "TypesConfig /etc/mime.types",
        "Include conf.modules.d/*.conf",
        "CustomLog /dev/stdout combined env=!forwarded",
        "CustomLog /dev/stdout proxy env=forwarded",
        "ErrorLog /dev/stderr",
    ):
        assert directive in lines
    assert any(line.startswith("LogFormat ") and line.endswith(" combined") for line in lines)
    assert any(line.startswith('LogFormat "%{X-Forwarded-For}i ') and line.endswith(" proxy") for line in lines)
    assert [line for line in lines if line.startswith("Include conf.d/")] == [
        "Include conf.d/ssl.conf",
        f"Include conf.d/{include}",
    ]
    assert cf.vhost_file_name(wsgi=wsgi) == include


@pytest.mark.parametrize(
    ("api_type", "endpoints", "alias"),
    [
        ("single", ("internal", "public"), "glance-default-single.openstack.svc"),
        ("external", ("public",), "glance-default-single-api.openstack.svc"),
        ("internal", ("internal",), "glance-default-single-api.openstack.svc"),
        ("edge", ("internal",), "glance-default-single-api.openstack.svc"),
    ],
)
def test_build_vhosts(api_type: str, endpoints: tuple[str, ...], alias: str) -> None:
    vhosts = cf.build_vhosts(
        glance_api_name="glance-default-single",
        api_type=api_type,
        namespace="openstack",
        api_timeout=60,
        tls_endpoints={"public"},
    )
    assert tuple(v.endpoint for v in vhosts) == endpoints
    for v in vhosts:
        assert v.server_name == f"glance-{v.endpoint}.openstack.svc"
        assert v.server_alias == alias
        assert v.timeout == 60
        assert v.tls is (v.endpoint == "public")
        if v.tls:
            assert (v.tls_cert_file, v.tls_key_file) == (
                "/etc/pki/tls/certs/public.crt",
                "/etc/pki/tls/private/public.key",
            )


def test_vhost_requires_cert_and_key_together() -> None:
    with pytest.raises(ValueError, match="together"):
        VHost(endpoint="public", server_name="a", server_alias="b", timeout=60, tls_cert_file="/c")


VHOSTS = cf.build_vhosts(
    glance_api_name="glance-default-single",
    api_type="single",
    namespace="openstack",
    api_timeout=75,
    tls_endpoints={"public"},
)


def _blocks(text: str) -> dict[str, list[str]]:
    """Stripped lines of each <VirtualHost> block, keyed by its ServerName."""
    blocks: dict[str, list[str]] = {}
    for body in re.findall(r"<VirtualHost \*:9292>\n(.*?)</VirtualHost>", text, flags=re.S):
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        blocks[lines[0].removeprefix("ServerName ")] = lines
    return blocks


TLS_LINES = [
    "SetEnvIf X-Forwarded-Proto https HTTPS=1",
    "SSLEngine on",
    'SSLCertificateFile      "/etc/pki/tls/certs/public.crt"',
    'SSLCertificateKeyFile   "/etc/pki/tls/private/public.key"',
]


def test_wsgi_vhosts() -> None:
    text = cf.render_wsgi_vhosts(tuple(reversed(VHOSTS)))  # input order does not matter
    assert text.index("glance-internal.openstack.svc") < text.index("glance-public.openstack.svc")
    blocks = _blocks(text)
    assert list(blocks) == ["glance-internal.openstack.svc", "glance-public.openstack.svc"]
    for name, lines in blocks.items():
        endpoint = name.split(".")[0].removeprefix("glance-")
        for line in (
            "ServerAlias glance-default-single.openstack.svc",
            'DocumentRoot "/var/www/cgi-bin/glance"',
            '<Directory "/var/www/cgi-bin/glance">',
            "Timeout 75",
            "ErrorLog /dev/stderr",
            "WSGIApplicationGroup %{GLOBAL}",
            f"WSGIDaemonProcess {endpoint} display-name={endpoint} group=glance processes=4 threads=10 user=glance",
            f"WSGIProcessGroup {endpoint}",
            'WSGIScriptAlias / "/var/www/cgi-bin/glance/glance-wsgi"',
            "LimitRequestBody 0",  # lifts the 1 GiB default upload limit
            "WSGIChunkedRequest On",
            "WSGIPassAuthorization On",
            "IncludeOptional conf_custom/*.conf",
        ):
            assert line in lines, (name, line)
        has_tls = endpoint == "public"
        for line in TLS_LINES:
            assert (line in lines) is has_tls
        assert not [line for line in lines if line.startswith("Proxy")]


def test_proxypass_vhosts() -> None:
    blocks = _blocks(cf.render_proxypass_vhosts(VHOSTS))
    assert list(blocks) == ["glance-internal.openstack.svc", "glance-public.openstack.svc"]
    for name, lines in blocks.items():
        has_tls = name.startswith("glance-public")
        for line in (
            "ServerAlias glance-default-single.openstack.svc",
            "TimeOut 75",
            "ProxyRequests Off",
            "ProxyPreserveHost Off",
            "ProxyPass / http://localhost:9293/ retry=10",
            "ProxyPassReverse / http://localhost:9293/",
            f'RequestHeader setIfEmpty X-Forwarded-Proto "{"https" if has_tls else "http"}"',
        ):
            assert line in lines, (name, line)
        for line in TLS_LINES:
            assert (line in lines) is has_tls
        assert not [line for line in lines if "IncludeOptional" in line or line.startswith("WSGI")]
        assert "LimitRequestBody 0" not in lines


def test_ssl_conf_is_lib_common_template() -> None:
    text = cf.render_ssl_conf()
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "<IfModule mod_ssl.c>" and lines[-1] == "</IfModule>"
    for line in (
        "SSLRandomSeed startup builtin",
        "SSLRandomSeed connect file:/dev/urandom 512",
        "AddType application/x-x509-ca-cert .crt",
        "SSLPassPhraseDialog builtin",
        'SSLSessionCache "shmcb:/var/cache/mod_ssl/scache(512000)"',
        "SSLSessionCacheTimeout 300",
        "Mutex default",
        "SSLCryptoDevice builtin",
        "SSLHonorCipherOrder On",
        "SSLUseStapling Off",
        'SSLStaplingCache "shmcb:/run/httpd/ssl_stapling(32768)"',
        "SSLCipherSuite ECDHE+AESGCM:DHE+AESGCM:!aNULL:!MD5:!RC4:!3DES",
        "SSLProtocol all -SSLv2 -SSLv3 -TLSv1 -TLSv1.1",
        "SSLOptions StdEnvVars",
    ):
        assert line in lines
    assert text.endswith("</IfModule>\n")


@pytest.mark.parametrize(
    ("tls", "expected"),
    [
        (True, "[client]\nssl-ca=/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem\nssl=1"),
        (False, "[client]\nssl=0"),
    ],
)
def test_my_cnf_exact(tls: bool, expected: str) -> None:
    assert cf.render_my_cnf(tls=tls) == expected


def test_run_on_host_execs_same_path_on_host() -> None:
    assert cf.render_run_on_host() == '#!/bin/sh\nexec nsenter -a -t 1 "$0" "$@"\n'
    assert cf.scripts_secret_data() == {"run-on-host": cf.render_run_on_host()}


# --- secrets and template parameters --------------------------------------------------------------------

SWIFT = (
    "[default_backend]\n"
    "swift_store_auth_address = {{ .KeystoneInternalURL }}\n"
    "swift_store_key = {{ .ServicePassword }}\n"
    "swift_store_region = {{ .Region }}\n"
)


def _api_secret(p: ApiConfigParams, custom: str = SWIFT, secrets: str = "", wsgi: bool = True) -> cf.RenderedSecret:
    return cf.glance_api_secret(
        p, vhosts=VHOSTS, wsgi=wsgi, db_tls=True, custom_service_config=custom, custom_config_secrets=secrets
    )


def test_glance_api_secret_keys_and_contents() -> None:
    p = params(region="regionOne", endpoint_id="e0d1")
    rendered = _api_secret(p, secrets="[s3]\ns3_store_secret_key = {{ .ServicePassword }}\n")
    assert list(rendered.data) == sorted(
        [
            "00-config.conf",
            "02-config.conf",
            "03-config.conf",
            "10-glance-proxypass.conf",
            "10-glance-wsgi.conf",
            "httpd.conf",
            "my.cnf",
            "ssl.conf",
        ]
    )
    assert rendered.data["00-config.conf"] == cf.render_config(p)
    assert rendered.data["httpd.conf"] == cf.render_httpd_conf(wsgi=True)
    assert rendered.data["10-glance-wsgi.conf"] == cf.render_wsgi_vhosts(VHOSTS)
    assert rendered.data["10-glance-proxypass.conf"] == cf.render_proxypass_vhosts(VHOSTS)
    assert rendered.data["my.cnf"] == cf.render_my_cnf(tls=True)
    assert rendered.data["ssl.conf"] == cf.render_ssl_conf()
    assert rendered.data["02-config.conf"] == SWIFT.replace("{{ .KeystoneInternalURL }}", KS_INTERNAL).replace(
        "{{ .ServicePassword }}", "12345678"
    ).replace("{{ .Region }}", "regionOne")
    assert rendered.data["03-config.conf"] == "[s3]\ns3_store_secret_key = 12345678\n"
    assert rendered.warnings() == ()
    assert rendered.hash() == secret_hash({k: v.encode() for k, v in rendered.data.items()})


def test_region_reaches_custom_config_before_the_endpoint_id() -> None:
    # Defect 19: {{ .Region }} expands as soon as the KeystoneAPI region is known ...
    rendered = _api_secret(params(region="regionOne"))
    assert "swift_store_region = regionOne\n" in rendered.data["02-config.conf"]
    # ... while 00-config.conf keeps upstream's rule of waiting for the endpoint ID (spec 6.9)
    assert "region_name" not in rendered.data["00-config.conf"]


def test_unknown_region_is_reported_not_hidden() -> None:
    rendered = _api_secret(params())
    custom = rendered.data["02-config.conf"]
    assert "swift_store_key = 12345678\n" in custom
    assert "swift_store_region = {{ .Region }}\n" in custom
    assert rendered.expansions["02-config.conf"].missing_keys == ("Region",)
    assert rendered.warnings() == ("02-config.conf: unknown template keys left unexpanded: Region",)


def test_unsupported_template_is_stored_raw_with_a_warning() -> None:
    custom = "[DEFAULT]\n{{ if .Region }}x = 1{{ end }}\ny = {{ .ServicePassword }}\n"
    rendered = _api_secret(params(), custom=custom)
    assert rendered.data["02-config.conf"] == custom
    (warning,) = rendered.warnings()
    assert warning.startswith("02-config.conf: unsupported template action")


def test_glance_job_secret() -> None:
    custom = "[DEFAULT]\ndebug = true\n# {{ .DatabaseConnection }}\nauth = {{ .KeystoneInternalURL }}\n"
    rendered = cf.glance_job_secret(database_connection=DB, custom_service_config=custom, db_tls=False)
    assert list(rendered.data) == ["00-config.conf", "01-config.conf", "my.cnf", "ssl.conf"]
    assert rendered.data["00-config.conf"] == cf.render_minimal_config(DB)
    assert rendered.data["01-config.conf"] == (
        f"[DEFAULT]\ndebug = true\n# {DB}\nauth = {{{{ .KeystoneInternalURL }}}}\n"
    )
    assert rendered.data["my.cnf"] == "[client]\nssl=0"
    assert rendered.data["ssl.conf"] == cf.render_ssl_conf()
    assert rendered.warnings() == ("01-config.conf: unknown template keys left unexpanded: KeystoneInternalURL",)
    # defect 23: no dead cache parameters in the job template map
    assert cf.job_template_parameters(DB) == {"MinimalConfig": True, "DatabaseConnection": DB}


@pytest.mark.parametrize(
    ("changes", "present", "absent"),
    [
        (
            {},
            {
                "ServiceUser": "glance",
                "ServicePassword": "12345678",
                "KeystoneInternalURL": KS_INTERNAL,
                "KeystonePublicURL": KS_PUBLIC,
                "DatabaseConnection": DB,
                "QuotaEnabled": False,
                "LogFile": "/var/log/glance/glance-default-external.log",
                "ShowImageDirectUrl": False,
                "ShowMultipleLocations": False,
                "ImageConversion": False,
                "MemcachedServers": "",
            },
            {
                "Region",
                "EndpointID",
                "ApplicationCredentialID",
                "CacheEnabled",
                "TransportURL",
                "HorizonEndpoint",
            },
        ),
        ({"api_type": "internal"}, {"ShowImageDirectUrl": True}, {"ImageConversion"}),
        ({"rbd_backend": True}, {"ImageConversion": True}, set()),
        ({"region": "r1"}, {"Region": "r1"}, {"EndpointID"}),
        ({"region": "r1", "endpoint_id": "id1"}, {"Region": "r1", "EndpointID": "id1"}, set()),
        (
            {"application_credential": ApplicationCredential("i", "s")},
            {"ApplicationCredentialID": "i", "ApplicationCredentialSecret": "s"},
            set(),
        ),
        (
            {"image_cache_size_bytes": 5},
            {"CacheEnabled": True, "CacheMaxSize": 5, "ImageCacheDir": "/var/lib/glance/image-cache"},
            set(),
        ),
        ({"memcached_mtls": True}, {"MemcachedAuthCa": "/etc/pki/tls/certs/mtls-ca.crt"}, set()),
        (
            {"notifications": Notifications("rabbit://x")},
            {"TransportURL": "rabbit://x", "QuorumQueues": False},
            set(),
        ),
        ({"horizon_endpoint": "https://h"}, {"HorizonEndpoint": "https://h"}, set()),
    ],
)
def test_template_parameters(changes: dict[str, object], present: dict[str, object], absent: set[str]) -> None:
    values = cf.template_parameters(params(**changes))
    for key, value in present.items():
        assert values[key] == value, key
    assert not absent & values.keys()


def test_concat_config_secrets_list_order_then_key_order() -> None:
    secrets: list[dict[str, str | bytes]] = [
        {"b.conf": b"[b]\nx = 2", "a.conf": "[a]\nx = 1"},
        {"z": b"[z]\n"},
    ]
    assert cf.concat_config_secrets(secrets) == "[a]\nx = 1\n[b]\nx = 2\n[z]\n\n"
    assert cf.concat_config_secrets([]) == ""


def test_rendering_is_deterministic() -> None:
    p = params(
        api_type="single",
        application_credential=ApplicationCredential("i", "s"),
        memcached_servers=("a:1", "b:2"),
        memcached_mtls=True,
        region="r",
        endpoint_id="e",
        image_cache_size_bytes=1,
        quota=True,
        notifications=Notifications("rabbit://x", quorum_queues=True),
        rbd_backend=True,
        horizon_endpoint="https://h",
    )
    first = _api_secret(p, wsgi=False)
    second = _api_secret(dataclasses.replace(p), wsgi=False)
    assert first.as_bytes() == second.as_bytes()
    assert first.hash() == second.hash()
    job = cf.glance_job_secret(database_connection=DB, custom_service_config="", db_tls=True)
    assert job.hash() == cf.glance_job_secret(database_connection=DB, custom_service_config="", db_tls=True).hash()
    # and different inputs give a different secret hash (drives the pod restart)
    assert _api_secret(dataclasses.replace(p, quota=False), wsgi=False).hash() != first.hash()
