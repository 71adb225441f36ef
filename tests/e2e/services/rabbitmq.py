"""RabbitMQ from Debian's rabbitmq-server, started by hand (glance-runtime.md §3.3, pitfall 15).

Isolated from anything else on the machine: its own node name, epmd port, AMQP and distribution ports
(all free ports on 127.0.0.1), HOME (Erlang cookie), mnesia and log dirs.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from glance_operator.testing.processes import ManagedProcess, free_port

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")


def _rabbit_bin() -> Path:
    out = subprocess.run(["dpkg", "-L", "rabbitmq-server"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.endswith("/bin/rabbitmq-server") and "/sbin/" not in line:
            return Path(line).parent
    return RABBIT_BIN


@dataclass
class RabbitMQ:
    root: Path
    port: int
    env: dict[str, str]
    process: ManagedProcess
    bin: Path

    @property
    def transport_url(self) -> str:
        return f"rabbit://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args: str, timeout: float = 60) -> str:
        proc = subprocess.run(
            [str(self.bin / "rabbitmqctl"), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        return proc.stdout

    def stop(self) -> None:
        with contextlib.suppress(Exception):  # fall back to signals below
            self.ctl("stop", self.env["RABBITMQ_PID_FILE"], timeout=60)
        self.process.stop(timeout=15)
        # epmd daemonizes out of the process group; stop the one on our own port only
        subprocess.run(["epmd", "-kill"], env=self.env, capture_output=True, check=False, timeout=30)


def start_rabbitmq(root: Path, logs: Path) -> RabbitMQ:
    root.mkdir(parents=True, exist_ok=True)
    port, dist_port, epmd_port = free_port(), free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "RABBITMQ_NODENAME": f"e2e-{uuid.uuid4().hex[:8]}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "ERL_EPMD_PORT": str(epmd_port),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
        "RABBITMQ_LOG_BASE": str(logs / "rabbitmq"),
        "RABBITMQ_PID_FILE": str(root / "rabbit.pid"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
    }
    (root / "enabled_plugins").write_text("[].\n")
    rbin = _rabbit_bin()
    process = ManagedProcess("rabbitmq", [str(rbin / "rabbitmq-server")], logs / "rabbitmq.log", env=env).start()
    rmq = RabbitMQ(root=root, port=port, env=env, process=process, bin=rbin)
    try:
        # `rabbitmqctl wait` polls the node itself, with its own deadline
        rmq.ctl("wait", "--timeout", "120", env["RABBITMQ_PID_FILE"], timeout=150)
        process.check()
    except BaseException:
        rmq.stop()
        raise
    return rmq
