"""Publishing to a Facebook Page through the Graph API (platform-apis.md §2).

The flow, by what the post carries:

* text (and a link): ``POST /{v}/{page_id}/feed`` with ``message`` (and ``link``)
  → ``{"id": "<page>_<post>"}``. This is the create.
* one photo: ``POST /{v}/{page_id}/photos`` with the file as multipart ``source``
  (or ``url`` when the media only has a public URL) and ``caption`` → ``{"id",
  "post_id"}``. This is the create.
* several photos: each goes to ``/photos`` with ``published=false`` (invisible,
  so safe to repeat), then ``POST /{v}/{page_id}/feed`` with ``message`` and
  ``attached_media=[{"media_fbid": id}, ...]`` is the create (postiz
  ``facebook.provider.ts`` ``postNonStory``).
* a video: the Resumable Upload API (``POST /{v}/{app_id}/uploads`` opens a
  session ``upload:<id>``; ``POST /{v}/upload:<id>`` with ``file_offset`` sends
  the bytes and answers ``{"h": handle}``; after a broken connection
  ``GET /{v}/upload:<id>`` says how far it got and the upload continues from
  there), then ``POST https://graph-video.facebook.com/{v}/{page_id}/videos``
  with ``title``, ``description`` and ``fbuploader_video_file_chunk=<handle>`` is
  the create. A video that only has a public URL is sent as ``file_url`` instead.

The upload-step details (the ``file_offset`` header, the ``{"h"}`` answer, the
resume by GET) are UNVERIFIED: the stored copy of Meta's upload guide showed only
the session step. The guide wants a *user* token for uploads; the optional
``user_token`` credential is used when set, else the Page token.

The token travels in the ``Authorization`` header, never in a URL. Facebook has
no idempotency key: only the create is ever left un-repeated, and a duplicate is
refused by Facebook itself (code 506), which we report as such.

What finds a post whose answer was lost is its exact text: the journal keeps
``kind``, ``message`` and the photo ids before the create, and the post or video
id once Facebook answers; ``reconcile`` reads the Page's feed (a video: the
Page's videos) on the next run (docs/reconcile.md, "Facebook").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from crosspost.adapter import Post, Published, Sent
from crosspost.api import Api, PublishContext, file_chunks, file_size, json_body
from crosspost.errors import (
    AuthError,
    ConfigError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost_adapters._graph import (
    GRAPH,
    GRAPH_VIDEO,
    GraphError,
    bearer,
    classifier,
    graph_url,
    oauth,
)

if TYPE_CHECKING:
    from crosspost_adapters.facebook import FacebookAdapter, FacebookSettings

PLATFORM = "facebook"
#: How many times a broken video upload is resumed from where Facebook says it got.
MAX_RESUMES = 5
#: Subcodes of refusals for content (postiz ``facebook.provider.ts`` handleErrors).
_POLICY = {
    1346003: "Facebook flagged the post as abusive",
    1404102: "Facebook says the post goes against its Community Standards",
}


def _specific(error: GraphError, response: httpx.Response) -> PlatformError | None:
    """Facebook's own codes (platform-apis.md §2.5), asked before the shared Graph codes."""
    status = response.status_code
    if error.code == 506 or error.subcode == 1366051:
        return InvalidContentError(
            PLATFORM,
            "Facebook refused a duplicate of a recent post: the same text or photos are already "
            "on the Page (a previous run may have published it); check the Page before "
            "publishing again",
            status=status,
        )
    # Subcode 1390008 "posting too fast" may come with code 368: a wait, not a block.
    if error.subcode == 1390008:
        return RateLimitedError(
            PLATFORM,
            "Facebook says the Page is posting too fast: wait a while and publish again",
            status=status,
        )
    if error.code == 368 or error.subcode in _POLICY:
        what = _POLICY.get(error.subcode or 0, "Facebook has temporarily blocked posting")
        return InvalidContentError(
            PLATFORM, f"{what} ({error.text}; {error.codes}): change the post", status=status
        )
    if error.subcode in (4854002, 1404078):
        return AuthError(
            PLATFORM,
            f"Facebook wants the Page's admin to confirm their identity (Page Publishing "
            f"Authorization) before posting ({error.codes}): do it in the Page's settings on "
            "facebook.com, then publish again",
            status=status,
        )
    if error.subcode in (1363047, 1609010):
        return TransientError(
            PLATFORM,
            f"Facebook is temporarily unavailable ({error.codes}): try again",
            status=status,
        )
    if error.subcode == 1366046:
        return InvalidContentError(
            PLATFORM,
            "Facebook refused a photo: photos should be JPEG or PNG and smaller than 4 MB",
            status=status,
        )
    if error.subcode == 1609008:
        return InvalidContentError(
            PLATFORM,
            "Facebook does not let apps post links to facebook.com: remove that link",
            status=status,
        )
    if error.subcode == 2061006 or error.code == 1609005:
        return InvalidContentError(
            PLATFORM,
            f"Facebook could not use the link in the post ({error.text}): check that it opens "
            "in a browser",
            status=status,
        )
    return None


