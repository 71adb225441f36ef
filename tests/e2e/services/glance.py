"""Run what the operator renders: the db-sync Job's command, then the Glance API under uWSGI.

The pod runs Glance under httpd + mod_wsgi (``glance-httpd`` container, ``exec /usr/sbin/httpd -DFOREGROUND``);
here the same WSGI application (``glance.wsgi.api:application``, what mod_wsgi's glance-wsgi script loads)
runs under uWSGI as in glance-runtime.md §3.4. The part of the container script before ``exec`` (the worker
script writing ``01-config.conf`` with ``worker_self_reference_url``) is run as rendered, with paths
translated and ``$(hostname).${GLANCE_DOMAIN}`` pointed at 127.0.0.1.

Config discovery is the pod's: ``OS_GLANCE_CONFIG_DIR=<root>/etc/glance`` (the image's /etc/glance, holding an
empty glance-api.conf and the shipped glance-api-paste.ini) and ``HOME`` such that ``~/.glance`` is
``<root>/etc/glance``, so oslo.config finds ``glance.conf.d`` exactly as it does at /etc/glance/glance.conf.d
in the pod (uWSGI passes no --config-dir; glance-runtime.md §3.4).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from glance_operator.testing.processes import ManagedProcess, free_port, wait_until

from ..pod import CONFIG_DIR, PodRoot, Rendered, RenderedAPI, container_script, materialise
from .install import Installed
from .keystone import UWSGI_FLAGS

# Lines Glance always logs at ERROR on this machine and that say nothing about our config (pitfall 14).
HARMLESS_ERRORS = ("Could not load 'cinder'", "Could not load 'glance.store.cinder.Store'")
# Logged at WARNING only, but every import would fail (glance-runtime.md pitfall 5; glance.common.wsgi_app:
# "Import methods are enabled but staging directory %(path)s does not exist; Imports will fail!").
FATAL_WARNINGS = ("Imports will fail!",)


class RenderedConfigError(AssertionError):
    """Real Glance refused what the operator rendered: a finding, reported with Glance's own words."""


def _image_etc(pod: PodRoot, venv: Installed) -> dict[str, str]:
    """What the container image provides at /etc/glance, and the environment that makes Glance find it."""
    etc = pod.path("/etc/glance")
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "glance-api.conf").touch()  # the image's file: every option commented out
    metadefs = venv.venv / "etc" / "glance" / "metadefs"  # the image's /etc/glance/metadefs (db_load_metadefs)
    if metadefs.is_dir() and not (etc / "metadefs").exists():
        shutil.copytree(metadefs, etc / "metadefs")
    paste = venv.venv / "etc" / "glance" / "glance-api-paste.ini"
    (etc / "glance-api-paste.ini").write_text(pod.translate(paste.read_text()))
    home = pod.root / "home"
    home.mkdir(exist_ok=True)
    link = home / ".glance"
    if not link.exists():
        link.symlink_to(etc)
    return {
        "PATH": f"{venv.venv / 'bin'}:/usr/sbin:/usr/bin:/bin",
        "HOME": str(home),
        "OS_GLANCE_CONFIG_DIR": str(etc),
        "PYTHONWARNINGS": "ignore",
        "LANG": "C.UTF-8",
    }


def run_db_sync(rendered: Rendered, root: Path, venv: Installed, timeout: float = 300) -> str:
    """Run the db-sync Job's container script with its mounts under ``root``; return its output."""
    spec = rendered.db_sync_job["spec"]["template"]["spec"]
    container = spec["containers"][0]
    config_secret = spec["volumes"][0]["secret"]["secretName"]
    pod = materialise(root, container, spec, {config_secret: rendered.job_files})
    env = _image_etc(pod, venv)
    script = pod.translate(container_script(container))
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=timeout)
    out = f"$ {script}\n{proc.stdout}{proc.stderr}"
    if proc.returncode != 0:
        raise RenderedConfigError(f"the rendered db-sync command failed (rc={proc.returncode}):\n{out[-4000:]}")
    return out


