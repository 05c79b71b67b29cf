"""A fake TikTok Content Posting API (Direct Post and the inbox upload), as strict as
TikTok's references.

Endpoints: ``POST /v2/post/publish/creator_info/query/``, ``.../video/init/``
(FILE_UPLOAD), ``.../inbox/video/init/`` (the upload to the creator's inbox:
``source_info`` only, scope ``video.upload``), ``PUT /video/?upload_id=&upload_token=``
(the upload URL it hands out, on ``self.base_url``), ``.../content/init/`` (photos,
PULL_FROM_URL; ``post_mode`` DIRECT_POST with video.publish or MEDIA_UPLOAD with
video.upload) and ``.../status/fetch/`` (either scope). Every answer uses TikTok's envelope
``{"data": {...}, "error": {"code", "message", "log_id"}}``.

Login Kit v2 (``GET /v2/auth/authorize/``, ``POST /v2/oauth/token/``,
``POST /v2/oauth/revoke/``) is a ``FakeAuthServer`` with TikTok's rules: the
``client_key`` parameter, comma-separated scopes, the hex PKCE challenge of the
desktop guide (``pkce="S256"`` for the RFC's), the secret in the form body,
redirect URIs on 127.0.0.1 with a ``*`` port, access tokens of 2 hours and
rotating refresh tokens of 180 days on ``oauth_clock`` (a ``FakeClock``), an
``open_id`` in every token answer, and errors as ``{"error",
"error_description", "log_id"}``. ``GET /v2/user/info/`` gives the open_id and
display name (scope ``user.info.basic``). Every bearer check (creator_info,
init, status, user/info) refuses an expired, revoked or unknown token with
TikTok's 401 ``access_token_invalid``.

What it enforces: the Bearer token and the scope of each endpoint; the
privacy level against the creator's options (direct posts); unaudited mode (creator_info
offers only SELF_ONLY, and a public account gets
``unaudited_client_can_only_post_to_private_accounts``); caption, photo title
and description lengths in UTF-16 code units; the chunk rules on init and the
exact next ``Content-Range`` on every PUT; the one-hour life of an upload URL;
the status state machine (inbox uploads end in SEND_TO_USER_INBOX; ``finish_in_app``
stands for the officer posting one); fetching photo URLs; a daily post cap, at most
5 inbox uploads pending in 24 hours (``spam_risk_too_many_pending_share``) and
optional per-minute rate limits; a video over 64 MB in more than one chunk. Uploaded
bytes are hashed and counted, never kept.

Choices where the documentation is silent (UNVERIFIED, documented here so a
test can see them): chunk PUTs answer 206, the last 201; an exact re-send of
the chunk just received is accepted again (chunk PUTs are safe to repeat);
creator_info of an unaudited app offers SELF_ONLY only; a post that keeps
interactions on when the creator disabled them is refused as ``invalid_param``; an
inbox video init carrying ``post_info`` is refused as ``invalid_param`` (the upload
reference lists ``source_info`` only); an inbox upload counts as pending until the
officer finishes it, whatever its age within the 24 hours.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from tests.fakes.base import FakePlatform, body_json
from tests.fakes.oauth import FakeAuthServer, FakeClock, Grant, Token

OK = {"code": "ok", "message": ""}
PUBLIC_OPTIONS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
PRIVATE_OPTIONS = ("FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
#: Chunk rules (media transfer guide); "MB" read strictly for each bound.
MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64_000_000
MAX_LAST_CHUNK = 128_000_000
MAX_CHUNKS = 1000
#: Inbox uploads that may wait for the creator within 24 hours (upload reference).
MAX_PENDING_SHARES = 5
MAX_VIDEO = 4_000_000_000
CAPTION = 2_200
PHOTO_TITLE = 90
PHOTO_DESCRIPTION = 4_000
MAX_PHOTOS = 35
PHOTO_BYTES = 20_000_000
UPLOAD_LIFETIME = 3600.0
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
#: Requests per minute per token (the API references), enforced when ``rate_limits`` is on.
PER_MINUTE = {"creator_info": 20, "init": 6, "status": 30, "user_info": 600}
#: Login Kit scopes (scopes overview) and token lifetimes (user access token management).
LOGIN_SCOPES = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.publish",
    "video.upload",
)
ACCESS_LIFETIME = timedelta(hours=2)
REFRESH_LIFETIME = timedelta(days=180)
AUTHORIZE_PATH = "/v2/auth/authorize/"
TOKEN_PATH = "/v2/oauth/token/"
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
USER_FIELDS = {"open_id", "union_id", "avatar_url", "display_name", "username"}
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def utf16(text: str) -> int:
    """Length in UTF-16 code units, counted independently of crosspost.units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class TikTokPost:
    """One post the fake accepted at init, and what became of it."""

    publish_id: str
    media_type: str  # "VIDEO" or "PHOTO"
    post_info: dict[str, Any]
    source_info: dict[str, Any]
    token: str
    created: float
    upload_id: str = ""
    upload_token: str = ""
    # video upload progress: counted and hashed, never stored
    received: int = 0
    next_chunk: int = 0
    sha256: Any = field(default_factory=hashlib.sha256)
    last_range: tuple[int, int] | None = None
    last_digest: str = ""
    content_type: str = ""
    chunks: list[tuple[int, int]] = field(default_factory=list)
    # status machine
    status: str = "PROCESSING_UPLOAD"
    polls_left: int = 0
    fail_reason: str = ""
    post_id: str = ""
    photo_bytes: list[int] = field(default_factory=list)
    #: Sent to the creator's inbox (inbox video init, or photos with MEDIA_UPLOAD).
    inbox: bool = False

    @property
    def title(self) -> str:
        """The caption (video) or title (photo)."""
        return str(self.post_info.get("title", ""))

    @property
    def description(self) -> str:
        """A photo post's description."""
        return str(self.post_info.get("description", ""))

    @property
    def privacy_level(self) -> str:
        """The privacy level the post was created with."""
        return str(self.post_info.get("privacy_level"))

    @property
    def video_size(self) -> int:
        """The size the init announced."""
        return int(self.source_info.get("video_size", 0))

    @property
    def digest(self) -> str:
        """SHA-256 of the bytes uploaded so far."""
        return str(self.sha256.hexdigest())

    @property
    def complete(self) -> bool:
        """Whether every byte of the video arrived."""
        return self.received == self.video_size


