"""What adapters use to talk to a platform: one shared client, honest errors, safe retries.

Imported only when publishing (it imports httpx), never for preview.

The rules every adapter follows through ``Api.call``:

* Every URL keeps the platform's real path; ``api_base`` in config replaces
  only the scheme and host (tests and proxies point a platform elsewhere).
* ``Api.call`` is for steps that are safe to repeat (an upload, a chunk, a
  status poll, a token refresh: repeating it cannot post twice); they are
  retried with backoff on transient faults and 429s.
* ``Api.create`` is for the final call that publishes. It is retried only
  when the platform certainly did not act on it: the connection was refused,
  or the platform answered 429. After a
  timeout, a dropped connection or a 5xx, its outcome is *unknown*: it may
  have landed, so it is never sent again (``UnknownOutcomeError``).
* No raw httpx exception escapes: each becomes a ``PlatformError`` subclass.
* Messages never contain secrets (``crosspost.redaction``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import stamina

from crosspost.config import PlatformSettings
from crosspost.credentials import Credentials
from crosspost.errors import (
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.redaction import redact

#: The longest wait for a 429 we sit out inside one run; a longer one fails the
#: platform as rate limited (cron will try again later) instead of hanging.
MAX_RATE_LIMIT_WAIT = 60.0
#: Attempts for a safe step (the first try included).
SAFE_ATTEMPTS = 4
#: Default chunk size for reading files: 1 MiB keeps memory flat for any file size.
READ_CHUNK = 1 << 20
USER_AGENT = "crosspost (+https://pypi.org/project/crosspost/)"


class Journal:
    """Receives a platform's state changes the moment they happen; the default keeps none.

    The runner's journal writes each change to the state store (atomically, on
    disk) before the next step runs, so a run that dies at any point leaves
    behind what is needed to find out what happened (docs/state.md).
    """

    def sending(self, platform: str, handles: dict[str, Any]) -> None:
        """The irreversible step of ``platform`` is about to be sent.

        ``handles`` are what finds the post afterwards (the exact text, a
        container id, an upload session); never a secret.
        """

    def remember(self, platform: str, handles: dict[str, Any]) -> None:
        """Add ``handles`` to ``platform``'s entry (a publish_id the create answered, say)."""


class Progress:
    """Receives what publishing is doing; the CLI shows it, the library default ignores it."""

    def step(self, platform: str, message: str) -> None:
        """A step of ``platform``'s publish started ("uploading video", "creating post")."""

    def upload_started(self, platform: str, name: str, total: int) -> None:
        """An upload of ``total`` bytes began."""

    def upload_advanced(self, platform: str, name: str, sent: int) -> None:
        """``sent`` more bytes of the upload went out."""


Classifier = Callable[[httpx.Response], PlatformError]


class ContentFactory(Protocol):
    """Makes a fresh request body for each attempt (an async byte stream can be read once)."""

    def __call__(self) -> bytes | AsyncIterator[bytes]: ...


@dataclass
class PublishContext:
    """What ``Adapter.publish`` receives: the shared client and this platform's setup."""

    client: httpx.AsyncClient
    platform: str
    settings: PlatformSettings
    credentials: Credentials
    progress: Progress = field(default_factory=Progress)
    #: Seconds between status polls; tests set 0.
    poll_interval: float = 2.0
    #: Give up polling a platform's processing after this many seconds.
    poll_timeout: float = 600.0
    #: Seconds after which a post that a lookup (timeline, feed) does not show
    #: counts as not published; before that it may still be on its way
    #: (``[schedule] settle`` in config).
    settle: float = 600.0
    #: Where state changes go as they happen (the runner's is the state store).
    journal: Journal = field(default_factory=Journal)
    #: The earlier attempt's handles when ``reconcile`` answered ``Resume``: the
    #: post is there, and ``publish`` does only the steps they show are not done.
    previous: dict[str, Any] = field(default_factory=dict)

    def sending(self, **handles: Any) -> None:
        """Record that the irreversible step is next, with what finds the post afterwards.

        ``Api.create`` calls this itself before sending; an adapter whose
        irreversible step is not a ``create`` (YouTube's last chunk) calls it
        directly. Handles must never hold a secret.
        """
        self.journal.sending(self.platform, handles)

    def remember(self, **handles: Any) -> None:
        """Add handles to this platform's entry as soon as the platform hands them out."""
        self.journal.remember(self.platform, handles)

    def api(self, classify: Classifier) -> Api:
        """An ``Api`` for this platform with its error classifier."""
        return Api(self, classify)


def rebase(url: str, api_base: str | None) -> str:
    """``url`` with its scheme and host replaced by ``api_base`` (the path is kept)."""
    if not api_base:
        return url
    base = httpx.URL(api_base)
    return str(httpx.URL(url).copy_with(scheme=base.scheme, host=base.host, port=base.port))


