"""List+watch caches (informers): one per kind, shared by every controller that reads the kind.

An informer lists, then watches from the list's resourceVersion. When the watch breaks it resumes
from the last seen version; when the version is gone (410) or the apiserver is unreachable it lists
again, emitting the differences as events, so nothing is missed across restarts. Writes we make
are put into the store at once (`observe`) so that the next reconcile does not act on stale data.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from lightkube import ApiError, AsyncClient

from .kinds import Kind, namespaced, resource

log = logging.getLogger(__name__)

Obj = dict[str, Any]
ObjKey = tuple[str, str]  # (namespace, name)
Handler = Callable[[Kind, Obj | None, Obj | None], None]  # kind, old, new
Transform = Callable[[Obj], Obj]  # what of an object the cache keeps (controller-runtime's TransformFunc)


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
    ) -> None:
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.labels = labels
        self.transform = transform
        self.store: dict[ObjKey, Obj] = {}
        # What the store has seen deleted (by resourceVersion), so that the response of a write that
        # raced with the deletion does not bring the object back; below `_floor`, the last list had it all.
        self._tombstones: dict[ObjKey, int] = {}
        self._floor = 0
        self.synced = asyncio.Event()
        self.handlers: list[Handler] = []
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

    def _ns(self) -> str | None:
        if not namespaced(self.kind):
            return None
        return self.namespace or "*"

    async def _list(self) -> str:
        res = resource(self.kind)
        kwargs: dict[str, Any] = {"labels": self.labels} if self.labels else {}
        if namespaced(self.kind):
            kwargs["namespace"] = self._ns()
        items = self.client.list(res, **kwargs)
        fresh: dict[ObjKey, Obj] = {}
        async for item in items:
            obj = self._keep(as_object(item, self.kind))
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
            except asyncio.CancelledError:
                raise
            except ApiError as exc:
                if exc.status.code == 410:
                    log.info("watch of %s expired (410 Gone); relisting", self.kind)
                    continue
                if exc.status.code == 404 and not self.synced.is_set():
                    # an optional kind whose CRD is not installed (e.g. Cinder): nothing to cache yet
                    log.info("%s is not served by the apiserver; will retry", self.kind)
                    self.synced.set()
                    backoff = self._max_backoff
                else:
                    log.warning("watch of %s failed: %s", self.kind, exc)
            except (httpx.HTTPError, OSError) as exc:
                log.warning("apiserver unreachable while watching %s: %s", self.kind, exc)
            except Exception as exc:  # whatever breaks a watch, the informer must outlive it
                log.warning("watch of %s broke (%s: %s); relisting", self.kind, type(exc).__name__, exc)
            await asyncio.sleep(backoff)  # poll: back-off before relisting
            backoff = min(backoff * 2, self._max_backoff)

    async def _watch(self, version: str) -> None:
        res = resource(self.kind)
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
        self, kind: Kind, labels: dict[str, Any] | None = None, transform: Transform | None = None
    ) -> Informer:
        """The kind's informer; `labels` and `transform` apply when this call creates it."""
        if kind not in self.informers and self._tasks:
            # an informer created after start would stay empty: reads of unwatched kinds are bugs
            raise KeyError(f"{kind} is not watched by this manager")
        if kind not in self.informers:
            self.informers[kind] = Informer(self.client, kind, self.namespace, labels, transform=transform)
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
