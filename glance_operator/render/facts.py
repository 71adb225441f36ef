"""What the builders need to know about the cluster, read by the controllers and passed in as values.

Builders are pure: a CR plus these facts gives the complete desired state. Nothing here does I/O.
Secret values are kept out of `repr` so that facts can be logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .configfiles import ApplicationCredential, Notifications


@dataclass(frozen=True)
class Database:
    hostname: str  # `<galera service>.<ns>.svc` (spec 4.6)
    username: str  # MariaDBAccount spec.userName
    password: str = field(repr=False)  # `<account>-db-secret[DatabasePassword]`
    tls: bool = False  # the MariaDBDatabase reports TLS support

    def connection(self, database: str = "glance") -> str:
        return (
            f"mysql+pymysql://{self.username}:{self.password}@{self.hostname}/{database}?read_default_file=/etc/my.cnf"
        )


@dataclass(frozen=True)
class Keystone:
    internal_url: str
    public_url: str
    region: str = ""


@dataclass(frozen=True)
class Memcached:
    servers: tuple[str, ...] = ()  # status.serverList, `host:port` (the TLS port when the Memcached serves TLS)
    tls: bool = False
    mtls_secret: str | None = None  # client certificate Secret when the Memcached requires mTLS
    # status.serverListWithInet: `inet:[host]:11211`, or `inet6:[host]:11211` when the Memcached Service is
    # IPv6 (upstream's MemcachedServersWithInet; its `inet6:` prefix is how we learn the IP family, defect 31)
    servers_with_inet: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkAttachment:
    """A NetworkAttachmentDefinition we attach pods to (spec 4.8)."""

    name: str
    namespace: str
    gateway: str | None = None  # from the NAD's ipam config, becomes the default route


@dataclass(frozen=True)
class GlanceFacts:
    """Observed facts for a Glance's own children (spec §4)."""

    owner_uid: str = ""
    database: Database | None = None  # None until the database is ready
    transport_url_secret: str = ""  # TransportURL status.secretName
    network_attachments: tuple[NetworkAttachment, ...] = ()  # for the jobs


@dataclass(frozen=True)
class GlanceAPIFacts:
    """Observed facts for a GlanceAPI's children (spec §5)."""

    owner_uid: str = ""
    database: Database | None = None
    keystone: Keystone | None = None
    service_password: str = field(default="", repr=False)
    application_credential: ApplicationCredential | None = None
    memcached: Memcached = field(default_factory=Memcached)
    notifications: Notifications | None = None
    # customServiceConfigSecrets, in spec order: name -> {key: value}
    config_secrets: tuple[tuple[str, dict[str, str]], ...] = field(default=(), repr=False)
    endpoint_id: str = ""  # KeystoneEndpoint status.endpointIDs for this API's main endpoint
    horizon_endpoint: str = ""  # exactly one Horizon with status.endpoint (CORS for direct uploads)
    cinder_present: bool = False
    network_attachments: tuple[NetworkAttachment, ...] = ()
    # hashes of inputs that restart pods when they change (CA bundle, endpoint certs), spec 5.2
    input_hashes: tuple[tuple[str, str], ...] = ()
    # Topology CR spec (topologySpreadConstraints / affinity) when topologyRef is set (spec 5.6)
    topology: dict[str, object] | None = None
