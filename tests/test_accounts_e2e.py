"""Connected accounts, as a new user meets them: log in once, doctor, publish days later.

The five fakes (with their authorization servers) are served on loopback; the
real ``crosspost auth login`` runs for each platform with only the app
credentials set, a stand-in browser agreeing on the consent page. Then
``crosspost doctor`` must be green, and a publish three simulated days later
(the fakes' clocks moved on, the stored expiries in the past: X's and TikTok's
access tokens long dead) must go out everywhere without any manual step.
"""

from __future__ import annotations

import tomllib
import webbrowser
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from crosspost.cli import main
from crosspost.credentials import credentials_path
from tests.conftest import EXAMPLE
from tests.fakes.world import World


class Browser:
    """The user's browser: opens the consent page (the fake user agrees), then goes
    where it is sent: crosspost's loopback listener, or an https://localhost page that
    does not load (Meta's registered address), whose address the user pastes."""

    def __init__(self) -> None:
        self.location = ""

    def __call__(self, url: str) -> bool:
        with httpx.Client(trust_env=False, verify=False) as http:
            page = http.get(url)
            assert page.status_code in (302, 303), page.text
            self.location = page.headers["location"]
            if self.location.startswith("http://127.0.0.1"):
                http.get(self.location)
        return True

    def readline(self) -> str:
        """What the user pastes when asked (the address the browser ended on)."""
        return self.location + "\n"


@pytest.fixture
def world() -> World:
    """The five fakes and the media host on loopback."""
    w = World()
    with w.serving():
        yield w  # type: ignore[misc]


def app_credentials(world: World) -> dict[str, str]:
    """Only what a developer console hands out: no token of any kind."""
    return {
        "CROSSPOST_TWITTER_CLIENT_ID": world.twitter.client_id,
        "CROSSPOST_TWITTER_CLIENT_SECRET": world.twitter.client_secret or "",
        "CROSSPOST_TIKTOK_CLIENT_KEY": world.tiktok.client_key,
        "CROSSPOST_TIKTOK_CLIENT_SECRET": world.tiktok.client_secret,
        "CROSSPOST_YOUTUBE_CLIENT_ID": world.youtube.client_id,
        "CROSSPOST_YOUTUBE_CLIENT_SECRET": world.youtube.client_secret,
        "CROSSPOST_FACEBOOK_APP_SECRET": world.facebook.login.app_secret,
        "CROSSPOST_INSTAGRAM_APP_SECRET": world.instagram.facebook_login.app_secret,
    }


def three_days_later(world: World) -> None:
    """Move every clock on three days: the fakes' and what crosspost stored."""
    later = datetime.now(UTC) + timedelta(days=3)
    world.twitter.oauth.clock = lambda: later
    world.tiktok.oauth_clock.advance(days=3)
    world.youtube.oauth_clock.advance(days=3)
    path = credentials_path()
    data: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
    for table in data.values():
        for key in ("expires_at", "obtained_at", "refresh_expires_at"):
            if isinstance(table.get(key), datetime):
                table[key] -= timedelta(days=3)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")


def test_log_in_once_doctor_green_publish_three_days_later(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """auth login for all five, doctor exits 0, and a publish days later needs no one."""
    for key, value in app_credentials(world).items():
        monkeypatch.setenv(key, value)
    browser = Browser()
    monkeypatch.setattr(webbrowser, "open", browser)
    monkeypatch.setattr("sys.stdin", browser)
    config = world.config(tmp_path / "crosspost.toml")
    # The ids come from the logins, not from the test world.
    data = tomllib.loads(config.read_text("utf-8"))
    data["platforms"]["facebook"].pop("page_id")
    data["platforms"]["instagram"].pop("ig_user_id")
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    for platform in ("twitter", "tiktok", "youtube", "facebook", "instagram"):
        code = main(["auth", "login", platform, "--config", str(config)])
        out = capsys.readouterr()
        assert code == 0, f"{platform}: {out.out}{out.err}"
        assert "Connected" in out.out, out.out
    settings = tomllib.loads(config.read_text("utf-8"))["platforms"]
    assert settings["facebook"]["page_id"] == world.facebook.page_id
    assert settings["instagram"]["ig_user_id"] == world.instagram.ig_user_id
    announcement = str(EXAMPLE / "announcement.toml")
    assert main(["doctor", announcement, "--config", str(config)]) == 0, capsys.readouterr()
    capsys.readouterr()

    three_days_later(world)
    x_refreshes = len(world.twitter.calls(r"POST /2/oauth2/token"))
    code = main(["publish", announcement, "--now", "--json", "--config", str(config)])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert len(world.twitter.calls(r"POST /2/oauth2/token")) == x_refreshes + 1
    assert len(world.twitter.tweets) == 1 and len(world.tiktok.posts) == 1
    assert len(world.facebook.posts) == 1 and len(world.instagram.posts) == 1
    assert len(world.youtube.videos) == 1
    stored = tomllib.loads(credentials_path().read_text("utf-8"))
    # Renewed, and stored before use: valid again for about two hours from now.
    for platform in ("twitter", "tiktok"):
        assert stored[platform]["expires_at"] > datetime.now(UTC) + timedelta(hours=1)
