"""E2E fixtures: one MariaDB, one RabbitMQ and one Keystone per session; one Glance per scenario group.

Everything is installed by hack/e2e/install.sh (Debian packages, cached venv under
~/.cache/glance-operator/e2e/) and runs on 127.0.0.1 on free ports with state in pytest temp dirs.
Timings (install, service starts, each Glance deployment, each test) are printed at the end of the run.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .client import GlanceClient
from .pod import Rendered, ServiceFacts, render
from .services.glance import GlanceAPIProcess, run_db_sync, start_glance_api
from .services.install import Installed, install
from .services.keystone import GLANCE_PASSWORD, REGION, Keystone, start_keystone
from .services.mariadb import MariaDB, start_mariadb
from .services.rabbitmq import RabbitMQ, start_rabbitmq

HERE = Path(__file__).resolve().parent
DB_USER = "glance"
DB_PASSWORD = "glance-db-secret"
TIMINGS: dict[str, float] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    start = time.monotonic()
    yield
    if HERE in item.path.parents:
        TIMINGS[f"test {item.nodeid.removeprefix('tests/e2e/')}"] = time.monotonic() - start


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("e2e timings")
    for what, seconds in TIMINGS.items():
        terminalreporter.write_line(f"{seconds:8.1f} s  {what}")


def timed(what: str) -> Callable[[Callable[[], Any]], Any]:
    def run(fn: Callable[[], Any]) -> Any:
        start = time.monotonic()
        try:
            return fn()
        finally:
            TIMINGS[what] = time.monotonic() - start

    return run


@pytest.fixture(scope="session")
def e2e_venv() -> Installed:
    venv: Installed = timed("install (hack/e2e/install.sh)")(install)
    return venv


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("e2e")
    (path / "logs").mkdir()
    return path


@pytest.fixture(scope="session")
def mariadb(e2e_venv: Installed, e2e_dir: Path) -> Iterator[MariaDB]:
    db: MariaDB = timed("start MariaDB")(lambda: start_mariadb(e2e_dir / "mariadb", e2e_dir / "logs"))
    try:
        yield db
    finally:
        db.stop()


@pytest.fixture(scope="session")
def rabbitmq(e2e_venv: Installed, e2e_dir: Path) -> Iterator[RabbitMQ]:
    rmq: RabbitMQ = timed("start RabbitMQ")(lambda: start_rabbitmq(e2e_dir / "rabbitmq", e2e_dir / "logs"))
    try:
        yield rmq
    finally:
        rmq.stop()


@pytest.fixture(scope="session")
def keystone(e2e_venv: Installed, e2e_dir: Path) -> Iterator[Keystone]:
    ks: Keystone = timed("start + bootstrap Keystone")(
        lambda: start_keystone(e2e_venv, e2e_dir / "keystone", e2e_dir / "logs")
    )
    try:
        yield ks
    finally:
        ks.stop()


@pytest.fixture(scope="session")
def facts(mariadb: MariaDB, keystone: Keystone, rabbitmq: RabbitMQ) -> ServiceFacts:
    return ServiceFacts(
        db_host=f"127.0.0.1:{mariadb.port}",
        db_user=DB_USER,
        db_password=DB_PASSWORD,
        keystone_url=keystone.url,
        region=REGION,
        service_password=GLANCE_PASSWORD,
        transport_url=rabbitmq.transport_url,
        endpoint_ids={iface: keystone.ids[f"image_endpoint_{iface}"] for iface in ("public", "internal")},
    )


@dataclass
class Deployment:
    """One rendered Glance, its db-sync output and its running API(s)."""

    name: str
    rendered: Rendered
    db_sync_output: str
    apis: dict[str, GlanceAPIProcess] = field(default_factory=dict)  # by GlanceAPI name

    def api(self, api_type: str | None = None) -> GlanceAPIProcess:
        return self.apis[self.rendered.api(api_type).name]

    def api_url_for(self, interface: str) -> str:
        """The started API a Keystone endpoint of ``interface`` points at, as the operator registers them:
        public -> external (or single/edge), internal and admin -> internal (or single/edge)."""
        started = {a.api_type: self.apis[a.name].url for a in self.rendered.apis if a.name in self.apis}
        order = ("external",) if interface == "public" else ("internal",)
        return next((started[t] for t in (*order, "single", "edge") if t in started), next(iter(started.values())))


@dataclass
class Deployer:
    venv: Installed
    mariadb: MariaDB
    keystone: Keystone
    facts: ServiceFacts
    root: Path
    running: list[Deployment] = field(default_factory=list)

    def deploy(
        self,
        name: str,
        doc: dict[str, Any],
        sources: Mapping[str, Mapping[str, str]] | None = None,
        api_types: tuple[str, ...] | None = None,
    ) -> Deployment:
        """Render ``doc``, fresh database, run the rendered db sync, start the (selected) API pods."""
        start = time.monotonic()
        rendered = render(doc, self.facts, config_secrets=sources)
        self.mariadb.create_database("glance", DB_USER, DB_PASSWORD)
        base = self.root / name
        out = run_db_sync(rendered, base / "db-sync", self.venv)
        dep = Deployment(name, rendered, out)
        self.running.append(dep)
        for api in rendered.apis:
            if api_types is not None and api.api_type not in api_types:
                continue
            g = start_glance_api(
                api,
                base / api.name,
                self.venv,
                self.root / "logs",
                {**rendered.secrets, **(sources or {})},
                shared=base / "nfs-exports",
            )
            dep.apis[api.name] = g
        if dep.apis:
            self.keystone.set_image_endpoints({i: dep.api_url_for(i) for i in ("public", "internal", "admin")})
        TIMINGS[f"deploy {name} (render, db sync, Glance start)"] = time.monotonic() - start
        return dep

    def teardown(self, dep: Deployment) -> None:
        for g in dep.apis.values():
            g.stop()
        if dep in self.running:
            self.running.remove(dep)


@pytest.fixture(scope="session")
def deployer(
    e2e_venv: Installed, mariadb: MariaDB, keystone: Keystone, facts: ServiceFacts, e2e_dir: Path
) -> Iterator[Deployer]:
    d = Deployer(e2e_venv, mariadb, keystone, facts, e2e_dir / "glance")
    try:
        yield d
    finally:
        for dep in list(d.running):
            d.teardown(dep)


@pytest.fixture(scope="session")
def admin_token(keystone: Keystone) -> str:
    return keystone.token()


@pytest.fixture(scope="session")
def demo_token(keystone: Keystone) -> str:
    from .services.keystone import DEMO_PASSWORD

    return keystone.token("demo", DEMO_PASSWORD, "demo")


def client(dep: Deployment, token: str, api_type: str | None = None) -> GlanceClient:
    return GlanceClient(dep.api(api_type).url, token)


def run_in_venv(venv: Installed, script: str, *args: str, timeout: float = 120) -> Any:
    """Run a Python snippet with the e2e venv's interpreter; it prints one JSON document."""
    proc = subprocess.run(
        [str(venv.python), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PYTHONWARNINGS": "ignore", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, f"helper failed (rc={proc.returncode}):\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])
