"""TikTok: a video with a caption, or a photo post with a title and description.

Two ways to deliver (``[platforms.tiktok] mode``, docs/platforms/tiktok.md): ``inbox``
(the default) uploads the media to the creator's TikTok inbox, where the officer
finishes the post in the TikTok app; ``direct`` publishes it at once, which only an
app TikTok has audited can do in public.
"""

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
#: How a post reaches TikTok: ``direct`` (Direct Post, scope video.publish) or ``inbox``
#: (upload to the creator's inbox, scope video.upload; the officer posts it in the app).
Mode = Literal["direct", "inbox"]
#: The default: an app TikTok has not audited may direct-post only privately
#: (SELF_ONLY, private accounts, 5 accounts a day), while the inbox upload needs no
#: audit (https://developers.tiktok.com/doc/content-sharing-guidelines).
DEFAULT_MODE: Mode = "inbox"
#: Where an inbox post will be (preview) and is (results, ``queue``, ``status``).
INBOX_PLANNED = "waits in the TikTok inbox: open TikTok to finish the post"
INBOX_RESULT = "in the TikTok inbox: open TikTok to finish the post"
#: An inbox upload someone has since posted from the app, with no public id (yet).
INBOX_POSTED = "posted from the TikTok inbox; who can see it was chosen in the TikTok app"
#: Direct Post options the inbox upload has no place for: the officer chooses them
#: in the TikTok app when finishing the post.
DIRECT_ONLY = ("privacy_level", "disable_comment", "disable_duet", "disable_stitch")

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


#: Status polls: TikTok allows 30 status/fetch requests a minute per access token
#: (https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status),
#: one every 2 s on average; polls back off to ``poll_max`` seconds apart.
POLL_FLOOR = 2.0
POLL_MAX = 10.0


class TikTokSettings(PlatformSettings):
    """``[platforms.tiktok]`` in config.toml."""

    #: ``inbox`` (default): the media waits in the creator's TikTok inbox and the
    #: officer finishes the post in the app; ``direct``: posted at once (public posts
    #: need an app TikTok has audited). See docs/platforms/tiktok.md.
    mode: Mode = DEFAULT_MODE
    #: Direct mode only. Must be one of the creator's privacy_level_options; unaudited
    #: apps can only post SELF_ONLY, so that is the safe default.
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
    #: The longest wait between two status polls, in seconds: at least 2, since TikTok
    #: allows 30 status requests a minute per token (shared by every run using it).
    poll_max: float = Field(default=POLL_MAX, ge=POLL_FLOOR, le=600.0)


class TikTokOptions(Overrides):
    """``[platforms.tiktok]`` in an announcement."""

    mode: Mode | None = None
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

    def unsuitable(self, media: Sequence[MediaFile]) -> str | None:
        """A TikTok post is a video or photos: text alone cannot go."""
        if any(m.is_video or m.is_image for m in media):
            return None
        return "no video or image: TikTok posts need one"

    def title_required(self, media: Sequence[MediaFile]) -> bool:
        """Photo posts have a title of their own (90 UTF-16 units, photo post reference);
        a video's caption is its only text."""
        return _is_photo_post(media)

    def limits_for(self, media: Sequence[MediaFile]) -> Limits:
        """A photo post has a 90-unit title and a 4,000-unit description; a video a caption."""
        limits = self.effective_limits
        if _is_photo_post(media):
            return dataclasses.replace(
                limits,
                body=self.settings.max_length or PHOTO_DESCRIPTION,
                title=self.settings.max_title or PHOTO_TITLE,
            )
        return limits

    def title_for(self, fields: Fields, media: Sequence[MediaFile]) -> str | None:
        """Photo posts have a title: the announcement's (``title_required`` says so when
        there is none; a title is never made up from the body)."""
        return fields.title

    def finish(self, post: Post, fields: Fields) -> Post:
        """Record the kind of post, the delivery mode and (direct) the privacy level."""
        kind = "video" if any(m.is_video for m in post.media) else "photo"
        options = dict(post.options)
        settings = self.settings
        assert isinstance(settings, TikTokSettings)
        mode = options.get("mode") or settings.mode
        options["mode"] = mode
        if mode == "direct":
            options["privacy_level"] = options.get("privacy_level") or settings.privacy_level
            return dataclasses.replace(
                post,
                extra={"mode": kind},
                options=options,
                visibility=VISIBILITY.get(str(options["privacy_level"])),
            )
        warnings = list(post.warnings)
        ignored = [k for k in DIRECT_ONLY if k in settings.model_fields_set]
        ignored += [k for k in DIRECT_ONLY if options.pop(k, None) is not None and k not in ignored]
        if ignored:
            warnings.append(
                f"{', '.join(ignored)} in [platforms.tiktok] apply to direct posts only: in "
                "inbox mode the officer chooses them in the TikTok app (remove them, or set mode = "
                '"direct" once TikTok has audited the app)'
            )
        if kind == "video":
            # The inbox upload takes the video only (upload reference): the caption
            # has to be written in the app.
            warnings.append(
                "TikTok's inbox upload takes no caption: paste this text when you finish the "
                "post in the TikTok app"
            )
        return dataclasses.replace(
            post,
            extra={"mode": kind},
            options=options,
            warnings=tuple(warnings),
            visibility=INBOX_PLANNED,
        )

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Video FILE_UPLOAD in chunks or photo PULL_FROM_URL (direct: after creator_info),
        then poll until published, or (inbox) until it is in the creator's inbox."""
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
        """Scopes and the modes they allow; (direct) the privacy levels TikTok offers."""
        from crosspost_adapters._tiktok_api import diagnose

        return await diagnose(ctx, post)


def _is_photo_post(media: Sequence[MediaFile]) -> bool:
    """Photos only (a video makes it a video post, the images left out)."""
    return bool(media) and all(m.is_image for m in media)
