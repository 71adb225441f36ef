"""`glance-operator render --diff`: what the operator would change on the live cluster.

Nothing is re-implemented: the real controllers reconcile the Glance and its GlanceAPIs once against
a cache filled by a one-shot list of the namespace, with a Writer that records instead of writing.
Each object the controllers would apply is compared with the live one exactly as `Writer.ensure`
does (`contains`, plus the applied-hash annotation), and shown as a unified diff of the fields we
set. Applies are folded back into the cache, so a change to the Glance flows into the GlanceAPIs
and their StatefulSets as it would in the cluster.
"""

from __future__ import annotations

import base64
import copy
import difflib
import re
from dataclasses import dataclass
from typing import Any

from lightkube import ApiError, Client

from ..api.defaults import Defaults
from ..runtime.cache import Cache, Obj
from ..runtime.client import APPLIED_HASH, Writer, desired_hash
from ..runtime.compare import contains
from ..runtime.kinds import GLANCE, GLANCE_API, Kind, builtin, kind_of, namespaced, resource

_CREDENTIALS = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
_SECRET_LINE = re.compile(r"^(\s*[\w.-]*(password|secret|token)[\w.-]*\s*[:=]\s*).+$", re.IGNORECASE | re.MULTILINE)


@dataclass
class Change:
    verb: str  # create | update | delete
    kind: str
    name: str
    diff: str = ""


class DryRunWriter(Writer):
    """A Writer that records the writes the controllers ask for and applies them to the cache only."""

    def __init__(self, cache: Cache) -> None:  # no client: nothing is sent
        super().__init__(None, cache)  # type: ignore[arg-type]
        self.changes: list[Change] = []

    async def ensure(self, desired: Obj) -> tuple[Obj, bool]:
        kind = kind_of(desired)
        meta = desired["metadata"]
        want = copy.deepcopy(desired)
        want["metadata"].setdefault("annotations", {})[APPLIED_HASH] = desired_hash(desired)
        live = self.cache.get(kind, meta.get("namespace", ""), meta["name"]) if kind in self.cache.informers else None
        if live is not None and contains(want, live, associative=builtin(kind)):
            return live, False
        if live is None:
            self.changes.append(
                Change("create", kind.kind, meta["name"], _unified(kind.kind, meta["name"], None, want))
            )
            merged = want
        else:
            self.changes.append(
                Change("update", kind.kind, meta["name"], _unified(kind.kind, meta["name"], _project(want, live), want))
            )
            merged = _merge(live, want)
        merged.setdefault("apiVersion", kind.api_version)
        merged.setdefault("kind", kind.kind)
        if kind in self.cache.informers:
            self.cache.informers[kind].store[(meta.get("namespace", ""), meta["name"])] = merged
        return merged, True

    async def patch_status(self, live: Obj, status: dict[str, Any]) -> Obj | None:
        return None  # status is the operator's report, not a change to the cluster's workload

    async def set_finalizers(self, live: Obj, finalizers: list[str]) -> Obj | None:
        return None

    async def merge_patch(self, live: Obj, patch: dict[str, Any]) -> Obj:
        kind, name = kind_of(live), live["metadata"]["name"]
        self.changes.append(Change("update", kind.kind, name, _unified(kind.kind, name, _project(patch, live), patch)))
        merged: Obj = _merge(live, patch)
        return merged

    async def delete(
        self, kind: Kind, namespace: str, name: str, background: bool = True, orphan: bool = False
    ) -> bool:
        if kind in self.cache.informers and self.cache.get(kind, namespace, name) is None:
            return False
        self.changes.append(Change("delete", kind.kind, name))
        return True


def _merge(live: Any, want: Any) -> Any:
    if isinstance(live, dict) and isinstance(want, dict):
        out = dict(live)
        for k, v in want.items():
            out[k] = _merge(live.get(k), v)
        return out
    return copy.deepcopy(want)


