"""Publishing to YouTube: a Google token refresh, then a resumable upload (videos.insert).

Source: platform-apis.md §5 (YouTube Data API v3).

1. ``POST https://oauth2.googleapis.com/token`` (``grant_type=refresh_token``) gives a
   short-lived access token (§5.1). Safe to repeat.
2. ``POST https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status``
   with the video resource as JSON and ``X-Upload-Content-Length``/``-Type`` answers 200
   with the session URI in ``Location`` (§5.2 step 1). Starting a session publishes
   nothing, so this is safe to repeat too.
3. ``PUT <session>`` sends the file in chunks with ``Content-Range: bytes a-b/total``;
   each non-final chunk is a multiple of 256 KiB and answers ``308 Resume Incomplete``
   with ``Range: bytes=0-N``; the final chunk answers 200/201 with the video (§5.2 step 3).
4. After a dropped connection or a 5xx, ``PUT <session>`` with ``Content-Range: bytes */total``
   asks what arrived: 308 (+``Range``) means resume from there, 200/201 means the upload
   already completed (§5.2 step 4). A 404 means the session expired: start once more.

There is no idempotency key (§5.5): the session is the safety net. The video only exists
once its last byte arrives, and the session can always be asked whether that happened.
The journal therefore gets the session URI (``session``, with the file's ``size``) as soon
as it exists, and ``sending`` (``final_sent``) just before the final chunk, the one step
that creates the video; ``reconcile`` asks the session with the same probe and the same
reading of its answer (``_state``) as a lost answer in the run itself (docs/reconcile.md).
The session URI carries an ``upload_id`` that lets anyone holding it finish the upload:
it is registered with ``crosspost.redaction`` so that no message ever shows it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx

from crosspost import redaction
from crosspost.adapter import Post, Published, Sent
from crosspost.api import (
    SAFE_ATTEMPTS,
    Api,
    ContentFactory,
    PublishContext,
    excerpt,
    file_chunks,
    file_size,
    json_body,
    retry_after,
)
from crosspost.credentials import env_name
from crosspost.errors import (
    AuthError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.redaction import redact

if TYPE_CHECKING:
    from crosspost_adapters.youtube import YouTubeAdapter, YouTubeSettings

TOKEN_URL = "https://oauth2.googleapis.com/token"
UPLOAD_URL = "https://www.googleapis.com/upload/youtube/v3/videos"
WATCH_URL = "https://www.youtube.com/watch?v={id}"
UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
#: The API quota resets at midnight Pacific Time (§5.4).
QUOTA_ZONE = "America/Los_Angeles"
#: YouTube does not say when a channel's daily upload limit resets (UNVERIFIED): a day.
UPLOAD_LIMIT_WAIT = 24 * 3600.0
#: Rounds in a row that move the upload no further before we give up (nothing published).
MAX_STALLS = SAFE_ATTEMPTS

_CONTENT_REASONS = {
    "invalidTitle": "the title",
    "invalidDescription": "the description",
    "invalidTags": "the tags",
    "invalidCategoryId": "the category (category_id in config)",
    "invalidVideoMetadata": "the video's details",
    "invalidPublishAt": "the scheduled publishing time",
    "invalidFilename": "the file name",
    "defaultLanguageNotSet": "the language (default_language in config)",
    "mediaBodyRequired": "the upload: it arrived without the video",
    "forbiddenPrivacySetting": "the privacy setting (privacy_status)",
    "forbiddenLicenseSetting": "the licence setting",
}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
#: Seconds to wait on a rate-limit answer that names no wait.
RATE_LIMIT_BACKOFF = 2.0
_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
_SCOPE_REASONS = {"forbidden", "insufficientPermissions"}


async def publish(adapter: YouTubeAdapter, post: Post, ctx: PublishContext) -> Published:
    """Upload ``post``'s video with its title, description and tags; return the video."""
    settings = _settings(ctx)
    # Every secret first: a missing one must stop us before any request is made.
    client_id = ctx.credentials.require("client_id")
    client_secret = ctx.credentials.require("client_secret")
    refresh_token = ctx.credentials.require("refresh_token")
    video = next((m for m in post.media if m.is_video), None)
    if video is None or video.path is None:
        raise InvalidContentError(
            ctx.platform, "YouTube needs a local video file, and this post has none"
        )
    total = file_size(video.path)
    if total == 0:
        raise InvalidContentError(ctx.platform, f"{video.name}: the video file is empty")
    metadata = _metadata(post, settings)

    api = ctx.api(classify)
    token = _Token(api, client_id, client_secret, refresh_token)
    await token.refresh()

    upload = _Upload(
        api=api,
        ctx=ctx,
        token=token,
        metadata=metadata,
        notify=settings.notify_subscribers,
        path=video.path,
        name=video.name,
        mime=video.mime,
        total=total,
        chunk_size=settings.chunk_size,
    )
    ctx.progress.step(ctx.platform, "uploading video")
    try:
        resource = await upload.run()
    except _SessionExpired:
        # The session URI expired before the last byte arrived, so no video exists:
        # a new session from byte 0 cannot post twice. Only once, so a server that
        # keeps forgetting sessions cannot keep us uploading for ever.
        ctx.progress.step(ctx.platform, "upload session expired: uploading again")
        try:
            resource = await upload.run()
        except _SessionExpired:
            raise TransientError(
                ctx.platform,
                "YouTube: the upload session expired twice; nothing was published; try again later",
            ) from None
    return _published(ctx.platform, resource)


