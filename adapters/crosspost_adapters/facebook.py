"""Facebook Pages: text, link, photos and video posts through the Graph API."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from crosspost.adapter import (
    Account,
    Adapter,
    Fields,
    Finding,
    Limits,
    Login,
    LoginSession,
    MediaChoice,
    Post,
    Published,
    Sent,
    over_size,
)
from crosspost.config import PlatformSettings
from crosspost.media import MediaFile
from crosspost.units import Unit

if TYPE_CHECKING:
    from crosspost.api import PublishContext

#: Photos over 4 MB are refused (error subcode 1366046, "Photos should be smaller
#: than 4 MB and saved as JPG, PNG"; postiz's mapping, official limit UNVERIFIED).
PHOTO_BYTES = 4_000_000
#: A multi-photo post attaches up to 10 photos (Mixpost's limit; UNVERIFIED).
MAX_PHOTOS = 10
PHOTO_TYPES = ("image/jpeg", "image/png", "image/gif")
#: A video's title: Meta documents no limit for ``title`` on the Page videos edge
#: (UNVERIFIED); 100 characters, as other publishers keep, shows whole everywhere.
VIDEO_TITLE = 100
#: Where the login's browser is sent back to, for Facebook and Instagram. Meta compares
#: it with the app's "Valid OAuth Redirect URIs" exactly, port included (Strict Mode,
#: developers.facebook.com/blog/post/2017/12/18/strict-uri-matching/), and enforces
#: HTTPS; so a fixed https address on this machine is registered once, and the address
#: the browser ends on is pasted back (nothing listens there). An http loopback
#: address (``http://127.0.0.1:8765/callback``) is listened on instead
#: (docs/platforms/facebook.md).
DEFAULT_REDIRECT = "https://localhost:8765/callback"


class FacebookSettings(PlatformSettings):
    """``[platforms.facebook]`` in config.toml."""

    page_id: str | None = None
    #: The Graph API version in every path; Meta retires versions about every two years.
    graph_version: str = Field(default="v25.0", pattern=r"^v\d+\.\d+$")
    #: The Meta app's id: ``crosspost auth login facebook`` logs in through it, and
    #: ``video_upload = "app"`` opens upload sessions at ``/{app_id}/uploads``.
    app_id: str | None = Field(default=None, pattern=r"^\d+$")
    #: How a video file is uploaded: "page", the Page videos edge's chunked upload
    #: (``upload_phase`` start/transfer/finish) with the Page token alone, which does
    #: not expire; or "app", the Resumable Upload API, which wants a user token
    #: (about 60 days, not renewable) and app_id (docs/platforms/facebook.md).
    video_upload: Literal["page", "app"] = "page"
    #: The login's redirect URI, exactly as registered in the app's Facebook Login
    #: settings (Valid OAuth Redirect URIs). An http loopback address is listened on;
    #: any other one is pasted back from the browser's address bar.
    redirect_uri: str = Field(default=DEFAULT_REDIRECT, pattern=r"^https?://[^\s#]+$")


class FacebookAdapter(Adapter):
    """A Facebook Page: the seed post's home, so it carries the whole Find Us block."""

    name = "facebook"
    display_name = "Facebook"
    unit = Unit.CHARS
    # 63,206 characters: Facebook's announcement of Dec 2011, used by postiz too;
    # not in the API reference (UNVERIFIED for the API).
    limits = Limits(body=63_206)
    Settings = FacebookSettings
    credentials = ("page_token",)
    secrets = ("user_token", "app_secret")
    required_settings = ("page_id",)
    console_url = "https://developers.facebook.com/apps/"

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """Photos when there are any (up to 10), else one video; text alone is fine too."""
        images = [m for m in media if m.is_image]
        videos = [m for m in media if m.is_video]
        choice = MediaChoice(media=())
        if images:
            choice.media = tuple(images[:MAX_PHOTOS])
            if len(images) > MAX_PHOTOS:
                choice.warnings.append(f"only the first {MAX_PHOTOS} photos are attached")
            if videos:
                choice.warnings.append(
                    "a Facebook post has photos or a video: the video is left out"
                )
            for m in choice.media:
                if m.mime not in PHOTO_TYPES:
                    choice.problems.append(f"{m.name}: Facebook photos must be JPEG, PNG or GIF")
                elif over_size(m, PHOTO_BYTES):
                    choice.warnings.append(f"{m.name}: Facebook may refuse photos over 4 MB")
        elif videos:
            choice.media = (videos[0],)
            if len(videos) > 1:
                choice.warnings.append("a Facebook post has one video: only the first is attached")
            if videos[0].path is not None and videos[0].mime != "video/mp4":
                # The Resumable Upload API takes video/mp4 only (graph-api/guides/upload).
                choice.problems.append(f"{videos[0].name}: Facebook uploads MP4 videos only")
        return choice

    def limits_for(self, media: Sequence[MediaFile]) -> Limits:
        """A video post has a title (the announcement's); feed and photo posts have none."""
        limits = self.effective_limits
        if any(m.is_video for m in media) and limits.title is None:
            title = self.settings.max_title or VIDEO_TITLE
            limits = Limits(limits.body, title, limits.hashtags, limits.count_inline)
        return limits

    def finish(self, post: Post, fields: Fields) -> Post:
        """A text post with the announcement's ``link`` sends it as the feed's ``link``
        too, so Facebook shows the page's preview card under the text.

        The URL in the message alone is only a link; the card comes from the ``link``
        parameter of ``POST /{page-id}/feed``
        (https://developers.facebook.com/docs/graph-api/reference/page/feed#publish).
        Photo and video posts have no ``link``: their media is the attachment.
        """
        if post.media or not fields.link:
            return post
        return dataclasses.replace(post, extra={**post.extra, "link": fields.link})

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Post to the Page's feed (text, link, photos) or its videos."""
        from crosspost_adapters._facebook_api import publish

        return await publish(self, post, ctx)

    async def reconcile(self, post: Post, sent: Sent, ctx: PublishContext) -> Published | None:
        """Look for a post whose answer was lost on the Page (docs/reconcile.md)."""
        from crosspost_adapters._facebook_api import reconcile

        return await reconcile(self, post, sent, ctx)

    async def login(self, session: LoginSession) -> Login:
        """Facebook Login, then the Page to post as (docs/platforms/facebook.md)."""
        from crosspost_adapters._facebook_api import login

        return await login(self, session)

    async def identity(self, ctx: PublishContext) -> Account:
        """The Page the Page token posts as."""
        from crosspost_adapters._facebook_api import identity

        return await identity(self, ctx)

    async def diagnose(self, ctx: PublishContext, post: Post | None) -> list[Finding]:
        """The Page id, the token's permissions, and the user token's expiry."""
        from crosspost_adapters._facebook_api import diagnose

        return await diagnose(self, ctx, post)
