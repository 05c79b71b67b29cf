"""Instagram's rules at validate/render time, and its status polls' pace."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from pydantic import ValidationError

from crosspost.adapter import Fields, MediaChoice, Part, Post
from crosspost.media import MediaFile
from crosspost.models import Overrides
from crosspost.planning import plan_file
from crosspost.units import Unit
from crosspost_adapters.instagram import InstagramAdapter, InstagramSettings
from tests.adapters.support import run
from tests.adapters.test_instagram import JPEG, MP4, context, hosted, post_with
from tests.conftest import EXAMPLE
from tests.fakes.instagram import FakeInstagram

BASE = "https://kab-musirawas.kpu.go.id/crosspost"


def image(name: str = "media/humas.jpg", url: str | None = None) -> MediaFile:
    """A local JPEG of an accepted shape."""
    return MediaFile(
        name,
        "image",
        "image/jpeg",
        path=Path("/announcements") / name,
        url=url,
        size=len(JPEG),
        width=1080,
        height=1080,
    )


def video(name: str = "media/humas.mp4") -> MediaFile:
    """A local MP4 of an accepted length."""
    return MediaFile(
        name,
        "video",
        "video/mp4",
        path=Path("/announcements") / name,
        size=len(MP4),
        duration=12.0,
    )


def choose(*media: MediaFile, **settings: Any) -> MediaChoice:
    """What InstagramAdapter.choose_media makes of ``media`` with these settings."""
    adapter = InstagramAdapter(InstagramSettings(**settings))
    fields = Fields(None, "Halo", (), None, tuple(media), Overrides())
    return adapter.choose_media(media, fields)


# -- media: URLs for images, uploads for videos ----------------------------------


def test_an_image_without_a_url_is_a_problem_that_says_how_to_give_one() -> None:
    """No url and no media_base_url: images need a public address, and the fix is named."""
    choice = choose(image())
    [problem] = choice.problems
    assert problem.startswith("media/humas.jpg: Instagram takes images only from a public")
    assert "no upload" in problem
    assert 'media_base_url = "https://' in problem and 'url = "https://' in problem


def test_a_video_without_a_url_is_uploaded_from_the_file() -> None:
    """A Reel needs no URL with Facebook Login: no problem, the file itself is posted."""
    choice = choose(video())
    assert choice.problems == []
    [chosen] = choice.media
    assert chosen.url is None and chosen.path is not None


def test_a_video_without_a_url_under_instagram_login_is_a_problem() -> None:
    """Meta's upload is for Facebook Login apps only: with login = "instagram" it says so."""
    [problem] = choose(video(), login="instagram").problems
    assert "Facebook Login" in problem and 'url = "https://' in problem


def test_media_base_url_gives_percent_encoded_urls() -> None:
    """Spaces and non-ASCII letters in a file's path are percent-encoded in its URL."""
    choice = choose(image("media/foto rapat ñ.jpg"), media_base_url=BASE)
    assert choice.problems == []
    [chosen] = choice.media
    assert chosen.url == f"{BASE}/media/foto%20rapat%20%C3%B1.jpg"


def test_an_image_outside_the_announcements_folder_is_a_problem() -> None:
    """../logo.jpg has no address under media_base_url: a problem, never another file's URL."""
    choice = choose(image("../logo.jpg"), media_base_url=BASE)
    [problem] = choice.problems
    assert problem.startswith("../logo.jpg: this path leaves the announcement's folder")
    [chosen] = choice.media
    assert chosen.url is None


def test_a_media_entrys_own_url_is_kept() -> None:
    """A [[media]] url wins over media_base_url."""
    own = "https://cdn.example.org/a.jpg"
    [chosen] = choose(image(url=own), media_base_url=BASE).media
    assert chosen.url == own


