"""Publishing to a Mastodon instance: media, then the status with an Idempotency-Key.

The flow (docs/platforms/mastodon.md):

1. Each medium: ``POST /api/v2/media`` (multipart ``file`` and ``description``, the
   alt text). 200: processed; 202: still processing, so ``GET /api/v1/media/:id``
   is polled (206 while processing, 200 with a ``url`` when done) with a ``Pace``.
   An attachment is invisible until a status uses it: uploading again is harmless.
   https://docs.joinmastodon.org/methods/media/
2. ``POST /api/v1/statuses`` (``status``, ``media_ids[]``, ``visibility``,
   ``language``) with an ``Idempotency-Key`` header. The key, the time it was first
   sent and the exact text are journaled before it goes (``ctx.remember``, then
   ``Api.create`` records ``sending``). Mastodon keeps a key for one hour after the
   status is made ("Idempotency keys are stored for up to 1 hour",
   https://docs.joinmastodon.org/methods/statuses/#create) and answers a repeat
   with the status it made. So within that hour, a lost answer is settled by
   sending the same request again with the same key: it posts at most once.
3. After the hour, the status is looked for: ``GET /api/v1/accounts/verify_credentials``
   for the account id, ``GET /api/v1/accounts/:id/statuses`` for the statuses made
   since the send, and ``GET /api/v1/statuses/:id/source`` for each one's exact text.

Errors are ``{"error": "..."}`` with the HTTP status (https://docs.joinmastodon.org/entities/Error/).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from crosspost.plugin import (
    Account,
    AuthError,
    ConfigError,
    Finding,
    InvalidContentError,
    MediaFile,
    Pace,
    PlatformError,
    Post,
    PublishContext,
    Published,
    RateLimitedError,
    Resume,
    Sent,
    TransientError,
    UnknownOutcomeError,
    excerpt,
    json_body,
    retry_after,
)
from crosspost_adapters.mastodon import (
    IMAGE_BYTES,
    MAX_IMAGES,
    URL_LENGTH,
    VIDEO_BYTES,
    VISIBILITY,
    MastodonSettings,
)

PLATFORM = "mastodon"
#: How long Mastodon keeps an Idempotency-Key (PostStatusService: ``setex`` 3,600 s,
#: from when the status was made, which is after we sent it).
KEY_LIFETIME = 3_600.0
#: The same key is sent again only this long after its first send: the rest of the
#: hour is margin for the request on its way (and media uploaded before it).
KEY_REUSE = KEY_LIFETIME - 600.0
#: Same-run re-sends with the same key after an answer is lost.
RESENDS = 2
#: Statuses per page of the account's statuses (Mastodon's maximum is 40).
PAGE = 40
#: Clocks differ: statuses made this long before the send still count as candidates.
CLOCK_SLACK = timedelta(minutes=5)


#: What each HTTP status means, and what to do (the error's text is added).
CLASSIFY: Mapping[int, tuple[type[PlatformError], str]] = {
    401: (
        AuthError,
        "the access token was refused: make a new one in the instance's Preferences → "
        "Development and set CROSSPOST_MASTODON_ACCESS_TOKEN",
    ),
    403: (
        AuthError,
        "the token may not do this: it needs the scopes write:statuses, write:media, "
        "read:accounts and read:statuses (Preferences → Development)",
    ),
    404: (PlatformError, "not found: check instance in [platforms.mastodon]"),
    413: (InvalidContentError, "the file is too large for this instance"),
    422: (InvalidContentError, "the instance refused the post"),
}


def classify(response: httpx.Response) -> PlatformError:
    """A Mastodon error answer as a crosspost error: one line, the instance's words."""
    status = response.status_code
    body = json_body(response)
    said = body.get("error") if isinstance(body, dict) else None
    words = str(said) if said else excerpt(response)
    if status == 429:
        return RateLimitedError(
            PLATFORM,
            f"Mastodon: too many requests ({words}); crosspost tries again on a later run",
            status=status,
            retry_after=_reset(response),
        )
    if status >= 500:
        return TransientError(
            PLATFORM, f"Mastodon had a temporary problem (HTTP {status}: {words})", status=status
        )
    kind, fix = CLASSIFY.get(status, (PlatformError, "the instance refused the request"))
    return kind(PLATFORM, f"Mastodon: {fix} (HTTP {status}: {words})", status=status)


