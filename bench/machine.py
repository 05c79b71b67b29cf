"""What a bench report says about the machine it ran on (the figures are ratios, but a
reader still wants to know the CPU, the cores, Python and the commit)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine(*, commit: bool = False) -> str:
    """CPU model, cores, Python and OS; with ``commit``, the commit measured."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = (
        f"{model}, {os.cpu_count()} cores (nproc), Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    if not commit:
        return text
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        head = ""
    return f"{text}; commit {head or '?'}"
