"""`glance-operator validate` and `crds`: exit codes and messages, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import yaml

from glance_operator.cli import main

GOOD = textwrap.dedent(
    """\
    apiVersion: glance.openstack.org/v1beta1
    kind: Glance
    metadata: {name: glance, namespace: openstack}
    spec:
      databaseInstance: openstack
      secret: osp-secret
      storage: {storageRequest: 10G}
      glanceAPIs:
        default: {type: single, replicas: 1}
    """
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_object_prints_the_defaulted_object(tmp_path, capsys) -> None:
    f = tmp_path / "glance.yaml"
    f.write_text(GOOD)
    code, out, _ = run(capsys, "validate", "-f", str(f))
    assert code == 0
    (stored,) = list(yaml.safe_load_all(out))
    assert stored["spec"]["containerImage"].startswith("quay.io/")
    assert stored["spec"]["keystoneEndpoint"] == "default"
    assert stored["spec"]["glanceAPIs"]["default"]["apiTimeout"] == 60


def test_several_documents_and_stdin(monkeypatch, capsys) -> None:
    two = GOOD + "---\n" + GOOD.replace("name: glance,", "name: other,")
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(two))
    code, out, _ = run(capsys, "validate", "-f", "-")
    assert code == 0
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(out)] == ["glance", "other"]


def test_every_error_is_listed_with_its_field_and_exit_1(tmp_path, capsys) -> None:
    bad = GOOD.replace("default: {type: single, replicas: 1}", "default: {type: double, replcas: 1}")
    f = tmp_path / "bad.yaml"
    f.write_text(bad)
    code, out, err = run(capsys, "validate", "-f", str(f))
    assert code == 1
    assert out == ""
    assert (
        'spec.glanceAPIs[default].type: Unsupported value: "double": supported values: "split", "single", "edge"' in err
    )
    assert (
        'spec.glanceAPIs[default].replcas: Unknown field: field "replcas" is not known; did you mean "replicas"?' in err
    )


def test_webhook_rule_violation_is_reported(tmp_path, capsys) -> None:
    f = tmp_path / "split-file.yaml"
    f.write_text(GOOD.replace("type: single", "type: split"))
    code, _, err = run(capsys, "validate", "-f", str(f))
    assert code == 1
    assert (
        'spec.glanceAPIs[default]: Invalid value: "default": The GlanceAPI layout type: split cannot be used '
        "in combination with File and NFS backend" in err
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("spec: [unclosed", "invalid YAML"),
        (
            GOOD.replace("v1beta1", "v1"),
            'apiVersion: Invalid value: "glance.openstack.org/v1": must be glance.openstack.org/v1beta1',
        ),
        (
            GOOD.replace("kind: Glance", "kind: Glunce"),
            'kind: Invalid value: "Glunce": must be Glance or GlanceAPI',
        ),
        ("- just\n- a list\n", 'Invalid value: "list": a Kubernetes object must be a mapping'),
        (
            GOOD.replace("metadata: {name: glance, namespace: openstack}", "metadata: {}"),
            "metadata.name: Required value",
        ),
    ],
)
def test_bad_input_gets_a_one_line_error(tmp_path, capsys, text: str, message: str) -> None:
    f = tmp_path / "x.yaml"
    f.write_text(text)
    code, _, err = run(capsys, "validate", "-f", str(f))
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_foreign_documents_are_skipped(tmp_path, capsys) -> None:
    f = tmp_path / "with-secret.yaml"
    f.write_text(GOOD + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: osp-secret}\n")
    code, out, err = run(capsys, "validate", "-f", str(f))
    assert code == 0
    assert "skipped v1/Secret" in err
    assert len(list(yaml.safe_load_all(out))) == 1


def test_missing_file_is_a_usage_error(capsys) -> None:
    code, _, err = run(capsys, "validate", "-f", "/nonexistent/glance.yaml")
    assert code == 2
    assert "cannot read" in err


def test_console_script_exit_code_without_traceback(tmp_path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("a: [")
    proc = subprocess.run(
        [sys.executable, "-m", "glance_operator", "validate", "-f", str(f)], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{f}:")


def test_crds_command_prints_both_crds(capsys) -> None:
    code, out, _ = run(capsys, "crds")
    assert code == 0
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(out)]
    assert names == ["glances.glance.openstack.org", "glanceapis.glance.openstack.org"]
