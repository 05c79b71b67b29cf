"""A strict fake of X API v2's posting and media endpoints, and of X's two ways to sign in.

Real paths, real validation and real error shapes: RFC 7807 problems
(``{"title", "detail", "type", "status"}``, 400s with ``errors[].message``),
``x-rate-limit-*`` headers on every answer, the 403 duplicate-content refusal,
the Feb 2026 self-serve reply restriction (``self_serve=True``), and
media that must be uploaded, finalized and processed before a post can use it.

Signing in (docs/platforms/twitter.md):

* OAuth 2.0: ``FakeAuthServer`` with X's rules serves ``/i/oauth2/authorize``,
  ``/2/oauth2/token`` and ``/2/oauth2/revoke``: PKCE S256, HTTP Basic for a
  confidential client, codes valid 30 s, a refresh token only with
  ``offline.access``, refresh tokens that rotate, access tokens that expire after
  2 hours on its clock (``auth_clock``). The bearer check refuses an expired,
  revoked or unknown token with X's 401 problem.
* OAuth 1.0a: ``/oauth/request_token``, ``/oauth/authorize`` and
  ``/oauth/access_token`` (the 3-legged flow), and every request signed with
  ``Authorization: OAuth`` has its HMAC-SHA1 signature recomputed here from the
  method, the URL, the ``oauth_*`` parameters and the query and form-encoded body
  parameters (RFC 5849 §3.4; JSON and multipart bodies are not signed). A wrong
  signature, an unknown consumer key or token, a reused nonce or a timestamp
  more than ``timestamp_window`` seconds off is refused with a 401: X's problem on
  the v2 endpoints, ``{"errors": [{"code": 32|89|135, "message"}]}`` on the
  ``/oauth`` steps.

Uploads keep sizes, not bytes (plus the first bytes of a file, to sniff its
type), so a 1 GiB benchmark upload goes through in constant memory.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import httpx

from crosspost.twittertext import extract_mentions, extract_urls, weighted_length
from tests.fakes.base import FakePlatform, Handler, body_json
from tests.fakes.oauth import FakeAuthServer

PROBLEMS = "https://api.x.com/2/problems"
#: openapi.json CreatePostsRequest: ``additionalProperties: false``.
TWEET_FIELDS = {
    "text",
    "media",
    "reply",
    "reply_settings",
    "quote_tweet_id",
    "poll",
    "made_with_ai",
    "paid_partnership",
    "community_id",
    "share_with_followers",
    "nullcast",
    "for_super_followers_only",
    "geo",
    "edit_options",
    "direct_message_deep_link",
    "card_uri",
}
MEDIA_TYPES = {
    "video/mp4",
    "video/webm",
    "video/mp2t",
    "video/quicktime",
    "image/jpeg",
    "image/gif",
    "image/png",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "text/srt",
    "text/vtt",
    "image/pjpeg",
    "model/gltf-binary",
    "model/vnd.usdz+zip",
}
CATEGORIES = {
    "tweet_image",
    "tweet_video",
    "tweet_gif",
    "amplify_video",
    "dm_image",
    "dm_video",
    "dm_gif",
    "subtitles",
}
MAX_TOTAL_BYTES = 17_179_869_184  # openapi.json initialize total_bytes maximum
IMAGE_BYTES = 5_000_000  # X media best practices: images up to 5 MB
GIF_BYTES = 15_000_000
ID_PATTERN = re.compile(r"^[0-9]{1,19}$")
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
#: The detail of X's 403 to a reply the author did not summon. X documents the
#: rule (https://docs.x.com/x-api/posts/manage-tweets/integrate, "Post creation
#: restrictions") but not the answer: this wording and the problem's shape
#: (``title`` "Forbidden", ``detail``, ``status`` 403) are as published API clients
#: quote X's answer; the ``type`` (``about:blank``) is UNVERIFIED.
REPLY_REFUSED = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)
#: Requests per 15 minutes per user (https://docs.x.com/x-api/fundamentals/rate-limits, 2026).
RATE_LIMITS = {
    "tweets": 100,
    "upload": 500,
    "chunked": 1875,
    "status": 1000,
    "metadata": 500,
    "me": 75,  # GET /2/users/me
    "timeline": 900,  # GET /2/users/:id/tweets (same page)
}
WINDOW = 15 * 60
#: Query parameters of GET /2/users/:id/tweets (openapi.json).
TIMELINE_PARAMS = {
    "since_id",
    "until_id",
    "max_results",
    "pagination_token",
    "exclude",
    "start_time",
    "end_time",
    "expansions",
    "tweet.fields",
    "media.fields",
    "poll.fields",
    "user.fields",
    "place.fields",
}
#: The ``tweet.fields`` the fake can show (a subset of X's; others are refused).
TWEET_READ_FIELDS = {"id", "text", "created_at", "referenced_tweets", "edit_history_tweet_ids"}
#: The earliest ``start_time`` X accepts: 2010-11-06T00:00:01Z.
EARLIEST = 1289001601.0
#: OAuth 2.0 scopes X knows (docs.x.com, OAuth 2.0 authorization code, "Scopes").
X_SCOPES = {
    "tweet.read",
    "tweet.write",
    "tweet.moderate.write",
    "users.email",
    "users.read",
    "follows.read",
    "follows.write",
    "offline.access",
    "space.read",
    "mute.read",
    "mute.write",
    "like.read",
    "like.write",
    "list.read",
    "list.write",
    "block.read",
    "block.write",
    "bookmark.read",
    "bookmark.write",
    "media.write",
    "dm.read",
    "dm.write",
}
FORM = "application/x-www-form-urlencoded"
#: X's answers to a refused OAuth 1.0a step (``/oauth/*``), by v1.1 error code.
OAUTH1_ERRORS = {
    32: "Could not authenticate you.",
    89: "Invalid or expired token.",
    135: "Timestamp out of bounds.",
}
CALLBACK_REFUSED = (
    "Callback URL not approved for this client application. Approved callback URLs can be "
    "adjusted in your application settings"
)
BAD_VERIFIER = "Error processing your OAuth request: Invalid oauth_verifier parameter"


def _enc(value: str) -> str:
    """RFC 5849 §3.6 percent-encoding (written here again, independently of crosspost)."""
    return quote(value.encode("utf-8"), safe="-._~")


def expected_signature(
    request: httpx.Request, oauth: dict[str, str], consumer_secret: str, token_secret: str
) -> str:
    """The HMAC-SHA1 signature X computes for ``request`` (RFC 5849 §3.4).

    ``oauth`` holds the protocol parameters of the header, ``oauth_signature`` and
    ``realm`` left out; query parameters and a form-encoded body are added.
    """
    url = urlsplit(str(request.url))
    pairs = list(oauth.items()) + parse_qsl(url.query, keep_blank_values=True)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM:
        pairs += parse_qsl(request.content.decode("utf-8"), keep_blank_values=True)
    host = (url.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(url.scheme.lower())
    netloc = host if url.port in (None, default) else f"{host}:{url.port}"
    uri = f"{url.scheme.lower()}://{netloc}{url.path or '/'}"
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in pairs))
    base = "&".join((request.method.upper(), _enc(uri), _enc(normalized)))
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}"
    digest = hmac.new(key.encode("ascii"), base.encode("ascii"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def oauth_params(header: str) -> dict[str, str] | None:
    """The protocol parameters of an ``Authorization: OAuth k="v", …`` header, decoded."""
    scheme, _, rest = header.partition(" ")
    if scheme != "OAuth":
        return None
    found = re.findall(r'([A-Za-z0-9_%.~-]+)="([^"]*)"', rest)
    params = {unquote(k): unquote(v) for k, v in found}
    params.pop("realm", None)
    return params


@dataclass
class RequestToken:
    """A temporary credential of the 3-legged OAuth 1.0a flow."""

    secret: str
    callback: str
    verifier: str | None = None  # set once the user authorized
    used: bool = False


def rfc3339(value: str) -> float | None:
    """Seconds since the epoch of ``YYYY-MM-DDTHH:mm:ssZ`` (optional .sss), or None."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,3})?Z", value)
    if not match:
        return None
    try:
        seconds = calendar.timegm(time.strptime(match[1], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None
    return seconds + float(match[2] or 0)


@dataclass
class Tweet:
    """A post the fake created."""

    id: str
    text: str
    media_ids: list[str]
    reply_to: str | None
    author: str
    created: float = field(default_factory=time.time)
    #: The post this one quotes (``quote_tweet_id``), if any.
    quote_of: str | None = None

    @property
    def shown_text(self) -> str:
        """The text as X shows it back: every link rewritten to a t.co address."""
        out, last = [], 0
        for number, entity in enumerate(extract_urls(self.text)):
            out += [self.text[last : entity.start], f"https://t.co/fake{self.id[-6:]}{number}"]
            last = entity.end
        return "".join(out) + self.text[last:]


@dataclass
class Media:
    """An upload: its declared size, the sizes of its segments, and its processing state."""

    id: str
    owner: str
    category: str
    media_type: str | None
    total_bytes: int | None
    segments: dict[int, int] = field(default_factory=dict)  # segment_index -> byte count
    heads: dict[int, bytes] = field(default_factory=dict)  # first bytes of early segments
    finalized: bool = False
    state: str | None = None  # None (no processing), pending, in_progress, succeeded, failed
    polls: int = 0
    error: str | None = None
    expires_at: float = 0.0
    alt_text: str | None = None

    @property
    def size(self) -> int:
        """Bytes received so far."""
        return sum(self.segments.values())

    @property
    def head(self) -> bytes:
        """The file's first 32 bytes, to sniff its type (segments may be tiny in tests)."""
        return b"".join(self.heads[i] for i in sorted(self.heads))[:32]

    @property
    def kind(self) -> str:
        """photo, gif or video, as X decides what may be mixed in one post."""
        if self.category.endswith("gif") or self.media_type == "image/gif":
            return "gif"
        if self.category.endswith("video") or (self.media_type or "").startswith("video/"):
            return "video"
        return "photo"

    @property
    def key(self) -> str:
        """The ``media_key``: a type prefix (3 photo, 7 video, 16 GIF) and the id."""
        return f"{ {'photo': 3, 'video': 7, 'gif': 16}[self.kind] }_{self.id}"


def problem(
    status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any
) -> dict[str, Any]:
    """An RFC 7807 problem object as X sends it."""
    return {"title": title, "detail": detail, "type": kind, "status": status, **extra}


def invalid(message: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    """X's 400 for a bad request: a generic detail, the reasons in ``errors``."""
    return 400, {
        "errors": [{"parameters": parameters, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": f"{PROBLEMS}/invalid-request",
    }


def forbidden(detail: str) -> tuple[int, dict[str, Any]]:
    """X's 403 problem (duplicate content, reply refused)."""
    return 403, problem(403, "Forbidden", detail)


def sniff(head: bytes) -> str | None:
    """The MIME type of an image or video by its magic number."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"BM"):
        return "image/bmp"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return None


def parse_multipart(request: httpx.Request) -> tuple[dict[str, str], dict[str, bytes]] | None:
    """Fields and files of a multipart/form-data body, or None when it is malformed.

    A byte-exact parser (``bytes.find`` on the boundary): fast on 5 MiB chunks
    and faithful to binary content.
    """
    ctype = request.headers.get("content-type", "")
    match = re.match(r'multipart/form-data;.*\bboundary="?([^";]+)"?', ctype)
    if not match:
        return None
    delimiter = b"--" + match[1].encode("latin-1")
    body = request.content
    if not body.startswith(delimiter):
        return None
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    pos = len(delimiter)
    while body[pos : pos + 2] != b"--":
        if body[pos : pos + 2] != b"\r\n":
            return None
        header_end = body.find(b"\r\n\r\n", pos + 2)
        if header_end < 0:
            return None
        headers = body[pos + 2 : header_end].decode("latin-1")
        end = body.find(b"\r\n" + delimiter, header_end + 4)
        if end < 0:
            return None
        data = body[header_end + 4 : end]
        disposition = re.search(r"(?im)^content-disposition:\s*form-data(.*)$", headers)
        if not disposition:
            return None
        name = re.search(r'\bname="([^"]*)"', disposition[1])
        if not name:
            return None
        if re.search(r"\bfilename=", disposition[1]):
            files[name[1]] = data
        else:
            fields[name[1]] = data.decode("utf-8")
        pos = end + 2 + len(delimiter)
    return fields, files


class FakeTwitter(FakePlatform):
    """X API v2: ``/2/tweets``, the media upload endpoints, STATUS and alt text.

    ``token`` is the one valid OAuth 2.0 user token. ``max_length`` is 280 (set
    it higher for Premium). ``processing_polls`` STATUS polls finish processing
    a video or GIF; ``processing_error`` makes processing fail with that
    message. ``self_serve=True`` applies X's Feb 2026 restriction on self-serve
    (pay-per-use) tiers: a reply is refused with a 403 unless the author of the
    post replied to summoned this account, by @mentioning it in that post or by
    quoting one of its posts in it (``summoned``); Enterprise access (the
    default here) replies anywhere.
    """

    name = "twitter"

    def __init__(
        self,
        token: str = "x-user-token",
        *,
        user_id: str = "1492014720000000000",
        username: str = "kpumura",
        max_length: int = 280,
        self_serve: bool = False,
        processing_polls: int = 2,
        processing_error: str | None = None,
        max_chunk_bytes: int = 5 * 1024 * 1024,
        max_video_bytes: int | None = None,
        clock: Callable[[], float] = time.time,
        auth_clock: Callable[[], datetime] | None = None,
        client_id: str = "x-client-id-7Qa2",
        client_secret: str | None = "x-client-secret-9Zb4",
        consumer_key: str = "x-consumer-key-3Kd8",
        consumer_secret: str = "x-consumer-secret-5Lm1",
        callback_urls: tuple[str, ...] = ("http://127.0.0.1:8723/callback",),
        timestamp_window: float = 300.0,
    ) -> None:
        super().__init__()
        #: A user token that never expires (what tests put in the environment); the
        #: tokens the OAuth 2.0 server issues are checked against it instead.
        self.token = token
        self.user_id = user_id
        self.username = username
        self.max_length = max_length
        self.self_serve = self_serve
        self.processing_polls = processing_polls
        self.processing_error = processing_error
        self.max_chunk_bytes = max_chunk_bytes
        # None: no size cap, so a 1 GiB benchmark upload passes (X's is 512 MB).
        self.max_video_bytes = max_video_bytes
        self.clock = clock
        self.rate_limits = dict(RATE_LIMITS)
        self.tweets: list[Tweet] = []
        self.media: dict[str, Media] = {}
        self._used: dict[str, tuple[float, int]] = {}  # bucket -> (window start, requests)
        self._next_id = 1880028106020515840
        # OAuth 2.0 (X's rules: see the module docstring).
        self.oauth = FakeAuthServer(
            clock=auth_clock,
            allowed_scopes=X_SCOPES,
            client_auth="basic",
            code_lifetime=timedelta(seconds=30),
            access_lifetime=timedelta(hours=2),
            rotate_refresh=True,
            offline_scope="offline.access",
        )
        self.client_id = client_id
        self.client_secret = client_secret
        self.oauth.register(client_id, client_secret, callback_urls)
        self.oauth.mount(
            self,
            authorize="/i/oauth2/authorize",
            token="/2/oauth2/token",
            revoke="/2/oauth2/revoke",
        )
        # OAuth 1.0a: the app's consumer credentials, the users' tokens (which do
        # not expire), the flow's request tokens, and every nonce seen.
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.callback_urls = list(callback_urls)
        self.oauth1_tokens: dict[str, str] = {}  # access token -> token secret
        self.request_tokens: dict[str, RequestToken] = {}
        self.oauth1_consent = True
        self.timestamp_window = timestamp_window
        self._nonces: set[tuple[str, str, str]] = set()
        #: ``METHOD /path`` of every request whose OAuth 1.0a signature was verified.
        self.signed: list[str] = []
        self.route("POST", r"/oauth/request_token", self._request_token)
        self.route("GET", r"/oauth/authorize", self._authorize_oauth1)
        self.route("POST", r"/oauth/access_token", self._access_token)
        self.route("POST", r"/2/tweets", self._guard("tweets", self._create_tweet))
        self.route("POST", r"/2/media/upload", self._guard("upload", self._upload))
        self.route("GET", r"/2/media/upload", self._guard("status", self._status))
        self.route("POST", r"/2/media/upload/initialize", self._guard("chunked", self._initialize))
        self.route(
            "POST",
            r"/2/media/upload/(?P<media_id>[^/]+)/append",
            self._guard("chunked", self._append),
        )
        self.route(
            "POST",
            r"/2/media/upload/(?P<media_id>[^/]+)/finalize",
            self._guard("chunked", self._finalize),
        )
        self.route("POST", r"/2/media/metadata", self._guard("metadata", self._metadata))
        self.route("GET", r"/2/users/me", self._guard("me", self._me))
        self.route(
            "GET", r"/2/users/(?P<user_id>\d+)/tweets", self._guard("timeline", self._timeline)
        )

    # -- setup -----------------------------------------------------------------

    def allow_callback(self, url: str) -> None:
        """Add ``url`` to the app's callback URLs (both flows match it exactly)."""
        self.callback_urls.append(url)
        client = self.oauth.clients[self.client_id]
        client.redirect_uris = (*client.redirect_uris, url)

    def issue_oauth1_token(self) -> tuple[str, str]:
        """A user access token and secret, as the developer console generates them."""
        token = f"{self.user_id}-{secrets.token_urlsafe(18)}"
        secret = secrets.token_urlsafe(30)
        self.oauth1_tokens[token] = secret
        return token, secret

    # -- what tests look at --------------------------------------------------

    def tweet(self, tweet_id: str) -> Tweet:
        """The created post with this id."""
        return next(t for t in self.tweets if t.id == tweet_id)

    # -- plumbing --------------------------------------------------------------

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _guard(self, bucket: str, handler: Callable[..., tuple[int, Any]]) -> Handler:
        """Bearer check, per-user rate limit and ``x-rate-limit-*`` headers around a handler."""

        def guarded(request: httpx.Request, **groups: str) -> httpx.Response:
            now = self.clock()
            start, used = self._used.get(bucket, (now, 0))
            if now - start >= WINDOW:
                start, used = now, 0
            limit = self.rate_limits[bucket]
            headers = {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-reset": str(int(start + WINDOW)),
            }
            if not self._authenticated(request):
                headers["x-rate-limit-remaining"] = str(max(limit - used, 0))
                return self._json(401, problem(401, "Unauthorized", "Unauthorized"), headers)
            if used >= limit:
                headers["x-rate-limit-remaining"] = "0"
                return self._json(
                    429,
                    problem(
                        429,
                        "Too Many Requests",
                        "Too Many Requests",
                        f"{PROBLEMS}/rate-limit-exceeded",
                    ),
                    headers,
                )
            self._used[bucket] = (start, used + 1)
            headers["x-rate-limit-remaining"] = str(limit - used - 1)
            status, payload = handler(request, **groups)
            return self._json(status, payload, headers)

        return guarded

    def _authenticated(self, request: httpx.Request) -> bool:
        """A live OAuth 2.0 bearer token, or a valid OAuth 1.0a user-context signature."""
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            token = header.removeprefix("Bearer ")
            return token == self.token or self.oauth.valid_access_token(token)
        refusal, _ = self._verify(request, lambda token: self.oauth1_tokens.get(token or ""))
        return refusal is None

    def _verify(
        self, request: httpx.Request, secret_of: Callable[[str | None], str | None]
    ) -> tuple[int | None, dict[str, str]]:
        """Check an OAuth 1.0a request as X does: None and its parameters, or the v1.1 code
        of the refusal. ``secret_of`` gives the token secret of ``oauth_token`` (None: the
        token is unknown)."""
        params = oauth_params(request.headers.get("authorization", ""))
        if params is None:
            return 32, {}
        required = (
            "oauth_consumer_key",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
            "oauth_timestamp",
        )
        if any(not params.get(name) for name in required):
            return 32, params
        if params["oauth_signature_method"] != "HMAC-SHA1":
            return 32, params
        if params.get("oauth_version", "1.0") != "1.0":
            return 32, params
        if not hmac.compare_digest(params["oauth_consumer_key"], self.consumer_key):
            return 32, params
        token_secret = secret_of(params.get("oauth_token"))
        if token_secret is None:
            return 89, params
        stamp = params["oauth_timestamp"]
        if not stamp.isdigit() or abs(self.clock() - int(stamp)) > self.timestamp_window:
            return 135, params
        signed = {k: v for k, v in params.items() if k != "oauth_signature"}
        expected = expected_signature(request, signed, self.consumer_secret, token_secret)
        if not hmac.compare_digest(params["oauth_signature"], expected):
            return 32, params
        nonce = (params["oauth_consumer_key"], params["oauth_nonce"], stamp)
        if nonce in self._nonces:  # a replayed request
            return 32, params
        self._nonces.add(nonce)
        self.signed.append(f"{request.method} {request.url.path}")
        return None, params

    @staticmethod
    def _oauth1_refused(code: int) -> httpx.Response:
        return httpx.Response(
            401, json={"errors": [{"code": code, "message": OAUTH1_ERRORS[code]}]}
        )

    # -- the 3-legged OAuth 1.0a flow --------------------------------------------

    def _request_token(self, request: httpx.Request) -> httpx.Response:
        """``POST /oauth/request_token``: signed with the consumer secret alone, with an
        ``oauth_callback`` registered exactly in the app."""
        refusal, params = self._verify(request, lambda token: "" if token is None else None)
        if refusal is not None:
            return self._oauth1_refused(refusal)
        callback = params.get("oauth_callback", "")
        if callback not in self.callback_urls:
            return httpx.Response(
                403, json={"errors": [{"code": 415, "message": CALLBACK_REFUSED}]}
            )
        token = secrets.token_urlsafe(24)
        self.request_tokens[token] = RequestToken(secrets.token_urlsafe(30), callback)
        body = urlencode(
            {
                "oauth_token": token,
                "oauth_token_secret": self.request_tokens[token].secret,
                "oauth_callback_confirmed": "true",
            }
        )
        return httpx.Response(200, text=body, headers={"Content-Type": "text/html; charset=utf-8"})

    def _authorize_oauth1(self, request: httpx.Request) -> httpx.Response:
        """``GET /oauth/authorize``: the user's consent, then 302 to the callback."""
        token = request.url.params.get("oauth_token", "")
        found = self.request_tokens.get(token)
        if found is None or found.used:
            return httpx.Response(
                403, text="This page is no longer valid.\n", headers={"Content-Type": "text/plain"}
            )
        joiner = "&" if "?" in found.callback else "?"
        if not self.oauth1_consent:
            return httpx.Response(
                302, headers={"Location": found.callback + joiner + urlencode({"denied": token})}
            )
        found.verifier = secrets.token_urlsafe(24)
        answer = urlencode({"oauth_token": token, "oauth_verifier": found.verifier})
        return httpx.Response(302, headers={"Location": found.callback + joiner + answer})

    def _access_token(self, request: httpx.Request) -> httpx.Response:
        """``POST /oauth/access_token``: the authorized request token and its verifier for a
        user token; each request token once."""

        def secret_of(token: str | None) -> str | None:
            found = self.request_tokens.get(token or "")
            return found.secret if found is not None and not found.used else None

        refusal, params = self._verify(request, secret_of)
        if refusal is not None:
            return self._oauth1_refused(refusal)
        found = self.request_tokens[params["oauth_token"]]
        verifier = params.get("oauth_verifier") or dict(
            parse_qsl(request.content.decode("utf-8"))
        ).get("oauth_verifier", "")
        found.used = True
        if found.verifier is None or not hmac.compare_digest(verifier, found.verifier):
            return httpx.Response(401, text=BAD_VERIFIER, headers={"Content-Type": "text/plain"})
        token, secret = self.issue_oauth1_token()
        body = urlencode(
            {
                "oauth_token": token,
                "oauth_token_secret": secret,
                "user_id": self.user_id,
                "screen_name": self.username,
            }
        )
        return httpx.Response(200, text=body, headers={"Content-Type": "text/html; charset=utf-8"})

    @staticmethod
    def _json(status: int, payload: Any, headers: dict[str, str]) -> httpx.Response:
        kind = "application/problem+json" if status >= 400 else "application/json"
        response = httpx.Response(status, json=payload, headers=headers)
        response.headers["content-type"] = kind
        return response

    def not_found(self, request: httpx.Request, method_mismatch: bool) -> httpx.Response:
        """X's problem answer for an unknown path or method."""
        status = 405 if method_mismatch else 404
        title = "Method Not Allowed" if method_mismatch else "Not Found Error"
        return self._json(status, problem(status, title, f"{request.url.path}: no such route"), {})

    def _owned(self, media_id: str) -> Media | None:
        media = self.media.get(media_id)
        return media if media is not None and media.owner == self.user_id else None

    # -- media -------------------------------------------------------------------

    def _upload(self, request: httpx.Request) -> tuple[int, Any]:
        """One-shot upload: multipart ``media`` + ``media_category``."""
        parsed = parse_multipart(request)
        if parsed is None:
            return invalid("The request body must be multipart/form-data with a media field.")
        fields, files = parsed
        category = fields.get("media_category")
        if category is None:
            return invalid("$.media_category: is missing but it is required", media_category=[])
        if category not in CATEGORIES:
            return invalid(
                f"$.media_category: does not have a value in the enumeration {sorted(CATEGORIES)}",
                media_category=[category],
            )
        data = files.get("media")
        if data is None:
            return invalid("$.media: is missing but it is required", media=[])
        mime = sniff(data[:32])
        if category in ("tweet_video", "amplify_video", "dm_video"):
            return invalid("Videos must be uploaded with the chunked upload endpoints.")
        if mime is None or not mime.startswith("image/"):
            return invalid("media type unrecognized.")
        if category.endswith("gif") and mime != "image/gif":
            return invalid("media type unrecognized.")
        limit = GIF_BYTES if mime == "image/gif" else IMAGE_BYTES
        if len(data) > limit:
            return invalid(f"File size exceeds {limit} bytes.")
        media = Media(
            self._new_id(),
            self.user_id,
            category,
            mime,
            len(data),
            segments={0: len(data)},
            heads={0: data[:32]},
            finalized=True,
        )
        self.media[media.id] = media
        media.expires_at = self.clock() + 86400
        if media.kind == "gif":  # animated GIFs are transcoded: processed asynchronously
            media.state = "pending"
        return 200, {"data": self._describe(media, image_type=mime)}

    def _describe(self, media: Media, **extra: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": media.id,
            "media_key": media.key,
            "size": media.size,
            "expires_after_secs": max(int(media.expires_at - self.clock()), 0),
        }
        if "image_type" in extra and media.kind == "photo":
            data["image"] = {"image_type": extra["image_type"], "w": 1200, "h": 675}
        if media.state is not None:
            info: dict[str, Any] = {"state": media.state}
            if media.state in ("pending", "in_progress"):
                info["check_after_secs"] = 1
            if media.state == "in_progress":
                info["progress_percent"] = 50
            if media.state == "succeeded":
                info["progress_percent"] = 100
            if media.state == "failed":
                info["error"] = {"code": 1, "name": "InvalidMedia", "message": media.error}
            data["processing_info"] = info
        return data

    def _initialize(self, request: httpx.Request) -> tuple[int, Any]:
        """Chunked upload, step 1: JSON ``media_type``, ``total_bytes``, ``media_category``."""
        body = body_json(request)
        if not isinstance(body, dict):
            return invalid("The request body must be a JSON object.")
        unknown = set(body) - {
            "media_type",
            "total_bytes",
            "media_category",
            "additional_owners",
            "shared",
        }
        if unknown:
            return invalid(
                f"$.{sorted(unknown)[0]}: is not defined in the schema and the "
                "schema does not allow additional properties"
            )
        media_type = body.get("media_type")
        if media_type not in MEDIA_TYPES:
            return invalid(
                f"$.media_type: does not have a value in the enumeration {sorted(MEDIA_TYPES)}",
                media_type=[str(media_type)],
            )
        total = body.get("total_bytes")
        if (
            isinstance(total, bool)
            or not isinstance(total, int)
            or not 0 < total <= MAX_TOTAL_BYTES
        ):
            return invalid(
                f"$.total_bytes: must be an integer from 1 to {MAX_TOTAL_BYTES}",
                total_bytes=[str(total)],
            )
        category = body.get("media_category", "tweet_video")
        if category not in CATEGORIES:
            return invalid(
                f"$.media_category: does not have a value in the enumeration {sorted(CATEGORIES)}",
                media_category=[str(category)],
            )
        media = Media(self._new_id(), self.user_id, category, media_type, total)
        if media.kind == "video" and self.max_video_bytes and total > self.max_video_bytes:
            return invalid(f"File size exceeds {self.max_video_bytes} bytes.")
        if (media.kind == "photo" and total > IMAGE_BYTES) or (
            media.kind == "gif" and total > GIF_BYTES
        ):
            return invalid("File size exceeds the limit for this media category.")
        media.expires_at = self.clock() + 86400
        self.media[media.id] = media
        return 200, {"data": {"id": media.id, "media_key": media.key, "expires_after_secs": 86400}}

    def _append(self, request: httpx.Request, media_id: str) -> tuple[int, Any]:
        """Chunked upload, step 2: multipart ``media`` (a chunk) and ``segment_index``."""
        media = self._owned(media_id)
        if media is None or media.total_bytes is None:
            return invalid("$.id: media not found, or not uploaded by this user", id=[media_id])
        if media.finalized:
            return invalid("Segments cannot be appended after the upload is finalized.")
        parsed = parse_multipart(request)
        if parsed is None:
            return invalid("The request body must be multipart/form-data with a media field.")
        fields, files = parsed
        raw = fields.get("segment_index")
        if raw is None or not raw.isdigit() or not 0 <= int(raw) <= 999:
            return invalid(
                "$.segment_index: must be an integer from 0 to 999", segment_index=[str(raw)]
            )
        index = int(raw)
        # Segments arrive in order; a re-sent index replaces the earlier one (a
        # retried chunk), but one that skips ahead leaves a hole X cannot fill.
        if index > len(media.segments):
            return invalid(
                f"segment_index {index} leaves a gap: expected at most {len(media.segments)}",
                segment_index=[raw],
            )
        chunk = files.get("media")
        if chunk is None:
            return invalid("$.media: is missing but it is required", media=[])
        if len(chunk) > self.max_chunk_bytes:
            return invalid(f"Segment size exceeds {self.max_chunk_bytes} bytes.")
        media.segments[index] = len(chunk)
        if index < 32:
            media.heads[index] = chunk[:32]
        return 200, {"data": {"expires_at": int(media.expires_at)}}

    def _finalize(self, request: httpx.Request, media_id: str) -> tuple[int, Any]:
        """Chunked upload, step 3: the sizes must add up; video processing starts."""
        media = self._owned(media_id)
        if media is None or media.total_bytes is None:
            return invalid("$.id: media not found, or not uploaded by this user", id=[media_id])
        if media.finalized:  # a repeated FINALIZE reports the current state
            return 200, {"data": self._describe(media)}
        if media.size != media.total_bytes:
            return invalid(
                f"File size mismatch: received {media.size} bytes, "
                f"declared total_bytes {media.total_bytes}."
            )
        media.finalized = True
        media.expires_at = self.clock() + 86400
        declared = media.media_type or ""
        found = sniff(media.head)
        if media.kind in ("video", "gif"):
            media.state = "pending"
            if found is None or found.split("/")[0] != declared.split("/")[0]:
                media.error = "Unsupported media format: the file is not a video."
        return 200, {"data": self._describe(media)}

    def _status(self, request: httpx.Request) -> tuple[int, Any]:
        """``GET /2/media/upload?command=STATUS&media_id=``: processing advances per poll."""
        params = request.url.params
        if params.get("command") != "STATUS":
            return invalid("$.command: must be STATUS", command=[params.get("command", "")])
        media_id = params.get("media_id", "")
        media = self._owned(media_id)
        if media is None or not media.finalized:
            return invalid("$.media_id: media not found or not finalized", media_id=[media_id])
        if media.state in ("pending", "in_progress"):
            media.polls += 1
            if media.polls >= self.processing_polls:
                error = media.error or self.processing_error
                media.state = "failed" if error else "succeeded"
                media.error = error
            else:
                media.state = "in_progress"
        return 200, {"data": self._describe(media)}

    def _metadata(self, request: httpx.Request) -> tuple[int, Any]:
        """``POST /2/media/metadata``: alt text up to 1,000 characters."""
        body = body_json(request)
        if not isinstance(body, dict) or set(body) - {"id", "metadata"}:
            return invalid("The request body must be {id, metadata}.")
        media = self._owned(str(body.get("id")))
        if media is None:
            return invalid("$.id: media not found", id=[str(body.get("id"))])
        metadata = body.get("metadata")
        alt = metadata.get("alt_text") if isinstance(metadata, dict) else None
        text = alt.get("text") if isinstance(alt, dict) else None
        if not isinstance(text, str) or not 0 < len(text) <= 1000:
            return invalid("$.metadata.alt_text.text: must be 1 to 1000 characters")
        media.alt_text = text
        return 200, {"data": {"id": media.id, "associated_metadata": {"alt_text": {"text": text}}}}

    # -- posts -----------------------------------------------------------------

    def _create_tweet(self, request: httpx.Request) -> tuple[int, Any]:
        """``POST /2/tweets``: schema, length, media, replies, duplicates; 201 on success."""
        if not request.headers.get("content-type", "").startswith("application/json"):
            return invalid("The request body must be JSON (Content-Type: application/json).")
        body = body_json(request)
        if not isinstance(body, dict):
            return invalid("The request body is not valid JSON.")
        unknown = sorted(set(body) - TWEET_FIELDS)
        if unknown:
            return invalid(
                f"$.{unknown[0]}: is not defined in the schema and the schema does "
                "not allow additional properties"
            )
        text = body.get("text")
        media_ids = self._check_media_field(body.get("media"))
        if isinstance(media_ids, tuple):
            return media_ids
        if text is None and not media_ids:
            return invalid("$.text: is required unless media is provided")
        if text is not None and not isinstance(text, str):
            return invalid("$.text: expected type: String", text=[str(text)])
        text = text or ""
        if weighted_length(text) > self.max_length:
            return invalid(
                "Your Tweet text is too long. For more information on how X "
                "determines text length see https://github.com/twitter/twitter-text."
            )
        refused = self._check_media(media_ids)
        if refused is not None:
            return refused
        reply_to = None
        reply = body.get("reply")
        if reply is not None:
            if not isinstance(reply, dict) or set(reply) - {
                "in_reply_to_tweet_id",
                "exclude_reply_user_ids",
            }:
                return invalid("$.reply: is not a valid reply object")
            reply_to = reply.get("in_reply_to_tweet_id")
            if not isinstance(reply_to, str) or not ID_PATTERN.match(reply_to):
                return invalid("$.reply.in_reply_to_tweet_id: does not match ^[0-9]{1,19}$")
            parent = next((t for t in self.tweets if t.id == reply_to), None)
            if parent is None:
                return forbidden(
                    "You attempted to reply to a Tweet that is deleted or not visible to you."
                )
            if self.self_serve and not self.summoned(parent):
                return forbidden(REPLY_REFUSED)
        # X refuses the same text again from the same account (media do not make it new).
        if text and any(t.text == text and t.author == self.user_id for t in self.tweets):
            return forbidden(DUPLICATE)
        tweet = Tweet(self._new_id(), text, media_ids, reply_to, self.user_id, created=self.clock())
        self.tweets.append(tweet)
        return 201, {"data": {"id": tweet.id, "text": text, "edit_history_tweet_ids": [tweet.id]}}

    def summoned(self, parent: Tweet) -> bool:
        """Whether the author of ``parent`` summoned this account: ``parent`` @mentions it
        or quotes one of its posts (docs.x.com, manage Posts, "Post creation restrictions").

        Whether X counts a reply to the account's own post as summoned is not
        documented; this fake applies the documented rule as written, so a thread's
        second part is refused unless its first part @mentions the account itself.
        """
        name = self.username.lower()
        if any(m.text.lower() == name for m in extract_mentions(parent.text)):
            return True
        quoted = next((t for t in self.tweets if t.id == parent.quote_of), None)
        return quoted is not None and quoted.author == self.user_id

    def _me(self, request: httpx.Request) -> tuple[int, Any]:
        return 200, {
            "data": {"id": self.user_id, "name": "KPU Musi Rawas", "username": self.username}
        }

    def _timeline(self, request: httpx.Request, user_id: str) -> tuple[int, Any]:
        """``GET /2/users/:id/tweets``: the user's posts, newest first, as X pages them.

        ``max_results`` 5..100 (default 10); ``start_time``/``end_time`` RFC 3339,
        inclusive, no earlier than 2010-11-06T00:00:01Z; ``pagination_token`` a
        ``meta.next_token`` this endpoint gave; ``tweet.fields`` adds
        ``created_at`` and ``referenced_tweets``. Unknown parameters are refused.
        """
        params = request.url.params
        unknown = sorted(set(params) - TIMELINE_PARAMS)
        if unknown:
            return invalid(
                f"The query parameter [{unknown[0]}] is not one of "
                f"[{','.join(sorted(TIMELINE_PARAMS | {'id'}))}]"
            )
        raw = params.get("max_results", "10")
        count = int(raw) if raw.isdigit() else 0
        if not 5 <= count <= 100:
            return invalid(
                f"The `max_results` query parameter value [{raw}] is not between 5 and 100",
                max_results=[raw],
            )
        bounds: dict[str, float] = {}
        for name in ("start_time", "end_time"):
            if name in params:
                when = rfc3339(params[name])
                if when is None or when < EARLIEST:
                    return invalid(
                        f"Invalid '{name}':'{params[name]}'. '{name}' must be on or after "
                        "2010-11-06T00:00:01Z",
                        **{name: [params[name]]},
                    )
                bounds[name] = when
        fields = set(filter(None, params.get("tweet.fields", "").split(",")))
        if fields - TWEET_READ_FIELDS:
            bad = sorted(fields - TWEET_READ_FIELDS)[0]
            return invalid(f"The `tweet.fields` query parameter value [{bad}] is not one of ...")
        mine = [
            t
            for t in sorted(self.tweets, key=lambda t: (t.created, int(t.id)), reverse=True)
            if t.author == user_id
            and t.created >= bounds.get("start_time", 0.0)
            and int(t.created) <= bounds.get("end_time", float("inf"))
        ]
        start = 0
        if "pagination_token" in params:
            token = params["pagination_token"]
            after = next((i for i, t in enumerate(mine) if f"p{t.id}" == token), None)
            if after is None:
                return invalid(
                    "The `pagination_token` query parameter value is invalid",
                    pagination_token=[token],
                )
            start = after + 1
        page = mine[start : start + count]
        data = [self._shown(t, fields) for t in page]
        meta: dict[str, Any] = {"result_count": len(data)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if start + count < len(mine):
            meta["next_token"] = f"p{page[-1].id}"
        answer: dict[str, Any] = {"meta": meta}
        if data:  # X leaves ``data`` out when nothing matched
            answer["data"] = data
        return 200, answer

    @staticmethod
    def _shown(tweet: Tweet, fields: set[str]) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": tweet.id,
            "text": tweet.shown_text,
            "edit_history_tweet_ids": [tweet.id],
        }
        if "created_at" in fields:
            shown["created_at"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(tweet.created)
            )
        if "referenced_tweets" in fields and tweet.reply_to:
            shown["referenced_tweets"] = [{"type": "replied_to", "id": tweet.reply_to}]
        return shown

    def _check_media_field(self, media: Any) -> list[str] | tuple[int, Any]:
        if media is None:
            return []
        if not isinstance(media, dict) or set(media) - {"media_ids", "tagged_user_ids"}:
            return invalid("$.media: is not a valid media object")
        ids = media.get("media_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 4:
            return invalid("$.media.media_ids: must have 1 to 4 items")
        if not all(isinstance(i, str) and ID_PATTERN.match(i) for i in ids):
            return invalid("$.media.media_ids: each item must match ^[0-9]{1,19}$")
        return list(ids)

    def _check_media(self, media_ids: list[str]) -> tuple[int, Any] | None:
        kinds = []
        for media_id in media_ids:
            media = self._owned(media_id)
            if media is None or not media.finalized:
                return invalid("Your media IDs are invalid.", media_ids=media_ids)
            if media.state not in (None, "succeeded"):
                return invalid("Your media IDs are invalid.", media_ids=media_ids)
            if media.expires_at <= self.clock():
                return invalid("Your media IDs are invalid.", media_ids=media_ids)
            kinds.append(media.kind)
        if len(kinds) > 1 and set(kinds) != {"photo"}:
            # Up to 4 photos, or 1 GIF, or 1 video: never mixed (X media introduction).
            return invalid("Your media IDs are invalid.", media_ids=media_ids)
        return None
