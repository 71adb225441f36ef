"""`glance-operator validate`, `crds` and the options of `run`: exit codes and messages, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from unittest import mock

import pytest
import yaml

from glance_operator.cli import build_parser, main, run_options, webhooks_enabled
from glance_operator.runtime.manager import Manager, Options

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


@pytest.mark.parametrize("text", ["", "---\n", "---\n---\n", "# only a comment\n"])
def test_empty_input_is_an_error_not_a_silent_success(tmp_path, capsys, text: str) -> None:
    f = tmp_path / "empty.yaml"
    f.write_text(text)
    code, out, err = run(capsys, "validate", "-f", str(f))
    assert (code, out, err) == (1, "", f"no objects found in {f}\n")


def test_empty_stdin_and_one_empty_file_among_good_ones(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("---\n"))
    assert run(capsys, "validate", "-q", "-f", "-") == (1, "", "no objects found in <stdin>\n")
    good, empty = tmp_path / "good.yaml", tmp_path / "empty.yaml"
    good.write_text(GOOD)
    empty.write_text("")
    code, out, err = run(capsys, "validate", "-f", str(good), "-f", str(empty))
    assert (code, out, err) == (1, "", f"no objects found in {empty}\n")


# --- `glance-operator run`: flags and environment, without running anything ---------------------------------


def run_flags(*argv: str, env: dict[str, str] | None = None) -> Options:
    return run_options(build_parser().parse_args(["run", *argv]), env or {})


def test_webhook_server_listens_on_all_interfaces_unless_told() -> None:
    opts = run_flags()
    assert (opts.webhook_host, opts.webhook_port) == ("", 9443)
    assert opts.webhook_cert_dir == "/tmp/k8s-webhook-server/serving-certs"
    server = Manager(opts, client=mock.MagicMock()).webhooks
    assert server is not None and server.host is None  # None: asyncio binds every interface

    opts = run_flags("--webhook-host", "127.0.0.1", "--webhook-port", "0", "--webhook-cert-dir", "/certs")
    assert (opts.webhook_host, opts.webhook_port, opts.webhook_cert_dir) == ("127.0.0.1", 0, "/certs")
    server = Manager(opts, client=mock.MagicMock()).webhooks
    assert server is not None and (server.host, server.port, str(server.cert_dir)) == ("127.0.0.1", 0, "/certs")


def test_probe_and_metrics_addresses_are_passed_through() -> None:
    opts = run_flags()
    assert (opts.health_probe_bind_address, opts.metrics_bind_address) == (":8081", "0")  # upstream's defaults
    opts = run_flags("--health-probe-bind-address", "127.0.0.1:0", "--metrics-bind-address", "127.0.0.1:0")
    assert (opts.health_probe_bind_address, opts.metrics_bind_address) == ("127.0.0.1:0", "127.0.0.1:0")


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        (None, True),
        ("false", False),
        # upstream compares the exact string (`os.Getenv("ENABLE_WEBHOOKS") != "false"`): anything else is on
        ("", True),
        ("true", True),
        ("False", True),
        ("FALSE", True),
        ("0", True),
        (" false", True),
    ],
)
def test_enable_webhooks_is_upstreams_exact_string_comparison(value: str | None, enabled: bool) -> None:
    env = {} if value is None else {"ENABLE_WEBHOOKS": value}
    assert webhooks_enabled(env) is enabled
    opts = run_flags(env=env)
    assert opts.enable_webhooks is enabled
    assert (Manager(opts, client=mock.MagicMock()).webhooks is not None) is enabled


def test_environment_overrides_of_run() -> None:
    env = {"WATCH_NAMESPACE": "openstack", "LEASE_DURATION": "30", "RENEW_DEADLINE": "20", "RETRY_PERIOD": "5"}
    opts = run_flags(env=env)
    assert opts.namespace == "openstack"
    assert (opts.lease_duration, opts.renew_deadline, opts.retry_period) == (30.0, 20.0, 5.0)
    assert run_flags("--namespace", "mine", env=env).namespace == "mine"
