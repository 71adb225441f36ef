"""The GlanceAPI controller (spec §5): Services, Keystone endpoint, config, StatefulSet, cache jobs.

Differences from upstream, each deliberate:

* waits on watches (Secrets, Memcached, KeystoneAPI, NADs, Cinder, Horizon, Topology) instead of
  fixed requeues;
* a larger `storage.storageRequest` expands the existing PVCs in place when their StorageClass
  allows it; otherwise the condition names the migration path (upstream recreates the StatefulSet,
  which cannot change the size of existing claims);
* cache CronJobs follow the replica count (defect 21); PVCs are never deleted;
* each half of a split API protects its Topology with its own finalizer, and `TopologyReady` starts
  Unknown when a topology is referenced (defect 24).
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any

from ..api.backends import enabled_backends
from ..api.defaults import Defaults, default_glance_api
from ..api.options import check_config
from ..api.schema import crd_schema
from ..api.structural import apply_defaults
from ..api.v1beta1 import GlanceAPI
from ..render import names
from ..render.configfiles import ApplicationCredential, Notifications
from ..render.facts import Database, GlanceAPIFacts, Keystone, Memcached, NetworkAttachment
from ..render.glanceapi import GlanceAPIObjects, RenderError, api_name, build_glance_api, parse_quantity
from ..render.hashing import tls_input_hashes
from ..runtime.cache import Cache, Obj, ObjKey, metadata_only
from ..runtime.client import Writer
from ..runtime.compare import contains
from ..runtime.controller import Controller, Result
from ..runtime.events import EventRecorder
from ..runtime.kinds import GLANCE_API, Kind
from . import conditions as cond
from . import keystoneapi
from .conditions import Condition, Conditions
from .glance import (
    ACCOUNT,
    MEMCACHED,
    NAD,
    SECRET,
    SERVICE,
    Waiting,
    decode,
    nad_gateway,
    password_problem,
    require_memcached,
)
from .keystoneapi import KEYSTONE_API

log = logging.getLogger(__name__)

STATEFULSET = Kind("apps/v1", "StatefulSet")
CRONJOB = Kind("batch/v1", "CronJob")
PVC = Kind("v1", "PersistentVolumeClaim")
POD = Kind("v1", "Pod")
STORAGE_CLASS = Kind("storage.k8s.io/v1", "StorageClass")
KEYSTONE_ENDPOINT = Kind("keystone.openstack.org/v1beta1", "KeystoneEndpoint")
TOPOLOGY = Kind("topology.openstack.org/v1beta1", "Topology")
CINDER = Kind("cinder.openstack.org/v1beta1", "Cinder")
HORIZON = Kind("horizon.openstack.org/v1beta1", "Horizon")

CINDER_READY, MEMCACHED_READY, SERVICE_READY = "CinderReady", "MemcachedReady", "CreateServiceReady"
INPUT_READY, CONFIG_READY, DEPLOYMENT_READY = "InputReady", "ServiceConfigReady", "DeploymentReady"
TLS_READY, KE_READY, NAD_READY = "TLSInputReady", "KeystoneEndpointReady", "NetworkAttachmentsReady"
CRONJOB_READY, TOPOLOGY_READY = "CronJobReady", "TopologyReady"
RESIZE_MIGRATION = (
    "to grow it, create a new GlanceAPI with the larger storageRequest, move keystoneEndpoint to it, "
    "then remove the old API"
)


def init_conditions(api: GlanceAPI) -> list[Condition]:
    topology = [cond.unknown(TOPOLOGY_READY, cond.INIT, "Topology config create not started")]
    return (topology if api.spec.topology_ref is not None and api.spec.topology_ref.name else []) + [
        cond.unknown(CINDER_READY, cond.INIT, "Waiting for Cinder resources"),
        cond.unknown(MEMCACHED_READY, cond.INIT, " Memcached create not started"),
        cond.unknown(SERVICE_READY, cond.INIT, "Create service not started"),
        cond.unknown(INPUT_READY, cond.INIT, "Input data not checked"),
        cond.unknown(CONFIG_READY, cond.INIT, "Service config create not started"),
        cond.unknown(DEPLOYMENT_READY, cond.INIT, "Deployment not started"),
        cond.unknown(TLS_READY, cond.INIT, "Input data not checked"),
        cond.unknown(KE_READY, cond.INIT, ""),
        cond.unknown(NAD_READY, cond.INIT, "NetworkAttachments not started"),
        cond.unknown(CRONJOB_READY, cond.INIT, "CronJob not started"),
    ]


@dataclass
class Pass:
    api: GlanceAPI
    live: Obj
    conditions: Conditions
    status: dict[str, Any]


def config_error(p: Pass, detail: str) -> Waiting:
    """ServiceConfigReady False with upstream's message prefix; the caller raises what it returns."""
    p.conditions.set(
        cond.false(CONFIG_READY, cond.ERROR, cond.WARNING, f"Service config create error occurred {detail}")
    )
    return Waiting(detail)


