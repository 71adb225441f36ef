"""From a Glance CR to the files a pod would see, rooted in a temporary directory instead of ``/``.

Rendering is the operator's own: ``admit`` (defaulting + validation webhooks) -> ``build_glance`` ->
``build_glance_api`` per GlanceAPI child, with facts pointing at the real services of the e2e session.

Path translation (documented in docs/proof.md): a pod's filesystem is modelled as ``<root>/<in-pod path>``.
Every volume mount of the container (read from the rendered Job/StatefulSet, not hard-coded) is materialised
there: secret keys (config Secret, customServiceConfigSecrets, extraMounts Secrets/ConfigMaps) become files,
emptyDirs and PVCs become directories. Then every in-pod path in the rendered config text that lies under a
mount, or under a path the container image provides (``/etc/glance``: glance-api.conf and the paste file;
``/var/locks/openstack``), is rewritten to its ``<root>`` counterpart. Nothing else in the text is changed.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from glance_operator.api.admission import admit
from glance_operator.api.defaults import Defaults
from glance_operator.api.v1beta1 import Glance, GlanceAPI
from glance_operator.render.configfiles import Notifications
from glance_operator.render.facts import Database, GlanceAPIFacts, GlanceFacts, Keystone, Memcached
from glance_operator.render.glance import build_glance
from glance_operator.render.glanceapi import build_glance_api

Obj = dict[str, Any]
REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "config" / "samples"
NAMESPACE = "openstack"
CONFIG_DIR = "/etc/glance/glance.conf.d"
# Paths the container image provides (not volumes) that rendered config refers to.
IMAGE_PATHS = ("/etc/glance", "/var/locks/openstack")


@dataclass(frozen=True)
class ServiceFacts:
    """What the operator would observe in the cluster, here pointing at the e2e session's real services."""

    db_host: str  # host:port of MariaDB (the Database fact's hostname carries the port)
    db_user: str
    db_password: str
    keystone_url: str
    region: str
    service_password: str
    transport_url: str
    endpoint_id: str = ""


@dataclass
class RenderedAPI:
    name: str
    api_type: str
    files: dict[str, str]  # the GlanceAPI config Secret, decoded
    statefulset: Obj
    warnings: tuple[str, ...]

    @property
    def pod_spec(self) -> Obj:
        return dict(self.statefulset["spec"]["template"]["spec"])

    def glance_container(self) -> Obj:
        """The container that runs Glance: the one mounting the config dir and starting the server."""
        for c in self.pod_spec["containers"]:
            if any(m["mountPath"] == CONFIG_DIR for m in c.get("volumeMounts", [])) and "glance-log" not in c["name"]:
                return dict(c)
        raise AssertionError(f"{self.name}: no container mounts {CONFIG_DIR}")


@dataclass
class Rendered:
    glance: Glance
    job_files: dict[str, str]  # the Glance (jobs) config Secret, decoded
    db_sync_job: Obj
    apis: list[RenderedAPI]
    warnings: list[str] = field(default_factory=list)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # other Secrets the operator renders

    def api(self, api_type: str | None = None) -> RenderedAPI:
        matches = [a for a in self.apis if api_type is None or a.api_type == api_type]
        assert matches, f"no GlanceAPI of type {api_type} in {[a.api_type for a in self.apis]}"
        return matches[0]


def load_sample(name: str) -> tuple[Obj, dict[str, dict[str, str]]]:
    """The Glance doc of a sample plus the data of the ConfigMaps/Secrets shipped beside it."""
    glance: Obj | None = None
    sources: dict[str, dict[str, str]] = {}
    for doc in yaml.safe_load_all((SAMPLES / name).read_text()):
        if not doc:
            continue
        if doc.get("kind") == "Glance":
            glance = doc
        elif doc.get("kind") in ("ConfigMap", "Secret"):
            data = dict(doc.get("stringData") or {})
            for k, v in (doc.get("data") or {}).items():
                data[k] = base64.b64decode(v).decode() if doc["kind"] == "Secret" else v
            sources[doc["metadata"]["name"]] = data
    assert glance is not None, f"{name} has no Glance document"
    return glance, sources


