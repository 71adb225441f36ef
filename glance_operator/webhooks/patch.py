"""RFC 6902 JSON patches: the diff that turns one JSON document into another.

The mutating webhook answers with the difference between the object it was sent and the defaulted
object, as controller-runtime does (spec §3.2). Maps are diffed key by key so that concurrent edits
elsewhere in the object are not clobbered; lists are replaced whole when they differ (defaulting
never edits list items in place, and an index-wise diff of a reordered list is more fragile).
"""

from __future__ import annotations

from typing import Any

Operation = dict[str, Any]


def pointer_token(key: str) -> str:
    """Escape one JSON-pointer reference token (RFC 6901: `~` first, then `/`)."""
    return key.replace("~", "~0").replace("/", "~1")


def diff(before: Any, after: Any, at: str = "") -> list[Operation]:
    """Operations that, applied to `before`, give `after`; `at` is the JSON pointer of both."""
    if isinstance(before, dict) and isinstance(after, dict):
        ops: list[Operation] = []
        for key in before:
            if key not in after:
                ops.append({"op": "remove", "path": f"{at}/{pointer_token(key)}"})
        for key, value in after.items():
            child = f"{at}/{pointer_token(key)}"
            if key not in before:
                ops.append({"op": "add", "path": child, "value": value})
            else:
                ops.extend(diff(before[key], value, child))
        return ops
    if _same(before, after):
        return []
    return [{"op": "replace", "path": at, "value": after}]


def _same(a: Any, b: Any) -> bool:
    # JSON equality: 1 == 1.0 but True != 1 (Python's == says True == 1)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


def apply(doc: Any, ops: list[Operation]) -> Any:
    """Apply the subset of RFC 6902 that `diff` produces (add, remove, replace); used by tests."""
    import copy

    doc = copy.deepcopy(doc)
    for op in ops:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in op["path"].split("/")[1:]]
        if not tokens:
            if op["op"] == "remove":
                raise ValueError("cannot remove the whole document")
            doc = copy.deepcopy(op["value"])
            continue
        parent = doc
        for t in tokens[:-1]:
            parent = parent[int(t)] if isinstance(parent, list) else parent[t]
        last: Any = int(tokens[-1]) if isinstance(parent, list) else tokens[-1]
        if op["op"] == "remove":
            del parent[last]
        elif op["op"] == "replace" and last not in parent and not isinstance(parent, list):
            raise KeyError(op["path"])  # RFC 6902: replace needs an existing member
        else:
            parent[last] = copy.deepcopy(op["value"])
    return doc
