"""Does a stored object already hold what we want? (Compare only the fields we set.)

`contains(desired, live)` is true when every field of `desired` is present in `live` with an equal
value, ignoring fields others (or apiserver defaulting) added. Values the apiserver canonicalises
are normalised first: quantities (`1Gi` vs `1024Mi`, `0.5` vs `500m`), integers written as strings
and empty lists/maps (which the apiserver drops).

Lists of the built-in kinds that Kubernetes declares associative (`+listType=map` or `set` in
k8s.io/api: containers, env, volumes, ports, ...) are compared item by item on their keys, and extra
items are allowed: under server-side apply an item someone else added (a sidecar, an injected env var
or volume) belongs to them, so it is not a difference and re-applying would change nothing. Other
lists (atomic ones, and every list of a custom resource) must match exactly.
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


# field name -> key fields, from k8s.io/api v0.34 `+listMapKey` (core/v1, meta/v1); `ports` depends on the item
MAP_LIST_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "imagePullSecrets": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "ownerReferences": ("uid",),
}
SET_LISTS = frozenset({"finalizers"})
_KEY_DEFAULTS = {"protocol": "TCP"}  # defaulted by the apiserver, so a missing key means this


def _list_keys(field: str, items: list[Any]) -> tuple[str, ...] | None:
    if field == "ports":  # Container ports are keyed by containerPort, Service ports by port (+ protocol)
        keys: tuple[str, ...] | None = (
            ("containerPort", "protocol")
            if all(isinstance(i, dict) and "containerPort" in i for i in items)
            else ("port", "protocol")
        )
    else:
        keys = MAP_LIST_KEYS.get(field)
    if keys is None or not all(isinstance(i, dict) for i in items):
        return None
    return keys


def _key(item: dict[str, Any], keys: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(item.get(k, _KEY_DEFAULTS.get(k)) for k in keys)


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


def contains(desired: Any, live: Any, *, associative: bool = True, _field: str = "") -> bool:
    """`associative`: treat the built-in kinds' associative lists as such (False for custom resources)."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return _empty(desired) and _empty(live)
        for key, value in desired.items():
            if key not in live:
                if _empty(value):
                    continue
                return False
            # object metadata (ownerReferences, finalizers) is associative in every kind, custom ones too
            sub = associative or key == "metadata"
            if not contains(value, live[key], associative=sub, _field=key):
                return False
        return True
    if isinstance(desired, list):
        if not isinstance(live, list):
            return _empty(desired) and _empty(live)
        keys = _list_keys(_field, desired) if associative else None
        if keys is not None and all(isinstance(v, dict) for v in live):
            by_key = {_key(v, keys): v for v in live}
            return all(
                _key(d, keys) in by_key and contains(d, by_key[_key(d, keys)], associative=associative) for d in desired
            )
        if associative and _field in SET_LISTS:
            return all(any(_scalar_equal(d, v) for v in live) for d in desired)
        return len(desired) == len(live) and all(
            contains(d, v, associative=associative) for d, v in zip(desired, live, strict=True)
        )
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
