"""``crosspost doctor``: online, read-only checks, against the five fakes over loopback.

The command runs as a separate process (as in tests/test_e2e.py) with its home
in tmp_path; the expiry rules and the media URL check are also tested in-process.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from crosspost import doctor as checks
from crosspost.adapter import Adapter, Finding
from crosspost.api import PublishContext
from crosspost.credentials import Credentials, CredentialStore
from crosspost.media import MediaFile
from crosspost_adapters.twitter import TwitterAdapter
from crosspost_adapters.youtube import YouTubeAdapter
from tests.conftest import EXAMPLE, ROOT
from tests.fakes.world import MediaHost, World

ANNOUNCEMENT = EXAMPLE / "announcement.toml"
NAMES = ["Facebook", "Instagram", "TikTok", "YouTube", "X / Twitter"]


class UntypedMediaHost(MediaHost):
    """A misconfigured web server: files served with no Content-Type at all."""

    def _file(self, request: httpx.Request, path: str) -> httpx.Response:
        response = super()._file(request, path)
        if response.status_code != 200:
            return response
        return httpx.Response(200, content=response.content)


@pytest.fixture
def world() -> Iterator[World]:
    """Five fakes and a media host that sends content types, on loopback for the test."""
    w = World()
    with w.serving():
        yield w


def crosspost(
    world: World,
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    config: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m crosspost` as a separate process, with its home in tmp_path."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")} | {
        "CROSSPOST_HOME": str(home(tmp_path)),
        "NO_COLOR": "1",
        "COLUMNS": "300",
    }
    environ |= world.environ() if env is None else env
    config = config or world.config(tmp_path / "config.toml")
    return subprocess.run(
        [sys.executable, "-m", "crosspost", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=180,
        check=False,
    )


def home(tmp_path: Path) -> Path:
    """The CROSSPOST_HOME of the test's runs."""
    path = tmp_path / "home"
    path.mkdir(exist_ok=True)
    return path


def blocks(output: str) -> dict[str, list[str]]:
    """Doctor's output per platform: its heading's name, then its indented lines."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("  ") and current is not None:
            current.append(line.strip())
        elif line and not line.startswith(("✓", "!", "✗")):
            name = line.split(" (")[0]
            current = found.setdefault(name, [])
        else:
            current = None
    return found


def edited_config(world: World, tmp_path: Path, **changes: dict[str, Any]) -> Path:
    """The world's config with some ``[platforms.<name>]`` keys changed."""
    path = world.config(tmp_path / "config.toml")
    data = tomllib.loads(path.read_text("utf-8"))
    for name, values in changes.items():
        if name == "top":
            data.update(values)
        else:
            data["platforms"][name].update(values)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def store_credentials(tmp_path: Path, platform: str, **values: Any) -> Path:
    """Write ``platform``'s table into the run's credentials file (mode 0600)."""
    store = CredentialStore(home(tmp_path) / "credentials.toml")
    store.update(platform, values)
    assert (store.path.stat().st_mode & 0o777) == 0o600
    return store.path


def without(env: dict[str, str], key: str) -> dict[str, str]:
    """``env`` without ``key``."""
    return {k: v for k, v in env.items() if k != key}


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def no_post_anywhere(world: World) -> bool:
    """True when no fake holds a post: doctor never publishes."""
    return not (
        world.facebook.posts
        or world.instagram.posts
        or world.tiktok.posts
        or world.youtube.videos
        or world.twitter.tweets
    )


# -- through the CLI ---------------------------------------------------------------------


def test_all_green_exits_0_with_a_block_per_platform(world: World, tmp_path: Path) -> None:
    """Every platform set up and every media URL served: exit 0, nothing fails, nothing posted."""
    result = crosspost(world, tmp_path, "doctor", str(ANNOUNCEMENT))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"✓ state: {home(tmp_path) / 'state'} (writable)" in out
    assert list(blocks(out)) == NAMES
    assert "✗" not in out
    assert "✓ credentials: from the environment: CROSSPOST_TIKTOK_ACCESS_TOKEN" in out
    # Instagram fetches the photo from media_base_url: HEAD, then GET where HEAD was refused.
    url = world.origins["media"] + "/crosspost/media/humas.jpg"
    assert any(x.startswith("✓ ") and url in x for x in blocks(out)["Instagram"]), out
    assert [r.method for r in world.media.requests][:2] == ["HEAD", "GET"]
    assert no_post_anywhere(world)
    for secret in world.environ().values():
        assert secret not in out + result.stderr


