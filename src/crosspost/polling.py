"""How long to wait between status polls of a platform that is processing a post.

A video takes seconds to minutes to process. Asking every 2 seconds for ten
minutes spends a platform's request budget (TikTok's status endpoint allows 30
requests a minute; Meta suggests asking about once a minute), so the waits start
short, grow by ``factor``, and stop growing at ``most`` seconds: a short video
is found quickly, a long one costs few requests. See docs/platforms/*.md for each
platform's numbers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pace:
    """A backoff for status polls: ``first`` seconds, times ``factor`` each time, at most ``most``.

    ``first`` comes from ``PublishContext.poll_interval`` (tests set 0: no wait
    at all); ``most`` is the platform's own ceiling (a setting where the
    platform documents a rate).
    """

    first: float
    most: float
    factor: float = 1.5

    async def polls(self, timeout: float) -> AsyncIterator[None]:
        """Yield before each status poll: the first at once, the next after the next wait,
        never past ``timeout`` seconds from now. When the loop ends without the caller
        leaving it, time ran out: the caller says so.

        One clock (the event loop's) and one backoff for every platform that waits.
        """
        import asyncio  # deferred: render imports this module; only publishing polls

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waits = self.waits()
        while True:
            yield
            left = deadline - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(next(waits), left))

    def waits(self) -> Iterator[float]:
        """The waits before each next poll, forever (the caller stops at its timeout)."""
        wait = max(self.first, 0.0)
        while True:
            yield min(wait, self.most)
            wait *= self.factor


__all__ = ["Pace"]
