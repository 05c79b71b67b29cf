"""The crash harness (issue #6): kill `crosspost publish` anywhere; a rerun publishes exactly once.

`crosspost publish --now` runs as a real process against the five fakes on
loopback. A clean run counts N, the platform requests of a full publish of the
example. Then for every k in 1..N the process is SIGKILLed at the k-th request,
either before the fake acts on it or after it acted and before the answer goes
out (the post exists, the client never hears). A rerun without flags (again
while it exits 3, a couple of times) must leave every platform with exactly one
post and say so: zero duplicates, zero silent losses. SIGINT and SIGTERM must
stop a run cleanly; overlapping runs of the same announcement must not post twice.

Select these tests with ``-m crash``; they also run in the default suite.
"""

from __future__ import annotations

import re
import signal
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.crash import (
    PLATFORMS,
    STOPPED,
    Outcome,
    Setup,
    crash_world,
    exactly_once,
    finish,
)
from tests.fakes.world import World

pytestmark = pytest.mark.crash

#: Crash points run side by side: each is mostly a process waiting on loopback I/O.
WORKERS = 3

#: Where SIGINT/SIGTERM arrive: the first request, the first upload, the first create.
SIGNAL_POINTS = {
    "early": None,
    "during-uploads": r"POST /2/media/upload$|PUT /upload/youtube/|PUT /video/$",
    "around-creates": r"POST /2/tweets$|/media_publish$|POST /v[\d.]+/\d+/photos$",
}


@pytest.fixture
def world() -> Iterator[World]:
    """A crash world (see ``crash_world``), serving on loopback for the test."""
    w = crash_world()
    with w.serving():
        yield w


@dataclass(frozen=True)
class CleanRun:
    """A publish without crash: the counted requests in order, and each fake's own count."""

    log: list[str]
    per_platform: dict[str, int]
    media_requests: int


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    """A clean five-platform publish of the example; it must publish everything once."""
    world = crash_world()
    with world.serving():
        setup = Setup(world, tmp_path_factory.mktemp("clean"))
        outcome = setup.publish("--json")
        wrong = exactly_once(world, outcome)
        run = CleanRun(
            list(world.tripwire.log),
            {name: len(fake.requests) for name, fake in world.fakes.items()},
            len(world.media.requests),
        )
    assert not wrong, f"the clean run did not publish everything once: {wrong}; {outcome}"
    return run


def test_clean_run_counts_every_platform_request(clean: CleanRun) -> None:
    """N, the sweep's length, counts every request to the five platforms and nothing else."""
    assert all(clean.per_platform.values()), clean.per_platform
    assert len(clean.log) == sum(clean.per_platform.values())
    assert clean.media_requests > 0  # Instagram fetched the image: not a kill point


def test_tripwire_kills_before_or_after_the_platform_acts(world: World, tmp_path: Path) -> None:
    """The harness itself: act=False kills before the tweet exists, act=True after it does."""
    before = Setup(world, tmp_path / "before").crash(1, act=False, match=r"POST /2/tweets$")
    assert before.code == -signal.SIGKILL and before.signalled == "POST /2/tweets"
    assert world.twitter.tweets == [] and world.twitter.calls(r"POST /2/tweets$") == []
    after = Setup(world, tmp_path / "after").crash(1, act=True, match=r"POST /2/tweets$")
    assert after.code == -signal.SIGKILL and after.signalled == "POST /2/tweets"
    assert len(world.twitter.tweets) == 1


@dataclass(frozen=True)
class Point:
    """Where to kill: the k-th platform request, or the k-th one that is ``key``
    (``METHOD /path``)."""

    k: int
    key: str | None = None

    @property
    def match(self) -> str | None:
        """The tripwire's regex for ``key``."""
        return None if self.key is None else f"^{re.escape(self.key)}$"

    def __str__(self) -> str:
        return f"k={self.k:>2}" if self.key is None else f"{self.key} #{self.k}"


@dataclass
class Crash:
    """One kill point's runs, and what went wrong there."""

    crashed: Outcome
    runs: list[Outcome]
    problems: list[str]


def _kill_point(point: Point, act: bool, folder: Path) -> Crash:
    """Kill at ``point`` in a fresh world, settle with reruns; what went wrong, if anything."""
    world = crash_world()
    with world.serving():
        setup = Setup(world, folder)
        crashed = setup.crash(point.k, act=act, match=point.match)
        runs = setup.settle()
        wrong = exactly_once(world, runs[-1])
    final = runs[-1]
    where = f"{point} act={act}"
    if point.key is None:
        where += f" at {crashed.signalled or '-'} #{crashed.signalled_nth}"
    problems = []
    if crashed.code != -signal.SIGKILL:
        problems.append(f"{where}: not killed (exit {crashed.code}): {crashed.last_line!r}")
    problems += [
        f"{where}: {name}: {posts} post(s), told {status!r}, exit {final.code} after "
        f"{len(runs)} rerun(s): {final.said(name)!r}"
        for name, posts, status in wrong
    ]
    if any("Traceback" in run.stderr for run in runs):
        problems.append(f"{where}: a rerun printed a traceback: {final.last_line!r}")
    return Crash(crashed, runs, problems)


