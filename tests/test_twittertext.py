"""crosspost.twittertext against twitter-text's own conformance data.

The YAML files in tests/conformance/twitter-text are unmodified upstream copies; they are
read when the tests run, one test id per upstream case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import regex
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crosspost import twittertext as tt

_DATA = Path(__file__).parent / "conformance" / "twitter-text"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _groups(name: str) -> dict[str, list[dict[str, Any]]]:
    """The ``tests`` mapping of one conformance file: group name -> cases."""
    with (_DATA / name).open(encoding="utf-8") as f:
        tests: dict[str, list[dict[str, Any]]] = yaml.load(f, Loader=_LOADER)["tests"]
    return tests


_VALIDATE = _groups("validate.yml")
_EXTRACT = _groups("extract.yml")
_TLDS = _groups("tlds.yml")


def _cases(groups: dict[str, list[dict[str, Any]]], names: list[str], *extra: Any) -> list[Any]:
    """pytest params ``(*extra, text, expected)`` for every case of ``names``, one id each."""
    params = []
    for name in names:
        for i, case in enumerate(groups[name]):
            slug = regex.sub(r"[^A-Za-z0-9]+", "_", case["description"]).strip("_")[:50]
            params.append(
                pytest.param(*extra, case["text"], case["expected"], id=f"{name}-{i:02d}-{slug}")
            )
    return params


# Upstream runs each weighted group with its own config: v2 has no emoji grouping, so
# "H🐱☺👨‍👩‍👧‍👦" is 16 there but 7 under v3 (see test_v2_expectations_differ_under_v3).
_WEIGHTED = [
    *_cases(_VALIDATE, ["WeightedTweetsCounterTest"], tt.V2),
    *_cases(_VALIDATE, ["WeightedTweetsWithDiscountedEmojiCounterTest"], tt.V3),
    *_cases(_VALIDATE, ["UnicodeDirectionalMarkerCounterTest"], tt.V3),
]


@pytest.mark.parametrize(("config", "text", "expected"), _WEIGHTED)
def test_weighted_length(config: tt.TextConfig, text: str, expected: dict[str, Any]) -> None:
    """weighted_length and is_valid_tweet agree with parseTweet's weightedLength and valid."""
    assert tt.weighted_length(text, config=config) == expected["weightedLength"]
    if "valid" in expected:
        assert tt.is_valid_tweet(text, config=config) is expected["valid"]


@pytest.mark.parametrize(
    ("text", "v2", "v3"),
    [
        pytest.param("H🐱☺👨‍👩‍👧‍👦", 16, 7, id="family-zwj"),
        pytest.param("🙋🏽👨‍🎤", 9, 4, id="skin-tone-and-zwj"),
    ],
)
def test_v2_expectations_differ_under_v3(text: str, v2: int, v3: int) -> None:
    """The two v2 emoji cases count each code point under V2 but one unit per emoji under V3."""
    assert tt.weighted_length(text, config=tt.V2) == v2
    assert tt.weighted_length(text) == v3


def test_weighted_length_is_nfc_and_empty_safe() -> None:
    """Decomposed text counts as its NFC form, and the empty text weighs 0 and is invalid."""
    assert tt.weighted_length("A\u0301B") == tt.weighted_length("ÁB") == 2
    assert tt.weighted_length("") == 0
    assert not tt.is_valid_tweet("")


@pytest.mark.parametrize(("text", "expected"), _cases(_VALIDATE, ["hashtags"]))
def test_is_valid_hashtag(text: str, expected: bool) -> None:
    """is_valid_hashtag (given the tag without '#') agrees with validate.yml's hashtags."""
    assert text.startswith("#")
    assert tt.is_valid_hashtag(text[1:]) is expected


@pytest.mark.parametrize(
    ("text", "expected"), _cases(_EXTRACT, ["hashtags", "hashtags_from_astral"])
)
def test_extract_hashtags(text: str, expected: list[str]) -> None:
    """extract_hashtags finds the hashtags extract.yml lists, in order."""
    assert [e.text for e in tt.extract_hashtags(text)] == expected


@pytest.mark.parametrize(("text", "expected"), _cases(_EXTRACT, ["hashtags_with_indices"]))
def test_extract_hashtags_with_indices(text: str, expected: list[dict[str, Any]]) -> None:
    """extract_hashtags gives extract.yml's hashtag indices ('#' included, end exclusive)."""
    got = [(e.text, [e.start, e.end]) for e in tt.extract_hashtags(text)]
    assert got == [(x["hashtag"], x["indices"]) for x in expected]


