"""Pure helpers of the dependency player: the kinds it plays, lib-common shaped conditions, and the
status each dependency operator publishes. No I/O here (see deps.py for the controller).

The condition types, reasons and messages are the ones the real operators set (mariadb-operator,
keystone-operator, infra-operator, all through lib-common's `condition` module), so what the glance
operator mirrors from them (e.g. `KeystoneServiceReady`) reads like production.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

# --- kinds -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindInfo:
    kind: str
    group: str  # "" for the core group
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


MARIADB_DATABASE = KindInfo("MariaDBDatabase", "mariadb.openstack.org", "v1beta1", "mariadbdatabases")
MARIADB_ACCOUNT = KindInfo("MariaDBAccount", "mariadb.openstack.org", "v1beta1", "mariadbaccounts")
GALERA = KindInfo("Galera", "mariadb.openstack.org", "v1beta1", "galeras")
KEYSTONE_API = KindInfo("KeystoneAPI", "keystone.openstack.org", "v1beta1", "keystoneapis")
KEYSTONE_SERVICE = KindInfo("KeystoneService", "keystone.openstack.org", "v1beta1", "keystoneservices")
KEYSTONE_ENDPOINT = KindInfo("KeystoneEndpoint", "keystone.openstack.org", "v1beta1", "keystoneendpoints")
TRANSPORT_URL = KindInfo("TransportURL", "rabbitmq.openstack.org", "v1beta1", "transporturls")
RABBITMQ = KindInfo("RabbitMq", "rabbitmq.openstack.org", "v1beta1", "rabbitmqs")
MEMCACHED = KindInfo("Memcached", "memcached.openstack.org", "v1beta1", "memcacheds")
TOPOLOGY = KindInfo("Topology", "topology.openstack.org", "v1beta1", "topologies")
SECRET = KindInfo("Secret", "", "v1", "secrets")
SERVICE = KindInfo("Service", "", "v1", "services")

# Kinds the player reconciles (status written by the player), in a stable order.
RECONCILED: tuple[KindInfo, ...] = (
    MARIADB_DATABASE,
    MARIADB_ACCOUNT,
    KEYSTONE_API,
    KEYSTONE_SERVICE,
    KEYSTONE_ENDPOINT,
    TRANSPORT_URL,
    MEMCACHED,
)
# Kinds only read (their changes re-trigger the reconciled kinds that use them).
WATCHED_ONLY: tuple[KindInfo, ...] = (GALERA, RABBITMQ, SECRET, SERVICE)
KINDS: dict[str, KindInfo] = {k.kind: k for k in RECONCILED + WATCHED_ONLY}
# Dependencies whose operator publishes no status, so there is nothing to play: a Topology is ready as
# soon as it exists (infra-operator runs no Topology controller; the CRD's status is an object without
# fields, so the apiserver would drop any condition written there). Neither watched nor reconciled;
# known so that wait_for() can read them and hold() accepts them (holding one changes nothing).
STATUSLESS: tuple[KindInfo, ...] = (TOPOLOGY,)
# `--hold` accepts the reconciled kinds plus Galera (= the database server: no DB Service, every
# MariaDBDatabase on it waits for the server) and the status-less kinds (no effect).
HOLDABLE: dict[str, str] = {k.kind.lower(): k.kind for k in (*RECONCILED, GALERA, *STATUSLESS)}


def canonical_kind(kind: str) -> str:
    """`keystoneapi`, `KeystoneAPI` or the plural `keystoneapis` -> `KeystoneAPI`."""
    key = kind.strip().lower()
    if key in HOLDABLE:
        return HOLDABLE[key]
    for info in (*RECONCILED, GALERA, *STATUSLESS):
        if key == info.plural:
            return info.kind
    raise ValueError(f"unknown dependency kind {kind!r}; one of: {', '.join(sorted(HOLDABLE.values()))}")


# --- lib-common conditions -------------------------------------------------------------------------

READY = "Ready"
READY_MESSAGE = "Setup complete"
READY_INIT_MESSAGE = "Setup started"
REASON_READY = "Ready"
REASON_INIT = "Init"
REASON_REQUESTED = "Requested"
REASON_ERROR = "Error"
SEVERITY_ERROR = "Error"
SEVERITY_WARNING = "Warning"
SEVERITY_INFO = "Info"


def now_rfc3339() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def true_condition(type_: str, message: str) -> Obj:
    return {"type": type_, "status": "True", "reason": REASON_READY, "severity": "", "message": message}


def false_condition(type_: str, reason: str, severity: str, message: str) -> Obj:
    return {"type": type_, "status": "False", "reason": reason, "severity": severity, "message": message}


def unknown_condition(type_: str, reason: str, message: str) -> Obj:
    return {"type": type_, "status": "Unknown", "reason": reason, "severity": "", "message": message}


def waiting_condition(type_: str, message: str) -> Obj:
    """lib-common's "waiting for something external": False, Requested, Info."""
    return false_condition(type_, REASON_REQUESTED, SEVERITY_INFO, message)


