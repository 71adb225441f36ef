"""Bad input at scale: near-valid Glance CRs (hypothesis) through the apiserver with our webhooks, and
through `glance-operator render`: each is accepted, or denied with a message naming a field; none crashes.

Unlike test_webhooks' fuzzing of arbitrary shapes, the objects here start from a valid Glance and change
a few fields to plausible good or bad values, so that both outcomes occur in quantity and the denials
are the ones users will meet. The counts are printed (run with -s to see them).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glance_operator import cli
from glance_operator.testing import ApiError, ControlPlane, KubeApi
from glance_operator.testing.processes import wait_until

from .test_webhooks import InProcessWebhooks

pytestmark = pytest.mark.slow

GV = "glance.openstack.org/v1beta1"
EXAMPLES = 400
FILE_CONFIG = (
    "[DEFAULT]\nenabled_backends = default_backend:file\n[glance_store]\ndefault_backend = default_backend\n"
    "[default_backend]\nfilesystem_store_datadir = /var/lib/glance/images/\n"
)
RBD_CONFIG = "[DEFAULT]\nenabled_backends = default_backend:rbd\n[default_backend]\nrbd_store_pool = images\n"
# a field path in an apiserver or `validate` message: spec.x, spec.glanceAPIs[k].y, metadata.name, ...
FIELD = re.compile(r"\b(spec|metadata)(\.[A-Za-z]|\[)|\b(spec|metadata)\b: ")

_keys = st.one_of(
    st.sampled_from(["default", "api0", "edge1", "a", "x" * 30, "x" * 70]),
    st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True),
    st.text("abcXY_-.0", min_size=1, max_size=14),
)
_api_fields: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(["single", "split", "edge", "external", "internal", "bogus", "", None, 3]),
    "replicas": st.one_of(st.integers(-3, 40), st.just("2"), st.none()),
    "customServiceConfig": st.sampled_from(
        [
            FILE_CONFIG,
            RBD_CONFIG,
            "",
            "[DEFAULT]\nenabled_backends = nope\n",
            "[DEFAULT]\n; enabled_backends = a:file\n",
            "[DEFAULT]\nenabled_backends = a:file,b:rbd,\n",
            "[foo]\nenabled_backends = a:file\n",
            "not an ini file",
        ]
    ),
    "apiTimeout": st.one_of(st.integers(-5, 100_000), st.just("60")),
    "containerImage": st.sampled_from(["quay.io/x/glance:1", "", None]),
    "replcas": st.integers(0, 3),  # a typo: unknown field
    "override": st.sampled_from(
        [
            {},
            {"service": {"internal": {}}},
            {"service": {"bogus": {}}},
            {"probes": {"livenessProbes": {"periodSeconds": -1}}},
        ]
    ),
}
_glance_fields: dict[str, st.SearchStrategy[Any]] = {
    "customServiceConfig": _api_fields["customServiceConfig"],
    "databaseInstance": st.sampled_from(["openstack", "", "Bad_Name"]),
    "secret": st.sampled_from(["osp-secret", ""]),
    "storage": st.sampled_from(
        [{"storageRequest": "10G"}, {"storageRequest": "1Gi"}, {"storageRequest": "abc"}, {}, {"storageClass": 3}]
    ),
    "apiTimeout": _api_fields["apiTimeout"],
    "notificationBusInstance": st.sampled_from(["rabbitmq", "", "Bad Name"]),
    "dbPurge": st.sampled_from([{"age": 30, "schedule": "1 0 * * *"}, {"age": -1}, {"schedule": "never"}]),
    "imageCache": st.sampled_from([{"size": ""}, {"size": "10G"}, {"size": "lots"}, {"schedule": "* * *"}]),
    "containerImage": _api_fields["containerImage"],
    "keystoneEndpoint": _keys,
    "quotas": st.sampled_from([{"imageSizeTotal": 1000}, {"imageCountUpload": -1}]),
}


@st.composite
def glances(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.lists(_keys, min_size=0, max_size=3, unique=True))
    apis = {k: {"type": "single", "replicas": 1} for k in keys}
    for k in keys:
        for f in draw(st.lists(st.sampled_from(sorted(_api_fields)), max_size=2, unique=True)):
            apis[k][f] = draw(_api_fields[f])
    spec: dict[str, Any] = {
        "databaseInstance": "openstack",
        "secret": "osp-secret",
        "storage": {"storageRequest": "10G"},
        "customServiceConfig": FILE_CONFIG,
        "glanceAPIs": apis,
        "keystoneEndpoint": keys[0] if keys else "default",
    }
    for f in draw(st.lists(st.sampled_from(sorted(_glance_fields)), max_size=3, unique=True)):
        spec[f] = draw(_glance_fields[f])
    name = draw(st.sampled_from(["glance", "glance-b", "Glance_X", "g" * 60]))
    return {"apiVersion": GV, "kind": "Glance", "metadata": {"name": name}, "spec": _clean(spec)}


def _clean(spec: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in spec.items() if v is not None}
    out["glanceAPIs"] = {k: {f: v for f, v in a.items() if v is not None} for k, a in out["glanceAPIs"].items()}
    return out


@pytest.fixture(scope="module")
def webhooks(control_plane: ControlPlane) -> Iterator[InProcessWebhooks]:
    hooks = InProcessWebhooks(control_plane)
    api = control_plane.api
    ns = control_plane.create_namespace("bad-input-probe")
    probe = {
        "apiVersion": GV,
        "kind": "Glance",
        "metadata": {"name": "probe"},
        "spec": {
            "databaseInstance": "openstack",
            "secret": "osp-secret",
            "storage": {"storageRequest": "10G"},
            "customServiceConfig": FILE_CONFIG,
            "glanceAPIs": {"default": {"type": "single"}},
            "keystoneEndpoint": "nope",  # refused by the validating webhook only
        },
    }

    def active() -> bool:
        try:
            api.request("POST", api.path_of(probe, ns, named=False), body=probe, params={"dryRun": "All"})
        except ApiError as e:
            return "vglance-v1beta1.kb.io" in e.message
        return False

    wait_until(active, timeout=30, what="webhook configurations active", watch=control_plane.processes.values())
    yield hooks
    control_plane.unregister_webhooks()  # failurePolicy Fail: never leave them pointing at a dead server
    control_plane.delete_namespace(ns)
    hooks.close()


def through_apiserver(api: KubeApi, ns: str, obj: dict[str, Any]) -> tuple[str, str]:
    """('accepted' | 'denied' | 'denied-without-field' | 'crash', message)."""
    try:
        # Strict as kubectl: unknown fields are refused (`render` refuses them too)
        params = {"dryRun": "All", "fieldValidation": "Strict"}
        api.request("POST", api.path_of(obj, ns, named=False), body=obj, params=params)
        return "accepted", ""
    except ApiError as e:
        if e.status >= 500 or "failed calling webhook" in e.message or e.status not in (400, 422):
            return "crash", str(e)
        details = e.body.get("details", {}) if isinstance(e.body, dict) else {}
        if any(c.get("field") for c in details.get("causes", [])) or FIELD.search(e.message):
            return "denied", e.message
        return "denied-without-field", e.message


def through_render(obj: dict[str, Any], tmp: Path) -> tuple[str, str]:
    """`glance-operator render -f FILE` in-process: 0 accepted, 1 with a field message denied, else a crash."""
    path = tmp / "glance.yaml"
    path.write_text(yaml.safe_dump(obj))
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["render", "-f", str(path), "-n", "bad-input"])
    except SystemExit as e:  # argparse
        code = int(e.code or 0)
    except Exception as e:
        return "crash", f"{type(e).__name__}: {e}"
    if code == cli.EXIT_OK:
        return "accepted", ""
    if code == cli.EXIT_INVALID:
        msg = err.getvalue()
        return ("denied" if FIELD.search(msg) or "cannot render" in msg else "denied-without-field"), msg
    return "crash", f"exit {code}: {err.getvalue()}"


def test_generated_glances_are_accepted_or_denied_with_a_field_never_crash(
    webhooks: InProcessWebhooks, api: KubeApi, namespace: str, tmp_path: Path
) -> None:
    counts: dict[str, Counter[str]] = {"apiserver": Counter(), "render": Counter()}
    agree = Counter[str]()
    bad: list[str] = []
    different: list[str] = []  # reported, not asserted: the lead decides (see the bench README)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(obj=glances())
    def check(obj: dict[str, Any]) -> None:
        server, server_msg = through_apiserver(api, namespace, obj)
        offline, offline_msg = through_render(obj, tmp_path)
        counts["apiserver"][server] += 1
        counts["render"][offline] += 1
        # `render` applies the same admission as the apiserver: the verdicts should agree
        if (server == "accepted") == (offline == "accepted"):
            agree["same verdict"] += 1
        else:
            agree["different verdict"] += 1
            different.append(f"apiserver {server}: {server_msg[:200]} | render {offline}: {offline_msg[:200]} | {obj}")
        for where, outcome, msg in (("apiserver", server, server_msg), ("render", offline, offline_msg)):
            if outcome in ("crash", "denied-without-field"):
                bad.append(f"{where} {outcome}: {msg[:300]}\n  {obj}")

    check()
    print(
        f"\nbad input ({EXAMPLES} generated Glances): {dict(counts['apiserver'])=} {dict(counts['render'])=} {agree=}"
    )
    print("\n".join(different[:8]))
    assert not bad, "\n".join(bad[:10])
    for where in counts:
        assert counts[where]["accepted"] > 0 and counts[where]["denied"] > 0, counts
    assert webhooks.server.serving
