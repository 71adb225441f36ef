"""lib-common condition semantics (spec 8.2, 8.3)."""

from __future__ import annotations

from glance_operator.controllers import conditions as c


def test_ready_first_then_sorted_and_times_kept_when_unchanged() -> None:
    previous = [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Ready",
            "message": "Setup complete",
            "lastTransitionTime": "2020-01-01T00:00:00Z",
        },
        {
            "type": "DBReady",
            "status": "True",
            "reason": "Ready",
            "message": "DB create completed",
            "lastTransitionTime": "2020-01-01T00:00:00Z",
        },
    ]
    conds = c.Conditions([c.unknown("ZReady", c.INIT, "z"), c.unknown("DBReady", c.INIT, "db")])
    conds.set(c.true("DBReady", "DB create completed"))
    conds.set(c.true("ZReady", "z done"))
    conds.set(c.true("Ready", "Setup complete"))
    out = conds.finish(previous)
    assert [d["type"] for d in out] == ["Ready", "DBReady", "ZReady"]
    assert out[0]["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    assert out[1]["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    assert out[2]["lastTransitionTime"] != "2020-01-01T00:00:00Z"
    assert "severity" not in out[0]


def test_unknown_ready_mirrors_the_worst_condition() -> None:
    conds = c.Conditions([c.unknown("A", c.INIT, "a")])
    conds.set(c.false("A", c.REQUESTED, c.INFO, "waiting for a"))
    conds.set(c.false("B", c.ERROR, c.WARNING, "b is broken"))
    ready = conds.finish([])[0]
    assert ready == {
        **ready,
        "type": "Ready",
        "status": "False",
        "reason": "Error",
        "severity": "Warning",
        "message": "b is broken",
    }


def test_mirror_prefers_ready_true_and_priority_order() -> None:
    ready = c.Condition("Ready", "True", "Ready", "", "Setup complete", "2020-01-01T00:00:00Z")
    other = c.Condition("X", "False", "Error", "Warning", "bad", "2020-01-01T00:00:00Z")
    assert c.mirror("GlanceAPIReady", [other, ready]).status == "True"
    info = c.Condition("Y", "False", "Requested", "Info", "wait", "2021-01-01T00:00:00Z")
    assert c.mirror("T", [info, other]).message == "bad"
    assert c.higher_priority(info, other) is other