_PRIORITY = (
    ("False", SEVERITY_ERROR),
    ("False", SEVERITY_WARNING),
    ("False", SEVERITY_INFO),
    ("Unknown", ""),
)


def mirror(conditions: list[Obj], type_: str = READY) -> Obj:
    """lib-common `Conditions.Mirror`: True if Ready is True, else the most severe sub-condition."""
    for c in conditions:
        if c["type"] == READY and c["status"] == "True":
            return true_condition(type_, c["message"])
    for status, severity in _PRIORITY:
        for c in conditions:
            if c["type"] != READY and c["status"] == status and (status == "Unknown" or c["severity"] == severity):
                return {**c, "type": type_}
    return unknown_condition(type_, REASON_INIT, READY_INIT_MESSAGE)


def with_ready(sub: list[Obj]) -> list[Obj]:
    """Sub-conditions plus Ready: True (`Setup complete`) when all are True, else their mirror."""
    ready = true_condition(READY, READY_MESSAGE) if all(c["status"] == "True" for c in sub) else mirror(sub)
    return [ready, *sub]


def _state(c: Obj) -> tuple[Any, ...]:
    return (c.get("status"), c.get("reason"), c.get("severity") or "", c.get("message") or "")


def merge_conditions(current: list[Obj] | None, desired: list[Obj], now: str | None = None) -> list[Obj]:
    """Desired conditions, sorted the lib-common way (Ready first, then by type), with
    lastTransitionTime kept from the current list where a condition's state did not change."""
    now = now or now_rfc3339()
    old = {c.get("type"): c for c in current or [] if isinstance(c, dict)}
    out: list[Obj] = []
    for c in desired:
        prev = old.get(c["type"])
        ltt = prev.get("lastTransitionTime") if prev and _state(prev) == _state(c) else None
        out.append({**c, "lastTransitionTime": ltt or now})
    out.sort(key=lambda c: (c["type"] != READY, c["type"]))
    return out


def find_condition(obj: Obj | None, type_: str = READY) -> Obj | None:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == type_:
            return c
    return None


def is_ready(obj: Obj | None, type_: str = READY) -> bool:
    c = find_condition(obj, type_)
    return bool(c and c.get("status") == "True")


# --- messages of the real operators ------------------------------------------------------------------

# mariadb-operator api/v1beta1/conditions.go
MARIADB_SERVER_READY = "MariaDBServerReady"
MARIADB_DATABASE_READY = "MariaDBDatabaseReady"
MARIADB_ACCOUNT_READY = "MariaDBAccountReady"
MSG_SERVER_READY = "MariaDB / Galera server ready"
MSG_SERVER_INIT = "MariaDB / Galera server not yet available"
MSG_SERVER_NOT_BOOTSTRAPPED = "MariaDB / Galera server not bootstrapped"
MSG_DATABASE_READY = "MariaDBDatabase ready"
MSG_DATABASE_INIT = "MariaDBDatabase not yet available"
MSG_ACCOUNT_READY = "MariaDBAccount creation complete"
MSG_ACCOUNT_INIT = "MariaDBAccount create / drop not started"
MSG_ACCOUNT_SECRET = "MariaDBAccount secret is missing or incomplete: %s"
MSG_GALERA_ERROR = "Error retrieving MariaDB/Galera instance %s"
REASON_DB_WAITING = "DatabaseWaitingInitialized"
REASON_DB_NOT_FOUND = "DatabaseNotFound"
REASON_SECRET_MISSING = "SecretMissing"
DATABASE_PASSWORD = "DatabasePassword"

