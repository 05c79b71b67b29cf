"""Status polls back off: short first, growing, never above the platform's ceiling."""

from __future__ import annotations

from itertools import islice

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
