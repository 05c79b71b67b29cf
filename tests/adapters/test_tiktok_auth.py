"""TikTok accounts against FakeTikTok's Login Kit: log in once, renew alone, doctor's checks.

Logins run end to end over loopback: a test browser opens the consent page on the
fake, follows its 302 to crosspost's loopback listener, and the code is exchanged
over HTTP. Time is the fake's ``oauth_clock`` for both sides (``_tiktok_api.now``
is pointed at it), so a test moves days ahead and every token ages alike.
"""

from __future__ import annotations

import asyncio
import json
import webbrowser
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from crosspost import oauth
from crosspost.adapter import Finding, Login, LoginSession, Part, Post
from crosspost.api import Progress, PublishContext
from crosspost.cli.auth import save_login
from crosspost.credentials import Credentials, CredentialStore
from crosspost.errors import AuthError, ConfigError, CredentialsError
from crosspost.media import MediaFile
from crosspost.oauth import OAuthError
from crosspost.publishing import RENEW_HORIZON
from crosspost.units import Unit
from crosspost_adapters import _tiktok_api
from crosspost_adapters.tiktok import TikTokAdapter, TikTokSettings
from tests.fakes.base import FakePlatform
from tests.fakes.server import serve
from tests.fakes.tiktok import FakeTikTok, utf16

T = TypeVar("T")
#: Plain HTTP on loopback: no proxies from the environment, no TLS context to build.
LOOPBACK: dict[str, Any] = {"trust_env": False, "verify": False}
APP = {
    "CROSSPOST_TIKTOK_CLIENT_KEY": "tiktok-client-key",
    "CROSSPOST_TIKTOK_CLIENT_SECRET": "tiktok-client-secret",
}
TOKEN_CALL = r"^POST /v2/oauth/token/$"
CREATOR = r"^POST /v2/post/publish/creator_info/query/$"
INIT = r"^POST /v2/post/publish/video/init/$"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Browser:
    """Stands in for the user's browser: opens the consent page (the fake user agrees)
    and, unless ``deliver`` is False, follows the 302 to crosspost's loopback listener."""

    def __init__(self, deliver: bool = True) -> None:
        self.deliver = deliver
        self.opened: list[str] = []
        self.location: str | None = None
        self.landed: httpx.Response | None = None

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        with httpx.Client(**LOOPBACK) as http:
            page = http.get(url)
            assert page.status_code == 302, page.text
            self.location = page.headers["location"]
            if self.deliver:
                self.landed = http.get(self.location)
        return True


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class Person:
    """The person at the terminal: what crosspost said, and the browser they use."""

    browser: Browser = field(default_factory=Browser)
    said: list[str] = field(default_factory=list)

    def paste(self, prompt: str) -> str:
        """--no-browser: open the printed address elsewhere, paste where it ended."""
        url = next(line for text in self.said for line in text.split("\n") if "://" in line)
        self.browser(url.strip())
        assert self.browser.location is not None
        return self.browser.location


@dataclass
class Connected:
    """A fake served on loopback, and where crosspost keeps this account's credentials."""

    fake: FakeTikTok
    origin: str
    file: Path
    login: Login

    @property
    def store(self) -> CredentialStore:
        return CredentialStore(self.file)

    def table(self) -> dict[str, Any]:
        return dict(self.store.read().get("tiktok", {}))

    def credentials(self, environ: dict[str, str] | None = None) -> Credentials:
        return Credentials("tiktok", {**APP, **(environ or {})}, self.file)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeTikTok, str]]:
    """FakeTikTok on loopback; crosspost's clock is the fake's."""
    tiktok = FakeTikTok()
    monkeypatch.setattr(_tiktok_api, "now", tiktok.oauth_clock.now)
    with serve(tiktok) as origin:
        yield tiktok, origin


