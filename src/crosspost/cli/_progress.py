"""Showing publish progress: a live rich display on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from crosspost.api import Progress
from crosspost.cli._output import NAMES

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID


class LineProgress(Progress):
    """One plain line per step and per finished upload: readable in cron mail and logs."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self._uploads: dict[tuple[str, str], list[float]] = {}

    def step(self, platform: str, message: str) -> None:
        """Print the step."""
        # soft_wrap: cron mail is not a terminal; a step must stay one line.
        self.out.print(
            f"{NAMES.get(platform, platform)}: {message}", highlight=False, soft_wrap=True
        )

    def upload_started(self, platform: str, name: str, total: int) -> None:
        """Remember the start, to report the rate at the end."""
        self._uploads[(platform, name)] = [total, 0, time.monotonic()]

    def upload_advanced(self, platform: str, name: str, sent: int) -> None:
        """Print a line when the upload completes."""
        state = self._uploads.get((platform, name))
        if state is None:
            return
        state[1] += sent
        if state[1] >= state[0]:
            seconds = max(time.monotonic() - state[2], 1e-6)
            self.step(
                platform,
                f"uploaded {name}: {_size(state[0])} in {seconds:.1f} s "
                f"({_size(state[0] / seconds)}/s)",
            )
            del self._uploads[(platform, name)]


class LiveProgress(Progress):
    """A rich live display: a spinner line per platform, a bar per upload with bytes and rate."""

    def __init__(self, out: Console) -> None:
        from rich.console import Group
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            SpinnerColumn,
            TextColumn,
            TransferSpeedColumn,
        )
        from rich.progress import (
            Progress as RichProgress,
        )

        self.steps: RichProgress = RichProgress(
            SpinnerColumn(finished_text="•"), TextColumn("{task.description}"), console=out
        )
        self.bars: RichProgress = RichProgress(
            TextColumn("  {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=out,
        )
        self.live = Live(Group(self.steps, self.bars), console=out, refresh_per_second=8)
        self._steps: dict[str, TaskID] = {}
        self._uploads: dict[tuple[str, str], TaskID] = {}

    def __enter__(self) -> LiveProgress:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self._steps.values():
            self.steps.update(task, total=1, completed=1)
        self.live.stop()

    def step(self, platform: str, message: str) -> None:
        """Show the platform's current step."""
        label = f"{NAMES.get(platform, platform)}: {message}"
        task = self._steps.get(platform)
        if task is None:
            self._steps[platform] = self.steps.add_task(label, total=None)
        else:
            self.steps.update(task, description=label)

    def upload_started(self, platform: str, name: str, total: int) -> None:
        """Add a bar for the upload."""
        self._uploads[(platform, name)] = self.bars.add_task(
            f"{NAMES.get(platform, platform)} ↑ {name}", total=total
        )

    def upload_advanced(self, platform: str, name: str, sent: int) -> None:
        """Advance the upload's bar."""
        task = self._uploads.get((platform, name))
        if task is not None:
            self.bars.advance(task, sent)


def _size(count: float) -> str:
    """A byte count for people."""
    for unit in ("B", "kB", "MB"):
        if count < 1000:
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1000
    return f"{count:,.1f} GB"
