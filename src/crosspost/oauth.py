"""OAuth 2.0 for a command-line program: log in once through the browser, renew after.

The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636) and a loopback
redirect (RFC 8252 §7.3), driven by data: each platform is an ``OAuthApp``
naming its endpoints and its departures from the RFC (TikTok's ``client_key`` and
hex challenge, Facebook's GET code exchange, X's HTTP Basic client
authentication, Google's ``access_type=offline``). docs/oauth.md describes the
flow and each platform's choices, with links to their documentation.

Nothing here talks to the user directly: ``login`` reports through ``say`` and
asks through ``paste``, so the CLI and the tests drive the same code. Every code,
verifier, token and client secret is registered with ``crosspost.redaction`` the
moment it is made or received, and no message or ``repr`` contains one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit

import httpx

from crosspost import redaction
from crosspost.errors import AuthError, ConfigError, RateLimitedError, TransientError

PkceStyle = Literal["S256", "S256-hex"]
Clock = Callable[[], datetime]

#: The page the browser shows once the redirect reached crosspost.
DONE_PAGE = "crosspost: you can close this tab and go back to the terminal.\n"
#: The page when the platform answered with an error instead of a code.
REFUSED_PAGE = "crosspost: the platform did not grant access; the terminal says why.\n"
#: Seconds between two looks at the loopback listener while ``login`` waits.
POLL = 0.05
#: Token response fields that are not copied into ``TokenSet.extra``.
_KNOWN_FIELDS = {
    "access_token",
    "refresh_token",
    "expires_in",
    "refresh_expires_in",
    "scope",
    "token_type",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OAuthError(AuthError):
    """The authorization server refused, or the login could not finish.

    ``error`` is the platform's error code (``invalid_grant``, ``access_denied``,
    Facebook's ``OAuthException``…) when it gave one.
    """

    def __init__(
        self, platform: str, message: str, *, status: int | None = None, error: str = ""
    ) -> None:
        super().__init__(platform, redaction.redact(message), status=status)
        self.error = error


class LoginRequiredError(OAuthError):
    """The refresh token was refused (expired or revoked): only a new login helps."""


@dataclass(frozen=True)
class OAuthApp:
    """One platform's OAuth 2.0 authorization server and its particular rules."""

    platform: str
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    #: " " (RFC 6749 §3.3; X, Google) or "," (TikTok, Facebook, Instagram).
    scope_separator: str = " "
    #: The name of the client id parameter: TikTok calls it ``client_key``.
    client_id_param: str = "client_id"
    #: PKCE challenge style; TikTok's desktop guide wants the hex SHA-256.
    pkce: PkceStyle | None = "S256"
    #: How a confidential client authenticates: form fields, or HTTP Basic (X).
    client_auth: Literal["body", "basic"] = "body"
    #: Facebook's code exchange is a GET with query parameters.
    token_method: Literal["POST", "GET"] = "POST"
    #: Extra authorization request parameters (Google: access_type, prompt).
    extra_authorize: Mapping[str, str] = field(default_factory=dict)
    redirect_path: str = "/callback"
    #: A fixed loopback port, for consoles that register one exact redirect URI.
    fixed_port: int | None = None
    #: RFC 7009 revocation endpoint, when the platform has one.
    revoke_url: str | None = None
    #: The name shown to the user ("X / Twitter"); the platform id when empty.
    display_name: str = ""

    @property
    def name(self) -> str:
        """The platform's name for messages."""
        return self.display_name or self.platform

    @property
    def login_command(self) -> str:
        """The command that starts over."""
        return f"crosspost auth login {self.platform}"


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint granted; ``repr`` never shows a token.

    ``expires_at`` comes from ``expires_in`` and ``refresh_expires_at`` from
    TikTok's ``refresh_expires_in`` (None: the platform did not say). ``extra``
    keeps the other non-secret fields of the answer (``open_id``, ``user_id``…).
    """

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    token_type: str = "bearer"
    issued_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        redaction.register(self.access_token)
        if self.refresh_token:
            redaction.register(self.refresh_token)

    def expires_within(self, delta: timedelta, now: datetime | None = None) -> bool:
        """Whether the access token is expired, or will be ``delta`` from now."""
        if self.expires_at is None:
            return False
        return self.expires_at <= (now or _utcnow()) + delta


# -- the authorization request -----------------------------------------------


def code_challenge(verifier: str, style: PkceStyle = "S256") -> str:
    """The PKCE challenge of ``verifier``: base64url (no padding) of its SHA-256 (RFC
    7636 §4.2), or its hex SHA-256 for TikTok's desktop flow."""
    digest = hashlib.sha256(verifier.encode("ascii"))
    if style == "S256-hex":
        return digest.hexdigest()
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def pkce_pair(style: PkceStyle = "S256") -> tuple[str, str]:
    """A fresh ``(verifier, challenge)``: 64 characters of the unreserved set (RFC 7636
    §4.1 asks 43 to 128) from 48 random bytes, and its challenge."""
    verifier = redaction.register(secrets.token_urlsafe(48))
    return verifier, code_challenge(verifier, style)


