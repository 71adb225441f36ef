"""Webhook defaulting for Glance and GlanceAPI (spec §3.2), as pure functions on the models."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .v1beta1 import (
    DEFAULT_API_TIMEOUT,
    DEFAULT_CLEANER_SCHEDULE,
    DEFAULT_DB_PURGE_AGE,
    DEFAULT_DB_PURGE_SCHEDULE,
    DEFAULT_PRUNER_SCHEDULE,
    Glance,
    GlanceAPI,
    GlanceAPITemplate,
)

IMAGE_ENV = "RELATED_IMAGE_GLANCE_API_IMAGE_URL_DEFAULT"
FALLBACK_IMAGE = "quay.io/podified-antelope-centos9/openstack-glance-api:current-podified"
PLACEHOLDER_CONFIG = "[DEFAULT]\nenabled_backends=backend1:type1 # CHANGE_ME"


@dataclass(frozen=True)
class Defaults:
    """Values read once at start-up, as upstream's SetupDefaults does."""

    container_image: str = FALLBACK_IMAGE
    db_purge_age: int = DEFAULT_DB_PURGE_AGE
    db_purge_schedule: str = DEFAULT_DB_PURGE_SCHEDULE
    cleaner_schedule: str = DEFAULT_CLEANER_SCHEDULE
    pruner_schedule: str = DEFAULT_PRUNER_SCHEDULE
    api_timeout: int = DEFAULT_API_TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Defaults:
        env = os.environ if env is None else env
        return cls(container_image=env.get(IMAGE_ENV) or FALLBACK_IMAGE)


def default_glance(glance: Glance, defaults: Defaults) -> Glance:
    """Return a defaulted copy of `glance`, step by step as upstream's `Default()`."""
    g = glance.model_copy(deep=True)
    spec = g.spec
    if not spec.container_image:
        spec.container_image = defaults.container_image
    if not spec.storage.storage_request:
        spec.storage.external = True
    if spec.api_timeout == 0:
        spec.api_timeout = defaults.api_timeout
    if spec.db_purge.age == 0:
        spec.db_purge.age = defaults.db_purge_age
    if not spec.db_purge.schedule:
        spec.db_purge.schedule = defaults.db_purge_schedule
    if not spec.glance_apis:
        spec.keystone_endpoint = "default"
        # Upstream replaces the user's customServiceConfig with the placeholder here (defect 9);
        # we only fill it in when it is empty, so nothing the user wrote is lost.
        if not spec.custom_service_config:
            spec.custom_service_config = PLACEHOLDER_CONFIG
        spec.glance_apis = {"default": GlanceAPITemplate(replicas=0)}
    for api in spec.glance_apis.values():
        _default_template(api, defaults, spec.api_timeout)
    if not spec.keystone_endpoint and len(spec.glance_apis) == 1:
        spec.keystone_endpoint = next(iter(spec.glance_apis))
    return g


def _default_template(api: GlanceAPITemplate, defaults: Defaults, api_timeout: int) -> None:
    if not api.image_cache.cleaner_scheduler:
        api.image_cache.cleaner_scheduler = defaults.cleaner_schedule
    if not api.image_cache.pruner_scheduler:
        api.image_cache.pruner_scheduler = defaults.pruner_schedule
    if api.api_timeout == 0:
        api.api_timeout = api_timeout


def default_glance_api(api: GlanceAPI, defaults: Defaults) -> GlanceAPI:
    """GlanceAPI defaulting. Upstream leaves `containerImage` empty (defect 2); we use the default image."""
    a = api.model_copy(deep=True)
    if not a.spec.container_image:
        a.spec.container_image = defaults.container_image
    # Without a value the probes get period 0 and httpd `Timeout 0` (defect 38).
    if a.spec.api_timeout == 0:
        a.spec.api_timeout = defaults.api_timeout
    return a
