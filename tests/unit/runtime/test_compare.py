"""Comparing desired fields with stored objects, normalising what the apiserver canonicalises."""

from __future__ import annotations

import pytest

from glance_operator.runtime.compare import contains, merge_patch, quantity


@pytest.mark.parametrize(
    ("a", "b"),
    [("1Gi", "1024Mi"), ("0.5", "500m"), ("10G", "10000M"), ("1e3", "1k"), (2, "2"), ("100m", 0.1)],
)
def test_equal_quantities(a, b) -> None:
    assert quantity(a) == quantity(b)
    assert contains({"q": a}, {"q": b})


def test_fields_added_by_others_or_defaulting_are_ignored() -> None:
    desired = {"spec": {"containers": [{"name": "c", "image": "i"}]}}
    live = {
        "spec": {
            "containers": [{"name": "c", "image": "i", "terminationMessagePath": "/dev/x"}],
            "dnsPolicy": "ClusterFirst",
        }
    }
    assert contains(desired, live)


@pytest.mark.parametrize(
    ("desired", "live"),
    [
        ({"a": 1}, {"a": 2}),
        ({"a": "x"}, {}),
        ({"l": [1, 2]}, {"l": [1]}),
        ({"b": True}, {"b": "true"}),
        ({"q": "1Gi"}, {"q": "1G"}),
    ],
)
def test_differences_are_seen(desired, live) -> None:
    assert not contains(desired, live)


def test_empty_collections_match_absent_ones() -> None:
    assert contains({"labels": {}, "items": []}, {})


def test_merge_patch_sets_changes_and_nulls_removals() -> None:
    old = {"a": 1, "m": {"x": 1, "y": 2}, "gone": True, "same": [1]}
    new = {"a": 2, "m": {"x": 1}, "same": [1], "added": "v"}
    assert merge_patch(old, new) == {"a": 2, "m": {"y": None}, "gone": None, "added": "v"}
    assert merge_patch(new, new) is None
