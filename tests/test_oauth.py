"""OAuth 2.0 for the CLI (crosspost.oauth) against the strict fake authorization server.

The logins run end to end over loopback: ``FakeAuthServer`` is served by
``tests.fakes.server.serve``, a test browser follows the authorization page's 302
to crosspost's ``LoopbackReceiver``, and the code is exchanged over HTTP. Four
flows mirror the platforms' rules (X, TikTok, Google, Facebook); the refusals
(wrong redirect URI, reused or expired code, bad verifier, bad state, reused or
expired refresh token) come from the fake as the platforms give them.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from crosspost import oauth
from crosspost.errors import ConfigError, RateLimitedError, TransientError
from crosspost.oauth import (
    LoginRequiredError,
    LoopbackReceiver,
    OAuthApp,
    OAuthError,
    TokenSet,
    authorize_url,
    check_callback,
    code_challenge,
    exchange_code,
    login,
    parse_redirect,
    pkce_pair,
    refresh,
    revoke,
    token_set,
)
from tests.fakes.base import FakePlatform
from tests.fakes.oauth import FakeAuthServer, FakeClock
from tests.fakes.server import serve
from tests.ports import free_port

T = TypeVar("T")

CLIENT_ID = "client-7Hq2"
#: A canary: searched for in every message and repr.
CLIENT_SECRET = "canary-client-secret-51f0c2"
AUTHORIZE, TOKEN, REVOKE = "/oauth/authorize", "/oauth/token", "/oauth/revoke"
#: Clients for plain HTTP on loopback: no proxies, and no TLS context to build (0.1 s each).
LOOPBACK: dict[str, Any] = {"trust_env": False, "verify": False}


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class AuthPlatform(FakePlatform):
    """A platform fake that is only an authorization server."""

    name = "auth"

    def __init__(self, server: FakeAuthServer) -> None:
        super().__init__()
        self.server = server
        server.mount(self, authorize=AUTHORIZE, token=TOKEN, revoke=REVOKE)


@dataclass
class Flow:
    """One platform's rules: the app crosspost describes, and the fake that enforces them."""

    app: dict[str, Any]
    server: dict[str, Any]
    secret: str | None = CLIENT_SECRET
    redirect_uris: tuple[str, ...] = ("http://127.0.0.1:*/callback",)


FLOWS = {
    # X: PKCE S256, HTTP Basic for a confidential client, refresh only with
    # offline.access, rotating refresh tokens, codes valid 30 s, tokens 2 h.
    "x": Flow(
        app={
            "platform": "twitter",
            "display_name": "X / Twitter",
            "scopes": ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access"),
            "client_auth": "basic",
        },
        server={"client_auth": "basic", "offline_scope": "offline.access"},
    ),
    # TikTok: client_key, comma-separated scopes, hex PKCE, secret in the body,
    # refresh_expires_in and open_id in the answer, errors with a log_id.
    "tiktok": Flow(
        app={
            "platform": "tiktok",
            "scopes": ("user.info.basic", "video.publish", "video.upload"),
            "scope_separator": ",",
            "client_id_param": "client_key",
            "pkce": "S256-hex",
            "redirect_path": "/callback/",
        },
        server={
            "client_id_param": "client_key",
            "scope_separator": ",",
            "pkce": "S256-hex",
            "client_auth": "body",
            "refresh_lifetime": timedelta(days=180),
            "report_refresh_expiry": True,
            "token_extra": {"open_id": "open-42"},
            "error_extra": {"log_id": "2026030112000001"},
        },
        redirect_uris=("http://127.0.0.1:*/callback/",),
    ),
    # Google: access_type=offline + prompt=consent, any loopback port (RFC 8252
    # §7.3), refresh tokens that do not rotate and die after 7 days in "Testing".
    "google": Flow(
        app={
            "platform": "youtube",
            "scopes": ("https://www.googleapis.com/auth/youtube.upload",),
            "extra_authorize": {"access_type": "offline", "prompt": "consent"},
        },
        server={
            "offline_param": ("access_type", "offline"),
            "rotate_refresh": False,
            "refresh_lifetime": timedelta(days=7),
            "access_lifetime": timedelta(hours=1),
            "loopback_any_port": True,
        },
        redirect_uris=("http://127.0.0.1/callback",),
    ),
    # Facebook: no PKCE, a GET code exchange, Graph-shaped errors, no refresh
    # token, "#_=_" appended to the redirect.
    "facebook": Flow(
        app={
            "platform": "facebook",
            "scopes": ("pages_show_list", "pages_manage_posts"),
            "scope_separator": ",",
            "pkce": None,
            "token_method": "GET",
        },
        server={
            "scope_separator": ",",
            "pkce": None,
            "pkce_required": False,
            "token_method": "GET",
            "error_shape": "facebook",
            "issue_refresh": False,
            "report_scope": False,
            "redirect_fragment": "_=_",
            "access_lifetime": timedelta(hours=1),
        },
    ),
}