def _sweep(points: list[Point], act: bool, folder: Path) -> list[Crash]:
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(
            pool.map(lambda i: _kill_point(points[i], act, folder / f"p{i}"), range(len(points)))
        )


def _occurrences(log: list[str]) -> Counter[tuple[str, int]]:
    """Each request of ``log`` as (``METHOD /path``, n-th time that one was sent)."""
    seen: Counter[str] = Counter()
    out: Counter[tuple[str, int]] = Counter()
    for key in log:
        seen[key] += 1
        out[(key, seen[key])] += 1
    return out


@pytest.mark.parametrize("act", [False, True], ids=["before-acting", "after-acting"])
def test_sigkill_at_every_request_then_rerun_publishes_each_platform_once(
    act: bool, clean: CleanRun, tmp_path: Path
) -> None:
    """SIGKILL at each k of N (before the fake acts, or after with the answer lost); a rerun
    without flags ends with one post per platform, exit 0, every platform told published.

    The platforms run concurrently, so the k-th request is not the same one in every
    run: requests of the clean run that no k happened to hit are then killed at by
    name (the n-th ``METHOD /path``), so every request of a publish is a kill point.
    """
    total = len(clean.log)
    crashes = _sweep([Point(k) for k in range(1, total + 1)], act, tmp_path / "k")
    hit = {(c.crashed.signalled, c.crashed.signalled_nth) for c in crashes}
    missed = [key for key in _occurrences(clean.log) if key not in hit]
    extra = [Point(nth, key) for key, nth in missed]
    crashes += _sweep(extra, act, tmp_path / "extra")
    failures = [line for crash in crashes for line in crash.problems]
    assert not failures, (
        f"{len(failures)} problem(s) over {total} kill points and {len(extra)} more by name "
        f"(act={act}):\n" + "\n".join(failures)
    )


#: The first status poll of each platform that processes a post before it goes live.
PROCESSING_POLLS = ("POST /v2/post/publish/status/fetch/", "GET /v25.0/18000001")


def test_sigkill_while_platforms_still_process_then_rerun_publishes_once(tmp_path: Path) -> None:
    """Killed at TikTok's or Instagram's first status poll while the post is still processing
    (before or after the poll is answered): reruns (again while one exits 3) end with one post
    per platform, every one told published."""

    def point(i: int, key: str, act: bool) -> list[str]:
        world = crash_world(processing_polls=1)
        with world.serving():
            setup = Setup(world, tmp_path / f"p{i}")
            crashed = setup.crash(1, act=act, match=f"^{re.escape(key)}$")
            runs = setup.settle()
            wrong = exactly_once(world, runs[-1])
        where = f"{key} act={act}"
        problems = [
            f"{where}: {name}: {posts} post(s), told {status!r}, exit {runs[-1].code} after "
            f"{len(runs)} rerun(s): {runs[-1].said(name)!r}"
            for name, posts, status in wrong
        ]
        if crashed.code != -signal.SIGKILL or crashed.signalled != key:
            problems.append(f"{where}: not killed there (exit {crashed.code})")
        return problems

    combos = [(key, act) for key in PROCESSING_POLLS for act in (False, True)]
    with ThreadPoolExecutor(len(combos)) as pool:  # mostly 2 s waits between polls
        found = pool.map(lambda i: point(i, *combos[i]), range(len(combos)))
        failures = [line for lines in found for line in lines]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("where", list(SIGNAL_POINTS))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_cleanly_and_rerun_publishes_each_platform_once(
    world: World, tmp_path: Path, sig: signal.Signals, where: str
) -> None:
    """SIGINT/SIGTERM mid-run: the process stops by itself (exit 1 or 3, no traceback), says
    what happened per platform; a rerun ends with every platform published exactly once."""
    setup = Setup(world, tmp_path)
    stopped = setup.crash(1, act=False, sig=sig, match=SIGNAL_POINTS[where])
    assert stopped.signalled is not None, "the signal was never sent"
    said = stopped.stdout + stopped.stderr
    assert "Traceback" not in said and "KeyboardInterrupt" not in said, said
    everything = set(stopped.statuses.values()) == {"published"}
    assert stopped.code in (1, 3) or (stopped.code == 0 and everything), (stopped.code, said)
    assert set(stopped.statuses) == set(PLATFORMS), f"not every platform reported: {said}"
    assert STOPPED.search(said), f"the output does not say the run was stopped: {said}"
    runs = setup.settle()
    assert exactly_once(world, runs[-1]) == [], runs


@pytest.mark.parametrize("count", [2, 3])
def test_overlapping_publishes_post_each_platform_once(
    world: World, tmp_path: Path, count: int
) -> None:
    """Two or three publishes of one announcement at once: one post per platform overall,
    and every process ends saying all five are published (exit 0)."""
    setup = Setup(world, tmp_path)
    outcomes = [finish(p) for p in [setup.start("--json") for _ in range(count)]]
    for outcome in outcomes:
        assert "Traceback" not in outcome.stderr, outcome.stderr
        assert outcome.code == 0, outcome
        assert outcome.statuses == dict.fromkeys(PLATFORMS, "published"), outcome
    assert exactly_once(world, outcomes[-1]) == []
