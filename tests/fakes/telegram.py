"""A fake Telegram Bot API, as strict as docs/platforms/telegram.md lets it be.

Every method is ``/bot<token>/<method>`` (GET or POST; the method's name is
case-insensitive), its parameters in the query string, a JSON body, a
url-encoded form or multipart/form-data; every answer is ``{"ok": true,
"result": ...}`` or ``{"ok": false, "error_code", "description"[, "parameters"]}``
(https://core.telegram.org/bots/api#making-requests).

* A token other than ``token`` is 401 "Unauthorized"; one not shaped like a
  token (``<digits>:<letters>``) and an unknown method are 404 "Not Found".
* ``chat_id`` must name a channel of ``channels`` (its ``@username`` or its
  numeric id), else 400 "chat not found"; a bot that is not a member is 403, one
  that is a member without the right to post 400 "need administrator rights".
* ``sendMessage``: ``text`` 1–4,096 UTF-16 units after entity parsing;
  ``sendPhoto`` / ``sendVideo``: the file uploaded as a part, or an ``http(s)``
  URL the fake can fetch (``urls``), ``caption`` 0–1,024 after parsing;
  ``sendMediaGroup``: ``media`` a JSON array of 2–10 ``photo``/``video`` items,
  each ``attach://<part>`` or a URL, the caption on any item.
* ``parse_mode`` HTML is parsed as Telegram does: only the documented tags, the
  entities ``&lt; &gt; &amp; &quot;`` and numeric ones; an unknown tag or a bare
  ``<`` is 400 "can't parse entities". Without parse_mode the text is literal.
* ``getMe``, ``getChat``, ``getChatMember`` for doctor.

What the fake received: ``posts`` (one per successful send call: the method,
the chat, the text or caption after parsing, the kinds of media and the message
ids; an album is one post) and ``messages`` (every message, in order, with its
text after parsing, its media and its options).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from crosspost.units import utf16_length
from tests.fakes.base import FakePlatform, form, multipart

TEXT_LIMIT = 4_096
CAPTION_LIMIT = 1_024
#: The tags Telegram's HTML style knows (https://core.telegram.org/bots/api#html-style).
TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")


class ParseError(Exception):
    """The HTML cannot be parsed; ``str()`` is Telegram's wording after "can't parse entities: "."""


def parse_html(text: str) -> str:
    """The text Telegram shows for ``text`` in HTML parse mode (tags out, entities decoded)."""
    out: list[str] = []
    open_tags: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            match = re.match(r"&(#x[0-9A-Fa-f]+|#\d+|[A-Za-z]+);", text[i:])
            if match:
                name = match[1]
                if name.startswith("#x"):
                    out.append(chr(int(name[2:], 16)))
                elif name.startswith("#"):
                    out.append(chr(int(name[1:])))
                elif name in ENTITIES:
                    out.append(ENTITIES[name])
                else:
                    out.append(match[0])
                i += len(match[0])
                continue
            out.append(ch)
            i += 1
            continue
        if ch != "<":
            out.append(ch)
            i += 1
            continue
        offset = len(text[:i].encode("utf-8"))
        end = text.find(">", i)
        if end < 0:
            raise ParseError(f"Unclosed start tag at byte offset {offset}")
        inner = text[i + 1 : end]
        closing = inner.startswith("/")
        name_match = re.match(r"[A-Za-z][A-Za-z0-9-]*", inner[1:] if closing else inner)
        name = name_match[0].lower() if name_match else ""
        if closing:
            if not open_tags:
                raise ParseError(f"Unexpected end tag at byte offset {offset}")
            expected = open_tags.pop()
            if name and name != expected:
                raise ParseError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{expected}>", '
                    f'found "</{name}>"'
                )
        else:
            if name not in TAGS:
                raise ParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
            open_tags.append(name)
        i = end + 1
    if open_tags:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


@dataclass
class Channel:
    """A channel the fake knows, and the bot's place in it."""

    id: int
    username: str | None
    title: str = "KPU Kabupaten Musi Rawas"
    #: "administrator", "member" or None (not in the channel).
    bot_status: str | None = "administrator"
    can_post: bool = True
    next_id: itertools.count[int] = field(default_factory=lambda: itertools.count(101))

    def json(self) -> dict[str, Any]:
        """The Chat object."""
        data: dict[str, Any] = {"id": self.id, "type": "channel", "title": self.title}
        if self.username:
            data["username"] = self.username
        return data


