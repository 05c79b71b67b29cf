"""A fake Facebook Graph API for Pages, as strict as platform-apis.md §2 lets it be.

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
* ``POST /{v}/{app}/uploads`` — opens a resumable upload session; ``file_type`` must
  be one the guide lists.
* ``POST /{v}/upload:{session}`` — ``file_offset`` header must equal the bytes held
  (the fake's choice, since the real answer to a wrong offset is UNVERIFIED:
  code 100); answers ``{"h": handle}`` once the file is whole.
  ``GET /{v}/upload:{session}`` — ``{"id", "file_offset"}``.
* ``POST /{v}/{page}/videos`` — ``fbuploader_video_file_chunk`` (a finished upload's
  handle, used once), or ``file_url`` (fetched); ``title``, ``description``.

Auth: ``Authorization: Bearer|OAuth <token>`` (or the ``access_token`` parameter
the real API also takes). The Page token posts; the user token may only upload.
Errors are the Graph error object. ``cut_upload_at`` makes the next upload
request keep that many bytes and then drop the connection (a broken upload).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.base import Dropped, FakePlatform, form, multipart

VERSION = r"/(?P<version>v\d+\.\d+)"
#: The Resumable Upload API's valid ``file_type`` values (graph-api/guides/upload).
UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")
#: Facebook's message limit (platform-apis.md §2.3).
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
) -> httpx.Response:
    """A Graph API error response (graph-api/guides/error-handling)."""
    error: dict[str, Any] = {"message": message, "type": type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_title is not None:
        error["error_user_title"] = user_title
    if user_msg is not None:
        error["error_user_msg"] = user_msg
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

    def __init__(self, tokens: set[str], fetch: Fetch | None) -> None:
        super().__init__()
        self.tokens = set(tokens)
        self.expired: set[str] = set()
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

    def check_token(
        self, request: httpx.Request, allowed: set[str] | None = None
    ) -> httpx.Response | None:
        """None when the request carries a valid token in ``allowed``; else the error."""
        token = token_of(request)
        if token is None:
            return graph_error(400, 104, "An access token is required to request this resource.")
        if token in self.expired:
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
        uploads_need_user_token: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__({page_token, user_token}, fetch)
        #: The time posts are created at (seconds since the epoch).
        self.clock = clock
        self.page_id = page_id
        self.page_token = page_token
        self.user_token = user_token
        self.app_id = app_id
        self.max_photo_bytes = max_photo_bytes
        self.uploads_need_user_token = uploads_need_user_token
        #: Published posts, oldest first: dicts with id, kind, message, link, photos...
        self.posts: list[dict[str, Any]] = []
        #: Every photo uploaded, by id: bytes, url, caption, published, attached_to.
        self.photos: dict[str, dict[str, Any]] = {}
        #: Resumable upload sessions by id ("upload:<id>").
        self.uploads: dict[str, dict[str, Any]] = {}
        #: Keep this many bytes of the next upload request, then drop the connection.
        self.cut_upload_at: int | None = None
        self.route("POST", VERSION + r"/(?P<session>upload:[\w-]+)", self._upload_bytes)
        self.route("GET", VERSION + r"/(?P<session>upload:[\w-]+)", self._upload_status)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/feed", self._feed)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)/feed", self._read_feed)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/photos", self._photo)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/uploads", self._open_upload)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/videos", self._video)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)/videos", self._read_videos)

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
        if link is not None and not link.startswith(("http://", "https://")):
            return graph_error(400, 100, "(#100) The link is not a valid URL", subcode=2061006)
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

    # -- resumable uploads and videos ----------------------------------------

    def _open_upload(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        allowed = {self.user_token} if self.uploads_need_user_token else None
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
        session = f"upload:{self.next_id('7')}"
        self.uploads[session] = {
            "name": params["file_name"],
            "length": int(params["file_length"]),
            "type": params["file_type"],
            "data": bytearray(),
            "handle": None,
            "used": False,
        }
        return httpx.Response(200, json={"id": session})

    def _session(self, request: httpx.Request, session: str) -> dict[str, Any] | httpx.Response:
        refused = self.check_token(request)
        if refused is not None:
            return refused
        upload = self.uploads.get(session)
        if upload is None:
            return self.no_object(session)
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
            return httpx.Response(200, json={"id": session, "file_offset": len(upload["data"])})
        if upload["handle"] is None:
            upload["handle"] = f"4:{hashlib.sha1(bytes(upload['data'])).hexdigest()}"
        return httpx.Response(200, json={"h": upload["handle"]})

    def _upload_status(self, request: httpx.Request, version: str, session: str) -> httpx.Response:
        upload = self._session(request, session)
        if isinstance(upload, httpx.Response):
            return upload
        return httpx.Response(200, json={"id": session, "file_offset": len(upload["data"])})

    def _video(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._page(request, node)
        if refused is not None:
            return refused
        fields, _files = multipart(request)
        params = {**form(request), **fields}
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
        if not is_video(data):
            return graph_error(400, 352, "(#352) The video file you selected is not supported")
        description = params.get("description", "")
        too_long = self._message_error(description)
        if too_long is not None:
            return too_long
        video_id = self.next_id("3")
        self._record(
            "video",
            video_id=video_id,
            title=params.get("title"),
            description=description,
            bytes=data,
            file_url=file_url,
        )
        return httpx.Response(200, json={"id": video_id})
