"""The CRDs are generated from the models, committed, and match upstream's schemas."""

from __future__ import annotations

import functools
import pathlib

import pytest
import yaml

from glance_operator.cli import crd_documents

from .schema_diff import diff

REPO = pathlib.Path(__file__).resolve().parents[2]
UPSTREAM = REPO.parent / "shared/reference/crds/upstream-glance"

# Every accepted difference from the upstream schema, with its reason.
PROJECTED = ".spec.extraMounts[].extraVol[].volumes[].projected.sources[]"
ACCEPTED = {
    f"{PROJECTED}.podCertificate: only in ours": "Kubernetes 1.34's OpenAPI added podCertificate projections",
}


@functools.cache
def _load(text: str) -> dict:
    return yaml.load(text, Loader=yaml.CSafeLoader)


@functools.cache
def _generated() -> dict[str, str]:
    return crd_documents()


def _schema(doc: dict) -> dict:
    return doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.mark.parametrize("name", sorted(crd_documents()))
def test_committed_crd_equals_generator_output(name: str) -> None:
    committed = (REPO / "config/crd/bases" / name).read_text()
    assert committed == _generated()[name], "run `make manifests` and commit the result"


@pytest.mark.parametrize("name", sorted(crd_documents()))
def test_schema_matches_upstream(name: str) -> None:
    ours = _load(_generated()[name])
    theirs = _load((UPSTREAM / name).read_text())
    differences = [d for d in diff(_schema(ours), _schema(theirs)) if d not in ACCEPTED]
    assert differences == []


@pytest.mark.parametrize("name", sorted(crd_documents()))
def test_names_scope_and_status_subresource_match_upstream(name: str) -> None:
    ours = _load(_generated()[name])
    theirs = _load((UPSTREAM / name).read_text())
    assert ours["metadata"]["name"] == theirs["metadata"]["name"]
    for key in ("group", "names", "scope"):
        assert ours["spec"][key] == theirs["spec"][key]
    version, upstream_version = ours["spec"]["versions"][0], theirs["spec"]["versions"][0]
    assert version["name"] == upstream_version["name"] == "v1beta1"
    assert version["subresources"] == {"status": {}}
    assert version["served"] and version["storage"]


@pytest.mark.parametrize("name", sorted(crd_documents()))
def test_printer_columns_keep_upstream_ones_and_add_age(name: str) -> None:
    ours = _load(_generated()[name])["spec"]["versions"][0]["additionalPrinterColumns"]
    theirs = _load((UPSTREAM / name).read_text())["spec"]["versions"][0]["additionalPrinterColumns"]
    by_name = {c["name"]: c for c in ours}
    for column in theirs:  # scripts read these by position and path
        assert by_name[column["name"]]["jsonPath"] == column["jsonPath"]
    assert [c["name"] for c in ours][: len(theirs)] == [c["name"] for c in theirs]
    assert by_name["Age"] == {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"}


def test_schema_diff_reports_each_kind_of_difference() -> None:
    ours = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "string", "enum": ["x"]}, "b": {"type": "integer", "default": 1}},
    }
    theirs = {
        "type": "object",
        "properties": {"a": {"type": "string", "enum": ["x", "y"]}, "c": {"type": "boolean"}},
    }
    assert diff(ours, theirs) == [
        ".a: required ours=True upstream=False",
        ".a: enum ours=['x'] upstream=['x', 'y']",
        ".b: only in ours",
        ".c: missing in ours",
    ]


def test_schema_diff_reports_bounds_and_list_map_semantics() -> None:
    ours = {"type": "object", "properties": {"r": {"type": "object"}, "l": {"type": "array", "maxItems": 3}}}
    theirs = {
        "type": "object",
        "properties": {
            "r": {"type": "object", "x-kubernetes-map-type": "atomic"},
            "l": {"type": "array", "x-kubernetes-list-type": "atomic"},
        },
    }
    assert diff(ours, theirs) == [
        ".l: maxItems ours=3 upstream=None",
        ".l: x-kubernetes-list-type ours=None upstream='atomic'",
        ".r: x-kubernetes-map-type ours=None upstream='atomic'",
    ]
