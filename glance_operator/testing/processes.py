"""Child processes that never outlive the harness, and polling helpers (no fixed sleeps)."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it if the harness dies, even by SIGKILL.

    Linux only; the signal fires when the *thread* that forked exits, so start processes from
    the main thread (pytest fixtures and the CLI do).
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ProcessDied(RuntimeError):
    pass


class ManagedProcess:
    """One component (etcd, kube-apiserver, ...) in its own process group, logging to a file."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"### {' '.join(self.argv)}\n".encode())
            log.flush()
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # own process group: we signal the group, Ctrl-C does not
                # the death signal fires when the forking *thread* exits: arm it only from the main
                # thread, or a component restarted from a worker thread would die with that thread
                preexec_fn=_die_with_parent if threading.current_thread() is threading.main_thread() else None,
            )
        _registry.add(self)
        return self

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def check(self) -> None:
        """Raise with the end of the log if the process has exited."""
        if self._popen is not None and self._popen.poll() is not None:
            raise ProcessDied(
                f"{self.name} exited with code {self._popen.returncode}; last log lines "
                f"({self.log_path}):\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            data = self.log_path.read_bytes()[-16384:].decode(errors="replace")
        except OSError:
            return "<no log>"
        return "\n".join(data.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``timeout`` seconds."""
        popen, self._popen = self._popen, None
        _registry.discard(self)
        if popen is None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(popen.pid, sig)
            try:
                popen.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Reap strays that left the group leader behind (the components do not fork, but be sure).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)


class _Registry:
    """Every running ManagedProcess, stopped at interpreter exit whatever happened before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: list[ManagedProcess] = []
        atexit.register(self.stop_all)

    def add(self, proc: ManagedProcess) -> None:
        with self._lock:
            self._procs.append(proc)

    def discard(self, proc: ManagedProcess) -> None:
        with self._lock:
            if proc in self._procs:
                self._procs.remove(proc)

    def stop_all(self) -> None:
        with self._lock:
            procs = list(reversed(self._procs))
        for proc in procs:  # reverse start order: clients before servers
            proc.stop(timeout=5.0)


_registry = _Registry()


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    watch: Iterable[ManagedProcess] = (),
) -> T:
    """Poll ``probe`` until it returns a truthy value; fail fast if a watched process dies.

    Exceptions from the probe count as "not yet" and the last one is reported on timeout.
    """
    deadline = time.monotonic() + timeout
    watched = list(watch)
    last_error: BaseException | None = None
    while True:
        for proc in watched:
            proc.check()
        try:
            result = probe()
            if result:
                return result
            last_error = None
        except Exception as e:
            last_error = e
        if time.monotonic() > deadline:
            detail = f": last error: {last_error!r}" if last_error else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)  # poll