#: Facebook's errors as crosspost's error tree.
classify = classifier(
    PLATFORM,
    "Facebook",
    "get a new Page access token and set CROSSPOST_FACEBOOK_PAGE_TOKEN",
    _specific,
)


async def publish(adapter: FacebookAdapter, post: Post, ctx: PublishContext) -> Published:
    """Publish ``post`` on the Page: a feed post, a photo post, or a video."""
    settings = _settings(ctx)
    token = ctx.credentials.require("page_token")
    images = [m for m in post.media if m.is_image]
    videos = [m for m in post.media if m.is_video]
    api = ctx.api(classify)
    if images:
        if len(images) == 1:
            return await _one_photo(api, ctx, settings, post, images[0], token)
        return await _photos(api, ctx, settings, post, images, token)
    if videos:
        return await _video(api, ctx, settings, post, videos[0], token)
    return await _feed(api, ctx, settings, post, token, [])


def _settings(ctx: PublishContext) -> FacebookSettings:
    from crosspost_adapters.facebook import FacebookSettings

    settings = ctx.settings
    assert isinstance(settings, FacebookSettings)
    if not settings.page_id:
        raise ConfigError(
            "[platforms.facebook] page_id is not set in the config: add the id of the Facebook "
            "Page to post to (Page settings → About → Page ID)"
        )
    return settings


def _url(settings: FacebookSettings, *path: str, host: str = GRAPH) -> str:
    return graph_url(host, settings.graph_version, *path)


def _post_url(post_id: str) -> str:
    """The public address of a Page post: facebook.com resolves ``<page>_<post>`` ids."""
    return f"https://www.facebook.com/{post_id}"


def _video_url(settings: FacebookSettings, video_id: str) -> str:
    return f"https://www.facebook.com/{settings.page_id}/videos/{video_id}"


def _id(response: httpx.Response, key: str = "id") -> str:
    body = json_body(response)
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
        raise TransientError(
            PLATFORM, f"Facebook answered without a {key!r} (HTTP {response.status_code})"
        )
    return str(value)


async def _feed(
    api: Api,
    ctx: PublishContext,
    settings: FacebookSettings,
    post: Post,
    token: str,
    photo_ids: list[str],
) -> Published:
    """``POST /{page_id}/feed``: the text, its link, and any unpublished photos attached."""
    assert settings.page_id is not None
    payload: dict[str, Any] = {"message": post.text}
    # The link is already in the text; the render side may also name it for the
    # link preview (``extra["link"]``). Nothing is recomputed here.
    link = post.extra.get("link")
    if isinstance(link, str) and link:
        payload["link"] = link
    if photo_ids:
        payload["attached_media"] = [{"media_fbid": pid} for pid in photo_ids]
    ctx.progress.step(ctx.platform, "creating post")
    wanted = _Wanted("feed", post.text, tuple(photo_ids))
    response = await _create(
        api, ctx, settings, wanted, token, _url(settings, settings.page_id, "feed"), json=payload
    )
    if isinstance(response, Published):  # the answer was lost; found on the feed
        return response
    post_id = _id(response)
    ctx.remember(post_id=post_id)
    return Published(post_id, _post_url(post_id), (post_id, *photo_ids))