def _project(want: Any, live: Any) -> Any:
    """The live value restricted to the fields `want` sets (what the comparison looks at)."""
    if isinstance(want, dict) and isinstance(live, dict):
        return {k: _project(v, live[k]) for k, v in want.items() if k in live}
    if isinstance(want, list) and isinstance(live, list) and len(want) == len(live):
        return [_project(w, v) for w, v in zip(want, live, strict=True)]
    return live


def _readable(kind: str, obj: Obj | None) -> str:
    if obj is None:
        return ""
    obj = copy.deepcopy(obj)
    (obj.get("metadata", {}).get("annotations") or {}).pop(APPLIED_HASH, None)
    if kind == "Secret" and isinstance(obj.get("data"), dict):
        # config files are the point of the diff: show them decoded, with credentials masked
        decoded = {}
        for k, v in obj["data"].items():
            try:
                text = base64.b64decode(v).decode()
            except (ValueError, UnicodeDecodeError):
                text = "<binary>"
            decoded[k] = _SECRET_LINE.sub(r"\1<redacted>", _CREDENTIALS.sub(r"\1<redacted>@", text))
        obj["stringData"] = decoded
        del obj["data"]
    from ..cli import dump_yaml  # the same YAML style as `render`

    return dump_yaml(obj)


def _unified(kind: str, name: str, live: Obj | None, want: Obj) -> str:
    a, b = _readable(kind, live), _readable(kind, want)
    lines = difflib.unified_diff(
        a.splitlines(keepends=True),
        b.splitlines(keepends=True),
        fromfile=f"live/{kind}/{name}",
        tofile=f"desired/{kind}/{name}",
    )
    text = "".join(lines)
    if not text and live is not None:  # only the applied hash differs: a field we set was dropped
        text = f"--- live/{kind}/{name}\n+++ desired/{kind}/{name}\n# fields set by an earlier version removed\n"
    return text


def fill_cache(client: Client, cache: Cache, namespace: str) -> None:
    """One list per watched kind, into the informer stores (as if synced)."""
    for kind, informer in cache.informers.items():
        kwargs: dict[str, Any] = {"namespace": namespace} if namespaced(kind) else {}
        if informer.labels:
            kwargs["labels"] = informer.labels
        try:
            items = list(client.list(resource(kind), **kwargs))
        except ApiError as exc:
            if exc.status.code == 404:  # optional CRD absent: as the operator, see none
                continue
            raise
        for item in items:
            obj: Obj = item if isinstance(item, dict) else item.to_dict()
            obj.setdefault("apiVersion", kind.api_version)
            obj.setdefault("kind", kind.kind)
            informer.store[(obj["metadata"].get("namespace", "") or "", obj["metadata"]["name"])] = obj
        informer.synced.set()


async def plan(client: Client, namespace: str, name: str, defaults: Defaults) -> list[Change]:
    """The writes one reconcile of Glance `name` and its GlanceAPIs would make, in order."""
    from ..controllers.glance import GlanceController
    from ..controllers.glanceapi import GlanceAPIController

    cache = Cache(None, namespace)  # type: ignore[arg-type]
    writer = DryRunWriter(cache)
    glance_ctrl = GlanceController(cache, writer, defaults)
    api_ctrl = GlanceAPIController(cache, writer, defaults)
    glance_ctrl.controller().register(cache)
    api_ctrl.controller().register(cache)
    fill_cache(client, cache, namespace)
    if cache.get(GLANCE, namespace, name) is None:
        raise LookupError(f"Glance {namespace}/{name} not found")
    await glance_ctrl.reconcile((namespace, name))
    for api in cache.list(GLANCE_API, namespace):
        owners = api["metadata"].get("ownerReferences") or []
        if any(o.get("kind") == "Glance" and o.get("name") == name for o in owners):
            await api_ctrl.reconcile((namespace, api["metadata"]["name"]))
    return writer.changes


def format_changes(changes: list[Change]) -> str:
    out = []
    for c in changes:
        if c.verb == "delete":
            out.append(f"# delete {c.kind}/{c.name}\n")
        else:
            out.append(f"# {c.verb} {c.kind}/{c.name}\n{c.diff}")
    return "".join(out)
