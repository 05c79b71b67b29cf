"""A fake Threads API, as strict as docs/platforms/threads.md lets it be.

Endpoints (``{v}`` is any ``vN.N``):

* ``POST /{v}/{user}/threads`` — containers: ``media_type`` TEXT (``text``
  required), IMAGE (``image_url``, fetched: JPEG or PNG, at most 8 MB), VIDEO
  (``video_url``, fetched: an MP4/MOV), CAROUSEL (``children``: 2 to 20 carousel
  items of this account, each FINISHED). ``text`` at most 500 by Threads' count
  (emoji in UTF-8 bytes), at most 5 distinct links. Errors in the Graph shape.
* ``GET /{v}/{container}?fields=status,error_message`` — IN_PROGRESS for the first
  ``polls_until_finished`` polls of a video (images and text are FINISHED at once),
  then FINISHED, or ERROR with an ``error_message`` when the media could not be
  fetched; PUBLISHED once published; ``expire(container)`` makes it EXPIRED.
* ``POST /{v}/{user}/threads_publish?creation_id=`` — a FINISHED, unpublished
  container that is not a carousel item; at most ``quota`` posts per 24 hours.
* ``GET /{v}/{media}?fields=id,text,permalink,timestamp,media_type`` and
  ``GET /{v}/{user}/threads`` (newest first, ``limit``).
* ``GET /{v}/me?fields=id,username``.
* ``GET /refresh_access_token?grant_type=th_refresh_token&access_token=`` — a token
  at least 24 hours old (by ``issued``) and not expired gets a new 60-day one.

Only the documented fields may be asked for: any other is Graph's error 100.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from crosspost_adapters.threads import MAX_LINKS, URL, threads_length
from tests.fakes.base import form
from tests.fakes.facebook import VERSION, Fetch, GraphFake, graph_error, image_type, is_video

MAX_TEXT = 500
MAX_IMAGE = 8 * 1024 * 1024
CAROUSEL = (2, 20)
DAY = 86_400.0
LONG_LIVED = 60 * DAY
CONTAINER_FIELDS = frozenset({"id", "status", "error_message"})
MEDIA_FIELDS = frozenset(
    {"id", "text", "permalink", "timestamp", "media_type", "username", "shortcode"}
)


class FakeThreads(GraphFake):
    """A Threads account; see the module docstring for its rules."""

    name = "threads"

    def __init__(
        self,
        user_id: str = "25012345678901234",
        access_token: str = "THAAthreads-token-0123456789",
        *,
        username: str = "kpumusirawas",
        fetch: Fetch | None = None,
        polls_until_finished: int = 1,
        quota: int = 250,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__({access_token}, fetch, clock)
        self.user_id = user_id
        self.username = username
        self.access_token = access_token
        self.polls_until_finished = polls_until_finished
        self.quota = quota
        #: When each token was issued (by ``clock``): refresh needs 24 hours.
        self.issued: dict[str, float] = {access_token: clock() - 2 * DAY}
        #: Containers by id: media_type, params, status, polls, published media id.
        self.containers: dict[str, dict[str, Any]] = {}
        #: Published posts, oldest first: id, container, media_type, text, urls, time.
        self.posts: list[dict[str, Any]] = []
        self.route("GET", r"/refresh_access_token", self._refresh)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/threads", self._create)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)/threads", self._list)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/threads_publish", self._publish)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)", self._read)

    # -- test controls -------------------------------------------------------------

    def expire(self, token_or_container: str) -> None:
        """Expire a token (code 190/463) or a container (status EXPIRED)."""
        if token_or_container in self.containers:
            self.containers[token_or_container]["status"] = "EXPIRED"
        else:
            super().expire(token_or_container)

    # -- helpers -------------------------------------------------------------------

    def _account(self, request: httpx.Request, node: str) -> httpx.Response | None:
        refused = self.check_token(request)
        if refused is not None:
            return refused
        if node not in (self.user_id, "me"):
            return self.no_object(node, request.method.lower())
        return None

    def _fields(
        self, request: httpx.Request, allowed: frozenset[str]
    ) -> list[str] | httpx.Response:
        asked = [f for f in form(request).get("fields", "id").split(",") if f]
        for name in asked:
            if name not in allowed:
                return graph_error(400, 100, f"(#100) Tried accessing nonexisting field ({name})")
        return asked

    def _text_error(self, text: str) -> httpx.Response | None:
        if threads_length(text) > MAX_TEXT:
            return graph_error(
                400,
                100,
                f"(#100) The text is too long: Threads posts are at most {MAX_TEXT} characters",
                user_msg="Text is too long",
            )
        links = {m.group(0).rstrip(".,;:!?)").lower() for m in URL.finditer(text)}
        if len(links) > MAX_LINKS:
            return graph_error(
                400,
                100,
                "THREADS_API__LINK_LIMIT_EXCEEDED: posts may contain at most 5 links",
            )
        return None

    # -- routes --------------------------------------------------------------------

    def _create(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._account(request, node)
        if refused is not None:
            return refused
        params = form(request)
        kind = params.get("media_type")
        if kind not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return graph_error(
                400, 100, "(#100) Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}"
            )
        text = params.get("text", "")
        refused = self._text_error(text)
        if refused is not None:
            return refused
        item = params.get("is_carousel_item") == "true"
        entry: dict[str, Any] = {
            "media_type": kind,
            "params": params,
            "status": "FINISHED",
            "error_message": "",
            "polls": 0,
            "item": item,
            "media_id": None,
        }
        if kind == "TEXT":
            if item:
                return graph_error(400, 100, "(#100) A carousel item must be an image or video")
            if not text:
                return graph_error(400, 100, "(#100) The parameter text is required")
        elif kind == "IMAGE":
            url = params.get("image_url")
            if not url:
                return graph_error(400, 100, "(#100) The parameter image_url is required")
            data = self.fetch_media(url)
            if data is None or image_type(data) not in ("image/jpeg", "image/png"):
                entry["status"] = "ERROR"
                entry["error_message"] = (
                    "FAILED_DOWNLOADING_IMAGE" if data is None else ("UNSUPPORTED_IMAGE_FORMAT")
                )
            elif len(data) > MAX_IMAGE:
                entry["status"] = "ERROR"
                entry["error_message"] = "IMAGE_TOO_LARGE"
            entry["data"] = data
        elif kind == "VIDEO":
            url = params.get("video_url")
            if not url:
                return graph_error(400, 100, "(#100) The parameter video_url is required")
            data = self.fetch_media(url)
            if data is None or not is_video(data):
                entry["status"] = "ERROR"
                entry["error_message"] = (
                    "FAILED_DOWNLOADING_VIDEO" if data is None else ("UNSUPPORTED_VIDEO_FORMAT")
                )
            else:
                entry["status"] = "IN_PROGRESS"
            entry["data"] = data
        else:
            refused = self._children(params.get("children", ""))
            if refused is not None:
                return refused
        container = self.next_id("18")
        self.containers[container] = entry
        return httpx.Response(200, json={"id": container})

    def _children(self, children: str) -> httpx.Response | None:
        ids = [c for c in children.split(",") if c]
        low, high = CAROUSEL
        if not low <= len(ids) <= high:
            return graph_error(
                400, 100, f"(#100) A carousel needs {low} to {high} children, not {len(ids)}"
            )
        for child in ids:
            entry = self.containers.get(child)
            if entry is None or not entry["item"]:
                return graph_error(400, 100, f"(#100) {child} is not a carousel item")
            if entry["status"] != "FINISHED":
                return graph_error(400, 100, f"(#100) Carousel item {child} is not finished")
        return None

    def _status(self, entry: dict[str, Any]) -> str:
        """The container's status as a poll sees it (a video finishes after some polls)."""
        if entry["status"] == "IN_PROGRESS":
            entry["polls"] += 1
            if entry["polls"] > self.polls_until_finished:
                entry["status"] = "FINISHED"
        return str(entry["status"])

    def _read(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self.check_token(request)
        if refused is not None:
            return refused
        if node in ("me", self.user_id):
            fields = self._fields(request, frozenset({"id", "username", "name"}))
            if isinstance(fields, httpx.Response):
                return fields
            values = {"id": self.user_id, "username": self.username, "name": "KPU Musi Rawas"}
            return httpx.Response(200, json={f: values[f] for f in fields} | {"id": self.user_id})
        if node in self.containers:
            fields = self._fields(request, CONTAINER_FIELDS)
            if isinstance(fields, httpx.Response):
                return fields
            entry = self.containers[node]
            status = self._status(entry)
            body: dict[str, Any] = {"id": node}
            if "status" in fields:
                body["status"] = status
            if "error_message" in fields and entry["error_message"]:
                body["error_message"] = entry["error_message"]
            return httpx.Response(200, json=body)
        for post in self.posts:
            if post["id"] == node:
                fields = self._fields(request, MEDIA_FIELDS)
                if isinstance(fields, httpx.Response):
                    return fields
                return httpx.Response(200, json={f: post.get(f) for f in fields} | {"id": node})
        return self.no_object(node, "get")

    def _publish(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._account(request, node)
        if refused is not None:
            return refused
        creation = form(request).get("creation_id")
        if not creation:
            return graph_error(400, 100, "(#100) The parameter creation_id is required")
        entry = self.containers.get(creation)
        if entry is None:
            return self.no_object(creation, "post")
        if entry["item"]:
            return graph_error(400, 100, "(#100) A carousel item cannot be published alone")
        if entry["status"] == "PUBLISHED":
            return graph_error(400, 100, "(#100) This media container was already published")
        if entry["status"] != "FINISHED":
            return graph_error(
                400,
                24,
                "(#24) The requested resource does not exist",
                user_msg="The media is not ready to be published, please wait",
            )
        now = self.clock()
        if sum(1 for p in self.posts if now - p["published_at"] < DAY) >= self.quota:
            return graph_error(400, 4, "(#4) Application request limit reached")
        media_id = self.next_id("17")
        entry["status"] = "PUBLISHED"
        entry["media_id"] = media_id
        params = entry["params"]
        urls = []
        if entry["media_type"] == "CAROUSEL":
            urls = [
                self.containers[c]["params"].get("image_url")
                or self.containers[c]["params"].get("video_url")
                for c in params["children"].split(",")
            ]
        elif entry["media_type"] in ("IMAGE", "VIDEO"):
            urls = [params.get("image_url") or params.get("video_url")]
        self.posts.append(
            {
                "id": media_id,
                "container": creation,
                "media_type": entry["media_type"],
                "text": params.get("text"),
                "alt": params.get("alt_text"),
                "urls": urls,
                "permalink": f"https://www.threads.net/@{self.username}/post/C{media_id}",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(now)),
                "username": self.username,
                "shortcode": f"C{media_id}",
                "published_at": now,
            }
        )
        return httpx.Response(200, json={"id": media_id})

    def _list(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._account(request, node)
        if refused is not None:
            return refused
        fields = self._fields(request, MEDIA_FIELDS)
        if isinstance(fields, httpx.Response):
            return fields
        limit = int(form(request).get("limit", "25"))
        newest = list(reversed(self.posts))[:limit]
        data = [{f: p.get(f) for f in fields} | {"id": p["id"]} for p in newest]
        return httpx.Response(200, json={"data": data, "paging": {}})

    def _refresh(self, request: httpx.Request) -> httpx.Response:
        params = form(request)
        if params.get("grant_type") != "th_refresh_token":
            return graph_error(400, 100, "(#100) grant_type must be th_refresh_token")
        token = params.get("access_token")
        if not token or token not in self.tokens:
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if self.is_expired(token):
            return graph_error(
                400, 190, "Error validating access token: Session has expired", subcode=463
            )
        if self.clock() - self.issued.get(token, self.clock()) < DAY:
            return graph_error(400, 100, "(#100) The access token is less than 24 hours old")
        renewed = f"THAArenewed-{self.next_id('9')}-0123456789"
        self.add_token(renewed, self.clock() + LONG_LIVED)
        self.issued[renewed] = self.clock()
        return httpx.Response(
            200,
            json={"access_token": renewed, "token_type": "bearer", "expires_in": int(LONG_LIVED)},
        )
