"""OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849 §3), for X's user context.

X accepts OAuth 1.0a user tokens (consumer key/secret + access token/secret) on
its posting and media endpoints, and those user tokens do not expire: the
documented choice for unattended runs (docs/oauth.md). Signing is a few lines of
the standard library, so it is written here rather than added as a dependency.

What is signed (RFC 5849 §3.4.1): the method, the base string URI (scheme and
host in lower case, the port only when it is not the default, the path; no query),
and every parameter of the query string, of an ``application/x-www-form-urlencoded``
body, and the ``oauth_*`` protocol parameters. A JSON or multipart body is not part
of the signature (§3.4.1.3.1 counts only form-encoded bodies), which is how
``POST /2/tweets`` and the media uploads are signed.

Test vectors: RFC 5849 §1.2 and §3.4.1.1, and X's "Creating a signature" page
(tests/test_oauth1.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Generator, Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from crosspost import redaction

#: The only signature method crosspost sends; X documents HMAC-SHA1 only.
SIGNATURE_METHOD = "HMAC-SHA1"
#: Ports left out of the base string URI (RFC 5849 §3.4.1.2).
DEFAULT_PORTS = {"http": 80, "https": 443}
FORM = "application/x-www-form-urlencoded"

Params = Mapping[str, str] | Iterable[tuple[str, str]]


def percent_encode(value: str) -> str:
    """RFC 5849 §3.6: UTF-8, then every byte but ``A-Z a-z 0-9 - . _ ~`` as ``%XX`` (upper case)."""
    return quote(value.encode("utf-8"), safe="-._~")


def base_string_uri(url: str) -> str:
    """RFC 5849 §3.4.1.2: ``scheme://host[:port]/path`` with no query or fragment.

    Scheme and host are lower-cased; the port stays only when it is not the
    scheme's default; an empty path becomes ``/``. The path is kept as sent
    (already percent-encoded on the wire).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def query_pairs(url: str) -> list[tuple[str, str]]:
    """The decoded name/value pairs of ``url``'s query string, blanks and repeats kept."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def normalized_parameters(pairs: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1.3.2: encode names and values, sort by name then value, join."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def signature_base_string(method: str, url: str, params: Params = ()) -> str:
    """RFC 5849 §3.4.1.1: ``METHOD&uri&parameters``, each part percent-encoded.

    ``url`` may carry a query string: its parameters are signed. ``params`` are the
    others (form-encoded body fields, ``oauth_*``), as decoded values.
    """
    pairs = list(params.items() if isinstance(params, Mapping) else params)
    pairs += query_pairs(url)
    return "&".join(
        (
            method.upper(),
            percent_encode(base_string_uri(url)),
            percent_encode(normalized_parameters(pairs)),
        )
    )


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str = "") -> str:
    """RFC 5849 §3.4.2: base64 of HMAC-SHA1 keyed by ``consumer_secret&token_secret`` (encoded)."""
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode("ascii"), base_string.encode("ascii"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def authorization_header(
    method: str,
    url: str,
    *,
    consumer_key: str,
    consumer_secret: str,
    token: str,
    token_secret: str,
    params: Params | None = None,
    nonce: str | None = None,
    timestamp: int | str | None = None,
    realm: str | None = None,
    version: str | None = "1.0",
) -> str:
    """The ``Authorization: OAuth …`` value for one request (RFC 5849 §3.5.1).

    ``params``: the form-encoded body fields of the request, decoded (never a JSON
    body); query parameters are read from ``url``. ``nonce`` and ``timestamp`` are
    fresh unless given (tests). ``realm`` is sent but not signed (§3.4.1.3.1).
    """
    for secret in (consumer_secret, token, token_secret):
        redaction.register(secret)
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce if nonce is not None else secrets.token_hex(16),
        "oauth_signature_method": SIGNATURE_METHOD,
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_token": token,
    }
    if version is not None:
        oauth["oauth_version"] = version
    body = list(params.items() if isinstance(params, Mapping) else params or ())
    base = signature_base_string(method, url, [*oauth.items(), *body])
    oauth["oauth_signature"] = hmac_sha1_signature(base, consumer_secret, token_secret)
    fields = [f'realm="{realm}"'] if realm is not None else []
    fields += [f'{percent_encode(k)}="{percent_encode(v)}"' for k, v in sorted(oauth.items())]
    return "OAuth " + ", ".join(fields)


class OAuth1Auth(httpx.Auth):
    """Signs every request of an httpx client with OAuth 1.0a user context.

    The query string is signed, and the body when it is form-encoded (it is read
    from the request; httpx keeps ``data=`` bodies in memory). JSON and multipart
    bodies are sent but not signed, as RFC 5849 §3.4.1.3.1 says.
    """

    def __init__(
        self, consumer_key: str, consumer_secret: str, token: str, token_secret: str
    ) -> None:
        self._consumer_key = consumer_key
        self._consumer_secret = redaction.register(consumer_secret)
        self._token = redaction.register(token)
        self._token_secret = redaction.register(token_secret)

    def __repr__(self) -> str:
        return "OAuth1Auth(****)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the ``Authorization`` header and send the request once."""
        body: list[tuple[str, str]] = []
        if request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM:
            body = parse_qsl(request.content.decode("utf-8"), keep_blank_values=True)
        request.headers["Authorization"] = authorization_header(
            request.method,
            str(request.url),
            consumer_key=self._consumer_key,
            consumer_secret=self._consumer_secret,
            token=self._token,
            token_secret=self._token_secret,
            params=body,
        )
        yield request
