"""Chaos: faults during convergence, against a dedicated control plane; prints what was injected and lost.

    python bench/chaos.py [--size small|full] [--only kill9,restarts,edits,leader,flaps] [--json FILE]

Scenarios (each in its own namespace, with the dependency player in-process and the operator as a
subprocess `glance-operator run`):

* kill9    - SIGKILL the operator at random points while a Glance (2 APIs) converges, restart it, N times
             (30 full, 5 small); each time: converged to the last spec, no duplicate or orphaned child,
             no PVC / MariaDBDatabase / MariaDBAccount removed or recreated.
* restarts - restart kube-apiserver, then etcd, while converging; an update is applied right after each
             restart: watches resume, the update is not lost, the operator process survives.
* edits    - another client keeps editing fields we own (a Service annotation, a StatefulSet env var, a
             config Secret key) and adds its own: ours are restored, theirs kept, writes stay bounded
             (no hot loop) and stop when the edits stop.
* leader   - two operators with --leader-elect and a 4 s lease; SIGSTOP the leader: the standby takes
             over within the lease duration and acts; the old leader, resumed, steps down.
* flaps    - dependencies flap ready -> not ready -> ready (hold/release): conditions follow, no child is
             recreated (UIDs compared).

Every scenario also scans the operator's log, the Events and all statuses for the secret values.
Exit status 0 when every fault was recovered and nothing was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lightkube import AsyncClient, KubeConfig

from glance_operator.testing import ControlPlane, KubeApi
from glance_operator.testing.deps import DependencyPlayer

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    GLANCE_V,
    OperatorProcess,
    apiserver_requests,
    condition,
    delta,
    duplicates,
    glance,
    glance_converged,
    log,
    lost,
    orphans,
    owned_children,
    poll,
    precious,
    service_secret,
)
from bench.secrets_scan import known_secrets, scan_for_secrets

SIZES: dict[str, dict[str, Any]] = {
    "small": {"kills": 5, "edit_window": 20.0, "edit_every": 2.0, "flaps": 1},
    "full": {"kills": 30, "edit_window": 60.0, "edit_every": 2.0, "flaps": 3},
}
CONVERGE_TIMEOUT = 180.0
LEASE = {"LEASE_DURATION": "4", "RENEW_DEADLINE": "3", "RETRY_PERIOD": "0.5"}


@dataclass
class Outcome:
    scenario: str
    faults: int = 0
    recovered: int = 0
    lost: int = 0
    leaked: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.faults == self.recovered and self.lost == 0 and self.leaked == 0 and not self.problems


class Chaos:
    def __init__(self, cp: ControlPlane, work: Path, size: str, seed: int) -> None:
        self.cp = cp
        self.api: KubeApi = cp.api
        self.work = work
        self.size = SIZES[size]
        self.rng = random.Random(seed)

    def client(self) -> AsyncClient:
        return AsyncClient(config=KubeConfig.from_file(str(self.cp.kubeconfig)), trust_env=False)

    def operator(self, ns: str, name: str, **kw: Any) -> OperatorProcess:
        return OperatorProcess(self.cp.kubeconfig, self.work / "logs", namespace=ns, name=name, **kw)

    async def converge(self, ns: str, apis: int, replicas: int = 1, **expect_spec: Any) -> float:
        """Poll until converged (and every GlanceAPI carries `expect_spec`); returns the seconds it took."""
        t0 = time.monotonic()

        def done() -> bool:
            if not glance_converged(self.api, ns, apis, replicas):
                return False
            for i in range(apis):
                child = self.api.read(GLANCE_V, "GlanceAPI", f"glance-api{i}-single", ns) or {}
                if any(child.get("spec", {}).get(k) != v for k, v in expect_spec.items()):
                    return False
            return True

        def describe() -> Any:
            g = self.api.read(GLANCE_V, "Glance", "glance", ns) or {}
            return [(c["type"], c["status"], c.get("message")) for c in g.get("status", {}).get("conditions", [])]

        await poll(done, CONVERGE_TIMEOUT, f"Glance in {ns} converged", describe=describe)
        return time.monotonic() - t0

    def _converged(self, ns: str, api_timeout: int) -> bool:
        if not glance_converged(self.api, ns, 2):
            return False
        child = self.api.read(GLANCE_V, "GlanceAPI", "glance-api0-single", ns) or {}
        return bool(child.get("spec", {}).get("apiTimeout") == api_timeout)

    async def scan(self, out: Outcome, ns: str, ops: list[OperatorProcess]) -> None:
        secrets = await asyncio.to_thread(known_secrets, self.api, ns)
        hits = await asyncio.to_thread(scan_for_secrets, self.api, ns, secrets, [op.log_text() for op in ops])
        out.leaked += len(hits)
        out.details["secret_values_scanned"] = len(secrets)
        if len(secrets) < 3:
            out.problems.append(f"expected 3 secret values to scan for, found {sorted(secrets)}")
        out.problems += [f"secret value leaked: {h}" for h in hits]

    # --- (a) kill -9 during convergence -----------------------------------------------------------
    async def kill9(self) -> Outcome:
        out = Outcome("kill9")
        ns = self.cp.create_namespace("chaos-kill9")
        client = self.client()
        op = self.operator(ns, "kill9")
        try:
            async with DependencyPlayer(client, [ns]):
                op.start()
                await asyncio.to_thread(self.api.apply, service_secret(ns))
                spec: dict[str, Any] = {"apiTimeout": 60}
                await asyncio.to_thread(self.api.apply, glance(ns, **spec))
                seen_precious: dict[tuple[str, str], str] = {}
                expected: set[tuple[str, str]] | None = None
                times: list[float] = []
                mid_convergence = 0  # kills that hit before the spec of that round had converged
                for i in range(self.size["kills"]):
                    # the fault point: a random moment of this convergence (not a readiness wait)
                    await asyncio.sleep(self.rng.uniform(0.1, 3.0))  # poll: random fault delay
                    done = await asyncio.to_thread(self._converged, ns, spec["apiTimeout"])
                    op.kill9()
                    mid_convergence += not done
                    out.faults += 1
                    op.start()
                    try:
                        times.append(await self.converge(ns, 2, apiTimeout=spec["apiTimeout"]))
                    except TimeoutError as e:
                        out.problems.append(f"round {i}: {e}")
                        break
                    out.recovered += 1
                    children = await asyncio.to_thread(owned_children, self.api, ns)
                    if expected is None:
                        expected = set(children)
                    dup = duplicates(children, expected)
                    orph = await asyncio.to_thread(orphans, self.api, ns)
                    now = await asyncio.to_thread(precious, self.api, ns)
                    gone = lost(seen_precious, now)
                    seen_precious.update(now)
                    out.lost += len(dup) + len(orph) + len(gone)
                    out.problems += [f"round {i}: duplicate {d}" for d in dup]
                    out.problems += [f"round {i}: orphan {o}" for o in orph]
                    out.problems += [f"round {i}: removed/recreated {g}" for g in gone]
                    # next round: an update to converge to while the next kill happens
                    spec = {"apiTimeout": 60 + 10 * (i + 1)}
                    await asyncio.to_thread(self.api.apply, glance(ns, **spec))
                out.details = {
                    "operator_starts": op.starts,
                    "kills_before_converged": mid_convergence,
                    "recovery_seconds_max": round(max(times, default=0), 1),
                    "recovery_seconds_median": round(sorted(times)[len(times) // 2], 1) if times else None,
                    "precious_objects_tracked": len(seen_precious),
                    "children": len(expected or ()),
                }
                await self.scan(out, ns, [op])
        finally:
            op.stop()
            await client.close()
        return out

    # --- (b) kube-apiserver and etcd restarts -------------------------------------------------------
    async def restarts(self) -> Outcome:
        out = Outcome("restarts")
        ns = self.cp.create_namespace("chaos-restart")
        client = self.client()
        op = self.operator(ns, "restarts")
        try:
            async with DependencyPlayer(client, [ns]):
                op.start()
                await asyncio.to_thread(self.api.apply, service_secret(ns))
                await asyncio.to_thread(self.api.apply, glance(ns, apiTimeout=60))
                timeout = 70
                for component in ("kube-apiserver", "etcd"):
                    await asyncio.sleep(self.rng.uniform(1.0, 4.0))  # poll: random fault point during convergence
                    t0 = time.monotonic()
                    # in the main thread: the restarted process must outlive the thread that forks it
                    self.cp.restart(component)
                    out.faults += 1
                    out.details[f"{component}_restart_seconds"] = round(time.monotonic() - t0, 1)
                    timeout += 10
                    try:  # the update right after the restart must not be lost
                        await poll(
                            functools.partial(self.api.apply, glance(ns, apiTimeout=timeout)),
                            60,
                            f"apply after {component} restart",
                        )
                        secs = await self.converge(ns, 2, apiTimeout=timeout)
                    except TimeoutError as e:
                        out.problems.append(f"{component}: {e}")
                        continue
                    out.details[f"{component}_converged_seconds"] = round(secs, 1)
                    if not op.running():
                        out.problems.append(f"the operator exited after the {component} restart")
                        op.start()
                    out.recovered += 1
                out.details["operator_starts"] = op.starts
                out.details["operator_errors_logged"] = sum(
                    1 for line in op.log_text().splitlines() if '"level": "error"' in line
                )
                await self.scan(out, ns, [op])
        finally:
            op.stop()
            await client.close()
        return out

    # --- (c) another client edits our children --------------------------------------------------------
    async def edits(self) -> Outcome:
        out = Outcome("edits")
        ns = self.cp.create_namespace("chaos-edits")
        client = self.client()
        op = self.operator(ns, "edits")
        api = self.api
        try:
            async with DependencyPlayer(client, [ns]):
                op.start()
                await asyncio.to_thread(api.apply, service_secret(ns))
                await asyncio.to_thread(api.apply, glance(ns))
                await self.converge(ns, 2)
                edits = await asyncio.to_thread(self._edit_targets, ns)
                foreign = "chaos.example.com/theirs"
                before_op, before_api = op.writes(), await asyncio.to_thread(apiserver_requests, api)
                restore_times: list[float] = []
                t_end = time.monotonic() + self.size["edit_window"]
                n = 0
                while time.monotonic() < t_end:
                    edit = edits[n % len(edits)]
                    n += 1
                    await asyncio.to_thread(edit.apply, api, f"chaos-{n}", foreign)
                    out.faults += 1
                    t0 = time.monotonic()
                    try:
                        await poll(functools.partial(edit.restored, api), 30, f"{edit.what} restored")
                        out.recovered += 1
                        restore_times.append(time.monotonic() - t0)
                    except TimeoutError as e:
                        out.problems.append(str(e))
                    await asyncio.sleep(self.size["edit_every"])  # poll: pacing of the other client's edits
                window = self.size["edit_window"]
                op_writes = op.writes() - before_op
                api_writes = delta(await asyncio.to_thread(apiserver_requests, api), before_api)
                # after the edits stop: no further writes (no hot loop)
                quiet_before = op.writes()
                await asyncio.sleep(10)  # poll: the quiet observation window
                quiet = op.writes() - quiet_before
                kept = [e.what for e in edits if not e.foreign_kept(api, foreign)]
                out.problems += [f"the other client's field was removed from {w}" for w in kept]
                # bound: a restore is at most a few writes (the object, a status); none in the quiet window
                if op_writes > 6 * out.faults + 4:
                    out.problems.append(f"hot loop: {op_writes} operator writes for {out.faults} edits")
                if quiet:
                    out.problems.append(f"{quiet} operator writes after the edits stopped")
                out.details = {
                    "edits": out.faults,
                    "operator_writes": op_writes,
                    "operator_writes_per_minute": round(op_writes * 60 / window, 1),
                    "apiserver_writes": {"/".join(k): v for k, v in api_writes.items()},
                    "writes_after_edits_stopped_10s": quiet,
                    "restore_seconds_max": round(max(restore_times, default=0), 2),
                    "targets": [e.what for e in edits],
                }
                await self.scan(out, ns, [op])
        finally:
            op.stop()
            await client.close()
        return out

    def _edit_targets(self, ns: str) -> list[Edit]:
        api = self.api
        svc = next(
            s
            for s in api.list("v1", "Service", ns)
            if (s["metadata"].get("annotations") or {}) and _owned_by(s, "GlanceAPI")
        )
        sts = next(s for s in api.list("apps/v1", "StatefulSet", ns) if _owned_by(s, "GlanceAPI"))
        secret = next(
            s
            for s in api.list("v1", "Secret", ns)
            if s["metadata"]["name"].endswith("-config-data") and _owned_by(s, "GlanceAPI")
        )
        return [ServiceAnnotation(svc), StatefulSetEnv(sts), SecretKey(secret)]

    # --- (d) the leader stops renewing --------------------------------------------------------------------
    async def leader(self) -> Outcome:
        out = Outcome("leader")
        ns = self.cp.create_namespace("chaos-leader")
        client = self.client()
        ops = [
            self.operator(ns, f"leader-{x}", leader_elect=True, leader_election_namespace=ns, env=dict(LEASE))
            for x in "ab"
        ]
        lease_duration = float(LEASE["LEASE_DURATION"])
        stopped: OperatorProcess | None = None
        try:
            async with DependencyPlayer(client, [ns]):
                for op in ops:
                    op.start()
                first = await poll(lambda: next((o for o in ops if o.ready()), None), 60, "a leader")
                other = next(o for o in ops if o is not first)
                await asyncio.to_thread(self.api.apply, service_secret(ns))
                await asyncio.to_thread(self.api.apply, glance(ns))
                await self.converge(ns, 2)
                lease = self.api.read("coordination.k8s.io/v1", "Lease", "c569355b.openstack.org", ns) or {}
                holder = lease.get("spec", {}).get("holderIdentity")
                first.signal(signal.SIGSTOP)
                stopped = first
                out.faults += 1
                t0 = time.monotonic()

                def taken_over() -> bool:
                    lease = self.api.read("coordination.k8s.io/v1", "Lease", "c569355b.openstack.org", ns) or {}
                    return lease.get("spec", {}).get("holderIdentity") not in (None, holder)

                await poll(taken_over, 30, "the standby acquired the lease", interval=0.05)
                acquired = time.monotonic() - t0
                await poll(other.ready, 30, "the standby ready", interval=0.05)
                serving = time.monotonic() - t0
                await asyncio.to_thread(self.api.apply, glance(ns, apiTimeout=75))
                await self.converge(ns, 2, apiTimeout=75)
                acted = time.monotonic() - t0
                out.recovered += 1
                if acquired > lease_duration + 2 * float(LEASE["RETRY_PERIOD"]):
                    out.problems.append(f"takeover took {acquired:.1f}s, lease duration {lease_duration}s")
                # the old leader resumes: it must step down (exit), not keep acting
                resumed_at = time.time()
                first.signal(signal.SIGCONT)
                stopped = None
                try:
                    await poll(lambda: not first.running(), 30, "the old leader exits after resuming")
                    out.details["old_leader_exit_seconds"] = round(time.time() - resumed_at, 1)
                except TimeoutError as e:
                    out.problems.append(str(e))
                late = _writes_after(first.log_text(), resumed_at)
                out.details.update(
                    {
                        "lease_duration": lease_duration,
                        "lease_acquired_seconds": round(acquired, 2),
                        "standby_ready_seconds": round(serving, 2),
                        "update_converged_seconds": round(acted, 1),
                        "old_leader_writes_after_resume": late,
                    }
                )
                if late:
                    out.problems.append(f"the deposed leader wrote {late} times after resuming")
                await self.scan(out, ns, ops)
        finally:
            if stopped is not None:
                stopped.signal(signal.SIGCONT)
            for op in ops:
                op.stop()
            await client.close()
        return out

    # --- (e) dependency flaps ------------------------------------------------------------------------------
    async def flaps(self) -> Outcome:
        out = Outcome("flaps")
        ns = self.cp.create_namespace("chaos-flaps")
        client = self.client()
        op = self.operator(ns, "flaps")
        # (dependency kind, the Glance condition that must turn False while it is held)
        flapping = [
            ("MariaDBDatabase", "DBReady"),
            ("Memcached", "MemcachedReady"),
            # not TransportURL: as upstream, only its status.secretName is read, which a not-ready
            # TransportURL keeps, so the Glance rightly stays Ready
            ("KeystoneService", "KeystoneServiceReady"),
            ("KeystoneEndpoint", None),  # surfaces through the GlanceAPIs
        ]
        try:
            async with DependencyPlayer(client, [ns]) as deps:
                op.start()
                await asyncio.to_thread(self.api.apply, service_secret(ns))
                await asyncio.to_thread(self.api.apply, glance(ns))
                await self.converge(ns, 2)
                before = await asyncio.to_thread(owned_children, self.api, ns)
                followed: dict[str, list[str]] = {}
                for _ in range(self.size["flaps"]):
                    for kind, cond in flapping:
                        deps.hold(kind)
                        out.faults += 1

                        def not_ready(c: str | None = cond) -> list[str] | None:
                            g = self.api.read(GLANCE_V, "Glance", "glance", ns)
                            ready = condition(g, "Ready")
                            if not ready or ready["status"] == "True":
                                return None
                            false = [x["type"] for x in (g or {})["status"]["conditions"] if x["status"] != "True"]
                            return false if c is None or c in false else None

                        try:
                            followed[kind] = await poll(not_ready, 60, f"Glance not ready while {kind} is held")
                        except TimeoutError as e:
                            out.problems.append(str(e))
                        deps.release(kind)
                        try:
                            await self.converge(ns, 2)
                            out.recovered += 1
                        except TimeoutError as e:
                            out.problems.append(str(e))
                after = await asyncio.to_thread(owned_children, self.api, ns)
                recreated = lost(before, after)
                out.lost += len(recreated)
                out.problems += [f"recreated or removed: {r}" for r in recreated]
                out.details = {"children": len(before), "not_ready_conditions": followed}
                await self.scan(out, ns, [op])
        finally:
            op.stop()
            await client.close()
        return out


# --- the other client's edits --------------------------------------------------------------------------
EDITOR = "chaos-editor"


def _owned_by(obj: dict[str, Any], kind: str) -> bool:
    return any(r.get("kind") == kind and r.get("controller") for r in obj["metadata"].get("ownerReferences") or [])


class Edit:
    what = ""

    def apply(self, api: KubeApi, value: str, foreign: str) -> None:
        raise NotImplementedError

    def restored(self, api: KubeApi) -> bool:
        raise NotImplementedError

    def foreign_kept(self, api: KubeApi, foreign: str) -> bool:
        raise NotImplementedError


class ServiceAnnotation(Edit):
    def __init__(self, svc: dict[str, Any]) -> None:
        self.ns, self.name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        self.key, self.value = sorted(svc["metadata"]["annotations"].items())[0]
        self.path = f"/api/v1/namespaces/{self.ns}/services/{self.name}"
        self.what = f"Service {self.name} annotation {self.key}"

    def apply(self, api: KubeApi, value: str, foreign: str) -> None:
        api.request(
            "PATCH",
            self.path,
            body={"metadata": {"annotations": {self.key: value, foreign: value}}},
            content_type="application/merge-patch+json",
            params={"fieldManager": EDITOR},
        )

    def restored(self, api: KubeApi) -> bool:
        return bool(api.get(self.path)["metadata"]["annotations"].get(self.key) == self.value)

    def foreign_kept(self, api: KubeApi, foreign: str) -> bool:
        return foreign in (api.get(self.path)["metadata"].get("annotations") or {})


class StatefulSetEnv(Edit):
    def __init__(self, sts: dict[str, Any]) -> None:
        self.ns, self.name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        containers = sts["spec"]["template"]["spec"]["containers"]
        self.container = next(c for c in containers if c.get("env"))
        env = next(e for e in self.container["env"] if "value" in e)
        self.env, self.value = env["name"], env["value"]
        self.path = f"/apis/apps/v1/namespaces/{self.ns}/statefulsets/{self.name}"
        self.what = f"StatefulSet {self.name} container {self.container['name']} env {self.env}"

    def _env(self, api: KubeApi) -> list[dict[str, Any]]:
        sts = api.get(self.path)
        c = next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == self.container["name"])
        env: list[dict[str, Any]] = c.get("env") or []
        return env

    def apply(self, api: KubeApi, value: str, foreign: str) -> None:
        patch = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": self.container["name"],
                                "env": [{"name": self.env, "value": value}, {"name": "CHAOS_THEIRS", "value": value}],
                            }
                        ]
                    }
                }
            }
        }
        api.request(
            "PATCH",
            self.path,
            body=patch,
            content_type="application/strategic-merge-patch+json",
            params={"fieldManager": EDITOR},
        )

    def restored(self, api: KubeApi) -> bool:
        return any(e["name"] == self.env and e.get("value") == self.value for e in self._env(api))

    def foreign_kept(self, api: KubeApi, foreign: str) -> bool:
        return any(e["name"] == "CHAOS_THEIRS" for e in self._env(api))


class SecretKey(Edit):
    def __init__(self, secret: dict[str, Any]) -> None:
        self.ns, self.name = secret["metadata"]["namespace"], secret["metadata"]["name"]
        self.key, self.value = sorted(secret["data"].items())[0]
        self.path = f"/api/v1/namespaces/{self.ns}/secrets/{self.name}"
        self.what = f"Secret {self.name} key {self.key}"

    def apply(self, api: KubeApi, value: str, foreign: str) -> None:
        import base64

        b64 = base64.b64encode(value.encode()).decode()
        api.request(
            "PATCH",
            self.path,
            body={"data": {self.key: b64, "chaos-theirs": b64}},
            content_type="application/merge-patch+json",
            params={"fieldManager": EDITOR},
        )

    def restored(self, api: KubeApi) -> bool:
        return bool(api.get(self.path)["data"].get(self.key) == self.value)

    def foreign_kept(self, api: KubeApi, foreign: str) -> bool:
        return "chaos-theirs" in (api.get(self.path).get("data") or {})


def _writes_after(log_text: str, t: float) -> int:
    """Write requests the operator logged (Writer's `write` lines) after wall-clock time `t`."""
    n = 0
    for line in log_text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") != "write":
            continue
        ts = time.mktime(time.strptime(rec["ts"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        if ts + 1 >= t:  # second resolution: count the boundary second
            n += 1
    return n


# --- driver ------------------------------------------------------------------------------------------------
SCENARIOS = ("kill9", "restarts", "edits", "leader", "flaps")


async def run(size: str, only: list[str], work: Path, seed: int) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with ControlPlane(work / "cp") as cp:
        chaos = Chaos(cp, work, size, seed)
        for name in only:
            log(f"chaos: {name} ({size})")
            scenario: Callable[[], Awaitable[Outcome]] = getattr(chaos, name)
            t0 = time.monotonic()
            try:
                outcome = await scenario()
            except Exception as e:  # a scenario that could not finish counts as unrecovered
                outcome = Outcome(name, faults=1, problems=[f"{type(e).__name__}: {e}"])
            outcome.details["seconds"] = round(time.monotonic() - t0, 1)
            log(f"chaos: {name}: {asdict(outcome)}")
            outcomes.append(outcome)
            cp.check()
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    rows = [f"{'scenario':<10} {'faults':>7} {'recovered':>10} {'lost':>5} {'leaked':>7}  ok  seconds"]
    for o in outcomes:
        rows.append(
            f"{o.scenario:<10} {o.faults:>7} {o.recovered:>10} {o.lost:>5} {o.leaked:>7}  "
            f"{'yes' if o.ok else 'NO ':<3} {o.details.get('seconds', '')}"
        )
    totals = Outcome("total")
    for o in outcomes:
        totals.faults += o.faults
        totals.recovered += o.recovered
        totals.lost += o.lost
        totals.leaked += o.leaked
    rows.append(
        f"{'total':<10} {totals.faults:>7} {totals.recovered:>10} {totals.lost:>5} {totals.leaked:>7}  "
        f"{'yes' if all(o.ok for o in outcomes) else 'NO'}"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--json", type=Path, help="write the outcomes here")
    p.add_argument("--workdir", type=Path, help="keep logs here (default: a temporary directory)")
    args = p.parse_args(argv)
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {sorted(unknown)}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="glance-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"chaos: work dir {work}")
    outcomes = asyncio.run(run(args.size, only, work, args.seed))
    print(table(outcomes))
    for o in outcomes:
        for problem in o.problems:
            print(f"  {o.scenario}: {problem}")
        print(f"  {o.scenario}: {json.dumps(o.details, default=str)}")
    if args.json:
        args.json.write_text(json.dumps([asdict(o) | {"ok": o.ok} for o in outcomes], indent=2, default=str))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
