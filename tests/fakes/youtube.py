"""A strict fake of Google's OAuth and YouTube's resumable upload (YouTube Data API v3).

Google OAuth is a ``FakeAuthServer`` with Google's rules: the consent page
``GET /o/oauth2/v2/auth`` (any loopback port, RFC 8252 §7.3; a refresh token only
with ``access_type=offline``; PKCE optional), ``POST /token`` (codes and refresh
tokens; refresh tokens do not rotate; access tokens last ``access_token_lifetime``
seconds on ``oauth_clock``, a ``FakeClock``), ``POST /revoke``. With ``testing``
the consent screen is in "Testing": refresh tokens die 7 days after they were
issued. A dead refresh token gets Google's ``400 {"error": "invalid_grant",
"error_description": "Token has been expired or revoked."}``.
``GET /youtube/v3/channels?part=snippet&mine=true`` names the channel (it needs a
read scope: youtube.upload alone is refused).

Endpoints: ``POST /upload/youtube/v3/videos``
(``uploadType=resumable``: starts a session, 200 + ``Location``), ``PUT`` on the session URI
(the same path with ``upload_id``: chunks with ``Content-Range``, 308 + ``Range``, the final
201 + video resource, the ``bytes */N`` status probe, 404 for an expired session).

Uploaded bytes are counted and hashed, never kept: a 1 GiB upload goes through it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.fakes.base import Dropped, FakePlatform, body_json, form
from tests.fakes.oauth import FakeAuthServer, FakeClock, Grant, Token

CHUNK_UNIT = 256 * 1024
UPLOAD_PATH = "/upload/youtube/v3/videos"
UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
#: Scopes that let channels.list read the channel (its reference's authorization list).
READ_SCOPES = frozenset(
    {
        READONLY_SCOPE,
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.force-ssl",
        "https://www.googleapis.com/auth/youtubepartner",
    }
)
GOOGLE_SCOPES = (*READ_SCOPES, UPLOAD_SCOPE, "openid", "email", "profile")
AUTHORIZE_PATH = "/o/oauth2/v2/auth"
CHANNELS_PATH = "/youtube/v3/channels"
#: Refresh tokens of a consent screen in "Testing" status (Google's OAuth 2.0 overview).
TESTING_LIFETIME = timedelta(days=7)
#: Video category ids (videoCategories.list, region US), as strings like the API gives them.
CATEGORIES = frozenset(str(n) for n in (1, 2, 10, 15, 17, 18, 19, 20, *range(21, 45)))
PRIVACY = ("private", "unlisted", "public")
#: A BCP-47 language tag of the form YouTube's i18nLanguages list: a language, then an
#: optional script and region ("id", "en-GB", "zh-Hans", "es-419", "sr-Latn"); case
#: does not matter in BCP-47. Whether YouTube takes tags outside its list is UNVERIFIED.
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[a-z]{4})?(-([a-z]{2}|[0-9]{3}))?", re.IGNORECASE)


def tags_length(tags: list[str]) -> int:
    """Tag characters as YouTube counts them: a tag with a space is quoted, commas count."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def google_error(
    code: int, reason: str, message: str, *, domain: str = "youtube.video", status: str = ""
) -> httpx.Response:
    """Google's JSON error shape (https://developers.google.com/youtube/v3/docs/errors)."""
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
    }
    if status:
        error["status"] = status
    return httpx.Response(code, json={"error": error})


