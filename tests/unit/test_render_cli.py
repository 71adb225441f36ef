"""`glance-operator render`: every sample renders completely, deterministically, with secrets redacted."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from glance_operator.cli import main

SAMPLES = sorted(
    (pathlib.Path(__file__).resolve().parents[1].parent / "config/samples").glob("glance_v1beta1_glance_*.yaml")
)


def render(capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["render", *args])
    out, err = capsys.readouterr()
    return code, [d for d in yaml.safe_load_all(out) if d], err


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_renders_the_full_object_set(capsys, sample: pathlib.Path) -> None:
    code, objs, err = render(capsys, "-f", str(sample))
    assert code == 0, err
    kinds = [o["kind"] for o in objs]
    for kind in (
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "MariaDBDatabase",
        "MariaDBAccount",
        "KeystoneService",
        "Job",
        "CronJob",
        "GlanceAPI",
        "StatefulSet",
        "Service",
    ):
        assert kind in kinds, f"{kind} missing from {sample.name}"
    assert kinds.count("GlanceAPI") == kinds.count("StatefulSet")
    assert "KeystoneEndpoint" in kinds
    text = yaml.safe_dump_all(objs)
    for secret in ("db-password", "service-password", "rabbit-password"):
        assert secret not in text


def test_rendering_is_byte_identical_across_runs(capsys) -> None:
    sample = str(SAMPLES[0])
    main(["render", "-f", sample])
    first = capsys.readouterr().out
    main(["render", "-f", sample])
    assert capsys.readouterr().out == first


def test_show_secrets_and_notifications_only_when_configured(capsys) -> None:
    notif = next(p for p in SAMPLES if p.name.endswith("_notifications.yaml"))
    _, objs, _ = render(capsys, "-f", str(notif), "--show-secrets")
    config = next(
        o
        for o in objs
        if o["kind"] == "Secret"
        and o["metadata"]["name"].endswith("-config-data")
        and "02-config.conf" in o["stringData"]
    )
    assert "transport_url = rabbit://glance:rabbit-password@" in config["stringData"]["00-config.conf"]
    assert any(o["kind"] == "TransportURL" for o in objs)
    file_sample = next(p for p in SAMPLES if p.name.endswith("_file.yaml"))
    _, objs, _ = render(capsys, "-f", str(file_sample))
    config = next(o for o in objs if o["kind"] == "Secret" and "02-config.conf" in o.get("stringData", {}))
    assert "driver=noop" in config["stringData"]["00-config.conf"].replace(" ", "")
    assert not any(o["kind"] == "TransportURL" for o in objs)


def test_facts_file_and_output_directory(tmp_path, capsys) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(
        "keystone: {internal_url: 'http://ks:5000', public_url: 'https://ks.example', region: r1}\nendpoint_ids: {glance-default-single: abc}\n"
    )
    out = tmp_path / "out"
    file_sample = next(p for p in SAMPLES if p.name.endswith("_file.yaml"))
    code = main(["render", "-f", str(file_sample), "--facts", str(facts), "-o", str(out)])
    assert code == 0
    files = sorted(out.iterdir())
    assert files[0].name.startswith("00-serviceaccount-")
    secret = yaml.safe_load(next(f for f in files if "secret-glance-default-single-config" in f.name).read_text())
    assert "auth_url=http://ks:5000" in secret["stringData"]["00-config.conf"].replace(" ", "")
    assert "endpoint_id=abc" in secret["stringData"]["00-config.conf"].replace(" ", "")


@pytest.mark.parametrize(
    ("facts", "message"),
    [("bogus: 1\n", "unknown facts: bogus"), ("database: {hostname: x}\n", "malformed facts")],
)
def test_bad_facts_are_reported(tmp_path, capsys, facts: str, message: str) -> None:
    f = tmp_path / "facts.yaml"
    f.write_text(facts)
    code, _, err = render(capsys, "-f", str(SAMPLES[0]), "--facts", str(f))
    assert code == 1
    assert message in err
