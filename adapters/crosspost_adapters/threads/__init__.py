"""Threads (Meta's Threads API): text, image, video and carousel posts via containers.

What this relies on, with its sources, is in docs/platforms/threads.md. Rendering
happens here (no network); publishing, reconciling and renewal are in
``_publish.py``, imported only when they run.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import Field

from crosspost.plugin import (
    Account,
    Adapter,
    Fields,
    Limits,
    MediaChoice,
    MediaFile,
    PlatformSettings,
    Post,
    Published,
    Resume,
    Sent,
    Unit,
    over_size,
    public_url,
)

if TYPE_CHECKING:
    from crosspost.plugin import PublishContext

#: "Text posts are limited to 500 characters" (Threads Posts guide,
#: https://developers.facebook.com/docs/threads/posts).
MAX_TEXT = 500
#: A carousel holds 2 to 20 images and videos, mixed (Threads Posts guide, "Carousel posts").
MAX_CAROUSEL = 20
#: Images: JPEG or PNG, at most 8 MB; videos: MOV or MP4, at most 1 GB and 5 minutes
#: (Threads Posts guide, "Media specifications").
IMAGE_TYPES = ("image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4", "video/quicktime")
IMAGE_BYTES = 8_000_000
VIDEO_BYTES = 1_000_000_000
VIDEO_SECONDS = 300.0
#: Since 22 December 2025 a post with more than 5 links fails at container creation
#: (THREADS_API__LINK_LIMIT_EXCEEDED; Threads "Text attachments" guide, "How links are
#: counted": every unique URL in the text).
MAX_LINKS = 5
#: What counts as a link for that limit: an http(s) URL or a www. address.
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)

#: Code points Threads counts as emoji, by block: "Emojis are counted as the number of
#: UTF-8 bytes" (Threads Posts guide, "Limitations"). The pictographs (U+1F000-U+1FAFF:
#: faces, flags' regional indicators, skin tones), misc symbols and dingbats
#: (U+2600-U+27BF), misc technical (U+2300-U+23FF: clocks), arrows and stars
#: (U+2B00-U+2BFF) and emoji tag characters (U+E0020-U+E007F). Symbols in those blocks
#: that are usually drawn as text (✓) count as emoji too: counting more than Threads
#: does makes the post a little shorter, never refused.
EMOJI_BLOCKS = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2300, 0x23FF),
    (0x2B00, 0x2BFF),
    (0xE0020, 0xE007F),
)
ZWJ, VS16, KEYCAP = "\u200d", "\ufe0f", "\u20e3"


def threads_length(text: str) -> int:
    """The length of ``text`` as Threads counts its 500: one per character, and each
    emoji (with its joiners, variation selector, skin tone or keycap) its UTF-8 bytes.

    ``©️`` (a text symbol made emoji by U+FE0F) counts 2 + 3 = 5 bytes; 😀 4; a ZWJ
    family of four 25. A character made of a letter and a combining mark counts 2
    (Threads may count it as 1: UNVERIFIED, and the safe side).
    """
    total = 0
    previous_emoji = False
    previous = ""
    for char in text:
        code = ord(char)
        if char == VS16:
            if previous and not previous_emoji:
                # The symbol before it is drawn as emoji: count it in bytes, not as 1.
                total += len(previous.encode("utf-8")) - 1
            total += 3
            previous_emoji = True
        elif char == KEYCAP or (char == ZWJ and previous_emoji):
            total += 3
            previous_emoji = True
        elif any(low <= code <= high for low, high in EMOJI_BLOCKS):
            total += len(char.encode("utf-8"))
            previous_emoji = True
        else:
            total += 1
            previous_emoji = False
        previous = char
    return total


class ThreadsSettings(PlatformSettings):
    """``[platforms.threads]`` in config.toml."""

    #: The Threads user id posts are published as (``GET /me`` with the token answers it).
    threads_user_id: str | None = Field(default=None, pattern=r"^\d+$")
    #: The Threads Graph API version in the path (graph.threads.net/v1.0/...).
    graph_version: str = Field(default="v1.0", pattern=r"^v\d+\.\d+$")
    #: Threads fetches images and videos from a public URL; files under this URL are
    #: expected at their path relative to the announcement.
    media_base_url: str | None = Field(default=None, pattern=r"^https?://")
    #: Long-lived tokens last 60 days and can be refreshed once at least 24 hours old
    #: (long-lived tokens guide): crosspost refreshes them before publishing once they
    #: are this many days old.
    renew_after_days: int = Field(default=7, ge=1, le=59)
    #: The longest wait between two status polls of a container, in seconds. Meta
    #: suggests asking about once a minute, for no more than 5 minutes (Threads
    #: troubleshooting guide; docs/platforms/threads.md).
    poll_max: float = Field(default=60.0, gt=0, le=600)


class ThreadsAdapter(Adapter):
    """Threads: 500 characters (emoji in UTF-8 bytes), text alone or with images, a video
    or a carousel fetched from public URLs, one hashtag as the post's topic."""

    name = "threads"
    display_name = "Threads"
    unit = Unit.CHARS
    # 500 characters (Threads Posts guide). Hashtags: Threads makes one tag per post its
    # topic (the tag people can tap and search; Threads' topic-tag rule), and a second
    # "#word" stays plain text. So the listed hashtags are capped at 1 as advice, and the
    # body's own are not a problem (count_inline=False): Threads does not refuse them.
    limits = Limits(body=MAX_TEXT, hashtags=1, count_inline=False)
    Settings = ThreadsSettings
    credentials = ("access_token",)
    required_settings = ("threads_user_id",)
    console_url = "https://developers.facebook.com/apps/"

    def measure(self, text: str) -> int:
        """Characters, with each emoji counted as its UTF-8 bytes (Threads' rule)."""
        return threads_length(text)

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """No media (a text post), one image or video, or a carousel of up to 20, each
        at a public URL Threads fetches it from."""
        settings = self.settings
        assert isinstance(settings, ThreadsSettings)
        usable = [m for m in media if m.is_image or m.is_video]
        choice = MediaChoice(media=())
        if not usable:
            return choice
        if not settings.media_base_url and not any(m.url for m in usable):
            # No web hosting at all: Threads offers no upload, but a text post still goes.
            choice.warnings.append(
                "the media have no public web address (no media_base_url, no url): Threads "
                "fetches images and videos from one, so it posts the text only; set "
                "media_base_url in [platforms.threads] of the config to include them"
            )
            return choice
        if len(usable) > MAX_CAROUSEL:
            choice.warnings.append(
                f"a Threads carousel holds {MAX_CAROUSEL} images and videos: the rest are left out"
            )
            usable = usable[:MAX_CAROUSEL]
        picked = []
        for item in usable:
            choice.problems += _media_problems(item)
            hosted = public_url(item, settings.media_base_url)
            if hosted is None:
                choice.problems.append(
                    f"{item.name}: Threads fetches media from a public web address, and this "
                    "file has none: put it inside the announcement's folder (under "
                    'media_base_url), or add url = "https://…" to its [[media]] entry'
                )
                hosted = item
            picked.append(hosted)
        choice.media = tuple(picked)
        return choice

    def finish(self, post: Post, fields: Fields) -> Post:
        """Threads refuses a post with more than 5 links: a problem at render."""
        links = {m.group(0).rstrip(".,;:!?)").lower() for m in URL.finditer(post.text)}
        if len(links) <= MAX_LINKS:
            return post
        problem = (
            f"the text has {len(links)} links; Threads refuses posts with more than "
            f"{MAX_LINKS}: remove {len(links) - MAX_LINKS}"
        )
        return dataclasses.replace(post, problems=(*post.problems, problem))

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Create the container(s), wait until FINISHED, then threads_publish."""
        from crosspost_adapters.threads._publish import Publisher

        return await Publisher(ctx).publish(post)

    async def reconcile(
        self, post: Post, sent: Sent, ctx: PublishContext
    ) -> Published | Resume | None:
        """Ask the journaled container's ``status``: PUBLISHED, or never published."""
        from crosspost_adapters.threads._publish import Publisher

        return await Publisher(ctx).reconcile(post, sent)

    async def renew(self, ctx: PublishContext, horizon: float) -> None:
        """Refresh the long-lived token once it is old, or about to expire."""
        from crosspost_adapters.threads._publish import Publisher

        await Publisher(ctx).renew(horizon)

    async def identity(self, ctx: PublishContext) -> Account:
        """The account the token posts as (``GET /me``)."""
        from crosspost_adapters.threads._publish import Publisher

        return await Publisher(ctx).identity()


def _media_problems(media: MediaFile) -> list[str]:
    """What Threads refuses about one image or video, as sentences."""
    problems = []
    if media.is_image and media.mime not in IMAGE_TYPES:
        problems.append(f"{media.name}: Threads takes JPEG and PNG images only")
    if media.is_video and media.mime not in VIDEO_TYPES:
        problems.append(f"{media.name}: Threads takes MP4 and MOV videos only")
    if over_size(media, IMAGE_BYTES if media.is_image else VIDEO_BYTES):
        problems.append(f"{media.name}: too large for Threads (images 8 MB, videos 1 GB)")
    if media.is_video and media.duration is not None and media.duration > VIDEO_SECONDS:
        problems.append(
            f"{media.name} is {media.duration:.0f} seconds long; Threads videos are at most "
            "5 minutes"
        )
    return problems
