"""twitter-text v3 in Python: weighted tweet length and entity extraction.

This is a port of the rules of `twitter/twitter-text`_ (Apache-2.0), written from its
JavaScript sources (``js/src``) and checked against its conformance files
(``tests/conformance/twitter-text``). No twitter-text code is imported: the regular
expressions are rebuilt here with the ``regex`` module.

* :func:`weighted_length` is ``parseTweet(text).weightedLength`` (``js/src/parseTweet.js``).
* :func:`extract_urls`, :func:`extract_hashtags`, :func:`extract_mentions`,
  :func:`extract_cashtags` and :func:`extract_entities` follow ``extract*WithIndices``.

Indices are code-point offsets into the ``str`` that was passed in (twitter-text's
JavaScript gives UTF-16 offsets; the two agree for text without astral characters).
Extraction does not normalise the text; :func:`weighted_length` does, as upstream.

.. _twitter/twitter-text: https://github.com/twitter/twitter-text
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Final, NamedTuple, TypeAlias

from crosspost.units import utf16_length

__all__ = [
    "V2",
    "V3",
    "Entity",
    "TextConfig",
    "extract_cashtags",
    "extract_entities",
    "extract_hashtags",
    "extract_mentions",
    "extract_urls",
    "invalid_character",
    "is_valid_hashtag",
    "is_valid_tweet",
    "weighted_length",
]

_Pattern: TypeAlias = Any  # a compiled `regex` pattern (the package ships no type hints)


@cache
def _rx(pattern: str) -> _Pattern:
    """``pattern`` compiled with the `regex` module, once, when first needed: compiling
    them all at import cost every command that imports this module (bench/preview.py)."""
    import regex  # type: ignore[import-untyped, unused-ignore]

    return regex.compile(pattern)


class Entity(NamedTuple):
    """One entity found in a text: a URL, #hashtag, @mention or $cashtag.

    ``start``/``end`` index the ``str`` given (code points, end exclusive). ``text`` is the
    URL as written, or the tag/name without its ``#``, ``@`` or ``$``. A list mention
    (``@user/list``) has ``text`` ``"user/list"``.
    """

    kind: str
    start: int
    end: int
    text: str


class TextConfig(NamedTuple):
    """A twitter-text parser configuration: the fields of upstream ``config/v*.json``.

    ``ranges`` holds ``(first, last, weight)`` code-point ranges (inclusive); a code point
    takes the weight of the first range that contains it, else ``default_weight``.
    """

    version: int
    max_weighted_tweet_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    ranges: tuple[tuple[int, int, int], ...]
    emoji_parsing_enabled: bool


# Source: twitter-text config/v2.json and config/v3.json (identical but for
# emojiParsingEnabled). U+0000-U+10FF is Basic Latin to Georgian; the other three ranges
# are the spaces, hyphens/quotes and primes of the General Punctuation block.
_WEIGHTED_RANGES: Final = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))
V2: Final = TextConfig(2, 280, 100, 200, 23, _WEIGHTED_RANGES, emoji_parsing_enabled=False)
"""twitter-text config v2: weighted counting, every code point counted on its own."""
V3: Final = TextConfig(3, 280, 100, 200, 23, _WEIGHTED_RANGES, emoji_parsing_enabled=True)
"""twitter-text config v3 (the current default): as v2, but an emoji sequence weighs 200 once."""

# --- character groups (js/src/regexp/*.js) ---------------------------------------------
# Written as `regex` class contents. Upstream compiles most URL regexes with the /i flag;
# ASCII letters are spelled in both cases here instead, because Python's case folding also
# equates "ſ" with "s" and KELVIN SIGN with "k", which JavaScript's non-Unicode /i does not.

# invalidCharsGroup.js: the only characters that make a tweet invalid. (Older releases also
# listed U+202A-U+202E; upstream dropped that, and validate.yml expects them to be valid.)
_INVALID_CHARS: Final = r"\uFFFE\uFEFF\uFFFF"
# directionalMarkersGroup.js
_DIRECTIONAL: Final = r"\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069"
# spacesGroup.js
_SPACES: Final = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
# punct.js. Note that '"' and '`' are missing upstream, so they count as domain characters.
_PUNCT: Final = r"!'#%&()*+,\\\-./:;<=>?@\[\]\^_{|}~$"
# latinAccentChars.js
_LATIN_ACCENTS: Final = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
# cyrillicLettersAndMarks.js
_CYRILLIC: Final = r"\u0400-\u04FF"
# JavaScript's \s (ECMAScript WhiteSpace + LineTerminator), used by the cashtag look-ahead.
_JS_SPACE: Final = r"\t\n\x0B\x0C\r\x20\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF"

# Hashtag letters: \p{L}\p{M} plus the extra code points twitter-text adds for scripts its
# JVM's Unicode tables lacked (Regex.java / regex.rb HASHTAG_LETTERS_AND_MARKS; the JS
# bmpLetterAndMarks/astralLetterAndMarks lists are the same set spelled out). This is the
# upstream list, kept as the reference; the patterns use _HASHTAG_LETTERS_AND_MARKS below.
HASHTAG_LETTERS_AND_MARKS_UPSTREAM: Final = (
    r"\p{L}\p{M}"
    r"\u037f\u0528-\u052f\u08a0-\u08b2\u08e4-\u08ff\u0978\u0980\u0c00\u0c34\u0c81\u0d01\u0ede"
    r"\u0edf\u10c7\u10cd\u10fd-\u10ff\u16f1-\u16f8\u17b4\u17b5\u191d\u191e\u1ab0-\u1abe"
    r"\u1bab-\u1bad\u1bba-\u1bbf\u1cf3-\u1cf6\u1cf8\u1cf9\u1de7-\u1df5\u2cf2\u2cf3\u2d27\u2d2d"
    r"\u2d66\u2d67\u9fcc\ua674-\ua67b\ua698-\ua69d\ua69f\ua792-\ua79f\ua7aa-\ua7ad\ua7b0\ua7b1"
    r"\ua7f7-\ua7f9\ua9e0-\ua9ef\ua9fa-\ua9fe\uaa7c-\uaa7f\uaae0-\uaaef\uaaf2-\uaaf6"
    r"\uab30-\uab5a\uab5c-\uab5f\uab64\uab65\uf870-\uf87f\uf882\uf884-\uf89f\uf8b8"
    r"\uf8c1-\uf8d6\ufa2e\ufa2f\ufe27-\ufe2d\U000102e0\U0001031f\U00010350-\U0001037a"
    r"\U00010500-\U00010527\U00010530-\U00010563\U00010600-\U00010736\U00010740-\U00010755"
    r"\U00010760-\U00010767\U00010860-\U00010876\U00010880-\U0001089e\U00010980-\U000109b7"
    r"\U000109be\U000109bf\U00010a80-\U00010a9c\U00010ac0-\U00010ac7\U00010ac9-\U00010ae6"
    r"\U00010b80-\U00010b91\U0001107f\U000110d0-\U000110e8\U00011100-\U00011134"
    r"\U00011150-\U00011173\U00011176\U00011180-\U000111c4\U000111da\U00011200-\U00011211"
    r"\U00011213-\U00011237\U000112b0-\U000112ea\U00011301-\U00011303\U00011305-\U0001130c"
    r"\U0001130f\U00011310\U00011313-\U00011328\U0001132a-\U00011330\U00011332\U00011333"
    r"\U00011335-\U00011339\U0001133c-\U00011344\U00011347\U00011348\U0001134b-\U0001134d"
    r"\U00011357\U0001135d-\U00011363\U00011366-\U0001136c\U00011370-\U00011374"
    r"\U00011480-\U000114c5\U000114c7\U00011580-\U000115b5\U000115b8-\U000115c0"
    r"\U00011600-\U00011640\U00011644\U00011680-\U000116b7\U000118a0-\U000118df\U000118ff"
    r"\U00011ac0-\U00011af8\U0001236f-\U00012398\U00016a40-\U00016a5e\U00016ad0-\U00016aed"
    r"\U00016af0-\U00016af4\U00016b00-\U00016b36\U00016b40-\U00016b43\U00016b63-\U00016b77"
    r"\U00016b7d-\U00016b8f\U00016f00-\U00016f44\U00016f50-\U00016f7e\U00016f8f-\U00016f9f"
    r"\U0001bc00-\U0001bc6a\U0001bc70-\U0001bc7c\U0001bc80-\U0001bc88\U0001bc90-\U0001bc99"
    r"\U0001bc9d\U0001bc9e\U0001e800-\U0001e8c4\U0001e8d0-\U0001e8d6\U0001ee00-\U0001ee03"
    r"\U0001ee05-\U0001ee1f\U0001ee21\U0001ee22\U0001ee24\U0001ee27\U0001ee29-\U0001ee32"
    r"\U0001ee34-\U0001ee37\U0001ee39\U0001ee3b\U0001ee42\U0001ee47\U0001ee49\U0001ee4b"
    r"\U0001ee4d-\U0001ee4f\U0001ee51\U0001ee52\U0001ee54\U0001ee57\U0001ee59\U0001ee5b"
    r"\U0001ee5d\U0001ee5f\U0001ee61\U0001ee62\U0001ee64\U0001ee67-\U0001ee6a"
    r"\U0001ee6c-\U0001ee72\U0001ee74-\U0001ee77\U0001ee79-\U0001ee7c\U0001ee7e"
    r"\U0001ee80-\U0001ee89\U0001ee8b-\U0001ee9b\U0001eea1-\U0001eea3\U0001eea5-\U0001eea9"
    r"\U0001eeab-\U0001eebb"
)
HASHTAG_NUMERALS_UPSTREAM: Final = (
    r"\p{Nd}\u0de6-\u0def\ua9f0-\ua9f9\U000110f0-\U000110f9\U00011136-\U0001113f"
    r"\U000111d0-\U000111d9\U000112f0-\U000112f9\U000114d0-\U000114d9\U00011650-\U00011659"
    r"\U000116c0-\U000116c9\U000118e0-\U000118e9\U00016a60-\U00016a69\U00016b50-\U00016b59"
)
# The `regex` module's Unicode tables already hold every upstream extra as \p{L}, \p{M} or
# \p{Nd}, but for these private-use code points. A class of ~150 escaped ranges costs ~3 ms
# to parse, paid by every preview (four times in the hashtag pattern), so the patterns use
# the short form; tests/test_startup.py checks it matches every upstream code point.
_HASHTAG_LETTERS_AND_MARKS: Final = r"\p{L}\p{M}\uf870-\uf87f\uf882\uf884-\uf89f\uf8b8\uf8c1-\uf8d6"
_HASHTAG_NUMERALS: Final = r"\p{Nd}"
# hashtagSpecialChars.js: joiners and the marks that appear inside words of some scripts.
_HASHTAG_SPECIAL: Final = (
    r"_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b"
    r"\u0f0c\u00b7"
)
_HASHTAG_ALPHA: Final = f"[{_HASHTAG_LETTERS_AND_MARKS}]"
_HASHTAG_ALNUM_CHARS: Final = _HASHTAG_LETTERS_AND_MARKS + _HASHTAG_NUMERALS + _HASHTAG_SPECIAL
_HASHTAG_ALNUM: Final = f"[{_HASHTAG_ALNUM_CHARS}]"

# --- patterns, compiled on first use (_rx) ---------------------------------------------------

# validHashtag.js + hashtagBoundary.js: the '#' must follow the start, a variation selector or
# any character that is neither hashtag-alphanumeric nor '&'; '#' directly followed by
# U+FE0F or U+20E3 is the keycap emoji #️⃣, not a hashtag.
_HASHTAG_RE: Final = (
    rf"(?:^|\uFE0E|\uFE0F|(?![{_HASHTAG_ALNUM_CHARS}&])(?s:.))"
    rf"([#＃])(?![\uFE0F\u20E3])"
    rf"({_HASHTAG_ALNUM}*{_HASHTAG_ALPHA}{_HASHTAG_ALNUM}*)"
)
# endHashtagMatch.js: "#foo#bar" and "#http://..." are not hashtags.
_HASHTAG_END_RE: Final = r"[#＃]|://"

# validMentionOrList.js + validMentionPrecedingChars.js (case-sensitive upstream).
_MENTION_RE: Final = (
    r"(?:^|[^a-zA-Z0-9_!#$%&*@＠]|(?:^|[^a-zA-Z0-9_+~.-])(?:rt|RT|rT|Rt):?)"
    r"([@＠])([a-zA-Z0-9_]{1,20})(/[a-zA-Z][a-zA-Z0-9_-]{0,24})?"
)
# endMentionMatch.js: "@user@host", "@aliceìnheiro" and "@http://" are not mentions.
_MENTION_END_RE: Final = rf"[@＠]|[{_LATIN_ACCENTS}]|://"

# validCashtag.js + cashtag.js: "$" after the start or a space, 1-6 letters, an optional
# ".xx"/"_xx" suffix, then the end, a space or punctuation.
_CASHTAG_RE: Final = (
    rf"(?:^|[{_SPACES}])(\$)([a-zA-Z]{{1,6}}(?:[._][a-zA-Z]{{1,2}})?)"
    rf"(?=\Z|[{_JS_SPACE}]|[{_PUNCT}])"
)

_INVALID_CHARS_RE: Final = f"[{_INVALID_CHARS}]"

# Emoji sequences, standing in for the twemoji-parser regex that parseTweet.js uses when
# emojiParsingEnabled is set. twemoji-parser lists every RGI sequence explicitly; this is the
# same shape built from Unicode properties: ZWJ-joined elements, each a flag (two regional
# indicators), a keycap (#, * or digit, optional VS16, U+20E3), or a pictograph with an
# optional skin-tone modifier (on modifier bases only), VS16 and tag sequence (England,
# Scotland, Wales flags). © and ® count as emoji only with VS16, as in twemoji-parser: bare,
# they are ordinary Latin-1 characters of weight 100. Every other difference from
# twemoji-parser is a lone code point outside the weight-100 ranges, which weighs 200 either way.
_EMOJI_ELEMENT: Final = (
    r"(?:\p{Regional_Indicator}\p{Regional_Indicator}"
    r"|[#*0-9]\uFE0F?\u20E3"
    r"|(?:\p{Emoji_Modifier_Base}\p{Emoji_Modifier}|(?![\xA9\xAE])\p{Extended_Pictographic}"
    r"|[\xA9\xAE](?=\uFE0F))\uFE0F?(?:[\U000E0020-\U000E007E]+\U000E007F)?)"
)
_EMOJI_RE: Final = rf"{_EMOJI_ELEMENT}(?:\u200D{_EMOJI_ELEMENT})*"

# --- URLs (built on first use: they need the TLD table) ------------------------------------

_MAX_URL_LENGTH: Final = 4096  # extractUrlsWithIndices.js MAX_URL_LENGTH (UTF-16 units)
_MAX_TCO_SLUG_LENGTH: Final = 40  # extractUrlsWithIndices.js MAX_TCO_SLUG_LENGTH
_MAX_DOMAIN_LABEL_LENGTH: Final = 63  # lib/idna.js, after punycode encoding
_DEFAULT_PROTOCOL: Final = "https://"
# punycode.js splits a label on these, so "。" inside a label starts a new label.
_IDNA_SEPARATORS_RE: Final = r"[.\u3002\uFF0E\uFF61]"

_Trie: TypeAlias = dict[str, "_Trie"]


class _UrlRegexes(NamedTuple):
    url: _Pattern  # extractUrl.js
    ascii_domain: _Pattern  # validAsciiDomain.js
    tco: _Pattern  # validTcoUrl.js
    before_char: _Pattern  # validUrlPrecedingChars.js without its ^
    protocol: _Pattern  # "http://" or "https://", any case
    not_label: frozenset[str]  # the characters that cannot be part of a domain label
    exact: bool  # True: the TLD lists are in the patterns; False: the fast form (see below)


def _js_ignorecase_class(ch: str) -> str:
    """``ch`` as a pattern that also matches what JavaScript's non-Unicode /i equates with it."""
    upper = ch.upper()
    # ECMAScript Canonicalize(): no multi-character upper cases, and non-ASCII never
    # matches ASCII.
    if len(upper) != 1 or upper == ch or (ord(ch) >= 128 and ord(upper) < 128):
        return re.escape(ch)
    return f"[{re.escape(ch)}{re.escape(upper)}]"


