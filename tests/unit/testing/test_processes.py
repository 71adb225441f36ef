"""Nothing the harness starts outlives it: a test that fails inside the control plane's `with` block, a
harness that dies of an exception (atexit), and a harness that is SIGKILLed (PR_SET_PDEATHSIG) all
leave no child behind. Uses dummy `sleep` processes started through glance_operator.testing.processes,
no Kubernetes binaries; every wait polls with a deadline (wait_until), none is a fixed sleep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from glance_operator.testing import processes
from glance_operator.testing.binaries import REPO_ROOT
from glance_operator.testing.cluster import ControlPlane
from glance_operator.testing.processes import ManagedProcess, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and PDEATHSIG: Linux")

# A component that forks: it starts a grandchild in its own process group that ignores SIGTERM (so only
# the final SIGKILL of the group removes it), writes the grandchild's pid, and exits on SIGTERM itself.
FORKING_CHILD = textwrap.dedent(
    """\
    ( trap '' TERM; exec sleep 300 ) &
    echo $! >"$1.tmp" && mv "$1.tmp" "$1"
    trap 'exit 0' TERM
    wait
    """
)


class Boom(Exception):
    pass


def gone(pid: int) -> bool:
    """The process no longer runs: no such pid, or a zombie nobody reaped yet (PID 1 of a container
    need not reap the orphans it adopts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def read_pid(path: Path) -> int:
    """The pid a dummy wrote (atomically, by rename), once it is there."""

    def pid() -> int | None:
        text = path.read_text().strip() if path.exists() else ""
        return int(text) if text else None

    return wait_until(pid, timeout=10, what=f"pid in {path}")


def is_sleep(pid: int) -> bool:
    """The process has exec'd `sleep`, so its signal dispositions (SIGTERM ignored) are in place."""
    return Path(f"/proc/{pid}/comm").read_text().strip() == "sleep"


def read_sleeping_pid(path: Path) -> int:
    pid = read_pid(path)
    wait_until(lambda: is_sleep(pid), timeout=10, what=f"process {pid} to exec sleep")
    return pid


def forking_argv(pid_file: Path) -> list[str]:
    return ["bash", "-c", FORKING_CHILD, "forking-child", str(pid_file)]


class DummyControlPlane(ControlPlane):
    """A ControlPlane whose start() spawns one dummy component, through the same _spawn as etcd & co."""

    def __init__(self, dir: Path, pid_file: Path, fail_in_start: bool = False) -> None:
        super().__init__(dir, build=False)
        self.pid_file = pid_file
        self.fail_in_start = fail_in_start

    def start(self) -> ControlPlane:
        self._prepare_dir()
        self._spawn("dummy", forking_argv(self.pid_file))
        read_sleeping_pid(self.pid_file)  # started for real, grandchild included
        if self.fail_in_start:
            raise Boom("a component failed to become ready")
        return self


def test_a_test_failing_inside_the_control_plane_leaves_no_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    with pytest.raises(Boom), DummyControlPlane(tmp_path / "cp", pid_file) as cp:
        child = cp.processes["dummy"]
        assert child.running() and child in processes._registry._procs
        child_pid, grandchild_pid = child.pid, read_sleeping_pid(pid_file)
        assert child_pid is not None and os.getpgid(grandchild_pid) == child_pid  # one process group
        raise Boom("the test failed")
    assert child_pid is not None and gone(child_pid)
    wait_until(lambda: gone(grandchild_pid), timeout=10, what="the grandchild to be killed")
    assert cp.processes == {} and child not in processes._registry._procs


def test_a_start_that_fails_leaves_no_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    cp = DummyControlPlane(tmp_path / "cp", pid_file, fail_in_start=True)
    with pytest.raises(Boom), cp:
        pytest.fail("not reached: start() raised")
    grandchild_pid = read_pid(pid_file)
    wait_until(lambda: gone(grandchild_pid), timeout=10, what="the grandchild to be killed")
    assert cp.processes == {}


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    proc = ManagedProcess("stubborn", ["bash", "-c", "trap '' TERM; exec sleep 300"], tmp_path / "stubborn.log")
    proc.start()
    pid = proc.pid
    assert pid is not None
    wait_until(lambda: is_sleep(pid), timeout=10, what="the child to ignore SIGTERM")
    proc.stop(timeout=0.2)  # SIGTERM is ignored: SIGKILL once this grace period is over
    assert gone(pid) and not proc.running()


# The harness in a process of its own: starts the forking child from its main thread, writes its pid, then
# either raises (atexit must stop the child) or waits to be SIGKILLed (PDEATHSIG must kill the child).
HARNESS = textwrap.dedent(
    """\
    import signal, sys
    from pathlib import Path
    from glance_operator.testing.processes import ManagedProcess, wait_until
    out, mode, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    child = ManagedProcess("dummy", argv, out / "dummy.log").start()
    (out / "child.pid.tmp").write_text(str(child.pid))
    (out / "child.pid.tmp").rename(out / "child.pid")
    if mode == "raise":
        def grandchild_sleeps():
            pid = (out / "grandchild.pid").read_text().strip()
            return Path(f"/proc/{pid}/comm").read_text().strip() == "sleep"
        wait_until(grandchild_sleeps, timeout=10, what="the grandchild")
        raise RuntimeError("the test failed")
    signal.pause()  # until SIGKILLed
    """
)


def test_atexit_stops_children_when_the_harness_dies_of_an_exception(tmp_path: Path) -> None:
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS, str(tmp_path), "raise", *forking_argv(tmp_path / "grandchild.pid")],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _, err = harness.communicate(timeout=30)
    finally:
        harness.kill()
    assert harness.returncode == 1 and b"RuntimeError: the test failed" in err, err.decode()
    child_pid, grandchild_pid = read_pid(tmp_path / "child.pid"), read_pid(tmp_path / "grandchild.pid")
    wait_until(lambda: gone(child_pid), timeout=10, what="the child to be stopped at exit")
    # PDEATHSIG alone would kill the child too, when the main thread ends; the grandchild, which ignores
    # SIGTERM, is only removed by the registry's atexit stop (SIGKILL to the whole process group).
    wait_until(lambda: gone(grandchild_pid), timeout=10, what="the grandchild to be stopped at exit")


def test_pdeathsig_kills_the_child_when_the_harness_is_sigkilled(tmp_path: Path) -> None:
    # A child that does not fork: PDEATHSIG covers the direct child only (the components do not fork).
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS, str(tmp_path), "block", "sleep", "300"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        child_pid = read_pid(tmp_path / "child.pid")  # written once Popen returned, i.e. after the exec
        assert not gone(child_pid)
        harness.send_signal(signal.SIGKILL)  # no atexit, no finally: only the kernel can clean up
        assert harness.wait(10) == -signal.SIGKILL
        wait_until(lambda: gone(child_pid), timeout=10, what="PDEATHSIG to kill the child")
    finally:
        harness.kill()
        harness.wait(10)
