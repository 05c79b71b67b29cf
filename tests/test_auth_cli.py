"""`crosspost auth login/status/logout` through the real CLI, with a scripted adapter.

The scripted platform is registered the way a third-party adapter is (the
registry's plugin table), so the command finds it by name like any other. Its
``login`` talks to the person through the session (say, ask, choose) and
returns a ``Login`` whose secrets hold a canary: the canary must appear in no
output. The platforms' real flows are tested with their fakes elsewhere.
"""

from __future__ import annotations

import io
import json
import stat
import tomllib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from crosspost import registry
from crosspost.adapter import (
    Account,
    Adapter,
    Fields,
    Limits,
    Login,
    LoginSession,
    MediaChoice,
    Post,
    Published,
)
from crosspost.api import PublishContext
from crosspost.cli import auth, main
from crosspost.config import PlatformSettings
from crosspost.credentials import CredentialStore
from crosspost.media import MediaFile

CANARY = "CANARY-7f3a9c-secret"
REFRESH = "CANARY-refresh-51d0"


def simple(session: LoginSession) -> Login:
    """A login that asks nothing: two tokens, an expiry, scopes, an account."""
    return Login(
        account=Account("Humas KPU", "1784"),
        secrets={"access_token": CANARY, "refresh_token": REFRESH},
        expires_at=datetime.now(UTC) + timedelta(hours=2),
        refresh_expires_at=datetime.now(UTC) + timedelta(days=180),
        scopes=("post.publish", "user.info"),
    )


class ScriptedSettings(PlatformSettings):
    """The scripted platform's config table: one account id the login fills in."""

    page_id: str | None = None


class ScriptedAdapter(Adapter):
    """A platform whose login does what the test says and records the session it got."""

    name = "scripted"
    display_name = "Scripted"
    limits = Limits(body=500)
    Settings = ScriptedSettings
    credentials = ("access_token",)
    secrets = ("refresh_token", "client_secret")

    #: The test's script: the session in, the login out.
    script: ClassVar[Callable[[LoginSession], Login]] = staticmethod(simple)
    sessions: ClassVar[list[LoginSession]] = []

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        return MediaChoice(())

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        raise AssertionError("auth never publishes")

    async def login(self, session: LoginSession) -> Login:
        type(self).sessions.append(session)
        if session.settings.api_base:  # the flow's requests go where the config points
            await session.client.get(f"{session.settings.api_base}/me")
        return type(self).script(session)


class HandmadeAdapter(ScriptedAdapter):
    """A platform without a login flow: the Adapter's default."""

    name = "handmade"
    display_name = "Handmade"

    login = Adapter.login


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[ScriptedAdapter]]:
    """The scripted and handmade platforms, known to the registry for this test only."""
    plugins = {"scripted": f"{__name__}:ScriptedAdapter", "handmade": f"{__name__}:HandmadeAdapter"}
    monkeypatch.setattr(registry, "_plugins", lambda: plugins)
    monkeypatch.setattr(ScriptedAdapter, "script", staticmethod(simple))
    monkeypatch.setattr(ScriptedAdapter, "sessions", [])
    registry.adapter_class.cache_clear()
    yield ScriptedAdapter
    registry.adapter_class.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str = "") -> tuple[int, str]:
    """The CLI in-process with ``stdin``; (exit code, stdout and stderr), the canaries checked."""
    import sys

    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(args))
    finally:
        sys.stdin = saved
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert CANARY not in output
    assert REFRESH not in output
    return code, output


def home() -> Path:
    import os

    return Path(os.environ["CROSSPOST_HOME"])


def stored() -> dict[str, Any]:
    path = home() / "credentials.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return tomllib.loads(path.read_text("utf-8"))


# -- login ----------------------------------------------------------------------------------


