"""Where the control-plane binaries live; builds them with hack/build-control-plane.sh if asked.

The pinned versions are read from the build script, which is their single source of truth
(ETCD_VERSION / KUBERNETES_VERSION / KWOK_VERSION in the environment override both).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "hack" / "build-control-plane.sh"

_VERSION_RE = re.compile(r"^(ETCD|KUBERNETES|KWOK)_VERSION=\$\{\1_VERSION:-([^}]+)\}", re.MULTILINE)


def cache_dir() -> Path:
    return Path(os.environ.get("GLANCE_OPERATOR_CACHE") or Path.home() / ".cache" / "glance-operator")


def pinned_versions() -> dict[str, str]:
    """{"etcd": "v3.6.16", "kubernetes": "v1.34.2", "kwok": "v0.8.0"} (env overrides applied)."""
    found = dict(_VERSION_RE.findall(BUILD_SCRIPT.read_text()))
    missing = {"ETCD", "KUBERNETES", "KWOK"} - found.keys()
    if missing:
        raise RuntimeError(f"{BUILD_SCRIPT} does not pin {sorted(missing)}")
    return {k.lower(): os.environ.get(f"{k}_VERSION") or v for k, v in found.items()}


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubectl: Path
    kwok: Path

    @classmethod
    def pinned(cls) -> Binaries:
        v = pinned_versions()
        bin_dir = cache_dir() / "bin"
        k8s = bin_dir / v["kubernetes"]
        return cls(
            etcd=bin_dir / v["etcd"] / "etcd",
            kube_apiserver=k8s / "kube-apiserver",
            kube_controller_manager=k8s / "kube-controller-manager",
            kube_scheduler=k8s / "kube-scheduler",
            kubectl=k8s / "kubectl",
            kwok=bin_dir / v["kwok"] / "kwok",
        )

    def missing(self) -> list[Path]:
        paths: list[Path] = [getattr(self, f.name) for f in fields(self)]
        return [p for p in paths if not os.access(p, os.X_OK)]


def ensure_binaries(*, build: bool = True) -> Binaries:
    """The pinned binaries; runs the build script when some are missing (slow the first time)."""
    binaries = Binaries.pinned()
    missing = binaries.missing()
    if not missing:
        return binaries
    if not build:
        raise FileNotFoundError(
            f"control-plane binaries missing ({', '.join(map(str, missing))}); run `make control-plane`"
        )
    print(
        f"control-plane binaries missing, running {BUILD_SCRIPT} (takes a while the first time)",
        file=sys.stderr,
        flush=True,
    )
    # Inherits our fds: progress shows with `pytest -s` and lands in the captured output otherwise.
    subprocess.run(["bash", str(BUILD_SCRIPT)], check=True)
    missing = binaries.missing()
    if missing:
        raise FileNotFoundError(f"{BUILD_SCRIPT} finished but these are missing: {missing}")
    return binaries