def test_json_is_one_document_per_platform(world: World, tmp_path: Path) -> None:
    """--json: state_dir and one entry per platform with its account and leveled findings."""
    result = crosspost(world, tmp_path, "doctor", str(ANNOUNCEMENT), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["state_dir"] == str(home(tmp_path) / "state")
    assert data["ok"] is True
    assert [p["platform"] for p in data["platforms"]] == [
        "facebook",
        "instagram",
        "tiktok",
        "youtube",
        "twitter",
    ]
    for platform in data["platforms"]:
        assert set(platform) == {"platform", "account", "findings"}
        assert platform["findings"], platform
        assert {f["level"] for f in platform["findings"]} <= {"ok", "warn"}


def test_without_a_file_every_platform_set_up_is_checked(world: World, tmp_path: Path) -> None:
    """No FILE: the platforms with config tables; --platform narrows it to one."""
    every = crosspost(world, tmp_path, "doctor")
    assert every.returncode == 0, every.stdout + every.stderr
    assert list(blocks(every.stdout)) == NAMES
    # Without an announcement there is no media to check.
    assert not re.search(r"(?m)^  [✓!✗] media ", every.stdout)
    one = crosspost(world, tmp_path, "doctor", "--platform", "x")
    assert one.returncode == 0, one.stdout + one.stderr
    assert list(blocks(one.stdout)) == ["X / Twitter"]


def test_nothing_set_up_fails(world: World, tmp_path: Path) -> None:
    """No config table, no credentials: exit 1 and the command that sets a platform up."""
    empty = tmp_path / "empty.toml"
    empty.write_text('[profile]\nname = "KPU Musi Rawas"\n', encoding="utf-8")
    result = crosspost(world, tmp_path, "doctor", env={}, config=empty)
    assert result.returncode == 1
    assert "✗ no platform is set up: run crosspost auth login PLATFORM" in result.stdout


REVOKED = {
    "facebook": "CROSSPOST_FACEBOOK_PAGE_TOKEN",
    "instagram": "CROSSPOST_INSTAGRAM_ACCESS_TOKEN",
    "tiktok": "CROSSPOST_TIKTOK_ACCESS_TOKEN",
    "youtube": "CROSSPOST_YOUTUBE_REFRESH_TOKEN",
    "twitter": "CROSSPOST_TWITTER_ACCESS_TOKEN",
}


@pytest.mark.parametrize("platform", list(REVOKED))
def test_a_revoked_token_fails_naming_the_platform(
    platform: str, world: World, tmp_path: Path
) -> None:
    """A token the platform refuses: that platform fails (exit 1), the others do not."""
    env = world.environ() | {REVOKED[platform]: "revoked-token-4242"}
    result = crosspost(world, tmp_path, "doctor", "--json", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    data = {p["platform"]: p for p in json.loads(result.stdout)["platforms"]}
    failed = [f["message"] for f in data[platform]["findings"] if f["level"] == "fail"]
    assert failed, data[platform]
    assert data[platform]["account"] is None
    others = [p for name, p in data.items() if name != platform]
    assert all(f["level"] != "fail" for p in others for f in p["findings"])
    assert "revoked-token-4242" not in result.stdout + result.stderr


def test_an_expired_token_fails_with_the_login_command(world: World, tmp_path: Path) -> None:
    """A stored token past its expires_at, with nothing to renew it: ✗ and auth login, exit 1."""
    tiktok = world.environ()["CROSSPOST_TIKTOK_ACCESS_TOKEN"]
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    store_credentials(tmp_path, "tiktok", access_token=tiktok, expires_at=past)
    env = without(world.environ(), "CROSSPOST_TIKTOK_ACCESS_TOKEN")
    result = crosspost(world, tmp_path, "doctor", str(ANNOUNCEMENT), env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = blocks(result.stdout)["TikTok"]
    assert any(
        re.fullmatch(
            r"✗ the access token expired 5h( \d+s)? ago \(.+ UTC\); log in again: "
            r"crosspost auth login tiktok",
            line,
        )
        for line in lines
    ), lines
    assert f"from {home(tmp_path) / 'credentials.toml'}: access_token" in "\n".join(lines)


def test_a_token_expiring_in_two_days_warns(world: World, tmp_path: Path) -> None:
    """Expiring within --warn-days (7): a warning, exit 0; with --warn-days 1 no warning."""
    tiktok = world.environ()["CROSSPOST_TIKTOK_ACCESS_TOKEN"]
    path = store_credentials(
        tmp_path,
        "tiktok",
        access_token=tiktok,
        expires_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=2),
    )
    before = path.read_bytes()
    env = without(world.environ(), "CROSSPOST_TIKTOK_ACCESS_TOKEN")
    result = crosspost(world, tmp_path, "doctor", str(ANNOUNCEMENT), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = blocks(result.stdout)["TikTok"]
    assert any(
        re.fullmatch(
            r"! the access token expires in (1d 23h|2d) \(.+ UTC\); .*auth login tiktok", x
        )
        for x in lines
    ), lines
    calm = crosspost(world, tmp_path, "doctor", str(ANNOUNCEMENT), "--warn-days", "1", env=env)
    assert calm.returncode == 0
    assert any(
        x.startswith("✓ the access token is valid until") for x in blocks(calm.stdout)["TikTok"]
    )
    # Read-only: the credentials file is untouched and no token was asked for.
    assert path.read_bytes() == before
    assert not world.tiktok.calls(r"/oauth/token")


def test_doctor_never_renews_rotating_tokens(world: World, tmp_path: Path) -> None:
    """Expired X and TikTok tokens with live refresh tokens: fine (the next publish renews
    them), and doctor itself asks for no token: the credentials file stays as it was."""
    hour_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    store_credentials(
        tmp_path,
        "twitter",
        access_token=world.twitter.token,
        refresh_token="x-refresh-token-5150",
        client_id="x-client-id",
        expires_at=hour_ago,
    )
    path = store_credentials(
        tmp_path,
        "tiktok",
        access_token=world.environ()["CROSSPOST_TIKTOK_ACCESS_TOKEN"],
        refresh_token="tt-refresh-token-5150",
        client_key="tt-client-key",
        client_secret="tt-client-secret-5150",
        expires_at=hour_ago,
        refresh_expires_at=hour_ago + timedelta(days=180),
    )
    before = path.read_bytes()
    env = without(
        without(world.environ(), "CROSSPOST_TIKTOK_ACCESS_TOKEN"), "CROSSPOST_TWITTER_ACCESS_TOKEN"
    )
    result = crosspost(world, tmp_path, "doctor", str(ANNOUNCEMENT), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    found = blocks(result.stdout)
    for name in ("TikTok", "X / Twitter"):
        assert any(
            re.fullmatch(
                r"✓ the access token expired 1h( \d+s)? ago \(.+ UTC\); it is renewed before "
                "publishing",
                line,
            )
            for line in found[name]
        ), found[name]
    assert path.read_bytes() == before
    assert not world.twitter.calls(r"/2/oauth2/token")
    assert not world.tiktok.calls(r"/v2/oauth/token/")
    assert "5150" not in result.stdout + result.stderr


def test_a_token_expiring_before_publish_at_fails(world: World, tmp_path: Path) -> None:
    """The post is due in 3 days, the token (not renewable) dies in 2: tonight's run fails."""
    folder = tmp_path / "announcements"
    folder.mkdir()
    (folder / "media").symlink_to(EXAMPLE / "media")
    due = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    text = ANNOUNCEMENT.read_text("utf-8")
    text = re.sub(r"(?m)^publish_at = .*$", f"publish_at = {due.isoformat()}", text)
    (folder / "announcement.toml").write_text(text, encoding="utf-8")
    store_credentials(
        tmp_path,
        "tiktok",
        access_token=world.environ()["CROSSPOST_TIKTOK_ACCESS_TOKEN"],
        expires_at=due - timedelta(days=1),
    )
    env = without(world.environ(), "CROSSPOST_TIKTOK_ACCESS_TOKEN")
    result = crosspost(world, tmp_path, "doctor", str(folder / "announcement.toml"), env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert any(
        "before the post's publish_at; log in again: crosspost auth login tiktok" in line
        for line in blocks(result.stdout)["TikTok"]
    )


def test_missing_credentials_fail_naming_what_to_set(world: World, tmp_path: Path) -> None:
    """No TikTok token anywhere: ✗ naming the variable and auth login; TikTok is not called."""
    env = without(world.environ(), "CROSSPOST_TIKTOK_ACCESS_TOKEN")
    result = crosspost(world, tmp_path, "doctor", str(ANNOUNCEMENT), env=env)
    assert result.returncode == 1
    lines = blocks(result.stdout)["TikTok"]
    assert any(
        "missing credentials: run crosspost auth login tiktok, or set CROSSPOST_TIKTOK_ACCESS_TOKEN"
        in line
        and line.startswith("✗")
        for line in lines
    ), lines
    assert not world.tiktok.requests


@pytest.mark.parametrize("where", ["404", "closed port"])
def test_unreachable_instagram_media_fails(where: str, world: World, tmp_path: Path) -> None:
    """Instagram fetches media from media_base_url: a 404 or a dead server fails, exit 1."""
    base = (
        world.origins["media"] + "/nowhere"
        if where == "404"
        else f"http://127.0.0.1:{closed_port()}/crosspost"
    )
    config = edited_config(world, tmp_path, instagram={"media_base_url": base})
    result = crosspost(world, tmp_path, "doctor", str(ANNOUNCEMENT), config=config)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = blocks(result.stdout)["Instagram"]
    assert any(x.startswith("✗ ") and f"{base}/media/humas.jpg" in x for x in lines), lines
    assert not world.instagram.posts


def photo_post(world: World, tmp_path: Path) -> tuple[Path, Path]:
    """A TikTok photo post (TikTok pulls photos from their URLs) and its config."""
    folder = tmp_path / "photo"
    folder.mkdir()
    (folder / "media").symlink_to(EXAMPLE / "media")
    text = ANNOUNCEMENT.read_text("utf-8")
    text = text.replace('path = "media/humas.mp4"', 'path = "media/humas.jpg"')
    text = text.replace('id = "', 'targets = ["tiktok"]\nid = "', 1)
    path = folder / "announcement.toml"
    path.write_text(text, encoding="utf-8")
    base = world.origins["media"] + "/crosspost"
    return path, edited_config(world, tmp_path, tiktok={"media_base_url": base})


@pytest.mark.parametrize("typed", [True, False], ids=["typed", "untyped"])
def test_tiktok_photo_urls_need_an_image_content_type(typed: bool, tmp_path: Path) -> None:
    """TikTok pulls photos from their URLs: served as image/jpeg ✓; without a type ✗, exit 1."""
    world = World()
    if not typed:
        world.media = UntypedMediaHost(EXAMPLE)
    with world.serving():
        path, config = photo_post(world, tmp_path)
        result = crosspost(world, tmp_path, "doctor", str(path), config=config)
    url = world.origins["media"] + "/crosspost/media/humas.jpg"
    lines = blocks(result.stdout)["TikTok"]
    if typed:
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"✓ media {url}: reachable (image/jpeg)" in lines
    else:
        assert result.returncode == 1, result.stdout + result.stderr
        assert (
            f"✗ media {url}: served with no content type; TikTok needs image/… (image/jpeg "
            "for this file): fix the web server's types" in lines
        )


def test_an_unwritable_state_directory_fails(world: World, tmp_path: Path) -> None:
    """state_dir below a regular file cannot be created: ✗ state, exit 1."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory", encoding="utf-8")
    config = edited_config(world, tmp_path, top={"state_dir": str(blocker / "state")})
    result = crosspost(world, tmp_path, "doctor", "--platform", "x", config=config)
    assert result.returncode == 1
    assert result.stdout.startswith(f"✗ state: {blocker / 'state'}: the state directory cannot")


def test_a_bad_credentials_file_fails_without_showing_values(world: World, tmp_path: Path) -> None:
    """An unknown key in the credentials file: named, its value never shown, exit 1."""
    path = home(tmp_path) / "credentials.toml"
    path.write_text('[twitter]\nacess_token = "typo-secret-0987"\n', encoding="utf-8")
    path.chmod(0o600)
    result = crosspost(world, tmp_path, "doctor", "--platform", "x")
    assert result.returncode == 1
    assert "✗ credentials file: " in result.stdout
    assert "[twitter] acess_token is not a key crosspost reads" in result.stdout
    assert "typo-secret-0987" not in result.stdout + result.stderr


# -- the expiry rules, in-process ------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


class RenewingYouTube(YouTubeAdapter):
    """YouTube with a renew hook (refresh token, no rotation)."""

    async def renew(self, ctx: PublishContext, horizon: float) -> None:
        """Stands for the real renewal; doctor must never call it."""
        raise AssertionError("doctor renewed a token")


class RenewingX(TwitterAdapter):
    """X with OAuth 2.0 refresh tokens, which rotate."""

    async def renew(self, ctx: PublishContext, horizon: float) -> None:
        """Stands for the real renewal; doctor must never call it."""
        raise AssertionError("doctor renewed a token")


def youtube_credentials(tmp_path: Path, **facts: Any) -> Credentials:
    """YouTube credentials in a file, with the given expiry facts."""
    path = tmp_path / "credentials.toml"
    CredentialStore(path).update(
        "youtube",
        {"client_id": "id-1", "client_secret": "secret-1", "refresh_token": "r-1"} | facts,
    )
    return Credentials("youtube", {}, path)


def levels(findings: list[Finding]) -> list[str]:
    """The findings as ``level: message`` lines."""
    return [f"{f.level}: {f.message}" for f in findings]


def test_an_expired_access_token_with_a_live_refresh_token_is_fine(tmp_path: Path) -> None:
    """Renewal replaces it before publishing: ok, not a failure."""
    creds = youtube_credentials(
        tmp_path, expires_at=NOW - timedelta(hours=1), refresh_expires_at=NOW + 30 * WEEK
    )
    found = checks.expiry(RenewingYouTube(), creds, NOW, NOW, WEEK)
    assert levels(found) == [
        "ok: the access token expired 1h ago (2026-03-01 11:00 UTC); it is renewed before "
        "publishing"
    ]


def test_the_same_without_a_renewing_adapter_fails(tmp_path: Path) -> None:
    """An adapter that renews nothing cannot use the refresh token: expired means fail."""

    class Plain(YouTubeAdapter):
        renew = Adapter.renew

    creds = youtube_credentials(tmp_path, expires_at=NOW - timedelta(hours=1))
    found = checks.expiry(Plain(), creds, NOW, NOW, WEEK)
    assert [f.level for f in found] == ["fail"]
    assert found[0].message.endswith("log in again: crosspost auth login youtube")


def test_a_refresh_token_expiring_soon_warns_with_googles_testing_limit(tmp_path: Path) -> None:
    """Google's 7-day Testing refresh token, 2 days left: a warning that says why."""
    creds = youtube_credentials(tmp_path, refresh_expires_at=NOW + timedelta(days=2))
    found = checks.expiry(RenewingYouTube(), creds, NOW, NOW, WEEK)
    assert levels(found) == [
        "warn: the refresh token expires in 2d (2026-03-03 12:00 UTC) (Google's limit while "
        "the consent screen is in Testing is 7 days); log in again before: crosspost auth "
        "login youtube"
    ]


def test_an_expired_refresh_token_fails(tmp_path: Path) -> None:
    """Renewal is impossible once the refresh token expired: fail, with the login command."""
    creds = youtube_credentials(
        tmp_path, expires_at=NOW - timedelta(minutes=5), refresh_expires_at=NOW - timedelta(days=1)
    )
    found = checks.expiry(RenewingYouTube(), creds, NOW, NOW, WEEK)
    assert [f.level for f in found] == ["fail", "fail"]
    assert "the refresh token expired 1d ago" in found[1].message


def test_rotating_tokens_in_the_environment_are_pointed_out() -> None:
    """X rotates refresh tokens: one in the environment breaks at the first renewal."""
    environ = {
        "CROSSPOST_TWITTER_ACCESS_TOKEN": "a-1234",
        "CROSSPOST_TWITTER_REFRESH_TOKEN": "r-1234",
    }
    found = checks.expiry(RenewingX(), Credentials("twitter", environ), NOW, NOW, WEEK)
    assert [f.level for f in found] == ["warn", "warn"]
    assert found[0].message.startswith(
        "CROSSPOST_TWITTER_REFRESH_TOKEN is set in the environment, but X / Twitter replaces"
    )
    assert found[1].message.startswith("CROSSPOST_TWITTER_ACCESS_TOKEN is set in the environment")
    assert all("1234" not in f.message for f in found)


def test_tokens_without_known_expiry_say_nothing() -> None:
    """Nothing stored about expiry (a token set by hand): no finding is invented."""
    found = checks.expiry(
        TwitterAdapter(),
        Credentials("twitter", {"CROSSPOST_TWITTER_ACCESS_TOKEN": "t-1"}),
        NOW,
        NOW,
        WEEK,
    )
    assert found == []


# -- the media URL check, in-process -------------------------------------------------------


def image(url: str, size: int | None = 3) -> MediaFile:
    """A JPEG hosted at ``url`` (and a local file of ``size`` bytes)."""
    return MediaFile(
        name="a.jpg", kind="image", mime="image/jpeg", path=Path("a.jpg"), url=url, size=size
    )


def check(handler: Any, media: MediaFile) -> tuple[Finding, list[str]]:
    """Run check_media against a handler; the finding and the requests seen."""
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        response: httpx.Response = handler(request)
        return response

    async def go() -> Finding:
        async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as client:
            return await checks.check_media(client, media, "Instagram")

    import asyncio

    return asyncio.run(go()), seen


def test_head_refused_falls_back_to_get() -> None:
    """A server that answers HEAD 405 is asked with GET, which decides."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(405)
        return httpx.Response(200, content=b"abc", headers={"Content-Type": "image/jpeg"})

    finding, seen = check(handler, image("https://media.example/a.jpg"))
    assert finding == Finding("ok", "media https://media.example/a.jpg: reachable (image/jpeg)")
    assert seen == ["HEAD /a.jpg", "GET /a.jpg"]


def test_a_redirect_is_followed() -> None:
    """A 301 to the file counts as reachable (the fetcher follows it)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old.jpg":
            return httpx.Response(301, headers={"Location": "https://media.example/a.jpg"})
        return httpx.Response(200, headers={"Content-Type": "image/jpeg", "Content-Length": "3"})

    finding, seen = check(handler, image("https://media.example/old.jpg"))
    assert finding.level == "ok"
    assert seen == ["HEAD /old.jpg", "HEAD /a.jpg"]


def test_an_html_page_instead_of_the_image_fails() -> None:
    """A login page (200 text/html) where the image should be: fail, naming the type."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>", headers={"Content-Type": "text/html"})

    finding, seen = check(handler, image("https://media.example/a.jpg"))
    assert finding.level == "fail"
    assert "served with content type text/html; Instagram needs image/…" in finding.message
    assert seen == ["HEAD /a.jpg", "GET /a.jpg"]


def test_a_different_size_warns() -> None:
    """The server's file is not the local one (another size): a warning."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "image/jpeg", "Content-Length": "999"})

    finding, _ = check(handler, image("https://media.example/a.jpg", size=3))
    assert finding.level == "warn"
    assert "the server has 999 bytes, the local file 3" in finding.message


def test_which_media_a_platform_fetches_itself() -> None:
    """Instagram: all; TikTok: photos; others: only media without a local file."""
    from crosspost.adapter import Post
    from crosspost.units import Unit

    local = image("https://m.example/a.jpg")
    remote = MediaFile(name="b.jpg", kind="image", mime="image/jpeg", url="https://m.example/b.jpg")
    video = MediaFile(name="v.mp4", kind="video", mime="video/mp4", path=Path("v.mp4"))

    def post(platform: str, *media: MediaFile, mode: str = "") -> Post:
        return Post(platform, Unit.CHARS, (), media=media, extra={"mode": mode} if mode else {})

    assert checks.fetched_by_url(post("instagram", local, remote)) == [local, remote]
    assert checks.fetched_by_url(post("tiktok", local, mode="photo")) == [local]
    assert checks.fetched_by_url(post("tiktok", video, mode="video")) == []
    assert checks.fetched_by_url(post("facebook", local, remote)) == [remote]


def test_the_alerts_table_of_the_credentials_file_is_not_a_platform(
    world: World, tmp_path: Path
) -> None:
    """[alerts] urls beside the platforms' secrets: doctor checks the five, nothing else."""
    path = home(tmp_path) / "credentials.toml"
    path.write_text('[alerts]\nurls = ["json://127.0.0.1:9/hook"]\n', encoding="utf-8")
    path.chmod(0o600)
    result = crosspost(world, tmp_path, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(blocks(result.stdout)) == NAMES


def test_a_token_expiring_in_three_days_is_alerted_once(world: World, tmp_path: Path) -> None:
    """Run daily from cron, doctor tells the office's channel once, with the login command."""
    from tests.fakes.sink import Sink

    tiktok = world.environ()["CROSSPOST_TIKTOK_ACCESS_TOKEN"]
    store_credentials(
        tmp_path,
        "tiktok",
        access_token=tiktok,
        expires_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=3),
    )
    env = without(world.environ(), "CROSSPOST_TIKTOK_ACCESS_TOKEN")
    sink = Sink()
    with sink.serving():
        config = edited_config(world, tmp_path, top={"alerts": {"urls": [sink.url()]}})
        for _ in range(2):
            result = crosspost(world, tmp_path, "doctor", str(ANNOUNCEMENT), env=env, config=config)
            assert result.returncode == 0, result.stdout + result.stderr
        messages = sink.messages()
    assert len(messages) == 1
    assert "TikTok" in messages[0]["message"]
    assert "crosspost auth login tiktok" in messages[0]["message"]
