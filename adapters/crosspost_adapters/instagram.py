"""Instagram professional accounts: image, carousel and Reels posts via containers."""

from __future__ import annotations

import dataclasses
import re
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
    Resume,
    Sent,
    over_size,
)
from crosspost.config import PlatformSettings
from crosspost.hosting import hosted_url, outside_message
from crosspost.media import MediaFile
from crosspost.units import Unit
from crosspost_adapters.facebook import DEFAULT_REDIRECT

if TYPE_CHECKING:
    from crosspost.api import PublishContext

#: Images: JPEG only, at most 8 MB; Reels at most 300 MB (IG User Media reference).
IMAGE_BYTES = 8_000_000
REEL_BYTES = 300_000_000
#: A carousel holds 2 to 10 items (IG User Media reference; error 2207028).
MAX_CAROUSEL = 10
#: Images: aspect ratio 4:5 to 1.91:1 (error 36003/2207009), width 320 to 1440
#: pixels (Instagram scales outside that); Reels 3 s to 15 min (IG User Media reference).
ASPECT_MIN, ASPECT_MAX = 4 / 5, 1.91
WIDTH_MIN = 320
REEL_SECONDS = (3.0, 15 * 60.0)
#: "Maximum 2200 characters, 30 hashtags, and 20 @ tags" (IG User Media reference,
#: ``caption``); more is refused with 100/2207040.
MAX_MENTIONS = 20
#: An @-mention as Instagram reads one: not inside a word or an e-mail address
#: (humas@kpu.go.id); usernames are letters, digits, "." and "_".
MENTION = re.compile(r"(?<![\w@.])@[A-Za-z0-9._]*[A-Za-z0-9_]")


class InstagramSettings(PlatformSettings):
    """``[platforms.instagram]`` in config.toml."""

    ig_user_id: str | None = None
    graph_version: str = Field(default="v25.0", pattern=r"^v\d+\.\d+$")
    #: Instagram fetches media from a public URL; files under this URL are
    #: expected at their path relative to the announcement.
    media_base_url: str | None = Field(default=None, pattern=r"^https?://")
    #: "facebook" (graph.facebook.com, Facebook Login) or "instagram"
    #: (graph.instagram.com, Instagram Login): an app uses one or the other.
    login: Literal["facebook", "instagram"] = "facebook"
    #: The app ``crosspost auth login instagram`` logs in through: the Meta app's id
    #: (Facebook Login), or the Instagram app id shown under "API setup with Instagram
    #: login" (Instagram Login); its secret is the credential ``app_secret``.
    app_id: str | None = Field(default=None, pattern=r"^\d+$")
    #: The login's redirect URI, exactly as registered with the app. An http loopback
    #: address is listened on; any other one is pasted back from the browser.
    redirect_uri: str = Field(default=DEFAULT_REDIRECT, pattern=r"^https?://[^\s#]+$")
    #: Instagram Login tokens last 60 days and can be refreshed once "at least 24
    #: hours old" and "not expired" (refresh_access_token reference): crosspost
    #: refreshes them before publishing once they are this many days old.
    renew_after_days: int = Field(default=7, ge=1, le=59)
    #: Ask ``content_publishing_limit`` before publishing and stop early when the
    #: 50-posts-per-24-hours quota is used up (documented on graph.facebook.com;
    #: on graph.instagram.com UNVERIFIED, so a refused check is ignored).
    check_quota: bool = True
    #: The longest wait between two status polls of a container, in seconds. Polls
    #: start at the run's poll interval and back off up to this; Meta suggests
    #: querying a container's status about once a minute (IG Container reference,
    #: docs/platforms/instagram.md).
    poll_max: float = Field(default=60.0, gt=0, le=600)
    #: Move the hashtags, the link, or both out of the caption into the post's
    #: first comment (published right after the post; needs the comments
    #: permission, which ``crosspost auth login instagram`` then asks for).
    first_comment: Literal["hashtags", "link", "both"] | None = None