@dataclass
class Env:
    app: OAuthApp
    server: FakeAuthServer
    platform: AuthPlatform
    clock: FakeClock
    secret: str | None
    said: list[str] = field(default_factory=list)

    def login(self, browser: Callable[[str], object], **kwargs: Any) -> TokenSet:
        kwargs.setdefault("open_browser", True)
        kwargs.setdefault("paste", None)
        kwargs.setdefault("timeout", 10)

        async def go() -> TokenSet:
            async with httpx.AsyncClient(**LOOPBACK) as client:
                return await login(
                    self.app,
                    CLIENT_ID,
                    self.secret,
                    client=client,
                    say=self.said.append,
                    browser=browser,
                    now=self.clock.now,
                    **kwargs,
                )

        return run(go())

    def refresh(self, token: str, app: OAuthApp | None = None) -> TokenSet:
        async def go() -> TokenSet:
            async with httpx.AsyncClient(**LOOPBACK) as client:
                return await refresh(
                    client, app or self.app, CLIENT_ID, self.secret, token, now=self.clock.now
                )

        return run(go())

    def exchange(self, code: str, redirect_uri: str, verifier: str | None) -> TokenSet:
        async def go() -> TokenSet:
            async with httpx.AsyncClient(**LOOPBACK) as client:
                return await exchange_code(
                    client,
                    self.app,
                    CLIENT_ID,
                    self.secret,
                    code,
                    redirect_uri,
                    verifier,
                    now=self.clock.now,
                )

        return run(go())

    def token_calls(self) -> list[dict[str, str]]:
        return [params for kind, params in self.server.log if kind == "token"]


@contextmanager
def environment(name: str, **changes: Any) -> Iterator[Env]:
    """A fake authorization server for flow ``name`` served on loopback, and its app."""
    flow = FLOWS[name]
    clock = FakeClock()
    server = FakeAuthServer(clock=clock.now, **{**flow.server, **changes.pop("server", {})})
    server.register(CLIENT_ID, flow.secret, changes.pop("redirect_uris", flow.redirect_uris))
    platform = AuthPlatform(server)
    with serve(platform) as origin:
        app = OAuthApp(
            authorize_url=origin + AUTHORIZE,
            token_url=origin + TOKEN,
            revoke_url=origin + REVOKE,
            **{**flow.app, **changes.pop("app", {})},
        )
        yield Env(app, server, platform, clock, changes.pop("secret", flow.secret))


class Browser:
    """Stands in for the user's browser: opens the authorization page, where the fake
    user consents, and follows the 302 to crosspost's loopback listener.

    ``on_redirect`` may change the redirect address (a forged state) or do
    something meanwhile (the clock moves on).
    """

    def __init__(self, on_redirect: Callable[[str], str] | None = None, deliver: bool = True):
        self.on_redirect = on_redirect
        self.deliver = deliver
        self.pages: list[httpx.Response] = []
        self.location: str | None = None
        self.landed: httpx.Response | None = None

    def authorize(self, url: str) -> str | None:
        """Open the authorization page; the redirect address, or None (an error page)."""
        with httpx.Client(**LOOPBACK) as http:
            page = http.get(url)
        self.pages.append(page)
        if page.status_code != 302:
            return None
        location = page.headers["location"]
        if self.on_redirect is not None:
            location = self.on_redirect(location)
        self.location = location
        return location

    def __call__(self, url: str) -> bool:
        location = self.authorize(url)
        if location is not None and self.deliver:
            with httpx.Client(**LOOPBACK) as http:
                self.landed = http.get(location)
        return True


