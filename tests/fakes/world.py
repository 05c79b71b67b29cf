"""All five fake platforms, served on loopback, with a config and credentials that point at them.

Used by the end-to-end tests and the benchmarks: ``crosspost publish`` runs as a
real process against real HTTP servers on 127.0.0.1, with nothing faked inside
crosspost itself.
"""

from __future__ import annotations

import signal
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import tomli_w

from tests.fakes.base import FakePlatform, Tripwire
from tests.fakes.facebook import FakeFacebook
from tests.fakes.instagram import FakeInstagram
from tests.fakes.server import serve
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.twitter import FakeTwitter
from tests.fakes.youtube import FakeYouTube

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "musi-rawas"


class MediaHost(FakePlatform):
    """The organisation's web server: serves the announcement's media under /crosspost/."""

    name = "media"

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.route("GET", r"/crosspost/(?P<path>.+)", self._file)

    def _file(self, request: httpx.Request, path: str) -> httpx.Response:
        target = (self.folder / path).resolve()
        if self.folder.resolve() not in target.parents or not target.is_file():
            return httpx.Response(404)
        import mimetypes

        # A web server names the type of what it serves (Instagram and TikTok check it).
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return httpx.Response(200, content=target.read_bytes(), headers={"content-type": kind})


class World:
    """The five fakes plus a media host; ``serving()`` puts them on loopback."""

    def __init__(self, folder: Path = EXAMPLE) -> None:
        self.facebook = FakeFacebook()
        self.instagram = FakeInstagram()
        self.tiktok = FakeTikTok()
        self.youtube = FakeYouTube()
        self.twitter = FakeTwitter()
        self.media = MediaHost(folder)
        self.origins: dict[str, str] = {}
        #: Counts every request to a platform fake (not the media host); kills on demand.
        self.tripwire = Tripwire()
        for fake in self.fakes.values():
            fake.gate = self.tripwire

    @property
    def fakes(self) -> dict[str, FakePlatform]:
        """The platform fakes by platform name."""
        return {
            "facebook": self.facebook,
            "instagram": self.instagram,
            "tiktok": self.tiktok,
            "youtube": self.youtube,
            "twitter": self.twitter,
        }

    @property
    def requests_seen(self) -> int:
        """Platform requests since the world started (or since the last arm/disarm)."""
        return self.tripwire.count

    def kill_at(
        self,
        k: int,
        *,
        act: bool,
        sig: signal.Signals = signal.SIGKILL,
        match: str | None = None,
    ) -> None:
        """Signal the watched process when the k-th platform request arrives.

        SIGKILL with ``act=False``: before the fake acts on it; with ``act=True``: after
        the fake acted, before its answer is sent. Other signals are sent as request k
        arrives, and every request is served as usual. With ``match`` (a regex over
        ``METHOD /path``), k counts only the matching requests. Call ``watch(pid)`` once
        the process has started; ``k`` counts from now.
        """
        self.tripwire.arm(k, act=act, sig=sig, match=match)

    def watch(self, pid: int) -> None:
        """The process ``kill_at`` signals."""
        self.tripwire.watch(pid)

    def disarm(self) -> None:
        """No more signals nor dropped requests (after the signalled process ended)."""
        self.tripwire.disarm()

    @contextmanager
    def serving(self) -> Iterator[World]:
        """Serve every fake on 127.0.0.1 for the duration of the block."""
        with ExitStack() as stack:
            for name, fake in [*self.fakes.items(), ("media", self.media)]:
                self.origins[name] = stack.enter_context(serve(fake))
            yield self

    def config(self, path: Path, base: Path = EXAMPLE / "crosspost.toml") -> Path:
        """Write the example's config with every platform pointed at its fake; returns path."""
        data: dict[str, Any] = tomllib.loads(base.read_text("utf-8"))
        platforms = data.setdefault("platforms", {})
        for name in self.fakes:
            platforms.setdefault(name, {})["api_base"] = self.origins[name]
        platforms["facebook"].update(page_id=self.facebook.page_id, app_id=self.facebook.app_id)
        platforms["instagram"].update(
            ig_user_id=self.instagram.ig_user_id,
            media_base_url=self.origins["media"] + "/crosspost",
            app_id=self.instagram.facebook_login.app_id,
        )
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
        return path

    def environ(self) -> dict[str, str]:
        """Credentials the fakes accept."""
        return {
            "CROSSPOST_FACEBOOK_PAGE_TOKEN": self.facebook.page_token,
            "CROSSPOST_FACEBOOK_APP_SECRET": self.facebook.login.app_secret,
            "CROSSPOST_INSTAGRAM_ACCESS_TOKEN": self.instagram.access_token,
            "CROSSPOST_INSTAGRAM_APP_SECRET": self.instagram.facebook_login.app_secret,
            "CROSSPOST_TIKTOK_ACCESS_TOKEN": next(iter(self.tiktok.tokens)),
            "CROSSPOST_YOUTUBE_CLIENT_ID": self.youtube.client_id,
            "CROSSPOST_YOUTUBE_CLIENT_SECRET": self.youtube.client_secret,
            "CROSSPOST_YOUTUBE_REFRESH_TOKEN": self.youtube.refresh_token,
            "CROSSPOST_TWITTER_ACCESS_TOKEN": self.twitter.token,
        }
