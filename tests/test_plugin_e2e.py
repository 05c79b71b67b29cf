"""A third-party plugin, installed by pip as a package, publishes through the real CLI.

tests/plugin_example/ is a one-file plugin (docs/plugins.md) for Echo, a made-up
text network. The test makes a wheel of it from its pyproject.toml, pip installs
that into a folder of its own (``--target``), and runs ``python -m crosspost`` with
that folder on PYTHONPATH: importlib.metadata finds the entry point there, as it
would in a user's environment. Echo's fake serves on loopback beside the five.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import regex
import tomli_w

from tests.conftest import ROOT
from tests.fakes.base import FakePlatform, body_json
from tests.fakes.server import serve
from tests.fakes.world import World
from tests.test_e2e import crosspost

PLUGIN = ROOT / "tests" / "plugin_example"
BUILTIN = ["facebook", "instagram", "tiktok", "youtube", "twitter"]


# -- the plugin, built and installed ----------------------------------------------------


def wheel(
    out: Path,
    name: str,
    version: str,
    entry_points: dict[str, str],
    modules: tuple[Path, ...] = (),
    requires: tuple[str, ...] = (),
) -> Path:
    """A pure-Python wheel (PEP 427) of ``modules`` with these entry points.

    The test makes the wheel itself: building from source offline needs a build
    backend in the test venv, and the one Python 3.11's venv brings (setuptools 65)
    cannot make wheels without the separate ``wheel`` package. What pip installs
    from it is what it installs from any wheel.
    """
    stem = name.replace("-", "_")
    info = f"{stem}-{version}.dist-info"
    files: dict[str, bytes] = {module.name: module.read_bytes() for module in modules}
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files[f"{info}/METADATA"] = metadata.encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    files[f"{info}/entry_points.txt"] = f"[crosspost.adapters]\n{lines}".encode()
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    path = out / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def example_wheel(out: Path) -> Path:
    """The example plugin's wheel: name, version, entry points and module from its pyproject."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text("utf-8"))
    modules = project["tool"]["setuptools"]["py-modules"]
    meta = project["project"]
    return wheel(
        out,
        meta["name"],
        meta["version"],
        meta["entry-points"]["crosspost.adapters"],
        tuple(PLUGIN / f"{module}.py" for module in modules),
        tuple(meta["dependencies"]),
    )


