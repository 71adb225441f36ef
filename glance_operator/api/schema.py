"""OpenAPI v3 (structural) schemas and CRDs generated from the pydantic models."""

from __future__ import annotations

import copy
import json
import types
import typing
from functools import cache
from importlib import resources
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from .fields import FieldMeta, field_meta
from .v1beta1 import GROUP, VERSION, Glance, GlanceAPI

Schema = dict[str, Any]


@cache
def k8s_schemas() -> dict[str, Schema]:
    """Embedded Kubernetes types, extracted from the Kubernetes OpenAPI by hack/gen_k8s_schemas.py."""
    text = resources.files("glance_operator.api").joinpath("data/k8s-schemas.json").read_text()
    data: dict[str, Schema] = json.loads(text)
    return data


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if all(get_origin(a) is Literal for a in args) and len(args) > 1:
            values = [v for a in args for v in get_args(a)]
            return Literal[tuple(values)]
        if len(args) == 1:
            return args[0]
    return tp


def type_schema(tp: Any, meta: FieldMeta | None = None) -> Schema:
    """Schema of a Python type annotation (as the field's value, without field-level facts)."""
    tp = _unwrap_optional(tp)
    if meta is not None and meta.k8s_type:
        item = copy.deepcopy(k8s_schemas()[meta.k8s_type])
        if get_origin(tp) is list:
            return {"type": "array", "items": item}
        return item
    origin = get_origin(tp)
    if origin is Literal:
        values = list(get_args(tp))
        return {"type": "string", "enum": values}
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if origin is list:
        (item,) = get_args(tp)
        return {"type": "array", "items": type_schema(item)}
    if origin is dict:
        _, value = get_args(tp)
        return {"type": "object", "additionalProperties": type_schema(value)}
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return model_schema(tp)
    raise TypeError(f"no schema for {tp!r}")


def model_schema(model: type[BaseModel]) -> Schema:
    hints = typing.get_type_hints(model)
    properties: dict[str, Schema] = {}
    required: list[str] = []
    for name, info in model.model_fields.items():
        meta = field_meta(info)
        json_name = info.alias or name
        prop = type_schema(hints[name], meta)
        if info.description:
            prop["description"] = info.description
        if meta.has_crd_default:
            prop["default"] = meta.crd_default
        if meta.fmt:
            prop["format"] = meta.fmt
        if meta.minimum is not None:
            prop["minimum"] = meta.minimum
        if meta.maximum is not None:
            prop["maximum"] = meta.maximum
        if meta.min_length is not None:
            prop["minLength"] = meta.min_length
        if meta.pattern is not None:
            prop["pattern"] = meta.pattern
        extensions = dict(meta.extensions)
        item_format = extensions.pop("items-format", None)
        if item_format:
            prop["additionalProperties"]["format"] = item_format
        prop.update(extensions)
        properties[json_name] = prop
        if meta.required:
            required.append(json_name)
    schema: Schema = {"type": "object", "properties": dict(sorted(properties.items()))}
    if required:
        schema["required"] = sorted(required)
    return schema


def root_schema(model: type[Glance] | type[GlanceAPI], description: str) -> Schema:
    hints = typing.get_type_hints(model)
    spec_model = hints["spec"]
    status_model = _unwrap_optional(hints["status"])
    spec = model_schema(spec_model)
    spec["description"] = f"{model.__name__}Spec defines the desired state of {model.__name__}"
    status = model_schema(status_model)
    status["description"] = f"{model.__name__}Status defines the observed state of {model.__name__}"
    return {
        "description": description,
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object.",
                "type": "string",
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents.",
                "type": "string",
            },
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }


_READY_COLUMNS = [
    {
        "description": "Status",
        "jsonPath": ".status.conditions[0].status",
        "name": "Status",
        "type": "string",
    },
    {
        "description": "Message",
        "jsonPath": ".status.conditions[0].message",
        "name": "Message",
        "type": "string",
    },
    {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"},
]


def crd(kind: Literal["Glance", "GlanceAPI"]) -> dict[str, Any]:
    """The CustomResourceDefinition for one kind, as written to config/crd/bases."""
    if kind == "Glance":
        model: type[Glance] | type[GlanceAPI] = Glance
        plural, description = "glances", "Glance is the Schema for the glances API"
        # Ready status first (conditions are sorted with Ready first), then what users ask next.
        columns = [
            _READY_COLUMNS[0],
            _READY_COLUMNS[1],
            {
                "description": "Keystone-registered API",
                "jsonPath": ".spec.keystoneEndpoint",
                "name": "Endpoint",
                "priority": 1,
                "type": "string",
            },
            _READY_COLUMNS[2],
        ]
    else:
        model = GlanceAPI
        plural, description = "glanceapis", "GlanceAPI is the Schema for the glanceapis API"
        columns = [
            {
                "description": "NetworkAttachments",
                "jsonPath": ".status.networkAttachments",
                "name": "NetworkAttachments",
                "type": "string",
            },
            _READY_COLUMNS[0],
            _READY_COLUMNS[1],
            {
                "description": "Ready replicas",
                "jsonPath": ".status.readyCount",
                "name": "Ready Pods",
                "priority": 1,
                "type": "integer",
            },
            {
                "description": "API type",
                "jsonPath": ".spec.apiType",
                "name": "Type",
                "priority": 1,
                "type": "string",
            },
            _READY_COLUMNS[2],
        ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "annotations": {"glance.openstack.org/generated-by": "glance-operator crds"},
            "name": f"{plural}.{GROUP}",
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "additionalPrinterColumns": columns,
                    "name": VERSION,
                    "schema": {"openAPIV3Schema": root_schema(model, description)},
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                }
            ],
        },
    }


CRD_FILES = {
    "Glance": "glance.openstack.org_glances.yaml",
    "GlanceAPI": "glance.openstack.org_glanceapis.yaml",
}


@cache  # constant per kind; read-only for every caller (defaulting copies the object, not the schema)
def crd_schema(kind: Literal["Glance", "GlanceAPI"]) -> Schema:
    schema: Schema = crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema
