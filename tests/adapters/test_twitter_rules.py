"""X's 2026 rules and prices as crosspost applies them (issue #12): threads off by default,
the self-serve reply restriction, links on or off, the price warning for a post with a URL,
and the video limits as settings."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from crosspost.adapter import Fields, Part, Post
from crosspost.config import parse_config
from crosspost.errors import InvalidContentError
from crosspost.media import MediaFile
from crosspost.models import Overrides
from crosspost.planning import plan_file
from crosspost.publishing import run
from crosspost.state import open_store
from crosspost.units import Unit
from crosspost_adapters._twitter_api import ReplyRefusedError, classify
from crosspost_adapters.twitter import (
    MIN_VIDEO_SECONDS,
    VIDEO_BYTES,
    VIDEO_SECONDS,
    TwitterAdapter,
    TwitterOptions,
    TwitterSettings,
)
from tests.adapters.test_twitter import THREADS, TOKEN, call, publish, workdir_plan
from tests.fakes.twitter import REPLY_REFUSED, FakeTwitter, Tweet

FIELDS = Fields(title=None, body="", hashtags=(), link=None, media=(), options=TwitterOptions())
LINK = "https://kab-musirawas.kpu.go.id/jadwal"


def post_of(*texts: str) -> Post:
    """A hand-built X post with these parts."""
    return Post(
        platform="twitter",
        unit=Unit.WEIGHTED,
        parts=tuple(Part(text, len(text), 280) for text in texts),
    )


def finished(post: Post, **settings: object) -> Post:
    """``post`` after the adapter's ``finish`` with these ``[platforms.twitter]`` settings."""
    return TwitterAdapter(TwitterSettings.model_validate(settings)).finish(post, FIELDS)


# -- threads_allowed ---------------------------------------------------------------------


def test_threads_allowed_is_off_by_default() -> None:
    """Without a setting, X threads are not allowed (self-serve tiers refuse the replies)."""
    assert TwitterSettings().threads_allowed is False
    assert TwitterAdapter().settings.threads_allowed is False  # type: ignore[attr-defined]


def test_thread_true_without_threads_allowed_is_a_clear_problem(tmp_path: Path) -> None:
    """thread = true under the default: one problem that says why and names both ways out."""
    post = workdir_plan(tmp_path, twitter="thread = true", config="max_thread_parts = 12")
    assert len(post.parts) > 1
    (problem,) = [p for p in post.problems if "thread" in p]
    assert "threads_allowed = false, the default" in problem
    assert "February 2026" in problem
    assert "set thread = false under [platforms.twitter] of the announcement" in problem
    assert "threads_allowed = true under [platforms.twitter] in the config" in problem
    assert "\n" not in problem


def test_thread_true_with_threads_allowed_plans_a_thread(tmp_path: Path) -> None:
    """threads_allowed = true in the config: the same announcement is a thread, no problem."""
    post = workdir_plan(tmp_path, twitter="thread = true", config=THREADS)
    assert len(post.parts) > 1
    assert post.problems == ()


def test_text_that_fits_one_post_is_no_problem_with_thread_true() -> None:
    """A one-part post never meets the thread check, whatever threads_allowed says."""
    assert finished(post_of("Halo #TemanPemilih")).problems == ()


# -- the self-serve reply restriction ----------------------------------------------------


def test_fake_self_serve_refuses_an_unsummoned_reply_with_xs_403() -> None:
    """A reply to a post that neither @mentions nor quotes the account: X's 403 problem."""
    fake = FakeTwitter(self_serve=True)
    parent = call(fake, "POST", "/2/tweets", json={"text": "Bagian pertama 1/2"}).json()
    reply = {"text": "Bagian kedua 2/2", "reply": {"in_reply_to_tweet_id": parent["data"]["id"]}}
    refused = call(fake, "POST", "/2/tweets", json=reply)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json() == {
        "title": "Forbidden",
        "detail": REPLY_REFUSED,
        "type": "about:blank",
        "status": 403,
    }
    assert len(fake.tweets) == 1


