"""Run hack/e2e/install.sh (Debian packages + the cached Glance/Keystone venv) and time it."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
INSTALL_SCRIPT = REPO / "hack" / "e2e" / "install.sh"


class InstallError(RuntimeError):
    pass


@dataclass(frozen=True)
class Installed:
    venv: Path
    seconds: float

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name


def install() -> Installed:
    """Install (or reuse) everything; raise with the installer's output when it fails."""
    start = time.monotonic()
    proc = subprocess.run(["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InstallError(f"{INSTALL_SCRIPT} failed (rc={proc.returncode}):\n{proc.stderr[-6000:]}")
    venv = Path(proc.stdout.strip().splitlines()[-1])
    return Installed(venv=venv, seconds=time.monotonic() - start)
