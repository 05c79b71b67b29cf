"""Facebook accounts end to end: login, identity, diagnose and (no) renewal.

The logins run over real loopback HTTP: ``FakeFacebook`` is served by
``tests.fakes.server.serve``, a test person opens the Facebook Login dialog on the
fake (where they consent), and follows its 302 to crosspost's loopback listener,
or copies the address to paste it back. Every refusal (wrong redirect URI, reused
code, bad state, wrong app secret, unticked permissions) comes from the fake as
Facebook gives it. A canary app secret and every token are searched for in every
message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import webbrowser
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import httpx

from crosspost.adapter import Account, Finding, Login, LoginSession, Part, Post
from crosspost.api import PublishContext
from crosspost.credentials import Credentials
from crosspost.errors import AuthError, CredentialsError
from crosspost.media import MediaFile
from crosspost.oauth import OAuthError
from crosspost.units import Unit
from crosspost_adapters import _graph
from crosspost_adapters.facebook import FacebookAdapter, FacebookSettings
from tests.fakes.facebook import ADMIN_TASKS, FakeFacebook, FakePage
from tests.fakes.server import serve
from tests.ports import free_port

T = TypeVar("T")

#: Clients for plain HTTP on loopback: no proxies from the environment.
LOOPBACK: dict[str, Any] = {"trust_env": False}
#: A canary: searched for in every message.
APP_SECRET = "canary-fb-app-secret-7d1e"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def loopback_redirect() -> str:
    """A loopback redirect URI on a free port, to register with the fake app."""
    return f"http://127.0.0.1:{free_port()}/callback"


class Person:
    """The person at the browser.

    ``open`` stands in for ``webbrowser.open``: it opens the consent page on the fake
    (where the fake person allows access) and follows its 302: to crosspost's
    loopback listener when the redirect is an http loopback address and
    ``deliver`` is set, else it keeps the address to paste. ``ask`` answers the paste
    prompt: the kept address, or Enter once the listener has the answer. Without a
    browser (``--no-browser``) ``ask`` first opens the address crosspost printed.
    ``on_redirect`` may change the address (a forged state, an old code).
    """

    def __init__(
        self,
        said: list[str],
        *,
        deliver: bool = True,
        on_redirect: Callable[[str], str] | None = None,
    ) -> None:
        self.said = said
        self.deliver = deliver
        self.on_redirect = on_redirect
        self.pages: list[httpx.Response] = []
        self.location: str | None = None
        self.delivered = False
        self.prompts: list[str] = []

    def open(self, url: str) -> bool:
        with httpx.Client(**LOOPBACK) as http:
            page = http.get(url)
            self.pages.append(page)
            if page.status_code != 302:
                return True  # an error page: the person sees it, nothing comes back
            location = page.headers["location"]
            if self.on_redirect is not None:
                location = self.on_redirect(location)
            self.location = location
            if self.deliver and location.startswith("http://127.0.0.1"):
                http.get(location)
                self.delivered = True
        return True

    def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.pages:
            self.open(next(line for line in reversed(self.said) if "oauth" in line))
        if self.delivered or self.location is None:
            return ""
        return self.location

    @property
    def code(self) -> str:
        assert self.location is not None
        return parse_qs(urlsplit(self.location).query)["code"][0]


@dataclasses.dataclass
class Attempt:
    """One login: what it returned or raised, and what was said and asked."""

    login: Login | None
    error: Exception | None
    said: list[str]
    person: Person
    chosen: list[tuple[str, list[str]]]


def log_in(
    fake: FakeFacebook,
    origin: str,
    tmp_path: Path,
    *,
    person: Person | None = None,
    said: list[str] | None = None,
    open_browser: bool = True,
    choose: int = 0,
    env: dict[str, str] | None = None,
    **settings: Any,
) -> Attempt:
    """Run the adapter's login against ``fake`` served at ``origin``."""
    said = said if said is not None else []
    person = person or Person(said)
    chosen: list[tuple[str, list[str]]] = []

    def pick(question: str, options: list[str]) -> int:
        chosen.append((question, options))
        return choose

    values: dict[str, Any] = {"api_base": origin, "app_id": fake.app_id}
    values.update(settings)
    config = FacebookSettings(**values)
    environ = {"CROSSPOST_FACEBOOK_APP_SECRET": APP_SECRET} if env is None else env
    credentials = Credentials("facebook", environ, tmp_path / "credentials.toml")

    async def go() -> Login:
        async with httpx.AsyncClient(**LOOPBACK) as client:
            session = LoginSession(
                client=client,
                platform="facebook",
                settings=config,
                credentials=credentials,
                open_browser=open_browser,
                say=said.append,
                ask=person.ask,
                choose=pick,
            )
            return await FacebookAdapter(config).login(session)

    with mock.patch.object(webbrowser, "open", person.open):
        try:
            return Attempt(run(go()), None, said, person, chosen)
        except Exception as exc:  # the test looks at it
            return Attempt(None, exc, said, person, chosen)


