"""X publishing (API v2) against FakeTwitter: the happy paths, the faults, the fake itself."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import struct
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from crosspost.adapter import Part, Post, Published, Sent
from crosspost.api import Progress, PublishContext
from crosspost.credentials import Credentials
from crosspost.errors import (
    AuthError,
    CredentialsError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost.planning import plan_file
from crosspost.units import Unit
from crosspost_adapters._twitter_api import classify
from crosspost_adapters.twitter import TwitterAdapter, TwitterSettings
from tests.adapters.support import RecordingJournal, run
from tests.conftest import EXAMPLE
from tests.fakes.base import body_json
from tests.fakes.server import serve
from tests.fakes.twitter import FakeTwitter, Tweet, parse_multipart

TOKEN = "x-test-token-4d1f9"
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
#: ``moov`` with a version-0 ``mvhd``: timescale 1000, duration 10,000 (10 seconds).
MOOV = (
    struct.pack(">I4s", 116, b"moov")
    + struct.pack(">I4sI4I", 108, b"mvhd", 0, 0, 0, 1000, 10_000)
    + bytes(80)
)
#: Small enough that the fake keeps each APPEND body for the tests to reassemble.
CHUNK = 512 * 1024
#: ``[platforms.twitter]`` of a config that lets the example become a whole thread.
THREADS = "threads_allowed = true\nmax_thread_parts = 12"


class Steps(Progress):
    """Records progress calls, to check what the user is shown."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.sent = 0
        self.started: list[tuple[str, int]] = []

    def step(self, platform: str, message: str) -> None:
        """Keep the step."""
        self.steps.append(message)

    def upload_started(self, platform: str, name: str, total: int) -> None:
        """Keep the start."""
        self.started.append((name, total))

    def upload_advanced(self, platform: str, name: str, sent: int) -> None:
        """Add up the bytes."""
        self.sent += sent


def context(
    client: httpx.AsyncClient,
    *,
    api_base: str = "http://testserver",
    token: str | None = TOKEN,
    progress: Progress | None = None,
    **settings: Any,
) -> PublishContext:
    """A publish context for X pointing at the fake."""
    environ = {"CROSSPOST_TWITTER_ACCESS_TOKEN": token} if token else {}
    return PublishContext(
        client=client,
        platform="twitter",
        settings=TwitterSettings(api_base=api_base, **settings),
        credentials=Credentials("twitter", environ=environ),
        progress=progress or Progress(),
        poll_interval=0,
    )


def publish(fake: FakeTwitter, post: Post, **kwargs: Any) -> Published:
    """Publish ``post`` to ``fake`` in-process."""

    async def run() -> Published:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(client, **kwargs)
            return await TwitterAdapter(ctx.settings).publish(post, ctx)

    return asyncio.run(run())


def example_post() -> Post:
    """The example announcement as X gets it: trimmed text and the photo."""
    plan = plan_file(EXAMPLE / "announcement.toml", only=["twitter"])
    return plan.posts[0]


def workdir_plan(tmp_path: Path, *, media: str = "", twitter: str = "", config: str = "") -> Post:
    """The example announcement copied to ``tmp_path`` with its media and X table replaced,
    ``config`` as ``[platforms.twitter]`` of the copied config: the planned X post."""
    shutil.copy(EXAMPLE / "crosspost.toml", tmp_path / "crosspost.toml")
    if config:
        with (tmp_path / "crosspost.toml").open("a", encoding="utf-8") as out:
            out.write(f"\n[platforms.twitter]\n{config}\n")
    if not (tmp_path / "media").exists():
        shutil.copytree(EXAMPLE / "media", tmp_path / "media")
    text = (EXAMPLE / "announcement.toml").read_text("utf-8")
    head, _, _ = text.partition("[[media]]")
    source = tmp_path / "announcement.toml"
    source.write_text(f"{head}{media}\n[platforms.twitter]\n{twitter}\n", "utf-8")
    return plan_file(source, only=["twitter"]).posts[0]


def workdir_post(tmp_path: Path, *, media: str = "", twitter: str = "", config: str = "") -> Post:
    """``workdir_plan``, which must have no problem."""
    post = workdir_plan(tmp_path, media=media, twitter=twitter, config=config)
    assert not post.problems
    return post


def video_post(tmp_path: Path, size: int = 3 * CHUNK + 12345) -> tuple[Post, Path]:
    """A post with a few-MB MP4 of 10 seconds (ftyp, moov, then random bytes as mdat)."""
    clip = tmp_path / "clip.mp4"
    head = MP4_HEAD + MOOV + struct.pack(">I4s", 0, b"mdat")  # mdat runs to the end
    clip.write_bytes(head + os.urandom(size - len(head)))
    media = '[[media]]\npath = "clip.mp4"\nalt = "Cuplikan kegiatan"\n'
    return workdir_post(tmp_path, media=media), clip


def thread_post(tmp_path: Path) -> Post:
    """The example as a thread (``thread = true``, and ``threads_allowed = true`` in the
    config, as for an account with Enterprise access): several parts, the photo on the first."""
    media = '[[media]]\npath = "media/humas.jpg"\n'
    post = workdir_post(tmp_path, media=media, twitter="thread = true", config=THREADS)
    assert len(post.parts) > 2
    return post


def segments(fake: FakeTwitter) -> list[tuple[int, bytes]]:
    """(segment_index, chunk bytes) of every APPEND sent, in sending order."""
    sent = []
    for request in fake.calls(r"POST /2/media/upload/\d+/append$"):
        parsed = parse_multipart(request)
        assert parsed is not None
        fields, files = parsed
        sent.append((int(fields["segment_index"]), files["media"]))
    return sent


def appended(fake: FakeTwitter) -> bytes:
    """The bytes of the last APPEND of each segment, in segment order (as X keeps them)."""
    chunks = dict(segments(fake))
    return b"".join(chunks[i] for i in sorted(chunks))


def created(fake: FakeTwitter) -> list[Any]:
    """The JSON bodies sent to POST /2/tweets."""
    return [body_json(r) for r in fake.calls(r"POST /2/tweets$")]


