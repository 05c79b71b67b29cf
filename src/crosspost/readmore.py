"""Which way to the full text a trimmed post keeps, and the placeholder of a link to come.

A trimmed post must never be a dead end (docs/fitting.md, "Read more"). Its
read-more link is, in this order of preference: the announcement's own
``link``; the URL of the same announcement's post on the platform named by
``continue_on`` (published first, in the same run); the ``read_more`` URL of the
platform's table or of the config; the Find Us block's website; the first URL
the body itself carries. The words before it come from ``read_more_text``, by
default from the announcement's language.

A ``continue_on`` URL is only known once the other platform has published, so
the post holds a placeholder until then. It is measured as a stand-in URL of
``RESERVED`` code points (on X every URL weighs 23 whatever its length), and
the runner puts the real URL in its place (``fill``), or the fallback post when
the other platform's post did not go out.
"""

from __future__ import annotations

from collections.abc import Callable

from crosspost import twittertext
from crosspost.config import Configuration, FindUs, PlatformSettings
from crosspost.fitting import ReadMore, website

#: The words before the read-more link, by the announcement's language.
DEFAULT_TEXT = {"id": "Selengkapnya:", "en": "Read more:", "ms": "Selengkapnya:"}
#: The length, in code points, kept for a post URL not known yet: Facebook's
#: ``https://www.facebook.com/{page-id}/posts/{post-id}`` is about 70, the other
#: platforms' permalinks shorter.
RESERVED = 100


def placeholder(platform: str) -> str:
    """What preview shows where ``platform``'s post URL will go."""
    return f"[{platform} post URL]"


def _standin(platform: str) -> str:
    base = f"https://www.{platform}.com/"
    return base + "0" * (RESERVED - len(base))


def measuring(measure: Callable[[str], int], platform: str | None) -> Callable[[str], int]:
    """``measure`` counting the placeholder of ``platform`` as a URL of ``RESERVED`` points."""
    if platform is None:
        return measure
    token, standin = placeholder(platform), _standin(platform)
    return lambda text: measure(text.replace(token, standin))


def fill(text: str, platform: str, url: str) -> str:
    """``text`` with the placeholder of ``platform``'s post replaced by its real ``url``."""
    return text.replace(placeholder(platform), url)


def default_text(language: str | None) -> str:
    """The words before the link for an announcement in ``language`` ("" if unknown)."""
    if not language:
        return ""
    return DEFAULT_TEXT.get(language.split("-")[0].lower(), "")


def choose(
    *,
    link: str | None,
    body: str,
    language: str | None,
    config: Configuration,
    settings: PlatformSettings,
    find_us: FindUs | None,
) -> tuple[ReadMore | None, ReadMore | None]:
    """The read-more line, and the one to use instead when it is a ``continue_on`` link
    whose post does not go out (else None)."""
    text = settings.read_more_text
    if text is None:
        text = config.config.read_more_text
    if text is None:
        text = default_text(language)
    site = website(find_us if find_us is not None else config.config.find_us)
    candidates = [link, settings.read_more, config.config.read_more, site.url if site else None]
    if not any(candidates) and "." in body:  # the body's own URL, only as a last resort
        candidates += [u.text for u in twittertext.extract_urls(body)][:1]
    found = [ReadMore(url, text) for url in candidates if url]
    if settings.continue_on is not None and not link:
        return ReadMore(placeholder(settings.continue_on), text), (found[0] if found else None)
    return (found[0] if found else None), None


__all__ = ["RESERVED", "choose", "default_text", "fill", "measuring", "placeholder"]
