"""`glance-operator render`: every sample (Glance and standalone GlanceAPI) renders completely,
deterministically, with secrets redacted; the facts file feeds what the controllers would observe."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from glance_operator.cli import main

SAMPLE_DIR = pathlib.Path(__file__).resolve().parents[1].parent / "config/samples"
SAMPLES = sorted(SAMPLE_DIR.glob("glance_v1beta1_*.yaml"))
GLANCE_SAMPLES = [p for p in SAMPLES if p.name.startswith("glance_v1beta1_glance_")]
API_SAMPLE = SAMPLE_DIR / "glance_v1beta1_glanceapi.yaml"


def render(capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["render", *args])
    out, err = capsys.readouterr()
    return code, [d for d in yaml.safe_load_all(out) if d], err


def test_every_sample_file_is_rendered_here() -> None:
    files = {p.name for p in SAMPLE_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert {p.name for p in SAMPLES} == files
    assert API_SAMPLE in SAMPLES


@pytest.mark.parametrize("sample", GLANCE_SAMPLES, ids=lambda p: p.name)
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


def test_standalone_glance_api_renders_its_objects(capsys) -> None:
    code, objs, err = render(capsys, "-f", str(API_SAMPLE))
    assert code == 0, err
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("Secret", "glance-standalone-single-config-data"),
        ("Service", "glance-standalone-single"),
        ("Service", "glance-standalone-internal"),
        ("Service", "glance-standalone-public"),
        ("StatefulSet", "glance-standalone-single"),
    ]
    text = yaml.safe_dump_all(objs)
    for secret in ("db-password", "service-password"):
        assert secret not in text


def test_file_without_glance_or_glance_api_is_refused(tmp_path, capsys) -> None:
    f = tmp_path / "secret.yaml"
    f.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n")
    code, _, err = render(capsys, "-f", str(f))
    assert code == 1
    assert "no Glance or GlanceAPI object found" in err


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_rendering_is_byte_identical_across_runs(capsys, sample: pathlib.Path) -> None:
    main(["render", "-f", str(sample)])
    first = capsys.readouterr().out
    assert first
    main(["render", "-f", str(sample)])
    assert capsys.readouterr().out == first


def test_show_secrets_and_notifications_only_when_configured(capsys) -> None:
    notif = next(p for p in GLANCE_SAMPLES if p.name.endswith("_notifications.yaml"))
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
    file_sample = next(p for p in GLANCE_SAMPLES if p.name.endswith("_file.yaml"))
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
    file_sample = next(p for p in GLANCE_SAMPLES if p.name.endswith("_file.yaml"))
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


def test_secrets_shipped_in_the_file_feed_03_config(capsys) -> None:
    s3 = SAMPLE_DIR / "glance_v1beta1_glance_s3.yaml"
    _, objs, err = render(capsys, "-f", str(s3), "--show-secrets")
    assert "not in the facts" not in err
    configs = [o for o in objs if o["kind"] == "Secret" and "03-config.conf" in o["stringData"]]
    assert len(configs) == 2
    for config in configs:
        assert "s3_store_access_key = REPLACE_WITH_ACCESS_KEY" in config["stringData"]["03-config.conf"]
    # redacted by default: the option names stay reviewable, the values do not show
    _, objs, _ = render(capsys, "-f", str(s3))
    text = next(o for o in objs if o["kind"] == "Secret" and "03-config.conf" in o["stringData"])["stringData"]
    assert "s3_store_access_key = <redacted>" in text["03-config.conf"]
    assert "REPLACE_WITH" not in yaml.safe_dump_all(objs)


def test_facts_topology_cinder_tls_secrets_and_ipv6_memcached(tmp_path, capsys) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(
        yaml.safe_dump(
            {
                "cinder_present": False,
                "topologies": {"zones": {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone"}]}},
                "secrets": {
                    "combined-ca-bundle": {"tls-ca-bundle.pem": "CA"},
                    "cert-glance-default-public-svc": {"tls.crt": "C", "tls.key": "K"},
                },
                "absent_secrets": ["cert-glance-default-internal-svc"],
                "memcached": {
                    "servers": ["memcached-0.memcached.openstack.svc:11211"],
                    "servers_with_inet": ["inet6:[memcached-0.memcached.openstack.svc]:11211"],
                },
            }
        )
    )
    tls = (SAMPLE_DIR / "glance_v1beta1_glance_tls.yaml").read_text()
    glance = tmp_path / "glance.yaml"
    glance.write_text(tls.replace("      replicas: 1\n", "      replicas: 1\n      topologyRef: {name: zones}\n"))
    code, objs, err = render(capsys, "-f", str(glance), "--facts", str(facts))
    assert code == 0, err
    assert "cert-glance-default-internal-svc' does not exist" in err
    sts = next(o for o in objs if o["kind"] == "StatefulSet")
    pod_spec = sts["spec"]["template"]["spec"]
    assert pod_spec["topologySpreadConstraints"][0]["labelSelector"] == {
        "matchLabels": sts["spec"]["selector"]["matchLabels"]
    }
    config = next(o for o in objs if o["kind"] == "Secret" and "02-config.conf" in o["stringData"])
    assert (
        "memcached_servers = inet6:[memcached-0.memcached.openstack.svc]:11211"
        in config["stringData"]["00-config.conf"]
    )
    # the TLS Secrets' content changes CONFIG_HASH, as in the controller

    def hash_of(objs: list[dict]) -> str:
        sts = next(o for o in objs if o["kind"] == "StatefulSet")
        env = sts["spec"]["template"]["spec"]["containers"][0]["env"]
        return next(e["value"] for e in env if e["name"] == "CONFIG_HASH")

    facts.write_text(facts.read_text().replace("tls.crt: C", "tls.crt: C2"))
    _, changed, _ = render(capsys, "-f", str(glance), "--facts", str(facts))
    assert hash_of(changed) != hash_of(objs)
    # a cinder backend without a Cinder CR is reported
    cinder = SAMPLE_DIR / "glance_v1beta1_glance_cinder.yaml"
    code, _, err = render(capsys, "-f", str(cinder), "--facts", str(facts))
    assert code == 0
    assert "no Cinder CR" in err
