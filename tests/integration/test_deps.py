"""The dependency player (glance_operator.testing.deps) against the real test apiserver: it makes each
dependency ready the way mariadb-, keystone- and infra-operator do, holds a dependency not ready
until released, and survives a watch that expires (410 Gone)."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.models.meta_v1 import Status
from lightkube.resources.core_v1 import Secret

from glance_operator.testing import ControlPlane, KubeApi
from glance_operator.testing import deps_status as ds
from glance_operator.testing.deps import DependencyPlayer
from glance_operator.testing.kubeapi import Obj

pytestmark = pytest.mark.integration

MARIADB = "mariadb.openstack.org/v1beta1"
KEYSTONE = "keystone.openstack.org/v1beta1"
RABBITMQ = "rabbitmq.openstack.org/v1beta1"
TOPOLOGY = "topology.openstack.org/v1beta1"
RFC3339_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
CONDITION_KEYS = {"type", "status", "reason", "severity", "message", "lastTransitionTime"}


# --- helpers -------------------------------------------------------------------------------------------
def cond(obj: Obj | None, type_: str = "Ready") -> Obj:
    c = ds.find_condition(obj, type_)
    assert c is not None, f"no {type_} condition in {json.dumps((obj or {}).get('status'))}"
    return c


def has_condition(type_: str, status: str, reason: str | None = None) -> Any:
    def check(obj: Obj) -> bool:
        c = ds.find_condition(obj, type_)
        return c is not None and c["status"] == status and (reason is None or c["reason"] == reason)

    return check


def assert_lib_common_conditions(obj: Obj) -> None:
    """lib-common shape: all six fields, Ready first then by type, severity empty unless False."""
    conditions = obj["status"]["conditions"]
    assert conditions[0]["type"] == "Ready"
    assert [c["type"] for c in conditions[1:]] == sorted(c["type"] for c in conditions[1:])
    for c in conditions:
        assert set(c) == CONDITION_KEYS, c
        assert c["status"] in ("True", "False", "Unknown")
        assert RFC3339_SECONDS.match(c["lastTransitionTime"]), c
        if c["status"] != "False":
            assert c["severity"] == "", c
        else:
            assert c["severity"] in ("Error", "Warning", "Info"), c


def secret(name: str, **data: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}


def mariadb_database(name: str = "glance", instance: str = "openstack") -> Obj:
    return {
        "apiVersion": MARIADB,
        "kind": "MariaDBDatabase",
        "metadata": {"name": name, "labels": {"dbName": instance}},
        "spec": {"name": name},
    }


def mariadb_account(name: str = "glance", database: str | None = "glance") -> Obj:
    labels = {"mariaDBDatabaseName": database} if database else {}
    return {
        "apiVersion": MARIADB,
        "kind": "MariaDBAccount",
        "metadata": {"name": name, "labels": labels},
        "spec": {"userName": "glance_a1b2", "secret": f"{name}-db-secret", "requireTLS": False},
    }


def keystone_service(name: str = "glance") -> Obj:
    return {
        "apiVersion": KEYSTONE,
        "kind": "KeystoneService",
        "metadata": {"name": name},
        "spec": {
            "serviceType": "image",
            "serviceName": name,
            "serviceDescription": "Glance Service",
            "enabled": True,
            "serviceUser": name,
            "secret": "osp-secret",
            "passwordSelector": "GlancePassword",
        },
    }


def keystone_endpoint(name: str, endpoints: dict[str, str]) -> Obj:
    return {
        "apiVersion": KEYSTONE,
        "kind": "KeystoneEndpoint",
        "metadata": {"name": name},
        "spec": {"serviceName": "glance", "endpoints": endpoints},
    }


def topology(name: str) -> Obj:
    return {
        "apiVersion": TOPOLOGY,
        "kind": "Topology",
        "metadata": {"name": name},
        "spec": {
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule"}
            ]
        },
    }


def transport_url(name: str, cluster: str = "rabbitmq", **more: str) -> Obj:
    return {
        "apiVersion": RABBITMQ,
        "kind": "TransportURL",
        "metadata": {"name": name},
        "spec": {"rabbitmqClusterName": cluster, **more},
    }


def path(api: KubeApi, api_version: str, kind: str, namespace: str, name: str) -> str:
    return api.resource(api_version, kind).path(namespace, name)


def decoded(secret_obj: Obj) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret_obj.get("data") or {}).items()}


@pytest.fixture
async def client(kubeconfig: Path) -> AsyncIterator[AsyncClient]:
    c = AsyncClient(KubeConfig.from_file(str(kubeconfig)), field_manager="test-deps")
    yield c
    await c.close()


@pytest.fixture
async def deps(client: AsyncClient, namespace: str) -> AsyncIterator[DependencyPlayer]:
    async with DependencyPlayer(client, [namespace]) as player:
        yield player


# --- tests ---------------------------------------------------------------------------------------------
async def test_keystone_api_and_memcached_are_provided(deps: DependencyPlayer, namespace: str) -> None:
    keystone = await deps.wait_ready("KeystoneAPI", "keystone", namespace)
    assert keystone["status"]["apiEndpoints"] == {
        "internal": f"http://keystone-internal.{namespace}.svc:5000",
        "public": f"http://keystone-public.{namespace}.svc:5000",
    }
    assert keystone["status"]["region"] == "regionOne"
    assert cond(keystone) == {
        "type": "Ready",
        "status": "True",
        "reason": "Ready",
        "severity": "",
        "message": "Setup complete",
        "lastTransitionTime": cond(keystone)["lastTransitionTime"],
    }
    assert_lib_common_conditions(keystone)

    memcached = await deps.wait_ready("Memcached", "memcached", namespace)
    assert memcached["status"]["serverList"] == [f"memcached-0.memcached.{namespace}.svc:11211"]
    assert memcached["status"]["serverListWithInet"] == [f"inet:memcached-0.memcached.{namespace}.svc:11211"]
    assert memcached["status"]["tlsSupport"] is False
    assert "mtlsCert" not in memcached["status"]
    assert memcached["status"]["readyCount"] == 1
    assert_lib_common_conditions(memcached)


async def test_mariadb_database_and_account(deps: DependencyPlayer, api: KubeApi, namespace: str) -> None:
    api.create(mariadb_database("glance", "openstack"), namespace)
    db = await deps.wait_ready("MariaDBDatabase", "glance", namespace)
    assert db["status"]["completed"] is True
    assert db["status"]["tlsSupport"] is False
    assert cond(db, "MariaDBDatabaseReady")["status"] == "True"
    assert cond(db, "MariaDBServerReady")["status"] == "True"
    assert_lib_common_conditions(db)
    services = api.list("v1", "Service", namespace, labelSelector="app=mariadb,cr=mariadb-openstack")
    assert [s["metadata"]["name"] for s in services] == ["openstack"]

    # TLS support comes from the Galera CR of the instance, when there is one.
    api.create(
        {
            "apiVersion": MARIADB,
            "kind": "Galera",
            "metadata": {"name": "secure"},
            "spec": {
                "containerImage": "mariadb:latest",
                "replicas": 1,
                "storageClass": "standard",
                "storageRequest": "1G",
                "tls": {"secretName": "galera-tls"},
            },
        },
        namespace,
    )
    api.create(mariadb_database("other", "secure"), namespace)
    other = await deps.wait_ready("MariaDBDatabase", "other", namespace)
    assert other["status"]["tlsSupport"] is True

    # Like mariadb-operator, a User account waits for its mariaDBDatabaseName label ...
    api.create(mariadb_account("glance", database=None), namespace)
    account = await deps.wait_for(
        "MariaDBAccount", "glance", namespace, has_condition("MariaDBAccountReady", "Unknown")
    )
    assert cond(account)["status"] != "True"
    api.merge_patch(
        path(api, MARIADB, "MariaDBAccount", namespace, "glance"),
        {"metadata": {"labels": {"mariaDBDatabaseName": "glance"}}},
    )
    # ... and for its Secret, which the player never creates (the glance operator does).
    account = await deps.wait_for(
        "MariaDBAccount", "glance", namespace, has_condition("MariaDBAccountReady", "False", "SecretMissing")
    )
    assert cond(account)["status"] == "False"
    assert (
        cond(account)["message"]
        == 'MariaDBAccount secret is missing or incomplete: secrets "glance-db-secret" not found'
    )
    assert_lib_common_conditions(account)
    assert api.read("v1", "Secret", "glance-db-secret", namespace) is None

    api.create(secret("glance-db-secret", DatabasePassword="0123456789abcdef0123456789abcdef"), namespace)
    account = await deps.wait_ready("MariaDBAccount", "glance", namespace)
    assert account["status"]["currentSecret"] == "glance-db-secret"
    assert cond(account, "MariaDBAccountReady")["message"] == "MariaDBAccount creation complete"


async def test_keystone_service_and_endpoints(deps: DependencyPlayer, api: KubeApi, namespace: str) -> None:
    api.create(secret("osp-secret", GlancePassword="12345678"), namespace)
    api.create(keystone_service("glance"), namespace)
    service = await deps.wait_ready("KeystoneService", "glance", namespace)
    service_id = service["status"]["serviceID"]
    assert HEX32.match(service_id)
    assert cond(service, "KeystoneServiceOSServiceReady")["message"] == f"Keystone Service glance - {service_id} ready"
    assert_lib_common_conditions(service)

    urls = {
        "internal": f"http://glance-default-internal.{namespace}.svc:9292",
        "public": f"http://glance-default-public.{namespace}.svc:9292",
    }
    api.create(keystone_endpoint("glance-default-single", urls), namespace)
    endpoint = await deps.wait_ready("KeystoneEndpoint", "glance-default-single", namespace)
    ids = endpoint["status"]["endpointIDs"]
    assert set(ids) == {"internal", "public"}
    assert all(HEX32.match(i) for i in ids.values()) and ids["internal"] != ids["public"]
    assert endpoint["status"]["serviceID"] == service_id
    assert endpoint["status"]["endpoints"] == [
        {"id": ids["internal"], "interface": "internal", "url": urls["internal"]},
        {"id": ids["public"], "interface": "public", "url": urls["public"]},
    ]
    assert cond(endpoint, "KeystoneServiceReady")["status"] == "True"
    assert_lib_common_conditions(endpoint)

    # An interface removed from the spec loses its ID; the others keep theirs.
    api.merge_patch(
        path(api, KEYSTONE, "KeystoneEndpoint", namespace, "glance-default-single"),
        {"spec": {"endpoints": {"public": None}}},
    )
    endpoint = await deps.wait_for(
        "KeystoneEndpoint",
        "glance-default-single",
        namespace,
        lambda o: o["status"].get("observedGeneration") == 2 and ds.is_ready(o),
    )
    assert endpoint["status"]["endpointIDs"] == {"internal": ids["internal"]}


async def test_transport_url(deps: DependencyPlayer, api: KubeApi, namespace: str) -> None:
    api.create(transport_url("glance-glance-transport"), namespace)
    tu = await deps.wait_ready("TransportURL", "glance-glance-transport", namespace)
    assert tu["status"]["secretName"] == "rabbitmq-transport-url-glance-glance-transport"
    assert cond(tu, "TransportURLReady")["message"] == "TransportURL completed"
    assert_lib_common_conditions(tu)
    sec = api.read("v1", "Secret", "rabbitmq-transport-url-glance-glance-transport", namespace)
    assert sec is not None
    [owner] = sec["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "TransportURL",
        "glance-glance-transport",
        tu["metadata"]["uid"],
        True,
    )
    data = decoded(sec)
    assert set(data) == {"transport_url"}  # no quorumqueues key without quorum queues
    assert re.fullmatch(
        rf"rabbit://default_user:[0-9a-f]{{32}}@rabbitmq\.{namespace}\.svc:5672/\?ssl=0",
        data["transport_url"],
    )

    # Queue type from the RabbitMq CR of the cluster; user and vhost from the spec.
    api.create(
        {
            "apiVersion": RABBITMQ,
            "kind": "RabbitMq",
            "metadata": {"name": "rabbitmq-notify"},
            "spec": {"containerImage": "rabbitmq:latest", "queueType": "Quorum"},
        },
        namespace,
    )
    api.create(transport_url("notify", "rabbitmq-notify", username="glance", vhost="glance"), namespace)
    await deps.wait_ready("TransportURL", "notify", namespace)
    data = decoded(api.read("v1", "Secret", "rabbitmq-transport-url-notify", namespace))
    assert data["quorumqueues"] == "true"
    assert re.fullmatch(
        rf"rabbit://glance:[0-9a-f]{{32}}@rabbitmq-notify\.{namespace}\.svc:5672/glance\?ssl=0",
        data["transport_url"],
    )

    # A deleted TransportURL secret is put back (level-triggered).
    api.remove("v1", "Secret", "rabbitmq-transport-url-notify", namespace)
    await deps.wait_for(
        "Secret",
        "rabbitmq-transport-url-notify",
        namespace,
        lambda s: "deletionTimestamp" not in s["metadata"],
    )


async def test_held_dependencies_stay_not_ready_until_released(
    client: AsyncClient, api: KubeApi, namespace: str
) -> None:
    async with DependencyPlayer(client, [namespace], hold=["Memcached/memcached", "mariadbdatabase"]) as deps:
        memcached = await deps.wait_for("Memcached", "memcached", namespace, has_condition("Ready", "False"))
        assert {k: v for k, v in cond(memcached).items() if k != "lastTransitionTime"} == {
            "type": "Ready",
            "status": "False",
            "reason": "Requested",
            "severity": "Info",
            "message": "Deployment in progress",
        }
        assert_lib_common_conditions(memcached)
        # the other dependencies are not affected
        await deps.wait_ready("KeystoneAPI", "keystone", namespace)

        # A held MariaDBDatabase keeps its accounts waiting too.
        api.create(mariadb_database("glance"), namespace)
        api.create(mariadb_account("glance"), namespace)
        api.create(secret("glance-db-secret", DatabasePassword="x" * 32), namespace)
        account = await deps.wait_for(
            "MariaDBAccount",
            "glance",
            namespace,
            has_condition("MariaDBDatabaseReady", "False", "DatabaseWaitingInitialized"),
        )
        assert cond(account)["status"] == "False"
        db = await deps.wait_for("MariaDBDatabase", "glance", namespace, has_condition("Ready", "False"))
        assert cond(db, "MariaDBDatabaseReady")["reason"] == "Requested"
        assert "completed" not in db["status"]

        # A hold placed later; the player keeps re-reconciling it (generation 2 observed) but not ready.
        api.create(secret("osp-secret", GlancePassword="12345678"), namespace)
        api.create(keystone_service("glance"), namespace)
        await deps.wait_ready("KeystoneService", "glance", namespace)
        deps.hold("KeystoneEndpoint", "glance-default-internal")
        internal = {"internal": f"http://glance-default-internal.{namespace}.svc:9292"}
        api.create(keystone_endpoint("glance-default-internal", internal), namespace)
        api.merge_patch(
            path(api, KEYSTONE, "KeystoneEndpoint", namespace, "glance-default-internal"),
            {"spec": {"endpoints": {"internal": internal["internal"] + "/v2"}}},
        )
        endpoint = await deps.wait_for(
            "KeystoneEndpoint",
            "glance-default-internal",
            namespace,
            lambda o: o.get("status", {}).get("observedGeneration") == 2 and ds.find_condition(o) is not None,
        )
        assert cond(endpoint)["status"] == "False"
        assert (
            cond(endpoint, "KeystoneServiceOSEndpointsReady")["message"]
            == "Keystone Endpoints registration not started"
        )
        assert "endpointIDs" not in endpoint["status"]

        deps.release("KeystoneEndpoint", "glance-default-internal")
        endpoint = await deps.wait_ready("KeystoneEndpoint", "glance-default-internal", namespace)
        assert set(endpoint["status"]["endpointIDs"]) == {"internal"}
        deps.release("MariaDBDatabase")
        await deps.wait_ready("MariaDBDatabase", "glance", namespace)
        await deps.wait_ready("MariaDBAccount", "glance", namespace)
        deps.release("Memcached", "memcached")
        await deps.wait_ready("Memcached", "memcached", namespace)


async def test_hold_after_ready_keeps_outputs(deps: DependencyPlayer, api: KubeApi, namespace: str) -> None:
    api.create(transport_url("glance-glance-transport"), namespace)
    ready = await deps.wait_ready("TransportURL", "glance-glance-transport", namespace)

    deps.hold("TransportURL")
    held = await deps.wait_for("TransportURL", "glance-glance-transport", namespace, has_condition("Ready", "False"))
    assert cond(held, "TransportURLReady")["message"] == "TransportURL in progress"
    assert held["status"]["secretName"] == ready["status"]["secretName"]  # like a real operator: not withdrawn

    deps.release("TransportURL")
    again = await deps.wait_ready("TransportURL", "glance-glance-transport", namespace)
    assert cond(again)["lastTransitionTime"] >= cond(ready)["lastTransitionTime"]


def without_time(condition: Obj) -> Obj:
    return {k: v for k, v in condition.items() if k != "lastTransitionTime"}


async def test_held_keystone_api_keeps_its_services_waiting_until_released(
    client: AsyncClient, api: KubeApi, namespace: str
) -> None:
    async with DependencyPlayer(client, [namespace], hold=["KeystoneAPI"]) as deps:
        keystone = await deps.wait_for("KeystoneAPI", "keystone", namespace, has_condition("Ready", "False"))
        assert without_time(cond(keystone)) == {
            "type": "Ready",
            "status": "False",
            "reason": "Requested",
            "severity": "Info",
            "message": "Deployment in progress",
        }
        assert cond(keystone, "DeploymentReady")["status"] == "False"
        assert keystone["status"]["readyCount"] == 0
        assert_lib_common_conditions(keystone)

        # Like keystone-operator, a KeystoneService waits for the KeystoneAPI and registers nothing.
        api.create(secret("osp-secret", GlancePassword="12345678"), namespace)
        api.create(keystone_service("glance"), namespace)
        service = await deps.wait_for(
            "KeystoneService", "glance", namespace, has_condition("KeystoneAPIReady", "False", "Requested")
        )
        assert cond(service)["status"] == "False"
        assert cond(service, "KeystoneAPIReady")["message"] == "KeystoneAPI not yet ready"
        assert "serviceID" not in service["status"]

        deps.release("KeystoneAPI")
        keystone = await deps.wait_ready("KeystoneAPI", "keystone", namespace)
        assert keystone["status"]["readyCount"] == 1
        service = await deps.wait_ready("KeystoneService", "glance", namespace)
        assert HEX32.match(service["status"]["serviceID"])


async def test_held_keystone_service_keeps_its_endpoints_waiting_until_released(
    client: AsyncClient, api: KubeApi, namespace: str
) -> None:
    async with DependencyPlayer(client, [namespace], hold=["keystoneservices/glance"]) as deps:
        api.create(secret("osp-secret", GlancePassword="12345678"), namespace)
        api.create(keystone_service("glance"), namespace)
        service = await deps.wait_for(
            "KeystoneService",
            "glance",
            namespace,
            has_condition("KeystoneServiceOSServiceReady", "False", "Requested"),
        )
        assert without_time(cond(service)) == {
            "type": "Ready",
            "status": "False",
            "reason": "Requested",
            "severity": "Info",
            "message": "Keystone Service registration not started",
        }
        assert cond(service, "KeystoneAPIReady")["status"] == "True"  # only the service itself is held
        assert "serviceID" not in service["status"]
        assert_lib_common_conditions(service)

        internal = {"internal": f"http://glance-default-internal.{namespace}.svc:9292"}
        api.create(keystone_endpoint("glance-default-internal", internal), namespace)
        endpoint = await deps.wait_for(
            "KeystoneEndpoint",
            "glance-default-internal",
            namespace,
            has_condition("KeystoneServiceReady", "False", "Requested"),
        )
        assert cond(endpoint)["status"] == "False"
        assert "endpointIDs" not in endpoint["status"]

        deps.release("KeystoneService", "glance")
        service = await deps.wait_ready("KeystoneService", "glance", namespace)
        endpoint = await deps.wait_ready("KeystoneEndpoint", "glance-default-internal", namespace)
        assert endpoint["status"]["serviceID"] == service["status"]["serviceID"]
        assert set(endpoint["status"]["endpointIDs"]) == {"internal"}


async def test_held_mariadb_account_stays_not_ready_until_released(
    client: AsyncClient, api: KubeApi, namespace: str
) -> None:
    async with DependencyPlayer(client, [namespace], hold=["MariaDBAccount/glance"]) as deps:
        api.create(mariadb_database("glance"), namespace)
        for name in ("glance", "other"):
            api.create(mariadb_account(name), namespace)
            api.create(secret(f"{name}-db-secret", DatabasePassword="x" * 32), namespace)
        account = await deps.wait_for(
            "MariaDBAccount", "glance", namespace, has_condition("MariaDBAccountReady", "False", "Requested")
        )
        assert without_time(cond(account)) == {
            "type": "Ready",
            "status": "False",
            "reason": "Requested",
            "severity": "Info",
            "message": "MariaDBAccount create / drop not started",
        }
        assert cond(account, "MariaDBDatabaseReady")["status"] == "True"  # its database is not held
        assert "currentSecret" not in account["status"]
        assert_lib_common_conditions(account)
        await deps.wait_ready("MariaDBAccount", "other", namespace)  # a hold by name holds only that one

        deps.release("MariaDBAccount", "glance")
        account = await deps.wait_ready("MariaDBAccount", "glance", namespace)
        assert account["status"]["currentSecret"] == "glance-db-secret"


async def test_topology_is_ready_once_it_exists_and_a_hold_changes_nothing(
    client: AsyncClient, api: KubeApi, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    """infra-operator runs no Topology controller and the CRD's status has no fields: there is nothing
    to play or hold back. The kind is known (hold, release, wait_for accept it); the player never writes it."""
    caplog.set_level(logging.INFO, logger="glance_operator.testing.deps")
    async with DependencyPlayer(client, [namespace], hold=["Topology"]) as deps:
        assert deps.is_held("Topology", "spread")
        created = api.create(topology("spread"), namespace)
        topo = await deps.wait_for("topologies", "spread", namespace)
        assert topo["metadata"]["uid"] == created["metadata"]["uid"]

        # What a player could write is dropped by the apiserver: the schema has no status fields.
        status_path = path(api, TOPOLOGY, "Topology", namespace, "spread") + "/status"
        patched = api.merge_patch(
            status_path,
            {"status": {"conditions": [{"type": "Ready", "status": "False"}], "observedGeneration": 1}},
        )
        assert not patched.get("status")

        deps.release("Topology")
        assert not deps.is_held("Topology", "spread")
        deps.hold("Topology", "spread")
        # Held or not, the player leaves it alone: once it has played something else after both the hold and the
        # release, the Topology is still at the version the status patch above produced.
        api.create(mariadb_database("glance"), namespace)
        await deps.wait_ready("MariaDBDatabase", "glance", namespace)
        now = api.read(TOPOLOGY, "Topology", "spread", namespace)
        assert now is not None and now["metadata"]["resourceVersion"] == patched["metadata"]["resourceVersion"]
        assert not now.get("status") and not now["metadata"].get("finalizers")

    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "glance_operator.testing.deps"]
    holds = [line for line in lines if line["action"] == "hold" and line["kind"] == "Topology"]
    assert holds and all(line["effect"].startswith("none") for line in holds), holds
    assert not [line for line in lines if line.get("kind") == "Topology" and line["action"] not in ("hold", "release")]


async def test_unexpected_objects_do_not_stop_the_player(deps: DependencyPlayer, api: KubeApi, namespace: str) -> None:
    # no dbName label: not ready, with a reason
    api.create({**mariadb_database("nolabel"), "metadata": {"name": "nolabel"}}, namespace)
    db = await deps.wait_for("MariaDBDatabase", "nolabel", namespace, has_condition("Ready", "False"))
    assert "no dbName label" in cond(db)["message"]
    # an endpoint interface keystone does not know
    api.create(secret("osp-secret", GlancePassword="12345678"), namespace)
    api.create(keystone_service("glance"), namespace)
    api.create(keystone_endpoint("odd", {"sideways": "http://x"}), namespace)
    odd = await deps.wait_for(
        "KeystoneEndpoint",
        "odd",
        namespace,
        has_condition("KeystoneServiceOSEndpointsReady", "False", "Error"),
    )
    assert cond(odd)["status"] == "False"
    # the player still serves everything else
    api.create(mariadb_database("glance"), namespace)
    await deps.wait_ready("MariaDBDatabase", "glance", namespace)


class ExpiringWatchClient:
    """The real client, except that the first watch of Secrets fails with 410 Gone."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.expired = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def watch(self, res: Any, **kw: Any) -> Any:
        if res is Secret and not self.expired:
            self.expired += 1
            return self._gone()
        return self._client.watch(res, **kw)

    @staticmethod
    async def _gone() -> AsyncIterator[Any]:
        raise ApiError(status=Status(code=410, reason="Expired", message="too old resource version: 1 (42)"))
        yield  # an async generator, like lightkube's watch


