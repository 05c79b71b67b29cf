"""A fake Instagram Content Publishing API, as strict as docs/platforms/instagram.md lets it be.

Endpoints (``{v}`` is any ``vNN.N``; every URL it hands back is on ``base_url``,
or on ``rupload_origin`` when a test sets one to prove the client rebases it):

* ``POST /{v}/{ig}/media`` — containers: an image (``image_url``, fetched for
  real: JPEG only, at most 8 MiB), a carousel item (``is_carousel_item=true``), a
  carousel (``media_type=CAROUSEL``, 2–10 finished children of this account), a
  Reel (``media_type=REELS`` with ``video_url``, or ``upload_type=resumable`` →
  ``uri``). Captions: 2,200 code points, ``max_hashtags`` hashtags (default 30,
  the API reference's number) and ``max_mentions`` @-mentions (20); errors carry
  the real codes (9004/2207052, 36001/2207005, 36000/2207004, 100/2207040...).
* ``GET /{v}/{container}?fields=status_code,status`` — IN_PROGRESS for the first
  ``polls_until_finished`` polls (after the upload, for a resumable Reel), then
  ``outcome`` (FINISHED, ERROR or EXPIRED); ``expire(container)`` expires one;
  PUBLISHED once published. Only the IG Container's fields may be asked for (a
  nonexisting field is error 100, as Graph answers). ``GET /{v}/{media}?fields=permalink``
  for media.
* ``POST /{v}/{ig}/media_publish`` — ``creation_id`` of a FINISHED container
  (else 9007/2207027), at most ``quota_total`` posts per 24 hours (9/2207042).
* ``GET /{v}/{ig}/content_publishing_limit`` and ``GET /{v}/{ig}/media``.
* ``POST /ig-api-upload/{v}/{container}`` — rupload, for a container created with
  ``upload_type=resumable`` only: ``Authorization: OAuth``, ``offset`` (0 restarts,
  else exactly the bytes held), ``file_size`` (the same in every request, and
  exactly the bytes that arrive); ``cut_upload_at`` keeps that many bytes of the
  next upload and drops the connection. The container is IN_PROGRESS until every
  byte arrived, then FINISHED (ERROR when the bytes are not a video).
* ``POST /{v}/{media}/comments`` — ``message`` (required, at most 2,200
  characters) on a published media of this account (a container, or an id that is
  not there, is Graph's "does not exist" error 100/33); ``comments_allowed = False``
  refuses it as a token without the comments permission (code 10).
  ``GET /{v}/{media}/comments?fields=...&limit=&after=`` lists them, newest first,
  with Graph's ``paging.cursors`` and ``paging.next``.

``fetch`` is how Instagram "cURLs" a media URL: by default only loopback URLs
are fetched for real; tests register bytes with ``fake.media[url] = data``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import regex

from crosspost.media import image_size_of
from tests.fakes.base import Dropped, form
from tests.fakes.facebook import (
    DEFAULT_REDIRECT,
    VERSION,
    FacebookLogin,
    FakePage,
    Fetch,
    GraphFake,
    graph_error,
    image_type,
    is_video,
    token_of,
)

#: "Maximum 2200 characters, 30 hashtags, and 20 @ tags" (IG User Media reference).
MAX_CAPTION = 2_200
#: Images at most 8 MiB ("It should be less than 8 MiB", error-codes reference).
MAX_IMAGE = 8 * 1024 * 1024
DAY = 86_400.0
#: The fields of an IG Container (IG Container reference).
CONTAINER_FIELDS = frozenset({"id", "status", "status_code", "copyright_check_status"})
#: Permissions Instagram Login may grant in this fake (Business Login for Instagram).
IG_PERMISSIONS = (
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_comments",
    "instagram_business_manage_messages",
)
#: A long-lived Instagram token lasts 60 days (access_token reference), and can be
#: refreshed once at least 24 hours old (refresh_access_token reference).
IG_LONG_LIVED = 60 * DAY
IG_MIN_REFRESH_AGE = DAY
_HASHTAG = regex.compile(r"(?<![\w&])#\w+")
_MENTION = regex.compile(r"(?<![\w@])@[\w.]+")


class FakeInstagram(GraphFake):
    """An Instagram professional account; see the module docstring for its rules."""

    name = "instagram"

    def __init__(
        self,
        ig_user_id: str = "17841400000000001",
        access_token: str = "ig-access-token-0123456789",
        *,
        fetch: Fetch | None = None,
        polls_until_finished: int = 1,
        outcome: str = "FINISHED",
        max_hashtags: int = 30,
        max_mentions: int = 20,
        quota_total: int = 50,
        quota_endpoint: bool = True,
        rupload_origin: str | None = None,
        username: str = "kpumusirawas",
        page_id: str = "102938475610293",
        app_id: str = "445566778899",
        clock: Callable[[], float] = time.time,
        facebook_login: dict[str, Any] | None = None,
        instagram_login: dict[str, Any] | None = None,
    ) -> None:
        super().__init__({access_token}, fetch, clock)
        self.ig_user_id = ig_user_id
        self.username = username
        self.access_token = access_token
        self.polls_until_finished = polls_until_finished
        self.outcome = outcome
        self.max_hashtags = max_hashtags
        self.max_mentions = max_mentions
        self.quota_total = quota_total
        self.quota_endpoint = quota_endpoint
        self.rupload_origin = rupload_origin
        #: Containers by id: kind, params, status, polls, children, upload state.
        self.containers: dict[str, dict[str, Any]] = {}
        #: Published media, oldest first: id, container, media_type, caption, urls...
        self.posts: list[dict[str, Any]] = []
        #: Keep this many bytes of the next rupload request, then drop the connection.
        self.cut_upload_at: int | None = None
        #: Comments by media id, oldest first: id, text, username, timestamp.
        self.comments: dict[str, list[dict[str, Any]]] = {}
        #: False: the token lacks the comments permission (code 10 on a comment).
        self.comments_allowed = True
        #: Facebook Login: a Page with this account linked; its token is ``access_token``.
        self.facebook_login = FacebookLogin(
            self,
            app_id=app_id,
            pages=[
                FakePage(
                    page_id,
                    "KPU Kabupaten Musi Rawas",
                    access_token,
                    instagram=(ig_user_id, username),
                )
            ],
            **(facebook_login or {}),
        )
        # The comments permission of the first comment (IG Media Comments reference).
        server = self.facebook_login.server
        if server.allowed_scopes is not None:
            server.allowed_scopes.add("instagram_manage_comments")
        self.facebook_login.mount()
        #: Instagram Login: instagram.com's window, api.instagram.com, graph.instagram.com.
        self.instagram_login = InstagramLogin(self, **(instagram_login or {}))
        self.instagram_login.mount()
        self.route("POST", r"/ig-api-upload" + VERSION + r"/(?P<container>\d+)", self._rupload)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/media", self._create)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)/media", self._list)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/media_publish", self._publish)
        self.route("POST", VERSION + r"/(?P<node>[^/]+)/comments", self._comment)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)/comments", self._comments)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)/content_publishing_limit", self._quota)
        self.route("GET", VERSION + r"/(?P<node>[^/]+)", self._read)

    # -- test controls -----------------------------------------------------

    def expire(self, token_or_container: str) -> None:
        """Expire a token (code 190/463) or a container (status EXPIRED)."""
        if token_or_container in self.containers:
            self.containers[token_or_container]["expired"] = True
        else:
            super().expire(token_or_container)

    def published_recently(self) -> int:
        """Posts published in the last 24 hours (the publishing quota's window)."""
        now = self.clock()
        return sum(1 for p in self.posts if now - p["published_at"] < DAY)

    # -- helpers -----------------------------------------------------------

    def _account(self, request: httpx.Request, node: str) -> httpx.Response | None:
        refused = self.check_token(request)
        if refused is not None:
            return refused
        if node != self.ig_user_id:
            return self.no_object(node, request.method.lower())
        return None

    def _caption_error(self, caption: str) -> httpx.Response | None:
        if len(caption) > MAX_CAPTION:  # code points (how Instagram counts is UNVERIFIED)
            return graph_error(
                400,
                100,
                f"(#100) The caption is too long: at most {MAX_CAPTION} characters",
                is_transient=False,
            )
        if (
            len(_HASHTAG.findall(caption)) > self.max_hashtags
            or len(_MENTION.findall(caption)) > self.max_mentions
        ):
            return graph_error(
                400,
                100,
                "Cannot use more than max tags",
                subcode=2207040,
                user_title="Too many tags",
                user_msg=(
                    f"Captions can have at most {self.max_hashtags} hashtags and "
                    f"{self.max_mentions} @ tags."
                ),
            )
        return None

    def _cannot_fetch(self, url: str) -> httpx.Response:
        return graph_error(
            400,
            9004,
            "Media download has failed. The media URI doesn't meet our requirements.",
            subcode=2207052,
            user_title="Media download failed",
            user_msg=f"The media could not be fetched from this URI: {url}.",
        )

    def _status_code(self, container: dict[str, Any], poll: bool) -> str:
        """The container's state; a poll moves IN_PROGRESS towards ``outcome``."""
        if container["published"]:
            return "PUBLISHED"
        if container["expired"]:
            return "EXPIRED"
        if container["waiting_upload"]:
            return "IN_PROGRESS"
        if container["polls"] < self.polls_until_finished:
            if poll:
                container["polls"] += 1
            return "IN_PROGRESS"
        return str(container["outcome"])

    def _new_container(self, kind: str, params: dict[str, str], **extra: Any) -> dict[str, Any]:
        container = {
            "id": self.next_id("18"),
            "kind": kind,
            "params": params,
            "polls": 0,
            "outcome": self.outcome,
            "expired": False,
            "published": False,
            "waiting_upload": False,
            "in_carousel": False,
            "data": b"",
            **extra,
        }
        self.containers[container["id"]] = container
        return container

    # -- containers --------------------------------------------------------

    def _create(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._account(request, node)
        if refused is not None:
            return refused
        params = form(request)
        child = params.get("is_carousel_item", "false").lower() == "true"
        media_type = params.get("media_type", "IMAGE").upper()
        if media_type == "IMAGE":
            return self._image(params, child)
        if child:
            return graph_error(400, 100, "(#100) Carousel items here are images only")
        caption = params.get("caption", "")
        bad = self._caption_error(caption)
        if bad is not None:
            return bad
        if media_type == "CAROUSEL":
            return self._carousel(params)
        if media_type == "REELS":
            return self._reel(params, version)
        return graph_error(400, 100, f"(#100) Invalid parameter media_type: {media_type}")

    def _image(self, params: dict[str, str], child: bool) -> httpx.Response:
        url = params.get("image_url")
        if not url:
            return graph_error(400, 100, "(#100) The parameter image_url is required.")
        if not child:
            bad = self._caption_error(params.get("caption", ""))
            if bad is not None:
                return bad
        data = self.fetch_media(url)
        if data is None:
            return self._cannot_fetch(url)
        if image_type(data) != "image/jpeg":
            return graph_error(
                400,
                36001,
                "The image format is not supported.",
                subcode=2207005,
                user_title="Unsupported format",
                user_msg="The image format is not supported. Supported formats are: JPEG",
            )
        if len(data) > MAX_IMAGE:
            return graph_error(
                400,
                36000,
                "The image size is too large.",
                subcode=2207004,
                user_title="Image size too large",
                user_msg="The image is too large to download. It should be less than 8 MiB.",
            )
        size = image_size_of(data)
        if size is None or not 0.8 <= size[0] / size[1] <= 1.91:
            return graph_error(
                400,
                36003,
                "The aspect ratio is not supported.",
                subcode=2207009,
                user_title="Unsupported aspect ratio",
                user_msg="The submitted image with aspect ratio is not supported. Use an image "
                "with aspect ratio between 4:5 and 1.91:1.",
            )
        container = self._new_container("CHILD" if child else "IMAGE", params, data=data)
        return httpx.Response(200, json={"id": container["id"]})

    def _carousel(self, params: dict[str, str]) -> httpx.Response:
        ids = [c for c in params.get("children", "").split(",") if c]
        if not 2 <= len(ids) <= 10 or len(set(ids)) != len(ids):
            return graph_error(
                400,
                100,
                "The carousel is invalid.",
                subcode=2207028,
                user_title="Invalid carousel",
                user_msg="A carousel must have between 2 and 10 different items.",
            )
        for cid in ids:
            child = self.containers.get(cid)
            if child is None or child["kind"] != "CHILD" or child["in_carousel"]:
                return graph_error(400, 100, f"(#100) Invalid carousel item: {cid}")
            if self._status_code(child, poll=False) != "FINISHED":
                return graph_error(
                    400,
                    9007,
                    "The media is not ready for publishing, please wait for a moment",
                    subcode=2207027,
                    user_title="Media ID is not available",
                )
        for cid in ids:
            self.containers[cid]["in_carousel"] = True
        container = self._new_container("CAROUSEL", params, children=ids)
        return httpx.Response(200, json={"id": container["id"]})

    def _reel(self, params: dict[str, str], version: str) -> httpx.Response:
        if params.get("upload_type") == "resumable":
            container = self._new_container("REELS", params, waiting_upload=True, received=b"")
            origin = self.rupload_origin or self.base_url
            uri = f"{origin}/ig-api-upload/{version}/{container['id']}"
            return httpx.Response(200, json={"id": container["id"], "uri": uri})
        url = params.get("video_url")
        if not url:
            return graph_error(400, 100, "(#100) The parameter video_url is required")
        data = self.fetch_media(url)
        if data is None:
            return self._cannot_fetch(url)
        if not is_video(data):
            return graph_error(
                400,
                352,
                "The video format is not supported.",
                subcode=2207026,
                user_title="Unsupported video format",
                user_msg="The video format is not supported. Please use MOV or MP4.",
            )
        container = self._new_container("REELS", params, data=data)
        return httpx.Response(200, json={"id": container["id"]})

    def _rupload(self, request: httpx.Request, version: str, container: str) -> httpx.Response:
        token = token_of(request, schemes=("oauth",))
        if token is None or token not in self.tokens or self.is_expired(token):
            return httpx.Response(
                401,
                json={
                    "debug_info": {
                        "retriable": False,
                        "type": "AuthError",
                        "message": "Invalid OAuth access token.",
                    }
                },
            )
        found = self.containers.get(container)
        if found is None or not found.get("waiting_upload"):
            return _rupload_error(f"No upload expected for container {container}")
        offset = request.headers.get("offset", "")
        size = request.headers.get("file_size", "")
        if not offset.isdigit() or not size.isdigit() or int(size) <= 0:
            return _rupload_error("The offset and file_size headers are required")
        held: bytes = found["received"]
        if int(offset) == 0:
            held = b""  # starting again from the first byte
        elif int(offset) != len(held):
            return _rupload_error(f"offset {offset} does not match the {len(held)} bytes held")
        if found.setdefault("size", int(size)) != int(size):
            return _rupload_error("file_size differs from the first upload request")
        body = request.content
        if len(held) + len(body) > int(size):
            return _rupload_error("More bytes than file_size were sent")
        if self.cut_upload_at is None and len(held) + len(body) != int(size):
            return _rupload_error(
                f"file_size {size} does not match the {len(held) + len(body)} bytes received"
            )
        if self.cut_upload_at is not None and len(body) > self.cut_upload_at:
            found["received"] = held + body[: self.cut_upload_at]
            self.cut_upload_at = None
            raise Dropped
        found["received"] = held + body
        if len(found["received"]) == int(size):
            found["waiting_upload"] = False
            found["data"] = found["received"]
            if not is_video(found["data"]):
                found["outcome"] = "ERROR"
        return httpx.Response(200, json={"success": True, "message": "Upload successful."})

    # -- reading -----------------------------------------------------------

    def _read(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        if node == "me" and token_of(request) in self.instagram_login.long_lived:
            return self.instagram_login.me(request)
        found = self.facebook_login.read_node(request, node)
        if found is not None:
            return found
        refused = self.check_token(request)
        if refused is not None:
            return refused
        fields = [f for f in form(request).get("fields", "id").split(",") if f]
        if node == self.ig_user_id:
            values = {"id": node, "username": self.username, "name": "KPU Musi Rawas"}
            unknown = sorted(set(fields) - set(values))
            if unknown:
                return graph_error(
                    400,
                    100,
                    f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (User)",
                )
            return httpx.Response(200, json={k: values[k] for k in ["id", *fields]})
        container = self.containers.get(node)
        if container is not None:
            unknown = sorted(set(fields) - CONTAINER_FIELDS)
            if unknown:
                return graph_error(
                    400,
                    100,
                    f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type "
                    "(ShadowIGMediaBuilder)",
                )
            status_code = self._status_code(container, poll="status_code" in fields)
            status = status_code
            if status_code == "ERROR":
                status = "Error: Media upload has failed with error code 2207026"
            values = {
                "id": node,
                "status_code": status_code,
                "status": status,
                "copyright_check_status": {"status": "completed", "matches_found": False},
            }
            return httpx.Response(200, json={k: values[k] for k in ["id", *fields] if k in values})
        post = next((p for p in self.posts if p["id"] == node), None)
        if post is None:
            return self.no_object(node, "get")
        values = {
            "id": post["id"],
            "permalink": post["permalink"],
            "caption": post["caption"],
            "media_type": post["media_type"],
            "timestamp": post["timestamp"],
        }
        return httpx.Response(200, json={k: values[k] for k in ["id", *fields] if k in values})

    def _list(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._account(request, node)
        if refused is not None:
            return refused
        data = [
            {
                "id": p["id"],
                "caption": p["caption"],
                "permalink": p["permalink"],
                "timestamp": p["timestamp"],
            }
            for p in reversed(self.posts)
        ]
        return httpx.Response(200, json={"data": data})

    def _quota(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._account(request, node)
        if refused is not None:
            return refused
        if not self.quota_endpoint:
            return graph_error(
                400,
                100,
                "(#100) Tried accessing nonexisting field (content_publishing_limit)",
                type="IGApiException",
            )
        entry = {
            "quota_usage": self.published_recently(),
            "config": {"quota_total": self.quota_total, "quota_duration": int(DAY)},
        }
        return httpx.Response(200, json={"data": [entry]})

    # -- publishing --------------------------------------------------------

    def _publish(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        refused = self._account(request, node)
        if refused is not None:
            return refused
        creation = form(request).get("creation_id")
        if not creation:
            return graph_error(400, 100, "(#100) The parameter creation_id is required.")
        container = self.containers.get(creation)
        if container is None or container["kind"] == "CHILD":
            return graph_error(400, 100, f"(#100) Invalid creation_id: {creation}")
        if self.published_recently() >= self.quota_total:
            return graph_error(
                400,
                9,
                "Application request limit reached",
                subcode=2207042,
                user_title="Maximum number of posts reached",
                user_msg="You reached the maximum number of posts that can be published in "
                "24 hours.",
            )
        status_code = self._status_code(container, poll=False)
        if status_code == "PUBLISHED":
            return graph_error(400, 100, "(#100) This media has already been published")
        if status_code == "EXPIRED":
            return graph_error(
                400,
                -2,
                "The media container has expired",
                subcode=2207020,
                user_title="Expired",
                user_msg="The media you are trying to publish has expired. Please try again "
                "with a new container.",
            )
        if status_code != "FINISHED":
            return graph_error(
                400,
                9007,
                "The media is not ready for publishing, please wait for a moment",
                subcode=2207027,
                user_title="Media ID is not available",
                user_msg="The media is not ready for publishing, please wait for a moment",
            )
        container["published"] = True
        media_id = self.next_id("179")
        params = container["params"]
        children = [self.containers[c] for c in container.get("children", [])]
        items = children or [container]
        self.posts.append(
            {
                "id": media_id,
                "container": creation,
                "media_type": {"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO"}.get(
                    container["kind"], "IMAGE"
                ),
                "caption": params.get("caption", ""),
                "image_urls": [
                    i["params"]["image_url"] for i in items if "image_url" in i["params"]
                ],
                "alt_texts": [i["params"].get("alt_text") for i in items],
                "video_url": params.get("video_url"),
                "data": [i["data"] for i in items],
                "permalink": f"https://www.instagram.com/p/C{media_id}/",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(self.clock())),
                "published_at": self.clock(),
            }
        )
        return httpx.Response(200, json={"id": media_id})

    # -- comments ----------------------------------------------------------

    def _published(self, request: httpx.Request, node: str, method: str) -> Any:
        """The published media ``node`` of this account, or the error to answer."""
        refused = self.check_token(request)
        if refused is not None:
            return refused
        post = next((p for p in self.posts if p["id"] == node), None)
        if post is None:
            return self.no_object(node, method)  # a container is not a media
        return post

    def _comment(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        found = self._published(request, node, "post")
        if isinstance(found, httpx.Response):
            return found
        if not self.comments_allowed:
            return graph_error(
                403, 10, "(#10) Application does not have permission for this action"
            )
        message = form(request).get("message", "")
        if not message.strip():
            return graph_error(400, 100, "(#100) The parameter message is required")
        if len(message) > MAX_CAPTION:
            return graph_error(
                400, 100, f"(#100) The comment is too long: at most {MAX_CAPTION} characters"
            )
        comment = {
            "id": self.next_id("178"),
            "text": message,
            "username": self.username,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(self.clock())),
        }
        self.comments.setdefault(node, []).append(comment)
        return httpx.Response(200, json={"id": comment["id"]})

    def _comments(self, request: httpx.Request, version: str, node: str) -> httpx.Response:
        found = self._published(request, node, "get")
        if isinstance(found, httpx.Response):
            return found
        params = form(request)
        fields = [f for f in params.get("fields", "id,text,timestamp").split(",") if f]
        unknown = sorted(set(fields) - {"id", "text", "username", "timestamp"})
        if unknown:
            return graph_error(
                400,
                100,
                f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (IGComment)",
            )
        newest = list(reversed(self.comments.get(node, [])))
        start = int(params.get("after") or 0)
        limit = int(params.get("limit") or 25)
        page = newest[start : start + limit]
        body: dict[str, Any] = {"data": [{k: c[k] for k in ["id", *fields]} for c in page]}
        if page:
            body["paging"] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
            if start + len(page) < len(newest):
                body["paging"]["next"] = (
                    f"{self.base_url}/{version}/{node}/comments?after={start + len(page)}"
                )
        return httpx.Response(200, json=body)


def _rupload_error(message: str) -> httpx.Response:
    """rupload's own error shape (not the Graph error object)."""
    return httpx.Response(
        400,
        json={
            "debug_info": {"retriable": False, "type": "ProcessingFailedError", "message": message}
        },
    )


class InstagramLogin:
    """Instagram Login (Business Login for Instagram), served by ``FakeInstagram``.

    * ``GET /oauth/authorize`` — instagram.com's authorization window (a
      ``FakeAuthServer``: the Instagram app id, exact redirect URIs, known
      permissions, ``#_`` after the redirect; ``declined`` ones are unticked).
    * ``POST /oauth/access_token`` — api.instagram.com: the code (single use, 1 hour,
      same ``redirect_uri``, the app secret) for a 1-hour token, answered as the
      Business Login guide shows ``{"data": [{"access_token", "user_id",
      "permissions"}]}``; refusals as ``{"error_type", "code", "error_message"}``.
    * ``GET /access_token`` — ``grant_type=ig_exchange_token``, ``client_secret``, the
      short token: a 60-day token (Graph errors).
    * ``GET /refresh_access_token`` — ``grant_type=ig_refresh_token``: a new 60-day token
      for one at least 24 hours old and not expired. Refused otherwise; the answer to a
      too-young token is UNVERIFIED (code 100 here). The old token stays valid until it
      expires (UNVERIFIED).
    * ``GET /{v}/me?fields=user_id,username`` — the account (``FakeInstagram._read``).
    """

    def __init__(
        self,
        fake: FakeInstagram,
        *,
        app_id: str = "990602627938098",
        app_secret: str = "ig-app-secret-0123456789",
        redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT,),
        app_scoped_id: str = "26000000000000001",
    ) -> None:
        from tests.fakes.oauth import FakeAuthServer

        self.fake = fake
        self.app_id = app_id
        self.app_secret = app_secret
        self.app_scoped_id = app_scoped_id
        self.declined: set[str] = set()
        self.server = FakeAuthServer(
            clock=lambda: datetime.fromtimestamp(fake.clock(), UTC),
            scope_separator=",",
            allowed_scopes=IG_PERMISSIONS,
            pkce=None,
            pkce_required=False,
            client_auth="body",
            token_method="POST",
            issue_refresh=False,
            report_scope=False,
            redirect_fragment="_",
            access_lifetime=timedelta(hours=1),
            code_lifetime=timedelta(hours=1),
        )
        self.server.register(app_id, app_secret, redirect_uris)
        #: Short-lived tokens: their permissions.
        self.short: dict[str, tuple[str, ...]] = {}
        #: Long-lived tokens: when issued and their permissions.
        self.long_lived: dict[str, IgToken] = {}
        #: ``(old, new)`` of every refresh, in order.
        self.refreshes: list[tuple[str, str]] = []

    def mount(self) -> None:
        """Register the routes (before the fake's catch-all read)."""
        fake = self.fake
        fake.route("GET", r"/oauth/authorize", lambda request: self.server.authorize(request))
        fake.route("POST", r"/oauth/access_token", self._code)
        fake.route("GET", r"/access_token", self._exchange)
        fake.route("GET", r"/refresh_access_token", self._refresh)

    def issue(
        self, scopes: tuple[str, ...] = IG_PERMISSIONS[:2], issued: float | None = None
    ) -> str:
        """A long-lived token as if logged in at ``issued`` (default: now)."""
        start = self.fake.clock() if issued is None else issued
        token = "IGAA" + secrets.token_urlsafe(24)
        self.long_lived[token] = IgToken(start, scopes)
        self.fake.add_token(token, start + IG_LONG_LIVED)
        return token

    def _code(self, request: httpx.Request) -> httpx.Response:
        response = self.server.token(request)
        body = json.loads(response.content)
        if response.status_code != 200:
            return httpx.Response(
                400,
                json={
                    "error_type": "OAuthException",
                    "code": 400,
                    "error_message": body.get("error_description") or body.get("error"),
                },
            )
        token = body["access_token"]
        scopes = tuple(s for s in self.server.scopes_of(token) if s not in self.declined)
        self.short[token] = scopes
        self.fake.add_token(token, self.fake.clock() + 3600)
        entry = {
            "access_token": token,
            "user_id": self.fake.ig_user_id,
            "permissions": ",".join(scopes),
        }
        return httpx.Response(200, json={"data": [entry]})

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if params.get("grant_type") != "ig_exchange_token":
            return graph_error(400, 100, "(#100) grant_type must be ig_exchange_token")
        if params.get("client_secret") != self.app_secret:
            return graph_error(400, 101, "Error validating client secret.")
        token = params.get("access_token", "")
        if token not in self.short:
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if self.fake.is_expired(token):
            return _ig_expired()
        long = self.issue(self.short[token])
        return httpx.Response(
            200,
            json={"access_token": long, "token_type": "bearer", "expires_in": int(IG_LONG_LIVED)},
        )

    def _refresh(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if params.get("grant_type") != "ig_refresh_token":
            return graph_error(400, 100, "(#100) grant_type must be ig_refresh_token")
        token = params.get("access_token", "")
        found = self.long_lived.get(token)
        if found is None:
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if self.fake.is_expired(token):
            return _ig_expired()
        if self.fake.clock() - found.issued < IG_MIN_REFRESH_AGE:
            return graph_error(
                400, 100, "(#100) The access token can be refreshed once it is 24 hours old"
            )
        new = self.issue(found.scopes)
        self.refreshes.append((token, new))
        return httpx.Response(
            200,
            json={"access_token": new, "token_type": "bearer", "expires_in": int(IG_LONG_LIVED)},
        )

    def me(self, request: httpx.Request) -> httpx.Response:
        """``GET /{v}/me`` with an Instagram Login token."""
        refused = self.fake.check_token(request)
        if refused is not None:
            return refused
        values = {
            "id": self.app_scoped_id,
            "user_id": self.fake.ig_user_id,
            "username": self.fake.username,
        }
        fields = [f for f in form(request).get("fields", "id").split(",") if f]
        unknown = sorted(set(fields) - set(values))
        if unknown:
            return graph_error(
                400,
                100,
                f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (User)",
            )
        return httpx.Response(200, json={k: values[k] for k in ["id", *fields]})


@dataclass
class IgToken:
    """A long-lived Instagram token: when it was issued (``clock`` seconds), its permissions."""

    issued: float
    scopes: tuple[str, ...]


def _ig_expired() -> httpx.Response:
    return graph_error(
        400,
        190,
        "Error validating access token: Session has expired on Tuesday, 01-Jan-30 00:00:00 PST.",
        subcode=463,
    )