@dataclass(frozen=True, slots=True)
class _Wanted:
    """What finds a post on the Page: its kind, its exact text, the photo ids it carries.

    The same value is recorded in the journal before the create (``handles``)
    and read back by ``reconcile`` (``from_handles``): one definition of what a
    lookup matches.
    """

    kind: str  # feed (text, link, attached photos), photo, video
    message: str
    photo_ids: tuple[str, ...] = ()

    @property
    def place(self) -> str:
        """Where the post shows: a video among the Page's videos, anything else on its feed."""
        return "videos" if self.kind == "video" else "feed"

    @property
    def where(self) -> str:
        """``place`` in a sentence: "on the Page's feed", "among the Page's videos"."""
        return "among the Page's videos" if self.kind == "video" else "on the Page's feed"

    def handles(self) -> dict[str, Any]:
        """The journal handles: no secret, only what the post itself shows."""
        return {"kind": self.kind, "message": self.message, "photo_ids": list(self.photo_ids)}

    @classmethod
    def from_handles(cls, handles: Mapping[str, Any], post: Post) -> _Wanted:
        """Read back ``handles``; an entry without them falls back on the rendered post."""
        kind = handles.get("kind")
        if kind not in ("feed", "photo", "video"):
            kind = "video" if any(m.is_video for m in post.media) else "feed"
        message = handles.get("message")
        ids = handles.get("photo_ids")
        return cls(
            str(kind),
            message if isinstance(message, str) else post.text,
            tuple(str(i) for i in ids) if isinstance(ids, list) else (),
        )


async def _create(
    api: Api,
    ctx: PublishContext,
    settings: FacebookSettings,
    wanted: _Wanted,
    token: str,
    url: str,
    **kwargs: Any,
) -> httpx.Response | Published:
    """The call that publishes; after a lost answer, the post as found by ``_landed``.

    The journal gets ``wanted`` first (``Api.create`` then records ``sending``).
    """
    ctx.remember(**wanted.handles())
    sent = datetime.now(UTC)
    try:
        return await api.create("POST", url, headers=bearer(token), **kwargs)
    except UnknownOutcomeError as exc:
        return await _landed(api, ctx, settings, wanted, token, sent, exc)


#: Clocks differ: a post may carry a ``created_time`` a little before our own
#: clock said we sent it, so the feed is read from this long before.
CLOCK_SKEW = timedelta(minutes=5)
#: Posts per read (the Graph ``limit``; the Page feed gives at most 100) and
#: how many pages a lookup reads at most.
FEED_PAGE = 100
FEED_PAGES = 5


@dataclass(frozen=True, slots=True)
class _Lookup:
    """What a read of the Page found: the post, and whether every post in range was seen."""

    found: Published | None
    complete: bool


async def _landed(
    api: Api,
    ctx: PublishContext,
    settings: FacebookSettings,
    wanted: _Wanted,
    token: str,
    sent: datetime,
    exc: UnknownOutcomeError,
) -> Published:
    """After an ambiguous create in this run, look for the post on the Page at once.

    The same lookup as ``reconcile`` (``_find``). Found: the post. Not found: it
    was sent a moment ago, so absence proves nothing yet (``ctx.settle``): the
    outcome stays unknown, and the next run looks again.
    """
    ctx.progress.step(ctx.platform, f"the answer was lost: looking {wanted.where}")
    try:
        lookup = await _find(api, settings, token, wanted, sent - CLOCK_SKEW)
    except PlatformError as error:
        raise UnknownOutcomeError(
            PLATFORM,
            f"{exc.message} (the Page's {wanted.place} could not be read to check: "
            f"{error.message})",
            status=exc.status,
        ) from exc
    if lookup.found is not None:
        return lookup.found
    raise UnknownOutcomeError(
        PLATFORM,
        f"{exc.message} (the post is not {wanted.where} yet; the next run looks again "
        "before anything is sent)",
        status=exc.status,
    ) from exc


