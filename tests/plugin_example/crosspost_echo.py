"""crosspost-echo: a crosspost adapter for Echo, a made-up text-only network, in one file.

Echo's API (invented for this example, and served by tests/test_plugin_e2e.py's fake):

* ``POST /v1/channels/{channel}/posts`` with ``{"text": ..., "pinned": ...}`` and
  ``Authorization: Bearer <token>`` answers 201 ``{"id": ..., "url": ...}``;
  401 for a bad token, 422 for a refused post, 429 with ``Retry-After``.
* ``GET /v1/channels/{channel}/posts?limit=N`` lists the newest posts, newest first.

docs/plugins.md explains each part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from crosspost.plugin import (
    Adapter,
    AuthError,
    Fields,
    InvalidContentError,
    Limits,
    MediaChoice,
    MediaFile,
    Overrides,
    PlatformError,
    PlatformSettings,
    Post,
    PublishContext,
    Published,
    RateLimitedError,
    Sent,
    TransientError,
    Unit,
    UnknownOutcomeError,
    excerpt,
    json_body,
    retry_after,
)

if TYPE_CHECKING:
    import httpx

#: The real API's origin; ``api_base`` in ``[platforms.echo]`` points it elsewhere.
API = "https://api.echo.example"
#: How many of the channel's newest posts ``reconcile`` looks through.
LOOKBACK = 20


class EchoSettings(PlatformSettings):
    """``[platforms.echo]`` in config.toml: the shared keys, and the channel to post in."""

    channel: str = "main"


class EchoOptions(Overrides):
    """``[platforms.echo]`` in an announcement: the shared fields, and whether to pin the post."""

    pinned: bool = False


class EchoAdapter(Adapter):
    """Echo: text posts of up to 500 characters, pinned or not."""

    name = "echo"  # the same as the entry point's name
    display_name = "Echo"
    aliases = ("echo-chamber",)
    unit = Unit.GRAPHEMES
    limits = Limits(body=500, hashtags=3)
    Settings = EchoSettings
    Options = EchoOptions
    credentials = ("token",)  # CROSSPOST_ECHO_TOKEN, or token under [echo] in credentials.toml

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """Echo posts text only: the announcement's media are left out, with a warning."""
        choice = MediaChoice(media=())
        if media:
            choice.warnings.append(f"Echo posts text only: {len(media)} media file(s) left out")
        return choice

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """One create call; the text is journaled first, so ``reconcile`` can find the post."""
        api = ctx.api(classify)
        ctx.remember(text=post.text)
        response = await api.create(
            "POST",
            f"{API}/v1/channels/{self.channel}/posts",
            json={"text": post.text, "pinned": bool(post.options.get("pinned"))},
            headers=_auth(ctx),
        )
        data = json_body(response)
        if not isinstance(data, dict) or "id" not in data:
            raise UnknownOutcomeError(
                self.name, f"Echo answered without the post's id; check #{self.channel}"
            )
        return Published(remote_id=str(data["id"]), url=data.get("url"))

    async def reconcile(self, post: Post, sent: Sent, ctx: PublishContext) -> Published | None:
        """Look for the journaled text among the channel's newest posts (read-only)."""
        api = ctx.api(classify)
        response = await api.call(
            "GET",
            f"{API}/v1/channels/{self.channel}/posts",
            params={"limit": LOOKBACK},
            headers=_auth(ctx),
        )
        data = json_body(response)
        for item in data.get("posts", []) if isinstance(data, dict) else []:
            if item.get("text") == sent.handles.get("text"):
                return Published(remote_id=str(item["id"]), url=item.get("url"))
        if sent.age > ctx.settle:
            return None  # long enough: it is not there, and sending again cannot post twice
        raise UnknownOutcomeError(
            self.name, f"the post is not on #{self.channel} yet; run again in a few minutes"
        )

    @property
    def channel(self) -> str:
        """The channel from config (``Settings`` makes the settings an ``EchoSettings``)."""
        settings = self.settings
        return settings.channel if isinstance(settings, EchoSettings) else "main"


def _auth(ctx: PublishContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.credentials.get('token')}"}


def classify(response: httpx.Response) -> PlatformError:
    """Echo's error answers as crosspost's errors (the messages never hold the token)."""
    data: Any = json_body(response)
    said = data.get("error") if isinstance(data, dict) else None
    message = f"Echo answered {response.status_code}: {said or excerpt(response)}"
    status = response.status_code
    if status == 401:
        return AuthError("echo", f"{message}; set a valid CROSSPOST_ECHO_TOKEN", status=status)
    if status == 429:
        return RateLimitedError("echo", message, status=status, retry_after=retry_after(response))
    if status >= 500:
        return TransientError("echo", message, status=status)
    return InvalidContentError("echo", message, status=status)
