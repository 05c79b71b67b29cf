"""Publishing to an Instagram professional account: container → status → publish.

The flow (docs/platforms/instagram.md; IG User Media and media_publish references):

1. Optionally ``GET /{v}/{ig_user_id}/content_publishing_limit?fields=config,quota_usage``:
   when the 50-posts-per-24-hours quota is used up, stop before doing anything.
2. Create the container(s) with ``POST /{v}/{ig_user_id}/media`` (invisible, so
   safe to repeat): an image (``image_url``, ``caption``, ``alt_text``); a
   carousel (each image with ``is_carousel_item=true``, then the parent with
   ``media_type=CAROUSEL``, ``children=id1,id2``, ``caption``); or a Reel
   (``media_type=REELS``, ``video_url``, ``caption``). A Reel with no public URL
   is uploaded instead: ``upload_type=resumable`` answers a ``uri`` on
   rupload.facebook.com, and the bytes are POSTed there with the headers
   ``Authorization: OAuth``, ``offset`` and ``file_size`` (Facebook Login only,
   says the guide; UNVERIFIED for Instagram Login).
3. Poll ``GET /{v}/{container}?fields=status_code,status`` until ``FINISHED``
   (``ERROR`` and ``EXPIRED`` are final). Instagram fetches each URL itself, so
   the media must be publicly reachable at that moment.
4. ``POST /{v}/{ig_user_id}/media_publish`` with ``creation_id``: the create.
   The container id is journaled first (``ctx.remember(container=...)``), then
   ``Api.create`` records ``sending``. "Not ready" (9007/2207027) means nothing
   was published: poll, then try again. After an ambiguous failure the
   container's ``status_code`` tells whether it landed (``PUBLISHED``) — the
   same ``lookup`` a later run's ``reconcile`` makes (docs/reconcile.md).
5. ``GET /{v}/{media_id}?fields=permalink`` for the public URL. The media id is
   journaled the moment media_publish answers (``ctx.remember(media_id=...)``).
6. The first comment, when the post has one (``post.extra["first_comment"]``):
   ``POST /{v}/{media_id}/comments`` with ``message`` (IG Media Comments reference).
   ``comment="sending"`` is journaled before it, ``comment_id`` after it. A later
   run's ``reconcile`` finds a PUBLISHED container whose comment is not recorded:
   never sent → ``Resume``; sent → ``GET /{v}/{media_id}/comments`` for the exact
   text (found: published; absent once ``settle`` has passed: ``Resume``; absent
   and younger: unknown). ``publish`` with ``ctx.previous`` then posts only the
   comment. A comment Instagram refuses leaves the post published (it is public;
   publishing again would post it twice): the refusal is kept as the
   ``comment_error`` handle and shown as a step.

Status polls back off from the run's poll interval up to ``poll_max`` seconds
(Meta suggests about once a minute, IG Container reference).

Host: graph.facebook.com (Facebook Login) or graph.instagram.com (Instagram
Login), from the ``login`` setting. The token travels in the ``Authorization``
header, never in a URL (only the token endpoints of Instagram Login take it as a
parameter, as they document).

Logging in (``login``, docs/platforms/instagram.md), two ways:

* Facebook Login (``login = "facebook"``): the Facebook Login dialog with the
  Instagram permissions, a long-lived user token, the Pages the person manages and
  each one's linked ``instagram_business_account``; the Page token (which does not
  expire) is the access token, the linked account's id is ``ig_user_id``.
* Instagram Login (``login = "instagram"``): instagram.com's authorization window,
  the code exchanged at api.instagram.com for a 1-hour token, that exchanged for a
  60-day token (``ig_exchange_token``), and ``/me`` for the account's id and name.

Renewal (``renew``): an Instagram Login token is refreshed (``ig_refresh_token``)
once it is ``renew_after_days`` old, or sooner when it would expire within the
run; Instagram refreshes only tokens at least 24 hours old and not expired
(developers.facebook.com/docs/instagram-platform/reference/refresh_access_token).
The new token is saved before anything uses it. An expired one cannot be renewed.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import httpx

from crosspost import redaction
from crosspost.adapter import (
    Account,
    Finding,
    Login,
    LoginSession,
    Post,
    Published,
    Resume,
    Sent,
)
from crosspost.api import Classifier, PublishContext, file_chunks, file_size, json_body
from crosspost.errors import (
    AuthError,
    ConfigError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.journal import parse_stamp, stamp
from crosspost.media import MediaFile
from crosspost.oauth import OAuthApp, OAuthError, TokenSet, token_request
from crosspost.redaction import redact
from crosspost_adapters._graph import (
    GRAPH,
    GRAPH_INSTAGRAM,
    GraphError,
    ManagedPage,
    Reader,
    Specific,
    app_credentials,
    authorize,
    bearer,
    choose_page,
    classifier,
    facebook_app,
    facebook_user_token,
    granted,
    graph_url,
    managed_pages,
    oauth,
    permissions,
    rebased,
)

if TYPE_CHECKING:
    from crosspost_adapters.instagram import InstagramAdapter, InstagramSettings

PLATFORM = "instagram"
#: How many times media_publish is tried again after "not ready" (9007/2207027).
NOT_READY_TRIES = 3
#: Subcodes whose own user message (``error_user_msg``) says best what to change
#: (error-codes reference, docs/platforms/instagram.md).
_CONTENT_SUBCODES = frozenset({2207004, 2207005, 2207009, 2207026, 2207028, 2207040, 2207057})
#: Subcodes that say "make a new container and try again": nothing was published.
_RETRY_SUBCODES = frozenset({2207001, 2207003, 2207032, 2207053})
#: Container ``status_code`` values of a container that was not published (IG
#: Container reference): FINISHED and IN_PROGRESS are waiting, ERROR and EXPIRED
#: can no longer be published. PUBLISHED is the only one that means it is out.
NOT_PUBLISHED = frozenset({"FINISHED", "IN_PROGRESS", "ERROR", "EXPIRED"})
#: How many pages of a post's comments a lookup reads (``limit`` each) before it
#: says the first comment is not there: it was posted first, so it is near.
COMMENT_PAGES = 4
COMMENT_PAGE_SIZE = 50
#: What ``Resume`` says is left.
COMMENT_STEP = "the earlier post is there; posting its first comment"


class NotReady(InvalidContentError):
    """media_publish refused because the container is not FINISHED yet (9007/2207027).

    Nothing was published; the flow waits and tries again. It is an
    ``InvalidContentError`` so that ``Api.create`` does not read it as a maybe.
    """


def _specific(media_url: str | None) -> Specific:
    def specific(error: GraphError, response: httpx.Response) -> PlatformError | None:
        """Instagram's own codes, asked before the shared Graph codes."""
        status = response.status_code
        if error.code == 9004 or error.subcode == 2207052:
            where = f"at {media_url}" if media_url else "at its URL"
            return InvalidContentError(
                PLATFORM,
                redact(
                    f"Instagram could not fetch the media {where}: make it publicly reachable "
                    "(open the link in a private browser window to check)"
                ),
                status=status,
            )
        if error.code == 9 or error.subcode == 2207042:
            return RateLimitedError(
                PLATFORM,
                "Instagram's limit of published posts per 24 hours is reached (50 through the "
                "API): publish again tomorrow",
                status=status,
            )
        if error.code == 9007 or error.subcode == 2207027:
            return NotReady(
                PLATFORM, "Instagram has not finished processing the media", status=status
            )
        if error.code in (36000, 36001, 36003) or error.subcode in _CONTENT_SUBCODES:
            return InvalidContentError(
                PLATFORM,
                redact(f"Instagram refused the media: {error.text} ({error.codes})"),
                status=status,
            )
        if error.subcode == 2207020:
            # An expired container certainly was not published; as a TransientError
            # media_publish would report it as a "maybe" instead.
            return InvalidContentError(
                PLATFORM,
                "Instagram's media container expired before it was published; nothing was "
                "published: publish again",
                status=status,
            )
        if error.subcode in _RETRY_SUBCODES:
            return TransientError(
                PLATFORM,
                redact(
                    f"Instagram could not prepare the media ({error.text}; {error.codes}); "
                    "nothing was published: try again"
                ),
                status=status,
            )
        if error.subcode == 2207051:
            return InvalidContentError(
                PLATFORM,
                redact(
                    f"Instagram restricted this activity as suspected spam ({error.text}): "
                    "check the account in the Instagram app"
                ),
                status=status,
            )
        if error.code == 25 or error.subcode == 2207050:
            return PlatformError(
                PLATFORM,
                redact(
                    f"Instagram says the account is restricted ({error.text}): check it in the "
                    "Instagram app"
                ),
                status=status,
            )
        return None

    return specific


