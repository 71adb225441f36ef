"""customServiceConfig against Glance's option catalogue (api/options.py, docs/option-checks.md)."""

from __future__ import annotations

from typing import Any

import pytest

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.api.options import catalogue, check_config, parse_ini


def errors(text: str, stores: dict[str, str] | None = None) -> list[str]:
    return check_config(text, stores).errors


def test_catalogue_is_glances() -> None:
    cat = catalogue()
    assert cat["generated_from"]["glance"] == "33.0.0" and cat["generated_from"]["glance_store"] == "5.7.0"
    assert cat["sections"]["DEFAULT"]["enabled_import_methods"]["type"] == "list"
    assert cat["sections"]["keystone_authtoken"]["www_authenticate_uri"]
    assert {"file", "rbd", "cinder", "swift", "s3", "http", "vmware"} <= set(cat["store_types"])


def test_valid_config_passes() -> None:
    text = "[DEFAULT]\ndebug = true\n"
    assert errors(text + "[oslo_policy]\nenforce_new_defaults = true\n[image_format]\ndisk_formats = raw,qcow2\n") == []


def test_misspelt_option_with_did_you_mean() -> None:
    assert errors("[DEFAULT]\ndebg = true\n") == ['line 2: [DEFAULT] debg: unknown option; did you mean "debug"?']


def test_unknown_section_with_did_you_mean() -> None:
    assert errors("[keystone_authtokn]\nauth_url = x\n") == [
        'line 1: unknown section [keystone_authtokn]; did you mean "[keystone_authtoken]"?'
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[DEFAULT]\nimage_size_cap = abc\n", "line 2: [DEFAULT] image_size_cap: 'abc' is not an integer"),
        ("[DEFAULT]\ndebug = maybe\n", "line 2: [DEFAULT] debug: 'maybe' is not a boolean"),
        ("[oslo_messaging_notifications]\nretry = x\n", "'x' is not an integer"),
        ("[DEFAULT]\napi_limit_max = 0\n", "is less than the minimum"),
        ("[keystone_authtoken]\nauth_type = password\nmemcache_pool_dead_retry = ten\n", "not an integer"),
        (
            "[DEFAULT]\nlog_rotation_type = sized\n",
            "'sized' is not one of interval, size, none; did you mean \"size\"?",
        ),
    ],
)
def test_wrong_types_and_choices(text: str, problem: str) -> None:
    (only,) = errors(text)
    assert problem in only


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[DEFAULT]\nlog_file = /tmp/x.log\n", "glance-log container tails"),
        ("[database]\nconnection = sqlite://\n", "MariaDBAccount"),
        ("[DATABASE]\nConnection = sqlite://\n", "MariaDBAccount"),  # oslo folds case: still managed
    ],
)
def test_managed_options_refused(text: str, reason: str) -> None:
    (only,) = errors(text)
    assert "cannot be set in customServiceConfig" in only and reason in only


def test_unparseable_ini_names_the_line() -> None:
    assert errors("[DEFAULT]\ndebug = true\nthis is not an option\n") == [
        "cannot parse as an INI file: line 3: expected `option = value`, got 'this is not an option'"
    ]
    assert errors("debug = true\n") == [
        "cannot parse as an INI file: line 1: option 'debug' appears before any [section]"
    ]
    assert errors("[DEFAULT\n") == ["cannot parse as an INI file: line 1: invalid section header '[DEFAULT'"]


def test_template_values_are_not_type_checked() -> None:
    text = (
        "[DEFAULT]\nenabled_backends = default_backend:cinder\n[default_backend]\n"
        "cinder_store_auth_address = {{ .KeystoneInternalURL }}\ncinder_store_password = {{ .ServicePassword }}\n"
        "cinder_use_multipath = {{ .Multipath }}\n"
    )
    assert errors(text) == []


