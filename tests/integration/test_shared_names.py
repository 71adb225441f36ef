"""Defect 16 on the real apiserver: two Glances in one namespace share upstream's hard-coded names.

The names stay (the rest of the control plane finds `glance-db-sync`, MariaDBDatabase `glance`, ... by
name, spec §10), so the oldest Glance manages the namespace and a second one waits, says why and
creates nothing, until the first is gone; then it takes over.
"""

from __future__ import annotations

from glance_operator.testing import KubeApi

from .operator_env import GLANCE_V, condition, eventually, glance, is_ready, running_operator, service_secret


def owners(api: KubeApi, api_version: str, kind: str, name: str, ns: str) -> list[str]:
    obj = api.read(api_version, kind, name, ns)
    return [r["name"] for r in (obj or {}).get("metadata", {}).get("ownerReferences") or []]


async def test_defect_16_second_glance_in_a_namespace_waits_and_takes_over(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        first = glance(namespace)
        api.apply(first)
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
        second = glance(namespace)
        second["metadata"]["name"] = "second"
        api.apply(second)

        def refused() -> dict | None:
            obj = api.read(GLANCE_V, "Glance", "second", namespace)
            c = condition(obj, "InputReady")
            return obj if c and c["status"] == "False" else None

        obj = await eventually(refused, timeout=30)
        message = condition(obj, "InputReady")["message"]
        assert message.startswith("Glance glance already manages this namespace")
        assert "glance-db-sync" in message and "another namespace" in message
        assert condition(obj, "Ready")["message"] == message
        assert not obj["metadata"].get("finalizers"), "a waiting Glance holds nothing"
        # nothing shared was taken over: the first Glance still owns what it made, and no API of the second exists
        assert owners(api, "batch/v1", "Job", "glance-db-sync", namespace) == ["glance"]
        assert owners(api, "mariadb.openstack.org/v1beta1", "MariaDBDatabase", "glance", namespace) == ["glance"]
        assert api.read(GLANCE_V, "GlanceAPI", "second-default-single", namespace) is None
        assert is_ready(api, "Glance", "glance", namespace)

        # the first goes; the second takes the namespace over and becomes Ready
        api.delete(api.path_of(first))
        await eventually(lambda: api.read(GLANCE_V, "Glance", "glance", namespace) is None, timeout=60)
        await eventually(lambda: is_ready(api, "Glance", "second", namespace), timeout=120)
        assert api.read(GLANCE_V, "GlanceAPI", "second-default-single", namespace) is not None
        assert "second" in owners(api, "mariadb.openstack.org/v1beta1", "MariaDBDatabase", "glance", namespace)
