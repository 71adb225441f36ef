"""The operator against the real apiserver, scenario by scenario (spec §4, §5, §8, §10).

Each test: given a namespace with the dependency player and the operator running in-process,
when something happens, then the cluster converges to what upstream users rely on.
"""

from __future__ import annotations

import base64

from glance_operator.testing import KubeApi

from .operator_env import GLANCE_V, condition, eventually, glance, is_ready, running_operator, service_secret

IMAGE = "quay.io/podified-antelope-centos9/openstack-glance-api:current-podified"


def ready_glance(api: KubeApi, ns: str, name: str = "glance"):
    return lambda: is_ready(api, "Glance", name, ns)


async def test_sample_glance_becomes_ready_and_resync_writes_nothing(api: KubeApi, kubeconfig, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace) as (manager, _deps):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        ready = await eventually(ready_glance(api, namespace), timeout=90)
        # then: status shapes the control plane reads (spec §10.11)
        assert ready["status"]["apiEndpoint"] == {
            "default-internal": f"http://glance-default-internal.{namespace}.svc:9292",
            "default-public": f"http://glance-default-public.{namespace}.svc:9292",
        }
        assert ready["status"]["glanceAPIReadyCounts"] == {"default": 1}
        assert ready["status"]["databaseHostname"] == f"openstack.{namespace}.svc"
        assert ready["status"]["hash"]["dbsync"]
        assert ready["status"]["conditions"][0]["type"] == "Ready"
        child = api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace)
        assert child["status"]["readyCount"] == 1
        assert child["metadata"]["labels"] == {"service": "glance", "api-name": "default"}
        assert child["metadata"]["annotations"]["keystoneEndpoint"] == "true"
        assert api.read("keystone.openstack.org/v1beta1", "KeystoneEndpoint", "glance-default-single", namespace)
        assert (
            "openstack.org/glance"
            in api.read("mariadb.openstack.org/v1beta1", "MariaDBDatabase", "glance", namespace)["metadata"][
                "finalizers"
            ]
        )
        # when every object is reconciled again, then nothing is written
        before = manager.writer.stats.total
        for obj in api.list(GLANCE_V, "Glance", namespace):
            manager.controllers[0].queue.add((namespace, obj["metadata"]["name"]))
        for obj in api.list(GLANCE_V, "GlanceAPI", namespace):
            manager.controllers[1].queue.add((namespace, obj["metadata"]["name"]))
        await eventually(lambda: all(c.queue.idle for c in manager.controllers), timeout=30)
        assert manager.writer.stats.total == before, manager.writer.stats.counts


async def test_held_dependency_is_reported_then_released(api: KubeApi, kubeconfig, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace, hold=("Memcached",)) as (_manager, deps):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))

        def memcached_waiting():
            c = condition(api.read(GLANCE_V, "Glance", "glance", namespace), "MemcachedReady")
            return c if c and c["status"] == "False" else None

        c = await eventually(memcached_waiting, timeout=30)
        assert c["message"] == " Memcached instance has not been provisioned"
        assert c["reason"] == "Requested" and c["severity"] == "Info"
        ready = condition(api.read(GLANCE_V, "Glance", "glance", namespace), "Ready")
        assert ready["status"] == "False" and ready["message"] == " Memcached instance has not been provisioned"
        events = await eventually(
            lambda: [e for e in api.list("v1", "Event", namespace) if e.get("reason") == "MemcachedNotReady"],
            timeout=30,
        )
        assert events[0]["involvedObject"]["kind"] == "Glance"
        assert events[0]["message"] == "Memcached instance has not been provisioned"
        deps.release("Memcached")
        await eventually(ready_glance(api, namespace), timeout=90)
        assert await eventually(lambda: [e for e in api.list("v1", "Event", namespace) if e.get("reason") == "Ready"])


