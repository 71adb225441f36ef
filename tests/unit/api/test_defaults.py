"""Webhook defaulting, spec §3.2, plus the keys the stored object gains through admission (§3.2, last
paragraph). Deliberate deviations (defects 2, 9, 38 of §9) test our documented behaviour."""

from __future__ import annotations

from typing import Any

import pytest

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults, default_glance, default_glance_api
from glance_operator.api.v1beta1 import Glance, GlanceAPI

FALLBACK_IMAGE = "quay.io/podified-antelope-centos9/openstack-glance-api:current-podified"
IMAGE_ENV = "RELATED_IMAGE_GLANCE_API_IMAGE_URL_DEFAULT"
PLACEHOLDER_LINES = ["[DEFAULT]", "enabled_backends=backend1:type1 # CHANGE_ME"]
CLEANER = "*/30 * * * *"
PRUNER = "1 0 * * *"


def glance(**spec: Any) -> Glance:
    return Glance.model_validate({"metadata": {"name": "glance", "namespace": "openstack"}, "spec": spec})


def glance_api(**spec: Any) -> GlanceAPI:
    return GlanceAPI.model_validate(
        {"metadata": {"name": "glance-default-single", "namespace": "openstack"}, "spec": spec}
    )


# --- Defaults read at start-up --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "image"),
    [
        pytest.param({}, FALLBACK_IMAGE, id="env-unset-fallback"),
        pytest.param({IMAGE_ENV: "registry.example/glance:1.2"}, "registry.example/glance:1.2", id="env-set"),
        pytest.param({"RELATED_IMAGE_OTHER": "x/y:z"}, FALLBACK_IMAGE, id="other-env-ignored"),
    ],
)
def test_defaults_from_env_image(env: dict[str, str], image: str) -> None:
    assert Defaults.from_env(env).container_image == image


def test_defaults_from_env_fixed_values() -> None:
    # "db-purge age 30, db-purge schedule `1 0 * * *`, cleaner `*/30 * * * *`, pruner `1 0 * * *`, apiTimeout 60"
    d = Defaults.from_env({IMAGE_ENV: "x/y:z"})
    assert (d.db_purge_age, d.db_purge_schedule, d.cleaner_schedule, d.pruner_schedule, d.api_timeout) == (
        30,
        "1 0 * * *",
        CLEANER,
        PRUNER,
        60,
    )


# --- Glance defaulting, rule by rule (§3.2 steps 1-8) ---------------------------------------------

ONE_API = {"default": {"type": "single"}}


@pytest.mark.parametrize(
    ("env", "given", "expected"),
    [
        pytest.param({}, "", FALLBACK_IMAGE, id="empty-fallback"),
        pytest.param({IMAGE_ENV: "reg/glance:env"}, "", "reg/glance:env", id="empty-from-env"),
        pytest.param({IMAGE_ENV: "reg/glance:env"}, "reg/glance:mine", "reg/glance:mine", id="set-kept"),
    ],
)
def test_step1_container_image(env: dict[str, str], given: str, expected: str) -> None:
    out = default_glance(glance(containerImage=given, glanceAPIs=ONE_API), Defaults.from_env(env))
    assert out.spec.container_image == expected


@pytest.mark.parametrize(
    ("storage", "external"),
    [
        pytest.param({}, True, id="no-storage-external"),
        pytest.param({"storageClass": "local"}, True, id="class-only-external"),
        pytest.param({"storageRequest": "10G"}, False, id="request-set-not-external"),
        # "never reset to false later"
        pytest.param({"storageRequest": "10G", "external": True}, True, id="request-set-external-kept"),
        pytest.param({"external": False}, True, id="explicit-false-without-request-overridden"),
    ],
)
def test_step2_storage_external(storage: dict[str, Any], external: bool) -> None:
    out = default_glance(glance(storage=storage, glanceAPIs=ONE_API), Defaults())
    assert out.spec.storage.external is external
    assert out.spec.storage.storage_request == storage.get("storageRequest", "")


