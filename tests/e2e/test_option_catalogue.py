"""The committed option catalogue (glance_operator/api/data/glance-options.json) is exactly what
hack/gen_option_catalogue.py generates from the Glance the e2e suite runs.

The script's own code runs, with the e2e virtualenv's python instead of its throwaway catalogue venv and a
temp file instead of the committed one, so a Glance/glance_store/os-brick bump in one place and not the other
(hack/e2e/install.sh + tests/e2e/constraints.txt vs the script's PINS + hack/catalogue-constraints.txt)
fails here, with the sections that changed. About 10 s; no services needed.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .services.install import Installed

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "hack" / "gen_option_catalogue.py"
COMMITTED = REPO / "glance_operator" / "api" / "data" / "glance-options.json"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_option_catalogue", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _installed_versions(python: Path, names: list[str]) -> dict[str, str]:
    code = (
        "import json, sys; from importlib.metadata import version; "
        "print(json.dumps({n: version(n) for n in sys.argv[1:]}))"
    )
    out = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True, check=True).stdout
    versions: dict[str, str] = json.loads(out)
    return versions


def _differences(generated: dict[str, Any], committed: dict[str, Any]) -> list[str]:
    out = []
    for part in ("sections", "store_types"):
        new, old = generated.get(part, {}), committed.get(part, {})
        for name in sorted(set(new) | set(old)):
            if new.get(name) == old.get(name):
                continue
            added = sorted(set(new.get(name, {})) - set(old.get(name, {})))
            removed = sorted(set(old.get(name, {})) - set(new.get(name, {})))
            both = set(new.get(name, {})) & set(old.get(name, {}))
            changed = sorted(k for k in both if new[name][k] != old[name][k])
            out.append(f"{part}[{name}]: added {added}, removed {removed}, changed {changed}")
    if generated.get("generated_from") != committed.get("generated_from"):
        out.append(f"generated_from: {generated.get('generated_from')} != {committed.get('generated_from')}")
    return out


def test_committed_catalogue_is_what_the_e2e_glance_generates(
    e2e_venv: Installed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = _generator()
    # the packages the catalogue is read from: the same versions in the e2e venv as the script pins
    # (glance and glance_store are pinned on both sides; os-brick and python-cinderclient are unpinned in
    # hack/e2e/install.sh and resolved to the script's pins when the venv was built: a newer resolution shows here)
    pins = dict(p.split("==") for p in gen.PINS)
    installed = _installed_versions(e2e_venv.python, sorted(pins))
    assert installed == pins, (
        f"{e2e_venv.venv} holds {installed}, hack/gen_option_catalogue.py pins {pins}: pin the same versions in "
        "hack/e2e/install.sh, or bump PINS and regenerate the catalogue"
    )
    out = tmp_path / "glance-options.json"
    monkeypatch.setattr(gen, "ensure_venv", lambda: e2e_venv.python)
    monkeypatch.setattr(gen, "ROOT", tmp_path)  # the script prints OUT relative to ROOT
    monkeypatch.setattr(gen, "OUT", out)
    assert gen.main() == 0
    generated, committed = out.read_text(), COMMITTED.read_text()
    if generated != committed:
        problems = _differences(json.loads(generated), json.loads(committed)) or ["formatting only"]
        pytest.fail(
            "the committed catalogue is stale; run `python3.11 hack/gen_option_catalogue.py` and commit it:\n  "
            + "\n  ".join(problems)
        )
