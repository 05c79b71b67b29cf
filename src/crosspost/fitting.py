"""The one fitting implementation: compose a post, measure it, give things up in order.

Every adapter fits its text through this module, so the rules hold everywhere:

* Things are given up in the adapter's declared drop order, each step reported
  (the "Find Us On" block loses the platform's own line, then becomes one
  line, then goes; the body is trimmed; hashtags go last).
* The body is cut at a paragraph, else a sentence, else a word boundary, and
  ends with "…". A coarser boundary is taken only when it keeps a fair share
  (``MIN_SHARE``) of what the finest cut would keep, so a 280-character post is
  not reduced to a 40-character first paragraph.
* No cut ever falls inside a grapheme cluster (a flag, a ZWJ family emoji, a
  letter with combining marks), a URL, an @mention or a #hashtag.
* The link is a section of its own: trimming the body never removes it.
* X threads split instead of trimming: each part within the limit, numbered.
* The result fits, or ``Fit.fits`` is False and the caller reports a problem.
  There is no silent hard cut.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

import regex

from crosspost import twittertext
from crosspost.config import FindUs, HashtagStyle

Measure = Callable[[str], int]

ELLIPSIS = "…"

#: A paragraph or sentence cut must keep at least this share of what the best
#: word cut keeps (and a word cut this share of the best cut anywhere); below it
#: the next finer boundary is used.
MIN_SHARE = 0.6

#: A thread loses nothing by ending a part early, only adds a part: so a part
#: ends at a paragraph or sentence even when that fills it less.
SPLIT_SHARE = 0.35

#: The steps an adapter may list in its drop order, in the default order.
DROP_STEPS = ("find_us:own", "find_us:compact", "find_us", "body", "hashtags")

_GRAPHEME = regex.compile(r"\X")
# A sentence ends at . ! ? … (possibly repeated), optionally followed by closing
# quotes or brackets, and then white space.
_SENTENCE_END = regex.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_TRAILING = regex.compile(r"[\s.,;:]+$")


class Boundary(IntEnum):
    """Where a text may be cut, from the most to the least natural."""

    PARAGRAPH = 0
    SENTENCE = 1
    WORD = 2
    GRAPHEME = 3


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
class Draft:
    """The pieces of one platform's post before fitting; hashtags are without '#'."""

    body: str
    link: str | None = None
    hashtags: tuple[str, ...] = ()
    find_us: FindUs | None = None
    platform: str = ""


@dataclass(frozen=True, slots=True)
class Fit:
    """The fitted text, its length, and what was given up to get there."""

    text: str
    length: int
    fits: bool
    trimmed: bool = False
    dropped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def find_us_block(find_us: FindUs, platform: str, form: FindUsForm) -> str:
    """The "Find Us On" block in ``form``, for a post on ``platform``."""
    if form is FindUsForm.NONE:
        return ""
    links = find_us.links
    if form >= FindUsForm.WITHOUT_OWN:
        links = [link for link in links if link.platform != platform]
    if form is FindUsForm.COMPACT:
        items = [
            f"{link.label} @{link.handle}"
            if link.handle
            else link.label + " " + (link.url or link.shown)
            for link in links
        ]
        return f"{find_us.heading} " + " · ".join(items) if items else ""
    lines = [find_us.rule] if find_us.rule else []
    lines.append(find_us.heading)
    lines += [f"{link.label}: {link.shown}" for link in links]
    if find_us.closing:
        lines.append(find_us.closing)
    return "\n".join(lines)


def compose(draft: Draft, layout: Layout, form: FindUsForm = FindUsForm.FULL) -> str:
    """Join the draft's sections in the layout's order, leaving out empty ones."""
    pieces = []
    for section in layout.sections:
        if section == "body":
            piece = draft.body.strip()
        elif section == "link":
            # A link the body already shows is not repeated.
            piece = draft.link if draft.link and draft.link not in draft.body else ""
        elif section == "hashtags":
            joiner = "\n" if layout.hashtag_style == "lines" else " "
            piece = joiner.join(f"#{tag}" for tag in draft.hashtags)
        elif section == "find_us":
            piece = find_us_block(draft.find_us, draft.platform, form) if draft.find_us else ""
        else:
            raise ValueError(f"unknown layout section {section!r}")
        if piece:
            pieces.append(piece)
    return layout.separator.join(pieces)


def with_ellipsis(prefix: str) -> str:
    """A cut-off text ending in "…" (trailing spaces and , . ; : removed first)."""
    core = _TRAILING.sub("", prefix)
    return core + ELLIPSIS if core else ""


def cut_points(text: str) -> dict[Boundary, list[int]]:
    """Every position where ``text`` may be cut, by kind, ascending; never inside an entity."""
    entities = twittertext.extract_entities(text)
    inside: set[int] = set()
    for entity in entities:
        inside.update(range(entity.start + 1, entity.end))
    graphemes = [m.end() for m in _GRAPHEME.finditer(text)]
    allowed = [p for p in graphemes if p not in inside and p < len(text)]
    allowed_set = set(allowed)
    words = [p for p in allowed if text[p].isspace() and not text[p - 1].isspace()]
    sentences = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() in allowed_set]
    paragraphs = [p for p in words if text[p] == "\n"]
    return {
        Boundary.PARAGRAPH: paragraphs,
        Boundary.SENTENCE: sorted(set(sentences) | set(paragraphs)),
        Boundary.WORD: words,
        Boundary.GRAPHEME: allowed,
    }


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


