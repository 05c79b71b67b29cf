"""Publishing to a Facebook Page through the Graph API, and logging in to one.

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
* a video from a file, ``video_upload = "page"`` (the default): the Page videos
  edge's chunked upload on graph-video.facebook.com with the Page token alone
  (``upload_phase`` start, transfer, finish; the finish, with ``title`` and
  ``description``, is the create). See ``_page_upload``.
* a video from a file, ``video_upload = "app"``: the Resumable Upload API with a
  user token (``POST /{app_id}/uploads``, then the bytes to the session id exactly
  as returned, ``upload:<id>?sig=<signature>``), then ``POST /{page_id}/videos``
  with ``fbuploader_video_file_chunk``, ``title`` and ``description`` is the create.
  See ``_upload``.
* a video with only a public URL: ``POST /{page_id}/videos`` with ``file_url``.

The token travels in the ``Authorization`` header, never in a URL. Facebook has
no idempotency key: only the create is ever left un-repeated, and a duplicate is
refused by Facebook itself (code 506), which we report as such.

What finds a post whose answer was lost is its exact text (and a video's id,
known from the upload's start): the journal keeps ``kind``, ``message``, the
photo ids and ``upload_video_id`` before the create, and the post or video id
once Facebook answers; ``reconcile`` reads the Page's feed (a video: the Page's
videos) on the next run (docs/reconcile.md, "Facebook").

Logging in (``login``, docs/platforms/facebook.md): Facebook Login with the
Page permissions, the code exchanged for a user token and that for a
long-lived one, then ``/me/accounts`` lists the Pages the person manages; the
chosen Page's token, read with the long-lived user token, does not expire.
Facebook has no refresh grant: nothing is renewed (``renew`` is the default
no-op), and ``diagnose`` warns about a stored user token running out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx

from crosspost.adapter import Account, Finding, Login, LoginSession, Post, Published, Sent
from crosspost.api import Api, PublishContext, file_chunks, file_size, json_body
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
from crosspost.media import MediaFile
from crosspost.oauth import OAuthError
from crosspost_adapters._graph import (
    GRAPH,
    GRAPH_VIDEO,
    GraphError,
    Reader,
    app_credentials,
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
    session_url,
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
    """Facebook's own codes (docs/platforms/facebook.md), asked before the shared Graph codes."""
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
    "run crosspost auth login facebook (or set CROSSPOST_FACEBOOK_PAGE_TOKEN to a new Page "
    "access token)",
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
    #: A video's id, known from the start of a Page upload before it is published.
    video_id: str | None = None

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
        handles: dict[str, Any] = {
            "kind": self.kind,
            "message": self.message,
            "photo_ids": list(self.photo_ids),
        }
        if self.video_id:
            handles["upload_video_id"] = self.video_id
        return handles

    @classmethod
    def from_handles(cls, handles: Mapping[str, Any], post: Post) -> _Wanted:
        """Read back ``handles``; an entry without them falls back on the rendered post."""
        kind = handles.get("kind")
        if kind not in ("feed", "photo", "video"):
            kind = "video" if any(m.is_video for m in post.media) else "feed"
        message = handles.get("message")
        ids = handles.get("photo_ids")
        video_id = handles.get("upload_video_id")
        return cls(
            str(kind),
            message if isinstance(message, str) else post.text,
            tuple(str(i) for i in ids) if isinstance(ids, list) else (),
            str(video_id) if isinstance(video_id, str | int) and video_id else None,
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
    matches, or a video's own id when the upload's start gave it. Raises the
    ``PlatformError`` of a failed read.
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
            found = item.get("id")
            exact = video and wanted.video_id is not None and found == wanted.video_id
            if item.get(text) != wanted.message and not exact:
                continue
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
    """A video on the Page: uploaded from its file (``video_upload`` picks how), or
    fetched by Facebook from its URL; with the post's title and text."""
    assert settings.page_id is not None
    data: dict[str, str] = {"description": post.text}
    if post.title is not None and post.title.text:
        data["title"] = post.title.text
    if media.path is not None and settings.video_upload == "page":
        return await _page_upload(api, ctx, settings, post, media, token, data)
    if media.path is not None:
        data["fbuploader_video_file_chunk"] = await _upload(api, ctx, settings, media)
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


# -- videos with the Page token: the Page videos edge's chunked upload ------------------
#
# ``POST https://graph-video.facebook.com/{v}/{page}/videos`` in three phases (Page
# Videos reference, developers.facebook.com/docs/graph-api/reference/page/videos/,
# parameters upload_phase, file_size, upload_session_id, start_offset, end_offset,
# video_file_chunk; the protocol as the Video Uploads guide described it,
# developers.facebook.com/docs/graph-api/video-uploads):
#
# * start: ``upload_phase=start``, ``file_size`` → ``{"upload_session_id",
#   "video_id", "start_offset", "end_offset"}``;
# * transfer: ``upload_phase=transfer``, ``upload_session_id``, ``start_offset`` and
#   the bytes [start_offset, end_offset) as the multipart file ``video_file_chunk``
#   → the next ``{"start_offset", "end_offset"}``; equal offsets mean all is there.
#   A chunk Facebook already holds is refused with subcode 1363037 and the offsets
#   it wants in ``error_data`` (Facebook's PHP SDK resumes from them);
# * finish: ``upload_phase=finish``, ``upload_session_id``, ``title``,
#   ``description`` → ``{"success": true}``. This publishes: it is the create.
#
# Every phase takes the Page token, which does not expire: no user token, no app id.

#: "There was a problem uploading your video file": the offsets Facebook wants are in
#: ``error_data`` (Facebook's PHP SDK, FacebookResumableUploadException).
RESUME_SUBCODE = 1363037
#: Transfers of one video, at most: each answer names the next chunk, so a loop that
#: does not advance is Facebook's fault, and stopped.
MAX_CHUNKS = 100_000


async def _page_upload(
    api: Api,
    ctx: PublishContext,
    settings: FacebookSettings,
    post: Post,
    media: MediaFile,
    token: str,
    data: dict[str, str],
) -> Published:
    """Start, transfer and finish a video on the Page's videos edge with the Page token."""
    assert settings.page_id is not None and media.path is not None
    url = _url(settings, settings.page_id, "videos", host=GRAPH_VIDEO)
    auth = bearer(token)
    size = file_size(media.path)
    ctx.progress.step(ctx.platform, "uploading video")
    started = await api.call(
        "POST", url, data={"upload_phase": "start", "file_size": str(size)}, headers=auth
    )
    session = _id(started, "upload_session_id")
    video_id = _id(started, "video_id")
    start, end = _offsets(json_body(started), size)
    ctx.progress.upload_started(ctx.platform, media.name, size)
    for _ in range(MAX_CHUNKS):
        if start >= size:
            break
        with media.path.open("rb") as handle:
            handle.seek(start)
            chunk = handle.read(end - start)
        if len(chunk) != end - start:
            raise TransientError(PLATFORM, f"{media.name}: the file got shorter while uploading")
        response = await api.call(
            "POST",
            url,
            ok=(200, 400),
            data={
                "upload_phase": "transfer",
                "upload_session_id": session,
                "start_offset": str(start),
            },
            files={"video_file_chunk": (media.path.name, chunk, "application/octet-stream")},
            headers=auth,
        )
        body = json_body(response)
        if response.status_code == 400:
            resume = _resume_offsets(body)
            if resume is None:
                raise classify(response)
            start, end = _checked(resume, size)
            continue
        ctx.progress.upload_advanced(ctx.platform, media.name, len(chunk))
        start, end = _offsets(body, size)
    else:
        raise TransientError(PLATFORM, "Facebook kept asking for more of the video; try again")
    ctx.progress.step(ctx.platform, "creating video post")
    finished = await _create(
        api,
        ctx,
        settings,
        _Wanted("video", post.text, video_id=video_id),
        token,
        url,
        data={"upload_phase": "finish", "upload_session_id": session, **data},
    )
    if isinstance(finished, Published):  # the answer was lost; found among the Page's videos
        return finished
    answer = json_body(finished)
    if not (isinstance(answer, dict) and answer.get("success") is True):
        raise UnknownOutcomeError(
            PLATFORM,
            f"Facebook answered the video's finish step (HTTP {finished.status_code}) without "
            "saying it succeeded; the video may or may not be on the Page: the next run looks "
            "among the Page's videos before sending anything",
            status=finished.status_code,
        )
    ctx.remember(video_id=video_id)
    return Published(video_id, _video_url(settings, video_id), (video_id,))


def _offsets(body: object, size: int) -> tuple[int, int]:
    """The next chunk ``(start_offset, end_offset)`` of a start or transfer answer.

    Graph writes them as strings of digits.
    """
    if not isinstance(body, dict):
        raise TransientError(PLATFORM, "Facebook answered the video upload without offsets")
    start, end = _int(body.get("start_offset")), _int(body.get("end_offset"))
    if start is None or end is None:
        raise TransientError(PLATFORM, "Facebook answered the video upload without offsets")
    return _checked((start, end), size)


def _resume_offsets(body: object) -> tuple[int, int] | None:
    """The offsets of a 1363037 refusal's ``error_data``, or None for another refusal."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or _int(error.get("error_subcode")) != RESUME_SUBCODE:
        return None
    data = error.get("error_data")
    if isinstance(data, str):  # sometimes a JSON document in a string
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if not isinstance(data, dict):
        return None
    start, end = _int(data.get("start_offset")), _int(data.get("end_offset"))
    return (start, end) if start is not None and end is not None else None


def _checked(offsets: tuple[int, int], size: int) -> tuple[int, int]:
    start, end = offsets
    if not 0 <= start <= end <= size or (start == end and start != size):
        raise TransientError(
            PLATFORM,
            f"Facebook asked for bytes {start} to {end} of a {size}-byte video; nothing was "
            "published: try again",
        )
    return start, end


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# -- videos through the Resumable Upload API (video_upload = "app") ----------------------
#
# The Video API's publishing guide (developers.facebook.com/docs/video-api/guides/
# publishing) uploads with the Resumable Upload API (developers.facebook.com/docs/
# graph-api/guides/upload): ``POST /{app_id}/uploads`` with a *user* token opens a
# session ``upload:<id>?sig=<signature>``; ``POST /{v}/<that id>`` with
# ``Authorization: OAuth`` and ``file_offset`` sends the bytes and answers
# ``{"h": handle}``; ``GET`` of the same address says how far it got. The handle is
# then published with ``POST /{page}/videos`` and ``fbuploader_video_file_chunk``.
# The user token lasts about 60 days and cannot be renewed: ``auth login`` stores it
# with its expiry when this path is configured.


async def _upload(
    api: Api, ctx: PublishContext, settings: FacebookSettings, media: MediaFile
) -> str:
    """Send the file through the Resumable Upload API; returns the file handle."""
    assert media.path is not None
    if not settings.app_id:
        raise ConfigError(
            '[platforms.facebook] app_id is not set in the config: video_upload = "app" '
            "uploads through your Meta app, so add its App ID (developers.facebook.com → your "
            'app → App settings → Basic), or set video_upload = "page"'
        )
    auth = oauth(_user_token(ctx))
    size = file_size(media.path)
    ctx.progress.step(ctx.platform, "uploading video")
    opened = await api.call(
        "POST",
        _url(settings, settings.app_id, "uploads"),
        params={"file_name": media.path.name, "file_length": str(size), "file_type": media.mime},
        headers=auth,
    )
    session = _id(opened)
    # The id is used exactly as Facebook returned it: its "?sig=" is the query string.
    where = session_url(GRAPH, settings.graph_version, session)
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


def _user_token(ctx: PublishContext) -> str:
    """The user token the Resumable Upload API wants, refused early when expired."""
    token = ctx.credentials.get("user_token")
    if token is None:
        raise CredentialsError(
            'facebook: video_upload = "app" uploads videos with a Facebook user token: run '
            "crosspost auth login facebook (it stores one), or set "
            'CROSSPOST_FACEBOOK_USER_TOKEN; or set video_upload = "page" to upload with the '
            "Page token"
        )
    expires = ctx.credentials.expires_at("user_token")
    if expires is not None and expires <= datetime.now(UTC):
        raise AuthError(
            PLATFORM,
            f"the Facebook user token of {_account(ctx)} expired on {expires:%Y-%m-%d}; "
            "Facebook offers no way to renew it: run crosspost auth login facebook (or set "
            'video_upload = "page", which needs only the Page token)',
        )
    return token


def _account(ctx: PublishContext) -> str:
    name = ctx.credentials.meta("account")
    return f"the Page {name}" if isinstance(name, str) and name else "the Page"


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


# -- the account: login, identity, diagnose (docs/platforms/facebook.md) -----------------

#: What posting as a Page needs: the Pages API's posts guide and the Page videos
#: reference ask pages_show_list, pages_read_engagement and pages_manage_posts, videos
#: included (developers.facebook.com/docs/pages-api/posts, .../graph-api/reference/
#: page/videos/); publish_video is therefore not asked for.
SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts")
#: Without these the Page token cannot post (pages_show_list only lists the Pages).
POSTING_SCOPES = ("pages_read_engagement", "pages_manage_posts")
#: The task a person needs on a Page to post as it (developers.facebook.com/docs/
#: pages-api/getting-started: /me/accounts lists each Page's ``tasks``).
POST_TASK = "CREATE_CONTENT"
#: A stored user token that runs out within this long is warned about.
EXPIRY_WARNING = timedelta(days=7)

#: Refusals while logging in say to log in again.
_login_classify = classifier(PLATFORM, "Facebook", "run crosspost auth login facebook again")


def _login_settings(settings: object) -> FacebookSettings:
    from crosspost_adapters.facebook import FacebookSettings

    assert isinstance(settings, FacebookSettings)
    return settings


async def login(adapter: FacebookAdapter, session: LoginSession) -> Login:
    """Facebook Login → long-lived user token → the token of the Page to post as.

    The Page is the one ``page_id`` names when it is set, else the only Page the
    person may post to, else the one they pick. The Page token read with the
    long-lived user token does not expire (docs/platforms/facebook.md); the user
    token is kept too (with its expiry) only for ``video_upload = "app"``.
    """
    settings = _login_settings(session.settings)
    app_id, app_secret = app_credentials(
        session.credentials, PLATFORM, settings.app_id, "your Meta app"
    )
    app = facebook_app(PLATFORM, settings.graph_version, SCOPES, settings.api_base)
    user = await facebook_user_token(session, app, app_id, app_secret, settings.redirect_uri)
    base = rebased(graph_url(GRAPH, settings.graph_version), settings.api_base)
    reader = Reader(session.client, PLATFORM, _login_classify)
    granted, _declined = await permissions(reader, base, user.access_token)
    missing = [p for p in SCOPES if p not in granted]
    if missing:
        raise OAuthError(
            PLATFORM,
            f"Facebook did not grant {', '.join(missing)} (unticked in the login dialog, or "
            "not available to this app): run crosspost auth login facebook again and allow "
            "every permission crosspost asks for",
            error="declined",
        )
    pages = await managed_pages(reader, base, user.access_token, "id,name,access_token,tasks")
    usable = [p for p in pages if not p.tasks or POST_TASK in p.tasks]
    if not usable:
        raise OAuthError(
            PLATFORM,
            "this Facebook account manages no Page it may post to (it needs a role with the "
            "Create content task, and the Page must be ticked in the login dialog): run "
            "crosspost auth login facebook again and choose the Page",
            error="no_page",
        )
    page = choose_page(
        session, usable, settings.page_id, "Which Facebook Page should crosspost post to?"
    )
    if page is None:
        raise OAuthError(
            PLATFORM,
            f"page_id {settings.page_id} in [platforms.facebook] is not a Page this account may "
            f"post to; it may post to: {', '.join(p.label for p in usable)}. Remove page_id "
            "from the config to choose, or log in as a person who manages that Page",
            error="wrong_page",
        )
    session.say(f"Facebook: crosspost posts as the Page {page.label}.")
    secrets = {"page_token": page.token}
    expires = None
    if settings.video_upload == "app":
        # The Resumable Upload API wants a user token; it cannot be renewed.
        secrets["user_token"] = user.access_token
        expires = user.expires_at
    return Login(
        account=Account(page.name, page.id, f"https://www.facebook.com/{page.id}"),
        secrets=secrets,
        expires_at=expires,
        scopes=tuple(sorted(granted)),
        settings={"page_id": page.id},
    )


async def identity(adapter: FacebookAdapter, ctx: PublishContext) -> Account:
    """The Page the Page token posts as: ``GET /me?fields=id,name`` (with a Page token,
    ``me`` is the Page)."""
    settings = _login_settings(ctx.settings)
    token = ctx.credentials.require("page_token")
    response = await ctx.api(classify).call(
        "GET", _url(settings, "me"), params={"fields": "id,name"}, headers=bearer(token)
    )
    body = json_body(response)
    if not isinstance(body, dict) or not body.get("id"):
        raise TransientError(PLATFORM, "Facebook answered /me without an id")
    page_id = str(body["id"])
    return Account(str(body.get("name") or page_id), page_id, f"https://www.facebook.com/{page_id}")


async def diagnose(
    adapter: FacebookAdapter, ctx: PublishContext, post: Post | None
) -> list[Finding]:
    """Read-only checks: the token's Page is ``page_id``; what the token may do (asked of
    ``debug_token`` when the app's id and secret are known); the user token of
    ``video_upload = "app"``."""
    settings = _login_settings(ctx.settings)
    findings: list[Finding] = []
    token = ctx.credentials.get("page_token")
    if token is None:
        return [Finding("fail", ctx.credentials.missing_message(["page_token"]))]
    try:
        page = await identity(adapter, ctx)
    except PlatformError as exc:
        return [Finding("fail", f"the Page token was refused: {exc.message}")]
    if not settings.page_id:
        findings.append(
            Finding(
                "fail",
                f"page_id is not set in [platforms.facebook]; the token posts as {page.name} "
                f'(page_id = "{page.id}"): run crosspost auth login facebook, or set it',
            )
        )
    elif page.id != settings.page_id:
        findings.append(
            Finding(
                "fail",
                f"the Page token posts as {page.name} ({page.id}), but page_id in "
                f"[platforms.facebook] is {settings.page_id}: run crosspost auth login facebook",
            )
        )
    else:
        findings.append(Finding("ok", f"the Page token posts as {page.name} ({page.id})"))
    findings.append(await _token_facts(ctx, settings, token))
    if settings.video_upload == "app":
        findings += _user_token_facts(ctx, settings, post)
    return findings


async def _token_facts(ctx: PublishContext, settings: FacebookSettings, token: str) -> Finding:
    """What the Page token may do and how long it lasts, from ``debug_token``."""
    data = await granted(
        ctx.api(classify),
        graph_url(GRAPH, settings.graph_version),
        token,
        ctx.credentials,
        settings.app_id,
        POSTING_SCOPES,
        what="the Page token",
        platform=PLATFORM,
        use="posting",
    )
    if isinstance(data, Finding):
        return data
    scopes = {str(s) for s in data.get("scopes") or []}
    expires = data.get("expires_at")
    lasts = (
        "does not expire"
        if expires in (0, None)
        else f"expires on {datetime.fromtimestamp(int(expires), UTC):%Y-%m-%d}"
    )
    held = ", ".join(p for p in SCOPES if p in scopes)
    return Finding("ok", f"the Page token may post ({held}) and {lasts}")


def _user_token_facts(
    ctx: PublishContext, settings: FacebookSettings, post: Post | None
) -> list[Finding]:
    """``video_upload = "app"``: the app id and the user token, and when the token runs out."""
    needed = post is None or any(m.is_video and m.path is not None for m in post.media)
    level: Literal["warn", "fail"] = "fail" if needed else "warn"
    if not settings.app_id:
        return [Finding(level, 'video_upload = "app" needs app_id in [platforms.facebook]')]
    if ctx.credentials.get("user_token") is None:
        return [
            Finding(
                level,
                'video_upload = "app" uploads videos with a Facebook user token and none is '
                "set: run crosspost auth login facebook",
            )
        ]
    expires = ctx.credentials.expires_at("user_token")
    if expires is None:
        return [Finding("ok", "a Facebook user token is set for video uploads (expiry unknown)")]
    now = datetime.now(UTC)
    if expires <= now:
        return [
            Finding(
                level,
                f"the Facebook user token for video uploads expired on {expires:%Y-%m-%d}; "
                "Facebook cannot renew it: run crosspost auth login facebook",
            )
        ]
    if expires <= now + EXPIRY_WARNING:
        days = max((expires - now).days, 0)
        return [
            Finding(
                "warn",
                f"the Facebook user token for video uploads expires on {expires:%Y-%m-%d} (in "
                f"{days} day{'s' if days != 1 else ''}) and Facebook cannot renew it: run "
                'crosspost auth login facebook before then, or set video_upload = "page"',
            )
        ]
    return [
        Finding("ok", f"the Facebook user token for video uploads lasts until {expires:%Y-%m-%d}")
    ]
