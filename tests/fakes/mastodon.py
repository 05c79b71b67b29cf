"""A fake Mastodon instance, as strict as docs/platforms/mastodon.md lets it be.

Endpoints (https://docs.joinmastodon.org/methods/):

* ``GET /api/v2/instance`` — public; ``configuration.statuses`` and
  ``configuration.media_attachments`` from the fake's limits.
* ``GET /api/v1/accounts/verify_credentials`` — the token's account.
* ``POST /api/v2/media`` — multipart ``file`` (with a MIME type the instance takes)
  and ``description`` (at most 1,500 characters). Images answer 200 with a ``url``;
  videos 202 with ``url: null``, processed after ``polls_until_processed`` polls of
  ``GET /api/v1/media/:id`` (206 while processing, then 200 with a ``url``).
* ``POST /api/v1/statuses`` — form fields ``status``, ``media_ids[]``, ``visibility``,
  ``language``; the text counted as the server counts it (graphemes, URLs as 23,
  ``@user@domain`` as ``@user``), at most ``max_characters``; at most 4 attachments,
  a video alone, each processed and not yet used. ``Idempotency-Key``: a repeat
  within ``key_lifetime`` seconds (on the fake's clock, ``now``) answers the status
  it made, whatever the request holds.
* ``GET /api/v1/accounts/:id/statuses`` — newest first, ``limit`` at most 40.
* ``GET /api/v1/statuses/:id/source`` — the status's plain text.

Errors are ``{"error": "..."}`` with Mastodon's statuses: 401 for a bad token, 403
for a missing scope, 404 ``Record not found``, 422 for validation.
"""

from __future__ import annotations

import itertools
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import regex

from tests.fakes.base import FakePlatform, multipart

#: A deliberately plain reading of StatusLengthValidator, written apart from the adapter's.
URL = regex.compile(r"https?://[^\s]+?(?=[.,:;!?)]*(?:\s|$))", regex.IGNORECASE)
MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?", regex.IGNORECASE
)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")


def server_length(text: str) -> int:
    """The length Mastodon checks against ``max_characters``."""
    text = URL.sub("x" * 23, text)
    text = MENTION.sub(lambda m: "@" + m.group(1), text)
    return len(regex.findall(r"\X", text))


