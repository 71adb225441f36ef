"""Keystone 30 on sqlite under uWSGI (glance-runtime.md §3.1-3.2), plus Glance's identity objects.

Objects created: project ``service`` with user ``glance`` (admin + service there, system reader for oslo.limit),
the ``image`` service with public/internal/admin endpoints at the Glance URL, a ``demo`` project with user
``demo`` (member) and an ``admin`` override for every unified limit the tests register.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from glance_operator.testing.processes import ManagedProcess, free_port, wait_until

from .install import Installed

REGION = "RegionOne"
ADMIN_PASSWORD = "admin-secret"
GLANCE_PASSWORD = "glance-secret"  # the service password handed to the renderer as a fact
DEMO_PASSWORD = "demo-secret"
UWSGI_FLAGS = (
    "--master",
    "--processes",
    "1",
    "--threads",
    "4",
    "--lazy-apps",  # pitfall 1
    "--need-app",  # pitfall 4
    "--die-on-term",  # pitfall 2
    "--add-header",
    "Connection: close",  # pitfall 3
    "--buffer-size",
    "65535",
)


@dataclass
class Keystone:
    root: Path
    port: int
    process: ManagedProcess
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, user: str = "admin", password: str = ADMIN_PASSWORD, project: str = "admin") -> str:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
                },
                "scope": {"project": {"name": project, "domain": {"id": "default"}}},
            }
        }
        r = httpx.post(f"{self.url}/v3/auth/tokens", json=body, timeout=30)
        r.raise_for_status()
        return r.headers["X-Subject-Token"]

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/v3", headers={"X-Auth-Token": self.token()}, timeout=30)

    def set_image_endpoints(self, urls: dict[str, str]) -> None:
        """Point the image endpoints (by interface) at the Glance under test (each Glance start has its own port)."""
        with self.admin() as c:
            for iface, url in urls.items():
                r = c.patch(f"/endpoints/{self.ids[f'image_endpoint_{iface}']}", json={"endpoint": {"url": url}})
                r.raise_for_status()

    def set_registered_limits(self, limits: dict[str, int]) -> None:
        """Registered (default) unified limits for the image service; admin keeps a large override."""
        with self.admin() as c:
            # project limits first: Keystone refuses to delete a registered limit they refer to
            for lim in c.get("/limits", params={"service_id": self.ids["image_service"]}).json()["limits"]:
                c.delete(f"/limits/{lim['id']}").raise_for_status()
            existing = c.get("/registered_limits", params={"service_id": self.ids["image_service"]}).json()
            for rl in existing["registered_limits"]:
                c.delete(f"/registered_limits/{rl['id']}").raise_for_status()
            if not limits:
                return
            r = c.post(
                "/registered_limits",
                json={
                    "registered_limits": [
                        {
                            "service_id": self.ids["image_service"],
                            "region_id": REGION,
                            "resource_name": k,
                            "default_limit": v,
                        }
                        for k, v in limits.items()
                    ]
                },
            )
            r.raise_for_status()
            r = c.post(
                "/limits",
                json={
                    "limits": [
                        {
                            "service_id": self.ids["image_service"],
                            "region_id": REGION,
                            "project_id": self.ids["admin_project"],
                            "resource_name": k,
                            "resource_limit": 100000,
                        }
                        for k in limits
                    ]
                },
            )
            r.raise_for_status()

    def stop(self) -> None:
        self.process.stop(timeout=30)


def _conf(root: Path, logs: Path) -> str:
    return f"""[DEFAULT]
log_file = {logs / "keystone.log"}

[database]
connection = sqlite:///{root / "keystone.db"}

[fernet_tokens]
key_repository = {root / "fernet-keys"}

[fernet_receipts]
key_repository = {root / "fernet-keys"}

[credential]
key_repository = {root / "credential-keys"}

[identity]
password_hash_rounds = 4