def _reset(response: httpx.Response) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (an ISO 8601 time on Mastodon), or Retry-After.

    https://docs.joinmastodon.org/api/rate-limits/
    """
    stated = retry_after(response)
    if stated is not None:
        return stated
    reset = response.headers.get("x-ratelimit-reset", "").strip()
    try:
        when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class Publisher:
    """One publish (or lookup) against the configured instance."""

    def __init__(self, ctx: PublishContext) -> None:
        settings = ctx.settings
        assert isinstance(settings, MastodonSettings)  # the adapter's own Settings
        if not settings.instance:
            raise ConfigError(
                'instance is not set in [platforms.mastodon]: add instance = "https://…" '
                "(the address of the Mastodon server the account is on)"
            )
        self.ctx = ctx
        self.settings = settings
        self.instance = settings.instance.rstrip("/")
        self.api = ctx.api(classify)

    def _url(self, path: str) -> str:
        return f"{self.instance}{path}"

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.credentials.require('access_token')}"}

    # -- publish -----------------------------------------------------------------------

    async def publish(self, post: Post) -> Published:
        """Upload the media, then post the status (once, whatever is lost on the way)."""
        previous = self.ctx.previous
        key, first = previous.get("idempotency_key"), _when(previous.get("key_at"))
        if not isinstance(key, str) or first is None:
            key, first = None, None
        media_ids = [await self._upload(m) for m in post.media]
        if key is not None and first is not None and not self._reusable(first):
            # The earlier key ran out while the media went up: the lookup decides.
            found = await self.find(post.text, first)
            if found is not None:
                return found
            key = first = None
        if key is None or first is None:
            key, first = str(uuid.uuid4()), datetime.now(UTC)
        self.ctx.remember(idempotency_key=key, key_at=_stamp(first), text=post.text)
        data: dict[str, Any] = {"status": post.text, "visibility": self._visibility(post)}
        if media_ids:
            data["media_ids[]"] = media_ids
        language = post.extra.get("language")
        if isinstance(language, str) and language:
            data["language"] = language
        self.ctx.progress.step(PLATFORM, "posting the status")
        return await self._send(data, key, first, post.text)

    def _visibility(self, post: Post) -> str:
        chosen = post.options.get("visibility")
        return chosen if isinstance(chosen, str) else self.settings.visibility

    def _reusable(self, first: datetime) -> bool:
        return (datetime.now(UTC) - first).total_seconds() < KEY_REUSE

    async def _send(self, data: dict[str, Any], key: str, first: datetime, text: str) -> Published:
        """``POST /api/v1/statuses``; a lost answer is followed by the same request with the
        same key while the key lasts (Mastodon answers the status it made, or makes it)."""
        headers = {**self._auth(), "Idempotency-Key": key}
        waits = Pace(self.ctx.poll_interval, 30.0).waits()
        for attempt in range(RESENDS + 1):
            try:
                response = await self.api.create(
                    "POST", self._url("/api/v1/statuses"), data=data, headers=headers
                )
                return self._published(response)
            except UnknownOutcomeError:
                if attempt == RESENDS or not self._reusable(first):
                    raise
                self.ctx.progress.step(PLATFORM, "the answer was lost: sending it again (same key)")
                await asyncio.sleep(next(waits))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _published(self, response: httpx.Response) -> Published:
        body = json_body(response)
        status_id = body.get("id") if isinstance(body, dict) else None
        if not status_id:
            raise UnknownOutcomeError(
                PLATFORM,
                "Mastodon answered without the status's id; the post may or may not be there: "
                "check the account before publishing again",
            )
        assert isinstance(body, dict)
        self.ctx.remember(status_id=str(status_id))
        url = body.get("url") or body.get("uri")
        visibility = body.get("visibility")
        return Published(
            remote_id=str(status_id),
            url=str(url) if url else None,
            visibility=VISIBILITY.get(str(visibility)) if visibility else None,
        )

    async def _upload(self, media: MediaFile) -> str:
        """``POST /api/v2/media``; wait until the instance has processed it; its id."""
        if media.path is None:
            raise InvalidContentError(
                PLATFORM, f"{media.name}: Mastodon uploads media from a file; give its path"
            )
        path = media.path
        self.ctx.progress.step(PLATFORM, f"uploading {media.name}")
        form = {"description": media.alt} if media.alt else {}
        response = await self.api.call(
            "POST",
            self._url("/api/v2/media"),
            ok=(200, 202),
            headers=self._auth(),
            data=form,
            files={"file": (path.name, path.read_bytes(), media.mime)},
        )
        body = json_body(response)
        media_id = body.get("id") if isinstance(body, dict) else None
        if not media_id:
            raise TransientError(PLATFORM, f"{media.name}: Mastodon answered without its id")
        if response.status_code == 202 or not (isinstance(body, dict) and body.get("url")):
            await self._processed(str(media_id), media.name)
        return str(media_id)

    async def _processed(self, media_id: str, name: str) -> None:
        """Poll ``GET /api/v1/media/:id`` until it has a ``url`` (206 while processing)."""
        self.ctx.progress.step(PLATFORM, f"waiting for the instance to process {name}")
        pace = Pace(self.ctx.poll_interval, self.settings.poll_max)
        async for _ in pace.polls(self.ctx.poll_timeout):
            response = await self.api.call(
                "GET", self._url(f"/api/v1/media/{media_id}"), ok=(200, 206), headers=self._auth()
            )
            body = json_body(response)
            if response.status_code == 200 and isinstance(body, dict) and body.get("url"):
                return
        raise TransientError(
            PLATFORM,
            f"{name}: the instance was still processing it after "
            f"{self.ctx.poll_timeout:.0f} seconds; the next run tries again",
        )

    # -- finding a status ----------------------------------------------------------------

    async def reconcile(self, post: Post, sent: Sent) -> Published | Resume | None:
        """What became of the journaled send (docs/platforms/mastodon.md, "Publishing")."""
        handles = sent.handles
        key, first = handles.get("idempotency_key"), _when(handles.get("key_at"))
        if not isinstance(key, str) or first is None:
            return None  # the key is journaled before the status is sent: nothing went
        text = handles.get("text")
        found = await self.find(text if isinstance(text, str) else post.text, first)
        if found is not None:
            return found
        if self._reusable(first):
            return Resume(
                "the earlier status is not there yet; sending it again with the same "
                "Idempotency-Key (Mastodon answers with the status if it landed)"
            )
        if sent.age >= self.ctx.settle:
            return None
        raise UnknownOutcomeError(
            PLATFORM,
            "the status is not on the account yet and its Idempotency-Key has run out; "
            "the next run looks again",
        )

    async def account_id(self) -> str:
        """``GET /api/v1/accounts/verify_credentials``: the token's account id."""
        account = await self._me()
        return account.id or ""

    async def _me(self) -> Account:
        response = await self.api.call(
            "GET", self._url("/api/v1/accounts/verify_credentials"), headers=self._auth()
        )
        body = json_body(response)
        if not isinstance(body, dict) or not body.get("id"):
            raise TransientError(PLATFORM, "Mastodon answered without the account's id")
        username = str(body.get("acct") or body.get("username") or body["id"])
        url = body.get("url")
        return Account(username, str(body["id"]), str(url) if url else None)

    async def find(self, text: str, since: datetime) -> Published | None:
        """The account's status with exactly ``text``, made after ``since`` (less a margin).

        The list gives HTML ``content``; the exact text is the status's source.
        """
        account = await self.account_id()
        response = await self.api.call(
            "GET",
            self._url(f"/api/v1/accounts/{account}/statuses"),
            params={"limit": str(PAGE), "exclude_reblogs": "true"},
            headers=self._auth(),
        )
        statuses = json_body(response)
        if not isinstance(statuses, list):
            raise TransientError(PLATFORM, "Mastodon answered the statuses with something else")
        for status in statuses:
            if not isinstance(status, dict):
                continue
            made = _when(status.get("created_at"))
            if made is None or made < since - CLOCK_SLACK:
                continue
            source = await self.api.call(
                "GET",
                self._url(f"/api/v1/statuses/{status.get('id')}/source"),
                headers=self._auth(),
            )
            body = json_body(source)
            if isinstance(body, dict) and body.get("text") == text:
                return self._published_from(status)
        return None

    def _published_from(self, status: dict[str, Any]) -> Published:
        url = status.get("url") or status.get("uri")
        return Published(
            remote_id=str(status["id"]),
            url=str(url) if url else None,
            visibility=VISIBILITY.get(str(status.get("visibility"))),
        )

    # -- doctor --------------------------------------------------------------------------

    async def identity(self) -> Account:
        """Who the token posts as."""
        return await self._me()

    async def diagnose(self, post: Post | None, limit: int) -> list[Finding]:
        """The instance's limits (``GET /api/v2/instance``, public) against ours."""
        response = await self.api.call("GET", self._url("/api/v2/instance"))
        body = json_body(response)
        configuration = body.get("configuration") if isinstance(body, dict) else None
        if not isinstance(configuration, dict):
            return [Finding("warn", "the instance does not report its limits (/api/v2/instance)")]
        statuses = configuration.get("statuses") or {}
        attachments = configuration.get("media_attachments") or {}
        findings: list[Finding] = []
        most = statuses.get("max_characters")
        if isinstance(most, int) and most != limit:
            findings.append(
                Finding(
                    "warn",
                    f"the instance allows {most} characters per post, crosspost fits posts to "
                    f"{limit}: set max_length = {most} in [platforms.mastodon]",
                )
            )
        elif isinstance(most, int):
            findings.append(Finding("ok", f"the instance allows {most} characters per post"))
        per_url = statuses.get("characters_reserved_per_url")
        if isinstance(per_url, int) and per_url != URL_LENGTH:
            findings.append(
                Finding(
                    "warn",
                    f"the instance counts each link as {per_url} characters, crosspost as "
                    f"{URL_LENGTH}: a post near the limit may be refused",
                )
            )
        attached = statuses.get("max_media_attachments")
        if isinstance(attached, int) and attached < MAX_IMAGES:
            findings.append(
                Finding(
                    "warn",
                    f"the instance takes {attached} attachments per post; crosspost sends up "
                    f"to {MAX_IMAGES} images",
                )
            )
        if post is not None:
            findings += _media_limits(post, attachments)
        return findings


def _media_limits(post: Post, attachments: Mapping[str, Any]) -> list[Finding]:
    """The post's files against the instance's size limits and MIME types."""
    findings = []
    types = attachments.get("supported_mime_types")
    for media in post.media:
        key = "image_size_limit" if media.is_image else "video_size_limit"
        most = attachments.get(key, IMAGE_BYTES if media.is_image else VIDEO_BYTES)
        if isinstance(most, int) and media.size is not None and media.size > most:
            findings.append(
                Finding(
                    "fail",
                    f"{media.name} is {media.size:,} bytes; the instance takes at most {most:,}",
                )
            )
        if isinstance(types, list) and types and media.mime not in types:
            findings.append(
                Finding("fail", f"{media.name}: the instance does not take {media.mime} files")
            )
    return findings
