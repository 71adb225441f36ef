"""A hostPath volume provisioner and resizer for the test control plane.

Plays the part of a CSI external-provisioner + external-resizer for StorageClasses whose
provisioner is ``PROVISIONER``, so StatefulSets with volumeClaimTemplates start and PVC
expansion completes:

* a Pending claim of such a class gets a PersistentVolume pre-bound to it (claimRef with uid);
  kube-controller-manager's persistentvolume-binder then binds the pair;
* a bound claim whose request grew beyond its status capacity gets the PV capacity raised and
  the claim's status capacity updated, as external-resizer does for volumes that need no
  node-side expansion (kube-controller-manager's expand controller cannot resize hostPath
  volumes: it only records an ``ExternalExpanding`` event, "waiting for an external controller
  to expand this PVC", and leaves the rest to us);
* a Released volume of ours with reclaim policy Delete is deleted with its directory.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from glance_operator.testing.kubeapi import ApiError, KubeApi, Obj

PROVISIONER = "glance-operator.dev/hostpath"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"

log = logging.getLogger(__name__)

_SUFFIXES = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|[kMGTPE]i?|)$")


def parse_quantity(value: str | int) -> Decimal:
    """A Kubernetes resource.Quantity as a number ("1Gi" -> 1073741824, "500m" -> 0.5)."""
    m = _QUANTITY_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"not a quantity: {value!r}")
    number, suffix = Decimal(m.group(1)), m.group(2)
    if suffix == "m":
        return number / 1000
    return number * _SUFFIXES[suffix]


class HostPathProvisioner:
    def __init__(self, api: KubeApi, volumes_dir: Path, *, interval: float = 0.2):
        self.api = api
        self.volumes_dir = volumes_dir
        self.interval = interval
        self.last_error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> HostPathProvisioner:
        self.volumes_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="hostpath-provisioner", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        # Polling (every `interval`) keeps this simple and is cheap at test scale.
        while not self._stop.is_set():
            try:
                self.sync_once()
                self.last_error = None
            except Exception as e:  # keep serving; the apiserver may be briefly unavailable
                if self._stop.is_set():
                    break
                if repr(e) != repr(self.last_error):
                    log.warning("hostpath provisioner: %r", e)
                self.last_error = e
            self._stop.wait(self.interval)  # poll

    # --- one reconciliation pass ---------------------------------------------------------------
    def sync_once(self) -> None:
        classes = {
            sc["metadata"]["name"]
            for sc in self.api.get("/apis/storage.k8s.io/v1/storageclasses")["items"]
            if sc.get("provisioner") == PROVISIONER
        }
        pvs = {pv["metadata"]["name"]: pv for pv in self.api.get("/api/v1/persistentvolumes")["items"]}
        for pvc in self.api.get("/api/v1/persistentvolumeclaims")["items"]:
            if pvc["spec"].get("storageClassName") not in classes:
                continue
            if pvc["metadata"].get("deletionTimestamp"):
                continue
            volume_name = pvc["spec"].get("volumeName")
            if not volume_name:
                self._provision(pvc, pvs)
            elif volume_name in pvs and _ours(pvs[volume_name]):
                self._resize(pvc, pvs[volume_name])
        for pv in pvs.values():
            if _ours(pv) and pv.get("status", {}).get("phase") == "Released":
                self._delete(pv)

    def _provision(self, pvc: Obj, pvs: dict[str, Obj]) -> None:
        meta, spec = pvc["metadata"], pvc["spec"]
        name = f"pvc-{meta['uid']}"
        if name in pvs:
            return  # created already; the binder will bind it
        path = self.volumes_dir / name
        path.mkdir(parents=True, exist_ok=True)
        pv: Obj = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER}},
            "spec": {
                "capacity": {"storage": spec["resources"]["requests"]["storage"]},
                "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": spec["storageClassName"],
                "hostPath": {"path": str(path), "type": "DirectoryOrCreate"},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": meta["namespace"],
                    "name": meta["name"],
                    "uid": meta["uid"],
                },
            },
        }
        try:
            self.api.post("/api/v1/persistentvolumes", pv)
            log.info("provisioned %s for %s/%s", name, meta["namespace"], meta["name"])
        except ApiError as e:
            if e.status != 409:
                raise

    def _resize(self, pvc: Obj, pv: Obj) -> None:
        requested = pvc["spec"].get("resources", {}).get("requests", {}).get("storage")
        current = pvc.get("status", {}).get("capacity", {}).get("storage")
        if not requested or not current or parse_quantity(requested) <= parse_quantity(current):
            return
        if parse_quantity(pv["spec"]["capacity"]["storage"]) < parse_quantity(requested):
            self.api.merge_patch(
                f"/api/v1/persistentvolumes/{pv['metadata']['name']}",
                {"spec": {"capacity": {"storage": requested}}},
            )
        meta = pvc["metadata"]
        status: dict[str, Any] = {
            "capacity": {"storage": requested},
            "allocatedResources": {"storage": requested},
            "allocatedResourceStatuses": None,
            "conditions": None,  # drop Resizing / FileSystemResizePending
        }
        self.api.merge_patch(
            f"/api/v1/namespaces/{meta['namespace']}/persistentvolumeclaims/{meta['name']}/status",
            {"status": status},
        )
        log.info("resized %s/%s to %s", meta["namespace"], meta["name"], requested)

    def _delete(self, pv: Obj) -> None:
        name = pv["metadata"]["name"]
        if pv["spec"].get("persistentVolumeReclaimPolicy") != "Delete":
            return
        self.api.delete(f"/api/v1/persistentvolumes/{name}")
        path = Path(pv["spec"].get("hostPath", {}).get("path", ""))
        if path.parent == self.volumes_dir:  # never remove anything we did not create
            shutil.rmtree(path, ignore_errors=True)
        log.info("deleted released volume %s", name)


def _ours(pv: Obj) -> bool:
    return bool(pv.get("metadata", {}).get("annotations", {}).get(PROVISIONED_BY) == PROVISIONER)
