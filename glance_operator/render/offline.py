"""`glance-operator render`: the complete desired state of a Glance or a standalone GlanceAPI, offline.

Every object the Glance controller and each GlanceAPI controller would apply is produced, in apply order.
Secrets are shown decoded (as `stringData`) so config files can be reviewed, with every secret value from
the facts replaced by `<redacted>` unless `--show-secrets` (an ini snippet from a Secret, e.g. S3 credentials
in 03-config.conf, keeps its sections and option names; only the values are hidden).

Facts file (`--facts facts.yaml`)
=================================

What the operator would observe in the cluster. Every key is optional: a missing key takes the value of
:data:`EXAMPLE_FACTS` (`{namespace}` in a string is replaced by the object's namespace). Unknown keys
are an error.

```yaml
database:                      # MariaDBDatabase/MariaDBAccount and the account Secret
  hostname: openstack.openstack.svc
  username: glance_a1b2
  password: db-password
  tls: false                   # the database supports TLS (my.cnf switches when an API has a CA bundle)
keystone:                      # KeystoneAPI status
  internal_url: http://keystone-internal.openstack.svc:5000
  public_url: http://keystone-public.openstack.svc:5000
  region: regionOne
service_password: service-password          # spec.secret[passwordSelectors.service]
memcached:                     # Memcached status (and spec.tls)
  servers: [memcached-0.memcached.openstack.svc:11211]   # status.serverList
  servers_with_inet: []        # status.serverListWithInet; an inet6: entry means IPv6 (defect 31)
  tls: false
  mtls_secret: null            # client certificate Secret when the Memcached requires mTLS
transport_url: rabbit://...    # the TransportURL Secret's transport_url (notifications)
quorum_queues: false           # ... and its quorumqueues
application_credentials:       # AC Secret name -> {id, secret}
  my-ac-secret: {id: abc, secret: xyz}
secrets:                       # Secrets present in the namespace: name -> {key: value}
  glance-s3-credentials: {s3.conf: "[default_backend]\\n..."}
  combined-ca-bundle: {tls-ca-bundle.pem: "-----BEGIN CERTIFICATE-----..."}
config_secrets: {}             # older spelling of `secrets`, merged into it
absent_secrets: []             # Secrets that do not exist (the operator would wait for them)
endpoint_ids:                  # GlanceAPI name -> KeystoneEndpoint status.endpointIDs (public/internal)
  glance-default-single: 0123abcd
network_attachments:           # NAD name -> default-route gateway (or null); referenced, unlisted: assumed
  storage: 172.18.0.1
horizon_endpoint: https://horizon-openstack.apps.example.com   # Horizon status.endpoint ("" = none)
cinder_present: true           # a Cinder CR exists in the namespace (needed by a cinder backend)
topologies:                    # Topology name -> spec (topologySpreadConstraints, affinity)
  my-topology: {topologySpreadConstraints: [...]}
input_hashes:                  # GlanceAPI name -> {input key: hash}, overriding the computed ones
  glance-default-single: {certs: n5d6...}
```

Secrets defined in the input file (`kind: Secret`, `data` or `stringData`) are added to `secrets`
(the facts file wins on a name clash). A Secret an object references (customServiceConfigSecrets, the
TLS CA bundle and endpoint certificates, the application credential) is taken from `secrets`; when it is
not there it is assumed to exist with unknown content, unless it is listed in `absent_secrets`, in which
case a warning says what the operator would wait for. TLS Secret contents give the `tls-ca-bundle.pem`
and `certs` input hashes exactly as the controller computes them, so `CONFIG_HASH` matches the cluster.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from typing import Any

from ..api.backends import enabled_backends
from ..api.v1beta1 import Glance, GlanceAPI
from .configfiles import ApplicationCredential, Notifications
from .facts import Database, GlanceAPIFacts, GlanceFacts, Keystone, Memcached, NetworkAttachment
from .glance import build_glance, job_network_attachment_names, notification_cluster
from .glanceapi import RenderError, build_glance_api
from .hashing import tls_input_hashes

Obj = dict[str, Any]
REDACTED = "<redacted>"
DEFAULT_NAMESPACE = "openstack"
DEFAULT_UID = "00000000-0000-0000-0000-000000000000"
CA_BUNDLE_KEY = "tls-ca-bundle.pem"

EXAMPLE_FACTS: dict[str, Any] = {
    "database": {
        "hostname": "openstack.{namespace}.svc",
        "username": "glance_a1b2",
        "password": "db-password",
        "tls": False,
    },
    "keystone": {
        "internal_url": "http://keystone-internal.{namespace}.svc:5000",
        "public_url": "http://keystone-public.{namespace}.svc:5000",
        "region": "regionOne",
    },
    "service_password": "service-password",
    "memcached": {"servers": ["memcached-0.memcached.{namespace}.svc:11211"]},
    "transport_url": "rabbit://glance:rabbit-password@rabbitmq.{namespace}.svc:5672/?ssl=0",
    "secrets": {},
    "endpoint_ids": {},
    "network_attachments": {},
    "horizon_endpoint": "https://horizon-{namespace}.apps.example.com",
    "cinder_present": True,
    "topologies": {},
    "input_hashes": {},
}


@dataclass
class Facts:
    """Facts for a whole Glance (or a standalone GlanceAPI), as written in --facts YAML (module docstring)."""

    database: Database
    keystone: Keystone
    service_password: str
    memcached: Memcached = field(default_factory=Memcached)
    transport_url: str = ""
    quorum_queues: bool = False
    application_credentials: dict[str, ApplicationCredential] = field(default_factory=dict)
    namespace_secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # `secrets:` name -> data
    absent_secrets: frozenset[str] = frozenset()
    endpoint_ids: dict[str, str] = field(default_factory=dict)  # GlanceAPI name -> endpoint ID
    network_attachments: dict[str, str | None] = field(default_factory=dict)  # NAD name -> gateway
    horizon_endpoint: str = ""
    cinder_present: bool = True
    topologies: dict[str, dict[str, Any]] = field(default_factory=dict)  # Topology name -> spec
    input_hashes: dict[str, dict[str, str]] = field(default_factory=dict)  # GlanceAPI name -> overrides

    def secrets(self) -> list[str]:
        """Every secret value the facts hold, to redact."""
        values = [self.database.password, self.service_password]
        values += [ac.secret for ac in self.application_credentials.values()]
        values += [v for data in self.namespace_secrets.values() for v in data.values()]
        if self.transport_url:
            values.append(self.transport_url)
        return [v for v in values if v]


class FactsError(ValueError):
    pass


def _secret_data(doc: dict[str, Any]) -> dict[str, str]:
    """A Secret manifest's content as text: `data` (base64) overlaid by `stringData`, as the apiserver does."""
    out: dict[str, str] = {}
    for key, value in (doc.get("data") or {}).items():
        try:
            out[str(key)] = base64.b64decode(str(value)).decode("utf-8", errors="replace")
        except ValueError:
            raise FactsError(f"Secret {doc.get('metadata', {}).get('name')!r}: data[{key}] is not base64") from None
    out.update({str(k): str(v) for k, v in (doc.get("stringData") or {}).items()})
    return out