@contextmanager
def served(**kw: Any) -> Iterator[tuple[FakeFacebook, str, str]]:
    """A FakeFacebook on loopback with a registered loopback redirect: (fake, origin, uri)."""
    redirect = kw.pop("redirect", None) or loopback_redirect()
    kw.setdefault("app_secret", APP_SECRET)
    kw.setdefault("redirect_uris", (redirect,))
    fake = FakeFacebook(**kw)
    with serve(fake) as origin:
        yield fake, origin, redirect


def secrets_of(fake: FakeFacebook) -> list[str]:
    """Every secret the fake knows of: app secret, codes, user and Page tokens."""
    values = [APP_SECRET, fake.page_token, fake.user_token, *fake.login.users]
    values += list(fake.login.page_grants) + list(fake.login.server.codes)
    return values


def assert_no_secret(fake: FakeFacebook, *texts: str) -> None:
    for text in texts:
        for secret in secrets_of(fake):
            assert secret not in text, "a secret reached a message"


def calls(fake: FakeFacebook, path: str) -> list[httpx.Request]:
    return [r for r in fake.requests if r.url.path.endswith(path)]


# -- the login, end to end ----------------------------------------------------------


def test_login_end_to_end_gives_the_page_token_and_fills_in_page_id(tmp_path: Path) -> None:
    """Dialog → code → short token → long-lived token → /me/accounts: the Page's token
    (which does not expire), its name and id, page_id for the config."""
    with served() as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect)
    assert attempt.error is None and attempt.login is not None
    login = attempt.login
    assert login.secrets == {"page_token": fake.page_token}
    assert login.settings == {"page_id": fake.page_id}
    assert login.account == Account(
        "KPU Kabupaten Musi Rawas", fake.page_id, f"https://www.facebook.com/{fake.page_id}"
    )
    assert login.expires_at is None  # a Page token from a long-lived user token
    assert set(login.scopes) >= {"pages_show_list", "pages_read_engagement", "pages_manage_posts"}
    assert attempt.chosen == []  # one Page: nothing to choose
    [dialog] = calls(fake, "/dialog/oauth")
    query = dict(dialog.url.params)
    assert query["client_id"] == fake.app_id
    assert query["redirect_uri"] == redirect
    assert query["response_type"] == "code"
    assert query["scope"] == "pages_show_list,pages_read_engagement,pages_manage_posts"
    assert query["state"] and query["auth_type"] == "rerequest"
    exchange, longer = calls(fake, "/oauth/access_token")
    assert exchange.url.params["redirect_uri"] == redirect
    assert exchange.url.params["client_secret"] == APP_SECRET
    assert longer.url.params["grant_type"] == "fb_exchange_token"
    [accounts] = calls(fake, "/me/accounts")
    assert accounts.headers["authorization"].startswith("Bearer EAAL")  # the long-lived one
    assert "access_token" not in accounts.url.params  # a field name, never a parameter
    assert attempt.person.delivered  # the answer came to the loopback listener
    assert "KPU Kabupaten Musi Rawas" in attempt.said[-1]
    assert_no_secret(fake, *attempt.said)


