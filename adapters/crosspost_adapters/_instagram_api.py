"""Publishing to an Instagram professional account: container → status → publish.

The flow (platform-apis.md §3.2; IG User Media and media_publish references):

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
5. ``GET /{v}/{media_id}?fields=permalink`` for the public URL.

Host: graph.facebook.com (Facebook Login) or graph.instagram.com (Instagram
Login), from the ``login`` setting. The token travels in the ``Authorization``
header, never in a URL.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

from crosspost.adapter import Post, Published, Sent
from crosspost.api import Classifier, PublishContext, file_chunks, file_size, json_body
from crosspost.errors import (
    ConfigError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost.redaction import redact
from crosspost_adapters._graph import (
    GRAPH,
    GRAPH_INSTAGRAM,
    GraphError,
    Specific,
    bearer,
    classifier,
    graph_url,
    oauth,
)

if TYPE_CHECKING:
    from crosspost_adapters.instagram import InstagramAdapter, InstagramSettings

PLATFORM = "instagram"
#: How many times media_publish is tried again after "not ready" (9007/2207027).
NOT_READY_TRIES = 3
#: Subcodes whose own user message (``error_user_msg``) says best what to change
#: (error-codes reference, platform-apis.md §3.5).
_CONTENT_SUBCODES = frozenset({2207004, 2207005, 2207009, 2207026, 2207028, 2207040, 2207057})
#: Subcodes that say "make a new container and try again": nothing was published.
_RETRY_SUBCODES = frozenset({2207001, 2207003, 2207032, 2207053})
#: Container ``status_code`` values of a container that was not published (IG
#: Container reference): FINISHED and IN_PROGRESS are waiting, ERROR and EXPIRED
#: can no longer be published. PUBLISHED is the only one that means it is out.
NOT_PUBLISHED = frozenset({"FINISHED", "IN_PROGRESS", "ERROR", "EXPIRED"})


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
        "get a new access token and set CROSSPOST_INSTAGRAM_ACCESS_TOKEN",
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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ctx.poll_timeout
        while True:
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
            if loop.time() >= deadline:
                raise TransientError(
                    PLATFORM,
                    f"Instagram was still processing {what} after {self.ctx.poll_timeout:g} "
                    "seconds; nothing was published: publish again later",
                )
            await asyncio.sleep(self.ctx.poll_interval)

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

    async def lookup(self, container: str, post: Post) -> Published | None:
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


def _id(response: httpx.Response) -> str:
    body = json_body(response)
    value = body.get("id") if isinstance(body, dict) else None
    if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
        raise TransientError(
            PLATFORM, f"Instagram answered without an id (HTTP {response.status_code})"
        )
    return str(value)


def _settings(ctx: PublishContext) -> InstagramSettings:
    from crosspost_adapters.instagram import InstagramSettings

    settings = ctx.settings
    assert isinstance(settings, InstagramSettings)
    if not settings.ig_user_id:
        raise ConfigError(
            "[platforms.instagram] ig_user_id is not set in the config: add the id of the "
            "Instagram professional account to post to"
        )
    return settings


async def reconcile(
    adapter: InstagramAdapter, post: Post, sent: Sent, ctx: PublishContext
) -> Published | None:
    """After a lost media_publish answer: ask the journaled container (docs/reconcile.md).

    No container handle means media_publish was never sent (it needs one, and
    the id is journaled before it), so nothing can have been published.
    """
    container = sent.handles.get("container")
    if isinstance(container, int) and not isinstance(container, bool):
        container = str(container)
    if not isinstance(container, str) or not container:
        return None
    settings = _settings(ctx)
    flow = _Flow(ctx, settings, ctx.credentials.require("access_token"))
    flow.step("looking up the media container")
    return await flow.lookup(container, post)


async def publish(adapter: InstagramAdapter, post: Post, ctx: PublishContext) -> Published:
    """Publish ``post``: one image, a carousel of images, or a Reel."""
    settings = _settings(ctx)
    token = ctx.credentials.require("access_token")
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
    flow = _Flow(ctx, settings, token)
    if settings.check_quota:
        await flow.check_quota()
    if images:
        container = await _images(flow, post, images)
    else:
        container = await _reel(flow, post, videos[0])
    return await flow.publish(container, post)


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
