"""Comparing desired fields with stored objects, normalising what the apiserver canonicalises."""

from __future__ import annotations

import copy

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


POD = {
    "containers": [
        {
            "name": "glance-api",
            "env": [{"name": "A", "value": "1"}],
            "ports": [{"containerPort": 9292}],
            "volumeMounts": [{"name": "config", "mountPath": "/etc/glance"}],
        }
    ],
    "volumes": [{"name": "config", "secret": {"secretName": "s"}}],
}


def _with_extras() -> dict:
    """What a mutating webhook leaves: a sidecar, an env var, a mount and a volume, items in another order."""
    live = copy.deepcopy(POD)
    c = live["containers"][0]
    c["env"].insert(0, {"name": "INJECTED", "value": "x"})
    c["ports"][0]["protocol"] = "TCP"
    c["volumeMounts"].append({"name": "istio", "mountPath": "/etc/istio"})
    live["containers"].insert(0, {"name": "sidecar", "image": "proxy"})
    live["volumes"].append({"name": "istio", "emptyDir": {}})
    return live


def test_items_others_added_to_associative_lists_are_not_a_difference() -> None:
    assert contains(POD, _with_extras())


def test_our_items_are_still_compared_by_key() -> None:
    live = _with_extras()
    live["containers"][1]["env"][1]["value"] = "2"  # our A, changed by someone
    assert not contains(POD, live)
    live = _with_extras()
    del live["containers"][1]["volumeMounts"][0]  # our mount, removed
    assert not contains(POD, live)
    live = _with_extras()
    live["containers"][1]["ports"][0]["protocol"] = "UDP"  # another key: not our port
    assert not contains(POD, live)


def test_service_ports_are_keyed_by_port_and_protocol() -> None:
    desired = {"ports": [{"name": "api", "port": 9292}]}
    assert contains(
        desired, {"ports": [{"name": "metrics", "port": 8080}, {"name": "api", "port": 9292, "protocol": "TCP"}]}
    )
    assert not contains(desired, {"ports": [{"name": "api", "port": 9293}]})


def test_atomic_lists_and_custom_resources_must_match_exactly() -> None:
    subjects = {"subjects": [{"kind": "ServiceAccount", "name": "glance"}]}  # RoleBinding subjects: atomic
    assert not contains(subjects, {"subjects": [*subjects["subjects"], {"kind": "User", "name": "eve"}]})
    assert contains(POD, _with_extras(), associative=True)
    assert not contains(POD, _with_extras(), associative=False)


def test_metadata_lists_are_associative_in_custom_resources_too() -> None:
    desired = {"metadata": {"finalizers": ["openstack.org/glance"], "ownerReferences": [{"uid": "u", "name": "g"}]}}
    live = {
        "metadata": {
            "finalizers": ["other.org/keep", "openstack.org/glance"],
            "ownerReferences": [{"uid": "x", "name": "other"}, {"uid": "u", "name": "g", "controller": True}],
        }
    }
    assert contains(desired, live, associative=False)
    assert not contains(desired, {"metadata": {"finalizers": ["other.org/keep"]}}, associative=False)
