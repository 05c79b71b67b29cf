"""Benchmark: ``crosspost run`` over a folder of 1,000 announcements, and ``queue`` over it.

Run:  .venv/bin/python bench/run.py [--files 1000]

Half of the files are due (published to Facebook and X through the fakes,
served over loopback without latency), half are scheduled for tomorrow. Reports:

* the whole run, and its cost per due announcement: (run - idle run) / due,
  where the idle run is the same folder with nothing due, in the same process
  (loading and scanning the folder is the baseline);
* the same again with 10,000 earlier announcements in the state store: the
  ratio of the two per-announcement costs must stay near 1 (cost does not grow
  with history);
* ``queue`` over the folder.

Each figure is the median of ``--runs`` runs; the machine is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crosspost.cli import main as cli  # noqa: E402
from crosspost.journal import stamp  # noqa: E402
from crosspost.state import Entry, open_store  # noqa: E402
from tests.fakes.world import World  # noqa: E402


def lay_out(folder: Path, files: int, due: bool) -> None:
    """``files`` announcements; the even ones due (when ``due``), the rest tomorrow."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("a*.toml"):
        old.unlink()
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(files):
        when = now - timedelta(minutes=1) if due and i % 2 == 0 else now + timedelta(days=1)
        (folder / f"a{i:05d}.toml").write_text(
            f'id = "bench-{folder.name}-{i:05d}"\n'
            f'body = "Pengumuman {folder.name} nomor {i}: rapat pleno terbuka."\n'
            f"publish_at = {when.isoformat()}\n"
            'targets = ["facebook", "twitter"]\n',
            encoding="utf-8",
        )


def timed(*args: str) -> float:
    """Seconds one CLI call takes, its output swallowed; fails loudly on a bad exit."""
    start = time.perf_counter()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = cli(list(args))
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"crosspost {' '.join(args)} exited {code}:\n{sink.getvalue()[-2000:]}")
    return elapsed


def history(state: Path, count: int) -> None:
    """``count`` earlier announcements, each published to two platforms, in the store."""
    store = open_store(state, legacy=state / "none")
    for i in range(count):
        for name in ("facebook", "twitter"):
            store.put(
                f"old-{i:06d}",
                Entry(name, "published", "0" * 16, stamp(), remote_id=str(i), url=f"https://x/{i}"),
            )
    store.close()


def measure(world: World, tmp: Path, files: int, tag: str, earlier: int) -> dict[str, float]:
    """Run the folder with nothing due, then with half due; the per-announcement cost."""
    folder = tmp / tag
    folder.mkdir(parents=True)
    config = world.config(folder / "crosspost.toml")
    config.write_text('state_dir = "state"\n' + config.read_text("utf-8"), encoding="utf-8")
    if earlier:
        history(folder / "state", earlier)
    lay_out(folder, files, due=False)
    idle = timed("run", str(folder))
    queue_idle = timed("queue", str(folder))
    lay_out(folder, files, due=True)
    busy = timed("run", str(folder))
    queue = timed("queue", str(folder))
    due = (files + 1) // 2
    return {
        "idle": idle,
        "run": busy,
        "per_due_ms": (busy - idle) / due * 1000,
        "queue_idle": queue_idle,
        "queue": queue,
    }


def main() -> None:
    """Measure and report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        os.environ["CROSSPOST_HOME"] = str(tmp / "home")
        world = World()
        # X allows 100 posts per 15 minutes per user; the benchmark posts 3,000 and
        # measures crosspost, not X's quota, so the fake's limits are lifted here.
        world.twitter.rate_limits = dict.fromkeys(world.twitter.rate_limits, 10**9)
        with world.serving():
            os.environ.update(world.environ())
            fresh = [measure(world, tmp, args.files, f"fresh{r}", 0) for r in range(args.runs)]
            old = [
                measure(world, tmp, args.files, f"hist{r}", args.history) for r in range(args.runs)
            ]

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; "
        f"{args.files} files, half due (Facebook + X each), fakes without latency; "
        f"medians of {args.runs}"
    )
    for label, rows in (("empty state", fresh), (f"{args.history:,} earlier", old)):
        print(
            f"  {label:>16}: run {med(rows, 'run'):.2f} s (nothing due: {med(rows, 'idle'):.2f} s)"
            f" -> {med(rows, 'per_due_ms'):.1f} ms per due announcement; "
            f"queue {med(rows, 'queue'):.2f} s (before publishing: {med(rows, 'queue_idle'):.2f} s)"
        )
    ratio = med(old, "per_due_ms") / med(fresh, "per_due_ms")
    print(f"per-announcement cost with history / without: {ratio:.2f}x (target ~1.0)")


if __name__ == "__main__":
    main()
