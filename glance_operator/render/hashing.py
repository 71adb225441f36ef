"""lib-common ``util.ObjectHash`` reproduced byte for byte (spec 6.1).

The upstream hash is ``rand.SafeEncodeString(fmt.Sprint(sha256(json.Marshal(v))))``. Any deviation in the
JSON bytes changes CONFIG_HASH and restarts every Glance pod on takeover (must-get-right 19), so the encoder
below follows Go ``encoding/json`` rather than Python's ``json`` module:

* compact output, no trailing newline;
* map keys sorted byte-wise, struct members in declared order (see :class:`GoStruct`);
* ``<``, ``>``, ``&``, U+2028 and U+2029 escaped as ``\\u003c`` ..., other control characters as ``\\n``,
  ``\\t``, ``\\r``, ``\\b``, ``\\f`` or ``\\u00XX`` (Go >= 1.22 rules);
* ``bytes`` as standard padded base64 (Go ``[]byte``);
* floats formatted like ``strconv.AppendFloat`` with Go's exponent cut-offs.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final

__all__ = [
    "OMIT",
    "GoStruct",
    "env_hash",
    "go_json",
    "go_struct",
    "object_hash",
    "omitempty",
    "safe_encode_string",
    "secret_hash",
    "secret_values_hash",
]

# k8s.io/apimachinery/pkg/util/rand: consonants and digits, so hashes never spell words.
_ALPHANUMS: Final = "bcdfghjklmnpqrstvwxz2456789"
_HEX: Final = "0123456789abcdef"
_SHORT_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


class _Omit:
    """Sentinel for a struct member dropped by ``omitempty``."""

    _instance: _Omit | None = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Final = _Omit()


class GoStruct:
    """A Go struct value: members are encoded in the given (declared) order, unlike maps which are sorted.

    Members whose value is :data:`OMIT` are left out, which is how ``omitempty`` is expressed.
    """

    __slots__ = ("members",)

    def __init__(self, members: Sequence[tuple[str, object]]) -> None:
        self.members: tuple[tuple[str, object], ...] = tuple((k, v) for k, v in members if v is not OMIT)

    def __repr__(self) -> str:
        return f"GoStruct({list(self.members)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoStruct) and self.members == other.members

    def __hash__(self) -> int:
        return hash(self.members)


def go_struct(**members: object) -> GoStruct:
    """Build a :class:`GoStruct` from keyword arguments (Python keeps their order)."""
    return GoStruct(list(members.items()))


def omitempty(value: object) -> object:
    """``value``, or :data:`OMIT` where Go's ``omitempty`` drops it (false, 0, "", nil, empty map/slice)."""
    if value is None or value is False:
        return OMIT
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return OMIT
    if isinstance(value, str | bytes | Mapping | list | tuple) and len(value) == 0:
        return OMIT
    return value


_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')


def _encode_string(s: str, out: list[str]) -> None:
    if not _NEEDS_ESCAPE.search(s):  # the common case: nothing to escape, no per-character work
        out.append(f'"{s}"')
        return
    out.append('"')
    for ch in s:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20 or ch in "<>&":
            out.append(f"\\u00{_HEX[code >> 4]}{_HEX[code & 0xF]}")
        elif code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            # A lone surrogate stands for bytes that are not valid UTF-8; Go writes those as \ufffd.
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')


def _encode_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f"json: unsupported value: {f!r}")
    magnitude = abs(f)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        # repr() uses the same shortest digits and exponent form as strconv 'e' with precision -1.
        text = repr(f)
        mantissa, _, exponent = text.partition("e")
        sign, digits = exponent[0], exponent[1:]
        return f"{mantissa}e{sign}{digits.lstrip('0') or '0'}" if sign == "-" else text
    return format(Decimal(repr(f)).normalize(), "f")


def _encode(value: object, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_encode_float(value))
    elif isinstance(value, str):
        _encode_string(value, out)
    elif isinstance(value, bytes | bytearray):
        _encode_string(base64.b64encode(bytes(value)).decode("ascii"), out)
    elif isinstance(value, GoStruct):
        _encode_members(value.members, out)
    elif isinstance(value, Mapping):
        keyed = [(_map_key(k), v) for k, v in value.items()]
        keyed.sort(key=lambda kv: kv[0].encode("utf-8", "surrogatepass"))
        _encode_members(keyed, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"json: unsupported type: {type(value).__name__}")


def _map_key(key: object) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)  # Go encodes integer map keys as their decimal string
    raise TypeError(f"json: unsupported map key type: {type(key).__name__}")


def _encode_members(members: Sequence[tuple[str, object]], out: list[str]) -> None:
    out.append("{")
    for i, (key, item) in enumerate(members):
        if i:
            out.append(",")
        _encode_string(key, out)
        out.append(":")
        _encode(item, out)
    out.append("}")


def go_json(value: object) -> bytes:
    """``json.Marshal(value)`` as Go would produce it (see module docstring for the type mapping)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def safe_encode_string(s: str) -> str:
    """k8s ``rand.SafeEncodeString``: map every character onto the 27-character alphabet."""
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in s)


def object_hash(value: object) -> str:
    """lib-common ``util.ObjectHash``."""
    digest = hashlib.sha256(go_json(value)).digest()
    return safe_encode_string("[" + " ".join(str(b) for b in digest) + "]")  # fmt.Sprint([32]byte)


def secret_hash(
    data: Mapping[str, bytes],
    string_data: Mapping[str, str] | None = None,
    secret_type: str = "Opaque",
) -> str:
    """lib-common ``secret.Hash``: struct {data, stringData, type}, every member ``omitempty``.

    ``secret_type`` defaults to what the API server fills in, which is what upstream hashes after its
    CreateOrPatch round trip.
    """
    return object_hash(
        go_struct(
            data=omitempty(dict(data)),
            stringData=omitempty(dict(string_data or {})),
            type=omitempty(secret_type),
        )
    )


def secret_values_hash(values: Sequence[bytes]) -> str:
    """lib-common ``secret.VerifySecret``: hash of the expected fields' values, in the given order."""
    return object_hash(list(values))


def tls_input_hashes(ca_bundle: str | None, certificates: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The TLS entries of a GlanceAPI's CONFIG_HASH input map (spec 5.5, 5.8): the CA bundle's hash under
    ``tls-ca-bundle.pem``, and one hash of every endpoint's ``(tls.crt, tls.key)``, internal first, under
    ``certs``; an entry only when there is something to hash."""
    hashes: dict[str, str] = {}
    if ca_bundle is not None:
        hashes["tls-ca-bundle.pem"] = secret_values_hash([ca_bundle.encode()])
    if certificates:
        hashes["certs"] = secret_values_hash([value.encode() for pair in certificates for value in pair])
    return hashes


def env_hash(env: Mapping[str, str]) -> str:
    """Hash of ``env.MergeEnvs([]corev1.EnvVar{}, setters)``: the CONFIG_HASH over the input hashes.

    The list is sorted by name (Go string order = UTF-8 byte order); corev1.EnvVar has ``value`` with
    ``omitempty``, so an empty value leaves only ``name``.
    """
    names = sorted(env, key=lambda k: k.encode("utf-8", "surrogatepass"))
    return object_hash([go_struct(name=name, value=omitempty(env[name])) for name in names])
