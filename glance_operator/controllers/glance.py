"""The Glance controller (spec §4): shared pieces, the database, Keystone service, db-sync and APIs.

Differences from upstream, each deliberate:

* it continues in the same pass after adding its finalizer (upstream returns and waits for the
  update event), and waits on watches instead of fixed 5/10 s requeues;
* a missing or invalid service password is reported and retried like any input (defect 17);
* `glanceAPIReadyCounts` of a split API is the smaller of its two halves (defect 12);
* `GlanceAPIReady` reflects the worst API, not the last one (defect 11), and Ready only waits for
  the GlanceAPIs this Glance owns (defect 13);
* removed APIs are cleaned up even when a child lacks its `api-name` label (defect 14), and a child
  whose layout no longer matches the template is removed too; PVCs are never deleted;
* the delete flow releases the finalizers it really placed (defect 15);
* Keystone quota limits are registered once per change, matched by service and region, and removed
  when quotas are turned off (defect 20, see limits.py).
"""

from __future__ import annotations

import base64
import logging
import secrets as pysecrets
from dataclasses import dataclass
from typing import Any

from lightkube import ApiError

from ..api.defaults import Defaults, default_glance
from ..api.schema import crd_schema
from ..api.structural import apply_defaults
from ..api.v1beta1 import Glance
from ..render import names
from ..render.facts import Database, GlanceFacts, NetworkAttachment
from ..render.glance import annotation_bool, build_glance, job_network_attachment_names
from ..render.glanceapi import RenderError
from ..render.hashing import object_hash
from ..runtime.cache import Cache, Obj, ObjKey, without_pod_template
from ..runtime.client import Writer
from ..runtime.controller import Controller, Result
from ..runtime.events import EventRecorder
from ..runtime.kinds import GLANCE, GLANCE_API, Kind
from . import conditions as cond
from . import keystoneapi, limits
from .conditions import Condition, Conditions
from .keystoneapi import KEYSTONE_API

log = logging.getLogger(__name__)

SECRET = Kind("v1", "Secret")
SERVICE = Kind("v1", "Service")
SERVICE_ACCOUNT = Kind("v1", "ServiceAccount")
ROLE = Kind("rbac.authorization.k8s.io/v1", "Role")
ROLE_BINDING = Kind("rbac.authorization.k8s.io/v1", "RoleBinding")
JOB = Kind("batch/v1", "Job")
CRONJOB = Kind("batch/v1", "CronJob")
MEMCACHED = Kind("memcached.openstack.org/v1beta1", "Memcached")
TRANSPORT_URL = Kind("rabbitmq.openstack.org/v1beta1", "TransportURL")
DATABASE = Kind("mariadb.openstack.org/v1beta1", "MariaDBDatabase")
ACCOUNT = Kind("mariadb.openstack.org/v1beta1", "MariaDBAccount")
KEYSTONE_SERVICE = Kind("keystone.openstack.org/v1beta1", "KeystoneService")
NAD = Kind("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition")

# Condition types and messages (spec §8.1, lib-common constants).
DB_READY, DBSYNC_READY, MEMCACHED_READY = "DBReady", "DBSyncReady", "MemcachedReady"
INPUT_READY, SERVICE_CONFIG_READY, API_READY = "InputReady", "ServiceConfigReady", "GlanceAPIReady"
KS_READY, SA_READY, ROLE_READY, RB_READY = (
    "KeystoneServiceReady",
    "ServiceAccountReady",
    "RoleReady",
    "RoleBindingReady",
)
CRONJOB_READY, BUS_READY = "CronJobReady", "NotificationBusInstanceReady"
ACCOUNT_READY, NAD_READY = "MariaDBAccountReady", "NetworkAttachmentsReady"


