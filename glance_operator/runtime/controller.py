"""Level-triggered controllers in the style of controller-runtime.

A controller reconciles keys (namespace, name) of its primary kind. Events on any watched kind are
mapped to keys: the object itself (`For`), its controller owner (`Owns`), or any function of the
object (`Watches`). Reconcile reads the cache, never the event, so it always acts on the latest
state; an exception re-queues the key with exponential back-off, a `Result.requeue_after` re-queues
it after a delay (used only where nothing can be watched).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .cache import Cache, Obj, ObjKey
from .kinds import Kind
from .metrics import Metrics
from .queue import WorkQueue

log = logging.getLogger(__name__)

Mapper = Callable[[Obj], Iterable[ObjKey]]


@dataclass(frozen=True)
class Result:
    requeue_after: float | None = None


@dataclass
class Controller:
    name: str
    kind: Kind
    reconcile: Callable[[ObjKey], Awaitable[Result]]
    workers: int = 2
    queue: WorkQueue[ObjKey] = field(default_factory=WorkQueue)
    owns: list[Kind] = field(default_factory=list)
    watches: list[tuple[Kind, Mapper]] = field(default_factory=list)
    metrics: Metrics | None = None

    def register(self, cache: Cache) -> None:
        cache.informer(self.kind).handlers.append(self._on_primary)
        for kind in self.owns:
            cache.informer(kind).handlers.append(self._on_owned)
        for kind, mapper in self.watches:
            cache.informer(kind).handlers.append(self._mapped(mapper))

    def _on_primary(self, kind: Kind, old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        if obj is None:
            return
        # Only spec/metadata changes of our own object matter; our status writes would loop.
        if old is not None and new is not None and _same_but_status(old, new):
            return
        meta = obj["metadata"]
        self.queue.add((meta.get("namespace", ""), meta["name"]))

    def _on_owned(self, kind: Kind, old: Obj | None, new: Obj | None) -> None:
        for obj in (old, new):
            if obj is None:
                continue
            for ref in obj["metadata"].get("ownerReferences") or []:
                if (
                    ref.get("controller")
                    and ref.get("kind") == self.kind.kind
                    and ref.get("apiVersion", "").startswith(self.kind.group)
                ):
                    self.queue.add((obj["metadata"].get("namespace", ""), ref["name"]))

    def _mapped(self, mapper: Mapper) -> Callable[[Kind, Obj | None, Obj | None], None]:
        def handler(kind: Kind, old: Obj | None, new: Obj | None) -> None:
            for obj in (old, new):
                if obj is not None:
                    for key in mapper(obj):
                        self.queue.add(key)

        return handler

    async def run(self) -> None:
        workers = [asyncio.create_task(self._worker(), name=f"{self.name}-{i}") for i in range(self.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()

    async def _worker(self) -> None:
        while True:
            key = await self.queue.get()
            if key is None:
                return
            start = time.perf_counter()
            outcome = "success"
            try:
                result = await self.reconcile(key)
            except asyncio.CancelledError:
                self.queue.done(key)
                raise
            except Exception as exc:
                outcome = "error"
                delay = self.queue.add_rate_limited(key)
                log.warning(
                    "reconcile failed",
                    extra={
                        "controller": self.name,
                        "object": "/".join(key),
                        "error": str(exc),
                        "retry_in": delay,
                    },
                    exc_info=not _expected(exc),
                )
            else:
                self.queue.forget(key)
                if result.requeue_after is not None:
                    self.queue.add_after(key, result.requeue_after)
            finally:
                if self.metrics is not None:
                    self.metrics.observe_reconcile(self.name, outcome, time.perf_counter() - start)
                self.queue.done(key)


def _expected(exc: Exception) -> bool:
    """Transient failures are logged without a traceback: conflicts, and our own RetryableError."""
    status = getattr(getattr(exc, "status", None), "code", None)
    return isinstance(exc, RetryableError) or status in (409, 429)


class RetryableError(Exception):
    """An expected, transient failure (dependency not ready, conflict): logged without a traceback."""


def _same_but_status(old: Obj, new: Obj) -> bool:
    def strip(o: Obj) -> Any:
        meta = {k: v for k, v in o.get("metadata", {}).items() if k not in ("resourceVersion", "managedFields")}
        return {k: v for k, v in o.items() if k not in ("status", "metadata")}, meta

    return bool(strip(old) == strip(new))
