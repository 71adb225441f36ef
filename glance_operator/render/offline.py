"""`glance-operator render`: the complete desired state of a Glance, offline.

Facts the operator would observe in the cluster come from a YAML file (`--facts`) or, when omitted,
from the example below. Every object the Glance controller and each GlanceAPI controller would
apply is produced, in apply order. Secrets are shown decoded (as `stringData`) so config files can
be reviewed, with every secret value from the facts replaced by `<redacted>` unless asked otherwise.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from typing import Any

from ..api.v1beta1 import Glance, GlanceAPI
from .configfiles import ApplicationCredential, Notifications
from .facts import Database, GlanceAPIFacts, GlanceFacts, Keystone, Memcached, NetworkAttachment
from .glance import build_glance, notification_cluster
from .glanceapi import build_glance_api

Obj = dict[str, Any]
REDACTED = "<redacted>"

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
    "config_secrets": {},
    "endpoint_ids": {},
    "network_attachments": {},
}


@dataclass
class Facts:
    """Facts for a whole Glance, as a user writes them in --facts YAML (see EXAMPLE_FACTS)."""

    database: Database
    keystone: Keystone
    service_password: str
    memcached: Memcached = field(default_factory=Memcached)
    transport_url: str = ""
    quorum_queues: bool = False
    application_credentials: dict[str, ApplicationCredential] = field(default_factory=dict)
    config_secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    endpoint_ids: dict[str, str] = field(default_factory=dict)  # GlanceAPI name -> endpoint ID
    network_attachments: dict[str, str | None] = field(default_factory=dict)  # NAD name -> gateway
    horizon_endpoint: str = ""

    def secrets(self) -> list[str]:
        values = [self.database.password, self.service_password]
        values += [ac.secret for ac in self.application_credentials.values()]
        values += [v for data in self.config_secrets.values() for v in data.values()]
        if self.transport_url:
            values.append(self.transport_url)
        return [v for v in values if v]


class FactsError(ValueError):
    pass


def load_facts(raw: dict[str, Any] | None, namespace: str) -> Facts:
    merged = {**EXAMPLE_FACTS, **(raw or {})}
    known = {f.name for f in fields(Facts)} | {"transport_url"}
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
        return Facts(
            database=Database(**m["database"]),
            keystone=Keystone(**m["keystone"]),
            service_password=str(m["service_password"]),
            memcached=Memcached(
                servers=tuple(m["memcached"].get("servers") or ()),
                tls=bool(m["memcached"].get("tls")),
                mtls_secret=m["memcached"].get("mtls_secret"),
            ),
            transport_url=str(m.get("transport_url") or ""),
            quorum_queues=bool(m.get("quorum_queues")),
            application_credentials={
                k: ApplicationCredential(v["id"], v["secret"])
                for k, v in (m.get("application_credentials") or {}).items()
            },
            config_secrets={
                k: {kk: str(vv) for kk, vv in v.items()} for k, v in (m.get("config_secrets") or {}).items()
            },
            endpoint_ids=dict(m.get("endpoint_ids") or {}),
            network_attachments=dict(m.get("network_attachments") or {}),
            horizon_endpoint=str(m.get("horizon_endpoint") or ""),
        )
    except (TypeError, KeyError, AttributeError) as exc:
        raise FactsError(f"malformed facts: {exc}") from None


def render_all(glance: Glance, facts: Facts) -> tuple[list[Obj], list[str]]:
    """Every object for `glance` in apply order, plus warnings."""
    ns = glance.metadata.namespace
    uid = glance.metadata.uid or "00000000-0000-0000-0000-000000000000"
    notifying = bool(notification_cluster(glance) and facts.transport_url)
    transport_secret = f"{glance.metadata.name}-glance-transport-secret" if notifying else ""
    nads = tuple(NetworkAttachment(n, ns, gw) for n, gw in sorted(facts.network_attachments.items()))
    glance_objs = build_glance(
        glance,
        GlanceFacts(
            owner_uid=uid, database=facts.database, transport_url_secret=transport_secret, network_attachments=nads
        ),
    )
    objects = glance_objs.all()
    warnings = list(glance_objs.warnings)
    notifications = Notifications(facts.transport_url, facts.quorum_queues) if facts.transport_url else None
    for child in glance_objs.glance_apis:
        api = GlanceAPI.model_validate(child)
        api.metadata.uid = f"{uid[:-4]}{len(objects):04d}"
        api_notifications = notifications if api.spec.notification_bus_secret else None
        api_facts = GlanceAPIFacts(
            owner_uid=api.metadata.uid,
            database=facts.database,
            keystone=facts.keystone,
            service_password=facts.service_password,
            application_credential=facts.application_credentials.get(api.spec.auth.application_credential_secret),
            memcached=facts.memcached,
            notifications=api_notifications,
            config_secrets=tuple((n, facts.config_secrets.get(n, {})) for n in api.spec.custom_service_config_secrets),
            endpoint_id=facts.endpoint_ids.get(api.metadata.name, ""),
            horizon_endpoint=facts.horizon_endpoint,
            network_attachments=tuple(n for n in nads if n.name in api.spec.network_attachments),
        )
        built = build_glance_api(api, api_facts)
        objects += [built.config_secret, built.headless_service, *built.endpoint_services]
        if built.keystone_endpoint is not None:
            objects.append(built.keystone_endpoint)
        objects += [built.statefulset, *built.cronjobs]
        warnings += [f"{api.metadata.name}: {w}" for w in built.warnings]
    return objects, warnings


def reviewable(obj: Obj, secrets: list[str], show_secrets: bool) -> Obj:
    """Secrets decoded into stringData, with secret values redacted unless `show_secrets`."""
    if obj.get("kind") != "Secret" or "data" not in obj:
        return obj
    out = {k: v for k, v in obj.items() if k != "data"}
    decoded = {}
    for key, value in obj["data"].items():
        text = base64.b64decode(value).decode("utf-8", errors="replace")
        if not show_secrets:
            for secret in sorted(secrets, key=len, reverse=True):
                text = text.replace(secret, REDACTED)
        decoded[key] = text
    out["stringData"] = decoded
    return out