# -- happy paths ---------------------------------------------------------------


def test_text_only_post_sends_the_planned_text() -> None:
    """A text-only post is one POST /2/tweets with exactly the plan's text."""
    fake = FakeTwitter(TOKEN)
    post = dataclasses.replace(example_post(), media=())
    published = publish(fake, post)
    assert created(fake) == [{"text": post.parts[0].text}]
    assert [t.text for t in fake.tweets] == [post.parts[0].text]
    assert published.remote_id == fake.tweets[0].id
    assert published.url == f"https://x.com/i/web/status/{fake.tweets[0].id}"
    assert published.ids == (fake.tweets[0].id,)
    assert fake.calls("/2/media") == []


def test_image_is_uploaded_once_with_alt_text_then_attached() -> None:
    """The photo goes up one-shot as tweet_image, gets its alt text, then rides on the post."""
    fake = FakeTwitter(TOKEN)
    post = example_post()
    photo = post.media[0]
    assert photo.path is not None and photo.alt
    steps = Steps()
    publish(fake, post, progress=steps)
    (upload,) = fake.calls(r"POST /2/media/upload$")
    parsed = parse_multipart(upload)
    assert parsed is not None
    fields, files = parsed
    assert fields == {"media_category": "tweet_image"}
    assert files["media"] == photo.path.read_bytes()
    media_id = next(iter(fake.media))
    assert body_json(fake.calls("POST /2/media/metadata")[0]) == {
        "id": media_id,
        "metadata": {"alt_text": {"text": photo.alt}},
    }
    assert fake.media[media_id].alt_text == photo.alt
    assert created(fake) == [{"text": post.parts[0].text, "media": {"media_ids": [media_id]}}]
    assert fake.tweets[0].media_ids == [media_id]
    assert steps.started == [(photo.name, photo.path.stat().st_size)]
    assert steps.sent == photo.path.stat().st_size


def test_video_is_chunked_polled_and_attached(tmp_path: Path) -> None:
    """A video goes INIT, APPEND x N (in order), FINALIZE, STATUS until succeeded, then posts."""
    post, clip = video_post(tmp_path)
    fake = FakeTwitter(TOKEN, processing_polls=3)
    steps = Steps()
    publish(fake, post, chunk_size=CHUNK, progress=steps)
    size = clip.stat().st_size
    (init,) = fake.calls(r"POST /2/media/upload/initialize$")
    assert body_json(init) == {
        "media_type": "video/mp4",
        "total_bytes": size,
        "media_category": "tweet_video",
    }
    assert [index for index, _ in segments(fake)] == [0, 1, 2, 3]
    assert all(len(chunk) <= CHUNK for _, chunk in segments(fake))
    assert appended(fake) == clip.read_bytes()
    assert len(fake.calls(r"/finalize$")) == 1
    polls = fake.calls(r"GET /2/media/upload$")
    assert len(polls) == 3
    assert all(
        dict(r.url.params) == {"command": "STATUS", "media_id": init_id(fake)} for r in polls
    )
    assert created(fake) == [{"text": post.parts[0].text, "media": {"media_ids": [init_id(fake)]}}]
    assert steps.sent == size
    assert "waiting for X to process clip.mp4" in steps.steps


def init_id(fake: FakeTwitter) -> str:
    """The id of the (only) upload."""
    (media_id,) = fake.media
    return media_id


def test_thread_is_a_reply_chain_in_order(tmp_path: Path) -> None:
    """Each part replies to the previous one; the media ride on the first part only."""
    post = thread_post(tmp_path)
    fake = FakeTwitter(TOKEN)
    published = publish(fake, post)
    ids = [t.id for t in fake.tweets]
    assert published.ids == tuple(ids)
    assert published.remote_id == ids[0]
    media_id = init_id(fake)
    expected: list[dict[str, Any]] = [
        {"text": post.parts[0].text, "media": {"media_ids": [media_id]}}
    ]
    expected += [
        {"text": part.text, "reply": {"in_reply_to_tweet_id": ids[i]}}
        for i, part in enumerate(post.parts[1:])
    ]
    assert created(fake) == expected
    assert [t.reply_to for t in fake.tweets] == [None, *ids[:-1]]


# -- faults ------------------------------------------------------------------------


def test_wrong_token_is_an_auth_error_without_the_token() -> None:
    """X's 401 becomes an AuthError that says how to reconnect and never shows the token."""
    fake = FakeTwitter("the-right-token")
    with pytest.raises(AuthError) as caught:
        publish(fake, dataclasses.replace(example_post(), media=()))
    message = str(caught.value)
    assert "CROSSPOST_TWITTER_ACCESS_TOKEN" in message
    assert TOKEN not in message
    assert fake.tweets == []


def test_missing_token_names_the_variable_before_any_request() -> None:
    """Without a token publish fails with CredentialsError naming the env var, sending nothing."""
    fake = FakeTwitter(TOKEN)
    with pytest.raises(CredentialsError, match="CROSSPOST_TWITTER_ACCESS_TOKEN"):
        publish(fake, example_post(), token=None)
    assert fake.requests == []


def test_incomplete_oauth1_set_names_what_is_missing_before_any_request() -> None:
    """consumer_key and access_token_secret choose OAuth 1.0a: a missing consumer secret
    is named (the variable, never a value) before anything is sent."""
    fake = FakeTwitter(TOKEN)
    environ = {
        "CROSSPOST_TWITTER_ACCESS_TOKEN": TOKEN,
        "CROSSPOST_TWITTER_CONSUMER_KEY": "x-consumer-key",
        "CROSSPOST_TWITTER_ACCESS_TOKEN_SECRET": "x-token-secret-6c1d",
    }

    async def go() -> Published:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(client)
            ctx.credentials = Credentials("twitter", environ=environ)
            return await TwitterAdapter(ctx.settings).publish(example_post(), ctx)

    with pytest.raises(CredentialsError, match="CROSSPOST_TWITTER_CONSUMER_SECRET") as caught:
        asyncio.run(go())
    assert "x-token-secret-6c1d" not in str(caught.value)
    assert fake.requests == []


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "1"},
        {"x-rate-limit-reset": str(int(time.time()) + 2), "x-rate-limit-remaining": "0"},
    ],
)
def test_short_rate_limit_is_waited_out(headers: dict[str, str]) -> None:
    """A 429 with a short Retry-After or x-rate-limit-reset is retried; one post results."""
    fake = FakeTwitter(TOKEN)
    body = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    fake.fail(r"POST /2/tweets$", 429, json=body, headers=headers)
    publish(fake, dataclasses.replace(example_post(), media=()))
    assert len(fake.calls(r"POST /2/tweets$")) == 2
    assert len(fake.tweets) == 1


