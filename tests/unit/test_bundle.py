"""Install manifests and the OLM bundle, checked offline.

RBAC: the ClusterRole in config/rbac/role.yaml must equal what the code uses, derived from the code:
list/watch from the informers the manager registers, create/patch from the kinds the renderers
produce for every sample (the Writer applies each one), delete from the Writer.delete calls in the
controllers. tests/integration/test_rbac.py proves the same role is sufficient on a real apiserver.
"""

from __future__ import annotations

import ast
import json
import pathlib
from typing import Any
from unittest import mock

import pytest
import yaml

from glance_operator.runtime.kinds import Kind, resource

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "config" / "rbac" / "role.yaml"
Rule = tuple[str, str, str]  # (apiGroup, resource, verb)


def role_rules() -> set[Rule]:
    doc = yaml.safe_load(ROLE.read_text())
    return {
        (g, r, v)
        for rule in doc["rules"]
        if "resourceNames" not in rule
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }


def group_resource(kind: Kind) -> tuple[str, str]:
    info = resource(kind)._api_info
    return info.resource.group, info.plural


def informer_kinds() -> set[Kind]:
    from glance_operator.api.defaults import Defaults
    from glance_operator.runtime.manager import Manager, Options

    manager = Manager(Options(), client=mock.MagicMock())
    manager.add_default_controllers(Defaults())
    return set(manager.cache.informers)


def rendered_kinds() -> set[Kind]:
    """Every kind the controllers apply, from rendering every sample with the example facts."""
    from glance_operator.api.admission import admit
    from glance_operator.api.defaults import Defaults
    from glance_operator.api.v1beta1 import Glance
    from glance_operator.render.offline import load_facts, render_all

    kinds: set[Kind] = set()
    for path in sorted((ROOT / "config" / "samples").glob("glance_v1beta1_glance_*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "Glance":
                continue
            result = admit(doc, Defaults(), namespace="openstack")
            assert result.object is not None, (path, result.errors)
            glance = Glance.model_validate(result.object)
            glance.metadata.namespace = "openstack"
            objects, _ = render_all(glance, load_facts(None, "openstack"))
            kinds |= {Kind(o["apiVersion"], o["kind"]) for o in objects}
    return kinds


def deleted_kinds() -> set[Kind]:
    """Kinds passed to `writer.delete(KIND, ...)` in the controllers (module-level Kind constants)."""
    import importlib

    kinds: set[Kind] = set()
    for path in sorted((ROOT / "glance_operator" / "controllers").glob("*.py")):
        module = importlib.import_module(f"glance_operator.controllers.{path.stem}")
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "delete"
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "writer"
            ):
                arg = node.args[0]
                assert isinstance(arg, ast.Name), f"{path.name}:{node.lineno}: delete with a non-constant kind"
                kinds.add(getattr(module, arg.id))
    return kinds


def test_list_watch_grants_are_exactly_the_informers() -> None:
    used = {(*group_resource(k), v) for k in informer_kinds() for v in ("list", "watch")}
    granted = {r for r in role_rules() if r[2] in ("list", "watch")}
    assert granted - used == set(), "list/watch granted on kinds no informer reads"
    assert used - granted == set(), "informers on kinds the role does not let us list/watch"


def test_create_patch_grants_cover_every_applied_kind() -> None:
    rules = role_rules()
    for kind in rendered_kinds():
        group, plural = group_resource(kind)
        assert (group, plural, "create") in rules and (group, plural, "patch") in rules, kind
    # and nothing else may be created: our applied kinds, plus Events
    applied = {group_resource(k) for k in rendered_kinds()} | {("", "events")}
    created = {(g, r) for g, r, v in rules if v == "create"}
    assert created - applied == set()


def test_delete_grants_are_exactly_the_writer_deletes() -> None:
    used = {group_resource(k) for k in deleted_kinds()}
    granted = {(g, r) for g, r, v in role_rules() if v == "delete"}
    assert granted == used


def test_no_get_or_update_on_cached_kinds() -> None:
    # every read goes through the caches; a GET would mean a code path bypassing them
    rules = role_rules()
    assert {r for r in rules if r[2] == "get"} == {("", "events", "get")}
    assert {r for r in rules if r[2] == "update"} == {
        ("glance.openstack.org", "glances/finalizers", "update"),
        ("glance.openstack.org", "glanceapis/finalizers", "update"),
    }
    assert not any(v in ("*", "deletecollection") for _, _, v in rules)


# --- OLM bundle --------------------------------------------------------------------------------------


def _gen_bundle(out: pathlib.Path) -> None:
    import importlib.util

    from glance_operator.testing.binaries import Binaries

    if not Binaries.pinned().kubectl.exists():
        pytest.skip("kubectl not built yet (make control-plane)")
    spec = importlib.util.spec_from_file_location("gen_bundle", ROOT / "hack" / "gen_bundle.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(out)]) == 0


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("bundle")
    _gen_bundle(out)
    return out


def _csv(bundle: pathlib.Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(
        (bundle / "bundle" / "manifests" / "glance-operator.clusterserviceversion.yaml").read_text()
    )
    return doc


def test_checked_in_bundle_is_generated(bundle: pathlib.Path) -> None:
    fresh = sorted(p.relative_to(bundle) for p in (bundle / "bundle").rglob("*") if p.is_file())
    kept = sorted(p.relative_to(ROOT) for p in (ROOT / "bundle").rglob("*") if p.is_file())
    assert fresh == kept, "run `make bundle`"
    for rel in [*fresh, pathlib.Path("bundle.Dockerfile")]:
        assert (bundle / rel).read_text() == (ROOT / rel).read_text(), f"{rel} is stale: run `make bundle`"


def test_csv_required_fields(bundle: pathlib.Path) -> None:
    csv = _csv(bundle)
    assert csv["apiVersion"] == "operators.coreos.com/v1alpha1" and csv["kind"] == "ClusterServiceVersion"
    assert csv["metadata"]["name"] == f"glance-operator.v{csv['spec']['version']}"
    for key in ("displayName", "description", "version", "installModes", "install", "provider", "maintainers"):
        assert csv["spec"].get(key), key
    assert {m["type"] for m in csv["spec"]["installModes"]} == {
        "OwnNamespace",
        "SingleNamespace",
        "MultiNamespace",
        "AllNamespaces",
    }
    assert csv["spec"]["install"]["strategy"] == "deployment"
    examples = json.loads(csv["metadata"]["annotations"]["alm-examples"])
    assert {e["kind"] for e in examples} == {"Glance", "GlanceAPI"}


def test_owned_crds_match_the_generated_crds(bundle: pathlib.Path) -> None:
    csv = _csv(bundle)
    bases = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "config" / "crd" / "bases").glob("*.yaml"))]
    want = {
        (c["metadata"]["name"], v["name"], c["spec"]["names"]["kind"]) for c in bases for v in c["spec"]["versions"]
    }
    owned = {(o["name"], o["version"], o["kind"]) for o in csv["spec"]["customresourcedefinitions"]["owned"]}
    assert owned == want
    assert all(o.get("displayName") and o.get("description") for o in csv["spec"]["customresourcedefinitions"]["owned"])
    shipped = {p.name for p in (bundle / "bundle" / "manifests").glob("glance.openstack.org_*.yaml")}
    assert shipped == {p.name for p in (ROOT / "config" / "crd" / "bases").glob("*.yaml")}