async def reconcile(
    adapter: YouTubeAdapter, post: Post, sent: Sent, ctx: PublishContext
) -> Published | None:
    """Ask the journaled upload session whether the upload completed (docs/reconcile.md).

    No session: no byte was sent, so no video exists. 200/201: the video. 308: the
    upload is incomplete, and a video exists only once every byte arrived. 404/410:
    the session is gone; if the final chunk was sent it may have completed first,
    which only the channel can tell, else nothing was created.
    """
    handles = sent.handles
    location = handles.get("session")
    if not isinstance(location, str) or not location:
        return None
    _keep_secret(location)
    total = handles.get("size")
    if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
        video = next((m for m in post.media if m.is_video and m.path is not None), None)
        if video is None or video.path is None:
            raise UnknownOutcomeError(
                ctx.platform,
                "YouTube: the journal has an upload session but not the video's size, and "
                "the video file is not here to measure: check the channel's videos in "
                "YouTube Studio",
            )
        total = file_size(video.path)
    api = ctx.api(classify)
    token = _Token(
        api,
        ctx.credentials.require("client_id"),
        ctx.credentials.require("client_secret"),
        ctx.credentials.require("refresh_token"),
    )
    ctx.progress.step(ctx.platform, "asking the upload session")
    try:
        await token.refresh()
        state = _state(await _probe(api, token, api.url(location), total))
    except PlatformError as exc:
        raise UnknownOutcomeError(
            ctx.platform,
            redact(
                f"YouTube: the upload session cannot be asked whether the upload completed "
                f"({exc.message}); the next run asks again"
            ),
            status=exc.status,
        ) from None
    if state.video is not None:
        return _published(ctx.platform, state.video)
    if state.gone:
        if handles.get("final_sent") is True:
            raise UnknownOutcomeError(
                ctx.platform,
                "YouTube: the upload session is gone, and the last part of the video was sent "
                "before it went, so the upload may have completed: check the channel's videos "
                "in YouTube Studio, then record what you find",
            )
        return None
    return None


def _keep_secret(location: str) -> None:
    """Register the session's ``upload_id`` (the whole URI without one) for redaction."""
    upload_id = str(httpx.URL(location).params.get("upload_id") or "")
    redaction.register(upload_id or location)


def _published(platform: str, resource: dict[str, Any]) -> Published:
    """The video YouTube created, from its resource."""
    video_id = resource.get("id")
    if not isinstance(video_id, str) or not video_id:
        # The upload completed (200/201) but without an id we cannot say where it is.
        raise UnknownOutcomeError(
            platform,
            "YouTube accepted the upload but its answer has no video id; check the channel's "
            "videos in YouTube Studio before publishing again",
        )
    return Published(remote_id=video_id, url=WATCH_URL.format(id=video_id))


def _settings(ctx: PublishContext) -> YouTubeSettings:
    from crosspost_adapters.youtube import YouTubeSettings

    if isinstance(ctx.settings, YouTubeSettings):
        return ctx.settings
    # A bare PlatformSettings (a library caller): YouTube's own keys take their defaults.
    return YouTubeSettings(**ctx.settings.model_dump())


