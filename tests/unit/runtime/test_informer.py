"""The informer's store: what a late write response may and may not do after a watch event."""

from __future__ import annotations

from typing import Any

from glance_operator.runtime.cache import Informer
from glance_operator.runtime.kinds import Kind

SECRET = Kind("v1", "Secret")


def obj(rv: int, name: str = "s") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "ns", "resourceVersion": str(rv)},
    }


def informer() -> tuple[Informer, list[tuple[Any, Any]]]:
    inf = Informer(client=None, kind=SECRET)  # type: ignore[arg-type]  # no I/O in these tests
    events: list[tuple[Any, Any]] = []
    inf.handlers.append(lambda kind, old, new: events.append((old, new)))
    return inf, events


def test_a_write_response_older_than_the_deletion_does_not_revive_the_object() -> None:
    inf, events = informer()
    inf.apply_event("ADDED", obj(10))
    inf.apply_event("DELETED", obj(12))
    inf.observe(obj(11))  # our patch, answered before the delete but processed after its event
    assert inf.get("ns", "s") is None
    assert len(events) == 2


def test_an_object_created_again_after_its_deletion_is_stored() -> None:
    inf, _ = informer()
    inf.apply_event("ADDED", obj(10))
    inf.apply_event("DELETED", obj(12))
    inf.observe(obj(15))  # our create of a new object with the same name
    assert inf.get("ns", "s")["metadata"]["resourceVersion"] == "15"


def test_a_noop_write_emits_nothing_and_a_newer_one_does() -> None:
    inf, events = informer()
    inf.apply_event("ADDED", obj(10))
    inf.observe(obj(10))
    assert len(events) == 1
    inf.observe(obj(11))
    assert len(events) == 2 and inf.get("ns", "s")["metadata"]["resourceVersion"] == "11"


def test_an_older_watch_event_does_not_replace_a_newer_write() -> None:
    inf, _ = informer()
    inf.observe(obj(20))
    inf.apply_event("MODIFIED", obj(19))
    assert inf.get("ns", "s")["metadata"]["resourceVersion"] == "20"
