"""A tiny synchronous REST client for the test apiserver (httpx + client certificate).

Deliberately independent of the operator's own client code, so tests exercise the apiserver
and not our wrappers around it.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

Obj = dict[str, Any]

APPLY_MANAGER = "glance-operator-testing"


class ApiError(Exception):
    """A non-2xx answer; ``status`` and ``body`` (a metav1.Status when JSON) are kept."""

    def __init__(self, method: str, path: str, status: int, body: Any):
        self.status = status
        self.body = body
        self.reason = body.get("reason", "") if isinstance(body, dict) else ""
        self.message = body.get("message", str(body)) if isinstance(body, dict) else str(body)
        super().__init__(f"{method} {path}: {status} {self.reason}: {self.message}")


@dataclass(frozen=True)
class ResourceInfo:
    group_version: str  # "v1" or "apps/v1"
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str = "") -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if subresource:
            base += f"/{subresource}"
        return base


class KubeApi:
    def __init__(self, server: str, ca: Path, cert: Path, key: Path, timeout: float = 30.0):
        self.server = server
        # An SSLContext, not verify=<path>/cert=: httpx 0.28 silently drops `cert` when `verify` is a path.
        tls = ssl.create_default_context(cafile=str(ca))
        tls.load_cert_chain(str(cert), str(key))
        self._new_client: Callable[[], httpx.Client] = lambda: httpx.Client(
            base_url=server, verify=tls, timeout=timeout
        )
        self._client = self._new_client()
        self._resources: dict[tuple[str, str], ResourceInfo] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> KubeApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- raw requests -------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str = "application/json",
        params: dict[str, str] | None = None,
    ) -> Any:
        content = None
        if body is not None:
            content = body if isinstance(body, str | bytes) else json.dumps(body)
        headers = {"Content-Type": content_type} if content is not None else None
        try:
            resp = self._client.request(method, path, content=content, params=params, headers=headers)
        except httpx.RemoteProtocolError:
            # kept-alive connections to an apiserver that was restarted meanwhile: start afresh
            self._client.close()
            self._client = self._new_client()
            resp = self._client.request(method, path, content=content, params=params, headers=headers)
        try:
            data: Any = resp.json()
        except ValueError:
            data = resp.text
        if resp.status_code >= 300:
            raise ApiError(method, path, resp.status_code, data)
        return data

    def get(self, path: str, **params: str) -> Any:
        return self.request("GET", path, params=params or None)

    def get_or_none(self, path: str) -> Any:
        try:
            return self.get(path)
        except ApiError as e:
            if e.status == 404:
                return None
            raise

    def post(self, path: str, body: Obj) -> Obj:
        result: Obj = self.request("POST", path, body=body)
        return result

    def put(self, path: str, body: Obj) -> Obj:
        result: Obj = self.request("PUT", path, body=body)
        return result

    def merge_patch(self, path: str, patch: Obj) -> Obj:
        result: Obj = self.request("PATCH", path, body=patch, content_type="application/merge-patch+json")
        return result

    def delete(self, path: str, *, propagation: str | None = None, missing_ok: bool = True) -> Any:
        body = {"propagationPolicy": propagation} if propagation else None
        try:
            return self.request("DELETE", path, body=body)
        except ApiError as e:
            if e.status == 404 and missing_ok:
                return None
            raise

    # --- by kind (discovery) -----------------------------------------------------------------
    def resource(self, api_version: str, kind: str, *, refresh: bool = False) -> ResourceInfo:
        """Find the REST path of a kind via discovery (cached; refreshed once for new CRDs)."""
        key = (api_version, kind)
        with self._lock:
            if key in self._resources and not refresh:
                return self._resources[key]
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        try:
            listing = self.get(path)
        except ApiError as e:
            if e.status == 404 and not refresh:
                return self.resource(api_version, kind, refresh=True)
            raise
        found: ResourceInfo | None = None
        with self._lock:
            for r in listing.get("resources", []):
                if "/" in r["name"]:
                    continue  # subresources
                info = ResourceInfo(api_version, r["name"], r["namespaced"])
                self._resources[(api_version, r["kind"])] = info
                if r["kind"] == kind:
                    found = info
        if found is None:
            raise LookupError(f"the apiserver serves no kind {kind} in {api_version}")
        return found

    def path_of(self, obj: Obj, namespace: str | None = None, *, named: bool = True) -> str:
        meta = obj.get("metadata", {})
        info = self.resource(obj["apiVersion"], obj["kind"])
        ns = meta.get("namespace") or namespace
        return info.path(ns, meta.get("name") if named else None)

    def create(self, obj: Obj, namespace: str | None = None) -> Obj:
        return self.post(self.path_of(obj, namespace, named=False), obj)

    def apply(self, obj: Obj, namespace: str | None = None, *, manager: str = APPLY_MANAGER) -> Obj:
        """Server-side apply (create or update), forcing ownership of conflicting fields."""
        result: Obj = self.request(
            "PATCH",
            self.path_of(obj, namespace),
            body=json.dumps(obj),
            content_type="application/apply-patch+yaml",
            params={"fieldManager": manager, "force": "true"},
        )
        return result

    def read(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        obj: Obj | None = self.get_or_none(self.resource(api_version, kind).path(namespace, name))
        return obj

    def list(self, api_version: str, kind: str, namespace: str | None = None, **params: str) -> list[Obj]:
        items: list[Obj] = self.get(self.resource(api_version, kind).path(namespace), **params)["items"]
        return items

    def remove(self, api_version: str, kind: str, name: str, namespace: str | None = None, **kw: Any) -> Any:
        return self.delete(self.resource(api_version, kind).path(namespace, name), **kw)


def load_yaml_documents(path: Path) -> list[Obj]:
    """All non-empty YAML documents of a file."""
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d]
