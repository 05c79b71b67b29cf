"""Posts a person would have written (issue #8): a way to read more, the right hashtags,
clean cuts, titles and targets, handles on their own platform, and goldens."""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crosspost import hashtags, readmore
from crosspost.config import Configuration, parse_config
from crosspost.fitting import ELLIPSIS, Draft, Layout, ReadMore, appended_hashtags, fit, split
from crosspost.loader import load_announcement
from crosspost.models import Loaded
from crosspost.planning import Plan, build
from crosspost.units import weighted_length
from tests.conftest import EXAMPLE, ROOT
from tests.test_fitting import assert_clean_ending

GOLDEN = ROOT / "tests" / "golden"
RELEASE = GOLDEN / "press-release" / "announcement.toml"
EXAMPLE_CONFIG: dict[str, Any] = tomllib.loads((EXAMPLE / "crosspost.toml").read_text("utf-8"))
SITE = "https://kab-musirawas.kpu.go.id"


def _config(**changes: Any) -> Configuration:
    """The example's config with ``changes`` merged in (``platforms`` tables merged per key)."""
    data = copy.deepcopy(EXAMPLE_CONFIG)
    for key, value in changes.items():
        if key == "platforms":
            for name, table in value.items():
                data.setdefault("platforms", {}).setdefault(name, {}).update(table)
        else:
            data[key] = value
    return parse_config(data, EXAMPLE / "crosspost.toml")


def _plan(path: Path, config: Configuration, **fields: Any) -> Plan:
    """The plan of the announcement at ``path`` with ``fields`` replaced in it."""
    loaded = load_announcement(path, config)
    if fields:
        ann = loaded.announcement.model_copy(update=fields)
        resolved: dict[str, Any] = {"announcement": ann}
        if "media" in fields:  # only an empty list: resolving media is the loader's work
            assert fields["media"] == []
            resolved |= {"media": (), "platform_media": {}}
        if "platforms" in fields:
            from crosspost.loader import _overrides

            resolved["overrides"] = _overrides(ann, str(path), [])
        loaded = Loaded(**{**_fields(loaded), **resolved})
    return build(loaded, config)


def _fields(loaded: Loaded) -> dict[str, Any]:
    return {name: getattr(loaded, name) for name in loaded.__dataclass_fields__}


def _post(plan: Plan, platform: str) -> Any:
    return next(p for p in plan.posts if p.platform == platform)


def _x(
    config: Configuration | None = None, path: Path = EXAMPLE / "announcement.toml", **fields: Any
) -> Any:
    return _post(_plan(path, config or _config(), **fields), "twitter")


# -- read more ----------------------------------------------------------------------


def test_example_on_x_links_to_the_website() -> None:
    """The example's X post is not a dead end: "Selengkapnya:" and the website follow the cut."""
    x = _x()
    assert x.trimmed
    body, rest = x.text.split("\nSelengkapnya: ", 1)
    assert body.endswith(ELLIPSIS)
    assert rest.startswith(SITE + "\n")
    assert_clean_ending(body)


def test_the_announcements_link_comes_first() -> None:
    """With a link, the trimmed post's read-more link is the announcement's own."""
    link = "https://kab-musirawas.kpu.go.id/berita/humas-2023"
    x = _x(link=link)
    assert f"\nSelengkapnya: {link}\n" in x.text
    assert SITE + "\n" not in x.text


def test_read_more_order_config_then_website_then_the_bodys_url() -> None:
    """Without a link: the config's read_more, else the website, else the body's own URL."""
    assert (
        "Selengkapnya: https://kpu.example/more"
        in _x(_config(read_more="https://kpu.example/more")).text
    )
    assert f"Selengkapnya: {SITE}" in _x().text
    no_site = copy.deepcopy(EXAMPLE_CONFIG)
    no_site["find_us"]["links"] = [x for x in no_site["find_us"]["links"] if "url" not in x]
    config = parse_config(no_site, EXAMPLE / "crosspost.toml")
    release = _x(config, RELEASE)
    assert (
        "Selengkapnya: https://kab-musirawas.kpu.go.id/berita/penetapan-dpt-pilkada-2024"
        in release.text
    )