def make_classifier(media_url: str | None = None) -> Classifier:
    """Instagram's errors as crosspost's; ``media_url`` names the media a call sends."""
    return classifier(
        PLATFORM,
        "Instagram",
        "run crosspost auth login instagram (or set CROSSPOST_INSTAGRAM_ACCESS_TOKEN to a new "
        "access token)",
        _specific(media_url),
    )


#: The classifier for calls that send no media URL.
classify = make_classifier()


class _Flow:
    """One publish: the settings, token and URLs every step needs."""

    def __init__(self, ctx: PublishContext, settings: InstagramSettings, token: str) -> None:
        assert settings.ig_user_id is not None
        self.ctx = ctx
        self.settings = settings
        self.user = settings.ig_user_id
        self.auth = bearer(token)
        self.token = token
        self.host = GRAPH_INSTAGRAM if settings.login == "instagram" else GRAPH
        self.api = ctx.api(classify)

    def url(self, *path: str) -> str:
        return graph_url(self.host, self.settings.graph_version, *path)

    def step(self, message: str) -> None:
        self.ctx.progress.step(self.ctx.platform, message)

    async def check_quota(self) -> None:
        """Stop before creating anything when the 24-hour publishing quota is used up."""
        self.step("checking the publishing quota")
        try:
            response = await self.api.call(
                "GET",
                self.url(self.user, "content_publishing_limit"),
                params={"fields": "config,quota_usage"},
                headers=self.auth,
            )
        except InvalidContentError:
            # Not offered on every host (UNVERIFIED on graph.instagram.com): the
            # publish itself still meets the quota, so go on without the check.
            return
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        used = entry.get("quota_usage")
        config = entry.get("config")
        total = config.get("quota_total") if isinstance(config, dict) else None
        if isinstance(used, int) and isinstance(total, int) and total > 0 and used >= total:
            hours = config.get("quota_duration", 86400) // 3600 if isinstance(config, dict) else 24
            raise RateLimitedError(
                PLATFORM,
                f"Instagram's limit of {total} published posts per {hours} hours is used up "
                f"({used} of {total}); nothing was published: publish again later",
            )

    async def container(self, params: dict[str, str], media_url: str | None) -> str:
        """``POST /{ig_user_id}/media``: a container, invisible until published."""
        api = self.ctx.api(make_classifier(media_url))
        response = await api.call(
            "POST", self.url(self.user, "media"), data=params, headers=self.auth
        )
        return _id(response)

    async def wait(self, container: str, what: str) -> None:
        """Poll the container until FINISHED; ERROR and EXPIRED are final, time runs out."""
        from crosspost.polling import Pace

        pace = Pace(first=self.ctx.poll_interval, most=self.settings.poll_max)
        async for _ in pace.polls(self.ctx.poll_timeout):
            status_code, status = await self.status(container)
            if status_code in ("FINISHED", "PUBLISHED"):
                return
            if status_code == "ERROR":
                raise InvalidContentError(
                    PLATFORM,
                    redact(f"Instagram could not process {what}: {status or 'no reason given'}"),
                )
            if status_code == "EXPIRED":
                raise InvalidContentError(
                    PLATFORM,
                    f"Instagram's container for {what} expired before it was published; "
                    "nothing was published: publish again",
                )
        raise TransientError(
            PLATFORM,
            f"Instagram was still processing {what} after {self.ctx.poll_timeout:g} "
            "seconds; nothing was published: publish again later",
        )

    async def status(self, container: str) -> tuple[str, str]:
        """The container's ``status_code`` and ``status`` text."""
        response = await self.api.call(
            "GET",
            self.url(container),
            params={"fields": "status_code,status"},
            headers=self.auth,
        )
        body = json_body(response)
        if not isinstance(body, dict):
            return "", ""
        return str(body.get("status_code") or ""), str(body.get("status") or "")

    async def upload(self, container: str, uri: str, media: MediaFile) -> None:
        """POST the video's bytes to the ``uri`` the container answered (rupload)."""
        assert media.path is not None
        size = file_size(media.path)
        self.step("uploading video")
        self.ctx.progress.upload_started(self.ctx.platform, media.name, size)
        # One request with the whole file from offset 0: a broken one is sent again
        # whole (the guide documents no way to ask how far it got).
        await self.api.call(
            "POST",
            uri,
            content=file_chunks(
                media.path,
                0,
                size,
                progress=self.ctx.progress,
                platform=self.ctx.platform,
                name=media.name,
            ),
            headers={
                **oauth(self.token),
                "offset": "0",
                "file_size": str(size),
                "Content-Type": "application/octet-stream",
                "Content-Length": str(size),
            },
        )

    async def publish(self, container: str, post: Post) -> Published:
        """``media_publish`` (the create), reconciling an ambiguous answer with the container."""
        # Journaled before media_publish: after a lost answer (or a crash) the
        # container's status is what tells whether the post went out.
        self.ctx.remember(container=container)
        for tries in range(1, NOT_READY_TRIES + 1):
            self.step("publishing")
            try:
                response = await self.api.create(
                    "POST",
                    self.url(self.user, "media_publish"),
                    data={"creation_id": container},
                    headers=self.auth,
                )
            except NotReady:
                if tries == NOT_READY_TRIES:
                    raise TransientError(
                        PLATFORM,
                        "Instagram kept saying the media is not ready; nothing was published: "
                        "publish again later",
                    ) from None
                await self.wait(container, "the media")
                continue
            except UnknownOutcomeError as unknown:
                return await self.reconcile(container, post, unknown)
            media_id = _id(response)
            # Journaled at once: the first comment (and a later run) needs it.
            self.ctx.remember(media_id=media_id)
            return Published(media_id, await self.permalink(media_id), (media_id, container))
        raise AssertionError("unreachable")  # pragma: no cover

    async def reconcile(
        self, container: str, post: Post, unknown: UnknownOutcomeError
    ) -> Published:
        """Right after an ambiguous media_publish: PUBLISHED means it landed; else unknown.

        In the same run the request may still be on its way, so a container not
        (yet) PUBLISHED is no proof; the next run's ``reconcile`` asks again.
        """
        try:
            found = await self.lookup(container, post)
        except UnknownOutcomeError:
            raise unknown from None
        if found is None:
            raise unknown
        self.step("published (confirmed from the container)")
        return found

    async def lookup(
        self, container: str, post: Post, media_id: str | None = None
    ) -> Published | None:
        """Whether ``container`` was published: the post, or None when it was not.

        ``PUBLISHED`` gives the post (its media id and permalink found on the
        account's media by caption, else the container id). ``FINISHED`` and
        ``IN_PROGRESS`` were never published, ``ERROR`` and ``EXPIRED`` never will
        be: a new publish cannot post twice (docs/reconcile.md). A status that
        cannot be read is an ``UnknownOutcomeError``.
        """
        try:
            status_code, _ = await self.status(container)
        except PlatformError as exc:
            raise UnknownOutcomeError(
                PLATFORM,
                redact(
                    f"Instagram: the status of media container {container} cannot be read "
                    f"({exc.message}); the post may or may not be out: the next run asks again"
                ),
                status=exc.status,
            ) from None
        if status_code == "PUBLISHED":
            if media_id:
                url = await self.permalink(media_id)
            else:
                media_id, url = await self.find(post)
            return Published(media_id or container, url, (media_id or container, container))
        if status_code in NOT_PUBLISHED:
            return None
        raise UnknownOutcomeError(
            PLATFORM,
            f"Instagram: media container {container} has status {status_code or 'none'!r}, "
            "which says neither published nor not published; check the account",
        )

    async def find(self, post: Post) -> tuple[str | None, str | None]:
        """The newest media whose caption is this post's: its id and permalink."""
        try:
            response = await self.api.call(
                "GET",
                self.url(self.user, "media"),
                params={"fields": "id,caption,permalink,timestamp", "limit": "10"},
                headers=self.auth,
            )
        except PlatformError:
            return None, None  # it is published; only its address is unknown
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict) and item.get("caption") == post.text and item.get("id"):
                link = item.get("permalink")
                return str(item["id"]), link if isinstance(link, str) else None
        return None, None

    async def permalink(self, media_id: str) -> str | None:
        """The post's public URL; None when it cannot be read (the post is out regardless)."""
        try:
            response = await self.api.call(
                "GET", self.url(media_id), params={"fields": "permalink"}, headers=self.auth
            )
        except PlatformError:
            return None
        body = json_body(response)
        link = body.get("permalink") if isinstance(body, dict) else None
        return link if isinstance(link, str) and link else None

    async def resumed(self, post: Post) -> tuple[Published, str | None]:
        """The post an earlier run published (``ctx.previous``): no container, no
        media_publish; its media id (None when it cannot be found) for the comment."""
        previous = self.ctx.previous
        container = _text(previous.get("container"))
        media_id = _text(previous.get("media_id"))
        if media_id is None:
            # media_publish's answer was lost: the post is found by its caption.
            self.step("looking up the published post")
            media_id, url = await self.find(post)
            if media_id is None:
                raise UnknownOutcomeError(
                    PLATFORM,
                    f"Instagram: media container {container} is published, but the post is "
                    "not among the account's recent media, so its first comment cannot be "
                    "posted yet; the next run looks again",
                )
            self.ctx.remember(media_id=media_id)
        else:
            url = await self.permalink(media_id)
        ids = (media_id, container) if container else (media_id,)
        return Published(media_id, url, ids), media_id

    async def comment(self, published: Published, media_id: str | None, text: str) -> Published:
        """Post the first comment under the published post; journaled before and after.

        The post is public whatever happens here. An answer that never came is
        looked up at once and otherwise left to the next run (unknown); a refusal
        is recorded (``comment_error``) and shown, and the post stays published.
        """
        if media_id is None:
            return self.comment_failed(
                published, "the post's media id is not known, so the comment could not be posted"
            )
        # Journaled before the call: if the run dies now, the next run looks for
        # the comment before posting it again (docs/platforms/instagram.md).
        self.ctx.remember(comment="sending", comment_at=stamp())
        self.step(COMMENT_STEP)
        try:
            response = await self.api.create(
                "POST",
                self.url(media_id, "comments"),
                data={"message": text},
                headers=self.auth,
            )
        except UnknownOutcomeError as unknown:
            try:
                found = await self.find_comment(media_id, text)
            except UnknownOutcomeError:
                found = None
            if found is None:
                where = f" at {published.url}" if published.url else ""
                raise UnknownOutcomeError(
                    PLATFORM,
                    redact(
                        f"Instagram: the post is public{where}, but whether its first comment "
                        f"went out is unknown ({unknown.message}); the next run looks for the "
                        "comment and posts it if it is not there"
                    ),
                    status=unknown.status,
                ) from None
            comment_id = found
        except PlatformError as exc:
            return self.comment_failed(published, exc.message)
        else:
            comment_id = _id(response)
        self.ctx.remember(comment_id=comment_id)
        return Published(published.remote_id, published.url, (*published.ids, comment_id))

    def comment_failed(self, published: Published, why: str) -> Published:
        """The post is public but its first comment is not: record why, say it, keep the post."""
        message = redact(
            f"the post is published, but its first comment was not posted ({why}); add it "
            "by hand in the Instagram app (crosspost preview shows its text)"
        )
        self.ctx.remember(comment="failed", comment_error=message)
        self.step(message)
        return dataclasses.replace(published, note=message)

    async def find_comment(self, media_id: str, text: str) -> str | None:
        """The id of the comment on ``media_id`` whose text is exactly ``text``, or None.

        ``GET /{media_id}/comments?fields=id,text`` page by page (``after`` cursor).
        A read that fails is an ``UnknownOutcomeError``: absence is not proven.
        """
        params = {"fields": "id,text,timestamp", "limit": str(COMMENT_PAGE_SIZE)}
        for _ in range(COMMENT_PAGES):
            try:
                response = await self.api.call(
                    "GET", self.url(media_id, "comments"), params=params, headers=self.auth
                )
            except PlatformError as exc:
                raise UnknownOutcomeError(
                    PLATFORM,
                    redact(
                        f"Instagram: the comments of post {media_id} cannot be read "
                        f"({exc.message}); whether its first comment is there is unknown: the "
                        "next run asks again"
                    ),
                    status=exc.status,
                ) from None
            body = json_body(response)
            data = body.get("data") if isinstance(body, dict) else None
            for item in data if isinstance(data, list) else []:
                if isinstance(item, dict) and item.get("text") == text and item.get("id"):
                    return str(item["id"])
            paging = body.get("paging") if isinstance(body, dict) else None
            cursors = paging.get("cursors") if isinstance(paging, dict) else None
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not (isinstance(paging, dict) and paging.get("next") and isinstance(after, str)):
                return None
            params = {**params, "after": after}
        return None