def test_the_page_token_from_the_login_posts_and_still_works_after_sixty_days(
    tmp_path: Path,
) -> None:
    """The Page token outlives the long-lived user token (60 days): a post 61 days later."""
    now = [1_900_000_000.0]
    with served(clock=lambda: now[0]) as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect)
        assert attempt.login is not None
        token = attempt.login.secrets["page_token"]
        now[0] += 61 * 86400
        [user] = [t for t, u in fake.login.users.items() if u.long_lived]
        assert fake.is_expired(user)
        assert not fake.is_expired(token)

        async def post() -> str:
            async with httpx.AsyncClient(**LOOPBACK) as client:
                ctx = PublishContext(
                    client=client,
                    platform="facebook",
                    settings=FacebookSettings(api_base=origin, page_id=fake.page_id),
                    credentials=Credentials(
                        "facebook", {"CROSSPOST_FACEBOOK_PAGE_TOKEN": token}, tmp_path / "c"
                    ),
                )
                text = "Halo #TemanPemilih"
                published = await FacebookAdapter(ctx.settings).publish(
                    Post("facebook", Unit.CHARS, (Part(text, len(text), 63_206),)), ctx
                )
                return published.remote_id

        assert run(post()) == fake.posts[0]["id"]


def test_the_person_chooses_among_the_pages_they_may_post_to(tmp_path: Path) -> None:
    """Several Pages: ``choose`` offers those with CREATE_CONTENT, and the pick is used."""
    others = (
        FakePage("200000000000002", "Humas KPU Sumsel", "fb-page-token-sumsel"),
        FakePage("200000000000003", "Arsip (baca saja)", "fb-page-token-arsip", ("ANALYZE",)),
        FakePage("200000000000004", "PPK Muara Beliti", "fb-page-token-ppk", ADMIN_TASKS),
    )
    with served(other_pages=others) as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect, choose=2)
    assert attempt.login is not None
    [(question, options)] = attempt.chosen
    assert "Page" in question
    assert options == [
        f"KPU Kabupaten Musi Rawas ({fake.page_id})",
        "Humas KPU Sumsel (200000000000002)",
        "PPK Muara Beliti (200000000000004)",
    ]
    assert attempt.login.secrets == {"page_token": "fb-page-token-ppk"}
    assert attempt.login.settings == {"page_id": "200000000000004"}
    assert attempt.login.account.name == "PPK Muara Beliti"


def test_many_pages_are_read_page_by_page_without_the_token_in_a_url(tmp_path: Path) -> None:
    """130 Pages: /me/accounts is read in pages of 100 by its after cursor, never by the
    ``next`` link (which carries the token)."""
    others = tuple(
        FakePage(f"3000000000{n:05d}", f"Page {n}", f"fb-page-token-{n}") for n in range(129)
    )
    with served(other_pages=others) as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect, choose=129)
    assert attempt.login is not None
    [(_, options)] = attempt.chosen
    assert len(options) == 130
    assert attempt.login.settings == {"page_id": "300000000000128"}
    first, second = calls(fake, "/me/accounts")
    assert "after" not in first.url.params and second.url.params["after"]
    assert all("access_token" not in r.url.params for r in (first, second))


def test_a_configured_page_id_is_taken_without_asking(tmp_path: Path) -> None:
    """page_id already in the config: that Page, no question."""
    others = (FakePage("200000000000002", "Humas KPU Sumsel", "fb-page-token-sumsel"),)
    with served(other_pages=others) as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect, page_id="200000000000002")
    assert attempt.login is not None and attempt.chosen == []
    assert attempt.login.secrets == {"page_token": "fb-page-token-sumsel"}


def test_a_configured_page_id_the_person_does_not_manage_is_refused_naming_theirs(
    tmp_path: Path,
) -> None:
    """page_id names a Page this person cannot post to: an error listing the Pages they can."""
    with served() as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect, page_id="999")
    assert isinstance(attempt.error, OAuthError)
    message = str(attempt.error)
    assert "page_id 999" in message and fake.page_id in message
    assert_no_secret(fake, message)


