"""The facts file of `glance-operator render` (render/offline.py): keys, Secrets from the input file, redaction."""

from __future__ import annotations

import base64

import pytest

from glance_operator.render.offline import (
    EXAMPLE_FACTS,
    REDACTED,
    FactsError,
    load_facts,
    masked,
    render_object,
    reviewable,
)

SECRET_DOC = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "creds"},
    "data": {"a.conf": base64.b64encode(b"[s3]\nkey = from-data\n").decode()},
    "stringData": {"b.conf": "[s3]\nother = from-string-data\n"},
}


def test_example_facts_fill_every_missing_key_with_the_namespace() -> None:
    facts = load_facts(None, "ns1")
    assert facts.database.hostname == "openstack.ns1.svc"
    assert facts.memcached.servers == ("memcached-0.memcached.ns1.svc:11211",)
    assert facts.horizon_endpoint == "https://horizon-ns1.apps.example.com"
    assert facts.cinder_present is True
    assert set(EXAMPLE_FACTS) <= {
        "database",
        "keystone",
        "service_password",
        "memcached",
        "transport_url",
        "secrets",
        "endpoint_ids",
        "network_attachments",
        "horizon_endpoint",
        "cinder_present",
        "topologies",
        "input_hashes",
    }


def test_secrets_from_the_input_file_and_the_facts_file() -> None:
    other_ns = {**SECRET_DOC, "metadata": {"name": "elsewhere", "namespace": "other"}}
    facts = load_facts(
        {"config_secrets": {"old": {"k": "v"}}, "secrets": {"new": {"k": "w"}}}, "openstack", [SECRET_DOC, other_ns]
    )
    assert facts.namespace_secrets == {
        "creds": {"a.conf": "[s3]\nkey = from-data\n", "b.conf": "[s3]\nother = from-string-data\n"},
        "old": {"k": "v"},
        "new": {"k": "w"},
    }
    # the facts file wins over the input file
    facts = load_facts({"secrets": {"creds": {"x": "y"}}}, "openstack", [SECRET_DOC])
    assert facts.namespace_secrets["creds"] == {"x": "y"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"bogus": 1}, "unknown facts: bogus"),
        ({"database": {"hostname": "x"}}, "malformed facts"),
        ({"secrets": ["not", "a", "map"]}, "malformed facts"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_malformed_facts(raw: object, message: str) -> None:
    with pytest.raises(FactsError, match=message):
        load_facts(raw, "openstack")  # type: ignore[arg-type]


def test_masked_keeps_ini_structure() -> None:
    assert masked("hunter2") == REDACTED
    assert masked("[s3]\n# note\nkey = v\nbare\n") == f"[s3]\n# note\nkey = {REDACTED}\n{REDACTED}\n"
    secret = {"kind": "Secret", "data": {"f": base64.b64encode(b"a [s3]\nkey = v\n b").decode()}}
    shown = reviewable(secret, ["[s3]\nkey = v\n"], show_secrets=False)
    assert shown["stringData"] == {"f": f"a [s3]\nkey = {REDACTED}\n b"}
    assert reviewable(secret, ["[s3]\nkey = v\n"], show_secrets=True)["stringData"] == {"f": "a [s3]\nkey = v\n b"}


def test_render_object_refuses_other_kinds() -> None:
    from glance_operator.render.glanceapi import RenderError

    with pytest.raises(RenderError, match="only Glance and GlanceAPI"):
        render_object({"kind": "Secret"}, None)
