"""One contract, every adapter: what the plan says goes out, once, and every failure is named.

Runs each built-in adapter against its strict fake in-process (httpx.MockTransport),
with the example announcement's rendered post: the same object preview shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from crosspost import registry
from crosspost.adapter import Post, Published
from crosspost.api import PublishContext
from crosspost.credentials import Credentials
from crosspost.errors import (
    AuthError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.planning import plan_file
from tests.conftest import EXAMPLE
from tests.fakes.base import FakePlatform
from tests.fakes.world import World

PLATFORMS = registry.builtin_names()

#: The request that makes each platform's post public, for the example's media.
CREATE = {
    "facebook": r"POST /v[\d.]+/\d+/photos$",
    "instagram": r"POST /v[\d.]+/\d+/media_publish$",
    "tiktok": r"POST /v2/post/publish/(inbox/)?video/init/$",
    "youtube": r"PUT /upload/youtube/v3/videos$",
    "twitter": r"POST /2/tweets$",
}


def published(world: World, platform: str) -> list[Any]:
    """What the fake holds as published for ``platform``."""
    return {
        "facebook": world.facebook.posts,
        "instagram": world.instagram.posts,
        "tiktok": world.tiktok.posts,
        "youtube": world.youtube.videos,
        "twitter": world.twitter.tweets,
    }[platform]


def sent_text(world: World, platform: str) -> str:
    """The post text the fake received."""
    item = published(world, platform)[0]
    return {
        "facebook": lambda: item["message"],
        "instagram": lambda: item["caption"],
        "tiktok": lambda: item.post_info["title"],
        "youtube": lambda: item["snippet"]["description"],
        "twitter": lambda: item.text,
    }[platform]()


def setup(
    platform: str,
    tmp_path: Path,
    transport: Callable[[FakePlatform], httpx.AsyncBaseTransport] | None = None,
    environ: dict[str, str] | None = None,
) -> tuple[World, Post, Callable[[], Published]]:
    """The world, the planned post, and a function publishing it through the fake."""
    world = World()
    fake = world.fakes[platform]
    origin = "http://testserver"
    world.origins = dict.fromkeys([*world.fakes, "media"], origin)
    config = world.config(tmp_path / "config.toml")
    plan = plan_file(EXAMPLE / "announcement.toml", config_path=config, only=[platform])
    post = plan.posts[0]
    adapter = plan.adapters[platform]
    # Instagram fetches the image from the organisation's server: serve it in-process.
    world.instagram.media[f"{origin}/crosspost/media/humas.jpg"] = (
        EXAMPLE / "media" / "humas.jpg"
    ).read_bytes()

    def run() -> Published:
        async def go() -> Published:
            chosen = transport(fake) if transport else fake.transport()
            async with httpx.AsyncClient(transport=chosen) as client:
                ctx = PublishContext(
                    client=client,
                    platform=platform,
                    settings=adapter.settings,
                    credentials=Credentials(platform, environ=environ or world.environ()),
                    poll_interval=0,
                )
                return await adapter.publish(post, ctx)

        return asyncio.run(go())

    return world, post, run


@pytest.mark.parametrize("platform", PLATFORMS)
def test_happy_path_sends_exactly_the_plan(platform: str, tmp_path: Path) -> None:
    """The fake receives the previewed text (and title, tags) once; a URL comes back."""
    world, post, run = setup(platform, tmp_path)
    result = run()
    assert result.remote_id
    assert result.url is None or result.url.startswith("https://")
    assert len(published(world, platform)) == 1
    if platform == "tiktok" and post.options.get("mode") == "inbox":
        # The inbox upload carries no caption: the officer finishes the post in the app.
        assert world.tiktok.posts[0].post_info == {} and result.visibility
    else:
        assert sent_text(world, platform) == post.text
    if platform == "youtube":
        video = world.youtube.videos[0]
        assert post.title is not None
        assert video["snippet"]["title"] == post.title.text
        assert video["snippet"]["tags"] == post.extra["tags"]
        assert video["status"]["privacyStatus"] == post.options["privacy_status"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_rejected_credentials_are_an_auth_error(platform: str, tmp_path: Path) -> None:
    """A token the platform refuses is AuthError, and nothing is published."""
    world = World()
    env = {key: "wrong-" + value for key, value in world.environ().items()}
    world, _, run = setup(platform, tmp_path, environ=env)
    with pytest.raises(AuthError):
        run()
    assert published(world, platform) == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_ambiguous_create_never_posts_twice(platform: str, tmp_path: Path) -> None:
    """The create's answer is lost after it landed: reconciled or 'unknown', never re-posted."""
    world, _, run = setup(platform, tmp_path)
    world.fakes[platform].fail(CREATE[platform], drop=True, after=True, times=100)
    try:
        run()
    except UnknownOutcomeError:
        assert len(published(world, platform)) <= 1
    else:
        assert len(published(world, platform)) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_error_on_create_is_never_repeated_blindly(platform: str, tmp_path: Path) -> None:
    """A 500 to the create call is 'unknown' (or reconciled), and at most one post exists."""
    world, _, run = setup(platform, tmp_path)
    world.fakes[platform].fail(CREATE[platform], 500, json={}, times=100)
    with pytest.raises(PlatformError) as info:
        run()
    assert isinstance(info.value, UnknownOutcomeError | TransientError)
    assert len(published(world, platform)) <= 1


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
    ids=["connect", "timeout", "protocol"],
)
def test_no_raw_httpx_exception_escapes(platform: str, error: Exception, tmp_path: Path) -> None:
    """Whatever the network does, the adapter raises a PlatformError, never an httpx error."""

    def broken(fake: FakePlatform) -> httpx.AsyncBaseTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            raise error

        return httpx.MockTransport(handler)

    _, _, run = setup(platform, tmp_path, transport=broken)
    with pytest.raises(PlatformError) as info:
        run()
    if isinstance(error, httpx.ConnectError):
        assert isinstance(info.value, TransientError)  # nothing can have been sent


@pytest.mark.parametrize("platform", PLATFORMS)
def test_long_rate_limit_is_reported_with_its_wait(platform: str, tmp_path: Path) -> None:
    """A 429 asking for a long wait fails as RateLimitedError carrying the wait."""
    world, _, run = setup(platform, tmp_path)
    world.fakes[platform].fail(r".", 429, headers={"retry-after": "3600"}, json={}, times=100)
    with pytest.raises(RateLimitedError) as info:
        run()
    assert info.value.retry_after is not None and info.value.retry_after >= 3000