def test_required_crds_are_the_dependencies_we_create_or_read() -> None:
    csv = yaml.safe_load(
        (ROOT / "config" / "manifests" / "bases" / "glance-operator.clusterserviceversion.yaml").read_text()
    )
    required = {r["kind"] for r in csv["spec"]["customresourcedefinitions"]["required"]}
    watched = {
        k.kind for k in informer_kinds() if not k.api_version.startswith(("v1", "apps/", "batch/", "rbac.", "storage."))
    }
    # optional: the operator runs without them (informers tolerate a missing CRD)
    optional = {"Cinder", "Horizon", "NetworkAttachmentDefinition"}
    assert required == watched - optional - {"Glance", "GlanceAPI"}


def test_install_strategy_and_permissions(bundle: pathlib.Path) -> None:
    install = _csv(bundle)["spec"]["install"]["spec"]
    (deployment,) = install["deployments"]
    assert deployment["name"] == "glance-operator-controller-manager"
    pod = deployment["spec"]["template"]["spec"]
    sa = pod["serviceAccountName"]
    assert sa == "glance-operator-controller-manager"
    cluster_rules = [r for p in install["clusterPermissions"] if p["serviceAccountName"] == sa for r in p["rules"]]
    for rule in yaml.safe_load(ROLE.read_text())["rules"]:
        assert rule in cluster_rules, rule
    assert any("coordination.k8s.io" in r["apiGroups"] for p in install["permissions"] for r in p["rules"])
    assert not any(v["name"] == "cert" for v in pod.get("volumes") or []), "OLM mounts webhook certificates itself"


def test_every_related_image_is_referenced(bundle: pathlib.Path) -> None:
    csv = _csv(bundle)
    pod = csv["spec"]["install"]["spec"]["deployments"][0]["spec"]["template"]["spec"]
    referenced = {c["image"] for c in pod["containers"]} | {
        e["value"] for c in pod["containers"] for e in c.get("env") or [] if e["name"].startswith("RELATED_IMAGE_")
    }
    related = {r["image"] for r in csv["spec"]["relatedImages"]}
    assert related == referenced


def test_bundle_metadata_agrees_with_dockerfile(bundle: pathlib.Path) -> None:
    labels = yaml.safe_load((bundle / "bundle" / "metadata" / "annotations.yaml").read_text())["annotations"]
    dockerfile = (bundle / "bundle.Dockerfile").read_text()
    for key, value in labels.items():
        assert f"LABEL {key}={value}" in dockerfile
    assert labels["operators.operatorframework.io.bundle.package.v1"] == "glance-operator"