async def test_deleted_and_edited_children_are_restored(api: KubeApi, kubeconfig, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(ready_glance(api, namespace), timeout=90)
        svc = api.read("v1", "Service", "glance-default-internal", namespace)
        api.remove("v1", "Service", "glance-default-internal", namespace)
        recreated = await eventually(
            lambda: (
                (s := api.read("v1", "Service", "glance-default-internal", namespace))
                and s["metadata"]["uid"] != svc["metadata"]["uid"]
                and s
            ),
            timeout=30,
        )
        assert recreated["metadata"]["labels"]["endpoint"] == "internal"
        # an edit of a field we own is put back; a field we do not own is left alone
        path = api.path_of(recreated)
        api.merge_patch(path, {"metadata": {"annotations": {"endpoint": "tampered", "team": "storage"}}})
        restored = await eventually(
            lambda: (
                (s := api.read("v1", "Service", "glance-default-internal", namespace))
                and s["metadata"]["annotations"].get("endpoint") == "internal"
                and s
            ),
            timeout=30,
        )
        assert restored["metadata"]["annotations"]["team"] == "storage"


async def test_removed_api_is_decommissioned_and_its_pvcs_kept(api: KubeApi, kubeconfig, namespace: str) -> None:
    apis = {"default": {"type": "single", "replicas": 1}, "extra": {"type": "single", "replicas": 1}}
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, apis=apis))
        await eventually(ready_glance(api, namespace), timeout=90)
        pvc = await eventually(
            lambda: api.read("v1", "PersistentVolumeClaim", "glance-glance-extra-single-0", namespace)
        )
        api.apply(glance(namespace, apis={"default": apis["default"]}))
        await eventually(lambda: api.read(GLANCE_V, "GlanceAPI", "glance-extra-single", namespace) is None, timeout=60)
        ready = await eventually(ready_glance(api, namespace), timeout=60)
        assert "extra-public" not in ready["status"]["apiEndpoint"]
        assert "extra" not in ready["status"]["glanceAPIReadyCounts"]
        kept = api.read("v1", "PersistentVolumeClaim", "glance-glance-extra-single-0", namespace)
        assert kept is not None and kept["metadata"]["uid"] == pvc["metadata"]["uid"]


async def test_moving_keystone_endpoint_moves_the_keystone_endpoint(api: KubeApi, kubeconfig, namespace: str) -> None:
    apis = {"a": {"type": "single", "replicas": 1}, "b": {"type": "single", "replicas": 1}}
    keystone = "keystone.openstack.org/v1beta1"
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, apis=apis, keystoneEndpoint="a"))
        await eventually(ready_glance(api, namespace), timeout=90)
        assert api.read(keystone, "KeystoneEndpoint", "glance-a-single", namespace)
        assert api.read(keystone, "KeystoneEndpoint", "glance-b-single", namespace) is None
        api.apply(glance(namespace, apis=apis, keystoneEndpoint="b"))
        await eventually(
            lambda: api.read(keystone, "KeystoneEndpoint", "glance-a-single", namespace) is None, timeout=60
        )
        moved = await eventually(
            lambda: api.read(keystone, "KeystoneEndpoint", "glance-b-single", namespace), timeout=60
        )
        assert set(moved["spec"]["endpoints"]) == {"internal", "public"}
        public_svc = api.read("v1", "Service", "glance-b-public", namespace)
        assert public_svc["metadata"]["annotations"]["core.openstack.org/ingress_create"] == "true"
        assert (
            api.read("v1", "Service", "glance-a-public", namespace)["metadata"]["annotations"][
                "core.openstack.org/ingress_create"
            ]
            == "false"
        )


