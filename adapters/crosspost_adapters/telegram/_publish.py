"""Publishing to a Telegram channel through the Bot API (docs/platforms/telegram.md).

Every request is ``POST https://api.telegram.org/bot<token>/<method>``
(https://core.telegram.org/bots/api#making-requests). The token is part of the
URL path, so no message here ever quotes a request URL: errors are built from
Telegram's ``description`` and crosspost's own words, and every text passes
through ``crosspost.redaction`` (the token is registered there when read).

One post is one call, the irreversible one (``Api.create``; the text and the
method are journaled first):

* no media: ``sendMessage`` with ``text``;
* one photo or video: ``sendPhoto`` / ``sendVideo`` with a ``caption``;
* 2 to 10: ``sendMediaGroup``, the caption on the first item (Telegram's apps show
  a lone caption under the whole album).

Local files are uploaded in the same request (multipart/form-data; an album's
files as ``attach://<name>`` parts); media with only a URL are passed as the URL
for Telegram to fetch. The text goes with ``parse_mode = "HTML"``, escaped as the
Bot API asks ("All <, > and & symbols that are not a part of a tag or an HTML
entity must be replaced with the corresponding HTML entities",
https://core.telegram.org/bots/api#html-style): what the announcement says is shown
as written, never read as markup, and its length after parsing is the plain
text's, which is what render measured.

The Bot API offers no way to read a channel's history, so a lost answer cannot be
looked up: ``reconcile`` reports it unknown, and a person looks in the channel.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from crosspost.plugin import (
    Account,
    AuthError,
    ConfigError,
    Finding,
    InvalidContentError,
    Login,
    LoginSession,
    MediaFile,
    PlatformError,
    PlatformSettings,
    Post,
    PublishContext,
    Published,
    RateLimitedError,
    Sent,
    TransientError,
    UnknownOutcomeError,
    json_body,
    redact,
    register,
    retry_after,
)
from crosspost_adapters.telegram import CHAT

if TYPE_CHECKING:
    from crosspost_adapters.telegram import TelegramAdapter, TelegramSettings

PLATFORM = "telegram"
#: A bot token as @BotFather gives it: the bot's id, a colon, a secret
#: (https://core.telegram.org/bots/api#authorizing-your-bot).
TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
#: The Bot API's origin; ``api_base`` in ``[platforms.telegram]`` points it elsewhere.
API = "https://api.telegram.org"
#: Where a new token comes from, for messages.
TOKEN_FIX = (
    "get the bot's token from @BotFather (/mybots → API Token) and set "
    "CROSSPOST_TELEGRAM_BOT_TOKEN (or bot_token under [telegram] in credentials.toml)"
)
ADMIN_FIX = (
    "add the bot to the channel as an administrator allowed to post messages "
    "(channel settings → Administrators)"
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Telegram's error object: ``{"ok": false, "error_code", "description", "parameters"}``
    (https://core.telegram.org/bots/api#making-requests, #responseparameters)."""

    code: int
    description: str
    retry_after: float | None = None
    migrate_to: int | None = None

    @classmethod
    def of(cls, response: httpx.Response) -> Refusal:
        """The refusal in ``response``; its HTTP status when the body is not Telegram's."""
        body = json_body(response)
        if not isinstance(body, dict):
            return cls(response.status_code, f"HTTP {response.status_code}")
        params = body.get("parameters")
        params = params if isinstance(params, dict) else {}
        code = body.get("error_code")
        retry = params.get("retry_after")
        migrate = params.get("migrate_to_chat_id")
        return cls(
            code if isinstance(code, int) else response.status_code,
            redact(str(body.get("description") or f"HTTP {response.status_code}")),
            float(retry) if isinstance(retry, int | float) else None,
            migrate if isinstance(migrate, int) else None,
        )


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the classifier: Telegram's code and words, crosspost's error and advice.

    ``words`` is a regex searched in the description (None: any). ``advice`` may
    use ``{description}`` and ``{chat}``.
    """

    code: int | None
    words: str | None
    error: type[PlatformError]
    advice: str


#: Telegram's errors, first match wins. The descriptions are the Bot API's own
#: (``error_code`` "is subject to change", the docs say, so the words count too).
RULES: tuple[Rule, ...] = (
    Rule(401, None, AuthError, f"Telegram refused the bot token ({{description}}): {TOKEN_FIX}"),
    # A token that is not even shaped like one reaches no bot: 404 "Not Found".
    Rule(
        404,
        None,
        AuthError,
        f"Telegram knows no bot with this token ({{description}}): {TOKEN_FIX}",
    ),
    Rule(
        None,
        r"chat not found",
        PlatformError,
        "Telegram finds no channel {chat} for this bot ({description}): check chat_id in "
        f"[platforms.telegram] (@username or the -100… id), and {ADMIN_FIX}",
    ),
    Rule(
        None,
        r"administrator rights|not enough rights|not a member|kicked|CHAT_ADMIN_REQUIRED",
        AuthError,
        f"the bot may not post in {{chat}} ({{description}}): {ADMIN_FIX}",
    ),
    Rule(
        403,
        None,
        AuthError,
        f"Telegram forbids the bot to post in {{chat}} ({{description}}): {ADMIN_FIX}",
    ),
    Rule(
        400,
        r"can't parse entities",
        InvalidContentError,
        "Telegram could not read the post's formatting ({description}); crosspost escapes the "
        "text, so this is a bug: please report it with the announcement",
    ),
    Rule(
        400,
        r"too long",
        InvalidContentError,
        "Telegram refused the text as too long ({description}): shorten it, or lower "
        "max_length in [platforms.telegram]",
    ),
    Rule(
        400,
        r"HTTP URL|wrong file|failed to get|file must be non-empty|IMAGE_PROCESS_FAILED|PHOTO_",
        InvalidContentError,
        "Telegram refused the media ({description}): check the files, and that their URLs "
        "are publicly reachable",
    ),
    Rule(
        413, None, InvalidContentError, "Telegram refused the upload as too large ({description})"
    ),
    Rule(400, None, InvalidContentError, "Telegram refused the post ({description})"),
)


def classify(settings: TelegramSettings) -> Callable[[httpx.Response], PlatformError]:
    """The classifier for one channel: Telegram's answer → crosspost's error."""
    chat = settings.chat_id or "the channel"

    def refusal_error(response: httpx.Response) -> PlatformError:
        refusal = Refusal.of(response)
        status = response.status_code
        if refusal.code == 429 or status == 429:
            # parameters.retry_after is the Bot API's way; a Retry-After header (a proxy's)
            # is honoured too.
            seconds = refusal.retry_after or retry_after(response)
            wait = f"{seconds:g} seconds" if seconds else "a while"
            return RateLimitedError(
                PLATFORM,
                f"Telegram's flood control: wait {wait} before posting again "
                f"({refusal.description})",
                status=status,
                retry_after=seconds,
            )
        if refusal.migrate_to is not None:
            return AuthError(
                PLATFORM,
                f"{chat} is now the supergroup {refusal.migrate_to}: set chat_id = "
                f'"{refusal.migrate_to}" in [platforms.telegram]',
                status=status,
            )
        if status >= 500 or refusal.code >= 500:
            return TransientError(
                PLATFORM,
                f"Telegram had a temporary problem ({refusal.description}); try again later",
                status=status,
            )
        for rule in RULES:
            if rule.code is not None and rule.code != refusal.code:
                continue
            if rule.words is not None and not re.search(rule.words, refusal.description, re.I):
                continue
            message = rule.advice.format(description=refusal.description, chat=chat)
            return rule.error(PLATFORM, redact(message), status=status)
        return PlatformError(
            PLATFORM, redact(f"Telegram refused the request ({refusal.description})"), status=status
        )

    return refusal_error


class Publisher:
    """One publish (or doctor's look) on one channel: the context, the token, the Api."""

    def __init__(
        self, adapter: TelegramAdapter, ctx: PublishContext, token: str | None = None
    ) -> None:
        self.adapter = adapter
        self.ctx = ctx
        #: A token not stored yet (``auth login`` checks the pasted one); else the stored one.
        self.token = token
        self.settings = _settings(ctx)
        self.api = ctx.api(classify(self.settings))

    @property
    def chat(self) -> str:
        """The configured channel; a ConfigError when it is not set."""
        if not self.settings.chat_id:
            raise ConfigError(
                "[platforms.telegram]: chat_id is not set: the channel's @username, or its "
                "numeric id (-100…) for a private channel"
            )
        return self.settings.chat_id

    def url(self, method: str) -> str:
        """``https://api.telegram.org/bot<token>/<method>``: never shown, it holds the token."""
        token = self.token or self.ctx.credentials.require("bot_token")
        return f"{API}/bot{token}/{method}"

    def step(self, message: str) -> None:
        self.ctx.progress.step(self.ctx.platform, message)

    # -- publish -------------------------------------------------------------

    async def publish(self, post: Post) -> Published:
        """Send the post in one call; journal the method and text first."""
        chat = self.chat
        silent, preview = self.adapter.options_for(post)
        common: dict[str, Any] = {"chat_id": chat}
        if silent:
            common["disable_notification"] = True
        text = html.escape(post.text, quote=False)
        media = post.media
        if not media:
            method = "sendMessage"
            fields: dict[str, Any] = {**common, "text": text, "parse_mode": "HTML"}
            if not preview:
                fields["link_preview_options"] = {"is_disabled": True}
        elif len(media) == 1:
            method = "sendPhoto" if media[0].is_image else "sendVideo"
            fields = {**common, **_caption(text)}
        else:
            method = "sendMediaGroup"
            fields = dict(common)
        self.ctx.remember(method=method, chat_id=chat, text=post.text)
        self.step("sending the message" if not media else f"uploading and sending ({method})")
        if method == "sendMediaGroup":
            response = await self._album(fields, media, text)
        elif media:
            response = await self._single(fields, media[0])
        else:
            response = await self.api.create("POST", self.url(method), ok=(200,), json=fields)
        return self._published(response, chat)

    async def _single(self, fields: dict[str, Any], media: MediaFile) -> httpx.Response:
        """sendPhoto / sendVideo: the file uploaded, or its URL for Telegram to fetch."""
        key = "photo" if media.is_image else "video"
        method = "sendPhoto" if media.is_image else "sendVideo"
        if media.is_video:
            fields["supports_streaming"] = True
        if media.path is None:
            return await self.api.create(
                "POST", self.url(method), ok=(200,), json={**fields, key: media.url}
            )
        return await self.api.create(
            "POST",
            self.url(method),
            ok=(200,),
            data=_form(fields),
            files={key: _file(media)},
        )

    async def _album(
        self, fields: dict[str, Any], media: tuple[MediaFile, ...], text: str
    ) -> httpx.Response:
        """sendMediaGroup: ``media`` lists the items; uploaded ones as ``attach://fileN``."""
        items: list[dict[str, Any]] = []
        files: dict[str, tuple[str, bytes, str]] = {}
        for n, m in enumerate(media):
            item: dict[str, Any] = {"type": "photo" if m.is_image else "video"}
            if m.path is None:
                item["media"] = m.url
            else:
                files[f"file{n}"] = _file(m)
                item["media"] = f"attach://file{n}"
            if m.is_video:
                item["supports_streaming"] = True
            if n == 0:
                item.update(_caption(text))
            items.append(item)
        fields = {**fields, "media": items}
        if not files:
            return await self.api.create("POST", self.url("sendMediaGroup"), ok=(200,), json=fields)
        return await self.api.create(
            "POST", self.url("sendMediaGroup"), ok=(200,), data=_form(fields), files=files
        )

    def _published(self, response: httpx.Response, chat: str) -> Published:
        """The message (or the album's messages) Telegram answered: its id and public URL."""
        body = json_body(response)
        result = body.get("result") if isinstance(body, dict) and body.get("ok") else None
        messages = result if isinstance(result, list) else [result]
        ids = [m.get("message_id") for m in messages if isinstance(m, dict)]
        if not ids or not all(isinstance(i, int) for i in ids):
            raise UnknownOutcomeError(
                PLATFORM,
                f"Telegram answered without the message's id; look in {chat} for the post",
            )
        first = messages[0]
        assert isinstance(first, dict)
        username = _username(first.get("chat"), chat)
        url = f"https://t.me/{username}/{ids[0]}" if username else None
        visibility = None if username else "in a private channel: only its members see it"
        return Published(
            remote_id=str(ids[0]),
            url=url,
            ids=tuple(str(i) for i in ids) if len(ids) > 1 else (),
            visibility=visibility,
        )

    # -- after a lost answer ----------------------------------------------------

    async def reconcile(self, post: Post, sent: Sent) -> Published | None:
        """Always unknown: the Bot API has no call that lists a channel's messages
        (https://core.telegram.org/bots/api#available-methods), and sending again
        could post twice. A person looks, and tells crosspost with ``crosspost resolve``."""
        chat = sent.handles.get("chat_id") or self.settings.chat_id or "the channel"
        method = sent.handles.get("method") or "the message"
        raise UnknownOutcomeError(
            PLATFORM,
            f"Telegram's answer to {method} was lost and the Bot API cannot list a channel's "
            f"messages: look in {chat} for the post sent at {sent.at:%Y-%m-%d %H:%M} UTC",
        )

    # -- doctor ----------------------------------------------------------------

    async def identity(self) -> Account:
        """``getMe``: the bot's @username and id."""
        response = await self.api.call("POST", self.url("getMe"), ok=(200,))
        body = json_body(response)
        bot = body.get("result") if isinstance(body, dict) else None
        if not isinstance(bot, dict) or not isinstance(bot.get("id"), int):
            raise TransientError(PLATFORM, "Telegram answered getMe without the bot's id")
        username = bot.get("username")
        name = f"@{username}" if isinstance(username, str) else str(bot.get("first_name") or "")
        url = f"https://t.me/{username}" if isinstance(username, str) else None
        return Account(name or str(bot["id"]), str(bot["id"]), url)

    async def diagnose(self, bot: Account | None = None) -> list[Finding]:
        """The token works, the channel exists, and the bot (``bot`` when already asked) may
        post there."""
        if self.token is None and self.ctx.credentials.get("bot_token") is None:
            return [Finding("fail", self.ctx.credentials.missing_message(["bot_token"]))]
        try:
            bot = bot or await self.identity()
        except PlatformError as exc:
            return [Finding("fail", f"the bot token was refused: {exc.message}")]
        # doctor shows the account itself (``identity``); here only what it cannot see.
        findings: list[Finding] = []
        if not self.settings.chat_id:
            return [Finding("fail", "chat_id is not set in [platforms.telegram]")]
        try:
            response = await self.api.call(
                "POST",
                self.url("getChatMember"),
                ok=(200,),
                json={"chat_id": self.settings.chat_id, "user_id": int(bot.id or 0)},
            )
        except PlatformError as exc:
            return [*findings, Finding("fail", exc.message)]
        body = json_body(response)
        member = body.get("result") if isinstance(body, dict) else None
        member = member if isinstance(member, dict) else {}
        status = member.get("status")
        if status == "creator" or (status == "administrator" and member.get("can_post_messages")):
            findings.append(Finding("ok", f"{bot.name} may post in {self.settings.chat_id}"))
        else:
            findings.append(
                Finding(
                    "fail",
                    f"{bot.name} is {_role(status)} of {self.settings.chat_id}, not an "
                    f"administrator allowed to post: {ADMIN_FIX}",
                )
            )
        return findings


async def login(adapter: TelegramAdapter, session: LoginSession) -> Login:
    """``crosspost auth login telegram``: the token @BotFather gave, checked with ``getMe``
    before it is stored; the channel asked for when the config has none; the bot's
    rights in it checked (read-only). Bot tokens do not expire: nothing to renew."""
    session.say(
        "In Telegram, open @BotFather (https://t.me/BotFather): /newbot makes a bot, "
        "/mybots → your bot → API Token shows the token of an existing one."
    )
    token = session.ask("Paste the bot's token:").strip()
    if not TOKEN.fullmatch(token):
        raise ConfigError(
            "that is not a bot token: @BotFather's tokens look like 123456789:AAH… "
            "(digits, a colon, then letters, digits, - and _)"
        )
    register(token)
    settings = _settings_of(session.settings)
    values: dict[str, str] = {}
    if not settings.chat_id:
        chat = session.ask(
            "The channel's @username, or its numeric id (-100…) for a private channel:"
        ).strip()
        if not re.fullmatch(CHAT, chat):
            raise ConfigError(
                f"'{chat}' is not a channel: write its @username, or its numeric id (-100…)"
            )
        values["chat_id"] = chat
        settings = settings.model_copy(update={"chat_id": chat})
    ctx = PublishContext(
        client=session.client,
        platform=PLATFORM,
        settings=settings,
        credentials=session.credentials,
    )
    publisher = Publisher(adapter, ctx, token=token)
    account = await publisher.identity()
    for finding in await publisher.diagnose(account):
        mark = "✓" if finding.level == "ok" else "!"
        session.say(f"  {mark} {finding.message}")
    return Login(account=account, secrets={"bot_token": token}, settings=values)


def _role(status: object) -> str:
    """A ChatMember ``status`` in words (https://core.telegram.org/bots/api#chatmember)."""
    return {
        "administrator": "an administrator",
        "member": "a member",
        "restricted": "a restricted member",
        "left": "not a member",
        "kicked": "banned from the channel",
    }.get(str(status), "not a member")


def _settings(ctx: PublishContext) -> TelegramSettings:
    return _settings_of(ctx.settings)


def _settings_of(settings: PlatformSettings) -> TelegramSettings:
    from crosspost_adapters.telegram import TelegramSettings

    return settings if isinstance(settings, TelegramSettings) else TelegramSettings()


def _caption(text: str) -> dict[str, str]:
    """The caption fields; none for an empty caption (the Bot API allows 0 characters)."""
    return {"caption": text, "parse_mode": "HTML"} if text else {}


def _form(fields: dict[str, Any]) -> dict[str, str]:
    """Multipart fields: strings as they are, everything else JSON-serialized (the Bot API
    takes arrays and objects as JSON strings, and true/false as JSON booleans)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}


def _file(media: MediaFile) -> tuple[str, bytes, str]:
    """One upload part. Read whole: at most 10 MB (photos) or 50 MB (videos), and a
    connection refused before sending sends the same bytes again."""
    assert media.path is not None
    return media.path.name, media.path.read_bytes(), media.mime


def _username(chat: object, configured: str) -> str | None:
    """The channel's public username: from the answer's ``chat``, else the configured
    ``@name``. None for a private channel (its posts have no public link)."""
    if isinstance(chat, dict) and isinstance(chat.get("username"), str):
        return str(chat["username"])
    return configured[1:] if configured.startswith("@") else None
