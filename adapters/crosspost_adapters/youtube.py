"""YouTube: a video with a title, a description and tags (Data API v3 videos.insert)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from crosspost import hashtags
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
)
from crosspost.config import Configuration, PlatformSettings
from crosspost.media import MediaFile
from crosspost.models import Loaded, Overrides
from crosspost.units import Unit

if TYPE_CHECKING:
    from crosspost.api import PublishContext

Privacy = Literal["private", "unlisted", "public"]
#: Who sees a video that is not public (preview and results say it). A public upload
#: from an API project YouTube has not audited is made private by YouTube itself,
#: which crosspost cannot know beforehand (docs/platforms/youtube.md).
VISIBILITY = {
    "private": "only the channel (YouTube private)",
    "unlisted": "people with the link (YouTube unlisted)",
}

#: snippet.title: at most 100 characters; snippet.description: at most 5,000
#: *bytes*; neither may contain '<' or '>' (videos resource reference).
TITLE = 100
DESCRIPTION_BYTES = 5_000
#: snippet.tags: 500 characters in all, commas between tags counted, a tag with a
#: space counted as if quoted (videos resource reference).
TAGS_TOTAL = 500
#: More than 60 hashtags and YouTube ignores all of them; guides since 2025 say
#: 15 (YouTube hashtag policy; the current number is UNVERIFIED).
HASHTAGS_WARN = 15
HASHTAGS_MAX = 60
#: snippet.defaultLanguage: a BCP-47 tag of the form YouTube's i18nLanguages list, a
#: language with an optional script and region ("id", "en-GB", "zh-Hans", "es-419").
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?$"
#: Upload chunks: a multiple of 256 KiB (resumable upload protocol); 8 MiB by default.
CHUNK_UNIT = 256 * 1024
CHUNK_DEFAULT = 8 * 1024 * 1024


class YouTubeSettings(PlatformSettings):
    """``[platforms.youtube]`` in config.toml."""

    #: Uploads from unaudited API projects are locked private anyway.
    privacy_status: Privacy = "private"
    category_id: str = "22"  # People & Blogs
    notify_subscribers: bool = True
    made_for_kids: bool = False
    #: snippet.defaultLanguage (a BCP-47 code such as "id") when the announcement has
    #: no ``language``; not sent when neither is set.
    default_language: str | None = Field(default=None, pattern=LANGUAGE_TAG)
    #: Bytes per upload request. Every chunk but the last must be a multiple of
    #: 256 KiB (resumable upload protocol); bigger chunks mean fewer requests,
    #: smaller ones less to send again after a dropped connection.
    chunk_size: int = Field(default=CHUNK_DEFAULT, gt=0)

    @field_validator("chunk_size")
    @classmethod
    def _whole_chunks(cls, value: int) -> int:
        if value % CHUNK_UNIT:
            raise ValueError(
                f"must be a multiple of 262144 (256 KiB), such as {CHUNK_DEFAULT} (8 MiB)"
            )
        return value


class YouTubeOptions(Overrides):
    """``[platforms.youtube]`` in an announcement."""

    privacy_status: Privacy | None = None
    tags: list[str] | None = None


def tags_length(tags: Sequence[str]) -> int:
    """The length of ``tags`` as YouTube counts it against its 500-character limit."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


