"""What Facebook Pages and Instagram share: Meta's Graph API URLs, auth and error object.

Both platforms answer errors with the Graph error object (docs/platforms/facebook.md,
§3.5; developers.facebook.com/docs/graph-api/guides/error-handling)::

    {"error": {"message": "...", "type": "OAuthException", "code": 190,
               "error_subcode": 460, "error_user_title": "...", "error_user_msg": "...",
               "is_transient": false, "fbtrace_id": "..."}}

``classifier`` turns that object into crosspost's error tree. The codes common to
every Graph API are mapped here; each platform passes a ``specific`` function for
its own codes (duplicate posts, Instagram's media errors), which is asked first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx

from crosspost import oauth as flow
from crosspost import redaction
from crosspost.api import Api, Classifier, excerpt, json_body, rebase, retry_after
from crosspost.credentials import Credentials, env_name
from crosspost.errors import (
    AuthError,
    CredentialsError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
)
from crosspost.oauth import POLL, LoopbackReceiver, OAuthApp, OAuthError, TokenSet
from crosspost.redaction import redact

if TYPE_CHECKING:
    from crosspost.adapter import Finding, LoginSession

GRAPH = "https://graph.facebook.com"
#: Facebook's video publishing endpoint lives on its own host (docs/platforms/facebook.md).
GRAPH_VIDEO = "https://graph-video.facebook.com"
#: The Instagram API with Instagram Login (docs/platforms/instagram.md).
GRAPH_INSTAGRAM = "https://graph.instagram.com"

#: Error codes of the Graph error-handling guide (docs/platforms/facebook.md).
AUTH_CODES = frozenset({102, 190})
#: 458 app not installed, 459 checkpoint, 460 password changed, 463 expired,
#: 464 unconfirmed user, 467 invalid token (and the rest of that range).
AUTH_SUBCODES = frozenset(range(458, 468))
#: 10 permission denied, 200-299 permission errors: the token lacks a permission.
PERMISSION_CODES = frozenset({10, *range(200, 300)})
#: 4 app, 17 user, 32 Page-level, 613 custom, 80001 Pages BUC throttling; 341 app limit.
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001})
#: 1 unknown and 2 service errors: "retry" says the guide.
TRANSIENT_CODES = frozenset({1, 2})
#: Texts of revoked or invalid tokens seen in production (postiz handleErrors).
AUTH_TEXTS = (
    "REVOKED_ACCESS_TOKEN",
    "Error validating access token",
    "session has been invalidated",
)


@dataclass(frozen=True, slots=True)
class GraphError:
    """The fields of a Graph error object that decide what went wrong."""

    code: int | None
    subcode: int | None
    message: str
    type: str
    user_title: str
    user_msg: str
    is_transient: bool

    @property
    def text(self) -> str:
        """What Meta says went wrong, in the words meant for people when there are some."""
        return self.user_msg or self.message or self.user_title

    @property
    def codes(self) -> str:
        """``code 190, subcode 463``: for a support request."""
        if self.subcode is not None:
            return f"code {self.code}, subcode {self.subcode}"
        return f"code {self.code}"


def graph_url(host: str, version: str, *path: str) -> str:
    """``https://graph.facebook.com/v25.0/<path...>``, each segment quoted.

    Only for ids crosspost knows (Pages, accounts, containers); an upload session
    id Meta hands out goes through ``session_url`` instead.
    """
    segments = [quote(str(p), safe=":") for p in path]
    return "/".join([host.rstrip("/"), version, *segments])


def session_url(host: str, version: str, session: str) -> str:
    """The address of a Resumable Upload API session, its id used exactly as returned.

    Meta answers ``{"id": "upload:<base64, often = padded>?sig=<signature>"}``; the
    ``?sig=`` part is the URL's query string, and percent-encoding the id into the
    path loses it ("HMAC check failed"). Nothing is quoted; an id that could not
    be part of a URL as it is (spaces, a fragment, another host) is refused.
    """
    if (
        not session.startswith("upload:")
        or any(c in session for c in " \t\r\n#")
        or ("//" in session)
    ):
        raise TransientError(
            "facebook", "Facebook opened an upload session with an id crosspost cannot use"
        )
    return f"{host.rstrip('/')}/{version}/{session}"


def bearer(token: str) -> dict[str, str]:
    """The auth header for Graph calls: the token never goes into a URL."""
    return {"Authorization": f"Bearer {token}"}


def oauth(token: str) -> dict[str, str]:
    """The auth header the upload endpoints document: ``Authorization: OAuth <token>``."""
    return {"Authorization": f"OAuth {token}"}


def parse_error(response: httpx.Response) -> GraphError | None:
    """The Graph error object of a response (its texts redacted), or None when it has none."""
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    # Redacted here, once: Meta's messages may echo a request (and its token).
    return GraphError(
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        message=redact(str(error.get("message") or "")),
        type=str(error.get("type") or ""),
        user_title=redact(str(error.get("error_user_title") or "")),
        user_msg=redact(str(error.get("error_user_msg") or "")),
        is_transient=error.get("is_transient") is True,
    )


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def wait_hint(response: httpx.Response) -> float | None:
    """Seconds Meta asked us to wait: ``Retry-After``, else the usage headers' estimate.

    ``X-Business-Use-Case-Usage`` maps ids to lists of usage objects whose
    ``estimated_time_to_regain_access`` is in minutes (docs/platforms/facebook.md).
    """
    seconds = retry_after(response)
    if seconds is not None:
        return seconds
    raw = response.headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = [
        item.get("estimated_time_to_regain_access")
        for items in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(items, list)
        for item in items
        if isinstance(item, dict)
    ]
    waits = [float(m) for m in minutes if isinstance(m, int | float) and m > 0]
    return max(waits) * 60.0 if waits else None


Specific = Callable[[GraphError, httpx.Response], PlatformError | None]


def classifier(
    platform: str, display: str, reconnect: str, specific: Specific | None = None
) -> Classifier:
    """A classifier for one platform on the Graph API.

    ``display`` names the platform in messages ("Facebook"); ``reconnect`` says
    what to do about a refused token ("get a new Page access token and set ...").
    """

    def classify(response: httpx.Response) -> PlatformError:
        return _classify(response, platform, display, reconnect, specific)

    return classify


def _classify(
    response: httpx.Response,
    platform: str,
    display: str,
    reconnect: str,
    specific: Specific | None,
) -> PlatformError:
    status = response.status_code
    error = parse_error(response)
    if error is None:
        return _by_status(response, platform, display, reconnect)
    if specific is not None:
        found = specific(error, response)
        if found is not None:
            return found

    def say(text: str) -> str:
        return redact(text)

    if (
        error.code in AUTH_CODES
        or error.subcode in AUTH_SUBCODES
        or any(t.lower() in error.message.lower() for t in AUTH_TEXTS)
    ):
        return AuthError(
            platform,
            say(f"{display} refused the access token ({error.text}; {error.codes}): {reconnect}"),
            status=status,
        )
    if error.code in PERMISSION_CODES:
        return AuthError(
            platform,
            say(
                f"{display} says the token lacks a permission ({error.text}; {error.codes}): "
                f"{reconnect}, granting every permission crosspost asks for"
            ),
            status=status,
        )
    if error.code in THROTTLE_CODES or status == 429:
        return RateLimitedError(
            platform,
            say(
                f"{display} is limiting how often we may call it ({error.text}; {error.codes}): "
                "wait a while and publish again"
            ),
            status=status,
            retry_after=wait_hint(response),
        )
    if error.code in TRANSIENT_CODES or error.is_transient or status >= 500:
        return TransientError(
            platform,
            say(f"{display} had a temporary problem ({error.text}; {error.codes}): try again"),
            status=status,
        )
    if error.code == 100 and error.subcode == 33:
        # "Object with ID '...' does not exist, cannot be loaded due to missing
        # permissions, or does not support this operation": a wrong id in config
        # or a token for another account.
        return AuthError(
            platform,
            say(
                f"{display} cannot reach this account ({error.text}; {error.codes}): check the "
                f"account id in [platforms.{platform}] of the config, and that the token "
                "belongs to that account"
            ),
            status=status,
        )
    return InvalidContentError(
        platform, say(f"{display} refused the post: {error.text} ({error.codes})"), status=status
    )


def _by_status(
    response: httpx.Response, platform: str, display: str, reconnect: str
) -> PlatformError:
    """An answer without a Graph error object (a proxy, a load balancer, an upload host)."""
    status = response.status_code
    text = excerpt(response) or f"HTTP {status}"
    if status in (401, 403):
        return AuthError(
            platform,
            redact(f"{display} refused the access token ({text}): {reconnect}"),
            status=status,
        )
    if status == 429:
        return RateLimitedError(
            platform,
            redact(f"{display} is limiting how often we may call it ({text}): publish again later"),
            status=status,
            retry_after=wait_hint(response),
        )
    if status >= 500 or status == 408:
        return TransientError(
            platform,
            redact(f"{display} had a temporary problem (HTTP {status}: {text})"),
            status=status,
        )
    return InvalidContentError(
        platform, redact(f"{display} refused the request (HTTP {status}: {text})"), status=status
    )


# -- logging in through Meta ---------------------------------------------------------
#
# Facebook and Instagram (with Facebook Login) share the Facebook Login dialog, the
# code exchange, the long-lived user token and the list of Pages the person manages;
# Instagram Login shares the way the browser's answer comes back. The platforms'
# own steps live in _facebook_api.py and _instagram_api.py; what they rely on is in
# docs/platforms/facebook.md and docs/platforms/instagram.md.

#: The Facebook Login dialog's host (manual flow,
#: developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow).
FACEBOOK_WWW = "https://www.facebook.com"
#: Seconds crosspost waits for the browser to come back to a loopback listener.
LOGIN_TIMEOUT = 300.0
#: How many pages of ``/me/accounts`` are read at most (100 Pages each).
ACCOUNT_PAGES = 10
#: Graph's words and codes for a refused app id or secret at the token endpoint.
APP_REFUSED = re.compile(
    r"client secret|client authentication|validating application|; code (1|101)[,)]", re.I
)
#: Where Meta's apps are managed: App ID and App Secret under App settings → Basic.
META_CONSOLE = "https://developers.facebook.com/apps/"


@dataclass(frozen=True, slots=True)
class ManagedPage:
    """A Page the person manages, as ``/me/accounts`` lists it; ``repr`` hides its token."""

    id: str
    name: str
    token: str = field(repr=False)
    #: What the person may do on the Page (CREATE_CONTENT, MANAGE, ...).
    tasks: tuple[str, ...] = ()
    #: The Instagram professional account linked to the Page, if any.
    instagram_id: str | None = None
    instagram_username: str | None = None

    @property
    def label(self) -> str:
        """How the Page is offered in a choice: its name and id."""
        return f"{self.name} ({self.id})"


def rebased(url: str, api_base: str | None) -> str:
    """A Meta URL pointed at ``api_base`` when one is configured (tests, proxies)."""
    return rebase(url, api_base)


def app_credentials(
    credentials: Credentials, platform: str, app_id: str | None, what: str
) -> tuple[str, str]:
    """The Meta app's id (from the config) and secret (a credential), or a
    ``CredentialsError`` saying which are missing and where Meta shows them.

    ``what`` names the app ("your Meta app", "your app's Instagram login").
    """
    secret = credentials.get("app_secret")
    missing = []
    if not app_id:
        missing.append(f"app_id in [platforms.{platform}] of the config")
    if not secret:
        missing.append(
            f"the app secret: {env_name(platform, 'app_secret')} in the environment, or "
            f"app_secret under [{platform}] in {credentials.store.path} (mode 0600)"
        )
    if missing:
        raise CredentialsError(
            f"{platform}: crosspost auth login {platform} needs {what}'s "
            + " and ".join(missing)
            + f"; both are in the app's dashboard at {META_CONSOLE} (see "
            f"docs/platforms/{platform}.md)"
        )
    assert app_id is not None and secret is not None
    return app_id, redaction.register(secret)


def facebook_app(
    platform: str, version: str, scopes: tuple[str, ...], api_base: str | None
) -> OAuthApp:
    """Facebook Login as an ``OAuthApp``: the dialog, the GET code exchange, comma scopes.

    ``auth_type=rerequest`` asks again for permissions the person declined before
    (developers.facebook.com/docs/facebook-login/guides/permissions/request-revoke).
    """
    return OAuthApp(
        platform=platform,
        display_name="Facebook" if platform == "facebook" else "Instagram (Facebook Login)",
        authorize_url=rebased(f"{FACEBOOK_WWW}/{version}/dialog/oauth", api_base),
        token_url=rebased(f"{GRAPH}/{version}/oauth/access_token", api_base),
        scopes=scopes,
        scope_separator=",",
        pkce=None,
        token_method="GET",
        extra_authorize={"auth_type": "rerequest"},
    )


async def authorize(
    session: LoginSession, app: OAuthApp, client_id: str, redirect_uri: str
) -> tuple[str, str]:
    """Send the person to ``app``'s consent page; the authorization code and the redirect URI.

    Meta needs the exact registered ``redirect_uri`` (see ``facebook.DEFAULT_REDIRECT``), which
    ``oauth.login``'s listener on a free port cannot give. So: an http loopback
    address is listened on (its port and path as given); any other address is
    where the browser ends up, and the person pastes that address back. A plain
    Enter at the paste prompt takes what a loopback listener received.
    """
    state = flow.new_state()
    target = urlsplit(redirect_uri)
    listen = target.scheme == "http" and target.hostname in ("127.0.0.1", "localhost", "::1")
    with contextlib.ExitStack() as stack:
        receiver = None
        if listen:
            receiver = stack.enter_context(LoopbackReceiver(target.path or "/", target.port))
            if target.port is None:  # no port given: the free one the listener took
                redirect_uri = receiver.redirect_uri
        url = flow.authorize_url(app, client_id, redirect_uri, state, None)
        opened = False
        if session.open_browser:
            session.say(
                f"Opening your browser to log in to {app.name}. If it does not open, visit:"
            )
            session.say(url)
            opened = bool(webbrowser.open(url))
        else:
            session.say(
                f"Open this address in a browser, log in to {app.name} and allow crosspost:"
            )
            session.say(url)
        if receiver is not None and opened:
            params = await _wait(receiver, app)
        else:
            if receiver is None:
                session.say(
                    f"The browser then goes to {redirect_uri}?code=… and shows an error page "
                    "(nothing listens there): copy that whole address from the address bar."
                )
            else:
                session.say(
                    f"The browser then goes to {redirect_uri}?code=…; on another machine it shows "
                    "an error page: copy that whole address."
                )
            text = session.ask(
                "Paste the address here: "
                if receiver is None
                else "Paste the address here (or press Enter if the page said to close it): "
            )
            if not text.strip() and receiver is not None and receiver.poll() is not None:
                params = receiver.poll() or {}
            else:
                try:
                    params = flow.parse_redirect(text)
                except OAuthError as exc:
                    raise OAuthError(app.platform, exc.message, error=exc.error) from None
    code = flow.check_callback(params, state, platform=app.platform)
    return code, redirect_uri


async def _wait(receiver: LoopbackReceiver, app: OAuthApp) -> dict[str, str]:
    """The loopback listener's answer, without blocking the event loop."""
    deadline = time.monotonic() + LOGIN_TIMEOUT
    while (answer := receiver.poll()) is None:
        if time.monotonic() >= deadline:
            raise OAuthError(
                app.platform,
                f"no answer from {app.name} reached {receiver.redirect_uri} within "
                f"{LOGIN_TIMEOUT:g} s: run {app.login_command} again (with --no-browser to "
                "paste the address instead)",
                error="timeout",
            )
        await asyncio.sleep(POLL)
    return answer


