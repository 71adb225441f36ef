"""Secret values must never show in logs, Events or statuses: find the known values, then look for them.

The known values of a namespace: the service password (`GlancePassword` of every Secret that has one),
the database passwords (`DatabasePassword` of the `*-db-secret` Secrets the operator generates) and the
password inside each `transport_url` (the TransportURL Secrets). They are looked for verbatim, and
base64-encoded, in the operator's log text, in every Event of the namespace and in the `status` of every
object the operator owns or reconciles.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from typing import Any

from glance_operator.testing import KubeApi

# Kinds whose status is scanned (everything that could carry a message from us or about us).
STATUS_KINDS: tuple[tuple[str, str], ...] = (
    ("glance.openstack.org/v1beta1", "Glance"),
    ("glance.openstack.org/v1beta1", "GlanceAPI"),
    ("apps/v1", "StatefulSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("keystone.openstack.org/v1beta1", "KeystoneService"),
    ("keystone.openstack.org/v1beta1", "KeystoneEndpoint"),
    ("mariadb.openstack.org/v1beta1", "MariaDBDatabase"),
    ("mariadb.openstack.org/v1beta1", "MariaDBAccount"),
    ("rabbitmq.openstack.org/v1beta1", "TransportURL"),
)
MIN_LEN = 6  # shorter values would match by accident


def _decode(value: str) -> str:
    try:
        return base64.b64decode(value).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def known_secrets(api: KubeApi, namespace: str) -> dict[str, str]:
    """label -> secret value, for the values the operator handles in `namespace`."""
    found: dict[str, str] = {}
    for s in api.list("v1", "Secret", namespace):
        name, data = s["metadata"]["name"], s.get("data") or {}
        if "GlancePassword" in data:
            found[f"service password ({name})"] = _decode(data["GlancePassword"])
        if "DatabasePassword" in data:
            found[f"DB password ({name})"] = _decode(data["DatabasePassword"])
        if "transport_url" in data:
            url = urllib.parse.urlsplit(_decode(data["transport_url"]).split(",")[0])
            if url.password:
                found[f"transport URL password ({name})"] = urllib.parse.unquote_plus(url.password)
    return {k: v for k, v in found.items() if len(v) >= MIN_LEN}


def _needles(secrets: dict[str, str]) -> list[tuple[str, str]]:
    out = []
    for label, value in secrets.items():
        out.append((label, value))
        out.append((f"{label}, base64", base64.b64encode(value.encode()).decode()))
        quoted = urllib.parse.quote_plus(value)
        if quoted != value:
            out.append((f"{label}, url-quoted", quoted))
    return out


def scan_texts(texts: dict[str, str], secrets: dict[str, str]) -> list[str]:
    """`where: which secret` for every text containing a known value."""
    hits: list[str] = []
    needles = _needles(secrets)
    for where, text in texts.items():
        for label, needle in needles:
            if needle and needle in text:
                hits.append(f"{where}: {label}")
    return hits


def collect_texts(api: KubeApi, namespace: str, logs: list[str]) -> dict[str, str]:
    texts: dict[str, str] = {f"operator log #{i}": t for i, t in enumerate(logs)}
    for e in api.list("v1", "Event", namespace):
        texts[f"Event {e['metadata']['name']}"] = json.dumps(
            {k: e.get(k) for k in ("reason", "message", "note", "involvedObject", "regarding")}
        )
    for api_version, kind in STATUS_KINDS:
        try:
            items = api.list(api_version, kind, namespace)
        except LookupError:
            continue
        for obj in items:
            status: Any = obj.get("status")
            if status:
                texts[f"{kind} {obj['metadata']['name']} status"] = json.dumps(status)
    return texts


def scan_for_secrets(api: KubeApi, namespace: str, secrets: dict[str, str], logs: list[str]) -> list[str]:
    return scan_texts(collect_texts(api, namespace, logs), secrets)
