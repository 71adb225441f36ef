"""`render --diff` against the real apiserver: empty after convergence, the real change after an edit."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path

from glance_operator.cli import main
from glance_operator.testing import KubeApi

from .operator_env import GLANCE_V, eventually, glance, is_ready, running_operator, service_secret


def render_diff(kubeconfig: Path, namespace: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["render", "--diff", "-n", namespace, "glance", "--kubeconfig", str(kubeconfig)])
    return code, out.getvalue()


async def test_diff_is_empty_when_converged_and_shows_an_edit(api: KubeApi, kubeconfig: Path, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=90)
        await eventually(lambda: is_ready(api, "GlanceAPI", "glance-default-single", namespace), timeout=60)
        # then: the operator would write nothing
        code, text = await asyncio.to_thread(render_diff, kubeconfig, namespace)
        assert (code, text) == (0, "")

    # when the CR is edited while the operator is stopped (as before an upgrade)
    api.merge_patch(api.path_of(glance(namespace)), {"spec": {"apiTimeout": 120}})
    code, text = await asyncio.to_thread(render_diff, kubeconfig, namespace)
    assert code == 1
    assert "# update GlanceAPI/glance-default-single" in text
    assert "-  apiTimeout: 60\n+  apiTimeout: 120" in text
    assert "# update StatefulSet/glance-default-single" in text
    assert "# update Secret/glance-default-single-config-data" in text
    assert "timeout = 120" in text or "120" in text.split("Secret/glance-default-single-config-data", 1)[1]
    # nothing was written
    live = api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace)
    assert live["spec"]["apiTimeout"] == 60