[cache]
enabled = true
backend = dogpile.cache.memory
"""


def start_keystone(venv: Installed, root: Path, logs: Path) -> Keystone:
    root.mkdir(parents=True, exist_ok=True)
    conf = root / "keystone.conf"
    conf.write_text(_conf(root, logs))
    port = free_port()
    url = f"http://127.0.0.1:{port}/v3/"
    env = {"PYTHONWARNINGS": "ignore", "PATH": f"{venv.venv / 'bin'}:/usr/bin:/bin"}
    manage = [str(venv.bin("keystone-manage")), "--config-file", str(conf)]
    for args in (
        ["db_sync"],
        ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
        ["credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
        [
            "bootstrap",
            "--bootstrap-password",
            ADMIN_PASSWORD,
            "--bootstrap-username",
            "admin",
            "--bootstrap-project-name",
            "admin",
            "--bootstrap-role-name",
            "admin",
            "--bootstrap-service-name",
            "keystone",
            "--bootstrap-region-id",
            REGION,
            "--bootstrap-admin-url",
            url,
            "--bootstrap-internal-url",
            url,
            "--bootstrap-public-url",
            url,
        ],
    ):
        proc = subprocess.run([*manage, *args], env=env, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"keystone-manage {args[0]} failed: {proc.stderr[-3000:]}")
    argv = [
        str(venv.bin("uwsgi")),
        "--http-socket",
        f"127.0.0.1:{port}",
        "--module",
        "keystone.wsgi.api:application",
        *UWSGI_FLAGS,
        "--pidfile",
        str(root / "uwsgi.pid"),
    ]
    process = ManagedProcess(
        "keystone", argv, logs / "keystone-uwsgi.log", env={**env, "OS_KEYSTONE_CONFIG_DIR": str(root)}
    ).start()
    ks = Keystone(root=root, port=port, process=process)
    try:
        wait_until(
            lambda: httpx.get(f"{ks.url}/v3", timeout=5).status_code == 200,
            timeout=120,
            what="Keystone GET /v3",
            watch=[process],
        )
        ks.ids = _identity_objects(ks)
    except BaseException:
        process.stop()
        raise
    return ks


def _identity_objects(ks: Keystone) -> dict[str, str]:
    ids: dict[str, str] = {}
    with ks.admin() as c:

        def post(path: str, key: str, obj: dict[str, str]) -> str:
            r = c.post(f"/{path}", json={key: obj})
            r.raise_for_status()
            return str(r.json()[key]["id"])

        def role(name: str) -> str:
            return str(c.get("/roles", params={"name": name}).json()["roles"][0]["id"])

        def grant(path: str) -> None:
            c.put(f"/{path}").raise_for_status()

        ids["service_project"] = post("projects", "project", {"name": "service", "domain_id": "default"})
        ids["demo_project"] = post("projects", "project", {"name": "demo", "domain_id": "default"})
        ids["admin_project"] = str(c.get("/projects", params={"name": "admin"}).json()["projects"][0]["id"])
        ids["glance_user"] = post(
            "users", "user", {"name": "glance", "domain_id": "default", "password": GLANCE_PASSWORD}
        )
        ids["demo_user"] = post("users", "user", {"name": "demo", "domain_id": "default", "password": DEMO_PASSWORD})
        admin, service, reader, member = (role(n) for n in ("admin", "service", "reader", "member"))
        grant(f"projects/{ids['service_project']}/users/{ids['glance_user']}/roles/{admin}")
        grant(f"projects/{ids['service_project']}/users/{ids['glance_user']}/roles/{service}")
        grant(f"system/users/{ids['glance_user']}/roles/{reader}")  # oslo.limit (pitfall 8)
        grant(f"projects/{ids['demo_project']}/users/{ids['demo_user']}/roles/{member}")
        ids["image_service"] = post(
            "services", "service", {"name": "glance", "type": "image", "description": "OpenStack Image"}
        )
        for iface in ("public", "internal", "admin"):
            ids[f"image_endpoint_{iface}"] = post(
                "endpoints",
                "endpoint",
                {
                    "service_id": ids["image_service"],
                    "interface": iface,
                    "region_id": REGION,
                    "url": "http://127.0.0.1:9292",
                },
            )
    return ids
