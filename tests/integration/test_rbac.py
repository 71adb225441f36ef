"""Least privilege, proven: the operator runs as its ServiceAccount with exactly config/rbac's roles.

Any permission the code needs and the role lacks fails here (403 in a reconcile, so the Glance never
gets Ready, or a failed Event, which we also count). Every request the operator makes is recorded, so
a granted verb that no code path uses fails too (unless listed in NOT_EXERCISED with its reason).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import yaml
from lightkube import AsyncClient, KubeConfig

from glance_operator.testing import ControlPlane, KubeApi
from glance_operator.testing.binaries import REPO_ROOT, Binaries

from .operator_env import GLANCE_V, eventually, glance, is_ready, running_operator, service_secret

Rule = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)

# Granted verbs the scenario below does not reach, each with the code path that needs it.
NOT_EXERCISED: dict[Rule, str] = {
    ("batch", "jobs", "delete"): "db-sync Job re-run when its hash changes (glance.py)",
    ("batch", "cronjobs", "delete"): "image cache CronJobs of removed replicas (glanceapi.py)",
    ("keystone.openstack.org", "keystoneendpoints", "delete"): "keystoneEndpoint moved to another API that stays",
    ("glance.openstack.org", "glances/finalizers", "update"): "OwnerReferencesPermissionEnforcement (OpenShift)",
    ("glance.openstack.org", "glanceapis/finalizers", "update"): "OwnerReferencesPermissionEnforcement (OpenShift)",
    ("", "events", "get"): "an Event recorded by a previous operator process is bumped",
    ("security.openshift.io", "securitycontextconstraints", "use"): "held to grant it in the per-Glance Role",
}


def kubectl_kustomize(path: str) -> list[dict[str, Any]]:
    kubectl = str(Binaries.pinned().kubectl)
    out = subprocess.run([kubectl, "kustomize", str(REPO_ROOT / path)], check=True, capture_output=True, text=True)
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def rules_of(docs: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    rules: list[dict[str, Any]] = doc["rules"]
    return rules


def granted(rules: list[dict[str, Any]]) -> set[Rule]:
    return {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def install_identity(api: KubeApi, namespace: str) -> str:
    """The ServiceAccount bound to config/rbac's roles (made unique per test); returns its token."""
    docs = kubectl_kustomize("config/rbac")
    sa = "glance-operator-controller-manager"
    api.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": namespace}})
    subject = [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}]
    cluster_role = f"glance-operator-manager-role-{namespace}"
    api.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": cluster_role},
            "rules": rules_of(docs, "ClusterRole", "manager-role"),
        }
    )
    api.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": cluster_role},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
            "subjects": subject,
        }
    )
    api.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "leader-election-role", "namespace": namespace},
            "rules": rules_of(docs, "Role", "leader-election-role"),
        }
    )
    api.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "leader-election-rolebinding", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "leader-election-role"},
            "subjects": subject,
        }
    )
    review = api.post(
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{sa}/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}},
    )
    token: str = review["status"]["token"]
    return token


def token_client(control_plane: ControlPlane, token: str) -> AsyncClient:
    assert control_plane.pki is not None
    config = KubeConfig.from_dict(
        {
            "clusters": [
                {
                    "name": "test",
                    "cluster": {
                        "server": control_plane.server,
                        "certificate-authority": str(control_plane.pki.ca.cert),
                    },
                }
            ],
            "users": [{"name": "sa", "user": {"token": token}}],
            "contexts": [{"name": "sa", "context": {"cluster": "test", "user": "sa"}}],
            "current-context": "sa",
        }
    )
    return AsyncClient(config=config, field_manager="glance-operator", trust_env=False)


def request_rule(request: httpx.Request) -> Rule:
    """(group, resource[/subresource], verb) of an apiserver request, as RBAC sees it."""
    url = urlsplit(str(request.url))
    parts = [p for p in url.path.split("/") if p]
    if parts[0] == "api":
        group, rest = "", parts[2:]
    else:
        group, rest = parts[1], parts[3:]
    if rest and rest[0] == "namespaces" and len(rest) > 2:
        rest = rest[2:]
    resource, name, sub = rest[0], rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None
    method = request.method.upper()
    if method == "GET":
        verb = "watch" if parse_qs(url.query).get("watch") == ["true"] else ("get" if name else "list")
    else:
        verb = {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}[method]
    return group, f"{resource}/{sub}" if sub else resource, verb


