"""The work queue: de-duplication, no concurrent processing of a key, back-off, delayed adds."""

from __future__ import annotations

import asyncio

from glance_operator.runtime.queue import WorkQueue


async def test_duplicate_adds_are_merged() -> None:
    q: WorkQueue[str] = WorkQueue()
    for _ in range(5):
        q.add("a")
    q.add("b")
    assert q.depth == 2
    assert await q.get() == "a"
    assert await q.get() == "b"


async def test_key_added_while_processing_is_requeued_after_done() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")  # changed while being processed
    assert q.depth == 0  # not handed to a second worker meanwhile
    q.done(key)
    assert q.depth == 1
    assert await q.get() == "a"
    q.done("a")
    assert q.idle


async def test_rate_limited_backoff_doubles_and_forget_resets() -> None:
    q: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=0.05)
    delays = [q.add_rate_limited("a") for _ in range(5)]
    assert delays == [0.01, 0.02, 0.04, 0.05, 0.05]
    q.forget("a")
    assert q.failures("a") == 0
    assert await asyncio.wait_for(q.get(), timeout=1) == "a"


async def test_add_after_keeps_the_earliest_timer() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add_after("a", 10)
    q.add_after("a", 0.01)
    assert not q.idle
    assert await asyncio.wait_for(q.get(), timeout=1) == "a"


async def test_shutdown_releases_waiting_workers() -> None:
    q: WorkQueue[str] = WorkQueue()
    waiter = asyncio.create_task(q.get())
    await asyncio.sleep(0)  # poll: let the worker block on get()
    q.shutdown()
    assert await asyncio.wait_for(waiter, timeout=1) is None