def test_a_person_without_a_page_to_post_to_is_told_so(tmp_path: Path) -> None:
    """Only Pages without the Create content task: a clear error, nothing chosen."""
    with served() as (fake, origin, redirect):
        fake.login.pages[0].tasks = ("ANALYZE", "MODERATE")
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect)
    assert isinstance(attempt.error, OAuthError)
    assert "Create content" in str(attempt.error) and attempt.chosen == []


def test_unticked_permissions_are_refused_with_the_login_command(tmp_path: Path) -> None:
    """The person unticked pages_manage_posts in the dialog: /me/permissions shows it
    declined, and the login stops saying to log in again and allow it."""
    with served() as (fake, origin, redirect):
        fake.login.declined = {"pages_manage_posts"}
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect)
    assert isinstance(attempt.error, OAuthError)
    message = str(attempt.error)
    assert "pages_manage_posts" in message and "crosspost auth login facebook" in message
    assert not calls(fake, "/me/accounts")


def test_video_upload_app_keeps_the_user_token_with_its_sixty_day_expiry(
    tmp_path: Path,
) -> None:
    """``video_upload = "app"``: the long-lived user token is stored too, with its expiry."""
    with served() as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect, video_upload="app")
    assert attempt.login is not None
    [user] = [t for t, u in fake.login.users.items() if u.long_lived]
    assert attempt.login.secrets == {"page_token": fake.page_token, "user_token": user}
    expires = attempt.login.expires_at
    assert expires is not None
    assert timedelta(days=59) < expires - datetime.now(UTC) < timedelta(days=61)


# -- the redirect: pasted back, or refused -------------------------------------------------


def test_default_https_redirect_is_pasted_back(tmp_path: Path) -> None:
    """The default redirect (https://localhost:8765/callback, registered with the app) is
    not listened on: the person pastes the address the browser ended on."""
    with served(redirect="https://localhost:8765/callback") as (fake, origin, _):
        attempt = log_in(fake, origin, tmp_path)
    assert attempt.login is not None, attempt.error
    [dialog] = calls(fake, "/dialog/oauth")
    assert dialog.url.params["redirect_uri"] == "https://localhost:8765/callback"
    assert attempt.person.location is not None
    assert attempt.person.location.endswith("#_=_")  # Facebook's fragment, ignored
    assert attempt.person.prompts and not attempt.person.delivered
    assert any("copy that whole address" in line for line in attempt.said)


def test_no_browser_prints_the_address_and_takes_the_pasted_answer(tmp_path: Path) -> None:
    """--no-browser on a loopback redirect: the address is printed, the person opens it
    elsewhere and pastes where the browser went."""
    with served() as (fake, origin, redirect):
        said: list[str] = []
        person = Person(said, deliver=False)
        attempt = log_in(
            fake, origin, tmp_path, person=person, said=said, open_browser=False,
            redirect_uri=redirect,
        )  # fmt: skip
    assert attempt.login is not None, attempt.error
    assert any(line.startswith(origin) and "dialog/oauth" in line for line in said)
    assert person.prompts


def test_a_redirect_uri_the_app_does_not_list_is_refused_by_facebook(tmp_path: Path) -> None:
    """Strict mode: an unregistered redirect gets Facebook's error page, never a redirect;
    crosspost gives up after its wait, naming the address and --no-browser."""
    with served() as (fake, origin, _), mock.patch.object(_graph, "LOGIN_TIMEOUT", 0.3):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=loopback_redirect())
    [page] = attempt.person.pages
    assert page.status_code == 400 and "redirect_uri" in page.text
    assert isinstance(attempt.error, OAuthError)
    assert "--no-browser" in str(attempt.error)
    assert not calls(fake, "/oauth/access_token")


