"""Kubernetes Events for what an operator watches for (waiting on a dependency, a failed job, a
decommissioned API), so `kubectl describe` tells the story. Emitted on transitions only, so a steady
state writes none; a repeat of the same event bumps its count instead of adding a new object."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType

log = logging.getLogger(__name__)
COMPONENT = "glance-operator"


class EventRecorder:
    def __init__(self, client: AsyncClient, on_write: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.on_write = on_write  # counts Event writes with the operator's other writes (WriteStats)
        self.counts: dict[str, int] = {}
        self.gate: Callable[[], bool] | None = None  # as Writer.gate: only the leader records

    async def emit(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        if self.gate is not None and not self.gate():
            return
        meta = obj["metadata"]
        ns = meta.get("namespace") or "default"
        digest = hashlib.sha256(f"{meta.get('uid')}/{reason}/{message}".encode()).hexdigest()[:10]
        name = f"{meta['name']}.{digest}"
        now = dt.datetime.now(dt.UTC)
        log.info(
            message, extra={"event": reason, "type": type_, "object": f"{ns}/{meta['name']}", "kind": obj.get("kind")}
        )
        try:
            if name in self.counts:
                self.counts[name] += 1
                self._count("event-patch")
                await self.client.patch(
                    Event,
                    name,
                    {"count": self.counts[name], "lastTimestamp": now.isoformat()},
                    namespace=ns,
                    patch_type=PatchType.MERGE,
                )
                return
            self.counts[name] = 1
            self._count("event-create")
            await self.client.create(
                Event(
                    metadata=ObjectMeta(name=name, namespace=ns),
                    involvedObject=ObjectReference(
                        apiVersion=obj.get("apiVersion"),
                        kind=obj.get("kind"),
                        name=meta["name"],
                        namespace=ns,
                        uid=meta.get("uid"),
                        resourceVersion=meta.get("resourceVersion"),
                    ),
                    reason=reason,
                    message=message[:1024],
                    type=type_,
                    count=1,
                    firstTimestamp=now,
                    lastTimestamp=now,
                    source=EventSource(component=COMPONENT),
                    reportingComponent=COMPONENT,
                    reportingInstance=COMPONENT,
                )
            )
        except ApiError as exc:  # events are best effort: never fail a reconcile over one
            if exc.status.code == 409:  # recorded by an earlier process: count it there
                self.counts[name] = 1
                await self._bump(name, ns, now)
            else:
                log.warning("could not record event: %s", exc)

    def _count(self, verb: str) -> None:
        if self.on_write is not None:
            self.on_write(verb)

    async def transitions(self, obj: dict[str, Any], changed: Any) -> None:
        """Events for conditions that changed in a pass (`conditions.transitions`): Ready reached, or a
        sub-condition turned False (Warning when its severity says so)."""
        for c in changed:
            if c.type == "Ready":
                await self.emit(obj, "Normal", "Ready", c.message)
            else:
                kind = "Warning" if c.severity in ("Error", "Warning") else "Normal"
                await self.emit(obj, kind, c.type.removesuffix("Ready") + "NotReady", c.message.strip())

    async def _bump(self, name: str, ns: str, now: dt.datetime) -> None:
        try:
            event = await self.client.get(Event, name, namespace=ns)
            count = (event.count or 1) + 1
            self.counts[name] = count
            self._count("event-patch")
            await self.client.patch(
                Event,
                name,
                {"count": count, "lastTimestamp": now.isoformat()},
                namespace=ns,
                patch_type=PatchType.MERGE,
            )
        except ApiError as exc:
            log.warning("could not record event: %s", exc)
