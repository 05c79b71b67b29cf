"""The adapter HTTP layer: rebasing, safe retries, create-call honesty, secrets kept out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from crosspost import redaction
from crosspost.api import Api, PublishContext, file_chunks, rebase, retry_after
from crosspost.config import PlatformSettings
from crosspost.credentials import Credentials
from crosspost.errors import (
    AuthError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)


def classify(response: httpx.Response) -> PlatformError:
    """A minimal classifier, like the adapters' ones."""
    if response.status_code == 401:
        return AuthError("fake", "token rejected")
    if response.status_code == 429:
        return RateLimitedError("fake", "slow down", retry_after=retry_after(response))
    if response.status_code >= 500:
        return TransientError("fake", "server error")
    return PlatformError("fake", f"refused {response.status_code}")


def api_for(handler: httpx.MockTransport, api_base: str | None = "http://fake.test") -> Api:
    client = httpx.AsyncClient(transport=handler)
    ctx = PublishContext(
        client=client,
        platform="fake",
        settings=PlatformSettings(api_base=api_base),
        credentials=Credentials("fake", environ={}),
    )
    return ctx.api(classify)


def script(*answers: int | Exception) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering each request with the next status (or raising the exception)."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        headers = {"retry-after": "1"} if answer == 429 else {}
        return httpx.Response(answer, json={"ok": answer < 400}, headers=headers)

    return httpx.MockTransport(handler), seen


def test_rebase_keeps_path_and_query() -> None:
    """api_base replaces scheme and host only; the real path and query stay."""
    url = "https://graph.facebook.com/v25.0/123/feed?fields=id"
    assert rebase(url, "http://127.0.0.1:8080") == "http://127.0.0.1:8080/v25.0/123/feed?fields=id"
    assert rebase(url, None) == url


def test_safe_call_retries_transient_and_429() -> None:
    """A safe step is retried after a 5xx, a 429 and a dropped connection."""
    transport, seen = script(503, 429, httpx.ReadError("reset"), 200)
    response = asyncio.run(api_for(transport).call("GET", "https://api.example/x"))
    assert response.status_code == 200
    assert len(seen) == 4
    assert str(seen[0].url) == "http://fake.test/x"


def test_safe_call_gives_up_with_the_error_class() -> None:
    """After the attempts run out the last error surfaces as its class, never raw httpx."""
    transport, _ = script(*([503] * 10))
    with pytest.raises(TransientError):
        asyncio.run(api_for(transport).call("GET", "https://api.example/x"))
    transport, _ = script(httpx.ReadTimeout("slow"), *([httpx.ReadTimeout("slow")] * 9))
    with pytest.raises(TransientError):
        asyncio.run(api_for(transport).call("GET", "https://api.example/x"))


def test_permanent_error_not_retried() -> None:
    """A 401 is not retried."""
    transport, seen = script(401, 200)
    with pytest.raises(AuthError):
        asyncio.run(api_for(transport).call("GET", "https://api.example/x"))
    assert len(seen) == 1


def test_create_after_ambiguous_failure_is_unknown_and_sent_once() -> None:
    """A create call whose connection failed after sending is 'unknown' and never re-sent."""
    for failure in (httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("gone"), 500, 502):
        transport, seen = script(failure, 201)
        with pytest.raises(UnknownOutcomeError) as info:
            asyncio.run(api_for(transport).create("POST", "https://api.example/post"))
        assert len(seen) == 1
        assert "may or may not have been published" in str(info.value)


def test_create_retried_when_certainly_not_sent() -> None:
    """A refused connection or a 429 means nothing was created: the create is tried again."""
    transport, seen = script(httpx.ConnectError("refused"), 429, 201)
    response = asyncio.run(api_for(transport).create("POST", "https://api.example/post"))
    assert response.status_code == 201
    assert len(seen) == 3


def test_long_rate_limit_wait_is_not_sat_out() -> None:
    """A 429 asking for more than a minute fails as rate limited, with the wait."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "900"})

    with pytest.raises(RateLimitedError) as info:
        asyncio.run(api_for(httpx.MockTransport(handler)).create("POST", "https://a.example/p"))
    assert info.value.retry_after == 900


def test_errors_never_quote_secrets() -> None:
    """A token in a URL or an exception text is redacted in the message."""
    secret = redaction.register("EAAB-secret-token-value")

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out on {request.url}")

    with pytest.raises(UnknownOutcomeError) as info:
        asyncio.run(
            api_for(httpx.MockTransport(handler)).create(
                "POST", f"https://a.example/p?access_token={secret}&x=1"
            )
        )
    assert secret not in str(info.value)
    assert "access_token=****" in str(info.value)


def test_file_chunks_stream_a_range_each_time(tmp_path: Path) -> None:
    """A chunk factory reads its byte range from disk afresh on every call."""
    path = tmp_path / "v.bin"
    data = bytes(range(256)) * 10_000
    path.write_bytes(data)
    factory = file_chunks(path, 1000, 2_501_000)

    async def collect() -> bytes:
        body = factory()
        assert not isinstance(body, bytes)
        return b"".join([piece async for piece in body])

    first = asyncio.run(collect())
    assert first == data[1000:2_501_000] == asyncio.run(collect())


def test_slow_server_over_loopback_times_out_honestly() -> None:
    """A real server slower than the timeout: safe steps fail as transient, a create as unknown."""
    from tests.fakes.base import FakePlatform
    from tests.fakes.server import serve

    fake = FakePlatform()
    fake.route("POST", r"/post", lambda request: httpx.Response(201, json={"id": "1"}))
    fake.delay = 0.5

    async def go(create: bool, origin: str) -> None:
        async with httpx.AsyncClient(timeout=0.1) as client:
            ctx = PublishContext(
                client=client,
                platform="fake",
                settings=PlatformSettings(api_base=origin),
                credentials=Credentials("fake", environ={}),
            )
            api = ctx.api(classify)
            if create:
                await api.create("POST", "https://api.example/post")
            else:
                await api.call("POST", "https://api.example/post", attempts=2)

    with serve(fake) as origin:
        with pytest.raises(TransientError):
            asyncio.run(go(False, origin))
        sent = len(fake.requests)
        with pytest.raises(UnknownOutcomeError):
            asyncio.run(go(True, origin))
        assert len(fake.requests) == sent + 1
