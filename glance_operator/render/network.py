"""The Multus pod annotation ``k8s.v1.cni.cncf.io/networks`` (spec 4.8, 5.7), pure.

Upstream (lib-common ``networkattachment.CreateNetworksAnnotation``) marshals a list of Multus
``NetworkSelectionElement`` structs with Go ``encoding/json``: ``name``, then ``namespace``, ``interface`` and
``default-route`` (all ``omitempty``), in that declared order, compact. The annotation is always present on
GlanceAPI pods, ``[]`` without NADs; its exact bytes matter because it is part of the pod template (a
different string restarts every pod on takeover, must-get-right 19).
"""

from __future__ import annotations

from collections.abc import Sequence

from glance_operator.render.facts import NetworkAttachment
from glance_operator.render.hashing import go_json, go_struct, omitempty
from glance_operator.render.names import NETWORKS_ANNOTATION

__all__ = ["networks_annotation", "networks_annotation_value"]

IFNAMSIZ = 15  # Linux interface names are at most 15 characters


def networks_annotation_value(nads: Sequence[NetworkAttachment]) -> str:
    """JSON list of ``{name, namespace, interface, default-route}``; ``[]`` when there are none."""
    elements = [
        go_struct(
            name=nad.name,
            namespace=omitempty(nad.namespace),
            interface=omitempty(nad.name[:IFNAMSIZ]),
            **{"default-route": omitempty([nad.gateway] if nad.gateway else None)},
        )
        for nad in nads
    ]
    return go_json(elements).decode("utf-8")


def networks_annotation(nads: Sequence[NetworkAttachment]) -> dict[str, str]:
    """The pod annotation map (always one key)."""
    return {NETWORKS_ANNOTATION: networks_annotation_value(nads)}