def _metadata(post: Post, settings: YouTubeSettings) -> dict[str, Any]:
    """The video resource for the session POST: exactly what the plan shows."""
    if post.title is None:
        raise InvalidContentError(post.platform, "YouTube needs a title, and this post has none")
    snippet: dict[str, Any] = {
        "title": post.title.text,
        "description": post.parts[0].text if post.parts else "",
        "tags": list(post.extra.get("tags", [])),
        "categoryId": settings.category_id,
    }
    if settings.default_language:
        snippet["defaultLanguage"] = settings.default_language
    return {
        "snippet": snippet,
        "status": {
            "privacyStatus": post.options.get("privacy_status", settings.privacy_status),
            "selfDeclaredMadeForKids": settings.made_for_kids,
        },
    }


class _Token:
    """The access token, refreshed from the long-lived refresh token when needed."""

    def __init__(self, api: Api, client_id: str, client_secret: str, refresh_token: str) -> None:
        self.api = api
        self.form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self.value = ""

    async def refresh(self) -> None:
        """Get a new access token (safe to repeat: it publishes nothing)."""
        response = await self.api.call("POST", TOKEN_URL, ok=(200,), data=self.form)
        body = json_body(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(
                self.api.platform,
                f"YouTube: Google's token answer has no access token ({excerpt(response)}); "
                "reconnect YouTube",
                status=response.status_code,
            )
        self.value = redaction.register(token)

    @property
    def header(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.value}"}


class _SessionExpired(Exception):
    """The session URI answered 404 before the upload completed: nothing was created."""


class _Resend(Exception):
    """A chunk's first attempt failed: ask the session what arrived before sending more."""


def _once(factory: ContentFactory) -> ContentFactory:
    """``factory`` for one attempt only; a retry raises ``_Resend`` instead of sending.

    ``Api.call`` retries transient failures by sending the same request again. For a
    chunk that is wrong: part of it (or all of it, or the whole upload) may have
    arrived, and the session must be asked before anything is sent again. A retry
    therefore stops here, before the request goes out, and the caller probes.
    """
    used = False

    def body() -> bytes | AsyncIterator[bytes]:
        nonlocal used
        if used:
            raise _Resend
        used = True
        return factory()

    return body


@dataclass
class _Upload:
    """One resumable upload of one file; ``run`` may be called again for a new session."""

    api: Api
    ctx: PublishContext
    token: _Token
    metadata: dict[str, Any]
    notify: bool
    path: Path
    name: str
    mime: str
    total: int
    chunk_size: int
    session: str = ""
    #: Whether the final chunk went out in this session: from then on a lost answer
    #: may mean the video exists, so only the session's own word settles it.
    final_sent: bool = False

    async def run(self) -> dict[str, Any]:
        """Start a session and send the file; the video resource YouTube created."""
        self.final_sent = False
        location = await self._start()
        self.session = self.api.url(location)
        # The URI as YouTube gave it (rebased again when used): what a later run asks.
        self.ctx.remember(session=location, size=self.total, final_sent=False)
        self.ctx.progress.upload_started(self.ctx.platform, self.name, self.total)
        offset = 0  # the next byte the server wants, always as the server last said
        stalls = 0
        probe = False
        refreshed = False
        while True:
            try:
                if probe or offset >= self.total:
                    response = await self._probe()
                else:
                    response = await self._send(offset)
            except _Resend:
                probe = True
                continue
            except PlatformError as exc:
                if exc.status == 401 and isinstance(exc, AuthError) and not refreshed:
                    # Access tokens last about an hour; a long upload outlives one.
                    refreshed = True
                    await self.token.refresh()
                    probe = True
                    continue
                if probe and self.final_sent:
                    raise self._unknown(exc) from exc
                raise
            probe = False
            refreshed = False
            state = _state(response)
            if state.video is not None:
                return state.video
            if state.gone:
                if self.final_sent:
                    # Gone after the last byte went out: it may have completed first.
                    raise self._unknown(None)
                raise _SessionExpired
            # 308 Resume Incomplete: trust the server's Range, not our own count. The
            # upload is not complete, so whatever happened to a final chunk sent
            # earlier, it did not create the video.
            self.final_sent = False
            received = state.received
            if received > self.total:
                raise TransientError(
                    self.ctx.platform,
                    f"YouTube says it received {received} bytes of a {self.total}-byte file; "
                    "nothing was published; try again",
                )
            if received > offset:
                stalls = 0
            else:
                stalls += 1
                if stalls >= MAX_STALLS:
                    raise TransientError(
                        self.ctx.platform,
                        f"YouTube: the upload of {self.name} keeps failing at byte {received}; "
                        "nothing was published; try again later",
                    )
            offset = received

    async def _start(self) -> str:
        """Open a session; its URI as YouTube gave it (registered for redaction)."""
        body = json.dumps(self.metadata, ensure_ascii=False).encode("utf-8")
        url = (
            f"{UPLOAD_URL}?uploadType=resumable&part=snippet,status"
            f"&notifySubscribers={'true' if self.notify else 'false'}"
        )
        response = await self.api.call(
            "POST",
            url,
            ok=(200, 201),
            content=lambda: body,
            headers={
                **self.token.header,
                "Content-Type": "application/json; charset=UTF-8",
                "X-Upload-Content-Length": str(self.total),
                "X-Upload-Content-Type": self.mime,
            },
        )
        location = str(response.headers.get("location") or "")
        if not location:
            raise TransientError(
                self.ctx.platform,
                "YouTube started no upload session (its answer has no Location); "
                "nothing was published; try again",
                status=response.status_code,
            )
        _keep_secret(location)
        return location

    async def _send(self, offset: int) -> httpx.Response:
        """Send the chunk starting at ``offset``; 308, 200/201 or 404 come back."""
        end = min(offset + self.chunk_size, self.total)
        if end == self.total:
            # The final chunk is the create in effect: when it lands, the video exists.
            # It is still sent with ``call``, not ``create``: if its answer is lost, the
            # probe asks the session whether the upload completed (201 + the video) or
            # not (308), so the outcome is known and the video is never made twice.
            # The journal records it first, so a run that dies now is reconciled.
            self.ctx.sending(final_sent=True)
            self.final_sent = True
        chunk = file_chunks(
            self.path,
            offset,
            end,
            progress=self.ctx.progress,
            platform=self.ctx.platform,
            name=self.name,
        )
        return await self.api.call(
            "PUT",
            self.session,
            ok=(200, 201, 308, *GONE),
            content=_once(chunk),
            rebased=True,
            headers={
                **self.token.header,
                "Content-Length": str(end - offset),
                "Content-Range": f"bytes {offset}-{end - 1}/{self.total}",
                "Content-Type": self.mime,
            },
        )

    async def _probe(self) -> httpx.Response:
        """Ask the session what it received (safe: it sends no bytes)."""
        return await _probe(self.api, self.token, self.session, self.total)

    def _unknown(self, cause: PlatformError | None) -> UnknownOutcomeError:
        why = f" ({cause.message})" if cause is not None else " (the session is gone)"
        return UnknownOutcomeError(
            self.ctx.platform,
            redact(
                f"YouTube: the last part of {self.name} was sent but its answer was lost, and "
                f"asking the upload session failed too{why}; the video may or may not have "
                "been published: check the channel's videos in YouTube Studio before "
                "publishing again"
            ),
        )


#: Answers of a session that no longer exists: 404 (expired, §5.2 step 4), 410 (gone).
GONE = (404, 410)


async def _probe(api: Api, token: _Token, session: str, total: int) -> httpx.Response:
    """``PUT <session>`` with ``Content-Range: bytes */total``: what the session holds.

    Safe to repeat: it sends no bytes. ``session`` is already pointed at ``api_base``.
    """
    return await api.call(
        "PUT",
        session,
        ok=(200, 201, 308, *GONE),
        content=lambda: b"",
        rebased=True,
        headers={
            **token.header,
            "Content-Length": "0",
            "Content-Range": f"bytes */{total}",
        },
    )


@dataclass(frozen=True, slots=True)
class _State:
    """What a session's answer says: the video it created, the bytes it holds, or gone."""

    video: dict[str, Any] | None = None
    received: int = 0
    gone: bool = False


def _state(response: httpx.Response) -> _State:
    """The one reading of a session's answer (a chunk's or a probe's), for run and reconcile."""
    status = response.status_code
    if status in (200, 201):
        resource = json_body(response)
        return _State(video=resource if isinstance(resource, dict) else {})
    if status in GONE:
        return _State(gone=True)
    return _State(received=_received(response))


def _received(response: httpx.Response) -> int:
    """How many bytes a 308 says arrived: ``Range: bytes=0-N`` means N+1; no Range, none."""
    value = response.headers.get("range", "").strip()
    if not value:
        return 0
    try:
        unit, span = value.split("=", 1)
        first, last = span.split("-", 1)
        if unit.strip() != "bytes" or int(first) != 0:
            raise ValueError(value)
        return int(last) + 1
    except ValueError:
        raise TransientError(
            "youtube",
            f"YouTube answered the upload with an unreadable Range header ({redact(value)}); "
            "nothing was published; try again",
        ) from None


def classify(response: httpx.Response) -> PlatformError:
    """Map a Google/YouTube error answer (§5.1, §5.4) to crosspost's error tree."""
    status = response.status_code
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):  # the OAuth token endpoint's shape
        return _oauth_error(response, error, body)
    message, reason = "", ""
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        errors = error.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            reason = str(errors[0].get("reason") or "")
            message = message or str(errors[0].get("message") or "")
    said = redact(message) if message else excerpt(response) or f"HTTP {status}"

    if reason in _QUOTA_REASONS:
        return RateLimitedError(
            "youtube",
            "YouTube API quota used up; it resets at midnight Pacific Time: "
            "publish again after that",
            status=status,
            retry_after=_until_quota_reset(),
        )
    if reason == "uploadLimitExceeded":
        return RateLimitedError(
            "youtube",
            "YouTube: this channel reached its daily upload limit; try again tomorrow",
            status=status,
            retry_after=UPLOAD_LIMIT_WAIT,
        )
    if reason in _RATE_REASONS or status == 429:
        return RateLimitedError(
            "youtube",
            f"YouTube: too many requests ({said}); try again shortly",
            status=status,
            # Google asks for exponential backoff on these (core_errors): without a
            # Retry-After, a short wait lets the retry layer back off and try again.
            retry_after=retry_after(response) or RATE_LIMIT_BACKOFF,
        )
    if reason in _CONTENT_REASONS:
        return InvalidContentError(
            "youtube", f"YouTube refused {_CONTENT_REASONS[reason]}: {said}", status=status
        )
    if reason == "youtubeSignupRequired":
        return AuthError(
            "youtube",
            "YouTube: the account has no YouTube channel; create one on youtube.com with "
            "this Google account, then reconnect YouTube",
            status=status,
        )
    if reason in _SCOPE_REASONS:
        return AuthError(
            "youtube",
            f"YouTube: not allowed to upload videos ({said}); reconnect YouTube and grant "
            f"the upload permission (scope {UPLOAD_SCOPE})",
            status=status,
        )
    if status == 401 or reason == "authError":
        return AuthError(
            "youtube",
            f"YouTube refused the access token ({said}); reconnect YouTube",
            status=status,
        )
    if status >= 500 or reason in ("internalError", "backendError"):
        return TransientError(
            "youtube", f"YouTube had a temporary problem ({said}); try again later", status=status
        )
    if status == 403:
        return AuthError(
            "youtube", f"YouTube refused the request ({said}); check the account", status=status
        )
    return InvalidContentError("youtube", f"YouTube refused the upload: {said}", status=status)