def first_comment(post: Post) -> str | None:
    """The first comment's text the render put in the post, or None for none."""
    text = post.extra.get("first_comment")
    return text if isinstance(text, str) and text.strip() else None


def _text(value: object) -> str | None:
    """A handle as a non-empty string (ids are stored as given), or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _id(response: httpx.Response) -> str:
    body = json_body(response)
    value = body.get("id") if isinstance(body, dict) else None
    if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
        raise TransientError(
            PLATFORM, f"Instagram answered without an id (HTTP {response.status_code})"
        )
    return str(value)


def _settings(ctx: PublishContext) -> InstagramSettings:
    settings = _as_settings(ctx.settings)
    if not settings.ig_user_id:
        raise ConfigError(
            "[platforms.instagram] ig_user_id is not set in the config: run crosspost auth "
            "login instagram (it fills it in), or add the id of the Instagram professional "
            "account to post to"
        )
    return settings


def _as_settings(settings: object) -> InstagramSettings:
    from crosspost_adapters.instagram import InstagramSettings

    assert isinstance(settings, InstagramSettings)
    return settings


async def reconcile(
    adapter: InstagramAdapter, post: Post, sent: Sent, ctx: PublishContext
) -> Published | Resume | None:
    """After a run that stopped in media_publish or in the first comment: ask the
    journaled container (docs/reconcile.md), then look for the comment.

    No container handle means media_publish was never sent (it needs one, and
    the id is journaled before it), so nothing can have been published. A
    published post whose wanted comment is not recorded: never sent → ``Resume``;
    sent → found (published), absent once ``settle`` has passed (``Resume``), or
    absent and younger (unknown: it may still be on its way).
    """
    container = _text(sent.handles.get("container"))
    if container is None:
        return None
    settings = _settings(ctx)
    flow = _Flow(ctx, settings, ctx.credentials.require("access_token"))
    flow.step("looking up the media container")
    media_id = _text(sent.handles.get("media_id"))
    found = await flow.lookup(container, post, media_id)
    text = first_comment(post)
    if found is None or text is None or _text(sent.handles.get("comment_id")):
        return found
    state = sent.handles.get("comment")
    if state == "failed":
        return found  # refused and told when it happened; the post is out
    if state != "sending":
        return Resume(COMMENT_STEP)
    if media_id is None:
        media_id = found.remote_id if found.remote_id != container else None
    if media_id is None:
        raise UnknownOutcomeError(
            PLATFORM,
            f"Instagram: media container {container} is published, but the post cannot be "
            "found to check its first comment; the next run looks again",
        )
    flow.step("looking for the first comment")
    comment_id = await flow.find_comment(media_id, text)
    if comment_id is not None:
        ctx.remember(comment_id=comment_id)
        return Published(found.remote_id, found.url, (*found.ids, comment_id))
    sent_at = parse_stamp(_text(sent.handles.get("comment_at")))
    age = (datetime.now(UTC) - sent_at).total_seconds() if sent_at else sent.age
    if age >= ctx.settle:
        return Resume(f"{COMMENT_STEP} (the earlier one never arrived)")
    raise UnknownOutcomeError(
        PLATFORM,
        f"Instagram: the post is published, but its first comment, sent {age:.0f} seconds ago, "
        "is not shown yet; it may still be on its way: the next run looks again",
    )


async def publish(adapter: InstagramAdapter, post: Post, ctx: PublishContext) -> Published:
    """Publish ``post`` (one image, a carousel of images, or a Reel), then its first
    comment; with ``ctx.previous`` (``Resume``) the post is out and only the comment is
    left."""
    settings = _settings(ctx)
    token = ctx.credentials.require("access_token")
    comment = first_comment(post)
    if ctx.previous:
        flow = _Flow(ctx, settings, token)
        published, media_id = await flow.resumed(post)
        if comment is None or _text(ctx.previous.get("comment_id")):
            return published
        return await flow.comment(published, media_id, comment)
    flow = _Flow(ctx, settings, token)
    published, media_id = await _post(flow, post)
    if comment is None:
        return published
    return await flow.comment(published, media_id, comment)


async def _post(flow: _Flow, post: Post) -> tuple[Published, str | None]:
    """Container(s), processing, media_publish: the post itself, and its media id (None
    when a lookup found the container published but not the post's id)."""
    images = [m for m in post.media if m.is_image]
    videos = [m for m in post.media if m.is_video]
    if not images and not videos:
        raise InvalidContentError(PLATFORM, "Instagram needs an image or a video to post")
    for media in images:
        if not media.url:
            raise InvalidContentError(
                PLATFORM,
                f"{media.name}: Instagram fetches images from a public URL and this one has none",
            )
    if flow.settings.check_quota:
        await flow.check_quota()
    if images:
        container = await _images(flow, post, images)
    else:
        container = await _reel(flow, post, videos[0])
    published = await flow.publish(container, post)
    return published, (published.remote_id if published.remote_id != container else None)


async def _images(flow: _Flow, post: Post, images: list[MediaFile]) -> str:
    """One image container, or a carousel of image children; waits until FINISHED."""
    if len(images) == 1:
        media = images[0]
        assert media.url is not None
        flow.step("creating the image container")
        container = await flow.container(_image_params(media, caption=post.text), media.url)
        flow.step("waiting for Instagram to fetch the image")
        await flow.wait(container, media.name)
        return container
    children = []
    for number, media in enumerate(images, 1):
        assert media.url is not None
        flow.step(f"creating carousel item {number} of {len(images)}")
        params = _image_params(media)
        params["is_carousel_item"] = "true"
        children.append(await flow.container(params, media.url))
    for media, child in zip(images, children, strict=True):
        flow.step(f"waiting for Instagram to fetch {media.name}")
        await flow.wait(child, media.name)
    flow.step("creating the carousel container")
    container = await flow.container(
        {"media_type": "CAROUSEL", "children": ",".join(children), "caption": post.text}, None
    )
    await flow.wait(container, "the carousel")
    return container


def _image_params(media: MediaFile, caption: str | None = None) -> dict[str, str]:
    assert media.url is not None
    params = {"image_url": media.url}
    if caption is not None:
        params["caption"] = caption
    if media.alt:
        params["alt_text"] = media.alt  # images only (added Mar 2025)
    return params


async def _reel(flow: _Flow, post: Post, media: MediaFile) -> str:
    """A Reel container from the video's URL, else uploaded from the file; waits until FINISHED."""
    params = {"media_type": "REELS", "caption": post.text}
    flow.step("creating the video container")
    if media.url:
        params["video_url"] = media.url
        container = await flow.container(params, media.url)
    elif media.path is not None:
        if flow.settings.login == "instagram":
            # "available only for apps that have implemented Facebook Login for
            # Business" (Upload Video to Meta Servers guide); validate says so too.
            raise InvalidContentError(
                PLATFORM,
                f"{media.name}: Meta uploads a Reel from a file only with Facebook Login; give "
                "the video a public url, or run crosspost auth login instagram --login facebook",
            )
        params["upload_type"] = "resumable"
        api = flow.ctx.api(classify)
        response = await api.call(
            "POST", flow.url(flow.user, "media"), data=params, headers=flow.auth
        )
        container = _id(response)
        body = json_body(response)
        uri = body.get("uri") if isinstance(body, dict) else None
        if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
            raise TransientError(
                PLATFORM, "Instagram opened a video upload without an upload address"
            )
        # The uri is on rupload.facebook.com: Api.call rebases it onto api_base.
        await flow.upload(container, uri, media)
    else:
        raise InvalidContentError(
            PLATFORM, f"{media.name}: this video has neither a file nor a URL"
        )
    flow.step("waiting for Instagram to process the video")
    await flow.wait(container, media.name)
    return container


# -- the account: login, renewal, identity, diagnose (docs/platforms/instagram.md) -------

#: Facebook Login for Instagram publishing (IG Container reference, "Requirements":
#: instagram_basic, instagram_content_publish, pages_read_engagement; pages_show_list
#: lists the Pages whose linked account is used).
FACEBOOK_SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "pages_show_list",
    "pages_read_engagement",
)
#: Instagram Login for publishing (Business Login for Instagram; the scope names
#: since January 2025).
INSTAGRAM_SCOPES = ("instagram_business_basic", "instagram_business_content_publish")
#: Posting and reading the first comment (IG Media Comments reference): asked for
#: only when ``first_comment`` is set, by login.
COMMENT_PERMISSION = {
    "facebook": "instagram_manage_comments",
    "instagram": "instagram_business_manage_comments",
}
#: The permission without which nothing can be published, by login.
PUBLISH_PERMISSION = {
    "facebook": "instagram_content_publish",
    "instagram": "instagram_business_content_publish",
}
#: Instagram Login's hosts: the authorization window and the code exchange
#: (developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/
#: business-login).
INSTAGRAM_WWW = "https://www.instagram.com"
INSTAGRAM_API = "https://api.instagram.com"
#: A long-lived Instagram token lasts 60 days; it can be refreshed once at least 24
#: hours old and not expired (refresh_access_token reference).
LONG_LIVED = timedelta(days=60)
MIN_REFRESH_AGE = timedelta(hours=24)
#: A token that cannot renew itself and runs out within this long is warned about.
EXPIRY_WARNING = timedelta(days=7)

