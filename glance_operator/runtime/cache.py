"""List+watch caches (informers): one per kind, shared by every controller that reads the kind.

An informer lists, then watches from the list's resourceVersion. When the watch breaks it resumes
from the last seen version; when the version is gone (410) or the apiserver is unreachable it lists
again, emitting the differences as events, so nothing is missed across restarts. Writes we make
are put into the store at once (`observe`) so that the next reconcile does not act on stale data.
Each time an informer is about to list again it tells its `on_relist` listeners why (by default: a log line).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from lightkube import ApiError, AsyncClient

from .kinds import Kind, namespaced, resource

log = logging.getLogger(__name__)

Obj = dict[str, Any]
ObjKey = tuple[str, str]  # (namespace, name)
Handler = Callable[[Kind, Obj | None, Obj | None], None]  # kind, old, new
Transform = Callable[[Obj], Obj]  # what of an object the cache keeps (controller-runtime's TransformFunc)
Select = Callable[[Obj], bool]  # which objects the cache keeps at all (like a selector evaluated client-side)


@dataclass(frozen=True)
class Relist:
    """Why an informer is about to list again, told to its `on_relist` listeners."""

    reason: str  # "410 Expired: too old resource version: ...", "ConnectError: ...", "watch ended"
    error: bool  # a failure, as opposed to a routine restart (an expired or ended watch)
    delay: float  # seconds until the list
    message: str = ""  # the informer's own log line about it ("": nothing worth logging)
    level: int = logging.INFO


def log_relist(informer: Informer, relist: Relist) -> None:
    """The default `on_relist` listener: the informer's log line."""
    if relist.message:
        log.log(relist.level, relist.message)


def metadata_only(obj: Obj) -> Obj:
    """For kinds read only for their labels and annotations (pods: network status, owner)."""
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": obj.get("metadata", {})}


def without_pod_template(obj: Obj) -> Obj:
    """For Jobs, read for their annotations and status; the pod template is most of their size. Never pass
    such an object to `Writer.ensure` (it would always differ): jobs are only ever created or deleted."""
    spec = {k: v for k, v in (obj.get("spec") or {}).items() if k != "template"}
    return {**obj, "spec": spec}


def obj_key(obj: Obj) -> ObjKey:
    meta = obj.get("metadata", {})
    return meta.get("namespace", "") or "", meta["name"]


def _rv(obj: Obj) -> int:
    try:
        return int(obj.get("metadata", {}).get("resourceVersion", "0"))
    except ValueError:
        return 0


