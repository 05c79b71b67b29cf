"""TikTok: a video with a caption, or a photo post with a title and description."""

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
    public_url,
)
from crosspost.config import PlatformSettings
from crosspost.fitting import Layout
from crosspost.media import MediaFile
from crosspost.models import Overrides
from crosspost.units import Unit

if TYPE_CHECKING:
    from crosspost.api import PublishContext

Privacy = Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
#: Who sees a post at each privacy level but the public one (preview and results say it).
VISIBILITY = {
    "SELF_ONLY": "only the account (TikTok SELF_ONLY)",
    "MUTUAL_FOLLOW_FRIENDS": "mutual followers only (TikTok MUTUAL_FOLLOW_FRIENDS)",
    "FOLLOWER_OF_CREATOR": "followers only (TikTok FOLLOWER_OF_CREATOR)",
}
#: How the PKCE challenge is written: TikTok's desktop guide asks for the hex SHA-256
#: of the verifier ("S256-hex"); RFC 7636's base64url form is "S256" (docs/oauth.md).
PkceStyle = Literal["S256-hex", "S256"]

#: Video caption: "maximum length is 2200 in UTF-16 runes" (Direct Post reference).
CAPTION = 2_200
#: Photo posts: title 90, description 4,000 UTF-16 runes (photo post reference).
PHOTO_TITLE = 90
PHOTO_DESCRIPTION = 4_000
#: Up to 35 photos per post; each JPEG or WebP, at most 20 MB (media transfer guide).
MAX_PHOTOS = 35
PHOTO_BYTES = 20_000_000
PHOTO_TYPES = ("image/jpeg", "image/webp")
#: Videos: MP4, WebM or MOV, at most 4 GB; the API posts up to 10 minutes (media
#: transfer guide; the account's own maximum is checked at publish time).
VIDEO_BYTES = 4_000_000_000
VIDEO_SECONDS = 600.0


#: Video upload chunks: "at least 5 MB but no greater than 64 MB" (media transfer
#: guide). Whether TikTok's MB is 10**6 or 2**20 bytes is not stated, so the bounds
#: are the stricter reading of each: 5 MiB and 64,000,000 bytes (UNVERIFIED).
CHUNK_MIN = 5 * 1024 * 1024
CHUNK_MAX = 64_000_000


class TikTokSettings(PlatformSettings):
    """``[platforms.tiktok]`` in config.toml."""

    #: Must be one of the creator's privacy_level_options; unaudited apps can
    #: only post SELF_ONLY, so that is the safe default.
    privacy_level: Privacy = "SELF_ONLY"
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    #: Photo posts are pulled from a verified domain; files live under this URL.
    media_base_url: str | None = Field(default=None, pattern=r"^https?://")
    #: Bytes per video upload chunk (the last chunk absorbs the remainder); the
    #: doc's own example uses 10,000,000.
    chunk_size: int = Field(default=10_000_000, ge=CHUNK_MIN, le=CHUNK_MAX)
    #: Which photo (counted from 0) is the cover of a photo post (UNVERIFIED: the
    #: reference's example sends 1 for two photos; client code counts from 0).
    photo_cover_index: int = Field(default=0, ge=0, le=34)
    #: The PKCE challenge style of ``crosspost auth login tiktok``. UNVERIFIED: TikTok's
    #: desktop Login Kit guide is read as wanting the hex SHA-256 of the verifier, and a
    #: base64url challenge is reported to be refused; "S256" is there should TikTok
    #: follow RFC 7636 (https://developers.tiktok.com/doc/login-kit-desktop).
    pkce: PkceStyle = "S256-hex"


class TikTokOptions(Overrides):
    """``[platforms.tiktok]`` in an announcement."""

    privacy_level: Privacy | None = None