#: Refusals while logging in say to log in again.
_login_classify = classifier(PLATFORM, "Instagram", "run crosspost auth login instagram again")
#: Words of a refused app id or secret at api.instagram.com's token endpoint.
CLIENT_REFUSED = re.compile(r"client secret|client_secret|client authentication|client_id", re.I)
LoginWay = Literal["facebook", "instagram"]


async def login(adapter: InstagramAdapter, session: LoginSession) -> Login:
    """Log in with Facebook Login or Instagram Login (``--login`` or the ``login`` setting)."""
    settings = _as_settings(session.settings)
    way = session.options.get("login") or settings.login
    if way == "instagram":
        return await _instagram_login(session, settings)
    if way == "facebook":
        return await _facebook_login(session, settings)
    raise ConfigError(f'instagram: --login must be "facebook" or "instagram", not {way!r}')


async def _facebook_login(session: LoginSession, settings: InstagramSettings) -> Login:
    """Facebook Login → long-lived user token → a Page with a linked Instagram account.

    The linked account is asked of each Page (``GET /{page-id}?fields=
    instagram_business_account{id,username}``, the IG User reference's way to find
    it); the Page token, which does not expire, then publishes.
    """
    app_id, app_secret = app_credentials(
        session.credentials, PLATFORM, settings.app_id, "your Meta app"
    )
    scopes = login_scopes(settings, "facebook")
    app = facebook_app(PLATFORM, settings.graph_version, scopes, settings.api_base)
    user = await facebook_user_token(session, app, app_id, app_secret, settings.redirect_uri)
    base = rebased(graph_url(GRAPH, settings.graph_version), settings.api_base)
    reader = Reader(session.client, PLATFORM, _login_classify)
    granted, _declined = await permissions(reader, base, user.access_token)
    _require(scopes, granted)
    pages = await managed_pages(reader, base, user.access_token, "id,name,access_token,tasks")
    linked: list[ManagedPage] = []
    for page in pages:
        body = await reader.get(
            f"{base}/{page.id}",
            user.access_token,
            {"fields": "instagram_business_account{id,username}"},
        )
        account = body.get("instagram_business_account")
        if isinstance(account, dict) and account.get("id"):
            linked.append(
                ManagedPage(
                    page.id,
                    page.name,
                    page.token,
                    page.tasks,
                    str(account["id"]),
                    str(account.get("username") or "") or None,
                )
            )
    if not linked:
        raise OAuthError(
            PLATFORM,
            "none of the Pages this Facebook account manages has an Instagram professional "
            "account linked (or the Page was not ticked in the login dialog): link the "
            "account in the Page's settings, or use crosspost auth login instagram --login "
            "instagram",
            error="no_account",
        )
    chosen = choose_page(
        session,
        linked,
        settings.ig_user_id,
        "Which Instagram account should crosspost post to?",
        label=lambda p: f"@{p.instagram_username or p.instagram_id} (through the Page {p.name})",
        matches=lambda p, wanted: p.instagram_id == wanted,
    )
    if chosen is None:
        offered = ", ".join(f"{p.instagram_id} (@{p.instagram_username})" for p in linked)
        raise OAuthError(
            PLATFORM,
            f"ig_user_id {settings.ig_user_id} in [platforms.instagram] is not linked to a Page "
            f"this account manages; these are: {offered}. Remove ig_user_id from the config "
            "to choose",
            error="wrong_account",
        )
    assert chosen.instagram_id is not None
    name = chosen.instagram_username or chosen.instagram_id
    session.say(f"Instagram: crosspost posts as @{name} through the Page {chosen.label}.")
    return Login(
        account=Account(name, chosen.instagram_id, _profile(chosen.instagram_username)),
        secrets={"access_token": chosen.token},
        scopes=tuple(sorted(granted)),
        settings={"ig_user_id": chosen.instagram_id, "login": "facebook"},
    )