async def test_deletion_releases_finalizers_and_keeps_pvcs(api: KubeApi, kubeconfig, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(ready_glance(api, namespace), timeout=90)
        pvc = await eventually(
            lambda: api.read("v1", "PersistentVolumeClaim", "glance-glance-default-single-0", namespace)
        )
        api.remove(GLANCE_V, "Glance", "glance", namespace)
        await eventually(lambda: api.read(GLANCE_V, "Glance", "glance", namespace) is None, timeout=60)
        for api_version, kind, name in (
            ("mariadb.openstack.org/v1beta1", "MariaDBDatabase", "glance"),
            ("mariadb.openstack.org/v1beta1", "MariaDBAccount", "glance"),
            ("keystone.openstack.org/v1beta1", "KeystoneService", "glance"),
        ):
            obj = api.read(api_version, kind, name, namespace)
            assert obj is None or "openstack.org/glance" not in (obj["metadata"].get("finalizers") or [])
        assert (
            api.read("v1", "PersistentVolumeClaim", "glance-glance-default-single-0", namespace)["metadata"]["uid"]
            == pvc["metadata"]["uid"]
        )


async def test_storage_request_growth_expands_pvcs_in_place(api: KubeApi, kubeconfig, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(ready_glance(api, namespace), timeout=90)
        name = "glance-glance-default-single-0"
        pvc = await eventually(lambda: api.read("v1", "PersistentVolumeClaim", name, namespace))
        api.apply(glance(namespace, storage={"storageRequest": "2G"}))
        grown = await eventually(
            lambda: (
                (p := api.read("v1", "PersistentVolumeClaim", name, namespace))
                and p["spec"]["resources"]["requests"]["storage"] == "2G"
                and p
            ),
            timeout=60,
            describe=lambda: (
                (api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace) or {}).get("status"),
                api.read("v1", "PersistentVolumeClaim", name, namespace),
            ),
        )
        assert grown["metadata"]["uid"] == pvc["metadata"]["uid"]
        await eventually(ready_glance(api, namespace), timeout=90)


async def test_invalid_service_password_is_reported_and_recovers(api: KubeApi, kubeconfig, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        secret = service_secret(namespace, password="pa$(whoami)ss")
        api.apply(secret)
        api.apply(glance(namespace))

        def input_error():
            c = condition(api.read(GLANCE_V, "Glance", "glance", namespace), "InputReady")
            return c if c and c["status"] == "False" else None

        c = await eventually(input_error, timeout=30)
        assert c["message"].startswith("Input data error occurred")
        secret["data"]["GlancePassword"] = base64.b64encode(b"good-password").decode()
        api.apply(secret)
        await eventually(ready_glance(api, namespace), timeout=90)


async def test_bad_options_in_a_config_secret_are_caught_before_pods_get_them(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    """Secret content is not in any admission review: the controller checks it (misspelt option, then a wrong
    type) on ServiceConfigReady and renders nothing until it is fixed."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "glance-extra", "namespace": namespace},
        "stringData": {"extra.conf": "[DEFAULT]\nimage_size_cap = 1000\nimage_size_capp = 5\n"},
    }
    apis = {"default": {"type": "single", "replicas": 1, "customServiceConfigSecrets": ["glance-extra"]}}
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(secret)
        api.apply(glance(namespace, apis=apis))

        def config_error(needle: str):
            def check():
                api_obj = api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace)
                c = condition(api_obj, "ServiceConfigReady")
                return c if c and c["status"] == "False" and needle in c["message"] else None

            return check

        c = await eventually(config_error("image_size_capp"), timeout=60)
        assert "Secret glance-extra key extra.conf: line 3: [DEFAULT] image_size_capp: unknown option" in c["message"]
        assert 'did you mean "image_size_cap"' in c["message"]
        assert api.read("apps/v1", "StatefulSet", "glance-default-single", namespace) is None
        # the wrong type: an int option given "abc"
        secret["stringData"]["extra.conf"] = "[DEFAULT]\nimage_size_cap = abc\n"
        api.apply(secret)
        c = await eventually(config_error("not an integer"), timeout=60)
        assert c["message"] == (
            "Service config create error occurred "
            "Secret glance-extra key extra.conf: line 2: [DEFAULT] image_size_cap: the value is not an integer"
        )
        assert api.read("apps/v1", "StatefulSet", "glance-default-single", namespace) is None
        secret["stringData"]["extra.conf"] = "[DEFAULT]\nimage_size_cap = 1000\n"
        api.apply(secret)
        await eventually(ready_glance(api, namespace), timeout=90)


async def test_quotas_without_usable_keystone_admin_credentials_are_reported(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    """Registering quota limits needs the KeystoneAPI's admin password (spec §6.10); the real Keystone side is
    proven in tests/e2e/test_quota_limits.py. Here the played KeystoneAPI's Secret has no AdminPassword."""
    quotas = {"imageSizeTotal": 1000, "imageStageTotal": 0, "imageCountTotal": 10, "imageCountUpload": 0}
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, quotas=quotas))

        def quota_error():
            g = api.read(GLANCE_V, "Glance", "glance", namespace)
            c = condition(g, "GlanceAPIReady")
            return g if c and c["status"] == "False" and "quota limits" in c["message"] else None

        g = await eventually(quota_error, timeout=90)
        c = condition(g, "GlanceAPIReady")
        assert (c["reason"], c["severity"]) == ("Error", "Warning")
        assert c["message"] == (
            "GlanceAPI error occured registering quota limits in Keystone: "
            "field 'AdminPassword' not found in Secret 'osp-secret' of the KeystoneAPI"
        )
        assert condition(g, "Ready")["status"] == "False"
        # quotas off: nothing to register, Keystone is never asked, the Glance becomes Ready
        api.apply(glance(namespace, quotas=dict.fromkeys(quotas, 0)))
        ready = await eventually(ready_glance(api, namespace), timeout=90)
        assert "quotas" not in ready["status"]["hash"]


async def test_a_sidecar_injected_by_someone_else_is_left_alone_without_writes(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    """Associative lists (containers, env, volumes) hold items of several owners under server-side apply: an
    item another manager added is theirs, so the operator neither removes it nor re-applies on every pass."""
    async with running_operator(kubeconfig, namespace) as (manager, _deps):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(ready_glance(api, namespace), timeout=90)
        # given a mutating admission controller's edit: a sidecar, an env var and a volume
        sts_patch = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "glance-default-single", "namespace": namespace},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "proxy",
                                "image": "proxy:1",
                                "volumeMounts": [{"name": "mesh", "mountPath": "/m"}],
                            },
                            {"name": "glance-httpd", "env": [{"name": "MESH", "value": "on"}]},
                        ],
                        "volumes": [{"name": "mesh", "emptyDir": {}}],
                    }
                }
            },
        }
        generation = api.apply(sts_patch, manager="mesh-injector")["metadata"]["generation"]

        def rolled_out() -> bool:
            st = api.read("apps/v1", "StatefulSet", "glance-default-single", namespace)["status"]
            return (
                st.get("observedGeneration") == generation
                and st.get("currentRevision") == st.get("updateRevision")
                and st.get("readyReplicas") == 1
            )

        # when the rollout it causes has converged and every object is reconciled again
        await eventually(rolled_out, timeout=90)
        await eventually(ready_glance(api, namespace), timeout=90)
        await eventually(lambda: all(c.queue.idle for c in manager.controllers), timeout=30)
        before = dict(manager.writer.stats.counts)
        for c, kind in zip(manager.controllers, ("Glance", "GlanceAPI"), strict=False):
            for obj in api.list(GLANCE_V, kind, namespace):
                c.queue.add((namespace, obj["metadata"]["name"]))
        await eventually(lambda: all(c.queue.idle for c in manager.controllers), timeout=30)
        # then nothing is written and the injected items are still there
        assert manager.writer.stats.counts == before
        sts = api.read("apps/v1", "StatefulSet", "glance-default-single", namespace)
        pod = sts["spec"]["template"]["spec"]
        assert [c["name"] for c in pod["containers"]].count("proxy") == 1
        httpd = next(c for c in pod["containers"] if c["name"] == "glance-httpd")
        assert {"name": "MESH", "value": "on"} in httpd["env"]
        assert any(v["name"] == "mesh" for v in pod["volumes"])


