"""Facebook Pages: text, link, photos and video posts through the Graph API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import Field

from crosspost.adapter import (
    Adapter,
    Fields,
    Limits,
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


class FacebookSettings(PlatformSettings):
    """``[platforms.facebook]`` in config.toml."""

    page_id: str | None = None
    #: The Graph API version in every path; Meta retires versions about every two years.
    graph_version: str = Field(default="v25.0", pattern=r"^v\d+\.\d+$")
    #: The Meta app id: videos from local files go through the Resumable Upload
    #: API, whose sessions are opened at ``/{app_id}/uploads`` (platform-apis.md §2.2).
    #: Only needed for video posts.
    app_id: str | None = Field(default=None, pattern=r"^\d+$")


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

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Post to the Page's feed (text, link, photos) or its videos."""
        from crosspost_adapters._facebook_api import publish

        return await publish(self, post, ctx)

    async def reconcile(self, post: Post, sent: Sent, ctx: PublishContext) -> Published | None:
        """Look for a post whose answer was lost on the Page (docs/reconcile.md)."""
        from crosspost_adapters._facebook_api import reconcile

        return await reconcile(self, post, sent, ctx)