class YouTubeAdapter(Adapter):
    """YouTube: one video; the title is required, the description counted in bytes."""

    name = "youtube"
    display_name = "YouTube"
    unit = Unit.BYTES
    title_unit = Unit.CHARS
    limits = Limits(body=DESCRIPTION_BYTES, title=TITLE)
    Settings = YouTubeSettings
    Options = YouTubeOptions
    credentials = ("client_id", "client_secret", "refresh_token")
    #: The last access token (about an hour) and its expiry, kept by renewal so a run
    #: refreshes once; only beside a refresh token stored by ``crosspost auth login``.
    secrets = ("access_token",)
    #: Where Google issues the OAuth client (a "Desktop app" client id and secret).
    console_url = "https://console.cloud.google.com/apis/credentials"

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """Exactly one video, uploaded from a local file."""
        videos = [m for m in media if m.is_video]
        choice = MediaChoice(media=tuple(videos[:1]))
        if not videos:
            choice.problems.append("YouTube needs a video; this post has none")
        elif videos[0].path is None:
            choice.problems.append(
                f"{videos[0].name}: YouTube uploads a local file; give the video's path"
            )
        if len(videos) > 1:
            choice.warnings.append("one video per YouTube upload: only the first is posted")
        return choice

    def unsuitable(self, media: Sequence[MediaFile]) -> str | None:
        """Without a video there is nothing to upload."""
        if not any(m.is_video for m in media):
            return "no video: YouTube posts videos"
        return None

    def title_required(self, media: Sequence[MediaFile]) -> bool:
        """snippet.title is required on insert (an empty one is refused: invalidTitle)."""
        return True

    def title_for(self, fields: Fields, media: Sequence[MediaFile]) -> str | None:
        """The announcement's title, never one made up from the body.

        The body's first line (emoji, hashtags and all, cut at 100) is not a title a
        person would write; a missing title is a problem that says what to add.
        """
        if fields.title and fields.title.strip():
            return fields.title
        return None

    def clean(self, text: str, what: str, warnings: list[str]) -> str:
        """YouTube refuses '<' and '>' in titles and descriptions: use look-alike angles."""
        if "<" in text or ">" in text:
            warnings.append(
                f"replaced '<' and '>' in the {what} with '‹' and '›' (YouTube refuses them)"
            )
            text = text.replace("<", "‹").replace(">", "›")
        return text

    def finish(self, post: Post, fields: Fields) -> Post:
        """Add ``tags`` (the hashtags, within 500 characters) and check the hashtag count."""
        options = fields.options
        assert isinstance(options, YouTubeOptions)
        text = "\n".join(p.text for p in post.parts)
        found = hashtags.inline(text)
        wanted = options.tags if options.tags is not None else found
        tags: list[str] = []
        left_out: list[str] = []
        for tag in wanted:
            if tags_length([*tags, tag]) <= TAGS_TOTAL:
                tags.append(tag)
            else:
                left_out.append(tag)
        warnings = list(post.warnings)
        problems = list(post.problems)
        if left_out:
            warnings.append(f"left out {len(left_out)} tag(s) beyond YouTube's 500 characters")
        count = len(found) + len(hashtags.inline(post.title.text if post.title else ""))
        if count > HASHTAGS_MAX:
            problems.append(f"{count} hashtags: YouTube ignores all hashtags above {HASHTAGS_MAX}")
        elif count > HASHTAGS_WARN:
            warnings.append(f"{count} hashtags: YouTube may ignore them all above {HASHTAGS_WARN}")
        settings = self.settings
        assert isinstance(settings, YouTubeSettings)
        privacy = options.privacy_status or settings.privacy_status
        return dataclasses.replace(
            post,
            extra={"tags": tags},
            options={**post.options, "privacy_status": privacy},
            warnings=tuple(warnings),
            problems=tuple(problems),
            visibility=VISIBILITY.get(privacy),
        )

    def render(self, loaded: Loaded, config: Configuration) -> Post:
        """The fitted post, with ``language``: the announcement's ``language``, else
        ``default_language`` from config (snippet.defaultLanguage, the language of the
        title and description; docs/platforms/youtube.md)."""
        post = super().render(loaded, config)
        settings = self.settings
        assert isinstance(settings, YouTubeSettings)
        language = loaded.announcement.language or settings.default_language
        if not language:
            return post
        if not re.fullmatch(LANGUAGE_TAG, language):
            # The announcement takes any BCP-47 tag ("id-x-kpu"); YouTube's list has
            # only a language, a script and a region. Leave it out rather than fail.
            warning = (
                f'language "{language}" is not one YouTube takes (a language with an '
                'optional script and region, like "id" or "en-GB"): the video gets none'
            )
            return dataclasses.replace(post, warnings=(*post.warnings, warning))
        return dataclasses.replace(post, extra={**post.extra, "language": language})

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Resumable upload: a session POST with the metadata, then the bytes in chunks."""
        from crosspost_adapters._youtube_api import publish

        return await publish(self, post, ctx)

    async def reconcile(self, post: Post, sent: Sent, ctx: PublishContext) -> Published | None:
        """Probe the journaled upload session: the video, not there, or gone (unknown)."""
        from crosspost_adapters._youtube_api import reconcile

        return await reconcile(self, post, sent, ctx)

    # -- accounts (docs/platforms/youtube.md) ----------------------------------------

    async def login(self, session: LoginSession) -> Login:
        """Google OAuth (offline access, PKCE, loopback); the channel's title."""
        from crosspost_adapters._youtube_api import login

        return await login(session)

    async def renew(self, ctx: PublishContext, horizon: float) -> None:
        """Refresh the access token when it expires within ``horizon`` seconds."""
        from crosspost_adapters._youtube_api import renew

        await renew(ctx, horizon)

    async def identity(self, ctx: PublishContext) -> Account:
        """The channel the token uploads to (channels.list, mine=true)."""
        from crosspost_adapters._youtube_api import identity

        return await identity(ctx)

    async def diagnose(self, ctx: PublishContext, post: Post | None) -> list[Finding]:
        """The video's visibility, the granted scopes, Google's 7-day "Testing" limit."""
        from crosspost_adapters._youtube_api import diagnose

        return await diagnose(ctx, post)
