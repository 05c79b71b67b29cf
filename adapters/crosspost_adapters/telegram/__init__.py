"""Telegram channels through the Bot API: a message, a photo or video with a caption, or an album.

The bot is an administrator of the channel and posts as the channel
(docs/platforms/telegram.md). Everything here is data and pure render; the
network side (``sendMessage``, ``sendPhoto``, ``sendVideo``, ``sendMediaGroup``)
is ``_publish.Publisher``, imported only when publishing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from crosspost.plugin import (
    Account,
    Adapter,
    Fields,
    Finding,
    Limits,
    Login,
    LoginSession,
    MediaChoice,
    MediaFile,
    Overrides,
    PlatformSettings,
    Post,
    Published,
    Resume,
    Sent,
    Unit,
    over_size,
)

if TYPE_CHECKING:
    from crosspost.plugin import PublishContext

#: "Text of the message to be sent, 1-4096 characters after entities parsing"
#: (https://core.telegram.org/bots/api#sendmessage).
TEXT = 4_096
#: "Photo caption ..., 0-1024 characters after entities parsing"
#: (https://core.telegram.org/bots/api#sendphoto; the same for sendVideo and the
#: first item of sendMediaGroup).
CAPTION = 1_024
#: An album holds 2 to 10 photos and videos ("must include 2-10 items",
#: https://core.telegram.org/bots/api#sendmediagroup).
MAX_ALBUM = 10
#: Uploads (multipart/form-data): photos at most 10 MB, other files 50 MB; by URL
#: Telegram fetches photos up to 5 MB and other files up to 20 MB
#: (https://core.telegram.org/bots/api#sending-files).
PHOTO_BYTES = 10_000_000
VIDEO_BYTES = 50_000_000
PHOTO_URL_BYTES = 5_000_000
VIDEO_URL_BYTES = 20_000_000
#: "The photo's width and height must not exceed 10000 in total. Width and height
#: ratio must be at most 20" (https://core.telegram.org/bots/api#sendphoto).
PHOTO_SIDES = 10_000
PHOTO_RATIO = 20.0
#: What goes out as a photo; GIFs would need sendAnimation, which crosspost does
#: not send. WebP as a photo: UNVERIFIED (docs/platforms/telegram.md).
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
#: "Telegram clients support MPEG4 videos (other formats may be sent as
#: Document)" (https://core.telegram.org/bots/api#sendvideo).
VIDEO_TYPES = frozenset({"video/mp4"})
#: ``chat_id``: a channel's public @username (letters, digits and underscores,
#: starting with a letter), or a chat's numeric id (channels' are -100...).
CHAT = r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20})$"


class TelegramSettings(PlatformSettings):
    """``[platforms.telegram]`` in config.toml."""

    #: The channel: its public ``@username``, or its numeric id (``-100…``) for a
    #: private one. The bot must be one of its administrators, allowed to post.
    chat_id: str | None = Field(default=None, pattern=CHAT)
    #: Post silently: subscribers get a notification without sound.
    disable_notification: bool = False
    #: Show a preview of the first link under a text message
    #: (``link_preview_options.is_disabled`` when False; photos and videos have none).
    link_preview: bool = True

    @field_validator("chat_id", mode="before")
    @classmethod
    def _numeric(cls, value: object) -> object:
        """A numeric id may be written as a TOML integer (``chat_id = -1001234567890``)."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class TelegramOptions(Overrides):
    """``[platforms.telegram]`` in an announcement."""

    #: This post silently (None: the config's ``disable_notification``).
    disable_notification: bool | None = None
    #: This post's link preview (None: the config's ``link_preview``).
    link_preview: bool | None = None