def test_read_more_words_follow_the_language_and_the_config() -> None:
    """ "Selengkapnya:" for Indonesian, "Read more:" for English, the config's words over both."""
    assert "\nRead more: " in _x(language="en").text
    assert "\nBaca: " in _x(_config(read_more_text="Baca:")).text
    assert f"\n{SITE}\n" in _x(language="fr").text  # no words known: the link alone


def test_a_short_post_keeps_the_website_line_of_find_us() -> None:
    """A post with room for the website line keeps it, instead of dropping the whole block."""
    x = _x(
        body="Rapat pleno penetapan DPT digelar hari ini di kantor KPU Kabupaten Musi Rawas. " * 2
    )
    assert not x.trimmed
    assert f"Find Us On: Website {SITE}" in x.text
    assert x.dropped == ("find_us:lines",)


def test_continue_on_shows_a_placeholder_weighing_a_url() -> None:
    """continue_on = "facebook": preview holds the Facebook post's place, weighed 23 on X, and
    keeps a fallback that links to the website."""
    config = _config(platforms={"twitter": {"continue_on": "facebook"}})
    x = _x(config)
    token = readmore.placeholder("facebook")
    assert f"\nSelengkapnya: {token}\n" in x.text
    assert x.continue_on == "facebook"
    assert (
        x.parts[0].length == weighted_length(x.text.replace(token, "https://facebook.com/1")) <= 280
    )
    assert f"Selengkapnya: {SITE}" in x.fallback[0].text
    assert x.to_json()["continue_on"] == "facebook"


def test_continue_on_cannot_chain_or_name_itself() -> None:
    """continue_on names another platform that publishes on its own."""
    from crosspost.errors import ConfigError

    with pytest.raises(ConfigError, match="names this platform itself"):
        _config(platforms={"twitter": {"continue_on": "x"}})
    with pytest.raises(ConfigError, match="itself waits for"):
        _config(
            platforms={
                "twitter": {"continue_on": "facebook"},
                "facebook": {"continue_on": "youtube"},
            }
        )


def test_links_false_leaves_every_url_out_of_x() -> None:
    """links = false: no read-more URL, no link, no website line; a URL in the text is a problem."""
    config = _config(platforms={"twitter": {"links": False}})
    x = _x(config, link="https://kab-musirawas.kpu.go.id/berita")
    assert "http" not in x.text and "kpu.go.id" not in x.text
    release = _x(config, RELEASE)
    assert any("links = false" in p for p in release.problems)


# -- hashtags -------------------------------------------------------------------------


def test_a_listed_tag_trimmed_away_inline_comes_back_at_the_end() -> None:
    """#KPUMelayani ends the body and is listed: trimmed away inline, it is restored."""
    x = _x(path=RELEASE)
    assert x.trimmed
    assert "#KPUMelayani" in x.text.rsplit(ELLIPSIS, 1)[1]


def test_caps_count_what_the_post_shows_and_keep_priority() -> None:
    """X's cap of 2 counts the inline tags of the kept body; the profile's tag outranks the
    announcement's, and what was left out is said."""
    config = _config(
        profile={"name": "KPU", "timezone": "Asia/Jakarta", "hashtags": ["KPUMusiRawas"]}
    )
    x = _x(config)
    assert "#TemanPemilih" in x.text  # inline, in the kept body
    assert "#KPUMusiRawas" in x.text
    assert "#KPUMelayani" not in x.text
    assert "hashtag:#KPUMelayani" in x.dropped and "hashtag:#PemiluSerentak2024" in x.dropped
    assert any("kept the highest-priority ones" in w for w in x.warnings)


def test_instagram_cap_applies_after_trimming() -> None:
    """A caption trimmed short loses its inline tags, which frees room for the listed ones."""
    body = "#Satu #Dua #Tiga " + "kata yang panjang sekali. " * 200
    config = _config(platforms={"instagram": {"max_length": 300}})
    post = _post(
        _plan(EXAMPLE / "announcement.toml", config, body=body, hashtags=["A1", "B2", "C3"]),
        "instagram",
    )
    tags = regex.findall(r"#\w+", post.text)
    assert len(tags) <= 5
    assert {"#A1", "#B2"} <= set(tags)


# -- clean cuts -------------------------------------------------------------------------