def test_long_rate_limit_fails_with_retry_after() -> None:
    """A 429 whose reset is an hour away fails at once as RateLimitedError with retry_after."""
    fake = FakeTwitter(TOKEN)
    reset = str(int(time.time()) + 3600)
    fake.fail(
        r"POST /2/tweets$",
        429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-reset": reset, "x-rate-limit-remaining": "0"},
    )
    with pytest.raises(RateLimitedError) as caught:
        publish(fake, dataclasses.replace(example_post(), media=()))
    assert caught.value.retry_after is not None
    assert 3500 < caught.value.retry_after <= 3600
    assert len(fake.calls(r"POST /2/tweets$")) == 1
    assert fake.tweets == []


def test_fake_rate_limit_answers_429_with_headers() -> None:
    """The fake's own per-user limit answers 429 with x-rate-limit-* and the adapter gives up."""
    fake = FakeTwitter(TOKEN)
    fake.rate_limits["tweets"] = 0
    with pytest.raises(RateLimitedError):
        publish(fake, dataclasses.replace(example_post(), media=()))
    last = fake.calls(r"POST /2/tweets$")[-1]
    answer = fake(last)
    assert answer.status_code == 429
    assert answer.headers["x-rate-limit-remaining"] == "0"
    assert int(answer.headers["x-rate-limit-reset"]) > time.time()


def test_503_on_an_append_resends_that_segment(tmp_path: Path) -> None:
    """A 503 on an APPEND is retried with the same segment re-read; exactly one post."""
    post, clip = video_post(tmp_path)
    fake = FakeTwitter(TOKEN)
    fake.fail(r"POST /2/media/upload/\d+/append$", 503, json={"title": "Service Unavailable"})
    publish(fake, post, chunk_size=CHUNK)
    assert [index for index, _ in segments(fake)] == [0, 0, 1, 2, 3]
    assert appended(fake) == clip.read_bytes()
    assert len(fake.tweets) == 1


def test_lost_answer_to_a_landed_post_is_found_on_the_timeline() -> None:
    """The post landed but the answer was lost: found on the timeline, created exactly once."""
    fake = FakeTwitter(TOKEN)
    fake.fail(r"POST /2/tweets$", drop=True, after=True)
    result = publish(fake, dataclasses.replace(example_post(), media=()))
    assert len(fake.calls(r"POST /2/tweets$")) == 1
    assert len(fake.tweets) == 1
    assert result.remote_id == fake.tweets[0].id
    assert fake.calls(r"GET /2/users/\d+/tweets$")


def test_lost_request_not_on_the_timeline_is_unknown_and_not_resent() -> None:
    """The connection dropped before X acted: not on the timeline, unknown, never re-sent."""
    fake = FakeTwitter(TOKEN)
    fake.fail(r"POST /2/tweets$", drop=True)
    with pytest.raises(UnknownOutcomeError, match="not on the timeline yet"):
        publish(fake, dataclasses.replace(example_post(), media=()))
    assert len(fake.calls(r"POST /2/tweets$")) == 1
    assert fake.tweets == []


def test_timeline_match_treats_links_as_links() -> None:
    """X shows links as t.co: a landed post with a link is still recognised."""
    from crosspost_adapters._twitter_api import _comparable

    assert _comparable("Lihat https://kab-musirawas.kpu.go.id/a ya") == _comparable(
        "Lihat https://t.co/AbCdEf123 ya"
    )
    assert _comparable("Lihat ya") != _comparable("Lihat https://t.co/x ya")


def test_500_on_the_post_is_unknown_and_sent_once() -> None:
    """A 5xx to the create call is an unknown outcome, never retried."""
    fake = FakeTwitter(TOKEN)
    fake.fail(r"POST /2/tweets$", 500, json={"title": "Internal Server Error"})
    with pytest.raises(UnknownOutcomeError):
        publish(fake, dataclasses.replace(example_post(), media=()))
    assert len(fake.calls(r"POST /2/tweets$")) == 1


def test_duplicate_refusal_of_a_post_on_the_timeline_is_published() -> None:
    """X's 403 duplicate to a resend: the post is found on the timeline and is the result."""
    fake = FakeTwitter(TOKEN)
    post = dataclasses.replace(example_post(), media=())
    first = publish(fake, post)
    steps = Steps()
    again = publish(fake, post, progress=steps)
    assert again == first
    assert len(fake.tweets) == 1
    assert len(fake.calls(r"POST /2/tweets$")) == 2
    assert "X says the post is a duplicate: finding it" in steps.steps


def test_duplicate_refusal_not_among_the_newest_posts_stays_refused() -> None:
    """A duplicate older than the newest 100 posts is not ours to claim: InvalidContentError."""
    fake = FakeTwitter(TOKEN)
    post = dataclasses.replace(example_post(), media=())
    publish(fake, post)
    for n in range(100):
        fake.tweets.append(
            Tweet(str(1990000000000000000 + n), f"later {n}", [], None, fake.user_id)
        )
    with pytest.raises(InvalidContentError, match="duplicate of a recent post"):
        publish(fake, post)
    (read,) = fake.calls(r"GET /2/users/\d+/tweets$")
    assert read.url.params["max_results"] == "100"
    assert "start_time" not in read.url.params
    assert len(fake.tweets) == 101