async def facebook_user_token(
    session: LoginSession, app: OAuthApp, app_id: str, app_secret: str, redirect_uri: str
) -> TokenSet:
    """Facebook Login to the end: the dialog, the code exchanged for a short-lived user
    token, and that token exchanged for a long-lived one (about 60 days).

    ``GET /oauth/access_token`` with ``grant_type=fb_exchange_token``
    (developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived).
    Page tokens read with the long-lived token do not expire.
    """
    code, redirect = await authorize(session, app, app_id, redirect_uri)
    try:
        short = await flow.exchange_code(
            session.client, app, app_id, app_secret, code, redirect, None
        )
    except OAuthError as exc:
        # Graph answers a wrong app id or secret as an OAuthException (code 1 "Error
        # validating client secret", 101 "Error validating application"), not as
        # RFC 6749's invalid_client: say which credentials to check.
        if exc.status == 401 or APP_REFUSED.search(exc.message):
            raise OAuthError(
                app.platform,
                f"Facebook refused the app's credentials ({exc.message}): check app_id in "
                f"[platforms.{app.platform}] and the app secret "
                f"({env_name(app.platform, 'app_secret')}); see "
                f"docs/platforms/{app.platform}.md",
                status=exc.status,
                error="invalid_client",
            ) from None
        raise
    return await flow.token_request(
        session.client,
        app,
        {"grant_type": "fb_exchange_token", "fb_exchange_token": short.access_token},
        client_id=app_id,
        client_secret=app_secret,
    )


