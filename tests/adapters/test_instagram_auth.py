"""Instagram accounts end to end: both logins, renewal, identity and diagnose.

The logins run over real loopback HTTP against ``FakeInstagram``, which serves
Facebook Login (a Page with the account linked) and Instagram Login
(instagram.com's window, api.instagram.com's code exchange, graph.instagram.com's
long-lived and refreshed tokens). A test person follows the redirect to
crosspost's loopback listener or pastes it back (``tests.adapters.
test_facebook_auth.Person``). Renewal runs against the fake with a credentials
file whose facts (obtained_at, expires_at) say how old the token is, and the
fake's clock says the same.
"""

from __future__ import annotations

import dataclasses
import tomllib
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from crosspost.adapter import Account, Finding, Login, LoginSession, Part, Post
from crosspost.api import PublishContext
from crosspost.credentials import Credentials
from crosspost.errors import AuthError, CredentialsError
from crosspost.media import MediaFile
from crosspost.oauth import OAuthError
from crosspost.units import Unit
from crosspost_adapters import _graph
from crosspost_adapters.instagram import InstagramAdapter, InstagramSettings
from tests.adapters.test_facebook_auth import LOOPBACK, Person, loopback_redirect, run
from tests.fakes.facebook import FakePage
from tests.fakes.instagram import IG_LONG_LIVED, FakeInstagram
from tests.fakes.server import serve

#: Canaries: searched for in every message.
FB_SECRET = "canary-meta-app-secret-4c2a"
IG_SECRET = "canary-ig-app-secret-88f0"
DAY = 86_400.0


@dataclasses.dataclass
class Attempt:
    """One login: what it returned or raised, and what was said."""

    login: Login | None
    error: Exception | None
    said: list[str]
    person: Person
    chosen: list[tuple[str, list[str]]]


@contextmanager
def served(
    redirect: str | None = None, now: list[float] | None = None, **kw: Any
) -> Iterator[tuple[FakeInstagram, str, str]]:
    """A FakeInstagram on loopback, both logins registering ``redirect``."""
    redirect = redirect or loopback_redirect()
    clock = now if now is not None else [1_900_000_000.0]
    fake = FakeInstagram(
        clock=lambda: clock[0],
        facebook_login={"app_secret": FB_SECRET, "redirect_uris": (redirect,)},
        instagram_login={"app_secret": IG_SECRET, "redirect_uris": (redirect,)},
        **kw,
    )
    with serve(fake) as origin:
        yield fake, origin, redirect


def log_in(
    fake: FakeInstagram,
    origin: str,
    tmp_path: Path,
    *,
    way: str | None = None,
    person: Person | None = None,
    said: list[str] | None = None,
    choose: int = 0,
    env: dict[str, str] | None = None,
    **settings: Any,
) -> Attempt:
    """Run the adapter's login against ``fake``; ``way`` is ``--login``."""
    said = said if said is not None else []
    person = person or Person(said)
    chosen: list[tuple[str, list[str]]] = []
    instagram = (way or settings.get("login")) == "instagram"

    def pick(question: str, options: list[str]) -> int:
        chosen.append((question, options))
        return choose

    values: dict[str, Any] = {
        "api_base": origin,
        "app_id": fake.instagram_login.app_id if instagram else fake.facebook_login.app_id,
    }
    values.update(settings)
    config = InstagramSettings(**values)
    secret = IG_SECRET if instagram else FB_SECRET
    environ = {"CROSSPOST_INSTAGRAM_APP_SECRET": secret} if env is None else env
    credentials = Credentials("instagram", environ, tmp_path / "credentials.toml")

    async def go() -> Login:
        async with httpx.AsyncClient(**LOOPBACK) as client:
            session = LoginSession(
                client=client,
                platform="instagram",
                settings=config,
                credentials=credentials,
                open_browser=True,
                say=said.append,
                ask=person.ask,
                choose=pick,
                options={"login": way} if way else {},
            )
            return await InstagramAdapter(config).login(session)

    with mock.patch.object(webbrowser, "open", person.open):
        try:
            return Attempt(run(go()), None, said, person, chosen)
        except Exception as exc:  # the test looks at it
            return Attempt(None, exc, said, person, chosen)


