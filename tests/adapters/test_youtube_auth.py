"""YouTube accounts against FakeYouTube's Google OAuth: log in once, renew alone, doctor.

Logins run end to end over loopback (a test browser follows the consent page's 302
to crosspost's listener). Time is the fake's ``oauth_clock`` on both sides
(``_youtube_api.now`` is pointed at it), so tests move days ahead.
"""

from __future__ import annotations

import asyncio
import time
import webbrowser
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
import stamina

from crosspost.adapter import Account, Finding, Login, LoginSession, Post
from crosspost.api import MAX_RATE_LIMIT_WAIT, SAFE_ATTEMPTS, Progress, PublishContext
from crosspost.cli.auth import save_login
from crosspost.credentials import Credentials, CredentialStore
from crosspost.errors import (
    AuthError,
    ConfigError,
    CredentialsError,
    RateLimitedError,
    TransientError,
)
from crosspost.publishing import RENEW_HORIZON
from crosspost_adapters import _youtube_api
from crosspost_adapters.youtube import YouTubeAdapter, YouTubeSettings
from tests.adapters.support import Recorder
from tests.adapters.test_tiktok_auth import LOOPBACK, Browser, Person
from tests.adapters.test_youtube import make_video, post_with
from tests.fakes.base import FakePlatform
from tests.fakes.server import serve
from tests.fakes.youtube import READONLY_SCOPE, UPLOAD_SCOPE, FakeYouTube

T = TypeVar("T")
APP = {
    "CROSSPOST_YOUTUBE_CLIENT_ID": "yt-client-id.apps.googleusercontent.com",
    "CROSSPOST_YOUTUBE_CLIENT_SECRET": "yt-client-secret",
}
TOKEN = r"^POST /token$"
SESSION = r"^POST /upload/youtube/v3/videos$"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class Connected:
    """A fake served on loopback, and the credentials file a login filled."""

    fake: FakeYouTube
    origin: str
    file: Path
    login: Login

    def table(self) -> dict[str, Any]:
        return dict(CredentialStore(self.file).read().get("youtube", {}))

    def credentials(self, environ: dict[str, str] | None = None) -> Credentials:
        return Credentials("youtube", {**APP, **(environ or {})}, self.file)

    def refreshes(self) -> list[dict[str, str]]:
        return [p for kind, p in self.fake.auth.log if kind == "token" and "refresh_token" in p]


def do_login(
    fake: FakeYouTube,
    origin: str,
    file: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    person: Person | None = None,
    open_browser: bool = True,
    environ: dict[str, str] | None = None,
) -> Login:
    """``crosspost auth login youtube`` as the adapter runs it."""
    person = person or Person()
    monkeypatch.setattr(webbrowser, "open", person.browser)

    async def go() -> Login:
        async with httpx.AsyncClient(**LOOPBACK) as client:
            session = LoginSession(
                client=client,
                platform="youtube",
                settings=YouTubeSettings(api_base=origin),
                credentials=Credentials("youtube", APP if environ is None else environ, file),
                open_browser=open_browser,
                say=person.said.append,
                ask=person.paste,
                choose=lambda prompt, options: 0,
            )
            return await YouTubeAdapter(session.settings).login(session)

    return run(go())


def served(monkeypatch: pytest.MonkeyPatch, **options: Any) -> Iterator[tuple[FakeYouTube, str]]:
    youtube = FakeYouTube(**options)
    monkeypatch.setattr(_youtube_api, "now", youtube.oauth_clock.now)
    with serve(youtube) as origin:
        yield youtube, origin


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeYouTube, str]]:
    """FakeYouTube on loopback; crosspost's clock is the fake's."""
    yield from served(monkeypatch)


@pytest.fixture
def testing(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeYouTube, str]]:
    """The same, for an app whose consent screen is in "Testing"."""
    yield from served(monkeypatch, testing=True)


