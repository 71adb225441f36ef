"""An in-process operator plus the dependency player, against the session's control plane."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from lightkube import AsyncClient, KubeConfig

from glance_operator.api.defaults import Defaults
from glance_operator.runtime.manager import Manager, Options
from glance_operator.testing import KubeApi
from glance_operator.testing.deps import DependencyPlayer

GLANCE_V = "glance.openstack.org/v1beta1"


@contextlib.asynccontextmanager
async def running_operator(
    kubeconfig: Path,
    namespace: str,
    hold: tuple[str, ...] = (),
    client: AsyncClient | None = None,
    **options: Any,
) -> AsyncIterator[tuple[Manager, DependencyPlayer]]:
    # `client`: the operator's own identity (e.g. its ServiceAccount); the dependency player stays admin
    own_client = client is None
    client = client or AsyncClient(config=KubeConfig.from_file(str(kubeconfig)), trust_env=False)
    deps_client = AsyncClient(config=KubeConfig.from_file(str(kubeconfig)), trust_env=False)
    deps = DependencyPlayer(deps_client, [namespace], hold=hold)
    manager = Manager(
        Options(kubeconfig=str(kubeconfig), namespace=namespace, health_probe_bind_address="0", **options),
        client=client,
    )
    manager.add_default_controllers(Defaults())
    await deps.start()
    task = asyncio.create_task(manager.run())
    try:
        yield manager, deps
    finally:
        manager.stop()
        await task
        await deps.stop()
        if own_client:
            await client.close()
        await deps_client.close()


async def eventually(
    check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.2, describe: Callable[[], Any] | None = None
) -> Any:
    """Poll `check` (sync, run in a thread) until it returns a truthy value; `describe` explains a failure."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(check)
        if last:
            return last
        await asyncio.sleep(interval)  # poll
    context = f"; state: {await asyncio.to_thread(describe)!r}" if describe else ""
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}{context}")


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return c
    return None


def is_ready(api: KubeApi, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    obj = api.read(GLANCE_V, kind, name, namespace)
    c = condition(obj, "Ready")
    if c and c.get("status") == "True" and obj["status"].get("observedGeneration") == obj["metadata"]["generation"]:
        return obj
    return None


def secret(namespace: str, name: str, **data: str) -> dict[str, Any]:
    """An Opaque Secret with `data` (plain strings, encoded here)."""
    import base64

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def service_secret(namespace: str, password: str = "12345678") -> dict[str, Any]:
    import base64

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "osp-secret", "namespace": namespace},
        "data": {"GlancePassword": base64.b64encode(password.encode()).decode()},
    }


def glance(namespace: str, apis: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": GLANCE_V,
        "kind": "Glance",
        "metadata": {"name": "glance", "namespace": namespace},
        "spec": {
            "containerImage": "quay.io/podified-antelope-centos9/openstack-glance-api:current-podified",
            "databaseInstance": "openstack",
            "secret": "osp-secret",
            "imageCache": {"size": ""},
            "storage": {"storageRequest": "1G"},
            "glanceAPIs": apis or {"default": {"type": "single", "replicas": 1}},
            "keystoneEndpoint": next(iter(apis or {"default": 0})),
            **spec,
        },
    }


# customServiceConfig of backends the scenarios use (the store drivers are not started here)
SWIFT_CONFIG = (
    "[DEFAULT]\nenabled_backends = default_backend:swift\n[glance_store]\ndefault_backend = default_backend\n"
    "[default_backend]\nswift_store_create_container_on_put = True\n"
)
CINDER_CONFIG = """[DEFAULT]
enabled_backends = default_backend:cinder
[glance_store]
default_backend = default_backend
[default_backend]
cinder_store_auth_address = {{ .KeystoneInternalURL }}
cinder_store_user_name = {{ .ServiceUser }}
cinder_store_password = {{ .ServicePassword }}
cinder_store_project_name = service
cinder_catalog_info = volumev3::internalURL
"""