def redirect_params(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorized(env: Env) -> tuple[str, str, str | None]:
    """Run the authorization half by hand: ``(code, redirect_uri, verifier)``."""
    state = oauth.new_state()
    verifier, challenge = pkce_pair(env.app.pkce) if env.app.pkce else (None, None)
    with LoopbackReceiver(env.app.redirect_path) as receiver:
        Browser()(authorize_url(env.app, CLIENT_ID, receiver.redirect_uri, state, challenge))
        params = receiver.wait(5)
        redirect_uri = receiver.redirect_uri
    return check_callback(params, state), redirect_uri, verifier


# -- PKCE, state, the authorization address ---------------------------------------------


def test_s256_challenge_matches_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    # TikTok's desktop style: the hex digest of the same SHA-256.
    assert code_challenge(verifier, "S256-hex") == (
        base64.urlsafe_b64decode("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=").hex()
    )


def test_pkce_pair_is_fresh_and_well_formed() -> None:
    pairs = [pkce_pair() for _ in range(20)]
    assert len({v for v, _ in pairs}) == 20
    for verifier, challenge in pairs:
        assert 43 <= len(verifier) <= 128
        assert set(verifier) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        )
        assert challenge == code_challenge(verifier)
        assert "=" not in challenge and len(challenge) == 43
    verifier, challenge = pkce_pair("S256-hex")
    assert len(challenge) == 64 and int(challenge, 16) >= 0
    assert len({oauth.new_state() for _ in range(20)}) == 20


def test_authorize_url_for_each_platform_style() -> None:
    app = OAuthApp(
        platform="twitter",
        authorize_url="https://x.com/i/oauth2/authorize",
        token_url="https://api.x.com/2/oauth2/token",
        scopes=("tweet.read", "offline.access"),
    )
    url = authorize_url(app, "cid", "http://127.0.0.1:5000/callback", "st", "ch")
    assert url.startswith("https://x.com/i/oauth2/authorize?response_type=code&client_id=cid&")
    assert "scope=tweet.read%20offline.access" in url  # %20, as X requires
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback" in url
    assert url.endswith("state=st&code_challenge=ch&code_challenge_method=S256")

    tiktok = replace(
        app,
        scopes=("user.info.basic", "video.publish"),
        scope_separator=",",
        client_id_param="client_key",
        pkce="S256-hex",
    )
    query = parse_qs(urlsplit(authorize_url(tiktok, "ck", "http://r", "st", "ab12")).query)
    assert query["client_key"] == ["ck"] and "client_id" not in query
    assert query["scope"] == ["user.info.basic,video.publish"]
    assert query["code_challenge_method"] == ["S256"]

    google = replace(app, extra_authorize={"access_type": "offline", "prompt": "consent"})
    query = parse_qs(urlsplit(authorize_url(google, "c", "http://r", "s", "x")).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]

    facebook = replace(app, authorize_url="https://www.facebook.com/v21.0/dialog/oauth", pkce=None)
    query = parse_qs(urlsplit(authorize_url(facebook, "c", "http://r", "s", None)).query)
    assert "code_challenge" not in query and "code_challenge_method" not in query


# -- the loopback listener, pasted addresses, the callback check -------------------------