def test_a_forged_state_is_refused_before_any_token_request(tmp_path: Path) -> None:
    """The answer carries another login's state: refused, the code never exchanged."""

    def forge(location: str) -> str:
        return location.replace("state=", "state=forged")

    with served() as (fake, origin, redirect):
        said: list[str] = []
        attempt = log_in(
            fake, origin, tmp_path, person=Person(said, on_redirect=forge), said=said,
            redirect_uri=redirect,
        )  # fmt: skip
    assert isinstance(attempt.error, OAuthError)
    assert "state mismatch" in str(attempt.error)
    assert not calls(fake, "/oauth/access_token")


def test_a_reused_code_is_refused_as_single_use(tmp_path: Path) -> None:
    """A second login handed the first login's code: Facebook refuses it, and says so."""
    with served() as (fake, origin, redirect):
        first = log_in(fake, origin, tmp_path, redirect_uri=redirect)
        assert first.login is not None
        old = first.person.code

        def replay(location: str) -> str:
            new = parse_qs(urlsplit(location).query)["code"][0]
            return location.replace(new, old)

        said: list[str] = []
        second = log_in(
            fake, origin, tmp_path, person=Person(said, on_redirect=replay), said=said,
            redirect_uri=redirect,
        )  # fmt: skip
    assert isinstance(second.error, OAuthError)
    message = str(second.error)
    assert "single-use" in message and "crosspost auth login facebook" in message
    assert old not in message
    assert_no_secret(fake, message, *said)


def test_a_wrong_app_secret_is_refused_naming_the_credentials(tmp_path: Path) -> None:
    """The app secret does not match: refused at the code exchange, naming what to check."""
    with served() as (fake, origin, redirect):
        attempt = log_in(
            fake,
            origin,
            tmp_path,
            env={"CROSSPOST_FACEBOOK_APP_SECRET": "canary-wrong-secret-93ab"},
            redirect_uri=redirect,
        )
    assert isinstance(attempt.error, OAuthError)
    message = str(attempt.error)
    assert "docs/platforms/facebook.md" in message
    assert "canary-wrong-secret-93ab" not in message


def test_missing_app_credentials_say_what_to_set_before_any_request(tmp_path: Path) -> None:
    """No app_id and no app secret: one CredentialsError naming both and the console."""
    with served() as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, env={}, app_id=None, redirect_uri=redirect)
    assert isinstance(attempt.error, CredentialsError)
    message = str(attempt.error)
    assert "app_id in [platforms.facebook]" in message
    assert "CROSSPOST_FACEBOOK_APP_SECRET" in message
    assert "https://developers.facebook.com/apps/" in message
    assert fake.requests == []


# -- identity, diagnose, renew ----------------------------------------------------------


def context(
    fake: FakeFacebook,
    client: httpx.AsyncClient,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    **settings: Any,
) -> PublishContext:
    values: dict[str, Any] = {
        "api_base": "http://testserver",
        "page_id": fake.page_id,
        "app_id": fake.app_id,
    }
    values.update(settings)
    environ = (
        {
            "CROSSPOST_FACEBOOK_PAGE_TOKEN": fake.page_token,
            "CROSSPOST_FACEBOOK_APP_SECRET": APP_SECRET,
        }
        if env is None
        else env
    )
    return PublishContext(
        client=client,
        platform="facebook",
        settings=FacebookSettings(**values),
        credentials=Credentials("facebook", environ, tmp_path / "credentials.toml"),
        poll_interval=0,
    )


def diagnose(
    fake: FakeFacebook, tmp_path: Path, post: Post | None = None, **kw: Any
) -> list[Finding]:
    async def go() -> list[Finding]:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, tmp_path, **kw)
            return await FacebookAdapter(ctx.settings).diagnose(ctx, post)

    return run(go())


def levels(findings: list[Finding]) -> list[str]:
    return [f.level for f in findings]


def test_identity_is_the_page_the_token_posts_as(tmp_path: Path) -> None:
    """GET /me with the Page token is the Page: its name and id."""
    fake = FakeFacebook(app_secret=APP_SECRET)

    async def go() -> Account:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, tmp_path)
            return await FacebookAdapter(ctx.settings).identity(ctx)

    account = run(go())
    assert account == Account(
        "KPU Kabupaten Musi Rawas", fake.page_id, f"https://www.facebook.com/{fake.page_id}"
    )
    [me] = calls(fake, "/me")
    assert me.url.params["fields"] == "id,name"
    assert me.headers["authorization"] == f"Bearer {fake.page_token}"


