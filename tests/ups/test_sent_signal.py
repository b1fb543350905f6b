"""A waiting thread learns that a request has left before its answer comes (ups.sent_signal).

The server here is a real socket that reads one request and answers only
when the test releases it, over plain HTTP, over HTTPS and as an HTTP proxy,
through the session of the UPS transport itself.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from ups.config import UpsConfig
from ups.sent_signal import signal_when_sent
from ups.transport import Transport

WAIT_SECONDS = 10
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n"
    b"Connection: close\r\n\r\n"
    b'{"ok": "yes"}'
)


class HeldAnswerServer:
    """Reads one whole request, says so (``received``), answers once ``release`` is set."""

    def __init__(self, tls: ssl.SSLContext | None = None, answer: bytes = ANSWER) -> None:
        self.tls = tls
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.listener.getsockname()[1]}"
        self.received = threading.Event()
        self.release = threading.Event()
        self.request_line = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        if self.tls is not None:
            connection = self.tls.wrap_socket(connection, server_side=True)
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
            while length and len(body) < int(length.group(1)):
                body += connection.recv(65536)
            self.request_line = head.split(b"\r\n", 1)[0]
            self.received.set()
            self.release.wait(WAIT_SECONDS)
            connection.sendall(self.answer)

    def close(self) -> None:
        self.release.set()
        self.thread.join(WAIT_SECONDS)
        self.listener.close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    transport = Transport(UpsConfig.from_settings())
    yield transport.session
    transport.close()


@pytest.fixture
def authority(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1, and the file of the CA that signed it."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def post_held(
    session: requests.Session, server: HeldAnswerServer, url: str, **options: Any
) -> None:
    """Post to ``url`` in a thread; the signal must come while the server holds its answer."""
    sent = threading.Event()

    def call() -> requests.Response:
        with signal_when_sent(sent):
            return session.post(url, json={"reference": "ROW-1"}, timeout=WAIT_SECONDS, **options)

    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(call)
        try:
            assert sent.wait(timeout=WAIT_SECONDS)  # before the server answered...
            assert server.received.wait(timeout=WAIT_SECONDS)  # ...all of it had arrived
            assert not answer.done()
        finally:
            server.close()
        assert answer.result(timeout=WAIT_SECONDS).json() == {"ok": "yes"}


def test_the_signal_comes_once_the_request_left_over_http(session: requests.Session) -> None:
    server = HeldAnswerServer()
    post_held(session, server, f"{server.url}/ship")
    assert server.request_line == b"POST /ship HTTP/1.1"


def test_the_signal_comes_once_the_request_left_over_https(
    session: requests.Session, authority: tuple[ssl.SSLContext, Path]
) -> None:
    context, ca_file = authority
    server = HeldAnswerServer(tls=context)
    post_held(session, server, f"{server.url}/ship", verify=str(ca_file))
    assert server.request_line == b"POST /ship HTTP/1.1"


def test_the_signal_comes_once_the_request_left_through_a_proxy(
    session: requests.Session,
) -> None:
    proxy = HeldAnswerServer()
    post_held(session, proxy, "http://ups.invalid/ship", proxies={"http": proxy.url})
    assert proxy.request_line == b"POST http://ups.invalid/ship HTTP/1.1"


def test_a_request_that_cannot_be_written_does_not_keep_anyone_waiting(
    session: requests.Session,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]  # nothing listens there once this block ends
    sent = threading.Event()
    with signal_when_sent(sent):
        with pytest.raises(requests.ConnectionError):
            session.post(f"http://127.0.0.1:{port}/ship", json={}, timeout=WAIT_SECONDS)
        assert sent.is_set()  # the attempt failed: nothing is left to wait for


def test_leaving_the_block_signals_even_without_a_request() -> None:
    sent = threading.Event()
    with signal_when_sent(sent):
        assert not sent.is_set()
    assert sent.is_set()