def secrets_of(fake: FakeInstagram) -> list[str]:
    values = [FB_SECRET, IG_SECRET, fake.access_token, *fake.facebook_login.users]
    values += list(fake.instagram_login.short) + list(fake.instagram_login.long_lived)
    values += list(fake.facebook_login.server.codes) + list(fake.instagram_login.server.codes)
    return values


def assert_no_secret(fake: FakeInstagram, *texts: str) -> None:
    for text in texts:
        for secret in secrets_of(fake):
            assert secret not in text, "a secret reached a message"


def calls(fake: FakeInstagram, method: str, path: str) -> list[httpx.Request]:
    return [r for r in fake.requests if r.method == method and r.url.path.endswith(path)]


# -- Facebook Login ---------------------------------------------------------------------


def test_facebook_login_finds_the_linked_account_and_keeps_the_page_token(
    tmp_path: Path,
) -> None:
    """Dialog with the Instagram permissions → long-lived user token → the Pages → each
    Page's instagram_business_account: the Page token publishes, ig_user_id is set."""
    with served() as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect)
    assert attempt.error is None and attempt.login is not None
    login = attempt.login
    assert login.secrets == {"access_token": fake.access_token}
    assert login.settings == {"ig_user_id": fake.ig_user_id, "login": "facebook"}
    assert login.account == Account(
        "kpumusirawas", fake.ig_user_id, "https://www.instagram.com/kpumusirawas"
    )
    assert login.expires_at is None  # the Page token does not expire
    assert {"instagram_basic", "instagram_content_publish"} <= set(login.scopes)
    [dialog] = calls(fake, "GET", "/dialog/oauth")
    assert dialog.url.params["scope"] == (
        "instagram_basic,instagram_content_publish,pages_show_list,pages_read_engagement"
    )
    [linked] = calls(fake, "GET", "/102938475610293")
    assert linked.url.params["fields"] == "instagram_business_account{id,username}"
    assert linked.headers["authorization"].startswith("Bearer ")
    assert "access_token" not in linked.url.params
    assert "@kpumusirawas" in attempt.said[-1]
    assert_no_secret(fake, *attempt.said)


def test_facebook_login_offers_each_linked_account_to_choose(tmp_path: Path) -> None:
    """Two Pages with linked accounts and one without: the two are offered by username."""
    with served() as (fake, origin, redirect):
        pages = fake.facebook_login.pages
        pages.append(
            FakePage("2002", "Humas Sumsel", "tok-sumsel", instagram=("1784102", "sumsel"))
        )
        pages.append(FakePage("2003", "Tanpa Instagram", "tok-none"))
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect, choose=1)
    assert attempt.login is not None
    [(question, options)] = attempt.chosen
    assert "Instagram" in question
    assert options == [
        "@kpumusirawas (through the Page KPU Kabupaten Musi Rawas)",
        "@sumsel (through the Page Humas Sumsel)",
    ]
    assert attempt.login.secrets == {"access_token": "tok-sumsel"}
    assert attempt.login.settings["ig_user_id"] == "1784102"


def test_facebook_login_without_a_linked_account_says_how_to_link_one(tmp_path: Path) -> None:
    """No Page has an Instagram account linked: an error naming both ways out."""
    with served() as (fake, origin, redirect):
        fake.facebook_login.pages[0].instagram = None
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect)
    assert isinstance(attempt.error, OAuthError)
    assert "linked" in str(attempt.error) and "--login instagram" in str(attempt.error)


def test_facebook_login_with_a_configured_account_not_linked_is_refused(tmp_path: Path) -> None:
    """ig_user_id names an account no managed Page links: refused, listing those that are."""
    with served() as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect, ig_user_id="999")
    assert isinstance(attempt.error, OAuthError)
    assert "ig_user_id 999" in str(attempt.error) and fake.ig_user_id in str(attempt.error)


def test_facebook_login_with_unticked_publishing_is_refused(tmp_path: Path) -> None:
    """instagram_content_publish declined in the dialog: stop, saying to allow it."""
    with served() as (fake, origin, redirect):
        fake.facebook_login.declined = {"instagram_content_publish"}
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect)
    assert isinstance(attempt.error, OAuthError)
    assert "instagram_content_publish" in str(attempt.error)
    assert "crosspost auth login instagram" in str(attempt.error)


