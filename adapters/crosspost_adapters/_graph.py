"""What Facebook Pages and Instagram share: Meta's Graph API URLs, auth and error object.

Both platforms answer errors with the Graph error object (platform-apis.md §2.5,
§3.5; developers.facebook.com/docs/graph-api/guides/error-handling)::

    {"error": {"message": "...", "type": "OAuthException", "code": 190,
               "error_subcode": 460, "error_user_title": "...", "error_user_msg": "...",
               "is_transient": false, "fbtrace_id": "..."}}

``classifier`` turns that object into crosspost's error tree. The codes common to
every Graph API are mapped here; each platform passes a ``specific`` function for
its own codes (duplicate posts, Instagram's media errors), which is asked first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from crosspost.api import Classifier, excerpt, json_body, retry_after
from crosspost.errors import (
    AuthError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
)
from crosspost.redaction import redact

GRAPH = "https://graph.facebook.com"
#: Facebook's video publishing endpoint lives on its own host (platform-apis.md §2.2).
GRAPH_VIDEO = "https://graph-video.facebook.com"
#: The Instagram API with Instagram Login (platform-apis.md §3).
GRAPH_INSTAGRAM = "https://graph.instagram.com"

#: Error codes of the Graph error-handling guide (platform-apis.md §2.5).
AUTH_CODES = frozenset({102, 190})
#: 458 app not installed, 459 checkpoint, 460 password changed, 463 expired,
#: 464 unconfirmed user, 467 invalid token (and the rest of that range).
AUTH_SUBCODES = frozenset(range(458, 468))
#: 10 permission denied, 200-299 permission errors: the token lacks a permission.
PERMISSION_CODES = frozenset({10, *range(200, 300)})
#: 4 app, 17 user, 32 Page-level, 613 custom, 80001 Pages BUC throttling; 341 app limit.
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001})
#: 1 unknown and 2 service errors: "retry" says the guide.
TRANSIENT_CODES = frozenset({1, 2})
#: Texts of revoked or invalid tokens seen in production (postiz handleErrors).
AUTH_TEXTS = (
    "REVOKED_ACCESS_TOKEN",
    "Error validating access token",
    "session has been invalidated",
)


@dataclass(frozen=True, slots=True)
class GraphError:
    """The fields of a Graph error object that decide what went wrong."""

    code: int | None
    subcode: int | None
    message: str
    type: str
    user_title: str
    user_msg: str
    is_transient: bool

    @property
    def text(self) -> str:
        """What Meta says went wrong, in the words meant for people when there are some."""
        return self.user_msg or self.message or self.user_title

    @property
    def codes(self) -> str:
        """``code 190, subcode 463``: for a support request."""
        if self.subcode is not None:
            return f"code {self.code}, subcode {self.subcode}"
        return f"code {self.code}"


def graph_url(host: str, version: str, *path: str) -> str:
    """``https://graph.facebook.com/v25.0/<path...>``, each segment quoted.

    ``:`` stays as it is: upload sessions are addressed as ``upload:<id>``.
    """
    segments = [quote(str(p), safe=":") for p in path]
    return "/".join([host.rstrip("/"), version, *segments])


def bearer(token: str) -> dict[str, str]:
    """The auth header for Graph calls: the token never goes into a URL."""
    return {"Authorization": f"Bearer {token}"}


def oauth(token: str) -> dict[str, str]:
    """The auth header the upload endpoints document: ``Authorization: OAuth <token>``."""
    return {"Authorization": f"OAuth {token}"}


def parse_error(response: httpx.Response) -> GraphError | None:
    """The Graph error object of a response (its texts redacted), or None when it has none."""
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    # Redacted here, once: Meta's messages may echo a request (and its token).
    return GraphError(
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        message=redact(str(error.get("message") or "")),
        type=str(error.get("type") or ""),
        user_title=redact(str(error.get("error_user_title") or "")),
        user_msg=redact(str(error.get("error_user_msg") or "")),
        is_transient=error.get("is_transient") is True,
    )


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def wait_hint(response: httpx.Response) -> float | None:
    """Seconds Meta asked us to wait: ``Retry-After``, else the usage headers' estimate.

    ``X-Business-Use-Case-Usage`` maps ids to lists of usage objects whose
    ``estimated_time_to_regain_access`` is in minutes (platform-apis.md §2.5).
    """
    seconds = retry_after(response)
    if seconds is not None:
        return seconds
    raw = response.headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = [
        item.get("estimated_time_to_regain_access")
        for items in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(items, list)
        for item in items
        if isinstance(item, dict)
    ]
    waits = [float(m) for m in minutes if isinstance(m, int | float) and m > 0]
    return max(waits) * 60.0 if waits else None


Specific = Callable[[GraphError, httpx.Response], PlatformError | None]


def classifier(
    platform: str, display: str, reconnect: str, specific: Specific | None = None
) -> Classifier:
    """A classifier for one platform on the Graph API.

    ``display`` names the platform in messages ("Facebook"); ``reconnect`` says
    what to do about a refused token ("get a new Page access token and set ...").
    """

    def classify(response: httpx.Response) -> PlatformError:
        return _classify(response, platform, display, reconnect, specific)

    return classify


def _classify(
    response: httpx.Response,
    platform: str,
    display: str,
    reconnect: str,
    specific: Specific | None,
) -> PlatformError:
    status = response.status_code
    error = parse_error(response)
    if error is None:
        return _by_status(response, platform, display, reconnect)
    if specific is not None:
        found = specific(error, response)
        if found is not None:
            return found

    def say(text: str) -> str:
        return redact(text)

    if (
        error.code in AUTH_CODES
        or error.subcode in AUTH_SUBCODES
        or any(t.lower() in error.message.lower() for t in AUTH_TEXTS)
    ):
        return AuthError(
            platform,
            say(f"{display} refused the access token ({error.text}; {error.codes}): {reconnect}"),
            status=status,
        )
    if error.code in PERMISSION_CODES:
        return AuthError(
            platform,
            say(
                f"{display} says the token lacks a permission ({error.text}; {error.codes}): "
                f"{reconnect}, granting every permission crosspost asks for"
            ),
            status=status,
        )
    if error.code in THROTTLE_CODES or status == 429:
        return RateLimitedError(
            platform,
            say(
                f"{display} is limiting how often we may call it ({error.text}; {error.codes}): "
                "wait a while and publish again"
            ),
            status=status,
            retry_after=wait_hint(response),
        )
    if error.code in TRANSIENT_CODES or error.is_transient or status >= 500:
        return TransientError(
            platform,
            say(f"{display} had a temporary problem ({error.text}; {error.codes}): try again"),
            status=status,
        )
    if error.code == 100 and error.subcode == 33:
        # "Object with ID '...' does not exist, cannot be loaded due to missing
        # permissions, or does not support this operation": a wrong id in config
        # or a token for another account.
        return AuthError(
            platform,
            say(
                f"{display} cannot reach this account ({error.text}; {error.codes}): check the "
                f"account id in [platforms.{platform}] of the config, and that the token "
                "belongs to that account"
            ),
            status=status,
        )
    return InvalidContentError(
        platform, say(f"{display} refused the post: {error.text} ({error.codes})"), status=status
    )


def _by_status(
    response: httpx.Response, platform: str, display: str, reconnect: str
) -> PlatformError:
    """An answer without a Graph error object (a proxy, a load balancer, an upload host)."""
    status = response.status_code
    text = excerpt(response) or f"HTTP {status}"
    if status in (401, 403):
        return AuthError(
            platform,
            redact(f"{display} refused the access token ({text}): {reconnect}"),
            status=status,
        )
    if status == 429:
        return RateLimitedError(
            platform,
            redact(f"{display} is limiting how often we may call it ({text}): publish again later"),
            status=status,
            retry_after=wait_hint(response),
        )
    if status >= 500 or status == 408:
        return TransientError(
            platform,
            redact(f"{display} had a temporary problem (HTTP {status}: {text})"),
            status=status,
        )
    return InvalidContentError(
        platform, redact(f"{display} refused the request (HTTP {status}: {text})"), status=status
    )
