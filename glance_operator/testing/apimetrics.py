"""Write requests counted by the apiserver itself (`apiserver_request_total` on /metrics).

Used to prove a quiet steady state from outside the operator (tests, bench). The metric has no
namespace or user label, so measure on a control plane where nothing else is writing.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from .kubeapi import KubeApi

# Resources the operator writes (the `resource` label of apiserver_request_total).
OUR_RESOURCES = frozenset(
    {
        "glances", "glanceapis", "secrets", "configmaps", "services", "statefulsets", "jobs", "cronjobs",
        "serviceaccounts", "roles", "rolebindings", "keystoneendpoints", "keystoneservices", "mariadbdatabases",
        "mariadbaccounts", "transporturls", "persistentvolumeclaims", "events",
    }
)  # fmt: skip
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE", "APPLY", "CREATE", "UPDATE"})
_SAMPLE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$")


def apiserver_requests(
    api: KubeApi, writes_only: bool = True, resources: Collection[str] = OUR_RESOURCES
) -> dict[tuple[str, str, str], float]:
    """apiserver_request_total summed by (verb, resource, subresource) for `resources`."""
    counts: dict[tuple[str, str, str], float] = {}
    for line in str(api.request("GET", "/metrics")).splitlines():
        m = _SAMPLE.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m["labels"]))
        if writes_only and labels.get("verb") not in WRITE_VERBS:
            continue
        if labels.get("resource") in resources:
            key = (labels["verb"], labels["resource"], labels.get("subresource", ""))
            counts[key] = counts.get(key, 0) + float(m["value"])
    return counts


def delta(after: dict[Any, float], before: dict[Any, float]) -> dict[Any, float]:
    """What changed between two counts."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
