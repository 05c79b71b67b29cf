"""The crash harness's helpers: run `crosspost publish` as a process, crash it, rerun it, count.

Each crash point gets a fresh ``World`` (the five fakes on loopback) and a fresh
``CROSSPOST_HOME``, so points are independent and can run side by side. The
config adds ``[schedule] settle = "0s"``: a lookup that does not show the post
proves it absent at once, so a rerun can settle every platform without waiting.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from tests.conftest import EXAMPLE, ROOT
from tests.fakes.world import World

ANNOUNCEMENT = EXAMPLE / "announcement.toml"
#: The five platforms, in the order results are reported.
PLATFORMS = ("facebook", "instagram", "tiktok", "youtube", "twitter")
#: How long one crosspost process may take before the harness gives up on it.
TIMEOUT = 120
#: A rerun that ends with exit 3 (a platform still processing) gets this many more looks.
EXTRA_LOOKS = 2


def crash_world(processing_polls: int = 0) -> World:
    """A world for crash runs: 5 ms latency per request, and by default no "still
    processing" answers.

    By default Instagram and TikTok answer "finished" at the first status poll, as
    they often do for a small file; each extra poll costs the client a 2 s sleep,
    which the ~40 runs of a sweep cannot afford. The status request itself still
    happens, so it is still a kill point. ``processing_polls`` answers that many
    polls "in progress" first.
    """
    world = World()
    world.instagram.polls_until_finished = processing_polls
    world.tiktok.processing_polls = processing_polls
    for fake in world.fakes.values():
        fake.delay = 0.005
    return world


@dataclass
class Outcome:
    """How one crosspost process ended."""

    code: int
    stdout: str
    stderr: str
    #: ``METHOD /path`` of the request at which the signal was sent; None if never sent.
    signalled: str | None = None
    #: That request was the n-th with this ``METHOD /path`` in the run.
    signalled_nth: int = 0

    @property
    def json(self) -> Any:
        """The ``--json`` document on stdout, or None when stdout is not JSON."""
        try:
            return json.loads(self.stdout)
        except ValueError:
            return None

    @property
    def results(self) -> dict[str, dict[str, Any]]:
        """Each platform's entry in the ``--json`` results (empty when there are none)."""
        data = self.json
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            return {}
        return {str(r.get("platform")): r for r in results if isinstance(r, dict)}

    @property
    def statuses(self) -> dict[str, str]:
        """Each platform's status in the ``--json`` results (empty when there are none)."""
        return {name: str(r.get("status")) for name, r in self.results.items()}

    def said(self, platform: str) -> str:
        """What the run told about ``platform``: its ``--json`` message, else the last line."""
        message = self.results.get(platform, {}).get("message")
        return str(message)[:160] if message else self.last_line

    @property
    def last_line(self) -> str:
        """The last non-blank line of stderr (else of stdout): what a person would see last."""
        for text in (self.stderr, self.stdout):
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines:
                return lines[-1][:200]
        return ""


@dataclass
class Setup:
    """A config pointing at ``world`` and a crosspost home, both under ``folder``."""

    world: World
    folder: Path
    config: Path = field(init=False)
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        home = self.folder / "home"
        home.mkdir(exist_ok=True)
        config = self.world.config(self.folder / "config.toml")
        data = tomllib.loads(config.read_text("utf-8"))
        data.setdefault("schedule", {})["settle"] = "0s"
        config.write_text(tomli_w.dumps(data), encoding="utf-8")
        self.config = config
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")} | {
            "CROSSPOST_HOME": str(home),
            "NO_COLOR": "1",
        }
        self.env |= self.world.environ()

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start ``crosspost publish --now ARGS ANNOUNCEMENT`` without waiting."""
        command = [sys.executable, "-m", "crosspost", "publish", "--now", *args]
        command += [str(ANNOUNCEMENT), "--config", str(self.config)]
        return subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=ROOT,
        )

    def publish(self, *args: str) -> Outcome:
        """Run ``crosspost publish --now ARGS`` to the end."""
        return finish(self.start(*args))

    def crash(
        self,
        k: int,
        *,
        act: bool,
        sig: signal.Signals = signal.SIGKILL,
        match: str | None = None,
        args: tuple[str, ...] = ("--json",),
    ) -> Outcome:
        """Publish with ``sig`` sent at the k-th platform request (see ``World.kill_at``)."""
        self.world.kill_at(k, act=act, sig=sig, match=match)
        process = self.start(*args)
        self.world.watch(process.pid)
        try:
            outcome = finish(process)
            wire = self.world.tripwire
            outcome.signalled = wire.fired if wire.error is None else None
            outcome.signalled_nth = wire.fired_nth
            if wire.error:
                outcome.stderr += f"\n[harness: {wire.error}]"
            return outcome
        finally:
            self.world.disarm()

    def settle(self) -> list[Outcome]:
        """Rerun ``publish --now --json`` (no other flag); again while it exits 3, at most
        ``EXTRA_LOOKS`` more times. Every run's outcome, the last one last."""
        runs = [self.publish("--json")]
        while runs[-1].code == 3 and len(runs) <= EXTRA_LOOKS:
            runs.append(self.publish("--json"))
        return runs


def finish(process: subprocess.Popen[str]) -> Outcome:
    """Wait for ``process`` (killing it after ``TIMEOUT`` seconds) and collect its output."""
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        stderr += f"\n[harness: no exit after {TIMEOUT} s; killed]"
    return Outcome(process.returncode, stdout, stderr)


def live_posts(world: World) -> dict[str, int]:
    """How many posts each platform shows (or will show) for the announcement.

    A TikTok video counts once all its bytes arrived (it then goes live without
    further requests); an init whose upload never finished is discarded by
    TikTok, so it is not a post. YouTube records a video only when its upload
    completes; Instagram a post only at media_publish (a container is not a post).
    """
    tiktok = [
        p
        for p in world.tiktok.posts
        if p.status == "PUBLISH_COMPLETE"
        or (p.status != "FAILED" and (p.media_type != "VIDEO" or p.complete))
    ]
    return {
        "facebook": len(world.facebook.posts),
        "instagram": len(world.instagram.posts),
        "tiktok": len(tiktok),
        "youtube": len(world.youtube.videos),
        "twitter": len(world.twitter.tweets),
    }


def exactly_once(world: World, final: Outcome) -> list[tuple[str, int, str]]:
    """Each platform that is not published exactly once, as (platform, posts, status).

    Exactly once means one post on the fake and the final run saying published,
    with exit code 0. ``status`` is what the final run reported for it.
    """
    posts = live_posts(world)
    told = final.statuses
    wrong = []
    for name in PLATFORMS:
        status = told.get(name, "missing")
        if posts[name] != 1 or status != "published" or final.code != 0:
            wrong.append((name, posts[name], status))
    return wrong


#: Words that say a run was stopped by a signal, in the human message or the JSON.
STOPPED = re.compile(r"interrupt|stopp|signal|sigint|sigterm|cancel", re.IGNORECASE)
