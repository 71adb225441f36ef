"""Does a stored object already hold what we want? (Compare only the fields we set.)

`contains(desired, live)` is true when every field of `desired` is present in `live` with an equal
value, ignoring fields others (or apiserver defaulting) added. Values the apiserver canonicalises
are normalised first: quantities (`1Gi` vs `1024Mi`, `0.5` vs `500m`), integers written as strings
and empty lists/maps (which the apiserver drops).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SUFFIX = {
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    None: Decimal(1),
}


def quantity(value: str | int | float) -> Decimal | None:
    """The numeric value of a Kubernetes quantity, or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    m = _QUANTITY.match(value.strip())
    if not m:
        return None
    number, suffix = m.groups()
    try:
        if suffix and suffix[0] in "eE" and len(suffix) > 1:
            return Decimal(number + suffix)
        return Decimal(number) * _SUFFIX[suffix]
    except (InvalidOperation, KeyError):
        return None


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _scalar_equal(a: Any, b: Any) -> bool:
    if a == b and type(a) is type(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, str | int | float) and isinstance(b, str | int | float):
        qa, qb = quantity(a), quantity(b)
        return qa is not None and qa == qb
    return False


def contains(desired: Any, live: Any) -> bool:
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return _empty(desired) and _empty(live)
        for key, value in desired.items():
            if key not in live:
                if _empty(value):
                    continue
                return False
            if not contains(value, live[key]):
                return False
        return True
    if isinstance(desired, list):
        if not isinstance(live, list):
            return _empty(desired) and _empty(live)
        return len(desired) == len(live) and all(contains(d, v) for d, v in zip(desired, live, strict=True))
    return _scalar_equal(desired, live)


def merge_patch(old: Any, new: Any) -> Any:
    """RFC 7386 JSON merge patch turning `old` into `new` (None where nothing changes)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None if old == new else new
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            sub = merge_patch(old[key], value) if isinstance(value, dict) else value
            patch[key] = sub
    return patch or None