def test_a_cut_never_leaves_a_closing_emoji_or_a_dangling_quote() -> None:
    """Across limits, the press release's cuts end cleanly: no "🤝…", no "),”…", no "⏰…"."""
    draft = Draft(body=RELEASE_BODY)
    for limit in range(60, 1600, 7):
        result = fit(draft, Layout(), limit, len)
        assert result.fits
        assert_clean_ending(result.text)
        assert "🤝" + ELLIPSIS not in result.text
        assert ",”" + ELLIPSIS not in result.text and "⏰" + ELLIPSIS not in result.text


def test_a_finished_sentence_with_its_emoji_is_kept_whole() -> None:
    """A cut at a sentence's end keeps the emoji that close its line, and adds no "…"."""
    text = fit(Draft(body=RELEASE_BODY), Layout(), 260, len).text
    assert text.endswith("(20/11/2023). 🤝")


def test_a_quote_keeps_its_attribution_or_is_closed() -> None:
    """Cut near a quotation: either "…,” ujar …" goes whole, or the quotation is closed."""
    start = RELEASE_BODY.index("“Kami berkomitmen")
    body = RELEASE_BODY[start:]
    for limit in range(40, 200, 3):
        text = fit(Draft(body=body), Layout(), limit, len).text
        if "”" in text:
            assert "Ahmad Fauzi." in text or text.endswith(ELLIPSIS + "”"), text


def test_thread_parts_never_begin_with_what_closed_a_paragraph() -> None:
    """No part of a thread starts with an emoji that closed the previous part's paragraph."""
    parts = split(Draft(body=RELEASE_BODY), Layout(), 280, weighted_length, max_parts=20)
    assert len(parts) > 1
    for part in parts[1:]:
        assert regex.match(r"[\p{L}\p{N}“#⏰📍(]", part), part[:20]


def test_a_long_thread_is_a_problem_not_fourteen_posts() -> None:
    """max_thread_parts (6) turns a longer thread into a problem that says what to do."""
    config = _config(platforms={"twitter": {"threads_allowed": True}})
    loaded = load_announcement(RELEASE, config)
    body = loaded.announcement.body * 3
    x = _post(_plan(RELEASE, config, body=body, platforms={"twitter": {"thread": True}}), "twitter")
    assert any("more than 6 posts" in p and "max_thread_parts" in p for p in x.problems)


# -- titles and targets -------------------------------------------------------------------


def test_youtube_without_a_title_is_a_problem_that_says_add_title() -> None:
    """A targeted YouTube with a video but no title: "add title = …", no title from the body."""
    plan = _plan(EXAMPLE / "announcement.toml", _config(), title=None)
    youtube = _post(plan, "youtube")
    assert any('add title = "…"' in p for p in youtube.problems)


def test_without_targets_platforms_that_cannot_take_it_are_skipped() -> None:
    """No video, no targets: YouTube is skipped with the reason; no media at all: Instagram and
    TikTok too. Facebook and X still get their posts."""
    plan = _plan(EXAMPLE / "announcement.toml", _config(), media=[])
    assert [p.platform for p in plan.posts] == ["facebook", "twitter"]
    assert set(plan.skipped) == {"instagram", "tiktok", "youtube"}
    assert "video" in plan.skipped["youtube"]
    assert plan.problems == {}
    assert {"platform": "youtube", "reason": plan.skipped["youtube"]} in plan.to_json()["skipped"]


def test_explicit_targets_keep_an_impossible_platform_as_a_problem() -> None:
    """With targets = ["youtube"] and no video, the problem is reported as before."""
    config = _config()
    loaded = load_announcement(EXAMPLE / "announcement.toml", config)
    ann = loaded.announcement.model_copy(update={"media": []})
    loaded = Loaded(
        **{**_fields(loaded), "announcement": ann, "media": (), "targets": ("youtube",)}
    )
    plan = build(loaded, config)
    assert plan.skipped == {}
    assert plan.problems.get("youtube")


# -- handles ---------------------------------------------------------------------------------