def test_store_id_sections_take_their_driver_options() -> None:
    rbd = "[DEFAULT]\nenabled_backends = ceph:rbd,fast:file\n[ceph]\nrbd_store_pool = images\nstore_description = x\n"
    assert errors(rbd + "[fast]\nfilesystem_store_datadir = /a\n") == []
    assert errors(rbd + "[fast]\nrbd_store_pool = images\n") == ["line 7: [fast] rbd_store_pool: unknown option"]
    assert errors(rbd + "[ceph]\nrbd_store_chunk_size = big\n") == [
        "line 7: [ceph] rbd_store_chunk_size: 'big' is not an integer"
    ]
    # the rendered default store and the reserved stores are file stores
    assert errors("[default_backend]\nfilesystem_store_datadir = /x\n") == []
    assert errors("[os_glance_staging_store]\nfilesystem_store_datadir = /x\n[os_glance_tasks_store]\n") == []
    # a section for a store id nobody enabled is unknown
    assert errors("[ceph]\nrbd_store_pool = images\n") == ["line 1: unknown section [ceph]"]
    # store ids enabled by the top-level config count for a per-API config
    assert errors("[ceph]\nrbd_store_pool = images\n", {"ceph": "rbd"}) == []


def test_import_plugin_sections() -> None:
    text = (
        "[image_import_opts]\nimage_import_plugins = ['image_conversion', 'image_decompression']\n"
        "[image_conversion]\noutput_format = raw\n[inject_metadata_properties]\nignore_user_roles = admin\n"
        "[image_decompression]\n"
    )
    assert errors(text) == []


def test_placeholder_and_unknown_store_types_are_not_flagged() -> None:
    assert errors("[DEFAULT]\nenabled_backends=backend1:type1 # CHANGE_ME\n[backend1]\nanything = 1\n") == []


def test_deprecated_options_warn() -> None:
    verdict = check_config("[DEFAULT]\nenabled_backends = s:swift\n[s]\nswift_store_user = a:b\n")
    assert not verdict.errors
    assert verdict.warnings == ["line 4: [s] swift_store_user is deprecated for removal"]


def test_parser_follows_oslo() -> None:
    parsed = parse_ini("# c\n[DEFAULT]\n; c\nLog-Dir: /x\nkey = 'quoted'\n  continued\n")
    assert [(e.section, e.name, e.value) for e in parsed.entries] == [
        ("DEFAULT", "log_dir", "/x"),
        ("DEFAULT", "key", "quoted\ncontinued"),
    ]


def _glance(**spec: Any) -> dict[str, Any]:
    base = {"databaseInstance": "openstack", "secret": "osp-secret", "keystoneEndpoint": "default"}
    return {
        "apiVersion": "glance.openstack.org/v1beta1",
        "kind": "Glance",
        "metadata": {"name": "g"},
        "spec": {**base, **spec},
    }


def test_admission_reports_field_paths() -> None:
    doc = _glance(
        customServiceConfig="[DEFAULT]\ndebg = 1\n",
        glanceAPIs={"default": {"type": "single", "customServiceConfig": "[DEFAULT]\ndebug = maybe\n"}},
    )
    result = admit(doc, Defaults())
    assert [str(e) for e in result.errors] == [
        'spec.customServiceConfig: Invalid value: "customServiceConfig": line 2: [DEFAULT] debg: unknown option; '
        'did you mean "debug"?',
        'spec.glanceAPIs[default].customServiceConfig: Invalid value: "customServiceConfig": line 2: [DEFAULT] '
        "debug: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)",
    ]


def test_glanceapi_admission_checks_its_config() -> None:
    doc = {
        "apiVersion": "glance.openstack.org/v1beta1",
        "kind": "GlanceAPI",
        "metadata": {"name": "a"},
        "spec": {"containerImage": "x", "customServiceConfig": "[database]\nconnection = sqlite://\n"},
    }
    (error,) = admit(doc, Defaults()).errors
    assert error.path == "spec.customServiceConfig" and "MariaDBAccount" in error.detail
