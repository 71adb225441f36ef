#!/usr/bin/env python3
"""Regenerate glance_operator/api/data/glance-options.json: every oslo.config option Glance reads.

Creates (once) a throwaway virtualenv under ~/.cache/glance-operator/catalogue/ with glance and
glance_store pinned to the versions verified in /work/shared/reference/glance-runtime.md Appendix A
(hack/catalogue-constraints.txt), lists the options of the oslo-config-generator namespaces Glance's
own etc/oslo-config-generator/glance-*.conf files name, and the per-driver store options that
glance_store registers for every `enabled_backends` store id, then writes the JSON catalogue.

    python3.11 hack/gen_option_catalogue.py        # then review and commit the JSON
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "glance_operator" / "api" / "data" / "glance-options.json"
CONSTRAINTS = ROOT / "hack" / "catalogue-constraints.txt"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "glance-operator" / "catalogue"
# os-brick and python-cinderclient are glance_store's `cinder` extra (the cinder store and [os_brick] need them),
# not in Appendix A: pinned here to the versions pip resolved against those constraints.
PINS = ("glance==33.0.0", "glance_store==5.7.0", "os-brick==7.1.1", "python-cinderclient==9.10.0")

# The namespaces of glance's etc/oslo-config-generator/glance-{api,cache,manage,scrubber}.conf
# (the API pod runs glance-api, the cache CronJobs glance-cache-*, the db jobs glance-manage), plus
# castellan's key_manager/barbican groups (glance-api reads them for image signature verification).
NAMESPACES = (
    "glance",  # the image import plugins: [image_import_opts], [image_conversion], [inject_metadata_properties], ...
    "glance.api",
    "glance.cache",
    "glance.manage",
    "glance.scrubber",
    "glance.store",
    "glance.multi_store",
    "oslo.concurrency",
    "oslo.messaging",
    "oslo.db",
    "oslo.policy",
    "oslo.limit",
    "oslo.log",
    "oslo.middleware.cors",
    "oslo.middleware.http_proxy_to_wsgi",
    "oslo.middleware.sizelimit",
    "oslo.middleware.healthcheck",
    "oslo.reports",
    "keystonemiddleware.auth_token",
    "castellan.config",
    "osprofiler",
    "os_brick",
)

# Runs inside the throwaway venv: prints the catalogue as JSON.
INSIDE = r"""
import json, sys
from oslo_config import cfg, generator, types
from glance_store import multi_backend, driver
import glance, glance_store
from importlib.metadata import version

def describe(opt):
    t = opt.type
    kind = {cfg.IntOpt: "int", cfg.FloatOpt: "float", cfg.BoolOpt: "bool", cfg.PortOpt: "port",
            cfg.ListOpt: "list", cfg.DictOpt: "dict", cfg.MultiStrOpt: "multistr"}.get(type(opt))
    if kind is None:
        kind = "int" if isinstance(t, types.Integer) else "float" if isinstance(t, types.Float) else \
            "bool" if isinstance(t, types.Boolean) else "list" if isinstance(t, types.List) else \
            "dict" if isinstance(t, types.Dict) else "string"
    if isinstance(t, types.Port):
        kind = "port"
    out = {"type": kind}
    choices = getattr(t, "choices", None)
    if choices:
        out["choices"] = [str(c) for c in choices]
    for attr in ("min", "max"):
        v = getattr(t, attr, None)
        if v is not None:
            out[attr] = v
    if opt.deprecated_for_removal:
        out["deprecated_for_removal"] = True
        if opt.deprecated_reason:
            out["deprecated_reason"] = " ".join(str(opt.deprecated_reason).split())
    if opt.secret:
        out["secret"] = True
    return out

def add(section_map, group, opts):
    sec = section_map.setdefault(group or "DEFAULT", {})
    for opt in opts:
        sec[opt.dest] = describe(opt)  # dest: dashes become underscores, as oslo reads config files
        for d in opt.deprecated_opts:
            old_group = d.group or group or "DEFAULT"
            old_name = (d.name or opt.name).replace("-", "_")
            if "." in old_group or (old_group, old_name) == (group or "DEFAULT", opt.dest):
                continue  # dotted groups are pre-oslo module names, never valid section names
            section_map.setdefault(old_group, {}).setdefault(old_name, {
                **describe(opt), "deprecated_alias_of": f"{group or 'DEFAULT'}.{opt.dest}"})

sections = {}
namespaces = json.loads(sys.argv[1])
for ns, groups in generator._list_opts(namespaces):
    for group, opts in groups:
        name = group.name if isinstance(group, cfg.OptGroup) else group
        add(sections, name, opts)

store_types = {}
# the store types `enabled_backends` accepts (glance_store.drivers entry points with short names)
for store_type in ("cinder", "file", "http", "rbd", "s3", "swift", "vmware"):
    cls = multi_backend._load_multi_store(None, store_type, False)
    target = {}
    add(target, "x", list(cls.OPTIONS or []) + list(getattr(driver, "_MULTI_BACKEND_OPTS", [])))
    store_types[store_type] = target["x"]

print(json.dumps({
    "generated_from": {"glance": version("glance"), "glance_store": version("glance_store"),
                       "oslo.config": version("oslo.config"), "namespaces": namespaces},
    "sections": sections,
    "store_types": store_types,
}))
"""


def ensure_venv() -> Path:
    python = CACHE / "venv" / "bin" / "python"
    marker = CACHE / "venv" / ".pins"
    if not marker.exists() or marker.read_text() != " ".join(PINS):
        CACHE.mkdir(parents=True, exist_ok=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(CACHE / "venv")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), *PINS], check=True)
        marker.write_text(" ".join(PINS))
    return python


def main() -> int:
    python = ensure_venv()
    proc = subprocess.run([str(python), "-c", INSIDE, json.dumps(list(NAMESPACES))], capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        return proc.returncode
    data = json.loads(proc.stdout)
    # glance_store also lists its legacy per-driver groups ("glance.store.rbd.store"): module names from
    # before multistore, never section names in glance-api.conf, so they are left out.
    data["sections"] = {s: dict(sorted(o.items())) for s, o in sorted(data["sections"].items()) if "." not in s}
    data["store_types"] = {s: dict(sorted(o.items())) for s, o in sorted(data["store_types"].items())}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    n = sum(len(o) for o in data["sections"].values())
    print(
        f"wrote {OUT.relative_to(ROOT)}: {len(data['sections'])} sections, {n} options, "
        f"{len(data['store_types'])} store types"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