@pytest.mark.parametrize(
    ("given", "expected"),
    [pytest.param(0, 60, id="zero-to-60"), pytest.param(120, 120, id="set-kept")],
)
def test_step3_api_timeout(given: int, expected: int) -> None:
    out = default_glance(glance(apiTimeout=given, glanceAPIs=ONE_API), Defaults())
    assert out.spec.api_timeout == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param({}, {"age": 30, "schedule": "1 0 * * *"}, id="both-defaulted"),
        pytest.param({"age": 0, "schedule": ""}, {"age": 30, "schedule": "1 0 * * *"}, id="zero-values"),
        pytest.param({"age": 7}, {"age": 7, "schedule": "1 0 * * *"}, id="age-kept"),
        pytest.param({"schedule": "0 3 * * 0"}, {"age": 30, "schedule": "0 3 * * 0"}, id="schedule-kept"),
        pytest.param({"age": 2, "schedule": "5 5 * * *"}, {"age": 2, "schedule": "5 5 * * *"}, id="both-kept"),
    ],
)
def test_step4_db_purge(given: dict[str, Any], expected: dict[str, Any]) -> None:
    out = default_glance(glance(dbPurge=given, glanceAPIs=ONE_API), Defaults())
    assert {"age": out.spec.db_purge.age, "schedule": out.spec.db_purge.schedule} == expected


@pytest.mark.parametrize(
    ("spec", "cluster"),
    [
        pytest.param({"notificationBusInstance": "rabbitmq"}, None, id="deprecated-not-migrated"),
        pytest.param({"notificationsBus": {"cluster": "rabbitmq"}}, "rabbitmq", id="new-kept"),
    ],
)
def test_step5_notifications_bus_not_defaulted(spec: dict[str, Any], cluster: str | None) -> None:
    out = default_glance(glance(glanceAPIs=ONE_API, **spec), Defaults())
    assert out.spec.notification_bus_instance == spec.get("notificationBusInstance")
    bus = out.spec.notifications_bus
    assert (bus.cluster if bus else None) == cluster


@pytest.mark.parametrize(
    ("spec", "config_lines"),
    [
        pytest.param({}, PLACEHOLDER_LINES, id="no-config-gets-placeholder"),
        pytest.param({"keystoneEndpoint": "other"}, PLACEHOLDER_LINES, id="keystone-endpoint-forced"),
        # defect 9 fix (ours): upstream replaces the user's config with the placeholder; we keep it
        pytest.param(
            {"customServiceConfig": "[DEFAULT]\nenabled_backends=default_backend:rbd"},
            ["[DEFAULT]", "enabled_backends=default_backend:rbd"],
            id="defect9-user-config-kept",
        ),
    ],
)
def test_step6_empty_glance_apis(spec: dict[str, Any], config_lines: list[str]) -> None:
    out = default_glance(glance(glanceAPIs={}, **spec), Defaults())
    assert out.spec.keystone_endpoint == "default"
    assert out.spec.custom_service_config.splitlines() == config_lines
    assert list(out.spec.glance_apis) == ["default"]
    api = out.spec.glance_apis["default"]
    assert api.replicas == 0
    assert api.type == "split"  # "type later defaulted to split by the CRD schema"


def test_step6_not_applied_when_apis_exist() -> None:
    out = default_glance(glance(glanceAPIs={"a": {"type": "single"}, "b": {"type": "single"}}), Defaults())
    assert sorted(out.spec.glance_apis) == ["a", "b"]
    assert out.spec.custom_service_config == ""
    assert out.spec.keystone_endpoint == ""


@pytest.mark.parametrize(
    ("top_timeout", "api", "expected"),
    [
        pytest.param(60, {}, {"cleaner": CLEANER, "pruner": PRUNER, "apiTimeout": 60}, id="all-empty-defaulted"),
        pytest.param(0, {}, {"cleaner": CLEANER, "pruner": PRUNER, "apiTimeout": 60}, id="top-timeout-defaulted-first"),
        pytest.param(300, {}, {"cleaner": CLEANER, "pruner": PRUNER, "apiTimeout": 300}, id="timeout-from-top-level"),
        pytest.param(
            300,
            {"apiTimeout": 45},
            {"cleaner": CLEANER, "pruner": PRUNER, "apiTimeout": 45},
            id="api-timeout-kept",
        ),
        pytest.param(
            60,
            {"imageCache": {"cleanerScheduler": "*/5 * * * *"}},
            {"cleaner": "*/5 * * * *", "pruner": PRUNER, "apiTimeout": 60},
            id="cleaner-kept",
        ),
        pytest.param(
            60,
            {"imageCache": {"prunerScheduler": "2 2 * * *", "size": "5G"}},
            {"cleaner": CLEANER, "pruner": "2 2 * * *", "apiTimeout": 60},
            id="pruner-kept",
        ),
    ],
)
def test_step7_per_api(top_timeout: int, api: dict[str, Any], expected: dict[str, Any]) -> None:
    out = default_glance(glance(apiTimeout=top_timeout, glanceAPIs={"a": api, "b": {}}), Defaults())
    for key in ("a", "b"):
        got = out.spec.glance_apis[key]
        assert got.image_cache.cleaner_scheduler == (expected["cleaner"] if key == "a" else CLEANER)
        assert got.image_cache.pruner_scheduler == (expected["pruner"] if key == "a" else PRUNER)
    assert out.spec.glance_apis["a"].api_timeout == expected["apiTimeout"]
    assert out.spec.glance_apis["b"].api_timeout == (top_timeout or 60)