class Informer:
    def __init__(
        self,
        client: AsyncClient,
        kind: Kind,
        namespace: str | None = None,
        labels: dict[str, Any] | None = None,
        min_backoff: float = 0.2,
        max_backoff: float = 10.0,
        transform: Transform | None = None,
        select: Select | None = None,
        res: Any = None,
    ) -> None:
        """`select`: objects for which it is false are not cached (an object that stops matching leaves the
        store as if deleted). `res`: the lightkube resource class, for a kind that `kinds` does not list."""
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.labels = labels
        self.transform = transform
        self.select = select
        self._res = res
        self.store: dict[ObjKey, Obj] = {}
        # What the store has seen deleted (by resourceVersion), so that the response of a write that
        # raced with the deletion does not bring the object back; below `_floor`, the last list had it all.
        self._tombstones: dict[ObjKey, int] = {}
        self._floor = 0
        self.synced = asyncio.Event()
        self.handlers: list[Handler] = []
        self.on_relist: list[Callable[[Informer, Relist], None]] = [log_relist]
        self.relists = 0
        self._min_backoff, self._max_backoff = min_backoff, max_backoff

    def get(self, namespace: str, name: str) -> Obj | None:
        return self.store.get((namespace, name))

    def list(self, namespace: str | None = None) -> list[Obj]:
        if namespace is None:
            return list(self.store.values())
        return [o for (ns, _), o in self.store.items() if ns == namespace]

    def observe(self, obj: Obj) -> None:
        """Record an object returned by one of our own writes, unless the store has a newer one."""
        if self.select is not None and not self.select(obj):
            return
        if self.transform is not None:
            obj = self.transform(obj)
        key = obj_key(obj)
        old = self.store.get(key)
        if old is None and _rv(obj) <= self._tombstones.get(key, self._floor):
            return  # the object was deleted after this version: a late write response must not revive it
        # An unchanged resourceVersion is a no-op write: nothing to tell the handlers (an event here
        # re-queued the owner, whose reconcile wrote again: a hot loop whenever a write is a no-op).
        if old is None or _rv(obj) > _rv(old):
            self.store[key] = obj
            self._emit(old, obj)

    def _emit(self, old: Obj | None, new: Obj | None) -> None:
        for handler in self.handlers:
            try:
                handler(self.kind, old, new)
            except Exception:  # a broken handler must not stop the informer
                log.exception("event handler failed for %s", self.kind)

    def _relisting(self, relist: Relist) -> None:
        for listener in self.on_relist:
            try:
                listener(self, relist)
            except Exception:  # a broken listener must not stop the informer
                log.exception("relist listener failed for %s", self.kind)

    def resource(self) -> Any:
        return self._res if self._res is not None else resource(self.kind)

    def _ns(self) -> str | None:
        if not namespaced(self.kind):
            return None
        return self.namespace or "*"

    async def _list(self) -> str:
        res = self.resource()
        kwargs: dict[str, Any] = {"labels": self.labels} if self.labels else {}
        if namespaced(self.kind):
            kwargs["namespace"] = self._ns()
        items = self.client.list(res, **kwargs)
        fresh: dict[ObjKey, Obj] = {}
        async for item in items:
            obj = as_object(item, self.kind)
            if self.select is not None and not self.select(obj):
                continue
            obj = self._keep(obj)
            fresh[obj_key(obj)] = obj
        version = items.resourceVersion
        old_store, self.store = self.store, fresh
        self._tombstones.clear()
        self._floor = int(version) if str(version).isdigit() else 0
        for key, obj in fresh.items():
            old = old_store.get(key)
            if old is None or old.get("metadata", {}).get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                self._emit(old, obj)
        for key in old_store.keys() - fresh.keys():
            self._emit(old_store[key], None)
        self.relists += 1
        return version

    async def run(self) -> None:
        backoff = self._min_backoff
        while True:
            try:
                version = await self._list()
                self.synced.set()
                backoff = self._min_backoff
                await self._watch(version)
                self._relisting(Relist("watch ended", False, backoff))
            except asyncio.CancelledError:
                raise
            except ApiError as exc:
                reason = f"{exc.status.code} {exc.status.reason}: {exc.status.message}"
                if exc.status.code == 410:
                    message = f"watch of {self.kind} expired (410 Gone); relisting"
                    self._relisting(Relist(reason, False, 0.0, message))
                    continue
                if exc.status.code == 404 and not self.synced.is_set():
                    # an optional kind whose CRD is not installed (e.g. Cinder): nothing to cache yet
                    self.synced.set()
                    backoff = self._max_backoff
                    message = f"{self.kind} is not served by the apiserver; will retry"
                    self._relisting(Relist(reason, True, backoff, message))
                else:
                    self._relisting(
                        Relist(reason, True, backoff, f"watch of {self.kind} failed: {exc}", logging.WARNING)
                    )
            except (httpx.HTTPError, OSError) as exc:
                message = f"apiserver unreachable while watching {self.kind}: {exc}"
                self._relisting(Relist(f"{type(exc).__name__}: {exc}", True, backoff, message, logging.WARNING))
            except Exception as exc:  # whatever breaks a watch, the informer must outlive it
                reason = f"{type(exc).__name__}: {exc}"
                message = f"watch of {self.kind} broke ({reason}); relisting"
                self._relisting(Relist(reason, True, backoff, message, logging.WARNING))
            await asyncio.sleep(backoff)  # poll: back-off before relisting
            backoff = min(backoff * 2, self._max_backoff)

    async def _watch(self, version: str) -> None:
        res = self.resource()
        kwargs: dict[str, Any] = {"resource_version": version, "server_timeout": 300}
        if self.labels:
            kwargs["labels"] = self.labels
        if namespaced(self.kind):
            kwargs["namespace"] = self._ns()
        async for event, item in self.client.watch(res, **kwargs):
            self.apply_event(event, as_object(item, self.kind))

    def _keep(self, obj: Obj) -> Obj:
        return self.transform(obj) if self.transform is not None else obj

    def apply_event(self, event: str, obj: Obj) -> None:
        """One watch event into the store (and to the handlers)."""
        if self.select is not None and not self.select(obj):
            if obj_key(obj) not in self.store:
                return
            event = "DELETED"  # it no longer matches: what a watch with a selector reports
        obj = self._keep(obj)
        key = obj_key(obj)
        old = self.store.get(key)
        if event == "DELETED":
            self.store.pop(key, None)
            self._tombstones[key] = _rv(obj)
            self._emit(old, None)
        elif old is None or _rv(obj) >= _rv(old):
            self._tombstones.pop(key, None)
            self.store[key] = obj
            self._emit(old, obj)


