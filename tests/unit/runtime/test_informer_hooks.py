"""The informer's hooks: `select` (which objects it keeps), `res` (a resource class the kind table lacks) and
`on_relist` (why it lists again), with a fake client (no apiserver)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from lightkube import ApiError
from lightkube.models.meta_v1 import Status

from glance_operator.runtime.cache import Cache, Informer, Relist
from glance_operator.runtime.kinds import Kind

SECRET = Kind("v1", "Secret")
UNLISTED = Kind("example.org/v1", "Gadget")  # not in runtime.kinds: needs `res`


def obj(rv: int, name: str = "s", namespace: str = "ns") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": str(rv)},
    }


def in_ns(o: dict[str, Any]) -> bool:
    return bool(o["metadata"].get("namespace") == "ns")


def test_select_keeps_only_matching_objects_from_events_and_writes() -> None:
    inf = Informer(client=None, kind=SECRET, select=in_ns)  # type: ignore[arg-type]
    events: list[tuple[Any, Any]] = []
    inf.handlers.append(lambda kind, old, new: events.append((old, new)))
    inf.apply_event("ADDED", obj(10, namespace="other"))
    inf.observe(obj(11, namespace="other"))
    inf.apply_event("DELETED", obj(12, namespace="other"))
    assert inf.store == {} and events == []
    inf.apply_event("ADDED", obj(13))
    assert inf.get("ns", "s") is not None and len(events) == 1


def test_an_object_that_stops_matching_leaves_the_store_as_if_deleted() -> None:
    inf = Informer(client=None, kind=SECRET, select=lambda o: o["metadata"].get("labels") == {"a": "b"})  # type: ignore[arg-type]
    events: list[tuple[Any, Any]] = []
    inf.handlers.append(lambda kind, old, new: events.append((old, new)))
    inf.apply_event("ADDED", {**obj(10), "metadata": {**obj(10)["metadata"], "labels": {"a": "b"}}})
    inf.apply_event("MODIFIED", obj(11))  # label removed
    assert inf.get("ns", "s") is None
    assert events[-1][1] is None and events[-1][0]["metadata"]["resourceVersion"] == "10"
    inf.observe({**obj(10), "metadata": {**obj(10)["metadata"], "labels": {"a": "b"}}})  # a late write response
    assert inf.get("ns", "s") is None


class FakeList:
    def __init__(self, items: list[dict[str, Any]], version: str) -> None:
        self.items, self.resourceVersion = items, version

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for item in self.items:
            yield item


class FakeClient:
    """list: the given objects (or the given exception, once); watch: 410 Gone once, then nothing, forever."""

    def __init__(self, items: list[dict[str, Any]], list_error: Exception | None = None) -> None:
        self.items, self.list_error = items, list_error
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []
        self.watches = 0

    def list(self, res: Any, **kw: Any) -> FakeList:
        self.calls.append(("list", res, kw))
        if self.list_error is not None:
            error, self.list_error = self.list_error, None
            raise error
        return FakeList(self.items, "100")

    async def watch(self, res: Any, **kw: Any) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        self.calls.append(("watch", res, kw))
        self.watches += 1
        if self.watches == 1:
            raise ApiError(status=Status(code=410, reason="Expired", message="too old resource version: 1 (42)"))
        await asyncio.Event().wait()
        yield "ADDED", {}  # never reached: an async generator, like lightkube's watch


async def run_until(inf: Informer, done: Any) -> None:
    task = asyncio.create_task(inf.run())
    try:
        async with asyncio.timeout(5):
            while not done():
                await asyncio.sleep(0.01)  # poll
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_relist_listeners_hear_why_and_the_given_resource_class_is_used() -> None:
    gadget_class = object()
    client = FakeClient([{"metadata": {"name": "g", "namespace": "ns", "resourceVersion": "7"}}])
    cache = Cache(client, "ns")  # type: ignore[arg-type]
    inf = cache.informer(UNLISTED, res=gadget_class)
    heard: list[Relist] = []
    inf.on_relist.append(lambda informer, relist: heard.append(relist))
    await run_until(inf, lambda: client.watches >= 2)
    assert {res for _, res, _ in client.calls} == {gadget_class}
    assert all(kw["namespace"] == "ns" for _, _, kw in client.calls)
    assert inf.relists == 2 and inf.get("ns", "g") is not None
    assert heard == [
        Relist(
            "410 Expired: too old resource version: 1 (42)",
            error=False,
            delay=0.0,
            message="watch of Gadget.example.org expired (410 Gone); relisting",
        )
    ]


async def test_the_default_listener_logs_and_a_failed_list_is_an_error_with_its_back_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="glance_operator.runtime.cache")
    client = FakeClient([obj(5)], list_error=httpx.ConnectError("refused"))
    inf = Informer(client, SECRET, "ns", min_backoff=0.01)  # type: ignore[arg-type]
    heard: list[Relist] = []
    inf.on_relist.append(lambda informer, relist: heard.append(relist))
    await run_until(inf, lambda: client.watches >= 2)
    assert [(r.error, r.reason.split(":")[0], r.delay) for r in heard] == [
        (True, "ConnectError", 0.01),
        (False, "410 Expired", 0.0),
    ]
    messages = [r.getMessage() for r in caplog.records if r.name == "glance_operator.runtime.cache"]
    assert messages == [
        "apiserver unreachable while watching Secret: refused",
        "watch of Secret expired (410 Gone); relisting",
    ]


async def test_a_broken_listener_does_not_stop_the_informer() -> None:
    client = FakeClient([obj(5)])
    inf = Informer(client, SECRET, "ns")  # type: ignore[arg-type]

    def broken(informer: Informer, relist: Relist) -> None:
        raise RuntimeError("boom")

    inf.on_relist[:] = [broken]
    await run_until(inf, lambda: client.watches >= 2)
    assert inf.relists == 2
