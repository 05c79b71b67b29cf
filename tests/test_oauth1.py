"""OAuth 1.0a signing (crosspost.oauth1) against the published examples.

* RFC 5849 §3.4.1.1: a request with a repeated name, blanks, and encoded query
  and form values; the RFC prints its exact base string.
* RFC 5849 §1.2: the photos.example.net request, with secrets, nonce and timestamp
  given, and the signature the RFC prints (``MdpQcU8iPSUjWoN/UDMsK2sui9I=``).
* OAuth Core 1.0 Appendix A.5 (the 2007 spec RFC 5849 replaced): the same photo
  request with ``oauth_version=1.0`` and another nonce and timestamp, signature
  ``tR3+Ty81lMeYAr/Fid0kMTYa/WM=``.
* X's "Creating a signature" page
  (https://docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature):
  its base string and signature for ``api.x.com``, and the value the same page gave
  when the host was still ``api.twitter.com``.
"""

from __future__ import annotations

import base64
from urllib.parse import unquote

import httpx

from crosspost import redaction
from crosspost.oauth1 import (
    OAuth1Auth,
    authorization_header,
    base_string_uri,
    hmac_sha1_signature,
    normalized_parameters,
    percent_encode,
    signature_base_string,
)

# RFC 5849 §3.4.1.1 (the request of §3.1).
RFC_URL = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
RFC_BODY = [("c2", ""), ("a3", "2 q")]  # the body "c2&a3=2+q", decoded
RFC_OAUTH = [
    ("oauth_consumer_key", "9djdj82h48djs9d2"),
    ("oauth_token", "kkk9d7dh3k39sjv7"),
    ("oauth_signature_method", "HMAC-SHA1"),
    ("oauth_timestamp", "137131201"),
    ("oauth_nonce", "7d8f3e4a"),
]
RFC_BASE = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
    "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
    "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
    "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
    "9d7dh3k39sjv7"
)
RFC_NORMALIZED = (
    "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9dj"
    "dj82h48djs9d2&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1"
    "&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7"
)

# X's example request and credentials.
X_STATUS = "Hello Ladies + Gentlemen, a signed OAuth request!"
X_CREDENTIALS = {
    "consumer_key": "xvz1evFS4wEEPTGEFPHBog",
    "consumer_secret": "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    "token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    "token_secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
}
X_NONCE = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
X_TIMESTAMP = 1318622958
X_BASE = (
    "POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue"
    "%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2"
    "pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_"
    "token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3D"
    "Hello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
)


def header_fields(header: str) -> dict[str, str]:
    """The decoded fields of an ``OAuth a="b", …`` header."""
    assert header.startswith("OAuth ")
    fields = {}
    for part in header.removeprefix("OAuth ").split(", "):
        name, _, value = part.partition("=")
        assert value.startswith('"') and value.endswith('"'), part
        fields[name] = unquote(value[1:-1])
    return fields


def x_header(url: str) -> str:
    return authorization_header(
        "POST",
        url,
        **X_CREDENTIALS,
        params={"status": X_STATUS},
        nonce=X_NONCE,
        timestamp=X_TIMESTAMP,
    )


def test_percent_encoding_follows_rfc5849_section_3_6() -> None:
    assert percent_encode("r b") == "r%20b"  # a space is %20, never +
    assert percent_encode("-._~") == "-._~"  # the unreserved punctuation stays
    assert percent_encode("=%3D") == "%3D%253D"  # % itself is encoded
    assert percent_encode("a+b/c*d!") == "a%2Bb%2Fc%2Ad%21"
    assert percent_encode("å☃") == "%C3%A5%E2%98%83"  # UTF-8 bytes, upper-case hex


def test_base_string_uri_follows_rfc5849_section_3_4_1_2() -> None:
    # The two examples of §3.4.1.2.
    assert base_string_uri("HTTP://EXAMPLE.COM:80/r%20v/X?id=123") == "http://example.com/r%20v/X"
    assert base_string_uri("https://www.example.net:8080/?q=1") == "https://www.example.net:8080/"
    assert base_string_uri("https://api.x.com:443/2/tweets") == "https://api.x.com/2/tweets"
    assert base_string_uri("http://127.0.0.1:8123") == "http://127.0.0.1:8123/"


def test_rfc5849_base_string_example() -> None:
    pairs = RFC_BODY + RFC_OAUTH
    assert signature_base_string("POST", RFC_URL, pairs) == RFC_BASE
    query = [("b5", "=%3D"), ("a3", "a"), ("c@", ""), ("a2", "r b")]
    assert normalized_parameters(query + pairs) == RFC_NORMALIZED


def test_rfc5849_section_1_2_signature() -> None:
    base = signature_base_string(
        "GET",
        "http://photos.example.net/photos?file=vacation.jpg&size=original",
        {
            "oauth_consumer_key": "dpf43f3p2l4k3l03",
            "oauth_token": "nnch734d00sl2jdk",
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": "137131202",
            "oauth_nonce": "chapoH",
        },
    )
    assert hmac_sha1_signature(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00") == (
        "MdpQcU8iPSUjWoN/UDMsK2sui9I="
    )