class FakeTikTok(FakePlatform):
    """The TikTok Content Posting API; ``posts`` records every init it accepted."""

    name = "tiktok"

    def __init__(
        self,
        token: str = "tiktok-access-token",
        *,
        username: str = "kpumusirawas",
        private_account: bool = False,
        unaudited: bool = False,
        scopes: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload"),
        comment_disabled: bool = False,
        duet_disabled: bool = False,
        stitch_disabled: bool = False,
        max_video_post_duration_sec: int = 600,
        processing_polls: int = 1,
        fail_reason: str | None = None,
        daily_cap: int = 15,
        rate_limits: bool = False,
        verified_prefixes: tuple[str, ...] | None = None,
        fetch: Callable[[str], bytes | None] | None = None,
        client_key: str = "tiktok-client-key",
        client_secret: str = "tiktok-client-secret",
        redirect_uris: tuple[str, ...] = ("http://127.0.0.1:*/callback/",),
        open_id: str = "-000OaPt3kqdBGQ3gsmCV3JmTGDdkW2ZZn3",
        display_name: str = "KPU Musi Rawas",
        pkce: Literal["S256", "S256-hex"] = "S256-hex",
        clock: FakeClock | None = None,
    ) -> None:
        super().__init__()
        #: Login Kit's time: tokens expire on it (``advance`` to move days ahead).
        self.oauth_clock = clock or FakeClock(datetime.now(UTC))
        self.client_key, self.client_secret = client_key, client_secret
        self.open_id, self.display_name = open_id, display_name
        self.auth = FakeAuthServer(
            clock=self.oauth_clock.now,
            client_id_param="client_key",
            scope_separator=",",
            allowed_scopes=LOGIN_SCOPES,
            pkce=pkce,
            client_auth="body",
            access_lifetime=ACCESS_LIFETIME,
            refresh_lifetime=REFRESH_LIFETIME,
            rotate_refresh=True,
            report_refresh_expiry=True,
            token_extra={"open_id": open_id},
            error_extra={"log_id": "202603011200000000FAKEOAUTH"},
        )
        self.auth.register(client_key, client_secret, redirect_uris)
        self.auth.mount(self, authorize=AUTHORIZE_PATH, token=TOKEN_PATH, revoke=REVOKE_PATH)
        # The token the tests (and World's environment) start with: issued now on the
        # fake clock, so it expires 2 hours of fake time later like any other.
        grant = Grant(client_key, tuple(scopes), offline=False)
        self.auth.tokens[token] = Token("access", grant, self.oauth_clock.now() + ACCESS_LIFETIME)
        #: Tokens refused whatever the server says (revoked in the TikTok app).
        self.expired_tokens: set[str] = set()
        self.username = username
        self.private_account = private_account
        self.unaudited = unaudited
        self.comment_disabled = comment_disabled
        self.duet_disabled = duet_disabled
        self.stitch_disabled = stitch_disabled
        self.max_video_post_duration_sec = max_video_post_duration_sec
        #: status polls answered PROCESSING_* after the media arrived
        self.processing_polls = processing_polls
        #: when set, posts end FAILED with this fail_reason
        self.fail_reason = fail_reason
        self.daily_cap = daily_cap
        self.rate_limits = rate_limits
        #: None: every photo URL counts as verified; else the verified URL prefixes
        self.verified_prefixes = verified_prefixes
        #: photos: ``media[url] = bytes``, else ``fetch(url)``; None means unreachable
        self.media: dict[str, bytes] = {}
        self.fetch = fetch
        self.clock: Callable[[], float] = time.monotonic
        self.posts: list[TikTokPost] = []
        self._ids = itertools.count(1)
        self._hits: dict[tuple[str, str], list[float]] = {}
        prefix = "/v2/post/publish"
        self.route("POST", f"{prefix}/creator_info/query/", self.creator_info)
        self.route("POST", f"{prefix}/video/init/", self.video_init)
        self.route("POST", f"{prefix}/inbox/video/init/", self.inbox_init)
        self.route("POST", f"{prefix}/content/init/", self.content_init)
        self.route("POST", f"{prefix}/status/fetch/", self.status_fetch)
        self.route("PUT", "/video/", self.upload)
        self.route("GET", re.escape(USER_INFO_PATH), self.user_info)

    # -- inspection ----------------------------------------------------------------------

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every access token issued (the starting one first), live or not."""
        return tuple(t for t, found in self.auth.tokens.items() if found.kind == "access")

    def refresh_tokens(self) -> list[str]:
        """The refresh tokens that still work (rotation leaves one per login)."""
        now = self.oauth_clock.now()
        return [
            t
            for t, found in self.auth.tokens.items()
            if found.kind == "refresh"
            and not (found.used or found.revoked or found.grant.revoked)
            and (found.expires is None or now < found.expires)
        ]

    @property
    def published(self) -> list[TikTokPost]:
        """Posts that reached PUBLISH_COMPLETE."""
        return [p for p in self.posts if p.status == "PUBLISH_COMPLETE"]

    @property
    def in_inbox(self) -> list[TikTokPost]:
        """Uploads waiting in the creator's inbox (SEND_TO_USER_INBOX)."""
        return [p for p in self.posts if p.status == "SEND_TO_USER_INBOX"]

    def finish_in_app(self, post: TikTokPost, *, public: bool = False) -> None:
        """The officer opens TikTok and posts an inbox upload (public or not)."""
        assert post.status == "SEND_TO_USER_INBOX"
        post.status = "PUBLISH_COMPLETE"
        if public:
            post.post_id = str(7_500_000_000_000_000_000 + next(self._ids))

    @property
    def privacy_options(self) -> tuple[str, ...]:
        """What creator_info offers this account."""
        if self.unaudited:
            return ("SELF_ONLY",)
        return PRIVATE_OPTIONS if self.private_account else PUBLIC_OPTIONS

    # -- envelope ------------------------------------------------------------------------

    def _log_id(self) -> str:
        return f"20261126000000FAKE{next(self._ids):06d}"

    def ok(self, data: dict[str, Any], status: int = 200) -> httpx.Response:
        """A success envelope."""
        return httpx.Response(
            status, json={"data": data, "error": {**OK, "log_id": self._log_id()}}
        )

    def error(self, status: int, code: str, message: str) -> httpx.Response:
        """An error envelope, as TikTok sends it."""
        return httpx.Response(
            status,
            json={
                "data": {},
                "error": {"code": code, "message": message, "log_id": self._log_id()},
            },
        )

    def invalid(self, message: str) -> httpx.Response:
        """400 invalid_param (the posting endpoints' spelling)."""
        return self.error(400, "invalid_param", message)

    def not_found(self, request: httpx.Request, method_mismatch: bool) -> httpx.Response:
        """An unknown path or method."""
        status = 405 if method_mismatch else 404
        return self.error(
            status, "invalid_param", f"{request.method} {request.url.path}: no such API"
        )

    # -- checks --------------------------------------------------------------------------

    def _auth(
        self,
        request: httpx.Request,
        limit: str,
        scope: str | tuple[str, ...] | None = "video.publish",
    ) -> tuple[str, httpx.Response | None]:
        """The token, and TikTok's refusal when it is invalid, lacks ``scope`` (any of
        several; None: checked later by the caller) or is over its rate limit."""
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        if not self.auth.valid_access_token(token) or token in self.expired_tokens:
            return token, self.error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        if scope is not None:
            denied = self._scope(token, scope)
            if denied:
                return token, denied
        if self.rate_limits:
            now = self.clock()
            hits = [t for t in self._hits.get((token, limit), []) if now - t < 60.0]
            if len(hits) >= PER_MINUTE[limit]:
                return token, self.error(
                    429, "rate_limit_exceeded", "The API rate limit was exceeded."
                )
            self._hits[(token, limit)] = [*hits, now]
        return token, None

    def _scope(self, token: str, scope: str | tuple[str, ...]) -> httpx.Response | None:
        wanted = (scope,) if isinstance(scope, str) else scope
        if not set(wanted) & set(self.auth.scopes_of(token)):
            return self.error(
                401,
                "scope_not_authorized",
                "The user did not authorize the scope required for completing this request.",
            )
        return None

    def _json(self, request: httpx.Request) -> dict[str, Any] | None:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return None
        payload = body_json(request)
        return payload if isinstance(payload, dict) else None

    def _privacy(self, post_info: dict[str, Any]) -> httpx.Response | None:
        privacy = post_info.get("privacy_level")
        if self.unaudited and not self.private_account:
            return self.error(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Please review our integration guidelines at "
                "https://developers.tiktok.com/doc/content-sharing-guidelines/",
            )
        if privacy not in self.privacy_options:
            return self.error(
                403,
                "privacy_level_option_mismatch",
                "privacy_level is missing or not one of the creator's privacy_level_options.",
            )
        return None

    def _cap(self, token: str) -> httpx.Response | None:
        today = [
            p
            for p in self.posts
            if p.token == token and not p.inbox and self.clock() - p.created < 86400
        ]
        if len(today) >= self.daily_cap:
            return self.error(
                403,
                "spam_risk_too_many_posts",
                "The daily post cap from the API is reached for the current user.",
            )
        return None

    def _pending(self, token: str) -> httpx.Response | None:
        """At most 5 inbox uploads pending within 24 hours (upload reference)."""
        pending = [
            p
            for p in self.posts
            if p.token == token
            and p.inbox
            and p.status != "PUBLISH_COMPLETE"
            and p.status != "FAILED"
            and self.clock() - p.created < 86400
        ]
        if len(pending) >= MAX_PENDING_SHARES:
            return self.error(
                403,
                "spam_risk_too_many_pending_share",
                "The daily upload cap from the API is reached for the current user.",
            )
        return None

    def _flags(self, post_info: dict[str, Any], names: tuple[str, ...]) -> httpx.Response | None:
        for name in names:
            if name in post_info and not isinstance(post_info[name], bool):
                return self.invalid(f"post_info.{name} must be a boolean")
        disabled = {
            "disable_comment": self.comment_disabled,
            "disable_duet": self.duet_disabled,
            "disable_stitch": self.stitch_disabled,
        }
        for name in names:
            if disabled.get(name) and post_info.get(name) is not True:
                return self.invalid(f"{name} must be true: the creator turned it off in the app")
        return None

    # -- endpoints -----------------------------------------------------------------------

    def user_info(self, request: httpx.Request) -> httpx.Response:
        """The account's profile: the fields asked for (open_id, display_name...)."""
        _, denied = self._auth(request, "user_info", scope="user.info.basic")
        if denied:
            return denied
        fields = [f for f in request.url.params.get("fields", "").split(",") if f]
        unknown = [f for f in fields if f not in USER_FIELDS]
        if not fields or unknown:
            return self.error(
                400, "invalid_params", f"fields is required; unknown: {', '.join(unknown)}"
            )
        profile = {
            "open_id": self.open_id,
            "union_id": "union-" + self.open_id,
            "avatar_url": "https://p16.tiktokcdn.com/avatar.jpeg",
            "display_name": self.display_name,
            "username": self.username,
        }
        return self.ok({"user": {f: profile[f] for f in fields}})

    def creator_info(self, request: httpx.Request) -> httpx.Response:
        """The account's username, privacy options and interaction settings."""
        _, denied = self._auth(request, "creator_info")
        if denied:
            return denied
        return self.ok(
            {
                "creator_avatar_url": "https://p16.tiktokcdn.com/avatar.jpeg",
                "creator_username": self.username,
                "creator_nickname": self.username.upper(),
                "privacy_level_options": list(self.privacy_options),
                "comment_disabled": self.comment_disabled,
                "duet_disabled": self.duet_disabled,
                "stitch_disabled": self.stitch_disabled,
                "max_video_post_duration_sec": self.max_video_post_duration_sec,
            }
        )

    def _init_request(
        self, request: httpx.Request
    ) -> httpx.Response | tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
        """What the direct and photo inits check first: the token, a JSON body, the two
        objects, and the scope (video.publish; photos with MEDIA_UPLOAD: video.upload)."""
        token, denied = self._auth(request, "init", scope=None)
        if denied:
            return denied
        body = self._json(request)
        if body is None:
            return self.invalid("The request body must be JSON (application/json).")
        upload = request.url.path.endswith("/content/init/") and (
            body.get("post_mode") == "MEDIA_UPLOAD"
        )
        denied = self._scope(token, "video.upload" if upload else "video.publish")
        if denied:
            return denied
        post_info, source = body.get("post_info"), body.get("source_info")
        if not isinstance(post_info, dict) or not isinstance(source, dict):
            return self.invalid("post_info and source_info are required.")
        return token, body, post_info, source

    def video_init(self, request: httpx.Request) -> httpx.Response:
        """Start a video post (FILE_UPLOAD); answers publish_id and upload_url."""
        started = self._init_request(request)
        if isinstance(started, httpx.Response):
            return started
        token, _body, post_info, source = started
        title = post_info.get("title", "")
        if not isinstance(title, str) or utf16(title) > CAPTION:
            return self.invalid(f"title must be a string of at most {CAPTION} UTF-16 runes.")
        if not isinstance(post_info.get("brand_content_toggle"), bool):
            return self.invalid("post_info.brand_content_toggle is required.")
        bad = self._flags(
            post_info,
            ("disable_comment", "disable_duet", "disable_stitch", "brand_organic_toggle"),
        )
        if bad:
            return bad
        if source.get("source") != "FILE_UPLOAD":
            return self.invalid("source_info.source: this fake supports FILE_UPLOAD only.")
        problem = chunk_rule_problem(
            source.get("video_size"), source.get("chunk_size"), source.get("total_chunk_count")
        )
        if problem:
            return self.invalid(problem)
        refused = self._privacy(post_info) or self._cap(token)
        if refused:
            return refused
        return self._video_post(token, post_info, source, "v_pub_file~v2-1.", inbox=False)

    def inbox_init(self, request: httpx.Request) -> httpx.Response:
        """Upload a video to the creator's inbox: ``source_info`` only (FILE_UPLOAD here),
        scope video.upload; answers publish_id and upload_url (upload reference)."""
        token, denied = self._auth(request, "init", scope="video.upload")
        if denied:
            return denied
        body = self._json(request)
        if body is None:
            return self.invalid("The request body must be JSON (application/json).")
        if "post_info" in body:
            return self.invalid(
                "post_info is not a field of the inbox upload: the creator writes the "
                "caption in TikTok."
            )
        source = body.get("source_info")
        if not isinstance(source, dict):
            return self.invalid("source_info is required.")
        if source.get("source") != "FILE_UPLOAD":
            return self.invalid("source_info.source: this fake supports FILE_UPLOAD only.")
        problem = chunk_rule_problem(
            source.get("video_size"), source.get("chunk_size"), source.get("total_chunk_count")
        )
        if problem:
            return self.invalid(problem)
        refused = self._pending(token)
        if refused:
            return refused
        return self._video_post(token, {}, source, "v_inbox_file~v2.", inbox=True)

    def _video_post(
        self,
        token: str,
        post_info: dict[str, Any],
        source: dict[str, Any],
        prefix: str,
        *,
        inbox: bool,
    ) -> httpx.Response:
        """Record an accepted video init; answer its publish_id and upload URL."""
        number = next(self._ids)
        post = TikTokPost(
            publish_id=f"{prefix}{7_300_000_000_000_000_000 + number}",
            media_type="VIDEO",
            post_info=post_info,
            source_info=source,
            token=token,
            created=self.clock(),
            upload_id=str(number),
            upload_token=hashlib.sha256(f"upload-{number}".encode()).hexdigest()[:32],
            inbox=inbox,
        )
        self.posts.append(post)
        # The real host is open-upload.tiktokapis.com; clients rebase it onto us.
        upload_url = f"{self.base_url}/video/?upload_id={number}&upload_token={post.upload_token}"
        return self.ok({"publish_id": post.publish_id, "upload_url": upload_url})

    def upload(self, request: httpx.Request) -> httpx.Response:
        """One chunk of a video: exactly the next range, in order, of the announced size."""
        started = self.start_chunk(request)
        if isinstance(started, httpx.Response):
            return started
        started.feed(request.content)
        return started.finish()

    def start_chunk(self, request: httpx.Request) -> httpx.Response | ChunkReceiver:
        """What a chunk PUT's URL and headers say: the refusal, or a receiver for its bytes."""
        params = request.url.params
        post = next(
            (
                p
                for p in self.posts
                if p.upload_id
                and (p.upload_id, p.upload_token)
                == (params.get("upload_id"), params.get("upload_token"))
            ),
            None,
        )
        if post is None:
            return self.error(404, "invalid_param", "Unknown upload_id or upload_token.")
        if self.clock() - post.created > UPLOAD_LIFETIME:
            return self.error(403, "invalid_param", "The upload_url has expired (1 hour).")
        ctype = request.headers.get("content-type", "")
        if ctype not in VIDEO_TYPES:
            return self.invalid(f"Content-Type must be one of {', '.join(VIDEO_TYPES)}.")
        if post.content_type and ctype != post.content_type:
            return self.invalid("Content-Type changed between chunks.")
        match = _RANGE.fullmatch(request.headers.get("content-range", ""))
        if match is None:
            return self.invalid("Content-Range must be 'bytes {first}-{last}/{total}'.")
        first, last, total = (int(g) for g in match.groups())
        length = request.headers.get("content-length")
        if length is None or int(length) != last - first + 1:
            return self.invalid("Content-Length must equal the chunk's size and its range.")
        if total != post.video_size:
            return self.invalid("The total in Content-Range is not the video_size of the init.")
        return ChunkReceiver(self, post, first, last, ctype, running=post.sha256.copy())

    def streaming_transport(self) -> httpx.AsyncBaseTransport:
        """In-process like ``transport``, but a chunk's bytes are taken as they stream, so a
        large upload never sits whole in memory (faults are not applied to chunk PUTs)."""
        return _Streaming(self)

    def content_init(self, request: httpx.Request) -> httpx.Response:
        """Start a photo post: PULL_FROM_URL only, from verified URLs."""
        started = self._init_request(request)
        if isinstance(started, httpx.Response):
            return started
        token, body, post_info, source = started
        if body.get("media_type") != "PHOTO":
            return self.invalid("media_type must be PHOTO.")
        if body.get("post_mode") not in ("DIRECT_POST", "MEDIA_UPLOAD"):
            return self.invalid("post_mode must be DIRECT_POST or MEDIA_UPLOAD.")
        title, description = post_info.get("title", ""), post_info.get("description", "")
        if not isinstance(title, str) or utf16(title) > PHOTO_TITLE:
            return self.invalid(f"title must be at most {PHOTO_TITLE} UTF-16 runes.")
        if not isinstance(description, str) or utf16(description) > PHOTO_DESCRIPTION:
            return self.invalid(f"description must be at most {PHOTO_DESCRIPTION} UTF-16 runes.")
        bad = self._flags(
            post_info,
            ("disable_comment", "auto_add_music", "brand_content_toggle", "brand_organic_toggle"),
        )
        if bad:
            return bad
        if source.get("source") != "PULL_FROM_URL":
            return self.invalid("Photo posts only support source PULL_FROM_URL.")
        images = source.get("photo_images")
        if (
            not isinstance(images, list)
            or not 1 <= len(images) <= MAX_PHOTOS
            or not all(isinstance(u, str) and u.startswith(("https://", "http://")) for u in images)
        ):
            return self.invalid(f"photo_images must list 1 to {MAX_PHOTOS} photo URLs.")
        cover = source.get("photo_cover_index")
        if not isinstance(cover, int) or isinstance(cover, bool) or not 0 <= cover < len(images):
            return self.invalid("photo_cover_index must index photo_images (from 0).")
        if self.verified_prefixes is not None and not all(
            u.startswith(self.verified_prefixes) for u in images
        ):
            return self.error(
                403,
                "url_ownership_unverified",
                "Please verify the ownership of the domain or URL prefix of the photo URLs.",
            )
        inbox = body["post_mode"] == "MEDIA_UPLOAD"
        refused = self._pending(token) if inbox else self._privacy(post_info) or self._cap(token)
        if refused:
            return refused
        post = TikTokPost(
            publish_id=f"p_pub_url~v2.{7_400_000_000_000_000_000 + next(self._ids)}",
            media_type="PHOTO",
            post_info=post_info,
            source_info=source,
            token=token,
            created=self.clock(),
            status="PROCESSING_DOWNLOAD",
            polls_left=self.processing_polls,
            inbox=inbox,
        )
        # TikTok pulls the photos itself; an unreachable or unusable one fails the post.
        for url in images:
            data = self.media.get(url)
            if data is None and self.fetch is not None:
                data = self.fetch(url)
            if data is None:
                post.fail_reason = post.fail_reason or "photo_pull_failed"
                continue
            post.photo_bytes.append(len(data))
            is_jpeg = data.startswith(b"\xff\xd8\xff")
            is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
            if not (is_jpeg or is_webp):
                post.fail_reason = post.fail_reason or "file_format_check_failed"
            elif len(data) > PHOTO_BYTES:
                post.fail_reason = post.fail_reason or "picture_size_check_failed"
        self.posts.append(post)
        return self.ok({"publish_id": post.publish_id})

    def status_fetch(self, request: httpx.Request) -> httpx.Response:
        """Where a post is: PROCESSING_UPLOAD/DOWNLOAD, SEND_TO_USER_INBOX, PUBLISH_COMPLETE
        or FAILED."""
        token, denied = self._auth(request, "status", scope=("video.upload", "video.publish"))
        if denied:
            return denied
        body = self._json(request)
        publish_id = body.get("publish_id") if body else None
        post = next((p for p in self.posts if p.publish_id == publish_id), None)
        if post is None or post.token != token:
            return self.invalid("publish_id is missing or unknown.")
        self._advance(post)
        data: dict[str, Any] = {
            "status": post.status,
            "publicaly_available_post_id": [int(post.post_id)] if post.post_id else [],
        }
        if post.status == "FAILED":
            data["fail_reason"] = post.fail_reason
        if post.media_type == "VIDEO":
            data["uploaded_bytes"] = post.received
        else:
            data["downloaded_bytes"] = sum(post.photo_bytes)
        return self.ok(data)

    def _advance(self, post: TikTokPost) -> None:
        if post.status not in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"):
            return
        if post.media_type == "VIDEO" and not post.complete:
            return
        if post.polls_left > 0:
            post.polls_left -= 1
            return
        reason = post.fail_reason or self.fail_reason
        if reason:
            post.status, post.fail_reason = "FAILED", reason
            return
        if post.inbox:
            post.status = "SEND_TO_USER_INBOX"  # the creator finishes it in the app
            return
        post.status = "PUBLISH_COMPLETE"
        # Only public posts get a public id (after moderation, instant here).
        if post.privacy_level == "PUBLIC_TO_EVERYONE":
            post.post_id = str(7_500_000_000_000_000_000 + next(self._ids))


