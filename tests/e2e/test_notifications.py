"""The notifications sample: an image.create notification arrives on RabbitMQ."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .client import GlanceClient
from .conftest import Deployer, Deployment, run_in_venv
from .pod import load_sample
from .services.install import Installed
from .services.rabbitmq import RabbitMQ

# Glance publishes to exchange "glance", queue "notifications.info" (declared by the publisher, so messages
# wait for us). An oslo.messaging listener, as Ceilometer would run, polls until it sees the event.
LISTENER = """
import json, queue, sys, time
from oslo_config import cfg
import oslo_messaging
url, image_id, deadline = sys.argv[1], sys.argv[2], time.monotonic() + float(sys.argv[3])
events = queue.Queue()
class Endpoint:
    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        events.put([event_type, payload.get("id") if isinstance(payload, dict) else None, publisher_id])
transport = oslo_messaging.get_notification_transport(cfg.CONF, url=url)
listener = oslo_messaging.get_notification_listener(
    transport, [oslo_messaging.Target(topic="notifications", exchange="glance")], [Endpoint()], executor="threading")
listener.start()
seen = []
while time.monotonic() < deadline and not any(e[:2] == ["image.create", image_id] for e in seen):
    try:
        seen.append(events.get(timeout=0.5))  # poll
    except queue.Empty:
        pass
listener.stop(); listener.wait()
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def notifying_glance(deployer: Deployer, rabbitmq: RabbitMQ) -> Iterator[Deployment]:
    doc, sources = load_sample("glance_v1beta1_glance_notifications.yaml")
    dep = deployer.deploy("notifications", doc, sources)
    yield dep
    deployer.teardown(dep)


def test_transport_rendered(notifying_glance: Deployment, rabbitmq: RabbitMQ) -> None:
    conf = notifying_glance.api().config("00-config.conf")
    assert "driver=messagingv2" in conf and rabbitmq.transport_url in conf


def test_image_create_notification(
    notifying_glance: Deployment, rabbitmq: RabbitMQ, admin_token: str, e2e_venv: Installed
) -> None:
    with GlanceClient(notifying_glance.api().url, admin_token) as c:
        img = c.create_image("e2e-notify")
    seen = run_in_venv(e2e_venv, LISTENER, rabbitmq.transport_url, img["id"], "60")
    assert ["image.create", img["id"]] in [e[:2] for e in seen], f"no image.create for {img['id']}: {seen}"


def test_no_unexpected_errors_logged(notifying_glance: Deployment) -> None:
    assert notifying_glance.api().errors() == []
