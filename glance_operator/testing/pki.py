"""Certificates and kubeconfig for a local control plane (everything on 127.0.0.1)."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=365)
_LOCAL_NAMES = ("localhost",)
_LOCAL_IPS = ("127.0.0.1",)


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """Paths of everything the control plane components and clients need."""

    dir: Path
    ca: CertPair
    serving: CertPair  # kube-apiserver serving cert (SAN 127.0.0.1, localhost)
    admin: CertPair  # CN=admin, O=system:masters
    sa_key: Path  # service-account token signing key (private)
    sa_pub: Path


def _key() -> ec.EllipticCurvePrivateKey:
    # EC keys are generated instantly; RSA 2048 would cost ~0.1 s each.
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _issue(
    dir: Path,
    stem: str,
    subject: x509.Name,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    *,
    server: bool,
    client: bool,
) -> CertPair:
    key = _key()
    now = datetime.datetime.now(datetime.UTC)
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=True,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    if server:
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in _LOCAL_NAMES]
        sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in _LOCAL_IPS]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    pair = CertPair(dir / f"{stem}.crt", dir / f"{stem}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(pair.key, key)
    return pair


def generate_pki(dir: Path) -> Pki:
    """Create a fresh CA and the certificates signed by it in ``dir``."""
    dir.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    now = datetime.datetime.now(datetime.UTC)
    ca_name = _name("glance-operator-test-ca")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca = CertPair(dir / "ca.crt", dir / "ca.key")
    ca.cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(ca.key, ca_key)

    def issue(stem: str, subject: x509.Name, *, server: bool = False, client: bool = False) -> CertPair:
        return _issue(dir, stem, subject, ca_cert, ca_key, server=server, client=client)

    # The kube-apiserver wants an RSA or EC key for service-account tokens; RSA is the most portable.
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sa_priv, sa_pub = dir / "sa.key", dir / "sa.pub"
    _write_key(sa_priv, sa_key)
    sa_pub.write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return Pki(
        dir=dir,
        ca=ca,
        serving=issue("serving", _name("localhost"), server=True, client=True),
        admin=issue("admin", _name("admin", "system:masters"), client=True),
        sa_key=sa_priv,
        sa_pub=sa_pub,
    )


def write_kubeconfig(path: Path, server: str, pki: Pki, *, name: str = "glance-operator-test") -> Path:
    """A kubeconfig for the admin user, with file references (kubectl, kwok and lightkube read them)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority": str(pki.ca.cert)}}],
        "users": [
            {
                "name": "admin",
                "user": {
                    "client-certificate": str(pki.admin.cert),
                    "client-key": str(pki.admin.key),
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "admin"}}],
        "current-context": name,
        "preferences": {},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


def issue_server_cert(pki: Pki, dir: Path, stem: str = "tls") -> CertPair:
    """A serving certificate for 127.0.0.1/localhost signed by the harness CA (e.g. for webhooks)."""
    ca_cert = x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca.key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the harness CA key is expected to be an EC key")
    dir.mkdir(parents=True, exist_ok=True)
    return _issue(dir, stem, _name("127.0.0.1"), ca_cert, ca_key, server=True, client=False)