@dataclass
class ChunkReceiver:
    """The bytes of one chunk PUT as they arrive: counted and hashed, then judged."""

    fake: FakeTikTok
    post: TikTokPost
    first: int
    last: int
    content_type: str
    running: Any  # the post's digest so far, continued with this chunk's bytes
    size: int = 0
    digest: Any = field(default_factory=hashlib.sha256)

    def feed(self, data: bytes) -> None:
        """Some more bytes of the chunk."""
        self.size += len(data)
        self.digest.update(data)
        self.running.update(data)

    def finish(self) -> httpx.Response:
        """The answer once the whole body is in: exactly the next range, in order."""
        fake, post, first, last = self.fake, self.post, self.first, self.last
        if self.size != last - first + 1:
            return fake.invalid("Content-Length must equal the chunk's size and its range.")
        digest = self.digest.hexdigest()
        if post.last_range == (first, last) and digest == post.last_digest:
            # The same chunk again (its answer was lost): harmless, answer as before.
            return fake.ok({}, 201 if post.complete else 206)
        expected = expected_range(
            post.video_size, int(post.source_info["chunk_size"]), post.next_chunk
        )
        if post.complete or expected != (first, last):
            return fake.invalid(
                f"Chunks must be sent in order: expected bytes {expected[0]}-{expected[1]}, "
                f"got {first}-{last}."
            )
        post.sha256 = self.running
        post.received += self.size
        post.next_chunk += 1
        post.last_range, post.last_digest = (first, last), digest
        post.content_type = self.content_type
        post.chunks.append((first, last))
        if post.complete:
            post.polls_left = fake.processing_polls
            return fake.ok({}, 201)
        return fake.ok({}, 206)


