"""Nine platforms from one announcement, over loopback: the example, published by the real
CLI to the five default platforms and the four opt-in ones (issue #9's proof that the
adapter kit carries new platforms end to end)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import tomli_w

from tests.conftest import EXAMPLE
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.threads import FakeThreads
from tests.fakes.world import World
from tests.test_e2e import crosspost

ANNOUNCEMENT = EXAMPLE / "announcement.toml"
HOSTED = "https://kab-musirawas.kpu.go.id/crosspost"


@pytest.fixture
def world() -> Iterator[World]:
    """The five default fakes on loopback."""
    w = World()
    with w.serving():
        yield w


def test_the_example_reaches_nine_platforms(world: World, tmp_path: Path) -> None:
    """With the four opt-in platforms configured, one publish posts the example nine times,
    once each; every result is published, and a rerun sends nothing."""
    threads, bluesky, mastodon, telegram = (
        FakeThreads(),
        FakeBluesky(),
        FakeMastodon(),
        FakeTelegram(),
    )
    for name in ("humas.jpg", "humas.mp4"):  # Threads fetches them from the office's server
        threads.media[f"{HOSTED}/media/{name}"] = (EXAMPLE / "media" / name).read_bytes()
    with ExitStack() as stack:
        origin = {
            name: stack.enter_context(serve(fake))
            for name, fake in (
                ("threads", threads),
                ("bluesky", bluesky),
                ("mastodon", mastodon),
                ("telegram", telegram),
            )
        }
        path = world.config(tmp_path / "crosspost.toml")
        data = tomllib.loads(path.read_text("utf-8"))
        data["platforms"] |= {
            "threads": {
                "api_base": origin["threads"],
                "threads_user_id": threads.user_id,
                "media_base_url": HOSTED,
            },
            "bluesky": {"api_base": origin["bluesky"], "handle": bluesky.handle},
            "mastodon": {"api_base": origin["mastodon"], "instance": "https://mastodon.example"},
            "telegram": {"api_base": origin["telegram"], "chat_id": "@kpumura"},
        }
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
        env = world.environ() | {
            "CROSSPOST_THREADS_ACCESS_TOKEN": threads.access_token,
            "CROSSPOST_BLUESKY_APP_PASSWORD": bluesky.app_password,
            "CROSSPOST_MASTODON_ACCESS_TOKEN": mastodon.token,
            "CROSSPOST_TELEGRAM_BOT_TOKEN": telegram.token,
        }
        args = ("publish", "--now", "--json", str(ANNOUNCEMENT))
        result = crosspost(world, tmp_path, *args, env=env, config=path)
        assert result.returncode == 0, result.stdout + result.stderr
        results = json.loads(result.stdout)["results"]
        assert [r["platform"] for r in results] == [
            "facebook",
            "instagram",
            "tiktok",
            "youtube",
            "twitter",
            "threads",
            "bluesky",
            "mastodon",
            "telegram",
        ]
        assert {r["status"] for r in results} == {"published"}
        assert len(threads.posts) == len(bluesky.records) == len(telegram.posts) == 1
        assert len(mastodon.statuses) == 1
        again = crosspost(world, tmp_path, *args, env=env, config=path)
        assert again.returncode == 0, again.stdout + again.stderr
        assert all(r.get("earlier") for r in json.loads(again.stdout)["results"])
        assert len(threads.posts) == len(bluesky.records) == len(telegram.posts) == 1
        for secret in env.values():
            assert secret not in result.stdout + result.stderr
