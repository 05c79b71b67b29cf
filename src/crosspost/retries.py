"""Retry notices in crosspost's words, through the publishing progress; never stamina's log lines.

stamina reports every scheduled retry through its instrumentation hooks, by
default a ``stamina.retry_scheduled`` log record (structlog or logging) that
Python prints bare on stderr, and that cron mails. crosspost replaces those
hooks with one of its own (https://stamina.hynek.me/en/stable/instrumentation.html):
the retry is told to the platform's ``Progress`` as a step, like

    uploading clip.mp4: connection failed (ReadTimeout); retrying in 2 s (attempt 2)

so it shows where the other steps show (the live display on a terminal, one
line in a log) and nowhere when the progress shows nothing. A progress that
wants retries told differently defines ``retrying(platform, message)``, which
is then called instead of ``step``.

``watch(ctx)`` is called for each ``Api`` (crosspost.api): it installs the hook
and ties the retries of the current asyncio task to ``ctx``'s platform and
progress. Every platform publishes in its own task, so each task's retries
are told as that platform's.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import regex
import stamina.instrumentation

from crosspost.api import Progress
from crosspost.errors import PlatformError
from crosspost.redaction import redact

if TYPE_CHECKING:
    from crosspost.api import PublishContext

#: Longest reason quoted in a notice; the full reason is in the error if all attempts fail.
MAX_REASON = 160

# "...: try again" ends many platform messages: right for a final error, wrong
# in a notice that says crosspost is trying again itself.
_TRY_AGAIN = regex.compile(r"[\s:;,.-]*(?:please\s+)?try again\b.*$", regex.IGNORECASE)


@dataclass
class _Watch:
    platform: str
    progress: _Steps


@dataclass
class _Steps(Progress):
    """A ``Progress`` that passes everything on and remembers each platform's current step."""

    inner: Progress
    current: dict[str, str] = field(default_factory=dict)

    def step(self, platform: str, message: str) -> None:
        """Remember the step, then show it."""
        self.current[platform] = message
        self.inner.step(platform, message)

    def upload_started(self, platform: str, name: str, total: int) -> None:
        """Passed on."""
        self.inner.upload_started(platform, name, total)

    def upload_advanced(self, platform: str, name: str, sent: int) -> None:
        """Passed on."""
        self.inner.upload_advanced(platform, name, sent)

    def retrying(self, platform: str, message: str) -> None:
        """Tell a retry: the inner progress's ``retrying`` if it has one, else as a step."""
        told = getattr(self.inner, "retrying", None)
        if callable(told):
            told(platform, message)
        else:
            self.inner.step(platform, message)

    def __getattr__(self, name: str) -> Any:
        # Anything else the wrapped progress offers (a test recorder's lists, say).
        if name == "inner":  # not set yet (copying): no endless lookup
            raise AttributeError(name)
        return getattr(self.inner, name)


_watching: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar(
    "crosspost_retries", default=None
)


def watch(ctx: PublishContext) -> None:
    """Tell the retries of this task (this platform's publish) through ``ctx.progress``."""
    install()
    if not isinstance(ctx.progress, _Steps):
        ctx.progress = _Steps(ctx.progress)
    _watching.set(_Watch(ctx.platform, ctx.progress))


def install() -> None:
    """Make crosspost's hook stamina's only retry hook (no log lines, no metrics)."""
    if stamina.instrumentation.get_on_retry_hooks() != (on_retry,):
        stamina.instrumentation.set_on_retry_hooks([on_retry])


def on_retry(details: stamina.instrumentation.RetryDetails) -> None:
    """stamina's hook: tell the watched platform's progress, or nothing outside a publish."""
    watched = _watching.get()
    if watched is None:
        return
    step = watched.progress.current.get(watched.platform)
    message = notice(step, details.caused_by, details.wait_for, details.retry_num + 1)
    watched.progress.retrying(watched.platform, message)


def notice(step: str | None, error: BaseException, wait: float, attempt: int) -> str:
    """One line: what failed, why, and when the next attempt goes out."""
    reason = error.message if isinstance(error, PlatformError) else str(error)
    reason = _TRY_AGAIN.sub("", " ".join(reason.split())) or type(error).__name__
    if len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 1] + "…"
    if wait < 0.05:
        when = "now"
    elif wait < 90:
        when = f"in {wait:.1f} s" if wait < 10 else f"in {wait:.0f} s"
    else:
        when = f"in {wait / 60:.0f} min"
    head = f"{step}: " if step else ""
    return redact(f"{head}{reason}; retrying {when} (attempt {attempt})")