def pip_install(wheel_path: Path, target: Path) -> None:
    """``pip install --target``, offline and without dependencies (crosspost is there)."""
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet"]
    result = subprocess.run(
        [*pip, "--disable-pip-version-check", "--target", str(target), str(wheel_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the example plugin installed in it by pip."""
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("pip is not installed in the test venv: the plugin cannot be installed")
    root = tmp_path_factory.mktemp("plugin")
    target = root / "site"
    pip_install(example_wheel(root), target)
    assert (target / "crosspost_echo.py").is_file()
    assert (target / "crosspost_echo-0.1.0.dist-info" / "entry_points.txt").is_file()
    return target


# -- Echo's fake ----------------------------------------------------------------------


class FakeEcho(FakePlatform):
    """Echo's API as tests/plugin_example/crosspost_echo.py's docstring describes it: strict
    about the token, the channel, the fields and the 500-character limit."""

    name = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.token = "echo-" + secrets.token_hex(8)
        self.channel = "humas"
        self.posts: list[dict[str, Any]] = []
        self._ids = itertools.count(7001)
        path = r"/v1/channels/(?P<channel>[^/]+)/posts"
        self.route("POST", path, self._create)
        self.route("GET", path, self._list)

    def _refuse(self, request: httpx.Request, channel: str) -> httpx.Response | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"error": "invalid token"})
        if channel != self.channel:
            return httpx.Response(404, json={"error": f"no channel #{channel}"})
        return None

    def _create(self, request: httpx.Request, channel: str) -> httpx.Response:
        refused = self._refuse(request, channel)
        if refused is not None:
            return refused
        data = body_json(request)
        if not isinstance(data, dict) or set(data) - {"text", "pinned"}:
            return httpx.Response(422, json={"error": "fields: text, pinned"})
        text, pinned = data.get("text"), data.get("pinned", False)
        if not isinstance(text, str) or not text.strip() or not isinstance(pinned, bool):
            return httpx.Response(422, json={"error": "text must be a string, pinned a boolean"})
        if len(regex.findall(r"\X", text)) > 500:
            return httpx.Response(422, json={"error": "text is longer than 500 characters"})
        post_id = str(next(self._ids))
        post = {"id": post_id, "url": f"https://echo.example/{channel}/{post_id}", "text": text}
        self.posts.append({**post, "pinned": pinned})
        return httpx.Response(201, json=post)

    def _list(self, request: httpx.Request, channel: str) -> httpx.Response:
        refused = self._refuse(request, channel)
        if refused is not None:
            return refused
        limit = request.url.params.get("limit", "20")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            return httpx.Response(422, json={"error": "limit: 1 to 100"})
        newest = [{k: p[k] for k in ("id", "url", "text")} for p in reversed(self.posts)]
        return httpx.Response(200, json={"posts": newest[: int(limit)]})


@pytest.fixture
def world() -> Iterator[World]:
    """The five fakes and a media host on loopback."""
    w = World()
    with w.serving():
        yield w


@pytest.fixture
def echo() -> Iterator[FakeEcho]:
    """Echo's fake on loopback."""
    fake = FakeEcho()
    with serve(fake):
        yield fake


def announcement(tmp_path: Path, text: str) -> Path:
    """An announcement file with this TOML."""
    path = tmp_path / "announcement.toml"
    path.write_text(text, "utf-8")
    return path


def config_with_echo(world: World, echo: FakeEcho, tmp_path: Path) -> Path:
    """The example's config pointed at the fakes, with a [platforms.echo] table for Echo's."""
    path = world.config(tmp_path / "config.toml")
    data = tomllib.loads(path.read_text("utf-8"))
    data["platforms"]["echo"] = {"api_base": echo.base_url, "channel": echo.channel}
    path.write_text(tomli_w.dumps(data), "utf-8")
    return path


def environ(world: World, *sites: Path, token: str = "") -> dict[str, str]:
    """The fakes' credentials, Echo's token, and the plugin folders on PYTHONPATH."""
    env = world.environ() | {"PYTHONPATH": ":".join(str(site) for site in sites)}
    return env | ({"CROSSPOST_ECHO_TOKEN": token} if token else {})


TARGETED = """\
body = "Halo #TemanPemilih, KPU Musi Rawas membuka pelatihan kehumasan hari ini."
targets = ["echo", "facebook"]

[platforms.echo]
pinned = true
"""


# -- the tests -----------------------------------------------------------------------


def test_plugin_publishes_through_the_cli(
    site: Path, world: World, echo: FakeEcho, tmp_path: Path
) -> None:
    """targets = ["echo", "facebook"]: the installed plugin's post reaches Echo's fake, with
    the announcement's option, and the JSON result says published with its URL."""
    result = crosspost(
        world,
        tmp_path,
        "publish",
        "--now",
        "--json",
        str(announcement(tmp_path, TARGETED)),
        env=environ(world, site, token=echo.token),
        config=config_with_echo(world, echo, tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    results = {r["platform"]: r for r in json.loads(result.stdout)["results"]}
    assert {name: r["status"] for name, r in results.items()} == {
        "facebook": "published",
        "echo": "published",
    }
    assert len(echo.posts) == 1
    assert echo.posts[0]["pinned"] is True
    assert echo.posts[0]["text"].startswith("Halo #TemanPemilih, KPU Musi Rawas")
    assert results["echo"]["url"] == f"https://echo.example/humas/{echo.posts[0]['id']}"
    assert len(world.facebook.posts) == 1
    assert echo.token not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_plugin_reconciles_a_lost_answer_on_the_next_run(
    site: Path, world: World, echo: FakeEcho, tmp_path: Path
) -> None:
    """The post landed but its answer was lost: outcome unknown (exit 3); the next run asks
    the plugin's reconcile, which finds it on the channel: published, and Echo got it once."""
    echo.fail(r"POST /v1/channels/humas/posts$", drop=True, after=True)
    args = ("publish", "--now", "--json", str(announcement(tmp_path, TARGETED)))
    env = environ(world, site, token=echo.token)
    config = config_with_echo(world, echo, tmp_path)
    first = crosspost(world, tmp_path, *args, env=env, config=config)
    assert first.returncode == 3, first.stdout + first.stderr
    assert len(echo.posts) == 1 and not echo.calls(r"GET ")
    again = crosspost(world, tmp_path, *args, env=env, config=config)
    assert again.returncode == 0, again.stdout + again.stderr
    results = {r["platform"]: r for r in json.loads(again.stdout)["results"]}
    assert results["echo"]["status"] == "published"
    assert results["echo"]["url"] == f"https://echo.example/humas/{echo.posts[0]['id']}"
    assert len(echo.posts) == 1
    assert len(echo.calls(r"GET /v1/channels/humas/posts$")) == 1
    assert len(world.facebook.posts) == 1


def test_installed_plugin_is_used_only_when_targeted(
    site: Path, world: World, tmp_path: Path
) -> None:
    """Installed but neither targeted nor in the config: preview leaves Echo out. Targeted
    by its declared alias, it is in."""
    env = environ(world, site)
    plain = announcement(tmp_path, 'body = "Halo #TemanPemilih"\n')
    result = crosspost(world, tmp_path, "preview", "--json", str(plain), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)
    # Without media, three built-ins are skipped (no photo, no video): Echo is in neither list.
    shown = [p["platform"] for p in plan["posts"]] + [s["platform"] for s in plan["skipped"]]
    assert sorted(shown) == sorted(BUILTIN)
    text = 'body = "Halo #TemanPemilih"\ntargets = ["Echo-Chamber", "twitter"]\n'
    aliased = announcement(tmp_path, text)
    result = crosspost(world, tmp_path, "preview", "--json", str(aliased), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    posts = json.loads(result.stdout)["posts"]
    assert [(p["platform"], p["unit"]) for p in posts] == [
        ("twitter", "weighted"),
        ("echo", "graphemes"),
    ]


def test_plugin_clashing_with_a_builtin_is_ignored_with_one_warning(
    site: Path, world: World, tmp_path: Path
) -> None:
    """A package registering 'facebook' leaves the built-in in place, and the user is told
    once, naming the package and the built-in."""
    clash = tmp_path / "clash"
    pip_install(
        wheel(tmp_path, "crosspost-clash", "1.0", {"facebook": "crosspost_echo:EchoAdapter"}), clash
    )
    text = 'body = "Halo #TemanPemilih"\ntargets = ["echo", "facebook"]\n'
    result = crosspost(
        world,
        tmp_path,
        "preview",
        "--json",
        str(announcement(tmp_path, text)),
        env=environ(world, site, clash),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    posts = json.loads(result.stdout)["posts"]
    assert [(p["platform"], p["unit"]) for p in posts] == [
        ("facebook", "chars"),
        ("echo", "graphemes"),
    ]
    warning = (
        "plugin \"facebook\" (package crosspost-clash) is ignored: 'facebook' names the "
        "built-in adapter crosspost_adapters.facebook:FacebookAdapter"
    )
    assert result.stderr.count(warning) == 1, result.stderr
    assert f"warning: {warning}" in result.stderr  # one readable line, not Python's format
    assert "PluginWarning" not in result.stderr and "_warn(" not in result.stderr
    shown = crosspost(
        world, tmp_path, "preview", str(announcement(tmp_path, text)), env=environ(world, site)
    )
    assert "─ Echo ·" in shown.stdout  # the plugin's display_name titles its post


def test_plugin_that_fails_to_import_is_exit_2_naming_the_package(
    world: World, tmp_path: Path
) -> None:
    """A plugin whose module is missing: one line naming the plugin and its package, exit 2
    (a config problem), not 70 (crosspost failing unexpectedly)."""
    broken = tmp_path / "broken"
    entry = {"linkedin": "crosspost_linkedin:LinkedInAdapter"}
    pip_install(wheel(tmp_path, "crosspost-linkedin", "0.3", entry), broken)
    text = 'body = "Halo"\ntargets = ["linkedin", "twitter"]\n'
    result = crosspost(
        world,
        tmp_path,
        "preview",
        str(announcement(tmp_path, text)),
        env=environ(world, broken),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        'plugin "linkedin" (package crosspost-linkedin) failed to load: ModuleNotFoundError: '
        "No module named 'crosspost_linkedin' (update or uninstall the package)"
    ) in result.stderr
    assert "Traceback" not in result.stderr
