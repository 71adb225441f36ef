"""Where the operator's memory goes: deep size of its informer caches by kind, with N Glances Ready.

    python bench/memory.py [--glances 25]

Runs the operator in-process (so its caches can be measured) on a dedicated control plane with the
dependency player; prints, per cached kind, the object count and deep size, and the process RSS. Used to
decide what the cache transform strips (bench/README.md, "Memory").
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lightkube import AsyncClient, KubeConfig

from glance_operator.api.defaults import Defaults
from glance_operator.runtime.manager import Manager, Options
from glance_operator.testing import ControlPlane
from glance_operator.testing.deps import DependencyPlayer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.harness import glance, service_secret


def deep_size(obj: Any, seen: set[int] | None = None) -> int:
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set):
        size += sum(deep_size(v, seen) for v in obj)
    return size


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, ControlPlane(Path(tmp) / "cp") as cp:
        namespaces = [cp.create_namespace(f"mem-{i}") for i in range(n)]
        for ns in namespaces:
            cp.api.apply(service_secret(ns))
        client = AsyncClient(config=KubeConfig.from_file(str(cp.kubeconfig)), trust_env=False)
        deps_client = AsyncClient(config=KubeConfig.from_file(str(cp.kubeconfig)), trust_env=False)
        async with DependencyPlayer(deps_client, namespaces, watch_all=True):
            manager = Manager(Options(kubeconfig=str(cp.kubeconfig), health_probe_bind_address="0"), client=client)
            manager.add_default_controllers(Defaults())
            task = asyncio.create_task(manager.run())
            for ns in namespaces:
                cp.api.apply(glance(ns))
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                ready = 0
                for g in cp.api.list("glance.openstack.org/v1beta1", "Glance"):
                    c = next((c for c in g.get("status", {}).get("conditions", []) if c["type"] == "Ready"), None)
                    ready += bool(c and c["status"] == "True")
                if ready == n:
                    break
                await asyncio.sleep(2)  # poll
            total = 0
            print(f"{n} Glances Ready; informer caches by deep size:")
            rows = []
            for kind, informer in manager.cache.informers.items():
                size = deep_size(informer.store)
                total += size
                rows.append((size, kind.kind, len(informer.store)))
            for size, kind, count in sorted(rows, reverse=True):
                each = size / max(count, 1) / 1024
                print(f"  {kind:<28} {count:>6} objects {size / 2**20:8.2f} MiB  ({each:6.1f} KiB each)")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  total {total / 2**20:.2f} MiB; process peak RSS {peak:.1f} MiB (player and operator)")
            manager.stop()
            await task
        await client.close()
        await deps_client.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--glances", type=int, default=25)
    asyncio.run(main(p.parse_args().glances))