def new_state() -> str:
    """An unguessable ``state`` that ties the redirect to this login (RFC 6749 §10.12)."""
    return secrets.token_urlsafe(24)


def authorize_url(
    app: OAuthApp, client_id: str, redirect_uri: str, state: str, challenge: str | None
) -> str:
    """The address the user opens to grant access (RFC 6749 §4.1.1).

    Values are percent-encoded with ``%20`` for spaces, which X requires in ``scope``.
    """
    params = {
        "response_type": "code",
        app.client_id_param: client_id,
        "redirect_uri": redirect_uri,
    }
    if app.scopes:
        params["scope"] = app.scope_separator.join(app.scopes)
    params["state"] = state
    if app.pkce is not None and challenge is not None:
        # TikTok's hex challenge is still announced as S256 (its desktop guide).
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    params.update(app.extra_authorize)
    joiner = "&" if urlsplit(app.authorize_url).query else "?"
    return app.authorize_url + joiner + urlencode(params, quote_via=quote)


# -- the redirect back: loopback listener or pasted address ------------------


class LoopbackReceiver:
    """Receives the authorization redirect on 127.0.0.1 (RFC 8252 §7.3).

    As a context manager it listens on a free port (or ``port``) and serves in a
    background thread: the first ``GET`` of ``path`` is the answer, shown to the
    browser as a short plain page; any other path is a 404 (browsers ask for
    ``/favicon.ico``). The loopback address, not ``localhost``, as RFC 8252 §8.3
    recommends: ``localhost`` may resolve elsewhere or to IPv6.
    """

    def __init__(self, path: str = "/callback", port: int | None = None) -> None:
        self.path = path
        self.port = port
        self._answer: dict[str, str] | None = None
        self._arrived = threading.Event()
        self._lock = threading.Lock()  # two requests at once: only the first is the answer
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:PORT/callback``, once listening."""
        if self._server is None:
            raise RuntimeError("the loopback receiver is not listening")
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def __enter__(self) -> LoopbackReceiver:
        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), self._handler())
        except OSError as exc:
            where = f"port {self.port}" if self.port else "a free port"
            raise ConfigError(
                f"cannot listen on 127.0.0.1, {where}, for the login redirect "
                f"({exc.strerror or exc}): close the program using it, or change the "
                "configured redirect port"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL,), daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def poll(self) -> dict[str, str] | None:
        """The redirect's query parameters, if the browser came back yet."""
        return dict(self._answer) if self._arrived.is_set() and self._answer is not None else None

    def wait(self, timeout: float) -> dict[str, str]:
        """Block until the redirect arrives; its query parameters.

        Raises ``OAuthError`` when nothing came within ``timeout`` seconds.
        """
        if not self._arrived.wait(timeout):
            raise OAuthError(
                "",
                f"no answer reached {self.redirect_uri} within {timeout:g} s; "
                "start the login again",
                error="timeout",
            )
        return self.poll() or {}

    def _deliver(self, params: dict[str, str]) -> bool:
        """Keep the first answer only; whether this one was it."""
        with self._lock:
            if self._arrived.is_set():
                return False
            for key in ("code", "state"):
                if params.get(key):
                    redaction.register(params[key])
            self._answer = params
            self._arrived.set()
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # a browser's idle pre-connection must not hold a thread forever

            def log_message(self, format: str, *args: object) -> None:
                return  # the request line carries the code: never log it

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != receiver.path:
                    self._reply(404, "crosspost: not found\n")
                    return
                params = dict(parse_qsl(parts.query, keep_blank_values=True))
                first = receiver._deliver(params)
                if not first:
                    self._reply(200, "crosspost: this login already has its answer.\n")
                elif "error" in params or "code" not in params:
                    self._reply(200, REFUSED_PAGE)
                else:
                    self._reply(200, DONE_PAGE)

            def do_POST(self) -> None:
                self._reply(405, "crosspost: only the browser's redirect is expected here\n")

            def _reply(self, status: int, text: str) -> None:
                body = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

        return Handler