class InstagramAdapter(Adapter):
    """Instagram: a caption of 2,200 characters and at most 5 hashtags, media required."""

    name = "instagram"
    display_name = "Instagram"
    # Code points: how Instagram counts is UNVERIFIED; the design counts characters.
    unit = Unit.CHARS
    # 2,200 characters (IG User Media reference). Hashtags: the API reference says
    # 30, but since Dec 2025 Instagram allows 5 per post; the body's own count too.
    # Set max_hashtags = 30 in config to go back to the API's number.
    limits = Limits(body=2_200, hashtags=5, count_inline=True)
    Settings = InstagramSettings
    credentials = ("access_token",)
    secrets = ("app_secret",)
    required_settings = ("ig_user_id",)
    console_url = "https://developers.facebook.com/apps/"

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """JPEG images (one, or a carousel of up to 10), else one video as a Reel."""
        settings = self.settings
        assert isinstance(settings, InstagramSettings)
        images = [m for m in media if m.is_image]
        videos = [m for m in media if m.is_video]
        choice = MediaChoice(media=())
        if not images and not videos:
            choice.problems.append("Instagram needs an image or a video; this post has neither")
            return choice
        unhosted = not settings.media_base_url and not any(m.url for m in images)
        if images and videos and unhosted and settings.login == "facebook":
            # Instagram fetches images from a web address, but takes a Reel as an upload:
            # an office without web hosting still gets its post, as a Reel.
            images = []
            choice.warnings.append(
                "the images have no public web address (no media_base_url, no url): Instagram "
                "posts the video as a Reel, uploaded from the file"
            )
        picked = images[:MAX_CAROUSEL] if images else videos[:1]
        if images and videos:
            choice.warnings.append("images and a video: Instagram posts the images, not the video")
        if len(images) > MAX_CAROUSEL:
            choice.warnings.append(f"a carousel holds {MAX_CAROUSEL} images: the rest are left out")
        if not images and len(videos) > 1:
            choice.warnings.append("one Reel per post: only the first video is posted")
        with_urls = []
        for m in picked:
            if m.is_image and m.mime != "image/jpeg":
                choice.problems.append(f"{m.name}: Instagram accepts JPEG images only")
            choice.problems += _shape_problems(m)
            if m.is_image and m.width is not None and m.width < WIDTH_MIN:
                choice.warnings.append(
                    f"{m.name} is {m.width} pixels wide; Instagram enlarges images to at least "
                    f"{WIDTH_MIN}, so it may look blurred"
                )
            if over_size(m, IMAGE_BYTES if m.is_image else REEL_BYTES):
                choice.problems.append(
                    f"{m.name}: too large for Instagram (images 8 MB, Reels 300 MB)"
                )
            with_urls.append(_with_url(m, settings, choice.problems))
        choice.media = tuple(with_urls)
        return choice

    #: A URL in a caption is plain text on Instagram: render warns, and suggests
    #: ``first_comment = "link"``.
    links_clickable = False

    def first_comment_moves(self) -> frozenset[str]:
        """``first_comment`` in ``[platforms.instagram]``: the hashtags, the link or both go
        into the post's first comment, which publish posts right after the post."""
        settings = self.settings
        assert isinstance(settings, InstagramSettings)
        if settings.first_comment == "both":
            return frozenset({"hashtags", "link"})
        return frozenset({settings.first_comment}) if settings.first_comment else frozenset()

    def unsuitable(self, media: Sequence[MediaFile]) -> str | None:
        """Instagram posts an image, a carousel or a Reel: nothing without one."""
        if any(m.is_image or m.is_video for m in media):
            return None
        return "no image or video: Instagram posts need one"

    def finish(self, post: Post, fields: Fields) -> Post:
        """Instagram refuses a caption with more than 20 @-mentions: a problem at render."""
        count = len(MENTION.findall(post.text))
        if count <= MAX_MENTIONS:
            return post
        problem = (
            f"the caption has {count} @-mentions; Instagram allows {MAX_MENTIONS} per post: "
            f"remove {count - MAX_MENTIONS}"
        )
        return dataclasses.replace(post, problems=(*post.problems, problem))

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Create the container(s), wait until FINISHED, then media_publish."""
        from crosspost_adapters._instagram_api import publish

        return await publish(self, post, ctx)

    async def reconcile(
        self, post: Post, sent: Sent, ctx: PublishContext
    ) -> Published | Resume | None:
        """Ask the journaled container's ``status_code`` (PUBLISHED, or never published),
        then whether the first comment is there (``Resume`` to post it)."""
        from crosspost_adapters._instagram_api import reconcile

        return await reconcile(self, post, sent, ctx)

    async def login(self, session: LoginSession) -> Login:
        """Facebook Login (a Page's linked account) or Instagram Login (``--login``)."""
        from crosspost_adapters._instagram_api import login

        return await login(self, session)

    async def renew(self, ctx: PublishContext, horizon: float) -> None:
        """Refresh an Instagram Login token that is old enough or about to expire."""
        from crosspost_adapters._instagram_api import renew

        await renew(self, ctx, horizon)

    async def identity(self, ctx: PublishContext) -> Account:
        """The account the token posts as."""
        from crosspost_adapters._instagram_api import identity

        return await identity(self, ctx)

    async def diagnose(self, ctx: PublishContext, post: Post | None) -> list[Finding]:
        """The account id, the token's permissions and expiry, the media URLs."""
        from crosspost_adapters._instagram_api import diagnose

        return await diagnose(self, ctx, post)


def _with_url(media: MediaFile, settings: InstagramSettings, problems: list[str]) -> MediaFile:
    """``media`` with the public URL Instagram fetches it from, when it has or gets one.

    Its own ``url`` first, else ``media_base_url`` + its path (percent-encoded,
    inside the announcement's folder: ``crosspost.hosting``). Images have no other
    way in (the IG User Media reference takes ``image_url`` only). A video without
    a URL is uploaded from the file (Meta's resumable upload), which Meta offers
    with Facebook Login only.
    """
    if media.url:
        return media
    url = None
    if settings.media_base_url and media.path is not None:
        url = hosted_url(settings.media_base_url, media.name)
        if url is None and media.is_image:
            problems.append(outside_message(media.name))
            return media
    if url is not None:
        return dataclasses.replace(media, url=url)
    if media.is_video and media.path is not None:
        if settings.login == "instagram":
            problems.append(
                f"{media.name}: Meta uploads a Reel from a file only for apps that log in with "
                'Facebook Login; with login = "instagram", put the video on a web server and '
                'add url = "https://…" to this [[media]] entry (or set media_base_url in '
                "[platforms.instagram])"
            )
        return media
    if media.is_image:
        problems.append(
            f"{media.name}: Instagram takes images only from a public web address (it offers "
            "no upload for them): put the announcement's folder on a web server and set "
            'media_base_url = "https://…" in [platforms.instagram] of the config, or add '
            'url = "https://…" to this [[media]] entry'
        )
    return media


def _shape_problems(media: MediaFile) -> list[str]:
    """What Instagram refuses about an image's shape or a Reel's length, as sentences."""
    if media.is_image and media.width and media.height:
        ratio = media.width / media.height
        if not ASPECT_MIN <= ratio <= ASPECT_MAX:
            return [
                f"{media.name} is {media.width}×{media.height} (aspect ratio {ratio:.2f}:1); "
                "Instagram takes images from 4:5 (0.8:1) to 1.91:1: crop it"
            ]
    if media.is_video and media.duration is not None:
        low, high = REEL_SECONDS
        if not low <= media.duration <= high:
            return [
                f"{media.name} is {media.duration:.1f} seconds long; Instagram Reels are 3 seconds "
                "to 15 minutes"
            ]
    return []
