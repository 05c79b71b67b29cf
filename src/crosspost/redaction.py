"""Keeping secrets out of every output, log, error and JSON document.

Every secret crosspost reads is registered here the moment it is read, and
everything shown to a user passes through ``redact`` first. Redacting by value
catches a token wherever it ends up: in a URL an HTTP error quotes, in a
platform's echo of our request, in an exception message.
"""

from __future__ import annotations

import re

_SECRETS: set[str] = set()
# Query parameters that carry secrets in the platforms' documented URLs.
_SECRET_PARAMS = re.compile(
    r"(?i)\b(access_token|client_secret|refresh_token|upload_token|fb_exchange_token|code)=[^&\s\"']+"
)


# A Telegram bot token sits in the Bot API's URL path (/bot<id>:<secret>/method): a
# second line of defence should one reach a message before it is registered.
_BOT_TOKEN = re.compile(r"\bbot\d+:[A-Za-z0-9_-]{30,}")


def register(secret: str) -> str:
    """Remember ``secret`` so that it is redacted from all output; returns it unchanged."""
    if len(secret) >= 4:  # redacting very short strings would mangle ordinary text
        _SECRETS.add(secret)
    return secret


def redact(text: str) -> str:
    """``text`` with every registered secret and every secret-looking URL parameter masked."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "****")
    text = _BOT_TOKEN.sub("bot****", text)
    return _SECRET_PARAMS.sub(lambda m: f"{m[1]}=****", text)
