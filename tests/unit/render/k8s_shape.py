"""A small Kubernetes-shape check for rendered objects (names, labels, env, volumes/mounts)."""

from __future__ import annotations

import re
from typing import Any

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

# Kinds whose name must be a DNS-1123 label (Services; pod producers, so pod names/labels stay valid).
LABEL_NAMED = {"Service": 63, "StatefulSet": 52, "CronJob": 52}


def _label_key_ok(key: str) -> bool:
    prefix, sep, name = key.rpartition("/")
    if sep and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(LABEL_NAME.match(name))


def check_labels(labels: dict[str, str], where: str) -> list[str]:
    errors = []
    for key, value in labels.items():
        if not _label_key_ok(key):
            errors.append(f"{where}: invalid label key {key!r}")
        if len(value) > 63 or not LABEL_VALUE.match(value):
            errors.append(f"{where}: invalid label value {key}={value!r}")
    return errors


def check_annotations(annotations: dict[str, str], where: str) -> list[str]:
    errors = []
    for key, value in annotations.items():
        if not _label_key_ok(key):
            errors.append(f"{where}: invalid annotation key {key!r}")
        if not isinstance(value, str):
            errors.append(f"{where}: annotation {key} is not a string")
    return errors


def check_pod_spec(spec: dict[str, Any], where: str) -> list[str]:
    errors = []
    volumes = [v["name"] for v in spec.get("volumes", [])]
    for v in spec.get("volumes", []):
        source = v.get("secret")
        if source is not None:
            if not DNS1123_SUBDOMAIN.match(source.get("secretName", "")) or len(source["secretName"]) > 253:
                errors.append(f"{where}: volume {v['name']} has an invalid secretName")
            for item in source.get("items", []):
                if not DATA_KEY.match(item["key"]):
                    errors.append(f"{where}: volume {v['name']} has an invalid item key {item['key']!r}")
    if len(volumes) != len(set(volumes)):
        errors.append(f"{where}: duplicate volume names {volumes}")
    for v in volumes:
        if len(v) > 63 or not DNS1123_LABEL.match(v):
            errors.append(f"{where}: invalid volume name {v!r}")
    names = [c["name"] for c in spec.get("containers", [])]
    if len(names) != len(set(names)) or not names:
        errors.append(f"{where}: container names {names}")
    for c in spec.get("containers", []):
        if not DNS1123_LABEL.match(c["name"]) or len(c["name"]) > 63:
            errors.append(f"{where}: invalid container name {c['name']!r}")
        if not c.get("image", None) and c.get("image") != "":
            errors.append(f"{where}: container {c['name']} without image key")
        env_names = [e.get("name") for e in c.get("env", [])]
        if len(env_names) != len(set(env_names)):
            errors.append(f"{where}: duplicate env names in {c['name']}")
        for e in c.get("env", []):
            if not e.get("name") or not ENV_NAME.match(e["name"]):
                errors.append(f"{where}: bad env name {e!r}")
        paths = []
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                errors.append(f"{where}: mount of unknown volume {m['name']!r} in {c['name']}")
            paths.append(m["mountPath"])
        if len(paths) != len(set(paths)):
            errors.append(f"{where}: duplicate mount paths in {c['name']}")
    return errors


def check_object(obj: dict[str, Any]) -> list[str]:
    """Every problem found, as text; empty when the object has a valid shape."""
    errors: list[str] = []
    kind = obj.get("kind", "")
    meta = obj.get("metadata", {})
    name = meta.get("name", "")
    where = f"{kind}/{name}"
    if not obj.get("apiVersion") or not kind:
        errors.append(f"{where}: apiVersion/kind missing")
    if not name or len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        errors.append(f"{where}: invalid name")
    limit = LABEL_NAMED.get(kind)
    if limit is not None and (len(name) > limit or not DNS1123_LABEL.match(name)):
        errors.append(f"{where}: name must be a DNS-1123 label of at most {limit} characters")
    if not meta.get("namespace"):
        errors.append(f"{where}: namespace missing")
    errors += check_labels(meta.get("labels", {}), where)
    errors += check_annotations(meta.get("annotations", {}), where)
    for ref in meta.get("ownerReferences", []):
        if not ref.get("uid") or not ref.get("name") or not ref.get("kind"):
            errors.append(f"{where}: incomplete ownerReference {ref}")
    spec = obj.get("spec", {})
    if kind == "Service":
        if not DNS1035_LABEL.match(name):  # Service names are RFC 1035 labels: they start with a letter
            errors.append(f"{where}: Service name must be a DNS-1035 label")
        errors += check_labels(spec.get("selector", {}), f"{where} selector")
        for port in spec.get("ports", []):
            if len(port.get("name", "")) > 63 or not DNS1123_LABEL.match(port.get("name", "")):
                errors.append(f"{where}: invalid port name {port.get('name')!r}")
    if kind == "StatefulSet":
        template = spec["template"]
        errors += check_labels(template["metadata"].get("labels", {}), f"{where} pod")
        errors += check_annotations(template["metadata"].get("annotations", {}), f"{where} pod")
        selector = spec["selector"]["matchLabels"]
        if any(template["metadata"]["labels"].get(k) != v for k, v in selector.items()):
            errors.append(f"{where}: selector does not match the pod labels")
        if spec.get("serviceName") != name:
            errors.append(f"{where}: serviceName differs from the name")
        pod_spec = dict(template["spec"])
        claims = [c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])]
        pod_spec["volumes"] = pod_spec.get("volumes", []) + [{"name": c} for c in claims]
        errors += check_pod_spec(pod_spec, where)
        for c in spec.get("volumeClaimTemplates", []):
            errors += check_labels(c["metadata"].get("labels", {}), f"{where} claim")
            if c["spec"].get("storageClassName", None) == "":
                errors.append(f"{where}: empty storageClassName")
    if kind == "CronJob":
        job = spec["jobTemplate"]
        errors += check_labels(job["metadata"].get("labels", {}), f"{where} job")
        errors += check_annotations(job["metadata"].get("annotations", {}), f"{where} job")
        errors += check_pod_spec(job["spec"]["template"]["spec"], where)
    if kind == "Job":
        template = spec["template"]
        errors += check_labels(template.get("metadata", {}).get("labels", {}), f"{where} pod")
        errors += check_annotations(template.get("metadata", {}).get("annotations", {}), f"{where} pod")
        errors += check_pod_spec(template["spec"], where)
    if kind == "Secret":
        if not isinstance(obj.get("data"), dict):
            errors.append(f"{where}: data missing")
        else:
            errors += [f"{where}: invalid data key {k!r}" for k in obj["data"] if not DATA_KEY.match(k)]
    return errors
