"""The one fitting implementation: compose a post, measure it, give things up in order.

Every adapter fits its text through this module, so the rules hold everywhere
(docs/fitting.md says them in full):

* Things are given up in the adapter's declared drop order, each step reported:
  the "Find Us On" block loses the platform's own line, becomes one line, keeps
  fewer of its links (the website last), then goes; the body is trimmed;
  hashtags go last.
* A trimmed body keeps a way to the full text: the draft's ``read_more`` line
  ("Selengkapnya: https://…") takes the link's place.
* The body is cut at a paragraph, else a sentence, else after a clause (a
  comma), else a word boundary. A
  coarser boundary is taken only when it keeps a fair share (``MIN_SHARE``) of
  what the finest cut would keep, so a 280-character post is not reduced to a
  40-character first paragraph.
* A cut reads as a person would cut: a finished sentence gets no "…"; a word
  cut never ends in ",…", "(…" or a lone emoji, a quotation cut short is closed
  ("…”"), and a closing quote keeps its attribution clause ("”, ujar Ketua.")
  or is cut before it.
* No cut ever falls inside a word (except in scripts written without spaces),
  a grapheme cluster (a flag, a ZWJ family emoji, a letter with combining
  marks), a URL, an @mention or a #hashtag.
* Hashtags are listed by priority; a cap counts what is actually in the post
  (inline tags of the kept body included) and keeps the highest-priority ones.
  A listed tag whose inline copy was trimmed away comes back at the end.
* X threads split instead of trimming: each part within the limit, numbered,
  never beginning with what closed the previous paragraph.
* The result fits, or ``Fit.fits`` is False and the caller reports a problem.
  There is no silent hard cut.

Cost is linear in the text: a cut is searched for only in a window that grows
by doubling until the prefix no longer fits, so a 1 MB body costs about what
the part of it that fits costs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from functools import lru_cache

import regex

from crosspost import twittertext
from crosspost.config import FindUs, FindUsLink, HashtagStyle
from crosspost.units import grapheme_pattern

Measure = Callable[[str], int]

ELLIPSIS = "…"

#: A paragraph or sentence cut must keep at least this share of what the best
#: word cut keeps (and a word cut this share of the best cut anywhere); below it
#: the next finer boundary is used.
MIN_SHARE = 0.6

#: A cut after a clause ("…public speaking, di lingkungan" cut after the comma)
#: reads better than one mid-phrase, but is taken only when it loses little.
CLAUSE_SHARE = 0.85

#: A thread loses nothing by ending a part early, only adds a part: so a part
#: ends at a paragraph or sentence even when that fills it less.
SPLIT_SHARE = 0.35

#: The steps an adapter may list in its drop order, in the default order.
DROP_STEPS = (
    "find_us:own",
    "find_us:compact",
    "find_us:lines",
    "find_us",
    "body",
    "hashtags",
)

#: The first prefix (in code points) tried when looking for where a cut can
#: fall; it doubles until the prefix no longer fits.
FIRST_PROBE = 512
#: How far past the probe entities are looked for, so that a URL or hashtag
#: crossing the probe is seen whole (a URL longer than this is cut as words).
WINDOW_MARGIN = 4096
#: An attribution clause after a closing quote ("”, ujar Ketua KPU.") is kept
#: with its quote when it ends a sentence within this many code points.
ATTRIBUTION_REACH = 120

# A sentence ends at . ! ? … (possibly repeated), optionally followed by closing
# quotes or brackets, and then white space.
_SENTENCE_END = regex.compile(r"[.!?…]+[\"'”’)\]»]*(?=\s)")
_TERMINATOR = regex.compile(r"[.!?…]+[\"'”’)\]»]*")
_LINE = regex.compile(r"[^\n]+")
# A letter or digit of a script written with spaces between words.
_WORDISH = regex.compile(
    r"(?![\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}])"
    r"[\p{L}\p{N}\p{M}]"
)
# What a cut text may not end with before its "…": separators, opening
# brackets and quotes, a closing quote after a comma, emoji and other symbols.
_DANGLING = regex.compile(
    r"[\s,;:\-–—/&·|(\[{<“‘«„‚\"'”’»\p{So}\p{Sk}\p{Extended_Pictographic}"
    r"\p{Emoji_Modifier}\u200d\ufe0f\u20e3]"
)
_ATTRIBUTED_QUOTE = regex.compile(r"(?<![.!?…])[”»]|(?<=[,;:])\"")
_OPENERS = {"“": "”", "«": "»", "(": ")", "[": "]", "{": "}"}
_PAIRED = regex.compile(r'[“”«»()\[\]{}"]')
_CLOSERS = set(_OPENERS.values())


class Boundary(IntEnum):
    """Where a text may be cut, from the most to the least natural."""

    PARAGRAPH = 0
    SENTENCE = 1
    CLAUSE = 2
    WORD = 3
    GRAPHEME = 4


class FindUsForm(IntEnum):
    """How much of the "Find Us On" block is shown."""

    FULL = 0
    WITHOUT_OWN = 1
    COMPACT = 2
    NONE = 3


@dataclass(frozen=True, slots=True)
class Layout:
    """How a platform arranges a post: section order, hashtag style, section separator."""

    sections: tuple[str, ...] = ("body", "link", "hashtags", "find_us")
    hashtag_style: HashtagStyle = "lines"
    separator: str = "\n"


@dataclass(frozen=True, slots=True)
class ReadMore:
    """The way to the full text that a trimmed body keeps: words, then a URL.

    ``url`` may be a placeholder for a URL only known at publish time (the same
    announcement's post on another platform; ``continuation``).
    """

    url: str
    text: str = ""

    @property
    def line(self) -> str:
        """The line as posted: "Selengkapnya: https://…"."""
        return f"{self.text} {self.url}".strip()


@dataclass(frozen=True, slots=True)
class Draft:
    """The pieces of one platform's post before fitting.

    ``hashtags`` are the listed tags (without '#'), highest priority first,
    including those also written inline; ``max_hashtags`` caps the hashtags
    actually in the post, the body's inline ones counted. ``read_more`` replaces
    the link section when the body is trimmed.
    """

    body: str
    link: str | None = None
    hashtags: tuple[str, ...] = ()
    find_us: FindUs | None = None
    platform: str = ""
    read_more: ReadMore | None = None
    max_hashtags: int | None = None


@dataclass(frozen=True, slots=True)
class Fit:
    """The fitted text, its length, and what was given up to get there.

    ``left_out`` are the listed hashtags that are not in the post (the cap, or
    all hashtags dropped), highest priority first.
    """

    text: str
    length: int
    fits: bool
    trimmed: bool = False
    dropped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()


# -- the "Find Us On" block ------------------------------------------------------


def find_us_block(find_us: FindUs, platform: str, form: FindUsForm, keep: int | None = None) -> str:
    """The "Find Us On" block in ``form``, for a post on ``platform``.

    ``keep`` (compact form only) keeps that many links, the website first. An
    ``@handle`` is written only on the platform it belongs to: elsewhere the
    same name may be someone else's account.
    """
    if form is FindUsForm.NONE:
        return ""
    links = find_us.links
    if form >= FindUsForm.WITHOUT_OWN:
        links = [link for link in links if link.platform != platform]
    if form is FindUsForm.COMPACT:
        if keep is not None:
            links = _website_first(links)[:keep]
        items = [f"{link.label} {_shown(link, platform, compact=True)}" for link in links]
        return f"{find_us.heading} " + " · ".join(items) if items else ""
    lines = [find_us.rule] if find_us.rule else []
    lines.append(find_us.heading)
    lines += [f"{link.label}: {_shown(link, platform)}" for link in links]
    if find_us.closing:
        lines.append(find_us.closing)
    return "\n".join(lines)


def _shown(link: FindUsLink, platform: str, *, compact: bool = False) -> str:
    if compact and link.url and not link.text:
        return link.url
    if link.text:
        return link.text
    if link.url:
        return link.url
    if link.handle:
        return f"@{link.handle}" if link.platform == platform else link.handle
    return ""


def website(find_us: FindUs | None) -> FindUsLink | None:
    """The link marked ``website = true``, else the first link with a URL and no platform."""
    if find_us is None:
        return None
    marked = [link for link in find_us.links if link.website]
    if marked:
        return marked[0]
    return next((link for link in find_us.links if link.url and not link.platform), None)


def _website_first(links: Sequence[FindUsLink]) -> list[FindUsLink]:
    site = [link for link in links if link.website or (link.url and not link.platform)][:1]
    return site + [link for link in links if link not in site]


def _find_us_steps(draft: Draft) -> list[tuple[str, FindUsForm, int | None]]:
    """Every form the block can take, richest first, with the drop step that reaches it."""
    steps: list[tuple[str, FindUsForm, int | None]] = [("", FindUsForm.FULL, None)]
    if draft.find_us is None:
        return steps
    links = draft.find_us.links
    others = [link for link in links if link.platform != draft.platform]
    if len(others) < len(links):
        steps.append(("find_us:own", FindUsForm.WITHOUT_OWN, None))
    if others:
        steps.append(("find_us:compact", FindUsForm.COMPACT, None))
        steps += [("find_us:lines", FindUsForm.COMPACT, k) for k in range(len(others) - 1, 0, -1)]
    steps.append(("find_us", FindUsForm.NONE, None))
    return steps


# -- composing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Shape:
    """What is left of the optional sections: the Find Us form, and whether tags stay."""

    form: FindUsForm = FindUsForm.FULL
    keep: int | None = None
    hashtags: bool = True


def compose(draft: Draft, layout: Layout, form: FindUsForm = FindUsForm.FULL) -> str:
    """Join the draft's sections in the layout's order, leaving out empty ones."""
    return _compose(draft, layout, _Shape(form), draft.body.strip(), trimmed=False)


def _compose(draft: Draft, layout: Layout, shape: _Shape, body: str, *, trimmed: bool) -> str:
    pieces = []
    for section in layout.sections:
        if section == "body":
            piece = body
        elif section == "link":
            piece = _link_line(draft, body, trimmed)
        elif section == "hashtags":
            joiner = "\n" if layout.hashtag_style == "lines" else " "
            tags = appended_hashtags(draft, body) if shape.hashtags else []
            piece = joiner.join(f"#{tag}" for tag in tags)
        elif section == "find_us":
            piece = (
                find_us_block(draft.find_us, draft.platform, shape.form, shape.keep)
                if draft.find_us
                else ""
            )
        else:
            raise ValueError(f"unknown layout section {section!r}")
        if piece:
            pieces.append(piece)
    return layout.separator.join(pieces)


def _link_line(draft: Draft, body: str, trimmed: bool) -> str:
    """The link section: the read-more line under a trimmed body, else the link."""
    if trimmed and draft.read_more is not None and not _shows(body, draft.read_more.url):
        return draft.read_more.line
    # A link the body already shows is not repeated.
    return draft.link if draft.link and not _shows(body, draft.link) else ""


def _shows(body: str, url: str) -> bool:
    """Whether ``body`` shows ``url`` itself (not a longer URL that starts with it)."""
    if url not in body:
        return False
    return any(found.text == url for found in twittertext.extract_urls(body))


def appended_hashtags(draft: Draft, body: str) -> list[str]:
    """The listed hashtags added after ``body``: those it does not show, within the cap.

    The cap counts the hashtags actually in the post: the body's inline ones
    (which stay, they are the author's words) and the added ones, highest
    priority first.
    """
    inline = {tag.casefold() for tag in _inline(body)}
    tags = [tag for tag in draft.hashtags if tag.casefold() not in inline]
    if draft.max_hashtags is not None:
        tags = tags[: max(draft.max_hashtags - len(inline), 0)]
    return tags


@lru_cache(maxsize=8)
def _inline(text: str) -> tuple[str, ...]:
    # Cached: while fitting, the same body is composed again after each step
    # (a dict finds the same string object without comparing its characters).
    if "#" not in text and "＃" not in text:  # most texts: skip the extraction
        return ()
    return tuple(entity.text for entity in twittertext.extract_hashtags(text))


# -- how a cut text ends -------------------------------------------------------------


def ending(prefix: str, *, line_end: bool = False) -> str:
    """``prefix`` as the end of a trimmed text: "" when nothing worth keeping is left.

    A finished sentence is kept as it is (no "…"); its closing emoji only when
    the cut falls at the end of its line (else they open what follows). A cut
    after a word drops what may not end a text (",", "(", an opening quote, a
    lone emoji), adds "…", then closes the quotes and brackets left open.
    """
    core = prefix.rstrip()
    if not core:
        return ""
    tail = _tail_start(core)
    newline = core.find("\n", tail)
    if newline >= 0:  # lines of emoji alone after the last words: decoration, left out
        core = core[:newline].rstrip()
    finished = _TERMINATOR.search(core, tail)
    if finished is not None:
        return core if line_end else core[: finished.end()]
    core = core[: _dangling_start(core)]
    if not core:
        return ""
    finished = _TERMINATOR.search(core, _tail_start(core))
    if finished is not None:
        return core[: finished.end()]
    return core + ELLIPSIS + _closers(core)


def _dangling_start(text: str) -> int:
    """Where the run of characters that may not end a cut text begins (scanned backwards:
    a ``$``-anchored pattern would try every position of a long text)."""
    i = len(text)
    while i > 0 and _DANGLING.match(text, i - 1, i):
        i -= 1
    return i


def _tail_start(text: str) -> int:
    """Where the run of non-letters, non-digits at the end of ``text`` begins."""
    i = len(text)
    while i > 0 and not text[i - 1].isalnum():
        i -= 1
    return i


def _closers(text: str) -> str:
    """The closing quotes and brackets for those ``text`` leaves open, innermost first."""
    stack: list[str] = []
    for ch in _PAIRED.findall(text):
        if ch in _OPENERS:
            stack.append(_OPENERS[ch])
        elif ch in _CLOSERS:
            if ch in stack:
                while stack and stack.pop() != ch:
                    pass
        elif ch == '"':
            if stack and stack[-1] == '"':
                stack.pop()
            else:
                stack.append('"')
    return "".join(reversed(stack))


# -- where a text may be cut ---------------------------------------------------------


def cut_points(text: str, end: int | None = None) -> dict[Boundary, list[int]]:
    """Every position up to ``end`` where ``text`` may be cut, by kind, ascending.

    Never inside an entity or a grapheme cluster. A word cut never leaves a
    line's closing emoji to open the next piece, nor splits a quote from its
    attribution; a sentence that a line's emoji close ends after them.
    """
    stop = len(text) if end is None else min(len(text), end)
    window = text[: min(len(text), stop + WINDOW_MARGIN)]
    blocked = bytearray(len(window) + 1)  # no cut of any kind here
    for entity in twittertext.extract_entities(window):
        blocked[entity.start + 1 : entity.end] = b"\x01" * (entity.end - entity.start - 1)
    closing = bytearray(len(window) + 1)  # no word cut here
    for start, stop_at in _attributions(window):
        closing[start:stop_at] = b"\x01" * (stop_at - start)
    for line in _LINE.finditer(window):  # a line's closing run of emoji and punctuation
        tail = _tail_start(line[0]) + line.start()
        closing[tail : line.end()] = b"\x01" * (line.end() - tail)
    allowed = [
        p
        for p in (m.end() for m in grapheme_pattern().finditer(window))
        if p <= stop and p < len(text) and not blocked[p]
    ]
    words = [
        p
        for p in allowed
        if text[p].isspace() and not text[p - 1].isspace() and (text[p] == "\n" or not closing[p])
    ]
    # A cut between two letters or digits is a cut inside a word: never, except in
    # scripts written without spaces (Chinese, Japanese, Thai…), whose every
    # character boundary is a word's.
    graphemes = [
        p
        for p in allowed
        if not closing[p] and not (_WORDISH.match(text, p - 1) and _WORDISH.match(text, p))
    ]
    allowed_set = set(allowed)
    sentences: set[int] = set()
    for m in _SENTENCE_END.finditer(window, 0, stop):
        p = m.end()
        if closing[p] and text[p] != "\n":
            # The emoji that close the sentence's line stay with it.
            newline = window.find("\n", p)
            p = len(window) if newline < 0 else newline
        if p in allowed_set:
            sentences.add(p)
    paragraphs = [p for p in words if text[p] == "\n"]
    sentence_points = sorted(sentences | set(paragraphs))
    clauses = sorted(set(sentence_points) | {p for p in words if text[p - 1] in ",;:"})
    return {
        Boundary.PARAGRAPH: paragraphs,
        Boundary.SENTENCE: sentence_points,
        Boundary.CLAUSE: clauses,
        Boundary.WORD: words,
        Boundary.GRAPHEME: graphemes,
    }


def _attributions(text: str) -> list[tuple[int, int]]:
    """Spans a word cut may not fall in: from a closing quote to its attribution's end.

    ``“…,” ujar Ketua KPU.``: cutting after the quote or inside "ujar Ketua KPU"
    loses who spoke; the cut goes inside the quotation or after the sentence.
    A quotation that ended its own sentence (``….” Ucap …``) has none.
    """
    spans = []
    for m in _ATTRIBUTED_QUOTE.finditer(text):
        after = m.end()
        if after >= len(text) or text[after] not in " \t":
            continue
        finished = _SENTENCE_END.search(text, after, min(len(text), after + ATTRIBUTION_REACH))
        if finished is None or "\n" in text[after : finished.start()]:
            continue
        spans.append((after, finished.end()))
    return spans


def _last_fitting(points: Sequence[int], ok: Callable[[int], bool]) -> int | None:
    """The largest point for which ``ok`` holds, assuming it holds for a prefix of points."""
    lo, hi = 0, len(points)  # invariant: ok holds below lo, fails at hi and above
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(points[mid]):
            lo = mid + 1
        else:
            hi = mid
    return points[lo - 1] if lo else None


def _reach(text: str, ok: Callable[[int], bool]) -> int:
    """A position past every cut that can fit: where a doubling probe first fails."""
    probe = FIRST_PROBE
    while probe < len(text):
        if not ok(probe):
            return probe
        probe *= 2
    return len(text)


def best_cut(
    text: str,
    ok: Callable[[str], bool],
    finest: Boundary = Boundary.GRAPHEME,
    min_share: float = MIN_SHARE,
) -> tuple[int, Boundary] | None:
    """Where to cut ``text`` so that ``ok(text[:cut])`` holds, at the most natural boundary.

    Returns (position, boundary kind), or None when not even the shortest cut is ok.
    """
    cache: dict[int, bool] = {}

    def ok_at(pos: int) -> bool:
        if pos not in cache:
            cache[pos] = ok(text[:pos])
        return cache[pos]

    def probe_ok(pos: int) -> bool:
        # A probe that lands where nothing is worth keeping yet says nothing.
        return ok_at(pos) or not ending(text[:pos])

    points = cut_points(text, _reach(text, probe_ok))
    best = _last_fitting(points[finest], ok_at)
    if best is None:
        return None
    # Coarser cuts are judged against the best word cut (the finest *natural*
    # one); the word cut itself against the best cut anywhere.
    reference = best
    if finest > Boundary.WORD and points[Boundary.WORD]:
        word = _last_fitting(points[Boundary.WORD], ok_at)
        if word is None:
            # The text has words but not even the first fits: cutting inside a
            # word would leave a stub like "S…"; let the caller give up something else.
            return None
        if word >= min_share * best:
            reference = word
    for kind in Boundary:
        if kind >= finest:
            break
        found = _last_fitting(points[kind], ok_at)
        share = max(min_share, CLAUSE_SHARE) if kind == Boundary.CLAUSE else min_share
        if found is not None and found >= share * (best if kind == Boundary.WORD else reference):
            return found, kind
    return best, finest


def _at_line_end(text: str, pos: int) -> bool:
    return pos >= len(text) or text[pos] == "\n"


def fit_line(text: str, limit: int, measure: Measure) -> tuple[str, bool]:
    """Fit a one-line field (a title) to ``limit``: (text, trimmed); "" if nothing fits."""
    text = " ".join(text.split())
    if measure(text) <= limit:
        return text, False

    def ok(prefix: str) -> bool:
        cut = ending(prefix)
        return bool(cut) and measure(cut) <= limit

    cut = best_cut(text, ok)
    return (ending(text[: cut[0]]) if cut else ""), True


# -- fitting -------------------------------------------------------------------------

_NOTES = {
    "find_us:own": "left out this platform's own line of the Find Us block",
    "find_us:compact": "shortened the Find Us block to one line",
    "find_us:lines": "kept only the Find Us links that fit",
    "find_us": "left out the Find Us block",
    "hashtags": "left out the hashtags",
}


def fit(
    draft: Draft,
    layout: Layout,
    limit: int,
    measure: Measure,
    drop_order: Sequence[str] = DROP_STEPS,
) -> Fit:
    """Fit ``draft`` within ``limit`` (in ``measure``'s unit), giving things up in order."""
    for step in drop_order:
        if step not in DROP_STEPS:
            raise ValueError(f"unknown drop step {step!r}; known: {', '.join(DROP_STEPS)}")
    body = draft.body.strip()
    forms = _find_us_steps(draft)
    shape = _Shape()
    dropped: list[str] = []
    body_allowed = False
    # Sections only add to the body's length: when the body alone is over the
    # limit, no post with the whole body can fit, and measuring each would cost
    # a pass over the whole text per step.
    whole_fits = measure(body) <= limit

    def result(text: str, trimmed: bool, fits: bool = True) -> Fit:
        # Report where each thing ended up, not every intermediate step: the
        # Find Us block's last form, and the hashtags if they went.
        final = [d for d in dropped if d == "hashtags"]
        shrunk = [d for d in dropped if d.startswith("find_us")]
        final = shrunk[-1:] + final
        notes = [_NOTES[d] for d in final]
        if trimmed:
            notes.append("trimmed the body")
        shown = {tag.casefold() for tag in _inline(text)}
        left = tuple(tag for tag in draft.hashtags if tag.casefold() not in shown)
        return Fit(text, measure(text), fits, trimmed, tuple(final), tuple(notes), left)

    def attempt() -> Fit | None:
        if whole_fits:
            text = _compose(draft, layout, shape, body, trimmed=False)
            if measure(text) <= limit:
                return result(text, False)
        if body_allowed:
            trimmed = _trim_body(draft, layout, shape, body, limit, measure)
            if trimmed is not None:
                return result(trimmed, True)
        return None

    done = attempt()
    if done is not None:
        return done
    for step in drop_order:
        if step == "body":
            body_allowed = True
            done = attempt()
        elif step == "hashtags":
            # Listed tags may all be inline in the whole body and still be added back
            # under a trimmed one: giving them up can help even then.
            if not shape.hashtags or not draft.hashtags:
                continue
            dropped.append(step)
            shape = replace(shape, hashtags=False)
            done = attempt()
        else:
            current = next(
                i for i, f in enumerate(forms) if (f[1], f[2]) == (shape.form, shape.keep)
            )
            for name, form, keep in forms[current + 1 :]:
                if name != step:
                    continue
                dropped.append(step)
                shape = replace(shape, form=form, keep=keep)
                done = attempt()
                if done is not None:
                    break
        if done is not None:
            return done
    return result(_compose(draft, layout, shape, body, trimmed=False), False, fits=False)


def _trim_body(
    draft: Draft, layout: Layout, shape: _Shape, body: str, limit: int, measure: Measure
) -> str | None:
    def compose_cut(prefix: str) -> str | None:
        cut = ending(prefix, line_end=_at_line_end(body, len(prefix)))
        return _compose(draft, layout, shape, cut, trimmed=True) if cut else None

    def ok(prefix: str) -> bool:
        text = compose_cut(prefix)
        return text is not None and measure(text) <= limit

    found = best_cut(body, ok)
    if found is None and draft.read_more is not None:
        # Not even a word and the read-more line fit: trim without the line
        # rather than give up the post (the caller's limit is that small).
        return _trim_body(replace(draft, read_more=None), layout, shape, body, limit, measure)
    return compose_cut(body[: found[0]]) if found is not None else None


# -- threads ---------------------------------------------------------------------------


def split(
    draft: Draft, layout: Layout, limit: int, measure: Measure, max_parts: int | None = None
) -> list[str]:
    """Split the whole composed post into numbered parts, each within ``limit``.

    Parts end with ``i/n`` on a line of their own; cuts follow the same boundary
    preference as trimming, but end a part at a paragraph or sentence more
    readily (``SPLIT_SHARE``). The Find Us block is kept whole: on the last part
    when it fits there, else as a part of its own (in one line if need be).
    Returns [] when some piece cannot fit at all; with ``max_parts``, splitting
    stops once the thread is longer (the caller reports it): the cost stays
    bounded whatever the text's length.
    """
    # The reader is already on this platform: its own Find Us line is left out.
    whole = compose(draft, layout, FindUsForm.WITHOUT_OWN)
    if measure(whole) <= limit:
        return [whole]
    main = compose(replace(draft, find_us=None), layout)
    blocks = []
    if draft.find_us is not None:
        for form in (FindUsForm.WITHOUT_OWN, FindUsForm.COMPACT):
            blocks.append(find_us_block(draft.find_us, draft.platform, form))
    total = 2
    parts: list[str] = []
    cap = None if max_parts is None else max_parts + 1
    for _ in range(4):  # the width of "n/n" can change n itself; settle it
        suffix = f"\n{total}/{total}"
        parts = _split_with(main, limit, measure, suffix, cap)
        if not parts or (cap is not None and len(parts) >= cap):
            break
        for block in blocks:
            if not block:
                continue
            if measure(f"{parts[-1]}\n{block}{suffix}") <= limit:
                parts[-1] = f"{parts[-1]}\n{block}"
                break
            if measure(block + suffix) <= limit:
                parts.append(block)
                break
        if len(parts) == total:
            break
        total = len(parts)
    if len(parts) <= 1:  # one part is no thread: no "1/1"
        return parts
    return [f"{part}\n{i}/{len(parts)}" for i, part in enumerate(parts, 1)]


def _split_with(text: str, limit: int, measure: Measure, suffix: str, cap: int | None) -> list[str]:
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if cap is not None and len(parts) >= cap:
            break
        if measure(rest + suffix) <= limit:
            parts.append(rest)
            break
        found = best_cut(
            rest,
            lambda p: bool(p.strip()) and measure(p.rstrip() + suffix) <= limit,
            min_share=SPLIT_SHARE,
        )
        if found is None:
            return []
        parts.append(rest[: found[0]].rstrip())
        rest = rest[found[0] :].strip()
    return parts


__all__ = [
    "DROP_STEPS",
    "ELLIPSIS",
    "Boundary",
    "Draft",
    "FindUsForm",
    "Fit",
    "Layout",
    "ReadMore",
    "appended_hashtags",
    "best_cut",
    "compose",
    "cut_points",
    "ending",
    "find_us_block",
    "fit",
    "fit_line",
    "split",
    "website",
]