def test_duplicate_refusal_with_an_unreadable_timeline_is_unknown() -> None:
    """Duplicate, and the timeline cannot be read: unknown (probably published), not failed."""
    fake = FakeTwitter(TOKEN)
    post = dataclasses.replace(example_post(), media=())
    publish(fake, post)
    fake.fail(r"GET /2/users/\d+/tweets$", 503, json={"title": "Service Unavailable"}, times=4)
    with pytest.raises(UnknownOutcomeError, match="probably published"):
        publish(fake, post)


def test_refused_self_reply_names_the_published_part_and_threads_allowed(tmp_path: Path) -> None:
    """A self-serve tier refuses the unsummoned reply: an error with part 1's URL, X's own
    words, and threads_allowed = false as the fix; nothing is posted again."""
    post = thread_post(tmp_path)
    fake = FakeTwitter(TOKEN, self_serve=True)
    with pytest.raises(InvalidContentError) as caught:
        publish(fake, post, threads_allowed=True)
    (first,) = fake.tweets
    message = str(caught.value)
    assert f"https://x.com/i/web/status/{first.id}" in message
    assert f"part 1 of the {len(post.parts)}-part thread" in message
    assert "you have not been mentioned or otherwise engaged" in message
    assert "threads_allowed = false under [platforms.twitter] in the config" in message
    assert "Do not publish this announcement to X again" in message
    assert "\n" not in message and TOKEN not in message
    assert len(fake.calls(r"POST /2/tweets$")) == 2


def test_lost_answer_mid_thread_names_the_posted_parts(tmp_path: Path) -> None:
    """Part 3 is lost on the way: UnknownOutcomeError naming parts 1-2; nothing more is sent."""
    post = thread_post(tmp_path)
    fake = FakeTwitter(TOKEN)

    class LoseThird(Progress):
        """Arms the fault just before part 3 is sent: the connection drops."""

        def step(self, platform: str, message: str) -> None:
            if message.startswith("posting part 3 of"):
                fake.fail(r"POST /2/tweets$", drop=True)

    with pytest.raises(UnknownOutcomeError) as caught:
        publish(fake, post, progress=LoseThird())
    message = str(caught.value)
    assert len(fake.tweets) == 2
    assert all(f"https://x.com/i/web/status/{t.id}" in message for t in fake.tweets[:2])
    assert "part 3 may or may not have been published" in message
    assert len(fake.calls(r"POST /2/tweets$")) == 3


def test_failed_processing_is_invalid_content(tmp_path: Path) -> None:
    """X failing to process the video: InvalidContentError with its reason, no post."""
    post, _ = video_post(tmp_path, size=200_000)
    fake = FakeTwitter(TOKEN, processing_error="Video duration too long")
    with pytest.raises(InvalidContentError, match="Video duration too long"):
        publish(fake, post, chunk_size=CHUNK)
    assert fake.tweets == []


def test_alt_text_failure_does_not_stop_the_post() -> None:
    """A refused alt text is reported as a step; the post still goes out with the photo."""
    fake = FakeTwitter(TOKEN)
    fake.fail(r"POST /2/media/metadata$", 400, json={"title": "Invalid Request"})
    steps = Steps()
    publish(fake, example_post(), progress=steps)
    assert len(fake.tweets) == 1
    assert fake.tweets[0].media_ids
    assert any("could not set the alt text" in s for s in steps.steps)


def test_no_raw_httpx_exception_escapes() -> None:
    """Connections dropping on every upload attempt end as a PlatformError, nothing posted."""
    fake = FakeTwitter(TOKEN)
    fake.fail(r"POST /2/media/upload$", drop=True, times=10)
    with pytest.raises(PlatformError) as caught:
        publish(fake, example_post())
    assert isinstance(caught.value, TransientError)
    assert not isinstance(caught.value, UnknownOutcomeError)
    assert fake.tweets == []


def test_refused_connection_is_transient() -> None:
    """A server that is not there: TransientError, not an httpx exception."""

    async def run() -> Published:
        async with httpx.AsyncClient() as client:
            ctx = context(client, api_base="http://127.0.0.1:9")
            return await TwitterAdapter(ctx.settings).publish(example_post(), ctx)

    with pytest.raises(TransientError):
        asyncio.run(run())


def test_plan_with_problems_is_not_sent() -> None:
    """A post whose plan has problems is refused before any request."""
    fake = FakeTwitter(TOKEN)
    post = dataclasses.replace(example_post(), problems=("too long",))
    with pytest.raises(InvalidContentError, match="too long"):
        publish(fake, post)
    assert fake.requests == []


def test_loopback_server_end_to_end(tmp_path: Path) -> None:
    """Over real loopback HTTP: photo and video uploads stream, the post lands."""
    post, clip = video_post(tmp_path)
    fake = FakeTwitter(TOKEN)

    async def run(origin: str) -> Published:
        async with httpx.AsyncClient() as client:
            ctx = context(client, api_base=origin, chunk_size=CHUNK)
            return await TwitterAdapter(ctx.settings).publish(post, ctx)

    with serve(fake) as origin:
        published = asyncio.run(run(origin))
    assert published.remote_id == fake.tweets[0].id
    assert appended(fake) == clip.read_bytes()
    assert fake.tweets[0].text == post.parts[0].text


# -- classify ------------------------------------------------------------------------


