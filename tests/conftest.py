"""Test isolation: no user config, no real secrets, no sleeping retries."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "musi-rawas"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point crosspost's home at a temporary folder and clear CROSSPOST_* and proxies."""
    for key in list(os.environ):
        if key.startswith("CROSSPOST_") or key.lower().endswith("_proxy"):
            monkeypatch.delenv(key)
    home = tmp_path / "crosspost-home"
    home.mkdir()
    monkeypatch.setenv("CROSSPOST_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    with stamina.set_testing(True, attempts=4, cap=True):
        yield


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``crash`` marker: the crash harness (``pytest -m crash``)."""
    config.addinivalue_line(
        "markers",
        "crash: the crash harness (kills crosspost at every request; tests/test_crash.py)",
    )