class _Streaming(httpx.AsyncBaseTransport):
    """``FakeTikTok.streaming_transport``: chunk PUTs fed to the fake piece by piece."""

    def __init__(self, fake: FakeTikTok) -> None:
        self.fake = fake
        self.inner = fake.transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "PUT" or request.url.path != "/video/":
            return await self.inner.handle_async_request(request)
        self.fake.requests.append(httpx.Request("PUT", request.url, headers=request.headers))
        started = self.fake.start_chunk(request)
        if isinstance(started, httpx.Response):
            return started
        async for piece in request.stream:  # type: ignore[union-attr]
            started.feed(piece)
        return started.finish()


def expected_range(video_size: int, chunk_size: int, index: int) -> tuple[int, int]:
    """The inclusive byte range of chunk ``index``; the last chunk takes the remainder."""
    count = max(video_size // chunk_size, 1)
    first = index * chunk_size
    last = video_size - 1 if index >= count - 1 else first + chunk_size - 1
    return first, last


def chunk_rule_problem(video_size: Any, chunk_size: Any, count: Any) -> str | None:
    """Why an init's chunk plan breaks the media transfer guide's rules, or None."""
    if not all(
        isinstance(v, int) and not isinstance(v, bool) for v in (video_size, chunk_size, count)
    ):
        return "video_size, chunk_size and total_chunk_count are required integers."
    if video_size <= 0 or chunk_size <= 0:
        return "video_size and chunk_size must be positive."
    if video_size > MAX_VIDEO:
        return "The video is larger than 4 GB."
    if video_size < MIN_CHUNK:
        if chunk_size != video_size or count != 1:
            return "Videos under 5 MB must be uploaded whole: chunk_size = video_size, 1 chunk."
        return None
    if chunk_size == video_size:
        if video_size > MAX_CHUNK:
            return "Videos over 64 MB must be uploaded in chunks."
        return None if count == 1 else "A whole upload is 1 chunk."
    if video_size > MAX_CHUNK and count < 2:
        return "Videos over 64 MB must be uploaded in multiple chunks."
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        return "The chunk size is invalid: chunks are 5 MB to 64 MB."
    if count != video_size // chunk_size:
        return "total_chunk_count must be floor(video_size / chunk_size)."
    if not 1 <= count <= MAX_CHUNKS:
        return "total_chunk_count must be 1 to 1000."
    if video_size - (count - 1) * chunk_size > MAX_LAST_CHUNK:
        return "The final chunk may be at most 128 MB."
    return None
