"""Keystone registered limits for `spec.quotas` (spec §6.10), through Keystone's own REST API.

Glance enforces quotas with oslo.limit: it reads the registered (default) limits of the image service
from Keystone, and counts a missing limit as 0, so rendering `use_keystone_limits = true` without
registering them refuses every image create. This module registers them, as upstream does, with a
system-scoped admin token obtained from the KeystoneAPI CR (internal endpoint, admin user and password
from its Secret, `adminProject`, domain `Default`, region `spec.region`, CA bundle for https).

Differences from upstream (defect 20), each deliberate:

* limits are looked up by service, region *and* resource name, so another service's (or region's)
  limit of the same name is never taken for ours;
* Keystone is called only when the wanted limits change (the controller compares a hash of what it
  last applied, kept in `status.hash.quotas`), not on every pass and twice for split APIs;
* setting every quota back to 0 removes the limits it registered.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..api.v1beta1 import QuotaLimits

# spec.quotas field -> Keystone resource name (the names Glance asks oslo.limit for)
RESOURCES = {
    "image_count_total": "image_count_total",
    "image_count_upload": "image_count_uploading",
    "image_size_total": "image_size_total",
    "image_stage_total": "image_stage_total",
}
TIMEOUT = 10.0


def wanted_limits(quotas: QuotaLimits) -> dict[str, int] | None:
    """The registered limits `quotas` asks for, or None when quotas are off (every value 0).

    As upstream: once any value is > 0 all four are registered, zeros included (0 means none allowed).
    """
    if not quotas.enabled():
        return None
    return {RESOURCES[field]: int(getattr(quotas, field)) for field in sorted(RESOURCES)}


@dataclass(frozen=True)
class AdminAuth:
    """How to reach Keystone as its admin, read from the KeystoneAPI CR and its Secret."""

    url: str  # the internal endpoint, with or without /v3
    user: str
    password: str
    project: str
    region: str
    ca_bundle: str | None = None  # PEM, for https endpoints with a private CA

    @property
    def v3(self) -> str:
        return self.url.rstrip("/").removesuffix("/v3") + "/v3"


class KeystoneError(Exception):
    """A Keystone call failed; the message says which call and what Keystone answered."""


@dataclass(frozen=True)
class Change:
    action: str  # "created", "updated", "deleted"
    resource: str
    value: int | None = None

    def __str__(self) -> str:
        return f"{self.action} {self.resource}" + (f"={self.value}" if self.value is not None else "")


class LimitsClient:
    """`async with LimitsClient(auth) as c: await c.ensure(service_id, limits)`."""

    def __init__(self, auth: AdminAuth, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.auth = auth
        verify: ssl.SSLContext | bool = True
        if auth.ca_bundle:
            verify = ssl.create_default_context(cadata=auth.ca_bundle)
        self.http = httpx.AsyncClient(base_url=auth.v3, timeout=TIMEOUT, verify=verify, transport=transport)

    async def __aenter__(self) -> LimitsClient:
        await self.login()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            r = await self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise KeystoneError(f"Keystone {method} {path}: {exc.__class__.__name__}: {exc}") from exc
        if r.status_code >= 400:
            raise KeystoneError(f"Keystone {method} {path}: HTTP {r.status_code}: {_error_message(r)}")
        return r

    async def login(self) -> None:
        """A system-scoped token: registered limits are system-wide objects (Keystone policy)."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": self.auth.user, "domain": {"name": "Default"}, "password": self.auth.password}
                    },
                },
                "scope": {"system": {"all": True}},
            }
        }
        r = await self._call("POST", "/auth/tokens", json=body)
        self.http.headers["X-Auth-Token"] = r.headers.get("X-Subject-Token", "")

    async def find(self, service_id: str, resource: str | None = None) -> list[dict[str, Any]]:
        params = {"service_id": service_id, "region_id": self.auth.region}
        if resource is not None:
            params["resource_name"] = resource
        r = await self._call("GET", "/registered_limits", params=params)
        found: list[dict[str, Any]] = r.json().get("registered_limits") or []
        # filter again: an old Keystone may ignore a filter it does not know
        return [
            lim
            for lim in found
            if lim.get("service_id") == service_id
            and (lim.get("region_id") or "") == self.auth.region
            and (resource is None or lim.get("resource_name") == resource)
        ]

    async def ensure(self, service_id: str, limits: Mapping[str, int]) -> list[Change]:
        """Create or update one registered limit per resource; returns what changed."""
        changes: list[Change] = []
        for resource in sorted(limits):
            value = limits[resource]
            existing = await self.find(service_id, resource)
            if len(existing) > 1:
                raise KeystoneError(f'multiple limits named "{resource}" found')
            if existing:
                if existing[0].get("default_limit") != value:
                    await self._call(
                        "PATCH",
                        f"/registered_limits/{existing[0]['id']}",
                        json={"registered_limit": {"default_limit": value}},
                    )
                    changes.append(Change("updated", resource, value))
                continue
            await self._call(
                "POST",
                "/registered_limits",
                json={
                    "registered_limits": [
                        {
                            "service_id": service_id,
                            "region_id": self.auth.region,
                            "resource_name": resource,
                            "default_limit": value,
                            "description": f"default limit for  {resource}",  # upstream's text, two spaces
                        }
                    ]
                },
            )
            changes.append(Change("created", resource, value))
        return changes

    async def delete(self, service_id: str) -> list[Change]:
        """Delete the image service's registered limits that we manage (other resources are left)."""
        changes: list[Change] = []
        for lim in await self.find(service_id):
            if lim.get("resource_name") in RESOURCES.values():
                await self._call("DELETE", f"/registered_limits/{lim['id']}")
                changes.append(Change("deleted", str(lim["resource_name"])))
        return changes


def _error_message(r: httpx.Response) -> str:
    try:
        return str(r.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return r.text[:200] or r.reason_phrase