def test_rfc5849_section_1_2_authorization_header() -> None:
    header = authorization_header(
        "GET",
        "http://photos.example.net/photos?file=vacation.jpg&size=original",
        consumer_key="dpf43f3p2l4k3l03",
        consumer_secret="kd94hf93k423kf44",
        token="nnch734d00sl2jdk",
        token_secret="pfkkdhi9sl3r4s00",
        nonce="chapoH",
        timestamp=137131202,
        realm="Photos",
        version=None,  # the RFC's example sends no oauth_version
    )
    assert header.startswith('OAuth realm="Photos", ')
    assert 'oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"' in header
    assert header_fields(header) == {
        "realm": "Photos",
        "oauth_consumer_key": "dpf43f3p2l4k3l03",
        "oauth_nonce": "chapoH",
        "oauth_signature": "MdpQcU8iPSUjWoN/UDMsK2sui9I=",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": "137131202",
        "oauth_token": "nnch734d00sl2jdk",
    }


def test_oauth_core_1_0_appendix_a_signature() -> None:
    header = authorization_header(
        "GET",
        "http://photos.example.net/photos?file=vacation.jpg&size=original",
        consumer_key="dpf43f3p2l4k3l03",
        consumer_secret="kd94hf93k423kf44",
        token="nnch734d00sl2jdk",
        token_secret="pfkkdhi9sl3r4s00",
        nonce="kllo9940pd9333jh",
        timestamp="1191242096",
    )
    assert header_fields(header)["oauth_signature"] == "tR3+Ty81lMeYAr/Fid0kMTYa/WM="


def test_x_creating_a_signature_base_string_and_signature() -> None:
    url = "https://api.x.com/1.1/statuses/update.json?include_entities=true"
    oauth = {
        "oauth_consumer_key": X_CREDENTIALS["consumer_key"],
        "oauth_nonce": X_NONCE,
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(X_TIMESTAMP),
        "oauth_token": X_CREDENTIALS["token"],
        "oauth_version": "1.0",
    }
    base = signature_base_string("POST", url, [*oauth.items(), ("status", X_STATUS)])
    assert base == X_BASE
    assert base.count("&") == 2  # as the page says
    signature = hmac_sha1_signature(
        base, X_CREDENTIALS["consumer_secret"], X_CREDENTIALS["token_secret"]
    )
    # The page gives the digest in hex, then its base64.
    assert base64.b64decode(signature).hex(" ").upper() == (
        "2E CF 77 84 98 99 6D 0D DA 90 5D C7 17 7C 75 07 3F 3F CD 4E"
    )
    assert signature == "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="


def test_x_example_header_on_both_hosts() -> None:
    fields = header_fields(
        x_header("https://api.x.com/1.1/statuses/update.json?include_entities=true")
    )
    assert fields["oauth_signature"] == "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="
    assert fields["oauth_version"] == "1.0"
    assert fields["oauth_token"] == X_CREDENTIALS["token"]
    assert "status" not in fields and "include_entities" not in fields  # signed, not sent here
    # The same page, when the host was api.twitter.com.
    legacy = x_header("https://api.twitter.com/1.1/statuses/update.json?include_entities=true")
    assert header_fields(legacy)["oauth_signature"] == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="


def test_httpx_auth_signs_query_and_form_body_but_not_json() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    auth = OAuth1Auth(**X_CREDENTIALS)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.post(
            "https://api.x.com/1.1/statuses/update.json",
            params={"include_entities": "true"},
            data={"status": X_STATUS},
        )
        client.post("https://api.x.com/2/tweets", json={"text": "hello"})
    form, json_request = seen

    fields = header_fields(form.headers["authorization"])
    oauth = {k: v for k, v in fields.items() if k != "oauth_signature"}
    expected = signature_base_string(
        "POST",
        "https://api.x.com/1.1/statuses/update.json?include_entities=true",
        [*oauth.items(), ("status", X_STATUS)],
    )
    assert fields["oauth_signature"] == hmac_sha1_signature(
        expected, X_CREDENTIALS["consumer_secret"], X_CREDENTIALS["token_secret"]
    )

    fields = header_fields(json_request.headers["authorization"])
    oauth = {k: v for k, v in fields.items() if k != "oauth_signature"}
    only_oauth = signature_base_string("POST", "https://api.x.com/2/tweets", oauth)
    assert fields["oauth_signature"] == hmac_sha1_signature(
        only_oauth, X_CREDENTIALS["consumer_secret"], X_CREDENTIALS["token_secret"]
    )


def unsigned_x(url: str) -> str:
    """A header for X's example credentials with a fresh nonce and timestamp."""
    return authorization_header(
        "POST",
        url,
        consumer_key=X_CREDENTIALS["consumer_key"],
        consumer_secret=X_CREDENTIALS["consumer_secret"],
        token=X_CREDENTIALS["token"],
        token_secret=X_CREDENTIALS["token_secret"],
    )


def test_fresh_nonce_and_timestamp_per_header() -> None:
    url = "https://api.x.com/2/tweets"
    first = header_fields(unsigned_x(url))
    second = header_fields(unsigned_x(url))
    assert first["oauth_nonce"] != second["oauth_nonce"]
    assert first["oauth_timestamp"].isdigit()
    assert first["oauth_signature"] != second["oauth_signature"]


def test_secrets_are_registered_and_not_in_repr() -> None:
    auth = OAuth1Auth(**X_CREDENTIALS)
    assert X_CREDENTIALS["consumer_secret"] not in repr(auth)
    shown = redaction.redact(
        f"{X_CREDENTIALS['consumer_secret']} {X_CREDENTIALS['token']} "
        f"{X_CREDENTIALS['token_secret']}"
    )
    assert shown == "**** **** ****"
