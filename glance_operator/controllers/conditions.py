"""lib-common conditions (spec §8): the shapes, ordering and mirroring the control plane relies on.

A pass starts from the init list (all Unknown), sets conditions as it goes, and at the end restores
`lastTransitionTime` for every condition whose state did not change, so times only move on real
transitions. `Ready` is sorted first (printer columns read `conditions[0]`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runtime.client import Writer
    from ..runtime.events import EventRecorder

READY = "Ready"
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"
ERROR, WARNING, INFO = "Error", "Warning", "Info"
REQUESTED, INIT, READY_REASON = "Requested", "Init", "Ready"


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str = ""
    severity: str = ""
    message: str = ""
    last_transition_time: str = ""

    def state(self) -> tuple[str, str, str, str]:
        return self.status, self.reason, self.severity, self.message

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "status": self.status}
        if self.severity:
            out["severity"] = self.severity
        out["lastTransitionTime"] = self.last_transition_time
        if self.reason:
            out["reason"] = self.reason
        if self.message:
            out["message"] = self.message
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Condition:
        return cls(
            type=d.get("type", ""),
            status=d.get("status", UNKNOWN),
            reason=d.get("reason", ""),
            severity=d.get("severity", ""),
            message=d.get("message", ""),
            last_transition_time=d.get("lastTransitionTime", ""),
        )


def true(type_: str, message: str) -> Condition:
    return Condition(type_, TRUE, READY_REASON, "", message)


def false(type_: str, reason: str, severity: str, message: str) -> Condition:
    return Condition(type_, FALSE, reason, severity, message)


def unknown(type_: str, reason: str, message: str) -> Condition:
    return Condition(type_, UNKNOWN, reason, "", message)


_PRIORITY = [(FALSE, ERROR), (FALSE, WARNING), (FALSE, INFO), (UNKNOWN, ""), (TRUE, "")]


def _group(c: Condition) -> int:
    key = (c.status, c.severity if c.status == FALSE else "")
    return _PRIORITY.index(key) if key in _PRIORITY else 2


class Conditions:
    """The conditions of one pass, keyed by type."""

    def __init__(self, init: Iterable[Condition]) -> None:
        stamp = now()
        self._items: dict[str, Condition] = {READY: Condition(READY, UNKNOWN, REQUESTED, "", "Setup started", stamp)}
        for c in init:
            self._items[c.type] = replace(c, last_transition_time=stamp)

    def set(self, c: Condition) -> None:
        old = self._items.get(c.type)
        if old is not None and old.state() == c.state():
            return
        self._items[c.type] = replace(c, last_transition_time=c.last_transition_time or now())

    def get(self, type_: str) -> Condition | None:
        return self._items.get(type_)

    def is_true(self, type_: str) -> bool:
        c = self._items.get(type_)
        return c is not None and c.status == TRUE

    def all_true_but_ready(self) -> bool:
        return all(c.status == TRUE for t, c in self._items.items() if t != READY)

    def mirror(self, type_: str) -> Condition:
        return mirror(type_, [c for t, c in self._items.items() if t != READY])

    def finish(self, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Sorted dicts for status; Ready mirrors the worst sub-condition when still Unknown."""
        ready = self._items[READY]
        if ready.status == UNKNOWN:
            self._items[READY] = replace(self.mirror(READY), type=READY, last_transition_time=now())
        before = {d.get("type"): Condition.from_dict(d) for d in previous}
        out = []
        for type_ in sorted(self._items, key=lambda t: (t != READY, t)):
            c = self._items[type_]
            old = before.get(type_)
            if old is not None and old.state() == c.state() and old.last_transition_time:
                c = replace(c, last_transition_time=old.last_transition_time)
            out.append(c.to_dict())
        return out


def mirror(type_: str, conditions: list[Condition]) -> Condition:
    """lib-common `Mirror`: Ready=True wins, else the most severe, most recent condition."""
    for c in conditions:
        if c.type == READY and c.status == TRUE:
            return Condition(type_, TRUE, c.reason, "", c.message, c.last_transition_time)
    if not conditions:
        return Condition(type_, UNKNOWN, REQUESTED, "", "")
    best = min(conditions, key=lambda c: (_group(c), _neg_time(c.last_transition_time)))
    return Condition(type_, best.status, best.reason, best.severity, best.message, "")


def higher_priority(a: Condition, b: Condition) -> Condition:
    """lib-common `GetHigherPrioCondition`: the more severe group, ties to the more recent."""
    return min((a, b), key=lambda c: (_group(c), _neg_time(c.last_transition_time)))


def _neg_time(stamp: str) -> float:
    if not stamp:
        return 0.0
    return -dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def conditions_from(obj: dict[str, Any] | None) -> list[Condition]:
    if not obj:
        return []
    return [Condition.from_dict(d) for d in (obj.get("status") or {}).get("conditions") or []]


def is_ready(obj: dict[str, Any] | None) -> bool:
    return any(c.type == READY and c.status == TRUE for c in conditions_from(obj))


def transitions(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[Condition]:
    """Conditions that changed state in this pass and are worth an Event: a sub-condition turning
    False (something is waited on or broken) and Ready turning True."""
    before = {d.get("type"): Condition.from_dict(d) for d in previous}
    out = []
    for d in current:
        c = Condition.from_dict(d)
        old = before.get(c.type)
        if old is not None and old.state() == c.state():
            continue
        if (c.type == READY and c.status == TRUE) or (c.type != READY and c.status == FALSE):
            out.append(c)
    return out


async def publish(
    writer: Writer,
    events: EventRecorder | None,
    live: dict[str, Any],
    status: dict[str, Any],
    conditions: Conditions,
    current: dict[str, Any] | None = None,
) -> None:
    """End of a pass: the conditions into `status` (transition times kept), the status patched when it
    changed (onto `current`, the freshest copy, else `live`), and an Event per condition transition."""
    before = (live.get("status") or {}).get("conditions") or []
    status["conditions"] = conditions.finish(before)
    await writer.patch_status(current or live, status)
    if events is not None:
        await events.transitions(live, transitions(before, status["conditions"]))