async def test_deletion_without_dependencies_present(api: KubeApi, kubeconfig, namespace: str) -> None:
    """A Glance whose dependencies are gone (or never came) is still deleted, releasing what it holds."""
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))
        await eventually(ready_glance(api, namespace), timeout=90)
        # given the Keystone and Memcached of the control plane removed first
        api.remove("keystone.openstack.org/v1beta1", "KeystoneAPI", "keystone", namespace)
        api.remove("memcached.openstack.org/v1beta1", "Memcached", "memcached", namespace)
        await eventually(
            lambda: api.read("keystone.openstack.org/v1beta1", "KeystoneAPI", "keystone", namespace) is None, 30
        )
        # when the Glance is deleted, then it goes, and nothing keeps a glance finalizer
        api.remove(GLANCE_V, "Glance", "glance", namespace)
        await eventually(lambda: api.read(GLANCE_V, "Glance", "glance", namespace) is None, timeout=60)
        await eventually(lambda: not api.list(GLANCE_V, "GlanceAPI", namespace), timeout=60)
        for api_version, kind, name in (
            ("mariadb.openstack.org/v1beta1", "MariaDBDatabase", "glance"),
            ("mariadb.openstack.org/v1beta1", "MariaDBAccount", "glance"),
            ("keystone.openstack.org/v1beta1", "KeystoneService", "glance"),
            ("keystone.openstack.org/v1beta1", "KeystoneEndpoint", "glance-default-single"),
        ):
            obj = api.read(api_version, kind, name, namespace)
            assert obj is None or not [
                f for f in obj["metadata"].get("finalizers") or [] if f.startswith("openstack.org/glance")
            ], (kind, obj["metadata"].get("finalizers"))