def test_login_stores_secrets_and_facts_in_one_write(
    scripted: type[ScriptedAdapter],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tokens and what is known of them (expiries, when obtained, scopes, the account)
    land in the credentials file together, in a single write."""
    writes: list[dict[str, Any]] = []
    real = CredentialStore._write

    def counted(self: CredentialStore, data: dict[str, Any]) -> None:
        writes.append(data)
        real(self, data)

    monkeypatch.setattr(CredentialStore, "_write", counted)
    before = datetime.now(UTC).replace(microsecond=0)
    code, _ = run(capsys, "auth", "login", "scripted")
    assert code == 0
    assert len(writes) == 1
    table = stored()["scripted"]
    assert table["access_token"] == CANARY
    assert table["refresh_token"] == REFRESH
    assert table["account"] == "Humas KPU"
    assert table["account_id"] == "1784"
    assert table["scopes"] == ["post.publish", "user.info"]
    assert (
        timedelta(hours=1, minutes=59)
        < table["expires_at"] - before
        <= timedelta(hours=2, seconds=2)
    )
    assert table["refresh_expires_at"] - before > timedelta(days=179)
    assert before <= table["obtained_at"] <= datetime.now(UTC)


def test_login_says_who_until_when_and_where_never_a_secret(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str]
) -> None:
    """The output names the account, the token's local expiry, the key names and the
    credentials file's path; the token values appear nowhere (run() checks the canaries)."""
    code, out = run(capsys, "auth", "login", "scripted")
    assert code == 0, out
    until = auth.local(stored()["scripted"]["expires_at"])
    assert f"✓ Connected Scripted as Humas KPU (1784); token valid until {until}" in out
    assert "crosspost renews it by itself" in out
    assert f"Saved access_token, refresh_token to {home() / 'credentials.toml'} (mode 0600)" in out
    assert "The refresh token lasts until" in out
    assert "crosspost auth status" in out


def test_login_of_a_token_that_does_not_expire(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str]
) -> None:
    """A token without an expiry is said not to expire, and no expiry is stored for it."""
    scripted.script = staticmethod(
        lambda s: Login(Account("KPU Musi Rawas", "1022"), {"access_token": CANARY})
    )
    code, out = run(capsys, "auth", "login", "scripted")
    assert code == 0, out
    assert "✓ Connected Scripted as KPU Musi Rawas (1022); the token does not expire" in out
    assert "expires_at" not in stored()["scripted"]


def test_login_keeps_secrets_it_did_not_return_and_clears_an_old_expiry(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str]
) -> None:
    """An app secret stored earlier stays; the old token's expiries and scopes, which do not
    describe the new token, go."""
    path = home() / "credentials.toml"
    path.write_text(
        "[scripted]\n"
        'access_token = "old-token"\nclient_secret = "app-secret-kept"\n'
        "expires_at = 2020-01-01T00:00:00Z\nrefresh_expires_at = 2020-06-01T00:00:00Z\n"
        'scopes = ["old.scope"]\n'
        '[tiktok]\naccess_token = "other-platform"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    scripted.script = staticmethod(
        lambda s: Login(Account("Humas KPU", "1784"), {"access_token": CANARY})
    )
    code, out = run(capsys, "auth", "login", "scripted")
    assert code == 0, out
    data = stored()
    assert data["tiktok"] == {"access_token": "other-platform"}
    table = data["scripted"]
    assert table["access_token"] == CANARY
    assert table["client_secret"] == "app-secret-kept"
    for gone in ("expires_at", "refresh_expires_at", "scopes"):
        assert gone not in table


