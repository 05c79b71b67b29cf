"""The registry, the public API surface and packaging."""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import version
from pathlib import Path

import pytest

import crosspost
from crosspost import registry
from crosspost.adapter import Adapter, Fields, Limits, MediaChoice, Post, Published
from crosspost.api import PublishContext
from crosspost.config import parse_config
from crosspost.errors import ConfigError
from crosspost.loader import load_announcement
from crosspost.media import MediaFile
from crosspost.planning import platforms_for

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


# -- plugins from entry points (docs/plugins.md) ----------------------------------------


class GoodAdapter(Adapter):
    """A plugin's adapter: text only, no network."""

    name = "good"
    display_name = "Good"
    aliases = ("goodness",)
    limits = Limits(body=100)

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """No media."""
        return MediaChoice(media=())

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Never called here."""
        raise AssertionError("not published in these tests")


class GreedyAdapter(GoodAdapter):
    """A plugin that declares an alias already taken."""

    aliases = ("goodness", "x")  # 'x' is X's: ignored with a warning


class Misnamed(GoodAdapter):
    """An adapter whose name is not its entry point's."""

    name = "other"


class Unfinished(Adapter):
    """An adapter without publish or choose_media."""

    name = "unfinished"
    display_name = "Unfinished"
    limits = Limits(body=100)


def not_an_adapter() -> None:
    """What a wrong entry point names."""


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Install a distribution's metadata (``entry_points.txt``) on sys.path, as pip would:
    ``install("crosspost-good", good="tests.test_registry:GoodAdapter")``."""
    site = tmp_path / "site"

    def install(package: str, **entry_points: str) -> None:
        info = site / f"{package.replace('-', '_')}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n", "utf-8"
        )
        lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
        (info / "entry_points.txt").write_text(f"[crosspost.adapters]\n{lines}", "utf-8")
        clear()

    monkeypatch.syspath_prepend(str(site))
    yield install
    clear()


def clear() -> None:
    """Forget what the registry read of the installed plugins."""
    registry._plugins.cache_clear()
    registry._plugin_aliases.cache_clear()
    registry.adapter_class.cache_clear()


def test_plugin_from_an_entry_point_is_found_and_loaded(install: Callable[..., None]) -> None:
    """An installed entry point is a platform: listed after the built-ins, its class loaded."""
    install("crosspost-good", good=f"{__name__}:GoodAdapter")
    assert registry.names() == (*registry.builtin_names(), *registry.opt_in_names(), "good")
    assert registry.canonical(" Good ") == "good"
    assert registry.adapter_class("good") is GoodAdapter
    assert registry.get_adapter("good").name == "good"


def test_plugin_aliases_name_it_but_never_a_taken_name(install: Callable[..., None]) -> None:
    """A plugin's declared aliases are honoured; one that is already a platform's name
    ('x' is X's) is ignored with a warning, and 'x' stays twitter."""
    install("crosspost-good", good=f"{__name__}:GreedyAdapter")
    with pytest.warns(registry.PluginWarning) as caught:
        assert registry.canonical("GOODNESS") == "good"
    assert registry.get_adapter("goodness").name == "good"
    assert registry.canonical("x") == "twitter"
    assert [str(w.message) for w in caught] == [
        "alias 'x' of plugin \"good\" (package crosspost-good) is ignored: 'x' already names "
        "twitter; the plugin's package must declare another alias"
    ]


def test_plugin_named_like_a_builtin_is_ignored_with_one_warning(
    install: Callable[..., None],
) -> None:
    """A plugin registering 'facebook' (or 'x') does not replace the built-in: one warning
    per plugin names both, however many lookups follow."""
    install("crosspost-fb2", facebook=f"{__name__}:GoodAdapter", x=f"{__name__}:GoodAdapter")
    install("crosspost-good", good=f"{__name__}:GoodAdapter")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # every warning raised is recorded: none is deduplicated
        assert registry.names() == (*registry.builtin_names(), *registry.opt_in_names(), "good")
        assert registry.canonical("good") == "good"
        assert registry.names() == (*registry.builtin_names(), *registry.opt_in_names(), "good")
    assert {w.category for w in caught} == {registry.PluginWarning}
    assert registry.adapter_class("facebook").__name__ == "FacebookAdapter"
    assert registry.canonical("x") == "twitter"
    assert sorted(str(w.message) for w in caught) == [
        "plugin \"facebook\" (package crosspost-fb2) is ignored: 'facebook' names the built-in "
        "adapter crosspost_adapters.facebook:FacebookAdapter; the plugin's package must "
        "register another name",
        "plugin \"x\" (package crosspost-fb2) is ignored: 'x' names the built-in adapter "
        "crosspost_adapters.twitter:TwitterAdapter; the plugin's package must register "
        "another name",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "crosspost_no_such_module:Adapter",
            'plugin "bad" (package crosspost-bad) failed to load: ModuleNotFoundError: '
            "No module named 'crosspost_no_such_module' (update or uninstall the package)",
        ),
        (
            f"{__name__}:NoSuchClass",
            'plugin "bad" (package crosspost-bad) failed to load: AttributeError: module '
            f"'{__name__}' has no attribute 'NoSuchClass' (update or uninstall the package)",
        ),
        (
            f"{__name__}:not_an_adapter",
            f'plugin "bad" (package crosspost-bad): {__name__}:not_an_adapter is not an Adapter '
            "subclass (crosspost.adapter.Adapter); the entry point must name the adapter class",
        ),
        (
            f"{__name__}:Misnamed",
            f'plugin "bad" (package crosspost-bad): {__name__}:Misnamed declares '
            "name = 'other'; the adapter's name and its entry point's name must be the same",
        ),
    ],
    ids=["missing-module", "missing-class", "not-an-adapter", "misnamed"],
)
def test_unusable_plugin_is_a_config_error_naming_it(
    install: Callable[..., None], value: str, message: str
) -> None:
    """A plugin that cannot be used is a ConfigError (exit 2) naming it and its package,
    raised when its platform is used; it is still a known name until then."""
    install("crosspost-bad", bad=value)
    assert registry.canonical("bad") == "bad"
    with pytest.raises(ConfigError) as raised:
        registry.get_adapter("bad")
    assert str(raised.value) == message
    assert raised.value.exit_code == 2