def test_loopback_receiver_takes_the_first_redirect_and_ignores_other_paths() -> None:
    with LoopbackReceiver("/callback") as receiver, httpx.Client(**LOOPBACK) as http:
        uri = receiver.redirect_uri
        assert urlsplit(uri).hostname == "127.0.0.1" and urlsplit(uri).path == "/callback"
        origin = uri.removesuffix("/callback")
        assert http.get(origin + "/favicon.ico").status_code == 404
        assert http.get(origin + "/").status_code == 404
        assert http.post(uri).status_code == 405
        assert receiver.poll() is None
        page = http.get(uri, params={"code": "abcd1234", "state": "s1"})
        assert page.status_code == 200
        assert page.text.startswith("crosspost: you can close this tab")
        assert page.headers["content-type"].startswith("text/plain")
        assert "abcd1234" not in page.text
        http.get(uri, params={"code": "later", "state": "s2"})  # a second visit changes nothing
        assert receiver.wait(1) == {"code": "abcd1234", "state": "s1"}
        refused = http.get(uri, params={"error": "access_denied"})
        assert "already" in refused.text


def test_loopback_receiver_error_page_and_timeout() -> None:
    with LoopbackReceiver() as receiver, httpx.Client(**LOOPBACK) as http:
        page = http.get(receiver.redirect_uri, params={"error": "access_denied", "state": "s"})
        assert "did not grant access" in page.text
    with LoopbackReceiver() as receiver, pytest.raises(OAuthError, match="no answer reached"):
        receiver.wait(0.05)


def test_loopback_receiver_fixed_port_and_busy_port() -> None:
    port = free_port()
    with LoopbackReceiver("/cb", port) as receiver:
        assert receiver.redirect_uri == f"http://127.0.0.1:{port}/cb"
        with pytest.raises(ConfigError, match=f"port {port}"), LoopbackReceiver("/cb", port):
            pass


def test_parse_redirect_accepts_the_address_or_its_query() -> None:
    address = "http://127.0.0.1:5123/callback?code=c0de-1&state=st4te#_=_"
    expected = {"code": "c0de-1", "state": "st4te"}
    assert parse_redirect(address) == expected
    assert parse_redirect(f"  '{address}'\n") == expected
    assert parse_redirect("code=c0de-1&state=st4te") == expected
    assert parse_redirect("?code=c0de-1&state=st4te") == expected
    assert parse_redirect("http://127.0.0.1:1/callback?error=access_denied&state=s") == {
        "error": "access_denied",
        "state": "s",
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "nothing was pasted"),
        ("   ", "nothing was pasted"),
        ("hello there", "not the address the browser ended on"),
        ("ftp://example.com/?code=1", "not the address the browser ended on"),
        ("http://127.0.0.1:5123/callback", "carries no answer"),
        ("https://x.com/i/oauth2/authorize?client_id=c&state=s", "carries no answer"),
    ],
)
def test_parse_redirect_refuses_what_is_not_an_answer(text: str, words: str) -> None:
    with pytest.raises(OAuthError, match=words):
        parse_redirect(text)


def test_check_callback() -> None:
    assert check_callback({"code": "abc123", "state": "s"}, "s") == "abc123"
    with pytest.raises(OAuthError, match=r"does not belong to this login \(state mismatch\)"):
        check_callback({"code": "abc123", "state": "other"}, "s", platform="tiktok")
    with pytest.raises(OAuthError, match="run crosspost auth login tiktok again"):
        check_callback({"code": "abc123"}, "s", platform="tiktok")
    with pytest.raises(OAuthError, match=r"not granted .*\(access_denied: The user denied\)"):
        check_callback(
            {"error": "access_denied", "error_description": "The user denied", "state": "s"}, "s"
        )
    with pytest.raises(OAuthError, match=r"refused the authorization request \(invalid_scope\)"):
        check_callback({"error": "invalid_scope", "state": "s"}, "s")
    with pytest.raises(OAuthError, match="no authorization code"):
        check_callback({"state": "s"}, "s")


