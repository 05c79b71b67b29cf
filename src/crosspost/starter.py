"""The starter config that ``crosspost init`` writes: TOML from tomli-w, with comments.

tomli-w writes data, not comments, so the file is assembled from commented
blocks, each block's TOML written by tomli-w. A test parses the result back and
validates it against ``Config``.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from crosspost import registry

_HEADER = """\
# crosspost configuration: who posts, the "Find Us On" block, and per-platform settings.
# Secrets (tokens) never go here: set them as environment variables, e.g.
#   CROSSPOST_FACEBOOK_PAGE_TOKEN, or in credentials.toml in crosspost's user
#   directory (mode 0600): see the README, "Credentials".
# Every setting is described in config.example.toml of the crosspost source.
"""

_BLOCKS: list[tuple[str, dict[str, Any]]] = [
    (
        "Your organisation. 'timezone' is used for publish_at times written without an offset;\n"
        "'hashtags' are added to every announcement.",
        {"profile": {"name": "Your organisation", "timezone": "Asia/Jakarta", "hashtags": []}},
    ),
    (
        "Closes every post that has room. Each link is one line, '{label}: {text}'. A link with\n"
        "'platform' is left out first on that platform when space is short.",
        {
            "find_us": {
                "rule": "-------------------------------------",
                "heading": "Find Us On:",
                "closing": "Alamat: your address",
                "links": [
                    {"platform": "facebook", "label": "Facebook", "text": "Your Page name"},
                    {
                        "platform": "instagram",
                        "label": "Instagram",
                        "text": "yourhandle",
                        "handle": "yourhandle",
                    },
                    {
                        "label": "Website",
                        "text": "https://example.org",
                        "url": "https://example.org",
                    },
                ],
            }
        },
    ),
]


def starter_config() -> str:
    """The text of a starter config.toml."""
    pieces = [_HEADER]
    for comment, data in _BLOCKS:
        pieces.append("\n".join(f"# {line}" for line in comment.splitlines()))
        pieces.append(tomli_w.dumps(data))
    pieces.append(
        "# One table per platform; enabled = false leaves a platform out of every announcement."
    )
    platforms: dict[str, Any] = {}
    for name in registry.builtin_names():
        platforms[name] = {"enabled": True}
    pieces.append(tomli_w.dumps({"platforms": platforms}))
    pieces.append(
        "# Used only once you add their table (docs/platforms/<name>.md): "
        + ", ".join(registry.opt_in_names())
    )
    return "\n".join(pieces)