def init_conditions(glance: Glance) -> list[Condition]:
    out = [
        cond.unknown(DB_READY, cond.INIT, "DB create not started"),
        cond.unknown(DBSYNC_READY, cond.INIT, "DBsync not started"),
        cond.unknown(MEMCACHED_READY, cond.INIT, " Memcached create not started"),
        cond.unknown(INPUT_READY, cond.INIT, "Input data not checked"),
        cond.unknown(SERVICE_CONFIG_READY, cond.INIT, "Service config create not started"),
        cond.unknown(API_READY, cond.INIT, "GlanceAPI not started"),
        cond.unknown(KS_READY, cond.INIT, ""),
        cond.unknown(SA_READY, cond.INIT, "ServiceAccount not created"),
        cond.unknown(ROLE_READY, cond.INIT, "Role not created"),
        cond.unknown(RB_READY, cond.INIT, "RoleBinding not created"),
        cond.unknown(CRONJOB_READY, cond.INIT, "CronJob not started"),
    ]
    if glance.spec.notification_bus_instance is not None or glance.spec.notifications_bus is not None:
        out.append(cond.unknown(BUS_READY, cond.INIT, "NotificationBusInstance not started"))
    return out


class Waiting(Exception):
    """The pass stops here until a watched object changes; the condition says why."""


def api_error(exc: ApiError) -> str:
    """What the apiserver said, for a condition message (as lib-common puts the Go error there)."""
    status = getattr(exc, "status", None)
    return str(getattr(status, "message", None) or exc)


@dataclass
class Pass:
    glance: Glance
    live: Obj
    conditions: Conditions
    status: dict[str, Any]


def decode(secret: Obj | None, key: str) -> str | None:
    if secret is None:
        return None
    raw = (secret.get("data") or {}).get(key)
    if raw is None:
        return None
    return base64.b64decode(raw).decode()


def password_problem(value: str | None) -> str | None:
    """lib-common's password validator: non-empty, no shell expansion patterns."""
    if not value:
        return "the password is empty"
    for pattern in ("$(", "${", "`"):
        if pattern in value:
            return f"the password contains {pattern!r}, which a shell would expand"
    if "$" in value and any(c.isalpha() or c == "_" for c in value[value.index("$") + 1 : value.index("$") + 2]):
        return "the password contains a $NAME shell variable"
    return None


def require_memcached(cache: Cache, conditions: Conditions, namespace: str, name: str) -> Obj:
    """The Memcached, Ready; else MemcachedReady False (Error while missing, Requested while not ready)."""
    memcached = cache.get(MEMCACHED, namespace, name)
    waiting = " Memcached instance has not been provisioned"  # upstream's leading space
    if memcached is None:
        conditions.set(cond.false(MEMCACHED_READY, cond.ERROR, cond.WARNING, waiting))
        raise Waiting
    if not cond.is_ready(memcached):
        conditions.set(cond.false(MEMCACHED_READY, cond.REQUESTED, cond.INFO, waiting))
        raise Waiting
    conditions.set(cond.true(MEMCACHED_READY, " Memcached instance has been provisioned"))
    return memcached


def namespace_owner(glances: list[Obj]) -> Obj | None:
    """The Glance that manages a namespace: the oldest one (then by name).

    Upstream hard-codes names every Glance of a namespace shares (defect 16: `glance-db-sync`,
    `glance-scripts`, MariaDBDatabase and KeystoneService `glance`, Services `glance-<key>-<endpoint>`),
    and the rest of the control plane finds them by those names (spec §10.4, §10.9, §10.10), so they
    stay. Two Glances in one namespace would fight over them; instead the oldest one wins and the
    others wait, saying why, and take over when it is gone.
    """
    if not glances:
        return None
    return min(glances, key=lambda g: (g["metadata"].get("creationTimestamp") or "", g["metadata"]["name"]))


def shared_names_message(owner: str) -> str:
    return (
        f"Glance {owner} already manages this namespace: every Glance in a namespace shares the names "
        f"{names.DB_SYNC_JOB}, MariaDBDatabase {names.DB_NAME} and KeystoneService {names.KEYSTONE_SERVICE}, "
        "so only one can run; create this Glance in another namespace, or delete it"
    )


def owned_by(obj: Obj, kind: str, name: str, uid: str | None = None) -> bool:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == kind and ref.get("name") == name and (uid is None or ref.get("uid") == uid):
            return True
    return False


