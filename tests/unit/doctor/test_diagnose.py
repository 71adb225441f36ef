"""Doctor's diagnosis functions over hand-written snapshots (no cluster)."""

from __future__ import annotations

from typing import Any

from glance_operator.doctor.diagnose import diagnose, format_text


def cond(type_: str, status: str, message: str = "") -> dict[str, Any]:
    return {"type": type_, "status": status, "message": message}


def obj(
    kind: str, name: str, spec: dict[str, Any] | None = None, *conds: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    o: dict[str, Any] = {"kind": kind, "metadata": {"name": name, **extra.pop("meta", {})}, "spec": spec or {}}
    o["status"] = {"conditions": list(conds), **extra.pop("status", {})}
    return o


def snap(**objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"namespace": "openstack", "objects": objects, "logs": {}}


GLANCE_NOT_READY = cond("Ready", "False", "not yet")


def glance(**spec: Any) -> dict[str, Any]:
    return obj("Glance", "glance", {"secret": "osp-secret", "databaseInstance": "openstack", **spec}, GLANCE_NOT_READY)


def secret(**data: str) -> dict[str, Any]:
    return {"kind": "Secret", "metadata": {"name": "osp-secret"}, "data": data or {"GlancePassword": ""}}


def test_ready_glance_has_no_cause() -> None:
    (r,) = diagnose(snap(Glance=[obj("Glance", "glance", {}, cond("Ready", "True", "Setup complete"))]))
    assert r.ready and not r.cause
    assert format_text([r]) == "Glance glance: Ready\n"


def test_missing_key_comes_before_everything_else() -> None:
    (r,) = diagnose(snap(Glance=[glance()], Secret=[secret(Other="")]))
    assert r.cause == "Secret osp-secret has no key GlancePassword"


def test_missing_memcached_names_the_field() -> None:
    (r,) = diagnose(snap(Glance=[glance(memcachedInstance="mc")], Secret=[secret()]))
    assert (r.cause, r.fix) == ("Memcached mc not found", "create it or fix spec.memcachedInstance")


def test_database_not_ready_quotes_its_operator() -> None:
    db = obj("MariaDBDatabase", "glance", {}, cond("Ready", "False", "waiting for galera"))
    mc = obj("Memcached", "memcached", {}, cond("Ready", "True"))
    g = glance()
    g["status"]["conditions"].append(cond("DBReady", "False", "DB create job still running"))
    (r,) = diagnose(snap(Glance=[g], Secret=[secret()], Memcached=[mc], MariaDBDatabase=[db]))
    assert r.cause == "MariaDBDatabase glance is not Ready: the mariadb operator reports 'waiting for galera'"
    assert r.chain == ["DBReady=False: DB create job still running"]


def test_pvc_pending_through_the_glanceapi() -> None:
    mc = obj("Memcached", "memcached", {}, cond("Ready", "True"))
    api = obj(
        "GlanceAPI",
        "glance-default-single",
        {},
        cond("Ready", "False", "Deployment in progress"),
        meta={"ownerReferences": [{"kind": "Glance", "name": "glance"}]},
    )
    pvc = obj("PersistentVolumeClaim", "glance-glance-default-single-0", {"storageClassName": "local-storage"})
    pvc["status"] = {"phase": "Pending"}
    sc = {"kind": "StorageClass", "metadata": {"name": "standard"}}
    reports = diagnose(
        snap(
            Glance=[glance()],
            Secret=[secret()],
            Memcached=[mc],
            GlanceAPI=[api],
            PersistentVolumeClaim=[pvc],
            StorageClass=[sc],
            KeystoneAPI=[obj("KeystoneAPI", "keystone")],
        )
    )
    assert [r.cause for r in reports] == [
        "PVC glance-glance-default-single-0 Pending: no StorageClass 'local-storage'"
    ] * 2
    assert reports[0].chain == ["GlanceAPI glance-default-single Ready=False: Deployment in progress"]


def test_failed_job_uses_the_last_log_line() -> None:
    mc = obj("Memcached", "memcached", {}, cond("Ready", "True"))
    job = obj("Job", "glance-db-sync", {}, cond("Failed", "True", "BackoffLimitExceeded"))
    pod = obj("Pod", "glance-db-sync-abcde", {}, meta={"labels": {"job-name": "glance-db-sync"}})
    s = snap(Glance=[glance()], Secret=[secret()], Memcached=[mc], Job=[job], Pod=[pod])
    s["logs"] = {"glance-db-sync-abcde/glance-db-sync": ["starting", "OperationalError: access denied for user"]}
    (r,) = diagnose(s)
    assert r.cause == "glance-db-sync Job failed: OperationalError: access denied for user"