def test_unfinished_plugin_is_a_config_error(install: Callable[..., None]) -> None:
    """An adapter class that does not implement publish and choose_media is refused by name."""
    install("crosspost-unfinished", unfinished=f"{__name__}:Unfinished")
    with pytest.raises(ConfigError, match="Unfinished does not implement choose_media, publish"):
        registry.adapter_class("unfinished")


def test_unknown_name_also_reports_a_plugin_that_failed_to_load(
    install: Callable[..., None],
) -> None:
    """An unknown name may be the alias of a plugin that cannot load: both are said."""
    install("crosspost-bad", bad="crosspost_no_such_module:Adapter")
    with pytest.raises(ConfigError) as raised:
        registry.canonical("badness")
    assert str(raised.value).splitlines() == [
        "unknown platform 'badness'; known platforms: facebook, instagram, tiktok, youtube, "
        "twitter, threads, bluesky, mastodon, telegram, bad (x = twitter)",
        'plugin "bad" (package crosspost-bad) failed to load: ModuleNotFoundError: '
        "No module named 'crosspost_no_such_module' (update or uninstall the package)",
    ]


def test_broken_plugin_through_the_cli_is_exit_2_not_70(
    install: Callable[..., None], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Previewing an announcement that targets a plugin that fails to import is a config
    error on one line (exit 2), not crosspost failing unexpectedly (exit 70)."""
    from crosspost.cli import main

    install("crosspost-bad", bad="crosspost_no_such_module:Adapter")
    announcement = tmp_path / "a.toml"
    announcement.write_text('body = "Halo"\ntargets = ["bad", "twitter"]\n', "utf-8")
    assert main(["preview", str(announcement)]) == 2
    err = capsys.readouterr().err
    assert 'plugin "bad" (package crosspost-bad) failed to load: ModuleNotFoundError' in err
    assert "Traceback" not in err and "unexpectedly" not in err


# -- which platforms a run uses: targets and config tables enable a plugin -----------------


def platforms(tmp_path: Path, announcement: str, config: str = "") -> tuple[str, ...]:
    """planning.platforms_for of this announcement and config text."""
    path = tmp_path / "announcement.toml"
    path.write_text(announcement, "utf-8")
    configuration = parse_config(tomllib.loads(config), None)
    return platforms_for(load_announcement(path, configuration), configuration)


def test_targets_enable_a_plugin_without_a_config_table(
    install: Callable[..., None], tmp_path: Path
) -> None:
    """targets = ["good", "twitter"] uses the plugin: no config table is needed."""
    install("crosspost-good", good=f"{__name__}:GoodAdapter")
    chosen = platforms(tmp_path, 'body = "Halo"\ntargets = ["good", "twitter"]\n')
    assert chosen == ("twitter", "good")


def test_installed_plugin_is_not_used_without_targets_or_a_table(
    install: Callable[..., None], tmp_path: Path
) -> None:
    """Installing a plugin does not start posting there: an announcement without targets
    goes to the built-ins only, until the config has a [platforms.good] table."""
    install("crosspost-good", good=f"{__name__}:GoodAdapter")
    assert platforms(tmp_path, 'body = "Halo"\n') == registry.builtin_names()
    tabled = platforms(tmp_path, 'body = "Halo"\n', "[platforms.good]\n")
    assert tabled == (*registry.builtin_names(), "good")
    by_alias = platforms(tmp_path, 'body = "Halo"\n', "[platforms.goodness]\n")
    assert by_alias == (*registry.builtin_names(), "good")


def test_plugin_table_with_enabled_false_disables_it(
    install: Callable[..., None], tmp_path: Path
) -> None:
    """enabled = false leaves the plugin out, and targeting it then is an error."""
    install("crosspost-good", good=f"{__name__}:GoodAdapter")
    off = "[platforms.good]\nenabled = false\n"
    assert platforms(tmp_path, 'body = "Halo"\n', off) == registry.builtin_names()
    with pytest.raises(ConfigError, match="targets good, which the config disables"):
        platforms(tmp_path, 'body = "Halo"\ntargets = ["good"]\n', off)


def test_plugin_docs_show_the_example_plugin_as_it_is() -> None:
    """docs/plugins.md carries tests/plugin_example's two files verbatim: the walk-through
    is the plugin the end-to-end test installs and publishes through."""
    root = ADAPTERS_DIR.parent.parent
    doc = (root / "docs" / "plugins.md").read_text("utf-8")
    for name, fence in [("pyproject.toml", "toml"), ("crosspost_echo.py", "python")]:
        text = (root / "tests" / "plugin_example" / name).read_text("utf-8")
        assert f"```{fence}\n{text}```\n" in doc, name