def test_fake_self_serve_lets_a_summoned_reply_through() -> None:
    """The author @mentioned the account, or quoted one of its posts: the reply is allowed."""
    fake = FakeTwitter(self_serve=True, username="kpumura")
    own = Tweet("1990000000000000001", "Jadwal sosialisasi", [], None, fake.user_id)
    mentioned = Tweet("1990000000000000002", "Tanya @KPUMura: kapan?", [], None, "42")
    quoted = Tweet("1990000000000000003", "Lihat ini", [], None, "42", quote_of=own.id)
    other = Tweet("1990000000000000004", "Tanya @kpumura_lain", [], None, "42")
    fake.tweets += [own, mentioned, quoted, other]

    def reply(to: Tweet, text: str) -> int:
        body = {"text": text, "reply": {"in_reply_to_tweet_id": to.id}}
        return call(fake, "POST", "/2/tweets", json=body).status_code

    assert reply(mentioned, "Besok pagi.") == 201
    assert reply(quoted, "Terima kasih.") == 201
    assert reply(other, "Bukan kami.") == 403  # a different account's name
    assert reply(own, "Lanjutan.") == 403  # the account's own post, not summoned


def test_fake_enterprise_access_replies_anywhere() -> None:
    """By default (Enterprise access) the fake accepts any reply, as X does there."""
    fake = FakeTwitter()
    parent = call(fake, "POST", "/2/tweets", json={"text": "Satu"}).json()["data"]["id"]
    body = {"text": "Dua", "reply": {"in_reply_to_tweet_id": parent}}
    assert call(fake, "POST", "/2/tweets", json=body).status_code == 201


def test_classify_maps_the_reply_restriction() -> None:
    """X's 403 for an unsummoned reply is a reply refusal (permanent), not an auth problem."""
    answer = httpx.Response(
        403,
        json={"title": "Forbidden", "detail": REPLY_REFUSED, "type": "about:blank", "status": 403},
    )
    error = classify(answer)
    assert isinstance(error, ReplyRefusedError) and isinstance(error, InvalidContentError)
    assert "mentioned or otherwise engaged" in str(error)


def test_a_thread_cut_short_by_the_restriction_stays_unknown(tmp_path: Path) -> None:
    """Run through the runner: part 1 out, part 2 refused; the entry is unknown (a person
    decides), the message names threads_allowed, and the next run posts nothing."""
    media = '[[media]]\npath = "media/humas.jpg"\n'
    workdir_plan(tmp_path, media=media, twitter="thread = true", config=THREADS)
    plan = plan_file(tmp_path / "announcement.toml", only=["twitter"])
    fake = FakeTwitter(TOKEN, self_serve=True)
    environ = {"CROSSPOST_TWITTER_ACCESS_TOKEN": TOKEN}
    store = open_store(tmp_path / "state")
    try:
        (result,) = run(plan, environ=environ, store=store, transport=fake.transport())
        assert result.status == "unknown"
        assert "threads_allowed = false" in (result.message or "")
        assert "crosspost resolve" in (result.message or "")
        creates = len(fake.calls(r"POST /2/tweets$"))
        assert creates == 2 and len(fake.tweets) == 1
        (again,) = run(plan, environ=environ, store=store, transport=fake.transport())
        assert again.status == "unknown"
        assert len(fake.calls(r"POST /2/tweets$")) == creates
    finally:
        store.close()


# -- links -------------------------------------------------------------------------------


def test_allows_links_follows_the_links_setting() -> None:
    """The adapter's allows_links hook is ``links`` under [platforms.twitter] (default true)."""
    assert TwitterSettings().links is True
    assert TwitterAdapter().allows_links is True
    assert TwitterAdapter(TwitterSettings(links=True)).allows_links is True
    assert TwitterAdapter(TwitterSettings(links=False)).allows_links is False


