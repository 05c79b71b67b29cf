"""TikTok publishing through the Content Posting API: Direct Post, or the inbox upload.

The flow, from TikTok's Content Posting API pages: the Direct Post reference
(https://developers.tiktok.com/doc/content-posting-api-reference-direct-post), the
upload (inbox) reference (…/doc/content-posting-api-reference-upload-video), the
photo post reference (…/doc/content-posting-api-reference-photo-post), the media
transfer guide (…/doc/content-posting-api-media-transfer-guide) and the post status
reference (…/doc/content-posting-api-reference-get-video-status); the same pages are
summarised in docs/platforms/tiktok.md:

1. ``POST /v2/post/publish/creator_info/query/``: the account's username, the
   privacy levels it may post with, whether it disabled comments, duets or
   stitches, and its longest allowed video. The plan's ``privacy_level`` must
   be one of the offered levels; we fail here, before anything is created.
2. Video: ``POST /v2/post/publish/video/init/`` with ``post_info`` (the
   caption as ``title``) and ``source_info`` FILE_UPLOAD with the chunk plan
   (``chunk_plan``). Photos: ``POST /v2/post/publish/content/init/`` with
   ``PULL_FROM_URL`` (TikTok fetches the photos itself from a verified domain).
   The init call starts the post and TikTok has no idempotency key, so it is
   sent once (``Api.create``): re-sending it could post twice.
3. Video only: ``PUT {upload_url}`` once per chunk, in order, with
   ``Content-Range``. A chunk is safe to re-send: nothing is published until
   TikTok has every byte.
4. ``POST /v2/post/publish/status/fetch/`` until ``PUBLISH_COMPLETE`` or
   ``FAILED``, backing off (``crosspost.polling.Pace``; TikTok allows 30 a minute).
   Once init succeeded, the ``publish_id`` is the only handle on the post (TikTok
   offers no idempotency key), so every ambiguity after it is reported with that id.

Inbox mode (``[platforms.tiktok] mode = "inbox"``, the default) skips step 1
(creator_info needs video.publish, and the officer chooses the privacy in the app):
videos go to ``POST /v2/post/publish/inbox/video/init/`` with ``source_info`` only
(no ``post_info``: the caption cannot travel with it), photos to content/init with
``post_mode = "MEDIA_UPLOAD"``; the poll ends at ``SEND_TO_USER_INBOX``, and the
result says the post waits in the creator's TikTok inbox.

The journal gets the post's ``mode`` (and ``delivery``) before init, its ``publish_id`` the moment
init answers, and (videos) ``uploaded`` just before the last chunk goes out:
TikTok publishes a video only once it has every byte. ``reconcile`` reads them
with the same status check the poll uses (``_verdict``; docs/reconcile.md).

Every response is ``{"data": {...}, "error": {"code": "ok", ...}}``; a code
other than ``"ok"`` is a failure even with HTTP 200 (TikTok API v2 error handling,
https://developers.tiktok.com/doc/tiktok-api-v2-error-handling).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx
import stamina

from crosspost import redaction
from crosspost.adapter import Account, Finding, Login, LoginSession, Post, Published, Sent
from crosspost.api import (
    Api,
    PublishContext,
    file_chunks,
    file_size,
    json_body,
    rebase,
    retry_after,
)
from crosspost.config import PlatformSettings
from crosspost.credentials import Credentials, env_name
from crosspost.errors import (
    AuthError,
    ConfigError,
    CredentialsError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile, video_duration
from crosspost.redaction import redact
from crosspost_adapters.tiktok import (
    CHUNK_MAX,
    CHUNK_MIN,
    DIRECT_ONLY,
    INBOX_POSTED,
    INBOX_RESULT,
    TikTokAdapter,
    TikTokSettings,
)

if TYPE_CHECKING:
    from crosspost.oauth import OAuthApp

T = TypeVar("T")

PLATFORM = "tiktok"
API = "https://open.tiktokapis.com"
CREATOR_INFO = f"{API}/v2/post/publish/creator_info/query/"
VIDEO_INIT = f"{API}/v2/post/publish/video/init/"
PHOTO_INIT = f"{API}/v2/post/publish/content/init/"
#: The inbox upload (upload reference): the video lands in the creator's inbox.
INBOX_VIDEO_INIT = f"{API}/v2/post/publish/inbox/video/init/"
STATUS = f"{API}/v2/post/publish/status/fetch/"
#: Login Kit v2 (https://developers.tiktok.com/doc/login-kit-desktop,
#: https://developers.tiktok.com/doc/oauth-user-access-token-management): the consent
#: page, the token endpoint (codes and refresh tokens), and the profile
#: (https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info).
AUTHORIZE = "https://www.tiktok.com/v2/auth/authorize/"
TOKEN = f"{API}/v2/oauth/token/"
USER_INFO = f"{API}/v2/user/info/"
USER_FIELDS = "open_id,display_name"
#: user.info.basic: the display name; video.publish: Direct Post and creator_info;
#: video.upload: the inbox (draft) upload and status/fetch (platform scopes overview).
#: Login asks for what the configured mode needs: an app approved for the upload
#: only would have its consent page refused for video.publish.
SCOPES = ("user.info.basic", "video.publish", "video.upload")
INBOX_SCOPES = ("user.info.basic", "video.upload")
#: The scope each mode posts with (direct-post and upload references).
MODE_SCOPES: dict[str, str] = {"direct": "video.publish", "inbox": "video.upload"}
#: What a Direct Post needs; without it nothing can be posted directly.
POST_SCOPE = MODE_SCOPES["direct"]
#: TikTok's desktop redirect URIs: 127.0.0.1 with a port ("*" allowed) and a path;
#: the portal is told ``http://127.0.0.1:*/callback/`` (docs/platforms/tiktok.md).
REDIRECT_PATH = "/callback/"
#: Tries at the token endpoint when it fails for a moment (5xx, network).
TOKEN_ATTEMPTS = 3

#: Chunk rules of the media transfer guide: chunks
#: of 5-64 MB, the last up to 128 MB, 1-1000 chunks, a video over 64 MB in more than
#: one chunk. MB read as the stricter of 10**6 and 2**20 bytes for each bound
#: (UNVERIFIED which one TikTok means).
SMALLEST_CHUNK = CHUNK_MIN
LARGEST_CHUNK = CHUNK_MAX
LARGEST_LAST_CHUNK = 128_000_000
MOST_CHUNKS = 1000
#: Chunk PUTs: the pages read do not document the answer; postiz accepts all
#: three (206 for a partial chunk, 201 for the last, per its comment).
UPLOAD_OK = (200, 201, 206)
#: Where a public post can be seen, from the username and the public post id.
POST_URL = "https://www.tiktok.com/@{username}/video/{id}"
#: A daily cap (posts per creator, active users per app) lifts within 24 hours.
DAY = 86_400.0
#: TikTok's rate limits are per minute per token (the API references); without a Retry-After,
#: waiting out the minute is what helps.
MINUTE = 60.0

CONFIG_KEY = "[platforms.tiktok] privacy_level"
#: The command that connects the account again.
LOGIN = "crosspost auth login tiktok"

#: ``fail_reason`` values of status/fetch, in plain words (post status reference; the full
#: official list is UNVERIFIED, so unknown values are shown as TikTok sent them).
FAIL_REASONS: dict[str, str] = {
    "file_format_check_failed": "TikTok could not read the file format; use an MP4 (H.264) "
    "video, or JPEG/WebP photos",
    "duration_check_failed": "the video is too long or too short for this account",
    "frame_rate_check_failed": "the video's frame rate is not accepted (use 23-60 fps)",
    "picture_size_check_failed": "the picture size is not accepted (video 360-4096 px per side, "
    "photos at most 1080p)",
    "video_pull_failed": "TikTok could not download the video from its URL",
    "photo_pull_failed": "TikTok could not download a photo: make sure every photo URL is "
    "public and the file is there",
    "publish_cancelled": "the post was cancelled",
    "auth_removed": "the account removed this app's access while the post was processing: "
    "reconnect TikTok",
    "internal": "TikTok had an internal error while processing the post",
    "spam_risk_too_many_posts": "the account reached TikTok's daily posting limit",
    "spam_risk_user_banned_from_posting": "the account is banned from posting",
}


# -- the chunk plan (pure) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """How a video of ``video_size`` bytes is sent: the init fields and each PUT's byte range.

    ``ranges`` are (start, end-exclusive) pairs; the last one absorbs the bytes
    left over by ``floor(video_size / chunk_size)``.
    """

    video_size: int
    chunk_size: int
    total_chunk_count: int
    ranges: tuple[tuple[int, int], ...]


def chunk_plan(video_size: int, chunk_size: int) -> ChunkPlan:
    """The chunking TikTok's media transfer guide asks for, for ``chunk_size`` chunks.

    ``total_chunk_count = floor(video_size / chunk_size)`` and the last chunk
    takes the remainder; a file smaller than one chunk is sent whole, with
    ``chunk_size = video_size`` (the guide requires that below 5 MB; between
    5 MB and ``chunk_size`` a single whole chunk is within the 5-64 MB rule).
    A video over 64 MB must go in several chunks: when ``chunk_size`` is so large
    (over 32 MB) that the floor gives one chunk, the video goes in two halves
    instead, each within 32-64 MB. Every plan keeps each chunk within 5-64 MB and
    the last within 128 MB. Raises ``ValueError`` when the rules cannot be met.
    """
    if video_size <= 0:
        raise ValueError("the video is empty")
    if not SMALLEST_CHUNK <= chunk_size <= LARGEST_CHUNK:
        raise ValueError(
            f"chunk_size {chunk_size} is outside TikTok's {SMALLEST_CHUNK}-{LARGEST_CHUNK} bytes"
        )
    if video_size < chunk_size:
        return ChunkPlan(video_size, video_size, 1, ((0, video_size),))
    if video_size > LARGEST_CHUNK and video_size < 2 * chunk_size:
        # One chunk of chunk_size + remainder would exceed 64 MB as a single upload;
        # video_size < 2 * 64 MB, so two halves are each within 32-64 MB.
        chunk_size = video_size // 2
    count = video_size // chunk_size
    if count > MOST_CHUNKS:
        raise ValueError(
            f"{video_size} bytes in chunks of {chunk_size} makes {count} chunks; TikTok allows "
            f"{MOST_CHUNKS}: raise chunk_size"
        )
    ranges = [(i * chunk_size, (i + 1) * chunk_size) for i in range(count)]
    ranges[-1] = (ranges[-1][0], video_size)
    # The last chunk is chunk_size + remainder < 2 * 64 MB: always within 128 MB.
    return ChunkPlan(video_size, chunk_size, count, tuple(ranges))


# -- video duration (for creator_info's max_video_post_duration_sec) ---------------------


# -- errors ------------------------------------------------------------------------------


class TokenExpired(AuthError):
    """TikTok's 401 ``access_token_invalid``: TikTok refused before acting, so the step
    may be sent again once the token is renewed. ``detail`` is what TikTok said."""

    def __init__(
        self, platform: str, message: str, *, status: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(platform, message, status=status)
        self.detail = detail


def classify(response: httpx.Response) -> PlatformError:
    """A TikTok answer (any HTTP status; the envelope's ``error.code`` decides) as an error."""
    status = response.status_code
    code, message, log_id = _error_of(json_body(response))
    said = f" (TikTok said: {redact(message)})" if message else ""
    ref = f" [log_id {log_id}]" if log_id else ""

    def text(what: str) -> str:
        named = what if what.startswith("TikTok") else f"TikTok: {what}"
        return redact(f"{named}{said}{ref}")

    if code == "access_token_invalid":
        return TokenExpired(
            PLATFORM,
            text(f"the access token is invalid or has expired: run {LOGIN}"),
            status=status,
            detail=redact(f"{said}{ref}"),
        )
    if code in ("scope_not_authorized", "scope_permission_missed"):
        return AuthError(
            PLATFORM,
            text(
                "the account did not grant a permission this request needs (direct posts "
                "need 'video.publish', inbox uploads 'video.upload', reading the profile "
                f"'user.info.basic'): run {LOGIN} and allow every permission it asks for"
            ),
            status=status,
        )
    if code == "rate_limit_exceeded" or (code is None and status == 429):
        return RateLimitedError(
            PLATFORM,
            text("too many requests in the last minute; try again in a minute"),
            status=status,
            retry_after=retry_after(response) or MINUTE,
        )
    if code in ("spam_risk_too_many_posts", "reached_active_user_cap"):
        who = (
            "this account reached TikTok's daily posting limit"
            if code == "spam_risk_too_many_posts"
            else "this app reached TikTok's daily limit of accounts that may post"
        )
        return RateLimitedError(
            PLATFORM,
            text(f"{who}; nothing was posted: try again tomorrow"),
            status=status,
            retry_after=DAY,
        )
    if code == "spam_risk_too_many_pending_share":
        # At most 5 uploads may wait in the inbox within 24 hours (upload reference).
        return RateLimitedError(
            PLATFORM,
            text(
                "too many posts are waiting in the account's TikTok inbox (TikTok allows 5 "
                "in 24 hours): finish or delete them in the TikTok app; try again tomorrow"
            ),
            status=status,
            retry_after=DAY,
        )
    if code == "spam_risk_user_banned_from_posting":
        return PlatformError(
            PLATFORM, text("TikTok has banned this account from posting"), status=status
        )
    if code == "unaudited_client_can_only_post_to_private_accounts":
        return InvalidContentError(
            PLATFORM,
            text(
                "this app has not passed TikTok's audit yet, and unaudited apps can only post "
                'to a private account with privacy_level = "SELF_ONLY": set the TikTok '
                "account to private in the TikTok app (or get the app audited), then publish "
                "again"
            ),
            status=status,
        )
    if code == "url_ownership_unverified":
        return InvalidContentError(
            PLATFORM,
            text(
                "TikTok only pulls photos from a domain verified for this app: verify the "
                "domain of media_base_url ([platforms.tiktok]) or of the photo URLs in the "
                "TikTok developer portal (URL properties)"
            ),
            status=status,
        )
    if code == "privacy_level_option_mismatch":
        return InvalidContentError(
            PLATFORM,
            text(
                f"the privacy level is not one this account may use: change {CONFIG_KEY} "
                "in the config (or in the announcement)"
            ),
            status=status,
        )
    if code == "app_version_check_failed":
        return InvalidContentError(
            PLATFORM,
            text("the account's TikTok app is too old for photo posts: update the TikTok app"),
            status=status,
        )
    if code in ("invalid_param", "invalid_params", "invalid_file_upload"):
        return InvalidContentError(
            PLATFORM, text("TikTok refused the request as invalid"), status=status
        )
    if code == "internal_error" or status >= 500:
        return TransientError(
            PLATFORM,
            text(f"TikTok had a server error (HTTP {status}); try again later"),
            status=status,
        )
    if status == 401:
        return AuthError(
            PLATFORM, text("TikTok refused the access token: reconnect TikTok"), status=status
        )
    if status == 429:  # pragma: no cover - handled above
        return RateLimitedError(PLATFORM, text("too many requests"), status=status)
    what = f"TikTok refused the request (HTTP {status}"
    what += f", error {code})" if code else ")"
    return InvalidContentError(PLATFORM, text(what), status=status)


def _error_of(body: Any) -> tuple[str | None, str, str]:
    """(code, message, log_id) from the v2 envelope, or from an OAuth-style error body."""
    if not isinstance(body, Mapping):
        return None, "", ""
    error = body.get("error")
    if isinstance(error, Mapping):
        code = error.get("code")
        return (
            str(code) if code else None,
            str(error.get("message") or ""),
            str(error.get("log_id") or ""),
        )
    if isinstance(error, str):  # OAuth shape: {"error": "...", "error_description": "..."}
        return error, str(body.get("error_description") or ""), str(body.get("log_id") or "")
    return None, "", ""


def _data(response: httpx.Response) -> dict[str, Any]:
    """The envelope's ``data``; raises the classified error when ``error.code`` is not "ok"."""
    body = json_body(response)
    code, _, _ = _error_of(body)
    if code != "ok" or not isinstance(body, Mapping):
        if code is None:
            raise TransientError(
                PLATFORM,
                f"TikTok answered HTTP {response.status_code} without its usual JSON envelope",
                status=response.status_code,
            )
        raise classify(response)
    data = body.get("data")
    return dict(data) if isinstance(data, Mapping) else {}


# -- publish -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Creator:
    """What creator_info says about the account (creator_info/query reference)."""

    username: str | None
    privacy_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_duration: float | None


def _settings(ctx: PublishContext) -> TikTokSettings:
    settings = ctx.settings
    if not isinstance(settings, TikTokSettings):
        # Plain PlatformSettings (no [platforms.tiktok] table): TikTok's defaults,
        # keeping the shared keys such as api_base.
        settings = TikTokSettings.model_validate(settings.model_dump())
    return settings


async def reconcile(
    adapter: TikTokAdapter, post: Post, sent: Sent, ctx: PublishContext
) -> Published | None:
    """After a lost answer or a crash: what became of the journaled post (docs/reconcile.md).

    * With a ``publish_id``: status/fetch decides. PUBLISH_COMPLETE is the
      post; FAILED, or a video TikTok never got every byte of, is not there;
      still processing cannot be told yet.
    * A video without a ``publish_id`` (the init answer was lost) or whose last
      chunk never went out (no ``uploaded``): TikTok publishes a video only
      once the upload is complete, and nobody else has the upload URL, so
      nothing was posted.
    * Photos without a ``publish_id``: PULL_FROM_URL starts fetching at init,
      so the post may exist and nothing can find it: unknown.
    """
    handles = sent.handles
    mode = handles.get("mode") or post.extra.get("mode")
    # The journal says how it was sent (an inbox upload journals delivery before init;
    # direct posts, and journals older than inbox mode, have none): not today's config.
    inbox = handles.get("delivery") == "inbox"
    publish_id = handles.get("publish_id")
    if not isinstance(publish_id, str) or not publish_id:
        if mode == "video":
            return None
        raise UnknownOutcomeError(
            PLATFORM,
            "TikTok: the photo post was sent but its answer was lost, so there is no "
            "publish_id to ask about; TikTok may have started it: check the account in the "
            "TikTok app (private posts are listed there too)",
        )
    if mode == "video" and handles.get("uploaded") is not True:
        return None
    token = ctx.credentials.require("access_token")
    session = _Session(ctx, _Auth(ctx, ctx.api(classify), token), _settings(ctx), post)
    session.inbox = inbox
    session.step("asking TikTok about the post")
    data = await session.status(publish_id)
    size = handles.get("video_size") if mode == "video" else None
    verdict = _verdict(data, size if isinstance(size, int) else None)
    if verdict == "published":
        if _public_ids(data) and not inbox:
            # The username makes the post's URL; without it the post is out all the same.
            with contextlib.suppress(PlatformError):
                await session.creator_info()
        return _published(publish_id, data, session.creator, inbox=inbox)
    if verdict in ("failed", "short"):
        return None
    raise UnknownOutcomeError(
        PLATFORM,
        f"TikTok is still processing the post (publish_id {publish_id}, status "
        f"{data.get('status') or 'none'}); the next run looks again",
    )


#: What one status/fetch answer says about a post: out, failed (nothing posted),
#: short (a video TikTok does not have every byte of: nothing posted), or processing.
Verdict = Literal["published", "failed", "short", "processing"]


def _verdict(data: Mapping[str, Any], video_size: int | None = None) -> Verdict:
    """The one reading of a status/fetch answer, for the poll and for ``reconcile``.

    ``video_size`` asks whether TikTok got the whole video: a post still in
    PROCESSING_UPLOAD with fewer ``uploaded_bytes`` than that never will be
    published (post status reference: processing starts once the upload is complete).
    """
    status = data.get("status")
    if status in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"):
        return "published"
    if status == "FAILED":
        return "failed"
    received = data.get("uploaded_bytes")
    if (
        video_size is not None
        and status == "PROCESSING_UPLOAD"
        and isinstance(received, int)
        and received < video_size
    ):
        return "short"
    return "processing"


def _public_ids(data: Mapping[str, Any]) -> list[str]:
    found = data.get("publicaly_available_post_id")  # sic: TikTok's spelling
    return [str(i) for i in found if i] if isinstance(found, list) else []


def delivery(post: Post, settings: TikTokSettings) -> str:
    """``inbox`` or ``direct``: the plan's (render merged the announcement's), else the config's."""
    mode = post.options.get("mode") or settings.mode
    return "inbox" if mode == "inbox" else "direct"


async def publish(adapter: TikTokAdapter, post: Post, ctx: PublishContext) -> Published:
    """Publish ``post`` (a video or a photo post) to TikTok as the plan says."""
    settings = _settings(ctx)
    token = ctx.credentials.require("access_token")
    if post.problems:
        raise InvalidContentError(
            PLATFORM, "TikTok: the post has problems: " + "; ".join(post.problems)
        )
    session = _Session(ctx, _Auth(ctx, ctx.api(classify), token), settings, post)
    mode = post.extra.get("mode")
    if mode == "video":
        return await (session.inbox_video() if session.inbox else session.video())
    if mode == "photo":
        return await session.photos()
    raise InvalidContentError(
        PLATFORM, f"TikTok: the plan's mode is {mode!r}; expected 'video' or 'photo'"
    )


class _Auth:
    """The access token a run sends, renewed once when TikTok says it has expired.

    TikTok answers an expired or revoked token with 401 ``access_token_invalid``
    before it acts on the request, so the step is sent again with the renewed
    token: a safe step, and an init too, since TikTok refused it without acting.
    """

    def __init__(
        self, ctx: PublishContext, api: Api, token: str, *, renewable: bool = True
    ) -> None:
        self.ctx = ctx
        self.api = api
        self.token = redaction.register(token)
        self.renewable = renewable

    @property
    def headers(self) -> dict[str, str]:
        """The bearer token and the JSON content type every posting call sends."""
        return {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json; charset=UTF-8",
        }

    async def send(self, step: Callable[[dict[str, str]], Awaitable[T]]) -> T:
        """Run ``step`` with the headers; on ``access_token_invalid``, renew once and rerun."""
        try:
            return await step(self.headers)
        except TokenExpired as exc:
            if not self.renewable:
                raise
            self.renewable = False
            self.token = await _renew_after(self.ctx, self.token, exc)
        return await step(self.headers)

    async def creator_info(self) -> Creator:
        """creator_info/query: safe to repeat, it only reads the account's settings."""

        async def ask(headers: dict[str, str]) -> dict[str, Any]:
            response = await self.api.call(
                "POST", CREATOR_INFO, headers=headers, content=lambda: b"{}"
            )
            return _data(response)

        data = await self.send(ask)
        options = data.get("privacy_level_options")
        limit = data.get("max_video_post_duration_sec")
        username = data.get("creator_username")
        return Creator(
            username=str(username) if username else None,
            privacy_options=tuple(str(o) for o in options) if isinstance(options, list) else (),
            comment_disabled=data.get("comment_disabled") is True,
            duet_disabled=data.get("duet_disabled") is True,
            stitch_disabled=data.get("stitch_disabled") is True,
            max_duration=float(limit) if isinstance(limit, int | float) and limit > 0 else None,
        )

    async def user_info(self) -> dict[str, Any]:
        """user/info: the account's open_id and display name (scope user.info.basic)."""

        async def ask(headers: dict[str, str]) -> dict[str, Any]:
            response = await self.api.call(
                "GET",
                USER_INFO,
                params={"fields": USER_FIELDS},
                headers={"Authorization": headers["Authorization"]},
            )
            return _data(response)

        data = await self.send(ask)
        user = data.get("user")
        return dict(user) if isinstance(user, Mapping) else {}


class _Session:
    """One publish: the plan, the settings, and what TikTok told us along the way."""

    def __init__(
        self, ctx: PublishContext, auth: _Auth, settings: TikTokSettings, post: Post
    ) -> None:
        self.ctx = ctx
        self.auth = auth
        self.api = auth.api
        self.settings = settings
        self.post = post
        # The announcement's [platforms.tiktok] privacy_level, else the config's
        # (the adapter's render already merged them into options).
        self.privacy = str(post.options.get("privacy_level") or settings.privacy_level)
        self.creator = Creator(None, (), False, False, False, None)
        self.inbox = delivery(post, settings) == "inbox"

    def step(self, message: str) -> None:
        self.ctx.progress.step(self.ctx.platform, message)

    # -- video -------------------------------------------------------------------------

    def _plan(self, video: MediaFile) -> ChunkPlan:
        """The chunk plan of the video file; a clear error when it cannot be read or sent."""
        assert video.path is not None
        try:
            return chunk_plan(file_size(video.path), self.settings.chunk_size)
        except ValueError as exc:
            raise InvalidContentError(
                PLATFORM, f"TikTok: {video.name}: {exc} ([platforms.tiktok] chunk_size)"
            ) from None
        except OSError as exc:
            raise InvalidContentError(
                PLATFORM, f"TikTok: cannot read {video.name}: {exc.strerror}"
            ) from None

    async def video(self) -> Published:
        """creator_info, video/init with the chunk plan, one PUT per chunk, then poll."""
        video = self._the_video()
        plan = self._plan(video)
        await self.creator_info()
        self.check_privacy()
        self.check_duration(video)
        creator, settings = self.creator, self.settings
        body = {
            "post_info": {
                "title": self.post.text,
                "privacy_level": self.privacy,
                # A creator who turned an interaction off in the app must not get
                # it back through us (content-sharing guidelines).
                "disable_comment": settings.disable_comment or creator.comment_disabled,
                "disable_duet": settings.disable_duet or creator.duet_disabled,
                "disable_stitch": settings.disable_stitch or creator.stitch_disabled,
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
            },
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.total_chunk_count,
            },
        }
        self.step("creating the post")
        # Before init: if its answer is lost, the journal still says what was sent.
        self.ctx.remember(mode="video", video_size=plan.video_size)
        data = await self.init(VIDEO_INIT, body)
        publish_id = str(data["publish_id"])
        self.ctx.remember(publish_id=publish_id, mode="video")
        return await self._send_video(video, plan, publish_id, data)

    async def inbox_video(self) -> Published:
        """inbox/video/init with the chunk plan only, one PUT per chunk, then poll until
        the video is in the creator's inbox (upload reference).

        No creator_info (it needs video.publish) and no ``post_info``: the inbox
        upload takes the video alone, and the officer writes the caption and
        chooses who sees the post in the TikTok app.
        """
        video = self._the_video()
        plan = self._plan(video)
        body = {
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.total_chunk_count,
            }
        }
        self.step("sending the video to the TikTok inbox")
        self.ctx.remember(mode="video", delivery="inbox", video_size=plan.video_size)
        data = await self.init(INBOX_VIDEO_INIT, body)
        publish_id = str(data["publish_id"])
        self.ctx.remember(publish_id=publish_id, mode="video", delivery="inbox")
        return await self._send_video(video, plan, publish_id, data)

    async def _send_video(
        self, video: MediaFile, plan: ChunkPlan, publish_id: str, data: Mapping[str, Any]
    ) -> Published:
        """The upload after init answered, then the poll."""
        upload_url = data.get("upload_url")
        if not isinstance(upload_url, str) or not upload_url:
            raise UnknownOutcomeError(
                PLATFORM,
                f"TikTok started the post (publish_id {publish_id}) but sent no upload URL; "
                "check the account before publishing again",
            )
        lost = await self.upload(video, plan, upload_url, publish_id)
        return await self.poll(publish_id, lost_last_chunk=lost)

    def _the_video(self) -> MediaFile:
        videos = [m for m in self.post.media if m.is_video]
        if len(videos) != 1 or videos[0].path is None:
            raise InvalidContentError(
                PLATFORM, "TikTok: a video post needs exactly one local video file"
            )
        return videos[0]

    async def upload(
        self, video: MediaFile, plan: ChunkPlan, upload_url: str, publish_id: str
    ) -> tuple[PlatformError, ChunkPlan] | None:
        """PUT each chunk in order; the error when the last chunk's answer was lost."""
        assert video.path is not None
        # The upload host (open-upload.tiktokapis.com) is rebased like every other.
        target = self.api.url(upload_url)
        ctx = self.ctx
        self.step("uploading video")
        ctx.progress.upload_started(ctx.platform, video.name, plan.video_size)
        last = plan.total_chunk_count - 1
        for index, (start, end) in enumerate(plan.ranges):
            headers = {
                "Content-Type": video.mime,
                "Content-Length": str(end - start),
                "Content-Range": f"bytes {start}-{end - 1}/{plan.video_size}",
            }
            body = file_chunks(
                video.path,
                start,
                end,
                progress=ctx.progress,
                platform=ctx.platform,
                name=video.name,
            )
            if index == last:
                # Journaled before the bytes go out: from here TikTok may have the
                # whole video and publish it, so only its status can tell.
                ctx.remember(uploaded=True)
            try:
                # Safe to re-send: nothing is published before TikTok has every byte.
                await self.api.call(
                    "PUT", target, rebased=True, ok=UPLOAD_OK, headers=headers, content=body
                )
            except TransientError as exc:
                if index < last:
                    raise _not_posted(exc, publish_id, index, plan) from None
                # The final chunk may have arrived although its answer did not:
                # ask TikTok instead of guessing.
                return exc, plan
            except PlatformError as exc:
                raise _not_posted(exc, publish_id, index, plan) from None
        return None

    # -- photos ------------------------------------------------------------------------

    async def photos(self) -> Published:
        """creator_info, content/init pulling the photos from their URLs, then poll."""
        missing = [m.name for m in self.post.media if not m.url]
        if not self.post.media or missing:
            raise InvalidContentError(
                PLATFORM,
                "TikTok pulls photos from public URLs; these have none: "
                + (", ".join(missing) or "no photos")
                + " (set media_base_url in [platforms.tiktok])",
            )
        # The user's own public URLs, for TikTok to fetch: never rebased.
        urls = [m.url for m in self.post.media if m.url]
        cover = self.settings.photo_cover_index
        if cover >= len(urls):
            raise InvalidContentError(
                PLATFORM,
                f"TikTok: [platforms.tiktok] photo_cover_index is {cover}, but the post has "
                f"{len(urls)} photo(s), counted from 0",
            )
        title = self.post.title.text if self.post.title else ""
        source = {"source": "PULL_FROM_URL", "photo_images": urls, "photo_cover_index": cover}
        if self.inbox:
            # MEDIA_UPLOAD: the photos go to the creator's inbox with the title and
            # description; privacy and interactions are chosen in the app.
            body: dict[str, Any] = {
                "post_info": {"title": title, "description": self.post.text},
                "source_info": source,
                "post_mode": "MEDIA_UPLOAD",
                "media_type": "PHOTO",
            }
            self.step("sending the photos to the TikTok inbox")
            handles: dict[str, Any] = {"mode": "photo", "delivery": "inbox"}
        else:
            await self.creator_info()
            self.check_privacy()
            body = {
                "post_info": {
                    "title": title,
                    "description": self.post.text,
                    "privacy_level": self.privacy,
                    "disable_comment": self.settings.disable_comment
                    or self.creator.comment_disabled,
                    "brand_content_toggle": False,
                    "brand_organic_toggle": False,
                },
                "source_info": source,
                "post_mode": "DIRECT_POST",
                "media_type": "PHOTO",
            }
            self.step("creating the photo post")
            handles = {"mode": "photo"}
        self.ctx.remember(**handles)
        data = await self.init(PHOTO_INIT, body)
        publish_id = str(data["publish_id"])
        self.ctx.remember(publish_id=publish_id, **handles)
        return await self.poll(publish_id)

    # -- shared steps ------------------------------------------------------------------

    async def creator_info(self) -> None:
        """creator_info/query: safe to repeat, it only reads the account's settings."""
        self.step("checking the TikTok account")
        self.creator = await self.auth.creator_info()

    def check_privacy(self) -> None:
        """Fail before init when the plan's privacy level is not one the account offers."""
        offered = self.creator.privacy_options
        if self.privacy in offered:
            return
        hint = ""
        if offered == ("SELF_ONLY",):
            hint = " (an app TikTok has not audited yet can only post SELF_ONLY)"
        raise InvalidContentError(
            PLATFORM,
            f"TikTok: this account cannot post with privacy level {self.privacy}; it offers: "
            f"{', '.join(offered) or 'none'}{hint}. Set {CONFIG_KEY} in the config (or in "
            "the announcement) to one of these. Nothing was posted.",
        )

    def check_duration(self, video: MediaFile) -> None:
        """Fail before init when the video is longer than the account may post."""
        limit = self.creator.max_duration
        if limit is None or video.path is None:
            return
        seconds = video.duration if video.duration is not None else video_duration(video.path)
        if seconds is not None and seconds > limit:
            raise InvalidContentError(
                PLATFORM,
                f"TikTok: {video.name} is {seconds:.0f} seconds long; this account may post "
                f"videos of at most {limit:.0f} seconds: shorten it. Nothing was posted.",
            )

    async def init(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send an init call exactly once (it starts the post); its data, with a publish_id.

        TikTok has no idempotency key, so a lost answer is an UnknownOutcomeError,
        never a second init.
        """

        async def start(headers: dict[str, str]) -> dict[str, Any]:
            try:
                response = await self.api.create("POST", url, headers=headers, json=body)
            except UnknownOutcomeError as exc:
                raise UnknownOutcomeError(
                    PLATFORM,
                    f"TikTok: {exc.message} (look in the TikTok app; private posts are listed "
                    "there too)",
                    status=exc.status,
                ) from None
            try:
                return _data(response)
            except TransientError as exc:
                raise UnknownOutcomeError(
                    PLATFORM,
                    f"{exc.message}; TikTok may or may not have started the post: check the "
                    "account before publishing again",
                    status=exc.status,
                ) from None

        # A 401 access_token_invalid is TikTok refusing before it acts: renewed and
        # sent again (``_Auth.send``); any other answer is taken as it comes.
        data = await self.auth.send(start)
        publish_id = data.get("publish_id")
        if not isinstance(publish_id, str) or not publish_id:
            raise UnknownOutcomeError(
                PLATFORM,
                "TikTok accepted the post but sent no publish_id; check the account before "
                "publishing again",
            )
        return data

    async def status(self, publish_id: str) -> dict[str, Any]:
        """One status/fetch (safe to repeat); an unreadable status is an ``UnknownOutcomeError``."""

        async def ask(headers: dict[str, str]) -> dict[str, Any]:
            response = await self.api.call(
                "POST", STATUS, headers=headers, json={"publish_id": publish_id}
            )
            return _data(response)

        try:
            return await self.auth.send(ask)
        except PlatformError as exc:
            raise UnknownOutcomeError(
                PLATFORM,
                f"TikTok started the post (publish_id {publish_id}) but its status cannot "
                f"be read ({exc.message}); check the account before publishing again",
                status=exc.status,
            ) from None

    async def poll(
        self, publish_id: str, *, lost_last_chunk: tuple[PlatformError, ChunkPlan] | None = None
    ) -> Published:
        """Poll status/fetch until the post is published or failed (post status reference).

        With ``lost_last_chunk``, the first status says whether TikTok got every
        byte: if not, nothing was posted and the upload error stands.
        """
        from crosspost.polling import Pace

        ctx = self.ctx
        self.step("waiting for TikTok to process the post")
        # 30 status requests a minute per token (post status reference): back off.
        pace = Pace(first=ctx.poll_interval, most=self.settings.poll_max)
        status = None
        async for _ in pace.polls(ctx.poll_timeout):
            data = await self.status(publish_id)
            status = data.get("status")
            size = lost_last_chunk[1].video_size if lost_last_chunk is not None else None
            verdict = _verdict(data, size)
            if verdict == "short" and lost_last_chunk is not None:
                error, plan = lost_last_chunk
                raise _not_posted(error, publish_id, plan.total_chunk_count - 1, plan)
            lost_last_chunk = None
            if verdict == "published":
                return _published(publish_id, data, self.creator, inbox=self.inbox)
            if verdict == "failed":
                raise _failed(publish_id, data.get("fail_reason"))
        raise UnknownOutcomeError(
            PLATFORM,
            f"TikTok is still processing the post (publish_id {publish_id}, status "
            f"{status}) after {ctx.poll_timeout:.0f} seconds; it may still appear: "
            "check the account before publishing again",
        )


def _not_posted(exc: PlatformError, publish_id: str, index: int, plan: ChunkPlan) -> PlatformError:
    """The same kind of error, saying the upload stopped before TikTok had the whole video."""
    message = (
        f"{exc.message} (while uploading chunk {index + 1} of {plan.total_chunk_count}, "
        f"publish_id {publish_id}); TikTok does not have the whole video, so nothing was "
        "posted"
    )
    if isinstance(exc, RateLimitedError):
        return RateLimitedError(PLATFORM, message, status=exc.status, retry_after=exc.retry_after)
    for kind in (AuthError, InvalidContentError, TransientError):
        if isinstance(exc, kind):
            return kind(PLATFORM, message, status=exc.status)
    return PlatformError(PLATFORM, message, status=exc.status)


def _published(
    publish_id: str, data: Mapping[str, Any], creator: Creator, *, inbox: bool = False
) -> Published:
    """The publish_id, or the public post id and its URL once TikTok gives one.

    An inbox upload is "published" for crosspost once TikTok has put it in the
    creator's inbox (SEND_TO_USER_INBOX): its visibility says it waits there. Once
    someone finished it in the app (PUBLISH_COMPLETE), who may see it was chosen
    there: without a public id, the visibility says so.
    """
    ids = _public_ids(data)
    if ids:
        url = POST_URL.format(username=creator.username, id=ids[0]) if creator.username else None
        return Published(ids[0], url, (publish_id, *ids))
    if data.get("status") == "SEND_TO_USER_INBOX":
        return Published(publish_id, None, (publish_id,), visibility=INBOX_RESULT)
    if inbox:
        return Published(publish_id, None, (publish_id,), visibility=INBOX_POSTED)
    # Private (SELF_ONLY) posts, and public ones still in moderation, have no public id yet.
    return Published(publish_id, None, (publish_id,))


def _failed(publish_id: str, reason: object) -> PlatformError:
    """A FAILED status as an error whose message says why in plain words."""
    code = str(reason or "unknown")
    words = FAIL_REASONS.get(code)
    if words is None and code.startswith("spam_risk"):
        words = "TikTok's spam protection refused the post"
    what = words or "TikTok did not say why"
    message = redact(
        f"TikTok could not publish the post (publish_id {publish_id}): {what} [fail_reason {code}]"
    )
    if code == "spam_risk_too_many_posts":
        return RateLimitedError(PLATFORM, message + "; try again tomorrow", retry_after=DAY)
    if code == "auth_removed":
        return AuthError(PLATFORM, message)
    if code == "internal":
        return TransientError(PLATFORM, message + "; nothing was posted, try again later")
    return InvalidContentError(PLATFORM, message)


# -- accounts: login, renewal, identity, doctor (docs/platforms/tiktok.md) ---------------


def now() -> datetime:
    """The current time (UTC); tests replace it to move days ahead."""
    return datetime.now(UTC)


def oauth_app(settings: PlatformSettings) -> OAuthApp:
    """TikTok's authorization server, pointed at ``api_base`` like every other call."""
    from crosspost.oauth import OAuthApp

    tiktok = _settings_of(settings)
    return OAuthApp(
        platform=PLATFORM,
        display_name="TikTok",
        authorize_url=rebase(AUTHORIZE, settings.api_base),
        token_url=rebase(TOKEN, settings.api_base),
        # Only what the mode needs: TikTok refuses to ask for a scope the app lacks.
        scopes=SCOPES if tiktok.mode == "direct" else INBOX_SCOPES,
        scope_separator=",",
        client_id_param="client_key",
        pkce=tiktok.pkce,
        redirect_path=REDIRECT_PATH,
    )


def _app_credentials(credentials: Credentials) -> tuple[str, str] | list[str]:
    """The app's client key and secret, or the names of the missing ones."""
    key, secret = credentials.get("client_key"), credentials.get("client_secret")
    if key and secret:
        return key, secret
    return [name for name, value in (("client_key", key), ("client_secret", secret)) if not value]


def _missing_app(credentials: Credentials, missing: list[str], purpose: str) -> str:
    names = " and ".join(env_name(PLATFORM, k) for k in missing)
    return (
        f"tiktok: {purpose} needs the TikTok app's {' and '.join(missing)}: the developer "
        f"portal shows them on the app's page ({TikTokAdapter.console_url}); set {names}, "
        f"or add {', '.join(missing)} under [tiktok] in {credentials.store.path} (mode 0600). "
        "See docs/platforms/tiktok.md"
    )


def _who(credentials: Credentials) -> str:
    """The account as login stored it, for messages."""
    account = credentials.meta("account")
    return (
        f'the TikTok account "{account}"'
        if isinstance(account, str) and account
        else ("the TikTok account")
    )


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


async def login(adapter: TikTokAdapter, session: LoginSession) -> Login:
    """Login Kit v2: consent in the browser, the code for tokens, then who the creator is.

    The app's client key and secret come from the environment or the credentials
    file; the consent page and token endpoint honour ``api_base``.
    """
    from crosspost import oauth

    settings = _settings_of(session.settings)
    found = _app_credentials(session.credentials)
    if isinstance(found, list):
        raise CredentialsError(_missing_app(session.credentials, found, "logging in"))
    key, secret = found
    tokens = await oauth.login(
        oauth_app(settings),
        key,
        secret,
        client=session.client,
        open_browser=session.open_browser,
        paste=session.ask,
        say=session.say,
        now=now,
    )
    if not tokens.refresh_token:
        raise AuthError(
            PLATFORM,
            f"TikTok granted no refresh token, so the login could not renew itself: run {LOGIN} "
            "again",
        )
    needed = MODE_SCOPES[settings.mode]
    if needed not in tokens.scopes:
        product = "Direct Post" if settings.mode == "direct" else "the upload to the inbox"
        raise AuthError(
            PLATFORM,
            f"TikTok did not grant '{needed}' (granted: {', '.join(tokens.scopes) or 'none'})"
            f", which {settings.mode} mode posts with: run {LOGIN} again and allow posting; if "
            f"TikTok never asks for it, add the Content Posting API ({product}) to the app in "
            "the developer portal",
        )
    ctx = PublishContext(
        client=session.client, platform=PLATFORM, settings=settings, credentials=session.credentials
    )
    auth = _Auth(ctx, ctx.api(classify), tokens.access_token, renewable=False)
    user = await auth.user_info()
    open_id = str(user.get("open_id") or tokens.extra.get("open_id") or "") or None
    name = str(user.get("display_name") or open_id or "TikTok account")
    return Login(
        account=Account(name, open_id),
        # The app's key and secret too: cron renews with them, perhaps without the
        # environment this login had.
        secrets={
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "client_key": key,
            "client_secret": secret,
        },
        expires_at=tokens.expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
        scopes=tokens.scopes,
    )


def _settings_of(settings: PlatformSettings) -> TikTokSettings:
    if isinstance(settings, TikTokSettings):
        return settings
    return TikTokSettings.model_validate(settings.model_dump())


async def renew(ctx: PublishContext, horizon: float) -> None:
    """Refresh the access token if it expires within ``horizon`` seconds (or nobody knows).

    TikTok's access tokens last 2 hours (older documents: 24) and each refresh
    answers a new refresh token, the old one dying at once
    (https://developers.tiktok.com/doc/oauth-user-access-token-management): the
    new pair is saved before anything uses it. Tokens set in the environment are
    never renewed: crosspost cannot replace them there, and renewing would kill a
    refresh token the variable still holds.
    """
    credentials = ctx.credentials
    if credentials.from_environment("access_token"):
        return  # a 401 says what to do with the variable (``_renew_after``)
    moment = now()
    expires = credentials.expires_at("access_token")
    if expires is not None and expires > moment + timedelta(seconds=horizon):
        return
    refresh_token = credentials.get("refresh_token")
    if refresh_token is None:
        if expires is not None and expires <= moment:
            raise AuthError(
                PLATFORM,
                f"TikTok: the access token of {_who(credentials)} expired on {_day(expires)} "
                f"and there is no refresh token to renew it: run {LOGIN}",
            )
        return
    if credentials.from_environment("refresh_token"):
        if expires is not None and expires <= moment:
            raise AuthError(PLATFORM, _environment_refresh(credentials, expires))
        return
    refresh_expires = credentials.expires_at("refresh_token")
    if refresh_expires is not None and refresh_expires <= moment:
        raise AuthError(
            PLATFORM,
            f"TikTok: the refresh token of {_who(credentials)} expired on "
            f"{_day(refresh_expires)}, so the access token cannot be renewed: run {LOGIN}",
        )
    ctx.progress.step(PLATFORM, "renewing the access token")
    await _refresh(ctx, refresh_token)


def _environment_refresh(credentials: Credentials, expires: datetime) -> str:
    variable = env_name(PLATFORM, "refresh_token")
    return (
        f"TikTok: the access token of {_who(credentials)} expired on {_day(expires)}, and the "
        f"refresh token comes from {variable}: TikTok replaces the refresh token at each "
        "renewal, which crosspost cannot write back to the environment. Unset "
        f"{variable} and run {LOGIN} (the credentials file keeps the tokens renewed), or "
        "set fresh tokens in the environment"
    )


async def _renew_after(ctx: PublishContext, used: str, refused: TokenExpired) -> str:
    """TikTok said the token ``used`` is invalid: the renewed one, or an ``AuthError``."""
    credentials = ctx.credentials
    if credentials.from_environment("access_token"):
        variable = env_name(PLATFORM, "access_token")
        raise AuthError(
            PLATFORM,
            f"TikTok refused the access token set in {variable}: it is invalid or has expired"
            f"{refused.detail}. TikTok access tokens last about 2 hours and crosspost cannot "
            f"renew one set in the environment: unset {variable} so crosspost uses the tokens "
            f"{LOGIN} stores and renews, or set a new one",
            status=refused.status,
        )
    latest = _latest(ctx)
    stored = latest.get("access_token")
    if isinstance(stored, str) and stored and stored != used:
        return stored  # another run renewed it meanwhile: the newest token wins
    if credentials.from_environment("refresh_token"):
        raise AuthError(
            PLATFORM,
            f"{refused.message}; the refresh token comes from "
            f"{env_name(PLATFORM, 'refresh_token')}, which crosspost does not renew (TikTok "
            f"replaces it at each renewal): unset it and run {LOGIN}",
            status=refused.status,
        )
    refresh_token = latest.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise AuthError(
            PLATFORM,
            f"TikTok: the access token of {_who(credentials)} is invalid or has expired"
            f"{refused.detail}, and there is no refresh token to renew it: run {LOGIN}",
            status=refused.status,
        )
    ctx.progress.step(PLATFORM, "the access token expired: renewing it")
    return await _refresh(ctx, refresh_token)


def _latest(ctx: PublishContext) -> dict[str, Any]:
    """This platform's table as the credentials file holds it now (another run may have
    renewed the tokens since ``ctx.credentials`` read it)."""
    table = ctx.credentials.store.read().get(PLATFORM, {})
    for key in ("access_token", "refresh_token"):
        value = table.get(key)
        if isinstance(value, str):
            redaction.register(value)
    return dict(table)


async def _refresh(ctx: PublishContext, refresh_token: str) -> str:
    """Trade ``refresh_token`` for new tokens, save them all at once, and return the
    access token.

    A refused refresh token first looks at the file: when another run renewed
    meanwhile (it holds a different refresh token), its tokens are the ones to
    use; otherwise only a new login helps. The token endpoint is tried again on a
    network fault or a 5xx: if TikTok did act on the lost request the old refresh
    token is dead, and the next try says so (a new login), it never loses a token
    that was saved.
    """
    from crosspost import oauth

    credentials = ctx.credentials
    found = _app_credentials(credentials)
    if isinstance(found, list):
        # An AuthError, not a CredentialsError: this can happen after a post started.
        raise AuthError(PLATFORM, _missing_app(credentials, found, "renewing the access token"))
    key, secret = found
    app = oauth_app(_settings(ctx))
    try:
        async for attempt in stamina.retry_context(
            on=TransientError, attempts=TOKEN_ATTEMPTS, timeout=None, wait_max=10.0
        ):
            with attempt:
                tokens = await oauth.refresh(ctx.client, app, key, secret, refresh_token, now=now)
    except oauth.LoginRequiredError as exc:
        adopted = _adopted(ctx, refresh_token)
        if adopted is not None:
            return adopted
        raise AuthError(
            PLATFORM, f"TikTok: {_who(credentials)}: {exc.message}", status=exc.status
        ) from None
    # Saved before anything uses them: the old refresh token no longer works.
    credentials.save(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
        scopes=list(tokens.scopes),
    )
    return tokens.access_token


def _adopted(ctx: PublishContext, used: str) -> str | None:
    """The access token another run stored after renewing with ``used``, if any."""
    latest = _latest(ctx)
    stored, access = latest.get("refresh_token"), latest.get("access_token")
    if isinstance(stored, str) and stored != used and isinstance(access, str) and access:
        return access
    return None


def _unchecked(ctx: PublishContext) -> str | None:
    """Why the account cannot be asked without renewing, or None when it can.

    ``doctor`` never renews: renewal replaces TikTok's refresh token. A stored
    access token past its expiry, with a refresh token in the file, is renewed by
    the next publish; asking TikTok with it now would only be refused.
    """
    credentials = ctx.credentials
    if credentials.from_environment("access_token") or credentials.from_environment(
        "refresh_token"
    ):
        return None
    expires = credentials.expires_at("access_token")
    if expires is None or expires > now() or credentials.get("refresh_token") is None:
        return None
    return (
        f"the access token expired on {_day(expires)}; the next publish renews it, but "
        "asking TikTok now would mean renewing it here, which replaces the refresh token "
        "(doctor never does)"
    )


def _asking(ctx: PublishContext) -> _Auth:
    """The stored access token, as it is: doctor's checks never renew it."""
    return _Auth(ctx, ctx.api(classify), ctx.credentials.require("access_token"), renewable=False)


async def identity(ctx: PublishContext) -> Account:
    """Who the token posts as: user/info's display name and open_id.

    Raises ``ConfigError`` (doctor: "not checked") when only a renewal could tell.
    """
    why = _unchecked(ctx)
    if why is not None:
        raise ConfigError(why)
    user = await _asking(ctx).user_info()
    open_id = str(user.get("open_id") or "") or None
    return Account(str(user.get("display_name") or open_id or "TikTok account"), open_id)


async def diagnose(ctx: PublishContext, post: Post | None) -> list[Finding]:
    """``doctor``'s TikTok checks: the permissions login stored and the modes they allow,
    and (direct mode) the privacy levels TikTok offers this account against the one the
    post will ask for.

    Token lifetimes and photo URLs are doctor's own checks (crosspost.doctor).
    """
    settings = _settings(ctx)
    mode = delivery(post, settings) if post is not None else settings.mode
    findings = _scopes(ctx.credentials, mode)
    if mode == "inbox":
        return findings + _inbox(settings, post)
    why = _unchecked(ctx)
    if why is not None:
        findings.append(Finding("warn", f"privacy levels not checked: {why}"))
        return findings + _privacy(None, post, settings)
    findings += _privacy(await _asking(ctx).creator_info(), post, settings)
    return findings


def _scopes(credentials: Credentials, mode: str) -> list[Finding]:
    """The permissions login stored, the modes they allow, and the configured ``mode``."""
    scopes = credentials.meta("scopes")
    if credentials.from_environment("access_token") or not isinstance(scopes, list):
        return []  # unknown: the first request (creator_info, or the inbox upload) tells
    findings = []
    allowed = [m for m, scope in MODE_SCOPES.items() if scope in scopes]
    needed = MODE_SCOPES[mode]
    if needed not in scopes:
        other = "; the granted ones allow " + " and ".join(allowed) + " mode" if allowed else ""
        findings.append(
            Finding(
                "fail",
                f"[platforms.tiktok] mode is {mode!r}, which posts with '{needed}', but the "
                f"account did not grant it{other}: run {LOGIN} and allow posting, or set mode "
                "to one the app may use (docs/platforms/tiktok.md)",
            )
        )
    else:
        findings.append(
            Finding("ok", "modes the permissions allow: " + ", ".join(allowed) + f" ({mode} set)")
        )
    if "user.info.basic" not in scopes:
        findings.append(
            Finding(
                "warn",
                f"the account did not grant 'user.info.basic': crosspost cannot show whose "
                f"account this is; run {LOGIN} and allow it",
            )
        )
    findings.append(Finding("ok", "permissions: " + ", ".join(str(s) for s in scopes)))
    return findings


def _inbox(settings: TikTokSettings, post: Post | None) -> list[Finding]:
    """Inbox mode: where the posts will be, and direct-only options that do nothing here."""
    findings = [
        Finding(
            "warn",
            "inbox mode: posts wait in the TikTok inbox until someone opens TikTok and "
            "finishes each one (caption, privacy); nothing is public before that",
        )
    ]
    ignored = [k for k in DIRECT_ONLY if k in settings.model_fields_set]
    if post is not None:
        ignored += [k for k in DIRECT_ONLY if post.options.get(k) is not None and k not in ignored]
    if ignored:
        findings.append(
            Finding(
                "warn",
                f"{', '.join(ignored)} apply to direct posts only and are ignored in inbox "
                'mode: remove them from [platforms.tiktok], or set mode = "direct" once TikTok '
                "has audited the app",
            )
        )
    return findings


def _privacy(creator: Creator | None, post: Post | None, settings: TikTokSettings) -> list[Finding]:
    """The privacy level posts will have, against the ones TikTok offers this account
    (``creator``; None when they could not be asked).

    An app TikTok has not audited may post only SELF_ONLY, and only to accounts
    set to private (https://developers.tiktok.com/doc/content-sharing-guidelines):
    such posts are visible to the account alone. A post only the account can see
    must never pass for a public one.
    """
    chosen = (post.options.get("privacy_level") if post is not None else None) or (
        settings.privacy_level
    )
    findings = []
    offered = creator.privacy_options if creator is not None else None
    if offered is not None and chosen not in offered:
        findings.append(
            Finding(
                "fail",
                f"privacy level {chosen} is not one TikTok offers this account "
                f"({', '.join(offered) or 'none'}): set {CONFIG_KEY} to one of them",
            )
        )
    if offered == ("SELF_ONLY",):
        findings.append(
            Finding(
                "warn",
                "TikTok offers this app only SELF_ONLY: it has not passed TikTok's audit, so "
                "posts are private, visible only to the account, and the account must be set "
                "to private in the TikTok app (see docs/platforms/tiktok.md)",
            )
        )
    elif chosen == "SELF_ONLY":
        findings.append(
            Finding(
                "warn",
                f"posts will be private (SELF_ONLY), visible only to the account: set "
                f"{CONFIG_KEY} to PUBLIC_TO_EVERYONE to make them public",
            )
        )
    elif offered is not None and chosen in offered:
        findings.append(Finding("ok", f"posts will be {chosen}"))
    return findings
