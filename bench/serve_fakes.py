"""Serve the YouTube, TikTok and X fakes (plus a discarding sink for curl) on loopback.

Started by bench/uploads.py in its own process, so that the crosspost process
measured there holds only crosspost. Prints one JSON line of origins, then
serves until its standard input closes.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.server import serve  # noqa: E402
from tests.fakes.tiktok import FakeTikTok  # noqa: E402
from tests.fakes.twitter import FakeTwitter  # noqa: E402
from tests.fakes.youtube import FakeYouTube  # noqa: E402


class _SinkHandler(BaseHTTPRequestHandler):
    """Reads a PUT body in 1 MiB blocks and discards it: the fastest a server can take bytes."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_PUT(self) -> None:
        left = int(self.headers.get("content-length") or 0)
        while left > 0:
            block = self.rfile.read(min(left, 1 << 20))
            if not block:
                break
            left -= len(block)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def sink() -> Iterator[str]:
    """A discarding server on 127.0.0.1, in this process; yields its origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SinkHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def main() -> None:
    """Serve until stdin closes."""
    fakes = {
        "youtube": FakeYouTube(insert_quota=10_000),
        "tiktok": FakeTikTok(daily_cap=10_000),
        "twitter": FakeTwitter(max_video_bytes=None),
    }
    with ExitStack() as stack:
        origins = {name: stack.enter_context(serve(fake)) for name, fake in fakes.items()}
        origins["sink"] = stack.enter_context(sink())
        secrets = {
            "CROSSPOST_YOUTUBE_CLIENT_ID": fakes["youtube"].client_id,  # type: ignore[attr-defined]
            "CROSSPOST_YOUTUBE_CLIENT_SECRET": fakes["youtube"].client_secret,  # type: ignore[attr-defined]
            "CROSSPOST_YOUTUBE_REFRESH_TOKEN": fakes["youtube"].refresh_token,  # type: ignore[attr-defined]
            "CROSSPOST_TIKTOK_ACCESS_TOKEN": next(iter(fakes["tiktok"].tokens)),  # type: ignore[attr-defined]
            "CROSSPOST_TWITTER_ACCESS_TOKEN": fakes["twitter"].token,  # type: ignore[attr-defined]
        }
        print(json.dumps({"origins": origins, "environ": secrets}), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
