"""The JSON patch diff: applying diff(a, b) to a gives b, for any JSON documents."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from glance_operator.webhooks.patch import apply, diff, pointer_token

_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text("ab/~c", max_size=3), c, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json, _json)
def test_diff_then_apply_gives_target(a: Any, b: Any) -> None:
    assert apply(a, diff(a, b)) == b


def test_equal_documents_give_no_operations() -> None:
    assert diff({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}) == []


def test_maps_are_diffed_per_key_and_lists_replaced_whole() -> None:
    before = {"spec": {"keep": 1, "drop": 2, "list": [1, 2]}}
    after = {"spec": {"keep": 1, "list": [1, 3], "new": {"x": ""}}}
    assert diff(before, after) == [
        {"op": "remove", "path": "/spec/drop"},
        {"op": "replace", "path": "/spec/list", "value": [1, 3]},
        {"op": "add", "path": "/spec/new", "value": {"x": ""}},
    ]


def test_pointer_escaping() -> None:
    assert pointer_token("a/b~c") == "a~1b~0c"
    assert diff({}, {"x/y": 1}) == [{"op": "add", "path": "/x~1y", "value": 1}]


def test_json_types_are_distinguished() -> None:
    assert diff({"a": True}, {"a": 1}) == [{"op": "replace", "path": "/a", "value": 1}]
    assert diff({"a": 1}, {"a": 1.0}) == []  # the same JSON number