def test_step7_top_level_image_cache_schedules_untouched() -> None:
    # only per-API schedules are defaulted by the webhook
    out = default_glance(glance(glanceAPIs=ONE_API), Defaults())
    assert (out.spec.image_cache.cleaner_scheduler, out.spec.image_cache.pruner_scheduler) == ("", "")


@pytest.mark.parametrize(
    ("apis", "given", "expected"),
    [
        pytest.param({"central": {}}, "", "central", id="exactly-one-api-selected"),
        pytest.param({"edge0": {"type": "edge"}}, "", "edge0", id="one-edge-api-still-selected"),
        pytest.param({"central": {}}, "other", "other", id="set-value-kept"),
        pytest.param({"a": {}, "b": {}}, "", "", id="two-apis-not-selected"),
        pytest.param({"a": {}, "b": {}}, "b", "b", id="two-apis-set-kept"),
    ],
)
def test_step8_keystone_endpoint(apis: dict[str, Any], given: str, expected: str) -> None:
    out = default_glance(glance(glanceAPIs=apis, keystoneEndpoint=given), Defaults())
    assert out.spec.keystone_endpoint == expected


def test_default_glance_returns_a_copy() -> None:
    original = glance(glanceAPIs={})
    default_glance(original, Defaults())
    assert original.spec.glance_apis == {}
    assert original.spec.container_image == ""


# --- GlanceAPI defaulting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "given", "expected"),
    [
        # defect 2 fix (ours): upstream writes "" because SetupAPIDefaults is never called
        pytest.param({}, "", FALLBACK_IMAGE, id="defect2-empty-gets-fallback"),
        pytest.param({IMAGE_ENV: "reg/glance:env"}, "", "reg/glance:env", id="defect2-empty-gets-env-image"),
        pytest.param({IMAGE_ENV: "reg/glance:env"}, "reg/glance:mine", "reg/glance:mine", id="set-kept"),
    ],
)
def test_glance_api_container_image_defect2(env: dict[str, str], given: str, expected: str) -> None:
    out = default_glance_api(glance_api(containerImage=given), Defaults.from_env(env))
    assert out.spec.container_image == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # defect 38 fix (ours): without it probes get period 0 and httpd `Timeout 0`
        pytest.param(0, 60, id="defect38-zero-to-60"),
        pytest.param(90, 90, id="set-kept"),
    ],
)
def test_glance_api_api_timeout_defect38(given: int, expected: int) -> None:
    assert default_glance_api(glance_api(apiTimeout=given), Defaults()).spec.api_timeout == expected


# --- materialised keys on the stored object (admission pipeline) ----------------------------------

EMPTY_API_KEYS = {
    "override": {},
    "resources": {},
    "storage": {},
    "auth": {},
    "tls": {"api": {"internal": {}, "public": {}}},
}


def admit_glance(spec: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, Any]:
    doc = {
        "apiVersion": "glance.openstack.org/v1beta1",
        "kind": "Glance",
        "metadata": {"name": "glance", "namespace": "openstack"},
        "spec": {"databaseInstance": "openstack", "secret": "osp-secret", **spec},
    }
    result = admit(doc, Defaults.from_env(env or {}), namespace="openstack")
    assert [str(e) for e in result.errors] == []
    assert result.object is not None
    stored: dict[str, Any] = result.object["spec"]
    return stored


MINIMAL_API = {"glanceAPIs": {"default": {"type": "single"}}}