def test_links_setting_is_read_from_the_config() -> None:
    """``links = false`` in config.toml reaches the adapter; a non-boolean is refused."""
    from crosspost import registry
    from crosspost.errors import ConfigError

    config = parse_config({"platforms": {"twitter": {"links": False}}}, None)
    assert registry.get_adapter("twitter", config.for_platform("twitter")).allows_links is False
    with pytest.raises(ConfigError, match="links"):
        parse_config({"platforms": {"twitter": {"links": "sometimes"}}}, None)


# -- the price of a post with a URL -------------------------------------------------------


def test_a_post_with_a_url_gets_the_price_warning() -> None:
    """A URL found by twitter-text: one warning with the rate and both ways to act."""
    post = finished(post_of(f"Jadwal lengkap di {LINK} #TemanPemilih"))
    (warning,) = post.warnings
    assert warning.startswith("the X post carries a link:")
    assert "about 13 times the plain rate" in warning
    assert "$0.20 against $0.015" in warning
    assert "set links = false under [platforms.twitter] in the config" in warning
    assert "link_cost_warning = false" in warning
    assert post.problems == ()


def test_a_bare_domain_counts_as_a_url() -> None:
    """twitter-text counts ``kpu.go.id`` without a scheme as a URL; X bills it as one."""
    assert finished(post_of("Info: kpu.go.id")).warnings


def test_no_url_no_warning() -> None:
    """Text without a URL (a hashtag, a mention, an e-mail-like word) gets no price warning."""
    assert finished(post_of("Halo #TemanPemilih dari @kpumura, sampai besok.")).warnings == ()


def test_link_cost_warning_false_silences_it() -> None:
    """``link_cost_warning = false``: the same post, no warning."""
    assert finished(post_of(f"Lihat {LINK}"), link_cost_warning=False).warnings == ()


def test_the_warning_names_the_thread_parts_with_a_url() -> None:
    """In a thread the warning says which part carries a URL, or how many do."""
    one = finished(post_of("Satu 1/3", f"Dua {LINK} 2/3", "Tiga 3/3"), threads_allowed=True)
    assert one.warnings[0].startswith("part 2 of the X thread carries a link")
    two = finished(post_of(f"Satu {LINK} 1/2", f"Dua {LINK} 2/2"), threads_allowed=True)
    assert two.warnings[0].startswith("2 parts of the X thread carry a link")


def test_a_url_left_with_links_false_says_where_it_is() -> None:
    """links = false, yet the text itself has a URL: the warning says to remove it there."""
    (warning,) = finished(post_of(f"Lihat {LINK}"), links=False).warnings
    assert "links = false is set, yet the text itself has a URL" in warning


def test_the_warning_keeps_earlier_warnings_and_problems() -> None:
    """finish adds to what render found; it never drops a warning or a problem."""
    post = Post(
        platform="twitter",
        unit=Unit.WEIGHTED,
        parts=(Part(f"Lihat {LINK}", 29, 280),),
        warnings=("left out 1 hashtag(s)",),
        problems=("something else",),
    )
    done = finished(post)
    assert done.warnings[0] == "left out 1 hashtag(s)" and len(done.warnings) == 2
    assert done.problems == ("something else",)


def test_the_example_post_shows_the_warning_in_its_plan(tmp_path: Path) -> None:
    """Through planning: an X post with the announcement's link carries the warning."""
    post = workdir_plan(tmp_path, twitter=f'body = "Jadwal di {LINK}"')
    assert any("X's pay-per-use plans bill a post with a URL" in w for w in post.warnings)
    quiet = workdir_plan(
        tmp_path, twitter=f'body = "Jadwal di {LINK}"', config="link_cost_warning = false"
    )
    assert not any("pay-per-use" in w for w in quiet.warnings)


# -- video limits as settings ------------------------------------------------------------


def video(seconds: float | None = 10.0, size: int = 1_000_000) -> MediaFile:
    """A local MP4 as the media module describes it (no file is read)."""
    return MediaFile(
        "clip.mp4", "video", "video/mp4", path=Path("clip.mp4"), size=size, duration=seconds
    )