def test_token_set_from_answers() -> None:
    clock = FakeClock()
    now = clock.now()
    tiktok = token_set(
        {
            "access_token": "act.1234",
            "refresh_token": "rft.5678",
            "expires_in": 7200,
            "refresh_expires_in": "15552000",
            "scope": "user.info.basic,video.publish",
            "token_type": "Bearer",
            "open_id": "open-42",
            "id_token": "eyJsecret",
        },
        now=now,
    )
    assert tiktok.expires_at == now + timedelta(hours=2)
    assert tiktok.refresh_expires_at == now + timedelta(days=180)
    assert tiktok.scopes == ("user.info.basic", "video.publish")
    assert tiktok.extra == {"open_id": "open-42"}
    assert tiktok.issued_at == now
    assert tiktok.expires_within(timedelta(hours=3), now)
    assert not tiktok.expires_within(timedelta(hours=1), now)
    google = token_set(
        {"access_token": "ya29.abcd", "expires_in": 3599, "scope": "a b"},
        now=now,
        previous_refresh="1//keep-me",
    )
    assert google.refresh_token == "1//keep-me" and google.scopes == ("a", "b")
    facebook = token_set({"access_token": "EAAB1234"}, now=now, default_scopes=("x",))
    assert facebook.expires_at is None and facebook.scopes == ("x",)
    assert not facebook.expires_within(timedelta(days=999), now)
    shown = repr(tiktok) + str(tiktok) + repr(google)
    for secret in ("act.1234", "rft.5678", "eyJsecret", "1//keep-me"):
        assert secret not in shown


# -- whole logins ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FLOWS))
def test_login_end_to_end(name: str) -> None:
    with environment(name) as env:
        browser = Browser()
        tokens = env.login(browser)
        assert env.server.valid_access_token(tokens.access_token)
        assert browser.landed is not None and "you can close this tab" in browser.landed.text
        (authorize,) = [p for kind, p in env.server.log if kind == "authorize"]
        (exchange,) = env.token_calls()
        assert tokens.issued_at == env.clock.now()
        assert any(env.app.name in line and "browser" in line for line in env.said)
        if name == "x":
            assert tokens.refresh_token is not None
            assert tokens.expires_at == env.clock.now() + timedelta(hours=2)
            assert tokens.scopes == env.app.scopes
            assert authorize["scope"] == " ".join(env.app.scopes)
            assert "client_id" not in exchange  # HTTP Basic instead
        if name == "tiktok":
            assert authorize["client_key"] == CLIENT_ID
            assert len(authorize["code_challenge"]) == 64  # hex
            assert exchange["client_key"] == CLIENT_ID
            assert exchange["client_secret"] == CLIENT_SECRET
            assert tokens.refresh_expires_at == env.clock.now() + timedelta(days=180)
            assert tokens.extra == {"open_id": "open-42"}
            assert tokens.scopes == ("user.info.basic", "video.publish", "video.upload")
        if name == "google":
            assert authorize["access_type"] == "offline" and authorize["prompt"] == "consent"
            assert tokens.refresh_token is not None
            assert tokens.expires_at == env.clock.now() + timedelta(hours=1)
        if name == "facebook":
            assert "code_challenge" not in authorize
            assert env.platform.calls("GET /oauth/token")
            assert tokens.refresh_token is None
            assert tokens.scopes == env.app.scopes  # Facebook does not echo the scopes


def test_x_public_client_sends_its_id_in_the_body() -> None:
    with environment("x", secret=None) as env:
        env.server.clients[CLIENT_ID].client_secret = None
        tokens = env.login(Browser())
        (exchange,) = env.token_calls()
        assert exchange["client_id"] == CLIENT_ID and "client_secret" not in exchange
        assert env.platform.calls("POST /oauth/token")[0].headers.get("authorization") is None
        assert env.server.valid_access_token(tokens.access_token)


def test_x_without_offline_access_gets_no_refresh_token() -> None:
    with environment("x", app={"scopes": ("tweet.read", "users.read")}) as env:
        assert env.login(Browser()).refresh_token is None


def test_google_without_access_type_offline_gets_no_refresh_token() -> None:
    with environment("google", app={"extra_authorize": {}}) as env:
        assert env.login(Browser()).refresh_token is None


def test_login_with_a_fixed_port_matches_an_exact_registered_redirect() -> None:
    port = free_port()
    exact = (f"http://127.0.0.1:{port}/callback",)
    with environment("x", app={"fixed_port": port}, redirect_uris=exact) as env:
        tokens = env.login(Browser())
        (authorize,) = [p for kind, p in env.server.log if kind == "authorize"]
        assert authorize["redirect_uri"] == exact[0]
        assert env.server.valid_access_token(tokens.access_token)


