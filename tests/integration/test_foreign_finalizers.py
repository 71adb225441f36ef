"""Finalizers the operator places on other operators' objects (spec §7.2, §5.5, §5.6, §5.13, §5.14).

Given a namespace with the dependency player and the operator running in-process, when a GlanceAPI uses an
application-credential Secret or a Topology, then that object is protected while in use and released when
no longer used: after a rotation has fully rolled out, when the reference is removed, and on deletion.
"""

from __future__ import annotations

from typing import Any

from glance_operator.testing import KubeApi

from .operator_env import (
    GLANCE_V,
    SWIFT_CONFIG,
    condition,
    eventually,
    glance,
    is_ready,
    running_operator,
    secret,
    service_secret,
)

TOPOLOGY_V = "topology.openstack.org/v1beta1"


def ac_secret(namespace: str, name: str) -> dict[str, Any]:
    return secret(namespace, name, AC_ID=f"id-{name}", AC_SECRET=f"secret-{name}")


def finalizers(api: KubeApi, api_version: str, kind: str, name: str, ns: str) -> list[str]:
    obj = api.read(api_version, kind, name, ns)
    return list((obj or {}).get("metadata", {}).get("finalizers") or [])


def with_ac(namespace: str, secret: str) -> dict[str, Any]:
    return glance(
        namespace,
        apis={"default": {"type": "single", "replicas": 1, "auth": {"applicationCredentialSecret": secret}}},
    )


async def test_application_credential_secret_protected_and_released_after_rotation(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    consumer = "openstack.org/glance-default-single-ac-consumer"
    async with running_operator(kubeconfig, namespace) as (_manager, deps):
        # given a Glance whose API authenticates with application credential "ac-one"
        api.apply(service_secret(namespace))
        api.apply(ac_secret(namespace, "ac-one"))
        api.apply(ac_secret(namespace, "ac-two"))
        api.apply(with_ac(namespace, "ac-one"))
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
        child = api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace)
        assert child["status"]["applicationCredentialSecret"] == "ac-one"
        assert consumer in finalizers(api, "v1", "Secret", "ac-one", namespace)

        # when the credential is rotated while the API cannot finish (its KeystoneEndpoint held not ready)
        deps.hold("KeystoneEndpoint")
        api.apply(with_ac(namespace, "ac-two"))

        def on_new_credential(ready: bool):
            def check() -> dict[str, Any] | None:
                obj = api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace) or {}
                status = obj.get("status") or {}
                current = (
                    obj["spec"]["auth"].get("applicationCredentialSecret") == "ac-two"
                    and status.get("observedGeneration") == obj["metadata"]["generation"]
                )
                is_ready_now = (condition(obj, "Ready") or {}).get("status") == "True"
                return obj if current and is_ready_now == ready and condition(obj, "KeystoneEndpointReady") else None

            return check

        await eventually(on_new_credential(ready=False), timeout=60)
        # then the old Secret stays protected and recorded: pods may still use it
        child = api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace)
        assert child["status"]["applicationCredentialSecret"] == "ac-one"
        assert consumer in finalizers(api, "v1", "Secret", "ac-one", namespace)

        # when the API is ready again, the old Secret is released and the new one recorded and protected
        deps.release("KeystoneEndpoint")
        await eventually(on_new_credential(ready=True), timeout=90)
        assert consumer not in finalizers(api, "v1", "Secret", "ac-one", namespace)
        assert consumer in finalizers(api, "v1", "Secret", "ac-two", namespace)
        child = api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace)
        assert child["status"]["applicationCredentialSecret"] == "ac-two"

        # when the Glance is deleted, no Secret is left stuck
        api.remove(GLANCE_V, "Glance", "glance", namespace)
        await eventually(lambda: api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace) is None, 60)
        assert consumer not in finalizers(api, "v1", "Secret", "ac-two", namespace)


async def test_each_split_half_protects_the_topology_and_upstreams_finalizer_is_released(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    ours = ["openstack.org/glanceapi-default-external", "openstack.org/glanceapi-default-internal"]
    upstream = "openstack.org/glanceapi-default"  # what an upstream-managed Topology carries (defect 24)
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(
            {
                "apiVersion": TOPOLOGY_V,
                "kind": "Topology",
                "metadata": {"name": "spread", "namespace": namespace, "finalizers": [upstream]},
                "spec": {},
            }
        )
        split = {"default": {"type": "split", "replicas": 1, "topologyRef": {"name": "spread"}}}
        api.apply(glance(namespace, apis=split, customServiceConfig=SWIFT_CONFIG))
        # then both halves hold their own finalizer, and report TopologyReady
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
        assert sorted(set(finalizers(api, TOPOLOGY_V, "Topology", "spread", namespace)) - {upstream}) == ours
        for half in ("external", "internal"):
            c = condition(api.read(GLANCE_V, "GlanceAPI", f"glance-default-{half}", namespace), "TopologyReady")
            assert c is not None and c["status"] == "True"
        # when the reference is removed, every glance finalizer goes, upstream's included
        api.apply(
            glance(namespace, apis={"default": {"type": "split", "replicas": 1}}, customServiceConfig=SWIFT_CONFIG)
        )
        await eventually(lambda: finalizers(api, TOPOLOGY_V, "Topology", "spread", namespace) == [], timeout=60)
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
