"""The fitter: boundaries, drop order, threads, and properties that hold for every adapter."""

from __future__ import annotations

import dataclasses

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crosspost import registry, twittertext
from crosspost.config import Configuration, FindUs, FindUsLink, parse_config
from crosspost.fitting import (
    ELLIPSIS,
    Boundary,
    Draft,
    Layout,
    best_cut,
    compose,
    cut_points,
    fit,
    fit_line,
    split,
)
from crosspost.loader import load_announcement
from crosspost.models import Announcement, Loaded
from crosspost.units import utf16_length
from tests.conftest import EXAMPLE

GRAPHEME = regex.compile(r"\X")
FIND_US = FindUs(
    rule="-----",
    heading="Find Us On:",
    links=[
        FindUsLink(platform="facebook", label="Facebook", text="KPU Musi Rawas"),
        FindUsLink(platform="twitter", label="Twitter", text="KPU Musi Rawas", handle="kpumura"),
        FindUsLink(label="Website", text="https://kpu.go.id"),
    ],
    closing="Alamat: Jl. Lintas Sumatera",
)


_EMOJI = r"[\p{Extended_Pictographic}\p{So}\p{Emoji_Modifier}\u200d\ufe0f\u20e3]"
_DANGLING_END = regex.compile(r"[\s,;:\-–—(\[{“‘«\"]" + "|" + _EMOJI)


def assert_clean_ending(text: str) -> None:
    """A trimmed text never ends in ",…", "(…", an opening quote, a lone emoji, or "…"
    after a sentence that was already finished."""
    core = text.rstrip('”)]}»"')
    if core.endswith(ELLIPSIS):
        before = core[: -len(ELLIPSIS)]
        assert before, text
        assert not _DANGLING_END.fullmatch(before[-1]), f"ends in {before[-2:]!r}…: {text!r}"
        assert not regex.search(r"[.!?]$", before), f"'…' after a finished sentence: {text!r}"
    elif regex.search(_EMOJI + "$", text):
        # Emoji may close a finished sentence's line, never stand alone.
        line = text.rsplit("\n", 1)[-1]
        assert regex.search(r"[.!?…][\"'”’)\]»]*[^\p{L}\p{N}]*$", line), f"lone emoji: {text!r}"


def graphemes(text: str) -> list[str]:
    """The extended grapheme clusters of ``text``."""
    return GRAPHEME.findall(text)


# -- unit behaviour ------------------------------------------------------------


def test_paragraph_cut_preferred_when_it_keeps_enough() -> None:
    """A paragraph boundary wins when it keeps most of what a word cut would keep; a
    finished sentence gets no "…"."""
    body = "Satu dua tiga empat lima enam.\nTujuh delapan sembilan sepuluh sebelas."
    result = fit(Draft(body=body), Layout(), 40, len)
    assert result.fits and result.trimmed
    assert result.text == "Satu dua tiga empat lima enam."


def test_sentence_then_word_cut() -> None:
    """Without a fitting paragraph end, a sentence end is used; without one, a word end."""
    body = "Kalimat pertama. Kalimat kedua yang panjang sekali."
    assert fit(Draft(body=body), Layout(), 30, len).text == "Kalimat pertama."
    assert fit(Draft(body="satu dua tiga empat lima"), Layout(), 15, len).text == "satu dua tiga…"


def test_short_coarse_cut_loses_to_finer_cut() -> None:
    """A first paragraph far shorter than the budget is not taken; the finer cut keeps more."""
    body = "Hai.\n" + "kata " * 40
    result = fit(Draft(body=body), Layout(), 100, len)
    assert len(result.text) > 80


def test_never_cuts_inside_url_mention_or_hashtag() -> None:
    """Cut points never fall inside a URL, an @mention or a #hashtag."""
    text = "Lihat https://kab-musirawas.kpu.go.id/berita?id=12 dan @kpumura #PemiluSerentak2024 ya"
    inside = set()
    for entity in twittertext.extract_entities(text):
        inside.update(range(entity.start + 1, entity.end))
    for points in cut_points(text).values():
        assert not inside & set(points)


def test_never_cuts_inside_grapheme_clusters() -> None:
    """Flags, ZWJ families, skin tones and combining marks are never split."""
    text = "🇮🇩👨‍👩‍👧‍👦👋🏽e\u0301" * 5
    boundaries = set()
    pos = 0
    for g in graphemes(text):
        pos += len(g)
        boundaries.add(pos)
    assert set(cut_points(text)[Boundary.GRAPHEME]) <= boundaries
    cut = best_cut(text, lambda p: len(p) <= 20)
    assert cut is not None and cut[0] in boundaries


def test_link_stays_when_body_is_trimmed() -> None:
    """The link is its own section: trimming the body keeps it whole."""
    draft = Draft(body="kata " * 100, link="https://kab-musirawas.kpu.go.id/pengumuman/2024")
    result = fit(draft, Layout(), 120, len)
    assert result.fits and result.trimmed
    assert result.text.endswith("\nhttps://kab-musirawas.kpu.go.id/pengumuman/2024")


