"""Publishing to X through API v2: media uploads, then ``POST /2/tweets`` (threads reply).

The flow (sources: docs.x.com's ``openapi.json`` and
``x-api/media/quickstart/media-upload-chunked.mdx``):

1. Media first. Nothing is public until the post exists, so every upload step
   is safe to repeat (``Api.call``):

   * an image (or a GIF up to 5 MB): one ``POST /2/media/upload``, multipart
     with ``media`` and ``media_category`` (``tweet_image``/``tweet_gif``);
   * a video (or a larger GIF): ``POST /2/media/upload/initialize`` (JSON),
     ``POST /2/media/upload/{id}/append`` per chunk (multipart ``media`` and
     ``segment_index`` 0-999), ``POST /2/media/upload/{id}/finalize``;
   * when an answer carries ``processing_info``, poll
     ``GET /2/media/upload?command=STATUS&media_id=`` after ``check_after_secs``
     until ``succeeded`` or ``failed``;
   * alt text: ``POST /2/media/metadata`` (optional; its failure is not fatal).

2. ``POST /2/tweets`` with the first part's text and the media ids: the one
   irreversible call (``Api.create``); X answers 201 ``{"data": {"id", "text"}}``.
   Each further part of a thread replies to the previous one
   (``reply.in_reply_to_tweet_id``). Since Feb 2026 self-serve tiers may refuse
   such replies with a 403 (§1.2 caveat); the parts already out are then
   reported, never posted again.

Errors are RFC 7807 problem objects ``{"title", "detail", "type", "status"}``
(400s add ``errors: [{"message"}]``; a 429 may be ``{"errors": [{"code": 88}]}``),
mapped by ``classify`` (docs.x.com ``x-api/fundamentals/response-codes-and-errors.mdx``).

X has no idempotency key. What finds a post whose answer was lost is its text
on the account's timeline (``GET /2/users/:id/tweets``); the journal keeps that
text before each create, and ``reconcile`` reads the timeline on the next run
(docs/reconcile.md, "X").
"""

from __future__ import annotations