def parse_redirect(text: str) -> dict[str, str]:
    """The query parameters of a pasted redirect: the whole address the browser
    ended on (``http://127.0.0.1:PORT/callback?code=…&state=…``), or its query.

    A fragment is ignored (Facebook appends ``#_=_``). Raises ``OAuthError`` for
    text that carries no answer.
    """
    text = text.strip().strip("'\"<>")
    if not text:
        raise OAuthError("", "nothing was pasted: paste the whole address from the browser")
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        query = parts.query
    elif parts.scheme or " " in text or "=" not in text:
        raise OAuthError(
            "",
            "that is not the address the browser ended on: copy the whole address from the "
            "browser's address bar (it starts with http://127.0.0.1:)",
        )
    else:
        query = text.split("#", 1)[0].removeprefix("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    if "code" not in params and "error" not in params:
        raise OAuthError(
            "",
            "that address carries no answer from the platform (no code= or error= in it): "
            "copy the address of the page the browser went to after you allowed access",
        )
    for key in ("code", "state"):
        if params.get(key):
            redaction.register(params[key])
    return params


def check_callback(params: Mapping[str, str], state: str, *, platform: str = "") -> str:
    """The authorization code from the redirect, after checking it belongs to us.

    ``state`` must match (constant-time comparison): otherwise the answer is for
    another login, or forged (RFC 6749 §10.12). An ``error`` from the platform
    (RFC 6749 §4.1.2.1) is reported in words.
    """
    got = params.get("state", "")
    if not hmac.compare_digest(got.encode("utf-8"), state.encode("utf-8")):
        raise OAuthError(
            platform,
            "the answer does not belong to this login (state mismatch); "
            f"run crosspost auth login{' ' + platform if platform else ''} again",
            error="state_mismatch",
        )
    if params.get("error"):
        error = params["error"]
        description = params.get("error_description") or params.get("error_reason") or ""
        if error == "access_denied":
            message = "access was not granted (you declined, or the platform refused this app)"
        else:
            message = "the platform refused the authorization request"
        detail = f"{error}: {description}" if description else error
        raise OAuthError(platform, f"{message} ({detail})", error=error)
    code = params.get("code", "")
    if not code:
        raise OAuthError(platform, "the answer carries no authorization code", error="no_code")
    return redaction.register(code)


# -- the token endpoint --------------------------------------------------------


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip().isdigit():
        return float(value)
    return None


def token_set(
    data: Mapping[str, Any],
    *,
    now: datetime,
    default_scopes: tuple[str, ...] = (),
    previous_refresh: str | None = None,
) -> TokenSet:
    """A ``TokenSet`` from a token endpoint's JSON answer (RFC 6749 §5.1).

    Without a ``refresh_token`` in the answer the previous one stays (Google does
    not rotate; RFC 6749 §6). Without ``scope`` the requested scopes were granted
    (§5.1). ``scope`` is split on spaces or commas (TikTok separates with commas).
    """
    refresh = data.get("refresh_token") or previous_refresh
    expires_in = _seconds(data.get("expires_in"))
    refresh_in = _seconds(data.get("refresh_expires_in"))
    scope = data.get("scope")
    scopes = default_scopes
    if isinstance(scope, str) and scope.strip():
        scopes = tuple(s for s in scope.replace(",", " ").split() if s)
    extra = {
        k: v
        for k, v in data.items()
        if k not in _KNOWN_FIELDS and "token" not in k.lower() and "secret" not in k.lower()
    }
    return TokenSet(
        access_token=str(data["access_token"]),
        refresh_token=str(refresh) if refresh else None,
        expires_at=now + timedelta(seconds=expires_in) if expires_in is not None else None,
        refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in is not None else None,
        scopes=scopes,
        token_type=str(data.get("token_type") or "bearer"),
        issued_at=now,
        extra=extra,
    )


def _describe(payload: object) -> tuple[str, str]:
    """``(error code, words)`` from an OAuth or a Facebook Graph error body."""
    if not isinstance(payload, dict):
        return "", ""
    error = payload.get("error")
    if isinstance(error, dict):  # Facebook: {"error": {"message", "type", "code", ...}}
        kind = str(error.get("type") or "")
        numbers = ", ".join(
            f"{label} {error[key]}"
            for key, label in (("code", "code"), ("error_subcode", "subcode"))
            if error.get(key) is not None
        )
        words = str(error.get("message") or kind or "no message")
        detail = "; ".join(p for p in (kind, numbers) if p)
        return kind or str(error.get("code") or ""), f"{words} ({detail})" if detail else words
    if isinstance(error, str) and error:
        description = payload.get("error_description") or payload.get("message") or ""
        return error, f"{error}: {description}" if description else error
    return "", ""


def _refusal(app: OAuthApp, purpose: str, response: httpx.Response, payload: object) -> OAuthError:
    error, words = _describe(payload)
    words = words or f"HTTP {response.status_code}"
    status = response.status_code
    if purpose == "refresh" and error not in ("invalid_client", "unauthorized_client"):
        # Our refresh request is well formed, so a refusal is about the refresh
        # token, whatever the code: Google and TikTok say invalid_grant, X answers
        # invalid_request ("Value passed for the ... was invalid") for refused codes
        # and tokens. Only a new login helps.
        return LoginRequiredError(
            app.platform,
            f"{app.name} refused the refresh token (expired or revoked; {words}): "
            f"run {app.login_command}",
            status=status,
            error=error,
        )
    if error in ("invalid_client", "unauthorized_client"):
        return OAuthError(
            app.platform,
            f"{app.name} refused the app's credentials ({words}): check the client id and "
            f"secret crosspost uses for {app.platform} (see docs/platforms/{app.platform}.md)",
            status=status,
            error=error,
        )
    if purpose == "code":
        return OAuthError(
            app.platform,
            f"{app.name} refused the authorization code ({words}); codes are single-use and "
            f"short-lived: run {app.login_command} again",
            status=status,
            error=error,
        )
    return OAuthError(
        app.platform, f"{app.name} refused the token request ({words})", status=status, error=error
    )


def _client_auth(
    app: OAuthApp, client_id: str | None, client_secret: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Form fields and headers that identify the client (RFC 6749 §2.3.1)."""
    if client_id is None:
        return {}, {}
    if client_secret and app.client_auth == "basic":
        pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
        basic = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        return {}, {"Authorization": f"Basic {basic}"}
    fields = {app.client_id_param: client_id}
    if client_secret:
        fields["client_secret"] = client_secret
    return fields, {}


async def token_request(
    client: httpx.AsyncClient,
    app: OAuthApp,
    fields: Mapping[str, str],
    *,
    client_id: str | None,
    client_secret: str | None,
    purpose: Literal["code", "refresh", "token"] = "token",
    previous_refresh: str | None = None,
    now: Clock = _utcnow,
) -> TokenSet:
    """One call to ``app.token_url`` with ``fields`` and the client's credentials.

    ``exchange_code`` and ``refresh`` use it; so can a platform's own grants
    (Facebook's ``fb_exchange_token``). Network faults and 5xx become
    ``TransientError``, a 429 ``RateLimitedError``, a refusal ``OAuthError``.
    """
    if client_secret:
        redaction.register(client_secret)
    auth_fields, headers = _client_auth(app, client_id, client_secret)
    params = {**fields, **auth_fields}
    headers["Accept"] = "application/json"
    try:
        if app.token_method == "GET":
            response = await client.get(app.token_url, params=params, headers=headers)
        else:
            response = await client.post(app.token_url, data=params, headers=headers)
    except httpx.HTTPError as exc:
        raise TransientError(
            app.platform,
            redaction.redact(
                f"could not reach {app.name}'s token endpoint ({type(exc).__name__}): try again"
            ),
        ) from None
    try:
        payload: object = response.json()
    except ValueError:
        payload = None
    status = response.status_code
    if status == 429:
        raise RateLimitedError(
            app.platform,
            f"{app.name}'s token endpoint is limiting requests (HTTP 429): try again later",
            status=status,
        )
    if status >= 500:
        raise TransientError(
            app.platform,
            f"{app.name}'s token endpoint had a temporary problem (HTTP {status}): try again",
            status=status,
        )
    error_in_body = isinstance(payload, dict) and payload.get("error")
    if status >= 400 or error_in_body:  # TikTok may answer 200 with an error body
        raise _refusal(app, purpose, response, payload)
    if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
        raise OAuthError(
            app.platform,
            f"{app.name}'s token endpoint answered without an access token (HTTP {status})",
            status=status,
            error="no_token",
        )
    return token_set(
        payload, now=now(), default_scopes=app.scopes, previous_refresh=previous_refresh
    )


async def exchange_code(
    client: httpx.AsyncClient,
    app: OAuthApp,
    client_id: str,
    client_secret: str | None,
    code: str,
    redirect_uri: str,
    verifier: str | None,
    *,
    now: Clock = _utcnow,
) -> TokenSet:
    """Trade the authorization code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
    redaction.register(code)
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        fields["code_verifier"] = redaction.register(verifier)
    return await token_request(
        client,
        app,
        fields,
        client_id=client_id,
        client_secret=client_secret,
        purpose="code",
        now=now,
    )


async def refresh(
    client: httpx.AsyncClient,
    app: OAuthApp,
    client_id: str,
    client_secret: str | None,
    refresh_token: str,
    *,
    now: Clock = _utcnow,
) -> TokenSet:
    """New tokens from a refresh token (RFC 6749 §6).

    When the answer has no new refresh token the old one is kept (Google); when it
    has one (X, TikTok rotate), the old one is dead: store the new one before
    anything else uses it. A refused refresh token raises ``LoginRequiredError``.
    """
    redaction.register(refresh_token)
    return await token_request(
        client,
        app,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        client_id=client_id,
        client_secret=client_secret,
        purpose="refresh",
        previous_refresh=refresh_token,
        now=now,
    )


async def revoke(
    client: httpx.AsyncClient,
    app: OAuthApp,
    client_id: str,
    client_secret: str | None,
    token: str,
) -> None:
    """Ask the platform to forget ``token`` (RFC 7009 §2.1); a no-op without ``revoke_url``.

    RFC 7009 §2.2: an unknown or already revoked token is answered 200 too.
    """
    if app.revoke_url is None:
        return
    redaction.register(token)
    auth_fields, headers = _client_auth(app, client_id, client_secret)
    try:
        response = await client.post(
            app.revoke_url, data={"token": token, **auth_fields}, headers=headers
        )
    except httpx.HTTPError as exc:
        raise TransientError(
            app.platform, f"could not reach {app.name} to revoke the token ({type(exc).__name__})"
        ) from None
    if response.status_code >= 400:
        try:
            payload: object = response.json()
        except ValueError:
            payload = None
        raise _refusal(app, "token", response, payload)


# -- the whole login -------------------------------------------------------------


async def _wait(receiver: LoopbackReceiver, app: OAuthApp, timeout: float) -> dict[str, str]:
    """Wait for the browser without blocking the event loop (and stay cancellable)."""
    deadline = time.monotonic() + timeout
    while (answer := receiver.poll()) is None:
        if time.monotonic() >= deadline:
            raise OAuthError(
                app.platform,
                f"no answer from {app.name} reached {receiver.redirect_uri} within "
                f"{timeout:g} s: run {app.login_command} again (with --no-browser to paste "
                "the address instead)",
                error="timeout",
            )
        await asyncio.sleep(POLL)
    return answer


def _pasted(
    receiver: LoopbackReceiver, app: OAuthApp, paste: Callable[[str], str]
) -> dict[str, str]:
    text = paste("Paste the address here (or just press Enter if the page said to close it): ")
    if not text.strip():
        answer = receiver.poll()
        if answer is None:
            raise OAuthError(
                app.platform,
                f"nothing was pasted and no answer reached {receiver.redirect_uri}: "
                f"run {app.login_command} again",
                error="no_answer",
            )
        return answer
    try:
        return parse_redirect(text)
    except OAuthError as exc:
        raise OAuthError(app.platform, exc.message, error=exc.error) from None


async def login(
    app: OAuthApp,
    client_id: str,
    client_secret: str | None,
    *,
    client: httpx.AsyncClient,
    open_browser: bool,
    paste: Callable[[str], str] | None,
    say: Callable[[str], None],
    timeout: float = 300,
    browser: Callable[[str], object] | None = None,
    now: Clock = _utcnow,
) -> TokenSet:
    """The whole authorization code flow, from a fresh ``state`` to the tokens.

    With ``open_browser`` the authorization page opens in the browser
    (``webbrowser.open``, or ``browser`` in tests) and the answer comes to the
    loopback listener. Otherwise (or when no browser could be opened) the address
    is shown with ``say`` and the user pastes the address the browser ended on
    through ``paste``; a plain Enter takes the answer the listener got (an SSH
    tunnel to the port). Without ``paste`` the listener is awaited.
    """
    if client_secret:
        redaction.register(client_secret)
    state = new_state()
    verifier, challenge = pkce_pair(app.pkce) if app.pkce is not None else (None, None)
    with LoopbackReceiver(app.redirect_path, app.fixed_port) as receiver:
        url = authorize_url(app, client_id, receiver.redirect_uri, state, challenge)
        opened = False
        if open_browser:
            say(f"Opening your browser to log in to {app.name}. If it does not open, visit:\n{url}")
            opened = bool((browser or webbrowser.open)(url))
        if opened or paste is None:
            if not open_browser:
                say(f"Open this address in a browser and allow crosspost:\n{url}")
            params = await _wait(receiver, app, timeout)
        else:
            say(
                f"Open this address in a browser, log in to {app.name} and allow crosspost:\n"
                f"{url}\nThe browser then goes to {receiver.redirect_uri}?code=… (on another "
                "machine it shows an error page): copy that whole address."
            )
            params = _pasted(receiver, app, paste)
        redirect_uri = receiver.redirect_uri
    code = check_callback(params, state, platform=app.platform)
    return await exchange_code(
        client, app, client_id, client_secret, code, redirect_uri, verifier, now=now
    )
