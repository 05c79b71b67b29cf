"""Status polls back off: short first, growing, never above the platform's ceiling."""

from __future__ import annotations

from itertools import islice

import pytest

from crosspost.polling import Pace


def test_waits_grow_by_the_factor_and_stop_at_the_ceiling() -> None:
    """2 s, 3 s, 4.5 s, … and never more than ``most``."""
    waits = list(islice(Pace(first=2.0, most=10.0).waits(), 7))
    assert waits[:3] == [2.0, 3.0, 4.5]
    assert max(waits) == 10.0
    assert waits == sorted(waits)


def test_a_zero_first_wait_never_waits() -> None:
    """Tests set poll_interval 0: every wait is zero."""
    assert set(islice(Pace(first=0.0, most=60.0).waits(), 20)) == {0.0}


def test_polls_stop_when_the_time_is_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first poll comes at once; each wait is cut to the time left; then the loop ends."""
    import asyncio

    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr("asyncio.sleep", sleep)

    async def count() -> int:
        polls = 0
        async for _ in Pace(first=0.02, most=0.05).polls(0.1):
            polls += 1
        return polls

    polls = asyncio.run(count())
    assert polls == len(slept) + 1  # a poll before every wait, and one after the last
    assert slept[0] == 0.02 and all(s <= 0.05 for s in slept)
    assert sum(slept) <= 0.1 + 1e-6
