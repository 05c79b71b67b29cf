"""Benchmark: `crosspost preview` start-up against the floor of any typer+pydantic+rich CLI.

Run:  .venv/bin/python bench/preview.py [--runs 11]

Measures, in one script on one machine (a fresh process per run; the three commands
take turns, so a noisy neighbour slows them alike):

* ``crosspost preview examples/musi-rawas/announcement.toml`` (five platforms);
* bench/floor_app.py, the smallest CLI on the same stack (one typer command, one
  pydantic model, one rich panel): the figure of merit is preview / floor, target
  <= 1.3x (issue #8);
* ``python -c "import typer, pydantic, rich"``, the libraries alone;
* renders per second of the example for all five platforms, in-process.

Each is measured twice:

* **bytecode cached**, as an installed crosspost runs (pip compiles every module
  at install time): the runs share a temporary ``PYTHONPYCACHEPREFIX``, filled by
  the warm-up run, so nothing is written into the source tree;
* **compiled every run**: ``PYTHONDONTWRITEBYTECODE=1`` and no cache for
  crosspost's own modules, as an editable install behaves on a machine that sets
  that variable (the installed libraries keep their caches). Every module
  crosspost imports then costs its compile, so the ratio is higher.

Wall and CPU (user + system) medians are both shown: on a busy shared machine wall
times swing with the neighbours, CPU times much less. Not a test: the ratio cancels
most of the machine, not all of it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine  # bench/machine.py (scripts run from bench/)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "musi-rawas" / "announcement.toml"
TARGET = 1.3

COMMANDS = {
    "libraries": [sys.executable, "-c", "import typer, pydantic, rich"],
    "floor": [sys.executable, str(ROOT / "bench" / "floor_app.py"), "preview", "x"],
    "preview": [sys.executable, "-m", "crosspost", "preview", str(EXAMPLE)],
}


Times = dict[str, dict[str, list[float]]]  # command -> "wall" / "cpu" -> seconds per run


def measure(env: dict[str, str], runs: int) -> Times:
    """Wall and CPU (user + system) times of ``runs`` fresh runs of each command, taking
    turns (one warm-up each). CPU time is what a busy shared machine disturbs least."""
    times: Times = {name: {"wall": [], "cpu": []} for name in COMMANDS}
    for cmd in COMMANDS.values():
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    for _ in range(runs):
        for name, cmd in COMMANDS.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
            times[name]["wall"].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            times[name]["cpu"].append(cpu)
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


def report(title: str, times: Times, runs: int) -> None:
    """Print one mode's medians and ratios, wall and CPU."""
    print(f"{title} ({runs} runs each):")
    for kind in ("wall", "cpu"):
        med = {name: statistics.median(times[name][kind]) for name in COMMANDS}
        cells = []
        for name in COMMANDS:
            values = times[name][kind]
            cells.append(
                f"{name} {med[name] * 1000:.0f} ms ({min(values) * 1000:.0f}-"
                f"{max(values) * 1000:.0f})"
            )
        ratio = med["preview"] / med["floor"]
        verdict = "ok" if ratio <= TARGET else "ABOVE TARGET"
        print(f"  {kind:<4} medians: " + ", ".join(cells))
        print(
            f"       preview / floor = {ratio:.2f}x (target <= {TARGET}x: {verdict}); "
            f"preview / libraries = {med['preview'] / med['libraries']:.2f}x; "
            f"floor / libraries = {med['floor'] / med['libraries']:.2f}x"
        )


def main() -> None:
    """Run both modes and print a small report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    base["NO_COLOR"] = "1"
    with tempfile.TemporaryDirectory(prefix="crosspost-bench-pyc-") as cache:
        cached = {**base, "PYTHONPYCACHEPREFIX": cache}
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        report("bytecode cached (as installed)", measure(cached, args.runs), args.runs)
    uncached = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
    title = "compiled every run (editable, no bytecode cache)"
    report(title, measure(uncached, args.runs), args.runs)
    rate, count = renders_per_second()
    print(f"renders: {rate:.0f} plans/s of the example, all five platforms ({count} in ~3 s)")


if __name__ == "__main__":
    main()
