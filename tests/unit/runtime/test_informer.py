"""The informer's store: what a late write response may and may not do after a watch event."""

from __future__ import annotations

from typing import Any

from glance_operator.runtime.cache import Informer, as_object, metadata_only, without_pod_template
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


def test_a_transform_applies_to_watch_events_and_to_our_own_writes() -> None:
    inf = Informer(client=None, kind=SECRET, transform=metadata_only)  # type: ignore[arg-type]
    inf.apply_event("ADDED", {**obj(10), "data": {"k": "djE="}})
    assert "data" not in inf.get("ns", "s")
    inf.observe({**obj(11), "data": {"k": "djI="}})
    assert inf.get("ns", "s") == obj(11)


def test_jobs_keep_everything_but_their_pod_template() -> None:
    job = {"metadata": {"name": "j"}, "spec": {"ttlSecondsAfterFinished": 600, "template": {"spec": {}}}, "status": {}}
    assert without_pod_template(job) == {
        "metadata": {"name": "j"},
        "spec": {"ttlSecondsAfterFinished": 600},
        "status": {},
    }


def test_cached_objects_share_their_strings_and_drop_what_is_never_read() -> None:
    script = "".join(["exec /usr/sbin/httpd -DFOREGROUND"] * 3)  # built at run time: not interned by Python
    a, b = (
        as_object(
            {
                "metadata": {
                    "name": f"sts-{i}",
                    "managedFields": [{"manager": "x"}],
                    "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "keep": "v"},
                },
                "spec": {"args": ["-c", "".join([script])]},
            },
            Kind("apps/v1", "StatefulSet"),
        )
        for i in (1, 2)
    )
    assert a["spec"]["args"][1] == script and a["spec"]["args"][1] is b["spec"]["args"][1]
    assert "managedFields" not in a["metadata"] and a["metadata"]["annotations"] == {"keep": "v"}
    assert (a["apiVersion"], a["kind"]) == ("apps/v1", "StatefulSet")