def problems(media: MediaFile, **settings: object) -> list[str]:
    """``choose_media``'s problems for one video under these settings."""
    adapter = TwitterAdapter(TwitterSettings.model_validate(settings))
    fields = Fields(None, "", (), None, (media,), Overrides())
    return adapter.choose_media([media], fields).problems


def test_video_limits_default_to_xs_documented_ones() -> None:
    """140 seconds and 512 MB unless the config says otherwise."""
    settings = TwitterSettings()
    assert (settings.max_video_seconds, settings.max_video_bytes) == (140.0, 512_000_000)
    assert (VIDEO_SECONDS, VIDEO_BYTES, MIN_VIDEO_SECONDS) == (140.0, 512_000_000, 0.5)
    assert problems(video(140.0, 512_000_000)) == []


def test_a_longer_video_is_refused_by_default_and_names_the_setting() -> None:
    """150 seconds: a problem with the limit and ``max_video_seconds`` as the way out."""
    (problem,) = problems(video(150.0))
    assert "clip.mp4 is 150.0 seconds long" in problem
    assert "0.5 to 140 seconds" in problem
    assert "max_video_seconds under [platforms.twitter]" in problem


def test_max_video_seconds_lets_a_longer_video_through() -> None:
    """An account allowed 10 minutes (max_video_seconds = 600): 150 s is fine, 601 s is not."""
    assert problems(video(150.0), max_video_seconds=600) == []
    (problem,) = problems(video(601.0), max_video_seconds=600)
    assert "0.5 to 600 seconds" in problem


def test_a_lower_max_video_seconds_is_respected() -> None:
    """A setting below X's default tightens the check too."""
    assert problems(video(30.0), max_video_seconds=20)


def test_too_short_a_video_is_still_refused() -> None:
    """X's 0.5 s minimum is not a setting: 0.3 s is refused whatever the maximum."""
    (problem,) = problems(video(0.3), max_video_seconds=600)
    assert "0.3 seconds long" in problem


def test_max_video_bytes_sets_the_size_limit() -> None:
    """600 MB: refused by default (naming max_video_bytes), accepted under 1 GB."""
    (problem,) = problems(video(size=600_000_000))
    assert "clip.mp4: too large for X (at most 512 MB" in problem
    assert "max_video_bytes" in problem
    assert problems(video(size=600_000_000), max_video_bytes=1_000_000_000) == []
    (small,) = problems(video(size=2_000_000), max_video_bytes=1_000_000)
    assert "at most 1 MB" in small


def test_video_limit_settings_are_validated() -> None:
    """Nonsense limits are refused when the config is read."""
    for bad in (
        {"max_video_seconds": 0.5},
        {"max_video_seconds": -1},
        {"max_video_bytes": 0},
        {"max_video_bytes": 17_179_869_185},  # above X's total_bytes maximum
    ):
        with pytest.raises(ValidationError):
            TwitterSettings.model_validate(bad)


def test_video_limits_are_read_from_the_config() -> None:
    """``max_video_seconds`` in config.toml reaches choose_media."""
    from crosspost import registry

    media = video(300.0)
    fields = Fields(None, "", (), None, (media,), Overrides())
    default = registry.get_adapter("twitter", None)
    assert default.choose_media([media], fields).problems
    config = parse_config({"platforms": {"twitter": {"max_video_seconds": 600}}}, None)
    adapter = registry.get_adapter("twitter", config.for_platform("twitter"))
    assert adapter.choose_media([media], fields).problems == []


def test_processing_failure_names_the_configured_length(tmp_path: Path) -> None:
    """X failing to process a video: the hint gives the account's limits, not a constant."""
    from tests.adapters.test_twitter import CHUNK, video_post

    post, _ = video_post(tmp_path, size=200_000)
    fake = FakeTwitter(TOKEN, processing_error="Video duration too long")
    with pytest.raises(InvalidContentError, match=r"0\.5 to 600 seconds long"):
        publish(fake, post, chunk_size=CHUNK, max_video_seconds=600)
    assert fake.tweets == []
