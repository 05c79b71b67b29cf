"""The example announcement, rendered: the Facebook post is the seed post, byte for byte."""

from __future__ import annotations

from pathlib import Path

from crosspost.planning import plan_file
from crosspost.units import Unit
from tests.conftest import EXAMPLE

SEED = Path(__file__).parent / "data" / "musi-rawas-post.txt"


def _plan():  # type: ignore[no-untyped-def]
    return plan_file(EXAMPLE / "announcement.toml")


def test_facebook_rendering_is_the_seed_post_byte_for_byte() -> None:
    """The Facebook post of examples/musi-rawas equals the humas team's real post exactly."""
    facebook = next(p for p in _plan().posts if p.platform == "facebook")
    assert facebook.text.encode("utf-8") == SEED.read_bytes()
    assert not facebook.trimmed
    assert facebook.dropped == ()


def test_example_has_five_fitted_posts_without_problems() -> None:
    """Every platform gets a post within its limit, and none has a problem."""
    plan = _plan()
    assert [p.platform for p in plan.posts] == [
        "facebook",
        "instagram",
        "tiktok",
        "youtube",
        "twitter",
    ]
    for post in plan.posts:
        assert post.problems == (), post.platform
        for part in post.parts:
            assert part.length <= part.limit


def test_x_post_is_trimmed_with_a_way_to_read_more() -> None:
    """X gets a post an officer would publish: the body trimmed at a word with '…', then the
    website to read the rest, the office's listed tag within X's two hashtags (the inline
    #TemanPemilih counts), and no Find Us block."""
    x = next(p for p in _plan().posts if p.platform == "twitter")
    assert x.unit is Unit.WEIGHTED
    assert x.trimmed
    assert x.dropped == ("find_us", "hashtag:#PemiluSerentak2024")
    assert x.text.startswith("#TemanPemilih, KPU Kabupaten Musi Rawas")
    assert x.text.endswith("…\nSelengkapnya: https://kab-musirawas.kpu.go.id\n#KPUMelayani")
    assert 260 <= x.parts[0].length <= 280


def test_youtube_has_title_tags_and_the_video() -> None:
    """YouTube gets the announcement's title, the tags from the override, and the video."""
    yt = next(p for p in _plan().posts if p.platform == "youtube")
    assert yt.title is not None
    assert yt.title.text == "Penguatan Peran Kehumasan dan Public Speaking"
    assert yt.extra["tags"] == ["KPU Musi Rawas", "Kehumasan", "Public Speaking", "Pemilu 2024"]
    assert [m.kind for m in yt.media] == ["video"]


def test_instagram_media_gets_its_public_url_from_media_base_url() -> None:
    """Instagram's image carries the public URL built from media_base_url and its path."""
    ig = next(p for p in _plan().posts if p.platform == "instagram")
    assert [m.url for m in ig.media] == [
        "https://kab-musirawas.kpu.go.id/crosspost/media/humas.jpg"
    ]


def test_rendering_is_deterministic() -> None:
    """Two renders of the same files are identical."""
    assert _plan().to_json() == _plan().to_json()


def test_x_refuses_only_twitter_texts_invalid_characters() -> None:
    """U+FFFE/FEFF/FFFF are problems on X; bidi marks (U+202A-E) are allowed, as upstream."""
    import dataclasses

    from crosspost import registry
    from crosspost.config import parse_config

    plan = _plan()
    config = parse_config({}, None)
    x = registry.get_adapter("twitter")
    for text, bad in (("Halo \ufeff semua", True), ("Halo \u202b semua", False)):
        ann = plan.loaded.announcement.model_copy(update={"body": text, "media": []})
        loaded = dataclasses.replace(plan.loaded, announcement=ann, media=())
        post = x.render(loaded, config)
        assert any("U+FEFF" in p for p in post.problems) is bad
