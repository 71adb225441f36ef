"""MariaDB from Debian's mariadb-server, started by hand on 127.0.0.1:<free port>, datadir in a temp dir."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from glance_operator.testing.processes import ManagedProcess, free_port, wait_until


@dataclass
class MariaDB:
    root: Path
    port: int
    process: ManagedProcess

    @property
    def socket(self) -> Path:
        return self.root / "mysqld.sock"

    def sql(self, statement: str) -> str:
        """Run SQL as the MariaDB root user (unix-socket auth as the OS root user)."""
        client = shutil.which("mariadb") or "mysql"
        proc = subprocess.run(
            [client, "--no-defaults", f"--socket={self.socket}", "-u", "root", "-N", "-B", "-e", statement],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"SQL failed: {statement!r}: {proc.stderr.strip()}")
        return proc.stdout

    def create_database(self, name: str, user: str, password: str) -> None:
        """What mariadb-operator's MariaDBDatabase + MariaDBAccount give Glance: a database and a user on it."""
        self.sql(
            f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4;"
            f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}';"
            f"ALTER USER '{user}'@'%' IDENTIFIED BY '{password}';"
            f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'%'; FLUSH PRIVILEGES;"
        )

    def stop(self) -> None:
        self.process.stop(timeout=30)


def start_mariadb(root: Path, logs: Path) -> MariaDB:
    mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    install_db = shutil.which("mariadb-install-db") or "mysql_install_db"
    data = root / "data"
    root.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [
            install_db,
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            "--skip-test-db",
            "--auth-root-authentication-method=socket",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"mariadb-install-db failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    port = free_port()
    argv = [
        mariadbd,
        "--no-defaults",
        f"--datadir={data}",
        f"--socket={root / 'mysqld.sock'}",
        f"--pid-file={root / 'mysqld.pid'}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        "--user=root",
        "--skip-name-resolve",
        "--skip-log-bin",
        "--innodb-buffer-pool-size=64M",
        "--innodb-log-file-size=16M",
        "--innodb-flush-log-at-trx-commit=2",  # test speed: no fsync per commit
        f"--log-error={logs / 'mariadb.err'}",
    ]
    process = ManagedProcess("mariadb", argv, logs / "mariadb.log").start()
    db = MariaDB(root=root, port=port, process=process)
    try:
        wait_until(lambda: db.sql("SELECT 1").strip() == "1", timeout=60, what="MariaDB", watch=[process])
    except BaseException:
        process.stop()
        raise
    return db