def test_link_already_in_body_is_not_repeated() -> None:
    """A link the body already shows is not added again."""
    draft = Draft(body="Baca https://kpu.go.id sekarang", link="https://kpu.go.id")
    assert compose(draft, Layout()) == "Baca https://kpu.go.id sekarang"


def test_find_us_shrinks_in_order() -> None:
    """The Find Us block loses its own line, becomes one line, keeps fewer links (the
    website last), then goes."""
    draft = Draft(body="Pengumuman singkat.", find_us=FIND_US, platform="twitter")
    full = compose(draft, Layout())
    steps = []
    for limit in range(len(full), 10, -1):
        result = fit(draft, Layout(), limit, len)
        if result.dropped and result.dropped not in steps:
            steps.append(result.dropped)
    assert steps[:4] == [("find_us:own",), ("find_us:compact",), ("find_us:lines",), ("find_us",)]
    from crosspost.fitting import FindUsForm

    compact = fit(draft, Layout(), len(compose(draft, Layout(), FindUsForm.COMPACT)), len).text
    assert "Find Us On: Facebook KPU Musi Rawas · Website https://kpu.go.id" in compact
    assert "Twitter" not in compact


def test_hashtags_dropped_only_after_body_cannot_shrink() -> None:
    """Hashtags go last: only when even the shortest body does not fit with them."""
    draft = Draft(body="Satu dua tiga", hashtags=("PemiluSerentak2024",))
    result = fit(draft, Layout(), 22, len)
    assert result.fits and "#PemiluSerentak2024" not in result.text
    assert result.dropped == ("hashtags",)


def test_impossible_fit_is_reported_not_cut() -> None:
    """When nothing fits, the result says so instead of hard-cutting."""
    result = fit(Draft(body="https://kab-musirawas.kpu.go.id/a/very/long/path"), Layout(), 10, len)
    assert not result.fits


def test_title_fit_at_word_with_ellipsis() -> None:
    """Titles are shortened at a word boundary with '…'."""
    text, trimmed = fit_line("Penguatan Peran Kehumasan dan Public Speaking", 30, len)
    assert trimmed and text == "Penguatan Peran Kehumasan dan…"


def test_thread_parts_numbered_within_limit_and_in_order() -> None:
    """A thread splits the whole post into numbered parts, each within the limit, in order."""
    body = " ".join(f"kalimat{i}." for i in range(120))
    parts = split(Draft(body=body, hashtags=("KPU",)), Layout(), 280, twittertext.weighted_length)
    assert len(parts) > 1
    for i, part in enumerate(parts, 1):
        assert twittertext.weighted_length(part) <= 280
        assert part.endswith(f"\n{i}/{len(parts)}")
    joined = " ".join(p.rsplit("\n", 1)[0] for p in parts)
    assert joined.replace("\n", " ").split() == (body + " #KPU").split()


def test_hashtag_cap_counts_inline_on_instagram() -> None:
    """Instagram counts the body's own hashtags towards its cap of 5 and drops the surplus."""
    config = parse_config({}, None)
    loaded = _loaded(
        body="#Satu #Dua #Tiga teks",
        hashtags=["Empat", "Lima", "Enam"],
        media=[{"path": "media/humas.jpg", "url": "https://example.org/h.jpg"}],
    )
    post = registry.get_adapter("instagram").render(loaded, config)
    assert "#Empat\n#Lima" in post.text and "#Enam" not in post.text
    assert post.dropped == ("hashtag:#Enam",)


def test_inline_hashtags_not_repeated() -> None:
    """A hashtag already in the body (any case) is not added again at the end."""
    config = parse_config({}, None)
    loaded = _loaded(body="#TemanPemilih halo", hashtags=["temanpemilih", "#KPU", "kpu"])
    post = registry.get_adapter("facebook").render(loaded, config)
    assert post.text == "#TemanPemilih halo\n#KPU"


# -- properties for every adapter -------------------------------------------------

WORDS = st.sampled_from(
    [
        "KPU",
        "Kabupaten",
        "Musi",
        "Rawas",
        "pemilu",
        "serentak",
        "2024",
        "humas",
        "🇮🇩",
        "👨‍👩‍👧‍👦",
        "👋🏽",
        "e\u0301",
        "日本語",
        "https://kab-musirawas.kpu.go.id/berita",
        "kpu.go.id",
        "@kpumura",
        "#TemanPemilih",
        "“kutipan”",
        "(30/11/23)",
        "s.d",
        "Kabupaten/Kota",
        "gak",
        "🔥🔥",
        "café",
    ]
)
PUNCT = st.sampled_from([" ", " ", " ", ". ", ", ", "! ", "\n", "?\n", " .. "])


@st.composite
def bodies(draw: st.DrawFn) -> str:
    """Indonesian-looking text with emoji, URLs, mentions, hashtags and paragraphs."""
    n = draw(st.integers(1, 120))
    pieces = [draw(WORDS) + draw(PUNCT) for _ in range(n)]
    return "".join(pieces).strip() or "KPU"


