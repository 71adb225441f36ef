"""lib-common ObjectHash parity (spec 6.1)."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glance_operator.render.hashing import (
    OMIT,
    GoStruct,
    env_hash,
    go_json,
    go_struct,
    object_hash,
    omitempty,
    safe_encode_string,
    secret_hash,
    secret_values_hash,
)

# Spec 6.1 test vector: ObjectHash of the Go string "hello".
HELLO_HASH = "nf4h5bchfdh5c8h9bhb7h5dch558h566h687h5ffh5b7h54fhc7hb8h5b9h5d8h5fbh54h596h58dhd6h654h8dhcfh645hddh699hb7h97hcdh566q"


def test_spec_test_vector() -> None:
    assert object_hash("hello") == HELLO_HASH


def test_hash_is_safe_encoded_sprint_of_sha256() -> None:
    digest = hashlib.sha256(b'"hello"').digest()
    sprint = "[" + " ".join(str(b) for b in digest) + "]"
    assert object_hash("hello") == safe_encode_string(sprint)
    # '[' = 91 -> 91 % 27 = 10 -> 'n'; ' ' = 32 -> 5 -> 'h'; ']' = 93 -> 12 -> 'q'
    assert safe_encode_string("[ ]") == "nhq"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", b'"hello"'),
        ("a<b>&c", b'"a\\u003cb\\u003e\\u0026c"'),
        ("line\nfeed\ttab\rcr\bbs\fff", b'"line\\nfeed\\ttab\\rcr\\bbs\\fff"'),
        ("\x00\x1f", b'"\\u0000\\u001f"'),
        ('quote" back\\', b'"quote\\" back\\\\"'),
        ("\u2028\u2029", b'"\\u2028\\u2029"'),
        ("héllo ✓", '"héllo ✓"'.encode()),  # non-ASCII stays raw UTF-8
        ("\x7f", b'"\x7f"'),
        ("\udc80", b'"\\ufffd"'),  # not valid UTF-8 in Go terms
        (b"\x00\xff", b'"AP8="'),  # []byte -> base64
        (b"", b'""'),
        (None, b"null"),
        (True, b"true"),
        (False, b"false"),
        (0, b"0"),
        (-42, b"-42"),
        (1.0, b"1"),
        (0.5, b"0.5"),
        (-0.0, b"-0"),
        (1e20, b"100000000000000000000"),
        (1e21, b"1e+21"),
        (1e-7, b"1e-7"),
        (1.5e-7, b"1.5e-7"),
        (1e-100, b"1e-100"),
        ([], b"[]"),
        ([1, "a", None], b'[1,"a",null]'),
        ({}, b"{}"),
    ],
)
def test_go_json_scalars(value: object, expected: bytes) -> None:
    assert go_json(value) == expected


def test_maps_are_sorted_bytewise_structs_keep_order() -> None:
    assert go_json({"b": 1, "a": 2, "B": 3, "é": 4, "z": 5}) == '{"B":3,"a":2,"b":1,"z":5,"é":4}'.encode()
    assert go_json(go_struct(z=1, a=2)) == b'{"z":1,"a":2}'
    assert go_json(GoStruct([("b", {"y": 1, "x": 2}), ("a", [go_struct(k="v")])])) == (
        b'{"b":{"x":2,"y":1},"a":[{"k":"v"}]}'
    )
    assert go_json({1: "x", 10: "y", 2: "z"}) == b'{"1":"x","10":"y","2":"z"}'


def test_omitempty_drops_go_zero_values_only() -> None:
    empties: tuple[object, ...] = (None, False, 0, 0.0, "", b"", {}, [], ())
    for empty in empties:
        assert omitempty(empty) is OMIT
    for kept in (True, 1, "x", b"x", {"a": 1}, [0]):
        assert omitempty(kept) == kept
    assert go_json(go_struct(a=omitempty(""), b=omitempty("x"), c=OMIT)) == b'{"b":"x"}'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), object(), {("t",): 1}])
def test_unsupported_values_raise(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        go_json(bad)


def test_secret_hash_is_struct_data_stringdata_type() -> None:
    data = {"b.conf": b"x", "a.conf": b"<y>"}
    expected = object_hash(GoStruct([("data", data), ("type", "Opaque")]))
    assert secret_hash(data) == expected
    # the literal JSON upstream feeds to sha256
    payload = b'{"data":{"a.conf":"PHk+","b.conf":"eA=="},"type":"Opaque"}'
    assert go_json(GoStruct([("data", data), ("type", "Opaque")])) == payload
    # empty members are omitted (omitempty), stringData sits between data and type
    assert secret_hash({}) == object_hash(go_struct(type="Opaque"))
    assert secret_hash({"k": b"v"}, {"s": "t"}) == object_hash(
        GoStruct([("data", {"k": b"v"}), ("stringData", {"s": "t"}), ("type", "Opaque")])
    )


def test_secret_values_hash_is_list_of_bytes() -> None:
    assert secret_values_hash([b"a", b"b"]) == object_hash(["YQ==", "Yg=="])


def test_env_hash_sorted_env_var_list() -> None:
    env = {"keystoneEndpoint": "", "glance-default-single-config-data": "h1", "CONFIG": "x"}
    expected = object_hash(
        [
            go_struct(name="CONFIG", value="x"),
            go_struct(name="glance-default-single-config-data", value="h1"),
            go_struct(name="keystoneEndpoint"),
        ]
    )
    assert env_hash(env) == expected
    assert go_json([go_struct(name="a", value=omitempty("")), go_struct(name="b", value=omitempty("1"))]) == (
        b'[{"name":"a"},{"name":"b","value":"1"}]'
    )
    assert env_hash({}) == object_hash([])


_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]))  # lone surrogates: see the table above
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda children: st.lists(children) | st.dictionaries(_TEXT, children),
    max_leaves=20,
)


@given(_JSON_VALUES)
def test_go_json_decodes_to_the_same_value(value: object) -> None:
    # Go's escaping differs from Python's, but the bytes must still be JSON for the same value.
    assert json.loads(go_json(value)) == value


@given(st.dictionaries(st.text(), st.text()))
def test_env_hash_independent_of_insertion_order(env: dict[str, str]) -> None:
    assert env_hash(env) == env_hash(dict(reversed(list(env.items()))))
