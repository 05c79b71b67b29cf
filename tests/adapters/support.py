"""Helpers shared by the adapter tests."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from crosspost.adapter import Sent
from crosspost.api import Journal, Progress


class Recorder(Progress):
    """Records progress calls."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.started: list[int] = []
        self.sent = 0

    def step(self, platform: str, message: str) -> None:
        """Record a step."""
        self.steps.append(message)

    def upload_started(self, platform: str, name: str, total: int) -> None:
        """Record an upload start."""
        self.started.append(total)

    def upload_advanced(self, platform: str, name: str, sent: int) -> None:
        """Count bytes sent."""
        self.sent += sent


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to its end."""
    return asyncio.run(coro)


class RecordingJournal(Journal):
    """Records what an adapter tells the journal, in order, with what ``probe`` saw then.

    ``probe`` (say, how many create requests the fake has received) is called at
    each event, so a test can check that ``sending`` came before the request.
    """

    def __init__(self, probe: Callable[[], Any] | None = None) -> None:
        self.events: list[tuple[str, dict[str, Any], Any]] = []
        self.sent_at: datetime | None = None
        self._probe = probe or (lambda: None)

    def sending(self, platform: str, handles: dict[str, Any]) -> None:
        """Record the irreversible step, and when it was recorded."""
        self.sent_at = datetime.now(UTC)
        self.events.append(("sending", dict(handles), self._probe()))

    def remember(self, platform: str, handles: dict[str, Any]) -> None:
        """Record handles."""
        self.events.append(("remember", dict(handles), self._probe()))

    def handles(self) -> dict[str, Any]:
        """Every handle recorded, merged as the state store merges them."""
        merged: dict[str, Any] = {}
        for _, handles, _ in self.events:
            merged.update(handles)
        return merged

    def sent(self, age: float = 0.0) -> Sent:
        """What the next run reads back: the sending time (``age`` seconds earlier) and handles."""
        assert self.sent_at is not None, "nothing was sent"
        return Sent(self.sent_at - timedelta(seconds=age), self.handles())


class Crashed(Exception):
    """The publishing process "died" at a request (raised by ``crash_at``'s transport)."""


def crash_at(
    transport: httpx.AsyncBaseTransport, pattern: str, *, act: bool, nth: int = 1
) -> httpx.AsyncBaseTransport:
    """``transport``, except that the ``nth`` request matching ``pattern`` ("METHOD /path")
    ends the run with ``Crashed``: after the fake acted on it (``act``: the post exists
    but nobody hears) or before it was sent at all."""
    seen = 0

    class Crashing(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal seen
            if re.search(pattern, f"{request.method} {request.url.path}"):
                seen += 1
                if seen == nth:
                    if act:
                        await transport.handle_async_request(request)
                    raise Crashed(f"{request.method} {request.url.path}")
            return await transport.handle_async_request(request)

    return Crashing()