async def _find(
    api: Api, settings: FacebookSettings, token: str, wanted: _Wanted, since: datetime
) -> _Lookup:
    """Look for the post on the Page (safe, read-only calls); the one lookup of this module.

    A video is looked for among the Page's videos (``GET /{page}/videos``, with
    its ``description``), where it is listed from the moment it is created; any
    other post on the Page's feed (``GET /{page}/feed``, with its ``message``).
    Newest first, ``FEED_PAGE`` a page from ``since`` on (Graph time-based
    paging, developers.facebook.com/docs/graph-api/results), following
    ``paging.next`` for at most ``FEED_PAGES`` pages. Only the exact text
    matches. Raises the ``PlatformError`` of a failed read.
    """
    assert settings.page_id is not None
    video = wanted.kind == "video"
    text = "description" if video else "message"
    url = _url(settings, settings.page_id, wanted.place)
    params: dict[str, str] = {
        "fields": f"id,{text},created_time",
        "limit": str(FEED_PAGE),
        "since": str(int(since.timestamp())),
    }
    for _ in range(FEED_PAGES):
        response = await api.call("GET", url, params=params, headers=bearer(token))
        body = json_body(response)
        items = body.get("data") if isinstance(body, dict) else None
        older = False
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            created = _created(item.get("created_time"))
            older = older or (created is not None and created < since)
            if item.get(text) != wanted.message:
                continue
            found = item.get("id")
            if isinstance(found, str) and found and (created is None or created >= since):
                if video:
                    return _Lookup(Published(found, _video_url(settings, found), (found,)), True)
                ids = (found, *wanted.photo_ids)
                return _Lookup(Published(found, _post_url(found), ids), True)
        paging = body.get("paging") if isinstance(body, dict) else None
        after = paging.get("next") if isinstance(paging, dict) else None
        # Videos come newest first: one older than ``since`` ends the search
        # (the feed is bounded by ``since`` itself).
        if not isinstance(after, str) or not after or (video and older):
            return _Lookup(None, True)
        params = _next_params(after)
    return _Lookup(None, False)


def _next_params(url: str) -> dict[str, str]:
    """The query of a ``paging.next`` link, without the token Graph writes into it.

    The next page is asked of our own (rebased) URL with the token in the
    header, as every other call: a link from the answer is never followed as is.
    """
    params = dict(httpx.URL(url).params)
    params.pop("access_token", None)
    return params


def _created(value: object) -> datetime | None:
    """Graph's ``created_time`` (``2026-11-26T10:00:00+0000``) as a datetime."""
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