def record_requests(client: AsyncClient, seen: Counter[Rule], denied: list[str]) -> None:
    http: httpx.AsyncClient = client._client._client  # lightkube's httpx client: the one place to observe

    async def on_request(request: httpx.Request) -> None:
        seen[request_rule(request)] += 1

    async def on_response(response: httpx.Response) -> None:
        if response.request.method == "PATCH" and response.status_code == 201:
            # server-side apply that created the object: the apiserver authorized `create` too
            group, resource, _ = request_rule(response.request)
            seen[(group, resource, "create")] += 1
        if response.status_code == 403:
            denied.append(f"{response.request.method} {response.request.url.path}")

    http.event_hooks["request"].append(on_request)
    http.event_hooks["response"].append(on_response)


async def test_operator_runs_with_least_privilege(
    control_plane: ControlPlane, api: KubeApi, kubeconfig: Path, namespace: str
) -> None:
    token = install_identity(api, namespace)
    client = token_client(control_plane, token)
    seen: Counter[Rule] = Counter()
    denied: list[str] = []
    record_requests(client, seen, denied)
    try:
        async with running_operator(
            kubeconfig, namespace, client=client, leader_elect=True, leader_election_namespace=namespace
        ):
            # given the features whose code paths need their own permissions: a Topology, notifications,
            # an image cache and two APIs, the second one registered in Keystone
            api.apply(service_secret(namespace))
            api.apply(
                {"apiVersion": "topology.openstack.org/v1beta1", "kind": "Topology",
                 "metadata": {"name": "spread", "namespace": namespace}, "spec": {}}
            )  # fmt: skip
            apis = {
                "default": {"type": "single", "replicas": 1, "topologyRef": {"name": "spread"}},
                "two": {"type": "single", "replicas": 1},
            }
            features = {"notificationsBus": {"cluster": "rabbitmq"}, "imageCache": {"size": "1G"}}
            api.apply(glance(namespace, apis=apis, keystoneEndpoint="two", **features))
            await eventually(lambda: is_ready(api, "Glance", "glance", namespace), timeout=120)
            # when the endpoint moves, the second API is removed and the staging area grows (PVC resize,
            # StatefulSet recreated for its new claim template)
            grown = {"storage": {"storageRequest": "2G"}, **features}
            api.apply(glance(namespace, apis={"default": apis["default"]}, keystoneEndpoint="default", **grown))
            await eventually(
                lambda: (g := is_ready(api, "Glance", "glance", namespace)) and g["metadata"]["generation"] == 2,
                timeout=120,
            )
            # removal walks the finalizer paths (MariaDB objects, KeystoneService/Endpoint, GlanceAPI)
            api.remove(GLANCE_V, "Glance", "glance", namespace)
            await eventually(lambda: api.read(GLANCE_V, "Glance", "glance", namespace) is None, timeout=90)
    finally:
        await client.close()
        api.remove("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", f"glance-operator-manager-role-{namespace}")
        api.remove("rbac.authorization.k8s.io/v1", "ClusterRole", f"glance-operator-manager-role-{namespace}")
    assert not denied, f"requests the role forbids: {denied}"

    docs = kubectl_kustomize("config/rbac")
    grants = granted(rules_of(docs, "ClusterRole", "manager-role")) | granted(
        rules_of(docs, "Role", "leader-election-role")
    )
    unused = {r for r in grants - set(seen) if r not in NOT_EXERCISED}
    assert not unused, f"granted but never used (drop them, or say why in NOT_EXERCISED): {sorted(unused)}"
    stale = {r for r in NOT_EXERCISED if r in seen or r not in grants}
    assert not stale, f"NOT_EXERCISED entries now exercised or no longer granted: {sorted(stale)}"