# -- Instagram Login ----------------------------------------------------------------------


def test_instagram_login_end_to_end_stores_the_sixty_day_token_and_the_account(
    tmp_path: Path,
) -> None:
    """instagram.com's window → a 1-hour token (POST, secret in the body) → a 60-day
    token (ig_exchange_token) → /me: token with expiry, ig_user_id and login."""
    with served() as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, way="instagram", redirect_uri=redirect)
    assert attempt.error is None and attempt.login is not None
    login = attempt.login
    [long] = fake.instagram_login.long_lived
    assert login.secrets == {"access_token": long}
    assert login.settings == {"ig_user_id": fake.ig_user_id, "login": "instagram"}
    assert login.account == Account(
        "kpumusirawas", fake.ig_user_id, "https://www.instagram.com/kpumusirawas"
    )
    assert login.scopes == ("instagram_business_basic", "instagram_business_content_publish")
    assert login.expires_at is not None
    assert timedelta(days=59) < login.expires_at - datetime.now(UTC) <= timedelta(days=60)
    [window] = calls(fake, "GET", "/oauth/authorize")
    assert window.url.params["client_id"] == fake.instagram_login.app_id
    assert window.url.params["scope"] == (
        "instagram_business_basic,instagram_business_content_publish"
    )
    assert window.url.params["redirect_uri"] == redirect
    [code] = calls(fake, "POST", "/oauth/access_token")
    assert code.url.query == b""  # the code and the secret travel in the body
    body = dict(httpx.QueryParams(code.content.decode()))
    assert body["client_secret"] == IG_SECRET and body["grant_type"] == "authorization_code"
    assert body["redirect_uri"] == redirect
    [exchange] = calls(fake, "GET", "/access_token")
    assert exchange.url.params["grant_type"] == "ig_exchange_token"
    [me] = calls(fake, "GET", "/v25.0/me")
    assert me.url.params["fields"] == "user_id,username"
    assert me.headers["authorization"] == f"Bearer {long}"
    assert_no_secret(fake, *attempt.said)


def test_the_login_setting_chooses_instagram_login_without_the_option(tmp_path: Path) -> None:
    """``login = "instagram"`` in the config is enough; ``--login`` overrides it."""
    with served() as (fake, origin, redirect):
        by_setting = log_in(fake, origin, tmp_path, redirect_uri=redirect, login="instagram")
        overridden = log_in(
            fake,
            origin,
            tmp_path,
            way="facebook",
            redirect_uri=redirect,
            login="instagram",
            app_id=fake.facebook_login.app_id,
            env={"CROSSPOST_INSTAGRAM_APP_SECRET": FB_SECRET},
        )
    assert by_setting.login is not None and by_setting.login.settings["login"] == "instagram"
    assert overridden.login is not None and overridden.login.settings["login"] == "facebook"


def test_instagram_login_pasted_back_from_the_default_https_redirect(tmp_path: Path) -> None:
    """The default https redirect: the person pastes the address (with Instagram's "#_")."""
    with served(redirect="https://localhost:8765/callback") as (fake, origin, _):
        attempt = log_in(fake, origin, tmp_path, way="instagram")
    assert attempt.login is not None, attempt.error
    assert attempt.person.location is not None and attempt.person.location.endswith("#_")


def test_instagram_login_refuses_an_unregistered_redirect(tmp_path: Path) -> None:
    """A redirect URI the app does not list: an error page, never a redirect."""
    with served() as (fake, origin, _), mock.patch.object(_graph, "LOGIN_TIMEOUT", 0.3):
        attempt = log_in(fake, origin, tmp_path, way="instagram", redirect_uri=loopback_redirect())
    [page] = attempt.person.pages
    assert page.status_code == 400
    assert isinstance(attempt.error, OAuthError)
    assert not calls(fake, "POST", "/oauth/access_token")


