"""config.example.toml is valid and complete; config loading finds the right file."""

from __future__ import annotations

from pathlib import Path

import pytest
import regex

from crosspost import registry
from crosspost.config import find_config, load_config, parse_config
from crosspost.errors import ConfigError
from tests.conftest import ROOT

EXAMPLE_CONFIG = ROOT / "config.example.toml"


def test_example_config_validates() -> None:
    """config.example.toml parses and validates against every platform's settings."""
    settings = load_config(EXAMPLE_CONFIG)
    assert set(settings.platforms) == set(registry.builtin_names() + registry.opt_in_names())


@pytest.mark.parametrize("name", registry.builtin_names() + registry.opt_in_names())
def test_example_config_documents_every_setting(name: str) -> None:
    """Every setting of every platform appears in its table of config.example.toml."""
    text = EXAMPLE_CONFIG.read_text("utf-8")
    table = text.split(f"[platforms.{name}]", 1)[1].split("\n[", 1)[0]
    for key in registry.adapter_class(name).Settings.model_fields:
        assert regex.search(rf"(?m)^#?\s*{key}\s*=", table), f"{name}.{key} missing"


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--config, then $CROSSPOST_CONFIG, then beside the announcement, then ./crosspost.toml."""
    ann = tmp_path / "a" / "ann.toml"
    ann.parent.mkdir()
    beside = ann.parent / "crosspost.toml"
    beside.write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert find_config(None, ann) == beside
    env = tmp_path / "env.toml"
    monkeypatch.setenv("CROSSPOST_CONFIG", str(env))
    assert find_config(None, ann) == env
    assert find_config(Path("x.toml"), ann) == Path("x.toml")


def test_plugin_or_unknown_platform_table_is_an_error() -> None:
    """A [platforms.<unknown>] table in config lists the known platforms."""
    with pytest.raises(ConfigError, match="known platforms"):
        parse_config({"platforms": {"myspace": {}}}, None)


def test_api_base_must_be_an_origin() -> None:
    """api_base is a scheme and host only: a path would silently change every URL."""
    with pytest.raises(ConfigError, match="api_base"):
        parse_config({"platforms": {"facebook": {"api_base": "http://x/v1"}}}, None)
