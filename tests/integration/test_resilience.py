"""Leader election, an apiserver restart mid-run, and a quiet steady state measured by the apiserver."""

from __future__ import annotations

import asyncio
import contextlib

from lightkube import AsyncClient, KubeConfig

from glance_operator.api.defaults import Defaults
from glance_operator.runtime.manager import Manager, Options
from glance_operator.testing import ControlPlane, KubeApi
from glance_operator.testing.apimetrics import OUR_RESOURCES, apiserver_requests, delta
from glance_operator.testing.deps import DependencyPlayer

from .operator_env import GLANCE_V, eventually, glance, is_ready, running_operator, service_secret


async def test_no_write_requests_in_30s_after_ready(tmp_path) -> None:
    # a control plane of its own: apiserver_request_total is cluster-wide, and other tests' namespaces
    # being deleted in the shared one would count as writes
    with ControlPlane(tmp_path / "cp") as control_plane:
        changed, repeated = await _quiet_scenario(
            control_plane.api, control_plane.kubeconfig, control_plane.create_namespace("quiet")
        )
    assert changed == {}, f"write requests at steady state: {changed}; repeated events: {repeated}"


def our_events(api: KubeApi, namespace: str) -> dict[str, int]:
    """Events our operator recorded, with their counts."""
    return {
        e["metadata"]["name"]: e.get("count") or 1
        for e in api.list("v1", "Event", namespace)
        if (e.get("source") or {}).get("component") == "glance-operator"
    }


async def _quiet_scenario(api: KubeApi, kubeconfig, namespace: str) -> tuple[dict, list]:
    apis = {"default": {"type": "split", "replicas": 1, "customServiceConfig": "[DEFAULT]\nenabled_backends=a:rbd"}}
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, apis=apis))
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
        # Events are excluded from the apiserver count: kube-controller-manager's event broadcaster
        # flushes aggregated counts late; ours are compared object by object instead.
        resources = OUR_RESOURCES - {"events"}
        ours_before = our_events(api, namespace)
        before = apiserver_requests(api, resources=resources)
        await asyncio.sleep(30)  # poll: the observation window the steady-state requirement names
        changed = delta(apiserver_requests(api, resources=resources), before)
        if our_events(api, namespace) != ours_before:
            changed[("events", "glance-operator", "")] = 1.0
        repeated = [
            (e["reason"], e["message"], e.get("count"))
            for e in api.list("v1", "Event", namespace)
            if (e.get("count") or 1) > 1
        ]
        return changed, repeated


@contextlib.asynccontextmanager
async def manager_task(kubeconfig, namespace: str, identity_suffix: str):
    client = AsyncClient(config=KubeConfig.from_file(str(kubeconfig)), trust_env=False)
    manager = Manager(
        Options(
            namespace=namespace,
            leader_elect=True,
            leader_election_namespace=namespace,
            lease_duration=4,
            renew_deadline=3,
            retry_period=0.5,
            health_probe_bind_address="0",
        ),
        client=client,
    )
    manager.add_default_controllers(Defaults())
    task = asyncio.create_task(manager.run(), name=f"manager-{identity_suffix}")
    try:
        yield manager, task
    finally:
        manager.stop()
        await task
        await client.close()


async def test_only_the_leader_reconciles_and_a_standby_takes_over(api: KubeApi, kubeconfig, namespace: str) -> None:
    deps_client = AsyncClient(config=KubeConfig.from_file(str(kubeconfig)), trust_env=False)
    async with (
        DependencyPlayer(deps_client, [namespace]),
        manager_task(kubeconfig, namespace, "a") as (first, first_task),
    ):
        if True:
            await eventually(lambda: api.read("coordination.k8s.io/v1", "Lease", "c569355b.openstack.org", namespace))
            async with manager_task(kubeconfig, namespace, "b") as (second, _):
                api.apply(service_secret(namespace))
                api.apply(glance(namespace))
                await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
                assert first.writer.stats.total > 0
                assert second.writer.stats.total == 0, "the standby must not write"
                assert not second.ready.is_set()
                first.stop()
                await first_task
                # the standby takes over within the lease duration and acts on a change
                api.apply(glance(namespace, apiTimeout=90))
                await eventually(lambda: second.ready.is_set(), timeout=10)
                await eventually(
                    lambda: (
                        (g := is_ready(api, "Glance", "glance", namespace))
                        and (a := api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace))
                        and a["spec"]["apiTimeout"] == 90
                        and g
                    ),
                    timeout=60,
                )
                assert second.writer.stats.total > 0
    await deps_client.close()


async def test_apiserver_restart_mid_run_loses_no_update(tmp_path) -> None:
    # a control plane of its own: restarting the shared one would disturb other tests
    with ControlPlane(tmp_path / "cp") as control_plane:
        relists_before, relists_after = await _restart_scenario(
            control_plane, control_plane.api, control_plane.kubeconfig, control_plane.create_namespace("restart")
        )
    assert relists_after > relists_before  # watches were re-established after the restart


async def _restart_scenario(control_plane: ControlPlane, api: KubeApi, kubeconfig, namespace: str) -> tuple[int, int]:
    async with running_operator(kubeconfig, namespace) as (manager, _deps):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
        relists = sum(i.relists for i in manager.cache.informers.values())
        await asyncio.to_thread(control_plane.restart, "kube-apiserver")
        api.apply(glance(namespace, apis={"default": {"type": "single", "replicas": 2}}))
        ready = await eventually(
            lambda: (
                (g := is_ready(api, "Glance", "glance", namespace))
                and g["status"]["glanceAPIReadyCounts"] == {"default": 2}
                and g
            ),
            timeout=120,
            describe=lambda: (
                (api.read(GLANCE_V, "Glance", "glance", namespace) or {}).get("status"),
                {k.kind: (i.relists, i.synced.is_set()) for k, i in manager.cache.informers.items()},
            ),
        )
        assert ready
        return relists, sum(i.relists for i in manager.cache.informers.values())