@pytest.mark.parametrize(("text", "expected"), _cases(_EXTRACT, ["urls", "tco_urls_with_params"]))
def test_extract_urls(text: str, expected: list[str]) -> None:
    """extract_urls finds the URLs extract.yml lists, with and without a protocol."""
    assert [e.text for e in tt.extract_urls(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    _cases(_EXTRACT, ["urls_with_indices", "urls_with_directional_markers"]),
)
def test_extract_urls_with_indices(text: str, expected: list[dict[str, Any]]) -> None:
    """extract_urls gives extract.yml's URL indices."""
    got = [(e.text, [e.start, e.end]) for e in tt.extract_urls(text)]
    assert got == [(x["url"], x["indices"]) for x in expected]


@pytest.mark.parametrize(("text", "expected"), _cases(_TLDS, ["generic", "country"]))
def test_extract_url_for_every_tld(text: str, expected: list[str]) -> None:
    """Every generic and country TLD in tlds.yml makes https://twitter.<tld> a URL."""
    assert [e.text for e in tt.extract_urls(text)] == expected


def _screen_names(text: str) -> list[tt.Entity]:
    """Mentions that are not list mentions, as upstream's extractMentionsWithIndices."""
    return [e for e in tt.extract_mentions(text) if "/" not in e.text]


@pytest.mark.parametrize(("text", "expected"), _cases(_EXTRACT, ["mentions"]))
def test_extract_mentions(text: str, expected: list[str]) -> None:
    """extract_mentions finds the screen names extract.yml lists."""
    assert [e.text for e in _screen_names(text)] == expected


@pytest.mark.parametrize(("text", "expected"), _cases(_EXTRACT, ["mentions_with_indices"]))
def test_extract_mentions_with_indices(text: str, expected: list[dict[str, Any]]) -> None:
    """extract_mentions gives extract.yml's mention indices ('@' included)."""
    got = [(e.text, [e.start, e.end]) for e in _screen_names(text)]
    assert got == [(x["screen_name"], x["indices"]) for x in expected]


@pytest.mark.parametrize(("text", "expected"), _cases(_EXTRACT, ["mentions_or_lists_with_indices"]))
def test_extract_mentions_or_lists(text: str, expected: list[dict[str, Any]]) -> None:
    """extract_mentions reports list mentions as 'user/slug' spanning the slug."""
    got = []
    for e in tt.extract_mentions(text):
        name, slash, slug = e.text.partition("/")
        got.append((name, slash + slug, [e.start, e.end]))
    assert got == [(x["screen_name"], x["list_slug"], x["indices"]) for x in expected]


@pytest.mark.parametrize(("text", "expected"), _cases(_EXTRACT, ["cashtags"]))
def test_extract_cashtags(text: str, expected: list[str]) -> None:
    """extract_cashtags finds the cashtags extract.yml lists."""
    assert [e.text for e in tt.extract_cashtags(text)] == expected


@pytest.mark.parametrize(("text", "expected"), _cases(_EXTRACT, ["cashtags_with_indices"]))
def test_extract_cashtags_with_indices(text: str, expected: list[dict[str, Any]]) -> None:
    """extract_cashtags gives extract.yml's cashtag indices ('$' included)."""
    got = [(e.text, [e.start, e.end]) for e in tt.extract_cashtags(text)]
    assert got == [(x["cashtag"], x["indices"]) for x in expected]


def test_indices_are_code_points() -> None:
    """Entity indices count code points of the given str, so an astral emoji counts 1."""
    text = "😀 #tag @user $TWTR x.com/a"
    kinds = {e.kind: (e.start, e.end) for e in tt.extract_entities(text)}
    assert kinds == {
        "hashtag": (2, 6),
        "mention": (7, 12),
        "cashtag": (13, 18),
        "url": (19, 26),
    }
    assert all(text[s:e].lstrip("#@$") for s, e in kinds.values())


def test_extract_entities_urls_win_overlaps() -> None:
    """extract_entities sorts by start and drops a hashtag or mention inside a URL."""
    text = "see http://example.com/#tag and https://example.com/@user/ #real"
    got = [(e.kind, e.text) for e in tt.extract_entities(text)]
    assert got == [
        ("url", "http://example.com/#tag"),
        ("url", "https://example.com/@user/"),
        ("hashtag", "real"),
    ]


_URL_BITS = ["http://", "HTTPS://", ".", ".", "com", "co.jp", "t.co/", "/", "_", "-", "@", "#"]
_URL_BITS += ["$", " ", "\n", "。", "例", "a", "1", "xn--", ".みんな", "é", ":", "?", "(", ")"]
_URL_BITS += ["\u202a", "\u2066"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_URL_BITS), max_size=30).map("".join))
def test_url_scan_equals_plain_finditer(text: str) -> None:
    """The URL scanner's shortcuts find exactly the matches of a plain finditer of the regex."""
    rx = tt._url_regexes()
    expected = [(m.span(), m.groups()) for m in rx.url.finditer(text)]
    assert [(m.span(), m.groups()) for m in tt._url_matches(text, rx)] == expected


def test_not_label_set_equals_the_domain_character_class() -> None:
    """The precomputed non-label characters are exactly those validDomainChars.js excludes."""
    import re

    s, i, d = tt._SPACES, tt._INVALID_CHARS, tt._DIRECTIONAL
    label = re.compile(rf"[^!'#%&()*+,\\./:;<=>?@\[\]\^{{|}}~$" f"{s}{i}{d}]")
    reference = frozenset(c for c in map(chr, range(0x10000)) if not label.match(c))
    assert reference == tt._NOT_LABEL


_URLISH = st.sampled_from(
    [
        "example",
        "kpu",
        "go",
        "id",
        "co",
        "com",
        "comm",
        "uk",
        "ve",
        "vermögensberatung",
        "भारत",
        "भारतम्",
        "嘉里",
        "嘉里大酒店",
        "ελ",
        "ς",
        "σ",
        "Σ",
        "xn--p1ai",
        "рф",
        "РФ",
        "İ",
        "ı",
        "\u212a",
        "ß",
        "1",
        "42",
        "_",
        "-",
        "@",
        "+",
        "/",
        "?",
        "#",
        "://",
        "http",
        "HTTPS",
        ".",
        ".",
        ".",
        "。",
        " ",
        "\n",
        "(",
        ")",
        "é",
        "ü",
        "a",
        "b",
        "t.co",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_URLISH, min_size=1, max_size=25).map("".join))
def test_fast_url_form_finds_exactly_what_the_exact_form_finds(text: str) -> None:
    """The fast URL pattern (TLD-shaped word + list check) equals the exact TLD-list pattern."""
    assert tt._url_spans(text) == tt._spans_exact(text)
