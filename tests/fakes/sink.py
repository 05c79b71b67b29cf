"""A loopback HTTP sink: the alert target of the tests (Apprise ``json://`` and ``form://``).

A ``ThreadingHTTPServer`` on 127.0.0.1 and a free port that records every
request (method, path, headers, body) and answers like a webhook: 200 to a
POST, 405 to anything else, or the status a test sets (``status = 500``) to
play a service that refuses. Apprise's ``json://`` POSTs
``{"version", "title", "message", "attachments", "type"}`` and ``form://`` the same
fields urlencoded (apprise/plugins/custom_json.py and custom_form.py;
https://appriseit.com/services/json/).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.server import SHUTDOWN_POLL


@dataclass(frozen=True)
class Received:
    """One request the sink received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def fields(self) -> Any:
        """The body decoded: JSON (``json://``) or a urlencoded form (``form://``)."""
        kind = self.headers.get("Content-Type", "")
        if kind.startswith("application/x-www-form-urlencoded"):
            return dict(parse_qsl(self.body.decode(), keep_blank_values=True, strict_parsing=True))
        if kind.startswith("application/json"):
            return json.loads(self.body)
        raise AssertionError(f"the sink cannot read a {kind or 'untyped'} body")


class Sink:
    """Records every request; ``url()`` gives the Apprise URL pointing at it."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        """The port the sink listens on (only while serving)."""
        assert self._server is not None, "the sink is not serving"
        return int(self._server.server_address[1])

    def url(self, scheme: str = "json", path: str = "/hook", userinfo: str | None = None) -> str:
        """An Apprise URL for this sink: ``json://[userinfo@]127.0.0.1:PORT/path``."""
        auth = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}{path}"

    def messages(self) -> list[dict[str, Any]]:
        """The bodies received, decoded, in order."""
        with self._lock:
            return [r.fields() for r in self.received]

    def _record(self, received: Received) -> int:
        with self._lock:
            self.received.append(received)
            return self.status

    @contextmanager
    def serving(self) -> Iterator[Sink]:
        """Listen on 127.0.0.1 for the duration of the block."""
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                status = sink._record(
                    Received(self.command, self.path, dict(self.headers.items()), body)
                )
                if self.command != "POST":
                    status = 405  # a webhook takes POSTs only
                data = b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = do_PUT = _serve

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True
        )
        thread.start()
        self._server = server
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            self._server = None


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
