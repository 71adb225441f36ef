"""The HTTPS server: answers over TLS, survives garbage, reloads rotated certificates."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
import pytest

from glance_operator.api.defaults import Defaults
from glance_operator.testing.pki import Pki, generate_pki, issue_server_cert
from glance_operator.webhooks.server import WebhookServer

PATH = "/validate-glance-openstack-org-v1beta1-glance"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return generate_pki(tmp_path_factory.mktemp("pki"))


def _review() -> dict[str, object]:
    obj = {"apiVersion": "glance.openstack.org/v1beta1", "kind": "Glance", "metadata": {"name": "g"}, "spec": {}}
    request = {"uid": "u", "operation": "CREATE", "kind": {"group": "glance.openstack.org", "kind": "Glance"}}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {**request, "object": obj}}


def _serial(cert: Path) -> int:
    from cryptography import x509

    return x509.load_pem_x509_certificate(cert.read_bytes()).serial_number


async def _peer_serial(port: int, ca: Path) -> int:
    from cryptography import x509

    ctx = ssl.create_default_context(cafile=str(ca))
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    return x509.load_der_x509_certificate(der).serial_number


def test_serves_reviews_survives_garbage_and_reloads_certs(pki: Pki, tmp_path: Path) -> None:
    cert_dir = tmp_path / "certs"
    issue_server_cert(pki, cert_dir)

    async def scenario() -> None:
        server = WebhookServer(cert_dir, 0, "127.0.0.1", Defaults())
        port = await server.start()
        assert server.serving
        url = f"https://127.0.0.1:{port}"
        ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
        async with httpx.AsyncClient(verify=ctx, base_url=url) as client:
            ok = await client.post(PATH, json=_review(), params={"timeout": "10s"})
            assert ok.status_code == 200 and ok.json()["response"]["uid"] == "u"
            assert (await client.post(PATH, content=b"\x00garbage")).status_code == 400
            assert (await client.get(PATH)).status_code == 405
            assert (await client.post("/other", json=_review())).status_code == 404
        # only answered reviews are counted, per webhook; garbage, wrong methods and paths are not
        assert server.reviews == {"vglance-v1beta1.kb.io": 1} and server.requests == 4
        async with httpx.AsyncClient(verify=ctx, base_url=url) as client:
            bad = _review()
            bad["request"]["object"]["spec"] = {"glanceAPIs": {"Bad_Key": {}}}  # type: ignore[index]
            denied = await client.post(PATH, json=bad)
            assert denied.json()["response"]["allowed"] is False
            mutated = await client.post(PATH.replace("validate", "mutate"), json=bad)
            assert mutated.json()["response"]["allowed"] is True
        assert server.reviews == {"vglance-v1beta1.kb.io": 2, "mglance-v1beta1.kb.io": 1}
        assert server.denials == {"vglance-v1beta1.kb.io": 1}
        # raw garbage on the TLS socket and a plain-text client: the server shrugs and keeps going
        r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
        w.write(b"NONSENSE\r\n\r\n")
        assert (await r.read()).startswith(b"HTTP/1.1 400")
        w.close()
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"POST / HTTP/1.1\r\n\r\n")
        await r.read()
        w.close()
        # rotation: new files on disk are used by the next handshake
        assert await _peer_serial(port, pki.ca.cert) == _serial(cert_dir / "tls.crt")
        issue_server_cert(pki, cert_dir)
        assert await _peer_serial(port, pki.ca.cert) == _serial(cert_dir / "tls.crt")
        assert server.certs is not None and server.certs.reloads == 1
        # a half-written rotation keeps the previous pair in use
        (cert_dir / "tls.key").write_text("broken")
        async with httpx.AsyncClient(verify=ctx, base_url=url) as client:
            assert (await client.post(PATH, json=_review())).status_code == 200
        await server.stop()
        assert not server.serving

    asyncio.run(scenario())


def test_missing_certificates_fail_at_start(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        asyncio.run(WebhookServer(tmp_path, 0, "127.0.0.1", Defaults()).start())


@pytest.mark.parametrize(("host", "bound"), [("127.0.0.1", {"127.0.0.1"}), ("", {"0.0.0.0", "::"})])
def test_listens_on_the_given_host_or_all_interfaces(pki: Pki, tmp_path: Path, host: str, bound: set[str]) -> None:
    issue_server_cert(pki, tmp_path)

    async def scenario() -> set[str]:
        server = WebhookServer(tmp_path, 0, host, Defaults())
        await server.start()
        assert server._server is not None
        addresses = {str(sock.getsockname()[0]) for sock in server._server.sockets}
        await server.stop()
        return addresses

    addresses = asyncio.run(scenario())
    assert addresses and addresses <= bound