def test_instagram_login_refuses_a_forged_state_before_the_exchange(tmp_path: Path) -> None:
    """Another login's state: refused before the code is sent anywhere."""
    with served() as (fake, origin, redirect):
        said: list[str] = []
        person = Person(said, on_redirect=lambda loc: loc.replace("state=", "state=x"))
        attempt = log_in(
            fake, origin, tmp_path, way="instagram", person=person, said=said,
            redirect_uri=redirect,
        )  # fmt: skip
    assert isinstance(attempt.error, OAuthError) and "state mismatch" in str(attempt.error)
    assert not calls(fake, "POST", "/oauth/access_token")


def test_instagram_login_refuses_a_reused_code_in_instagrams_words(tmp_path: Path) -> None:
    """A code used once already: api.instagram.com's error object, reported as such."""
    with served() as (fake, origin, redirect):
        first = log_in(fake, origin, tmp_path, way="instagram", redirect_uri=redirect)
        assert first.login is not None
        old = first.person.code
        said: list[str] = []

        def replay(location: str) -> str:
            return location.replace(_code_of(location), old)

        second = log_in(
            fake, origin, tmp_path, way="instagram", person=Person(said, on_redirect=replay),
            said=said, redirect_uri=redirect,
        )  # fmt: skip
    assert isinstance(second.error, OAuthError)
    message = str(second.error)
    assert "refused the authorization code" in message and "OAuthException" in message
    assert "crosspost auth login instagram" in message
    assert_no_secret(fake, message)


def _code_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


def test_instagram_login_with_a_wrong_secret_names_the_instagram_app_credentials(
    tmp_path: Path,
) -> None:
    """The Instagram app secret does not match: said as the app's credentials."""
    with served() as (fake, origin, redirect):
        attempt = log_in(
            fake,
            origin,
            tmp_path,
            way="instagram",
            env={"CROSSPOST_INSTAGRAM_APP_SECRET": "canary-wrong-ig-secret"},
            redirect_uri=redirect,
        )
    assert isinstance(attempt.error, OAuthError)
    message = str(attempt.error)
    assert "app's credentials" in message and "CROSSPOST_INSTAGRAM_APP_SECRET" in message
    assert "canary-wrong-ig-secret" not in message


def test_instagram_login_with_publishing_unticked_is_refused(tmp_path: Path) -> None:
    """instagram_business_content_publish declined: refused before the 60-day exchange."""
    with served() as (fake, origin, redirect):
        fake.instagram_login.declined = {"instagram_business_content_publish"}
        attempt = log_in(fake, origin, tmp_path, way="instagram", redirect_uri=redirect)
    assert isinstance(attempt.error, OAuthError)
    assert "instagram_business_content_publish" in str(attempt.error)
    assert not calls(fake, "GET", "/access_token")


def test_missing_app_credentials_say_what_to_set_before_any_request(tmp_path: Path) -> None:
    """No app_id, no secret: one CredentialsError naming both; nothing sent."""
    with served() as (fake, origin, redirect):
        attempt = log_in(
            fake, origin, tmp_path, way="instagram", env={}, app_id=None, redirect_uri=redirect
        )
    assert isinstance(attempt.error, CredentialsError)
    message = str(attempt.error)
    assert "app_id in [platforms.instagram]" in message
    assert "CROSSPOST_INSTAGRAM_APP_SECRET" in message
    assert fake.requests == []


# -- renewal --------------------------------------------------------------------------------