class Api:
    """One platform's view of the shared client: rebased URLs, classified errors, retries."""

    def __init__(self, ctx: PublishContext, classify: Classifier) -> None:
        from crosspost.retries import watch  # retries told through ctx.progress, in our words

        watch(ctx)
        self.ctx = ctx
        self.platform = ctx.platform
        self.classify = classify

    def url(self, url: str) -> str:
        """The real API URL, pointed at ``api_base`` when one is configured."""
        return rebase(url, self.ctx.settings.api_base)

    async def call(
        self,
        method: str,
        url: str,
        *,
        ok: tuple[int, ...] = (200, 201),
        content: ContentFactory | None = None,
        rebased: bool = False,
        attempts: int = SAFE_ATTEMPTS,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request that is safe to repeat; retried on transient faults and 429s.

        Returns the response when its status is in ``ok``. ``content`` makes the
        body anew for each attempt. URLs the platform handed us (an upload URL)
        are rebased too unless ``rebased`` says they already are. ``attempts=1``
        sends once (a caller that resumes by asking the platform, like a resumable
        upload, decides itself what to send again).
        """
        target = url if rebased else self.url(url)
        async for attempt in stamina.retry_context(
            on=_backoff, attempts=attempts, timeout=None, wait_max=30.0
        ):
            with attempt:
                return await self._once(method, target, ok, content, safe=True, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises

    async def create(
        self, method: str, url: str, *, ok: tuple[int, ...] = (200, 201), **kwargs: Any
    ) -> httpx.Response:
        """Send the final, irreversible request (it publishes, or starts publishing).

        Retried only when the platform certainly did not act on it: a refused
        connection, or a 429 with a short wait. Any other failure after sending
        is an ``UnknownOutcomeError``. The journal records ``sending`` first, so a
        run that dies while this is in flight is reconciled, never repeated blindly.
        """
        target = self.url(url)
        self.ctx.sending()
        async for attempt in stamina.retry_context(
            on=_create_backoff, attempts=SAFE_ATTEMPTS, timeout=None, wait_max=30.0
        ):
            with attempt:
                return await self._once(method, target, ok, None, safe=False, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises

    async def _once(
        self,
        method: str,
        url: str,
        ok: tuple[int, ...],
        content: ContentFactory | None,
        *,
        safe: bool,
        **kwargs: Any,
    ) -> httpx.Response:
        if content is not None:
            kwargs["content"] = content()
        try:
            response = await self.ctx.client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached the platform: safe to try again, even a create call.
            raise _NotSent(self.platform, self._say(f"cannot connect ({_why(exc)})")) from exc
        except httpx.TransportError as exc:
            if safe:
                raise TransientError(
                    self.platform, self._say(f"connection failed ({_why(exc)})")
                ) from exc
            raise UnknownOutcomeError(
                self.platform,
                self._say(
                    f"the connection failed after the request was sent ({_why(exc)}); the post "
                    "may or may not have been published: check the account before publishing again"
                ),
            ) from exc
        if response.status_code in ok:
            return response
        await response.aread()
        error = self.classify(response)
        if not safe and isinstance(error, TransientError):
            raise UnknownOutcomeError(
                self.platform,
                self._say(
                    f"the platform answered {response.status_code} to the final request; the post "
                    "may or may not have been published: check the account before publishing again"
                ),
                status=response.status_code,
            )
        raise error

    def _say(self, message: str) -> str:
        return redact(message)


class _NotSent(TransientError):
    """The connection was never made: the request certainly did not reach the platform."""


def _why(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return redact(text)


def _backoff(exc: Exception) -> bool | float:
    if isinstance(exc, RateLimitedError):
        # No stated wait: calling again while throttled only prolongs it (Meta's
        # advice); fail as rate limited and let a later run try.
        if exc.retry_after is None:
            return False
        return exc.retry_after if exc.retry_after <= MAX_RATE_LIMIT_WAIT else False
    return isinstance(exc, TransientError)


def _create_backoff(exc: Exception) -> bool | float:
    if isinstance(exc, _NotSent):
        return True
    if isinstance(exc, RateLimitedError):
        return _backoff(exc)
    return False


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the platform asked us to wait, from the headers it sends.

    ``Retry-After`` (seconds) first; then X's resets (epoch seconds) for whichever
    window is used up: the 15-minute ``x-rate-limit-*`` or the 24-hour
    ``x-user-limit-24hour-*`` / ``x-app-limit-24hour-*`` caps.
    """
    import time

    headers = response.headers
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    for prefix in ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"):
        reset = headers.get(f"{prefix}-reset", "").strip()
        remaining = headers.get(f"{prefix}-remaining", "").strip()
        if reset.isdigit() and (remaining == "0" or (prefix == "x-rate-limit" and not remaining)):
            return max(float(reset) - time.time(), 0.0)
    return None


def file_size(path: Path) -> int:
    """The size of a media file, in bytes."""
    return os.stat(path).st_size


def file_chunks(
    path: Path,
    start: int,
    end: int,
    *,
    progress: Progress | None = None,
    platform: str = "",
    name: str = "",
) -> ContentFactory:
    """A body factory streaming bytes [start, end) of ``path`` from disk, 1 MiB at a time.

    The file is never held whole in memory; each call of the factory opens it
    afresh so a retried chunk is read again from disk.
    """

    def factory() -> AsyncIterator[bytes]:
        async def stream() -> AsyncIterator[bytes]:
            with path.open("rb") as handle:
                handle.seek(start)
                left = end - start
                while left > 0:
                    data = handle.read(min(READ_CHUNK, left))
                    if not data:
                        raise TransientError(
                            platform, f"{name}: the file got shorter while uploading"
                        )
                    left -= len(data)
                    if progress is not None:
                        progress.upload_advanced(platform, name, len(data))
                    yield data

        return stream()

    return factory


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or None when it has none (a proxy's HTML error page, say)."""
    try:
        return response.json()
    except ValueError:
        return None


def excerpt(response: httpx.Response, limit: int = 200) -> str:
    """A short, redacted piece of a response body for an error message."""
    text = " ".join(response.text.split())
    return redact(text[:limit] + ("…" if len(text) > limit else ""))


def new_client(
    timeout: float = 60.0, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one client a publish run uses (the runner creates it; adapters never do)."""
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=15.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )
