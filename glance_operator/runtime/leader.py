"""Lease-based leader election (coordination.k8s.io/v1), as client-go's leaderelection.

The holder renews the Lease every `retry_period`; a candidate takes it over once
`renewTime + leaseDuration` has passed. Updates carry the resourceVersion read, so two candidates
cannot both win. A leader that cannot renew within `renew_deadline` stops leading (the manager then
exits, and a fresh process starts as a candidate), as controller-runtime does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.types import PatchType

from .kinds import Kind, resource

log = logging.getLogger(__name__)
LEASE = Kind("coordination.k8s.io/v1", "Lease")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class LeaderElector:
    def __init__(
        self,
        client: AsyncClient,
        namespace: str,
        name: str,
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
    ) -> None:
        self.client = client
        self.namespace, self.name, self.identity = namespace, name, identity
        self.lease_duration, self.renew_deadline, self.retry_period = (
            lease_duration,
            renew_deadline,
            retry_period,
        )
        self.leading = asyncio.Event()
        self.lost = asyncio.Event()
        self._renewed_at = 0.0  # monotonic time of the last successful acquire/renew

    def is_leading(self) -> bool:
        """Still the leader right now: a process that was paused past its renew deadline is not, even
        before its renew loop notices, so it must not write (another process may lead by now)."""
        fresh = time.monotonic() - self._renewed_at < self.renew_deadline
        return self.leading.is_set() and not self.lost.is_set() and fresh

    async def _try(self) -> bool:
        res = resource(LEASE)
        now = _now()
        try:
            lease = (await self.client.get(res, self.name, namespace=self.namespace)).to_dict()
        except ApiError as exc:
            if exc.status.code != 404:
                raise
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(now, now, 0),
            }
            try:
                await self.client.create(res(**_lease_kwargs(body)))
            except ApiError as create_exc:
                if create_exc.status.code == 409:
                    return False
                raise
            return True
        spec: dict[str, Any] = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        renewed = _parse(spec.get("renewTime"))
        duration = spec.get("leaseDurationSeconds") or self.lease_duration
        if holder and holder != self.identity and renewed and renewed + dt.timedelta(seconds=duration) > now:
            return False
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if holder == self.identity else 1)
        acquired = spec.get("acquireTime") if holder == self.identity else _fmt(now)
        body = {
            "metadata": {"resourceVersion": lease["metadata"]["resourceVersion"]},
            "spec": {**self._spec(now, now, transitions), "acquireTime": acquired},
        }
        try:
            await self.client.patch(res, self.name, body, namespace=self.namespace, patch_type=PatchType.MERGE)
        except ApiError as exc:
            if exc.status.code == 409:
                return False
            raise
        return True

    async def release(self) -> None:
        """Give the lease up on a clean stop, so a standby takes over at once (ReleaseOnCancel)."""
        if not self.leading.is_set():
            return
        try:
            lease = (await self.client.get(resource(LEASE), self.name, namespace=self.namespace)).to_dict()
            if (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            past = _fmt(_now() - dt.timedelta(seconds=self.lease_duration + 1))
            body = {
                "metadata": {"resourceVersion": lease["metadata"]["resourceVersion"]},
                "spec": {"holderIdentity": None, "renewTime": past, "leaseDurationSeconds": 1},
            }
            await self.client.patch(
                resource(LEASE), self.name, body, namespace=self.namespace, patch_type=PatchType.MERGE
            )
            log.info("released leader lease", extra={"lease": f"{self.namespace}/{self.name}"})
        except Exception as exc:
            log.warning("could not release the lease: %s", exc)

    def _spec(self, acquire: dt.datetime, renew: dt.datetime, transitions: int) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_duration),
            "acquireTime": _fmt(acquire),
            "renewTime": _fmt(renew),
            "leaseTransitions": transitions,
        }

    async def run(self) -> None:
        """Acquire, then renew until renewal fails for longer than renew_deadline."""
        while not self.leading.is_set():
            try:
                if await self._try():
                    self._renewed_at = time.monotonic()
                    log.info("became leader", extra={"lease": f"{self.namespace}/{self.name}", "id": self.identity})
                    self.leading.set()
                    break
            except Exception as exc:
                log.warning("leader election attempt failed: %s", exc)
            await asyncio.sleep(self.retry_period)  # poll: lease retry period
        last_renew = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(self.retry_period)  # poll: lease renew period
            try:
                if await self._try():
                    last_renew = asyncio.get_running_loop().time()
                    self._renewed_at = time.monotonic()
                    continue
            except Exception as exc:
                log.warning("lease renewal failed: %s", exc)
            if asyncio.get_running_loop().time() - last_renew > self.renew_deadline:
                log.error("leader lease lost", extra={"lease": f"{self.namespace}/{self.name}"})
                self.lost.set()
                return


def _lease_kwargs(body: dict[str, Any]) -> dict[str, Any]:
    from lightkube.models.coordination_v1 import LeaseSpec
    from lightkube.models.meta_v1 import ObjectMeta

    spec = body["spec"]
    return {
        "metadata": ObjectMeta(name=body["metadata"]["name"], namespace=body["metadata"]["namespace"]),
        "spec": LeaseSpec(
            holderIdentity=spec["holderIdentity"],
            leaseDurationSeconds=spec["leaseDurationSeconds"],
            acquireTime=_parse(spec["acquireTime"]),
            renewTime=_parse(spec["renewTime"]),
            leaseTransitions=spec["leaseTransitions"],
        ),
    }
