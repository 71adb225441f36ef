"""Dependency player: plays the mariadb, keystone and infra operators for the glance operator.

A small level-triggered controller on the operator's runtime. For each watched namespace a
runtime Cache lists and watches MariaDBDatabase, MariaDBAccount, KeystoneAPI, KeystoneService,
KeystoneEndpoint, TransportURL, Memcached (reconciled) and Galera, RabbitMq, Secret, Service (read
only), and the player reconciles keys (kind, namespace, name) from the runtime's de-duplicating
work queue. Status is merge-patched only when it differs from what the real operator would publish:

* MariaDBDatabase: the database Service (`<dbName>`, labels `app=mariadb`, `cr=mariadb-<dbName>`)
  exists; conditions Ready / MariaDBServerReady / MariaDBDatabaseReady True; `completed`;
  `tlsSupport` (from a Galera CR named `<dbName>` if there is one, else the player's default).
* MariaDBAccount: a User account waits, like mariadb-operator, for its `mariaDBDatabaseName` label,
  for that MariaDBDatabase to be ready and for the Secret named in `spec.secret` (with
  `DatabasePassword`); the player never creates that Secret. Then MariaDBAccountReady and Ready.
* KeystoneAPI: on start one `keystone` is created per namespace that has none; every KeystoneAPI
  gets `apiEndpoints` (internal/public `http://keystone-<ep>.<ns>.svc:5000`), `region`, Ready.
* KeystoneService: waits for the (single) KeystoneAPI to be ready; `status.serviceID` (stable,
  derived from the uid); the service user needs `spec.secret[spec.passwordSelector]`.
* KeystoneEndpoint: waits for the KeystoneService named `spec.serviceName` (mirrored into
  KeystoneServiceReady); `endpointIDs`/`endpoints` per interface of `spec.endpoints` (stable IDs).
* TransportURL: Secret `rabbitmq-transport-url-<name>` (controller-owned by the TransportURL) with
  `transport_url` (`rabbit://user:pass@<cluster>.<ns>.svc:5672/?ssl=0`) and, for quorum queues,
  `quorumqueues: "true"`; `status.secretName`; TransportURLReady and Ready.
* Memcached: on start one `memcached` per namespace; `serverList`
  (`memcached-0.memcached.<ns>.svc:11211`, ...), `serverListWithInet`, `tlsSupport`, Ready.
* Topology: nothing to play. infra-operator runs no controller for it and its CRD's status is an
  object without fields (no conditions, no observedGeneration), so, as in production, a Topology is
  usable as soon as it exists; the player neither watches nor writes it. `Topology` is still a known
  kind: wait_for() reads it and hold() accepts it, but a hold changes nothing (nothing can make an
  existing Topology not ready; to test a missing one, do not create it).

`hold(kind, name=None)` keeps matching dependencies not ready (Ready False, reason `Requested`,
severity `Info`, the operator's own "in progress" message) until `release(...)`.

    async with DependencyPlayer(client, namespaces=["test"]) as deps:
        deps.hold("KeystoneEndpoint")
        ...
        await deps.wait_ready("MariaDBDatabase", "glance", "test")

CLI: `python -m glance_operator.testing.deps --kubeconfig FILE [-n NS ...] [--hold KIND[/NAME] ...]`
(see deps_cli.py). Every action is logged as one JSON line (logger `glance_operator.testing.deps`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.core_v1 import Secret, Service
from lightkube.types import PatchType

from glance_operator.runtime.cache import Cache, Informer, Relist, as_object
from glance_operator.runtime.kinds import Kind
from glance_operator.runtime.queue import WorkQueue
from glance_operator.testing import deps_status as ds
from glance_operator.testing.deps_status import (
    GALERA,
    KEYSTONE_API,
    KEYSTONE_ENDPOINT,
    KEYSTONE_SERVICE,
    KINDS,
    MARIADB_ACCOUNT,
    MARIADB_DATABASE,
    MEMCACHED,
    RABBITMQ,
    RECONCILED,
    SECRET,
    SERVICE,
    STATUSLESS,
    TRANSPORT_URL,
    WATCHED_ONLY,
    KindInfo,
    Obj,
    dig,
    false_condition,
    meta,
    spec,
    status,
    true_condition,
    unknown_condition,
    waiting_condition,
    with_ready,
)

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (kind, namespace, name)
ENSURE = "_ensure"  # pseudo kind: create the per-namespace KeystoneAPI / Memcached

FIELD_MANAGER = "glance-operator-deps"
KEYSTONE_IMAGE = "quay.io/podified-antelope-centos9/openstack-keystone:current-podified"
MEMCACHED_IMAGE = "quay.io/podified-antelope-centos9/openstack-memcached:current-podified"
MEMCACHED_PORT = 11211
MEMCACHED_TLS_PORT = 11212
RABBITMQ_PORT = 5672
RABBITMQ_TLS_PORT = 5671


def resource_class(info: KindInfo) -> Any:
    if info is SECRET:
        return Secret
    if info is SERVICE:
        return Service
    return create_namespaced_resource(info.group, info.version, info.kind, info.plural)


def to_dict(obj: Any) -> Obj:
    if isinstance(obj, dict) and not hasattr(obj, "to_dict"):
        return obj
    result: Obj = obj.to_dict()
    return result


def _kind(info: KindInfo) -> Kind:
    return Kind(info.api_version, info.kind)


def _info(kind: str | KindInfo) -> KindInfo:
    if isinstance(kind, KindInfo):
        return kind
    if kind in KINDS:
        return KINDS[kind]
    for info in (*KINDS.values(), *STATUSLESS):
        if kind.lower() in (info.kind.lower(), info.plural):
            return info
    raise ValueError(f"unknown kind {kind!r}")


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _labels(obj: Obj) -> dict[str, str]:
    labels = meta(obj).get("labels")
    return labels if isinstance(labels, dict) else {}


def _secret_data(secret: Obj | None) -> dict[str, str]:
    data = (secret or {}).get("data")
    return data if isinstance(data, dict) else {}


def parse_hold(value: str) -> tuple[str, str | None]:
    """`KIND` or `KIND/NAME` -> (canonical kind, name or None)."""
    kind, _, name = value.partition("/")
    return ds.canonical_kind(kind), (name.strip() or None)


class DependencyPlayer:
    """Plays the dependency operators in `namespaces` until stopped (see the module doc).

    client: a lightkube AsyncClient (not closed by the player).
    hold: initial holds, `"KIND"`, `"KIND/NAME"` or `(kind, name_or_None)`.
    ensure_keystone / ensure_memcached: create `keystone` / `memcached` where missing on start.
    database_tls: `tlsSupport` of MariaDBDatabases whose server has no Galera CR.
    quorum_queues: TransportURL queue type when there is no RabbitMq CR for its cluster.
    keystone_secret: `spec.secret` of the KeystoneAPI created on start.
    watch_all: one cluster-wide watch per kind (events of other namespaces ignored) instead of one per
      kind and namespace; for many namespaces (the bench), where per-namespace watches cost more than
      the filtering.
    """

    def __init__(
        self,
        client: AsyncClient,
        namespaces: Sequence[str],
        *,
        hold: Iterable[str | tuple[str, str | None]] = (),
        ensure_keystone: bool = True,
        ensure_memcached: bool = True,
        database_tls: bool = False,
        quorum_queues: bool = False,
        keystone_secret: str = "osp-secret",
        workers: int = 4,
        watch_all: bool = False,
    ) -> None:
        if not namespaces:
            raise ValueError("at least one namespace is needed")
        self.client = client
        self.namespaces = list(dict.fromkeys(namespaces))
        self.ensure_keystone = ensure_keystone
        self.ensure_memcached = ensure_memcached
        self.database_tls = database_tls
        self.quorum_queues = quorum_queues
        self.keystone_secret = keystone_secret
        self.watch_all = watch_all
        self._scopes = ["*"] if watch_all else self.namespaces
        self._namespace_set = frozenset(self.namespaces)
        self._workers = max(1, workers)
        self._holds: set[tuple[str, str | None]] = set()
        for h in hold:
            kind, name = parse_hold(h) if isinstance(h, str) else (ds.canonical_kind(h[0]), h[1])
            self._holds.add((kind, name))
        self._res: dict[str, Any] = {info.kind: resource_class(info) for info in (*KINDS.values(), *STATUSLESS)}
        self._kinds = {kind: _kind(info) for kind, info in KINDS.items()}
        # One runtime Cache (an informer per kind) per watched namespace, or one for "*" with watch_all.
        self._caches: dict[str, Cache] = {}
        self._queue: WorkQueue[Key] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._ensured: dict[str, asyncio.Event] = {}
        self._unstable: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle ---------------------------------------------------------------------------------
    async def __aenter__(self) -> DependencyPlayer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, timeout: float = 60.0) -> None:
        """Start watching and reconciling; returns once every kind was listed and the per-namespace
        KeystoneAPI / Memcached exist (raises TimeoutError otherwise)."""
        if self._tasks:
            raise RuntimeError("already started")
        self._loop = asyncio.get_running_loop()
        self._queue = WorkQueue(base_delay=0.2, max_delay=10.0)  # retries after 0.2s, 0.4s, ... 10s
        self._unstable.clear()
        self._ensured = {ns: asyncio.Event() for ns in self.namespaces}
        self._log("start", namespaces=self.namespaces, holds=self._hold_list())
        self._caches = {scope: self._new_cache(scope) for scope in self._scopes}
        for cache in self._caches.values():
            cache.start()
        for i in range(self._workers):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"deps worker {i}"))
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(cache.wait_synced() for cache in self._caches.values()))
                for ns in self.namespaces:
                    self._queue.add((ENSURE, ns, ""))
                await asyncio.gather(*(e.wait() for e in self._ensured.values()))
        except TimeoutError:
            pending = [
                f"{informer.kind.kind}/{scope}"
                for scope, cache in self._caches.items()
                for informer in cache.informers.values()
                if not informer.synced.is_set()
            ]
            await self.stop()
            raise TimeoutError(
                f"dependency player not ready after {timeout}s (not listed: {pending or 'none'};"
                f" per-namespace KeystoneAPI/Memcached not created: "
                f"{[ns for ns, e in self._ensured.items() if not e.is_set()]})"
            ) from None
        self._log("ready")

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for cache in self._caches.values():
            await cache.stop()
        if self._queue is not None:
            self._queue.shutdown()
        if tasks:
            self._log("stop")

    async def run(self) -> None:
        """start(), then play until cancelled."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # --- holds -------------------------------------------------------------------------------------
    def hold(self, kind: str, name: str | None = None) -> None:
        """Keep `kind` (every object, or only `name`) not ready until released."""
        k = ds.canonical_kind(kind)
        self._holds.add((k, name))
        no_effect = "none: no status to hold back" if k in {i.kind for i in STATUSLESS} else None
        self._log("hold", kind=k, name=name, effect=no_effect)
        self._requeue_all()

    def release(self, kind: str, name: str | None = None) -> None:
        """Undo hold(kind, name); release(kind) drops every hold of that kind."""
        k = ds.canonical_kind(kind)
        if name is None:
            self._holds = {h for h in self._holds if h[0] != k}
        else:
            self._holds.discard((k, name))
        self._log("release", kind=k, name=name)
        self._requeue_all()

    def is_held(self, kind: str, name: str) -> bool:
        return (kind, None) in self._holds or (kind, name) in self._holds

    def _hold_list(self) -> list[str]:
        return sorted(k if n is None else f"{k}/{n}" for k, n in self._holds)

    def _requeue_all(self) -> None:
        if self._loop is None or self._queue is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._enqueue_everything()
        else:  # called from another thread
            self._loop.call_soon_threadsafe(self._enqueue_everything)

    def _enqueue_everything(self) -> None:
        for info in RECONCILED:
            for cache in list(self._caches.values()):
                for obj in cache.list(self._kinds[info.kind]):
                    self._add((info.kind, meta(obj).get("namespace", ""), meta(obj).get("name", "")))

    # --- waiting (tests) ---------------------------------------------------------------------------
    async def wait_for(
        self,
        kind: str | KindInfo,
        name: str,
        namespace: str | None = None,
        predicate: Callable[[Obj], bool] | None = None,
        *,
        timeout: float = 30.0,
        interval: float = 0.1,
    ) -> Obj:
        """Poll the apiserver until the object exists (and `predicate(obj)` holds); return it."""
        info = _info(kind)
        ns = namespace or self.namespaces[0]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: Obj | None = None
        while True:
            try:
                last = to_dict(await self.client.get(self._res[info.kind], name, namespace=ns))
            except ApiError as e:
                if e.status.code != 404:
                    raise
                last = None
            if last is not None and (predicate is None or predicate(last)):
                return last
            if loop.time() >= deadline:
                seen = "absent" if last is None else json.dumps(last.get("status", last.get("data")), default=str)
                raise TimeoutError(f"{info.kind} {ns}/{name}: condition not met after {timeout}s; last seen: {seen}")
            await asyncio.sleep(interval)  # poll

    async def wait_ready(self, kind: str | KindInfo, name: str, namespace: str | None = None, **kw: Any) -> Obj:
        return await self.wait_for(kind, name, namespace, ds.is_ready, **kw)

    # --- cache (runtime informers) -----------------------------------------------------------------
    def get_cached(self, kind: str, namespace: str, name: str) -> Obj | None:
        cache = self._cache_of(namespace)
        return cache.get(self._kinds[kind], namespace, name) if cache is not None else None

    def _cache_of(self, namespace: str) -> Cache | None:
        return self._caches.get("*" if self.watch_all else namespace)

    def _list(self, kind: str, namespace: str) -> list[Obj]:
        cache = self._cache_of(namespace)
        return cache.list(self._kinds[kind], namespace) if cache is not None else []

    def _new_cache(self, scope: str) -> Cache:
        """Informers of every played kind in `scope` (a namespace, or "*": all, keeping only ours)."""
        cache = Cache(self.client, None if scope == "*" else scope)
        select = self._mine if scope == "*" else None
        for info in RECONCILED + WATCHED_ONLY:
            informer = cache.informer(_kind(info), select=select, res=self._res[info.kind])
            informer.handlers.append(self._on_event)
            informer.on_relist[:] = [self._on_relist]
        return cache

    def _mine(self, obj: Obj) -> bool:
        return meta(obj).get("namespace", "") in self._namespace_set

    def _on_event(self, kind: Kind, old: Obj | None, new: Obj | None) -> None:
        obj = new if new is not None else old
        if obj is not None:
            for key in self._affected(kind.kind, obj):
                self._add(key)

    def _on_relist(self, informer: Informer, relist: Relist) -> None:
        kind, ns = informer.kind.kind, informer.namespace or "*"
        if relist.error:
            self._log(
                "watch-error", level=logging.WARNING, kind=kind, namespace=ns, error=relist.reason,
                retry_in=relist.delay,
            )  # fmt: skip
        else:
            self._log("relist", kind=kind, namespace=ns, reason=relist.reason)

    def _observe(self, info: KindInfo, item: Any) -> Obj:
        """Put the response of one of our writes into the cache (unless it holds something newer)."""
        obj = as_object(item, _kind(info))
        cache = self._cache_of(meta(obj).get("namespace", ""))
        if cache is not None:
            cache.informer(_kind(info)).observe(obj)
        return obj

    def _add(self, key: Key) -> None:
        if self._queue is not None:
            self._queue.add(key)

    def _affected(self, kind: str, obj: Obj) -> list[Key]:
        """Keys to reconcile when `obj` (of `kind`) appears, changes or goes away."""
        m = meta(obj)
        ns, name = m.get("namespace", ""), m.get("name", "")
        keys: list[Key] = []
        if kind in {k.kind for k in RECONCILED}:
            keys.append((kind, ns, name))

        def each(of: KindInfo, match: Callable[[Obj], bool]) -> None:
            keys.extend((of.kind, ns, meta(o).get("name", "")) for o in self._list(of.kind, ns) if match(o))

        if kind == MARIADB_DATABASE.kind:
            each(MARIADB_ACCOUNT, lambda a: _labels(a).get("mariaDBDatabaseName") == name)
        elif kind == GALERA.kind:
            each(MARIADB_DATABASE, lambda d: _labels(d).get("dbName") == name)
        elif kind == SERVICE.kind:
            cr = _labels(obj).get("cr", "")
            if _labels(obj).get("app") == "mariadb":
                each(MARIADB_DATABASE, lambda d: f"mariadb-{_labels(d).get('dbName')}" == cr)
        elif kind == SECRET.kind:
            each(MARIADB_ACCOUNT, lambda a: spec(a).get("secret") == name)
            each(KEYSTONE_SERVICE, lambda s: spec(s).get("secret") == name)
            each(TRANSPORT_URL, lambda t: f"rabbitmq-transport-url-{meta(t).get('name')}" == name)
            each(MEMCACHED, lambda mc: name in _memcached_secrets(mc))
        elif kind == KEYSTONE_API.kind:
            each(KEYSTONE_SERVICE, lambda _: True)
            each(KEYSTONE_ENDPOINT, lambda _: True)
        elif kind == KEYSTONE_SERVICE.kind:
            each(KEYSTONE_ENDPOINT, lambda e: spec(e).get("serviceName") == name)
        elif kind == RABBITMQ.kind:
            each(TRANSPORT_URL, lambda t: spec(t).get("rabbitmqClusterName") == name)
        return keys

    # --- workers -----------------------------------------------------------------------------------
    async def _worker(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while (key := await queue.get()) is not None:
            try:
                await self._reconcile(key)
                queue.forget(key)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                delay = queue.add_rate_limited(key)
                kind, ns, name = key
                self._log(
                    "error", level=logging.WARNING, kind=kind, namespace=ns, name=name,
                    error=_error_text(e), retry_in=delay,
                )  # fmt: skip
            finally:
                queue.done(key)

    async def _reconcile(self, key: Key) -> None:
        kind, ns, name = key
        if kind == ENSURE:
            await self._ensure_singletons(ns)
            self._ensured[ns].set()
            return
        obj = self.get_cached(kind, ns, name)
        if obj is None or meta(obj).get("deletionTimestamp"):
            return  # gone, or going: the player puts no finalizers anywhere
        handler = {
            MARIADB_DATABASE.kind: self._reconcile_database,
            MARIADB_ACCOUNT.kind: self._reconcile_account,
            KEYSTONE_API.kind: self._reconcile_keystone_api,
            KEYSTONE_SERVICE.kind: self._reconcile_keystone_service,
            KEYSTONE_ENDPOINT.kind: self._reconcile_keystone_endpoint,
            TRANSPORT_URL.kind: self._reconcile_transport_url,
            MEMCACHED.kind: self._reconcile_memcached,
        }[kind]
        await handler(obj)

    # --- writes ------------------------------------------------------------------------------------
    async def _create(self, info: KindInfo, body: Obj) -> Obj | None:
        ns = meta(body)["namespace"]
        try:
            created = self._observe(info, await self.client.create(self._res[info.kind].from_dict(body)))
        except ApiError as e:
            if e.status.code == 409:  # created meanwhile (e.g. by a parallel start); the watch brings it
                return None
            raise
        self._log("create", kind=info.kind, namespace=ns, name=meta(body)["name"])
        return created

    async def _patch(self, info: KindInfo, obj: Obj, patch: Obj, what: str) -> None:
        m = meta(obj)
        result = await self.client.patch(
            self._res[info.kind], m["name"], patch, namespace=m["namespace"], patch_type=PatchType.MERGE
        )
        self._observe(info, result)
        self._log("patch", kind=info.kind, namespace=m["namespace"], name=m["name"], fields=what)

    async def _apply_status(self, info: KindInfo, obj: Obj, desired: Obj) -> None:
        """Merge-patch the status fields in `desired` (None = remove) if they differ."""
        m = meta(obj)
        current = status(obj)
        desired = dict(desired)
        if "conditions" in desired:
            desired["conditions"] = ds.merge_conditions(current.get("conditions"), desired["conditions"])
        patch = ds.merge_patch_diff(current, desired, partial=True)
        if not patch:
            return
        fingerprint = json.dumps([m.get("uid"), patch], sort_keys=True, default=str)
        if fingerprint in self._unstable:
            return  # the apiserver did not keep this very patch last time: do not loop on it
        result = self._observe(
            info,
            await self.client.patch(
                self._res[info.kind].Status,
                m["name"],
                {"status": patch},
                namespace=m["namespace"],
                patch_type=PatchType.MERGE,
            ),
        )
        ready = next((c for c in desired.get("conditions", []) if c["type"] == ds.READY), None)
        summary = {k: ready[k] for k in ("status", "reason", "message")} if ready else {}
        self._log(
            "status", kind=info.kind, namespace=m["namespace"], name=m["name"], fields=sorted(patch),
            ready=summary.get("status"), reason=summary.get("reason"), message=summary.get("message"),
        )  # fmt: skip
        left = ds.merge_patch_diff(status(result), {k: v for k, v in desired.items() if k in patch}, partial=True)
        if left:
            self._unstable.add(fingerprint)
            self._log(
                "status-not-kept", level=logging.WARNING, kind=info.kind, namespace=m["namespace"],
                name=m["name"], fields=sorted(left),
            )  # fmt: skip

    # --- per-namespace singletons ------------------------------------------------------------------
    async def _ensure_singletons(self, ns: str) -> None:
        if self.ensure_keystone and not self._list(KEYSTONE_API.kind, ns):
            await self._create(
                KEYSTONE_API,
                {
                    "apiVersion": KEYSTONE_API.api_version,
                    "kind": KEYSTONE_API.kind,
                    "metadata": {"name": "keystone", "namespace": ns},
                    "spec": {
                        "containerImage": KEYSTONE_IMAGE,
                        "databaseInstance": "openstack",
                        "memcachedInstance": "memcached",
                        "secret": self.keystone_secret,
                    },
                },
            )
        if self.ensure_memcached and self.get_cached(MEMCACHED.kind, ns, "memcached") is None:
            await self._create(
                MEMCACHED,
                {
                    "apiVersion": MEMCACHED.api_version,
                    "kind": MEMCACHED.kind,
                    "metadata": {"name": "memcached", "namespace": ns},
                    "spec": {"containerImage": MEMCACHED_IMAGE, "replicas": 1},
                },
            )

    # --- mariadb-operator --------------------------------------------------------------------------
    async def _reconcile_database(self, obj: Obj) -> None:
        ns, name = meta(obj)["namespace"], meta(obj)["name"]
        db_name = _labels(obj).get("dbName") or ""
        db_init = unknown_condition(ds.MARIADB_DATABASE_READY, ds.REASON_INIT, ds.MSG_DATABASE_INIT)
        if not db_name:
            message = ds.MSG_GALERA_ERROR % f"(MariaDBDatabase {name} has no dbName label)"
            server = false_condition(ds.MARIADB_SERVER_READY, ds.REASON_ERROR, ds.SEVERITY_ERROR, message)
            await self._apply_status(MARIADB_DATABASE, obj, {"conditions": with_ready([server, db_init])})
            return
        if self.is_held(GALERA.kind, db_name):
            server = false_condition(
                ds.MARIADB_SERVER_READY,
                ds.REASON_DB_WAITING,
                ds.SEVERITY_INFO,
                ds.MSG_SERVER_NOT_BOOTSTRAPPED,
            )
            await self._apply_status(MARIADB_DATABASE, obj, {"conditions": with_ready([server, db_init])})
            return
        await self._ensure_database_service(ns, db_name)
        server = true_condition(ds.MARIADB_SERVER_READY, ds.MSG_SERVER_READY)
        if self.is_held(MARIADB_DATABASE.kind, name):
            waiting = waiting_condition(ds.MARIADB_DATABASE_READY, ds.MSG_DATABASE_INIT)
            await self._apply_status(MARIADB_DATABASE, obj, {"conditions": with_ready([server, waiting])})
            return
        galera = self.get_cached(GALERA.kind, ns, db_name)
        tls = bool(dig(galera, "spec", "tls", "secretName")) if galera is not None else self.database_tls
        sub = [server, true_condition(ds.MARIADB_DATABASE_READY, ds.MSG_DATABASE_READY)]
        await self._apply_status(
            MARIADB_DATABASE, obj, {"conditions": with_ready(sub), "completed": True, "tlsSupport": tls}
        )

    async def _ensure_database_service(self, ns: str, db_name: str) -> None:
        """The Service Galera would have: `<dbName>`, labels app=mariadb, cr=mariadb-<dbName>."""
        labels = {"app": "mariadb", "cr": f"mariadb-{db_name}", "owner": "mariadb-operator"}
        svc = self.get_cached(SERVICE.kind, ns, db_name)
        if svc is None:
            await self._create(
                SERVICE,
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": db_name, "namespace": ns, "labels": labels},
                    "spec": {
                        "type": "ClusterIP",
                        "ports": [{"name": "database", "port": 3306, "protocol": "TCP", "targetPort": 3306}],
                        "selector": {"app": "galera", "cr": f"galera-{db_name}"},
                    },
                },
            )
        elif any(_labels(svc).get(k) != v for k, v in labels.items()):
            await self._patch(SERVICE, svc, {"metadata": {"labels": labels}}, "metadata.labels")

    async def _reconcile_account(self, obj: Obj) -> None:
        ns, name = meta(obj)["namespace"], meta(obj)["name"]
        sp = spec(obj)
        server_init = unknown_condition(ds.MARIADB_SERVER_READY, ds.REASON_INIT, ds.MSG_SERVER_INIT)
        account_init = unknown_condition(ds.MARIADB_ACCOUNT_READY, ds.REASON_INIT, ds.MSG_ACCOUNT_INIT)
        sub: list[Obj] = []

        async def done(*more: Obj, **fields: Any) -> None:
            await self._apply_status(MARIADB_ACCOUNT, obj, {"conditions": with_ready([*sub, *more]), **fields})

        if sp.get("accountType") != "System":
            db_name = _labels(obj).get("mariaDBDatabaseName")
            if not db_name:  # mariadb-operator: "create won't proceed" until the label is set
                sub.append(unknown_condition(ds.MARIADB_DATABASE_READY, ds.REASON_INIT, ds.MSG_DATABASE_INIT))
                await done(server_init, account_init)
                return
            db = self.get_cached(MARIADB_DATABASE.kind, ns, db_name)
            if db is None:
                sub.append(
                    false_condition(
                        ds.MARIADB_DATABASE_READY,
                        ds.REASON_DB_NOT_FOUND,
                        ds.SEVERITY_WARNING,
                        ds.MSG_DATABASE_INIT,
                    )
                )
                await done(server_init, account_init)
                return
            if not ds.is_ready(db):
                sub.append(
                    false_condition(
                        ds.MARIADB_DATABASE_READY,
                        ds.REASON_DB_WAITING,
                        ds.SEVERITY_INFO,
                        ds.MSG_DATABASE_INIT,
                    )
                )
                await done(server_init, account_init)
                return
            sub.append(true_condition(ds.MARIADB_DATABASE_READY, ds.MSG_DATABASE_READY))
        sub.append(true_condition(ds.MARIADB_SERVER_READY, ds.MSG_SERVER_READY))
        secret_name = str(sp.get("secret") or "")
        secret = self.get_cached(SECRET.kind, ns, secret_name) if secret_name else None
        if secret is None:
            missing = ds.MSG_ACCOUNT_SECRET % f'secrets "{secret_name}" not found'
            await done(
                false_condition(ds.MARIADB_ACCOUNT_READY, ds.REASON_SECRET_MISSING, ds.SEVERITY_WARNING, missing)
            )
            return
        if ds.DATABASE_PASSWORD not in _secret_data(secret):
            incomplete = ds.MSG_ACCOUNT_SECRET % f"field {ds.DATABASE_PASSWORD} not found in Secret {secret_name}"
            await done(false_condition(ds.MARIADB_ACCOUNT_READY, ds.REASON_ERROR, ds.SEVERITY_WARNING, incomplete))
            return
        if self.is_held(MARIADB_ACCOUNT.kind, name):
            await done(waiting_condition(ds.MARIADB_ACCOUNT_READY, ds.MSG_ACCOUNT_INIT))
            return
        await done(true_condition(ds.MARIADB_ACCOUNT_READY, ds.MSG_ACCOUNT_READY), currentSecret=secret_name)

    # --- keystone-operator -------------------------------------------------------------------------
    def _keystone_api_condition(self, ns: str) -> Obj:
        """KeystoneAPIReady as a KeystoneService/KeystoneEndpoint sees it (exactly one, ready)."""
        apis = self._list(KEYSTONE_API.kind, ns)
        if not apis:
            return false_condition(
                ds.KEYSTONE_API_READY, ds.REASON_ERROR, ds.SEVERITY_WARNING, ds.MSG_KEYSTONE_API_NOT_FOUND
            )
        if len(apis) > 1:
            message = ds.MSG_KEYSTONE_API_ERROR % f"more than one KeystoneAPI object found in namespace {ns}"
            return false_condition(ds.KEYSTONE_API_READY, ds.REASON_ERROR, ds.SEVERITY_WARNING, message)
        if not ds.is_ready(apis[0]):
            return waiting_condition(ds.KEYSTONE_API_READY, ds.MSG_KEYSTONE_API_WAITING)
        return true_condition(ds.KEYSTONE_API_READY, ds.MSG_KEYSTONE_API_READY)

    async def _reconcile_keystone_api(self, obj: Obj) -> None:
        ns, name = meta(obj)["namespace"], meta(obj)["name"]
        sp = spec(obj)
        endpoints: dict[str, str] = {}
        for endpoint in ("internal", "public"):
            url = dig(sp, "override", "service", endpoint, "endpointURL")
            if not url:
                scheme = "https" if dig(sp, "tls", "api", endpoint, "secretName") else "http"
                url = f"{scheme}://keystone-{endpoint}.{ns}.svc:5000"
            endpoints[endpoint] = str(url)
        sub = [true_condition(t, msg) for t, msg in ds.COMMON_SERVICE_CONDITIONS]
        sub += [
            true_condition("DBReady", "DB create completed"),
            true_condition("DBSyncReady", "DBsync completed"),
            true_condition("InputReady", ds.MSG_INPUT_READY),
            true_condition("MemcachedReady", "Memcached instance has been provisioned"),
        ]
        held = self.is_held(KEYSTONE_API.kind, name)
        if held:
            sub.append(waiting_condition("DeploymentReady", ds.MSG_DEPLOYMENT_RUNNING))
        else:
            sub.append(true_condition("DeploymentReady", ds.MSG_DEPLOYMENT_READY))
        replicas = sp.get("replicas")
        await self._apply_status(
            KEYSTONE_API,
            obj,
            {
                "conditions": with_ready(sub),
                "apiEndpoints": endpoints,
                "region": str(sp.get("region") or "regionOne"),
                "databaseHostname": f"{sp.get('databaseInstance') or 'openstack'}.{ns}.svc",
                "readyCount": 0 if held else (replicas if isinstance(replicas, int) else 1),
                "observedGeneration": meta(obj).get("generation"),
            },
        )

    async def _reconcile_keystone_service(self, obj: Obj) -> None:
        ns, name = meta(obj)["namespace"], meta(obj)["name"]
        sp = spec(obj)
        api = self._keystone_api_condition(ns)
        user_init = unknown_condition(
            ds.OS_USER_READY, ds.REASON_INIT, "Keystone Service user registration not started"
        )
        service_init = unknown_condition(ds.OS_SERVICE_READY, ds.REASON_INIT, ds.MSG_OS_SERVICE_INIT)
        if api["status"] != "True":
            admin = unknown_condition(ds.ADMIN_CLIENT_READY, ds.REASON_INIT, "Admin client not started")
            await self._apply_status(
                KEYSTONE_SERVICE, obj, {"conditions": with_ready([api, admin, service_init, user_init])}
            )
            return
        sub = [api, true_condition(ds.ADMIN_CLIENT_READY, ds.MSG_ADMIN_CLIENT_READY)]
        if self.is_held(KEYSTONE_SERVICE.kind, name):
            sub += [waiting_condition(ds.OS_SERVICE_READY, ds.MSG_OS_SERVICE_INIT), user_init]
            await self._apply_status(KEYSTONE_SERVICE, obj, {"conditions": with_ready(sub)})
            return
        service_id = str(status(obj).get("serviceID") or ds.stable_id("keystoneservice", meta(obj).get("uid", "")))
        sub.append(true_condition(ds.OS_SERVICE_READY, ds.MSG_OS_SERVICE_READY % (sp.get("serviceName"), service_id)))
        secret_name, selector = str(sp.get("secret") or ""), str(sp.get("passwordSelector") or "")
        secret = self.get_cached(SECRET.kind, ns, secret_name) if secret_name else None
        if secret is None:
            sub.append(waiting_condition(ds.OS_USER_READY, ds.MSG_OS_USER_WAITING))
        elif selector not in _secret_data(secret):
            message = ds.MSG_OS_USER_ERROR % f"field {selector} not found in Secret {secret_name}"
            sub.append(false_condition(ds.OS_USER_READY, ds.REASON_ERROR, ds.SEVERITY_WARNING, message))
        else:
            sub.append(true_condition(ds.OS_USER_READY, ds.MSG_OS_USER_READY % sp.get("serviceUser")))
        await self._apply_status(KEYSTONE_SERVICE, obj, {"conditions": with_ready(sub), "serviceID": service_id})

    async def _reconcile_keystone_endpoint(self, obj: Obj) -> None:
        ns, name = meta(obj)["namespace"], meta(obj)["name"]
        sp = spec(obj)
        generation = meta(obj).get("generation")
        api = self._keystone_api_condition(ns)
        endpoints_init = unknown_condition(ds.OS_ENDPOINTS_READY, ds.REASON_INIT, ds.MSG_OS_ENDPOINTS_INIT)
        service_init = unknown_condition(ds.KEYSTONE_SERVICE_READY, ds.REASON_INIT, "")
        sub: list[Obj] = [api]

        async def done(*more: Obj, **fields: Any) -> None:
            desired = {"conditions": with_ready([*sub, *more]), "observedGeneration": generation, **fields}
            await self._apply_status(KEYSTONE_ENDPOINT, obj, desired)

        if api["status"] != "True":
            admin = unknown_condition(ds.ADMIN_CLIENT_READY, ds.REASON_INIT, "Admin client not started")
            await done(admin, endpoints_init, service_init)
            return
        sub.append(true_condition(ds.ADMIN_CLIENT_READY, ds.MSG_ADMIN_CLIENT_READY))
        service = self.get_cached(KEYSTONE_SERVICE.kind, ns, str(sp.get("serviceName") or ""))
        if service is None:
            await done(endpoints_init, service_init)
            return
        service_conditions = status(service).get("conditions") or []
        sub.append(ds.mirror(service_conditions, ds.KEYSTONE_SERVICE_READY) if service_conditions else service_init)
        if not ds.is_ready(service):
            await done(endpoints_init)
            return
        service_id = status(service).get("serviceID")
        if self.is_held(KEYSTONE_ENDPOINT.kind, name):
            await done(waiting_condition(ds.OS_ENDPOINTS_READY, ds.MSG_OS_ENDPOINTS_INIT), serviceID=service_id)
            return
        raw = sp.get("endpoints")
        wanted: dict[str, str] = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        unknown = sorted(i for i in wanted if i not in ds.ENDPOINT_INTERFACES)
        if unknown:
            message = ds.MSG_OS_ENDPOINTS_ERROR % f"invalid interface: {unknown[0]}"
            await done(false_condition(ds.OS_ENDPOINTS_READY, ds.REASON_ERROR, ds.SEVERITY_WARNING, message))
            return
        uid = str(meta(obj).get("uid", ""))
        ids = {iface: ds.stable_id("keystoneendpoint", uid, iface) for iface in wanted}
        await done(
            true_condition(ds.OS_ENDPOINTS_READY, ds.MSG_OS_ENDPOINTS_READY % ds.go_map(wanted)),
            serviceID=service_id,
            endpointIDs=ids,
            endpoints=[{"id": ids[i], "interface": i, "url": wanted[i]} for i in sorted(wanted)],
        )

    # --- infra-operator ----------------------------------------------------------------------------
    async def _reconcile_transport_url(self, obj: Obj) -> None:
        ns, name = meta(obj)["namespace"], meta(obj)["name"]
        sp = spec(obj)
        generation = meta(obj).get("generation")
        if self.is_held(TRANSPORT_URL.kind, name):
            waiting = waiting_condition(ds.TRANSPORT_URL_READY, ds.MSG_TRANSPORT_URL_IN_PROGRESS)
            await self._apply_status(
                TRANSPORT_URL, obj, {"conditions": with_ready([waiting]), "observedGeneration": generation}
            )
            return
        cluster = str(sp.get("rabbitmqClusterName") or "rabbitmq")
        rabbit = self.get_cached(RABBITMQ.kind, ns, cluster)
        rabbit_spec, rabbit_status = (spec(rabbit), status(rabbit)) if rabbit else ({}, {})
        tls = bool(dig(rabbit_spec, "tls", "secretName"))
        if rabbit_spec.get("queueType"):
            quorum = rabbit_spec["queueType"] == "Quorum"
        elif rabbit_status.get("queueType"):
            quorum = rabbit_status["queueType"] == "Quorum"
        else:
            quorum = self.quorum_queues
        hosts = rabbit_status.get("serviceHostnames") or [f"{cluster}.{ns}.svc"]
        username = str(sp.get("username") or "default_user")
        password = ds.stable_password("transporturl", ns, cluster, username)
        vhost = str(sp.get("vhost") or "/")
        path = vhost if vhost.startswith("/") else "/" + vhost
        port = RABBITMQ_TLS_PORT if tls else RABBITMQ_PORT
        user = f"{urllib.parse.quote_plus(username)}:{urllib.parse.quote_plus(password)}"
        url = "rabbit://" + ",".join(f"{user}@{h}:{port}" for h in hosts) + path + ("?ssl=1" if tls else "?ssl=0")
        data = {"transport_url": _b64(url)}
        if quorum:
            data["quorumqueues"] = _b64("true")
        secret_name = f"rabbitmq-transport-url-{name}"
        await self._ensure_owned_secret(obj, ns, secret_name, data)
        ready = true_condition(ds.TRANSPORT_URL_READY, ds.MSG_TRANSPORT_URL_READY)
        await self._apply_status(
            TRANSPORT_URL,
            obj,
            {
                "conditions": with_ready([ready]),
                "observedGeneration": generation,
                "secretName": secret_name,
                "rabbitmqClusterName": cluster,
                "rabbitmqUsername": username,
                "rabbitmqVhost": vhost,
                "queueType": rabbit_status.get("queueType") or None,
            },
        )

    async def _ensure_owned_secret(self, owner: Obj, ns: str, name: str, data: dict[str, str]) -> None:
        om = meta(owner)
        ref = {
            "apiVersion": owner.get("apiVersion") or TRANSPORT_URL.api_version,
            "kind": owner.get("kind") or TRANSPORT_URL.kind,
            "name": om["name"],
            "uid": om["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        secret = self.get_cached(SECRET.kind, ns, name)
        if secret is None:
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": ns, "ownerReferences": [ref]},
                "type": "Opaque",
                "data": data,
            }
            await self._create(SECRET, body)
            return
        patch: Obj = {}
        fields: list[str] = []
        current = _secret_data(secret)
        if current != data:
            patch["data"] = ds.merge_patch_diff(current, data)
            fields.append("data")
        refs = [r for r in meta(secret).get("ownerReferences") or [] if isinstance(r, dict)]
        if not any(r.get("uid") == om["uid"] for r in refs):
            if any(r.get("controller") for r in refs):
                ref["controller"] = False
            patch["metadata"] = {"ownerReferences": [*refs, ref]}
            fields.append("metadata.ownerReferences")
        if patch:
            await self._patch(SECRET, secret, patch, ",".join(fields))

    async def _reconcile_memcached(self, obj: Obj) -> None:
        ns, name = meta(obj)["namespace"], meta(obj)["name"]
        sp = spec(obj)
        tls: Obj = sp["tls"] if isinstance(sp.get("tls"), dict) else {}
        generation = meta(obj).get("generation")
        sub = [true_condition(t, msg) for t, msg in ds.COMMON_SERVICE_CONDITIONS]
        fields: Obj = {"observedGeneration": generation}

        problem = self._memcached_tls_problem(ns, tls)
        if problem is not None:
            sub += [problem, unknown_condition("DeploymentReady", ds.REASON_INIT, "Deployment not started")]
            await self._apply_status(MEMCACHED, obj, {"conditions": with_ready(sub), **fields})
            return
        sub.append(true_condition("TLSInputReady", ds.MSG_INPUT_READY))
        if dig(tls, "mtls", "sslVerifyMode") in ("Request", "Require"):
            auth = dig(tls, "mtls", "authCertSecret", "secretName")
            if not auth or self.get_cached(SECRET.kind, ns, str(auth)) is None:
                sub.append(waiting_condition("MTLSInputReady", ds.MSG_TLS_INPUT_MISSING % (auth or "authCertSecret")))
                await self._apply_status(MEMCACHED, obj, {"conditions": with_ready(sub), **fields})
                return
            sub.append(true_condition("MTLSInputReady", ds.MSG_INPUT_READY))
            fields["mtlsCert"] = str(auth)
        else:
            fields["mtlsCert"] = None
        tls_enabled = bool(tls.get("secretName"))
        port = MEMCACHED_TLS_PORT if tls_enabled else MEMCACHED_PORT
        replicas: int = sp["replicas"] if isinstance(sp.get("replicas"), int) else 1
        hosts = [f"{name}-{i}.{name}.{ns}.svc" for i in range(replicas)]
        held = self.is_held(MEMCACHED.kind, name)
        if held:
            sub.append(waiting_condition("DeploymentReady", ds.MSG_DEPLOYMENT_RUNNING))
        else:
            sub.append(true_condition("DeploymentReady", ds.MSG_DEPLOYMENT_READY))
        fields.update(
            serverList=[f"{h}:{port}" for h in hosts],
            serverListWithInet=[f"inet:{h}:{MEMCACHED_PORT}" for h in hosts],
            tlsSupport=tls_enabled,
            readyCount=0 if held else replicas,
        )
        await self._apply_status(MEMCACHED, obj, {"conditions": with_ready(sub), **fields})

    def _memcached_tls_problem(self, ns: str, tls: Obj) -> Obj | None:
        ca = tls.get("caBundleSecretName")
        if ca and "tls-ca-bundle.pem" not in _secret_data(self.get_cached(SECRET.kind, ns, str(ca))):
            return false_condition("TLSInputReady", ds.REASON_ERROR, ds.SEVERITY_WARNING, ds.MSG_TLS_INPUT_MISSING % ca)
        cert = tls.get("secretName")
        if cert:
            data = _secret_data(self.get_cached(SECRET.kind, ns, str(cert)))
            if "tls.crt" not in data or "tls.key" not in data:
                return waiting_condition("TLSInputReady", ds.MSG_TLS_INPUT_MISSING % f'secrets "{cert}" not found')
        return None

    # --- logging -----------------------------------------------------------------------------------
    def _log(self, action: str, level: int = logging.INFO, **fields: Any) -> None:
        record = {"time": ds.now_rfc3339(), "component": "deps", "action": action}
        record.update({k: v for k, v in fields.items() if v is not None})
        log.log(level, json.dumps(record, default=str))


def _memcached_secrets(obj: Obj) -> set[str]:
    tls = dig(obj, "spec", "tls") or {}
    names = {
        tls.get("caBundleSecretName"),
        tls.get("secretName"),
        dig(tls, "mtls", "authCertSecret", "secretName"),
    }
    return {str(n) for n in names if n}


def _error_text(e: BaseException) -> str:
    if isinstance(e, ApiError):
        return f"{e.status.code} {e.status.reason}: {e.status.message}"
    return f"{type(e).__name__}: {e}"


@contextlib.asynccontextmanager
async def dependency_player(
    client: AsyncClient, namespaces: Sequence[str], **kw: Any
) -> AsyncIterator[DependencyPlayer]:
    """`async with dependency_player(client, [ns]) as deps:` (same as DependencyPlayer(...))."""
    async with DependencyPlayer(client, namespaces, **kw) as player:
        yield player


if __name__ == "__main__":
    import sys

    from glance_operator.testing.deps_cli import main

    sys.exit(main())