def connect(
    fake: tuple[FakeYouTube, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Connected:
    youtube, origin = fake
    file = tmp_path / "credentials.toml"
    login = do_login(youtube, origin, file, monkeypatch)
    save_login(CredentialStore(file), "youtube", login)  # as auth login stores it
    return Connected(youtube, origin, file, login)


@pytest.fixture
def connected(
    fake: tuple[FakeYouTube, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Connected:
    """An account connected by ``auth login``: only the OAuth client in the environment."""
    return connect(fake, tmp_path, monkeypatch)


class Watch(httpx.AsyncBaseTransport):
    """In-process transport to ``fake``; ``before`` sees each request first."""

    def __init__(self, fake: FakePlatform, before: Callable[[httpx.Request], None]) -> None:
        self.inner = fake.transport()
        self.before = before

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.before(request)
        return await self.inner.handle_async_request(request)


def context(
    account: Connected, client: httpx.AsyncClient, environ: dict[str, str] | None = None, **s: Any
) -> PublishContext:
    return PublishContext(
        client=client,
        platform="youtube",
        settings=YouTubeSettings(api_base="http://testserver", chunk_size=256 * 1024, **s),
        credentials=account.credentials(environ),
        progress=Progress(),
        poll_interval=0,
    )


def cron_run(
    account: Connected,
    post: Post,
    before: Callable[[httpx.Request], None] = lambda request: None,
    environ: dict[str, str] | None = None,
) -> Any:
    """What the runner does for YouTube: renew (1-hour horizon), then publish."""

    async def go() -> Any:
        async with httpx.AsyncClient(transport=Watch(account.fake, before)) as client:
            ctx = context(account, client, environ)
            adapter = YouTubeAdapter(ctx.settings)
            await adapter.renew(ctx, RENEW_HORIZON)
            return await adapter.publish(post, ctx)

    return run(go())


def renew_only(
    account: Connected, environ: dict[str, str] | None = None, progress: Progress | None = None
) -> None:
    async def go() -> None:
        async with httpx.AsyncClient(transport=account.fake.transport()) as client:
            ctx = context(account, client, environ)
            if progress is not None:
                ctx.progress = progress
            await YouTubeAdapter(ctx.settings).renew(ctx, RENEW_HORIZON)

    run(go())


# -- login -----------------------------------------------------------------------------


def test_login_end_to_end(connected: Connected) -> None:
    """The browser follows Google's redirect to the loopback listener; the code (PKCE,
    offline access, consent) becomes a refresh token; channels.list names the channel."""
    youtube, login = connected.fake, connected.login
    assert login.account == Account(
        "KPU MUSI RAWAS",
        "UCfakeChannel0000000000",
        "https://www.youtube.com/channel/UCfakeChannel0000000000",
    )
    assert set(login.secrets) == {"refresh_token", "access_token", "client_id", "client_secret"}
    assert login.secrets["refresh_token"].startswith("1//")
    assert youtube.auth.valid_access_token(login.secrets["access_token"])
    assert login.expires_at == youtube.oauth_clock.now() + timedelta(seconds=3599)
    assert login.refresh_expires_at is None  # Google does not say
    assert login.scopes == (UPLOAD_SCOPE, READONLY_SCOPE)
    (authorize,) = [params for kind, params in youtube.auth.log if kind == "authorize"]
    assert authorize["access_type"] == "offline" and authorize["prompt"] == "consent"
    assert authorize["scope"] == f"{UPLOAD_SCOPE} {READONLY_SCOPE}"
    assert authorize["code_challenge_method"] == "S256" and len(authorize["code_challenge"]) == 43
    redirect = urlsplit(authorize["redirect_uri"])
    assert (redirect.hostname, redirect.path) == ("127.0.0.1", "/callback") and redirect.port
    (exchange,) = [params for kind, params in youtube.auth.log if kind == "token"]
    assert exchange["grant_type"] == "authorization_code" and "code_verifier" in exchange
    (channels,) = youtube.calls(r"^GET /youtube/v3/channels$")
    assert dict(channels.url.params) == {"part": "snippet", "mine": "true"}


def test_login_without_a_browser_takes_the_pasted_address(
    fake: tuple[FakeYouTube, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--no-browser: the consent address is printed; the pasted redirect finishes it."""
    youtube, origin = fake
    person = Person(browser=Browser(deliver=False))
    login = do_login(
        youtube, origin, tmp_path / "c.toml", monkeypatch, person=person, open_browser=False
    )
    assert youtube.auth.valid_access_token(login.secrets["access_token"])
    assert person.browser.opened[0].startswith(origin + "/o/oauth2/v2/auth?")


def test_login_without_the_oauth_client_names_it_and_the_console(
    fake: tuple[FakeYouTube, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No client id/secret: which are missing, where to set them, where Google issues them."""
    youtube, origin = fake
    environ = {"CROSSPOST_YOUTUBE_CLIENT_ID": APP["CROSSPOST_YOUTUBE_CLIENT_ID"]}
    with pytest.raises(CredentialsError) as caught:
        do_login(youtube, origin, tmp_path / "c.toml", monkeypatch, environ=environ)
    message = str(caught.value)
    assert "CROSSPOST_YOUTUBE_CLIENT_SECRET" in message
    assert "CROSSPOST_YOUTUBE_CLIENT_ID" not in message
    assert "https://console.cloud.google.com/apis/credentials" in message
    assert "Desktop app" in message
    assert youtube.requests == []


def test_login_of_an_account_without_a_channel_says_to_create_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """channels.list finds no channel: the login stops with what to do."""
    for youtube, origin in served(monkeypatch, has_channel=False):
        with pytest.raises(AuthError, match=r"no YouTube channel.*crosspost auth login youtube"):
            do_login(youtube, origin, tmp_path / "c.toml", monkeypatch)


# -- renewal ---------------------------------------------------------------------------


def test_renewal_keeps_the_refresh_token_and_saves_the_access_token_before_use(
    connected: Connected, tmp_path: Path
) -> None:
    """An hour on, the run refreshes once (Google does not rotate: the refresh token stays
    and still works), saves the new access token first, and the upload uses it."""
    youtube = connected.fake
    old = connected.table()
    youtube.oauth_clock.advance(hours=2)
    seen: list[tuple[str, dict[str, Any]]] = []

    def before(request: httpx.Request) -> None:
        if request.url.path != "/token":
            seen.append((request.headers.get("authorization", ""), connected.table()))

    published = cron_run(connected, post_with(make_video(tmp_path, 1000)), before)
    assert published.remote_id == youtube.videos[0]["id"]
    assert len(connected.refreshes()) == 1  # renew refreshed; publish used what it saved
    new = connected.table()
    assert new["refresh_token"] == old["refresh_token"]
    assert new["access_token"] != old["access_token"]
    assert new["expires_at"] == youtube.oauth_clock.now() + timedelta(seconds=3599)
    authorization, table = seen[0]  # the session POST, right after the refresh
    assert authorization == f"Bearer {new['access_token']}"
    assert table["access_token"] == new["access_token"]
    # No rotation: the same refresh token refreshes again.
    youtube.oauth_clock.advance(hours=2)
    renew_only(connected)
    assert len(connected.refreshes()) == 2
    assert connected.table()["refresh_token"] == old["refresh_token"]


def test_publish_three_days_later_needs_no_manual_step(
    connected: Connected, tmp_path: Path
) -> None:
    """Three simulated days after login (stored expiry long past): renewed and uploaded."""
    youtube = connected.fake
    youtube.oauth_clock.advance(days=3)
    expires = connected.credentials().expires_at()
    assert expires is not None and expires < youtube.oauth_clock.now()
    cron_run(connected, post_with(make_video(tmp_path, 1000)))
    assert len(youtube.videos) == 1


def test_a_testing_consent_screen_ends_after_7_days_with_the_login_command(
    testing: tuple[FakeYouTube, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Consent screen in "Testing": 8 days on, Google's invalid_grant becomes a message
    naming the channel, the likely causes (Testing's 7 days among them) and the command;
    nothing is uploaded."""
    account = connect(testing, tmp_path, monkeypatch)
    youtube = account.fake
    youtube.oauth_clock.advance(days=8)
    with pytest.raises(AuthError) as caught:
        cron_run(account, post_with(make_video(tmp_path, 1000)))
    message = str(caught.value)
    assert 'the channel "KPU MUSI RAWAS"' in message
    assert "Token has been expired or revoked." in message
    assert '"Testing"' in message and "7 days" in message and "6 months" in message
    assert message.endswith("crosspost auth login youtube")
    assert account.table()["refresh_token"] not in message
    assert youtube.calls(SESSION) == []


LIMITED = {"error": "rate_limit_exceeded", "error_description": "Rate Limit Exceeded"}


def test_a_429_from_the_token_endpoint_is_waited_out_for_its_retry_after(
    connected: Connected,
) -> None:
    """Google limiting the token endpoint (429, Retry-After: 1): crosspost waits the second
    it was asked to (real waits here, not the test suite's zero ones), says so, then renews."""
    youtube = connected.fake
    youtube.oauth_clock.advance(hours=2)
    youtube.fail(TOKEN, 429, json=LIMITED, headers={"Retry-After": "1"})
    progress = Recorder()
    started = time.monotonic()
    with stamina.set_testing(False):
        renew_only(connected, progress=progress)
    assert time.monotonic() - started >= 1.0
    assert len(youtube.calls(TOKEN)) == 3  # login's exchange, the 429, the retry
    assert youtube.auth.valid_access_token(connected.table()["access_token"])
    assert any("retrying in 1.0 s" in step for step in progress.steps), progress.steps


@pytest.mark.parametrize(
    "answer",
    [
        {"json": LIMITED},  # Google's OAuth error shape
        {
            "json": {
                "error": {
                    "code": 429,
                    "message": "Too many requests",
                    "status": "RESOURCE_EXHAUSTED",
                }
            }
        },
        {"json": None},  # no body at all
    ],
    ids=["oauth", "google-error", "empty"],
)
def test_a_token_endpoint_that_keeps_answering_429_is_a_transient_failure(
    connected: Connected, answer: dict[str, Any]
) -> None:
    """Still 429 after every attempt, whatever the body: a retryable transient failure
    that says the next run tries again, never "log in again"; the stored login stays."""
    youtube = connected.fake
    youtube.oauth_clock.advance(hours=2)
    before = connected.file.read_bytes()
    youtube.fail(TOKEN, 429, headers={"Retry-After": "1"}, times=50, **answer)
    with pytest.raises(TransientError) as caught:
        renew_only(connected)
    error = caught.value
    assert error.retryable and error.code == "transient" and error.status == 429
    assert str(error).startswith("YouTube: Google's sign-in service is busy")
    assert str(error).endswith("the next run tries again")
    assert "auth login" not in str(error)
    assert len(youtube.calls(TOKEN)) == 1 + SAFE_ATTEMPTS  # login's exchange, then each try
    assert connected.file.read_bytes() == before


def test_a_retry_after_beyond_the_longest_wait_is_not_sat_out(connected: Connected) -> None:
    """Asked to wait an hour: one request, no waiting (the run goes on with the other
    platforms), and a rate limit carrying the wait, as every platform reports one; it
    says Google's sign-in is busy and never asks to log in again."""
    youtube = connected.fake
    youtube.oauth_clock.advance(hours=2)
    youtube.fail(TOKEN, 429, json=LIMITED, headers={"Retry-After": "3600"})
    started = time.monotonic()
    with stamina.set_testing(False), pytest.raises(RateLimitedError) as caught:
        renew_only(connected)
    assert time.monotonic() - started < MAX_RATE_LIMIT_WAIT
    assert len(youtube.calls(TOKEN)) == 2  # login's exchange, the one 429
    error = caught.value
    assert error.retryable and error.retry_after == 3600
    assert "Google's sign-in service is busy (HTTP 429, asked to wait 60 min)" in str(error)
    assert "auth login" not in str(error)


def test_publish_waits_out_a_429_on_its_own_refresh_and_uploads(
    connected: Connected, tmp_path: Path
) -> None:
    """A refresh token from the environment is refreshed by the publish itself: a 429
    there is waited out too, and the video goes up once."""
    youtube = connected.fake
    youtube.fail(TOKEN, 429, json=LIMITED, headers={"Retry-After": "1"})
    environ = {"CROSSPOST_YOUTUBE_REFRESH_TOKEN": youtube.refresh_token}
    cron_run(connected, post_with(make_video(tmp_path, 1000)), environ=environ)
    assert len(youtube.videos) == 1


def test_publish_with_google_sign_in_busy_sends_nothing(
    connected: Connected, tmp_path: Path
) -> None:
    """The token endpoint keeps answering 429 during a publish: transient, and no upload
    session is opened (nothing of the video is sent)."""
    youtube = connected.fake
    youtube.fail(TOKEN, 429, json=LIMITED, times=50)
    environ = {"CROSSPOST_YOUTUBE_REFRESH_TOKEN": youtube.refresh_token}
    with pytest.raises(TransientError, match="sign-in service is busy"):
        cron_run(connected, post_with(make_video(tmp_path, 1000)), environ=environ)
    assert youtube.calls(SESSION) == []


def test_a_refresh_token_from_the_environment_is_used_in_memory_only(
    connected: Connected, tmp_path: Path
) -> None:
    """A refresh token set in the environment: renew leaves it alone, the publish refreshes
    in memory, and the credentials file is not written."""
    youtube = connected.fake
    before = connected.file.read_bytes()
    youtube.oauth_clock.advance(hours=2)
    environ = {"CROSSPOST_YOUTUBE_REFRESH_TOKEN": youtube.refresh_token}
    cron_run(connected, post_with(make_video(tmp_path, 1000)), environ=environ)
    assert [p["refresh_token"] for p in connected.refreshes()] == [youtube.refresh_token]
    assert connected.file.read_bytes() == before
    assert len(youtube.videos) == 1


# -- identity and doctor -----------------------------------------------------------------


def ask(account: Connected, what: str, post: Post | None = None, **settings: Any) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(transport=account.fake.transport()) as client:
            ctx = context(account, client, **settings)
            adapter = YouTubeAdapter(ctx.settings)
            return await (
                adapter.identity(ctx) if what == "identity" else adapter.diagnose(ctx, post)
            )

    return run(go())


def test_identity_is_the_channel_and_writes_nothing(connected: Connected) -> None:
    """identity: channels.list's title, id and address; with the stored token expired it
    refreshes in memory (Google does not rotate) and the file stays as it was."""
    youtube = connected.fake
    youtube.oauth_clock.advance(hours=2)
    before = connected.file.read_bytes()
    account = ask(connected, "identity")
    assert (account.name, account.id) == ("KPU MUSI RAWAS", youtube.channel_id)
    assert connected.file.read_bytes() == before


def test_identity_without_a_read_scope_is_not_checked(connected: Connected) -> None:
    """A refresh token granted youtube.upload only can upload but not read the channel:
    "not checked" (ConfigError), not a failure."""
    youtube = FakeYouTube(scope=UPLOAD_SCOPE)
    account = Connected(youtube, "", connected.file, connected.login)
    environ = {"CROSSPOST_YOUTUBE_REFRESH_TOKEN": youtube.refresh_token}

    async def go() -> Any:
        async with httpx.AsyncClient(transport=youtube.transport()) as client:
            ctx = context(account, client, environ)
            return await YouTubeAdapter(ctx.settings).identity(ctx)

    with pytest.raises(ConfigError, match=r"youtube\.readonly"):
        run(go())
    assert youtube.calls(r"/youtube/v3/channels") == []


@pytest.mark.parametrize(
    ("privacy", "level", "words"),
    [
        ("private", "warn", "only the channel can see them"),
        ("unlisted", "warn", "only people with the link"),
        ("public", "ok", "API audit private"),
    ],
)
def test_doctor_says_who_will_see_the_video(
    connected: Connected, privacy: str, level: str, words: str
) -> None:
    """privacy_status private or unlisted: a warning that the video will not be public."""
    findings: list[Finding] = ask(connected, "diagnose", privacy_status=privacy)
    (visibility,) = [f for f in findings if "uploaded" in f.message]
    assert visibility.level == level and words in visibility.message


def test_doctor_takes_the_announcements_privacy_over_the_config(
    connected: Connected, tmp_path: Path
) -> None:
    """The post's own privacy_status (from the announcement) is the one reported."""
    post = post_with(make_video(tmp_path, 1000), options={"privacy_status": "unlisted"})
    findings: list[Finding] = ask(connected, "diagnose", post, privacy_status="public")
    assert any(f.level == "warn" and "unlisted" in f.message for f in findings)


def test_doctor_warns_of_the_testing_limit_in_the_first_week_only(connected: Connected) -> None:
    """Within 7 days of the login, a "Testing" consent screen would end it: warned with the
    date; after 7 days of working refreshes there is nothing to warn about."""
    findings: list[Finding] = ask(connected, "diagnose")
    (testing,) = [f for f in findings if "Testing" in f.message]
    assert testing.level == "warn" and "In production" in testing.message
    assert any(f.level == "ok" and f.message.startswith("permissions") for f in findings)
    connected.fake.oauth_clock.advance(days=8)
    assert not [f for f in ask(connected, "diagnose") if "Testing" in f.message]


def test_doctor_fails_a_login_that_cannot_upload(connected: Connected) -> None:
    """A refresh token without youtube.upload: fail, naming the scope and the command."""
    youtube = FakeYouTube(scope=READONLY_SCOPE)
    account = Connected(youtube, "", connected.file, connected.login)
    environ = {"CROSSPOST_YOUTUBE_REFRESH_TOKEN": youtube.refresh_token}

    async def go() -> list[Finding]:
        async with httpx.AsyncClient(transport=youtube.transport()) as client:
            ctx = context(account, client, environ)
            return await YouTubeAdapter(ctx.settings).diagnose(ctx, None)

    (fail,) = [f for f in run(go()) if f.level == "fail"]
    assert UPLOAD_SCOPE in fail.message and "crosspost auth login youtube" in fail.message


def test_no_secret_in_any_message(connected: Connected, tmp_path: Path) -> None:
    """Tokens and the client secret never appear in findings or errors."""
    youtube = connected.fake
    texts = [f.message for f in ask(connected, "diagnose")]
    youtube.auth.tokens[connected.table()["refresh_token"]].revoked = True
    youtube.oauth_clock.advance(hours=2)
    with pytest.raises(AuthError) as caught:
        cron_run(connected, post_with(make_video(tmp_path, 1000)))
    texts.append(str(caught.value))
    text = "\n".join(texts)
    for secret in [connected.login.secrets[k] for k in ("refresh_token", "access_token")] + [
        "yt-client-secret"
    ]:
        assert secret not in text
