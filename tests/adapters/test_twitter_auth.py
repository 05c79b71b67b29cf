"""Connecting X: both logins end to end over loopback, renewal, OAuth 1.0a publishing.

FakeTwitter is served on 127.0.0.1; a test browser opens X's consent page on the
fake and follows its 302 to crosspost's loopback listener (tests/test_oauth.py does
the same for the bare OAuth machinery). The fake's OAuth 2.0 clock is a FakeClock,
and the adapter's (``_twitter_api.utcnow``) is the same clock, so days pass in a
test. OAuth 1.0a requests are checked signature by signature by the fake.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import webbrowser
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from crosspost import oauth1
from crosspost.adapter import Login, LoginSession, Post, Published
from crosspost.api import PublishContext
from crosspost.credentials import Credentials, CredentialStore
from crosspost.errors import AuthError, ConfigError, CredentialsError, CrosspostError
from crosspost_adapters import _twitter_api
from crosspost_adapters.twitter import TwitterAdapter, TwitterSettings
from tests.adapters.test_twitter import example_post, video_post
from tests.fakes.oauth import FakeClock
from tests.fakes.server import serve
from tests.fakes.twitter import FakeTwitter
from tests.ports import free_port

T = TypeVar("T")

#: Canaries: searched for in every message, line said and error.
CLIENT_SECRET = "canary-x-client-secret-4f1e"
CONSUMER_SECRET = "canary-x-consumer-secret-88a0"
LOOPBACK: dict[str, Any] = {"trust_env": False, "verify": False}
#: The stored values that are secrets (client_id and consumer_key are not).
SECRET_KEYS = (
    "access_token",
    "refresh_token",
    "client_secret",
    "consumer_secret",
    "access_token_secret",
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Browser:
    """The user's browser: opens the consent page (the fake user agrees), follows the
    302 to the loopback listener. ``on_redirect`` may change the address (a forgery);
    with ``deliver=False`` it stops before the listener (the address gets pasted)."""

    def __init__(
        self, on_redirect: Callable[[str], str] | None = None, *, deliver: bool = True
    ) -> None:
        self.on_redirect = on_redirect
        self.deliver = deliver
        self.opened: list[str] = []
        self.location: str | None = None
        self.landed: httpx.Response | None = None

    def authorize(self, url: str) -> str | None:
        self.opened.append(url)
        with httpx.Client(**LOOPBACK) as http:
            page = http.get(url)
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


@dataclass
class X:
    """A served FakeTwitter, its clock, the callback port and the credentials file."""

    fake: FakeTwitter
    clock: FakeClock
    origin: str
    port: int
    home: Path
    said: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: More ``[platforms.twitter]`` settings (``threads_allowed``).
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.home / "credentials.toml"

    @property
    def settings(self) -> TwitterSettings:
        return TwitterSettings(api_base=self.origin, callback_port=self.port, **self.options)

    def credentials(self, environ: dict[str, str] | None = None) -> Credentials:
        return Credentials("twitter", environ=environ or {}, file=self.file)

    def stored(self) -> dict[str, Any]:
        return CredentialStore(self.file).read().get("twitter", {})

    def store(self, **values: Any) -> None:
        CredentialStore(self.file).update("twitter", values)

    def login(
        self,
        browser: Callable[[str], bool] | None,
        *,
        environ: dict[str, str] | None = None,
        open_browser: bool = True,
        ask: Callable[[str], str] | None = None,
        **options: Any,
    ) -> Login:
        """``adapter.login`` as ``crosspost auth login twitter`` runs it."""

        async def go() -> Login:
            async with httpx.AsyncClient(**LOOPBACK) as client:
                session = LoginSession(
                    client=client,
                    platform="twitter",
                    settings=self.settings,
                    credentials=self.credentials(environ),
                    open_browser=open_browser,
                    say=self.said.append,
                    ask=ask or (lambda prompt: ""),
                    choose=lambda prompt, items: 0,
                    options=options,
                )
                return await TwitterAdapter(self.settings).login(session)

        old = webbrowser.open
        webbrowser.open = browser or (lambda url: False)  # type: ignore[assignment]
        try:
            return self.attempt(go)
        finally:
            webbrowser.open = old

    def save_login(self, login: Login) -> None:
        """What ``crosspost auth login`` stores: the secrets and the facts beside them."""
        values: dict[str, Any] = dict(login.secrets)
        values.update(account=login.account.name, account_id=login.account.id)
        values["obtained_at"] = self.clock.now()
        if login.expires_at is not None:
            values["expires_at"] = login.expires_at
        if login.scopes:
            values["scopes"] = list(login.scopes)
        self.store(**values)

    def context(
        self, client: httpx.AsyncClient, environ: dict[str, str] | None = None
    ) -> PublishContext:
        return PublishContext(
            client=client,
            platform="twitter",
            settings=self.settings,
            credentials=self.credentials(environ),
            poll_interval=0,
        )

    def publish(
        self, post: Post, *, environ: dict[str, str] | None = None, horizon: float = 3600
    ) -> Published:
        """A run's view of X: renew (as the runner does before each platform), then publish."""

        async def go() -> Published:
            async with httpx.AsyncClient(**LOOPBACK) as client:
                ctx = self.context(client, environ)
                adapter = TwitterAdapter(self.settings)
                await adapter.renew(ctx, horizon)
                return await adapter.publish(post, ctx)

        return self.attempt(go)

    def renew(self, horizon: float = 3600, environ: dict[str, str] | None = None) -> None:
        async def go() -> None:
            async with httpx.AsyncClient(**LOOPBACK) as client:
                await TwitterAdapter(self.settings).renew(self.context(client, environ), horizon)

        self.attempt(go)

    def attempt(self, go: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``go``, keeping the text of any crosspost error for the canary sweep."""
        try:
            return run(go())
        except CrosspostError as exc:
            self.errors.append(str(exc))
            raise

    def token_requests(self) -> list[dict[str, str]]:
        return [params for kind, params in self.fake.oauth.log if kind == "token"]

    def messages(self) -> str:
        return "\n".join([*self.said, *self.errors])


@pytest.fixture
def x(monkeypatch: pytest.MonkeyPatch) -> Iterator[X]:
    clock = FakeClock()
    monkeypatch.setattr(_twitter_api, "utcnow", clock.now)
    port = free_port()
    fake = FakeTwitter(
        auth_clock=clock.now,
        client_secret=CLIENT_SECRET,
        consumer_secret=CONSUMER_SECRET,
        callback_urls=(f"http://127.0.0.1:{port}/callback",),
    )
    home = Path(os.environ["CROSSPOST_HOME"])
    with serve(fake) as origin:
        world = X(fake, clock, origin, port, home)
        yield world
        assert_no_secrets(world)


def assert_no_secrets(x: X) -> None:
    """No token, secret, code, verifier or signature in anything crosspost said."""
    text = x.messages()
    stored = x.stored() if x.file.exists() else {}
    canaries = {CLIENT_SECRET, CONSUMER_SECRET, x.fake.token}
    canaries |= {v for k, v in stored.items() if isinstance(v, str) and k in SECRET_KEYS}
    canaries |= set(x.fake.oauth.tokens) | set(x.fake.oauth.codes)
    canaries |= set(x.fake.oauth1_tokens) | set(x.fake.oauth1_tokens.values())
    canaries |= {t.secret for t in x.fake.request_tokens.values()}
    canaries |= {t.verifier for t in x.fake.request_tokens.values() if t.verifier}
    for request in x.fake.requests:
        header = request.headers.get("authorization", "")
        if 'oauth_signature="' in header:
            canaries.add(header.split('oauth_signature="')[1].split('"')[0])
    for canary in canaries:
        if isinstance(canary, str) and len(canary) >= 8:
            assert canary not in text, "a secret reached a message"


def oauth2_env(x: X, secret: bool = True) -> dict[str, str]:
    environ = {"CROSSPOST_TWITTER_CLIENT_ID": x.fake.client_id}
    if secret:
        environ["CROSSPOST_TWITTER_CLIENT_SECRET"] = CLIENT_SECRET
    return environ


def oauth2_login(x: X) -> Login:
    """A finished OAuth 2.0 login, stored as ``crosspost auth login twitter`` stores it."""
    login = x.login(Browser(), environ=oauth2_env(x))
    x.save_login(login)
    return login


def oauth1_login(x: X, browser: Browser | None = None) -> Login:
    """A finished 3-legged OAuth 1.0a login, stored."""
    x.store(consumer_key=x.fake.consumer_key, consumer_secret=CONSUMER_SECRET)
    login = x.login(browser or Browser(), oauth1=True)
    x.save_login(login)
    return login


def text_post() -> Post:
    return dataclasses.replace(example_post(), media=())


# -- OAuth 2.0 login -------------------------------------------------------------------


def test_oauth2_login_end_to_end_over_loopback(x: X) -> None:
    """Consent page, 302 to the listener, code + PKCE verifier for tokens, /2/users/me."""
    browser = Browser()
    login = x.login(browser, environ=oauth2_env(x))
    assert login.account.name == "@kpumura"
    assert login.account.id == x.fake.user_id
    assert login.account.url == "https://x.com/kpumura"
    assert set(login.secrets) == {"access_token", "refresh_token", "client_id", "client_secret"}
    assert x.fake.oauth.valid_access_token(login.secrets["access_token"])
    assert login.expires_at == x.clock.now() + _twitter_api.timedelta(hours=2)
    assert set(login.scopes) == set(_twitter_api.SCOPES)
    # The consent page: X's scopes (%20-separated), PKCE S256, the fixed loopback callback.
    (opened,) = browser.opened
    assert opened.startswith(f"{x.origin}/i/oauth2/authorize?response_type=code&")
    assert "scope=tweet.read%20tweet.write%20users.read%20media.write%20offline.access" in opened
    query = parse_qs(urlsplit(opened).query)
    assert query["redirect_uri"] == [f"http://127.0.0.1:{x.port}/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert browser.landed is not None and "you can close this tab" in browser.landed.text
    # A confidential client authenticates with HTTP Basic, not in the body.
    (exchange,) = x.token_requests()
    assert exchange["grant_type"] == "authorization_code"
    assert "client_id" not in exchange and "client_secret" not in exchange
    assert x.fake.calls("GET /2/users/me")[0].headers["authorization"].startswith("Bearer ")


def test_oauth2_login_refusals(x: X) -> None:
    """A forged state is refused before any token request; a code used after X's 30
    seconds is refused by X; both say to log in again, without the code."""
    forged = Browser(lambda url: url.replace("state=", "state=forged"))
    with pytest.raises(AuthError, match="state mismatch"):
        x.login(forged, environ=oauth2_env(x))
    assert x.token_requests() == []

    def slow(url: str) -> str:
        x.clock.advance(seconds=31)
        return url

    with pytest.raises(AuthError, match="codes are single-use and short-lived") as caught:
        x.login(Browser(slow), environ=oauth2_env(x))
    assert "crosspost auth login twitter" in str(caught.value)


def test_oauth2_login_as_a_public_client(x: X) -> None:
    """A Native App has no client secret: the id goes in the body, and none is stored."""
    x.fake.oauth.clients[x.fake.client_id].client_secret = None
    login = x.login(Browser(), environ=oauth2_env(x, secret=False))
    assert "client_secret" not in login.secrets
    (exchange,) = x.token_requests()
    assert exchange["client_id"] == x.fake.client_id


def test_oauth2_login_without_a_client_id_says_what_to_set_and_where(x: X) -> None:
    with pytest.raises(CredentialsError) as caught:
        x.login(Browser())
    message = str(caught.value)
    assert "CROSSPOST_TWITTER_CLIENT_ID" in message
    assert "https://console.x.com" in message and "docs/platforms/twitter.md" in message
    assert x.fake.requests == []


def test_oauth2_login_removes_a_previous_oauth1_secret(x: X) -> None:
    """After switching to OAuth 2.0, a leftover access_token_secret must not make crosspost
    sign the new bearer token with OAuth 1.0a."""
    oauth1_login(x)
    assert "access_token_secret" in x.stored()
    x.save_login(x.login(Browser(), environ=oauth2_env(x)))
    assert "access_token_secret" not in x.stored()
    x.publish(text_post())
    assert x.fake.calls("POST /2/tweets")[-1].headers["authorization"].startswith("Bearer ")


# -- OAuth 1.0a login ------------------------------------------------------------------


def test_oauth1_login_end_to_end_over_loopback(x: X) -> None:
    """request_token (with the loopback callback), consent, access_token, /2/users/me:
    every step signed, and the tokens do not expire."""
    x.store(consumer_key=x.fake.consumer_key, consumer_secret=CONSUMER_SECRET)
    browser = Browser()
    login = x.login(browser, oauth1=True)
    assert login.account.name == "@kpumura" and login.account.id == x.fake.user_id
    assert set(login.secrets) == {
        "access_token",
        "access_token_secret",
        "consumer_key",
        "consumer_secret",
    }
    assert (
        x.fake.oauth1_tokens[login.secrets["access_token"]] == login.secrets["access_token_secret"]
    )
    assert login.expires_at is None and login.scopes == ()
    (opened,) = browser.opened
    assert opened.startswith(f"{x.origin}/oauth/authorize?oauth_token=")
    assert browser.landed is not None and "you can close this tab" in browser.landed.text
    assert x.fake.signed == [
        "POST /oauth/request_token",
        "POST /oauth/access_token",
        "GET /2/users/me",
    ]
    header = x.fake.calls("POST /oauth/request_token")[0].headers["authorization"]
    callback = oauth1.percent_encode(f"http://127.0.0.1:{x.port}/callback")
    assert f'oauth_callback="{callback}"' in header and "oauth_token=" not in header


def test_oauth1_login_with_a_pasted_address(x: X) -> None:
    """--no-browser: the address is shown, opened elsewhere, and the address the browser
    ended on is pasted back."""
    x.store(consumer_key=x.fake.consumer_key, consumer_secret=CONSUMER_SECRET)
    browser = Browser(deliver=False)

    def ask(prompt: str) -> str:
        shown = next(line for line in x.said if "/oauth/authorize?" in line)
        address = next(w for w in shown.split() if "/oauth/authorize?" in w)
        location = browser.authorize(address)
        assert location is not None
        return location

    login = x.login(None, oauth1=True, open_browser=False, ask=ask)
    assert login.account.name == "@kpumura"
    assert any("oauth_verifier" in line for line in x.said)


def test_oauth1_login_needs_the_consumer_key_and_secret(x: X) -> None:
    with pytest.raises(CredentialsError) as caught:
        x.login(Browser(), oauth1=True)
    assert "CROSSPOST_TWITTER_CONSUMER_KEY" in str(caught.value)
    assert "CROSSPOST_TWITTER_CONSUMER_SECRET" in str(caught.value)
    assert x.fake.requests == []


def test_oauth1_login_refusals(x: X) -> None:
    """Declined, a wrong consumer secret, an unregistered callback, a forged answer, a
    tampered verifier: each refused as X refuses it, in words, no secret shown."""
    x.store(consumer_key=x.fake.consumer_key, consumer_secret=CONSUMER_SECRET)
    x.fake.oauth1_consent = False
    with pytest.raises(AuthError, match="access was not granted"):
        x.login(Browser(), oauth1=True)
    x.fake.oauth1_consent = True

    x.store(consumer_secret="not-the-secret-0000")
    with pytest.raises(AuthError, match=r"Could not authenticate you. \(code 32\).*consumer_key"):
        x.login(Browser(), oauth1=True)
    x.store(consumer_secret=CONSUMER_SECRET)

    x.fake.callback_urls.clear()
    with pytest.raises(AuthError) as caught:
        x.login(Browser(), oauth1=True)
    assert "Callback URL not approved" in str(caught.value) and "(code 415)" in str(caught.value)
    assert f"http://127.0.0.1:{x.port}/callback" in str(caught.value)
    assert "callback_port" in str(caught.value)
    x.fake.allow_callback(f"http://127.0.0.1:{x.port}/callback")

    forged = Browser(lambda url: url.replace("oauth_token=", "oauth_token=forged"))
    with pytest.raises(AuthError, match="does not belong to this login"):
        x.login(forged, oauth1=True)

    tampered = Browser(lambda url: url.replace("oauth_verifier=", "oauth_verifier=x"))
    with pytest.raises(AuthError, match="Invalid oauth_verifier parameter"):
        x.login(tampered, oauth1=True)
    assert x.fake.oauth1_tokens == {}


# -- OAuth 1.0a publishing -------------------------------------------------------------


def test_publish_with_media_under_oauth1_every_request_signed(x: X, tmp_path: Path) -> None:
    """A photo (multipart), then a video (JSON initialize, multipart appends, empty
    finalize, STATUS with a query, JSON alt text): the fake recomputes every signature."""
    login = oauth1_login(x)
    x.fake.signed.clear()
    published = x.publish(example_post())
    video, _ = video_post(tmp_path)
    published_video = x.publish(video)
    assert {published.remote_id, published_video.remote_id} == {t.id for t in x.fake.tweets}
    assert all(t.media_ids for t in x.fake.tweets)
    api = [r for r in x.fake.requests if r.url.path.startswith("/2/")]
    later = api[1:]  # after the login's /2/users/me
    assert len(x.fake.signed) == len(later)
    assert {f"{r.method} {r.url.path}" for r in later} == set(x.fake.signed)
    kinds = {r.headers.get("content-type", "").split(";")[0] for r in later}
    assert {"multipart/form-data", "application/json"} <= kinds
    assert any(r.url.query for r in later)  # STATUS polls sign their query
    for request in later:
        assert request.headers["authorization"].startswith("OAuth ")
        assert login.secrets["access_token_secret"] not in request.headers["authorization"]


def test_fake_checks_every_oauth1_signature() -> None:
    """The fake refuses what X refuses: a wrong secret, a replayed nonce, a stale
    timestamp, a changed query or form body; a JSON body is not signed."""
    fake = FakeTwitter(consumer_secret=CONSUMER_SECRET)
    token, secret = fake.issue_oauth1_token()
    client = httpx.Client(transport=fake.transport())
    now = int(_twitter_api.time.time())

    def sign(
        method: str,
        url: str,
        *,
        body: dict[str, str] | None = None,
        consumer_secret: str = CONSUMER_SECRET,
        nonce: str | None = None,
        timestamp: int = now,
    ) -> str:
        return oauth1.authorization_header(
            method,
            url,
            consumer_key=fake.consumer_key,
            consumer_secret=consumer_secret,
            token=token,
            token_secret=secret,
            params=body,
            nonce=nonce,
            timestamp=timestamp,
        )

    me = "http://testserver/2/users/me"
    assert client.get(me, headers={"Authorization": sign("GET", me)}).status_code == 200
    wrong = client.get(
        me, headers={"Authorization": sign("GET", me, consumer_secret="wrong-consumer-secret-7f3a")}
    )
    assert wrong.status_code == 401 and wrong.json()["title"] == "Unauthorized"
    header = sign("GET", me, nonce="fixed-nonce-1")
    assert client.get(me, headers={"Authorization": header}).status_code == 200
    assert client.get(me, headers={"Authorization": header}).status_code == 401  # replayed
    stale = sign("GET", me, timestamp=now - 3600)
    assert client.get(me, headers={"Authorization": stale}).status_code == 401
    # The query is signed: another media_id breaks the signature (401, not "not found").
    status = "http://testserver/2/media/upload?command=STATUS&media_id=1"
    moved = client.get(status + "2", headers={"Authorization": sign("GET", status)})
    assert moved.status_code == 401
    # A form-encoded body is signed: the same body passes the check (and /2/tweets then
    # wants JSON), another body does not.
    tweets = "http://testserver/2/tweets"
    signed = sign("POST", tweets, body={"text": "halo"})
    same = client.post(tweets, data={"text": "halo"}, headers={"Authorization": signed})
    assert same.status_code == 400
    signed = sign("POST", tweets, body={"text": "halo"})
    other = client.post(tweets, data={"text": "other"}, headers={"Authorization": signed})
    assert other.status_code == 401
    # A JSON body is not: the signature covers only the oauth_* parameters.
    posted = client.post(
        tweets, json={"text": "halo"}, headers={"Authorization": sign("POST", tweets)}
    )
    assert posted.status_code == 201
    unknown = oauth1.authorization_header(
        "GET",
        me,
        consumer_key=fake.consumer_key,
        consumer_secret=CONSUMER_SECRET,
        token="unknown-token-5e2f",
        token_secret=secret,
    )
    assert client.get(me, headers={"Authorization": unknown}).status_code == 401
    assert fake.signed == [
        "GET /2/users/me",
        "GET /2/users/me",
        "POST /2/tweets",
        "POST /2/tweets",
    ]


def test_revoked_oauth1_token_names_the_account_and_the_command(x: X) -> None:
    oauth1_login(x)
    x.fake.oauth1_tokens.clear()  # the user removed the app
    with pytest.raises(AuthError) as caught:
        x.publish(text_post())
    message = str(caught.value)
    assert "@kpumura" in message and "crosspost auth login twitter --oauth1" in message
    assert x.fake.tweets == []


# -- OAuth 2.0 renewal -----------------------------------------------------------------


def test_refresh_rotates_and_the_new_token_is_stored_before_the_next_call(x: X) -> None:
    """Within the run's horizon the token is renewed; the rotated refresh token is in the
    file before X sees the next request, and the old one is refused from then on."""
    oauth2_login(x)
    first = x.stored()
    x.clock.advance(hours=1, minutes=30)  # 30 minutes left: within the 1-hour horizon
    seen: list[str | None] = []  # the stored refresh token as each API request went out

    def watching(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/2/") and "oauth2" not in request.url.path:
            seen.append(x.stored().get("refresh_token"))
        return x.fake(request)

    served = x.origin
    with serve(_Proxy(watching)) as origin:  # type: ignore[arg-type]
        x.origin = origin
        x.publish(text_post())
    x.origin = served
    after = x.stored()
    assert after["access_token"] != first["access_token"]
    assert after["refresh_token"] != first["refresh_token"]
    assert after["expires_at"] == x.clock.now() + _twitter_api.timedelta(hours=2)
    assert seen and set(seen) == {after["refresh_token"]}
    assert x.fake.oauth.valid_access_token(after["access_token"])
    refresh = [p for p in x.token_requests() if p["grant_type"] == "refresh_token"]
    assert len(refresh) == 1 and refresh[0]["refresh_token"] == first["refresh_token"]
    # The old refresh token is dead: renewing with it again is refused.
    x.store(refresh_token=first["refresh_token"], expires_at=x.clock.now())
    with pytest.raises(AuthError, match="crosspost auth login twitter"):
        x.renew()


class _Proxy:
    """A served callable that forwards to another (to watch requests on their way)."""

    gate = None
    base_url = ""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.handler(request)


def test_publish_three_days_later_renews_without_a_manual_step(x: X) -> None:
    """The access token died days ago (the fake refuses it, the stored expires_at is past):
    the run renews it first and publishes."""
    login = oauth2_login(x)
    x.clock.advance(days=3)
    assert not x.fake.oauth.valid_access_token(login.secrets["access_token"])
    assert x.stored()["expires_at"] < x.clock.now()
    published = x.publish(text_post())
    assert [t.id for t in x.fake.tweets] == [published.remote_id]
    assert x.stored()["expires_at"] == x.clock.now() + _twitter_api.timedelta(hours=2)
    assert all(
        r.headers["authorization"] != f"Bearer {login.secrets['access_token']}"
        for r in x.fake.calls("POST /2/tweets")
    )


def test_a_401_renews_once_and_repeats_the_step(x: X) -> None:
    """A token whose expiry crosspost does not know: X's 401 renews it once, and the
    refused step (here the create, which X did not act on) is sent again."""
    oauth2_login(x)
    x.store(expires_at=None)
    x.clock.advance(hours=3)
    published = x.publish(text_post())
    assert [t.id for t in x.fake.tweets] == [published.remote_id]
    creates = x.fake.calls("POST /2/tweets")
    assert len(creates) == 2  # refused with 401, then sent once more with the new token
    with httpx.Client(**LOOPBACK) as http:  # the expired token gets X's 401 problem
        refused = http.post(
            f"{x.origin}/2/tweets",
            json={"text": "again"},
            headers={"Authorization": creates[0].headers["authorization"]},
        )
    assert refused.status_code == 401
    assert refused.json() == {
        "title": "Unauthorized",
        "detail": "Unauthorized",
        "type": "about:blank",
        "status": 401,
    }
    assert len([p for p in x.token_requests() if p["grant_type"] == "refresh_token"]) == 1


def test_a_401_after_renewal_fails_without_looping(x: X) -> None:
    oauth2_login(x)
    x.store(expires_at=None)
    x.fake.oauth.access_lifetime = _twitter_api.timedelta(0)  # every new token is dead
    x.clock.advance(hours=3)
    with pytest.raises(AuthError) as caught:
        x.publish(text_post())
    assert "even after renewing it" in str(caught.value)
    assert "crosspost auth login twitter" in str(caught.value)
    assert len(x.fake.calls("POST /2/tweets")) == 2
    assert x.fake.tweets == []


def test_refused_refresh_names_the_account_and_the_login_command(x: X) -> None:
    login = oauth2_login(x)
    x.fake.oauth.tokens[login.secrets["refresh_token"]].revoked = True
    x.clock.advance(days=3)
    with pytest.raises(AuthError) as caught:
        x.publish(text_post())
    message = str(caught.value)
    assert "@kpumura" in message
    assert "run crosspost auth login twitter" in message
    assert "crosspost auth login twitter --oauth1" in message
    assert "expired or was revoked" in message
    assert x.fake.tweets == []


def test_two_runs_renewing_at_once_refresh_once(x: X) -> None:
    """Two processes see the token expiring: one refreshes, the other waits for the lock
    and takes the renewed token from the file (a second refresh with the rotated token
    would be refused and lose the account)."""
    oauth2_login(x)
    x.clock.advance(hours=3)

    async def both() -> None:
        async with httpx.AsyncClient(**LOOPBACK) as client:
            adapter = TwitterAdapter(x.settings)
            await asyncio.gather(
                adapter.renew(x.context(client), 3600), adapter.renew(x.context(client), 3600)
            )

    run(both())
    assert len([p for p in x.token_requests() if p["grant_type"] == "refresh_token"]) == 1
    assert x.fake.oauth.valid_access_token(x.stored()["access_token"])


def test_a_token_in_the_environment_is_not_renewed(x: X) -> None:
    """A renewable token set in the environment: crosspost cannot replace it, so it never
    refreshes it (that would kill the refresh token the file holds) and says what to do."""
    login = oauth2_login(x)
    before = x.stored()
    x.clock.advance(days=1)
    environ = {"CROSSPOST_TWITTER_ACCESS_TOKEN": login.secrets["access_token"]}
    with pytest.raises(AuthError) as caught:
        x.publish(text_post(), environ=environ)
    message = str(caught.value)
    assert "CROSSPOST_TWITTER_ACCESS_TOKEN" in message
    assert "unset the variable" in message and "update the variable" in message
    assert [p for p in x.token_requests() if p["grant_type"] == "refresh_token"] == []
    assert x.stored()["refresh_token"] == before["refresh_token"]
    # A refresh token from the environment, access token in the file: past its expiry,
    # the run stops before any request, with the same advice.
    x.fake.requests.clear()
    environ = {"CROSSPOST_TWITTER_REFRESH_TOKEN": login.secrets["refresh_token"]}
    with pytest.raises(AuthError, match="CROSSPOST_TWITTER_REFRESH_TOKEN"):
        x.renew(environ=environ)
    assert x.fake.requests == []


def test_an_unrenewable_token_that_still_works_is_used(x: X) -> None:
    """No refresh token (a token pasted by hand): used while it lasts; once expired, the
    run says to log in again, before any request."""
    oauth2_login(x)
    x.store(refresh_token=None)
    x.clock.advance(hours=1, minutes=30)
    x.publish(text_post())
    x.clock.advance(hours=1)
    sent = len(x.fake.requests)
    with pytest.raises(AuthError, match=r"no refresh token stored.*crosspost auth login twitter"):
        x.publish(example_post())
    assert len(x.fake.requests) == sent


# -- identity, diagnose, missing credentials ----------------------------------------------


def identity(x: X, environ: dict[str, str] | None = None) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(**LOOPBACK) as client:
            return await TwitterAdapter(x.settings).identity(x.context(client, environ))

    return x.attempt(go)


def test_identity_asks_x_and_never_renews(x: X) -> None:
    """doctor is read-only: identity asks /2/users/me with the stored token; a token the
    next publish would renew is "not checked" rather than renewed (that would replace the
    refresh token); a revoked one is refused in words."""
    login = oauth2_login(x)
    account = identity(x)
    assert (account.name, account.id) == ("@kpumura", x.fake.user_id)
    x.clock.advance(days=3)
    with pytest.raises(ConfigError, match="the next publish renews it") as caught:
        identity(x)
    assert "doctor never does" in str(caught.value)
    x.clock.advance(days=-3)
    x.fake.oauth.tokens[login.secrets["access_token"]].revoked = True
    with pytest.raises(AuthError, match="the next publish renews it") as refused:
        identity(x)
    assert "@kpumura" in str(refused.value)
    assert [p["grant_type"] for p in x.token_requests()] == ["authorization_code"]
    assert x.stored()["refresh_token"] == login.secrets["refresh_token"]


def test_identity_under_oauth1(x: X) -> None:
    oauth1_login(x)
    assert identity(x).name == "@kpumura"
    assert x.fake.signed[-1] == "GET /2/users/me"


def diagnose(x: X, post: Post | None, environ: dict[str, str] | None = None) -> list[Any]:
    async def go() -> list[Any]:
        async with httpx.AsyncClient(**LOOPBACK) as client:
            return await TwitterAdapter(x.settings).diagnose(x.context(client, environ), post)

    return run(go())


def test_diagnose_scopes_and_threads(x: X, tmp_path: Path) -> None:
    from tests.adapters.test_twitter import thread_post

    login = oauth2_login(x)
    (scopes, renewal) = diagnose(x, example_post())
    assert (scopes.level, renewal.level) == ("ok", "ok")
    assert "media.write" in scopes.message and "renewed before each run" in renewal.message

    x.store(scopes=["tweet.read", "tweet.write", "users.read"])
    (scopes, _) = diagnose(x, example_post())
    assert scopes.level == "fail" and "media.write" in scopes.message
    assert "crosspost auth login twitter" in scopes.message
    (scopes, _) = diagnose(x, text_post())
    assert scopes.level == "ok"

    thread = thread_post(tmp_path)
    assert all("thread" not in f.message for f in diagnose(x, thread))  # refused at validate
    x.options["threads_allowed"] = True
    findings = diagnose(x, thread)
    assert findings[-1].level == "warn" and "thread" in findings[-1].message
    assert "threads_allowed = false" in findings[-1].message
    x.options.clear()

    environ = {"CROSSPOST_TWITTER_ACCESS_TOKEN": login.secrets["access_token"]}
    (scopes,) = diagnose(x, text_post(), environ)
    assert scopes.level == "warn" and "does not know the scopes" in scopes.message
    assert x.fake.requests[-1].url.path == "/2/users/me"  # diagnose itself sent nothing


def test_diagnose_oauth1_and_nothing(x: X) -> None:
    assert diagnose(x, text_post()) == []
    oauth1_login(x)
    (finding,) = diagnose(x, example_post())
    assert finding.level == "ok" and "do not expire" in finding.message


def test_missing_credentials_accepts_either_set() -> None:
    adapter = TwitterAdapter()

    def missing(**values: str) -> list[str]:
        environ = {f"CROSSPOST_TWITTER_{k.upper()}": v for k, v in values.items()}
        return adapter.missing_credentials(
            Credentials("twitter", environ=environ, file=Path("/nonexistent/credentials.toml"))
        )

    assert missing(access_token="a") == []
    assert (
        missing(consumer_key="k", consumer_secret="s", access_token="a", access_token_secret="t")
        == []
    )
    # Nothing usable: access_token alone would do (OAuth 2.0); the rest is OAuth 1.0a's.
    assert missing() == ["access_token", "consumer_key", "consumer_secret", "access_token_secret"]
    assert missing(consumer_key="k") == ["access_token", "consumer_secret", "access_token_secret"]
    # OAuth 1.0a chosen: only its gaps.
    assert missing(consumer_key="k", access_token_secret="t") == ["consumer_secret", "access_token"]
    assert set(TwitterAdapter.secrets) >= {
        "refresh_token",
        "client_id",
        "client_secret",
        "consumer_key",
        "consumer_secret",
        "access_token_secret",
    }
