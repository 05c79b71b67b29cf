"""A strict fake OAuth 2.0 authorization server, for the platform fakes to mount.

``FakeAuthServer`` keeps registered clients, issued codes and tokens, and answers
the authorization endpoint (as the user's browser sees it: a 302 back to the
redirect URI, the user having said yes) and the token endpoint (RFC 6749 §4.1.3,
§6) with the refusals a real server gives:

* authorize: an unknown ``client_id`` or an unregistered ``redirect_uri`` is a
  400 page, never a redirect (RFC 6749 §4.1.2.1); a wrong ``response_type``, an
  unknown scope, a missing or malformed PKCE challenge go back to the client as
  ``error=…`` on the redirect.
* token: codes are single use (a second use is refused and revokes what the first
  one gave, RFC 6749 §4.1.2) and expire (``code_lifetime``; X: 30 s); the
  ``redirect_uri`` must be the one of the authorization request; the PKCE
  verifier must hash to the challenge (S256 base64url, or TikTok's hex); the
  client must authenticate the way the platform wants (body, HTTP Basic, either).
* refresh: refresh tokens rotate (the old one is refused after use: X, TikTok) or
  stay (Google); an expired refresh token (``refresh_lifetime``; Google "Testing"
  apps: 7 days) is refused; refresh tokens may be issued only for an offline
  request (X's ``offline.access`` scope, Google's ``access_type=offline``).
* revocation (RFC 7009), and ``valid_access_token`` for a platform fake to check
  bearer tokens against.

Time comes from an injectable clock (``FakeClock``), so tests move days ahead.
Errors come in the OAuth shape ``{"error", "error_description"}`` (with any
``error_extra``, TikTok's ``log_id``) or Facebook's Graph shape.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

import httpx

from tests.fakes.base import FakePlatform

#: RFC 7636 §4.1: the verifier is 43 to 128 characters of the unreserved set.
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
FORM = "application/x-www-form-urlencoded"


class FakeClock:
    """A clock the test moves: ``now()`` starts at a fixed instant."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The current fake time (aware, UTC)."""
        return self.current

    def advance(self, seconds: float = 0, **delta: float) -> None:
        """Move time forward by ``seconds`` (or ``days=…``, ``hours=…``)."""
        self.current += timedelta(seconds=seconds, **delta)


@dataclass
class Client:
    """A registered app: its id, secret (None: a public client), redirect URIs.

    A redirect URI may give its port as ``*`` (TikTok's desktop wildcard).
    """

    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]


@dataclass
class Grant:
    """What one user consent produced; revoking it kills all its tokens."""

    client_id: str
    scopes: tuple[str, ...]
    offline: bool
    revoked: bool = False


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    grant: Grant
    issued: datetime
    used: bool = False


@dataclass
class Token:
    kind: Literal["access", "refresh"]
    grant: Grant
    expires: datetime | None
    used: bool = False  # a rotated refresh token
    revoked: bool = False