def test_unsuitable_without_an_image_or_a_video() -> None:
    """Nothing to show: Instagram is skipped with the reason; with media it is suitable."""
    adapter = InstagramAdapter()
    assert adapter.unsuitable(()) == "no image or video: Instagram posts need one"
    assert adapter.unsuitable((video(),)) is None
    assert adapter.unsuitable((image(),)) is None


# -- the 20 @-mention cap -------------------------------------------------------


def caption(text: str) -> Post:
    return Post("instagram", Unit.CHARS, (Part(text, len(text), 2_200),))


def finish(text: str) -> Post:
    adapter = InstagramAdapter()
    fields = Fields(None, text, (), None, (), Overrides())
    return adapter.finish(caption(text), fields)


def test_twenty_mentions_pass() -> None:
    """Exactly 20 @-mentions is Instagram's limit, not over it."""
    text = " ".join(f"@akun{n}" for n in range(20))
    assert finish(text).problems == ()


def test_twenty_one_mentions_are_a_problem_naming_the_count() -> None:
    """21 @-mentions: a problem with the count, the limit and how many to remove."""
    text = "Terima kasih " + " ".join(f"@akun_{n}" for n in range(21))
    [problem] = finish(text).problems
    assert problem == ("the caption has 21 @-mentions; Instagram allows 20 per post: remove 1")


def test_email_addresses_are_not_mentions() -> None:
    """humas@kpu.go.id is an address, not a mention: 20 mentions plus an e-mail pass."""
    text = " ".join(f"@akun{n}" for n in range(20)) + " Surel: humas@kpu.go.id"
    assert finish(text).problems == ()


# -- status polls back off to poll_max ------------------------------------------


def test_status_polls_back_off_from_the_poll_interval_to_poll_max(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Waits start at the poll interval, grow by half each time and stop at poll_max."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("asyncio.sleep", sleep)  # the flow's waits, recorded
    fake = FakeInstagram(polls_until_finished=6)
    post = post_with(hosted(fake, "clip.mp4", MP4, "video"))

    async def go() -> None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, poll_max=3.0)
            ctx.poll_interval = 1.0
            await InstagramAdapter(ctx.settings).publish(post, ctx)

    run(go())
    assert waits == [1.0, 1.5, 2.25, 3.0, 3.0, 3.0]
    assert len(fake.posts) == 1


def test_poll_max_defaults_to_about_once_a_minute() -> None:
    """Meta suggests asking a container's status about once a minute: 60 s by default."""
    assert InstagramSettings().poll_max == 60.0
    with pytest.raises(ValidationError, match="poll_max"):
        InstagramSettings(poll_max=0)


@pytest.mark.parametrize(
    ("setting", "moves"),
    [
        (None, frozenset()),
        ("hashtags", frozenset({"hashtags"})),
        ("link", frozenset({"link"})),
        ("both", frozenset({"hashtags", "link"})),
    ],
)
def test_first_comment_setting_says_what_the_render_moves(
    setting: str | None, moves: frozenset[str]
) -> None:
    """first_comment in [platforms.instagram] is what leaves the caption for the comment."""
    adapter = InstagramAdapter(InstagramSettings(first_comment=setting))
    assert adapter.first_comment_moves() == moves


def test_the_example_with_first_comment_moves_its_hashtags_into_the_comment(
    tmp_path: Path,
) -> None:
    """Rendered from the example: the listed hashtags are the comment, not in the caption."""
    data = tomllib.loads((EXAMPLE / "crosspost.toml").read_text("utf-8"))
    data["platforms"]["instagram"]["first_comment"] = "hashtags"
    config = tmp_path / "crosspost.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    plan = plan_file(EXAMPLE / "announcement.toml", config_path=config, only=["instagram"])
    [post] = plan.posts
    comment = post.extra["first_comment"]
    assert "#KPUMelayani" in comment and "#PemiluSerentak2024" in comment
    assert "#KPUMelayani" not in post.text and "#PemiluSerentak2024" not in post.text
