"""Benchmark: `crosspost preview` start-up against importing its three big libraries.

Run:  .venv/bin/python bench/preview.py [--runs 11]

Measures, in one script on one machine:
* the median wall time of `crosspost preview examples/musi-rawas/announcement.toml`
  (a fresh process each run) against the median of
  `python -c "import typer, pydantic, rich"` — the ratio is the figure of merit
  (target ≤ 1.5×: preview must not import httpx or do work it does not need);
* renders per second of the example for all five platforms, in-process;
* the same for bench/floor_app.py, the smallest CLI on the same stack (one typer
  command, one pydantic model, one rich panel), which shows how much of the
  ratio any such CLI pays before doing its own work.

Not a test: timings on shared machines are noisy; the ratio cancels most of it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "musi-rawas" / "announcement.toml"


def wall(cmd: list[str], runs: int) -> list[float]:
    """Wall times of ``runs`` fresh runs of ``cmd`` (one warm-up run first)."""
    env = {**os.environ, "NO_COLOR": "1"}
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def renders_per_second(seconds: float = 3.0) -> tuple[float, int]:
    """How many full plans (five platforms) per second, after loading once."""
    from crosspost.config import find_config, load_config
    from crosspost.loader import load_announcement
    from crosspost.planning import build

    config = load_config(find_config(None, EXAMPLE))
    loaded = load_announcement(EXAMPLE, config)
    build(loaded, config)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        build(loaded, config)
        count += 1
    return count / (time.perf_counter() - start), count


def main() -> None:
    """Run both measurements and print a small report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    baseline = wall([sys.executable, "-c", "import typer, pydantic, rich"], args.runs)
    preview = wall([sys.executable, "-m", "crosspost", "preview", str(EXAMPLE)], args.runs)
    floor = wall([sys.executable, str(ROOT / "bench" / "floor_app.py"), "preview", "x"], args.runs)
    rate, count = renders_per_second()
    b, p, f = statistics.median(baseline), statistics.median(preview), statistics.median(floor)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    print(f"baseline  import typer, pydantic, rich: median {b * 1000:.0f} ms ({args.runs} runs)")
    print(f"crosspost preview (example, 5 platforms): median {p * 1000:.0f} ms ({args.runs} runs)")
    print(f"ratio: {p / b:.2f}x (target <= 1.5x)")
    print(
        f"floor: a minimal typer+pydantic+rich app (bench/floor_app.py): median {f * 1000:.0f} ms "
        f"= {f / b:.2f}x the baseline; crosspost preview = {p / f:.2f}x the floor"
    )
    print(f"renders: {rate:.0f} plans/s of the example, all five platforms ({count} in ~3 s)")


if __name__ == "__main__":
    main()