def answer(status: int, json: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """An X error answer."""
    return httpx.Response(status, json=json, headers=headers or {})


def test_classify_maps_x_problems() -> None:
    """Usage cap, client-forbidden, 400 reasons, 5xx, legacy error codes (docs.x.com
    x-api/fundamentals/response-codes-and-errors)."""
    capped = classify(
        answer(
            429,
            {
                "title": "Usage Capped",
                "detail": "Usage cap exceeded",
                "type": "https://api.x.com/2/problems/usage-capped",
            },
        )
    )
    assert isinstance(capped, RateLimitedError)
    forbidden = classify(
        answer(
            403,
            {
                "title": "Client Forbidden",
                "detail": "This app is not permitted to use this endpoint",
                "type": "https://api.x.com/2/problems/client-forbidden",
                "status": 403,
            },
        )
    )
    assert isinstance(forbidden, AuthError)
    assert "not permitted" in str(forbidden)
    bad = classify(
        answer(
            400,
            {
                "errors": [{"message": "$.media.media_ids: too many"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
            },
        )
    )
    assert isinstance(bad, InvalidContentError)
    assert "too many" in str(bad)
    assert isinstance(classify(answer(503, None)), TransientError)
    limited = classify(
        answer(
            429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, {"retry-after": "30"}
        )
    )
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 30
    cashtag = classify(
        answer(
            403,
            {
                "detail": "You can only post a maximum of one cashtag.",
                "title": "Forbidden",
                "type": "about:blank",
            },
        )
    )
    assert isinstance(cashtag, InvalidContentError)


# -- the fake ----------------------------------------------------------------------


def call(fake: FakeTwitter, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One synchronous request to the fake with the valid token."""
    with httpx.Client(transport=fake.transport(), base_url="http://testserver") as client:
        headers = {"Authorization": f"Bearer {fake.token}"}
        return client.request(method, path, headers=headers, **kwargs)


def test_fake_tweets_schema_is_strict() -> None:
    """Unknown fields, over-long text and bad media ids get X's 400 shape."""
    fake = FakeTwitter()
    unknown = call(fake, "POST", "/2/tweets", json={"text": "hi", "txt": "x"})
    assert unknown.status_code == 400
    assert unknown.json()["title"] == "Invalid Request"
    assert "additional properties" in unknown.json()["errors"][0]["message"]
    assert call(fake, "POST", "/2/tweets", json={"text": "é" * 281}).status_code == 400
    assert call(fake, "POST", "/2/tweets", json={"text": "é" * 280}).status_code == 201
    assert call(fake, "POST", "/2/tweets", json={}).status_code == 400
    ids = {"media": {"media_ids": ["1", "2", "3", "4", "5"]}}
    assert call(fake, "POST", "/2/tweets", json={"text": "x", **ids}).status_code == 400
    missing = call(fake, "POST", "/2/tweets", json={"text": "y", "media": {"media_ids": ["7"]}})
    assert missing.json()["errors"][0]["message"] == "Your media IDs are invalid."
    premium = FakeTwitter(max_length=25_000)
    assert call(premium, "POST", "/2/tweets", json={"text": "a" * 1000}).status_code == 201


def test_fake_chunked_upload_rules() -> None:
    """Segments without gaps, a re-sent segment replaces, sizes must add up, then processing."""
    fake = FakeTwitter(processing_polls=2)
    init = call(
        fake,
        "POST",
        "/2/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": 10, "media_category": "tweet_video"},
    )
    media_id = init.json()["data"]["id"]
    bad = call(
        fake,
        "POST",
        "/2/media/upload/initialize",
        json={"media_type": "video/avi", "total_bytes": 10},
    )
    assert bad.status_code == 400

    def append(index: int, data: bytes) -> httpx.Response:
        return call(
            fake,
            "POST",
            f"/2/media/upload/{media_id}/append",
            data={"segment_index": str(index)},
            files={"media": ("b", data)},
        )

    assert append(1, b"xxxx").status_code == 400  # a gap
    assert append(0, MP4_HEAD[:6]).status_code == 200
    assert append(0, MP4_HEAD[:4]).status_code == 200  # replaces segment 0
    assert append(1, MP4_HEAD[4:10]).status_code == 200
    early = call(fake, "POST", "/2/tweets", json={"text": "v", "media": {"media_ids": [media_id]}})
    assert early.status_code == 400
    done = call(fake, "POST", f"/2/media/upload/{media_id}/finalize")
    assert done.json()["data"]["processing_info"]["state"] == "pending"
    states = [
        call(
            fake, "GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id}
        ).json()["data"]["processing_info"]["state"]
        for _ in range(2)
    ]
    assert states == ["in_progress", "succeeded"]
    posted = call(fake, "POST", "/2/tweets", json={"text": "v", "media": {"media_ids": [media_id]}})
    assert posted.status_code == 201
    assert fake.tweets[0].media_ids == [media_id]


def test_fake_refuses_size_mismatch_and_mixed_media() -> None:
    """FINALIZE checks total_bytes; a photo and a video cannot share a post."""
    fake = FakeTwitter(processing_polls=1)
    init = call(
        fake,
        "POST",
        "/2/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": 100},
    )
    media_id = init.json()["data"]["id"]
    call(
        fake,
        "POST",
        f"/2/media/upload/{media_id}/append",
        data={"segment_index": "0"},
        files={"media": ("b", MP4_HEAD)},
    )
    short = call(fake, "POST", f"/2/media/upload/{media_id}/finalize")
    assert short.status_code == 400
    assert "mismatch" in short.json()["errors"][0]["message"]
    photo = call(
        fake,
        "POST",
        "/2/media/upload",
        data={"media_category": "tweet_image"},
        files={"media": ("p.jpg", (EXAMPLE / "media" / "humas.jpg").read_bytes())},
    )
    assert photo.status_code == 200
    not_image = call(
        fake,
        "POST",
        "/2/media/upload",
        data={"media_category": "tweet_image"},
        files={"media": ("p.jpg", b"hello")},
    )
    assert not_image.status_code == 400
    no_category = call(
        fake,
        "POST",
        "/2/media/upload",
        files={"media": ("p.jpg", (EXAMPLE / "media" / "humas.jpg").read_bytes())},
    )
    assert no_category.status_code == 400
    video = FakeTwitter(processing_polls=1)
    vid = call(
        video,
        "POST",
        "/2/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": len(MP4_HEAD)},
    ).json()["data"]["id"]
    call(
        video,
        "POST",
        f"/2/media/upload/{vid}/append",
        data={"segment_index": "0"},
        files={"media": ("b", MP4_HEAD)},
    )
    call(video, "POST", f"/2/media/upload/{vid}/finalize")
    call(video, "GET", "/2/media/upload", params={"command": "STATUS", "media_id": vid})
    pic = call(
        video,
        "POST",
        "/2/media/upload",
        data={"media_category": "tweet_image"},
        files={"media": ("p.jpg", (EXAMPLE / "media" / "humas.jpg").read_bytes())},
    )
    mixed = {"text": "m", "media": {"media_ids": [vid, pic.json()["data"]["id"]]}}
    assert call(video, "POST", "/2/tweets", json=mixed).status_code == 400
    assert (
        call(
            video, "POST", "/2/tweets", json={"text": "m", "media": {"media_ids": [vid]}}
        ).status_code
        == 201
    )


def test_fake_answers_x_shaped_401_and_rate_headers() -> None:
    """A wrong token gets X's 401 problem; every answer carries x-rate-limit-*."""
    fake = FakeTwitter()
    with httpx.Client(transport=fake.transport(), base_url="http://testserver") as client:
        denied = client.post(
            "/2/tweets", json={"text": "x"}, headers={"Authorization": "Bearer nope"}
        )
    assert denied.status_code == 401
    assert denied.json() == {
        "title": "Unauthorized",
        "detail": "Unauthorized",
        "type": "about:blank",
        "status": 401,
    }
    assert denied.headers["content-type"] == "application/problem+json"
    ok = call(fake, "POST", "/2/tweets", json={"text": "x"})
    assert ok.headers["x-rate-limit-limit"] == "100"
    assert ok.headers["x-rate-limit-remaining"] == "99"


def test_fake_expired_media_cannot_be_posted() -> None:
    """Media past expires_after_secs are refused by POST /2/tweets."""
    now = [1_700_000_000.0]
    fake = FakeTwitter(clock=lambda: now[0])
    photo = call(
        fake,
        "POST",
        "/2/media/upload",
        data={"media_category": "tweet_image"},
        files={"media": ("p.jpg", (EXAMPLE / "media" / "humas.jpg").read_bytes())},
    )
    media_id = photo.json()["data"]["id"]
    now[0] += 86_401
    expired = call(
        fake, "POST", "/2/tweets", json={"text": "e", "media": {"media_ids": [media_id]}}
    )
    assert expired.status_code == 400


def test_hand_built_post_without_media() -> None:
    """A Post built by hand (no plan) publishes its text as given."""
    fake = FakeTwitter(TOKEN)
    post = Post(
        platform="twitter", unit=Unit.WEIGHTED, parts=(Part("Halo #TemanPemilih", 18, 280),)
    )
    publish(fake, post)
    assert created(fake) == [{"text": "Halo #TemanPemilih"}]


def test_gif_goes_one_shot_as_tweet_gif_and_is_polled(tmp_path: Path) -> None:
    """A small GIF is one upload with media_category tweet_gif, polled until processed."""
    gif = tmp_path / "anim.gif"
    gif.write_bytes(b"GIF89a" + os.urandom(5000))
    media = MediaFile("anim.gif", "image", "image/gif", path=gif, size=gif.stat().st_size)
    post = dataclasses.replace(example_post(), media=(media,))
    fake = FakeTwitter(TOKEN, processing_polls=2)
    publish(fake, post)
    parsed = parse_multipart(fake.calls(r"POST /2/media/upload$")[0])
    assert parsed is not None
    assert parsed[0] == {"media_category": "tweet_gif"}
    assert len(fake.calls(r"GET /2/media/upload$")) == 2
    assert fake.tweets[0].media_ids == [init_id(fake)]


def test_processing_that_never_ends_times_out_before_posting(tmp_path: Path) -> None:
    """X still processing after poll_timeout: TransientError (nothing posted, safe to retry)."""
    post, _ = video_post(tmp_path, size=100_000)
    fake = FakeTwitter(TOKEN, processing_polls=10**9)

    async def run() -> Published:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = dataclasses.replace(context(client), poll_timeout=0.05)
            return await TwitterAdapter(ctx.settings).publish(post, ctx)

    with pytest.raises(TransientError, match="still processing"):
        asyncio.run(run())
    assert fake.tweets == []


def test_quota_mid_thread_is_not_retryable(tmp_path: Path) -> None:
    """A long 429 on part 2 leaves part 1 public: an unknown-outcome error naming it."""
    post = thread_post(tmp_path)
    fake = FakeTwitter(TOKEN)
    fake.rate_limits["tweets"] = 1
    with pytest.raises(UnknownOutcomeError) as caught:
        publish(fake, post)
    assert f"https://x.com/i/web/status/{fake.tweets[0].id}" in str(caught.value)
    assert "refused part 2" in str(caught.value)
    assert len(fake.tweets) == 1


def test_large_chunks_are_not_kept_by_the_fake(tmp_path: Path) -> None:
    """Chunks above the fake's 1 MiB recording cap still upload; only their sizes are kept."""
    post, _ = video_post(tmp_path, size=5 * 1024 * 1024)
    fake = FakeTwitter(TOKEN)
    publish(fake, post, chunk_size=2 * 1024 * 1024)
    appends = fake.calls(r"/append$")
    assert len(appends) == 3
    assert [r.content for r in appends[:2]] == [b"", b""]
    assert sorted(next(iter(fake.media.values())).segments.values()) == [
        1024 * 1024,
        2 * 1024 * 1024,
        2 * 1024 * 1024,
    ]
    assert len(fake.tweets) == 1


def test_media_deleted_after_planning_is_reported(tmp_path: Path) -> None:
    """A media file gone since the plan: InvalidContentError naming it, nothing sent."""
    post, clip = video_post(tmp_path, size=10_000)
    clip.unlink()
    fake = FakeTwitter(TOKEN)
    with pytest.raises(InvalidContentError, match=r"clip\.mp4: cannot read"):
        publish(fake, post)
    assert fake.requests == []


# -- the journal and reconcile ------------------------------------------------------

CREATES = r"POST /2/tweets$"
TIMELINE = r"GET /2/users/\d+/tweets$"


def journaled(fake: FakeTwitter, post: Post, journal: RecordingJournal, **kwargs: Any) -> Published:
    """Publish ``post`` to ``fake`` with ``journal`` receiving the state changes."""

    async def go() -> Published:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = dataclasses.replace(context(client, **kwargs), journal=journal)
            return await TwitterAdapter(ctx.settings).publish(post, ctx)

    result: Published = run(go())
    return result


def reconcile(
    fake: FakeTwitter, post: Post, sent: Sent, *, token: str = TOKEN, settle: float = 600.0
) -> Published | None:
    """The next run's reconcile of ``post`` against ``fake``."""

    async def go() -> Published | None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = dataclasses.replace(context(client, token=token), settle=settle)
            return await TwitterAdapter(ctx.settings).reconcile(post, sent, ctx)

    result: Published | None = run(go())
    return result


def lost(fake: FakeTwitter, post: Post, *, landed: bool, part: int = 1) -> RecordingJournal:
    """A run that dies not knowing: part ``part``'s create loses its answer (after X acted
    on it when ``landed``) and the lookup right after cannot read the account either."""
    journal = RecordingJournal(lambda: len(fake.calls(CREATES)))

    class Arm(Progress):
        def step(self, platform: str, message: str) -> None:
            if message in ("creating post", f"posting part {part} of {len(post.parts)}"):
                fake.fail(CREATES, drop=True, after=landed)
                fake.fail(r"GET /2/users/me$", 503, json={"title": "Service Unavailable"}, times=4)

    with pytest.raises(UnknownOutcomeError):
        journaled(fake, post, journal, progress=Arm())
    return journal


def text_only(text: str = "Halo #TemanPemilih, jadwal sosialisasi besok.") -> Post:
    """A one-part X post."""
    return Post(platform="twitter", unit=Unit.WEIGHTED, parts=(Part(text, len(text), 280),))


def two_parts() -> Post:
    """A two-part thread built by hand."""
    texts = ("Bagian pertama dari utas 1/2", "Bagian kedua dari utas 2/2")
    return Post(
        platform="twitter",
        unit=Unit.WEIGHTED,
        parts=tuple(Part(t, len(t), 280) for t in texts),
    )


def test_handles_are_recorded_before_each_create_and_hold_no_token(tmp_path: Path) -> None:
    """Each part's text goes to the journal before its create reaches X, the ids after."""
    post = thread_post(tmp_path)
    fake = FakeTwitter(TOKEN)
    journal = RecordingJournal(lambda: len(fake.calls(CREATES)))
    journaled(fake, post, journal)
    ids = [t.id for t in fake.tweets]
    count = len(post.parts)
    expected: list[tuple[str, dict[str, Any], int]] = []
    for number, part in enumerate(post.parts, start=1):
        expected += [
            ("remember", {"text": part.text, "part": number, "parts": count}, number - 1),
            ("sending", {}, number - 1),  # recorded while X has not seen this create yet
            ("remember", {"ids": ids[:number]}, number),
        ]
    assert journal.events == expected
    assert TOKEN not in json.dumps(journal.events)


def test_reconcile_finds_a_post_that_landed_while_its_answer_was_lost() -> None:
    """Run 1 never heard back; the next run finds the post on the timeline: published."""
    fake = FakeTwitter(TOKEN)
    post = text_only()
    journal = lost(fake, post, landed=True)
    (tweet,) = fake.tweets
    result = reconcile(fake, post, journal.sent())
    assert result == Published(tweet.id, f"https://x.com/i/web/status/{tweet.id}", (tweet.id,))
    assert len(fake.calls(CREATES)) == 1  # reconcile only reads
    (read,) = fake.calls(TIMELINE)
    assert read.url.params["start_time"] <= time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(tweet.created - 5 * 60 + 1)
    )


