"""Benchmark: publishing to five platforms at once vs one at a time.

Run:  .venv/bin/python bench/concurrency.py [--delay 0.1] [--runs 3]

Every response of every fake platform (served over real loopback HTTP) is
delayed by ``--delay`` seconds. Measures the wall time of publishing the example
to all five platforms together, to each platform alone, and reports:
all-five / slowest-single (target <= 1.3x) and the sequential sum.
Status polls wait ``--poll`` seconds (the CLI's default is 2 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crosspost.planning import plan_file  # noqa: E402
from crosspost.publishing import Policy, run  # noqa: E402
from crosspost.state import open_store  # noqa: E402
from tests.fakes.world import EXAMPLE, World  # noqa: E402

PLATFORMS = ("facebook", "instagram", "tiktok", "youtube", "twitter")


def once(only: tuple[str, ...], delay: float, poll: float) -> float:
    """Seconds to publish the example to ``only``, against fresh, delayed fakes."""
    world = World()
    for fake in [*world.fakes.values(), world.media]:
        fake.delay = delay
    with world.serving(), tempfile.TemporaryDirectory() as tmp:
        config = world.config(Path(tmp) / "config.toml")
        plan = plan_file(EXAMPLE / "announcement.toml", config_path=config, only=list(only))
        store = open_store(Path(tmp) / "state", legacy=Path(tmp) / "none")
        start = time.perf_counter()
        results = run(plan, store=store, environ=world.environ(), policy=Policy(poll_interval=poll))
        elapsed = time.perf_counter() - start
        store.close()
    bad = [r for r in results if r.status != "published"]
    if bad:
        raise SystemExit(f"publish failed: {bad}")
    return elapsed


def main() -> None:
    """Measure and report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--poll", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    single = {
        name: statistics.median(once((name,), args.delay, args.poll) for _ in range(args.runs))
        for name in PLATFORMS
    }
    together = statistics.median(once(PLATFORMS, args.delay, args.poll) for _ in range(args.runs))
    slowest = max(single, key=lambda n: single[n])
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; every fake response delayed {args.delay * 1000:.0f} ms, "
        f"polls every {args.poll * 1000:.0f} ms; medians of {args.runs} runs"
    )
    for name, seconds in single.items():
        print(f"  {name:<10} alone: {seconds:.2f} s")
    print(f"all five together: {together:.2f} s")
    print(
        f"slowest single ({slowest}): {single[slowest]:.2f} s -> ratio "
        f"{together / single[slowest]:.2f}x (target <= 1.3x)"
    )
    print(f"sequential sum: {sum(single.values()):.2f} s")


if __name__ == "__main__":
    main()