@dataclass
class GlanceAPIProcess:
    pod: PodRoot
    port: int
    process: ManagedProcess
    log_file: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self, name: str) -> str:
        return self.pod.path(f"{CONFIG_DIR}/{name}").read_text()

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def errors(self) -> list[str]:
        """ERROR/CRITICAL lines of Glance's own log (from the rendered log_file), minus known harmless ones,
        plus the warnings that mean a broken deployment (FATAL_WARNINGS)."""
        return [
            line
            for line in self.log().splitlines()
            if ((" ERROR " in line or " CRITICAL " in line) and not any(h in line for h in HARMLESS_ERRORS))
            or any(w in line for w in FATAL_WARNINGS)
        ]

    def fatal_warnings(self) -> list[str]:
        return [line for line in self.log().splitlines() if any(w in line for w in FATAL_WARNINGS)]

    def stop(self) -> None:
        self.process.stop(timeout=30)


def start_glance_api(
    api: RenderedAPI,
    root: Path,
    venv: Installed,
    logs: Path,
    extra_sources: Mapping[str, Mapping[str, str]] | None = None,
    shared: Path | None = None,
) -> GlanceAPIProcess:
    """Materialise the pod of ``api`` under ``root``, run its worker script, start Glance; wait for /healthcheck.

    Fails (RenderedConfigError) unless /healthcheck answers, and also when Glance started but logged a
    FATAL_WARNINGS line (a missing staging store is only a warning: glance-runtime.md pitfall 5).
    ``shared``: where NFS exports live, shared by the pods of one deployment (see ``materialise``)."""
    container = api.glance_container()
    spec = api.pod_spec
    config_secret = next(v["secret"]["secretName"] for v in spec["volumes"] if v["name"] == "config-data")
    claims = [c["metadata"]["name"] for c in api.statefulset["spec"].get("volumeClaimTemplates", [])]
    sources: dict[str, Mapping[str, str]] = {**(extra_sources or {}), config_secret: api.files}
    pod = materialise(root, container, spec, sources, claims, shared)
    env = _image_etc(pod, venv)
    port = free_port()
    # The container script up to `exec <server>`: the worker script, paths translated, hostname -> loopback.
    script = container_script(container)
    prelude, sep, server = script.rpartition("exec ")
    assert sep, f"{api.name}: the container script does not exec a server: {script!r}"
    prelude = pod.translate(prelude).replace("$(hostname).${GLANCE_DOMAIN}", "127.0.0.1")
    cenv = {e["name"]: e.get("value", "") for e in container.get("env", [])}
    cenv["GLANCE_PORT"] = str(port)
    proc = subprocess.run(["bash", "-c", prelude], env={**env, **cenv}, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RenderedConfigError(f"{api.name}: the container's start script failed: {proc.stderr}")
    log_file = _log_file(pod)
    argv = [
        str(venv.bin("uwsgi")),
        "--http-socket",
        f"127.0.0.1:{port}",
        "--module",
        "glance.wsgi.api:application",
        *UWSGI_FLAGS,
        "--pidfile",
        str(root / "uwsgi.pid"),
    ]
    process = ManagedProcess(f"glance-{api.name}", argv, logs / f"{root.name}-uwsgi.log", env=env).start()
    g = GlanceAPIProcess(pod=pod, port=port, process=process, log_file=log_file)
    try:
        wait_until(
            lambda: httpx.get(f"{g.url}/healthcheck", timeout=5).status_code == 200,
            timeout=120,
            what=f"Glance {api.name} /healthcheck (server replaced: {server.strip()!r})",
            watch=[process],
        )
    except Exception as exc:
        tail = process.log_tail(40)
        process.stop()
        raise RenderedConfigError(
            f"Glance did not start with the rendered configuration of {api.name}: {exc}\n"
            f"--- uWSGI log ---\n{tail}\n--- Glance log ({log_file}) ---\n{g.log()[-4000:]}"
        ) from exc
    # The app is loaded (--need-app --lazy-apps) before /healthcheck answers, so its start-up warnings are logged.
    fatal = g.fatal_warnings()
    if fatal:
        process.stop()
        raise RenderedConfigError(f"Glance {api.name} started but logged a fatal warning:\n" + "\n".join(fatal))
    return g


def _log_file(pod: PodRoot) -> Path:
    """The ``log_file`` the rendered 00-config.conf names (translated)."""
    for line in pod.path(f"{CONFIG_DIR}/00-config.conf").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "log_file":
            return Path(value.strip())
    return pod.path("/var/log/glance/glance.log")


__all__ = ["GlanceAPIProcess", "RenderedConfigError", "run_db_sync", "start_glance_api"]


# Loads the stores exactly as glance.common.wsgi_app.init_app does (same config discovery, same calls), then
# reports per enabled backend: the driver, whether it configured (with glance_store's error if not), and every
# key of the backend's config section that the driver does not register (a typo Glance would silently ignore).
STORE_LOADER = r"""
import configparser, glob, json, os
from oslo_config import cfg
from glance.common import config, wsgi_app
import glance_store
from glance_store import exceptions
CONF = cfg.CONF
config.set_config_defaults()
CONF([], project="glance", prog="glance-api", default_config_files=wsgi_app._get_config_files())
report = {"config_files": CONF.default_config_files, "config_dirs": CONF.default_config_dirs, "stores": {}}
glance_store.register_store_opts(CONF, reserved_stores=wsgi_app.RESERVED_STORES)
try:
    glance_store.create_multi_stores(CONF, reserved_stores=wsgi_app.RESERVED_STORES)
    glance_store.verify_store()
except Exception as exc:
    report["error"] = f"{type(exc).__name__}: {exc}"
parser = configparser.ConfigParser(strict=False, interpolation=None)
parser.read(CONF.default_config_files + sorted(
    f for d in CONF.default_config_dirs for f in glob.glob(os.path.join(d, "*.conf"))))
for store_id, store_type in list(CONF.enabled_backends.items()):
    entry = {"type": store_type}
    try:
        store = glance_store.get_store_from_store_identifier(store_id)
        entry["driver"] = f"{type(store).__module__}.{type(store).__name__}"
        try:
            store.configure_add()
            entry["configured"] = True
        except Exception as exc:
            entry["configured"] = False
            entry["error"] = f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        entry["driver"] = None
        entry["error"] = f"{type(exc).__name__}: {exc}"
    registered = {o for o in CONF[store_id].keys()} if store_id in CONF else set()
    keys = set(parser[store_id].keys()) - set(parser.defaults()) if parser.has_section(store_id) else set()
    entry["unknown_options"] = sorted(keys - registered)
    report["stores"][store_id] = entry
print(json.dumps(report))
"""


def load_stores(
    api: RenderedAPI, root: Path, venv: Installed, sources: Mapping[str, Mapping[str, str]]
) -> dict[str, object]:
    """Materialise ``api``'s pod and load its stores with Glance's own code, without starting the server."""
    import json

    container = api.glance_container()
    spec = api.pod_spec
    config_secret = next(v["secret"]["secretName"] for v in spec["volumes"] if v["name"] == "config-data")
    claims = [c["metadata"]["name"] for c in api.statefulset["spec"].get("volumeClaimTemplates", [])]
    pod = materialise(root, container, spec, {**sources, config_secret: api.files}, claims)
    env = _image_etc(pod, venv)
    proc = subprocess.run(
        [str(venv.python), "-c", STORE_LOADER], env=env, capture_output=True, text=True, timeout=120, cwd=root
    )
    if proc.returncode != 0:
        raise RenderedConfigError(
            f"{api.name}: Glance could not load the rendered store config:\n{proc.stderr[-4000:]}"
        )
    report: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    report["log"] = proc.stderr[-3000:]
    return report
