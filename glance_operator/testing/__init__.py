"""A real local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler,
kwok) for integration tests and the demo. See cluster.py."""

from glance_operator.testing.cluster import ControlPlane, control_plane
from glance_operator.testing.kubeapi import ApiError, KubeApi

__all__ = ["ApiError", "ControlPlane", "KubeApi", "control_plane"]