def test_reconcile_matches_links_as_x_shows_them() -> None:
    """X shows the post's link as t.co: it is still recognised as the lost post."""
    fake = FakeTwitter(TOKEN)
    post = text_only("Cek jadwal di https://kab-musirawas.kpu.go.id/jadwal ya")
    journal = lost(fake, post, landed=True)
    (tweet,) = fake.tweets
    assert "t.co" in tweet.shown_text
    result = reconcile(fake, post, journal.sent())
    assert result is not None and result.remote_id == tweet.id


def test_reconcile_long_after_a_create_that_never_landed_says_absent() -> None:
    """Dropped before X acted, and settle has passed: None (publishing again is safe)."""
    fake = FakeTwitter(TOKEN)
    post = text_only()
    journal = lost(fake, post, landed=False)
    assert fake.tweets == []
    assert reconcile(fake, post, journal.sent(age=601), settle=600) is None
    assert len(fake.calls(CREATES)) == 1


def test_reconcile_soon_after_a_create_that_never_landed_is_unknown() -> None:
    """Dropped before X acted, but sent only a minute ago: unknown, the next run looks again."""
    fake = FakeTwitter(TOKEN)
    post = text_only()
    journal = lost(fake, post, landed=False)
    with pytest.raises(UnknownOutcomeError) as caught:
        reconcile(fake, post, journal.sent(age=60), settle=600)
    assert "not on X's timeline yet" in str(caught.value)
    assert "the next run looks again" in str(caught.value)
    assert len(fake.calls(CREATES)) == 1