def test_a_handle_is_a_mention_only_on_its_own_platform() -> None:
    """The one-line Find Us form on X never writes @kpumura (someone else's name on X)."""
    config = _config(platforms={"twitter": {"max_length": 600}})
    x = _x(config, body="Pengumuman singkat untuk #TemanPemilih.")
    assert "Find Us On:" in x.text
    assert "@kpumura" not in x.text
    data = copy.deepcopy(EXAMPLE_CONFIG)
    for link in data["find_us"]["links"]:
        if link.get("platform") == "instagram":
            del link["text"]
    config = parse_config(data, EXAMPLE / "crosspost.toml")
    plan = _plan(EXAMPLE / "announcement.toml", config)
    assert "Instagram: @kpumura" in _post(plan, "instagram").text
    assert "Instagram: kpumura" in _post(plan, "facebook").text


# -- goldens ------------------------------------------------------------------------------------

RELEASE_BODY = tomllib.loads(RELEASE.read_text("utf-8"))["body"].strip()

CASES: dict[str, tuple[Path, dict[str, Any], dict[str, Any]]] = {
    "example-x-link": (
        EXAMPLE / "announcement.toml",
        {},
        {"link": "https://kab-musirawas.kpu.go.id/berita/penguatan-kehumasan-2023"},
    ),
    "example-x-continue-on": (
        EXAMPLE / "announcement.toml",
        {"platforms": {"twitter": {"continue_on": "facebook"}}},
        {},
    ),
    "press-release": (RELEASE, {}, {}),
    "press-release-thread": (
        RELEASE,
        {"platforms": {"twitter": {"threads_allowed": True, "max_thread_parts": 12}}},
        {"platforms": {"twitter": {"thread": True}}},
    ),
}