@dataclass
class Session:
    """One resumable upload session: what it was started with and what has arrived."""

    upload_id: str
    metadata: dict[str, Any]
    total: int
    mime: str
    query: dict[str, str]
    received: int = 0
    expired: bool = False
    video: dict[str, Any] | None = None
    hasher: Any = field(default_factory=hashlib.sha256)

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the bytes received so far."""
        return str(self.hasher.hexdigest())


@dataclass
class ChunkFault:
    """A failure of the ``number``-th data chunk (probes not counted), before or after it lands."""

    number: int
    status: int | None
    json: Any
    drop: bool
    after: bool


class FakeYouTube(FakePlatform):
    """Google OAuth + YouTube videos.insert (resumable), as strict as the real thing."""

    name = "youtube"

    def __init__(
        self,
        *,
        client_id: str = "yt-client-id.apps.googleusercontent.com",
        client_secret: str = "yt-client-secret",
        refresh_token: str = "1//yt-refresh-token",
        testing_mode_expired: bool = False,
        access_token_lifetime: int = 3599,
        scope: str = f"{UPLOAD_SCOPE} {READONLY_SCOPE}",
        has_channel: bool = True,
        insert_quota: int = 100,
        unaudited: bool = True,
        testing: bool = False,
        redirect_uris: tuple[str, ...] = ("http://127.0.0.1/callback",),
        channel_id: str = "UCfakeChannel0000000000",
        channel_title: str = "KPU MUSI RAWAS",
        clock: FakeClock | None = None,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        #: The OAuth consent screen is in "Testing" and the 7 days are over: invalid_grant.
        self.testing_mode_expired = testing_mode_expired
        self.access_token_lifetime = access_token_lifetime
        #: The scopes of the refresh token the tests (and World's environment) start with.
        self.scope = scope
        self.channel_id, self.channel_title = channel_id, channel_title
        #: Google's time: tokens expire on it (``advance`` to move days ahead).
        self.oauth_clock = clock or FakeClock(datetime.now(UTC))
        self.auth = FakeAuthServer(
            clock=self.oauth_clock.now,
            allowed_scopes=GOOGLE_SCOPES,
            pkce="S256",
            pkce_required=False,
            client_auth="either",
            access_lifetime=timedelta(seconds=access_token_lifetime),
            refresh_lifetime=TESTING_LIFETIME if testing else None,
            rotate_refresh=False,
            offline_param=("access_type", "offline"),
            loopback_any_port=True,
        )
        self.auth.register(client_id, client_secret, redirect_uris)
        grant = Grant(client_id, tuple(scope.split()), offline=True)
        now = self.oauth_clock.now()
        if testing_mode_expired:
            expires: datetime | None = now - timedelta(seconds=1)
        else:
            expires = now + TESTING_LIFETIME if testing else None
        self.auth.tokens[refresh_token] = Token("refresh", grant, expires)
        self.has_channel = has_channel
        #: videos.insert calls allowed per day (the per-method bucket of the quota page).
        self.insert_quota = insert_quota
        self.inserts_used = 0
        #: Unaudited API projects: every uploaded video is locked private (videos.insert).
        self.unaudited = unaudited
        self.sessions: dict[str, Session] = {}
        self.videos: list[dict[str, Any]] = []
        self.chunk_faults: list[ChunkFault] = []
        self._chunks_seen = 0
        self._ids = itertools.count(1)
        self.route("GET", re.escape(AUTHORIZE_PATH), self.auth.authorize)
        self.route("POST", r"/token", self._token)
        self.route("POST", r"/revoke", self.auth.revoke)
        self.route("POST", re.escape(UPLOAD_PATH), self._start)
        self.route("PUT", re.escape(UPLOAD_PATH), self._put)
        self.route("GET", re.escape(CHANNELS_PATH), self._channels)

    # -- test controls -----------------------------------------------------

    @property
    def tokens(self) -> list[str]:
        """Every access token issued so far, live or not."""
        return [t for t, found in self.auth.tokens.items() if found.kind == "access"]

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now (a refresh gets a fresh one)."""
        now = self.oauth_clock.now()
        for found in self.auth.tokens.values():
            if found.kind == "access":
                found.expires = now

    def expire_session(self, upload_id: str | None = None) -> None:
        """The session (the latest by default) expires: its URI answers 404 from now on."""
        key = upload_id or list(self.sessions)[-1]
        self.sessions[key].expired = True

    def fail_chunk(
        self,
        number: int,
        status: int | None = None,
        *,
        json: Any = None,
        drop: bool = False,
        after: bool = False,
    ) -> None:
        """Make the ``number``-th data chunk (1-based, over all sessions, probes not counted)
        fail with ``status``/``json`` or a dropped connection; with ``after`` it lands first."""
        self.chunk_faults.append(ChunkFault(number, status, json, drop, after))

    @property
    def session(self) -> Session:
        """The latest session."""
        return list(self.sessions.values())[-1]

    # -- recording -----------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().__call__(request)
        finally:
            if request.method == "PUT" and len(request.content) > 0:
                # Keep the headers of a chunk but not its bytes: memory stays flat.
                light = httpx.Request(request.method, request.url, headers=request.headers)
                with self._lock:
                    for i in range(len(self.requests) - 1, -1, -1):
                        if self.requests[i] is request:
                            self.requests[i] = light
                            break

    def not_found(self, request: httpx.Request, method_mismatch: bool) -> httpx.Response:
        """Google's error shape for an unknown path or method."""
        if method_mismatch:
            return google_error(405, "httpMethodNotAllowed", "Method not allowed", domain="global")
        return google_error(404, "notFound", "Not Found", domain="global")

    # -- OAuth ---------------------------------------------------------------

    def _token(self, request: httpx.Request) -> httpx.Response:
        """Google's token endpoint: the fake server's rules, in Google's words."""
        response = self.auth.token(request)
        body = json.loads(response.content)
        if response.status_code == 200:
            # Google's shapes: "ya29." access tokens, "1//" refresh tokens, "Bearer". (The
            # platform's lock is held: no other request sees the token table meanwhile.)
            for key, prefix in (("access_token", "ya29.fake-"), ("refresh_token", "1//fake-")):
                old = body.get(key)
                if isinstance(old, str) and old in self.auth.tokens:
                    body[key] = prefix + old.split("-", 1)[1]
                    self.auth.tokens[body[key]] = self.auth.tokens.pop(old)
            body["token_type"] = "Bearer"
            return httpx.Response(200, json=body, headers=response.headers)
        if (
            response.status_code == 400
            and body.get("error") == "invalid_grant"
            and form(request).get("grant_type") == "refresh_token"
        ):
            # Expired, revoked, "Testing" past 7 days or unknown: Google says the same.
            body["error_description"] = "Token has been expired or revoked."
            return httpx.Response(400, json=body)
        return response

    def _auth(self, request: httpx.Request) -> httpx.Response | None:
        header = request.headers.get("authorization", "")
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        if not self.auth.valid_access_token(token):
            return httpx.Response(
                401,
                json={
                    "error": {
                        "code": 401,
                        "message": "Request had invalid authentication credentials. Expected "
                        "OAuth 2 access token, login cookie or other valid authentication "
                        "credential.",
                        "errors": [
                            {
                                "message": "Invalid Credentials",
                                "domain": "global",
                                "reason": "authError",
                                "location": "Authorization",
                                "locationType": "header",
                            }
                        ],
                        "status": "UNAUTHENTICATED",
                    }
                },
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        return None

    # -- channels.list ------------------------------------------------------

    def _channels(self, request: httpx.Request) -> httpx.Response:
        """channels.list with mine=true: the channel of the token's account."""
        refused = self._auth(request)
        if refused is not None:
            return refused
        token = request.headers["authorization"][len("Bearer ") :]
        if not READ_SCOPES & set(self.auth.scopes_of(token)):
            return google_error(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
                domain="global",
                status="PERMISSION_DENIED",
            )
        query = dict(request.url.params)
        parts = {p for p in query.get("part", "").split(",") if p}
        if not parts or not parts <= {"id", "snippet", "contentDetails", "statistics", "status"}:
            return google_error(400, "invalidPart", "part is required", domain="youtube.part")
        if query.get("mine") != "true":
            return google_error(
                400, "missingRequiredParameter", "No filter selected.", domain="youtube.parameter"
            )
        body: dict[str, Any] = {
            "kind": "youtube#channelListResponse",
            "etag": secrets.token_hex(8),
            "pageInfo": {"totalResults": int(self.has_channel), "resultsPerPage": 5},
        }
        if self.has_channel:
            item: dict[str, Any] = {"kind": "youtube#channel", "id": self.channel_id}
            if "snippet" in parts:
                item["snippet"] = {
                    "title": self.channel_title,
                    "customUrl": "@kpumusirawas",
                    "publishedAt": "2019-04-01T00:00:00Z",
                }
            body["items"] = [item]
        return httpx.Response(200, json=body)

    # -- session -------------------------------------------------------------

    def _start(self, request: httpx.Request) -> httpx.Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        token = request.headers["authorization"][len("Bearer ") :]
        if UPLOAD_SCOPE not in self.auth.scopes_of(token):
            return google_error(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
                domain="global",
                status="PERMISSION_DENIED",
            )
        if not self.has_channel:
            return google_error(
                401, "youtubeSignupRequired", "Unauthorized", domain="youtube.header"
            )
        # Every request costs quota, even a refused one (quota cost page).
        self.inserts_used += 1
        if self.inserts_used > self.insert_quota:
            return google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your "
                '<a href="/youtube/v3/getting-started#quota">quota</a>.',
                domain="youtube.quota",
            )
        query = dict(request.url.params)
        if query.get("uploadType") != "resumable":
            return google_error(400, "invalidParameter", "uploadType must be resumable here")
        parts = set(query.get("part", "").split(","))
        if not {"snippet", "status"} <= parts:
            return google_error(
                400, "required", "Required parameter: part (snippet,status)", domain="global"
            )
        if query.get("notifySubscribers", "true") not in ("true", "false"):
            return google_error(400, "invalidParameter", "notifySubscribers must be true/false")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return google_error(400, "parseError", "The metadata must be JSON", domain="global")
        length = request.headers.get("x-upload-content-length", "")
        if not length.isdigit() or int(length) <= 0:
            return google_error(
                400, "invalidParameter", "X-Upload-Content-Length must be a positive byte count"
            )
        mime = request.headers.get("x-upload-content-type", "application/octet-stream")
        if not (mime.startswith("video/") or mime == "application/octet-stream"):
            return google_error(
                400, "invalidVideoMetadata", f"The upload's content type {mime} is not a video"
            )
        metadata = body_json(request)
        problem = self._check_metadata(metadata)
        if problem is not None:
            return problem
        upload_id = "AEnB2U" + secrets.token_urlsafe(18)
        self.sessions[upload_id] = Session(upload_id, metadata, int(length), mime, query)
        location = (
            f"{self.base_url}{UPLOAD_PATH}?uploadType=resumable&part={query['part']}"
            f"&upload_id={upload_id}"
        )
        return httpx.Response(
            200, headers={"Location": location, "X-GUploader-UploadID": upload_id}
        )

    def _check_metadata(self, metadata: Any) -> httpx.Response | None:
        if not isinstance(metadata, dict):
            return google_error(400, "parseError", "Parse Error", domain="global")
        snippet = metadata.get("snippet")
        status = metadata.get("status")
        if not isinstance(snippet, dict) or not isinstance(status, dict):
            return google_error(400, "invalidVideoMetadata", "snippet and status are required")
        title = snippet.get("title")
        if not isinstance(title, str) or not title.strip():
            return google_error(400, "invalidTitle", "The video's title is required.")
        if len(title) > 100 or "<" in title or ">" in title:
            return google_error(
                400, "invalidTitle", "The request metadata specifies an invalid video title."
            )
        description = snippet.get("description", "")
        if (
            not isinstance(description, str)
            or len(description.encode("utf-8")) > 5000
            or "<" in description
            or ">" in description
        ):
            return google_error(
                400,
                "invalidDescription",
                "The request metadata specifies an invalid video description.",
            )
        tags = snippet.get("tags", [])
        if (
            not isinstance(tags, list)
            or not all(isinstance(t, str) for t in tags)
            or tags_length(tags) > 500
        ):
            return google_error(
                400, "invalidTags", "The request metadata specifies invalid video keywords."
            )
        if snippet.get("categoryId") not in CATEGORIES:
            return google_error(
                400,
                "invalidCategoryId",
                "The snippet.categoryId property specifies an invalid category ID.",
            )
        for key in ("defaultLanguage", "defaultAudioLanguage"):
            language = snippet.get(key)
            if language is not None and (
                not isinstance(language, str) or not LANGUAGE_TAG.fullmatch(language)
            ):
                # The reason YouTube gives for a malformed tag is not documented (UNVERIFIED).
                return google_error(400, "invalidVideoMetadata", f"Invalid {key}.")
        if status.get("privacyStatus") not in PRIVACY:
            return google_error(
                400, "invalidVideoMetadata", "status.privacyStatus must be private/unlisted/public"
            )
        kids = status.get("selfDeclaredMadeForKids", False)
        if not isinstance(kids, bool):
            return google_error(400, "invalidVideoMetadata", "selfDeclaredMadeForKids is a boolean")
        return None

    # -- upload --------------------------------------------------------------

    def _put(self, request: httpx.Request) -> httpx.Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        session = self.sessions.get(request.url.params.get("upload_id", ""))
        if session is None or session.expired:
            return google_error(404, "notFound", "Not Found", domain="global")
        content_range = request.headers.get("content-range", "")
        probe = re.fullmatch(r"bytes \*/(\d+)", content_range)
        if probe:
            if int(probe[1]) != session.total or request.content:
                return self._bad("A status query has no body and names the upload's size")
            return self._state(session)
        span = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if not span:
            return self._bad(f"Invalid Content-Range: {content_range!r}")
        first, last, total = int(span[1]), int(span[2]), int(span[3])
        body = request.content
        if total != session.total:
            return self._bad(f"Content-Range total {total} is not the upload's {session.total}")
        if session.video is not None or first != session.received:
            return self._bad(f"The chunk starts at byte {first}; expected {session.received}")
        if last < first or last - first + 1 != len(body) or last >= total:
            return self._bad(f"Content-Range {content_range} does not match {len(body)} bytes")
        if request.headers.get("content-length") not in (None, str(len(body))):
            return self._bad("Content-Length does not match the body")
        final = last + 1 == total
        if not final and len(body) % CHUNK_UNIT:
            return self._bad(f"A non-final chunk must be a multiple of {CHUNK_UNIT} bytes")
        self._chunks_seen += 1
        fault = next((f for f in self.chunk_faults if f.number == self._chunks_seen), None)
        if fault is not None and not fault.after:
            return self._fault(fault)
        session.hasher.update(body)
        session.received = last + 1
        response = self._create(session) if final else self._state(session)
        if fault is not None:
            return self._fault(fault)
        return response

    def _fault(self, fault: ChunkFault) -> httpx.Response:
        if fault.drop:
            raise Dropped
        return httpx.Response(fault.status or 503, json=fault.json)

    def _bad(self, message: str) -> httpx.Response:
        return google_error(400, "badRequest", message, domain="global")

    def _state(self, session: Session) -> httpx.Response:
        """The session's answer: 308 with the received Range, or the final 201 + video."""
        if session.video is not None:
            return httpx.Response(201, json=session.video)
        headers = {"Range": f"bytes=0-{session.received - 1}"} if session.received else {}
        return httpx.Response(308, headers=headers)

    def _create(self, session: Session) -> httpx.Response:
        snippet = session.metadata["snippet"]
        status = session.metadata["status"]
        privacy = "private" if self.unaudited else status["privacyStatus"]
        video: dict[str, Any] = {
            "kind": "youtube#video",
            "etag": secrets.token_hex(8),
            "id": f"vid{next(self._ids):08d}",
            "snippet": {
                "publishedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "channelId": self.channel_id,
                "title": snippet["title"],
                "description": snippet.get("description", ""),
                "tags": list(snippet.get("tags", [])),
                "categoryId": snippet["categoryId"],
                "channelTitle": self.channel_title,
            },
            "status": {
                "uploadStatus": "uploaded",
                "privacyStatus": privacy,
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "selfDeclaredMadeForKids": status.get("selfDeclaredMadeForKids", False),
            },
        }
        if "defaultLanguage" in snippet:
            video["snippet"]["defaultLanguage"] = snippet["defaultLanguage"]
        session.video = video
        self.videos.append(video)
        return httpx.Response(201, json=video)
