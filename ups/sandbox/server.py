"""The sandbox's HTTP server: UPS's paths and the control API, one thread per connection."""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterable
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ups.sandbox import exchange
from ups.sandbox.control import CONTROL_PREFIX, handle_control
from ups.sandbox.exchange import Reply, SandboxRequest, ups_error
from ups.sandbox.faults import Fault
from ups.sandbox.oauth import bearer_token
from ups.sandbox.routes import Route, find_route, handle
from ups.sandbox.state import DEFAULT_TOKEN_TTL, SandboxState

logger = logging.getLogger("ups.sandbox")
PROXY_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>"
)


def _strip_results(body: bytes) -> bytes:
    """Keep only the ``Response`` status block of an answer: every result field is gone."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict) and len(data) == 1:
        ((key, value),) = data.items()
        inner = (
            {k: v for k, v in value.items() if k == "Response"} if isinstance(value, dict) else {}
        )
        return json.dumps({key: inner}).encode()
    return b"{}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        super().__init__(address, SandboxHandler)
        self.state = state
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        """Close every kept-alive connection, so that a stopped sandbox answers nothing."""
        with self.connections_lock:
            for connection in self.open_connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class SandboxHandler(BaseHTTPRequestHandler):
    """Reads one request, applies the drawn faults, answers (or not)."""

    protocol_version = "HTTP/1.1"
    server_version = "UPS-Sandbox/1.0"
    # Answers go out in one write (``_framed``), but a large one spans several
    # segments; with Nagle's algorithm the last could wait for the client's
    # delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection is closed after a minute
    server: _Server

    received = 0.0  # when the request line arrived, time.monotonic()

    def parse_request(self) -> bool:
        """Note when the request arrived: UPS's latency counts from there, parsing included."""
        self.received = time.monotonic()
        return super().parse_request()

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve()

    do_POST = do_DELETE = do_PUT = do_GET

    def setup(self) -> None:
        """Register the connection so that stopping the server can close it."""
        super().setup()
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        """Forget the connection."""
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Log requests at debug level instead of printing them."""
        logger.debug("%s " + format, self.address_string(), *args)

    def _read_request(self) -> SandboxRequest:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        return SandboxRequest(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )

    def _serve(self) -> None:
        state = self.server.state
        request = self._read_request()
        if request.path == CONTROL_PREFIX or request.path.startswith(f"{CONTROL_PREFIX}/"):
            self._send(handle_control(state, request))
            return
        found = find_route(request.method, request.path)
        if found is None:
            self._send(ups_error(404, exchange.NO_SUCH_PATH))
            return
        route, params = found
        state.log.record(route.endpoint, request)
        plan = state.faults.draw(route.endpoint)
        fault = plan.fault
        if fault is not None and not fault.acts_after_work:
            reply = self._fault_instead(state, fault, request)
        else:
            reply = self._work(state, route, request, params)
            if fault is not None:
                reply = self._fault_after(state, fault, reply)
        # UPS's latency includes its own work: the answer leaves ``latency``
        # after the request came in, however long checking and rendering took,
        # all of it at once (framed beforehand).
        answer = None if reply is None else self._framed(reply)
        state.wait(self.received + plan.latency - time.monotonic())
        self._write(answer)

    def _work(
        self, state: SandboxState, route: Route, request: SandboxRequest, params: dict[str, str]
    ) -> Reply:
        try:
            return handle(state, route, request, params)
        except Exception:
            logger.exception("The sandbox failed on %s %s.", request.method, request.path)
            return ups_error(500, exchange.SERVER_ERROR)

    def _fault_instead(
        self, state: SandboxState, fault: Fault, request: SandboxRequest
    ) -> Reply | None:
        """Answer with the fault instead of doing the work (None: no answer at all)."""
        if fault.kind == "http_429":
            wait = fault.retry_after if fault.retry_after is not None else 1
            return ups_error(429, exchange.TOO_MANY_REQUESTS, headers=(("Retry-After", str(wait)),))
        if fault.kind == "http_503":
            headers = (
                (("Retry-After", str(fault.retry_after)),) if fault.retry_after is not None else ()
            )
            return ups_error(503, exchange.UNAVAILABLE, headers=headers)
        if fault.kind == "http_500":
            return ups_error(500, exchange.SERVER_ERROR)
        if fault.kind == "expired_token":
            state.tokens.revoke(bearer_token(request))
            return ups_error(401, exchange.INVALID_TOKEN)
        if fault.kind == "timeout":
            state.wait(fault.hold_seconds)
        return None  # drop_connection, timeout

    def _fault_after(self, state: SandboxState, fault: Fault, reply: Reply) -> Reply | None:
        """Spoil the answer of work already done (None: no answer at all)."""
        if fault.kind == "timeout_after_ship":
            state.wait(fault.hold_seconds)
            return None
        if fault.kind == "malformed":
            if fault.variant == "html":
                return Reply(fault.status, PROXY_ERROR_PAGE, "text/html")
            if fault.variant == "truncated":
                return Reply(fault.status, reply.body[: len(reply.body) // 2])
            return Reply(fault.status, _strip_results(reply.body))
        return None  # drop_connection after the work

    def _send(self, reply: Reply | None) -> None:
        self._write(None if reply is None else self._framed(reply))

    def _framed(self, reply: Reply) -> bytes:
        """Return ``reply`` as the bytes of one HTTP answer, status line to body."""
        phrase = self.responses.get(reply.status, ("",))[0]
        head = [
            f"{self.protocol_version} {reply.status} {phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {reply.content_type}",
            f"Content-Length: {len(reply.body)}",
            *(f"{name}: {value}" for name, value in reply.headers),
        ]
        self.log_request(reply.status, len(reply.body))
        return "\r\n".join([*head, "", ""]).encode("latin-1") + reply.body

    def _write(self, answer: bytes | None) -> None:
        """Send a framed answer in one write (None: drop the connection instead)."""
        if answer is None:
            self._drop()
            return
        with suppress(ConnectionError):  # the client gave up waiting: nobody to answer
            self.wfile.write(answer)

    def _drop(self) -> None:
        """Close the connection without an answer: a reset, as a crashed peer would."""
        self.close_connection = True
        with suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


class SandboxServer:
    """A sandbox on ``host:port`` (port 0 picks a free one), served from a thread or not."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credentials: tuple[str, str] | None = None,
        token_ttl: int = DEFAULT_TOKEN_TTL,
        faults: Iterable[Fault] = (),
    ) -> None:
        self.state = SandboxState(
            credentials=credentials, token_ttl=token_ttl, initial_faults=tuple(faults)
        )
        self._server = _Server((host, port), self.state)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL, e.g. ``http://127.0.0.1:8765``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        """Serve from a background thread and return at once."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever(poll_interval=0.5)

    def stop(self) -> None:
        """Stop serving, release held answers and close the listening socket."""
        self.state.release_waiters()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._server.close_connections()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