def _ns_name(obj: Obj) -> ObjKey:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


class GlanceAPIController:
    def __init__(self, cache: Cache, writer: Writer, defaults: Defaults, events: EventRecorder | None = None) -> None:
        self.cache = cache
        self.writer = writer
        self.defaults = defaults
        self.events = events

    def controller(self) -> Controller:
        # only our API pods are cached, and only their metadata (network-status annotations, spec 5.10)
        self.cache.informer(POD, labels={"component": "glance-api"}, transform=metadata_only)
        return Controller(
            name="glanceapi",
            kind=GLANCE_API,
            reconcile=self.reconcile,
            owns=[SECRET, SERVICE, STATEFULSET, KEYSTONE_ENDPOINT, CRONJOB],
            watches=[
                (SECRET, self._by_secret),
                (MEMCACHED, self._by_memcached),
                (KEYSTONE_API, self._all_in_namespace),
                (HORIZON, self._all_in_namespace),
                (CINDER, self._all_in_namespace),
                (NAD, self._by_nad),
                (TOPOLOGY, self._by_topology),
                (ACCOUNT, self._all_in_namespace),
                (PVC, self._by_owner_label),
                (STORAGE_CLASS, self._all),
                (POD, self._by_owner_label),
            ],
        )

    # --- event mapping -----------------------------------------------------------------------

    def _apis(self, namespace: str) -> list[Obj]:
        return self.cache.list(GLANCE_API, namespace)

    def _all(self, obj: Obj) -> list[ObjKey]:
        return [_ns_name(a) for a in self.cache.list(GLANCE_API)]

    def _all_in_namespace(self, obj: Obj) -> list[ObjKey]:
        return [_ns_name(a) for a in self._apis(obj["metadata"].get("namespace", ""))]

    def _by_secret(self, obj: Obj) -> list[ObjKey]:
        ns, name = _ns_name(obj)
        keys = []
        for a in self._apis(ns):
            spec = a.get("spec") or {}
            tls = spec.get("tls") or {}
            api_tls = tls.get("api") or {}
            referenced = {
                spec.get("secret"),
                spec.get("notificationBusSecret"),
                tls.get("caBundleSecretName"),
                (api_tls.get("internal") or {}).get("secretName"),
                (api_tls.get("public") or {}).get("secretName"),
                (spec.get("auth") or {}).get("applicationCredentialSecret"),
                f"{spec.get('databaseAccount') or 'glance'}-db-secret",
                *(spec.get("customServiceConfigSecrets") or []),
            }
            if name in referenced:
                keys.append(_ns_name(a))
        return keys

    def _by_memcached(self, obj: Obj) -> list[ObjKey]:
        ns, name = _ns_name(obj)
        return [
            _ns_name(a)
            for a in self._apis(ns)
            if ((a.get("spec") or {}).get("memcachedInstance") or "memcached") == name
        ]

    def _by_nad(self, obj: Obj) -> list[ObjKey]:
        ns, name = _ns_name(obj)
        return [_ns_name(a) for a in self._apis(ns) if name in ((a.get("spec") or {}).get("networkAttachments") or [])]

    def _by_topology(self, obj: Obj) -> list[ObjKey]:
        ns, name = _ns_name(obj)
        return [
            _ns_name(a) for a in self._apis(ns) if ((a.get("spec") or {}).get("topologyRef") or {}).get("name") == name
        ]

    def _by_owner_label(self, obj: Obj) -> list[ObjKey]:
        owner = (obj["metadata"].get("labels") or {}).get("owner")
        return [(obj["metadata"].get("namespace", ""), owner)] if owner else []

    # --- reconcile ---------------------------------------------------------------------------

    def load(self, live: Obj) -> GlanceAPI:
        body = apply_defaults({k: v for k, v in live.items() if k != "status"}, crd_schema("GlanceAPI"))
        api = default_glance_api(GlanceAPI.model_validate(body), self.defaults)
        api.metadata.uid = live["metadata"]["uid"]
        return api

    async def reconcile(self, key: ObjKey) -> Result:
        ns, name = key
        live = self.cache.get(GLANCE_API, ns, name)
        if live is None:
            return Result()
        if live["metadata"].get("deletionTimestamp"):
            return await self.reconcile_delete(live)
        live = await self.writer.add_finalizer(live, names.GLANCEAPI_FINALIZER)
        api = self.load(live)
        previous = dict(live.get("status") or {})
        status: dict[str, Any] = {
            k: v
            for k, v in previous.items()
            if k
            in (
                "hash",
                "apiEndpoint",
                "networkAttachments",
                "domain",
                "readyCount",
                "lastAppliedTopology",
                "applicationCredentialSecret",
            )
        }
        status.setdefault("readyCount", 0)
        status["observedGeneration"] = live["metadata"].get("generation", 0)
        p = Pass(api, live, Conditions(init_conditions(api)), status)
        try:
            await self.reconcile_normal(p)
        except Waiting:
            pass
        finally:
            await cond.publish(
                self.writer, self.events, live, status, p.conditions, self.cache.get(GLANCE_API, ns, name)
            )
        return Result()

    async def reconcile_normal(self, p: Pass) -> None:
        api, conds = p.api, p.conditions
        ns = api.metadata.namespace
        password = self.service_password(p)
        memcached = self.memcached(p)
        cinder = self.check_cinder(p)
        input_hashes = self.tls_inputs(p)
        nads = self.network_attachments(p)
        facts = GlanceAPIFacts(
            owner_uid=api.metadata.uid,
            database=self.database(p),
            keystone=self.keystone(p),
            service_password=password,
            application_credential=self.application_credential(p),
            memcached=memcached,
            notifications=self.notifications(p),
            config_secrets=self.config_secrets(p),
            endpoint_id=self.endpoint_id(api),
            horizon_endpoint=self.horizon_endpoint(ns),
            cinder_present=cinder,
            network_attachments=nads,
            input_hashes=tuple(sorted(input_hashes.items())),
            topology=await self.topology(p),
        )
        try:
            objs = build_glance_api(api, facts)
        except RenderError as exc:
            raise config_error(p, str(exc)) from exc
        await self.ensure_services(p, objs)
        await self.ensure_keystone_endpoint(p, objs)
        if objs.keystone_endpoint is not None and not facts.endpoint_id:
            # Defect 19, race part: upstream renders the config before keystone-operator has published the
            # endpoint IDs, then again with region_name/endpoint_id, rolling every pod of a new API a second
            # time (and running it without [oslo_limit] endpoint_id meanwhile). The API is not Ready before
            # its KeystoneEndpoint anyway, so the config waits for the IDs; the KeystoneEndpoint watch resumes.
            conds.set(
                cond.unknown(
                    CONFIG_READY,
                    cond.REQUESTED,
                    f"Service config create in progress: waiting for KeystoneEndpoint {api.metadata.name} "
                    "to publish its endpoint IDs",
                )
            )
            raise Waiting
        await self.writer.ensure(objs.config_secret)
        await self.consume_application_credential(p)
        p.status.setdefault("hash", {})
        p.status["hash"] = {**p.status["hash"], "input": objs.config_hash}
        conds.set(cond.true(CONFIG_READY, "Service config create completed"))
        await self.ensure_statefulset(p, objs)
        await self.ensure_cronjobs(p, objs)
        if conds.all_true_but_ready():
            await self.rotate_application_credential(p)
            conds.set(cond.true(cond.READY, "Setup complete"))

    # --- inputs ------------------------------------------------------------------------------

    def service_password(self, p: Pass) -> str:
        api = p.api
        secret = self.cache.get(SECRET, api.metadata.namespace, api.spec.secret)
        if secret is None:
            p.conditions.set(cond.false(INPUT_READY, cond.ERROR, cond.WARNING, "Input data resources missing"))
            raise Waiting
        value = decode(secret, api.spec.password_selectors.service)
        problem = (
            password_problem(value)
            if value is not None
            else f"field {api.spec.password_selectors.service!r} not found in Secret {api.spec.secret}"
        )
        if problem:
            p.conditions.set(cond.false(INPUT_READY, cond.ERROR, cond.WARNING, f"Input data error occurred {problem}"))
            raise Waiting
        p.conditions.set(cond.true(INPUT_READY, "Input data complete"))
        return value or ""

    def memcached(self, p: Pass) -> Memcached:
        api = p.api
        obj = require_memcached(self.cache, p.conditions, api.metadata.namespace, api.spec.memcached_instance)
        status = obj.get("status") or {}
        spec = obj.get("spec") or {}
        tls = bool((spec.get("tls") or {}).get("secretName"))
        mtls = (spec.get("tls") or {}).get("mtls") or {}
        mtls_secret = mtls.get("sslVerifyMode") in ("Request", "Require") and status.get("mtlsCertSecret")
        return Memcached(
            servers=tuple(status.get("serverList") or ()),
            servers_with_inet=tuple(status.get("serverListWithInet") or ()),
            tls=tls,
            mtls_secret=str(mtls_secret) if mtls_secret else None,
        )

    def check_cinder(self, p: Pass) -> bool:
        uses_cinder = "cinder" in enabled_backends(p.api.spec.custom_service_config).types()
        if uses_cinder and not self.cache.list(CINDER, p.api.metadata.namespace):
            p.conditions.set(cond.false(CINDER_READY, cond.REQUESTED, cond.INFO, "Waiting for Cinder resources"))
            raise Waiting
        p.conditions.set(cond.true(CINDER_READY, "Cinder resources exist"))
        return uses_cinder

    def tls_inputs(self, p: Pass) -> dict[str, str]:
        api, ns = p.api, p.api.metadata.namespace
        ca_bundle = None
        ca = api.spec.tls.ca_bundle_secret_name
        if ca:
            ca_bundle = decode(self.cache.get(SECRET, ns, ca), "tls-ca-bundle.pem")
            if ca_bundle is None:
                p.conditions.set(cond.false(TLS_READY, cond.ERROR, cond.WARNING, f"TLSInput is missing: {ca}"))
                raise Waiting
        certificates: list[tuple[str, str]] = []
        for endpoint in ("internal", "public"):
            name = getattr(api.spec.tls.api, endpoint).secret_name
            if not name:
                continue
            secret = self.cache.get(SECRET, ns, name)
            crt, key = decode(secret, "tls.crt"), decode(secret, "tls.key")
            if crt is None or key is None:
                p.conditions.set(cond.false(TLS_READY, cond.REQUESTED, cond.INFO, f"TLSInput is missing: {name}"))
                raise Waiting
            certificates.append((crt, key))
        p.conditions.set(cond.true(TLS_READY, "Input data complete"))
        return tls_input_hashes(ca_bundle, certificates)

    def network_attachments(self, p: Pass) -> tuple[NetworkAttachment, ...]:
        api, ns = p.api, p.api.metadata.namespace
        out = []
        for name in api.spec.network_attachments:
            nad = self.cache.get(NAD, ns, name)
            if nad is None:
                p.conditions.set(
                    cond.false(NAD_READY, cond.ERROR, cond.WARNING, f"NetworkAttachment resources missing: {name}")
                )
                raise Waiting
            out.append(NetworkAttachment(name, ns, nad_gateway(nad)))
        return tuple(out)

    def database(self, p: Pass) -> Database:
        api, ns = p.api, p.api.metadata.namespace
        account = self.cache.get(ACCOUNT, ns, api.spec.database_account)
        secret_name = ((account or {}).get("spec") or {}).get("secret") or f"{api.spec.database_account}-db-secret"
        password = decode(self.cache.get(SECRET, ns, secret_name), "DatabasePassword")
        if account is None or password is None or not api.spec.database_hostname:
            raise config_error(p, f"waiting for MariaDBAccount {api.spec.database_account} and its Secret")
        database = self.cache.get(Kind("mariadb.openstack.org/v1beta1", "MariaDBDatabase"), ns, names.DB_NAME)
        tls = bool(((database or {}).get("status") or {}).get("tlsSupport"))
        return Database(api.spec.database_hostname, account["spec"].get("userName", ""), password, tls)

    def keystone(self, p: Pass) -> Keystone:
        try:
            kapi = keystoneapi.keystone_api(self.cache, p.api.metadata.namespace)
            urls = keystoneapi.endpoint(kapi, "internal"), keystoneapi.endpoint(kapi, "public")
        except keystoneapi.KeystoneAPIUnusable as exc:
            raise config_error(p, str(exc)) from exc
        return Keystone(*urls, keystoneapi.region(kapi))

    def application_credential(self, p: Pass) -> ApplicationCredential | None:
        name = p.api.spec.auth.application_credential_secret
        if not name:
            return None
        secret = self.cache.get(SECRET, p.api.metadata.namespace, name)
        if secret is None:
            raise config_error(p, f"ApplicationCredential secret not found: {name}")
        ac_id, ac_secret = decode(secret, "AC_ID"), decode(secret, "AC_SECRET")
        if not ac_id or not ac_secret:
            raise config_error(p, f"ApplicationCredential secret missing required keys: {name}")
        return ApplicationCredential(ac_id, ac_secret)

    async def consume_application_credential(self, p: Pass) -> None:
        """Protect the AC Secret in use with our consumer finalizer (spec 5.5), so keystone-operator does not
        remove it under running pods."""
        name = p.api.spec.auth.application_credential_secret
        if name:
            key, _ = api_name(p.api)
            secret = self.cache.get(SECRET, p.api.metadata.namespace, name)
            if secret is not None:
                await self.writer.add_finalizer(secret, names.ac_consumer_finalizer(key, p.api.spec.api_type))

    async def rotate_application_credential(self, p: Pass) -> None:
        """Spec 5.13: the previous AC Secret is released only once everything runs with the new one."""
        new = p.api.spec.auth.application_credential_secret or ""
        old = str(p.status.get("applicationCredentialSecret") or "")
        if old and old != new:
            key, _ = api_name(p.api)
            finalizer = names.ac_consumer_finalizer(key, p.api.spec.api_type)
            await self.writer.remove_finalizer(self.cache.get(SECRET, p.api.metadata.namespace, old), finalizer)
        if new:
            p.status["applicationCredentialSecret"] = new
        else:
            p.status.pop("applicationCredentialSecret", None)

    def notifications(self, p: Pass) -> Notifications | None:
        name = p.api.spec.notification_bus_secret
        if not name:
            return None
        secret = self.cache.get(SECRET, p.api.metadata.namespace, name)
        url = decode(secret, "transport_url")
        if url is None:
            raise config_error(p, f"notification Secret {name} not found")
        return Notifications(url, decode(secret, "quorumqueues") == "true")

    def config_secrets(self, p: Pass) -> tuple[tuple[str, dict[str, str]], ...]:
        out = []
        stores = {b.store_id: b.store_type for b in enabled_backends(p.api.spec.custom_service_config).parsed()}
        problems: list[str] = []
        for name in p.api.spec.custom_service_config_secrets:
            secret = self.cache.get(SECRET, p.api.metadata.namespace, name)
            if secret is None:
                raise config_error(p, f"Secret {name} not found")
            data = {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()}
            # the webhook cannot see Secret content: check it here, before any pod gets it (no values shown)
            for key, text in sorted(data.items()):
                problems += [
                    f"Secret {name} key {key}: {e}" for e in check_config(text, stores, show_values=False).errors
                ]
            out.append((name, data))
        if problems:
            raise config_error(p, "; ".join(problems))
        return tuple(out)

    def endpoint_id(self, api: GlanceAPI) -> str:
        endpoint = self.cache.get(KEYSTONE_ENDPOINT, api.metadata.namespace, api.metadata.name)
        ids = ((endpoint or {}).get("status") or {}).get("endpointIDs") or {}
        return str(ids.get("public" if api.spec.api_type == "external" else "internal") or "")

    def horizon_endpoint(self, namespace: str) -> str:
        horizons = self.cache.list(HORIZON, namespace)
        if len(horizons) == 1:
            return str((horizons[0].get("status") or {}).get("endpoint") or "")
        return ""

    async def topology(self, p: Pass) -> dict[str, object] | None:
        api, ns = p.api, p.api.metadata.namespace
        key, _ = api_name(api)
        finalizer, upstream_finalizer = names.topology_finalizers(key, api.spec.api_type)
        ref = api.spec.topology_ref
        last = p.status.get("lastAppliedTopology") or {}
        if last.get("name") and (ref is None or ref.name != last.get("name")):
            for f in (finalizer, upstream_finalizer):
                await self.writer.remove_finalizer(self.cache.get(TOPOLOGY, ns, last["name"]), f)
        if ref is None or not ref.name:
            p.status.pop("lastAppliedTopology", None)
            return None
        topo = self.cache.get(TOPOLOGY, ns, ref.name)
        if topo is None:
            p.conditions.set(
                cond.false(
                    TOPOLOGY_READY,
                    cond.ERROR,
                    cond.WARNING,
                    f"Topology config create error occurred Topology {ref.name} not found",
                )
            )
            raise Waiting
        await self.writer.add_finalizer(topo, finalizer)
        p.status["lastAppliedTopology"] = {"name": ref.name, "namespace": ns}
        p.conditions.set(cond.true(TOPOLOGY_READY, "Topology config create completed"))
        return dict(topo.get("spec") or {})

    # --- children ----------------------------------------------------------------------------

    async def ensure_services(self, p: Pass, objs: GlanceAPIObjects) -> None:
        await self.writer.ensure(objs.headless_service)
        for svc in objs.endpoint_services:
            live = (await self.writer.ensure(svc))[0]
            if svc["spec"].get("type") == "LoadBalancer" and not (
                (live.get("status") or {}).get("loadBalancer") or {}
            ).get("ingress"):
                p.conditions.set(
                    cond.false(
                        SERVICE_READY,
                        cond.ERROR,
                        cond.WARNING,
                        f"Create service error occurred {svc['metadata']['name']} LoadBalancer IP still pending",
                    )
                )
                raise Waiting
        p.status["domain"] = objs.domain
        p.status["apiEndpoint"] = dict(objs.api_endpoints)
        p.conditions.set(cond.true(SERVICE_READY, "Create service completed"))

    async def ensure_keystone_endpoint(self, p: Pass, objs: GlanceAPIObjects) -> None:
        ns, name = p.api.metadata.namespace, p.api.metadata.name
        if objs.keystone_endpoint is None:
            existing = self.cache.get(KEYSTONE_ENDPOINT, ns, name)
            if existing is not None:
                await self.writer.delete(KEYSTONE_ENDPOINT, ns, name)
                await self.writer.remove_finalizer(existing, names.GLANCEAPI_FINALIZER)
            p.conditions.set(cond.true(KE_READY, "Setup complete"))
            return
        live = (await self.writer.ensure(objs.keystone_endpoint))[0]
        conditions = cond.conditions_from(live)
        if conditions:
            p.conditions.set(cond.mirror(KE_READY, conditions))
        else:
            p.conditions.set(cond.unknown(KE_READY, cond.REQUESTED, "KeystoneEndpoint not ready"))

    async def ensure_statefulset(self, p: Pass, objs: GlanceAPIObjects) -> None:
        api, ns = p.api, p.api.metadata.namespace
        sts = objs.statefulset
        name = sts["metadata"]["name"]
        hashes = dict(p.status.get("hash") or {})
        live = self.cache.get(STATEFULSET, ns, name)
        if hashes.get("backendHash") != objs.backend_hash:
            p.status["hash"] = {**hashes, "backendHash": objs.backend_hash}
        waiting = cond.false(DEPLOYMENT_READY, cond.REQUESTED, cond.INFO, "Deployment in progress")
        if live is not None and live["metadata"].get("deletionTimestamp"):
            p.conditions.set(waiting)  # the deletion event brings us back
            raise Waiting
        if live is not None:
            await self.expand_pvcs(p, objs, live)
            live_claims = (live.get("spec") or {}).get("volumeClaimTemplates") or []
            wanted_claims = sts["spec"].get("volumeClaimTemplates") or []
            if not contains(wanted_claims, live_claims):
                # Claim templates are immutable: recreate the StatefulSet (spec 5.2 step 3); PVCs are never
                # touched. When no claim is added, orphaning keeps the pods serving until the new StatefulSet
                # adopts and rolls them. A pod cannot gain a volume, though: the StatefulSet controller fails
                # to update an adopted pod that lacks a new claim and never rolls it, so then the pods go with
                # the old StatefulSet, as upstream does.
                added = {c["metadata"]["name"] for c in wanted_claims} - {c["metadata"]["name"] for c in live_claims}
                log.info(
                    "recreating StatefulSet for a new storage layout",
                    extra={"object": f"{ns}/{name}", "added_claims": sorted(added)},
                )
                await self.writer.delete(STATEFULSET, ns, name, orphan=not added)
                p.conditions.set(waiting)
                raise Waiting
        live = (await self.writer.ensure(sts))[0]
        st = live.get("status") or {}
        if live["metadata"].get("generation") != st.get("observedGeneration"):
            p.conditions.set(cond.false(DEPLOYMENT_READY, cond.REQUESTED, cond.INFO, "Deployment in progress"))
            raise Waiting
        ready = int(st.get("readyReplicas") or 0)
        p.status["readyCount"] = ready
        self.collect_network_status(p, ready)
        replicas = api.spec.replicas if api.spec.replicas is not None else 1
        if ready == replicas and int(st.get("updatedReplicas") or 0) >= replicas:
            p.conditions.set(cond.true(DEPLOYMENT_READY, "Deployment completed"))
        else:
            p.conditions.set(cond.false(DEPLOYMENT_READY, cond.REQUESTED, cond.INFO, "Deployment in progress"))
            raise Waiting

    def collect_network_status(self, p: Pass, ready: int) -> None:
        import json

        api, ns = p.api, p.api.metadata.namespace
        if not api.spec.network_attachments:
            p.status["networkAttachments"] = {}
            p.conditions.set(cond.true(NAD_READY, "NetworkAttachments completed"))
            return
        key, _ = api_name(api)
        labels = names.service_labels(key, api.spec.api_type, api.metadata.name)
        ips: dict[str, list[str]] = {}
        for pod in self.cache.list(POD, ns, labels):
            raw = (pod["metadata"].get("annotations") or {}).get("k8s.v1.cni.cncf.io/network-status", "[]")
            try:
                entries = json.loads(raw)
            except ValueError:
                continue
            for entry in entries if isinstance(entries, list) else []:
                ips.setdefault(str(entry.get("name", "")), []).extend(entry.get("ips") or [])
        wanted = [f"{ns}/{n}" for n in api.spec.network_attachments]
        p.status["networkAttachments"] = {k: v for k, v in ips.items() if k in wanted}
        missing = [w for w in wanted if len(ips.get(w, [])) < ready]
        if missing:
            p.conditions.set(
                cond.false(
                    NAD_READY,
                    cond.ERROR,
                    cond.WARNING,
                    "NetworkAttachments error occurred not all pods have interfaces with ips as configured in "
                    f"NetworkAttachments: [{' '.join(api.spec.network_attachments)}]",  # Go's %s of the list
                )
            )
            raise Waiting
        p.conditions.set(cond.true(NAD_READY, "NetworkAttachments completed"))

    async def expand_pvcs(self, p: Pass, objs: GlanceAPIObjects, live_sts: Obj) -> None:
        """Grow existing image PVCs in place when the StorageClass allows it."""
        api, ns = p.api, p.api.metadata.namespace
        request = api.spec.storage.storage_request
        if api.spec.storage.external or not request:
            return
        wanted = parse_quantity(request)
        sts_name = live_sts["metadata"]["name"]
        for pvc in self.cache.list(PVC, ns):
            if not pvc["metadata"]["name"].startswith(f"glance-{sts_name}-"):
                continue
            current = ((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")
            if current is None or parse_quantity(str(current)) >= wanted:
                continue
            sc_name = (pvc.get("spec") or {}).get("storageClassName") or ""
            sc = self.cache.get(STORAGE_CLASS, "", sc_name) if sc_name else None
            if sc is None or not sc.get("allowVolumeExpansion"):
                p.conditions.set(
                    cond.false(
                        DEPLOYMENT_READY,
                        cond.ERROR,
                        cond.WARNING,
                        f"Deployment error occurred PVC {pvc['metadata']['name']} is {current} and StorageClass "
                        f"{sc_name or '(none)'} does not allow expansion; {RESIZE_MIGRATION}",
                    )
                )
                raise Waiting
            await self.writer.merge_patch(pvc, {"spec": {"resources": {"requests": {"storage": request}}}})

    async def ensure_cronjobs(self, p: Pass, objs: GlanceAPIObjects) -> None:
        api, ns = p.api, p.api.metadata.namespace
        wanted = {c["metadata"]["name"] for c in objs.cronjobs}
        for cron in objs.cronjobs:
            await self.writer.ensure(cron)
        key, _ = api_name(api)
        labels = names.service_labels(key, api.spec.api_type, api.metadata.name)
        for cron in self.cache.list(CRONJOB, ns, labels):
            if cron["metadata"]["name"] not in wanted:
                await self.writer.delete(CRONJOB, ns, cron["metadata"]["name"])
        p.conditions.set(cond.true(CRONJOB_READY, "CronJob completed"))

    async def reconcile_delete(self, live: Obj) -> Result:
        meta = live["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        await self.writer.remove_finalizer(self.cache.get(KEYSTONE_ENDPOINT, ns, name), names.GLANCEAPI_FINALIZER)
        api = self.load(live)
        key, _ = api_name(api)
        # spec 5.14: both the AC Secret recorded in status and the one in spec (missing Secrets are fine)
        ac_finalizer = names.ac_consumer_finalizer(key, api.spec.api_type)
        for secret in {
            (live.get("status") or {}).get("applicationCredentialSecret"),
            api.spec.auth.application_credential_secret,
        }:
            if secret:
                await self.writer.remove_finalizer(self.cache.get(SECRET, ns, secret), ac_finalizer)
        last = (live.get("status") or {}).get("lastAppliedTopology") or {}
        if last.get("name"):
            for f in names.topology_finalizers(key, api.spec.api_type):
                await self.writer.remove_finalizer(self.cache.get(TOPOLOGY, ns, last["name"]), f)
        await self.writer.remove_finalizer(live, names.GLANCEAPI_FINALIZER)
        return Result()