def test_login_writes_the_account_id_into_the_config_keeping_comments(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The id the login found replaces the one in the config's platform table; every
    comment and every other line of the config stays as it was."""
    config = tmp_path / "crosspost.toml"
    original = (
        "# KPU Musi Rawas: how we post\n"
        '[profile]\nname = "KPU"  # shown nowhere\n\n'
        "[platforms.scripted]  # the page we post as\n"
        "# filled in by crosspost auth login\n"
        'page_id = "0000"  # the old page\n'
        "max_length = 400\n\n"
        "[platforms.tiktok]\nenabled = false\n"
    )
    config.write_text(original, encoding="utf-8")
    scripted.script = staticmethod(
        lambda s: Login(
            Account("Humas KPU", "1784"),
            {"access_token": CANARY},
            settings={"page_id": "1784"},
        )
    )
    code, out = run(capsys, "auth", "login", "scripted", "--config", str(config))
    assert code == 0, out
    assert config.read_text("utf-8") == original.replace(
        'page_id = "0000"  # the old page', 'page_id = "1784"  # the old page'
    )
    assert f"Wrote page_id to {config} under [platforms.scripted]" in out


def test_login_creates_the_user_config_when_there_is_none(
    scripted: type[ScriptedAdapter],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without any config file, the account id goes into config.toml in the user directory."""
    monkeypatch.chdir(tmp_path)  # no ./crosspost.toml
    scripted.script = staticmethod(
        lambda s: Login(Account("Humas KPU"), {"access_token": CANARY}, settings={"page_id": "9"})
    )
    code, out = run(capsys, "auth", "login", "scripted")
    assert code == 0, out
    config = home() / "config.toml"
    assert tomllib.loads(config.read_text("utf-8")) == {"platforms": {"scripted": {"page_id": "9"}}}
    assert "✓ Connected Scripted as Humas KPU; the token does not expire" in out


def test_login_uses_the_config_table_under_its_alias(
    scripted: type[ScriptedAdapter],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A config that names the platform by an alias ([platforms.scr], like [platforms.x])
    gets the id in that table, not a second table for the same platform."""
    monkeypatch.setitem(registry.ALIASES, "scr", "scripted")
    config = tmp_path / "crosspost.toml"
    config.write_text('[platforms.scr]\npage_id = "1"\n', encoding="utf-8")
    scripted.script = staticmethod(
        lambda s: Login(Account("Humas KPU"), {"access_token": CANARY}, settings={"page_id": "2"})
    )
    code, out = run(capsys, "auth", "login", "scr", "--config", str(config))
    assert code == 0, out
    assert config.read_text("utf-8") == '[platforms.scr]\npage_id = "2"\n'


def test_a_config_that_cannot_take_the_id_keeps_the_tokens(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """When the id cannot be written into the config (the table is an inline table there),
    the tokens are stored all the same, the config is unchanged and the error says what to
    add by hand (exit 2)."""
    config = tmp_path / "crosspost.toml"
    original = "platforms = { scripted = { enabled = true } }  # inline\n"
    config.write_text(original, encoding="utf-8")
    scripted.script = staticmethod(
        lambda s: Login(Account("Humas KPU"), {"access_token": CANARY}, settings={"page_id": "7"})
    )
    code, out = run(capsys, "auth", "login", "scripted", "--config", str(config))
    assert code == 2
    assert config.read_text("utf-8") == original
    assert f"error: {config}: cannot add page_id under [platforms.scripted]" in out
    assert 'page_id = "7"' in out
    assert stored()["scripted"]["access_token"] == CANARY
    assert "Traceback" not in out


def test_the_session_carries_settings_flags_and_the_transport(
    scripted: type[ScriptedAdapter],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The adapter's session has the platform's settings (api_base honoured: its request went
    there through the configured transport), the browser choice and the credentials."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={})

    monkeypatch.setattr(auth, "TRANSPORT", httpx.MockTransport(answer))
    config = tmp_path / "crosspost.toml"
    config.write_text('[platforms.scripted]\napi_base = "http://127.0.0.1:9"\n', encoding="utf-8")
    code, out = run(capsys, "auth", "login", "scripted", "--no-browser", "-c", str(config))
    assert code == 0, out
    session = scripted.sessions[0]
    assert session.platform == "scripted"
    assert session.open_browser is False
    assert session.options == {}
    assert session.credentials.platform == "scripted"
    assert seen == ["http://127.0.0.1:9/me"]


def test_oauth1_and_login_kind_reach_the_adapter_as_options(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--oauth1 (X) and --login (Instagram) arrive in session.options; x is twitter."""
    scripted_x = type("ScriptedX", (ScriptedAdapter,), {"name": "twitter", "display_name": "X"})
    scripted_ig = type("ScriptedIG", (ScriptedAdapter,), {"name": "instagram"})
    monkeypatch.setitem(globals(), "ScriptedX", scripted_x)
    monkeypatch.setitem(globals(), "ScriptedIG", scripted_ig)
    builtin = dict(registry.BUILTIN)
    builtin["twitter"] = f"{__name__}:ScriptedX"
    builtin["instagram"] = f"{__name__}:ScriptedIG"
    monkeypatch.setattr(registry, "BUILTIN", tuple(builtin.items()))
    monkeypatch.setattr(ScriptedAdapter, "script", staticmethod(simple))
    monkeypatch.setattr(ScriptedAdapter, "sessions", [])
    registry.adapter_class.cache_clear()
    try:
        assert run(capsys, "auth", "login", "x", "--oauth1")[0] == 0
        assert run(capsys, "auth", "login", "instagram", "--login", "instagram")[0] == 0
    finally:
        registry.adapter_class.cache_clear()
    first, second = ScriptedAdapter.sessions
    assert (first.platform, first.options, first.open_browser) == (
        "twitter",
        {"oauth1": True},
        True,
    )
    assert (second.platform, second.options) == ("instagram", {"login": "instagram"})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scripted", "--oauth1"], "--oauth1 is for X (twitter) only"),
        (["scripted", "--login", "facebook"], "--login is for instagram only"),
        (["instagram", "--login", "myspace"], "--login must be one of: facebook, instagram"),
        (["twiter"], "unknown platform 'twiter'"),
        (["handmade"], "Handmade: crosspost cannot log in here; set the credentials by hand"),
    ],
)
def test_what_cannot_be_logged_in_is_refused_with_exit_2(
    scripted: type[ScriptedAdapter],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    """Options for another platform, an unknown platform, and a platform without a login flow
    are refused before anything is stored."""
    code, out = run(capsys, "auth", "login", *args)
    assert code == 2
    assert f"error: {message}" in out
    assert not (home() / "credentials.toml").exists()


def test_a_broken_credentials_file_stops_login_before_the_browser(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt table in the credentials file is reported before the flow starts."""
    path = home() / "credentials.toml"
    path.write_text('[twiter]\naccess_token = "x"\n', encoding="utf-8")
    path.chmod(0o600)
    code, out = run(capsys, "auth", "login", "scripted")
    assert code == 2
    assert "[twiter] is not a platform crosspost knows" in out
    assert scripted.sessions == []


def test_choose_lists_numbers_and_asks_again_until_one_fits(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """choose shows a numbered list and reads a number, asking again after a wrong answer;
    ask reads a line; say prints whole lines."""
    answers: list[Any] = []

    def script(session: LoginSession) -> Login:
        session.say("Pages you manage:")
        answers.append(session.choose("Which Page?", ["Bawaslu Lubuklinggau", "Pemilu Sumsel"]))
        answers.append(session.ask("Paste the address:"))
        return Login(Account("Pemilu Sumsel", "2"), {"access_token": CANARY})

    scripted.script = staticmethod(script)
    code, out = run(capsys, "auth", "login", "scripted", stdin="three\n7\n2\nhttp://x/cb?a=1\n")
    assert code == 0, out
    assert answers == [1, "http://x/cb?a=1"]
    assert "Pages you manage:\nWhich Page?\n  1. Bawaslu Lubuklinggau\n  2. Pemilu Sumsel\n" in out
    assert out.count("Type a number from 1 to 2.") == 2


def test_choose_takes_the_only_choice_and_no_answer_is_an_error(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str]
) -> None:
    """With one choice nothing is asked; with no answer on stdin (cron) login stops, exit 2."""
    picked: list[int] = []

    def one(session: LoginSession) -> Login:
        picked.append(session.choose("Which Page?", ["Humas KPU"]))
        return Login(Account("Humas KPU"), {"access_token": CANARY})

    scripted.script = staticmethod(one)
    assert run(capsys, "auth", "login", "scripted")[0] == 0
    assert picked == [0]

    def two(session: LoginSession) -> Login:
        session.choose("Which Page?", ["Humas KPU", "KPU Musi Rawas"])
        raise AssertionError("no answer was given")

    scripted.script = staticmethod(two)
    code, out = run(capsys, "auth", "login", "scripted", stdin="")
    assert code == 2
    assert "error: auth login needs an answer on standard input and got none" in out


def test_a_token_also_set_in_the_environment_is_warned_about(
    scripted: type[ScriptedAdapter],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stored token that an environment variable overrides is named (variable, not value)."""
    monkeypatch.setenv("CROSSPOST_SCRIPTED_ACCESS_TOKEN", "CANARY-7f3a9c-secret-env")
    code, out = run(capsys, "auth", "login", "scripted")
    assert code == 0, out
    assert "CROSSPOST_SCRIPTED_ACCESS_TOKEN is set in the environment and overrides" in out


# -- status ----------------------------------------------------------------------------------


def store_table(**values: Any) -> None:
    path = home() / "credentials.toml"
    CredentialStore(path).update("scripted", values)


def test_status_says_where_each_secret_comes_from(
    scripted: type[ScriptedAdapter],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Environment variables are named, file keys said to be in the file; never values."""
    store_table(refresh_token=REFRESH, client_secret=CANARY, account="Humas KPU", account_id="1")
    monkeypatch.setenv("CROSSPOST_SCRIPTED_ACCESS_TOKEN", CANARY + "-env")
    code, out = run(capsys, "auth", "status")
    assert code == 0
    assert f"Credentials file: {home() / 'credentials.toml'}" in out
    assert "✓ Scripted: connected as Humas KPU (1)" in out
    assert (
        "    access_token: CROSSPOST_SCRIPTED_ACCESS_TOKEN (environment); "
        "expiry unknown (set in the environment)"
    ) in out
    assert "    refresh_token: file\n" in out
    assert "    client_secret: file\n" in out
    assert "✗ Handmade: not connected: run crosspost auth login handmade" in out
    assert "✗ TikTok: not connected: run crosspost auth login tiktok" in out

    code, out = run(capsys, "auth", "status", "--json")
    assert code == 0
    rows = {row["platform"]: row for row in json.loads(out[out.index("{") :])["platforms"]}
    assert rows["scripted"]["secrets"]["access_token"] == {
        "from": "environment",
        "variable": "CROSSPOST_SCRIPTED_ACCESS_TOKEN",
        "expiry": "expiry unknown (set in the environment)",
    }
    assert rows["scripted"]["secrets"]["refresh_token"]["from"] == "file"
    assert rows["scripted"]["connected"] is True
    assert rows["handmade"]["connected"] is False
    assert rows["handmade"]["secrets"] == {}


@pytest.mark.parametrize(
    ("facts", "said"),
    [
        ({"expires_at": timedelta(days=3, minutes=5)}, "access_token: file; expires in 3 days"),
        (
            {"expires_at": timedelta(hours=1, minutes=30, seconds=20)},
            "access_token: file; expires in 1 hour 30 minutes",
        ),
        (
            {"expires_at": -timedelta(hours=2, minutes=1)},
            "access_token: file; expired 2 hours ago — run crosspost auth login scripted",
        ),
        ({}, "access_token: file; does not expire"),
    ],
)
def test_status_says_expiry_in_words(
    scripted: type[ScriptedAdapter],
    capsys: pytest.CaptureFixture[str],
    facts: dict[str, timedelta],
    said: str,
) -> None:
    """Expiry in words, and the command to run when the token has expired."""
    now = datetime.now(UTC).replace(microsecond=0)
    store_table(access_token=CANARY, **{k: now + v for k, v in facts.items()})
    code, out = run(capsys, "auth", "status")
    assert code == 0
    assert f"    {said}\n" in out


def test_status_an_expired_token_with_a_refresh_token_is_renewed_not_relogged(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str]
) -> None:
    """An access token that expired while its refresh token is valid is renewed by the next
    run: no login is asked for; an expired refresh token asks for one."""
    now = datetime.now(UTC).replace(microsecond=0)
    store_table(
        access_token=CANARY,
        refresh_token=REFRESH,
        expires_at=now - timedelta(hours=5, minutes=1),
        refresh_expires_at=now + timedelta(days=170, hours=1),
        scopes=["post.publish"],
    )
    code, out = run(capsys, "auth", "status")
    assert code == 0
    assert "access_token: file; expired 5 hours ago; renewed before the next publish" in out
    assert "refresh_token: file; expires in 170 days" in out
    assert "    scopes: post.publish" in out
    store_table(refresh_expires_at=now - timedelta(days=1, hours=1))
    code, out = run(capsys, "auth", "status")
    assert "access_token: file; expired 5 hours ago — run crosspost auth login scripted" in out
    assert (
        "refresh_token: file; expired 1 day 1 hour ago — run crosspost auth login scripted" in out
    )


def test_status_of_a_broken_credentials_file_names_the_problem(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt key in the credentials file is an error naming it (exit 2)."""
    path = home() / "credentials.toml"
    path.write_text('[scripted]\nacess_token = "x"\n', encoding="utf-8")
    path.chmod(0o600)
    code, out = run(capsys, "auth", "status")
    assert code == 2
    assert "[scripted] acess_token is not a key crosspost reads" in out


# -- logout ----------------------------------------------------------------------------------


def test_logout_removes_the_platform_and_keeps_the_others(
    scripted: type[ScriptedAdapter],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """logout removes the platform's table, says so, says when there was none, and names the
    environment variables that still apply."""
    store_table(access_token=CANARY, refresh_token=REFRESH)
    CredentialStore(home() / "credentials.toml").update("tiktok", {"access_token": "tt-kept"})
    code, out = run(capsys, "auth", "logout", "scripted")
    assert code == 0
    assert f"✓ Removed Scripted's credentials from {home() / 'credentials.toml'}." in out
    assert stored() == {"tiktok": {"access_token": "tt-kept"}}
    monkeypatch.setenv("CROSSPOST_SCRIPTED_ACCESS_TOKEN", CANARY)
    code, out = run(capsys, "auth", "logout", "scripted")
    assert code == 0
    assert "No Scripted credentials in" in out
    assert "Set in the environment, and still used: CROSSPOST_SCRIPTED_ACCESS_TOKEN" in out


def test_the_account_name_is_not_treated_as_a_secret(
    scripted: type[ScriptedAdapter], capsys: pytest.CaptureFixture[str]
) -> None:
    """The account's name is a fact the platform reported: later output may show it."""
    from crosspost.redaction import redact

    scripted.script = staticmethod(
        lambda s: Login(Account("Komisi Pemilihan Umum Kota"), {"access_token": CANARY})
    )
    assert run(capsys, "auth", "login", "scripted")[0] == 0
    assert redact("posted as Komisi Pemilihan Umum Kota") == "posted as Komisi Pemilihan Umum Kota"


# -- config_edit.set_keys: what auth login relies on to write the config --------------------

CONFIG = """\
# KPU Musi Rawas
[profile]
name = "KPU"  # page_id = "not this one"
closing = \"\"\"
[platforms.facebook]
page_id = "inside a string"
\"\"\"

[platforms.facebook]   # our page
# the Page crosspost posts as
page_id = "111"  # set by auth login
hashtags = [
  "a",  # first
  "b",
]

[platforms.instagram]
page_id = "keep"
"""


def test_set_keys_replaces_only_the_tables_own_line_and_keeps_the_rest(tmp_path: Path) -> None:
    """A key is replaced in its table only (not in another table, not inside a string that
    looks like a table); a missing key goes right after the header; everything else stays."""
    from crosspost.config_edit import set_keys

    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    path.chmod(0o640)
    set_keys(path, "platforms.facebook", {"page_id": "222", "max_length": 500, "find_us": False})
    assert path.read_text("utf-8") == CONFIG.replace(
        "[platforms.facebook]   # our page\n",
        "[platforms.facebook]   # our page\nmax_length = 500\nfind_us = false\n",
    ).replace('page_id = "111"  # set by auth login', 'page_id = "222"  # set by auth login')
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_set_keys_replaces_a_value_written_over_several_lines(tmp_path: Path) -> None:
    """A multi-line value (an array) is replaced whole; its closing line's comment is kept."""
    from crosspost.config_edit import set_keys

    path = tmp_path / "config.toml"
    path.write_text('[platforms.x]\ntags = [\n  "a",\n]  # old\nmax_length = 4000\n', "utf-8")
    set_keys(path, "platforms.x", {"tags": "none"})
    assert path.read_text("utf-8") == '[platforms.x]\ntags = "none"  # old\nmax_length = 4000\n'


def test_set_keys_appends_a_missing_table_and_creates_a_missing_file(tmp_path: Path) -> None:
    """A table the file lacks is appended after a blank line; a missing file is created."""
    from crosspost.config_edit import set_keys

    path = tmp_path / "config.toml"
    path.write_text("# mine\n[profile]\nname = 'KPU'", encoding="utf-8")  # no final newline
    set_keys(path, "platforms.instagram", {"ig_user_id": "1789"})
    assert path.read_text("utf-8") == (
        "# mine\n[profile]\nname = 'KPU'\n\n[platforms.instagram]\nig_user_id = \"1789\"\n"
    )
    new = tmp_path / "dir" / "new.toml"
    set_keys(new, "platforms.facebook", {"page_id": "1"})
    assert new.read_text("utf-8") == '[platforms.facebook]\npage_id = "1"\n'


def test_set_keys_keeps_windows_line_ends_and_writes_through_a_symlink(tmp_path: Path) -> None:
    """A CRLF file gets CRLF lines; a symlinked config is edited where it points."""
    from crosspost.config_edit import set_keys

    real = tmp_path / "real.toml"
    real.write_bytes(b'[platforms.facebook]\r\npage_id = "1"\r\n')
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    set_keys(link, "platforms.facebook", {"page_id": "2", "enabled": True})
    assert link.is_symlink()
    assert real.read_bytes() == b'[platforms.facebook]\r\nenabled = true\r\npage_id = "2"\r\n'


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('platforms.facebook.page_id = "1"\n', "would no longer parse"),
        ("[platforms]\nfacebook = { page_id = '1' }\n", "would no longer parse"),
        ('[platforms.facebook]\npage_id = "1"\npage_id = "2"\n', "does not parse"),
    ],
)
def test_set_keys_refuses_what_it_cannot_edit_and_changes_nothing(
    tmp_path: Path, text: str, why: str
) -> None:
    """A table written as dotted keys or an inline table, or a file that does not parse,
    is refused with a ConfigError naming the file; the file is unchanged."""
    from crosspost.config_edit import set_keys
    from crosspost.errors import ConfigError

    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        set_keys(path, "platforms.facebook", {"page_id": "9"})
    assert str(info.value).startswith(f"{path}: ")
    assert why in str(info.value)
    assert path.read_text("utf-8") == text
    assert [p.name for p in folder.iterdir()] == ["config.toml"]  # no temporary file left