def stored(
    tmp_path: Path,
    token: str,
    *,
    age: timedelta | None,
    lasts: timedelta | None,
    scopes: tuple[str, ...] = ("instagram_business_basic", "instagram_business_content_publish"),
) -> Path:
    """A credentials file as auth login leaves it: the token, its age and expiry facts."""
    now = datetime.now(UTC)
    lines = ["[instagram]", f'access_token = "{token}"', 'account = "kpumusirawas"']
    if age is not None:
        lines.append(f"obtained_at = {(now - age).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    if lasts is not None:
        lines.append(f"expires_at = {(now + lasts).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    lines.append("scopes = [" + ", ".join(f'"{s}"' for s in scopes) + "]")
    file = tmp_path / "credentials.toml"
    file.write_text("\n".join(lines) + "\n")
    file.chmod(0o600)
    return file


def ig_context(
    fake: FakeInstagram,
    client: httpx.AsyncClient,
    file: Path,
    env: dict[str, str] | None = None,
    **settings: Any,
) -> PublishContext:
    values: dict[str, Any] = {
        "api_base": "http://testserver",
        "ig_user_id": fake.ig_user_id,
        "login": "instagram",
    }
    values.update(settings)
    return PublishContext(
        client=client,
        platform="instagram",
        settings=InstagramSettings(**values),
        credentials=Credentials("instagram", env or {}, file),
        poll_interval=0,
    )


def renew(fake: FakeInstagram, file: Path, horizon: float = 3600, **kw: Any) -> None:
    async def go() -> None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = ig_context(fake, client, file, **kw)
            await InstagramAdapter(ctx.settings).renew(ctx, horizon)

    run(go())


def table(file: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(file.read_text())["instagram"]
    return data


def aged_token(fake: FakeInstagram, days: float, now: list[float]) -> str:
    """A long-lived token the fake issued ``days`` ago (by its clock)."""
    return fake.instagram_login.issue(issued=now[0] - days * DAY)


def test_an_eight_day_old_token_is_refreshed_and_saved_before_use(tmp_path: Path) -> None:
    """Older than renew_after_days (7): refreshed with ig_refresh_token, the new token and
    its 60-day expiry saved at once, and the next call uses it."""
    now = [1_900_000_000.0]
    fake = FakeInstagram(clock=lambda: now[0])
    old = aged_token(fake, 8, now)
    file = stored(tmp_path, old, age=timedelta(days=8), lasts=timedelta(days=52))
    renew(fake, file)
    [(was, new)] = fake.instagram_login.refreshes
    assert was == old
    [refresh] = calls(fake, "GET", "/refresh_access_token")
    assert refresh.url.params["grant_type"] == "ig_refresh_token"
    saved = table(file)
    assert saved["access_token"] == new
    assert timedelta(days=59) < saved["expires_at"] - datetime.now(UTC) <= timedelta(days=60)
    assert datetime.now(UTC) - saved["obtained_at"] < timedelta(minutes=1)
    assert saved["account"] == "kpumusirawas"  # the other facts stay

    async def who() -> Account:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = ig_context(fake, client, file)
            return await InstagramAdapter(ctx.settings).identity(ctx)

    assert run(who()).id == fake.ig_user_id
    [me] = calls(fake, "GET", "/v25.0/me")
    assert me.headers["authorization"] == f"Bearer {new}"


def test_a_two_day_old_token_is_left_alone(tmp_path: Path) -> None:
    """Younger than renew_after_days and far from expiry: nothing is asked."""
    now = [1_900_000_000.0]
    fake = FakeInstagram(clock=lambda: now[0])
    file = stored(
        tmp_path, aged_token(fake, 2, now), age=timedelta(days=2), lasts=timedelta(days=58)
    )
    before = file.read_text()
    renew(fake, file)
    assert fake.requests == [] and file.read_text() == before


def test_renew_after_days_is_honoured(tmp_path: Path) -> None:
    """renew_after_days = 1: a two-day-old token is refreshed."""
    now = [1_900_000_000.0]
    fake = FakeInstagram(clock=lambda: now[0])
    file = stored(
        tmp_path, aged_token(fake, 2, now), age=timedelta(days=2), lasts=timedelta(days=58)
    )
    renew(fake, file, renew_after_days=1)
    assert len(fake.instagram_login.refreshes) == 1


def test_a_token_younger_than_a_day_is_never_sent_to_refresh(tmp_path: Path) -> None:
    """Instagram refreshes only tokens at least 24 hours old: a 3-hour-old one (its age
    known only from its expiry) is not sent, whatever renew_after_days says."""
    now = [1_900_000_000.0]
    fake = FakeInstagram(clock=lambda: now[0])
    token = aged_token(fake, 0.125, now)
    file = stored(tmp_path, token, age=None, lasts=timedelta(days=60) - timedelta(hours=3))
    renew(fake, file, renew_after_days=1)
    assert fake.requests == []


def test_the_fake_refuses_to_refresh_young_expired_or_unknown_tokens() -> None:
    """Instagram's rule in the fake: at least 24 hours old, not expired, a long-lived one."""
    now = [1_900_000_000.0]
    fake = FakeInstagram(clock=lambda: now[0])
    young = fake.instagram_login.issue()
    expired = aged_token(fake, 61, now)

    def refresh(token: str, grant: str = "ig_refresh_token") -> httpx.Response:
        with httpx.Client(transport=fake.transport(), base_url="http://testserver") as http:
            return http.get(
                "/refresh_access_token", params={"grant_type": grant, "access_token": token}
            )

    assert refresh(young).status_code == 400
    assert refresh(expired).json()["error"]["error_subcode"] == 463
    assert refresh("nope-nope-nope").json()["error"]["code"] == 190
    now[0] += 2 * DAY
    assert refresh(young, "refresh_token").status_code == 400
    assert refresh(young).status_code == 200


def test_an_expired_token_stops_with_the_login_command(tmp_path: Path) -> None:
    """Expired yesterday: Instagram cannot renew it; AuthError naming the account, the
    date and crosspost auth login instagram; nothing is asked."""
    now = [1_900_000_000.0]
    fake = FakeInstagram(clock=lambda: now[0])
    token = aged_token(fake, 61, now)
    file = stored(tmp_path, token, age=timedelta(days=61), lasts=timedelta(days=-1))
    with pytest.raises(AuthError) as caught:
        renew(fake, file)
    message = str(caught.value)
    assert "@kpumusirawas" in message and "expired on" in message
    assert "crosspost auth login instagram" in message
    assert token not in message
    assert fake.requests == []


def test_a_refused_refresh_of_a_token_expiring_within_the_run_is_an_auth_error(
    tmp_path: Path,
) -> None:
    """The token runs out within the hour and Instagram refuses to refresh it (revoked):
    AuthError with the login command; the file is unchanged."""
    fake = FakeInstagram()
    file = stored(tmp_path, "revoked-token-0123", age=timedelta(days=59, hours=23, minutes=30),
                  lasts=timedelta(minutes=30))  # fmt: skip
    before = file.read_text()
    with pytest.raises(AuthError, match="crosspost auth login instagram") as caught:
        renew(fake, file)
    assert "revoked-token-0123" not in str(caught.value)
    assert file.read_text() == before


def test_a_refused_refresh_of_a_token_that_still_lasts_is_left_for_the_next_run(
    tmp_path: Path,
) -> None:
    """Old enough to refresh but far from expiry, and the refresh fails: no error now
    (publishing still works), the file is unchanged, the next run tries again."""
    fake = FakeInstagram()
    fake.fail(r"refresh_access_token", 500, json={"error": {"message": "x", "code": 2}}, times=9)
    file = stored(tmp_path, "some-token-0123", age=timedelta(days=9), lasts=timedelta(days=51))
    before = file.read_text()
    renew(fake, file)
    assert calls(fake, "GET", "/refresh_access_token")
    assert file.read_text() == before


def test_a_token_from_the_environment_is_never_renewed(tmp_path: Path) -> None:
    """CROSSPOST_INSTAGRAM_ACCESS_TOKEN cannot be replaced: nothing is asked."""
    fake = FakeInstagram()
    file = stored(tmp_path, "file-token-0123", age=timedelta(days=30), lasts=timedelta(days=30))
    renew(fake, file, env={"CROSSPOST_INSTAGRAM_ACCESS_TOKEN": "env-token-0123"})
    assert fake.requests == []


def test_facebook_login_has_nothing_to_renew(tmp_path: Path) -> None:
    """login = "facebook": the Page token does not expire; nothing is asked."""
    fake = FakeInstagram()
    file = stored(tmp_path, fake.access_token, age=timedelta(days=90), lasts=None)
    renew(fake, file, login="facebook")
    assert fake.requests == []


# -- identity and diagnose --------------------------------------------------------------------


MEDIA_HOST = "media.example"


def media_site(request: httpx.Request) -> httpx.Response:
    """The organisation's web server: a JPEG, a page, a missing file, a HEAD-less server."""
    path = request.url.path
    if path == "/ok.jpg":
        return httpx.Response(200, headers={"content-type": "image/jpeg"})
    if path == "/page.jpg":
        return httpx.Response(200, headers={"content-type": "text/html; charset=utf-8"})
    if path == "/nohead.mp4":
        if request.method == "HEAD":
            return httpx.Response(405)
        return httpx.Response(200, headers={"content-type": "video/mp4"}, content=b"x")
    return httpx.Response(404)


def diagnose(
    fake: FakeInstagram,
    file: Path,
    post: Post | None = None,
    env: dict[str, str] | None = None,
    **settings: Any,
) -> list[Finding]:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == MEDIA_HOST:
            return media_site(request)
        return fake(request)

    async def go() -> list[Finding]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(route)) as client:
            ctx = ig_context(fake, client, file, env, **settings)
            return await InstagramAdapter(ctx.settings).diagnose(ctx, post)

    return run(go())


def post_with(*names: str) -> Post:
    media = tuple(
        MediaFile(
            name,
            "video" if name.endswith(".mp4") else "image",
            "video/mp4" if name.endswith(".mp4") else "image/jpeg",
            url=f"https://{MEDIA_HOST}/{name}",
        )
        for name in names
    )
    return Post("instagram", Unit.CHARS, (Part("Halo", 4, 2_200),), media=media)


def test_identity_with_instagram_login_is_me(tmp_path: Path) -> None:
    """Instagram Login: GET /me?fields=user_id,username; the account id is user_id."""
    fake = FakeInstagram()
    token = fake.instagram_login.issue()
    file = stored(tmp_path, token, age=timedelta(days=1), lasts=timedelta(days=59))

    async def go() -> Account:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = ig_context(fake, client, file)
            return await InstagramAdapter(ctx.settings).identity(ctx)

    assert run(go()) == Account(
        "kpumusirawas", fake.ig_user_id, "https://www.instagram.com/kpumusirawas"
    )


def test_identity_with_facebook_login_reads_the_account_node(tmp_path: Path) -> None:
    """Facebook Login: GET /{ig-user-id}?fields=id,username with the Page token."""
    fake = FakeInstagram()
    file = stored(tmp_path, fake.access_token, age=None, lasts=None)

    async def go() -> Account:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = ig_context(fake, client, file, login="facebook")
            return await InstagramAdapter(ctx.settings).identity(ctx)

    assert run(go()).name == "kpumusirawas"
    [read] = calls(fake, "GET", f"/{fake.ig_user_id}")
    assert read.url.params["fields"] == "id,username"


def test_diagnose_all_green_with_reachable_media(tmp_path: Path) -> None:
    """The account matches, the stored permissions cover publishing, the token lasts, and
    each media URL answers 200 with its type (GET where HEAD is refused)."""
    fake = FakeInstagram()
    file = stored(
        tmp_path, fake.instagram_login.issue(), age=timedelta(days=1), lasts=timedelta(days=59)
    )
    findings = diagnose(fake, file, post_with("ok.jpg", "nohead.mp4"))
    assert [f.level for f in findings] == ["ok"] * 5, findings
    assert "@kpumusirawas" in findings[0].message
    assert "instagram_business_content_publish" in findings[1].message
    assert "renews it" in findings[2].message
    assert "image/jpeg" in findings[3].message and "video/mp4" in findings[4].message


def test_diagnose_fails_media_instagram_cannot_fetch(tmp_path: Path) -> None:
    """A 404 and an HTML page behind a .jpg URL: both failures, naming the URL."""
    fake = FakeInstagram()
    file = stored(
        tmp_path, fake.instagram_login.issue(), age=timedelta(days=1), lasts=timedelta(days=59)
    )
    findings = diagnose(fake, file, post_with("missing.jpg", "page.jpg"))
    missing, page = findings[-2:]
    assert missing.level == "fail" and "HTTP 404" in missing.message
    assert page.level == "fail" and "text/html" in page.message


def test_diagnose_fails_an_account_other_than_ig_user_id(tmp_path: Path) -> None:
    """The token's account is not ig_user_id: a failure naming both."""
    fake = FakeInstagram()
    file = stored(
        tmp_path, fake.instagram_login.issue(), age=timedelta(days=1), lasts=timedelta(days=59)
    )
    findings = diagnose(fake, file, ig_user_id="178410000000009")
    assert findings[0].level == "fail" and "178410000000009" in findings[0].message


def test_diagnose_fails_an_expired_token_and_missing_permission(tmp_path: Path) -> None:
    """Stored permissions without publishing, and an expiry in the past: two failures."""
    fake = FakeInstagram()
    token = fake.instagram_login.issue()
    file = stored(
        tmp_path,
        token,
        age=timedelta(days=61),
        lasts=timedelta(days=-1),
        scopes=("instagram_business_basic",),
    )
    findings = diagnose(fake, file)
    assert (
        findings[1].level == "fail" and "instagram_business_content_publish" in findings[1].message
    )
    assert findings[2].level == "fail" and "expired" in findings[2].message
    assert all(token not in f.message for f in findings)


def test_diagnose_warns_that_a_token_from_the_environment_is_not_renewed(
    tmp_path: Path,
) -> None:
    """CROSSPOST_INSTAGRAM_ACCESS_TOKEN with Instagram Login: a warning (60 days, by hand)."""
    fake = FakeInstagram()
    token = fake.instagram_login.issue()
    file = stored(tmp_path, "unused", age=None, lasts=None)
    findings = diagnose(fake, file, env={"CROSSPOST_INSTAGRAM_ACCESS_TOKEN": token})
    assert findings[-1].level == "warn" and "cannot renew" in findings[-1].message


def test_diagnose_with_facebook_login_asks_debug_token(tmp_path: Path) -> None:
    """Facebook Login and the app's credentials: debug_token says what the Page token may
    do; without instagram_content_publish it fails."""
    fake = FakeInstagram(facebook_login={"app_secret": FB_SECRET})
    file = stored(tmp_path, fake.access_token, age=None, lasts=None)
    env = {"CROSSPOST_INSTAGRAM_APP_SECRET": FB_SECRET}
    settings = {"login": "facebook", "app_id": fake.facebook_login.app_id}
    good = diagnose(fake, file, env=env, **settings)
    assert [f.level for f in good] == ["ok", "ok"]
    page = fake.facebook_login.pages[0]
    fake.facebook_login.page_grants[fake.access_token] = (page, ("instagram_basic",))
    bad = diagnose(fake, file, env=env, **settings)
    assert bad[1].level == "fail" and "instagram_content_publish" in bad[1].message


def test_the_long_lived_token_lasts_sixty_days_in_the_fake() -> None:
    """The fake's tokens expire by its clock: 60 days after issue, refused with 190/463."""
    now = [1_900_000_000.0]
    fake = FakeInstagram(clock=lambda: now[0])
    token = fake.instagram_login.issue()
    now[0] += IG_LONG_LIVED + 1
    with httpx.Client(transport=fake.transport(), base_url="http://testserver") as http:
        answer = http.get(
            "/v25.0/me",
            params={"fields": "user_id"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.json()["error"]["error_subcode"] == 463


# -- the first comment's permission ---------------------------------------------------


@pytest.mark.parametrize(
    ("way", "asked", "permission"),
    [
        ("facebook", "/dialog/oauth", "instagram_manage_comments"),
        ("instagram", "/oauth/authorize", "instagram_business_manage_comments"),
    ],
)
def test_login_asks_for_the_comments_permission_when_first_comment_is_set(
    tmp_path: Path, way: str, asked: str, permission: str
) -> None:
    """With first_comment in the config, both logins ask for (and require) the permission
    to comment (IG Media Comments reference); without it they do not ask."""
    with served() as (fake, origin, redirect):
        attempt = log_in(
            fake, origin, tmp_path, way=way, redirect_uri=redirect, first_comment="hashtags"
        )
        assert attempt.error is None and attempt.login is not None
        [dialog] = calls(fake, "GET", asked)
        assert dialog.url.params["scope"].split(",")[-1] == permission
        assert permission in attempt.login.scopes
    with served() as (fake, origin, redirect):
        log_in(fake, origin, tmp_path / "plain", way=way, redirect_uri=redirect)
        [dialog] = calls(fake, "GET", asked)
        assert permission not in dialog.url.params["scope"]
