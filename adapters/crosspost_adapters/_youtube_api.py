"""Publishing to YouTube: a Google token refresh, then a resumable upload (videos.insert).

Sources: Google's OAuth 2.0 pages (https://developers.google.com/identity/protocols/oauth2)
and the resumable upload protocol
(https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol);
docs/platforms/youtube.md summarises them.

1. ``POST https://oauth2.googleapis.com/token`` (``grant_type=refresh_token``) gives a
   short-lived access token (OAuth 2.0, refreshing an access token). Safe to repeat.
2. ``POST https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status``
   with the video resource as JSON and ``X-Upload-Content-Length``/``-Type`` answers 200
   with the session URI in ``Location`` (upload protocol, step 1). Starting a session publishes
   nothing, so this is safe to repeat too.
3. ``PUT <session>`` sends the file in chunks with ``Content-Range: bytes a-b/total``;
   each non-final chunk is a multiple of 256 KiB and answers ``308 Resume Incomplete``
   with ``Range: bytes=0-N``; the final chunk answers 200/201 with the video (step 3).
4. After a dropped connection or a 5xx, ``PUT <session>`` with ``Content-Range: bytes */total``
   asks what arrived: 308 (+``Range``) means resume from there, 200/201 means the upload
   already completed (step 4). A 404 means the session expired: start once more.

There is no idempotency key: the session is the safety net. The video only exists
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
from crosspost.adapter import Account, Finding, Login, LoginSession, Post, Published, Sent
from crosspost.api import (
    MAX_RATE_LIMIT_WAIT,
    SAFE_ATTEMPTS,
    Api,
    ContentFactory,
    PublishContext,
    excerpt,
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
from crosspost.redaction import redact

if TYPE_CHECKING:
    from crosspost.oauth import OAuthApp
    from crosspost_adapters.youtube import YouTubeAdapter, YouTubeSettings

PLATFORM = "youtube"

TOKEN_URL = "https://oauth2.googleapis.com/token"
#: Google's consent page for installed apps (loopback redirect, PKCE):
#: https://developers.google.com/identity/protocols/oauth2/native-app
AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
UPLOAD_URL = "https://www.googleapis.com/upload/youtube/v3/videos"
CHANNELS_URL = "https://www.googleapis.com/youtube/v3/channels"
WATCH_URL = "https://www.youtube.com/watch?v={id}"
CHANNEL_URL = "https://www.youtube.com/channel/{id}"
UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
#: channels.list does not accept youtube.upload; any of these lets it read the channel
#: (https://developers.google.com/youtube/v3/docs/channels/list#auth).
READ_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/youtube.readonly",
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.force-ssl",
        "https://www.googleapis.com/auth/youtubepartner",
    }
)
#: What ``crosspost auth login youtube`` asks for: uploading, and reading the channel.
SCOPES = (UPLOAD_SCOPE, "https://www.googleapis.com/auth/youtube.readonly")
LOGIN = "crosspost auth login youtube"
#: A stored access token is used while it has this many seconds left (an upload that
#: outlives it refreshes on the 401).
MARGIN = 300.0
#: Google expires refresh tokens 7 days after the login while the OAuth consent
#: screen is in "Testing" (https://developers.google.com/identity/protocols/oauth2#expiration).
TESTING_DAYS = 7
#: The API quota resets at midnight Pacific Time (quota and compliance audits page).
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
    api = ctx.api(classify)
    # Every secret first: a missing one must stop us before any request is made.
    token = _Token(ctx, api)
    video = next((m for m in post.media if m.is_video), None)
    if video is None or video.path is None:
        raise InvalidContentError(
            ctx.platform, "YouTube needs a local video file, and this post has none"
        )
    total = file_size(video.path)
    if total == 0:
        raise InvalidContentError(ctx.platform, f"{video.name}: the video file is empty")
    metadata = _metadata(post, settings)
    await token.ready()

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
    token = _Token(ctx, api)
    ctx.progress.step(ctx.platform, "asking the upload session")
    try:
        await token.ready()
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
    # The language of the title and description (the announcement's ``language``, put
    # in the plan by render); defaultAudioLanguage, the language spoken in the video,
    # is not the text's and is left to YouTube Studio (docs/platforms/youtube.md).
    language = post.extra.get("language") or settings.default_language
    if language:
        snippet["defaultLanguage"] = language
    return {
        "snippet": snippet,
        "status": {
            "privacyStatus": post.options.get("privacy_status", settings.privacy_status),
            "selfDeclaredMadeForKids": settings.made_for_kids,
        },
    }


class _Token:
    """The access token: the stored one while it lasts, else one refreshed from the
    long-lived refresh token (Google does not rotate refresh tokens).

    With ``keep``, a refreshed access token is saved in the credentials file with
    its expiry and scopes, so the next step (or run) does not refresh again; only
    beside a refresh token stored there by ``crosspost auth login``. Doctor's
    checks pass ``keep=False``: they write nothing.
    """

    def __init__(self, ctx: PublishContext, api: Api, *, keep: bool = True) -> None:
        credentials = ctx.credentials
        self.ctx = ctx
        self.api = api
        self.form = {
            "grant_type": "refresh_token",
            "refresh_token": credentials.require("refresh_token"),
            "client_id": credentials.require("client_id"),
            "client_secret": credentials.require("client_secret"),
        }
        self.stored = not credentials.from_environment("refresh_token")
        self.keep = keep and self.stored
        self.value = ""
        #: What Google granted, when known (the refresh answer's ``scope``, or login's).
        self.scopes: tuple[str, ...] | None = None

    async def ready(self) -> None:
        """Have an access token: the stored one when it has ``MARGIN`` left, else refresh."""
        credentials = self.ctx.credentials
        if self.stored and not credentials.from_environment("access_token"):
            stored = credentials.get("access_token")
            expires = credentials.expires_at("access_token")
            if stored and expires is not None and expires > now() + timedelta(seconds=MARGIN):
                self.value = stored
                scopes = credentials.meta("scopes")
                self.scopes = tuple(str(s) for s in scopes) if isinstance(scopes, list) else None
                return
        await self.refresh()

    async def refresh(self) -> None:
        """Get a new access token (safe to repeat: it publishes nothing).

        A 429 is waited out by ``Api.call``: the Retry-After Google names (or a short
        backoff without one), each wait at most ``api.MAX_RATE_LIMIT_WAIT``, for
        ``SAFE_ATTEMPTS`` attempts. That is a passing fault of Google's sign-in, not of
        the login, so it is never "log in again": still refused after those attempts, a
        retryable ``TransientError`` for the next run; asked to wait longer than we sit
        out, a ``RateLimitedError`` carrying that wait (retryable too), as every
        platform reports a long rate limit. A refused refresh token says why it may
        have happened and how to log in again.
        """
        try:
            response = await self.api.call("POST", TOKEN_URL, ok=(200,), data=self.form)
        except _GrantRefused as exc:
            raise AuthError(
                PLATFORM, _refused(self.ctx.credentials, exc.detail), status=exc.status
            ) from None
        except RateLimitedError as exc:
            busy = (
                f"YouTube: Google's sign-in service is busy ({_busy(exc)}); nothing was "
                "published; the next run tries again"
            )
            wait = exc.retry_after
            if wait is not None and wait > MAX_RATE_LIMIT_WAIT:
                raise RateLimitedError(
                    PLATFORM, busy, status=exc.status, retry_after=wait
                ) from None
            raise TransientError(PLATFORM, busy, status=exc.status) from None
        body = json_body(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(
                self.api.platform,
                f"YouTube: Google's token answer has no access token ({excerpt(response)}); "
                f"run {LOGIN}",
                status=response.status_code,
            )
        assert isinstance(body, dict)
        self.value = redaction.register(token)
        scope = body.get("scope")
        if isinstance(scope, str) and scope.strip():
            self.scopes = tuple(scope.split())
        if self.keep:
            lifetime = body.get("expires_in")
            seconds = 0
            if isinstance(lifetime, int) and not isinstance(lifetime, bool):
                seconds = lifetime
            facts: dict[str, Any] = {
                "access_token": token,
                "expires_at": now() + timedelta(seconds=seconds) if seconds > 0 else None,
            }
            if self.scopes is not None:
                facts["scopes"] = list(self.scopes)
            self.ctx.credentials.save(**facts)

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
                    try:
                        await self.token.refresh()
                    except PlatformError as failed:
                        # The last part may have landed already: only the session knows.
                        if self.final_sent:
                            raise self._unknown(failed) from failed
                        raise
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


#: Answers of a session that no longer exists: 404 (expired, upload protocol step 4), 410.
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
    """Map a Google/YouTube error answer (OAuth errors, YouTube's error reference
    https://developers.google.com/youtube/v3/docs/errors) to crosspost's error tree."""
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
            f"this Google account, then run {LOGIN}",
            status=status,
        )
    if reason in _SCOPE_REASONS:
        return AuthError(
            "youtube",
            f"YouTube: not allowed to upload videos ({said}); run {LOGIN} and grant "
            f"the upload permission (scope {UPLOAD_SCOPE})",
            status=status,
        )
    if status == 401 or reason == "authError":
        return AuthError(
            "youtube",
            f"YouTube refused the access token ({said}); run {LOGIN}",
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


class _GrantRefused(AuthError):
    """Google's ``invalid_grant`` on a refresh: the refresh token no longer works.
    ``detail`` is Google's own words; ``_Token.refresh`` adds the account."""

    def __init__(self, message: str, *, status: int, detail: str) -> None:
        super().__init__(PLATFORM, message, status=status)
        self.detail = detail


def _oauth_error(response: httpx.Response, error: str, body: dict[str, Any]) -> PlatformError:
    """An answer of Google's token endpoint (``{"error", "error_description"}``)."""
    status = response.status_code
    detail = body.get("error_description")
    said = redact(f"{error}: {detail}" if isinstance(detail, str) else error)
    if status == 429 or error in ("rate_limit_exceeded", "slow_down"):
        # Not a refused token: wait (Retry-After) and try again, never "log in again".
        return RateLimitedError(
            PLATFORM,
            f"YouTube: Google's sign-in is limiting requests ({said}); try again shortly",
            status=status,
            retry_after=retry_after(response) or RATE_LIMIT_BACKOFF,
        )
    if error == "invalid_grant":
        return _GrantRefused(_refused(None, said), status=status, detail=said)
    if error in ("invalid_client", "unauthorized_client"):
        return AuthError(
            PLATFORM,
            f"YouTube: Google refused the OAuth client ({said}); check "
            f"{env_name(PLATFORM, 'client_id')} and {env_name(PLATFORM, 'client_secret')} "
            "(or client_id and client_secret under [youtube] in the credentials file)",
            status=status,
        )
    if status >= 500:
        return TransientError(
            PLATFORM, f"YouTube: Google's sign-in had a temporary problem ({said})", status=status
        )
    return AuthError(
        PLATFORM, f"YouTube: Google refused the token refresh ({said}); run {LOGIN}", status=status
    )


def _busy(exc: RateLimitedError) -> str:
    """How long Google asked us to wait, in words, for a token refresh refused with 429."""
    wait = exc.retry_after
    if wait is not None and wait > MAX_RATE_LIMIT_WAIT:
        return f"HTTP 429, asked to wait {_duration(wait)}"
    return "HTTP 429 after several attempts"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def _refused(credentials: Credentials | None, said: str) -> str:
    """Why Google refuses a refresh token, what to do, and whose account it is."""
    account = credentials.meta("account") if credentials is not None else None
    who = f' of the channel "{account}"' if isinstance(account, str) and account else ""
    text = (
        f"YouTube: Google says the refresh token{who} has expired or was revoked ({said}). "
        "Likely causes: access was removed from the Google account "
        "(https://myaccount.google.com/permissions), the token went unused for 6 months, or "
        'the app\'s OAuth consent screen is in "Testing", where Google expires refresh '
        f'tokens {TESTING_DAYS} days after the login: set its publishing status to "In '
        'production" in the Google Cloud console (docs/platforms/youtube.md). Then run '
        f"{LOGIN}"
    )
    if credentials is not None and credentials.from_environment("refresh_token"):
        text += (
            f" and unset {env_name(PLATFORM, 'refresh_token')} (crosspost keeps the new one in "
            "its credentials file), or set the new one there"
        )
    return text


def _until_quota_reset() -> float:
    """Seconds until the next midnight Pacific Time, when the API quota resets."""
    now = datetime.now(ZoneInfo(QUOTA_ZONE))
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    # Compare in UTC: a day with a daylight-saving change is not 24 hours long.
    return max((midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds(), 0.0)


# -- accounts: login, renewal, identity, doctor (docs/platforms/youtube.md) -------------


def now() -> datetime:
    """The current time (UTC); tests replace it to move days ahead."""
    return datetime.now(UTC)


def oauth_app(settings: PlatformSettings) -> OAuthApp:
    """Google's authorization server, pointed at ``api_base`` like every other call.

    ``access_type=offline`` asks for a refresh token and ``prompt=consent`` gets a
    new one even when the account had granted access before
    (https://developers.google.com/identity/protocols/oauth2/native-app).
    """
    from crosspost.oauth import OAuthApp

    return OAuthApp(
        platform=PLATFORM,
        display_name="YouTube",
        authorize_url=rebase(AUTHORIZE_URL, settings.api_base),
        token_url=rebase(TOKEN_URL, settings.api_base),
        scopes=SCOPES,
        extra_authorize={"access_type": "offline", "prompt": "consent"},
        pkce="S256",
    )


async def login(session: LoginSession) -> Login:
    """Google OAuth for an installed app, then the channel the account uploads to.

    The OAuth client (a "Desktop app" client id and secret from the Google Cloud
    console) comes from the environment or the credentials file.
    """
    from crosspost import oauth
    from crosspost_adapters.youtube import YouTubeAdapter

    credentials = session.credentials
    client_id, client_secret = credentials.get("client_id"), credentials.get("client_secret")
    missing = [k for k, v in (("client_id", client_id), ("client_secret", client_secret)) if not v]
    if missing or client_id is None or client_secret is None:
        names = " and ".join(env_name(PLATFORM, k) for k in missing)
        raise CredentialsError(
            f"youtube: logging in needs the OAuth client's {' and '.join(missing)}: create an "
            f'OAuth client of type "Desktop app" in the Google Cloud console '
            f"({YouTubeAdapter.console_url}), then set {names}, or add {', '.join(missing)} "
            f"under [youtube] in {credentials.store.path} (mode 0600). See "
            "docs/platforms/youtube.md"
        )
    tokens = await oauth.login(
        oauth_app(session.settings),
        client_id,
        client_secret,
        client=session.client,
        open_browser=session.open_browser,
        paste=session.ask,
        say=session.say,
        now=now,
    )
    if not tokens.refresh_token:
        raise AuthError(
            PLATFORM,
            "Google granted no refresh token, so crosspost could not renew access by itself: "
            f"run {LOGIN} again",
        )
    if UPLOAD_SCOPE not in tokens.scopes:
        raise AuthError(
            PLATFORM,
            f"Google did not grant uploading ({UPLOAD_SCOPE}): run {LOGIN} again and leave "
            '"Manage your YouTube videos" ticked on the consent page',
        )
    ctx = PublishContext(
        client=session.client,
        platform=PLATFORM,
        settings=session.settings,
        credentials=credentials,
    )
    header = {"Authorization": f"Bearer {tokens.access_token}"}
    if READ_SCOPES & set(tokens.scopes):
        account = await _channel(ctx.api(classify), header)
    else:
        account = Account("YouTube channel")
        session.say(
            "Google did not grant reading the channel (youtube.readonly): crosspost cannot "
            "show its name, but uploading works."
        )
    return Login(
        account=account,
        # The OAuth client too: cron refreshes with it, perhaps without this environment.
        secrets={
            "refresh_token": tokens.refresh_token,
            "access_token": tokens.access_token,
            "client_id": client_id,
            "client_secret": client_secret,
        },
        expires_at=tokens.expires_at,
        scopes=tokens.scopes,
    )


async def _channel(api: Api, header: dict[str, str]) -> Account:
    """channels.list (part=snippet, mine=true): the channel's title, id and address."""
    response = await api.call(
        "GET", CHANNELS_URL, params={"part": "snippet", "mine": "true"}, headers=header
    )
    body = json_body(response)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        raise AuthError(
            PLATFORM,
            "YouTube: this Google account has no YouTube channel; create one on youtube.com "
            f"with it, then run {LOGIN}",
        )
    item = items[0]
    channel_id = str(item.get("id") or "") or None
    snippet = item.get("snippet")
    named = snippet.get("title") if isinstance(snippet, dict) else None
    title = str(named or channel_id or "YouTube channel")
    url = CHANNEL_URL.format(id=channel_id) if channel_id else None
    return Account(title, channel_id, url)


async def renew(ctx: PublishContext, horizon: float) -> None:
    """Refresh the access token when it expires within ``horizon`` seconds (or nobody knows).

    Only a refresh token stored by ``crosspost auth login`` is used here: one set
    in the environment is refreshed by the publish itself, in memory, as before.
    Google does not rotate refresh tokens, so nothing else changes.
    """
    credentials = ctx.credentials
    if credentials.from_environment("refresh_token") or credentials.get("refresh_token") is None:
        return
    expires = credentials.expires_at("access_token")
    if (
        expires is not None
        and credentials.get("access_token")
        and expires > now() + timedelta(seconds=horizon)
    ):
        return
    ctx.progress.step(PLATFORM, "renewing the access token")
    await _Token(ctx, ctx.api(classify)).refresh()


async def _asking(ctx: PublishContext) -> tuple[Api, _Token]:
    """An access token for doctor's checks: the stored one, or one refreshed in memory
    (Google's refresh changes nothing: no rotation, and nothing is written)."""
    api = ctx.api(classify)
    token = _Token(ctx, api, keep=False)
    await token.ready()
    return api, token


async def identity(ctx: PublishContext) -> Account:
    """The channel the credentials upload to.

    A login without a read scope can upload but not read the channel: that is
    "not checked" (``ConfigError``) for doctor, not a failure.
    """
    api, token = await _asking(ctx)
    if token.scopes is not None and not READ_SCOPES & set(token.scopes):
        raise ConfigError(
            "the login did not grant reading the channel (youtube.readonly), so its name "
            f"cannot be shown; uploading works. Run {LOGIN} to grant it"
        )
    return await _channel(api, token.header)


async def diagnose(ctx: PublishContext, post: Post | None) -> list[Finding]:
    """``doctor``'s YouTube checks: who can see the video, the scopes Google granted, and
    the 7-day limit of a consent screen left in "Testing"."""
    settings = _settings(ctx)
    privacy = (post.options.get("privacy_status") if post is not None else None) or (
        settings.privacy_status
    )
    findings = [_visibility(str(privacy))]
    _, token = await _asking(ctx)
    findings += _granted(token.scopes)
    findings += _testing(ctx.credentials)
    return findings


def _visibility(privacy: str) -> Finding:
    """Who will see the uploaded video; a video only the channel sees never looks public."""
    if privacy == "private":
        return Finding(
            "warn",
            'videos are uploaded private (privacy_status = "private"): only the channel can '
            'see them; set privacy_status = "public" in [platforms.youtube] to publish them',
        )
    if privacy == "unlisted":
        return Finding(
            "warn",
            'videos are uploaded unlisted (privacy_status = "unlisted"): only people with the '
            "link can see them",
        )
    return Finding(
        "ok",
        "videos are uploaded public; YouTube keeps uploads from a Google Cloud project that "
        "has not passed its API audit private (docs/platforms/youtube.md)",
    )


def _granted(scopes: tuple[str, ...] | None) -> list[Finding]:
    if scopes is None:
        return []
    if UPLOAD_SCOPE not in scopes:
        return [
            Finding(
                "fail",
                f"Google did not grant uploading ({UPLOAD_SCOPE}): run {LOGIN} and allow it",
            )
        ]
    if not READ_SCOPES & set(scopes):
        return [
            Finding(
                "warn",
                "Google did not grant reading the channel (youtube.readonly): uploading works, "
                f"but crosspost cannot show the channel; run {LOGIN} to grant it",
            )
        ]
    return [Finding("ok", "permissions: upload videos, read the channel")]


def _testing(credentials: Credentials) -> list[Finding]:
    """Within 7 days of the login, a consent screen in "Testing" would end the refresh
    token then; after 7 days a working refresh proves it is not."""
    obtained = credentials.meta("obtained_at")
    if credentials.from_environment("refresh_token") or not isinstance(obtained, datetime):
        return []
    obtained = obtained if obtained.tzinfo else obtained.replace(tzinfo=UTC)
    ends = obtained + timedelta(days=TESTING_DAYS)
    if ends <= now():
        return []
    return [
        Finding(
            "warn",
            f'if the app\'s OAuth consent screen is in "Testing", Google ends this login on '
            f"{ends.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')} ({TESTING_DAYS} days after "
            'it): set its publishing status to "In production" in the Google Cloud console '
            "(docs/platforms/youtube.md)",
        )
    ]