def _oauth_error(response: httpx.Response, error: str, body: dict[str, Any]) -> PlatformError:
    status = response.status_code
    detail = body.get("error_description")
    said = redact(f"{error}: {detail}" if isinstance(detail, str) else error)
    if error == "invalid_grant":
        return AuthError(
            "youtube",
            "YouTube: the refresh token has expired or was revoked. Google expires refresh "
            'tokens after 7 days while the app\'s OAuth consent screen is in "Testing" '
            "status. Reconnect YouTube and set the new token in "
            f"{env_name('youtube', 'refresh_token')}",
            status=status,
        )
    if error in ("invalid_client", "unauthorized_client"):
        return AuthError(
            "youtube",
            f"YouTube: Google refused the OAuth client ({said}); check "
            f"{env_name('youtube', 'client_id')} and {env_name('youtube', 'client_secret')}",
            status=status,
        )
    if status >= 500:
        return TransientError(
            "youtube", f"YouTube: Google's sign-in had a temporary problem ({said})", status=status
        )
    return AuthError(
        "youtube",
        f"YouTube: Google refused the token refresh ({said}); reconnect YouTube",
        status=status,
    )


def _until_quota_reset() -> float:
    """Seconds until the next midnight Pacific Time, when the API quota resets."""
    now = datetime.now(ZoneInfo(QUOTA_ZONE))
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    # Compare in UTC: a day with a daylight-saving change is not 24 hours long.
    return max((midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds(), 0.0)
