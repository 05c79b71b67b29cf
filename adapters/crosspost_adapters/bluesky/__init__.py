"""Bluesky (AT Protocol): posts of 300 graphemes with rich-text facets, images and link cards.

What this module decides, without any I/O (docs/platforms/bluesky.md):

* the limits, as the ``app.bsky.feed.post`` lexicon declares them: ``text`` at most
  300 graphemes and 3,000 bytes of UTF-8;
* which media go: up to four images (``app.bsky.embed.images``), each a blob of at
  most ``max_image_bytes``; a post without images whose announcement has a link gets
  a link card (``app.bsky.embed.external``) from the announcement's title and text;
* the rich-text facets of a text (links, hashtags, and the @handles that publish
  resolves to DIDs), with UTF-8 byte offsets (``app.bsky.richtext.facet``).

Publishing (``_publish.py``) is imported only when a post goes out.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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
    Sent,
    Unit,
    over_size,
)

if TYPE_CHECKING:
    from crosspost.config import Configuration
    from crosspost.models import Loaded
    from crosspost.plugin import PublishContext

#: ``app.bsky.feed.post``: "text": maxGraphemes 300, maxLength 3000 (bytes of UTF-8)
#: (https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/feed/post.json).
MAX_GRAPHEMES = 300
MAX_BYTES = 3_000
#: ``langs``: at most 3 entries (the same lexicon).
MAX_LANGS = 3
#: ``app.bsky.embed.images``: at most 4 images; each blob "may be up to 2 MB, formerly
#: limited to 1 MB" (maxSize 2000000 since April 2026; a self-hosted PDS on older code
#: may still refuse more than 1,000,000: set ``max_image_bytes`` for it).
MAX_IMAGES = 4
IMAGE_BYTES = 2_000_000
#: ``app.bsky.richtext.facet#tag``: maxGraphemes 64 (a longer hashtag stays plain text).
TAG_GRAPHEMES = 64
#: How much of the text a link card's description carries (the lexicon sets no limit;
#: the app shows a few lines).
CARD_DESCRIPTION = 300
#: A language tag as the announcement and ``default_language`` take it (BCP 47).
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"

FACET = "app.bsky.richtext.facet"


class BlueskySettings(PlatformSettings):
    """``[platforms.bluesky]`` in config.toml."""

    #: The account's handle ("kpumura.bsky.social"), or its DID. A setting, not a
    #: secret: it is public and names the post's URL (bsky.app/profile/<handle>/…).
    handle: str | None = Field(default=None, pattern=r"^(did:[a-z]+:\S+|[A-Za-z0-9.-]+)$")
    #: The account's PDS (its "hosting provider"): bsky.social for most accounts.
    service: str = Field(default="https://bsky.social", pattern=r"^https?://[^/?#\s]+$")
    #: ``langs`` of a post whose announcement has no ``language``.
    default_language: str | None = Field(default=None, pattern=LANGUAGE_TAG)
    #: The largest image blob, in bytes (see IMAGE_BYTES).
    max_image_bytes: int = Field(default=IMAGE_BYTES, gt=0)
    #: A post without images whose announcement has a link gets a link card.
    link_card: bool = True


class BlueskyAdapter(Adapter):
    """Bluesky: 300 graphemes, facets for links, mentions and hashtags, 4 images or a card."""

    name = "bluesky"
    display_name = "Bluesky"
    unit = Unit.GRAPHEMES
    # No hashtag cap: Bluesky documents none for the text (``tags`` is a separate field).
    limits = Limits(body=MAX_GRAPHEMES)
    Settings = BlueskySettings
    #: An app password (bsky.app → Settings → Privacy and security → App passwords):
    #: CROSSPOST_BLUESKY_APP_PASSWORD, or app_password under [bluesky] in the credentials.
    credentials = ("app_password",)
    required_settings = ("handle",)
    console_url = "https://bsky.app/settings/app-passwords"

    @property
    def bluesky(self) -> BlueskySettings:
        """The settings, as this platform's model."""
        settings = self.settings
        assert isinstance(settings, BlueskySettings)
        return settings

    def graphemes(self, text: str) -> int:
        """Extended grapheme clusters, as Bluesky counts them."""
        return super().measure(text)

    def measure(self, text: str) -> int:
        """Graphemes, or a tenth of the UTF-8 bytes when that is more.

        Bluesky refuses a text over 300 graphemes *or* over 3,000 bytes; counting
        ``max(graphemes, ceil(bytes / 10))`` against 300 keeps both (a text of long
        emoji sequences reaches 3,000 bytes first).
        """
        graphemes = self.graphemes(text)
        ratio = MAX_BYTES // MAX_GRAPHEMES
        return max(graphemes, -(-len(text.encode("utf-8")) // ratio))

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """Up to four images from files; videos are left out (see docs/platforms/bluesky.md)."""
        choice = MediaChoice(media=())
        images = [m for m in media if m.is_image]
        videos = [m for m in media if m.is_video]
        if videos:
            choice.warnings.append(
                f"crosspost posts images to Bluesky, not videos: {len(videos)} video(s) left out"
            )
        if len(images) > MAX_IMAGES:
            choice.warnings.append(
                f"a Bluesky post holds {MAX_IMAGES} images: the other {len(images) - MAX_IMAGES} "
                "are left out"
            )
        picked = images[:MAX_IMAGES]
        limit = self.bluesky.max_image_bytes
        for m in picked:
            if m.path is None:
                choice.problems.append(
                    f"{m.name}: Bluesky takes images as uploads from a file; this one has only "
                    "a URL: add its file as path = … to the [[media]] entry"
                )
            if over_size(m, limit):
                choice.problems.append(
                    f"{m.name}: too large for Bluesky ({m.size:,} bytes; at most {limit:,}): "
                    "make it smaller"
                )
            if not (m.alt or "").strip():
                choice.warnings.append(
                    f'{m.name} has no alt text: add alt = "…" to its [[media]] entry, so people '
                    "using screen readers know what it shows"
                )
        choice.media = tuple(picked)
        return choice

    def render(self, loaded: Loaded, config: Configuration) -> Post:
        """The fitted post, with ``langs``: the announcement's ``language``, else
        ``default_language`` from config; none when neither is set."""
        post = super().render(loaded, config)
        language = loaded.announcement.language or self.bluesky.default_language
        if not language:
            return post
        return dataclasses.replace(post, extra={**post.extra, "langs": [language]})

    def finish(self, post: Post, fields: Fields) -> Post:
        """The link card of a post without images: the announcement's link, else the first
        link in its text, with its title and the start of its text (no thumbnail)."""
        if post.media or not self.bluesky.link_card:
            return post
        uri = fields.link or next((link.uri for link in links(fields.body)), None)
        if uri is None:
            return post
        card = {
            "uri": uri,
            "title": (fields.title or "").strip() or urlsplit(uri).hostname or uri,
            "description": _description(fields.body),
        }
        return dataclasses.replace(post, extra={**post.extra, "card": card})

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """A session from the app password, the images as blobs, then one createRecord with
        a record key chosen and journaled first."""
        from crosspost_adapters.bluesky._publish import Publisher

        return await Publisher(ctx, self).publish(post)

    async def reconcile(self, post: Post, sent: Sent, ctx: PublishContext) -> Published | None:
        """``getRecord`` for the journaled record key: there, or not (after ``settle``)."""
        from crosspost_adapters.bluesky._publish import Publisher

        return await Publisher(ctx, self).reconcile(sent)

    async def identity(self, ctx: PublishContext) -> Account:
        """The account the app password logs in as."""
        from crosspost_adapters.bluesky._publish import Publisher

        return await Publisher(ctx, self).identity()


def _description(body: str) -> str:
    """The start of the text, on one line, cut at a word within CARD_DESCRIPTION characters."""
    text = " ".join(body.split())
    if len(text) <= CARD_DESCRIPTION:
        return text
    cut = text[: CARD_DESCRIPTION - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > CARD_DESCRIPTION // 2 else cut).rstrip(" ,.;:") + "…"


# -- rich text ---------------------------------------------------------------
#
# Facets point at byte ranges of the UTF-8 text: byteStart inclusive, byteEnd
# exclusive (app.bsky.richtext.facet, "byteSlice"; https://docs.bsky.app/docs/
# advanced-guides/post-richtext). What counts as a link, a hashtag or a mention
# follows the Bluesky app's own detection (@atproto/api rich-text/detection.ts),
# except that a link needs its scheme (http:// or https://): the app also links bare
# domains, which needs the list of top-level domains.


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    """A facet's target in the text: byte offsets, and what it points at."""

    start: int
    end: int
    #: The link's URI, the hashtag without "#", or the handle without "@".
    value: str

    @property
    def uri(self) -> str:
        """The value, read as a link's URI."""
        return self.value


_LINK = re.compile(r"(?:^|(?<=[\s(]))(https?://\S+)")
_MENTION = re.compile(r"(?:^|(?<=[\s(]))@([A-Za-z0-9.-]+)\b")
#: A handle is a domain name: labels of letters, digits and "-", the last one starting
#: with a letter (https://atproto.com/specs/handle).
_HANDLE = re.compile(
    r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
#: Zero-width characters that end a hashtag as a space does (the app's TAG_REGEX).
_TAG_BREAK = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = re.compile(rf"(?:^|(?<=\s))[#＃]([^\s{_TAG_BREAK}]*)")


class _Offsets:
    """Code-point index → UTF-8 byte offset, for one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._bytes = [0]
        for char in text:
            self._bytes.append(self._bytes[-1] + len(char.encode("utf-8")))

    def __call__(self, index: int) -> int:
        return self._bytes[index]


def links(text: str) -> list[Span]:
    """The http(s) links of ``text`` with their byte ranges; a final ".,;:!?" is not part of
    one, nor a final ")" without a "(" in it (as the app reads them)."""
    at = _Offsets(text)
    found = []
    for match in _LINK.finditer(text):
        uri = match.group(1)
        start, end = match.start(1), match.end(1)
        if uri[-1] in ".,;:!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        if len(uri) > len("https://"):
            found.append(Span(at(start), at(end), uri))
    return found


def hashtags(text: str, measure: Callable[[str], int]) -> list[Span]:
    """The hashtags of ``text``: "#" (or the full-width "＃") after a space or at the start,
    up to the next space, without trailing punctuation; not only digits and punctuation;
    at most 64 graphemes (``measure``) or no facet."""
    at = _Offsets(text)
    found = []
    for match in _TAG.finditer(text):
        tag = match.group(1)
        if not tag or tag.startswith("\ufe0f"):
            continue
        while tag and unicodedata.category(tag[-1]).startswith("P"):
            tag = tag[:-1]
        if not any(
            not (c.isascii() and c.isdigit()) and not unicodedata.category(c).startswith("P")
            for c in tag
        ):
            continue
        if measure(tag) > TAG_GRAPHEMES:
            continue
        start = match.start()
        found.append(Span(at(start), at(start + 1 + len(tag)), tag))
    return found


def mentions(text: str) -> list[Span]:
    """The @handles of ``text`` (after a space, "(" or at the start) that are handles by
    their syntax; publish resolves each to a DID, and one that does not resolve stays text."""
    at = _Offsets(text)
    found = []
    for match in _MENTION.finditer(text):
        handle = match.group(1)
        if not _HANDLE.match(handle):
            continue
        found.append(Span(at(match.start()), at(match.end(1)), handle.lower()))
    return found


def facet(span: Span, feature: dict[str, Any]) -> dict[str, Any]:
    """One ``app.bsky.richtext.facet`` for ``span`` with ``feature``."""
    return {
        "$type": FACET,
        "index": {"byteStart": span.start, "byteEnd": span.end},
        "features": [feature],
    }


def facets(
    text: str, measure: Callable[[str], int], dids: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every facet of ``text``, ordered by position: links, hashtags, and the mentions whose
    handle ``dids`` maps to a DID."""
    made = [(s, facet(s, {"$type": f"{FACET}#link", "uri": s.uri})) for s in links(text)]
    made += [
        (s, facet(s, {"$type": f"{FACET}#tag", "tag": s.value})) for s in hashtags(text, measure)
    ]
    for span in mentions(text):
        did = (dids or {}).get(span.value)
        if did:
            made.append((span, facet(span, {"$type": f"{FACET}#mention", "did": did})))
    return [f for _, f in sorted(made, key=lambda pair: pair[0].start)]