def login_scopes(settings: InstagramSettings, way: LoginWay) -> tuple[str, ...]:
    """The permissions a login asks for: publishing, and comments with ``first_comment``."""
    scopes = FACEBOOK_SCOPES if way == "facebook" else INSTAGRAM_SCOPES
    if settings.first_comment:
        scopes = (*scopes, COMMENT_PERMISSION[way])
    return scopes


def _require(scopes: tuple[str, ...], granted: set[str] | tuple[str, ...]) -> None:
    missing = [p for p in scopes if p not in granted]
    if missing:
        raise OAuthError(
            PLATFORM,
            f"Instagram did not grant {', '.join(missing)} (unticked in the login dialog, or "
            "not available to this app): run crosspost auth login instagram again and allow "
            "every permission crosspost asks for",
            error="declined",
        )


def _profile(username: str | None) -> str | None:
    return f"https://www.instagram.com/{username}" if username else None


def _instagram_app(settings: InstagramSettings) -> OAuthApp:
    return OAuthApp(
        platform=PLATFORM,
        display_name="Instagram",
        authorize_url=rebased(f"{INSTAGRAM_WWW}/oauth/authorize", settings.api_base),
        token_url=rebased(f"{INSTAGRAM_API}/oauth/access_token", settings.api_base),
        scopes=login_scopes(settings, "instagram"),
        scope_separator=",",
        pkce=None,
    )


