"""X (Twitter): 280 weighted characters, media by the v2 upload endpoints, threads.

Two ways to sign in (docs/platforms/twitter.md): OAuth 2.0 user context (a
2-hour access token renewed with a rotating refresh token) or OAuth 1.0a user
context (consumer key/secret and an access token/secret that do not expire). The
network side, logins included, is ``_twitter_api``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import Field

from crosspost import twittertext
from crosspost.adapter import (
    Account,
    Adapter,
    Fields,
    Finding,
    Limits,
    Login,
    LoginSession,
    MediaChoice,
    Post,
    Published,
    Sent,
    over_size,
)
from crosspost.config import PlatformSettings
from crosspost.media import MediaFile
from crosspost.models import Overrides
from crosspost.units import Unit

if TYPE_CHECKING:
    from crosspost.api import PublishContext
    from crosspost.credentials import Credentials

#: 280 weighted characters per twitter-text config v3 (docs.x.com "Counting
#: characters"). Premium accounts post longer: set max_length in config.
LENGTH = 280
#: Per post: up to 4 photos, or 1 GIF, or 1 video (X media introduction).
MAX_PHOTOS = 4
#: Images 5 MB, animated GIFs 15 MB, video 512 MB (X media best practices).
IMAGE_BYTES = 5_000_000
GIF_BYTES = 15_000_000
VIDEO_BYTES = 512_000_000
#: Video length: 0.5 to 140 seconds (X media best practices; longer only for some accounts).
VIDEO_SECONDS = (0.5, 140.0)
#: What each way of signing in needs (docs/platforms/twitter.md). OAuth 2.0
#: posts with ``access_token`` alone; it renews itself with ``refresh_token`` and
#: ``client_id`` (+ ``client_secret`` for a confidential client).
OAUTH2_KEYS = ("access_token",)
OAUTH1_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
#: The port of the loopback callback ``http://127.0.0.1:<port>/callback``. X
#: accepts only callback URLs registered exactly, port included, so the port is
#: fixed (``callback_port`` in config), not a random free one.
CALLBACK_PORT = 8723


def uses_oauth1(credentials: Credentials) -> bool:
    """Whether X requests are signed with OAuth 1.0a: ``consumer_key`` and
    ``access_token_secret`` are set (else the access token is an OAuth 2.0 bearer)."""
    return bool(credentials.get("consumer_key") and credentials.get("access_token_secret"))


class TwitterSettings(PlatformSettings):
    """``[platforms.twitter]`` in config.toml."""

    #: Self-serve tiers may refuse replies (Feb 2026); with False a thread is
    #: refused at validate time instead of failing half-way.
    threads_allowed: bool = True
    #: Bytes per APPEND of a chunked (video) upload. v1.1 capped a chunk at 5 MB;
    #: the v2 spec states no limit (UNVERIFIED), so stay at or under 5 MiB.
    chunk_size: int = Field(default=4 * 1024 * 1024, ge=1024, le=5 * 1024 * 1024)
    #: ``media_category`` of a video upload. X's docs give the 512 MB video size
    #: for ``amplify_video``; which one a plain post needs is UNVERIFIED.
    video_category: str = Field(default="tweet_video", pattern=r"^(tweet_video|amplify_video)$")
    #: The port of the login callback ``http://127.0.0.1:<port>/callback``, which
    #: must be registered exactly in the X app's callback URLs.
    callback_port: int = Field(default=CALLBACK_PORT, ge=1024, le=65535)


class TwitterOptions(Overrides):
    """``[platforms.twitter]`` in an announcement."""

    #: Split a long text into a numbered reply chain instead of trimming it.
    thread: bool = False


class TwitterAdapter(Adapter):
    """X: exact weighted counting, URLs as 23, trimming or a thread."""

    name = "twitter"
    display_name = "X / Twitter"
    unit = Unit.WEIGHTED
    limits = Limits(body=LENGTH)
    Settings = TwitterSettings
    Options = TwitterOptions
    credentials = ("access_token",)
    secrets = (
        "refresh_token",
        "client_id",
        "client_secret",
        "consumer_key",
        "consumer_secret",
        "access_token_secret",
    )
    console_url = "https://console.x.com"

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """Up to 4 photos, else one GIF or video; text alone is fine too."""
        stills = [m for m in media if m.is_image and m.mime != "image/gif"]
        moving = [m for m in media if m.is_video or m.mime == "image/gif"]
        choice = MediaChoice(media=())
        if stills:
            choice.media = tuple(stills[:MAX_PHOTOS])
            if len(stills) > MAX_PHOTOS or moving:
                choice.warnings.append(
                    f"an X post has up to {MAX_PHOTOS} photos, or one GIF or video: "
                    "the rest is left out"
                )
        elif moving:
            choice.media = (moving[0],)
            if len(moving) > 1:
                choice.warnings.append("an X post has one GIF or video: only the first is posted")
        for m in choice.media:
            limit = (
                VIDEO_BYTES if m.is_video else GIF_BYTES if m.mime == "image/gif" else IMAGE_BYTES
            )
            if over_size(m, limit):
                choice.problems.append(
                    f"{m.name}: too large for X (at most {limit // 1_000_000} MB)"
                )
            if m.path is None:
                choice.problems.append(f"{m.name}: X uploads a local file; give the media's path")
            low, high = VIDEO_SECONDS
            if m.is_video and m.duration is not None and not low <= m.duration <= high:
                choice.problems.append(
                    f"{m.name} is {m.duration:.1f} seconds long; X takes videos of {low:g} to "
                    f"{high:g} seconds: shorten it, or leave X out with --platform"
                )
        return choice

    def wants_thread(self, fields: Fields) -> bool:
        """``thread = true`` in ``[platforms.twitter]`` of the announcement."""
        return isinstance(fields.options, TwitterOptions) and fields.options.thread

    def finish(self, post: Post, fields: Fields) -> Post:
        """Refuse characters X refuses, and threads where the account cannot reply."""
        import dataclasses

        problems = list(post.problems)
        for part in post.parts:
            # twitter-text's invalid characters (js/src/regexp/invalidCharsGroup.js).
            bad = twittertext.invalid_character(part.text)
            if bad:
                problems.append(f"contains U+{ord(bad):04X}, a character X refuses")
                break
        settings = self.settings
        threads_off = isinstance(settings, TwitterSettings) and not settings.threads_allowed
        if len(post.parts) > 1 and threads_off:
            problems.append(
                "the text needs a thread, but threads_allowed = false in the config: "
                "shorten the text or set thread = false to trim it"
            )
        return dataclasses.replace(post, problems=tuple(problems))

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Upload media (v2), then POST /2/tweets; a thread as a reply chain."""
        from crosspost_adapters._twitter_api import publish

        return await publish(self, post, ctx)

    async def reconcile(self, post: Post, sent: Sent, ctx: PublishContext) -> Published | None:
        """Look for a post whose answer was lost on the account's timeline (docs/reconcile.md)."""
        from crosspost_adapters._twitter_api import reconcile

        return await reconcile(self, post, sent, ctx)

    # -- accounts (docs/platforms/twitter.md) ---------------------------------

    def missing_credentials(self, credentials: Credentials) -> list[str]:
        """The keys still missing: none when either set is complete.

        With OAuth 1.0a chosen (``consumer_key`` and ``access_token_secret`` set),
        what it lacks; with nothing usable, ``access_token`` first (alone it makes
        the OAuth 2.0 set), then what OAuth 1.0a needs besides.
        """
        oauth1 = [key for key in OAUTH1_KEYS if credentials.get(key) is None]
        if uses_oauth1(credentials):
            return oauth1
        if credentials.get("access_token") is not None:
            return []
        return [*OAUTH2_KEYS, *(key for key in oauth1 if key not in OAUTH2_KEYS)]

    async def login(self, session: LoginSession) -> Login:
        """OAuth 2.0 with PKCE, or the 3-legged OAuth 1.0a flow with ``--oauth1``."""
        from crosspost_adapters._twitter_api import login

        return await login(self, session)

    async def renew(self, ctx: PublishContext, horizon: float) -> None:
        """Refresh an OAuth 2.0 token that expires within ``horizon`` seconds (saved first)."""
        from crosspost_adapters._twitter_api import renew

        await renew(self, ctx, horizon)

    async def identity(self, ctx: PublishContext) -> Account:
        """The account's @username and id (``GET /2/users/me``)."""
        from crosspost_adapters._twitter_api import identity

        return await identity(self, ctx)

    async def diagnose(self, ctx: PublishContext, post: Post | None) -> list[Finding]:
        """How X is signed in, the scopes the post needs, threads, expiry."""
        from crosspost_adapters._twitter_api import diagnose

        return await diagnose(self, ctx, post)
