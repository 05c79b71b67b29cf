"""Everything an adapter needs, in one import: ``from crosspost.plugin import ...``.

A third-party adapter (docs/plugins.md) subclasses ``Adapter``, declares its
limits and settings, and talks to its platform through ``PublishContext`` and
``Api`` (safe retries, the journal before the irreversible step, honest errors).
The names here are the plugin API; the modules they come from may move.
The network names (``PublishContext``, ``Api``, ``json_body``…) are loaded on
first use, so an adapter's render (preview) never imports httpx; import them
inside ``publish`` or under ``TYPE_CHECKING`` at the top of the adapter module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crosspost.adapter import (
    Account,
    Adapter,
    Fields,
    Finding,
    Limits,
    Login,
    LoginSession,
    MediaChoice,
    Part,
    Post,
    Published,
    Resume,
    Sent,
    over_size,
    public_url,
)
from crosspost.config import Configuration, PlatformSettings
from crosspost.errors import (
    AuthError,
    ConfigError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.fitting import Layout
from crosspost.media import MediaFile
from crosspost.models import Loaded, Overrides
from crosspost.polling import Pace
from crosspost.redaction import redact, register
from crosspost.twittertext import extract_urls
from crosspost.units import Unit, grapheme_length, utf16_length

if TYPE_CHECKING:
    from crosspost.api import (
        Api,
        PublishContext,
        excerpt,
        file_chunks,
        file_size,
        json_body,
        retry_after,
    )

#: Names from ``crosspost.api``, imported on first use: it imports httpx, which a
#: preview (an adapter's render) must not pay for.
_NETWORK = frozenset(
    {"Api", "PublishContext", "excerpt", "file_chunks", "file_size", "json_body", "retry_after"}
)


def __getattr__(name: str) -> Any:
    if name in _NETWORK:
        from crosspost import api

        return getattr(api, name)
    raise AttributeError(f"module 'crosspost.plugin' has no attribute {name!r}")


__all__ = [
    "Account",
    "Adapter",
    "Api",
    "AuthError",
    "ConfigError",
    "Configuration",
    "Fields",
    "Finding",
    "InvalidContentError",
    "Layout",
    "Limits",
    "Loaded",
    "Login",
    "LoginSession",
    "MediaChoice",
    "MediaFile",
    "Overrides",
    "Pace",
    "Part",
    "PlatformError",
    "PlatformSettings",
    "Post",
    "PublishContext",
    "Published",
    "RateLimitedError",
    "Resume",
    "Sent",
    "TransientError",
    "Unit",
    "UnknownOutcomeError",
    "excerpt",
    "extract_urls",
    "file_chunks",
    "file_size",
    "grapheme_length",
    "json_body",
    "over_size",
    "public_url",
    "redact",
    "register",
    "retry_after",
    "utf16_length",
]