class TelegramAdapter(Adapter):
    """Telegram channels: 4,096 UTF-16 units of text, or 1,024 as a caption of media."""

    name = "telegram"
    display_name = "Telegram"
    # Telegram's entity offsets and lengths are UTF-16 code units
    # (https://core.telegram.org/bots/api#messageentity); the length limits are
    # counted the same way here, which is never shorter than counting code points.
    unit = Unit.UTF16
    limits = Limits(body=TEXT)
    Settings = TelegramSettings
    Options = TelegramOptions
    #: CROSSPOST_TELEGRAM_BOT_TOKEN: the token @BotFather gives the bot.
    credentials = ("bot_token",)
    required_settings = ("chat_id",)
    console_url = "https://t.me/BotFather"

    @property
    def telegram(self) -> TelegramSettings:
        """This adapter's settings, as their own type."""
        settings = self.settings
        assert isinstance(settings, TelegramSettings)
        return settings

    def limits_for(self, media: Sequence[MediaFile]) -> Limits:
        """4,096 for a text message; 1,024 for the caption of a photo, video or album."""
        limits = self.effective_limits
        if media:
            return dataclasses.replace(limits, body=min(limits.body, CAPTION))
        return limits

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """JPEG, PNG and WebP photos and MP4 videos, in order, up to 10 (an album)."""
        choice = MediaChoice(media=())
        usable: list[MediaFile] = []
        for m in media:
            if m.mime in (PHOTO_TYPES if m.is_image else VIDEO_TYPES):
                usable.append(m)
            else:
                what = "GIFs" if m.mime == "image/gif" else f"{m.mime} files"
                choice.warnings.append(
                    f"{m.name}: crosspost posts JPEG, PNG and WebP photos and MP4 videos to "
                    f"Telegram, not {what}: left out"
                )
        if len(usable) > MAX_ALBUM:
            choice.warnings.append(
                f"a Telegram album holds {MAX_ALBUM} photos and videos: the rest are left out"
            )
            usable = usable[:MAX_ALBUM]
        for m in usable:
            choice.problems += _media_problems(m)
        choice.media = tuple(usable)
        return choice

    def options_for(self, post: Post) -> tuple[bool, bool]:
        """(disable_notification, link_preview): the announcement's, else the config's."""
        silent = post.options.get("disable_notification")
        preview = post.options.get("link_preview")
        settings = self.telegram
        return (
            settings.disable_notification if silent is None else bool(silent),
            settings.link_preview if preview is None else bool(preview),
        )

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """One call: sendMessage, sendPhoto, sendVideo or sendMediaGroup."""
        from crosspost_adapters.telegram._publish import Publisher

        return await Publisher(self, ctx).publish(post)

    async def reconcile(
        self, post: Post, sent: Sent, ctx: PublishContext
    ) -> Published | Resume | None:
        """The Bot API cannot list a channel's messages: a lost answer stays unknown."""
        from crosspost_adapters.telegram._publish import Publisher

        return await Publisher(self, ctx).reconcile(post, sent)

    async def login(self, session: LoginSession) -> Login:
        """Ask for the token @BotFather gave (and the channel), check both, store the token."""
        from crosspost_adapters.telegram._publish import login

        return await login(self, session)

    async def identity(self, ctx: PublishContext) -> Account:
        """The bot the token belongs to (``getMe``)."""
        from crosspost_adapters.telegram._publish import Publisher

        return await Publisher(self, ctx).identity()

    async def diagnose(self, ctx: PublishContext, post: Post | None) -> list[Finding]:
        """The channel exists and the bot may post in it (``getChat``, ``getChatMember``)."""
        from crosspost_adapters.telegram._publish import Publisher

        return await Publisher(self, ctx).diagnose()


def _media_problems(media: MediaFile) -> list[str]:
    """What Telegram refuses about one photo or video, as sentences."""
    problems = []
    uploaded = media.path is not None
    if media.is_image:
        limit = PHOTO_BYTES if uploaded else PHOTO_URL_BYTES
        if media.width and media.height:
            if media.width + media.height > PHOTO_SIDES:
                problems.append(
                    f"{media.name} is {media.width}×{media.height}; Telegram takes photos whose "
                    f"width and height add up to at most {PHOTO_SIDES}: make it smaller"
                )
            ratio = max(media.width, media.height) / min(media.width, media.height)
            if ratio > PHOTO_RATIO:
                problems.append(
                    f"{media.name} is {media.width}×{media.height}; Telegram takes photos at "
                    f"most {PHOTO_RATIO:g} times as long as they are wide: crop it"
                )
    else:
        limit = VIDEO_BYTES if uploaded else VIDEO_URL_BYTES
    if over_size(media, limit):
        how = "uploads" if uploaded else "fetches from a URL"
        problems.append(
            f"{media.name}: too large for Telegram, which {how} "
            f"{'photos' if media.is_image else 'videos'} of at most {limit // 1_000_000} MB"
        )
    return problems
