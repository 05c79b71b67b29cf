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
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from crosspost.adapter import Post, Published
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
    from crosspost_adapters.facebook import FacebookSettings

    settings = ctx.settings
    assert isinstance(settings, FacebookSettings)
    if not settings.page_id:
        raise ConfigError(
            "[platforms.facebook] page_id is not set in the config: add the id of the Facebook "
            "Page to post to (Page settings → About → Page ID)"
        )
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


def _url(settings: FacebookSettings, *path: str, host: str = GRAPH) -> str:
    return graph_url(host, settings.graph_version, *path)


def _post_url(post_id: str) -> str:
    """The public address of a Page post: facebook.com resolves ``<page>_<post>`` ids."""
    return f"https://www.facebook.com/{post_id}"


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
    response = await _create(
        api, ctx, settings, post, token, _url(settings, settings.page_id, "feed"), json=payload
    )
    if isinstance(response, str):  # the answer was lost; the post was found on the feed
        return Published(response, _post_url(response), (response, *photo_ids))
    post_id = _id(response)
    return Published(post_id, _post_url(post_id), (post_id, *photo_ids))


async def _create(
    api: Api,
    ctx: PublishContext,
    settings: FacebookSettings,
    post: Post,
    token: str,
    url: str,
    **kwargs: Any,
) -> httpx.Response | str:
    """The call that publishes; after a lost answer, the id of the post found on the feed."""
    try:
        return await api.create("POST", url, headers=bearer(token), **kwargs)
    except UnknownOutcomeError as exc:
        return await _landed(api, ctx, settings, post.text, token, exc)


#: How far back a post found on the Page's feed may date to count as ours.
RECONCILE_WINDOW = timedelta(minutes=15)


async def _landed(
    api: Api,
    ctx: PublishContext,
    settings: FacebookSettings,
    text: str,
    token: str,
    exc: UnknownOutcomeError,
) -> str:
    """After an ambiguous create, look for the post on the Page's feed (platform-apis.md §2.6).

    Facebook has no idempotency key; reading the newest posts (a safe call) and
    matching the message tells whether the lost request landed. Found: its id.
    Not found or not readable: the outcome stays unknown (it may still appear).
    """
    assert settings.page_id is not None
    ctx.progress.step(ctx.platform, "the answer was lost: checking the Page's feed")
    try:
        response = await api.call(
            "GET",
            _url(settings, settings.page_id, "feed"),
            params={"fields": "id,message,created_time", "limit": "10"},
            headers=bearer(token),
        )
    except PlatformError:
        raise exc from None
    body = json_body(response)
    since = datetime.now(UTC) - RECONCILE_WINDOW
    for item in body.get("data", []) if isinstance(body, dict) else []:
        if not isinstance(item, dict) or item.get("message") != text:
            continue
        try:
            created = datetime.strptime(str(item.get("created_time")), "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            continue
        if created >= since and isinstance(item.get("id"), str):
            return str(item["id"])
    raise UnknownOutcomeError(
        PLATFORM,
        f"{exc.message} (the post is not on the Page's feed yet: look again in a few minutes "
        "before publishing again)",
        status=exc.status,
    ) from exc


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
        post,
        token,
        _url(settings, settings.page_id, "photos"),
        data=fields,
        files=files,
    )
    if isinstance(response, str):  # the answer was lost; the post was found on the feed
        return Published(response, _post_url(response), (response,))
    photo_id = _id(response)
    body = json_body(response)
    post_id = body.get("post_id") if isinstance(body, dict) else None
    remote = str(post_id) if isinstance(post_id, str | int) and post_id else photo_id
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
        post,
        token,
        _url(settings, settings.page_id, "videos", host=GRAPH_VIDEO),
        data=data,
    )
    if isinstance(response, str):  # found on the feed, with the description as its message
        return Published(response, _post_url(response), (response,))
    video_id = _id(response)
    return Published(
        video_id, f"https://www.facebook.com/{settings.page_id}/videos/{video_id}", (video_id,)
    )


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