async def _instagram_login(session: LoginSession, settings: InstagramSettings) -> Login:
    """Instagram Login → a 1-hour token → a 60-day token → the account's id and name."""
    app_id, app_secret = app_credentials(
        session.credentials, PLATFORM, settings.app_id, "your app's Instagram login"
    )
    app = _instagram_app(settings)
    code, redirect = await authorize(session, app, app_id, settings.redirect_uri)
    short, granted = await _exchange_code(session.client, app, app_id, app_secret, code, redirect)
    if granted:
        _require(app.scopes, granted)
    token = await _ig_token(
        session.client,
        settings,
        "access_token",
        {"grant_type": "ig_exchange_token", "client_secret": app_secret, "access_token": short},
    )
    reader = Reader(session.client, PLATFORM, _login_classify)
    me = await reader.get(
        _ig_url(settings, "me"), token.access_token, {"fields": "user_id,username"}
    )
    user_id = str(me.get("user_id") or me.get("id") or "")
    if not user_id:
        raise OAuthError(PLATFORM, "Instagram answered /me without the account's id")
    username = str(me.get("username") or "") or None
    session.say(f"Instagram: crosspost posts as @{username or user_id}.")
    return Login(
        account=Account(username or user_id, user_id, _profile(username)),
        secrets={"access_token": token.access_token},
        expires_at=token.expires_at,
        scopes=tuple(granted) or app.scopes,
        settings={"ig_user_id": user_id, "login": "instagram"},
    )


def _ig_url(settings: InstagramSettings, *path: str) -> str:
    return rebased(graph_url(GRAPH_INSTAGRAM, settings.graph_version, *path), settings.api_base)


async def _exchange_code(
    client: httpx.AsyncClient,
    app: OAuthApp,
    app_id: str,
    app_secret: str,
    code: str,
    redirect_uri: str,
) -> tuple[str, tuple[str, ...]]:
    """The code for a 1-hour token: ``POST https://api.instagram.com/oauth/access_token``.

    The answer is ``{"data": [{"access_token", "user_id", "permissions"}]}`` in the
    Business Login guide and a flat object in the endpoint's reference; both are
    read. Refusals come as ``{"error_type", "code", "error_message"}``.
    Returns the token and the permissions granted (empty when not said).
    """
    redaction.register(code)
    fields = {
        "client_id": app_id,
        "client_secret": app_secret,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        "code": code,
    }
    try:
        response = await client.post(
            app.token_url, data=fields, headers={"Accept": "application/json"}
        )
    except httpx.HTTPError as exc:
        raise TransientError(
            PLATFORM,
            f"could not reach Instagram's token endpoint ({type(exc).__name__}): try again",
        ) from None
    payload = json_body(response)
    if isinstance(payload, dict) and isinstance(payload.get("data"), list) and payload["data"]:
        payload = payload["data"][0]
    if response.status_code >= 500:
        raise TransientError(
            PLATFORM,
            f"Instagram's token endpoint had a temporary problem (HTTP {response.status_code})",
            status=response.status_code,
        )
    token = payload.get("access_token") if isinstance(payload, dict) else None
    words = _refusal_words(payload, response)
    if response.status_code != 200 and CLIENT_REFUSED.search(words):
        raise OAuthError(
            PLATFORM,
            f"Instagram refused the app's credentials ({words}): check app_id in "
            "[platforms.instagram] and CROSSPOST_INSTAGRAM_APP_SECRET (the Instagram app id "
            "and secret of Instagram Login, not the Meta app's); see "
            "docs/platforms/instagram.md",
            status=response.status_code,
            error="invalid_client",
        )
    if response.status_code != 200 or not isinstance(token, str) or not token:
        raise OAuthError(
            PLATFORM,
            f"Instagram refused the authorization code ({words}); "
            "codes are single-use and short-lived: run crosspost auth login instagram again",
            status=response.status_code,
            error="invalid_code",
        )
    redaction.register(token)
    raw = payload.get("permissions") if isinstance(payload, dict) else None
    if isinstance(raw, str):
        granted = tuple(p for p in raw.replace(" ", ",").split(",") if p)
    elif isinstance(raw, list):
        granted = tuple(str(p) for p in raw)
    else:
        granted = ()
    return token, granted