class GlanceController:
    def __init__(self, cache: Cache, writer: Writer, defaults: Defaults, events: EventRecorder | None = None) -> None:
        self.cache = cache
        self.writer = writer
        self.defaults = defaults
        self.events = events

    def controller(self) -> Controller:
        # the db-sync Job is read for its hash annotation and status only, never re-applied (spec 4.9)
        self.cache.informer(JOB, transform=without_pod_template)
        c = Controller(
            name="glance",
            kind=GLANCE,
            reconcile=self.reconcile,
            owns=[
                GLANCE_API,
                DATABASE,
                ACCOUNT,
                KEYSTONE_SERVICE,
                JOB,
                CRONJOB,
                SECRET,
                SERVICE_ACCOUNT,
                ROLE,
                ROLE_BINDING,
                TRANSPORT_URL,
            ],
            watches=[
                (MEMCACHED, self._by_memcached),
                (SECRET, self._by_secret),
                (SERVICE, self._by_db_service),
                (NAD, self._by_nad),
                (KEYSTONE_API, self._with_quotas),
                (GLANCE, self._other_glances),
            ],
        )
        return c

    # --- event mapping -----------------------------------------------------------------------

    def _glances(self, namespace: str) -> list[Obj]:
        return self.cache.list(GLANCE, namespace)

    def _other_glances(self, obj: Obj) -> list[ObjKey]:
        """A second Glance in a namespace waits for the first to go (see namespace_owner)."""
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        return [(ns, g["metadata"]["name"]) for g in self._glances(ns) if g["metadata"]["name"] != name]

    def _by_memcached(self, obj: Obj) -> list[ObjKey]:
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        return [
            (ns, g["metadata"]["name"])
            for g in self._glances(ns)
            if (g["spec"].get("memcachedInstance") or "memcached") == name
        ]

    def _by_secret(self, obj: Obj) -> list[ObjKey]:
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        keys = []
        for g in self._glances(ns):
            spec = g["spec"]
            account = spec.get("databaseAccount") or "glance"
            if name in (spec.get("secret"), f"{account}-db-secret"):
                keys.append((ns, g["metadata"]["name"]))
        for ref in obj["metadata"].get("ownerReferences") or []:  # TransportURL secrets (4.3)
            if ref.get("kind") == "TransportURL" and ref.get("name", "").endswith("-glance-transport"):
                keys.append((ns, ref["name"].removesuffix("-glance-transport")))
        return keys

    def _with_quotas(self, obj: Obj) -> list[ObjKey]:
        ns = obj["metadata"].get("namespace", "")
        return [
            (ns, g["metadata"]["name"])
            for g in self._glances(ns)
            if any((g["spec"].get("quotas") or {}).values()) or "quotas" in ((g.get("status") or {}).get("hash") or {})
        ]

    def _by_db_service(self, obj: Obj) -> list[ObjKey]:
        labels = obj["metadata"].get("labels") or {}
        if labels.get("app") != "mariadb":
            return []
        ns = obj["metadata"].get("namespace", "")
        return [
            (ns, g["metadata"]["name"])
            for g in self._glances(ns)
            if labels.get("cr") == f"mariadb-{g['spec'].get('databaseInstance')}"
        ]

    def _by_nad(self, obj: Obj) -> list[ObjKey]:
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        keys = []
        for g in self._glances(ns):
            apis = (g["spec"].get("glanceAPIs") or {}).values()
            if any(name in (a.get("networkAttachments") or []) for a in apis):
                keys.append((ns, g["metadata"]["name"]))
        return keys

    # --- reconcile ---------------------------------------------------------------------------

    def load(self, live: Obj) -> Glance:
        """The Glance as our webhook would have stored it (also right when webhooks are off)."""
        body = apply_defaults({k: v for k, v in live.items() if k != "status"}, crd_schema("Glance"))
        glance = default_glance(Glance.model_validate(body), self.defaults)
        return glance

    async def reconcile(self, key: ObjKey) -> Result:
        ns, name = key
        live = self.cache.get(GLANCE, ns, name)
        if live is None:
            return Result()
        owner = namespace_owner(self._glances(ns))
        if owner is not None and owner["metadata"]["uid"] != live["metadata"]["uid"]:
            return await self.reconcile_not_owner(live, owner["metadata"]["name"])
        if live["metadata"].get("deletionTimestamp"):
            return await self.reconcile_delete(live)
        live = await self.writer.add_finalizer(live, names.GLANCE_FINALIZER)
        glance = self.load(live)
        glance.metadata.uid = live["metadata"]["uid"]
        previous = dict(live.get("status") or {})
        status: dict[str, Any] = {
            k: v
            for k, v in previous.items()
            if k
            in (
                "hash",
                "apiEndpoint",
                "glanceAPIReadyCounts",
                "serviceID",
                "databaseHostname",
                "notificationBusSecret",
            )
        }
        status["observedGeneration"] = live["metadata"].get("generation", 0)
        p = Pass(glance, live, Conditions(init_conditions(glance)), status)
        result = Result()
        try:
            result = await self.reconcile_normal(p)
        except Waiting:
            pass
        except RenderError as exc:
            # bad input (an annotation, a value the renderer refuses): waits for the user's fix
            p.conditions.set(
                cond.false(
                    SERVICE_CONFIG_READY, cond.ERROR, cond.WARNING, f"Service config create error occurred {exc}"
                )
            )
        finally:
            await cond.publish(self.writer, self.events, live, status, p.conditions, self.cache.get(GLANCE, ns, name))
        return result

    async def reconcile_normal(self, p: Pass) -> Result:
        g, conds = p.glance, p.conditions
        uid = g.metadata.uid
        await self.ensure_rbac(p)
        transport_secret = await self.ensure_transport(p)
        self.check_memcached(p)
        self.check_service_secret(p)
        database = await self.ensure_database(p)
        facts = GlanceFacts(
            owner_uid=uid,
            database=database,
            transport_url_secret=transport_secret,
            network_attachments=self.job_network_attachments(p),
        )
        try:
            objs = build_glance(g, facts)
        except RenderError as exc:
            conds.set(
                cond.false(
                    SERVICE_CONFIG_READY,
                    cond.ERROR,
                    cond.WARNING,
                    f"Service config create error occurred {exc}",
                )
            )
            raise Waiting from exc
        for obj in (objs.config_secret, objs.scripts_secret):
            if obj is not None:
                await self.writer.ensure(obj)
        conds.set(cond.true(SERVICE_CONFIG_READY, "Service config create completed"))
        await self.ensure_keystone_service(p, objs.keystone_service)
        await self.ensure_db_sync(p, objs.db_sync_job)
        conds.set(cond.true(NAD_READY, "NetworkAttachments completed"))
        await self.ensure_quota_limits(p)
        await self.ensure_apis(p, objs.glance_apis)
        await self.cleanup_apis(p)
        await self.release_unused_accounts(p)
        if objs.db_purge_cronjob is not None:
            try:
                await self.writer.ensure(objs.db_purge_cronjob)
            except ApiError as exc:
                conds.set(
                    cond.false(CRONJOB_READY, cond.ERROR, cond.WARNING, f"CronJob error occurred {api_error(exc)}")
                )
                raise
            conds.set(cond.true(CRONJOB_READY, "CronJob completed"))
        if self.apis_current(p) and conds.all_true_but_ready():
            conds.set(cond.true(cond.READY, "Setup complete"))
        return Result()

    async def ensure_rbac(self, p: Pass) -> None:
        objs = build_glance(p.glance, GlanceFacts(owner_uid=p.glance.metadata.uid))
        await self.writer.ensure(objs.service_account)
        p.conditions.set(cond.true(SA_READY, "ServiceAccount created"))
        await self.writer.ensure(objs.role)
        p.conditions.set(cond.true(ROLE_READY, "Role created"))
        await self.writer.ensure(objs.role_binding)
        p.conditions.set(cond.true(RB_READY, "RoleBinding created"))

    async def ensure_transport(self, p: Pass) -> str:
        objs = build_glance(p.glance, GlanceFacts(owner_uid=p.glance.metadata.uid))
        if objs.transport_url is None:
            p.status["notificationBusSecret"] = ""
            if p.conditions.get(BUS_READY) is not None:
                p.conditions.set(cond.true(BUS_READY, "NotificationBusInstance successfully created"))
            return ""
        live = (await self.writer.ensure(objs.transport_url))[0]
        secret = (live.get("status") or {}).get("secretName", "")
        p.status["notificationBusSecret"] = secret
        if not secret:
            p.conditions.set(
                cond.false(BUS_READY, cond.REQUESTED, cond.INFO, "NotificationBusInstance creation in progress")
            )
            raise Waiting
        p.conditions.set(cond.true(BUS_READY, "NotificationBusInstance successfully created"))
        return str(secret)

    def check_memcached(self, p: Pass) -> None:
        require_memcached(self.cache, p.conditions, p.glance.metadata.namespace, p.glance.spec.memcached_instance)

    def check_service_secret(self, p: Pass) -> None:
        g = p.glance
        secret = self.cache.get(SECRET, g.metadata.namespace, g.spec.secret)
        if secret is None:
            p.conditions.set(cond.false(INPUT_READY, cond.ERROR, cond.WARNING, "Input data resources missing"))
            raise Waiting
        selector = g.spec.password_selectors.service
        value = decode(secret, selector)
        problem = (
            password_problem(value) if value is not None else f"field {selector!r} not found in Secret {g.spec.secret}"
        )
        if problem:
            p.conditions.set(cond.false(INPUT_READY, cond.ERROR, cond.WARNING, f"Input data error occurred {problem}"))
            raise Waiting
        p.conditions.set(cond.true(INPUT_READY, "Input data complete"))

    async def ensure_database(self, p: Pass) -> Database:
        g, conds = p.glance, p.conditions
        ns, uid = g.metadata.namespace, g.metadata.uid
        account_name = g.spec.database_account
        secret_name = f"{account_name}-db-secret"
        account = self.cache.get(ACCOUNT, ns, account_name)
        username = (account or {}).get("spec", {}).get("userName") or f"glance_{pysecrets.token_hex(2)}"
        secret = self.cache.get(SECRET, ns, secret_name)
        if secret is None:
            # created once, never rewritten: the password must not change under a running database
            await self.writer.ensure(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "Opaque",
                    "immutable": True,
                    "metadata": {
                        "name": secret_name,
                        "namespace": ns,
                        "ownerReferences": [names.owner_reference("Glance", g.metadata.name, uid)],
                    },
                    "data": {"DatabasePassword": base64.b64encode(pysecrets.token_hex(16).encode()).decode()},
                }
            )
            secret = self.cache.get(SECRET, ns, secret_name)
        objs = build_glance(g, GlanceFacts(owner_uid=uid, database=Database("", username, "")))
        account_obj = objs.account
        account_obj["metadata"]["finalizers"] = [names.GLANCE_FINALIZER]
        try:
            account = (await self.writer.ensure(account_obj))[0]
        except ApiError as exc:
            message = f"MariaDBAccount is not present: {api_error(exc)}"
            conds.set(cond.false(ACCOUNT_READY, cond.ERROR, cond.WARNING, message))
            raise
        conds.set(cond.true(ACCOUNT_READY, "MariaDBAccount creation complete"))
        database_obj = objs.database
        database_obj["metadata"]["finalizers"] = [names.GLANCE_FINALIZER]
        database = (await self.writer.ensure(database_obj))[0]
        services = self.cache.list(SERVICE, ns, {"app": "mariadb", "cr": f"mariadb-{g.spec.database_instance}"})
        waiting = cond.unknown(DB_READY, cond.REQUESTED, "DB create job still running")
        if not services:
            conds.set(waiting)
            raise Waiting
        if len(services) > 1:
            conds.set(
                cond.false(
                    DB_READY,
                    cond.ERROR,
                    cond.WARNING,
                    f"DB create job error occurred more than one database Service for {g.spec.database_instance}",
                )
            )
            raise Waiting
        if not (cond.is_ready(account) and cond.is_ready(database)):
            conds.set(waiting)
            raise Waiting
        hostname = f"{services[0]['metadata']['name']}.{ns}.svc"
        password = decode(secret, "DatabasePassword") or ""
        p.status["databaseHostname"] = hostname
        conds.set(cond.true(DB_READY, "DB create completed"))
        tls = bool((database.get("status") or {}).get("tlsSupport"))
        return Database(hostname=hostname, username=username, password=password, tls=tls)

    def job_network_attachments(self, p: Pass) -> tuple[NetworkAttachment, ...]:
        ns = p.glance.metadata.namespace
        found: list[NetworkAttachment] = []
        missing = []
        for nad_name in job_network_attachment_names(p.glance):
            nad = self.cache.get(NAD, ns, nad_name)
            if nad is None:
                missing.append(nad_name)
            else:
                found.append(NetworkAttachment(nad_name, ns, nad_gateway(nad)))
        if missing:
            # defect 18: wait for the NADs instead of starting jobs without them
            p.conditions.set(
                cond.false(
                    NAD_READY,
                    cond.ERROR,
                    cond.WARNING,
                    f"NetworkAttachment resources missing: {', '.join(sorted(set(missing)))}",
                )
            )
            raise Waiting
        return tuple(found)

    async def ensure_keystone_service(self, p: Pass, desired: Obj) -> None:
        desired["metadata"]["finalizers"] = [names.GLANCE_FINALIZER]
        live = (await self.writer.ensure(desired))[0]
        mirrored = cond.mirror(KS_READY, cond.conditions_from(live))
        p.conditions.set(mirrored)
        service_id = (live.get("status") or {}).get("serviceID")
        if service_id:
            p.status["serviceID"] = service_id

    async def ensure_db_sync(self, p: Pass, job: Obj | None) -> None:
        if job is None:
            raise Waiting
        conds, ns = p.conditions, p.glance.metadata.namespace
        digest = object_hash(job["spec"]["template"]["spec"])
        hashes = dict(p.status.get("hash") or {})
        if hashes.get("dbsync") == digest:
            conds.set(cond.true(DBSYNC_READY, "DBsync completed"))
            return
        job["metadata"].setdefault("annotations", {})["hash"] = digest
        live = self.cache.get(JOB, ns, names.DB_SYNC_JOB)
        running = cond.false(DBSYNC_READY, cond.REQUESTED, cond.INFO, "DBsync job still running")
        if live is not None and (
            live["metadata"].get("deletionTimestamp")
            or (live["metadata"].get("annotations") or {}).get("hash") != digest
        ):
            # an old run: replace it once it is gone (its deletion event brings us back)
            await self.writer.delete(JOB, ns, names.DB_SYNC_JOB)
            conds.set(running)
            raise Waiting
        if live is None:
            await self.writer.ensure(job)
            conds.set(cond.false(DBSYNC_READY, cond.REQUESTED, cond.INFO, "DBsync job still running"))
            raise Waiting
        job_status = live.get("status") or {}
        if job_status.get("succeeded"):
            hashes["dbsync"] = digest
            p.status["hash"] = hashes
            conds.set(cond.true(DBSYNC_READY, "DBsync completed"))
            return
        failed = any(
            c.get("type") == "Failed" and c.get("status") == "True" for c in job_status.get("conditions") or []
        )
        if failed:
            conds.set(
                cond.false(
                    DBSYNC_READY,
                    cond.ERROR,
                    cond.WARNING,
                    "DBsync job error occurred Job has reached the specified backoff limit. Check job logs",
                )
            )
        else:
            conds.set(cond.false(DBSYNC_READY, cond.REQUESTED, cond.INFO, "DBsync job still running"))
        raise Waiting

    # --- Keystone quota limits (spec 6.10) ----------------------------------------------------

    def keystone_admin(self, ns: str) -> limits.AdminAuth:
        """Admin credentials from the (single) KeystoneAPI in the namespace; KeystoneError if unusable."""
        try:
            kapi = keystoneapi.keystone_api(self.cache, ns)
            url = keystoneapi.endpoint(kapi, "internal")
        except keystoneapi.KeystoneAPIUnusable as exc:
            raise limits.KeystoneError(str(exc)) from exc
        spec = kapi.get("spec") or {}
        secret_name = spec.get("secret") or ""
        selector = (spec.get("passwordSelectors") or {}).get("admin") or "AdminPassword"
        password = decode(self.cache.get(SECRET, ns, secret_name), selector)
        if not password:
            raise limits.KeystoneError(f"field {selector!r} not found in Secret {secret_name!r} of the KeystoneAPI")
        ca_name = (spec.get("tls") or {}).get("caBundleSecretName")
        ca = decode(self.cache.get(SECRET, ns, ca_name), "tls-ca-bundle.pem") if ca_name else None
        return limits.AdminAuth(
            url=str(url),
            user=str(spec.get("adminUser") or "admin"),
            password=password,
            project=str(spec.get("adminProject") or "admin"),
            region=keystoneapi.region(kapi) or "regionOne",
            ca_bundle=ca,
        )

    async def ensure_quota_limits(self, p: Pass) -> None:
        """Register (or remove) the Keystone limits `spec.quotas` asks for, when they change."""
        g, conds = p.glance, p.conditions
        wanted = limits.wanted_limits(g.spec.quotas)
        hashes = dict(p.status.get("hash") or {})
        applied = hashes.get("quotas")
        if wanted is None and applied is None:
            return
        service_id = str(p.status.get("serviceID") or "")
        if not service_id:
            conds.set(
                cond.false(
                    API_READY,
                    cond.REQUESTED,
                    cond.INFO,
                    f"GlanceAPI waiting for KeystoneService {names.KEYSTONE_SERVICE} to report its serviceID, "
                    "needed to register the quota limits",
                )
            )
            raise Waiting
        try:
            auth = self.keystone_admin(g.metadata.namespace)
            target = (
                object_hash({"limits": wanted, "serviceID": service_id, "region": auth.region, "url": auth.v3})
                if wanted is not None
                else None
            )
            if target == applied:
                return
            async with limits.LimitsClient(auth) as keystone:
                changes = (
                    await keystone.ensure(service_id, wanted)
                    if wanted is not None
                    else await keystone.delete(service_id)
                )
        except limits.KeystoneError as exc:
            message = f"GlanceAPI error occured registering quota limits in Keystone: {exc}"
            conds.set(cond.false(API_READY, cond.ERROR, cond.WARNING, message))
            raise  # retried with back-off: Keystone cannot be watched
        if target is None:
            hashes.pop("quotas", None)
        else:
            hashes["quotas"] = target
        p.status["hash"] = hashes
        await self.report_limit_changes(p.live, changes)

    async def report_limit_changes(self, live: Obj, changes: list[limits.Change]) -> None:
        if changes and self.events is not None:
            summary = ", ".join(str(c) for c in changes)
            await self.events.emit(live, "Normal", "QuotaLimits", f"Keystone registered limits: {summary}")

    async def release_quota_limits(self, live: Obj) -> None:
        """Delete flow (spec 4.14 step 4): remove our registered limits if Keystone is there to ask."""
        status = live.get("status") or {}
        service_id = status.get("serviceID")
        quotas = (live.get("spec") or {}).get("quotas") or {}
        if not service_id or not ((status.get("hash") or {}).get("quotas") or any(quotas.values())):
            return
        ns = live["metadata"].get("namespace", "")
        kapis = self.cache.list(KEYSTONE_API, ns)
        if len(kapis) != 1 or kapis[0]["metadata"].get("deletionTimestamp") or not cond.is_ready(kapis[0]):
            # Keystone is going away too (or was never there): nothing to clean up, do not block the delete
            if self.events is not None:
                await self.events.emit(
                    live,
                    "Warning",
                    "QuotaLimitsLeft",
                    "KeystoneAPI not available: registered limits of the image service were not removed",
                )
            return
        async with limits.LimitsClient(self.keystone_admin(ns)) as keystone:
            changes = await keystone.delete(str(service_id))
        await self.report_limit_changes(live, changes)

    async def ensure_apis(self, p: Pass, children: list[Obj]) -> None:
        g, conds = p.glance, p.conditions
        location_api = False
        try:
            location_api = annotation_bool(g, names.LOCATION_API_ANNOTATION, False)
        except RenderError as exc:
            conds.set(cond.false(API_READY, cond.ERROR, cond.WARNING, f"GlanceAPI error occured {exc}"))
        from ..api.backends import is_file_backend

        top_file = is_file_backend(g.spec.custom_service_config, True)
        for key in sorted(g.spec.glance_apis):
            template = g.spec.glance_apis[key]
            if (
                template.type == "single"
                and not location_api
                and not is_file_backend(template.custom_service_config or g.spec.custom_service_config, top_file)
            ):
                conds.set(
                    cond.false(
                        API_READY,
                        cond.ERROR,
                        cond.WARNING,
                        "glanceAPI layout type: single can only be used in combination with File and NFS backend",
                    )
                )
                raise Waiting
        worst: Condition | None = None
        ready_counts: dict[str, int] = {}
        endpoints: dict[str, str] = {}
        for child in children:
            try:
                live = (await self.writer.ensure(child))[0]
            except ApiError as exc:
                conds.set(cond.false(API_READY, cond.ERROR, cond.WARNING, f"GlanceAPI error occured {api_error(exc)}"))
                raise
            key = child["metadata"]["labels"]["api-name"]
            api_type = child["spec"]["apiType"]
            status = live.get("status") or {}
            # defect 12: a split API counts the pods ready on both halves, not the external half only
            count = int(status.get("readyCount") or 0)
            ready_counts[key] = min(count, ready_counts.get(key, count))
            child_endpoints = status.get("apiEndpoint") or {}
            if api_type in ("external", "single"):
                endpoints[f"{key}-public"] = child_endpoints.get("public", "")
            if api_type in ("internal", "single", "edge"):
                endpoints[f"{key}-internal"] = child_endpoints.get("internal", "")
            child_conditions = cond.conditions_from(live)
            if child_conditions:
                mirrored = cond.mirror(API_READY, child_conditions)
                worst = mirrored if worst is None else cond.higher_priority(worst, mirrored)
        p.status["glanceAPIReadyCounts"] = ready_counts
        p.status["apiEndpoint"] = {k: v for k, v in endpoints.items() if v}
        if worst is not None:
            conds.set(Condition(API_READY, worst.status, worst.reason, worst.severity, worst.message))

    async def cleanup_apis(self, p: Pass) -> None:
        g = p.glance
        wanted = {
            names.glance_api(g.metadata.name, key, t)
            for key, api in g.spec.glance_apis.items()
            for t in names.api_types(api.type)
        }
        for child in self.cache.list(GLANCE_API, g.metadata.namespace):
            if not owned_by(child, "Glance", g.metadata.name, g.metadata.uid):
                continue
            if child["metadata"]["name"] in wanted or child["metadata"].get("deletionTimestamp"):
                continue
            log.info(
                "decommissioning GlanceAPI",
                extra={"object": f"{g.metadata.namespace}/{child['metadata']['name']}"},
            )
            await self.writer.delete(GLANCE_API, g.metadata.namespace, child["metadata"]["name"])

    async def release_unused_accounts(self, p: Pass) -> None:
        g = p.glance
        for account in self.cache.list(ACCOUNT, g.metadata.namespace, {"mariaDBDatabaseName": names.DB_NAME}):
            if account["metadata"]["name"] == g.spec.database_account:
                continue
            await self.writer.remove_finalizer(account, names.GLANCE_FINALIZER)

    def apis_current(self, p: Pass) -> bool:
        g = p.glance
        for child in self.cache.list(GLANCE_API, g.metadata.namespace):
            observed = (child.get("status") or {}).get("observedGeneration")
            if (
                owned_by(child, "Glance", g.metadata.name, g.metadata.uid)
                and child["metadata"].get("generation") != observed
            ):
                return False
        return True

    async def reconcile_not_owner(self, live: Obj, owner: str) -> Result:
        """Another Glance manages this namespace: create nothing, touch nothing shared, say why."""
        if live["metadata"].get("deletionTimestamp"):
            # only a Glance that managed the namespace before (e.g. under another operator) has our finalizer;
            # the shared objects' finalizers now belong to the owner
            await self.writer.remove_finalizer(live, names.GLANCE_FINALIZER)
            return Result()
        previous = dict(live.get("status") or {})
        conditions = Conditions(init_conditions(self.load(live)))
        conditions.set(cond.false(INPUT_READY, cond.ERROR, cond.WARNING, shared_names_message(owner)))
        status = {k: v for k, v in previous.items() if k != "conditions"}
        status["observedGeneration"] = live["metadata"].get("generation", 0)
        await cond.publish(self.writer, self.events, live, status, conditions)
        return Result()

    async def reconcile_delete(self, live: Obj) -> Result:
        meta = live["metadata"]
        ns = meta.get("namespace", "")
        account_name = (live.get("spec") or {}).get("databaseAccount") or "glance"
        # before the KeystoneService is released: its limits must go while the service still exists
        await self.release_quota_limits(live)
        for kind, name in (
            (ACCOUNT, account_name),
            (DATABASE, names.DB_NAME),
            (KEYSTONE_SERVICE, names.KEYSTONE_SERVICE),
        ):
            await self.writer.remove_finalizer(self.cache.get(kind, ns, name), names.GLANCE_FINALIZER)
        await self.writer.remove_finalizer(live, names.GLANCE_FINALIZER)
        return Result()


def nad_gateway(nad: Obj) -> str | None:
    """The gateway of a NAD's ipam config, which becomes the pods' default route (spec 4.8)."""
    import json

    config = (nad.get("spec") or {}).get("config") or ""
    try:
        ipam = json.loads(config).get("ipam") or {}
    except (ValueError, AttributeError):
        return None
    gateway = ipam.get("gateway")
    return str(gateway) if gateway else None