async def test_relists_after_410_gone(
    client: AsyncClient, api: KubeApi, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="glance_operator.testing.deps")
    flaky = ExpiringWatchClient(client)
    async with DependencyPlayer(flaky, [namespace]) as deps:  # type: ignore[arg-type]
        api.create(mariadb_database("glance"), namespace)
        api.create(mariadb_account("glance"), namespace)
        await deps.wait_for("MariaDBAccount", "glance", namespace, has_condition("MariaDBAccountReady", "False"))
        # only a working Secret watch (after the relist) can bring this Secret to the player
        api.create(secret("glance-db-secret", DatabasePassword="x" * 32), namespace)
        await deps.wait_ready("MariaDBAccount", "glance", namespace)
    assert flaky.expired == 1

    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "glance_operator.testing.deps"]
    assert all({"time", "action"} <= set(line) for line in lines)
    relists = [line for line in lines if line["action"] == "relist"]
    assert any(line["kind"] == "Secret" and line["reason"].startswith("410") for line in relists), relists
    assert any(line["action"] == "status" and line.get("kind") == "MariaDBAccount" for line in lines)


# --- the pure parts (no apiserver needed) ----------------------------------------------------------------
def test_mirror_picks_the_most_severe_condition() -> None:
    info = ds.waiting_condition("A", "waiting")
    warning = ds.false_condition("B", "Error", "Warning", "broken")
    unknown = ds.unknown_condition("C", "Init", "not started")
    assert ds.mirror([unknown, info, warning])["message"] == "broken"
    assert ds.mirror([unknown, info])["message"] == "waiting"
    ready = ds.with_ready([ds.true_condition("A", "ok"), unknown])
    assert (ready[0]["type"], ready[0]["status"], ready[0]["message"]) == ("Ready", "Unknown", "not started")
    assert ds.with_ready([ds.true_condition("A", "ok")])[0]["message"] == "Setup complete"


