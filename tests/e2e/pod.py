"""From a Glance CR to the files a pod would see, rooted in a temporary directory instead of ``/``.

Rendering is ``glance-operator render`` itself: ``glance_operator.cli.main(["render", "-f", CR, "--facts", FACTS,
"--show-secrets", "-o", DIR])`` run in-process, i.e. the CLI's admission (defaulting + validation webhooks),
``render.offline.load_facts`` on a facts YAML file and ``render.offline.render_all``; the objects it writes are
read back from DIR. The facts file is written from the real services of the e2e session (``ServiceFacts``), with
every key given explicitly (``load_facts`` fills missing keys from its example facts).

Path translation (documented in docs/proof.md): a pod's filesystem is modelled as ``<root>/<in-pod path>``.
Every volume mount of the container (read from the rendered Job/StatefulSet, not hard-coded) is materialised
there: secret keys (config Secret, customServiceConfigSecrets, extraMounts Secrets/ConfigMaps) become files,
emptyDirs and PVCs become directories, NFS volumes become one directory per export shared by every pod of the
deployment (as the export is). Then every in-pod path in the rendered config text that lies under a
mount, or under a path the container image provides (``/etc/glance``: glance-api.conf and the paste file;
``/var/locks/openstack``), is rewritten to its ``<root>`` counterpart. Nothing else in the text is changed.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
import shlex
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from glance_operator import cli
from glance_operator.render import names, offline

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
    endpoint_ids: Mapping[str, str] = field(default_factory=dict)  # Keystone image endpoint ID by interface

    def facts_yaml(self, doc: Obj, config_secrets: Mapping[str, Mapping[str, str]]) -> Obj:
        """The ``--facts`` document for ``glance-operator render``: every key given (none from the example)."""
        spec = doc.get("spec") or {}
        # KeystoneEndpoint status.endpointIDs as the GlanceAPI controller reads it: the API(s) of the
        # keystoneEndpoint key (every key when unset) get the public (external) or internal endpoint's ID.
        keys = [spec["keystoneEndpoint"]] if spec.get("keystoneEndpoint") else list(spec.get("glanceAPIs") or {})
        endpoint_ids = {
            names.glance_api(doc["metadata"]["name"], key, api_type): self.endpoint_ids.get(
                "public" if api_type == "external" else "internal", ""
            )
            for key in keys
            for api_type in ("single", "edge", "external", "internal")
        }
        given: Obj = {
            "database": {
                "hostname": self.db_host,
                "username": self.db_user,
                "password": self.db_password,
                "tls": False,
            },
            "keystone": {"internal_url": self.keystone_url, "public_url": self.keystone_url, "region": self.region},
            "service_password": self.service_password,
            "memcached": {"servers": []},  # no memcached here: keystonemiddleware caches tokens in process
            "transport_url": self.transport_url,  # used only when the CR asks for notifications
            "quorum_queues": False,  # the session's RabbitMQ is not set up for quorum queues
            "application_credentials": {},  # no sample used here names an application credential Secret
            "config_secrets": {k: dict(v) for k, v in config_secrets.items()},  # the sample's own Secrets
            "secrets": {k: dict(v) for k, v in config_secrets.items()},
            "absent_secrets": [],
            "endpoint_ids": {k: v for k, v in endpoint_ids.items() if v},
            "network_attachments": {},  # loopback only: no NetworkAttachmentDefinitions
            "horizon_endpoint": "",  # no Horizon
            "cinder_present": True,  # the cinder sample is rendered (driver load) as if a Cinder CR existed
            "topologies": {},
            "input_hashes": {},
        }
        # Only keys this version of load_facts knows (it refuses others), and every key it would otherwise
        # fill from its EXAMPLE_FACTS (example hosts, a Horizon, ...) must be one given here.
        known = set(offline.EXAMPLE_FACTS) | {f.name for f in fields(offline.Facts)}
        missing = set(offline.EXAMPLE_FACTS) - set(given)
        assert not missing, f"render.offline has new facts {sorted(missing)}: give them e2e values in pod.py"
        return {k: v for k, v in given.items() if k in known}


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
    objects: list[Obj]  # everything `glance-operator render` printed, in its order
    job_files: dict[str, str]  # the Glance (jobs) config Secret, decoded
    db_sync_job: Obj
    apis: list[RenderedAPI]
    warnings: list[str] = field(default_factory=list)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # every rendered Secret, decoded, by name

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


def _volume_secret(pod_spec: Obj, volume: str) -> str:
    return str(next(v["secret"]["secretName"] for v in pod_spec["volumes"] if v["name"] == volume))


def render(doc: Obj, facts: ServiceFacts, config_secrets: Mapping[str, Mapping[str, str]] | None = None) -> Rendered:
    """``glance-operator render -f <doc> --facts <facts> -n openstack --show-secrets -o <dir>``, read back."""
    with tempfile.TemporaryDirectory(prefix="glance-render-") as tmp:
        cr, facts_file, out = Path(tmp) / "glance.yaml", Path(tmp) / "facts.yaml", Path(tmp) / "out"
        cr.write_text(yaml.safe_dump(doc))
        facts_file.write_text(yaml.safe_dump(facts.facts_yaml(doc, config_secrets or {})))
        argv = ["render", "-f", str(cr), "--facts", str(facts_file), "-n", NAMESPACE, "--show-secrets", "-o", str(out)]
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            rc = cli.main(argv)
        assert rc == 0, f"glance-operator {shlex.join(argv)} failed (rc={rc}):\n{stderr.getvalue()}"
        objects = [
            yaml.safe_load(f.read_text())
            for f in sorted(out.glob("*.yaml"), key=lambda f: int(f.name.split("-", 1)[0]))
        ]
    warnings = [line.split(": warning: ", 1)[1] for line in stderr.getvalue().splitlines() if ": warning: " in line]

    def of_kind(kind: str) -> list[Obj]:
        return [o for o in objects if o["kind"] == kind]

    secrets = {s["metadata"]["name"]: dict(s.get("stringData") or {}) for s in of_kind("Secret")}
    jobs = [j for j in of_kind("Job") if j["metadata"]["name"].endswith("-db-sync")]
    assert len(jobs) == 1, f"expected one db-sync Job, got {[j['metadata']['name'] for j in of_kind('Job')]}"
    job_spec = jobs[0]["spec"]["template"]["spec"]
    statefulsets = {
        ref["name"]: sts
        for sts in of_kind("StatefulSet")
        for ref in sts["metadata"].get("ownerReferences", [])
        if ref["kind"] == "GlanceAPI"
    }
    apis = []
    for child in of_kind("GlanceAPI"):
        name = child["metadata"]["name"]
        sts = statefulsets[name]
        apis.append(
            RenderedAPI(
                name=name,
                api_type=child["spec"]["apiType"],
                files=secrets[_volume_secret(sts["spec"]["template"]["spec"], "config-data")],
                statefulset=sts,
                warnings=tuple(w.removeprefix(f"{name}: ") for w in warnings if w.startswith(f"{name}: ")),
            )
        )
    job_files = secrets[_volume_secret(job_spec, job_spec["volumes"][0]["name"])]
    return Rendered(objects, job_files, jobs[0], apis, warnings, secrets)


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
    shared: Path | None = None,
) -> PodRoot:
    """Create ``root/<mountPath>`` for every mount of ``container``; ``secrets`` maps Secret/ConfigMap names
    (the config Secret included) to their data. With ``shared``, an NFS volume is a symlink to
    ``shared/<server>/<path>``, the same directory for every pod materialised with that ``shared``."""
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
        elif "nfs" in vol and shared is not None:
            export = shared / vol["nfs"]["server"] / vol["nfs"]["path"].strip("/")
            export.mkdir(parents=True, exist_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            elif target.is_dir():
                target.rmdir()  # created empty by an enclosing mount listed earlier
            target.symlink_to(export, target_is_directory=True)
            continue
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