def secrets_in(documents: list[Any], namespace: str) -> dict[str, dict[str, str]]:
    """Secrets defined in the input documents for `namespace` (no namespace counts as any)."""
    out: dict[str, dict[str, str]] = {}
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "Secret" or doc.get("apiVersion") != "v1":
            continue
        meta = doc.get("metadata") or {}
        if not meta.get("name") or meta.get("namespace") not in (None, "", namespace):
            continue
        out[str(meta["name"])] = _secret_data(doc)
    return out


def load_facts(raw: dict[str, Any] | None, namespace: str, documents: list[Any] | None = None) -> Facts:
    """Facts from a --facts mapping (missing keys from EXAMPLE_FACTS) plus the Secrets in `documents`."""
    if raw is not None and not isinstance(raw, dict):
        raise FactsError(f"malformed facts: expected a mapping, got {type(raw).__name__}")
    merged = {**EXAMPLE_FACTS, **(raw or {})}
    known = ({f.name for f in fields(Facts)} - {"namespace_secrets"}) | {"secrets", "config_secrets"}
    unknown = set(merged) - known
    if unknown:
        raise FactsError(f"unknown facts: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("{namespace}", namespace)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    m = fill(merged)
    try:
        secrets = secrets_in(documents or [], namespace)
        for source in (m.get("config_secrets"), m.get("secrets")):
            secrets.update({str(k): {str(kk): str(vv) for kk, vv in v.items()} for k, v in (source or {}).items()})
        memcached = m["memcached"]
        return Facts(
            database=Database(**m["database"]),
            keystone=Keystone(**m["keystone"]),
            service_password=str(m["service_password"]),
            memcached=Memcached(
                servers=tuple(str(s) for s in memcached.get("servers") or ()),
                servers_with_inet=tuple(str(s) for s in memcached.get("servers_with_inet") or ()),
                tls=bool(memcached.get("tls")),
                mtls_secret=memcached.get("mtls_secret"),
            ),
            transport_url=str(m.get("transport_url") or ""),
            quorum_queues=bool(m.get("quorum_queues")),
            application_credentials={
                k: ApplicationCredential(v["id"], v["secret"])
                for k, v in (m.get("application_credentials") or {}).items()
            },
            namespace_secrets=secrets,
            absent_secrets=frozenset(str(s) for s in m.get("absent_secrets") or ()),
            endpoint_ids={str(k): str(v) for k, v in (m.get("endpoint_ids") or {}).items()},
            network_attachments=dict(m.get("network_attachments") or {}),
            horizon_endpoint=str(m.get("horizon_endpoint") or ""),
            cinder_present=bool(m.get("cinder_present")),
            topologies={str(k): dict(v or {}) for k, v in (m.get("topologies") or {}).items()},
            input_hashes={
                str(k): {str(kk): str(vv) for kk, vv in (v or {}).items()}
                for k, v in (m.get("input_hashes") or {}).items()
            },
        )
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        if isinstance(exc, FactsError):
            raise
        raise FactsError(f"malformed facts: {exc}") from None


# --- per-API facts, as the GlanceAPI controller gathers them (spec 5.2) -------------------------------


def _secret(facts: Facts, name: str, warnings: list[str], what: str) -> dict[str, str] | None:
    """The Secret's data if known; None when assumed to exist with unknown content (or absent)."""
    if name in facts.namespace_secrets:
        return facts.namespace_secrets[name]
    if name in facts.absent_secrets:
        warnings.append(f"{what} Secret {name!r} does not exist: the operator waits for it")
    return None


def _tls_input_hashes(api: GlanceAPI, facts: Facts, warnings: list[str]) -> dict[str, str]:
    """The controller's `tls-ca-bundle.pem` and `certs` input hashes, from the Secrets' content."""
    ca_bundle = None
    ca = api.spec.tls.ca_bundle_secret_name
    if ca:
        data = _secret(facts, ca, warnings, "CA bundle")
        if data is not None:
            ca_bundle = data.get(CA_BUNDLE_KEY)
            if ca_bundle is None:
                warnings.append(f"CA bundle Secret {ca!r} has no {CA_BUNDLE_KEY}: the operator waits for it")
    certificates: list[tuple[str, str]] = []
    for endpoint in ("internal", "public"):
        name = getattr(api.spec.tls.api, endpoint).secret_name
        if not name:
            continue
        data = _secret(facts, name, warnings, f"{endpoint} certificate")
        if data is None:
            continue
        if "tls.crt" in data and "tls.key" in data:
            certificates.append((data["tls.crt"], data["tls.key"]))
        else:
            warnings.append(f"certificate Secret {name!r} lacks tls.crt/tls.key: the operator waits for it")
    return tls_input_hashes(ca_bundle, certificates)


def _application_credential(api: GlanceAPI, facts: Facts, warnings: list[str]) -> ApplicationCredential | None:
    name = api.spec.auth.application_credential_secret
    if not name:
        return None
    if name in facts.application_credentials:
        return facts.application_credentials[name]
    data = _secret(facts, name, warnings, "application credential")
    if data is not None and data.get("AC_ID") and data.get("AC_SECRET"):
        return ApplicationCredential(data["AC_ID"], data["AC_SECRET"])
    warnings.append(f"application credential Secret {name!r} is not in the facts: password authentication shown")
    return None


def _config_secrets(api: GlanceAPI, facts: Facts, warnings: list[str]) -> tuple[tuple[str, dict[str, str]], ...]:
    out = []
    for name in api.spec.custom_service_config_secrets:
        data = _secret(facts, name, warnings, "customServiceConfigSecrets")
        if data is None and name not in facts.absent_secrets:
            warnings.append(f"customServiceConfigSecrets Secret {name!r} is not in the facts: 03-config.conf lacks it")
        out.append((name, data or {}))
    return tuple(out)


def _nads(names: list[str], namespace: str, facts: Facts, warnings: list[str]) -> tuple[NetworkAttachment, ...]:
    out = []
    for name in names:
        if name not in facts.network_attachments:
            warnings.append(f"NetworkAttachmentDefinition {name!r} is not in the facts: assumed, without default route")
        gateway = facts.network_attachments.get(name)
        out.append(NetworkAttachment(name, namespace, str(gateway) if gateway else None))
    return tuple(out)


def api_facts(api: GlanceAPI, facts: Facts, notifications: Notifications | None) -> tuple[GlanceAPIFacts, list[str]]:
    """The :class:`GlanceAPIFacts` the GlanceAPI controller would gather, plus what it would wait for."""
    warnings: list[str] = []
    name, ns = api.metadata.name, api.metadata.namespace
    if "cinder" in enabled_backends(api.spec.custom_service_config).types() and not facts.cinder_present:
        warnings.append("cinder backend but no Cinder CR in the namespace: the operator waits (CinderReady False)")
    topology = None
    ref = api.spec.topology_ref
    if ref is not None and ref.name:
        topology = facts.topologies.get(ref.name)
        if topology is None:
            warnings.append(f"Topology {ref.name!r} is not in the facts: the operator waits for it")
    inputs = _tls_input_hashes(api, facts, warnings)
    inputs.update(facts.input_hashes.get(name, {}))
    built = GlanceAPIFacts(
        owner_uid=api.metadata.uid or DEFAULT_UID,
        database=facts.database,
        keystone=facts.keystone,
        service_password=facts.service_password,
        application_credential=_application_credential(api, facts, warnings),
        memcached=facts.memcached,
        notifications=notifications if api.spec.notification_bus_secret else None,
        config_secrets=_config_secrets(api, facts, warnings),
        endpoint_id=facts.endpoint_ids.get(name, ""),
        horizon_endpoint=facts.horizon_endpoint,
        cinder_present=facts.cinder_present,
        network_attachments=_nads(list(api.spec.network_attachments), ns, facts, warnings),
        input_hashes=tuple(sorted(inputs.items())),
        topology=topology,
    )
    return built, warnings


def _api_objects(api: GlanceAPI, facts: Facts, notifications: Notifications | None) -> tuple[list[Obj], list[str]]:
    built_facts, warnings = api_facts(api, facts, notifications)
    built = build_glance_api(api, built_facts)
    return built.all(), warnings + list(built.warnings)


def _notifications(facts: Facts) -> Notifications | None:
    return Notifications(facts.transport_url, facts.quorum_queues) if facts.transport_url else None


def render_all(glance: Glance, facts: Facts) -> tuple[list[Obj], list[str]]:
    """Every object for `glance` in apply order, plus warnings."""
    ns = glance.metadata.namespace
    uid = glance.metadata.uid or DEFAULT_UID
    notifying = bool(notification_cluster(glance) and facts.transport_url)
    transport_secret = f"{glance.metadata.name}-glance-transport-secret" if notifying else ""
    warnings: list[str] = []
    nads = _nads(job_network_attachment_names(glance), ns, facts, [])
    glance_objs = build_glance(
        glance,
        GlanceFacts(
            owner_uid=uid, database=facts.database, transport_url_secret=transport_secret, network_attachments=nads
        ),
    )
    objects = glance_objs.all()
    warnings += glance_objs.warnings
    for child in glance_objs.glance_apis:
        api = GlanceAPI.model_validate(child)
        api.metadata.uid = f"{uid[:-4]}{len(objects):04d}"
        api_objs, api_warnings = _api_objects(api, facts, _notifications(facts))
        objects += api_objs
        warnings += [f"{api.metadata.name}: {w}" for w in api_warnings]
    return objects, warnings


def render_glance_api(api: GlanceAPI, facts: Facts) -> tuple[list[Obj], list[str]]:
    """Every object for a standalone GlanceAPI (config Secret, Services, KeystoneEndpoint, StatefulSet,
    cache CronJobs) in apply order, plus warnings."""
    api = api.model_copy(deep=True)
    api.metadata.uid = api.metadata.uid or DEFAULT_UID
    return _api_objects(api, facts, _notifications(facts))


def render_object(
    obj: dict[str, Any], raw_facts: dict[str, Any] | None, namespace: str = "", documents: list[Any] | None = None
) -> tuple[list[Obj], list[str], Facts]:
    """Render one admitted Glance or GlanceAPI (as stored after admission).

    `documents` are every document of the input file; the Secrets among them are facts. Returns the objects,
    the warnings and the facts used (for redaction). Raises FactsError, RenderError or pydantic's
    ValidationError.
    """
    kind = obj.get("kind")
    model: Glance | GlanceAPI
    if kind == "Glance":
        model = Glance.model_validate(obj)
    elif kind == "GlanceAPI":
        model = GlanceAPI.model_validate(obj)
    else:
        raise RenderError(f"cannot render a {kind!r}: only Glance and GlanceAPI")
    model.metadata.namespace = model.metadata.namespace or namespace or DEFAULT_NAMESPACE
    facts = load_facts(raw_facts, model.metadata.namespace, documents)
    if isinstance(model, Glance):
        objects, warnings = render_all(model, facts)
    else:
        objects, warnings = render_glance_api(model, facts)
    return objects, warnings, facts


def masked(secret: str) -> str:
    """What a secret value is shown as: `<redacted>`; a multi-line ini snippet (a customServiceConfigSecrets
    value, shown in 03-config.conf) keeps its sections, comments and option names, only the values hidden."""
    if "\n" not in secret.strip():
        return REDACTED
    lines = []
    for line in secret.split("\n"):
        stripped = line.strip()
        if not stripped or stripped[0] in "[#;":
            lines.append(line)
        elif "=" in line:
            lines.append(f"{line.split('=', 1)[0].rstrip()} = {REDACTED}")
        else:
            lines.append(REDACTED)
    return "\n".join(lines)


def reviewable(obj: Obj, secrets: list[str], show_secrets: bool) -> Obj:
    """Secrets decoded into stringData, with secret values redacted (see `masked`) unless `show_secrets`."""
    if obj.get("kind") != "Secret" or "data" not in obj:
        return obj
    out = {k: v for k, v in obj.items() if k != "data"}
    decoded = {}
    for key, value in obj["data"].items():
        text = base64.b64decode(value).decode("utf-8", errors="replace")
        if not show_secrets:
            for secret in sorted(set(secrets), key=len, reverse=True):
                text = text.replace(secret, masked(secret))
        decoded[key] = text
    out["stringData"] = decoded
    return out
