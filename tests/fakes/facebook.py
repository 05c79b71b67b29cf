"""A fake Facebook Graph API for Pages, as strict as docs/platforms/facebook.md lets it be.

Endpoints (``{v}`` is any ``vNN.N``; every URL it hands back is on ``base_url``):

* ``POST /{v}/{page}/feed`` — ``message``, ``link``, ``attached_media`` (unpublished
  photos of this Page only, each used once); 63,206-character messages; the same
  message twice is refused with code 506 ("Duplicate status message").
* ``GET /{v}/{page}/feed`` and ``GET /{v}/{page}/videos`` — the Page's posts (videos),
  newest first: ``fields`` (unknown ones refused), ``limit`` (default 25, at most 100),
  ``since``/``until`` (a Unix time or an ISO 8601 date), ``after`` cursors, and a
  ``paging.next`` link that, as Graph's do, carries the ``access_token``.
* ``POST /{v}/{page}/photos`` — multipart ``source`` or ``url`` (fetched), ``caption``,
  ``published``; JPEG/PNG/GIF only, at most ``max_photo_bytes`` (subcode 1366046);
  the same image published twice is refused (506, subcode 1366051).
* ``POST /{v}/{page}/videos`` with ``upload_phase`` — the Page videos edge's chunked
  upload with the Page token: ``start`` (``file_size``) answers the session, the
  video id and the first chunk's offsets (``chunk_size`` bytes at a time, as strings);
  ``transfer`` takes exactly that chunk as the multipart file ``video_file_chunk``
  at ``start_offset``, else refuses with code 6001, subcode 1363037 and the offsets it
  wants in ``error_data``; ``finish`` on a whole file publishes (``title``,
  ``description``) and answers ``{"success": true}``.
* ``POST /{v}/{app}/uploads`` — the Resumable Upload API: a *user* token only
  (``uploads_need_user_token``), ``file_type`` one the guide lists; the session id is
  Meta's shape, ``upload:<base64 with = padding>?sig=<signature>``.
* ``POST /{v}/upload:{session}`` and ``GET`` — the signature must arrive as the query
  string and match, or the answer is Meta's "HMAC check failed! sessionId=… mac=…"
  (a percent-encoded id brings a "?" into the path instead); ``file_offset`` header
  must equal the bytes held (the real answer to a wrong offset is UNVERIFIED: code
  100); answers ``{"h": handle}`` once the file is whole; ``GET`` says
  ``{"id", "file_offset"}``.
* ``POST /{v}/{page}/videos`` — ``fbuploader_video_file_chunk`` (a finished upload's
  handle, used once), or ``file_url`` (fetched); ``title``, ``description``.
* Facebook Login and the person's Pages (``FacebookLogin``): the dialog, the code
  exchange, ``fb_exchange_token``, ``/me/accounts``, ``/me/permissions``, ``/me``,
  ``/{page}``, ``/debug_token``.

Auth: ``Authorization: Bearer|OAuth <token>`` (or the ``access_token`` parameter
the real API also takes). The Page token posts; user tokens may only upload.
Tokens expire by the fake's ``clock``. Errors are the Graph error object.
``cut_upload_at`` makes the next upload request keep that many bytes (a Page
upload's chunk: none) and then drop the connection (a broken upload).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.base import Dropped, FakePlatform, form, multipart

VERSION = r"/(?P<version>v\d+\.\d+)"
#: The Resumable Upload API's valid ``file_type`` values (graph-api/guides/upload).
UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")
#: Facebook's message limit (docs/platforms/facebook.md).
MAX_MESSAGE = 63_206
#: Fields a Page post and a Page video can be read with (a subset of Graph's).
FEED_FIELDS = {"id", "message", "created_time", "permalink_url", "story"}
VIDEO_FIELDS = {"id", "description", "created_time", "title", "permalink_url", "published"}
#: Graph caps ``limit`` per edge; the Page feed gives at most 100 a page.
MAX_LIMIT = 100

Fetch = Callable[[str], bytes | None]


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    type: str = "OAuthException",
    user_title: str | None = None,
    user_msg: str | None = None,
    is_transient: bool = False,
    headers: dict[str, str] | None = None,
    error_data: dict[str, Any] | None = None,
) -> httpx.Response:
    """A Graph API error response (graph-api/guides/error-handling)."""
    error: dict[str, Any] = {"message": message, "type": type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_title is not None:
        error["error_user_title"] = user_title
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    if error_data is not None:
        error["error_data"] = error_data
    error["is_transient"] = is_transient
    error["fbtrace_id"] = "AbCdEfGhIjK"
    return httpx.Response(status, json={"error": error}, headers=headers)


def token_of(request: httpx.Request, schemes: tuple[str, ...] = ("bearer", "oauth")) -> str | None:
    """The access token of a Graph request: the Authorization header, else ``access_token``."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if header:
        return value.strip() if scheme.lower() in schemes else None
    return form(request).get("access_token")