def test_reconcile_with_an_unreadable_timeline_is_unknown_with_the_cause() -> None:
    """X failing the timeline read: unknown, naming why, even long after sending."""
    fake = FakeTwitter(TOKEN)
    post = text_only()
    journal = lost(fake, post, landed=False)
    fake.fail(TIMELINE, 503, json={"title": "Service Unavailable"}, times=4)
    with pytest.raises(UnknownOutcomeError) as caught:
        reconcile(fake, post, journal.sent(age=3600))
    assert "X's timeline could not be read" in str(caught.value)
    assert "temporary problem" in str(caught.value)


def test_reconcile_with_a_revoked_token_is_unknown_and_says_so() -> None:
    """A token X refuses: unknown (nothing is proven), with how to reconnect, no token shown."""
    fake = FakeTwitter(TOKEN)
    post = text_only()
    journal = lost(fake, post, landed=True)
    with pytest.raises(UnknownOutcomeError) as caught:
        reconcile(fake, post, journal.sent(age=3600), token="revoked-token-123")
    assert "CROSSPOST_TWITTER_ACCESS_TOKEN" in str(caught.value)
    assert "revoked-token-123" not in str(caught.value)


def test_reconcile_reads_further_pages_of_the_timeline() -> None:
    """150 posts came after ours: the lookup follows next_token to the second page."""
    fake = FakeTwitter(TOKEN)
    post = text_only()
    journal = lost(fake, post, landed=True)
    (tweet,) = fake.tweets
    for n in range(150):
        fake.tweets.append(
            Tweet(str(1990000000000000000 + n), f"later {n}", [], None, fake.user_id)
        )
    result = reconcile(fake, post, journal.sent())
    assert result is not None and result.remote_id == tweet.id
    first, second = fake.calls(TIMELINE)
    assert "pagination_token" not in first.url.params
    assert second.url.params["pagination_token"]