def test_merge_conditions_keeps_transition_times_and_sorts() -> None:
    old = ds.merge_conditions(None, ds.with_ready([ds.true_condition("B", "b"), ds.true_condition("A", "a")]), "T0")
    assert [c["type"] for c in old] == ["Ready", "A", "B"]
    new = ds.merge_conditions(old, ds.with_ready([ds.true_condition("B", "b"), ds.waiting_condition("A", "w")]), "T1")
    times = {c["type"]: c["lastTransitionTime"] for c in new}
    assert times == {"Ready": "T1", "A": "T1", "B": "T0"}


def test_merge_patch_diff_replaces_nested_maps() -> None:
    current = {"endpointIDs": {"internal": "1", "public": "2"}, "other": "kept", "gone": "x"}
    desired = {"endpointIDs": {"internal": "1"}, "gone": None}
    assert ds.merge_patch_diff(current, desired, partial=True) == {"endpointIDs": {"public": None}, "gone": None}
    assert ds.merge_patch_diff(current, {"endpointIDs": {"internal": "1", "public": "2"}}, partial=True) == {}


def test_hold_kinds_and_go_maps() -> None:
    assert ds.canonical_kind("keystoneendpoints") == "KeystoneEndpoint"
    assert ds.canonical_kind("MEMCACHED") == "Memcached"
    assert ds.canonical_kind("Topology") == ds.canonical_kind("topologies") == "Topology"
    with pytest.raises(ValueError, match="unknown dependency kind"):
        ds.canonical_kind("Horizon")
    assert ds.go_map({"public": "p", "internal": "i"}) == "map[internal:i public:p]"
    assert ds.stable_id("x", "uid") == ds.stable_id("x", "uid") != ds.stable_id("y", "uid")


async def test_watch_all_plays_only_its_namespaces(
    client: AsyncClient, api: KubeApi, control_plane: ControlPlane, namespace: str
) -> None:
    """One cluster-wide watch per kind (the bench's mode): objects of its namespaces are played, others ignored."""
    other = control_plane.create_namespace("deps-not-mine")
    try:
        async with DependencyPlayer(client, [namespace], watch_all=True, ensure_memcached=False) as player:
            api.create(mariadb_database("glance", "openstack"), namespace)
            api.create(mariadb_database("glance", "openstack"), other)
            db = await player.wait_ready("MariaDBDatabase", "glance", namespace)
            assert db["status"]["completed"] is True
            assert player.get_cached("MariaDBDatabase", other, "glance") is None
            assert player.get_cached("KeystoneAPI", other, "keystone") is None
            assert not (api.read("mariadb.openstack.org/v1beta1", "MariaDBDatabase", "glance", other) or {}).get(
                "status"
            )
    finally:
        control_plane.delete_namespace(other)