async def test_deletion_of_a_glance_that_never_got_its_dependencies(api: KubeApi, kubeconfig, namespace: str) -> None:
    async with running_operator(kubeconfig, namespace):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace, memcachedInstance="memcached-typo"))
        await eventually(
            lambda: (
                (condition(api.read(GLANCE_V, "Glance", "glance", namespace), "MemcachedReady") or {}).get("status")
                == "False"
            ),
            timeout=60,
        )
        g = api.read(GLANCE_V, "Glance", "glance", namespace)
        assert "openstack.org/glance" in g["metadata"]["finalizers"]  # it was being reconciled
        api.remove(GLANCE_V, "Glance", "glance", namespace)
        # then the finalizer is released although nothing it waited for ever came, and no child was made
        await eventually(lambda: api.read(GLANCE_V, "Glance", "glance", namespace) is None, timeout=60)
        assert api.list(GLANCE_V, "GlanceAPI", namespace) == []
        assert api.list("mariadb.openstack.org/v1beta1", "MariaDBDatabase", namespace) == []


async def test_defect_19_a_new_api_is_rolled_out_once_with_its_endpoint_id(
    api: KubeApi, kubeconfig, namespace: str
) -> None:
    """Upstream renders a new API's config before keystone-operator publishes the endpoint IDs, then again
    with region_name/endpoint_id, so every new pod is replaced once. Here the config waits for the IDs."""
    async with running_operator(kubeconfig, namespace, hold=("KeystoneEndpoint",)) as (_manager, deps):
        api.apply(service_secret(namespace))
        api.apply(glance(namespace))

        def waiting() -> dict | None:
            child = api.read(GLANCE_V, "GlanceAPI", "glance-default-single", namespace)
            c = condition(child, "ServiceConfigReady")
            return child if c and "waiting for KeystoneEndpoint" in c.get("message", "") else None

        child = await eventually(waiting, timeout=60)
        c = condition(child, "ServiceConfigReady")
        assert (c["status"], c["reason"]) == ("Unknown", "Requested")
        assert condition(child, "KeystoneEndpointReady")["status"] != "True"
        # nothing a pod would run is made before the IDs exist
        assert api.read("apps/v1", "StatefulSet", "glance-default-single", namespace) is None
        assert api.read("v1", "Secret", "glance-default-single-config-data", namespace) is None

        deps.release("KeystoneEndpoint")
        await eventually(ready_glance(api, namespace), timeout=90)
        sts = api.read("apps/v1", "StatefulSet", "glance-default-single", namespace)
        assert sts["metadata"]["generation"] == 1, "the StatefulSet was changed after it was created"
        config = base64.b64decode(
            api.read("v1", "Secret", "glance-default-single-config-data", namespace)["data"]["00-config.conf"]
        ).decode()
        assert "endpoint_id" in config and "region_name" in config
