"""hack/build-control-plane.sh: `go mod download -json` failures (reported in the JSON `Error` field on
stdout, not on stderr) are retried when transient and shown when final. Runs the script's `gomod_of`
with a fake `go` first on PATH; no network, no real Go toolchain."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from glance_operator.testing.binaries import BUILD_SCRIPT

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

MODULE = "k8s.io/kubernetes@v1.34.2"
TRANSIENT = (
    'k8s.io/kubernetes@v1.34.2: Get "https://proxy.golang.org/k8s.io/kubernetes/@v/v1.34.2.info": '
    "dial tcp: lookup proxy.golang.org: i/o timeout"
)
NOT_FOUND = "k8s.io/kubernetes@v1.34.99: invalid version: unknown revision v1.34.99"

# A fake `go`: `mod download -json M` answers with the next scripted reply (one file per call:
# "<exit code>\n<stdout>"), counting calls; everything else succeeds quietly.
FAKE_GO = """#!/usr/bin/env bash
if [ "$1 $2 $3" = "mod download -json" ]; then
  n=$(( $(cat "$FAKE_GO_DIR/calls" 2>/dev/null || echo 0) + 1 ))
  echo "$n" >"$FAKE_GO_DIR/calls"
  reply="$FAKE_GO_DIR/reply-$n"; [ -f "$reply" ] || reply="$FAKE_GO_DIR/reply-last"
  tail -n +2 "$reply"
  exit "$(head -n 1 "$reply")"
fi
case "$1" in
  version) echo "go version go1.26.0 linux/amd64" ;;
  env) echo go1.26.0 ;;
esac
"""


def download_json(error: str | None = None, gomod: str | None = None) -> str:
    """What `go mod download -json` prints (tab-indented, like Go's json.MarshalIndent)."""
    obj: dict[str, str] = {"Path": "k8s.io/kubernetes", "Version": "v1.34.2"}
    if error is not None:
        obj["Error"] = error
    if gomod is not None:
        obj["GoMod"] = gomod
    return json.dumps(obj, indent="\t") + "\n"


def run_gomod_of(tmp_path: Path, *replies: tuple[int, str]) -> tuple[subprocess.CompletedProcess[str], int]:
    """Source the script, run `gomod_of MODULE` with the fake go; return the result and the go calls."""
    fake = tmp_path / "fake-go"
    (fake / "bin").mkdir(parents=True)
    go = fake / "bin" / "go"
    go.write_text(FAKE_GO)
    go.chmod(0o755)
    for i, (code, stdout) in enumerate(replies, 1):
        (fake / ("reply-last" if i == len(replies) else f"reply-{i}")).write_text(f"{code}\n{stdout}")
    env = {
        "PATH": f"{fake / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GLANCE_OPERATOR_CACHE": str(tmp_path / "cache"),
        "FAKE_GO_DIR": str(fake),
        "RETRY_DELAY": "0",
    }
    result = subprocess.run(
        ["bash", "-c", 'source "$1"; gomod_of "$2"', "bash", str(BUILD_SCRIPT), MODULE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    calls = int((fake / "calls").read_text()) if (fake / "calls").exists() else 0
    return result, calls


def test_transient_json_errors_are_retried(tmp_path: Path) -> None:
    gomod = "/cache/mod/cache/download/k8s.io/kubernetes/@v/v1.34.2.mod"
    result, calls = run_gomod_of(
        tmp_path,
        (1, download_json(TRANSIENT)),
        (1, download_json(TRANSIENT.replace("i/o timeout", "connection reset by peer"))),
        (0, download_json(gomod=gomod)),
    )
    assert result.returncode == 0, result.stderr
    assert calls == 3
    assert result.stdout == gomod + "\n"
    # the reason is shown (it was only in the JSON on stdout), JSON-unescaped
    assert TRANSIENT in result.stderr
    assert result.stderr.count("transient error, retrying") == 2


def test_a_non_transient_json_error_fails_at_once_and_says_why(tmp_path: Path) -> None:
    result, calls = run_gomod_of(tmp_path, (1, download_json(NOT_FOUND)))
    assert result.returncode != 0
    assert calls == 1
    assert "retrying" not in result.stderr
    assert f"go mod download {MODULE} failed (exit 1, attempt 1): {NOT_FOUND}" in result.stderr
    assert result.stdout == ""


def test_a_persistent_transient_json_error_fails_after_three_attempts(tmp_path: Path) -> None:
    result, calls = run_gomod_of(tmp_path, (1, download_json(TRANSIENT)))
    assert result.returncode != 0
    assert calls == 3
    assert result.stderr.count("transient error, retrying") == 2
    assert f"failed (exit 1, attempt 3): {TRANSIENT}" in result.stderr


def test_an_error_in_the_json_fails_even_with_exit_status_0(tmp_path: Path) -> None:
    result, calls = run_gomod_of(tmp_path, (0, download_json(NOT_FOUND)))
    assert result.returncode != 0
    assert calls == 1
    assert f"failed (exit 1, attempt 1): {NOT_FOUND}" in result.stderr


def test_sourcing_the_script_builds_nothing(tmp_path: Path) -> None:
    result, calls = run_gomod_of(tmp_path, (0, download_json(gomod="/x.mod")))
    assert calls == 1  # only gomod_of's own call: sourcing did not run main
    assert "[build-control-plane] go:" not in result.stderr
    assert not (tmp_path / "cache").exists()