def test_diagnose_all_green_reports_the_page_and_what_the_token_may_do(tmp_path: Path) -> None:
    """The Page matches page_id; debug_token (asked with the app token) shows the posting
    permissions and no expiry."""
    fake = FakeFacebook(app_secret=APP_SECRET)
    findings = diagnose(fake, tmp_path)
    assert levels(findings) == ["ok", "ok"]
    assert "KPU Kabupaten Musi Rawas" in findings[0].message
    assert "pages_manage_posts" in findings[1].message
    assert "does not expire" in findings[1].message
    [debug] = calls(fake, "/debug_token")
    assert debug.headers["authorization"] == f"Bearer {fake.app_id}|{APP_SECRET}"
    assert_no_secret(fake, *(f.message for f in findings))


def test_diagnose_fails_when_the_token_belongs_to_another_page(tmp_path: Path) -> None:
    """page_id names another Page than the token's: a failure naming both."""
    findings = diagnose(FakeFacebook(app_secret=APP_SECRET), tmp_path, page_id="123")
    assert findings[0].level == "fail"
    assert "123" in findings[0].message and "crosspost auth login facebook" in findings[0].message


def test_diagnose_fails_when_the_token_lacks_a_posting_permission(tmp_path: Path) -> None:
    """debug_token shows pages_manage_posts missing: a failure saying to log in again."""
    fake = FakeFacebook(app_secret=APP_SECRET)
    page = fake.login.pages[0]
    fake.login.page_grants[fake.page_token] = (page, ("pages_show_list",))
    findings = diagnose(fake, tmp_path)
    assert findings[1].level == "fail"
    assert "pages_manage_posts" in findings[1].message


def test_diagnose_without_the_app_secret_warns_that_permissions_were_not_checked(
    tmp_path: Path,
) -> None:
    """No app secret: the Page still answers, and doctor says what it could not check."""
    fake = FakeFacebook(app_secret=APP_SECRET)
    findings = diagnose(fake, tmp_path, env={"CROSSPOST_FACEBOOK_PAGE_TOKEN": fake.page_token})
    assert levels(findings) == ["ok", "warn"]
    assert "CROSSPOST_FACEBOOK_APP_SECRET" in findings[1].message
    assert not calls(fake, "/debug_token")


def test_diagnose_with_a_refused_token_fails_without_showing_it(tmp_path: Path) -> None:
    """An expired Page token: one failure, the token never shown."""
    fake = FakeFacebook(app_secret=APP_SECRET)
    fake.expire(fake.page_token)
    [finding] = diagnose(fake, tmp_path)
    assert finding.level == "fail" and "refused" in finding.message
    assert_no_secret(fake, finding.message)


def user_token_file(tmp_path: Path, fake: FakeFacebook, expires: datetime) -> dict[str, str]:
    """A credentials file with the user token of ``video_upload = "app"`` (the Page token
    and app secret in it too); returns the (empty) environment, so the file is read."""
    file = tmp_path / "credentials.toml"
    file.write_text(
        f'[facebook]\npage_token = "{fake.page_token}"\nuser_token = "{fake.user_token}"\n'
        f'app_secret = "{APP_SECRET}"\n'
        f"expires_at = {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
    )
    file.chmod(0o600)
    return {}


def video_post(tmp_path: Path) -> Post:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    text = "Halo"
    return Post(
        "facebook",
        Unit.CHARS,
        (Part(text, 4, 63_206),),
        media=(MediaFile("clip.mp4", "video", "video/mp4", path=path, size=118),),
    )