async def reconcile(
    adapter: FacebookAdapter, post: Post, sent: Sent, ctx: PublishContext
) -> Published | None:
    """What became of a create whose answer an earlier run never heard (docs/reconcile.md).

    From the journal's handles: a ``post_id`` or ``video_id`` Facebook answered
    means published. Otherwise the Page is read (``_find``) from ``sent.at``
    (less ``CLOCK_SKEW``) for the exact ``message``:

    * found: ``Published``;
    * not found ``ctx.settle`` seconds after it was sent: None, it never landed
      and may be published again;
    * not found yet, or the Page cannot be read: ``UnknownOutcomeError``.
    """
    settings = _settings(ctx)
    token = ctx.credentials.require("page_token")
    handles = sent.handles
    wanted = _Wanted.from_handles(handles, post)
    video_id = handles.get("video_id")
    if isinstance(video_id, str) and video_id:
        return Published(video_id, _video_url(settings, video_id), (video_id,))
    post_id = handles.get("post_id")
    if isinstance(post_id, str) and post_id:
        return Published(post_id, _post_url(post_id), (post_id, *wanted.photo_ids))
    if not wanted.message.strip():
        raise UnknownOutcomeError(
            PLATFORM,
            "cannot tell whether the post went out: it has no text to look for on the Page; "
            "check the Page, then record what you found with crosspost resolve",
        )
    ctx.progress.step(ctx.platform, f"looking for the post {wanted.where}")
    try:
        lookup = await _find(ctx.api(classify), settings, token, wanted, sent.at - CLOCK_SKEW)
    except PlatformError as error:
        raise UnknownOutcomeError(
            PLATFORM,
            f"cannot tell whether the post went out: the Page's {wanted.place} could not be "
            f"read ({error.message}); the next run looks again",
            status=error.status,
        ) from error
    if lookup.found is not None:
        return lookup.found
    if not lookup.complete:
        raise UnknownOutcomeError(
            PLATFORM,
            f"cannot tell whether the post went out: the Page has more than "
            f"{FEED_PAGE * FEED_PAGES} posts since it was sent, too many to read; check the Page",
        )
    if sent.age >= ctx.settle:
        return None  # the Page shows no such post long after it was sent: it never landed
    raise UnknownOutcomeError(
        PLATFORM,
        f"the post is not {wanted.where} yet ({_ago(sent.age)} after it was "
        f"sent; Facebook may still be showing it): the next run looks again, and publishes "
        f"it once {_ago(ctx.settle)} have passed without it appearing",
    )