def test_paste_mode_takes_the_address_the_browser_ended_on() -> None:
    with environment("x") as env:
        browser = Browser(deliver=False)  # on another machine: the redirect goes nowhere
        prompts: list[str] = []

        def paste(prompt: str) -> str:
            prompts.append(prompt)
            (url,) = [line for line in env.said[-1].splitlines() if line.startswith("http")]
            location = browser.authorize(url)
            assert location is not None
            return location + "#_=_"

        tokens = env.login(browser, open_browser=False, paste=paste)
        assert env.server.valid_access_token(tokens.access_token)
        assert "Paste the address" in prompts[0]
        assert "copy that whole address" in env.said[-1]


def test_paste_mode_enter_takes_what_reached_the_listener() -> None:
    with environment("tiktok") as env:
        browser = Browser()  # an SSH tunnel brought the redirect to the listener

        def paste(prompt: str) -> str:
            (url,) = [line for line in env.said[-1].splitlines() if line.startswith("http")]
            browser(url)
            return ""

        tokens = env.login(browser, open_browser=False, paste=paste)
        assert env.server.valid_access_token(tokens.access_token)


def test_paste_mode_enter_with_nothing_received_is_refused() -> None:
    with environment("x") as env, pytest.raises(OAuthError, match="nothing was pasted"):
        env.login(Browser(), open_browser=False, paste=lambda prompt: "")
    with environment("x") as env, pytest.raises(OAuthError, match="not the address"):
        env.login(Browser(), open_browser=False, paste=lambda prompt: "my code is 1234")


def test_no_browser_found_falls_back_to_paste() -> None:
    with environment("google") as env:
        browser = Browser(deliver=False)

        def paste(prompt: str) -> str:
            (url,) = [line for line in env.said[-1].splitlines() if line.startswith("http")]
            return browser.authorize(url) or ""

        tokens = env.login(lambda url: False, open_browser=True, paste=paste)
        assert env.server.valid_access_token(tokens.access_token)


# -- refusals --------------------------------------------------------------------------------


def test_unregistered_redirect_uri_is_a_400_page_not_a_redirect() -> None:
    with environment("x", redirect_uris=("http://127.0.0.1:*/elsewhere",)) as env:
        browser = Browser()
        with pytest.raises(OAuthError, match="no answer from X / Twitter reached") as caught:
            env.login(browser, timeout=0.3)
        assert "crosspost auth login twitter" in str(caught.value)
        (page,) = browser.pages
        assert page.status_code == 400 and "redirect_uri_mismatch" in page.text
        assert env.token_calls() == []


def test_unknown_client_id_is_a_400_page() -> None:
    with environment("tiktok") as env:
        env.server.clients.clear()
        browser = Browser()
        with pytest.raises(OAuthError, match="no answer"):
            env.login(browser, timeout=0.3)
        assert browser.pages[0].status_code == 400


def test_redirect_uri_must_match_the_authorization_request() -> None:
    with environment("x") as env:
        code, redirect_uri, verifier = authorized(env)
        other = redirect_uri.replace("/callback", "/callback2")
        with pytest.raises(OAuthError, match="refused the authorization code") as caught:
            env.exchange(code, other, verifier)
        assert caught.value.error == "invalid_grant"


def test_reused_code_is_refused_and_revokes_the_first_tokens() -> None:
    with environment("x") as env:
        code, redirect_uri, verifier = authorized(env)
        first = env.exchange(code, redirect_uri, verifier)
        assert env.server.valid_access_token(first.access_token)
        with pytest.raises(OAuthError, match=r"single-use .* run crosspost auth login twitter"):
            env.exchange(code, redirect_uri, verifier)
        assert not env.server.valid_access_token(first.access_token)


@pytest.mark.parametrize("name", ["x", "tiktok", "google"])
def test_bad_verifier_is_refused(name: str) -> None:
    with environment(name) as env:
        code, redirect_uri, _ = authorized(env)
        other, _ = pkce_pair(env.app.pkce or "S256")
        with pytest.raises(OAuthError, match="Code verifier or code challenge is invalid"):
            env.exchange(code, redirect_uri, other)