class FakeMastodon(FakePlatform):
    """One Mastodon instance with one account."""

    name = "mastodon"

    def __init__(
        self,
        *,
        max_characters: int = 500,
        polls_until_processed: int = 2,
        scopes: tuple[str, ...] = (
            "write:statuses",
            "write:media",
            "read:accounts",
            "read:statuses",
        ),
    ) -> None:
        super().__init__()
        self.token = "masto-" + secrets.token_hex(12)
        self.account_id = "109876543210"
        self.username = "kpumura"
        self.host = "mastodon.example"
        self.max_characters = max_characters
        self.polls_until_processed = polls_until_processed
        self.scopes = set(scopes)
        self.key_lifetime = 3_600.0
        #: The fake's clock (seconds); tests move it forward to expire keys.
        self.clock = time.time()
        self.media: dict[str, dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.keys: dict[str, tuple[str, float]] = {}
        self._ids = itertools.count(110_000_000_000_000_001)
        self.route("GET", r"/api/v2/instance", self._instance)
        self.route("GET", r"/api/v1/accounts/verify_credentials", self._me)
        self.route("POST", r"/api/v2/media", self._upload)
        self.route("GET", r"/api/v1/media/(?P<media_id>[^/]+)", self._media)
        self.route("POST", r"/api/v1/statuses", self._post)
        self.route("GET", r"/api/v1/accounts/(?P<account>[^/]+)/statuses", self._list)
        self.route("GET", r"/api/v1/statuses/(?P<status_id>[^/]+)/source", self._source)

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def error(status: int, message: str) -> httpx.Response:
        """Mastodon's error entity."""
        return httpx.Response(status, json={"error": message})

    def not_found(self, request: httpx.Request, method_mismatch: bool) -> httpx.Response:
        """Rails' answer to an unknown API route."""
        return self.error(404, "Record not found")

    def _refuse(self, request: httpx.Request, scope: str | None) -> httpx.Response | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self.error(401, "The access token is invalid")
        if scope is not None and scope not in self.scopes:
            return self.error(403, "This action is outside the authorized scopes")
        return None

    def _new_id(self) -> str:
        return str(next(self._ids))

    def published(self, status_id: str) -> dict[str, Any]:
        """A status as the API shows it."""
        status = next(s for s in self.statuses if s["id"] == status_id)
        return {k: v for k, v in status.items() if k != "text"}

    # -- routes --------------------------------------------------------------------------

    def _instance(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "domain": self.host,
                "title": "Mastodon",
                "configuration": {
                    "statuses": {
                        "max_characters": self.max_characters,
                        "max_media_attachments": 4,
                        "characters_reserved_per_url": 23,
                    },
                    "media_attachments": {
                        "supported_mime_types": [*IMAGE_TYPES, *VIDEO_TYPES],
                        "description_limit": 1500,
                        "image_size_limit": 16_777_216,
                        "video_size_limit": 103_809_024,
                    },
                },
            },
        )

    def _account(self) -> dict[str, Any]:
        return {
            "id": self.account_id,
            "username": self.username,
            "acct": self.username,
            "url": f"https://{self.host}/@{self.username}",
        }

    def _me(self, request: httpx.Request) -> httpx.Response:
        refused = self._refuse(request, "read:accounts")
        return refused or httpx.Response(200, json=self._account())

    def _upload(self, request: httpx.Request) -> httpx.Response:
        refused = self._refuse(request, "write:media")
        if refused:
            return refused
        fields, files = multipart(request)
        if "file" not in files:
            return self.error(422, "Validation failed: File can't be blank")
        ctype = _file_type(request)
        if ctype not in (*IMAGE_TYPES, *VIDEO_TYPES):
            return self.error(
                422, "Validation failed: File content type is invalid, File is invalid"
            )
        description = fields.get("description", "")
        if len(description) > 1500:
            return self.error(
                422, "Validation failed: Description is too long (maximum is 1500 characters)"
            )
        media_id = self._new_id()
        video = ctype in VIDEO_TYPES
        url = f"https://files.{self.host}/media/{media_id}.bin"
        self.media[media_id] = {
            "id": media_id,
            "type": "video" if video else "image",
            "url": url,
            "description": description or None,
            "bytes": files["file"],
            "polls": 0,
            "processed": not video,
            "status_id": None,
        }
        shown = self._media_json(media_id)
        return httpx.Response(202 if video else 200, json=shown)

    def _media_json(self, media_id: str) -> dict[str, Any]:
        m = self.media[media_id]
        return {
            "id": media_id,
            "type": m["type"],
            "url": m["url"] if m["processed"] else None,
            "preview_url": f"https://files.{self.host}/media/{media_id}.small.jpg",
            "description": m["description"],
        }

    def _media(self, request: httpx.Request, media_id: str) -> httpx.Response:
        refused = self._refuse(request, "write:media")
        if refused:
            return refused
        m = self.media.get(media_id)
        if m is None:
            return self.error(404, "Record not found")
        if not m["processed"]:
            m["polls"] += 1
            if m["polls"] >= self.polls_until_processed:
                m["processed"] = True
            else:
                return httpx.Response(206, json=self._media_json(media_id))
        return httpx.Response(200, json=self._media_json(media_id))

    def _post(self, request: httpx.Request) -> httpx.Response:
        refused = self._refuse(request, "write:statuses")
        if refused:
            return refused
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return self.error(422, "Validation failed: Text can't be blank")
        from urllib.parse import parse_qs

        data = parse_qs(request.content.decode("utf-8"), keep_blank_values=True)
        key = request.headers.get("idempotency-key")
        if key:
            earlier = self.keys.get(key)
            if earlier is not None and self.clock - earlier[1] < self.key_lifetime:
                return httpx.Response(200, json=self.published(earlier[0]))
        text = (data.get("status") or [""])[0]
        media_ids = data.get("media_ids[]", [])
        unknown = set(data) - {"status", "media_ids[]", "visibility", "language"}
        if unknown:
            return self.error(422, f"unexpected parameters: {', '.join(sorted(unknown))}")
        if not text.strip() and not media_ids:
            return self.error(422, "Validation failed: Text can't be blank")
        if len(media_ids) > 4:
            return self.error(422, "Validation failed: Cannot attach more than 4 files")
        media = []
        for media_id in media_ids:
            m = self.media.get(media_id)
            if m is None or m["status_id"] is not None:
                return self.error(422, f"Validation failed: Media attachment {media_id} not found")
            media.append(m)
        if len(media) > 1 and any(m["type"] == "video" for m in media):
            return self.error(422, "Cannot attach a video to a post that already contains images")
        if any(not m["processed"] for m in media):
            return self.error(
                422, "Cannot attach files that have not finished processing. Try again in a moment!"
            )
        visibility = (data.get("visibility") or ["public"])[0]
        if visibility not in ("public", "unlisted", "private", "direct"):
            return self.error(422, "Validation failed: Visibility is not included in the list")
        if server_length(text) > self.max_characters:
            return self.error(
                422,
                f"Validation failed: Text character limit of {self.max_characters} exceeded",
            )
        status_id = self._new_id()
        for m in media:
            m["status_id"] = status_id
        status = {
            "id": status_id,
            "created_at": datetime.fromtimestamp(self.clock, UTC).isoformat(
                timespec="milliseconds"
            ),
            "visibility": visibility,
            "language": data["language"][0] if data.get("language") else None,
            "uri": f"https://{self.host}/users/{self.username}/statuses/{status_id}",
            "url": f"https://{self.host}/@{self.username}/{status_id}",
            "content": f"<p>{_html(text)}</p>",
            "account": self._account(),
            "media_attachments": [self._media_json(m["id"]) for m in media],
            "text": text,
        }
        self.statuses.append(status)
        if key:
            self.keys[key] = (status_id, self.clock)
        return httpx.Response(200, json=self.published(status_id))

    def _list(self, request: httpx.Request, account: str) -> httpx.Response:
        refused = self._refuse(request, "read:statuses")
        if refused:
            return refused
        if account != self.account_id:
            return self.error(404, "Record not found")
        raw = request.url.params.get("limit", "20")
        limit = min(abs(int(raw)) if raw.lstrip("-").isdigit() else 20, 40)
        newest = [self.published(s["id"]) for s in reversed(self.statuses)]
        return httpx.Response(200, json=newest[:limit])

    def _source(self, request: httpx.Request, status_id: str) -> httpx.Response:
        refused = self._refuse(request, "read:statuses")
        if refused:
            return refused
        status = next((s for s in self.statuses if s["id"] == status_id), None)
        if status is None:
            return self.error(404, "Record not found")
        return httpx.Response(
            200, json={"id": status_id, "text": status["text"], "spoiler_text": ""}
        )


def _html(text: str) -> str:
    from html import escape

    return escape(text).replace("\n", "<br />")


def _file_type(request: httpx.Request) -> str:
    """The MIME type of the multipart ``file`` part."""
    from email.parser import BytesParser
    from email.policy import HTTP

    ctype = request.headers.get("content-type", "")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + request.content
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return str(part.get_content_type())
    return ""