def _trie_pattern(node: _Trie) -> str:
    """A pattern for the words in a trie; at a shared prefix the longer words are tried first."""
    branches = [_js_ignorecase_class(ch) + _trie_pattern(child) for ch, child in node.items() if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _tld_pattern(tlds: tuple[str, ...]) -> str:
    """validGTLD.js/validCCTLD.js: one of ``tlds`` not followed by [0-9a-zA-Z@+-].

    Upstream alternates ~1,600 literals; a trie makes the same choices (longest first at a
    shared prefix, as upstream's reverse-sorted list does) without trying them one by one.
    """
    root: _Trie = {}
    for tld in tlds:
        node = root
        for ch in tld:
            node = node.setdefault(ch, {})
        node[""] = {}
    return rf"(?:(?:{_trie_pattern(root)})(?=[^0-9a-zA-Z@+-]|\Z))"


def _js_upper(ch: str) -> str:
    """``ch`` as JavaScript's non-Unicode /i canonicalises it (see _js_ignorecase_class)."""
    upper = ch.upper()
    if len(upper) != 1 or (ord(ch) >= 128 and ord(upper) < 128):
        return ch
    return upper


def _canonical(word: str) -> str:
    if word.isascii():  # the same as below, at C speed (most TLDs)
        return word.upper()
    return "".join(map(_js_upper, word))


class _TldTable(NamedTuple):
    """What the fast URL form needs: a pattern for TLD-shaped words, and the real list."""

    shaped: str  # one or more characters that occur in some TLD, in either case
    by_canonical: dict[str, tuple[str, ...]]  # every TLD, under its canonical form

    def matches(self, word: str) -> bool:
        """Whether the exact pattern's trie matches ``word`` as a whole TLD: each character
        the TLD's own or its case partner (``_js_ignorecase_class``), nothing looser."""
        return any(
            all(x == c or x == _js_upper(c) for x, c in zip(word, tld, strict=True))
            for tld in self.by_canonical.get(_canonical(word), ())
        )


@cache
def _tld_table() -> _TldTable:
    tlds = _load_tlds()
    words = tlds["generic"] + tlds["country"]
    chars = set("".join(words))
    chars |= {_js_upper(ch) for ch in chars}
    shaped = "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"
    by_canonical: dict[str, list[str]] = {}
    for word in words:
        by_canonical.setdefault(_canonical(word), []).append(word)
    return _TldTable(
        rf"(?:{shaped}{{2,}}(?=[^0-9a-zA-Z@+-]|\Z))",
        {key: tuple(value) for key, value in by_canonical.items()},
    )


def _fast_tld_ok(domain: str) -> bool:
    """Whether the fast form's match ending in ``domain`` is the one the exact form finds.

    The fast form accepts any TLD-shaped word where the exact form accepts only listed
    TLDs; both try the same places in the same order, longest word first. So a fast
    match whose last label is a listed TLD is the exact match, unless a shorter listed
    prefix of that label could also end there (the exact form tries generic TLDs before
    country ones): then, and for punycode, the caller falls back to the exact form.
    """
    table = _tld_table()
    tld = domain.rsplit(".", 1)[-1]
    if tld[:4].lower() == "xn--" or not table.matches(tld):
        return False
    for end in range(2, len(tld)):
        after = tld[end]
        passes_lookahead = not (after.isascii() and (after.isalnum() or after in "@+-"))
        if passes_lookahead and table.matches(tld[:end]):
            return False
    return True


@cache
def _load_tlds() -> dict[str, tuple[str, ...]]:
    """The TLD lists from ``crosspost/data/tlds.json`` (generated from twitter-text's tlds.yml)."""
    # Beside this module, read as a plain file: importlib.resources costs ~2 ms of start-up.
    raw = (Path(__file__).parent / "data" / "tlds.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    return {"generic": tuple(data["generic"]), "country": tuple(data["country"])}


@cache
def _url_regexes(exact: bool = False) -> _UrlRegexes:
    """Compile the URL regexes once, on first use.

    The exact form embeds the TLD lists (~1,600 words: a 25 kB pattern that takes
    tens of milliseconds to compile, paid by every preview). The fast form has a
    TLD-shaped word in their place and every match is checked against the list
    (``_fast_tld_ok``); a text where a check fails is scanned again with the exact
    form, so results are always the exact ones.
    """
    tlds = _load_tlds()
    punycode = r"(?:[xX][nN]--[\-0-9a-zA-Z]+)"  # validPunycode.js
    if exact:
        tld = f"(?:{_tld_pattern(tlds['generic'])}|{_tld_pattern(tlds['country'])}|{punycode})"
    else:
        tld = f"(?:{_tld_table().shaped}|{punycode})"
    domain_char = f"[^{_PUNCT}{_SPACES}{_INVALID_CHARS}{_DIRECTIONAL}]"  # validDomainChars.js
    # validSubdomain.js / validDomainName.js spell a label "(?:C(?:[_-]|C)*)?C\." (C: a domain
    # character). "C(?:[_-]*C)*+\." matches the same strings: a label must run up to the next
    # "." and "." is no label character, so giving characters back can never help; the
    # possessive "*+" just stops the engine from trying (linear instead of quadratic).
    subdomain = rf"(?:{domain_char}(?:[_-]*{domain_char})*+\.)"
    domain_name = rf"(?:{domain_char}(?:-*{domain_char})*+\.)"
    domain = f"(?:{subdomain}*{domain_name}{tld})"  # validDomain.js
    # validGeneralUrlPathChars.js, validUrlBalancedParens.js, validUrlPathEndingChars.js,
    # validUrlPath.js: up to two levels of balanced parentheses (Wikipedia's /Primer_(film));
    # a path may not end in punctuation such as "." or "!", so "see x.com/a." stops before ".".
    path_char = rf"[a-zA-Z{_CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN_ACCENTS}]"
    parens = rf"\((?:{path_char}+|(?:{path_char}*\({path_char}+\){path_char}*))\)"
    path_end = rf"(?:[+\-a-zA-Z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|(?:{parens}))"
    path = rf"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:@{path_char}+/))"
    query_char = r"[a-zA-Z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"  # validUrlQueryChars.js
    query_end = r"[a-zA-Z0-9\-_&=#/]"  # validUrlQueryEndingChars.js
    # validUrlPrecedingChars.js: no letter, digit, @, $ or # directly before a URL.
    before_char = rf"(?:[^A-Za-z0-9@＠$#＃{_INVALID_CHARS}]|[{_DIRECTIONAL}])"
    before = rf"(?:{before_char}|^)"
    url = (  # extractUrl.js; groups: 1 before, 2 url, 3 protocol, 4 domain, 5 port, 6 path
        rf"({before})"
        rf"((https?://)?({domain})(?::([0-9]+))?(/{path}*)?(\?{query_char}*{query_end})?)"
    )
    url = url.replace("(https?://)", "([hH][tT][tT][pP][sS]?://)")
    tco = rf"[hH][tT][tT][pP][sS]?://[tT]\.[cC][oO]/([a-zA-Z0-9]+)(?:\?{query_char}*{query_end})?"
    # The stdlib `re` compiles these ~25 kB patterns several times faster than `regex`
    # (they use no Unicode properties), and preview pays for the compile on every run.
    return _UrlRegexes(
        url=re.compile(url),
        ascii_domain=re.compile(rf"(?:[\-a-zA-Z0-9{_LATIN_ACCENTS}]+\.)+{tld}"),
        tco=re.compile(tco),
        before_char=re.compile(before_char),
        protocol=re.compile(r"[hH][tT][tT][pP][sS]?://"),
        not_label=_NOT_LABEL,
        exact=exact,
    )


def _class_chars(escaped: str) -> frozenset[str]:
    """The characters of a regex character class body like ``\\x09-\\x0D\\x20`` (no ``]``)."""
    chars = escaped.encode("ascii").decode("unicode_escape")
    found: set[str] = set()
    i = 0
    while i < len(chars):
        if i + 2 < len(chars) and chars[i + 1] == "-":
            found.update(map(chr, range(ord(chars[i]), ord(chars[i + 2]) + 1)))
            i += 3
        else:
            found.add(chars[i])
            i += 1
    return frozenset(found)


#: The characters that cannot be part of a domain label: punct.js without "-" and "_"
#: ("." stays in), spaces, invalid and directional characters (validDomainChars.js).
_NOT_LABEL: Final = frozenset("!'#%&()*+,\\./:;<=>?@[]^{|}~$") | _class_chars(
    _SPACES + _INVALID_CHARS + _DIRECTIONAL
)


_SPACE_RE: Final = re.compile(f"[{_SPACES}]")


def _punycode_length(part: str) -> int:
    """Length of punycode.js ``toASCII`` of one dot-free label part."""
    if part.isascii():
        return len(part)
    return 4 + len(part.encode("punycode"))  # "xn--" + RFC 3492 encoding


def _is_valid_domain(domain: str) -> bool:
    """lib/idna.js ``toAscii`` succeeds: no label longer than 63 characters once punycoded."""
    # Rare (a domain starting with "xn--"): the exact form, so no check is needed.
    if domain.startswith("xn--") and not _url_regexes(exact=True).ascii_domain.search(domain):
        return False  # already-punycoded domains must be ASCII
    for label in domain.split("."):
        if len(label) > _MAX_DOMAIN_LABEL_LENGTH:
            return False  # punycode never shortens a label: skip encoding long junk
        parts = _rx(_IDNA_SEPARATORS_RE).split(label)
        try:
            length = sum(_punycode_length(p) for p in parts) + len(parts) - 1
        except UnicodeError:
            return False
        if not 1 <= length <= _MAX_DOMAIN_LABEL_LENGTH:
            return False
    return True


def _label_runs(text: str, not_label: frozenset[str]) -> list[tuple[int, int]]:
    """``(start, dot)`` of each maximal run of domain-label characters followed by a "."
    and then by a character that can begin a label or TLD.

    A domain's labels run up to their "." and the next label (or the TLD) follows it at
    once; so a "." followed by a space, punctuation, "-", "_" or the end (a sentence's full
    stop) can end no domain, and the run before it is not a place to try.
    """
    runs = []
    last = len(text) - 1
    dot = text.find(".")
    while dot >= 0:
        if dot < last and text[dot + 1] not in not_label and text[dot + 1] not in "-_":
            start = dot
            while start > 0 and text[start - 1] not in not_label:
                start -= 1
            if start < dot:
                runs.append((start, dot))
        dot = text.find(".", dot + 1)
    return runs


def _url_matches(text: str, rx: _UrlRegexes) -> Iterator[Any]:
    """The matches ``rx.url.finditer(text)`` gives, trying the regex only where one can start.

    finditer tries every position, and on text without spaces (CJK) every character may
    precede a domain and begin one, each try scanning to the next ".": quadratic time. Here:
    a match's first label (or its protocol) starts in a run of label characters that ends at
    a "."; so only positions before such runs and protocols are tried, in order, each with the
    same regex. And when the domain starting at ``s`` fails, one starting later in the same
    label fails too (its label is a suffix: same end, same rest of the domain), unless an
    "_" (allowed in subdomains only) lies between; those tries are skipped.
    """
    starts = _label_runs(text, rx.not_label)
    starts += [(m.start(), -1) for m in rx.protocol.finditer(text)]
    starts.sort()
    pos = 0  # where finditer would search next
    for first, dot in starts:
        if dot < 0:  # a protocol: the match would begin with the character before it
            if first - 1 >= pos or first == pos == 0:
                m = rx.url.match(text, max(first - 1, 0))
                if m:
                    yield m
                    pos = m.end()
            continue
        s = first if pos == 0 else max(first, pos + 1)
        while s < dot:
            m = rx.url.match(text, max(s - 1, 0))
            if m:
                yield m
                pos = m.end()
                s = pos + 1
            elif text[s] in "_-" or (s > 0 and not rx.before_char.match(text, s - 1)):
                s += 1  # no domain was tried from s
            else:
                underscore = text.rfind("_", s, dot)
                s = dot if underscore < 0 else underscore + 1


def _url_spans(text: str) -> list[tuple[int, int, str]]:
    """extractUrlsWithIndices.js with extractUrlsWithoutProtocol=true: (start, end, url)."""
    if "." not in text:  # every URL has a dot; upstream returns early the same way
        return []
    fast = _url_spans_with(text, _url_regexes())
    return fast if fast is not None else _spans_exact(text)


def _spans_exact(text: str) -> list[tuple[int, int, str]]:
    found = _url_spans_with(text, _url_regexes(exact=True))
    assert found is not None  # the exact form never defers
    return found


def _url_spans_with(text: str, rx: _UrlRegexes) -> list[tuple[int, int, str]] | None:
    """The URL spans ``rx`` finds; None when a fast-form match needs the exact form."""
    urls: list[list[Any]] = []
    for m in _url_matches(text, rx):
        before, url, protocol, domain, path = m.group(1, 2, 3, 4, 6)
        if not rx.exact and not _fast_tld_ok(domain):
            return None
        start, end = m.span(2)
        # isValidUrl(): the domain must survive IDNA, and protocol + URL fit in 4096 units.
        if not _is_valid_domain(domain):
            continue
        # Lengths as JavaScript's String.length counts: UTF-16 code units.
        if utf16_length(protocol or _DEFAULT_PROTOCOL) + utf16_length(url) > _MAX_URL_LENGTH:
            continue
        if not protocol:
            # Without a protocol, only ASCII-only domains count, and not after - _ . /
            # (so "#foo.com" and "a/b.com" stay text); a Unicode "domain" may hold several.
            if before and before in "-_./":
                continue
            last: list[Any] | None = None
            for a in rx.ascii_domain.finditer(domain):
                if not rx.exact and not _fast_tld_ok(a.group()):
                    return None
                last = [start + a.start(), start + a.end(), a.group()]
                urls.append(last)
            if last is None:
                continue
            if path:  # the last ASCII domain takes the port, path and query with it
                last[2] = last[2] + url[len(domain) :]
                last[1] = end
        else:
            tco = rx.tco.match(url)
            if tco:
                if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco.group()
                end = start + len(url)
            urls.append([start, end, url])
    return [(int(s), int(e), str(u)) for s, e, u in urls]


# --- public API ----------------------------------------------------------------------------


def extract_urls(text: str) -> list[Entity]:
    """URLs in ``text``, with or without ``http(s)://``, as twitter-text's extractUrlsWithIndices.

    Bare domains count only with a known TLD (``foo.com``, ``t.co/x``); ``foo.baz`` does not.
    """
    return [Entity("url", s, e, u) for s, e, u in _url_spans(text)]


def _hashtags(text: str) -> list[Entity]:
    """extractHashtagsWithIndices.js without the URL-overlap check.

    The matches ``finditer`` gives, found faster: a match has its "#" at its first or second
    character (the pattern consumes the one before it, or starts at ``^``), so the pattern is
    tried only there, at each "#" in order, from where the previous match ended. Scanning
    every position with the pattern's leading class costs ~0.3 µs a character instead.
    """
    if "#" not in text and "＃" not in text:
        return []
    pattern, end = _rx(_HASHTAG_RE), _rx(_HASHTAG_END_RE)
    tags = []
    pos = 0  # where finditer would search next
    for sign in _HASH_SIGNS.finditer(text):
        start = max(sign.start() - 1, 0)
        if start < pos:
            continue
        m = pattern.match(text, start)
        if m is None:
            continue
        pos = m.end()
        if end.match(text, pos):
            continue
        tags.append(Entity("hashtag", int(m.start(1)), int(m.end(2)), str(m.group(2))))
    return tags


_HASH_SIGNS: Final = re.compile("[#＃]")


def extract_hashtags(text: str) -> list[Entity]:
    """Hashtags in ``text`` (``text`` without the ``#``); a hashtag inside a URL is dropped."""
    tags = _hashtags(text)
    if not tags or not any(_may_be_in_url(text, tag.start) for tag in tags):
        return tags
    urls = extract_urls(text)
    if not urls:
        return tags
    return [e for e in _remove_overlapping([*tags, *urls]) if e.kind == "hashtag"]


def _may_be_in_url(text: str, sign: int) -> bool:
    """Whether a URL could hold the hashtag sign at ``sign`` (else no URL check is needed).

    Only a URL that starts before a hashtag can drop it, and then it holds the sign. A URL
    has no spaces and is at most 4,096 UTF-16 units long; an ASCII "#" can only be in its
    path or query, after the domain and its "."; so without a "." since the last space
    (and within 4,096 characters) before "#", no URL holds it. A fullwidth "＃" is a domain
    character, so it is always checked.
    """
    if text[sign] != "#":
        return True
    dot = text.rfind(".", max(sign - _MAX_URL_LENGTH, 0), sign)
    return dot >= 0 and _SPACE_RE.search(text, dot, sign) is None


def extract_mentions(text: str) -> list[Entity]:
    """@mentions (``text`` without ``@``) and list mentions (``text`` ``"user/list"``)."""
    if "@" not in text and "＠" not in text:
        return []
    found = []
    for m in _rx(_MENTION_RE).finditer(text):
        if _rx(_MENTION_END_RE).match(text, m.end()):
            continue
        name = str(m.group(2)) + str(m.group(3) or "")
        found.append(Entity("mention", int(m.start(1)), int(m.end()), name))
    return found


def extract_cashtags(text: str) -> list[Entity]:
    """$cashtags such as ``$TWTR`` or ``$BRK.A`` (``text`` without the ``$``)."""
    if "$" not in text:
        return []
    return [
        Entity("cashtag", int(m.start(1)), int(m.end(2)), str(m.group(2)))
        for m in _rx(_CASHTAG_RE).finditer(text)
    ]


def _remove_overlapping(entities: list[Entity]) -> list[Entity]:
    """removeOverlappingEntities.js: sort by start (stably); drop what overlaps an earlier one."""
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda e: e.start):
        if not kept or kept[-1].end <= entity.start:
            kept.append(entity)
    return kept


def extract_entities(text: str) -> list[Entity]:
    """URLs, mentions, hashtags and cashtags, by start; on overlap the earlier-starting one wins.

    As extractEntitiesWithIndices.js: at the same start a URL beats a mention, which beats a
    hashtag, which beats a cashtag; so a ``#tag`` inside a URL is dropped.
    """
    entities = [*extract_urls(text), *extract_mentions(text), *_hashtags(text)]
    entities += extract_cashtags(text)
    return _remove_overlapping(entities)


def is_valid_hashtag(tag: str) -> bool:
    """Whether ``tag`` (without the ``#``) is one whole valid hashtag, as isValidHashtag.js."""
    if not tag:
        return False
    tags = extract_hashtags("#" + tag)
    return len(tags) == 1 and tags[0].text == tag


@cache
def _weight_classes(config: TextConfig) -> tuple[tuple[_Pattern, int], ...]:
    """For each non-default weight, a regex for the code points that take it (first range wins)."""
    claimed: list[tuple[int, int]] = []
    pieces: dict[int, list[tuple[int, int]]] = {}
    for first, last, weight in config.ranges:
        todo = [(first, last)]
        for lo, hi in claimed:
            todo = [
                piece
                for a, b in todo
                for piece in ((a, min(b, lo - 1)), (max(a, hi + 1), b))
                if piece[0] <= piece[1]
            ]
        claimed.append((first, last))
        if weight != config.default_weight and todo:
            pieces.setdefault(weight, []).extend(todo)
    return tuple(
        (_rx("[" + "".join(rf"\U{a:08x}-\U{b:08x}" for a, b in spans) + "]+"), w)
        for w, spans in pieces.items()
    )


def _code_point_weight(text: str, config: TextConfig) -> int:
    """Sum of the per-code-point weights of ``text`` (getCharacterWeight.js), unscaled."""
    total = len(text) * config.default_weight
    for pattern, weight in _weight_classes(config):
        # The patterns match runs, so Latin text with a few emoji is a handful of matches.
        matched = sum(map(len, pattern.findall(text)))
        total += matched * (weight - config.default_weight)
    return total


def weighted_length(text: str, *, config: TextConfig = V3) -> int:
    """The weighted length X counts for ``text`` (twitter-text parseTweet().weightedLength).

    The text is NFC-normalised; each URL counts ``transformed_url_length`` (23); with emoji
    parsing (v3) each emoji sequence counts ``default_weight`` once; every other code point
    counts the weight of its range (Latin, Cyrillic, Arabic, ...: 1; CJK, emoji: 2).
    """
    if not text:
        return 0
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    total = _code_point_weight(text, config)
    # parseTweet.js walks the text; at each index a URL starting there wins over an emoji
    # starting there, and whatever starts inside the span just counted is skipped.
    spans = [(s, 0, e) for s, e, _ in _url_spans(text)]
    if config.emoji_parsing_enabled:
        spans += [(int(m.start()), 1, int(m.end())) for m in _rx(_EMOJI_RE).finditer(text)]
    url_weight = config.transformed_url_length * config.scale
    position = 0
    for start, kind, end in sorted(spans):
        if start < position:
            continue
        total -= _code_point_weight(text[start:end], config)
        total += url_weight if kind == 0 else config.default_weight
        position = end
    return total // config.scale


def invalid_character(text: str) -> str | None:
    """The first character X refuses in a post (U+FFFE, U+FEFF, U+FFFF), or None."""
    found = _rx(_INVALID_CHARS_RE).search(text)
    return found.group() if found else None


def is_valid_tweet(text: str, max_length: int = 280, *, config: TextConfig = V3) -> bool:
    """Whether X accepts ``text``: 0 < weighted length <= ``max_length``, no U+FFFE/FEFF/FFFF.

    (Bidi controls such as U+202A-U+202E are allowed; upstream stopped rejecting them.)
    """
    if _rx(_INVALID_CHARS_RE).search(text):
        return False
    return 0 < weighted_length(text, config=config) <= max_length