def test_base64url_challenge_where_hex_is_expected_comes_back_as_an_error() -> None:
    with environment("tiktok", app={"pkce": "S256"}) as env:
        browser = Browser()
        with pytest.raises(OAuthError, match="malformed code_challenge"):
            env.login(browser, timeout=5)
        assert browser.location is not None
        assert redirect_params(browser.location)["error"] == "invalid_request"


def test_forged_state_is_refused_before_any_token_request() -> None:
    def forge(location: str) -> str:
        state = redirect_params(location)["state"]
        return location.replace(f"state={state}", "state=forged")

    with environment("x") as env:
        with pytest.raises(OAuthError, match=r"state mismatch\); run crosspost auth login twitter"):
            env.login(Browser(on_redirect=forge))
        assert env.token_calls() == []


def test_expired_code_is_refused() -> None:
    with environment("x") as env:

        def slow(location: str) -> str:
            env.clock.advance(31)  # X: codes last 30 seconds
            return location

        with pytest.raises(OAuthError, match="Authorization code is expired") as caught:
            env.login(Browser(on_redirect=slow))
        assert "run crosspost auth login twitter again" in str(caught.value)


def test_declined_consent_is_reported_in_words() -> None:
    with environment("google") as env:
        env.server.consent = False
        with pytest.raises(OAuthError, match=r"not granted .*access_denied: The user denied"):
            env.login(Browser())
        assert env.token_calls() == []


def test_confidential_x_client_must_use_basic() -> None:
    with environment("x", app={"client_auth": "body"}) as env:
        with pytest.raises(OAuthError, match="refused the app's credentials") as caught:
            env.login(Browser())
        assert "unauthorized_client: Missing valid authorization header" in str(caught.value)
        assert caught.value.status == 401


def test_wrong_client_secret_is_refused() -> None:
    with environment("tiktok", secret="canary-wrong-secret-9e1") as env:
        with pytest.raises(OAuthError, match=r"credentials \(invalid_client") as caught:
            env.login(Browser())
        assert "canary-wrong-secret-9e1" not in str(caught.value)


def test_facebook_error_shape_in_words() -> None:
    with environment("facebook") as env:
        code, redirect_uri, _ = authorized(env)
        with pytest.raises(OAuthError, match=r"invalid \(OAuthException; code 100\)") as caught:
            env.exchange(code + "x", redirect_uri, None)
        assert caught.value.error == "OAuthException"


def test_tiktok_error_with_status_200_is_still_a_refusal() -> None:
    with environment("tiktok", server={"error_status": 200}) as env:
        code, redirect_uri, verifier = authorized(env)
        with pytest.raises(OAuthError, match="invalid_grant"):
            env.exchange(code, redirect_uri + "x", verifier)


def test_token_endpoint_5xx_and_429() -> None:
    with environment("x") as env:
        env.platform.fail("POST /oauth/token", 503)
        with pytest.raises(TransientError, match="temporary problem"):
            env.login(Browser())
        env.platform.fail("POST /oauth/token", 429)
        with pytest.raises(RateLimitedError, match="limiting"):
            env.login(Browser())


# -- refresh ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x", "tiktok"])
def test_rotated_refresh_token_is_refused_after_use(name: str) -> None:
    with environment(name) as env:
        first = env.login(Browser())
        assert first.refresh_token is not None
        env.clock.advance(hours=3)
        assert not env.server.valid_access_token(first.access_token)  # 2 h tokens
        second = env.refresh(first.refresh_token)
        assert env.server.valid_access_token(second.access_token)
        assert second.refresh_token not in (None, first.refresh_token)
        assert second.expires_at == env.clock.now() + timedelta(hours=2)
        with pytest.raises(LoginRequiredError) as caught:
            env.refresh(first.refresh_token)
        message = str(caught.value)
        assert "refused the refresh token (expired or revoked" in message
        assert message.endswith(f"run crosspost auth login {env.app.platform}")
        assert second.refresh_token is not None
        third = env.refresh(second.refresh_token)  # the newest one still works
        assert env.server.valid_access_token(third.access_token)