def _loaded(
    body: str,
    hashtags: list[str] | None = None,
    media: list[dict[str, str]] | None = None,
    overrides: dict[str, dict[str, object]] | None = None,
) -> Loaded:
    """A loaded announcement in the example's folder (so its media files resolve)."""
    ann = Announcement.model_validate(
        {
            "body": body,
            "title": "Judul " + body[:150],
            "hashtags": hashtags or [],
            "media": media
            if media is not None
            else [
                {"path": "media/humas.jpg", "url": "https://example.org/humas.jpg"},
                {"path": "media/humas.mp4"},
            ],
            "platforms": overrides or {},
        }
    )
    base = load_announcement(EXAMPLE / "announcement.toml")
    from crosspost.loader import _media, _overrides

    problems: list[object] = []
    return dataclasses.replace(
        base,
        announcement=ann,
        media=_media(ann.media, EXAMPLE, "t", "media", problems),  # type: ignore[arg-type]
        overrides=_overrides(ann, "t", problems),  # type: ignore[arg-type]
        platform_media={},
    )


def _config(limit: int | None) -> Configuration:
    data: dict[str, object] = {
        "find_us": FIND_US.model_dump(exclude_none=True),
        "platforms": {
            name: ({"max_length": limit} if limit else {})
            | ({"max_hashtags": 30} if name == "instagram" else {})
            | ({"threads_allowed": True, "max_thread_parts": 50} if name == "twitter" else {})
            for name in registry.names()
        },
    }
    return parse_config(data, None)


def _entity_texts(text: str) -> set[tuple[str, str]]:
    return {(e.kind, e.text) for e in twittertext.extract_entities(text)}


@pytest.mark.parametrize("platform", registry.names())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=bodies(),
    tags=st.lists(
        st.sampled_from(["KPUMelayani", "Pemilu2024", "日本", "Indonesia_Maju"]), max_size=4
    ),
    limit=st.one_of(st.none(), st.integers(40, 400)),
    thread=st.booleans(),
)
def test_fitted_post_properties(
    platform: str, body: str, tags: list[str], limit: int | None, thread: bool
) -> None:
    """Every adapter: within the limit, clusters from the input, no entity cut, deterministic."""
    overrides = {"twitter": {"thread": thread}} if platform == "twitter" else None
    loaded = _loaded(body, tags, overrides=overrides)
    config = _config(limit)
    adapter = registry.get_adapter(platform, config.for_platform(platform))
    post = adapter.render(loaded, config)
    assert post == adapter.render(loaded, config)  # deterministic
    over = [p for p in post.parts if adapter.measure(p.text) > p.limit]
    assert not over or post.problems
    if post.problems:
        return
    for part in post.parts:
        assert part.length == adapter.measure(part.text) <= part.limit
    if post.title is not None:
        assert adapter.measure_title(post.title.text) <= post.title.limit
    source = (
        compose(
            Draft(body=body, hashtags=tuple(tags), find_us=FIND_US, platform=platform, link=None),
            Layout(hashtag_style="inline"),
        )
        + "\n"
        + compose(
            Draft(body=body, hashtags=tuple(tags), find_us=FIND_US, platform=platform), Layout()
        )
    )
    source += (
        "\n" + "Find Us On: Facebook KPU Musi Rawas · Twitter @kpumura · Website https://kpu.go.id"
    )
    allowed = set(graphemes(source)) | {ELLIPSIS}
    if len(post.parts) > 1:  # thread parts end with their number, "i/n"
        allowed |= {"/", *"0123456789"}
    for part in post.parts:
        assert set(graphemes(part.text)) <= allowed
        assert _entity_texts(part.text) <= _entity_texts(source)


@settings(max_examples=200, deadline=None)
@given(body=bodies(), limit=st.integers(5, 300))
def test_trim_output_is_a_prefix_plus_a_clean_ending(body: str, limit: int) -> None:
    """A trimmed body is a prefix of the original text (cut at a cluster boundary), ending in
    a finished sentence or in "…" plus the quotes and brackets it closes."""
    result = fit(Draft(body=body), Layout(), limit, utf16_length)
    if not result.fits:
        return
    assert utf16_length(result.text) <= limit
    if not result.trimmed:
        assert result.text == body.strip()
        return
    kept = result.text
    if ELLIPSIS in kept:
        kept = kept[: kept.rindex(ELLIPSIS)]
        assert set(result.text[len(kept) + 1 :]) <= set('”)]}»"')
    assert body.strip().startswith(kept)
    assert graphemes(body.strip())[: len(graphemes(kept))] == graphemes(kept)
    assert_clean_ending(result.text)


@pytest.mark.parametrize("platform", registry.builtin_names())
def test_every_adapter_trims_a_long_text_within_a_small_limit(platform: str) -> None:
    """With a small limit every adapter trims at a word, keeps clusters whole, reports it."""
    body = "Kegiatan KPU 🇮🇩 di Palembang, bersama humas kabupaten. " * 20
    config = _config(60)
    post = registry.get_adapter(platform, config.for_platform(platform)).render(
        _loaded(body, ["KPUMelayani"]), config
    )
    assert post.problems == ()
    assert post.trimmed
    assert all(part.length <= 60 for part in post.parts)
    kept = post.text.split("…")[0]
    assert body.startswith(kept)
