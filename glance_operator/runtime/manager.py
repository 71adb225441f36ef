"""The manager: one client, shared caches, the controllers, leader election and the probe/metrics server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from dataclasses import dataclass

from lightkube import AsyncClient, KubeConfig

from ..api.defaults import Defaults
from ..webhooks.server import WebhookServer
from .cache import Cache
from .client import Writer
from .controller import Controller
from .events import EventRecorder
from .leader import LeaderElector
from .metrics import HTTPServer, Metrics

log = logging.getLogger(__name__)

LEADER_ELECTION_ID = "c569355b.openstack.org"  # upstream's, so the two never lead at once


@dataclass
class Options:
    kubeconfig: str | None = None
    namespace: str | None = None  # watch one namespace; None = all
    leader_elect: bool = False
    leader_election_namespace: str | None = None
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    health_probe_bind_address: str = ":8081"
    metrics_bind_address: str = "0"
    workers: int = 2
    # admission webhooks (spec §3.1); off unless asked for, `glance-operator run` turns them on
    enable_webhooks: bool = False
    webhook_host: str = ""  # "" = all interfaces (a pod: the apiserver comes through the Service); 127.0.0.1 locally
    webhook_port: int = 9443
    webhook_cert_dir: str = "/tmp/k8s-webhook-server/serving-certs"


def make_client(kubeconfig: str | None) -> AsyncClient:
    config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
    return AsyncClient(config=config, field_manager="glance-operator", trust_env=False)


class Manager:
    def __init__(self, options: Options, client: AsyncClient | None = None) -> None:
        self.options = options
        self.client = client or make_client(options.kubeconfig)
        self.cache = Cache(self.client, options.namespace)
        self.writer = Writer(self.client, self.cache)
        self.metrics = Metrics()
        self.controllers: list[Controller] = []
        self.events: EventRecorder | None = None
        self.ready = asyncio.Event()
        self.stopping = asyncio.Event()
        self.metrics.gauges["workqueue_depth"] = lambda: float(sum(c.queue.depth for c in self.controllers))
        self.metrics.gauges["glance_operator_write_requests_total"] = lambda: float(self.writer.stats.total)
        self.webhooks: WebhookServer | None = None
        if options.enable_webhooks:
            self.webhooks = WebhookServer(options.webhook_cert_dir, options.webhook_port, options.webhook_host)

    def add(self, controller: Controller) -> None:
        controller.metrics = self.metrics
        controller.workers = self.options.workers
        controller.register(self.cache)
        self.controllers.append(controller)

    def add_default_controllers(self, defaults: Defaults) -> None:
        from ..controllers.glance import GlanceController
        from ..controllers.glanceapi import GlanceAPIController

        events = self.events = EventRecorder(self.client, on_write=self.writer.stats.add)
        self.add(GlanceController(self.cache, self.writer, defaults, events).controller())
        self.add(GlanceAPIController(self.cache, self.writer, defaults, events).controller())

    def _readyz(self) -> tuple[int, str]:
        if not self.ready.is_set():
            return 500, "caches not synced\n"
        if self.webhooks is not None and not self.webhooks.serving:
            return 500, "webhook server not serving\n"
        return 200, "ok\n"

    async def _serve_probes(self) -> list[HTTPServer]:
        servers = []
        if self.options.health_probe_bind_address not in ("", "0"):
            probes = HTTPServer(
                {
                    "/healthz": lambda: (200, "ok\n"),
                    "/readyz": self._readyz,
                }
            )
            port = await probes.start(self.options.health_probe_bind_address)
            log.info("serving health probes", extra={"port": port})
            servers.append(probes)
        if self.options.metrics_bind_address not in ("", "0"):
            metrics = HTTPServer({"/metrics": lambda: (200, self.metrics.render())})
            port = await metrics.start(self.options.metrics_bind_address)
            log.info("serving metrics", extra={"port": port})
            servers.append(metrics)
        return servers

    async def run(self) -> None:
        servers = await self._serve_probes()
        tasks: list[asyncio.Task[None]] = []
        elector: LeaderElector | None = None
        try:
            if self.webhooks is not None:
                await self.webhooks.start()  # every replica serves admission, leader or not
            if self.options.leader_elect:
                elector = LeaderElector(
                    self.client,
                    self.options.leader_election_namespace or self.options.namespace or _own_namespace(),
                    LEADER_ELECTION_ID,
                    f"{socket.gethostname()}_{uuid.uuid4()}",  # unique per candidate, as client-go
                    self.options.lease_duration,
                    self.options.renew_deadline,
                    self.options.retry_period,
                )
                self.writer.gate = elector.is_leading
                if self.events is not None:
                    self.events.gate = elector.is_leading
                tasks.append(asyncio.create_task(elector.run(), name="leader-election"))
                log.info("waiting for leadership", extra={"lease": LEADER_ELECTION_ID})
                await _first(elector.leading.wait(), self.stopping.wait())
                if self.stopping.is_set():
                    return
                tasks.append(asyncio.create_task(_stop_on(elector.lost, self.stopping), name="lease-watch"))
            self.cache.start()
            await _first(self.cache.wait_synced(), self.stopping.wait())
            if self.stopping.is_set():
                return
            self.ready.set()
            log.info("caches synced; starting controllers", extra={"kinds": len(self.cache.informers)})
            for c in self.controllers:
                tasks.append(asyncio.create_task(c.run(), name=f"controller {c.name}"))
            await self.stopping.wait()
        finally:
            for c in self.controllers:
                c.queue.shutdown()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if elector is not None and not elector.lost.is_set():
                await elector.release()
            await self.cache.stop()
            for s in servers:
                await s.stop()
            if self.webhooks is not None:
                await self.webhooks.stop()

    def stop(self) -> None:
        self.stopping.set()


async def _first(*aws: object) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]  # type: ignore[call-overload]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t


async def _stop_on(lost: asyncio.Event, stopping: asyncio.Event) -> None:
    await lost.wait()
    stopping.set()


def _own_namespace() -> str:
    path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "default"