def do_login(
    tiktok: FakeTikTok,
    origin: str,
    file: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    person: Person | None = None,
    open_browser: bool = True,
    environ: dict[str, str] | None = None,
    **settings: Any,
) -> Login:
    """``crosspost auth login tiktok`` as the adapter runs it."""
    person = person or Person()
    monkeypatch.setattr(webbrowser, "open", person.browser)

    async def go() -> Login:
        async with httpx.AsyncClient(**LOOPBACK) as client:
            session = LoginSession(
                client=client,
                platform="tiktok",
                # Direct mode unless told: these tests predate the inbox default.
                settings=TikTokSettings(api_base=origin, **{"mode": "direct", **settings}),
                credentials=Credentials("tiktok", APP if environ is None else environ, file),
                open_browser=open_browser,
                say=person.said.append,
                ask=person.paste,
                choose=lambda prompt, options: 0,
            )
            return await TikTokAdapter(session.settings).login(session)

    return run(go())


@pytest.fixture
def connected(
    fake: tuple[FakeTikTok, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Connected:
    """An account connected by ``auth login``: tokens in the credentials file only."""
    tiktok, origin = fake
    file = tmp_path / "credentials.toml"
    login = do_login(tiktok, origin, file, monkeypatch)
    save_login(CredentialStore(file), "tiktok", login)  # as auth login stores it
    return Connected(tiktok, origin, file, login)


class Watch(httpx.AsyncBaseTransport):
    """In-process transport to the fake; ``before`` sees each request first (and may
    move the clock), ``seen`` keeps what the credentials file held at each request."""

    def __init__(
        self, fake: FakePlatform, before: Callable[[httpx.Request], None] | None = None
    ) -> None:
        self.inner = fake.transport()
        self.before = before

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.before is not None:
            self.before(request)
        return await self.inner.handle_async_request(request)


def context(
    account: Connected,
    client: httpx.AsyncClient,
    *,
    environ: dict[str, str] | None = None,
    **settings: Any,
) -> PublishContext:
    return PublishContext(
        client=client,
        platform="tiktok",
        settings=TikTokSettings(api_base="http://testserver", **{"mode": "direct", **settings}),
        credentials=account.credentials(environ),
        progress=Progress(),
        poll_interval=0,
    )


def video_post(tmp_path: Path, privacy: str = "SELF_ONLY") -> Post:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * 8)
    text = "Sosialisasi Pemilu #KPUMelayani"
    media = MediaFile(path.name, "video", "video/mp4", path=path, size=path.stat().st_size)
    return Post(
        platform="tiktok",
        unit=Unit.UTF16,
        parts=(Part(text, utf16(text), 2200),),
        media=(media,),
        extra={"mode": "video"},
        options={"privacy_level": privacy},
    )


def photo_post(urls: list[str]) -> Post:
    text = "Pelatihan kehumasan #TemanPemilih"
    media = tuple(MediaFile(u.rsplit("/", 1)[1], "image", "image/jpeg", url=u) for u in urls)
    return Post(
        platform="tiktok",
        unit=Unit.UTF16,
        parts=(Part(text, utf16(text), 4000),),
        title=Part("Kehumasan", 9, 90),
        media=media,
        extra={"mode": "photo"},
        options={"privacy_level": "SELF_ONLY"},
    )


def cron_run(
    account: Connected,
    post: Post,
    *,
    before: Callable[[httpx.Request], None] | None = None,
    horizon: float = RENEW_HORIZON,
) -> Any:
    """What the runner does for TikTok: renew (1-hour horizon), then publish."""

    async def go() -> Any:
        async with httpx.AsyncClient(transport=Watch(account.fake, before)) as client:
            ctx = context(account, client)
            adapter = TikTokAdapter(ctx.settings)
            await adapter.renew(ctx, horizon)
            return await adapter.publish(post, ctx)

    return run(go())


# -- login -----------------------------------------------------------------------------


def test_login_end_to_end(connected: Connected) -> None:
    """The browser follows the consent page's redirect to the loopback listener; the
    code (hex PKCE, client_key) becomes tokens; user/info names the creator."""
    tiktok, login = connected.fake, connected.login
    now = tiktok.oauth_clock.now()
    assert login.account.name == "KPU Musi Rawas"
    assert login.account.id == tiktok.open_id
    assert set(login.secrets) == {"access_token", "refresh_token", "client_key", "client_secret"}
    assert login.secrets["client_key"] == "tiktok-client-key"  # cron renews with them
    assert tiktok.auth.valid_access_token(login.secrets["access_token"])
    assert tiktok.refresh_tokens() == [login.secrets["refresh_token"]]
    assert login.expires_at == now + timedelta(hours=2)
    assert login.refresh_expires_at == now + timedelta(days=180)
    assert login.scopes == ("user.info.basic", "video.publish", "video.upload")
    (authorize,) = [params for kind, params in tiktok.auth.log if kind == "authorize"]
    assert authorize["client_key"] == "tiktok-client-key"
    assert authorize["scope"] == "user.info.basic,video.publish,video.upload"
    assert len(authorize["code_challenge"]) == 64  # the hex SHA-256 (desktop guide)
    assert authorize["code_challenge_method"] == "S256"
    redirect = urlsplit(authorize["redirect_uri"])
    assert (redirect.hostname, redirect.path) == ("127.0.0.1", "/callback/")
    (exchange,) = [params for kind, params in tiktok.auth.log if kind == "token"]
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["client_secret"] == "tiktok-client-secret"
    (info,) = tiktok.calls(r"^GET /v2/user/info/$")
    assert info.url.params["fields"] == "open_id,display_name"
    assert info.headers["authorization"] == f"Bearer {login.secrets['access_token']}"


def test_login_without_a_browser_takes_the_pasted_address(
    fake: tuple[FakeTikTok, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--no-browser: the address is printed, the person pastes where the browser ended."""
    tiktok, origin = fake
    person = Person(browser=Browser(deliver=False))
    login = do_login(
        tiktok, origin, tmp_path / "c.toml", monkeypatch, person=person, open_browser=False
    )
    assert tiktok.auth.valid_access_token(login.secrets["access_token"])
    assert person.browser.opened and person.browser.opened[0].startswith(
        origin + "/v2/auth/authorize/?"
    )
    assert not any(login.secrets["access_token"] in line for line in person.said)


def test_login_pkce_style_follows_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pkce = "S256" sends RFC 7636's base64url challenge; a server wanting hex refuses it
    with an error that says so, before any token exists."""
    rfc = FakeTikTok(pkce="S256")
    with serve(rfc) as origin:
        login = do_login(rfc, origin, tmp_path / "a.toml", monkeypatch, pkce="S256")
    assert rfc.auth.valid_access_token(login.secrets["access_token"])
    (authorize,) = [params for kind, params in rfc.auth.log if kind == "authorize"]
    assert len(authorize["code_challenge"]) == 43

    hex_only = FakeTikTok()
    person = Person()
    with serve(hex_only) as origin, pytest.raises(OAuthError) as caught:
        do_login(hex_only, origin, tmp_path / "b.toml", monkeypatch, person=person, pkce="S256")
    assert "malformed code_challenge" in str(caught.value)
    assert not [kind for kind, _ in hex_only.auth.log if kind == "token"]


def test_login_without_app_credentials_names_them_and_the_portal(
    fake: tuple[FakeTikTok, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No client key/secret: which ones are missing, where to set them, where TikTok issues
    them; nothing is sent."""
    tiktok, origin = fake
    with pytest.raises(CredentialsError) as caught:
        do_login(tiktok, origin, tmp_path / "c.toml", monkeypatch, environ={})
    message = str(caught.value)
    assert "CROSSPOST_TIKTOK_CLIENT_KEY" in message and "CROSSPOST_TIKTOK_CLIENT_SECRET" in message
    assert "https://developers.tiktok.com/apps/" in message
    assert "docs/platforms/tiktok.md" in message
    assert tiktok.requests == []


# -- renewal ---------------------------------------------------------------------------


def test_renewal_rotates_and_saves_before_use(connected: Connected, tmp_path: Path) -> None:
    """Past its expiry the token is refreshed: the new refresh token replaces the old one
    (which TikTok now refuses), and the file holds both new tokens before the next call."""
    tiktok = connected.fake
    old = connected.table()
    tiktok.oauth_clock.advance(hours=3)
    seen: list[tuple[str, dict[str, Any]]] = []

    def before(request: httpx.Request) -> None:
        if request.url.path != "/v2/oauth/token/":
            seen.append((request.headers.get("authorization", ""), connected.table()))

    published = cron_run(connected, video_post(tmp_path), before=before)
    assert published.remote_id
    new = connected.table()
    assert new["refresh_token"] != old["refresh_token"]
    assert new["access_token"] != old["access_token"]
    assert tiktok.refresh_tokens() == [new["refresh_token"]]
    (refresh,) = [p for kind, p in tiktok.auth.log if kind == "token" and "refresh_token" in p]
    assert refresh["refresh_token"] == old["refresh_token"]
    # The first request after the refresh already found the new pair in the file.
    authorization, table = seen[0]
    assert authorization == f"Bearer {new['access_token']}"
    assert table["refresh_token"] == new["refresh_token"]
    assert table["expires_at"] == tiktok.oauth_clock.now() + timedelta(hours=2)
    assert table["refresh_expires_at"] == tiktok.oauth_clock.now() + timedelta(days=180)
    # The old refresh token is dead: TikTok refuses it.
    with pytest.raises(oauth.LoginRequiredError):
        run(_refresh_with(connected, old["refresh_token"]))


async def _refresh_with(account: Connected, token: str) -> oauth.TokenSet:
    async with httpx.AsyncClient(**LOOPBACK) as client:
        app = _tiktok_api.oauth_app(TikTokSettings(api_base=account.origin))
        return await oauth.refresh(
            client, app, APP["CROSSPOST_TIKTOK_CLIENT_KEY"], "tiktok-client-secret", token
        )


def test_cron_renews_with_the_app_keys_the_login_stored(
    connected: Connected, tmp_path: Path
) -> None:
    """Cron without the login's environment: the client key and secret the login stored in
    the credentials file renew the token."""
    tiktok = connected.fake
    tiktok.oauth_clock.advance(hours=3)

    async def go() -> Any:
        async with httpx.AsyncClient(transport=tiktok.transport()) as client:
            ctx = context(connected, client)
            ctx.credentials = Credentials("tiktok", {}, connected.file)
            adapter = TikTokAdapter(ctx.settings)
            await adapter.renew(ctx, RENEW_HORIZON)
            return await adapter.publish(video_post(tmp_path), ctx)

    assert run(go()).remote_id
    (refresh,) = [p for kind, p in tiktok.auth.log if kind == "token" and "refresh_token" in p]
    assert refresh["client_key"] == "tiktok-client-key"


def test_token_within_the_horizon_is_renewed_and_a_fresh_one_is_not(
    connected: Connected, tmp_path: Path
) -> None:
    """A token expiring in 30 minutes is renewed before publishing; one valid for 2 hours is
    used as it is."""
    tiktok = connected.fake
    cron_run(connected, video_post(tmp_path))
    assert not [p for kind, p in tiktok.auth.log if kind == "token" and "refresh_token" in p]
    tiktok.oauth_clock.advance(minutes=90)
    cron_run(connected, video_post(tmp_path))
    refreshes = [p for kind, p in tiktok.auth.log if kind == "token" and "refresh_token" in p]
    assert len(refreshes) == 1


def test_publish_three_days_later_needs_no_manual_step(
    connected: Connected, tmp_path: Path
) -> None:
    """Three simulated days after login (access token long expired, the stored expiry in
    the past), the run renews and publishes; nobody logs in again."""
    tiktok = connected.fake
    tiktok.oauth_clock.advance(days=3)
    stored = connected.credentials().expires_at()
    assert stored is not None and stored < tiktok.oauth_clock.now()
    assert not tiktok.auth.valid_access_token(connected.table()["access_token"])
    published = cron_run(connected, video_post(tmp_path))
    assert published.remote_id.startswith("v_pub_file")
    assert len(tiktok.posts) == 1 and tiktok.posts[0].status == "PUBLISH_COMPLETE"
    assert tiktok.auth.valid_access_token(connected.table()["access_token"])


def test_expired_token_mid_publish_is_renewed_once_and_the_step_repeated(
    connected: Connected, tmp_path: Path
) -> None:
    """A token the file says is valid but TikTok refuses (401 access_token_invalid) is
    renewed once and creator_info asked again; init goes out once."""
    tiktok = connected.fake
    tiktok.expired_tokens.add(connected.table()["access_token"])
    published = cron_run(connected, video_post(tmp_path))
    assert published.remote_id
    assert len(tiktok.calls(CREATOR)) == 2 and len(tiktok.calls(INIT)) == 1
    assert len(tiktok.posts) == 1


def test_init_refused_for_an_expired_token_is_sent_again_once(
    connected: Connected, tmp_path: Path
) -> None:
    """The token expires between creator_info and init: TikTok refuses init before acting
    (401), so it is renewed and init sent again; exactly one post exists."""
    tiktok = connected.fake
    moved: list[bool] = []

    def before(request: httpx.Request) -> None:
        if request.url.path.endswith("/video/init/") and not moved:
            moved.append(True)
            tiktok.oauth_clock.advance(hours=2, seconds=1)

    cron_run(connected, video_post(tmp_path), before=before)
    assert len(tiktok.calls(INIT)) == 2
    assert len(tiktok.posts) == 1 and tiktok.posts[0].status == "PUBLISH_COMPLETE"


def test_a_second_refusal_after_renewal_is_an_auth_error(
    connected: Connected, tmp_path: Path
) -> None:
    """Renewed once and still refused: an AuthError with the login command, no loop."""
    tiktok = connected.fake
    tiktok.fail(CREATOR, 401, json=_invalid_token(), times=5)
    with pytest.raises(AuthError, match="crosspost auth login tiktok"):
        cron_run(connected, video_post(tmp_path))
    assert len(tiktok.calls(CREATOR)) == 2 and tiktok.calls(INIT) == []


def _invalid_token() -> dict[str, Any]:
    return {
        "data": {},
        "error": {"code": "access_token_invalid", "message": "expired", "log_id": "L1"},
    }


def test_expired_refresh_token_names_the_account_and_the_command(
    connected: Connected, tmp_path: Path
) -> None:
    """181 days on, the refresh token is past its expiry: the message names the account,
    the date and ``crosspost auth login tiktok``; nothing is sent."""
    tiktok = connected.fake
    tiktok.oauth_clock.advance(days=181)
    before = len(tiktok.requests)
    with pytest.raises(AuthError) as caught:
        cron_run(connected, video_post(tmp_path))
    message = str(caught.value)
    assert '"KPU Musi Rawas"' in message and "expired on" in message
    assert "crosspost auth login tiktok" in message
    assert len(tiktok.requests) == before


def test_refused_refresh_token_names_the_account_the_reason_and_the_command(
    connected: Connected, tmp_path: Path
) -> None:
    """Access removed in the TikTok app (the refresh token revoked): TikTok's invalid_grant
    becomes an AuthError naming the account, TikTok's words and the command."""
    tiktok = connected.fake
    tiktok.auth.tokens[connected.table()["refresh_token"]].revoked = True
    tiktok.oauth_clock.advance(hours=3)
    with pytest.raises(AuthError) as caught:
        cron_run(connected, video_post(tmp_path))
    message = str(caught.value)
    assert '"KPU Musi Rawas"' in message and "invalid_grant" in message
    assert "crosspost auth login tiktok" in message
    for key in ("access_token", "refresh_token"):
        assert connected.table()[key] not in message
    assert tiktok.calls(CREATOR) == []


def test_two_runs_renewing_at_once_keep_the_newest_token(
    connected: Connected, tmp_path: Path
) -> None:
    """Run B read the old refresh token before run A rotated it: TikTok refuses B's, and B
    takes the pair A stored instead of failing; the file keeps A's (newest) tokens."""
    tiktok = connected.fake
    tiktok.oauth_clock.advance(hours=3)

    async def go() -> None:
        async with httpx.AsyncClient(transport=tiktok.transport()) as client:
            b = context(connected, client)
            assert b.credentials.get("refresh_token")  # B has read the file
            a = context(connected, client)
            await TikTokAdapter(a.settings).renew(a, RENEW_HORIZON)
            newest = connected.table()
            await TikTokAdapter(b.settings).renew(b, RENEW_HORIZON)
            assert connected.table() == newest
            published = await TikTokAdapter(b.settings).publish(video_post(tmp_path), b)
            assert published.remote_id

    run(go())
    refreshes = [p for kind, p in tiktok.auth.log if kind == "token" and "refresh_token" in p]
    assert len(refreshes) == 2  # A's, and B's refused one
    assert tiktok.refresh_tokens() == [connected.table()["refresh_token"]]


def test_tokens_from_the_environment_are_not_renewed(connected: Connected, tmp_path: Path) -> None:
    """A refresh token set in the environment is never rotated (the variable would hold a
    dead one); once the access token expired, the message says to unset or update it."""
    tiktok = connected.fake
    environ = {"CROSSPOST_TIKTOK_REFRESH_TOKEN": connected.table()["refresh_token"]}

    async def renew(client: httpx.AsyncClient) -> None:
        ctx = context(connected, client, environ=environ)
        await TikTokAdapter(ctx.settings).renew(ctx, RENEW_HORIZON)

    async def go() -> None:
        async with httpx.AsyncClient(transport=tiktok.transport()) as client:
            await renew(client)  # expiring within the horizon, not expired: left alone
            tiktok.oauth_clock.advance(hours=3)
            with pytest.raises(AuthError) as caught:
                await renew(client)
            message = str(caught.value)
            assert "Unset CROSSPOST_TIKTOK_REFRESH_TOKEN" in message
            assert "crosspost auth login tiktok" in message

    tiktok.oauth_clock.advance(minutes=90)
    run(go())
    assert not [p for kind, p in tiktok.auth.log if kind == "token" and "refresh_token" in p]


# -- identity and doctor -----------------------------------------------------------------


def findings_for(
    account: Connected, post: Post | None = None, client: httpx.AsyncClient | None = None, **s: Any
) -> list[Finding]:
    async def go() -> list[Finding]:
        async with client or httpx.AsyncClient(transport=account.fake.transport()) as http:
            ctx = context(account, http, **s)
            return await TikTokAdapter(ctx.settings).diagnose(ctx, post)

    return run(go())


def identity_of(account: Connected) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(transport=account.fake.transport()) as client:
            ctx = context(account, client)
            return await TikTokAdapter(ctx.settings).identity(ctx)

    return run(go())


def test_identity_is_the_creator(connected: Connected) -> None:
    """identity: user/info's display name and open_id, with the stored token."""
    account = identity_of(connected)
    assert (account.name, account.id) == ("KPU Musi Rawas", connected.fake.open_id)


def test_doctor_never_renews_an_expired_token(connected: Connected) -> None:
    """Past the stored expiry, identity and diagnose do not renew (renewal rotates the
    refresh token): "not checked", nothing sent, the credentials file untouched; the
    configured SELF_ONLY is still pointed out."""
    tiktok = connected.fake
    tiktok.oauth_clock.advance(hours=3)
    before = connected.file.read_bytes()
    sent = len(tiktok.requests)
    with pytest.raises(ConfigError, match="the next publish renews it"):
        identity_of(connected)
    findings = findings_for(connected)
    assert [f.level for f in findings if "not checked" in f.message] == ["warn"]
    assert any(f.level == "warn" and "SELF_ONLY" in f.message for f in findings)
    assert len(tiktok.requests) == sent and connected.file.read_bytes() == before


def test_doctor_reports_a_revoked_token_without_renewing(connected: Connected) -> None:
    """A token TikTok refuses although its expiry is ahead: identity fails with the login
    command, and no refresh is attempted."""
    tiktok = connected.fake
    tiktok.expired_tokens.add(connected.table()["access_token"])
    with pytest.raises(AuthError, match="crosspost auth login tiktok"):
        identity_of(connected)
    assert not [p for kind, p in tiktok.auth.log if kind == "token" and "refresh_token" in p]


def test_doctor_on_an_unaudited_app_warns_that_posts_are_private(connected: Connected) -> None:
    """Unaudited (creator_info offers SELF_ONLY only): a warning that posts are visible to
    the account alone; the renewing token and permissions are fine."""
    connected.fake.unaudited = True
    findings = findings_for(connected)
    levels = {f.level for f in findings}
    assert "fail" not in levels
    (private,) = [f for f in findings if "SELF_ONLY" in f.message]
    assert private.level == "warn"
    assert "audit" in private.message and "visible only to the account" in private.message


def test_doctor_fails_a_privacy_level_tiktok_does_not_offer(connected: Connected) -> None:
    """PUBLIC_TO_EVERYONE configured on an unaudited app: tonight's run would fail."""
    connected.fake.unaudited = True
    findings = findings_for(connected, privacy_level="PUBLIC_TO_EVERYONE")
    (fail,) = [f for f in findings if f.level == "fail"]
    assert "PUBLIC_TO_EVERYONE" in fail.message and "privacy_level" in fail.message


def test_doctor_on_a_public_audited_account_is_green(connected: Connected) -> None:
    """An audited app posting PUBLIC_TO_EVERYONE: only ok findings."""
    findings = findings_for(connected, privacy_level="PUBLIC_TO_EVERYONE")
    assert [f.level for f in findings] == ["ok"] * len(findings)
    assert any("PUBLIC_TO_EVERYONE" in f.message for f in findings)


def test_doctor_fails_a_login_without_video_publish(connected: Connected) -> None:
    """Stored scopes without video.publish: fail, naming the permission and the command."""
    connected.store.update("tiktok", {"scopes": ["user.info.basic"]})
    (fail, *_) = [f for f in findings_for(connected) if f.level == "fail"]
    assert "video.publish" in fail.message and "crosspost auth login tiktok" in fail.message


def test_no_token_in_any_message_or_finding(connected: Connected, tmp_path: Path) -> None:
    """Tokens and the client secret never appear in errors, findings or progress."""
    tiktok = connected.fake
    secrets = [
        connected.login.secrets[key] for key in ("access_token", "refresh_token", "client_secret")
    ]
    texts = [json.dumps([f.message for f in findings_for(connected)])]
    tiktok.auth.tokens[connected.table()["refresh_token"]].revoked = True
    tiktok.oauth_clock.advance(hours=3)
    with pytest.raises(AuthError) as caught:
        cron_run(connected, video_post(tmp_path))
    texts.append(str(caught.value))
    text = "\n".join(texts)
    for secret in secrets:
        assert secret not in text


# -- inbox mode: login's scopes and doctor -------------------------------------------------


def test_login_in_inbox_mode_asks_only_for_the_upload_scope(
    fake: tuple[FakeTikTok, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inbox mode asks for user.info.basic and video.upload only (an app without Direct
    Post must not ask for video.publish), and the login needs video.upload."""
    tiktok, origin = fake
    login = do_login(tiktok, origin, tmp_path / "c.toml", monkeypatch, mode="inbox")
    (authorize,) = [params for kind, params in tiktok.auth.log if kind == "authorize"]
    assert authorize["scope"] == "user.info.basic,video.upload"
    assert login.scopes == ("user.info.basic", "video.upload")


def test_doctor_in_inbox_mode_says_the_modes_and_where_posts_wait(
    connected: Connected,
) -> None:
    """Inbox mode: which modes the stored permissions allow, that posts wait in the inbox
    (a warning: nothing is public before someone finishes them), and no creator_info."""
    sent = len(connected.fake.calls(r"creator_info"))
    findings = findings_for(connected, mode="inbox")
    assert "fail" not in {f.level for f in findings}
    assert any(
        f.level == "ok" and f.message.startswith("modes the permissions allow: direct, inbox")
        for f in findings
    )
    (waiting,) = [f for f in findings if "inbox mode" in f.message]
    assert waiting.level == "warn" and "wait in the TikTok inbox" in waiting.message
    assert len(connected.fake.calls(r"creator_info")) == sent


def test_doctor_fails_a_mode_the_permissions_do_not_allow(connected: Connected) -> None:
    """Permissions with video.upload only and mode = "direct": fail, saying the granted
    ones allow inbox mode; the same permissions in inbox mode are fine."""
    connected.store.update("tiktok", {"scopes": ["user.info.basic", "video.upload"]})
    (fail,) = [f for f in findings_for(connected, mode="direct") if f.level == "fail"]
    assert "mode is 'direct'" in fail.message and "'video.publish'" in fail.message
    assert "allow inbox mode" in fail.message and "crosspost auth login tiktok" in fail.message
    assert "fail" not in {f.level for f in findings_for(connected, mode="inbox")}


def test_doctor_warns_of_privacy_options_in_inbox_mode(connected: Connected) -> None:
    """privacy_level set with mode = "inbox": a warning that it applies to direct posts only."""
    findings = findings_for(connected, mode="inbox", privacy_level="SELF_ONLY")
    (ignored,) = [f for f in findings if "direct posts only" in f.message]
    assert ignored.level == "warn" and ignored.message.startswith("privacy_level")
    assert not [f for f in findings_for(connected, mode="inbox") if "direct posts" in f.message]