@pytest.mark.parametrize(
    ("spec", "key", "expected"),
    [
        pytest.param(
            MINIMAL_API,
            "imageCache",
            {"size": "", "cleanerScheduler": "", "prunerScheduler": ""},
            id="imageCache-omitted-empty-strings",
        ),
        pytest.param(
            {**MINIMAL_API, "imageCache": {"size": "10G"}},
            "imageCache",
            {"size": "10G", "cleanerScheduler": CLEANER, "prunerScheduler": PRUNER},
            id="imageCache-given-gets-crd-schedules",
        ),
        pytest.param(
            MINIMAL_API,
            "quotas",
            {"imageSizeTotal": 0, "imageStageTotal": 0, "imageCountTotal": 0, "imageCountUpload": 0},
            id="quotas-zeros",
        ),
        pytest.param(MINIMAL_API, "dbPurge", {"age": 30, "schedule": "1 0 * * *"}, id="dbPurge"),
        pytest.param(MINIMAL_API, "storage", {"external": True}, id="storage-external"),
        pytest.param(MINIMAL_API, "preserveJobs", False, id="preserveJobs"),
        pytest.param(MINIMAL_API, "apiTimeout", 60, id="apiTimeout"),
        pytest.param(MINIMAL_API, "containerImage", FALLBACK_IMAGE, id="containerImage"),
        pytest.param(MINIMAL_API, "keystoneEndpoint", "default", id="keystoneEndpoint-only-api"),
        pytest.param(MINIMAL_API, "passwordSelectors", {"service": "GlancePassword"}, id="passwordSelectors"),
        pytest.param(MINIMAL_API, "memcachedInstance", "memcached", id="memcachedInstance"),
    ],
)
def test_stored_top_level_keys(spec: dict[str, Any], key: str, expected: Any) -> None:
    assert admit_glance(spec)[key] == expected


def test_stored_container_image_from_env() -> None:
    assert admit_glance(MINIMAL_API, {IMAGE_ENV: "reg/glance:env"})["containerImage"] == "reg/glance:env"


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        pytest.param(
            {},
            {
                **EMPTY_API_KEYS,
                "replicas": 1,
                "type": "split",
                "apiTimeout": 60,
                "imageCache": {"size": "", "cleanerScheduler": CLEANER, "prunerScheduler": PRUNER},
            },
            id="empty-entry-type-split-from-crd",
        ),
        pytest.param(
            {"type": "single", "replicas": 3, "apiTimeout": 30, "imageCache": {"size": "2G"}},
            {
                **EMPTY_API_KEYS,
                "replicas": 3,
                "type": "single",
                "apiTimeout": 30,
                "imageCache": {"size": "2G", "cleanerScheduler": CLEANER, "prunerScheduler": PRUNER},
            },
            id="user-values-kept",
        ),
    ],
)
def test_stored_per_api_keys(api: dict[str, Any], expected: dict[str, Any]) -> None:
    # a non-file backend, so that a split API with the CRD's 1 replica is accepted
    rbd = "[DEFAULT]\nenabled_backends=default_backend:rbd"
    stored = admit_glance({"glanceAPIs": {"default": api}, "customServiceConfig": rbd})
    assert stored["glanceAPIs"]["default"] == expected


def test_stored_default_api_when_glance_apis_omitted() -> None:
    stored = admit_glance({})
    assert stored["keystoneEndpoint"] == "default"
    assert stored["customServiceConfig"].splitlines() == PLACEHOLDER_LINES
    assert stored["glanceAPIs"] == {
        "default": {
            **EMPTY_API_KEYS,
            "replicas": 0,
            "type": "split",
            "apiTimeout": 60,
            "imageCache": {"size": "", "cleanerScheduler": CLEANER, "prunerScheduler": PRUNER},
        }
    }


def test_stored_default_api_keeps_user_config_defect9() -> None:
    config = "[DEFAULT]\nenabled_backends=default_backend:rbd"
    stored = admit_glance({"customServiceConfig": config})
    assert stored["customServiceConfig"] == config
    assert stored["glanceAPIs"]["default"]["replicas"] == 0


def test_stored_glance_api_defect2_defect38() -> None:
    doc = {
        "apiVersion": "glance.openstack.org/v1beta1",
        "kind": "GlanceAPI",
        "metadata": {"name": "glance-default-single", "namespace": "openstack"},
        "spec": {"serviceAccount": "glance-glance", "databaseHostname": "db.openstack.svc", "secret": "osp"},
    }
    result = admit(doc, Defaults.from_env({IMAGE_ENV: "reg/glance:env"}), namespace="openstack")
    assert [str(e) for e in result.errors] == []
    assert result.object is not None
    spec = result.object["spec"]
    assert (spec["containerImage"], spec["apiTimeout"], spec["apiType"]) == ("reg/glance:env", 60, "single")