def graph_time(seconds: float) -> str:
    """Graph's time format: ``2026-11-26T10:00:00+0000``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_time(value: str) -> float | None:
    """A ``since``/``until`` value: a Unix time, or an ISO 8601 date or time (UTC if bare)."""
    if value.isdigit():
        return float(value)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def cursor(item_id: str) -> str:
    """An opaque paging cursor pointing at an item (Graph's are base64 too)."""
    return base64.urlsafe_b64encode(f"item:{item_id}".encode()).decode()


def cursor_id(value: str) -> str | None:
    """The item a cursor points at, or None when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(value.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return text[5:] if text.startswith("item:") else None


def default_fetch(url: str) -> bytes | None:
    """Fetch a media URL as the platform would, but only from this machine.

    Tests run without network: a loopback URL is fetched for real, anything
    else "cannot be fetched". ``testserver`` URLs are served from ``fake.media``.
    """
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL:
        return None
    if host not in ("127.0.0.1", "localhost"):
        return None
    try:
        response = httpx.get(url, timeout=5.0)
    except httpx.HTTPError:
        return None
    return response.content if response.status_code == 200 else None


def image_type(data: bytes) -> str | None:
    """The image type of ``data`` by its magic bytes, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return None


def is_video(data: bytes) -> bool:
    """Whether ``data`` looks like an MP4/MOV file (an ``ftyp`` box first)."""
    return data[4:8] == b"ftyp"


class GraphFake(FakePlatform):
    """What the Facebook and Instagram fakes share: tokens, media fetching, Graph errors."""

    def __init__(
        self, tokens: set[str], fetch: Fetch | None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        #: The fake's time, seconds since the epoch: tokens expire by it, posts carry it.
        self.clock = clock
        self.tokens = set(tokens)
        self.expired: set[str] = set()
        #: When a token stops working (by ``clock``); tokens not here do not expire.
        self.token_expiry: dict[str, float] = {}
        #: Media served at URLs, for the platform's own fetches: ``fake.media[url] = bytes``.
        self.media: dict[str, bytes] = {}
        self.fetch: Fetch = fetch or default_fetch
        self.fetched: list[str] = []
        self._counter = itertools.count(1)

    def next_id(self, prefix: str = "1") -> str:
        """A fresh numeric id."""
        return f"{prefix}{next(self._counter):06d}"

    def fetch_media(self, url: str) -> bytes | None:
        """The bytes at ``url`` as the platform sees them, or None when unreachable."""
        self.fetched.append(url)
        if url in self.media:
            return self.media[url]
        if not url.startswith(("http://", "https://")):
            return None
        return self.fetch(url)

    def expire(self, token: str) -> None:
        """Make ``token`` expired (code 190, subcode 463)."""
        self.expired.add(token)

    def add_token(self, token: str, expires: float | None = None) -> str:
        """Accept ``token`` from now on, until ``expires`` (by ``clock``) when given."""
        self.tokens.add(token)
        if expires is not None:
            self.token_expiry[token] = expires
        return token

    def is_expired(self, token: str) -> bool:
        """Whether ``token`` was expired by a test or has run out by the fake's clock."""
        until = self.token_expiry.get(token)
        return token in self.expired or (until is not None and self.clock() >= until)

    def check_token(
        self, request: httpx.Request, allowed: set[str] | None = None
    ) -> httpx.Response | None:
        """None when the request carries a valid token in ``allowed``; else the error."""
        token = token_of(request)
        if token is None:
            return graph_error(400, 104, "An access token is required to request this resource.")
        if self.is_expired(token):
            return graph_error(
                400,
                190,
                "Error validating access token: Session has expired on Tuesday, 01-Jan-30 "
                "00:00:00 PST.",
                subcode=463,
                headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'},
            )
        if token not in self.tokens:
            return graph_error(
                400,
                190,
                "Invalid OAuth access token - Cannot parse access token",
                headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'},
            )
        if allowed is not None and token not in allowed:
            return graph_error(
                403,
                200,
                "(#200) If posting to a page, requires both pages_read_engagement and "
                "pages_manage_posts as an admin with sufficient administrative permission",
            )
        return None

    def no_object(self, node: str, method: str = "post") -> httpx.Response:
        """The Graph answer for an id that is not there (or not ours)."""
        return graph_error(
            400,
            100,
            f"Unsupported {method} request. Object with ID '{node}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            subcode=33,
            type="GraphMethodException",
        )

    def not_found(self, request: httpx.Request, method_mismatch: bool) -> httpx.Response:
        """Unknown paths answer as Graph does."""
        return graph_error(
            400, 2500, "Unknown path components: " + request.url.path, type="OAuthException"
        )


#: Permissions Facebook Login may grant in these fakes (Page and Instagram publishing).
KNOWN_PERMISSIONS = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "publish_video",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
)
#: Every task a Page admin has (Pages API getting started: ``tasks`` in /me/accounts).
ADMIN_TASKS = ("ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE")
#: A long-lived user token lasts about 60 days (get-long-lived guide: ``expires_in``
#: 5183944 in its example).
LONG_LIVED_SECONDS = 5_183_944
#: Where crosspost sends the browser back by default (facebook.DEFAULT_REDIRECT).
DEFAULT_REDIRECT = "https://localhost:8765/callback"


@dataclass
class FakePage:
    """A Page the fake person manages: its token (read with a long-lived user token, it
    does not expire), the person's tasks on it, the Instagram account linked to it."""

    id: str
    name: str
    token: str
    tasks: tuple[str, ...] = ADMIN_TASKS
    instagram: tuple[str, str] | None = None  # (ig user id, username)


@dataclass
class UserToken:
    """A user token the fake handed out: what it may do, until when (``clock`` seconds)."""

    scopes: tuple[str, ...]
    expires: float | None
    long_lived: bool


def parse_fields(text: str) -> list[tuple[str, list[str] | None]]:
    """``id,name,account{id,username}`` as ``[("id", None), ..., ("account", ["id", ...])]``
    (Graph field expansion, developers.facebook.com/docs/graph-api/field-expansion)."""
    fields: list[tuple[str, list[str] | None]] = []
    depth, start = 0, 0
    parts = []
    for index, char in enumerate(text + ","):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if "{" in part and part.endswith("}"):
            name, inner = part[:-1].split("{", 1)
            fields.append((name, [f for f in inner.split(",") if f]))
        else:
            fields.append((part, None))
    return fields


class FacebookLogin:
    """Facebook Login and the person behind it, served by a Graph fake on its own paths.

    * ``GET /{v}/dialog/oauth`` — the Login dialog (a ``FakeAuthServer``: registered
      app and exact redirect URIs, comma-separated known permissions, ``#_=_`` after
      the redirect); ``declined`` permissions are unticked by the person.
    * ``GET /{v}/oauth/access_token`` — the code exchange (single-use codes, the same
      ``redirect_uri``, the app secret; a 2-hour user token), and
      ``grant_type=fb_exchange_token`` for a long-lived user token (60 days).
    * ``GET /{v}/me/accounts`` — the Pages, with ``fields`` (``access_token``, ``tasks``,
      expansions), ``limit`` and ``after``; a user token only. A Page token read with a
      long-lived user token does not expire; with a short-lived one, it expires with it.
    * ``GET /{v}/me/permissions``, ``GET /{v}/me`` (the Page for a Page token, the person
      for a user token), ``GET /{v}/{page}`` (``instagram_business_account``), and
      ``GET /{v}/debug_token`` (asked with the app token ``app_id|app_secret``).
    Errors are Graph error objects.
    """

    def __init__(
        self,
        fake: GraphFake,
        *,
        app_id: str,
        app_secret: str = "fb-app-secret-0123456789",
        redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT,),
        pages: list[FakePage],
        user_id: str = "100000000000001",
        user_name: str = "Rina Humas",
    ) -> None:
        from tests.fakes.oauth import FakeAuthServer

        self.fake = fake
        self.app_id = app_id
        self.app_secret = app_secret
        self.user_id = user_id
        self.user_name = user_name
        self.pages = pages
        #: Permissions the person unticks in the dialog.
        self.declined: set[str] = set()
        self.server = FakeAuthServer(
            clock=lambda: datetime.fromtimestamp(fake.clock(), UTC),
            scope_separator=",",
            allowed_scopes=KNOWN_PERMISSIONS,
            pkce=None,
            pkce_required=False,
            client_auth="body",
            token_method="GET",
            error_shape="facebook",
            issue_refresh=False,
            report_scope=False,
            redirect_fragment="_=_",
            access_lifetime=timedelta(hours=2),
            code_lifetime=timedelta(minutes=10),
        )
        self.server.register(app_id, app_secret, redirect_uris)
        #: User tokens handed out (short- and long-lived), by token.
        self.users: dict[str, UserToken] = {}
        #: Page tokens handed out: the Page and the permissions they carry.
        self.page_grants: dict[str, tuple[FakePage, tuple[str, ...]]] = {
            p.token: (p, KNOWN_PERMISSIONS) for p in pages
        }
        for page in pages:
            fake.add_token(page.token)

    def mount(self) -> None:
        """Register the routes (before the fake's own catch-all routes)."""
        fake = self.fake
        fake.route("GET", VERSION + r"/dialog/oauth", lambda r, version: self.server.authorize(r))
        # Late-bound, so a test can wrap the token endpoint.
        fake.route(
            "GET", VERSION + r"/oauth/access_token", lambda r, version: self._token(r, version)
        )
        fake.route("GET", VERSION + r"/me/accounts", self._accounts)
        fake.route("GET", VERSION + r"/me/permissions", self._permissions)
        fake.route("GET", VERSION + r"/debug_token", self._debug)

    # -- tokens ------------------------------------------------------------------

    def _user(self, request: httpx.Request) -> UserToken | httpx.Response:
        """The user token of ``request``, or the Graph error for it."""
        token = token_of(request)
        if token is None:
            return graph_error(400, 104, "An access token is required to request this resource.")
        user = self.users.get(token)
        if user is None or (user.expires is not None and self.fake.clock() >= user.expires):
            if token in self.page_grants:
                return graph_error(
                    400,
                    100,
                    "(#100) Tried accessing nonexisting field (accounts) on node type (Page)",
                )
            if user is not None:
                return _session_expired()
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        return user

    def _token(self, request: httpx.Request, version: str) -> httpx.Response:
        params = dict(request.url.params)
        if params.get("grant_type") != "fb_exchange_token":
            response = self.server.token(request)
            if response.status_code == 200:
                body = json.loads(response.content)
                short = body["access_token"]
                scopes = tuple(s for s in self.server.scopes_of(short) if s not in self.declined)
                expires = self.fake.clock() + 2 * 3600
                self.users[short] = UserToken(scopes, expires, long_lived=False)
                self.fake.add_token(short, expires)
            return response
        client = self.server.clients.get(params.get("client_id", ""))
        if client is None or client.client_secret != params.get("client_secret"):
            return graph_error(400, 1, "Error validating client secret.")
        old = self.users.get(params.get("fb_exchange_token", ""))
        if old is None:
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if old.expires is not None and self.fake.clock() >= old.expires:
            return _session_expired()
        token = "EAAL" + secrets.token_urlsafe(24)
        expires = self.fake.clock() + LONG_LIVED_SECONDS
        self.users[token] = UserToken(old.scopes, expires, long_lived=True)
        self.fake.add_token(token, expires)
        return httpx.Response(
            200,
            json={"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_SECONDS},
        )

    def page_token(self, page: FakePage, user: UserToken) -> str:
        """The Page's token as read with ``user``'s token."""
        if user.long_lived:
            self.page_grants[page.token] = (page, user.scopes)
            return page.token
        token = self.fake.add_token("EAAP" + secrets.token_urlsafe(20), user.expires)
        self.page_grants[token] = (page, user.scopes)
        return token

    # -- reads -------------------------------------------------------------------

    def _accounts(self, request: httpx.Request, version: str) -> httpx.Response:
        user = self._user(request)
        if isinstance(user, httpx.Response):
            return user
        if "pages_show_list" not in user.scopes:
            return graph_error(403, 200, "(#200) Requires pages_show_list permission")
        params = dict(request.url.params)
        wanted = parse_fields(params.get("fields", "id,name"))
        known = {"id", "name", "access_token", "tasks", "category", "instagram_business_account"}
        for name, _sub in wanted:
            if name not in known:
                return graph_error(
                    400,
                    100,
                    f"(#100) Tried accessing nonexisting field ({name}) on node type (Page)",
                )
        limit = int(params.get("limit", "25")) if params.get("limit", "25").isdigit() else 25
        start = 0
        if "after" in params:
            target = cursor_id(params["after"])
            index = next((i for i, p in enumerate(self.pages) if p.id == target), None)
            if index is None:
                return graph_error(400, 100, "(#100) The after cursor is not valid")
            start = index + 1
        shown = self.pages[start : start + limit]
        rows = [self._page_row(page, user, wanted) for page in shown]
        body: dict[str, Any] = {"data": rows}
        if shown:
            paging: dict[str, Any] = {
                "cursors": {"before": cursor(shown[0].id), "after": cursor(shown[-1].id)}
            }
            if start + limit < len(self.pages):
                query = {
                    **params,
                    "access_token": token_of(request) or "",
                    "after": cursor(shown[-1].id),
                }
                paging["next"] = f"{self.fake.base_url}/{version}/me/accounts?{urlencode(query)}"
            body["paging"] = paging
        return httpx.Response(200, json=body)

    def _page_row(
        self, page: FakePage, user: UserToken, wanted: list[tuple[str, list[str] | None]]
    ) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, sub in wanted:
            if name == "id":
                row["id"] = page.id
            elif name == "name":
                row["name"] = page.name
            elif name == "category":
                row["category"] = "Government organization"
            elif name == "tasks":
                row["tasks"] = list(page.tasks)
            elif name == "access_token":
                row["access_token"] = self.page_token(page, user)
            elif name == "instagram_business_account" and page.instagram is not None:
                row["instagram_business_account"] = _linked(page, sub)
        return row

    def _permissions(self, request: httpx.Request, version: str) -> httpx.Response:
        user = self._user(request)
        if isinstance(user, httpx.Response):
            return user
        data = [{"permission": p, "status": "granted"} for p in user.scopes]
        data += [{"permission": p, "status": "declined"} for p in sorted(self.declined)]
        return httpx.Response(200, json={"data": data})

    def read_node(self, request: httpx.Request, node: str) -> httpx.Response | None:
        """``GET /{v}/me`` and ``GET /{v}/{page}``; None when ``node`` is not one of these."""
        token = token_of(request)
        page_of_token = self.page_grants.get(token or "")
        if node == "me":
            refused = self.fake.check_token(request)
            if refused is not None:
                return refused
            if page_of_token is not None:
                return httpx.Response(
                    200, json={"id": page_of_token[0].id, "name": page_of_token[0].name}
                )
            if token in self.users:
                return httpx.Response(200, json={"id": self.user_id, "name": self.user_name})
            return None
        page = next((p for p in self.pages if p.id == node), None)
        if page is None:
            return None
        if token in self.users:
            user = self._user(request)
            if isinstance(user, httpx.Response):
                return user
        else:
            refused = self.fake.check_token(request)
            if refused is not None:
                return refused
        row: dict[str, Any] = {"id": page.id}
        for name, sub in parse_fields(dict(request.url.params).get("fields", "id")):
            if name == "name":
                row["name"] = page.name
            elif name == "instagram_business_account" and page.instagram is not None:
                row["instagram_business_account"] = _linked(page, sub)
            elif name not in ("id", "name", "instagram_business_account"):
                return graph_error(
                    400,
                    100,
                    f"(#100) Tried accessing nonexisting field ({name}) on node type (Page)",
                )
        return httpx.Response(200, json=row)

    def _debug(self, request: httpx.Request, version: str) -> httpx.Response:
        if token_of(request) != f"{self.app_id}|{self.app_secret}":
            return graph_error(
                400,
                100,
                "(#100) You must provide an app access token, or a user access token that is "
                "an owner or developer of the app",
            )
        token = dict(request.url.params).get("input_token", "")
        data: dict[str, Any] = {"app_id": self.app_id, "application": "crosspost test"}
        user = self.users.get(token)
        page = self.page_grants.get(token)
        if token in self.fake.tokens and not self.fake.is_expired(token) and (user or page):
            until = self.fake.token_expiry.get(token)
            data.update(
                is_valid=True,
                expires_at=int(until) if until is not None else 0,
                scopes=list(user.scopes if user else page[1] if page else ()),
                user_id=self.user_id,
            )
            if page is not None:
                data.update(type="PAGE", profile_id=page[0].id)
            else:
                data["type"] = "USER"
        else:
            data.update(
                is_valid=False,
                scopes=[],
                error={"code": 190, "message": "The access token is invalid or has expired."},
            )
        return httpx.Response(200, json={"data": data})


def _link_error(link: str) -> httpx.Response | None:
    """The feed's ``link`` is an absolute http(s) URL with a host, to anywhere but
    Facebook itself (apps may not share facebook.com links: subcode 1609008, postiz
    ``handleErrors``; the code that comes with it is UNVERIFIED, 100 here)."""
    bad = graph_error(400, 100, "(#100) The link is not a valid URL", subcode=2061006)
    if link != link.strip() or any(c.isspace() for c in link):
        return bad
    try:
        url = httpx.URL(link)
    except httpx.InvalidURL:
        return bad
    host = (url.host or "").lower()
    if url.scheme not in ("http", "https") or "." not in host:
        return bad
    if host == "facebook.com" or host.endswith(".facebook.com"):
        return graph_error(
            400, 100, "(#100) Posting links to Facebook is not allowed", subcode=1609008
        )
    return None


def _linked(page: FakePage, sub: list[str] | None) -> dict[str, str]:
    assert page.instagram is not None
    ig_id, username = page.instagram
    values = {"id": ig_id, "username": username}
    return {k: values[k] for k in (sub or ["id"]) if k in values}


def _no_field(name: str) -> httpx.Response:
    return graph_error(
        400, 100, f"(#100) Tried accessing nonexisting field ({name}) on node type (Page)"
    )


def _session_expired() -> httpx.Response:
    return graph_error(
        400,
        190,
        "Error validating access token: Session has expired on Tuesday, 01-Jan-30 00:00:00 PST.",
        subcode=463,
        headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'},
    )


class FakeFacebook(GraphFake):
    """A Facebook Page behind the Graph API; see the module docstring for its rules."""

    name = "facebook"

    def __init__(
        self,
        page_id: str = "102938475610293",
        page_token: str = "fb-page-token-0123456789",
        *,
        user_token: str = "fb-user-token-0123456789",
        app_id: str = "445566778899",
        fetch: Fetch | None = None,
        max_photo_bytes: int = 4_000_000,
        uploads_need_user_token: bool = True,
        clock: Callable[[], float] = time.time,
        chunk_size: int = 1_000_000,
        page_name: str = "KPU Kabupaten Musi Rawas",
        other_pages: tuple[FakePage, ...] = (),
        **login: Any,
    ) -> None:
        super().__init__({page_token, user_token}, fetch, clock)
        self.page_id = page_id
        self.page_token = page_token
        self.user_token = user_token
        self.app_id = app_id
        self.max_photo_bytes = max_photo_bytes
        self.uploads_need_user_token = uploads_need_user_token
        #: Bytes a Page upload's transfer takes at a time (Facebook's choice, in the
        #: ``end_offset`` it answers).
        self.chunk_size = chunk_size
        #: Published posts, oldest first: dicts with id, kind, message, link, photos...
        self.posts: list[dict[str, Any]] = []
        #: Every photo uploaded, by id: bytes, url, caption, published, attached_to.
        self.photos: dict[str, dict[str, Any]] = {}
        #: Resumable Upload API sessions by the base64 part of their id.
        self.uploads: dict[str, dict[str, Any]] = {}
        #: The Page videos edge's upload sessions by ``upload_session_id``.
        self.video_sessions: dict[str, dict[str, Any]] = {}
        #: Keep this many bytes of the next upload request, then drop the connection.
        self.cut_upload_at: int | None = None
        #: Signs upload session ids, as Meta's ``?sig=`` does.
        self._upload_key = secrets.token_bytes(16)
        #: Facebook Login and the person who manages this Page (and ``other_pages``).
        self.login = FacebookLogin(
            self,
            app_id=app_id,
            pages=[FakePage(page_id, page_name, page_token), *other_pages],
            **login,
        )
        self.login.mount()
        self.route("POST", VERSION + r"/upload:(?P<session>.*)", self._upload_bytes)
        self.route("GET", VERSION + r"/upload:(?P<session>.*)", self._upload_status)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/feed", self._feed)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)/feed", self._read_feed)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/photos", self._photo)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/uploads", self._open_upload)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/videos", self._video)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)/videos", self._read_videos)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)", self._node)

    # -- helpers -----------------------------------------------------------

    def _page(self, request: httpx.Request, node: str) -> httpx.Response | None:
        refused = self.check_token(request, {self.page_token})
        if refused is not None:
            return refused
        if node != self.page_id:
            return self.no_object(node)
        return None

    def _message_error(self, message: str) -> httpx.Response | None:
        if len(message) > MAX_MESSAGE:
            return graph_error(
                400, 100, f"(#100) The message is too long: at most {MAX_MESSAGE} characters"
            )
        return None

    def add_post(self, message: str) -> dict[str, Any]:
        """A text post on the Page made elsewhere (by hand, another tool), created now."""
        return self._record("feed", message=message, link=None, photos=[])

    def _record(self, kind: str, **fields: Any) -> dict[str, Any]:
        created = self.clock()
        post = {
            "id": f"{self.page_id}_{self.next_id('9')}",
            "kind": kind,
            "created": created,
            "created_time": graph_time(created),
            **fields,
        }
        self.posts.append(post)
        return post

    # -- feed --------------------------------------------------------------

    def _feed(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._page(request, node)
        if refused is not None:
            return refused
        params = form(request)
        message = params.get("message", "")
        link = params.get("link")
        attached = self._attached(params)
        if isinstance(attached, httpx.Response):
            return attached
        if not message and not link and not attached:
            return graph_error(400, 100, "(#100) Missing message or attachment")
        too_long = self._message_error(message)
        if too_long is not None:
            return too_long
        if link is not None:
            refused = _link_error(link)
            if refused is not None:
                return refused
        if message and any(p.get("message") == message for p in self.posts):
            return graph_error(
                400,
                506,
                "(#506) Duplicate status message",
                user_title="Duplicate Post",
                user_msg="This status update is identical to one you posted recently.",
            )
        post = self._record("feed", message=message, link=link, photos=attached)
        for photo_id in attached:
            self.photos[photo_id]["attached_to"] = post["id"]
        return httpx.Response(200, json={"id": post["id"]})

    def _attached(self, params: dict[str, str]) -> list[str] | httpx.Response:
        """``attached_media`` as a JSON list, or as ``attached_media[N]`` fields."""
        items: list[Any] = []
        if "attached_media" in params:
            try:
                value = json.loads(params["attached_media"])
            except ValueError:
                return graph_error(400, 100, "(#100) param attached_media must be an array")
            if not isinstance(value, list):
                return graph_error(400, 100, "(#100) param attached_media must be an array")
            items = value
        else:
            keyed = sorted(
                (int(k[len("attached_media[") : -1]), v)
                for k, v in params.items()
                if k.startswith("attached_media[") and k.endswith("]")
            )
            for _, raw in keyed:
                try:
                    items.append(json.loads(raw))
                except ValueError:
                    items.append(None)
        ids = []
        for index, item in enumerate(items):
            fbid = item.get("media_fbid") if isinstance(item, dict) else None
            photo = self.photos.get(str(fbid)) if fbid is not None else None
            if (
                photo is None
                or photo["published"]
                or photo["attached_to"] is not None
                or str(fbid) in ids
            ):
                return graph_error(
                    400, 100, f"(#100) param attached_media[{index}] has an invalid media_fbid"
                )
            ids.append(str(fbid))
        return ids

    def _read_feed(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._page(request, node)
        if refused is not None:
            return refused
        # A video post shows on the feed with its description as the message.
        rows = [
            {
                "id": p["id"],
                "message": p.get("message", p.get("description", "")),
                "created": p["created"],
                "created_time": p["created_time"],
                "permalink_url": f"https://www.facebook.com/{p['id']}",
            }
            for p in self.posts
        ]
        return self._list(request, version, node, "feed", rows, FEED_FIELDS, "PagePost")

    def _read_videos(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._page(request, node)
        if refused is not None:
            return refused
        rows = [
            {
                "id": p["video_id"],
                "description": p.get("description", ""),
                "title": p.get("title"),
                "created": p["created"],
                "created_time": p["created_time"],
                "permalink_url": f"/{self.page_id}/videos/{p['video_id']}/",
                "published": True,
            }
            for p in self.posts
            if p["kind"] == "video"
        ]
        return self._list(request, version, node, "videos", rows, VIDEO_FIELDS, "Video")

    def _list(
        self,
        request: httpx.Request,
        version: str,
        node: str,
        edge: str,
        rows: list[dict[str, Any]],
        allowed: set[str],
        node_type: str,
    ) -> httpx.Response:
        """An edge read as Graph pages it: newest first, ``since``/``until``, ``after``."""
        params = form(request)
        fields = [f for f in params.get("fields", "id,created_time").split(",") if f]
        for name in fields:
            if name not in allowed:
                return graph_error(
                    400,
                    100,
                    f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})",
                    type="OAuthException",
                )
        raw_limit = params.get("limit", "25")
        if not raw_limit.isdigit() or int(raw_limit) < 1:
            return graph_error(400, 100, "(#100) The parameter limit must be a positive integer")
        limit = min(int(raw_limit), MAX_LIMIT)
        bounds: dict[str, float] = {}
        for name in ("since", "until"):
            if name in params:
                when = parse_time(params[name])
                if when is None:
                    return graph_error(400, 100, f"(#100) The parameter {name} is not a valid time")
                bounds[name] = when
        newest = sorted(rows, key=lambda r: r["created"], reverse=True)
        shown = [
            r
            for r in newest
            if r["created"] >= bounds.get("since", 0.0)
            and r["created"] <= bounds.get("until", float("inf"))
        ]
        start = 0
        if "after" in params:
            target = cursor_id(params["after"])
            index = next((i for i, r in enumerate(shown) if r["id"] == target), None)
            if index is None:
                return graph_error(400, 100, "(#100) The after cursor is not valid")
            start = index + 1
        page = shown[start : start + limit]
        body: dict[str, Any] = {"data": [{k: r[k] for k in fields} for r in page]}
        if page:
            paging: dict[str, Any] = {
                "cursors": {"before": cursor(page[0]["id"]), "after": cursor(page[-1]["id"])}
            }
            if start + limit < len(shown):
                query = {k: v for k, v in params.items() if k != "after"}
                query.update(access_token=token_of(request) or "", after=cursor(page[-1]["id"]))
                paging["next"] = f"{self.base_url}/{version}/{node}/{edge}?{urlencode(query)}"
            body["paging"] = paging
        return httpx.Response(200, json=body)

    # -- photos ------------------------------------------------------------

    def _photo(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._page(request, node)
        if refused is not None:
            return refused
        fields, files = multipart(request)
        params = {**form(request), **fields}
        published = params.get("published", "true").lower() != "false"
        caption = params.get("caption") or params.get("message") or ""
        url = params.get("url")
        if ("source" in files) == (url is not None):
            return graph_error(400, 324, "(#324) Requires upload file: send source or url")
        data = files["source"] if "source" in files else self.fetch_media(str(url))
        if data is None:
            return graph_error(400, 324, "(#324) Missing or invalid image file")
        if image_type(data) is None:
            return graph_error(400, 324, "(#324) Missing or invalid image file")
        if len(data) > self.max_photo_bytes:
            return graph_error(
                400,
                100,
                "(#100) Photos should be smaller than 4 MB and saved as JPG, PNG",
                subcode=1366046,
            )
        too_long = self._message_error(caption)
        if too_long is not None:
            return too_long
        digest = hashlib.sha256(data).hexdigest()
        if published and any(
            p["published"] and p["digest"] == digest for p in self.photos.values()
        ):
            return graph_error(
                400, 506, "(#506) These photos were already posted.", subcode=1366051
            )
        photo_id = self.next_id("5")
        photo = {
            "id": photo_id,
            "bytes": data,
            "digest": digest,
            "url": url,
            "caption": caption,
            "published": published,
            "attached_to": None,
        }
        self.photos[photo_id] = photo
        if not published:
            return httpx.Response(200, json={"id": photo_id})
        post = self._record("photo", message=caption, photos=[photo_id])
        photo["attached_to"] = post["id"]
        return httpx.Response(200, json={"id": photo_id, "post_id": post["id"]})

    # -- reading nodes ----------------------------------------------------------------

    def _node(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        """``GET /{v}/me`` and ``GET /{v}/{page}`` (the login's), else an unknown object."""
        found = self.login.read_node(request, node)
        if found is not None:
            return found
        refused = self.check_token(request)
        return refused if refused is not None else self.no_object(node, "get")

    def user_tokens(self) -> set[str]:
        """Tokens of the person (not of a Page): the fixed one and every one handed out."""
        return {self.user_token, *self.login.users}

    # -- the Resumable Upload API (app uploads) --------------------------------------

    def session_id(self, key: str) -> str:
        """The id Meta hands out for an upload session: ``upload:<base64>?sig=<mac>``."""
        return f"upload:{key}?sig={self._sign(key)}"

    def _sign(self, key: str) -> str:
        mac = hmac.new(self._upload_key, f"upload:{key}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:15]).decode()

    def _open_upload(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        allowed = self.user_tokens() if self.uploads_need_user_token else None
        refused = self.check_token(request, allowed)
        if refused is not None:
            return refused
        if node != self.app_id:
            return self.no_object(node)
        params = form(request)
        for key in ("file_name", "file_length", "file_type"):
            if not params.get(key):
                return graph_error(400, 100, f"(#100) The parameter {key} is required")
        if not params["file_length"].isdigit() or int(params["file_length"]) <= 0:
            return graph_error(400, 100, "(#100) file_length must be a positive integer")
        if params["file_type"] not in UPLOAD_TYPES:
            return graph_error(
                400, 100, f"(#100) file_type must be one of {', '.join(UPLOAD_TYPES)}"
            )
        # Like Meta's: base64 of "1:attachment:<id>" padded with "=", then "?sig=".
        raw = f"1:attachment:{self.next_id('7')}-{secrets.token_hex(4)}"
        while len(raw.encode()) % 3 == 0:
            raw += "x"
        key = base64.b64encode(raw.encode()).decode()
        self.uploads[key] = {
            "name": params["file_name"],
            "length": int(params["file_length"]),
            "type": params["file_type"],
            "data": bytearray(),
            "handle": None,
            "used": False,
        }
        return httpx.Response(200, json={"id": self.session_id(key)})

    def _session(self, request: httpx.Request, session: str) -> dict[str, Any] | httpx.Response:
        """The upload session a request names, checked as Meta does: the id's ``?sig=`` must
        arrive as the query string and match, or the answer is "HMAC check failed"."""
        refused = self.check_token(
            request, self.user_tokens() if self.uploads_need_user_token else None
        )
        if refused is not None:
            return refused
        # ``session`` is the decoded path after "upload:": a "?" in it means the id was
        # percent-encoded into the path, and its signature did not arrive as one.
        key = session
        sig = request.url.params.get("sig")
        if "?" in key or sig is None or not hmac.compare_digest(sig, self._sign(key)):
            # Meta's words (issue #7); its code is UNVERIFIED: 100 here.
            return graph_error(
                400, 100, f"HMAC check failed! sessionId=upload:{key} mac={sig or ''}"
            )
        upload = self.uploads.get(key)
        if upload is None:
            return self.no_object(f"upload:{key}")
        return upload

    def _upload_bytes(self, request: httpx.Request, version: str, session: str) -> httpx.Response:
        upload = self._session(request, session)
        if isinstance(upload, httpx.Response):
            return upload
        held = len(upload["data"])
        raw = request.headers.get("file_offset")
        if raw is None or not raw.isdigit():
            return graph_error(400, 100, "(#100) The file_offset header is required")
        if int(raw) != held:
            return graph_error(
                400, 100, f"(#100) file_offset {raw} does not match the {held} bytes received"
            )
        body = request.content
        if held + len(body) > upload["length"]:
            return graph_error(400, 100, "(#100) More bytes than file_length were sent")
        if self.cut_upload_at is not None and len(body) > self.cut_upload_at:
            upload["data"] += body[: self.cut_upload_at]
            self.cut_upload_at = None
            raise Dropped
        upload["data"] += body
        if len(upload["data"]) < upload["length"]:
            return httpx.Response(
                200, json={"id": self.session_id(session), "file_offset": len(upload["data"])}
            )
        if upload["handle"] is None:
            upload["handle"] = f"4:{hashlib.sha1(bytes(upload['data'])).hexdigest()}"
        return httpx.Response(200, json={"h": upload["handle"]})

    def _upload_status(self, request: httpx.Request, version: str, session: str) -> httpx.Response:
        upload = self._session(request, session)
        if isinstance(upload, httpx.Response):
            return upload
        return httpx.Response(
            200, json={"id": self.session_id(session), "file_offset": len(upload["data"])}
        )

    # -- videos ------------------------------------------------------------------------

    def _video(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._page(request, node)
        if refused is not None:
            return refused
        fields, files = multipart(request)
        params = {**form(request), **fields}
        if "upload_phase" in params:
            return self._phase(params, files)
        handle = params.get("fbuploader_video_file_chunk")
        file_url = params.get("file_url")
        if (handle is None) == (file_url is None):
            return graph_error(
                400, 100, "(#100) Send one of fbuploader_video_file_chunk or file_url"
            )
        if handle is not None:
            upload = next((u for u in self.uploads.values() if u["handle"] == handle), None)
            if upload is None or upload["used"] or not upload["type"].startswith("video/"):
                return graph_error(400, 100, "(#100) Invalid or already used file handle")
            data = bytes(upload["data"])
            upload["used"] = True
        else:
            fetched = self.fetch_media(str(file_url))
            if fetched is None:
                return graph_error(400, 100, "(#100) The video at file_url could not be fetched")
            data = fetched
        return self._publish_video(self.next_id("3"), params, data, file_url)

    def _publish_video(
        self, video_id: str, params: dict[str, str], data: bytes, file_url: str | None
    ) -> httpx.Response:
        if not is_video(data):
            return graph_error(400, 352, "(#352) The video file you selected is not supported")
        description = params.get("description", "")
        too_long = self._message_error(description)
        if too_long is not None:
            return too_long
        self._record(
            "video",
            video_id=video_id,
            title=params.get("title"),
            description=description,
            bytes=data,
            file_url=file_url,
        )
        if "upload_session_id" in params:
            return httpx.Response(200, json={"success": True})
        return httpx.Response(200, json={"id": video_id})

    def _phase(self, params: dict[str, str], files: dict[str, bytes]) -> httpx.Response:
        """The Page videos edge's chunked upload: start, transfer, finish."""
        phase = params["upload_phase"]
        if "file_url" in params or "fbuploader_video_file_chunk" in params:
            return graph_error(400, 100, "(#100) file_url cannot be used with upload_phase")
        if phase == "start":
            size = params.get("file_size", "")
            if not size.isdigit() or int(size) <= 0:
                return graph_error(400, 100, "(#100) file_size must be a positive integer")
            session_id, video_id = self.next_id("8"), self.next_id("3")
            self.video_sessions[session_id] = {
                "video_id": video_id,
                "size": int(size),
                "data": bytearray(),
                "finished": False,
            }
            return httpx.Response(
                200,
                json={
                    "upload_session_id": session_id,
                    "video_id": video_id,
                    "start_offset": "0",
                    "end_offset": str(min(self.chunk_size, int(size))),
                },
            )
        upload = self.video_sessions.get(params.get("upload_session_id", ""))
        if upload is None:
            return graph_error(400, 100, "(#100) Invalid upload_session_id")
        if upload["finished"]:
            return graph_error(400, 100, "(#100) This upload session is already finished")
        if phase == "transfer":
            return self._transfer(upload, params, files)
        if phase == "finish":
            if len(upload["data"]) != upload["size"]:
                return graph_error(
                    400, 6001, "(#6001) The video file is not complete", subcode=1363030
                )
            upload["finished"] = True
            return self._publish_video(upload["video_id"], params, bytes(upload["data"]), None)
        return graph_error(400, 100, f"(#100) Invalid upload_phase: {phase}")

    def _transfer(
        self, upload: dict[str, Any], params: dict[str, str], files: dict[str, bytes]
    ) -> httpx.Response:
        held, size = len(upload["data"]), upload["size"]
        wanted_end = min(held + self.chunk_size, size)
        chunk = files.get("video_file_chunk")
        start = params.get("start_offset", "")
        if chunk is None or not start.isdigit():
            return graph_error(
                400, 100, "(#100) Send start_offset and the file as video_file_chunk"
            )
        if int(start) != held or len(chunk) != wanted_end - held:
            # What Facebook answers a chunk it does not expect, with the offsets it wants
            # (Facebook's PHP SDK resumes from error_data).
            return graph_error(
                400,
                6001,
                "There was a problem uploading your video file. Please try again.",
                subcode=1363037,
                user_title="Video Upload Failed",
                error_data={"start_offset": str(held), "end_offset": str(wanted_end)},
            )
        if self.cut_upload_at is not None and len(chunk) > self.cut_upload_at:
            self.cut_upload_at = None  # a multipart chunk is all or nothing
            raise Dropped
        upload["data"] += chunk
        held = len(upload["data"])
        end = min(held + self.chunk_size, size)
        return httpx.Response(200, json={"start_offset": str(held), "end_offset": str(end)})