def _decode(secret: Obj) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def render(doc: Obj, facts: ServiceFacts, config_secrets: Mapping[str, Mapping[str, str]] | None = None) -> Rendered:
    doc = {**doc, "metadata": {**doc["metadata"], "namespace": NAMESPACE}}
    admission = admit(doc, Defaults(), namespace=NAMESPACE)
    assert admission.allowed and admission.object is not None, f"the webhook refuses the CR: {admission.errors}"
    glance = Glance.model_validate(admission.object)
    glance.metadata.uid = "00000000-0000-0000-0000-000000000001"
    database = Database(hostname=facts.db_host, username=facts.db_user, password=facts.db_password)
    built = build_glance(
        glance,
        GlanceFacts(owner_uid=glance.metadata.uid, database=database, transport_url_secret="glance-transport"),
    )
    assert built.config_secret is not None and built.db_sync_job is not None
    warnings = list(admission.warnings) + list(built.warnings)
    apis: list[RenderedAPI] = []
    for child in built.glance_apis:
        api = GlanceAPI.model_validate(child)
        api.metadata.uid = f"00000000-0000-0000-0000-00000000010{len(apis)}"
        secrets = config_secrets or {}
        api_facts = GlanceAPIFacts(
            owner_uid=api.metadata.uid,
            database=database,
            keystone=Keystone(internal_url=facts.keystone_url, public_url=facts.keystone_url, region=facts.region),
            service_password=facts.service_password,
            memcached=Memcached(servers=()),
            notifications=Notifications(facts.transport_url, quorum_queues=False)
            if api.spec.notification_bus_secret
            else None,
            config_secrets=tuple((n, dict(secrets.get(n, {}))) for n in api.spec.custom_service_config_secrets),
            endpoint_id=facts.endpoint_id,
        )
        out = build_glance_api(api, api_facts)
        apis.append(
            RenderedAPI(
                name=api.metadata.name,
                api_type=api.spec.api_type,
                files=_decode(out.config_secret),
                statefulset=out.statefulset,
                warnings=out.warnings,
            )
        )
        warnings += [f"{api.metadata.name}: {w}" for w in out.warnings]
    scripts = built.scripts_secret
    others = {scripts["metadata"]["name"]: _decode(scripts)}
    return Rendered(glance, _decode(built.config_secret), built.db_sync_job, apis, warnings, others)


# --- the pod filesystem -------------------------------------------------------------------------


@dataclass
class PodRoot:
    """One pod's filesystem under ``root``; ``prefixes`` are the in-pod paths that are translated."""

    root: Path
    prefixes: tuple[str, ...]
    skipped: list[str] = field(default_factory=list)  # mounts not materialised (hostPath, nfs, ...)

    def path(self, in_pod: str) -> Path:
        return self.root / in_pod.lstrip("/")

    def translate(self, text: str) -> str:
        """Rewrite every in-pod path under a known prefix (a whole path component) to its root counterpart."""
        alternation = "|".join(re.escape(p.rstrip("/")) for p in sorted(self.prefixes, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w./-])({alternation})(?=[/\s,;?&'\"\]]|$)", re.MULTILINE)
        return pattern.sub(lambda m: str(self.path(m.group(1))), text)


def materialise(
    root: Path,
    container: Obj,
    pod_spec: Obj,
    secrets: Mapping[str, Mapping[str, str]],
    claims: Sequence[str] = (),
) -> PodRoot:
    """Create ``root/<mountPath>`` for every mount of ``container``; ``secrets`` maps Secret/ConfigMap names
    (the config Secret included) to their data."""
    mounts = container.get("volumeMounts", [])
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    pod = PodRoot(root=root, prefixes=(*IMAGE_PATHS, *(m["mountPath"] for m in mounts)))
    root.mkdir(parents=True, exist_ok=True)
    files: list[tuple[Path, str, int]] = []
    for m in mounts:
        target = pod.path(m["mountPath"])
        vol = volumes.get(m["name"])
        source: Obj | None = None
        if vol is None:
            if m["name"] not in claims:
                pod.skipped.append(f"{m['mountPath']} (volume {m['name']} not found)")
                continue
        elif "secret" in vol or "configMap" in vol:
            source = vol.get("secret") or vol.get("configMap")
        elif "emptyDir" not in vol and "persistentVolumeClaim" not in vol:
            kind = next(k for k in vol if k != "name")
            pod.skipped.append(f"{m['mountPath']} ({kind} volume {m['name']}: a plain directory here)")
        if source is None:
            target.mkdir(parents=True, exist_ok=True)
            continue
        name = source.get("secretName") or source.get("name")
        data = secrets.get(str(name))
        assert data is not None, f"the test gives no data for {name} (mounted at {m['mountPath']})"
        items = {i["key"]: i["path"] for i in source.get("items", [])} or {k: k for k in data}
        mode = int(source.get("defaultMode", 0o644))
        if "subPath" in m:
            files.append((target, data[m["subPath"]], mode))
        else:
            target.mkdir(parents=True, exist_ok=True)
            files += [(target / path, data[key], mode) for key, path in items.items()]
    for target, text, mode in files:  # after the directories, like the kubelet's subPath overlays
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(pod.translate(text))
        target.chmod(mode | 0o600)  # root owns the files here; keep them readable by us
    return pod


def container_script(container: Obj) -> str:
    """The shell script a container runs (``... bash -c SCRIPT``)."""
    argv = [*container.get("command", []), *container.get("args", [])]
    assert "-c" in argv, f"{container['name']}: not a shell script: {shlex.join(argv)}"
    return str(argv[argv.index("-c") + 1])