# Never read by the operator, often the largest part of an object (controller-runtime's cache strips
# managedFields the same way): dropped before an object is stored.
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _interned(value: Any) -> Any:
    """The same value with every string interned: the cached objects then share one copy of each key
    ("metadata", "containers", ...) and of each repeated value (images, scripts, probe settings, label
    values), where JSON decoding shares keys only within one document. Interned strings are freed with
    their last reference, so unique values (uids, timestamps) cost nothing extra."""
    if isinstance(value, str):
        return sys.intern(value)
    if isinstance(value, dict):
        return {_interned(k): _interned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_interned(v) for v in value]
    return value


def as_object(item: Any, kind: Kind) -> Obj:
    obj: Obj = item if isinstance(item, dict) else item.to_dict()
    obj.setdefault("apiVersion", kind.api_version)
    obj.setdefault("kind", kind.kind)
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if annotations and _LAST_APPLIED in annotations:
            meta["annotations"] = {k: v for k, v in annotations.items() if k != _LAST_APPLIED}
    interned: Obj = _interned(obj)
    return interned


class Cache:
    """All informers of a manager, by kind."""

    def __init__(self, client: AsyncClient, namespace: str | None = None) -> None:
        self.client = client
        self.namespace = namespace
        self.informers: dict[Kind, Informer] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def informer(
        self,
        kind: Kind,
        labels: dict[str, Any] | None = None,
        transform: Transform | None = None,
        *,
        select: Select | None = None,
        res: Any = None,
    ) -> Informer:
        """The kind's informer; `labels`, `transform`, `select` and `res` (see Informer) apply when this call
        creates it."""
        if kind not in self.informers and self._tasks:
            # an informer created after start would stay empty: reads of unwatched kinds are bugs
            raise KeyError(f"{kind} is not watched by this manager")
        if kind not in self.informers:
            self.informers[kind] = Informer(
                self.client, kind, self.namespace, labels, transform=transform, select=select, res=res
            )
        return self.informers[kind]

    def get(self, kind: Kind, namespace: str, name: str) -> Obj | None:
        return self.informer(kind).get(namespace, name)

    def list(self, kind: Kind, namespace: str | None = None, labels: dict[str, str] | None = None) -> list[Obj]:
        objs = self.informer(kind).list(namespace)
        if labels:
            objs = [o for o in objs if _matches(o, labels)]
        return objs

    def start(self) -> None:
        for informer in self.informers.values():
            self._tasks.append(asyncio.create_task(informer.run(), name=f"informer {informer.kind}"))

    async def wait_synced(self, kinds: Iterable[Kind] | None = None) -> None:
        informers = [self.informers[k] for k in kinds] if kinds else list(self.informers.values())
        await asyncio.gather(*(i.synced.wait() for i in informers))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


def _matches(obj: Obj, labels: dict[str, str]) -> bool:
    have = obj.get("metadata", {}).get("labels") or {}
    return all(have.get(k) == v for k, v in labels.items())