def _refusal_words(payload: object, response: httpx.Response) -> str:
    """Instagram Login's error object (or Graph's) in words."""
    if isinstance(payload, dict):
        if isinstance(payload.get("error_message"), str):
            kind = payload.get("error_type") or "error"
            return redact(f"{payload['error_message']}; {kind}, code {payload.get('code')}")
        error = payload.get("error")
        if isinstance(error, dict) and error.get("message"):
            return redact(f"{error['message']}; code {error.get('code')}")
    return f"HTTP {response.status_code}"


async def _ig_token(
    client: httpx.AsyncClient, settings: InstagramSettings, path: str, fields: dict[str, str]
) -> TokenSet:
    """A 60-day token from graph.instagram.com: ``/access_token`` (``ig_exchange_token``)
    or ``/refresh_access_token`` (``ig_refresh_token``). Both are GETs whose
    parameters carry the token, as Meta documents them (access_token and
    refresh_access_token references); every value is registered for redaction."""
    for value in fields.values():
        redaction.register(value)
    app = OAuthApp(
        platform=PLATFORM,
        display_name="Instagram",
        authorize_url="",
        token_url=rebased(f"{GRAPH_INSTAGRAM}/{path}", settings.api_base),
        token_method="GET",
        pkce=None,
    )
    return await token_request(client, app, fields, client_id=None, client_secret=None)


async def renew(adapter: InstagramAdapter, ctx: PublishContext, horizon: float) -> None:
    """Refresh an Instagram Login token that is ``renew_after_days`` old or expires within
    ``horizon`` seconds; save it before anything uses it.

    Nothing to do for Facebook Login (the Page token does not expire) nor for a token
    from the environment (it cannot be saved). An expired token cannot be renewed:
    ``AuthError`` with the login command. A refused or failed refresh of a token that
    still lasts beyond the run is left for the next run.
    """
    settings = _as_settings(ctx.settings)
    creds = ctx.credentials
    if settings.login != "instagram" or creds.from_environment("access_token"):
        return
    token = creds.get("access_token")
    if token is None:
        return
    now = datetime.now(UTC)
    expires = creds.expires_at("access_token")
    account = _account(ctx, settings)
    if expires is not None and expires <= now:
        raise AuthError(
            PLATFORM,
            f"the Instagram access token of {account} expired on {expires:%Y-%m-%d}; Instagram "
            "renews only tokens that have not expired: run crosspost auth login instagram",
        )
    obtained = _when(creds.meta("obtained_at"))
    if obtained is None and expires is not None:
        obtained = expires - LONG_LIVED
    age = now - obtained if obtained is not None else None
    soon = expires is not None and expires <= now + timedelta(seconds=horizon)
    old = age is None or age >= timedelta(days=settings.renew_after_days)
    if not (soon or old) or (age is not None and age < MIN_REFRESH_AGE):
        return
    ctx.progress.step(ctx.platform, "renewing the access token")
    try:
        renewed = await _ig_token(
            ctx.client,
            settings,
            "refresh_access_token",
            {"grant_type": "ig_refresh_token", "access_token": token},
        )
    except PlatformError as exc:
        if not soon:
            return  # the token still lasts beyond this run; the next run tries again
        raise AuthError(
            PLATFORM,
            f"the Instagram access token of {account} could not be renewed ({exc.message}) and "
            f"expires on {expires:%Y-%m-%d %H:%M} UTC: run crosspost auth login instagram",
        ) from None
    # Saved before it is used: the publish reads it from the credentials.
    creds.save(
        access_token=renewed.access_token,
        expires_at=renewed.expires_at or now + LONG_LIVED,
        obtained_at=now,
    )


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _account(ctx: PublishContext, settings: InstagramSettings) -> str:
    name = ctx.credentials.meta("account")
    if isinstance(name, str) and name:
        return f"@{name}"
    return f"account {settings.ig_user_id}" if settings.ig_user_id else "the account"


async def identity(adapter: InstagramAdapter, ctx: PublishContext) -> Account:
    """The account the token posts as: ``GET /{ig-user-id}?fields=id,username`` (Facebook
    Login), or ``GET /me?fields=user_id,username`` (Instagram Login)."""
    settings = _as_settings(ctx.settings)
    token = ctx.credentials.require("access_token")
    api = ctx.api(classify)
    if settings.login == "instagram":
        response = await api.call(
            "GET",
            graph_url(GRAPH_INSTAGRAM, settings.graph_version, "me"),
            params={"fields": "user_id,username"},
            headers=bearer(token),
        )
        key = "user_id"
    else:
        settings = _settings(ctx)
        assert settings.ig_user_id is not None
        response = await api.call(
            "GET",
            graph_url(GRAPH, settings.graph_version, settings.ig_user_id),
            params={"fields": "id,username"},
            headers=bearer(token),
        )
        key = "id"
    body = json_body(response)
    found = body.get(key) if isinstance(body, dict) else None
    if not found:
        raise TransientError(PLATFORM, "Instagram answered without the account's id")
    username = str(body.get("username") or "") or None if isinstance(body, dict) else None
    return Account(username or str(found), str(found), _profile(username))


