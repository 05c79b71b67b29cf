"""Mastodon (any instance): a status with up to four images or one video, alt text on each.

Counting is the server's own (docs/platforms/mastodon.md): grapheme clusters, every
``http(s)://`` URL as 23, and a remote mention ``@user@domain`` as ``@user`` only
(Mastodon's ``StatusLengthValidator``). The limit is ``max_length`` (500 by default,
Mastodon's own default): render is pure and cannot ask the instance, so
``crosspost doctor`` reads ``GET /api/v2/instance`` and says when they differ.
No httpx here: publishing lives in ``_publish.py``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

# Mastodon counts grapheme clusters and finds URLs with twitter-text, as these do;
# crosspost.plugin does not re-export them yet (see the report to the lead).
from crosspost.plugin import (
    Account,
    Adapter,
    Fields,
    Finding,
    Limits,
    MediaChoice,
    MediaFile,
    Overrides,
    PlatformSettings,
    Post,
    Published,
    Resume,
    Sent,
    Unit,
    extract_urls,
    grapheme_length,
    over_size,
)

if TYPE_CHECKING:
    from crosspost.config import Configuration
    from crosspost.models import Loaded
    from crosspost.plugin import PublishContext

#: Mastodon's defaults (https://docs.joinmastodon.org/user/posting/ and the Instance
#: entity's ``configuration``): 500 characters, each URL counted as 23, 4 attachments;
#: images up to 16 MB, videos up to 99 MB; alt text up to 1,500 characters. An
#: instance may change them: ``crosspost doctor`` compares with /api/v2/instance.
MAX_CHARACTERS = 500
URL_LENGTH = 23
MAX_IMAGES = 4
IMAGE_BYTES = 16 * 1024 * 1024
VIDEO_BYTES = 99 * 1024 * 1024
DESCRIPTION_LIMIT = 1_500
#: What Mastodon takes as images (posting guide: PNG, JPG, HEIF, WEBP, AVIF; GIF).
IMAGE_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/heif",
    "image/avif",
)

Visibility = Literal["public", "unlisted", "private"]
#: Who sees a status that is not public, in words (preview and results show it).
VISIBILITY = {
    "unlisted": "anyone with the link, not in public timelines (Mastodon unlisted)",
    "private": "followers only (Mastodon private)",
}

#: Account::MENTION_RE (app/models/account.rb): ``@user`` or ``@user@domain``, not after
#: ``=``, ``/`` or a word character. Ruby's [[:word:]] is Unicode letters, marks,
#: digits and connector punctuation, as Python's \w.
_USERNAME = r"[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*"
MENTION = re.compile(
    rf"(?<![=/\w])@(?P<user>{_USERNAME})(?:@\w+(?:[.-]+\w+)*)?", re.IGNORECASE | re.UNICODE
)
#: twitter-text's end_mention_match: a mention followed by another @, a Latin accent
#: or "://" is not one (Extractor.extract_mentions_or_lists_with_indices).
_NOT_AFTER_MENTION = re.compile(r"[@＠\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f]|://")


def countable(text: str) -> str:
    """``text`` as Mastodon measures it: every ``http(s)://`` URL replaced by 23 "x", every
    mention by ``@`` and its local part (StatusLengthValidator#countable_text)."""
    entities: list[tuple[int, int, str]] = []
    for url in extract_urls(text):
        # extract_url_without_protocol: false — a bare domain counts as written.
        if url.text[:8].lower().startswith(("http://", "https://")):
            entities.append((url.start, url.end, "x" * URL_LENGTH))
    for m in MENTION.finditer(text):
        if not _NOT_AFTER_MENTION.match(text, m.end()):
            entities.append((m.start(), m.end(), "@" + m.group("user")))
    entities.sort()
    out: list[str] = []
    at = 0
    for start, end, replacement in entities:
        if start < at:  # overlapping entities: the earlier one wins (remove_overlapping)
            continue
        out += [text[at:start], replacement]
        at = end
    out.append(text[at:])
    return "".join(out)


def mastodon_length(text: str) -> int:
    """The length of a status as a Mastodon server counts it against ``max_characters``."""
    return grapheme_length(countable(text))


class MastodonSettings(PlatformSettings):
    """``[platforms.mastodon]`` in config.toml."""

    #: The instance's base URL ("https://mastodon.social"); required.
    instance: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+/?$")
    visibility: Visibility = "public"
    #: The longest wait between two polls of a video still processing, in seconds.
    poll_max: float = Field(default=30.0, gt=0, le=600)


class MastodonOptions(Overrides):
    """``[platforms.mastodon]`` in an announcement."""

    visibility: Visibility | None = None


class MastodonAdapter(Adapter):
    """Mastodon: 500 characters as the server counts them, 4 images or 1 video."""

    name = "mastodon"
    display_name = "Mastodon"
    # Shown as "chars"; the count is Mastodon's own (``measure``).
    unit = Unit.CHARS
    limits = Limits(body=MAX_CHARACTERS)
    Settings = MastodonSettings
    Options = MastodonOptions
    credentials = ("access_token",)
    required_settings = ("instance",)

    def measure(self, text: str) -> int:
        """Graphemes, with URLs as 23 and remote mentions by their local part."""
        return mastodon_length(text)

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """Up to four images, else one video, each uploaded from its file."""
        images = [m for m in media if m.is_image]
        videos = [m for m in media if m.is_video]
        choice = MediaChoice(media=())
        if images and videos:
            choice.warnings.append(
                "images and a video: Mastodon does not mix them in one post; posting the images"
            )
        if len(images) > MAX_IMAGES:
            choice.warnings.append(
                f"Mastodon takes {MAX_IMAGES} images per post: the rest are left out"
            )
        if not images and len(videos) > 1:
            choice.warnings.append("one video per Mastodon post: only the first is posted")
        picked = images[:MAX_IMAGES] if images else videos[:1]
        for m in picked:
            if m.path is None:
                choice.problems.append(
                    f"{m.name}: Mastodon uploads media from a file; give the file's path"
                )
            if m.is_image and m.mime not in IMAGE_TYPES:
                choice.problems.append(
                    f"{m.name}: Mastodon takes JPEG, PNG, GIF, WebP, HEIF or AVIF images"
                )
            if over_size(m, IMAGE_BYTES if m.is_image else VIDEO_BYTES):
                choice.problems.append(
                    f"{m.name}: too large for Mastodon (images 16 MB, videos 99 MB by default)"
                )
            if m.alt and len(m.alt) > DESCRIPTION_LIMIT:
                choice.problems.append(
                    f"{m.name}: the alt text is {len(m.alt)} characters; Mastodon takes "
                    f"{DESCRIPTION_LIMIT}: shorten it"
                )
        choice.media = tuple(picked)
        return choice

    def finish(self, post: Post, fields: Fields) -> Post:
        """The visibility: the announcement's, else the config's (``visibility``)."""
        settings = self.settings
        assert isinstance(settings, MastodonSettings)
        options = fields.options
        chosen = (options.visibility if isinstance(options, MastodonOptions) else None) or (
            settings.visibility
        )
        return dataclasses.replace(
            post,
            options={**post.options, "visibility": chosen},
            visibility=VISIBILITY.get(chosen),
        )

    def render(self, loaded: Loaded, config: Configuration) -> Post:
        """The fitted post, with ``language``: the announcement's language as ISO 639
        (Mastodon's ``language`` parameter takes "ISO 639-1"; "en-GB" sends "en")."""
        post = super().render(loaded, config)
        language = loaded.announcement.language
        if not language:
            return post
        return dataclasses.replace(
            post, extra={**post.extra, "language": language.split("-")[0].lower()}
        )

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Upload the media (waiting for processing), then post the status with an
        Idempotency-Key journaled first."""
        from crosspost_adapters.mastodon._publish import Publisher

        return await Publisher(ctx).publish(post)

    async def reconcile(
        self, post: Post, sent: Sent, ctx: PublishContext
    ) -> Published | Resume | None:
        """Look for the status on the account; within the key's hour, send it again
        with the same Idempotency-Key (the server answers the earlier status)."""
        from crosspost_adapters.mastodon._publish import Publisher

        return await Publisher(ctx).reconcile(post, sent)

    async def identity(self, ctx: PublishContext) -> Account:
        """The account the token posts as (``verify_credentials``)."""
        from crosspost_adapters.mastodon._publish import Publisher

        return await Publisher(ctx).identity()

    async def diagnose(self, ctx: PublishContext, post: Post | None) -> list[Finding]:
        """The instance's limits (``/api/v2/instance``) against ``max_length`` and the post."""
        from crosspost_adapters.mastodon._publish import Publisher

        limit = self.effective_limits.body
        return await Publisher(ctx).diagnose(post, limit)
