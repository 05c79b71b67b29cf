"""Everything an adapter needs, in one import: ``from crosspost.plugin import ...``.

A third-party adapter (docs/plugins.md) subclasses ``Adapter``, declares its
limits and settings, and talks to its platform through ``PublishContext`` and
``Api`` (safe retries, the journal before the irreversible step, honest errors).
The names here are the plugin API; the modules they come from may move.
Importing this module imports httpx (through ``crosspost.api``): only plugins
do, when they are loaded.
"""

from __future__ import annotations

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
from crosspost.api import (
    Api,
    PublishContext,
    excerpt,
    file_chunks,
    file_size,
    json_body,
    retry_after,
)
from crosspost.config import PlatformSettings
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
from crosspost.models import Overrides
from crosspost.polling import Pace
from crosspost.units import Unit

__all__ = [
    "Account",
    "Adapter",
    "Api",
    "AuthError",
    "ConfigError",
    "Fields",
    "Finding",
    "InvalidContentError",
    "Layout",
    "Limits",
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
    "file_chunks",
    "file_size",
    "json_body",
    "over_size",
    "public_url",
    "retry_after",
]