def test_google_refresh_token_does_not_rotate_and_is_kept() -> None:
    with environment("google") as env:
        first = env.login(Browser())
        assert first.refresh_token is not None
        env.clock.advance(hours=2)
        second = env.refresh(first.refresh_token)
        assert second.refresh_token == first.refresh_token
        third = env.refresh(first.refresh_token)
        assert env.server.valid_access_token(third.access_token)
        assert third.scopes == ("https://www.googleapis.com/auth/youtube.upload",)


def test_expired_refresh_token_is_refused() -> None:
    with environment("google") as env:  # a "Testing" consent screen: 7 days
        first = env.login(Browser())
        assert first.refresh_token is not None
        env.clock.advance(days=8)
        with pytest.raises(LoginRequiredError, match="run crosspost auth login youtube"):
            env.refresh(first.refresh_token)


def test_tiktok_refresh_token_expires_after_180_days() -> None:
    with environment("tiktok") as env:
        first = env.login(Browser())
        assert first.refresh_token is not None
        env.clock.advance(days=181)
        with pytest.raises(LoginRequiredError, match="Token has been expired or revoked"):
            env.refresh(first.refresh_token)


def test_revoked_refresh_token_takes_its_access_tokens_along() -> None:
    with environment("x") as env:
        tokens = env.login(Browser())
        assert tokens.refresh_token is not None

        async def go() -> None:
            async with httpx.AsyncClient(**LOOPBACK) as client:
                assert tokens.refresh_token is not None
                await revoke(client, env.app, CLIENT_ID, CLIENT_SECRET, tokens.refresh_token)

        run(go())
        assert not env.server.valid_access_token(tokens.access_token)
        with pytest.raises(LoginRequiredError):
            env.refresh(tokens.refresh_token)


# -- no secret in any message or repr -----------------------------------------------------------


def test_no_secret_in_messages_or_reprs() -> None:
    shown: list[str] = []
    secrets_seen: set[str] = {CLIENT_SECRET}

    def record(exc: BaseException) -> None:
        shown.extend([str(exc), repr(exc), repr(exc.args)])

    def harvest(env: Env) -> None:
        for _, params in env.server.log:
            for key in ("code", "code_verifier", "refresh_token", "client_secret"):
                if params.get(key):
                    secrets_seen.add(params[key])

    with environment("x") as env:
        tokens = env.login(Browser())
        assert tokens.refresh_token is not None
        secrets_seen |= {tokens.access_token, tokens.refresh_token}
        shown.extend([repr(tokens), str(tokens), repr(env.app)])
        newer = env.refresh(tokens.refresh_token)
        shown.append(repr(newer))
        assert newer.refresh_token is not None
        secrets_seen |= {newer.access_token, newer.refresh_token}
        attempts: list[Callable[[], object]] = [
            lambda: env.refresh(tokens.refresh_token or ""),  # rotated away
            lambda: env.exchange(*authorized_twice(env)),  # a reused code
        ]
        for attempt in attempts:
            try:
                attempt()
            except OAuthError as exc:
                record(exc)
        harvest(env)
    with environment("facebook") as env:
        code, redirect_uri, _ = authorized(env)
        secrets_seen.add(code)
        try:
            env.exchange(code, redirect_uri + "/x", None)
        except OAuthError as exc:
            record(exc)
        harvest(env)
    with environment("tiktok", secret="canary-wrong-secret-9e1") as env:
        secrets_seen.add("canary-wrong-secret-9e1")
        try:
            env.login(Browser())
        except OAuthError as exc:
            record(exc)
        harvest(env)
    assert len(shown) >= 12
    text = "\n".join(shown)
    leaked = [s for s in secrets_seen if s in text]
    assert leaked == []


def authorized_twice(env: Env) -> tuple[str, str, str | None]:
    """A code already exchanged once: the second exchange is refused."""
    code, redirect_uri, verifier = authorized(env)
    env.exchange(code, redirect_uri, verifier)
    return code, redirect_uri, verifier