class FakeTelegram(FakePlatform):
    """The Bot API methods crosspost uses, for one bot."""

    name = "telegram"

    def __init__(self) -> None:
        super().__init__()
        self.bot_id = 7_000_000_001
        self.token = f"{self.bot_id}:AA{secrets.token_urlsafe(24)}"
        self.bot_username = "kpumura_bot"
        public = Channel(-1001234567890, "kpumura")
        private = Channel(-1009876543210, None, title="Humas (internal)")
        self.channels: dict[int, Channel] = {public.id: public, private.id: private}
        #: Media URLs the fake can fetch: url → bytes (others fail as Telegram's fetch would).
        self.urls: dict[str, bytes] = {}
        self.messages: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self._albums = itertools.count(13_000_000_000_000_000)

    # -- the shapes ---------------------------------------------------------------

    @staticmethod
    def error(code: int, description: str, **parameters: Any) -> httpx.Response:
        """Telegram's error answer."""
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return httpx.Response(code, json=body)

    @staticmethod
    def ok(result: Any) -> httpx.Response:
        """Telegram's success answer."""
        return httpx.Response(200, json={"ok": True, "result": result})

    def not_found(self, request: httpx.Request, method_mismatch: bool) -> httpx.Response:
        """Any other path: 404 "Not Found", in Telegram's shape."""
        return self.error(404, "Not Found")

    def flood(self, method: str, seconds: int, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` meet flood control (429, retry_after)."""
        self.fail(
            rf"/{method}$",
            429,
            json={
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {seconds}",
                "parameters": {"retry_after": seconds},
            },
            times=times,
        )

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r"/bot(?P<token>[^/]*)/(?P<method>[A-Za-z]+)", request.url.path)
        if match is None or request.method not in ("GET", "POST"):
            return self.not_found(request, False)
        return self._method(request, match["token"], match["method"])

    # -- requests -------------------------------------------------------------------

    def _method(self, request: httpx.Request, token: str, method: str) -> httpx.Response:
        if not TOKEN_SHAPE.fullmatch(token):
            return self.error(404, "Not Found")
        if token != self.token:
            return self.error(401, "Unauthorized")
        handler = {
            "sendmessage": self._send_message,
            "sendphoto": self._send_single,
            "sendvideo": self._send_single,
            "sendmediagroup": self._send_album,
            "getme": self._get_me,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
        }.get(method.lower())
        if handler is None:
            return self.error(404, "Not Found")
        params, files = _params(request)
        return handler(method.lower(), params, files)

    def _chat(self, params: dict[str, Any], *, post: bool) -> Channel | httpx.Response:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            return self.error(400, "Bad Request: chat_id is empty")
        value = str(raw)
        found = None
        if value.startswith("@"):
            name = value[1:].lower()
            found = next(
                (c for c in self.channels.values() if (c.username or "").lower() == name), None
            )
        elif re.fullmatch(r"-?\d+", value):
            found = self.channels.get(int(value))
        if found is None:
            return self.error(400, "Bad Request: chat not found")
        if post and found.bot_status is None:
            return self.error(403, "Forbidden: bot is not a member of the channel chat")
        if post and not (found.bot_status == "administrator" and found.can_post):
            return self.error(400, "Bad Request: need administrator rights in the channel chat")
        return found

    def _text(self, params: dict[str, Any], key: str) -> str | httpx.Response:
        """The text after entity parsing, or Telegram's refusal of its markup."""
        raw = params.get(key, "")
        if not isinstance(raw, str):
            return self.error(400, f"Bad Request: {key} must be a string")
        mode = params.get("parse_mode")
        if mode in (None, ""):
            return raw.strip()
        if str(mode).lower() != "html":
            return self.error(400, "Bad Request: unsupported parse_mode")
        try:
            return parse_html(raw).strip()
        except ParseError as exc:
            return self.error(400, f"Bad Request: can't parse entities: {exc}")

    def _message(self, channel: Channel, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message_id = next(channel.next_id)
        message = {
            "message_id": message_id,
            "sender_chat": channel.json(),
            "chat": channel.json(),
            "date": int(time.time()),
            **{k: v for k, v in content.items() if k not in ("media",)},
        }
        self.messages.append(
            {
                "message_id": message_id,
                "chat_id": channel.id,
                **content,
                "disable_notification": _flag(params.get("disable_notification")),
                "link_preview_options": params.get("link_preview_options"),
            }
        )
        return message

    def _post(
        self, method: str, channel: Channel, text: str, messages: list[dict[str, Any]]
    ) -> None:
        """Record one successful send call as one post."""
        self.posts.append(
            {
                "method": method,
                "chat_id": channel.id,
                "text": text,
                "media": [
                    m["media"][0][0] for m in self.messages[-len(messages) :] if "media" in m
                ],
                "message_ids": [m["message_id"] for m in messages],
            }
        )

    def _send_message(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> httpx.Response:
        channel = self._chat(params, post=True)
        if isinstance(channel, httpx.Response):
            return channel
        text = self._text(params, "text")
        if isinstance(text, httpx.Response):
            return text
        if not text:
            return self.error(400, "Bad Request: message text is empty")
        if utf16_length(text) > TEXT_LIMIT:
            return self.error(400, "Bad Request: message is too long")
        preview = params.get("link_preview_options")
        if preview is not None and not isinstance(preview, dict):
            return self.error(400, "Bad Request: can't parse link preview options JSON object")
        message = self._message(channel, params, text=text)
        self._post(method, channel, text, [message])
        return self.ok(message)

    def _media(self, kind: str, value: Any, files: dict[str, bytes]) -> bytes | httpx.Response:
        """The bytes of one photo or video: an uploaded part, ``attach://`` one, or a URL."""
        if isinstance(value, str) and value.startswith("attach://"):
            data = files.get(value.removeprefix("attach://"))
        elif isinstance(value, str) and re.match(r"https?://", value):
            data = self.urls.get(value)
            if data is None:
                return self.error(400, "Bad Request: failed to get HTTP URL content")
        elif isinstance(value, bytes):
            data = value
        else:
            data = None
        if data is None:
            return self.error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if not data:
            return self.error(400, "Bad Request: file must be non-empty")
        if kind == "photo":
            if not data.startswith((b"\xff\xd8\xff", b"\x89PNG")) and data[8:12] != b"WEBP":
                return self.error(400, "Bad Request: IMAGE_PROCESS_FAILED")
            if len(data) > 10 * 1024 * 1024:
                return self.error(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        elif len(data) > 50 * 1024 * 1024:
            return self.error(413, "Request Entity Too Large")
        return data

    def _caption(self, params: dict[str, Any]) -> str | httpx.Response:
        caption = self._text(params, "caption")
        if isinstance(caption, str) and utf16_length(caption) > CAPTION_LIMIT:
            return self.error(400, "Bad Request: message caption is too long")
        return caption

    def _send_single(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> httpx.Response:
        kind = "photo" if method == "sendphoto" else "video"
        channel = self._chat(params, post=True)
        if isinstance(channel, httpx.Response):
            return channel
        given = files.get(kind, params.get(kind))
        if given is None:
            return self.error(400, f"Bad Request: there is no {kind} in the request")
        data = self._media(kind, given, files)
        if isinstance(data, httpx.Response):
            return data
        caption = self._caption(params)
        if isinstance(caption, httpx.Response):
            return caption
        content: dict[str, Any] = {kind: _file_json(kind, data), "media": [(kind, data)]}
        if caption:
            content["caption"] = caption
        message = self._message(channel, params, **content)
        self._post(method, channel, caption, [message])
        return self.ok(message)

    def _send_album(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> httpx.Response:
        channel = self._chat(params, post=True)
        if isinstance(channel, httpx.Response):
            return channel
        items = params.get("media")
        if not isinstance(items, list):
            return self.error(400, "Bad Request: can't parse media JSON object")
        if not 2 <= len(items) <= 10:
            return self.error(400, "Bad Request: wrong number of media in the album (2-10)")
        album: list[tuple[dict[str, Any], bytes, str]] = []
        for item in items:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "video"):
                return self.error(400, "Bad Request: wrong media type in the album")
            data = self._media(item["type"], item.get("media"), files)
            if isinstance(data, httpx.Response):
                return data
            caption = self._caption(item)
            if isinstance(caption, httpx.Response):
                return caption
            album.append((item, data, caption))
        group = str(next(self._albums))
        messages = []
        for item, data, caption in album:
            kind = item["type"]
            content: dict[str, Any] = {
                kind: _file_json(kind, data),
                "media_group_id": group,
                "media": [(kind, data)],
            }
            if caption:
                content["caption"] = caption
            messages.append(self._message(channel, params, **content))
        self._post(method, channel, "\n".join(c for _, _, c in album if c), messages)
        return self.ok(messages)

    def _get_me(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> httpx.Response:
        return self.ok(
            {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "Humas KPU Mura",
                "username": self.bot_username,
            }
        )

    def _get_chat(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> httpx.Response:
        channel = self._chat(params, post=False)
        return channel if isinstance(channel, httpx.Response) else self.ok(channel.json())

    def _get_chat_member(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> httpx.Response:
        channel = self._chat(params, post=False)
        if isinstance(channel, httpx.Response):
            return channel
        if str(params.get("user_id")) != str(self.bot_id):
            return self.error(400, "Bad Request: user not found")
        status = channel.bot_status or "left"
        member: dict[str, Any] = {"status": status, "user": {"id": self.bot_id, "is_bot": True}}
        if status == "administrator":
            member["can_post_messages"] = channel.can_post
        return self.ok(member)

    # -- helpers for tests ------------------------------------------------------

    @property
    def public(self) -> Channel:
        """The public channel @kpumura."""
        return self.channels[-1001234567890]

    @property
    def private(self) -> Channel:
        """The private channel (no username)."""
        return self.channels[-1009876543210]


def _params(request: httpx.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A request's parameters (JSON values decoded where the Bot API takes JSON) and files."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        fields, files = multipart(request)
        params: dict[str, Any] = dict(request.url.params) | fields
    elif ctype.startswith("application/json"):
        body = json.loads(request.content or b"{}")
        params = dict(request.url.params) | (body if isinstance(body, dict) else {})
        files = {}
    else:
        params, files = dict(form(request)), {}
    for key in ("media", "link_preview_options"):
        if isinstance(params.get(key), str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                params[key] = None
    return params, files


def _flag(value: Any) -> bool:
    return value is True or value == "true"


def _file_json(kind: str, data: bytes) -> Any:
    file = {"file_id": f"{kind}-{len(data)}", "file_unique_id": secrets.token_hex(4)}
    if kind == "photo":
        return [{**file, "width": 480, "height": 360, "file_size": len(data)}]
    return {**file, "width": 480, "height": 360, "duration": 3, "file_size": len(data)}