def test_reconcile_does_not_claim_a_same_text_post_from_before_it_was_sent() -> None:
    """An older post with the same text is not the lost one: after settle, None."""
    fake = FakeTwitter(TOKEN)
    post = text_only()
    fake.tweets.append(
        Tweet("1990000000000000001", post.text, [], None, fake.user_id, created=time.time() - 7200)
    )
    journal = lost(fake, post, landed=False)
    assert reconcile(fake, post, journal.sent(age=601)) is None


def test_reconcile_of_a_whole_thread_whose_last_answer_was_lost() -> None:
    """Part 2 (the last) landed unheard: both parts found, the thread is published."""
    fake = FakeTwitter(TOKEN)
    post = two_parts()
    journal = lost(fake, post, landed=True, part=2)
    ids = [t.id for t in fake.tweets]
    assert len(ids) == 2 and fake.tweets[1].reply_to == ids[0]
    result = reconcile(fake, post, journal.sent())
    assert result == Published(ids[0], f"https://x.com/i/web/status/{ids[0]}", tuple(ids))


def test_reconcile_of_a_half_published_thread_is_unknown_and_sends_nothing(
    tmp_path: Path,
) -> None:
    """Part 2 never landed: parts already out are named, nothing is posted again."""
    post = thread_post(tmp_path)
    fake = FakeTwitter(TOKEN)
    journal = lost(fake, post, landed=False, part=2)
    (first,) = fake.tweets
    creates = len(fake.calls(CREATES))
    for age, state in ((601, "part 2 was not posted"), (60, "part 2 is not on the timeline yet")):
        with pytest.raises(UnknownOutcomeError) as caught:
            reconcile(fake, post, journal.sent(age=age))
        message = str(caught.value)
        assert f"https://x.com/i/web/status/{first.id}" in message
        assert state in message
        assert "crosspost resolve" in message
    assert len(fake.calls(CREATES)) == creates


def test_reconcile_of_a_thread_that_stopped_after_a_found_part(tmp_path: Path) -> None:
    """Part 2 landed unheard and part 3 was never sent: unknown, naming parts 1-2."""
    post = thread_post(tmp_path)
    fake = FakeTwitter(TOKEN)
    journal = lost(fake, post, landed=True, part=2)
    assert len(fake.tweets) == 2
    with pytest.raises(UnknownOutcomeError) as caught:
        reconcile(fake, post, journal.sent())
    message = str(caught.value)
    assert all(f"https://x.com/i/web/status/{t.id}" in message for t in fake.tweets)
    assert "part 3 was not sent" in message


def test_reconcile_trusts_ids_x_answered_without_reading() -> None:
    """Every part's answer came back (only the run's own record was lost): no request."""
    fake = FakeTwitter(TOKEN)
    sent = Sent(datetime.now(UTC), {"text": "b", "part": 2, "parts": 2, "ids": ["11", "12"]})
    result = reconcile(fake, two_parts(), sent)
    assert result == Published("11", "https://x.com/i/web/status/11", ("11", "12"))
    assert fake.requests == []


def test_fake_timeline_is_strict_and_pages() -> None:
    """max_results 5..100, RFC 3339 start_time, unknown parameters refused, next_token pages."""
    fake = FakeTwitter()
    for n in range(12):
        assert call(fake, "POST", "/2/tweets", json={"text": f"post {n}"}).status_code == 201
    path = f"/2/users/{fake.user_id}/tweets"
    for params in (
        {"max_results": "4"},
        {"max_results": "101"},
        {"start_time": "2026-01-01 10:00:00"},
        {"start_time": "2009-01-01T00:00:00Z"},
        {"since": "2026-01-01T00:00:00Z"},
        {"pagination_token": "nope"},
    ):
        assert call(fake, "GET", path, params=params).status_code == 400, params
    first = call(fake, "GET", path, params={"max_results": "5"}).json()
    assert [t["text"] for t in first["data"]] == [f"post {n}" for n in range(11, 6, -1)]
    assert "created_at" not in first["data"][0]
    token = first["meta"]["next_token"]
    second = call(
        fake,
        "GET",
        path,
        params={"max_results": "5", "pagination_token": token, "tweet.fields": "created_at"},
    ).json()
    assert [t["text"] for t in second["data"]] == [f"post {n}" for n in range(6, 1, -1)]
    assert second["data"][0]["created_at"].endswith(".000Z")
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    empty = call(fake, "GET", path, params={"start_time": later}).json()
    assert empty == {"meta": {"result_count": 0}}


def test_reconcile_of_a_thread_part_only_counts_a_reply_to_the_part_before() -> None:
    """A standalone post with part 2's text is not part 2: the thread stays half out."""
    fake = FakeTwitter(TOKEN)
    post = two_parts()
    journal = lost(fake, post, landed=False, part=2)
    (first,) = fake.tweets
    fake.tweets.append(Tweet("1990000000000000001", post.parts[1].text, [], None, fake.user_id))
    with pytest.raises(UnknownOutcomeError) as caught:
        reconcile(fake, post, journal.sent(age=601))
    assert "part 2 was not posted" in str(caught.value)
    assert f"https://x.com/i/web/status/{first.id}" in str(caught.value)
