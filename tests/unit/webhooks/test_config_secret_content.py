"""`customServiceConfigSecrets` content: the option catalogue check the controller runs (no admission review
carries Secret content, so the webhook cannot). Pure: the controller's `config_secrets` over a fake cache."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from glance_operator.api.defaults import Defaults
from glance_operator.api.v1beta1 import GlanceAPI
from glance_operator.controllers.conditions import Conditions
from glance_operator.controllers.glance import SECRET, Waiting
from glance_operator.controllers.glanceapi import CONFIG_READY, GlanceAPIController, Pass
from glance_operator.runtime.kinds import Kind

NS = "openstack"
RBD = "[DEFAULT]\nenabled_backends = ceph:rbd\n"


class Secrets:
    """The one thing `config_secrets` reads from the cache."""

    def __init__(self, **secrets: dict[str, str | bytes]) -> None:
        self.secrets = {
            name: {
                "data": {
                    k: base64.b64encode(v if isinstance(v, bytes) else v.encode()).decode() for k, v in data.items()
                }
            }
            for name, data in secrets.items()
        }

    def get(self, kind: Kind, namespace: str, name: str) -> dict[str, Any] | None:
        assert (kind, namespace) == (SECRET, NS)
        return self.secrets.get(name)


def check(cache: Secrets, *names: str, config: str = "") -> tuple[Any, Pass]:
    api = GlanceAPI.model_validate(
        {
            "apiVersion": "glance.openstack.org/v1beta1",
            "kind": "GlanceAPI",
            "metadata": {"name": "glance-default-single", "namespace": NS},
            "spec": {"customServiceConfig": config, "customServiceConfigSecrets": list(names)},
        }
    )
    p = Pass(api, {}, Conditions([]), {})
    controller = GlanceAPIController(cache, None, Defaults())  # type: ignore[arg-type]
    try:
        return controller.config_secrets(p), p
    except Waiting:
        return None, p


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        # the wrong type: an int option given "abc"
        ("[DEFAULT]\nimage_size_cap = abc\n", "line 2: [DEFAULT] image_size_cap: the value is not an integer"),
        (
            "[DEFAULT]\nimage_size_cap = 1000\nimage_size_capp = 5\n",
            "line 3: [DEFAULT] image_size_capp: unknown option",
        ),
        ("[DEFAULT]\ndebug = maybe\n", "line 2: [DEFAULT] debug: the value is not a boolean"),
        ("[database]\nconnection = sqlite://\n", "line 2: [database] connection: cannot be set in customServiceConfig"),
        ("[DEFAULT\nx = 1\n", "cannot parse as an INI file: line 1"),
    ],
)
def test_bad_secret_content_is_reported_on_service_config_ready(content: str, problem: str) -> None:
    result, p = check(Secrets(extra={"extra.conf": content}), "extra")
    assert result is None  # nothing is rendered, so no pod gets the config
    c = p.conditions.get(CONFIG_READY)
    assert c is not None and (c.status, c.reason, c.severity) == ("False", "Error", "Warning")
    assert c.message.startswith("Service config create error occurred Secret extra key extra.conf: ")
    assert problem in c.message


def test_every_problem_of_every_secret_and_key_is_listed_and_values_are_not_shown() -> None:
    cache = Secrets(
        one={"a.conf": "[DEFAULT]\nimage_size_cap = abc\n", "b.conf": "[DEFAULT]\nimage_size_cap = 10\n"},
        two={"c.conf": "[ceph]\nrbd_store_chunk_size = big\nrbd_store_user = s3cr3t-user\n"},
    )
    _, p = check(cache, "one", "two", config=RBD)
    c = p.conditions.get(CONFIG_READY)
    assert c is not None and c.status == "False"
    assert "Secret one key a.conf: line 2: [DEFAULT] image_size_cap: the value is not an integer" in c.message
    # store sections of the API's own enabled_backends are known in Secret content too
    assert "Secret two key c.conf: line 2: [ceph] rbd_store_chunk_size: the value is not an integer" in c.message
    assert "b.conf" not in c.message and "s3cr3t" not in c.message


def test_good_secret_content_is_passed_on() -> None:
    content = "[DEFAULT]\nimage_size_cap = 1000\n[ceph]\nrbd_store_pool = images\n"
    result, p = check(Secrets(extra={"extra.conf": content}), "extra", config=RBD)
    assert result == (("extra", {"extra.conf": content}),)
    c = p.conditions.get(CONFIG_READY)
    assert c is None or c.status != "False"


@pytest.mark.parametrize(
    "content",
    [
        "[DEFAULT]\nworkers = hunter2-secret\n",  # a wrong type
        "[DEFAULT\npassword = hunter2-secret\n",  # a bad section header: the line is not quoted
        "[DEFAULT]\nhunter2-secret\n",  # a line without `=`
        "[glance_store]\ndefault_backend = hunter2-secret\n[DEFAULT]\ndebug = hunter2-secret\n",
        "[DEFAULT]\nimage_cache_driver = hunter2-secret\n",  # not one of the choices: no did-you-mean
    ],
)
def test_secret_content_never_reaches_the_condition(content: str) -> None:
    """Secret content is checked without quoting it: conditions are readable by more people than Secrets."""
    _, p = check(Secrets(extra={"extra.conf": content}), "extra")
    c = p.conditions.get(CONFIG_READY)
    assert c is not None and c.status == "False"
    assert "hunter2" not in c.message


def test_binary_secret_content_is_reported_not_crashed_on() -> None:
    _, p = check(Secrets(extra={"extra.conf": b"\xff\xfe[DEFAULT]\n"}), "extra")
    c = p.conditions.get(CONFIG_READY)
    assert c is not None and c.status == "False" and "Secret extra key extra.conf" in c.message