# keystone-operator api/v1beta1/conditions.go
KEYSTONE_API_READY = "KeystoneAPIReady"
ADMIN_CLIENT_READY = "AdminServiceClientReady"
OS_SERVICE_READY = "KeystoneServiceOSServiceReady"
OS_ENDPOINTS_READY = "KeystoneServiceOSEndpointsReady"
OS_USER_READY = "KeystoneServiceOSUserReady"
KEYSTONE_SERVICE_READY = "KeystoneServiceReady"  # lib-common condition.KeystoneServiceReadyCondition
MSG_KEYSTONE_API_READY = "KeystoneAPI ready"
MSG_KEYSTONE_API_NOT_FOUND = "KeystoneAPI not found"
MSG_KEYSTONE_API_WAITING = "KeystoneAPI not yet ready"
MSG_KEYSTONE_API_ERROR = "KeystoneAPI error occured %s"
MSG_ADMIN_CLIENT_READY = "Admin client ready"
MSG_OS_SERVICE_READY = "Keystone Service %s - %s ready"
MSG_OS_SERVICE_INIT = "Keystone Service registration not started"
MSG_OS_ENDPOINTS_READY = "Keystone Endpoints ready: %s"
MSG_OS_ENDPOINTS_INIT = "Keystone Endpoints registration not started"
MSG_OS_ENDPOINTS_ERROR = "Keystone Endpoints error occured %s"
MSG_OS_USER_READY = "Keystone Service user %s ready"
MSG_OS_USER_WAITING = "Keystone Service user not yet ready"
MSG_OS_USER_ERROR = "Keystone Service user error occured %s"
ENDPOINT_INTERFACES = ("admin", "internal", "public")

# infra-operator apis/rabbitmq/v1beta1/conditions.go
TRANSPORT_URL_READY = "TransportURLReady"
MSG_TRANSPORT_URL_READY = "TransportURL completed"
MSG_TRANSPORT_URL_IN_PROGRESS = "TransportURL in progress"

# lib-common condition messages used by the service operators (keystone API, memcached)
MSG_INPUT_READY = "Input data complete"
MSG_TLS_INPUT_MISSING = "TLSInput is missing: %s"
MSG_DEPLOYMENT_READY = "Deployment completed"
MSG_DEPLOYMENT_RUNNING = "Deployment in progress"
COMMON_SERVICE_CONDITIONS: tuple[tuple[str, str], ...] = (
    ("CreateServiceReady", "Create service completed"),
    ("ServiceConfigReady", "Service config create completed"),
    ("ServiceAccountReady", "ServiceAccount created"),
    ("RoleReady", "Role created"),
    ("RoleBindingReady", "RoleBinding created"),
)

# --- small pure helpers -----------------------------------------------------------------------------


def stable_id(*parts: str) -> str:
    """A keystone-looking ID (32 hex chars), stable for the same inputs (e.g. an object's uid)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "glance-operator-deps/" + "/".join(parts)).hex


def stable_password(*parts: str) -> str:
    return hashlib.sha256(("glance-operator-deps-password/" + "/".join(parts)).encode()).hexdigest()[:32]


def go_map(d: dict[str, Any]) -> str:
    """How Go's fmt `%+v` prints a map[string]string: `map[a:x b:y]`, keys sorted."""
    return "map[" + " ".join(f"{k}:{d[k]}" for k in sorted(d)) + "]"


def meta(obj: Obj) -> Obj:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def spec(obj: Obj) -> Obj:
    s = obj.get("spec")
    return s if isinstance(s, dict) else {}


def status(obj: Obj | None) -> Obj:
    s = (obj or {}).get("status")
    return s if isinstance(s, dict) else {}


def dig(obj: Any, *path: str) -> Any:
    """obj[a][b]... or None when any step is missing or not a mapping."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def merge_patch_diff(current: Any, desired: Any, *, partial: bool = False) -> Any:
    """The JSON merge patch turning `current` into `desired` (None deletes a key). With
    `partial`, keys of `current` absent from `desired` are left alone (only at that level:
    nested maps are replaced whole, e.g. `endpointIDs` loses the interfaces no longer wanted)."""
    if not isinstance(desired, dict) or not isinstance(current, dict):
        return desired
    patch: Obj = {}
    for key, value in desired.items():
        cur = current.get(key)
        if value is None:
            if cur is not None:
                patch[key] = None
        elif isinstance(value, dict) and isinstance(cur, dict):
            sub = merge_patch_diff(cur, value)
            if sub:
                patch[key] = sub
        elif cur != value:
            patch[key] = value
    if not partial:
        for key in current:
            if key not in desired:
                patch[key] = None
    return patch