async def diagnose(
    adapter: InstagramAdapter, ctx: PublishContext, post: Post | None
) -> list[Finding]:
    """Read-only checks: the account is ``ig_user_id``, what the token may do, when it
    runs out, and that Instagram can fetch the post's media."""
    settings = _as_settings(ctx.settings)
    if ctx.credentials.get("access_token") is None:
        return [Finding("fail", ctx.credentials.missing_message(["access_token"]))]
    findings: list[Finding] = []
    if settings.login == "facebook" and not settings.ig_user_id:
        findings.append(
            Finding(
                "fail",
                "ig_user_id is not set in [platforms.instagram]: run crosspost auth login "
                "instagram, or set it",
            )
        )
    else:
        try:
            account = await identity(adapter, ctx)
        except PlatformError as exc:
            return [Finding("fail", f"the access token was refused: {exc.message}")]
        findings.append(_same_account(account, settings))
    findings.append(await _permissions(ctx, settings))
    findings += _expiry(ctx, settings)
    if post is not None:
        findings += await media_reachable(ctx, post)
    return findings


def _same_account(account: Account, settings: InstagramSettings) -> Finding:
    if not settings.ig_user_id:
        return Finding(
            "fail",
            f"ig_user_id is not set in [platforms.instagram]; the token posts as "
            f'@{account.name} (ig_user_id = "{account.id}"): run crosspost auth login '
            "instagram, or set it",
        )
    if account.id != settings.ig_user_id:
        return Finding(
            "fail",
            f"the token posts as @{account.name} ({account.id}), but ig_user_id in "
            f"[platforms.instagram] is {settings.ig_user_id}: run crosspost auth login instagram",
        )
    return Finding("ok", f"the token posts as @{account.name} ({account.id})")


async def _permissions(ctx: PublishContext, settings: InstagramSettings) -> Finding:
    """What the token may do: ``debug_token`` (Facebook Login, with the app's credentials),
    or the permissions stored when logging in (Instagram Login)."""
    needed = PUBLISH_PERMISSION[settings.login]
    comments = (COMMENT_PERMISSION[settings.login],) if settings.first_comment else ()
    if settings.login == "instagram":
        stored = ctx.credentials.meta("scopes")
        if not isinstance(stored, list):
            return Finding(
                "warn",
                "the token's permissions are not known (it was not stored by crosspost auth "
                "login instagram); publishing needs " + needed,
            )
        if needed not in stored:
            return Finding(
                "fail",
                f"the token was not granted {needed}, which publishing needs: run crosspost "
                "auth login instagram and allow it",
            )
        if comments and comments[0] not in stored:
            return Finding(
                "warn",
                f"the token was not granted {comments[0]}, which the first comment "
                "(first_comment) needs; posts go out without it: run crosspost auth login "
                "instagram and allow it",
            )
        return Finding("ok", f"the token may publish ({', '.join((needed, *comments))})")
    token = ctx.credentials.get("access_token")
    assert token is not None
    found = await granted(
        ctx.api(classify),
        graph_url(GRAPH, settings.graph_version),
        token,
        ctx.credentials,
        settings.app_id,
        ("instagram_basic", needed, *comments),
        what="the token",
        platform=PLATFORM,
        use="publishing and the first comment" if comments else "publishing",
    )
    if isinstance(found, Finding):
        return found
    return Finding(
        "ok", f"the token may publish ({', '.join(('instagram_basic', needed, *comments))})"
    )


def _expiry(ctx: PublishContext, settings: InstagramSettings) -> list[Finding]:
    """When an Instagram Login token runs out, and whether crosspost renews it."""
    if settings.login != "instagram":
        return []
    expires = ctx.credentials.expires_at("access_token")
    now = datetime.now(UTC)
    if ctx.credentials.from_environment("access_token"):
        return [
            Finding(
                "warn",
                "the access token comes from CROSSPOST_INSTAGRAM_ACCESS_TOKEN: crosspost cannot "
                "renew it, and it stops working 60 days after it was issued; run crosspost auth "
                "login instagram to let crosspost keep it renewed",
            )
        ]
    if expires is None:
        return [Finding("warn", "the access token's expiry is not known; it lasts 60 days")]
    if expires <= now:
        return [
            Finding(
                "fail",
                f"the access token expired on {expires:%Y-%m-%d}; Instagram cannot renew an "
                "expired token: run crosspost auth login instagram",
            )
        ]
    return [
        Finding(
            "ok",
            f"the access token lasts until {expires:%Y-%m-%d}; crosspost renews it before "
            f"publishing once it is {settings.renew_after_days} days old",
        )
    ]


#: What Instagram takes from a media URL, by kind (IG User Media reference: JPEG images).
_CONTENT_TYPES = {"image": ("image/jpeg",), "video": ("video/",)}
MEDIA_TIMEOUT = 20.0


async def media_reachable(ctx: PublishContext, post: Post) -> list[Finding]:
    """Whether each media URL answers 200 with an image or video type, as Instagram's own
    fetch will need ("We cURL media used in publishing attempts", content-publishing
    guide): ``HEAD``, or ``GET`` where ``HEAD`` is not allowed. Not rebased: these are
    the organisation's own URLs."""
    findings = []
    for media in post.media:
        if not media.url:
            continue
        findings.append(await _reachable(ctx.client, media))
    return findings


async def _reachable(client: httpx.AsyncClient, media: MediaFile) -> Finding:
    assert media.url is not None
    try:
        response = await client.head(media.url, follow_redirects=True, timeout=MEDIA_TIMEOUT)
        if response.status_code in (405, 501):
            async with client.stream(
                "GET", media.url, follow_redirects=True, timeout=MEDIA_TIMEOUT
            ) as streamed:
                response = streamed
    except httpx.HTTPError as exc:
        return Finding(
            "fail",
            redact(
                f"{media.name}: Instagram could not fetch {media.url} ({type(exc).__name__}): "
                "make it publicly reachable"
            ),
        )
    if response.status_code != 200:
        return Finding(
            "fail",
            redact(
                f"{media.name}: {media.url} answers HTTP {response.status_code}; Instagram "
                "fetches the media from there when publishing: make it publicly reachable"
            ),
        )
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    wanted = _CONTENT_TYPES["image" if media.is_image else "video"]
    if not ctype:
        return Finding(
            "warn", redact(f"{media.name}: {media.url} is reachable but names no content type")
        )
    if not ctype.startswith(wanted):
        return Finding(
            "fail",
            redact(
                f"{media.name}: {media.url} is served as {ctype}; Instagram takes "
                f"{' or '.join(t.rstrip('/') + ('/*' if t.endswith('/') else '') for t in wanted)}"
            ),
        )
    return Finding("ok", redact(f"{media.name}: {media.url} is reachable ({ctype})"))
