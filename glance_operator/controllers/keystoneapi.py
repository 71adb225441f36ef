"""The namespace's KeystoneAPI, which both controllers read (URLs, region; admin credentials for limits)."""

from __future__ import annotations

from ..runtime.cache import Cache, Obj
from ..runtime.kinds import Kind

KEYSTONE_API = Kind("keystone.openstack.org/v1beta1", "KeystoneAPI")


class KeystoneAPIUnusable(Exception):
    """No single KeystoneAPI in the namespace, or it has not published its endpoints yet."""


def keystone_api(cache: Cache, namespace: str) -> Obj:
    """The one KeystoneAPI of the namespace (lib-common's GetKeystoneAPI refuses none and several too)."""
    apis = cache.list(KEYSTONE_API, namespace)
    if len(apis) != 1:
        raise KeystoneAPIUnusable(f"expected one KeystoneAPI, found {len(apis)}")
    return apis[0]


def endpoint(kapi: Obj, endpoint_type: str) -> str:
    url = ((kapi.get("status") or {}).get("apiEndpoints") or {}).get(endpoint_type)
    if not url:
        raise KeystoneAPIUnusable(
            f"KeystoneAPI {kapi['metadata']['name']} has not published its {endpoint_type} endpoint yet"
        )
    return str(url)


def region(kapi: Obj) -> str:
    return str((kapi.get("status") or {}).get("region") or (kapi.get("spec") or {}).get("region") or "")
