"""The one error tree of crosspost.

Every error a user can meet is a ``CrosspostError`` whose ``str()`` is a
sentence ready to print: it names the place (file, field, platform) and, where
there is one, what to do. The CLI prints it on one line; a traceback appears
only with ``--debug``.

::

    CrosspostError
    ├── InputError                  bad input; exit code 2; nothing was sent
    │   ├── AnnouncementError       announcement.toml: syntax, schema, media, text
    │   ├── ConfigError             config.toml, or an unknown platform name
    │   └── CredentialsError        a secret is missing; names what to set
    └── PlatformError               one platform's publish failed (others go on)
        ├── AuthError               token missing, expired, revoked, or lacks a scope
        ├── InvalidContentError     the platform refused the content (permanent)
        ├── RateLimitedError        429 or a quota; .retry_after when the platform said
        ├── TransientError          5xx, connection refused, a timeout before sending
        └── UnknownOutcomeError     the create call may have landed; never retried blindly

Platform errors carry ``platform``, a stable ``code`` (used in ``--json``), and
``retryable``: whether running the same publish again later is safe and may help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


class CrosspostError(Exception):
    """Base of every error crosspost raises on purpose; ``str()`` is user-ready."""

    exit_code: ClassVar[int] = 1


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in an input: where it is (file:line:col, field path), and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class InputError(CrosspostError):
    """Bad input, config or usage: exit code 2, and nothing was sent anywhere.

    ``problems`` lists every reason found, one line each, so a user fixes them all
    in one go instead of one per run.
    """

    exit_code: ClassVar[int] = 2

    def __init__(self, problems: str | Problem | list[Problem]) -> None:
        if isinstance(problems, str):
            problems = Problem("", problems)
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))


class AnnouncementError(InputError):
    """The announcement cannot be used: syntax, schema, text, media or feasibility."""


class ConfigError(InputError):
    """The configuration (config.toml, environment, options) or a platform name is wrong."""


class CredentialsError(InputError):
    """A secret a platform needs is not set; the message names the variable to set."""


class PlatformError(CrosspostError):
    """One platform's publish failed; the other platforms are not affected."""

    code: ClassVar[str] = "failed"
    retryable: ClassVar[bool] = False

    def __init__(self, platform: str, message: str, *, status: int | None = None) -> None:
        self.platform = platform
        self.message = message
        self.status = status
        super().__init__(message)


class AuthError(PlatformError):
    """The platform refused our credentials: expired, revoked, or missing a permission."""

    code = "auth"


class InvalidContentError(PlatformError):
    """The platform refused the post itself (too long, bad media, duplicate): permanent."""

    code = "invalid_content"


class RateLimitedError(PlatformError):
    """Too many requests or a daily quota; ``retry_after`` seconds when the platform said."""

    code = "rate_limited"
    retryable = True

    def __init__(
        self,
        platform: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(platform, message, status=status)
        self.retry_after = retry_after


class TransientError(PlatformError):
    """A passing fault (5xx, connection refused): nothing was posted; try again later."""

    code = "transient"
    retryable = True


class UnknownOutcomeError(PlatformError):
    """The final create call may or may not have landed: check before posting again."""

    code = "unknown"
    exit_code = 3
