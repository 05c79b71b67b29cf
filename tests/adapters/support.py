"""Helpers shared by the adapter tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from crosspost.api import Progress


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
