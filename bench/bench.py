"""Benchmark: convergence latency, steady-state cost, scale, and the cost of a no-op reconcile.

    python bench/bench.py [--scale 25,50,100,200] [--runs 20] [--held-runs 8] [--out bench]

Prints a table and writes <out>/results.json, <out>/results.png (matplotlib from a separate cached venv,
~/.cache/glance-operator/bench-venv) and <out>/profile-*.txt (cProfile of the hot paths). Each figure in
results.json carries a `how` saying how it was measured. Everything runs against dedicated control planes
on 127.0.0.1; the operator is a subprocess (`glance-operator run`, all namespaces) so that its CPU time
(/proc/<pid>/stat utime+stime) and peak RSS (/proc/<pid>/status VmHWM) are its own.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

from lightkube import AsyncClient, KubeConfig

from glance_operator.api.defaults import Defaults
from glance_operator.testing import ControlPlane
from glance_operator.testing.deps import DependencyPlayer
from glance_operator.testing.processes import ManagedProcess

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    GLANCE_V,
    OperatorProcess,
    apiserver_requests,
    condition,
    delta,
    glance,
    glance_converged,
    log,
    poll,
    service_secret,
)

HERE = Path(__file__).resolve().parent
BENCH_VENV = Path.home() / ".cache" / "glance-operator" / "bench-venv"
NS_PER_PLAYER = 50  # each player watches cluster-wide (11 watches) and filters; fewer players, less filtering
HELD: tuple[tuple[str, str], ...] = (("MariaDBDatabase", "DBReady"), ("KeystoneEndpoint", "GlanceAPIReady"))
STEADY_EXCLUDE = {"leases"}  # kwok renews node leases; not ours


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return round(s[lo] + (s[hi] - s[lo]) * (k - lo), 3)


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "min": round(min(values), 3) if values else None,
        "max": round(max(values), 3) if values else None,
        "values": [round(v, 3) for v in values],
    }


def create_namespaces(cp: ControlPlane, prefix: str, n: int) -> list[str]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: cp.create_namespace(prefix), range(n)))


def client_for(cp: ControlPlane) -> AsyncClient:
    return AsyncClient(config=KubeConfig.from_file(str(cp.kubeconfig)), trust_env=False)


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- latency, steady state, no-op reconcile ---------------------------------------------------------------
async def latency_phase(cp: ControlPlane, work: Path, runs: int, held_runs: int, window: float) -> dict[str, Any]:
    api = cp.api
    out: dict[str, Any] = {}
    lat_ns = create_namespaces(cp, "bench-lat", runs)
    held_ns = {kind: create_namespaces(cp, f"bench-held-{kind.lower()}", held_runs) for kind, _ in HELD}
    for ns in lat_ns + [n for v in held_ns.values() for n in v]:
        api.apply(service_secret(ns))
    op = OperatorProcess(cp.kubeconfig, work / "logs", namespace=None, name="operator-latency")
    async with AsyncExitStack() as stack:
        for group in chunks(lat_ns, NS_PER_PLAYER):
            client = client_for(cp)
            stack.push_async_callback(client.close)
            await stack.enter_async_context(DependencyPlayer(client, group, watch_all=True))
        players: dict[str, DependencyPlayer] = {}
        for kind, _ in HELD:
            for ns in held_ns[kind]:
                client = client_for(cp)
                stack.push_async_callback(client.close)
                players[ns] = await stack.enter_async_context(DependencyPlayer(client, [ns], hold=[kind]))
        op.start()
        stack.callback(op.stop)
        await poll(op.ready, 60, "operator ready")

        # (a) apply -> Ready=True, dependencies ready
        lat: list[float] = []
        for ns in lat_ns:
            t0 = time.monotonic()
            await asyncio.to_thread(api.apply, glance(ns, apis=1))
            await poll(functools.partial(glance_converged, api, ns, 1), 120, f"{ns} ready", interval=0.05)
            lat.append(time.monotonic() - t0)
        out["apply_to_ready"] = summary(lat) | {
            "how": "wall time from the apply request of a Glance (1 single API, replicas 1; every dependency "
            "already ready) to reading Ready=True for its generation with the API's pod ready (polled every "
            "50 ms), one Glance at a time, each in a fresh namespace; includes the db-sync Job and the "
            "kwok-faked pod start"
        }
        log(f"bench: apply->Ready p50 {out['apply_to_ready']['p50']}s p95 {out['apply_to_ready']['p95']}s")

        # (b) held dependency turns ready -> Ready=True
        for kind, cond in HELD:
            for ns in held_ns[kind]:
                await asyncio.to_thread(api.apply, glance(ns, apis=1))
            held: list[float] = []
            for ns in held_ns[kind]:

                def waiting(ns: str = ns, cond: str = cond) -> bool:
                    c = condition(api.read(GLANCE_V, "Glance", "glance", ns), cond)
                    return bool(c and c["status"] != "True")

                await poll(waiting, 120, f"{ns}: {cond} reports the held {kind}")
                t0 = time.monotonic()
                players[ns].release(kind)
                await poll(functools.partial(glance_converged, api, ns, 1), 120, f"{ns} ready", interval=0.05)
                held.append(time.monotonic() - t0)
            out[f"held_{kind}_to_ready"] = summary(held) | {
                "how": f"{kind} kept not ready by the dependency player; once the Glance reported {cond} not "
                "True, wall time from release() (the player then marks it ready) to reading Ready=True "
                "(polled every 50 ms), one Glance at a time"
            }
            log(f"bench: held {kind} -> Ready p50 {out[f'held_{kind}_to_ready']['p50']}s")

        # (c) steady state
        total = runs + held_runs * len(HELD)

        async def settled() -> None:
            prev = -1.0
            while True:
                now = op.writes()
                if now == prev:
                    return
                prev = now
                await asyncio.sleep(5)  # poll: 5 s without an operator write counts as settled

        await asyncio.wait_for(settled(), 120)
        before_api = await asyncio.to_thread(apiserver_requests, api)
        before_writes, before_cpu = op.writes(), op.cpu_seconds()
        await asyncio.sleep(window)  # poll: the steady-state measurement window
        api_writes = {
            "/".join(k): v
            for k, v in delta(await asyncio.to_thread(apiserver_requests, api), before_api).items()
            if k[1] not in STEADY_EXCLUDE
        }
        out["steady_state"] = {
            "glances": total,
            "window_seconds": window,
            "operator_writes_per_minute": round((op.writes() - before_writes) * 60 / window, 2),
            "apiserver_writes_per_minute": round(sum(api_writes.values()) * 60 / window, 2),
            "apiserver_writes": api_writes,
            "operator_cpu_seconds_per_minute": round((op.cpu_seconds() - before_cpu) * 60 / window, 3),
            "operator_rss_mib": round(op.rss_kib("VmRSS") / 1024, 1),
            "how": f"{total} Ready Glances, operator idle for 5 s, then a {window:.0f} s window: write requests "
            "from the operator's own Writer counter (/metrics glance_operator_write_requests_total) and from "
            "the apiserver's apiserver_request_total (write verbs on every resource the operator writes, "
            "node leases excluded; includes other writers), CPU from /proc/<pid>/stat utime+stime",
        }
        log(f"bench: steady state {out['steady_state']}")
        op.stop()

        # (e) no-op reconcile, in-process
        out["noop_reconcile"] = await noop_reconcile(cp, work)
    return out


async def noop_reconcile(cp: ControlPlane, work: Path, rounds: int = 5) -> dict[str, Any]:
    from glance_operator.runtime.manager import Manager, Options

    client = client_for(cp)
    manager = Manager(Options(namespace=None, health_probe_bind_address="0"), client=client)
    manager.add_default_controllers(Defaults())
    manager.cache.start()
    await manager.cache.wait_synced()
    result: dict[str, Any] = {}
    try:
        for c in manager.controllers:
            keys = [
                (o["metadata"]["namespace"], o["metadata"]["name"])
                for o in manager.cache.list(c.kind)
                if o.get("status")
            ]
            await c.reconcile(keys[0])  # warm-up (imports, template compilation)
            writes = manager.writer.stats.total
            cpu: list[float] = []
            for _ in range(rounds):
                for key in keys:
                    t0 = time.process_time()
                    await c.reconcile(key)
                    cpu.append(time.process_time() - t0)
            prof = cProfile.Profile()  # a separate pass: the profiler would inflate the timings
            for key in keys:
                prof.enable()
                await c.reconcile(key)
                prof.disable()
            stream = io.StringIO()
            pstats.Stats(prof, stream=stream).sort_stats("cumulative").print_stats(40)
            (work / f"profile-noop-{c.name}.txt").write_text(stream.getvalue())
            tottime = io.StringIO()
            pstats.Stats(prof, stream=tottime).sort_stats("tottime").print_stats(15)
            (work / f"profile-noop-{c.name}-tottime.txt").write_text(tottime.getvalue())
            ms = [x * 1000 for x in cpu]
            result[c.name] = {
                "objects": len(keys),
                "cpu_ms_p50": pct(ms, 50),
                "cpu_ms_p95": pct(ms, 95),
                "cpu_ms_mean": round(statistics.fmean(ms), 3),
                "writes": manager.writer.stats.total - writes,
            }
    finally:
        await manager.cache.stop()
        await client.close()
    result["how"] = (
        f"in-process Manager with synced caches over the Ready Glances; each controller's reconcile() called "
        f"directly {rounds} times per object, CPU by time.process_time() around each call (then one more "
        "pass under cProfile for the profile), `writes` must be 0"
    )
    return result


# --- scale ----------------------------------------------------------------------------------------------
def start_players(cp: ControlPlane, work: Path, namespaces: list[str], tag: str) -> list[ManagedProcess]:
    """One player per NS_PER_PLAYER namespaces, each with a cluster-wide watch per kind: per-namespace
    watches (11 per namespace) cost the shared 2 cores more than the operator under test."""
    procs = []
    for i, group in enumerate(chunks(namespaces, NS_PER_PLAYER)):
        argv = [sys.executable, "-m", "glance_operator.testing.deps", "--watch-all", "--kubeconfig", str(cp.kubeconfig)]
        for ns in group:
            argv += ["-n", ns]
        procs.append(ManagedProcess(f"deps-{tag}-{i}", argv, work / "logs" / f"deps-{tag}-{i}.log").start())
    return procs


async def scale_point(n: int, work: Path) -> dict[str, Any]:
    with ControlPlane(work / f"cp-{n}") as cp:
        api = cp.api
        namespaces = create_namespaces(cp, "scale", n)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda ns: api.apply(service_secret(ns)), namespaces))
        players = start_players(cp, work, namespaces, str(n))
        op = OperatorProcess(cp.kubeconfig, work / "logs", namespace=None, name=f"operator-scale-{n}")
        try:
            await poll(
                lambda: all('"action": "ready"' in p.log_path.read_text() for p in players),
                300,
                "dependency players ready",
                interval=1,
            )
            op.start()
            await poll(op.ready, 120, "operator ready")
            before_api = await asyncio.to_thread(apiserver_requests, api, False)
            before_cpu = op.cpu_seconds()
            t0 = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda ns: api.apply(glance(ns, apis=2)), namespaces))
            applied = time.monotonic() - t0

            def all_ready() -> bool | int:
                items = api.list(GLANCE_V, "Glance")
                ready = 0
                for g in items:
                    c = condition(g, "Ready")
                    counts = g.get("status", {}).get("glanceAPIReadyCounts") or {}
                    if (
                        c
                        and c["status"] == "True"
                        and g["status"].get("observedGeneration") == g["metadata"]["generation"]
                        and counts == {"api0": 1, "api1": 1}
                    ):
                        ready += 1
                return ready == n

            await poll(all_ready, 1500, f"{n} Glances ready", interval=1)
            elapsed = time.monotonic() - t0
            reqs = delta(await asyncio.to_thread(apiserver_requests, api, False), before_api)
            writes = op.writes()
            res = {
                "glances": n,
                "apply_seconds": round(applied, 1),
                "all_ready_seconds": round(elapsed, 1),
                "operator_writes_per_cr": round(writes / n, 1),
                "apiserver_requests_per_cr": round(sum(reqs.values()) / n, 1),
                "apiserver_writes_per_cr": round(
                    sum(v for k, v in reqs.items() if k[0] not in ("GET", "LIST", "WATCH")) / n, 1
                ),
                "operator_cpu_seconds": round(op.cpu_seconds() - before_cpu, 1),
                "operator_peak_rss_mib": round(op.rss_kib("VmHWM") / 1024, 1),
            }
            log(f"bench: scale {res}")
            return res
        finally:
            op.stop()
            for p in players:
                p.stop()


# --- plot ------------------------------------------------------------------------------------------------
PLOT = r"""
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
r = json.load(open(sys.argv[1]))
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
lat = r.get("latency", {})
series = [(k, v["values"]) for k, v in lat.items() if isinstance(v, dict) and "values" in v]
if series:
    axes[0].boxplot([v for _, v in series], showfliers=True)
    axes[0].set_xticks(range(1, len(series) + 1), [k.replace("_to_ready", "").replace("held_", "held ")
                                                    for k, _ in series], fontsize=8)
    axes[0].set_ylabel("seconds to Ready=True")
    axes[0].set_title("convergence latency")
