"""Writes through lightkube, each reflected into the cache at once.

`Writer.ensure` is create-or-patch against the cache (cluster-api's patch helper in spirit): it
writes only when the stored object lacks what we want, and then with server-side apply, so fields
set by others are left alone and fields we stop setting are removed. A short hash of our desired
object rides along in the same write, so that removing a field from the desired state is noticed
even though the comparison only looks at the fields we set.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.types import CascadeType, PatchType

from ..render.hashing import object_hash
from .cache import Cache, Obj, as_object
from .compare import contains, merge_patch
from .controller import RetryableError
from .kinds import Kind, builtin, kind_of, namespaced, resource

log = logging.getLogger(__name__)

FIELD_MANAGER = "glance-operator"
APPLIED_HASH = "glance.openstack.org/applied"


@dataclass
class WriteStats:
    """Counters of write requests, by verb; read by metrics and tests."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, verb: str, obj: Obj | None = None) -> None:
        self.counts[verb] = self.counts.get(verb, 0) + 1
        if obj is not None:
            meta = obj.get("metadata", {})
            log.info(
                "write",
                extra={
                    "verb": verb,
                    "kind": obj.get("kind"),
                    "object": f"{meta.get('namespace', '')}/{meta.get('name')}",
                },
            )

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def desired_hash(obj: Obj) -> str:
    return object_hash(obj)[:16]


class NotLeader(RetryableError):
    """This process lost (or never had) leadership: it must not write."""


class Writer:
    def __init__(self, client: AsyncClient, cache: Cache) -> None:
        self.client = client
        self.cache = cache
        self.stats = WriteStats()
        self.gate: Callable[[], bool] | None = None  # set by leader election: may we write now?

    def _check_gate(self) -> None:
        if self.gate is not None and not self.gate():
            raise NotLeader("not the leader: write refused")

    def _observe(self, kind: Kind, item: Any) -> Obj:
        obj = as_object(item, kind)
        if kind in self.cache.informers:
            self.cache.informers[kind].observe(obj)
        return obj

    async def ensure(self, desired: Obj) -> tuple[Obj, bool]:
        """Make the stored object hold `desired`; returns (stored object, whether we wrote)."""
        kind = kind_of(desired)
        meta = desired["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        want = copy.deepcopy(desired)
        digest = desired_hash(desired)
        want["metadata"].setdefault("annotations", {})[APPLIED_HASH] = digest
        live = self.cache.get(kind, ns, name) if kind in self.cache.informers else None
        if live is not None and contains(want, live, associative=builtin(kind)):
            return live, False
        self._check_gate()
        self.stats.add("apply", want)
        kwargs: dict[str, Any] = {"namespace": ns} if namespaced(kind) else {}
        item = await self.client.patch(
            resource(kind),
            name,
            want,
            patch_type=PatchType.APPLY,
            field_manager=FIELD_MANAGER,
            force=True,
            **kwargs,
        )
        return self._observe(kind, item), True

    async def patch_status(self, live: Obj, status: dict[str, Any]) -> Obj | None:
        """Merge-patch the status subresource with only what changed; no request when nothing did."""
        patch = merge_patch(live.get("status") or {}, status)
        if patch is None:
            return None
        kind = kind_of(live)
        self._check_gate()
        self.stats.add("status", live)
        item = await self.client.patch(
            resource(kind).Status,
            live["metadata"]["name"],
            {"status": patch},
            namespace=live["metadata"].get("namespace"),
            patch_type=PatchType.MERGE,
        )
        return self._observe(kind, item)

    async def set_finalizers(self, live: Obj, finalizers: list[str]) -> Obj | None:
        """Replace metadata.finalizers, conditional on the resourceVersion we read."""
        if list(live["metadata"].get("finalizers") or []) == finalizers:
            return None
        kind = kind_of(live)
        meta = live["metadata"]
        self._check_gate()
        self.stats.add("finalizers", live)
        body = {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}}
        kwargs: dict[str, Any] = {"namespace": meta.get("namespace")} if namespaced(kind) else {}
        item = await self.client.patch(resource(kind), meta["name"], body, patch_type=PatchType.MERGE, **kwargs)
        return self._observe(kind, item)

    async def add_finalizer(self, live: Obj, finalizer: str) -> Obj:
        """The object with `finalizer` present (written only if it was missing)."""
        finalizers = list(live["metadata"].get("finalizers") or [])
        if finalizer in finalizers:
            return live
        return await self.set_finalizers(live, [*finalizers, finalizer]) or live

    async def remove_finalizer(self, live: Obj | None, finalizer: str) -> None:
        """Drop `finalizer` from the object if it is there (missing objects are fine)."""
        if live is None or finalizer not in (live["metadata"].get("finalizers") or []):
            return
        await self.set_finalizers(live, [f for f in live["metadata"]["finalizers"] if f != finalizer])

    async def merge_patch(self, live: Obj, patch: dict[str, Any]) -> Obj:
        kind = kind_of(live)
        meta = live["metadata"]
        self._check_gate()
        self.stats.add("patch", live)
        kwargs: dict[str, Any] = {"namespace": meta.get("namespace")} if namespaced(kind) else {}
        item = await self.client.patch(resource(kind), meta["name"], patch, patch_type=PatchType.MERGE, **kwargs)
        return self._observe(kind, item)

    async def delete(
        self, kind: Kind, namespace: str, name: str, background: bool = True, orphan: bool = False
    ) -> bool:
        """Delete if present; returns whether a request was made. `orphan` keeps the dependents."""
        if kind in self.cache.informers:
            live = self.cache.get(kind, namespace, name)
            if live is None or live["metadata"].get("deletionTimestamp"):
                return False  # gone, or already going: the informer reports the end
        self._check_gate()
        self.stats.add("delete", {"kind": kind.kind, "metadata": {"namespace": namespace, "name": name}})
        kwargs: dict[str, Any] = {"namespace": namespace} if namespaced(kind) else {}
        if orphan:
            kwargs["cascade"] = CascadeType.ORPHAN
        elif background:
            kwargs["cascade"] = CascadeType.BACKGROUND
        try:
            await self.client.delete(resource(kind), name, **kwargs)
        except ApiError as exc:
            if exc.status.code != 404:
                raise
        return True
