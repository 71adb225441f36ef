"""glance-operator: a Kubernetes operator for OpenStack Glance."""

__version__ = "0.1.0"