class TikTokAdapter(Adapter):
    """TikTok: media required; hashtags inline in the caption, as TikTok users write them."""

    name = "tiktok"
    display_name = "TikTok"
    unit = Unit.UTF16
    title_unit = Unit.UTF16
    limits = Limits(body=CAPTION)
    layout = Layout(hashtag_style="inline")
    Settings = TikTokSettings
    Options = TikTokOptions
    credentials = ("access_token",)
    #: Written by ``crosspost auth login tiktok``: the rotating refresh token, and the
    #: app's client key and secret from the developer portal (docs/platforms/tiktok.md).
    secrets = ("refresh_token", "client_key", "client_secret")
    console_url = "https://developers.tiktok.com/apps/"

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """One video when there is one (by file upload), else photos (pulled from URLs)."""
        settings = self.settings
        assert isinstance(settings, TikTokSettings)
        images = [m for m in media if m.is_image]
        videos = [m for m in media if m.is_video]
        choice = MediaChoice(media=())
        if videos:
            choice.media = (videos[0],)
            if images:
                choice.warnings.append(
                    "a TikTok post is a video or photos: the images are left out"
                )
            if len(videos) > 1:
                choice.warnings.append("one video per TikTok post: only the first is posted")
            if over_size(videos[0], VIDEO_BYTES):
                choice.problems.append(f"{videos[0].name}: TikTok videos must be at most 4 GB")
            seconds = videos[0].duration
            if seconds is not None and seconds > VIDEO_SECONDS:
                choice.problems.append(
                    f"{videos[0].name} is {seconds / 60:.1f} minutes long; TikTok's API posts "
                    "videos of at most 10 minutes"
                )
            return choice
        if not images:
            choice.problems.append("TikTok needs a video or photos; this post has neither")
            return choice
        picked = []
        for m in images[:MAX_PHOTOS]:
            if m.mime not in PHOTO_TYPES:
                choice.problems.append(f"{m.name}: TikTok photos must be JPEG or WebP")
            if over_size(m, PHOTO_BYTES):
                choice.problems.append(f"{m.name}: TikTok photos must be at most 20 MB")
            hosted = public_url(m, settings.media_base_url)
            if hosted is None:
                choice.problems.append(
                    f"{m.name}: TikTok pulls photos from a URL on a verified domain; add url = "
                    '"https://…" to this [[media]] entry or set media_base_url in '
                    "[platforms.tiktok] of the config"
                )
                hosted = m
            picked.append(hosted)
        if len(images) > MAX_PHOTOS:
            choice.warnings.append(f"a TikTok photo post holds {MAX_PHOTOS} photos")
        choice.media = tuple(picked)
        return choice

    def limits_for(self, media: Sequence[MediaFile]) -> Limits:
        """A photo post has a 90-unit title and a 4,000-unit description; a video a caption."""
        limits = self.effective_limits
        if media and all(m.is_image for m in media):
            return dataclasses.replace(
                limits,
                body=self.settings.max_length or PHOTO_DESCRIPTION,
                title=self.settings.max_title or PHOTO_TITLE,
            )
        return limits

    def title_for(self, fields: Fields, media: Sequence[MediaFile]) -> str | None:
        """Photo posts have a title: the announcement's, else the body's first line."""
        if fields.title:
            return fields.title
        return fields.body.strip().split("\n", 1)[0]

    def finish(self, post: Post, fields: Fields) -> Post:
        """Record the post mode and the privacy level the plan will ask for."""
        mode = "video" if any(m.is_video for m in post.media) else "photo"
        options = dict(post.options)
        settings = self.settings
        assert isinstance(settings, TikTokSettings)
        options["privacy_level"] = options.get("privacy_level") or settings.privacy_level
        return dataclasses.replace(
            post,
            extra={"mode": mode},
            options=options,
            visibility=VISIBILITY.get(str(options["privacy_level"])),
        )

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """creator_info, then video FILE_UPLOAD in chunks or photo PULL_FROM_URL, then poll."""
        from crosspost_adapters._tiktok_api import publish

        return await publish(self, post, ctx)

    async def reconcile(self, post: Post, sent: Sent, ctx: PublishContext) -> Published | None:
        """Ask status/fetch about the journaled publish_id (docs/reconcile.md)."""
        from crosspost_adapters._tiktok_api import reconcile

        return await reconcile(self, post, sent, ctx)

    # -- accounts (docs/platforms/tiktok.md) -----------------------------------------

    async def login(self, session: LoginSession) -> Login:
        """Login Kit v2 with PKCE over a loopback redirect; the creator's display name."""
        from crosspost_adapters._tiktok_api import login

        return await login(self, session)

    async def renew(self, ctx: PublishContext, horizon: float) -> None:
        """Refresh the access token when it expires within ``horizon`` seconds (rotating)."""
        from crosspost_adapters._tiktok_api import renew

        await renew(ctx, horizon)

    async def identity(self, ctx: PublishContext) -> Account:
        """The creator's display name and open_id, from user/info (never renews)."""
        from crosspost_adapters._tiktok_api import identity

        return await identity(ctx)

    async def diagnose(self, ctx: PublishContext, post: Post | None) -> list[Finding]:
        """Scopes, and the privacy levels TikTok offers against the configured one."""
        from crosspost_adapters._tiktok_api import diagnose

        return await diagnose(ctx, post)
