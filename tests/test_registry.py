"""The registry, the public API surface and packaging."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

import crosspost
from crosspost import registry
from crosspost.errors import ConfigError

ADAPTERS_DIR = Path(__file__).resolve().parent.parent / "adapters" / "crosspost_adapters"


def test_builtin_modules_equal_registry() -> None:
    """Every public module in crosspost_adapters is registered, and nothing else."""
    modules = {p.stem for p in ADAPTERS_DIR.glob("*.py") if not p.stem.startswith("_")}
    assert modules == {name for name, _ in registry.BUILTIN}


def test_unknown_platform_lists_known_ones() -> None:
    """An unknown name is an error listing the known platforms."""
    with pytest.raises(ConfigError, match="known platforms: facebook, instagram, tiktok"):
        registry.canonical("tiktoc")


def test_x_is_an_alias_of_twitter() -> None:
    """'x' and 'X' name the twitter adapter."""
    assert registry.canonical("X") == "twitter"
    assert registry.get_adapter("x").name == "twitter"


def test_library_measure_gives_weighted_length() -> None:
    """get_adapter('twitter').measure gives X's weighted length (the README's example)."""
    assert crosspost.get_adapter("twitter").measure("Halo #TemanPemilih 🇮🇩") == 21
    assert crosspost.get_adapter("twitter").measure("https://kab-musirawas.kpu.go.id/a/b") == 23


def test_all_is_sorted_and_importable() -> None:
    """crosspost.__all__ is sorted and every name in it resolves."""
    assert crosspost.__all__ == sorted(crosspost.__all__)
    for name in crosspost.__all__:
        assert getattr(crosspost, name) is not None


def test_version_matches_metadata() -> None:
    """__version__ is the installed distribution's version."""
    assert crosspost.__version__ == version("crosspost")


@pytest.mark.parametrize("name", registry.names())
def test_every_adapter_declares_its_rules(name: str) -> None:
    """Each adapter has a name, a display name, a unit, limits and credentials."""
    adapter = registry.get_adapter(name)
    assert adapter.name == name
    assert adapter.display_name
    assert adapter.limits.body > 0
    assert adapter.credentials