def _dump(plan: Plan, only: str | None) -> str:
    out = []
    for post in plan.posts:
        if only and post.platform != only:
            continue
        out.append(f"===== {post.platform} ({post.unit.value}) =====")
        if post.title is not None:
            out.append(f"[title] {post.title.text}")
        for i, part in enumerate(post.parts, 1):
            out.append(f"----- part {i}/{len(post.parts)}: {part.length}/{part.limit} -----")
            out.append(part.text)
        if post.extra.get("first_comment"):
            out.append("----- first comment -----")
            out.append(post.extra["first_comment"])
        out.append(f"[dropped] {', '.join(post.dropped) or '-'}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    """The rendered posts of each case equal tests/golden/<case>.txt byte for byte
    (REGOLD=1 rewrites them; read the diff before committing)."""
    path, changes, fields = CASES[case]
    plan = _plan(path, _config(**changes), **fields)
    assert plan.problems == {}
    only = "twitter" if case.startswith("example-x") or case.endswith("thread") else None
    got = _dump(plan, only)
    golden = GOLDEN / f"{case}.txt"
    if os.environ.get("REGOLD"):
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text("utf-8")


# -- properties ------------------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "KPU",
        "Musi",
        "Rawas",
        "pemilu",
        "2024",
        "🤝",
        "⏰",
        "“Kami",
        "siap”,",
        "ujar",
        "Ketua.",
        "(2025–2030),",
        "Senin",
        "(20/11/2023).",
        "#TemanPemilih",
        "https://kpu.go.id/a",
        "dan",
        "👨‍👩‍👧",
    ]
)
SEPS = st.sampled_from([" ", " ", " ", "\n", ". ", ", "])


@st.composite
def texts(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 150))
    return "".join(draw(WORDS) + draw(SEPS) for _ in range(n)).strip() or "KPU"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=texts(),
    limit=st.integers(60, 400),
    tags=st.lists(st.sampled_from(["A1", "B2", "C3", "TemanPemilih"]), unique=True, max_size=4),
    cap=st.one_of(st.none(), st.integers(0, 3)),
)
def test_fitting_properties(body: str, limit: int, tags: list[str], cap: int | None) -> None:
    """A trimmed post carries its read-more URL, keeps the highest-priority hashtags, and ends
    its body cleanly."""
    more = ReadMore("https://kpu.example/full", "Selengkapnya:")
    draft = Draft(body=body, hashtags=tuple(tags), read_more=more, max_hashtags=cap)
    result = fit(draft, Layout(), limit, weighted_length)
    if not result.fits:
        return
    assert weighted_length(result.text) <= limit
    if result.trimmed and "hashtags" not in result.dropped:
        if "\nSelengkapnya: https://kpu.example/full" in result.text:
            assert_clean_ending(result.text.split("\nSelengkapnya: ", 1)[0])
        else:  # only when not even the first word fits beside it
            # The shortest stub a cut can keep: up to the first word with a letter or
            # digit (a leading emoji alone is never kept).
            stub = regex.match(r"\s*(?:\S*[^\p{L}\p{N}\s]\S*\s+)*?\S*[\p{L}\p{N}]\S*", body)
            first = stub[0].strip() if stub else body.split()[0]
            tail = [f"#{t}" for t in appended_hashtags(draft, first)]
            shortest = "\n".join([first + ELLIPSIS, more.line, *tail])
            assert weighted_length(shortest) > limit
    inline = {t.casefold() for t in hashtags.inline(body)}
    kept = [t for t in tags if t not in result.left_out and t.casefold() not in inline]
    if kept and result.left_out:
        assert max(tags.index(t) for t in kept) < min(tags.index(t) for t in result.left_out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=texts(), most=st.integers(1, 6))
def test_threads_respect_max_parts(body: str, most: int) -> None:
    """split never returns more than max_parts + 1 parts (the caller reports the overflow)."""
    parts = split(Draft(body=body * 3), Layout(), 100, weighted_length, max_parts=most)
    assert len(parts) <= most + 1


def test_fitting_work_grows_linearly_with_the_text() -> None:
    """Twice the text, about twice the characters measured: the cost per character is bounded
    (counted, not timed: the machines are shared)."""

    def work(size: int) -> int:
        seen = 0

        def measure(text: str) -> int:
            nonlocal seen
            seen += len(text)
            return weighted_length(text)

        body = (RELEASE_BODY + "\n") * (size // len(RELEASE_BODY) + 1)
        fit(Draft(body=body[:size], hashtags=("KPU",)), Layout(), 280, measure)
        return seen

    small, large = work(20_000), work(80_000)
    assert large < 4 * small * 1.3


# -- Instagram's first comment -----------------------------------------------------------------


def test_instagram_first_comment_takes_the_hashtags_and_the_link() -> None:
    """first_comment = "both": the caption keeps its words, the comment gets the read-more
    line and the listed hashtags; preview JSON shows the comment."""
    config = _config(platforms={"instagram": {"first_comment": "both", "max_length": 600}})
    post = _post(_plan(RELEASE, config), "instagram")
    comment = post.extra["first_comment"]
    assert comment.startswith(f"Selengkapnya: {SITE}\n")
    assert comment.endswith(
        "#KPUMelayani #PilkadaMusiRawas2024 #TemanPemilih #PemiluDamai #DPT2024"
    )
    assert "Selengkapnya:" not in post.text and "#PilkadaMusiRawas2024" not in post.text
    assert post.to_json()["first_comment"] == comment


def test_a_link_in_an_instagram_caption_is_said_to_be_plain_text() -> None:
    """Without first_comment, a caption whose read-more link is a URL gets a warning."""
    config = _config(platforms={"instagram": {"max_length": 600}})
    post = _post(_plan(RELEASE, config), "instagram")
    assert any("does not make links in captions clickable" in w for w in post.warnings)
    example = _post(_plan(EXAMPLE / "announcement.toml", _config()), "instagram")
    assert not any("clickable" in w for w in example.warnings)  # Find Us lines are for reading


def test_a_rerun_sends_what_the_earlier_attempt_chose() -> None:
    """After a lost answer, the continue_on post is rebuilt as the journal says it was sent:
    with the recorded URL, or as the fallback, whatever the other platform did since."""
    import asyncio

    from crosspost.api import Progress
    from crosspost.publishing import FALLBACK, _Others

    config = _config(platforms={"twitter": {"continue_on": "facebook"}})
    plan = _plan(EXAMPLE / "announcement.toml", config)
    x, adapter = _post(plan, "twitter"), plan.adapters["twitter"]
    others = _Others({}, {"facebook": "https://www.facebook.com/1_2"})
    url = "https://www.facebook.com/9_9"
    post, note, chosen = asyncio.run(others.continued(x, adapter, Progress(), url))
    assert f"Selengkapnya: {url}\n" in post.text and chosen == url and note is None
    post, note, chosen = asyncio.run(others.continued(x, adapter, Progress(), FALLBACK))
    assert post.parts == x.fallback and chosen == FALLBACK and note
    post, _, chosen = asyncio.run(others.continued(x, adapter, Progress()))
    assert chosen == "https://www.facebook.com/1_2" and chosen in post.text