def best_cut(
    text: str,
    ok: Callable[[str], bool],
    finest: Boundary = Boundary.GRAPHEME,
    min_share: float = MIN_SHARE,
) -> tuple[int, Boundary] | None:
    """Where to cut ``text`` so that ``ok(text[:cut])`` holds, at the most natural boundary.

    Returns (position, boundary kind), or None when not even the shortest cut is ok.
    """
    points = cut_points(text)
    cache: dict[int, bool] = {}

    def ok_at(pos: int) -> bool:
        if pos not in cache:
            cache[pos] = ok(text[:pos])
        return cache[pos]

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
        if found is not None and found >= min_share * (
            best if kind == Boundary.WORD else reference
        ):
            return found, kind
    return best, finest


def fit_line(text: str, limit: int, measure: Measure) -> tuple[str, bool]:
    """Fit a one-line field (a title) to ``limit``: (text, trimmed); "" if nothing fits."""
    text = " ".join(text.split())
    if measure(text) <= limit:
        return text, False
    cut = best_cut(text, lambda p: bool(with_ellipsis(p)) and measure(with_ellipsis(p)) <= limit)
    return (with_ellipsis(text[: cut[0]]) if cut else ""), True


_NOTES = {
    "find_us:own": "left out this platform's own line of the Find Us block",
    "find_us:compact": "shortened the Find Us block to one line",
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
    form = FindUsForm.FULL
    current = draft
    dropped: list[str] = []
    body_allowed = False

    def result(text: str, trimmed: bool, fits: bool = True) -> Fit:
        # Report where each thing ended up, not every intermediate step: the
        # Find Us block's last form, and the hashtags if they went.
        final = [d for d in dropped if d == "hashtags"]
        shrunk = [d for d in dropped if d.startswith("find_us")]
        final = shrunk[-1:] + final
        notes = [_NOTES[d] for d in final]
        if trimmed:
            notes.append("trimmed the body")
        return Fit(text, measure(text), fits, trimmed, tuple(final), tuple(notes))

    text = compose(current, layout, form)
    if measure(text) <= limit:
        return result(text, False)
    for step in drop_order:
        if step == "body":
            body_allowed = True
        elif not _apply(step, current, form):
            continue
        else:
            dropped.append(step)
            if step == "hashtags":
                current = replace(current, hashtags=())
            else:
                form = _FORMS[step]
        text = compose(current, layout, form)
        if measure(text) <= limit:
            return result(text, False)
        if body_allowed:
            trimmed = _trim_body(current, layout, form, limit, measure)
            if trimmed is not None:
                return result(trimmed, True)
    return result(text, False, fits=False)


_FORMS = {
    "find_us:own": FindUsForm.WITHOUT_OWN,
    "find_us:compact": FindUsForm.COMPACT,
    "find_us": FindUsForm.NONE,
}


def _apply(step: str, draft: Draft, form: FindUsForm) -> bool:
    """Whether ``step`` changes anything for this draft in this form."""
    if step == "hashtags":
        return bool(draft.hashtags)
    if step not in _FORMS:
        raise ValueError(f"unknown drop step {step!r}; known: {', '.join(DROP_STEPS)}")
    if draft.find_us is None or _FORMS[step] <= form:
        return False
    if step == "find_us:own":
        return any(link.platform == draft.platform for link in draft.find_us.links)
    return True


def _trim_body(
    draft: Draft, layout: Layout, form: FindUsForm, limit: int, measure: Measure
) -> str | None:
    body = draft.body.strip()

    def ok(prefix: str) -> bool:
        cut = with_ellipsis(prefix)
        return bool(cut) and measure(compose(replace(draft, body=cut), layout, form)) <= limit

    found = best_cut(body, ok)
    if found is None:
        return None
    return compose(replace(draft, body=with_ellipsis(body[: found[0]])), layout, form)


def split(draft: Draft, layout: Layout, limit: int, measure: Measure) -> list[str]:
    """Split the whole composed post into numbered parts, each within ``limit``.

    Parts end with ``i/n`` on a line of their own; cuts follow the same boundary
    preference as trimming, but end a part at a paragraph or sentence more
    readily (``SPLIT_SHARE``). The Find Us block is kept whole: on the last part
    when it fits there, else as a part of its own (in one line if need be).
    Returns [] when some piece cannot fit at all.
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
    for _ in range(4):  # the width of "n/n" can change n itself; settle it
        suffix = f"\n{total}/{total}"
        parts = _split_with(main, limit, measure, suffix)
        if not parts:
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


def _split_with(text: str, limit: int, measure: Measure, suffix: str) -> list[str]:
    parts = []
    rest = text.strip()
    while rest:
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
    "best_cut",
    "compose",
    "cut_points",
    "find_us_block",
    "fit",
    "fit_line",
    "split",
    "with_ellipsis",
]