sc = r.get("scale", [])
if sc:
    n = [s["glances"] for s in sc]
    axes[1].plot(n, [s["all_ready_seconds"] for s in sc], "o-", label="all Ready (s)")
    axes[1].plot(n, [s["operator_writes_per_cr"] for s in sc], "s-", label="operator writes / CR")
    axes[1].set_xlabel("Glance CRs (2 APIs each)")
    axes[1].legend()
    axes[1].set_title("scale")
    axes[2].plot(n, [s["operator_peak_rss_mib"] for s in sc], "o-", label="peak RSS (MiB)")
    axes[2].axhline(128, color="red", linestyle="--", label="128 MiB limit")
    axes[2].set_xlabel("Glance CRs (2 APIs each)")
    axes[2].legend()
    axes[2].set_title("operator memory")
fig.suptitle(f"glance-operator bench ({r['machine']['cores']} cores)")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
"""


def plot(results_path: Path, png: Path) -> str:
    py = BENCH_VENV / "bin" / "python"
    try:
        if not (BENCH_VENV / ".ready").exists():
            log(f"bench: creating {BENCH_VENV} with matplotlib (PyPI)")
            subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "matplotlib"], check=True)
            (BENCH_VENV / ".ready").touch()
        subprocess.run([str(py), "-c", PLOT, str(results_path), str(png)], check=True)
        return str(png)
    except (subprocess.CalledProcessError, OSError) as e:
        return f"no plot: {e}"


# --- driver ----------------------------------------------------------------------------------------------
def table(r: dict[str, Any]) -> str:
    rows = [f"machine: {r['machine']['cores']} cores, {r['machine']['memory_gib']} GiB, {r['machine']['python']}"]
    lat = r.get("latency", {})
    for key in [k for k in lat if k.endswith("_to_ready")]:
        v = lat[key]
        rows.append(f"{key:<32} p50 {v['p50']:>7.2f}s  p95 {v['p95']:>7.2f}s  (n={v['n']})")
    if "steady_state" in lat:
        s = lat["steady_state"]
        rows.append(
            f"{'steady state':<32} operator writes/min {s['operator_writes_per_minute']}, apiserver writes/min "
            f"{s['apiserver_writes_per_minute']}, CPU s/min {s['operator_cpu_seconds_per_minute']} "
            f"({s['glances']} Glances)"
        )
    for name, v in lat.get("noop_reconcile", {}).items():
        if isinstance(v, dict):
            rows.append(
                f"{'no-op reconcile ' + name:<32} CPU p50 {v['cpu_ms_p50']} ms  p95 {v['cpu_ms_p95']} ms  "
                f"writes {v['writes']}"
            )
    if r.get("scale"):
        rows.append(
            f"{'CRs':>5} {'ready s':>8} {'op writes/CR':>13} {'api req/CR':>11} {'api writes/CR':>14} "
            f"{'CPU s':>7} {'peak RSS MiB':>13}"
        )
        for s in r["scale"]:
            rows.append(
                f"{s['glances']:>5} {s['all_ready_seconds']:>8} {s['operator_writes_per_cr']:>13} "
                f"{s['apiserver_requests_per_cr']:>11} {s['apiserver_writes_per_cr']:>14} "
                f"{s['operator_cpu_seconds']:>7} {s['operator_peak_rss_mib']:>13}"
            )
    return "\n".join(rows)


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    results_path = args.out / "results.json"
    results: dict[str, Any] = {}
    if args.merge and results_path.exists():  # keep the phases this run skips
        results = json.loads(results_path.read_text())

    def save() -> None:  # after every phase: a run cut short still leaves its numbers
        results_path.write_text(json.dumps(results, indent=2) + "\n")

    results |= {
        "machine": {
            "cores": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(),
            "kernel": platform.release(),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    t0 = time.monotonic()
    if args.runs:
        with ControlPlane(work / "cp-latency") as cp:
            results["latency"] = await latency_phase(cp, work, args.runs, args.held_runs, args.window)
        save()
        for prof in work.glob("profile-*.txt"):
            (args.out / prof.name).write_text(prof.read_text())
    scale: dict[int, dict[str, Any]] = {s["glances"]: s for s in results.get("scale", [])}
    for n in args.scale:
        log(f"bench: scale {n}")
        scale[n] = await scale_point(n, work)
        results["scale"] = [scale[k] for k in sorted(scale)]
        save()
    results["scale"] = [scale[k] for k in sorted(scale)]
    results["scale_how"] = (
        "a fresh control plane per size; N namespaces with the service Secret, dependency players as subprocesses "
        f"({NS_PER_PLAYER} namespaces each), the operator started and ready, then N Glances (2 single APIs, "
        "1 replica each) applied by 8 threads; all_ready_seconds from the first apply until every Glance is Ready "
        "for its generation with both APIs' pods ready (listed every 1 s); operator writes from its /metrics; "
        "apiserver requests (all verbs, on the resources the operator uses; from every client incl. the "
        "dependency players, kube-controller-manager and kwok) from apiserver_request_total; CPU from "
        "/proc/<pid>/stat over the same span; peak RSS = VmHWM of the operator process"
    )
    results["seconds"] = round(time.monotonic() - t0, 1)
    return results


@contextmanager
def workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
    else:
        with tempfile.TemporaryDirectory(prefix="glance-bench-") as d:
            yield Path(d)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="25,50,100,200", help="comma-separated Glance counts ('' for none)")
    p.add_argument("--runs", type=int, default=20, help="apply->Ready runs (0 skips latency/steady/no-op)")
    p.add_argument("--held-runs", type=int, default=8, help="runs per held dependency kind")
    p.add_argument("--window", type=float, default=60.0, help="steady-state window, seconds")
    p.add_argument("--out", type=Path, default=HERE, help="directory for results.json, results.png, profiles")
    p.add_argument("--workdir", type=Path, help="keep control planes and logs here")
    p.add_argument("--merge", action="store_true", help="update <out>/results.json, keeping phases not run")
    args = p.parse_args(argv)
    args.scale = [int(x) for x in args.scale.split(",") if x.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    with workdir(args.workdir) as work:
        results = asyncio.run(run(args, work))
    results_path = args.out / "results.json"
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    results["plot"] = plot(results_path, args.out / "results.png")
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"results: {results_path}; plot: {results['plot']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