@dataclass(frozen=True, slots=True)
class Reader:
    """Read-only Graph calls during a login: the client, the platform, its classifier."""

    client: httpx.AsyncClient
    platform: str
    classify: Classifier

    async def get(
        self, url: str, token: str, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """One GET with the token in the header; its JSON object.

        A refusal is the classifier's error; a network fault a ``TransientError``.
        """
        try:
            response = await self.client.get(url, params=params, headers=bearer(token))
        except httpx.HTTPError as exc:
            raise TransientError(
                self.platform,
                redact(f"could not reach {url} ({type(exc).__name__}): try again"),
            ) from None
        if response.status_code != 200:
            raise self.classify(response)
        body = json_body(response)
        return body if isinstance(body, dict) else {}


async def permissions(reader: Reader, base: str, token: str) -> tuple[set[str], set[str]]:
    """``(granted, declined)`` permissions of a user token: ``GET /me/permissions``
    (developers.facebook.com/docs/graph-api/reference/user/permissions/)."""
    body = await reader.get(f"{base}/me/permissions", token)
    granted: set[str] = set()
    declined: set[str] = set()
    for item in body.get("data") or []:
        if isinstance(item, dict) and isinstance(item.get("permission"), str):
            (granted if item.get("status") == "granted" else declined).add(item["permission"])
    return granted, declined


async def managed_pages(reader: Reader, base: str, token: str, fields: str) -> list[ManagedPage]:
    """Every Page the person manages: ``GET /me/accounts`` with ``fields``, following the
    ``after`` cursor (the ``next`` link carries the token, so it is not followed as is).

    developers.facebook.com/docs/pages-api/getting-started
    """
    pages: list[ManagedPage] = []
    params = {"fields": fields, "limit": "100"}
    for _ in range(ACCOUNT_PAGES):
        body = await reader.get(f"{base}/me/accounts", token, params)
        for item in body.get("data") or []:
            page = _page(item)
            if page is not None:
                pages.append(page)
        paging = body.get("paging")
        after = None
        if isinstance(paging, dict) and paging.get("next"):
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
        if not isinstance(after, str) or not after:
            break
        params = {**params, "after": after}
    return pages


def _page(item: object) -> ManagedPage | None:
    if not isinstance(item, dict):
        return None
    page_id, name, token = item.get("id"), item.get("name"), item.get("access_token")
    if not isinstance(page_id, str) or not isinstance(token, str) or not token:
        return None
    redaction.register(token)
    tasks = item.get("tasks")
    linked = item.get("instagram_business_account")
    ig_id = ig_name = None
    if isinstance(linked, dict):
        ig_id = str(linked["id"]) if linked.get("id") else None
        ig_name = str(linked["username"]) if linked.get("username") else None
    return ManagedPage(
        id=page_id,
        name=str(name or page_id),
        token=token,
        tasks=tuple(str(t) for t in tasks) if isinstance(tasks, list) else (),
        instagram_id=ig_id,
        instagram_username=ig_name,
    )


def choose_page(
    session: LoginSession,
    pages: list[ManagedPage],
    wanted: str | None,
    question: str,
    label: Callable[[ManagedPage], str] | None = None,
    matches: Callable[[ManagedPage, str], bool] | None = None,
) -> ManagedPage | None:
    """The Page to use: the one ``wanted`` names (None if it is not among ``pages``), the
    only one, or the person's choice (an ``OAuthError`` when none was chosen)."""
    if wanted:
        test = matches or (lambda page, value: page.id == value)
        return next((p for p in pages if test(p, wanted)), None)
    if len(pages) == 1:
        return pages[0]
    index = session.choose(question, [(label or (lambda p: p.label))(p) for p in pages])
    if not 0 <= index < len(pages):
        raise OAuthError(
            session.platform,
            f"nothing was chosen: run crosspost auth login {session.platform} again",
            error="no_choice",
        )
    return pages[index]


async def debug_token(
    api: Api, base: str, token: str, app_id: str, app_secret: str
) -> dict[str, Any]:
    """What Meta knows of ``token``: ``GET /debug_token`` asked with the app's token
    (``app_id|app_secret``, in the header), the inspected token as ``input_token``, as the
    endpoint requires (developers.facebook.com/docs/graph-api/reference/debug_token)."""
    app_token = redaction.register(f"{app_id}|{app_secret}")
    response = await api.call(
        "GET", f"{base}/debug_token", params={"input_token": token}, headers=bearer(app_token)
    )
    body = json_body(response)
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


async def granted(
    api: Api,
    base: str,
    token: str,
    credentials: Credentials,
    app_id: str | None,
    needed: tuple[str, ...],
    *,
    what: str,
    platform: str,
    use: str,
) -> Finding | dict[str, Any]:
    """``doctor``'s permission check of a Meta token: ``debug_token``'s data when the
    token is valid and holds every permission in ``needed``, else the finding to show
    (a warning when it cannot be asked, a failure when a permission is missing).

    ``what`` names the token ("the Page token"), ``use`` what it is for ("posting").
    """
    from crosspost.adapter import Finding

    secret = credentials.get("app_secret")
    if not app_id or not secret:
        return Finding(
            "warn",
            f"{what}'s permissions were not checked: doctor asks Facebook (debug_token) with "
            f"the app's credentials; set app_id in [platforms.{platform}] and "
            f"{env_name(platform, 'app_secret')} (or app_secret in the credentials file)",
        )
    login = f"crosspost auth login {platform}"
    try:
        data = await debug_token(api, base, token, app_id, secret)
    except PlatformError as exc:
        return Finding("warn", f"{what}'s permissions could not be read: {exc.message}")
    if data.get("is_valid") is False:
        return Finding(
            "fail",
            f"Facebook says {what} is no longer valid (password changed, role on the Page "
            f"removed, or the app removed): run {login}",
        )
    scopes = {str(s) for s in data.get("scopes") or []}
    missing = [p for p in needed if p not in scopes]
    if missing:
        return Finding(
            "fail",
            f"{what} lacks {', '.join(missing)}, which {use} needs: run {login} and allow "
            "every permission crosspost asks for",
        )
    return data
