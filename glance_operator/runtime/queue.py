"""A de-duplicating work queue with per-key exponential back-off (client-go's workqueue, in asyncio).

Guarantees, as in client-go: a key is held at most once in the queue; a key being processed is
never handed to a second worker, and if it is added meanwhile it is queued again when `done` is
called, so the change that arrived during processing is not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    def __init__(self, base_delay: float = 0.005, max_delay: float = 300.0) -> None:
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._wakeup = asyncio.Condition()
        self._base = base_delay
        self._max = max_delay
        self._closed = False

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def depth(self) -> int:
        return len(self._queue)

    @property
    def idle(self) -> bool:
        """Nothing queued, being processed or waiting on a timer."""
        return not self._queue and not self._processing and not self._timers

    def add(self, key: K) -> None:
        if self._closed or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._notify()

    def add_after(self, key: K, delay: float) -> None:
        """Add `key` after `delay` seconds; an earlier pending timer for the key wins."""
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        existing = self._timers.get(key)
        if existing is not None and existing.when() <= loop.time() + delay:
            return
        if existing is not None:
            existing.cancel()
        self._timers[key] = loop.call_later(delay, self._fire, key)

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: K) -> float:
        """Re-queue a failed key with exponential back-off; returns the delay used."""
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        delay: float = min(self._base * (2**n), self._max)
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    def failures(self, key: K) -> int:
        return self._failures.get(key, 0)

    async def get(self) -> K | None:
        """Next key to process, or None once the queue is shut down."""
        async with self._wakeup:
            await self._wakeup.wait_for(lambda: bool(self._queue) or self._closed)
            if self._closed and not self._queue:
                return None
            key = self._queue.popleft()
            self._processing.add(key)
            self._dirty.discard(key)
            return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._notify()

    def shutdown(self) -> None:
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._notify()

    def _notify(self) -> None:
        async def notify() -> None:
            async with self._wakeup:
                self._wakeup.notify()

        # without a running loop there is no waiter yet: the first get() will see the item
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(notify())
