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
#: Images 5 MB, animated GIFs 15 MB (https://docs.x.com/x-api/media/introduction).
IMAGE_BYTES = 5_000_000
GIF_BYTES = 15_000_000
#: Video: 512 MB (X's media introduction gives it for ``amplify_video``; its best
#: practices for every video) and 0.5 to 140 seconds
#: (https://docs.x.com/x-api/media/quickstart/best-practices). X says the limits
#: follow the posting account (X Premium may post longer videos), so the size and
#: the longest length are settings (``max_video_bytes``, ``max_video_seconds``)
#: with these documented defaults; docs/platforms/twitter.md, "Video limits".
VIDEO_BYTES = 512_000_000
VIDEO_SECONDS = 140.0
MIN_VIDEO_SECONDS = 0.5
#: The largest ``total_bytes`` X's upload INIT accepts (openapi.json, initialize).
MAX_TOTAL_BYTES = 17_179_869_184
#: X's pay-per-use prices for creating a post, in US dollars, since 20 April 2026
#: (https://docs.x.com/x-api/getting-started/pricing, "Write operations";
#: https://docs.x.com/changelog, "Apr 16, 2026"): a post with a URL costs about
#: 13 times a plain one. Prices change; the console shows the current ones.
POST_PRICE = 0.015
POST_WITH_URL_PRICE = 0.200
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

    #: Whether ``thread = true`` may post a reply chain. Off by default: since
    #: 23 February 2026 X's self-serve (pay-per-use) API tiers may reply only
    #: where the author of the post replied to summoned the account
    #: (https://docs.x.com/x-api/posts/manage-tweets/integrate, "Post creation
    #: restrictions"), so a thread can stop after its first part. With False a
    #: thread is refused at validate time; True only with Enterprise access.
    threads_allowed: bool = False
    #: Whether X posts may carry a URL (``Adapter.allows_links``). X bills a post
    #: with a URL at about 13 times the plain rate on pay-per-use (see POST_PRICE).
    links: bool = True
    #: Warn in preview and validate when an X post carries a URL (its price).
    link_cost_warning: bool = True
    #: The longest video X takes from this account, in seconds (140 documented;
    #: longer for accounts X allows, such as X Premium).
    max_video_seconds: float = Field(default=VIDEO_SECONDS, gt=MIN_VIDEO_SECONDS)
    #: The largest video file X takes from this account, in bytes (512 MB documented).
    max_video_bytes: int = Field(default=VIDEO_BYTES, ge=1, le=MAX_TOTAL_BYTES)
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
    # X's own guidance: "we recommend using no more than 2 hashtags per post"
    # (help.x.com, "How to use hashtags"). Inline ones count, but a cap that is
    # advice makes no problem of a text that has more (count_inline False).
    limits = Limits(body=LENGTH, hashtags=2)
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

    @property
    def video_limits(self) -> tuple[float, int]:
        """(longest video in seconds, largest video in bytes) for this account."""
        s = self.settings
        if isinstance(s, TwitterSettings):
            return s.max_video_seconds, s.max_video_bytes
        return VIDEO_SECONDS, VIDEO_BYTES

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
        longest, largest = self.video_limits
        for m in choice.media:
            limit = largest if m.is_video else GIF_BYTES if m.mime == "image/gif" else IMAGE_BYTES
            if over_size(m, limit):
                hint = (
                    " (max_video_bytes under [platforms.twitter] in the config, for an account "
                    "X allows larger videos)"
                    if m.is_video
                    else ""
                )
                choice.problems.append(
                    f"{m.name}: too large for X (at most {_megabytes(limit)}{hint})"
                )
            if m.path is None:
                choice.problems.append(f"{m.name}: X uploads a local file; give the media's path")
            seconds = m.duration if m.is_video else None
            if seconds is not None and not MIN_VIDEO_SECONDS <= seconds <= longest:
                choice.problems.append(
                    f"{m.name} is {seconds:.1f} seconds long; X takes videos of "
                    f"{MIN_VIDEO_SECONDS:g} to {longest:g} seconds from this account: "
                    "shorten it, or leave X out with --platform (for an account X allows "
                    "longer videos, such as X Premium, set max_video_seconds under "
                    "[platforms.twitter] in the config)"
                )
        return choice

    @property
    def allows_links(self) -> bool:
        """``links`` under ``[platforms.twitter]`` (true by default): false leaves URLs out
        of X posts, which X bills at a higher rate (docs/platforms/twitter.md, "Links")."""
        s = self.settings
        return s.links if isinstance(s, TwitterSettings) else True

    def wants_thread(self, fields: Fields) -> bool:
        """``thread = true`` in ``[platforms.twitter]`` of the announcement."""
        return isinstance(fields.options, TwitterOptions) and fields.options.thread

    def finish(self, post: Post, fields: Fields) -> Post:
        """Refuse characters X refuses and threads the account may not post; warn about
        the price of a post that carries a URL."""
        import dataclasses

        problems = list(post.problems)
        warnings = list(post.warnings)
        for part in post.parts:
            # twitter-text's invalid characters (js/src/regexp/invalidCharsGroup.js).
            bad = twittertext.invalid_character(part.text)
            if bad:
                problems.append(f"contains U+{ord(bad):04X}, a character X refuses")
                break
        settings = self.settings
        if not isinstance(settings, TwitterSettings):  # pragma: no cover - Settings makes one
            settings = TwitterSettings()
        if len(post.parts) > 1 and not settings.threads_allowed:
            problems.append(
                f"the text needs a thread of {len(post.parts)} posts (thread = true), but X "
                "threads are off (threads_allowed = false, the default: since February 2026 "
                "X's self-serve API tiers refuse a reply the author did not ask for, so a "
                "thread would stop after its first post): set thread = false under "
                "[platforms.twitter] of the announcement to shorten the text to one post, or, "
                "for an X account with Enterprise API access, threads_allowed = true under "
                "[platforms.twitter] in the config"
            )
        if settings.link_cost_warning:
            warning = _link_cost(post, settings)
            if warning:
                warnings.append(warning)
        return dataclasses.replace(post, problems=tuple(problems), warnings=tuple(warnings))

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


def _megabytes(size: int) -> str:
    """``512 MB`` (decimal, as X writes its limits)."""
    return f"{size / 1_000_000:g} MB"


def _link_cost(post: Post, settings: TwitterSettings) -> str | None:
    """The warning for a post that carries a URL (twitter-text's URL extraction), or None.

    X's pay-per-use plans bill each create with a URL at POST_WITH_URL_PRICE
    instead of POST_PRICE (docs/platforms/twitter.md, "Links").
    """
    carrying = [n for n, part in enumerate(post.parts, 1) if twittertext.extract_urls(part.text)]
    if not carrying:
        return None
    if len(post.parts) == 1:
        what = "the X post carries a link"
    elif len(carrying) == 1:
        what = f"part {carrying[0]} of the X thread carries a link"
    else:
        what = f"{len(carrying)} parts of the X thread carry a link"
    rate = POST_WITH_URL_PRICE / POST_PRICE
    fix = (
        "links = false is set, yet the text itself has a URL: remove it there (or give X its "
        "own body under [platforms.twitter] of the announcement)"
        if not settings.links
        else "set links = false under [platforms.twitter] in the config to leave links out "
        "of X posts"
    )
    return (
        f"{what}: X's pay-per-use plans bill a post with a URL at about {rate:.0f} times the "
        f"plain rate (${POST_WITH_URL_PRICE:.2f} against ${POST_PRICE:.3f} a post since "
        f"April 2026; check the console for your plan); {fix}, or link_cost_warning = false "
        "to stop this warning"
    )
