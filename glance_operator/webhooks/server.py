"""The HTTPS admission server: AdmissionReview v1 over HTTP/1.1 on asyncio streams, no web framework.

Plain asyncio + ssl is enough for four POST endpoints called by one client (the apiserver), keeps
the operator free of another dependency and lets us control every failure: a malformed request is
answered (400, or a denying AdmissionReview), never allowed to take the server down. The admission
logic itself runs in a worker thread so a large object cannot stall the controllers' event loop.

Certificates are read from `<cert dir>/tls.crt` and `tls.key` and reloaded when the files change
(cert-manager rotates them in place): every TLS handshake checks the files' stat and, when they
changed and load cleanly, switches the connection to a freshly loaded context.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import ssl
from collections import Counter
from pathlib import Path
from typing import Any

from ..api.defaults import Defaults
from . import review

log = logging.getLogger(__name__)

DEFAULT_CERT_DIR = "/tmp/k8s-webhook-server/serving-certs"
DEFAULT_PORT = 9443
MAX_BODY = 8 * 1024 * 1024  # etcd's request limit is 1.5 MiB; anything far larger is not a review
MAX_HEADERS = 100
IDLE_TIMEOUT = 90.0  # Go's http.Transport keeps idle connections for 90 s
READ_TIMEOUT = 15.0  # the apiserver gives up after timeoutSeconds (10 s) anyway
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large"}


class HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class CertReloader:
    """The current server context for a cert dir, reloaded when tls.crt/tls.key change on disk."""

    def __init__(self, cert_dir: Path) -> None:
        self.cert = cert_dir / "tls.crt"
        self.key = cert_dir / "tls.key"
        self._stamp = self._files_stamp()
        self.current = self._load()  # raises when missing or broken: fail at start, as upstream
        self.reloads = 0

    def _files_stamp(self) -> tuple[tuple[int, int, int], ...]:
        out = []
        for f in (self.cert, self.key):
            st = os.stat(f)
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        return tuple(out)

    def _load(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_alpn_protocols(["http/1.1"])  # we speak HTTP/1.1 only; keeps Go's client off h2
        ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx

    def refresh(self) -> ssl.SSLContext:
        try:
            stamp = self._files_stamp()
            if stamp != self._stamp:
                self.current = self._load()
                self._stamp = stamp
                self.reloads += 1
                log.info("reloaded webhook serving certificate", extra={"cert": str(self.cert)})
        except (OSError, ssl.SSLError, ValueError) as exc:
            # half-written files during a rotation: keep serving the previous pair, retry next handshake
            log.warning("cannot reload webhook certificate, keeping the previous one", extra={"error": str(exc)})
        return self.current

    def listening_context(self) -> ssl.SSLContext:
        ctx = self._load()

        def pick(sslobj: Any, _server_name: str | None, _ctx: ssl.SSLContext) -> None:
            # called for every ClientHello, with or without SNI
            sslobj.context = self.refresh()

        ctx.sni_callback = pick
        return ctx


class WebhookServer:
    def __init__(
        self,
        cert_dir: str | Path = DEFAULT_CERT_DIR,
        port: int = DEFAULT_PORT,
        host: str = "",
        defaults: Defaults | None = None,
    ) -> None:
        self.cert_dir = Path(cert_dir)
        self.port = port
        self.host = host or None  # None: all interfaces, as controller-runtime
        self.defaults = defaults or Defaults.from_env()
        self.certs: CertReloader | None = None
        self.requests = 0  # every HTTP request, whatever became of it
        # AdmissionReviews answered, per webhook name (e.g. "vglance-v1beta1.kb.io"): all, and the denied ones
        self.reviews: Counter[str] = Counter()
        self.denials: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    @property
    def serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def start(self) -> int:
        self.certs = CertReloader(self.cert_dir)
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, ssl=self.certs.listening_context(), ssl_handshake_timeout=10
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("serving admission webhooks", extra={"port": self.port, "cert_dir": str(self.cert_dir)})
        return self.port

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            keep_alive = True
            while keep_alive:
                keep_alive = await self._exchange(reader, writer)
        except (TimeoutError, ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception:  # never let one connection's surprise reach the loop's exception handler
            log.exception("webhook connection failed")
        finally:
            if task is not None:
                self._connections.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; False when the connection is to be closed."""
        try:
            line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
            if not line:
                return False
            method, target, headers = await asyncio.wait_for(_head(line, reader), READ_TIMEOUT)
            body = await asyncio.wait_for(_body(headers, reader), READ_TIMEOUT)
        except HTTPError as exc:
            await _write(writer, exc.status, {"error": str(exc)}, close=True)
            return False
        except (ValueError, UnicodeDecodeError, asyncio.LimitOverrunError) as exc:
            await _write(writer, 400, {"error": f"malformed request: {exc}"}, close=True)
            return False
        close = headers.get("connection", "").lower() == "close"
        status, answer = await self._answer(method, target.split("?", 1)[0], body)
        await _write(writer, status, answer, close=close)
        return not close

    async def _answer(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        self.requests += 1
        hook = review.BY_PATH.get(path)
        if hook is None:
            return 404, {"error": f"no webhook at {path}"}
        if method != "POST":
            return 405, {"error": "only POST is supported"}
        try:
            answer = await asyncio.to_thread(review.respond, hook, body, self.defaults)
            self.reviews[hook.name] += 1
            if not answer["response"].get("allowed"):
                self.denials[hook.name] += 1
            return 200, answer
        except review.BadReview as exc:
            return 400, {"error": str(exc)}
        except Exception as exc:
            log.exception("admission failed", extra={"path": path})
            return _internal_error(body, exc)


async def _head(first: bytes, reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    parts = first.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HTTPError(400, "malformed request line")
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n"):
            return parts[0], parts[1], headers
        if not raw:
            raise asyncio.IncompleteReadError(b"", None)
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise HTTPError(400, "malformed header line")
        headers[name.strip().lower()] = value.strip()
    raise HTTPError(400, "too many headers")


async def _body(headers: dict[str, str], reader: asyncio.StreamReader) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        size = 0
        while True:
            length = int((await reader.readline()).split(b";")[0].strip() or b"x", 16)
            if length == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            size += length
            if size > MAX_BODY:
                raise HTTPError(413, "request body too large")
            chunks.append(await reader.readexactly(length))
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0"))
    if length < 0:
        raise HTTPError(400, "negative Content-Length")
    if length > MAX_BODY:
        raise HTTPError(413, "request body too large")
    return await reader.readexactly(length)


def _internal_error(body: bytes, exc: Exception) -> tuple[int, Any]:
    # Deny rather than fail the HTTP call when we know which review to answer: the message reaches the user.
    try:
        uid = json.loads(body)["request"]["uid"]
    except Exception:
        return 500, {"error": f"internal error: {type(exc).__name__}"}
    status = {"metadata": {}, "status": "Failure", "code": 500, "reason": "InternalError"}
    status["message"] = f"glance-operator webhook internal error: {type(exc).__name__}: {exc}"
    response = {"uid": str(uid), "allowed": False, "status": status}
    return 200, {"apiVersion": review.REVIEW_API_VERSION, "kind": "AdmissionReview", "response": response}


async def _write(writer: asyncio.StreamWriter, status: int, payload: Any, *, close: bool) -> None:
    data = json.dumps(payload, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    writer.write(head.encode() + data)
    await writer.drain()
