"""Secret values never appear in the operator's log, in Events or in any status.

The operator runs as a subprocess (`glance-operator run --log-level=debug`, its whole output captured)
through a life cycle that touches every secret: convergence with notifications on (a TransportURL), a
service password the operator refuses (so it talks about it), the fix, a password rotation, a scale-up
and the Glance's deletion. Then the known values (service passwords, the generated DB password, the
transport URL password; verbatim, base64 and URL-quoted) are looked for in the log, `kubectl get events`
and the status of every object (bench/secrets_scan.py).
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest
from lightkube import AsyncClient, KubeConfig

from bench.harness import OperatorProcess, glance, glance_converged, poll, service_secret
from bench.secrets_scan import collect_texts, known_secrets, scan_texts
from glance_operator.testing import KubeApi
from glance_operator.testing.deps import DependencyPlayer

from .operator_env import GLANCE_V, condition

pytestmark = pytest.mark.slow

REFUSED = "Leak-Me-$(whoami)-9f3k"  # refused by the password check, which must not quote it
ROTATED = "Rotated-Pa55-q7w8e9"


async def test_secret_values_never_in_logs_events_or_status(
    api: KubeApi, kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    op = OperatorProcess(kubeconfig, tmp_path, namespace=namespace, extra_args=["--log-level=debug"])
    client = AsyncClient(config=KubeConfig.from_file(str(kubeconfig)), trust_env=False)
    seen: dict[str, str] = {}  # every secret value the namespace ever held
    texts: dict[str, str] = {}  # events and statuses at each step (events may be replaced)

    def snapshot(step: str) -> None:
        seen.update(known_secrets(api, namespace))
        texts.update({f"{step}: {k}": v for k, v in collect_texts(api, namespace, []).items()})

    try:
        async with DependencyPlayer(client, [namespace]):
            op.start()
            api.apply(service_secret(namespace, REFUSED))
            api.apply(glance(namespace))

            def refused() -> bool:
                c = condition(api.read(GLANCE_V, "Glance", "glance", namespace), "InputReady")
                return bool(c and c["status"] == "False")

            await poll(refused, 60, "the refused password reported")
            seen["refused service password"] = REFUSED
            snapshot("refused")
            api.apply(service_secret(namespace))
            await poll(lambda: glance_converged(api, namespace, 2), 120, "converged")
            snapshot("converged")
            api.apply(service_secret(namespace, ROTATED))
            api.apply(glance(namespace, replicas=2))
            await poll(lambda: glance_converged(api, namespace, 2, replicas=2), 120, "scaled after the rotation")
            snapshot("rotated")
            assert {"DB password", "transport URL password", "service password"} <= {
                label.split(" (")[0] for label in seen
            }, seen
            api.remove(GLANCE_V, "Glance", "glance", namespace)
            await poll(lambda: api.read(GLANCE_V, "Glance", "glance", namespace) is None, 60, "Glance deleted")
            snapshot("deleted")
    finally:
        op.stop()
        await client.close()
    texts["operator log"] = op.log_text()
    assert len(texts["operator log"]) > 10_000, "the operator's debug log was not captured"
    hits = scan_texts(texts, seen)
    assert hits == [], f"secret values leaked: {hits}"
    # the base64 form of the service password is what a leaked Secret body would show
    assert base64.b64encode(ROTATED.encode()).decode() not in texts["operator log"]
    await asyncio.sleep(0)  # poll: yield to the event loop once