def _ago(seconds: float) -> str:
    minutes = max(int(seconds // 60), 0)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _photo_fields(media: MediaFile) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Form fields and multipart files for one photo: its URL, else its bytes."""
    if media.path is not None:
        # Photos are small (Facebook refuses them over 4 MB), so reading one is fine.
        data = media.path.read_bytes()
        return {}, {"source": (media.path.name, data, media.mime)}
    if media.url:
        return {"url": media.url}, None
    raise InvalidContentError(PLATFORM, f"{media.name}: this photo has neither a file nor a URL")


async def _one_photo(
    api: Api,
    ctx: PublishContext,
    settings: FacebookSettings,
    post: Post,
    media: MediaFile,
    token: str,
) -> Published:
    """``POST /{page_id}/photos`` published with its caption: a photo post in one call."""
    assert settings.page_id is not None
    fields, files = _photo_fields(media)
    fields.update(caption=post.text, published="true")
    ctx.progress.step(ctx.platform, "posting photo")
    response = await _create(
        api,
        ctx,
        settings,
        _Wanted("photo", post.text),
        token,
        _url(settings, settings.page_id, "photos"),
        data=fields,
        files=files,
    )
    if isinstance(response, Published):  # the answer was lost; found on the feed
        return response
    photo_id = _id(response)
    body = json_body(response)
    post_id = body.get("post_id") if isinstance(body, dict) else None
    remote = str(post_id) if isinstance(post_id, str | int) and post_id else photo_id
    ctx.remember(post_id=remote, photo_ids=[photo_id])
    return Published(remote, _post_url(remote), (remote, photo_id))


async def _photos(
    api: Api,
    ctx: PublishContext,
    settings: FacebookSettings,
    post: Post,
    images: list[MediaFile],
    token: str,
) -> Published:
    """Upload each photo unpublished (safe to repeat), then attach them all to one feed post."""
    assert settings.page_id is not None
    ids = []
    for number, media in enumerate(images, 1):
        ctx.progress.step(ctx.platform, f"uploading photo {number} of {len(images)}")
        fields, files = _photo_fields(media)
        fields["published"] = "false"
        response = await api.call(
            "POST",
            _url(settings, settings.page_id, "photos"),
            data=fields,
            files=files,
            headers=bearer(token),
        )
        ids.append(_id(response))
    return await _feed(api, ctx, settings, post, token, ids)


async def _video(
    api: Api,
    ctx: PublishContext,
    settings: FacebookSettings,
    post: Post,
    media: MediaFile,
    token: str,
) -> Published:
    """Upload the video (or name its URL), then create it on the Page's videos."""
    assert settings.page_id is not None
    data: dict[str, str] = {"description": post.text}
    if post.title is not None:
        data["title"] = post.title.text
    if media.path is not None:
        data["fbuploader_video_file_chunk"] = await _upload(api, ctx, settings, media, token)
    elif media.url:
        data["file_url"] = media.url
    else:
        raise InvalidContentError(
            PLATFORM, f"{media.name}: this video has neither a file nor a URL"
        )
    ctx.progress.step(ctx.platform, "creating video post")
    response = await _create(
        api,
        ctx,
        settings,
        _Wanted("video", post.text),
        token,
        _url(settings, settings.page_id, "videos", host=GRAPH_VIDEO),
        data=data,
    )
    if isinstance(response, Published):  # the answer was lost; found among the Page's videos
        return response
    video_id = _id(response)
    ctx.remember(video_id=video_id)
    return Published(video_id, _video_url(settings, video_id), (video_id,))


async def _upload(
    api: Api, ctx: PublishContext, settings: FacebookSettings, media: MediaFile, token: str
) -> str:
    """Send the file through the Resumable Upload API; returns the file handle."""
    assert media.path is not None
    if not settings.app_id:
        raise ConfigError(
            "[platforms.facebook] app_id is not set in the config: videos are uploaded through "
            "your Meta app, so add its App ID (developers.facebook.com → your app → Settings)"
        )
    # The guide asks for a user token here; a Page token is tried when none is set.
    auth = oauth(ctx.credentials.get("user_token") or token)
    size = file_size(media.path)
    ctx.progress.step(ctx.platform, "uploading video")
    opened = await api.call(
        "POST",
        _url(settings, settings.app_id, "uploads"),
        params={"file_name": media.path.name, "file_length": str(size), "file_type": media.mime},
        headers=auth,
    )
    session = _id(opened)
    if not session.startswith("upload:"):
        raise TransientError(PLATFORM, "Facebook opened an upload session with an unexpected id")
    where = _url(settings, session)
    ctx.progress.upload_started(ctx.platform, media.name, size)
    offset = 0
    for _ in range(MAX_RESUMES + 1):
        try:
            response = await api.call(
                "POST",
                where,
                content=file_chunks(
                    media.path,
                    offset,
                    size,
                    progress=ctx.progress,
                    platform=ctx.platform,
                    name=media.name,
                ),
                headers={
                    **auth,
                    "file_offset": str(offset),
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(size - offset),
                },
            )
        except (TransientError, InvalidContentError) as exc:
            # A broken connection may have left part of the file on Facebook's side,
            # and a resend from the old offset is then refused: ask where it stands.
            try:
                reached = await _offset(api, where, auth)
            except PlatformError:
                raise exc from None
            if reached is None or reached == offset or not 0 <= reached <= size:
                raise
            offset = reached
            continue
        body = json_body(response)
        handle = body.get("h") if isinstance(body, dict) else None
        if isinstance(handle, str) and handle:
            return handle
        reached = await _offset(api, where, auth)
        if reached is None or reached == offset:
            raise TransientError(
                PLATFORM,
                "Facebook accepted the video bytes but gave no file handle; nothing was "
                "published: try again",
            )
        offset = reached
    raise TransientError(
        PLATFORM,
        f"the video upload broke off {MAX_RESUMES} times; nothing was published: try again later",
    )


async def _offset(api: Api, where: str, auth: dict[str, str]) -> int | None:
    """How many bytes of the upload session Facebook holds (``GET upload:<id>``)."""
    response = await api.call("GET", where, headers=auth)
    body = json_body(response)
    value = body.get("file_offset") if isinstance(body, dict) else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
