"""Serve a fake platform over real loopback HTTP, for end-to-end runs of the CLI.

One ``ThreadingHTTPServer`` per fake on 127.0.0.1 and a free port; requests are
turned into ``httpx.Request`` objects and answered by the same fake object the
in-process tests use. A dropped-connection fault really closes the socket. A fake
with a ``gate`` (``Tripwire``) has each request counted, and may have the client
killed before the fake acts or before its answer is sent (crash tests).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.fakes.base import Dropped, FakePlatform

#: Seconds between the server loop's checks for shutdown (the standard library's is 0.5).
SHUTDOWN_POLL = 0.02


def _handler_for(fake: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                body = self._read_chunked()
            else:
                body = self.rfile.read(length) if length else b""
            host = self.headers.get("host", "127.0.0.1")
            request = httpx.Request(
                self.command,
                f"http://{host}{self.path}",
                headers=[(k, v) for k, v in self.headers.items()],
                content=body,
            )
            verdict = fake.gate.before(request) if fake.gate is not None else "serve"
            if verdict == "drop":  # the client was killed before the platform acted
                self._hang_up()
                return
            try:
                response = fake(request)
            except Dropped:
                self.close_connection = True
                self.connection.close()
                return
            if verdict == "serve-then-kill" and fake.gate is not None:
                fake.gate.kill()  # the platform acted; the client dies before it hears
                self._hang_up()
                return
            data = response.read()
            try:
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout test)

        def handle(self) -> None:
            try:
                super().handle()
            except (ConnectionResetError, BrokenPipeError):  # the client died (crash tests)
                self.close_connection = True

        def _hang_up(self) -> None:
            self.close_connection = True
            self.connection.close()

        def _read_chunked(self) -> bytes:
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    return Handler


@contextmanager
def serve(fake: FakePlatform) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1; yields its origin (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    server.daemon_threads = True
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    fake.base_url = origin
    # A short poll: shutdown() waits up to one poll, and a crash sweep starts and stops
    # hundreds of servers.
    thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL,), daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()