class OAuthRefusal(Exception):
    """A token endpoint refusal: the RFC 6749 §5.2 error code, words, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class FakeAuthServer:
    """One platform's authorization server (see the module docstring)."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        client_id_param: str = "client_id",
        scope_separator: str = " ",
        allowed_scopes: Iterable[str] | None = None,
        pkce: Literal["S256", "S256-hex"] | None = "S256",
        pkce_required: bool = True,
        client_auth: Literal["body", "basic", "either"] = "either",
        token_method: Literal["POST", "GET"] = "POST",
        code_lifetime: timedelta = timedelta(seconds=30),
        access_lifetime: timedelta | None = timedelta(hours=2),
        refresh_lifetime: timedelta | None = None,
        rotate_refresh: bool = True,
        report_refresh_expiry: bool = False,
        report_scope: bool = True,
        offline_scope: str | None = None,
        offline_param: tuple[str, str] | None = None,
        issue_refresh: bool = True,
        loopback_any_port: bool = False,
        error_shape: Literal["oauth", "facebook"] = "oauth",
        error_status: int = 400,
        error_extra: Mapping[str, Any] | None = None,
        token_extra: Mapping[str, Any] | None = None,
        redirect_fragment: str | None = None,
    ) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.client_id_param = client_id_param
        self.scope_separator = scope_separator
        self.allowed_scopes = set(allowed_scopes) if allowed_scopes is not None else None
        self.pkce = pkce
        self.pkce_required = pkce_required
        self.client_auth = client_auth
        self.token_method = token_method
        self.code_lifetime = code_lifetime
        self.access_lifetime = access_lifetime
        self.refresh_lifetime = refresh_lifetime
        self.rotate_refresh = rotate_refresh
        self.report_refresh_expiry = report_refresh_expiry
        self.report_scope = report_scope
        self.offline_scope = offline_scope
        self.offline_param = offline_param
        self.issue_refresh = issue_refresh
        #: RFC 8252 §7.3: any port is accepted for a loopback IP redirect (Google).
        self.loopback_any_port = loopback_any_port
        self.error_shape = error_shape
        self.error_status = error_status
        self.error_extra = dict(error_extra or {})
        self.token_extra = dict(token_extra or {})
        #: Appended to every redirect (Facebook adds ``#_=_``).
        self.redirect_fragment = redirect_fragment
        #: When False, the fake user declines: the redirect carries access_denied.
        self.consent = True
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        #: Every authorization and token request's parameters, in order.
        self.log: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.RLock()

    # -- setup -------------------------------------------------------------------

    def register(
        self, client_id: str, client_secret: str | None, redirect_uris: Iterable[str]
    ) -> Client:
        """Register an app: a public client when ``client_secret`` is None."""
        client = Client(client_id, client_secret, tuple(redirect_uris))
        self.clients[client_id] = client
        return client

    def mount(
        self,
        fake: FakePlatform,
        *,
        authorize: str | None,
        token: str,
        revoke: str | None = None,
    ) -> None:
        """Serve the endpoints on ``fake`` at these paths (literal paths, not patterns)."""
        if authorize is not None:
            fake.route("GET", re.escape(authorize), lambda request: self.authorize(request))
        fake.route(self.token_method, re.escape(token), lambda request: self.token(request))
        if revoke is not None:
            fake.route("POST", re.escape(revoke), lambda request: self.revoke(request))

    # -- checks for platform fakes ---------------------------------------------------

    def valid_access_token(self, token: str) -> bool:
        """Whether ``token`` is a live access token: issued, not revoked, not expired."""
        with self._lock:
            found = self.tokens.get(token)
            return (
                found is not None
                and found.kind == "access"
                and not found.revoked
                and not found.grant.revoked
                and (found.expires is None or self.clock() < found.expires)
            )

    def scopes_of(self, token: str) -> tuple[str, ...]:
        """The scopes granted to a token ('' when unknown)."""
        found = self.tokens.get(token)
        return found.grant.scopes if found is not None else ()

    # -- the authorization endpoint ---------------------------------------------------

    def authorize(self, request: httpx.Request) -> httpx.Response:
        """The user's browser at the consent page: 302 back with a code, or a refusal."""
        params = dict(request.url.params)
        with self._lock:
            self.log.append(("authorize", params))
            client = self.clients.get(params.get(self.client_id_param, ""))
            if client is None:
                return _page(400, f"invalid_client: unknown {self.client_id_param}")
            redirect_uri = params.get("redirect_uri", "")
            if not self._redirect_allowed(client, redirect_uri):
                return _page(400, "redirect_uri_mismatch: this redirect_uri is not registered")
            state = params.get("state")
            refusal = self._check_authorize(params)
            if refusal is not None:
                return self._redirect(redirect_uri, {"error": refusal[0], **refusal[1]}, state)
            if not self.consent:
                return self._redirect(
                    redirect_uri,
                    {"error": "access_denied", "error_description": "The user denied access"},
                    state,
                )
            scopes = self._scopes(params.get("scope", ""))
            offline = self._offline(params, scopes)
            code = secrets.token_urlsafe(24)
            self.codes[code] = Code(
                client_id=client.client_id,
                redirect_uri=redirect_uri,
                challenge=params.get("code_challenge"),
                grant=Grant(client.client_id, scopes, offline),
                issued=self.clock(),
            )
            return self._redirect(redirect_uri, {"code": code}, state)

    def _check_authorize(self, params: dict[str, str]) -> tuple[str, dict[str, str]] | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type", {"error_description": "response_type must be code"}
        unknown = [
            s
            for s in self._scopes(params.get("scope", ""))
            if self.allowed_scopes is not None and s not in self.allowed_scopes
        ]
        if unknown:
            return "invalid_scope", {"error_description": f"unknown scope {unknown[0]!r}"}
        challenge = params.get("code_challenge")
        if challenge is None:
            if self.pkce_required:
                return "invalid_request", {"error_description": "code_challenge is required"}
            return None
        if self.pkce is None:
            return "invalid_request", {"error_description": "PKCE is not supported"}
        if params.get("code_challenge_method") != "S256":
            return "invalid_request", {"error_description": "code_challenge_method must be S256"}
        shape = r"[0-9a-f]{64}" if self.pkce == "S256-hex" else r"[A-Za-z0-9_-]{43}"
        if not re.fullmatch(shape, challenge):
            return "invalid_request", {"error_description": "malformed code_challenge"}
        return None

    def _redirect_allowed(self, client: Client, redirect_uri: str) -> bool:
        got = urlsplit(redirect_uri)
        for registered in client.redirect_uris:
            if registered == redirect_uri:
                return True
            want = urlsplit(registered.replace(":*", ":0", 1))
            wildcard = ":*" in registered
            loopback = self.loopback_any_port and want.hostname in ("127.0.0.1", "::1")
            if (wildcard or loopback) and (
                (got.scheme, got.hostname, got.path, got.query)
                == (want.scheme, want.hostname, want.path, want.query)
                and got.port is not None
            ):
                return True
        return False

    def _scopes(self, text: str) -> tuple[str, ...]:
        return tuple(s for s in text.split(self.scope_separator) if s)

    def _offline(self, params: dict[str, str], scopes: tuple[str, ...]) -> bool:
        if not self.issue_refresh:
            return False
        if self.offline_scope is not None and self.offline_scope not in scopes:
            return False
        if self.offline_param is not None:
            name, value = self.offline_param
            return params.get(name) == value
        return True

    def _redirect(
        self, redirect_uri: str, params: dict[str, str], state: str | None
    ) -> httpx.Response:
        if state is not None:
            params = {**params, "state": state}
        joiner = "&" if urlsplit(redirect_uri).query else "?"
        location = redirect_uri + joiner + urlencode(params)
        if self.redirect_fragment is not None:
            location += "#" + self.redirect_fragment
        return httpx.Response(302, headers={"Location": location})

    # -- the token endpoint -------------------------------------------------------------

    def token(self, request: httpx.Request) -> httpx.Response:
        """RFC 6749 §4.1.3 and §6: codes and refresh tokens for access tokens."""
        try:
            params = self._token_params(request)
            with self._lock:
                self.log.append(("token", params))
                client = self._authenticate(request, params)
                grant_type = params.get("grant_type")
                if grant_type == "authorization_code":
                    body = self._exchange(client, params)
                elif grant_type == "refresh_token":
                    body = self._refresh(client, params)
                else:
                    raise OAuthRefusal("unsupported_grant_type", f"grant_type {grant_type!r}")
        except OAuthRefusal as refusal:
            return self._error(refusal)
        return httpx.Response(200, json=body, headers={"Cache-Control": "no-store"})

    def _token_params(self, request: httpx.Request) -> dict[str, str]:
        if self.token_method == "GET":
            return dict(request.url.params)
        ctype = request.headers.get("content-type", "").split(";")[0].strip()
        if ctype != FORM:
            raise OAuthRefusal("invalid_request", f"the body must be {FORM}")
        if request.url.query:  # RFC 6749 §3.2: parameters go in the body
            raise OAuthRefusal("invalid_request", "parameters belong in the request body")
        return dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))

    def _authenticate(self, request: httpx.Request, params: dict[str, str]) -> Client:
        basic = _basic(request.headers.get("authorization", ""))
        body_id = params.get(self.client_id_param)
        client_id = basic[0] if basic else body_id
        client = self.clients.get(client_id or "")
        if client is None:
            raise OAuthRefusal("invalid_client", "Client authentication failed", 401)
        if basic and body_id is not None and body_id != basic[0]:
            raise OAuthRefusal("invalid_request", "two different client ids", 400)
        if client.client_secret is None:  # a public client: no secret to check
            if basic or "client_secret" in params:
                raise OAuthRefusal("invalid_client", "a public client has no secret", 401)
            return client
        secret: str | None
        if basic:
            if self.client_auth == "body":
                raise OAuthRefusal("invalid_client", "send the secret in the body", 401)
            secret = basic[1]
        else:
            if self.client_auth == "basic":
                # X's words for a confidential client without the Basic header.
                raise OAuthRefusal("unauthorized_client", "Missing valid authorization header", 401)
            secret = params.get("client_secret")
        if secret is None or not secrets.compare_digest(secret, client.client_secret):
            raise OAuthRefusal("invalid_client", "Client authentication failed", 401)
        return client

    def _exchange(self, client: Client, params: dict[str, str]) -> dict[str, Any]:
        code = self.codes.get(params.get("code", ""))
        if code is None or code.client_id != client.client_id:
            raise OAuthRefusal(
                "invalid_grant", "Value passed for the authorization code was invalid"
            )
        if code.used:
            # RFC 6749 §4.1.2: a reused code is refused and what it gave is revoked.
            code.grant.revoked = True
            raise OAuthRefusal("invalid_grant", "Authorization code was already used")
        code.used = True
        if self.clock() - code.issued > self.code_lifetime:
            raise OAuthRefusal("invalid_grant", "Authorization code is expired")
        if params.get("redirect_uri") != code.redirect_uri:
            raise OAuthRefusal("invalid_grant", "redirect_uri does not match the authorization")
        verifier = params.get("code_verifier")
        if code.challenge is not None:
            if verifier is None or not VERIFIER.fullmatch(verifier):
                raise OAuthRefusal("invalid_request", "Code verifier or code challenge is invalid")
            if not secrets.compare_digest(self._challenge(verifier), code.challenge):
                raise OAuthRefusal("invalid_grant", "Code verifier or code challenge is invalid")
        elif verifier is not None:
            raise OAuthRefusal("invalid_request", "code_verifier without a code_challenge")
        return self._issue(code.grant, with_refresh=code.grant.offline)

    def _challenge(self, verifier: str) -> str:
        digest = hashlib.sha256(verifier.encode("ascii"))
        if self.pkce == "S256-hex":
            return digest.hexdigest()
        return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")

    def _refresh(self, client: Client, params: dict[str, str]) -> dict[str, Any]:
        value = params.get("refresh_token", "")
        token = self.tokens.get(value)
        if token is None or token.kind != "refresh" or token.grant.client_id != client.client_id:
            raise OAuthRefusal("invalid_grant", "Refresh token is invalid")
        if token.revoked or token.grant.revoked:
            raise OAuthRefusal("invalid_grant", "Token has been expired or revoked")
        if token.used:
            raise OAuthRefusal("invalid_grant", "Refresh token was already used")
        if token.expires is not None and self.clock() >= token.expires:
            raise OAuthRefusal("invalid_grant", "Token has been expired or revoked")
        if self.rotate_refresh:
            token.used = True
        return self._issue(token.grant, with_refresh=self.rotate_refresh)

    def _issue(self, grant: Grant, *, with_refresh: bool) -> dict[str, Any]:
        now = self.clock()
        access = "at-" + secrets.token_urlsafe(24)
        expires = now + self.access_lifetime if self.access_lifetime is not None else None
        self.tokens[access] = Token("access", grant, expires)
        body: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
        if self.access_lifetime is not None:
            body["expires_in"] = int(self.access_lifetime.total_seconds())
        if self.report_scope:
            body["scope"] = self.scope_separator.join(grant.scopes)
        if with_refresh:
            refresh = "rt-" + secrets.token_urlsafe(24)
            lifetime = self.refresh_lifetime
            self.tokens[refresh] = Token("refresh", grant, now + lifetime if lifetime else None)
            body["refresh_token"] = refresh
            if self.report_refresh_expiry and lifetime is not None:
                body["refresh_expires_in"] = int(lifetime.total_seconds())
        body.update(self.token_extra)
        return body

    # -- revocation -----------------------------------------------------------------------

    def revoke(self, request: httpx.Request) -> httpx.Response:
        """RFC 7009: revoke a token; a refresh token takes its grant along (§2.1)."""
        try:
            params = self._token_params(request)
            with self._lock:
                self._authenticate(request, params)
                token = self.tokens.get(params.get("token", ""))
                if token is not None:
                    token.revoked = True
                    if token.kind == "refresh":
                        token.grant.revoked = True
        except OAuthRefusal as refusal:
            return self._error(refusal)
        return httpx.Response(200, json={})  # unknown tokens too (RFC 7009 §2.2)

    # -- error shapes ---------------------------------------------------------------------

    def _error(self, refusal: OAuthRefusal) -> httpx.Response:
        status = refusal.status if refusal.status == 401 else self.error_status
        if self.error_shape == "facebook":
            body: dict[str, Any] = {
                "error": {
                    "message": refusal.description,
                    "type": "OAuthException",
                    "code": 100 if refusal.error != "invalid_client" else 1,
                    "fbtrace_id": "AbCdEfGh",
                }
            }
        else:
            body = {"error": refusal.error, "error_description": refusal.description}
            body.update(self.error_extra)
        return httpx.Response(status, json=body)


def _basic(header: str) -> tuple[str, str] | None:
    """``(client_id, secret)`` of an HTTP Basic header (RFC 6749 §2.3.1 form-decodes them)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except ValueError:
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def _page(status: int, text: str) -> httpx.Response:
    """The error page a browser shows (not a redirect: RFC 6749 §4.1.2.1)."""
    return httpx.Response(status, text=text + "\n", headers={"Content-Type": "text/plain"})