import asyncio
import math
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from crosspost import twittertext
from crosspost.adapter import Post, Published, Sent
from crosspost.api import (
    Api,
    ContentFactory,
    PublishContext,
    excerpt,
    file_chunks,
    file_size,
    json_body,
    retry_after,
)
from crosspost.errors import (
    AuthError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost.redaction import redact
from crosspost_adapters.twitter import TwitterSettings

if TYPE_CHECKING:
    from pathlib import Path

    from crosspost_adapters.twitter import TwitterAdapter

API = "https://api.x.com"
TWEETS = f"{API}/2/tweets"
USERS_ME = f"{API}/2/users/me"
#: Clocks differ: a post may carry a ``created_at`` a little before our own
#: clock said we sent it, so the timeline is read from this long before.
CLOCK_SKEW = timedelta(minutes=5)
#: ``max_results`` of the user timeline is 5..100 (docs.x.com, pagination and
#: ``GET /2/users/:id/tweets``): read 100 a page, at most this many pages.
TIMELINE_PAGE = 100
TIMELINE_PAGES = 5
UPLOAD = f"{API}/2/media/upload"
METADATA = f"{API}/2/media/metadata"
#: The public address of a post; ``i/web`` works without knowing the account's handle.
STATUS_URL = "https://x.com/i/web/status/{id}"
#: The one-shot upload is for images; a GIF above this goes chunked (v1.1 said
#: one-shot uploads are for images up to 5 MB, and X's image limit is 5 MB).
ONE_SHOT_BYTES = 5_000_000
#: ``segment_index`` runs from 0 to 999 (openapi.json, append).
MAX_SEGMENTS = 1000
#: The largest APPEND chunk we send (v1.1: "must be <= 5 MB"; v2: UNVERIFIED).
MAX_CHUNK = 5 * 1024 * 1024

_DUPLICATE = re.compile(r"duplicate", re.IGNORECASE)
# 403 detail of the Feb 2026 self-serve restriction: "Reply to this conversation
# is not allowed because you have not been mentioned or otherwise engaged ...".
_REPLY_REFUSED = re.compile(r"\brepl(y|ies)\b.*\bnot (allowed|permitted)\b", re.IGNORECASE)
_NOT_PERMITTED = re.compile(
    r"not (permitted|authori[sz]ed)|forbidden|suspended|locked|access", re.IGNORECASE
)


class ReplyRefusedError(InvalidContentError):
    """X refused a reply (a thread's next part): the account's API tier may not reply."""


class DuplicateError(InvalidContentError):
    """X refused the text as a duplicate of a recent post of the account (403)."""


async def publish(adapter: TwitterAdapter, post: Post, ctx: PublishContext) -> Published:
    """Upload ``post.media``, then post ``post.parts`` as one post or a reply chain."""
    # Missing credentials must fail before the first request, naming the variable.
    token = ctx.credentials.require("access_token")
    if post.problems:
        raise InvalidContentError(
            ctx.platform,
            "the X post cannot be published as planned: " + "; ".join(post.problems),
        )
    if not post.parts:
        raise InvalidContentError(ctx.platform, "the X post has no text to publish")
    session = _Session(ctx, ctx.api(classify), token, _settings(adapter, ctx))
    media_ids = [await session.upload(media) for media in post.media]
    return await session.post_parts(post, media_ids)


async def reconcile(
    adapter: TwitterAdapter, post: Post, sent: Sent, ctx: PublishContext
) -> Published | None:
    """What became of a create whose answer an earlier run never heard (docs/reconcile.md).

    From the journal's handles (``text`` of the part in flight, ``part`` of
    ``parts``, the ``ids`` X answered before) and the timeline since ``sent.at``
    (less ``CLOCK_SKEW``):

    * every part found (or answered): ``Published``;
    * nothing out and the post not on the timeline ``ctx.settle`` seconds after
      it was sent: None, it never landed and may be published again;
    * not on the timeline yet, a timeline that cannot be read, or a thread only
      partly out: ``UnknownOutcomeError`` (a partial thread is never sent again).
    """
    token = ctx.credentials.require("access_token")
    session = _Session(ctx, ctx.api(classify), token, _settings(adapter, ctx))
    return await session.reconcile(post, sent)


def _settings(adapter: TwitterAdapter, ctx: PublishContext) -> TwitterSettings:
    settings = ctx.settings if isinstance(ctx.settings, TwitterSettings) else adapter.settings
    if not isinstance(settings, TwitterSettings):  # pragma: no cover - the adapter makes one
        settings = TwitterSettings()
    return settings


class _Session:
    """One publish: the Api, the bearer header and the settings every step needs."""

    def __init__(
        self, ctx: PublishContext, api: Api, token: str, settings: TwitterSettings
    ) -> None:
        self.ctx = ctx
        self.api = api
        self.platform = ctx.platform
        self.settings = settings
        self.auth = {"Authorization": f"Bearer {token}"}
        self._me: str | None = None  # the account's user id, once read

    # -- media -------------------------------------------------------------

    async def upload(self, media: MediaFile) -> str:
        """Upload one media file, wait for X to process it, set its alt text; its id."""
        if media.path is None:
            raise InvalidContentError(
                self.platform, f"{media.name}: X uploads a local file; give the media's path"
            )
        try:
            total = file_size(media.path)
        except OSError as exc:  # moved or deleted since the plan was made
            raise InvalidContentError(
                self.platform,
                f"{media.name}: cannot read the file ({exc.strerror}); nothing was posted",
            ) from exc
        gif = media.mime == "image/gif"
        image = "tweet_gif" if gif else "tweet_image"
        if media.is_image and total <= ONE_SHOT_BYTES:
            self.ctx.progress.step(self.platform, f"uploading {media.name}")
            data = await self._one_shot(media, media.path, total, image)
        else:
            what = "GIF" if gif else "video" if media.is_video else "image"
            self.ctx.progress.step(self.platform, f"uploading {what} {media.name}")
            category = image if media.is_image else self.settings.video_category
            data = await self._chunked(media, media.path, total, category)
        media_id = _media_id(self.platform, data, media)
        await self._processed(media, media_id, data)
        if media.alt:
            await self._alt_text(media, media_id, media.alt)
        return media_id

    async def _one_shot(
        self, media: MediaFile, path: Path, total: int, category: str
    ) -> dict[str, Any]:
        self.ctx.progress.upload_started(self.platform, media.name, total)
        body, headers = _multipart({"media_category": category}, path, 0, total, media)
        response = await self.api.call(
            "POST", UPLOAD, content=body, headers={**self.auth, **headers}
        )
        self.ctx.progress.upload_advanced(self.platform, media.name, total)
        return _data(self.platform, response)

    async def _chunked(
        self, media: MediaFile, path: Path, total: int, category: str
    ) -> dict[str, Any]:
        chunk = _chunk_size(self.settings.chunk_size, total)
        if chunk > MAX_CHUNK:
            raise InvalidContentError(
                self.platform,
                f"{media.name}: {total} bytes is too large to upload to X "
                f"({MAX_SEGMENTS} chunks of at most {MAX_CHUNK} bytes)",
            )
        response = await self.api.call(
            "POST",
            f"{UPLOAD}/initialize",
            json={"media_type": media.mime, "total_bytes": total, "media_category": category},
            headers=self.auth,
        )
        media_id = _media_id(self.platform, _data(self.platform, response), media)
        self.ctx.progress.upload_started(self.platform, media.name, total)
        for index, start in enumerate(range(0, total, chunk)):
            end = min(start + chunk, total)
            # A fresh body per attempt, streamed from disk: a retried chunk is read
            # again and memory stays at one read buffer, whatever the video's size.
            body, headers = _multipart({"segment_index": str(index)}, path, start, end, media)
            await self.api.call(
                "POST",
                f"{UPLOAD}/{media_id}/append",
                content=body,
                headers={**self.auth, **headers},
            )
            # Counted once the chunk is accepted, so a retried chunk is not counted twice.
            self.ctx.progress.upload_advanced(self.platform, media.name, end - start)
        response = await self.api.call("POST", f"{UPLOAD}/{media_id}/finalize", headers=self.auth)
        return _data(self.platform, response)

    async def _processed(self, media: MediaFile, media_id: str, data: dict[str, Any]) -> None:
        """Poll STATUS until X has processed the media (videos, GIFs); raise if it failed."""
        info = data.get("processing_info")
        deadline = time.monotonic() + self.ctx.poll_timeout
        announced = False
        while isinstance(info, dict):
            state = info.get("state")
            if state == "succeeded":
                return
            if state == "failed":
                raise InvalidContentError(self.platform, _processing_failed(media, info))
            if not announced:
                self.ctx.progress.step(self.platform, f"waiting for X to process {media.name}")
                announced = True
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransientError(
                    self.platform,
                    f"X was still processing {media.name} after {self.ctx.poll_timeout:g} "
                    "seconds; nothing was posted: try again later",
                )
            await asyncio.sleep(self._poll_delay(info, left))
            response = await self.api.call(
                "GET",
                UPLOAD,
                params={"command": "STATUS", "media_id": media_id},
                headers=self.auth,
            )
            info = _data(self.platform, response).get("processing_info")
        # No processing_info: X says the media is ready to attach.

    def _poll_delay(self, info: dict[str, Any], left: float) -> float:
        # X says when to look again (check_after_secs); tests set poll_interval
        # to 0, which means "do not sleep at all". A floor of half a second
        # keeps a "0" from X from turning into a busy loop.
        if self.ctx.poll_interval <= 0:
            return 0.0
        after = info.get("check_after_secs")
        wait = float(after) if isinstance(after, int | float) and after >= 0 else None
        return min(max(wait if wait is not None else self.ctx.poll_interval, 0.5), left)

    async def _alt_text(self, media: MediaFile, media_id: str, alt: str) -> None:
        # Alt text is worth having but not worth losing the post over: a failure
        # here is reported as a step and the post goes out without it.
        try:
            await self.api.call(
                "POST",
                METADATA,
                json={"id": media_id, "metadata": {"alt_text": {"text": alt}}},
                headers=self.auth,
            )
        except PlatformError as exc:
            self.ctx.progress.step(
                self.platform,
                redact(f"could not set the alt text of {media.name} ({exc}); posting without it"),
            )

    # -- posts -------------------------------------------------------------

    async def post_parts(self, post: Post, media_ids: list[str]) -> Published:
        """Create the post, then each further part as a reply to the one before.

        Before each create the journal gets what finds that part afterwards (its
        ``text``, its number ``part`` of ``parts``); after each answer, the ``ids``
        X gave so far (docs/reconcile.md, "X").
        """
        ids: list[str] = []
        count = len(post.parts)
        for number, part in enumerate(post.parts, start=1):
            body: dict[str, Any] = {"text": part.text}
            if number == 1 and media_ids:
                body["media"] = {"media_ids": media_ids}
            if ids:
                body["reply"] = {"in_reply_to_tweet_id": ids[-1]}
            step = "creating post" if count == 1 else f"posting part {number} of {count}"
            self.ctx.progress.step(self.platform, step)
            self.ctx.remember(text=part.text, part=number, parts=count)
            try:
                ids.append(await self._create(body, ids[-1] if ids else None))
            except PlatformError as exc:
                if not ids:
                    raise
                raise _partial(self.platform, exc, ids, count) from exc
            self.ctx.remember(ids=list(ids))
        return _published(ids)

    async def _create(self, body: dict[str, Any], reply_to: str | None) -> str:
        text = str(body.get("text", ""))
        sent = datetime.now(UTC)
        try:
            response = await self.api.create("POST", TWEETS, json=body, headers=self.auth)
        except UnknownOutcomeError as exc:
            return await self._landed(text, reply_to, sent, exc)
        except DuplicateError as exc:
            return await self._duplicate(text, reply_to, exc)
        data = json_body(response)
        post_id = data.get("data", {}).get("id") if isinstance(data, dict) else None
        if not isinstance(post_id, str) or not post_id.isdigit():
            # X acted on the request (2xx) but its answer has no id: it may be public.
            raise UnknownOutcomeError(
                self.platform,
                f"X answered {response.status_code} without a post id ({excerpt(response)}); "
                "the post may or may not have been published: check the account before "
                "publishing again",
                status=response.status_code,
            )
        return post_id

    async def _landed(
        self, text: str, reply_to: str | None, sent: datetime, exc: UnknownOutcomeError
    ) -> str:
        """After an ambiguous create in this run, look for the post on the timeline at once.

        The same lookup as ``reconcile`` (``find``). Found: its id. Not found: it
        was sent a moment ago, so absence proves nothing yet (``ctx.settle``): the
        outcome stays unknown and the next run looks again.
        """
        self.ctx.progress.step(self.platform, "the answer was lost: checking the timeline")
        try:
            lookup = await self.find(text, since=sent - CLOCK_SKEW, reply_to=reply_to)
        except PlatformError as error:
            raise UnknownOutcomeError(
                self.platform,
                f"{exc.message} (the timeline could not be read to check: {error.message})",
                status=exc.status,
            ) from exc
        if lookup.found is not None:
            return lookup.found
        raise UnknownOutcomeError(
            self.platform,
            f"{exc.message} (the post is not on the timeline yet; the next run looks again "
            "before anything is sent)",
            status=exc.status,
        ) from exc

    async def _duplicate(self, text: str, reply_to: str | None, exc: DuplicateError) -> str:
        """X refused the text as a duplicate: the post is most likely out already; find it.

        X gives no id with this refusal (platform-apis.md §1.6), so the newest
        ``DUPLICATE_LOOKBACK`` posts are searched for the same text. Found: it is
        the post. Not found: the refusal stands (the duplicate is older, or another
        post). The timeline unreadable: the outcome is unknown, not a failure.
        """
        self.ctx.progress.step(self.platform, "X says the post is a duplicate: finding it")
        try:
            lookup = await self.find(text, since=None, reply_to=reply_to, pages=1)
        except PlatformError as error:
            raise UnknownOutcomeError(
                self.platform,
                f"X refused the post as a duplicate of a recent post, so it is probably "
                f"published, but the timeline could not be read to find it ({error.message}); "
                "the next run looks again",
                status=exc.status,
            ) from exc
        if lookup.found is None:
            raise exc
        return lookup.found

    # -- finding posts -------------------------------------------------------

    async def _user_id(self) -> str:
        if self._me is None:
            body = json_body(await self.api.call("GET", USERS_ME, headers=self.auth))
            data = body.get("data") if isinstance(body, dict) else None
            user_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(user_id, str) or not user_id.isdigit():
                raise TransientError(
                    self.platform, "X answered /2/users/me without the account's id"
                )
            self._me = user_id
        return self._me

    async def find(
        self,
        text: str,
        *,
        since: datetime | None,
        reply_to: str | None,
        pages: int = TIMELINE_PAGES,
    ) -> Lookup:
        """Look for this account's post with ``text`` on its timeline (safe, read-only calls).

        ``GET /2/users/me``, then ``GET /2/users/:id/tweets`` newest first, 100 at a
        time (``max_results`` 5..100), from ``since`` on (``start_time``; None: no
        bound), following ``meta.next_token`` for at most ``pages`` pages. X
        rewrites links to t.co, so links are compared as links (``_comparable``).
        A thread's later part must reply to ``reply_to``; a first part must be no
        reply. Raises the ``PlatformError`` of a failed read.
        """
        user_id = await self._user_id()
        params: dict[str, str] = {
            "max_results": str(TIMELINE_PAGE),
            "tweet.fields": "created_at,referenced_tweets",
        }
        if since is not None:
            # start_time is inclusive, in whole seconds; never after now (X refuses that).
            start = min(since, datetime.now(UTC) - CLOCK_SKEW)
            params["start_time"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        wanted = _comparable(text)
        for _ in range(pages):
            response = await self.api.call(
                "GET", f"{API}/2/users/{user_id}/tweets", params=params, headers=self.auth
            )
            body = json_body(response)
            items = body.get("data") if isinstance(body, dict) else None
            for item in items if isinstance(items, list) else []:
                if _matches(item, wanted, since, reply_to):
                    return Lookup(str(item["id"]), complete=True)
            meta = body.get("meta") if isinstance(body, dict) else None
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not isinstance(token, str) or not token:
                return Lookup(None, complete=True)
            params["pagination_token"] = token
        return Lookup(None, complete=False)

    # -- reconcile -------------------------------------------------------------

    async def reconcile(self, post: Post, sent: Sent) -> Published | None:
        """Decide from the journal's handles and the timeline what became of a lost create.

        See ``reconcile`` (module level) and docs/reconcile.md, "X".
        """
        handles = sent.handles
        ids = [str(i) for i in handles.get("ids") or [] if str(i).isdigit()]
        parts = _int(handles.get("parts")) or len(post.parts) or 1
        if len(ids) >= parts:  # every answer came back; only the run's own record was lost
            return _published(ids[:parts])
        part = _int(handles.get("part")) or len(ids) + 1
        text = handles.get("text")
        if not isinstance(text, str) and part - 1 < len(post.parts):
            text = post.parts[part - 1].text  # an entry recorded without its text
        if part != len(ids) + 1 or not isinstance(text, str):
            # The next part was never sent (the run stopped between two parts).
            raise _unfinished(self.platform, ids, parts, "was not sent")
        settled = sent.age >= self.ctx.settle
        self.ctx.progress.step(self.platform, "looking for the post on the timeline")
        try:
            lookup = await self.find(
                text, since=sent.at - CLOCK_SKEW, reply_to=ids[-1] if ids else None
            )
        except PlatformError as error:
            raise UnknownOutcomeError(
                self.platform,
                f"cannot tell whether the post went out: X's timeline could not be read "
                f"({error.message}); the next run looks again",
                status=error.status,
            ) from error
        if lookup.found is not None:
            ids.append(lookup.found)
            if len(ids) == parts:
                return _published(ids)
            raise _unfinished(self.platform, ids, parts, "was not sent")
        if not lookup.complete:
            raise UnknownOutcomeError(
                self.platform,
                f"cannot tell whether the post went out: the account posted more than "
                f"{TIMELINE_PAGE * TIMELINE_PAGES} times since it was sent, too many to read; "
                "check the account",
            )
        if ids:
            state = "was not posted" if settled else "is not on the timeline yet (it may appear)"
            raise _unfinished(self.platform, ids, parts, state)
        if settled:
            return None  # X shows no such post long after it was sent: it never landed
        raise UnknownOutcomeError(
            self.platform,
            f"the post is not on X's timeline yet ({_ago(sent.age)} after it was sent; "
            f"X may still be showing it): the next run looks again, and publishes it once "
            f"{_ago(self.ctx.settle)} have passed without it appearing",
        )


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a timeline read found: the post's id, and whether every post in range was seen."""

    found: str | None
    complete: bool


def _matches(item: object, wanted: str, since: datetime | None, reply_to: str | None) -> bool:
    """Whether a timeline item is the post: its text, its time, its place in the thread."""
    if not isinstance(item, dict) or not str(item.get("id", "")).isdigit():
        return False
    if _comparable(str(item.get("text", ""))) != wanted:
        return False
    created = _timestamp(item.get("created_at"))
    if since is not None and created is not None and created < since:
        return False
    refs = item.get("referenced_tweets")
    replied = [
        str(r.get("id"))
        for r in (refs if isinstance(refs, list) else [])
        if isinstance(r, dict) and r.get("type") == "replied_to"
    ]
    return replied == ([reply_to] if reply_to else [])


def _published(ids: list[str]) -> Published:
    return Published(remote_id=ids[0], url=STATUS_URL.format(id=ids[0]), ids=tuple(ids))


def _unfinished(platform: str, ids: list[str], count: int, state: str) -> UnknownOutcomeError:
    """A thread found half out: never republished, a person finishes or removes it."""
    done = len(ids)
    urls = ", ".join(STATUS_URL.format(id=i) for i in ids)
    later = f"; {_parts(done + 2, count)} not sent" if done + 1 < count else ""
    return UnknownOutcomeError(
        platform,
        f"X published {_parts(1, done)} of the {count}-part thread ({urls}); part {done + 1} "
        f"{state}{later}. Publishing again would repeat the published parts, so crosspost "
        "will not: add the rest by hand as replies (or delete the published parts), then "
        "record what you did with crosspost resolve",
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _ago(seconds: float) -> str:
    minutes = max(int(seconds // 60), 0)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _comparable(text: str) -> str:
    """``text`` with every link replaced by a marker, for matching what X shows back."""
    out, last = [], 0
    for entity in twittertext.extract_urls(text):
        out += [text[last : entity.start], "<link>"]
        last = entity.end
    return " ".join(("".join(out) + text[last:]).split())


def _timestamp(value: object) -> datetime | None:
    """X's ``created_at`` (``2026-11-26T10:00:00.000Z``) as a UTC datetime."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _partial(platform: str, exc: PlatformError, ids: list[str], count: int) -> PlatformError:
    """The error for a thread that stopped after ``ids`` went out: it names what is public.

    Running the publish again would post those parts a second time, so the
    error is never one that invites a blind retry.
    """
    done = len(ids)
    urls = ", ".join(STATUS_URL.format(id=i) for i in ids)
    head = f"X published {_parts(1, done)} of the {count}-part thread ({urls})"
    rest = _parts(done + 1, count)
    undo = (
        "Do not publish this announcement to X again (it would repeat the published parts): "
        "add the rest by hand as replies, or delete the published parts first"
    )
    if isinstance(exc, ReplyRefusedError):
        return InvalidContentError(
            platform,
            f"{head}, then refused the reply that continues it: X's self-serve API tiers "
            f"allow replies only where the author summoned the account ({exc.message}); "
            f"{rest} {'was' if done + 1 == count else 'were'} not posted. {undo}. For later "
            "announcements set thread = false under [platforms.twitter] (or "
            "threads_allowed = false in the config) so the text is shortened instead.",
            status=exc.status,
        )
    if isinstance(exc, UnknownOutcomeError):
        later = f"; {_parts(done + 2, count)} not sent" if done + 1 < count else ""
        return UnknownOutcomeError(
            platform,
            f"{head}; part {done + 1} may or may not have been published ({exc.message})"
            f"{later}. {undo}.",
            status=exc.status,
        )
    # A definite refusal mid-thread (a quota, a 400) still leaves a half-published
    # thread: it needs a person to look, like an unknown outcome, not a retry.
    return UnknownOutcomeError(
        platform,
        f"{head}, then refused part {done + 1} ({exc.message}); {rest} "
        f"{'was' if done + 1 == count else 'were'} not posted. {undo}.",
        status=exc.status,
    )


def _parts(first: int, last: int) -> str:
    """``part 2`` or ``parts 2-4``."""
    return f"part {first}" if first == last else f"parts {first}-{last}"


# -- helpers -----------------------------------------------------------------


def _chunk_size(configured: int, total: int) -> int:
    """The configured chunk size, grown when the file would need more than 1000 segments."""
    return max(min(configured, MAX_CHUNK), math.ceil(total / MAX_SEGMENTS))


def _multipart(
    fields: dict[str, str], path: Path, start: int, end: int, media: MediaFile
) -> tuple[ContentFactory, dict[str, str]]:
    """A multipart/form-data body factory: ``fields`` then bytes [start, end) of ``path``.

    Built by hand because httpx's ``files=`` needs the bytes (or a whole file)
    up front; this streams the chunk from disk on every attempt, with an exact
    Content-Length so no chunked transfer encoding is needed.
    """
    boundary = secrets.token_hex(16)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", media.name.rsplit("/", 1)[-1]) or "media"
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="media"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunks = file_chunks(path, start, end, name=media.name)

    def factory() -> AsyncIterator[bytes]:
        async def stream() -> AsyncIterator[bytes]:
            yield head
            piece = chunks()
            assert not isinstance(piece, bytes)  # file_chunks always streams
            async for data in piece:
                yield data
            yield tail

        return stream()

    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + (end - start) + len(tail)),
    }
    return factory, headers


def _data(platform: str, response: httpx.Response) -> dict[str, Any]:
    """The ``data`` object of an upload answer; a TransientError when it has none."""
    body = json_body(response)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        # Only upload steps get here; nothing is public yet, so trying again is safe.
        raise TransientError(
            platform,
            f"X answered {response.status_code} without the expected data ({excerpt(response)}); "
            "nothing was posted: try again later",
            status=response.status_code,
        )
    return data


def _media_id(platform: str, data: dict[str, Any], media: MediaFile) -> str:
    media_id = data.get("id")
    if not isinstance(media_id, str) or not media_id.isdigit():
        raise TransientError(
            platform,
            f"X accepted {media.name} but gave no media id; nothing was posted: try again later",
        )
    return media_id


def _processing_failed(media: MediaFile, info: dict[str, Any]) -> str:
    error = info.get("error")
    reason = error.get("message") if isinstance(error, dict) else None
    why = f": {redact(str(reason))}" if reason else ""
    hint = (
        " (X takes MP4 or MOV, H.264 video with AAC audio, 0.5 to 140 seconds long)"
        if media.is_video
        else ""
    )
    return f"X could not process {media.name}{why}{hint}; nothing was posted"


# -- errors ------------------------------------------------------------------


def _problem(response: httpx.Response) -> tuple[str, str, list[int]]:
    """(problem type, the most specific human text, legacy error codes) of an error answer."""
    body = json_body(response)
    if not isinstance(body, dict):
        return "", excerpt(response), []
    kind = str(body.get("type") or "")
    messages: list[str] = []
    codes: list[int] = []
    errors = body.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                if isinstance(item.get("message"), str):
                    messages.append(item["message"])
                if isinstance(item.get("code"), int):
                    codes.append(item["code"])
    detail = body.get("detail")
    # A 400 carries a generic detail ("One or more parameters to your request
    # was invalid.") and the real reasons in errors[].message: prefer those.
    text = "; ".join(messages) or (detail if isinstance(detail, str) else "")
    text = text or str(body.get("title") or body.get("message") or "") or excerpt(response)
    return kind, redact(text), codes


def classify(response: httpx.Response) -> PlatformError:
    """The crosspost error for an X error answer (platform-apis.md §1.5)."""
    status = response.status_code
    kind, text, codes = _problem(response)
    platform = "twitter"
    if status == 401 or {32, 89}.intersection(codes):
        return AuthError(
            platform,
            f"the X access token expired or was revoked ({text}): reconnect X, or set "
            "CROSSPOST_TWITTER_ACCESS_TOKEN to a new token",
            status=status,
        )
    if status == 429 or kind.endswith("/usage-capped") or 88 in codes:
        capped = kind.endswith("/usage-capped")
        wait = retry_after(response)
        when = f" for {wait:.0f} seconds" if wait is not None else ""
        return RateLimitedError(
            platform,
            (
                f"X's usage cap for this app is used up ({text}); nothing was posted: try "
                "again when the cap resets, or raise the app's plan"
                if capped
                else f"X is rate limiting this account{when}; nothing was posted: try again later"
            ),
            status=status,
            retry_after=wait,
        )
    if status == 403:
        if _DUPLICATE.search(text) or 187 in codes:
            return DuplicateError(
                platform,
                "X refused the post as a duplicate of a recent post: it may already be "
                "published (check the account); change the text to post it again",
                status=status,
            )
        if _REPLY_REFUSED.search(text):
            return ReplyRefusedError(platform, f"X refused the reply: {text}", status=status)
        if kind.endswith(("/client-forbidden", "/not-authorized-for-resource")) or (
            _NOT_PERMITTED.search(text) or 326 in codes
        ):
            return AuthError(
                platform,
                f"X refused access: {text}. Check that the X app has read and write permission "
                "and that the token has the tweet.write, users.read and media.write scopes, "
                "then reconnect X",
                status=status,
            )
        return InvalidContentError(platform, f"X refused the post: {text}", status=status)
    if status in (400, 404, 413, 422):
        return InvalidContentError(platform, f"X refused the request: {text}", status=status)
    if status == 408 or status >= 500:
        return TransientError(
            platform,
            f"X had a temporary problem ({status}: {text}); try again later",
            status=status,
        )
    return PlatformError(platform, f"X answered {status}: {text}", status=status)