def test_diagnose_warns_days_ahead_of_the_user_tokens_expiry(tmp_path: Path) -> None:
    """``video_upload = "app"`` and the user token runs out in 3 days: a warning with the
    date and the login command (Facebook cannot renew it)."""
    fake = FakeFacebook(app_secret=APP_SECRET)
    env = user_token_file(tmp_path, fake, datetime.now(UTC) + timedelta(days=3, hours=1))
    findings = diagnose(fake, tmp_path, video_post(tmp_path), env=env, video_upload="app")
    assert levels(findings) == ["ok", "ok", "warn"]
    assert "in 3 days" in findings[2].message
    assert "crosspost auth login facebook" in findings[2].message


def test_diagnose_fails_a_video_post_whose_user_token_expired(tmp_path: Path) -> None:
    """The user token expired and tonight's post is a video: a failure."""
    fake = FakeFacebook(app_secret=APP_SECRET)
    env = user_token_file(tmp_path, fake, datetime.now(UTC) - timedelta(days=1))
    findings = diagnose(fake, tmp_path, video_post(tmp_path), env=env, video_upload="app")
    assert findings[-1].level == "fail" and "expired on" in findings[-1].message


def test_diagnose_ignores_the_user_token_for_page_uploads(tmp_path: Path) -> None:
    """With the default ``video_upload = "page"`` an expired user token does not matter."""
    fake = FakeFacebook(app_secret=APP_SECRET)
    env = user_token_file(tmp_path, fake, datetime.now(UTC) - timedelta(days=1))
    assert levels(diagnose(fake, tmp_path, video_post(tmp_path), env=env)) == ["ok", "ok"]


def test_renew_has_nothing_to_do_and_asks_nothing(tmp_path: Path) -> None:
    """Facebook has no refresh grant and the Page token does not expire: renew is a no-op."""
    fake = FakeFacebook(app_secret=APP_SECRET)
    env = user_token_file(tmp_path, fake, datetime.now(UTC) - timedelta(days=1))

    async def go() -> None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, tmp_path, env=env, video_upload="app")
            await FacebookAdapter(ctx.settings).renew(ctx, 3600)

    run(go())
    assert fake.requests == []


def test_errors_while_logging_in_never_carry_a_token(tmp_path: Path) -> None:
    """The long-lived exchange refused (expired short token): the message has no token."""
    now = [1_900_000_000.0]
    with served(clock=lambda: now[0]) as (fake, origin, redirect):
        original = fake.login._token

        def slow(request: httpx.Request, version: str) -> httpx.Response:
            if request.url.params.get("grant_type") == "fb_exchange_token":
                now[0] += 3 * 3600  # the short-lived token ran out meanwhile
            return original(request, version)

        with mock.patch.object(fake.login, "_token", slow):
            attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect)
    assert isinstance(attempt.error, AuthError)
    assert "Session has expired" in str(attempt.error)
    assert_no_secret(fake, str(attempt.error), *attempt.said)


def test_a_loopback_redirect_without_a_port_takes_a_free_one(tmp_path: Path) -> None:
    """``redirect_uri = "http://127.0.0.1/callback"``: the listener's free port goes into
    the redirect URI (for an app that accepts any loopback port)."""
    with served(redirect="http://127.0.0.1:*/callback") as (fake, origin, _):
        attempt = log_in(fake, origin, tmp_path, redirect_uri="http://127.0.0.1/callback")
    assert attempt.login is not None, attempt.error
    [dialog] = calls(fake, "/dialog/oauth")
    sent = urlsplit(dialog.url.params["redirect_uri"])
    assert sent.hostname == "127.0.0.1" and sent.port and sent.path == "/callback"
    assert attempt.person.delivered


def test_no_page_chosen_stops_the_login(tmp_path: Path) -> None:
    """The person picks nothing (out of range): the login stops, saying to start again."""
    others = (FakePage("200000000000002", "Humas KPU Sumsel", "fb-page-token-sumsel"),)
    with served(other_pages=others) as (fake, origin, redirect):
        attempt = log_in(fake, origin, tmp_path, redirect_uri=redirect, choose=-1)
    assert isinstance(attempt.error, OAuthError)
    assert "nothing was chosen" in str(attempt.error)
