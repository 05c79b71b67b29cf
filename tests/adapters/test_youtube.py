"""YouTube publishing against FakeYouTube: the resumable upload, its faults and its errors."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

from crosspost.adapter import Part, Post, Published, Sent
from crosspost.api import Journal, Progress, PublishContext
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
from crosspost.redaction import redact
from crosspost_adapters.youtube import YouTubeAdapter, YouTubeSettings
from tests.adapters.support import Crashed, Recorder, RecordingJournal, crash_at
from tests.conftest import EXAMPLE
from tests.fakes.base import body_json, form
from tests.fakes.server import serve
from tests.fakes.youtube import CHUNK_UNIT, FakeYouTube, google_error

CHUNK = CHUNK_UNIT  # 256 KiB: the smallest chunk size, so a few MB make many chunks
ENV = {
    "CROSSPOST_YOUTUBE_CLIENT_ID": "yt-client-id.apps.googleusercontent.com",
    "CROSSPOST_YOUTUBE_CLIENT_SECRET": "yt-client-secret",
    "CROSSPOST_YOUTUBE_REFRESH_TOKEN": "1//yt-refresh-token",
}
UPLOAD = r"^PUT /upload/youtube/v3/videos$"
SESSION = r"^POST /upload/youtube/v3/videos$"


@functools.cache
def planned() -> Post:
    """The example announcement's YouTube post."""
    plan = plan_file(EXAMPLE / "announcement.toml")
    return next(p for p in plan.posts if p.platform == "youtube")


def make_video(tmp_path: Path, size: int) -> Path:
    """A file of ``size`` bytes that starts like an MP4 (``ftyp`` box)."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    data = head + random.Random(size).randbytes(size - len(head))
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    return path


def post_with(video: Path, **changes: Any) -> Post:
    """The planned post, with ``video`` as its media."""
    media = MediaFile(
        name="clip.mp4", kind="video", mime="video/mp4", path=video, size=video.stat().st_size
    )
    return dataclasses.replace(planned(), media=(media,), **changes)


def sha256(path: Path) -> str:
    """The file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _publish(
    post: Post,
    transport: httpx.AsyncBaseTransport,
    *,
    env: dict[str, str] | None = None,
    progress: Progress | None = None,
    api_base: str = "http://testserver",
    journal: Journal | None = None,
    **settings: Any,
) -> Published:
    values = {"api_base": api_base, "chunk_size": CHUNK, **settings}
    config = YouTubeSettings(**values)
    async with httpx.AsyncClient(transport=transport) as client:
        ctx = PublishContext(
            client=client,
            platform="youtube",
            settings=config,
            credentials=Credentials("youtube", environ=ENV if env is None else env),
            progress=progress or Progress(),
            poll_interval=0,
            journal=journal or Journal(),
        )
        return await YouTubeAdapter(config).publish(post, ctx)


def publish(fake: FakeYouTube, post: Post, **kwargs: Any) -> Published:
    """Publish ``post`` through ``fake`` in-process."""
    return asyncio.run(_publish(post, fake.transport(), **kwargs))


def reconcile(
    fake: FakeYouTube, post: Post, sent: Sent, progress: Progress | None = None
) -> Published | None:
    """What a later run's ``reconcile`` finds for ``post`` on ``fake``."""
    config = YouTubeSettings(api_base="http://testserver", chunk_size=CHUNK)

    async def go() -> Published | None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = PublishContext(
                client=client,
                platform="youtube",
                settings=config,
                credentials=Credentials("youtube", environ=ENV),
                progress=progress or Progress(),
                poll_interval=0,
            )
            return await YouTubeAdapter(config).reconcile(post, sent, ctx)

    return asyncio.run(go())


def final_chunks(fake: FakeYouTube) -> int:
    """How many chunks ending at the file's last byte reached the fake (probes not counted)."""
    count = 0
    for content_range in ranges(fake):
        span, total = content_range.removeprefix("bytes ").split("/")
        if span != "*" and int(span.split("-")[1]) + 1 == int(total):
            count += 1
    return count


def crashed(fake: FakeYouTube, post: Post, *, act: bool, nth: int) -> RecordingJournal:
    """Publish until the ``nth`` upload PUT, where the run dies (after it landed, with ``act``)."""
    journal = RecordingJournal(lambda: final_chunks(fake))
    with pytest.raises(Crashed):
        asyncio.run(
            _publish(post, crash_at(fake.transport(), UPLOAD, act=act, nth=nth), journal=journal)
        )
    return journal


def wrapped(fake: FakeYouTube, hook: Callable[[httpx.Request, httpx.Response], None]) -> Any:
    """An in-process transport that calls ``hook`` after each answer of ``fake``."""
    inner = fake.transport()

    class Hooked(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await inner.handle_async_request(request)
            hook(request, response)
            return response

    return Hooked()


def ranges(fake: FakeYouTube) -> list[str]:
    """The Content-Range of every PUT, probes included."""
    return [r.headers["content-range"] for r in fake.calls(UPLOAD)]


def rate_limit(status: int, reason: str) -> dict[str, Any]:
    """A Google rate-limit error body."""
    body = google_error(status, reason, "Rate limit exceeded", domain="usageLimits").json()
    assert isinstance(body, dict)
    return body


# -- the happy path -----------------------------------------------------------


def test_session_json_is_the_plan(tmp_path: Path) -> None:
    """The session POST carries exactly the planned title, description, tags, language
    (the example's ``language = "id"``) and privacy."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 3 * CHUNK + 1000)
    post = post_with(video)
    published = publish(fake, post)

    assert post.title is not None
    assert fake.session.metadata == {
        "snippet": {
            "title": post.title.text,
            "description": post.parts[0].text,
            "tags": ["KPU Musi Rawas", "Kehumasan", "Public Speaking", "Pemilu 2024"],
            "categoryId": "22",
            "defaultLanguage": "id",
        },
        "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False},
    }
    start = fake.calls(SESSION)[0]
    assert start.url.params["uploadType"] == "resumable"
    assert start.url.params["part"] == "snippet,status"
    assert start.url.params["notifySubscribers"] == "true"
    assert start.headers["x-upload-content-length"] == str(video.stat().st_size)
    assert start.headers["x-upload-content-type"] == "video/mp4"
    assert body_json(start) == fake.session.metadata
    assert published.remote_id == fake.videos[0]["id"]
    assert published.url == f"https://www.youtube.com/watch?v={published.remote_id}"


def test_token_refresh_form(tmp_path: Path) -> None:
    """The access token comes from a refresh_token grant with the client id and secret."""
    fake = FakeYouTube()
    publish(fake, post_with(make_video(tmp_path, 1000)))
    (token,) = fake.calls(r"^POST /token$")
    assert form(token) == {
        "grant_type": "refresh_token",
        "refresh_token": "1//yt-refresh-token",
        "client_id": "yt-client-id.apps.googleusercontent.com",
        "client_secret": "yt-client-secret",
    }


def test_chunks_are_contiguous_multiples_of_256k(tmp_path: Path) -> None:
    """The file goes in 256 KiB chunks with contiguous Content-Range, and arrives intact."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 4 * CHUNK + 12345)
    total = video.stat().st_size
    publish(fake, post_with(video))
    assert ranges(fake) == [
        f"bytes {a}-{min(a + CHUNK, total) - 1}/{total}" for a in range(0, total, CHUNK)
    ]
    for request in fake.calls(UPLOAD):
        assert request.headers["authorization"].startswith("Bearer ya29.")
        assert request.headers["content-type"] == "video/mp4"
    assert fake.session.sha256 == sha256(video)
    assert len(fake.videos) == 1


def test_chunk_size_setting(tmp_path: Path) -> None:
    """chunk_size sets the chunk length; the default is 8 MiB (one chunk for a small file)."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 3 * CHUNK)
    publish(fake, post_with(video), chunk_size=2 * CHUNK)
    assert len(fake.calls(UPLOAD)) == 2
    fake = FakeYouTube()
    publish(fake, post_with(video), chunk_size=YouTubeSettings().chunk_size)
    assert ranges(fake) == [f"bytes 0-{3 * CHUNK - 1}/{3 * CHUNK}"]


def test_chunk_size_must_be_a_multiple_of_256k() -> None:
    """A chunk_size that is not a multiple of 262,144 bytes is refused in config."""
    with pytest.raises(pydantic.ValidationError, match="multiple of 262144"):
        YouTubeSettings(chunk_size=1_000_000)


def test_settings_reach_the_request(tmp_path: Path) -> None:
    """notify_subscribers, category_id, made_for_kids and default_language are sent."""
    fake = FakeYouTube()
    publish(
        fake,
        post_with(make_video(tmp_path, 1000)),
        notify_subscribers=False,
        category_id="25",
        made_for_kids=True,
        default_language="id",
    )
    assert fake.calls(SESSION)[0].url.params["notifySubscribers"] == "false"
    snippet = fake.session.metadata["snippet"]
    assert (snippet["categoryId"], snippet["defaultLanguage"]) == ("25", "id")
    assert fake.session.metadata["status"]["selfDeclaredMadeForKids"] is True


def test_progress_reported(tmp_path: Path) -> None:
    """Progress gets the step, the upload's size and every byte sent."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 2 * CHUNK + 7)
    progress = Recorder()
    publish(fake, post_with(video), progress=progress)
    assert progress.steps == ["uploading video"]
    assert progress.started == [video.stat().st_size]
    assert progress.sent == video.stat().st_size


def test_unaudited_project_video_is_private(tmp_path: Path) -> None:
    """A public post is asked for as planned; an unaudited project's video comes back private."""
    fake = FakeYouTube(unaudited=True)
    post = post_with(make_video(tmp_path, 1000), options={"privacy_status": "public"})
    published = publish(fake, post)
    assert fake.session.metadata["status"]["privacyStatus"] == "public"
    assert fake.videos[0]["status"]["privacyStatus"] == "private"
    assert published.remote_id == fake.videos[0]["id"]


# -- credentials and auth -----------------------------------------------------


def test_missing_credential_names_the_variable(tmp_path: Path) -> None:
    """A missing refresh token is a CredentialsError naming the variable, before any request."""
    fake = FakeYouTube()
    env = {k: v for k, v in ENV.items() if not k.endswith("REFRESH_TOKEN")}
    with pytest.raises(CredentialsError, match="CROSSPOST_YOUTUBE_REFRESH_TOKEN"):
        publish(fake, post_with(make_video(tmp_path, 1000)), env=env)
    assert fake.requests == []


def test_invalid_grant_is_auth_error(tmp_path: Path) -> None:
    """An expired refresh token (Testing consent screen) is an AuthError giving the likely
    causes and the login command; the variable it came from is named."""
    fake = FakeYouTube(testing_mode_expired=True)
    with pytest.raises(AuthError) as caught:
        publish(fake, post_with(make_video(tmp_path, 1000)))
    message = str(caught.value)
    assert "expired or was revoked" in message
    assert "7 days" in message
    assert '"Testing"' in message
    assert "crosspost auth login youtube" in message
    assert "unset CROSSPOST_YOUTUBE_REFRESH_TOKEN" in message
    assert "1//yt-refresh-token" not in message
    assert fake.calls(SESSION) == []


def test_wrong_client_secret_is_auth_error(tmp_path: Path) -> None:
    """A refused OAuth client is an AuthError naming the variables to check."""
    fake = FakeYouTube(client_secret="another-secret")
    with pytest.raises(AuthError, match="CROSSPOST_YOUTUBE_CLIENT_SECRET"):
        publish(fake, post_with(make_video(tmp_path, 1000)))


def test_expired_access_token_is_auth_error(tmp_path: Path) -> None:
    """A 401 on the upload with a freshly refreshed token is an AuthError; nothing created."""
    fake = FakeYouTube(access_token_lifetime=0)
    with pytest.raises(AuthError, match="crosspost auth login youtube") as caught:
        publish(fake, post_with(make_video(tmp_path, 1000)))
    assert caught.value.status == 401
    assert "ya29." not in str(caught.value)
    assert fake.videos == []


def test_token_expiring_mid_upload_is_refreshed(tmp_path: Path) -> None:
    """An access token that expires during a long upload is refreshed and the upload resumes."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 3 * CHUNK + 5)
    expired: list[bool] = []

    def hook(request: httpx.Request, response: httpx.Response) -> None:
        if response.status_code == 308 and not expired:
            expired.append(True)
            fake.expire_tokens()

    asyncio.run(_publish(post_with(video), wrapped(fake, hook)))
    assert len(fake.calls(r"^POST /token$")) == 2
    assert len(fake.videos) == 1
    assert fake.session.sha256 == sha256(video)


def test_a_refresh_failing_after_the_final_chunk_went_out_is_unknown(tmp_path: Path) -> None:
    """The final chunk lands but its answer is a 503; the access token then expires and
    Google's sign-in stays busy (429): the session cannot be asked, and the video does
    exist, so the outcome is unknown, never a transient "nothing was published"."""
    fake = FakeYouTube()
    fake.fail_chunk(
        1, 503, json=google_error(503, "backendError", "Backend Error").json(), after=True
    )

    def hook(request: httpx.Request, response: httpx.Response) -> None:
        if request.method == "PUT" and response.status_code == 503:
            fake.expire_tokens()
            fake.fail(r"^POST /token$", 429, json={"error": "rate_limit_exceeded"}, times=50)

    with pytest.raises(UnknownOutcomeError, match="may or may not have been published"):
        asyncio.run(_publish(post_with(make_video(tmp_path, 1000)), wrapped(fake, hook)))
    assert len(fake.videos) == 1


def test_no_channel_is_auth_error(tmp_path: Path) -> None:
    """youtubeSignupRequired says the account has no YouTube channel."""
    fake = FakeYouTube(has_channel=False)
    with pytest.raises(AuthError, match="the account has no YouTube channel"):
        publish(fake, post_with(make_video(tmp_path, 1000)))


def test_missing_upload_scope_is_auth_error(tmp_path: Path) -> None:
    """insufficientPermissions names the youtube.upload scope."""
    fake = FakeYouTube(scope="https://www.googleapis.com/auth/youtube.readonly")
    with pytest.raises(AuthError, match=r"youtube\.upload"):
        publish(fake, post_with(make_video(tmp_path, 1000)))


# -- rate limits and quota ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"), [(429, "rateLimitExceeded"), (403, "userRateLimitExceeded")]
)
def test_rate_limit_is_retried(tmp_path: Path, status: int, reason: str) -> None:
    """A rate-limited session start with Retry-After is retried, then succeeds."""
    fake = FakeYouTube()
    fake.fail("POST /upload", status, json=rate_limit(status, reason), headers={"Retry-After": "1"})
    publish(fake, post_with(make_video(tmp_path, 1000)))
    assert len(fake.calls(SESSION)) == 2
    assert len(fake.videos) == 1


def test_rate_limited_chunk_probes_then_resumes(tmp_path: Path) -> None:
    """A 429 on a chunk is followed by a probe, not a blind resend; one video results."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 3 * CHUNK)
    fake.fail_chunk(2, 429, json=rate_limit(429, "rateLimitExceeded"))
    publish(fake, post_with(video))
    assert f"bytes */{3 * CHUNK}" in ranges(fake)
    assert fake.session.sha256 == sha256(video)
    assert len(fake.videos) == 1


def test_quota_exceeded_is_rate_limited(tmp_path: Path) -> None:
    """quotaExceeded is a RateLimitedError saying the quota resets at midnight Pacific Time."""
    fake = FakeYouTube(insert_quota=0)
    with pytest.raises(RateLimitedError) as caught:
        publish(fake, post_with(make_video(tmp_path, 1000)))
    message = str(caught.value)
    assert "YouTube API quota used up" in message
    assert "midnight Pacific Time" in message
    assert "<a href" not in message
    assert caught.value.retry_after is not None
    assert 0 <= caught.value.retry_after <= 25 * 3600
    assert fake.videos == []


def test_upload_limit_is_rate_limited(tmp_path: Path) -> None:
    """uploadLimitExceeded (the channel's daily cap) is a RateLimitedError, not retried now."""
    fake = FakeYouTube()
    body = google_error(
        400, "uploadLimitExceeded", "The user has exceeded the number of videos they may upload."
    ).json()
    fake.fail("POST /upload", 400, json=body)
    with pytest.raises(RateLimitedError, match="daily upload limit"):
        publish(fake, post_with(make_video(tmp_path, 1000)))
    assert len(fake.calls(SESSION)) == 1


# -- invalid content ----------------------------------------------------------


def test_invalid_title_is_invalid_content(tmp_path: Path) -> None:
    """A title over 100 characters is refused by YouTube: InvalidContentError with its message."""
    fake = FakeYouTube()
    post = post_with(make_video(tmp_path, 1000), title=Part("x" * 101, 101, 100))
    with pytest.raises(InvalidContentError) as caught:
        publish(fake, post)
    assert "title" in str(caught.value)
    assert "invalid video title" in str(caught.value)
    assert len(fake.calls(SESSION)) == 1
    assert fake.calls(UPLOAD) == []


def test_invalid_category_is_invalid_content(tmp_path: Path) -> None:
    """An unknown category_id is an InvalidContentError pointing at the config key."""
    fake = FakeYouTube()
    with pytest.raises(InvalidContentError, match="category_id"):
        publish(fake, post_with(make_video(tmp_path, 1000)), category_id="9999")


def test_empty_video_refused_before_any_request(tmp_path: Path) -> None:
    """An empty video file is refused locally; nothing is sent."""
    fake = FakeYouTube()
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InvalidContentError, match="empty"):
        publish(fake, post_with(empty))
    assert fake.requests == []


# -- faults during the upload -------------------------------------------------


def test_503_on_chunk_probes_and_resumes(tmp_path: Path) -> None:
    """A 503 on a chunk: probe (bytes */N), resend from the server's offset; one video."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 3 * CHUNK + 99)
    total = video.stat().st_size
    fake.fail_chunk(2, 503, json=google_error(503, "backendError", "Backend Error").json())
    publish(fake, post_with(video))
    assert ranges(fake) == [
        f"bytes 0-{CHUNK - 1}/{total}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{total}",
        f"bytes */{total}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{total}",
        f"bytes {2 * CHUNK}-{3 * CHUNK - 1}/{total}",
        f"bytes {3 * CHUNK}-{total - 1}/{total}",
    ]
    assert len(fake.sessions) == 1
    assert len(fake.videos) == 1
    assert fake.session.sha256 == sha256(video)


def test_dropped_connection_mid_chunk_resumes(tmp_path: Path) -> None:
    """A connection dropped before the chunk landed: probe, resend it; exactly one video."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 3 * CHUNK)
    fake.fail_chunk(2, drop=True)
    publish(fake, post_with(video))
    assert len(fake.videos) == 1
    assert fake.session.sha256 == sha256(video)


def test_trusts_server_range_after_lost_answer(tmp_path: Path) -> None:
    """A chunk that landed but whose answer was lost is not sent again (the probe's Range)."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 3 * CHUNK)
    total = 3 * CHUNK
    fake.fail_chunk(2, drop=True, after=True)
    publish(fake, post_with(video))
    assert ranges(fake) == [
        f"bytes 0-{CHUNK - 1}/{total}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{total}",
        f"bytes */{total}",
        f"bytes {2 * CHUNK}-{total - 1}/{total}",
    ]
    assert fake.session.sha256 == sha256(video)


def test_final_answer_lost_probe_finds_the_video(tmp_path: Path) -> None:
    """The final chunk landed but its answer was lost: the probe's 201 gives the one video."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 1000)  # one chunk: the first PUT is the final one
    fake.fail(UPLOAD, drop=True, after=True)
    published = publish(fake, post_with(video))
    assert len(fake.videos) == 1
    assert published.remote_id == fake.videos[0]["id"]
    assert ranges(fake) == ["bytes 0-999/1000", "bytes */1000"]


def test_final_chunk_of_many_lost_after_landing(tmp_path: Path) -> None:
    """The last of several chunks lands, its answer is lost: exactly one video, no resend."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 2 * CHUNK + 10)
    fake.fail_chunk(3, drop=True, after=True)
    published = publish(fake, post_with(video))
    assert len(fake.videos) == 1
    assert published.remote_id == fake.videos[0]["id"]
    assert len(fake.calls(UPLOAD)) == 4  # three chunks and one probe


def test_final_chunk_and_probe_failing_is_unknown_outcome(tmp_path: Path) -> None:
    """When the final chunk's answer is lost and the probe fails too, the outcome is unknown."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 1000)
    fake.fail(UPLOAD, drop=True, after=True)
    fake.fail(UPLOAD, 503, times=50)
    with pytest.raises(UnknownOutcomeError) as caught:
        publish(fake, post_with(video))
    message = str(caught.value)
    # The session URI's upload_id lets anyone finish the upload: never shown.
    assert fake.session.upload_id not in message
    assert "YouTube Studio" in message
    assert "ya29." not in message
    assert len(fake.videos) == 1  # it did land: hence "unknown", never a resend


def test_non_final_chunk_and_probe_failing_is_transient(tmp_path: Path) -> None:
    """When a middle chunk and its probes fail, nothing was published: a TransientError."""
    fake = FakeYouTube()
    fake.fail_chunk(1, 503)
    fake.fail(UPLOAD, 503, times=50)
    with pytest.raises(TransientError) as caught:
        publish(fake, post_with(make_video(tmp_path, 3 * CHUNK)))
    assert not isinstance(caught.value, UnknownOutcomeError)
    assert fake.videos == []


def test_expired_session_restarts_once(tmp_path: Path) -> None:
    """A 404 on the session starts one new session from byte 0; exactly one video."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 3 * CHUNK)
    fake.fail_chunk(2, 404, json=google_error(404, "notFound", "Not Found").json())
    progress = Recorder()
    publish(fake, post_with(video), progress=progress)
    assert len(fake.calls(SESSION)) == 2
    assert len(fake.videos) == 1
    assert fake.session.sha256 == sha256(video)
    assert ranges(fake)[2] == f"bytes 0-{CHUNK - 1}/{3 * CHUNK}"
    assert progress.started == [3 * CHUNK, 3 * CHUNK]


def test_expired_session_twice_is_transient(tmp_path: Path) -> None:
    """A session that expires again after the restart fails the platform; nothing published."""
    fake = FakeYouTube()

    def hook(request: httpx.Request, response: httpx.Response) -> None:
        if response.status_code == 308:
            fake.expire_session()

    with pytest.raises(TransientError, match="expired twice"):
        asyncio.run(_publish(post_with(make_video(tmp_path, 3 * CHUNK)), wrapped(fake, hook)))
    assert len(fake.calls(SESSION)) == 2
    assert fake.videos == []


@pytest.mark.parametrize(
    "fault",
    [
        {"drop": True, "times": 100},
        {"status": 500, "times": 100},
        {"status": 502, "json": None, "times": 100},
    ],
)
def test_no_raw_httpx_exception_escapes(tmp_path: Path, fault: dict[str, Any]) -> None:
    """Whatever the network does, the error is a PlatformError, never an httpx exception."""
    fake = FakeYouTube()
    fake.fail(".*", **fault)
    with pytest.raises(PlatformError) as caught:
        publish(fake, post_with(make_video(tmp_path, 1000)))
    assert isinstance(caught.value, TransientError)
    assert fake.videos == []


def test_no_raw_httpx_exception_mid_upload(tmp_path: Path) -> None:
    """A drop on every upload request after the session starts is a PlatformError too."""
    fake = FakeYouTube()
    fake.fail(UPLOAD, drop=True, times=100)
    with pytest.raises(PlatformError):
        publish(fake, post_with(make_video(tmp_path, 3 * CHUNK)))
    assert fake.videos == []


# -- the journal and reconcile ------------------------------------------------


def test_session_journaled_then_sending_right_before_the_final_chunk(tmp_path: Path) -> None:
    """The session (and size) once it exists; ``sending`` before the final chunk arrives;
    no token or secret in any handle."""
    fake = FakeYouTube()
    total = 3 * CHUNK
    journal = RecordingJournal(lambda: final_chunks(fake))
    asyncio.run(_publish(post_with(make_video(tmp_path, total)), fake.transport(), journal=journal))
    [(kind, handles, seen), sending] = journal.events
    assert (kind, seen) == ("remember", 0)
    assert handles["size"] == total and handles["final_sent"] is False
    assert f"upload_id={fake.session.upload_id}" in handles["session"]
    assert sending == ("sending", {"final_sent": True}, 0)
    assert final_chunks(fake) == 1
    text = json.dumps(journal.events)
    for secret in [*fake.tokens, fake.client_secret, fake.refresh_token]:
        assert secret not in text


def test_session_upload_id_is_never_shown(tmp_path: Path) -> None:
    """The session URI is a capability: redaction masks its upload_id; no step names it."""
    fake = FakeYouTube()
    journal = RecordingJournal()
    progress = Recorder()
    asyncio.run(
        _publish(
            post_with(make_video(tmp_path, 1000)),
            fake.transport(),
            journal=journal,
            progress=progress,
        )
    )
    session = journal.handles()["session"]
    assert fake.session.upload_id not in redact(f"upload at {session} failed")
    assert not any(fake.session.upload_id in step for step in progress.steps)


def test_reconcile_finds_the_video_when_the_final_chunk_landed(tmp_path: Path) -> None:
    """The run died after the final chunk landed: the session's 201 gives the one video."""
    fake = FakeYouTube()
    post = post_with(make_video(tmp_path, 3 * CHUNK))
    journal = crashed(fake, post, act=True, nth=3)
    [video] = fake.videos
    found = reconcile(fake, post, journal.sent())
    assert found == Published(video["id"], f"https://www.youtube.com/watch?v={video['id']}")
    assert ranges(fake)[-1] == f"bytes */{3 * CHUNK}"
    assert len(fake.videos) == 1


def test_reconcile_of_an_incomplete_upload_is_not_published(tmp_path: Path) -> None:
    """The final chunk never arrived: the session answers 308, so None; publishing again
    makes exactly one video."""
    fake = FakeYouTube()
    post = post_with(make_video(tmp_path, 3 * CHUNK))
    journal = crashed(fake, post, act=False, nth=3)
    assert journal.handles()["final_sent"] is True
    assert reconcile(fake, post, journal.sent()) is None
    assert fake.videos == []
    publish(fake, post)
    assert len(fake.videos) == 1


def test_reconcile_without_a_session_is_not_published(tmp_path: Path) -> None:
    """No session handle: no byte was sent, so no video; nothing is asked."""
    fake = FakeYouTube()
    post = post_with(make_video(tmp_path, 1000))
    assert reconcile(fake, post, Sent(datetime.now(UTC), {})) is None
    assert fake.requests == []


def test_reconcile_of_a_session_gone_after_the_final_chunk_is_unknown(tmp_path: Path) -> None:
    """The session expired after the final chunk went out: only the channel can tell."""
    fake = FakeYouTube()
    post = post_with(make_video(tmp_path, 3 * CHUNK))
    journal = crashed(fake, post, act=True, nth=3)
    fake.expire_session()
    with pytest.raises(UnknownOutcomeError, match="YouTube Studio") as caught:
        reconcile(fake, post, journal.sent())
    assert fake.session.upload_id not in str(caught.value)


def test_reconcile_of_a_session_gone_before_the_final_chunk_is_not_published(
    tmp_path: Path,
) -> None:
    """The session expired and the final chunk never went out: no video was made: None."""
    fake = FakeYouTube()
    post = post_with(make_video(tmp_path, 3 * CHUNK))
    journal = crashed(fake, post, act=True, nth=2)
    assert journal.handles()["final_sent"] is False
    fake.expire_session()
    assert reconcile(fake, post, Sent(datetime.now(UTC), journal.handles())) is None


def test_reconcile_when_the_session_cannot_be_asked_is_unknown(tmp_path: Path) -> None:
    """The probe keeps failing: UnknownOutcomeError, without the upload_id or any secret."""
    fake = FakeYouTube()
    post = post_with(make_video(tmp_path, 3 * CHUNK))
    journal = crashed(fake, post, act=True, nth=3)
    fake.fail(UPLOAD, 503, times=50)
    with pytest.raises(UnknownOutcomeError, match="cannot be asked") as caught:
        reconcile(fake, post, journal.sent())
    message = str(caught.value)
    assert fake.session.upload_id not in message
    assert fake.refresh_token not in message and "ya29." not in message


# -- over real loopback HTTP --------------------------------------------------


def test_loopback_upload_with_dropped_connection(tmp_path: Path) -> None:
    """Over real HTTP: chunked upload, a really closed socket mid-upload, one intact video."""
    fake = FakeYouTube()
    video = make_video(tmp_path, 3 * CHUNK + 4321)
    fake.fail_chunk(2, drop=True)

    async def run(origin: str) -> Published:
        async with httpx.AsyncClient() as client:
            config = YouTubeSettings(api_base=origin, chunk_size=CHUNK)
            ctx = PublishContext(
                client=client,
                platform="youtube",
                settings=config,
                credentials=Credentials("youtube", environ=ENV),
                poll_interval=0,
            )
            return await YouTubeAdapter(config).publish(post_with(video), ctx)

    with serve(fake) as origin:
        published = asyncio.run(run(origin))
    assert len(fake.videos) == 1
    assert published.remote_id == fake.videos[0]["id"]
    assert fake.session.sha256 == sha256(video)
    assert fake.calls(SESSION)[0].url.host == "127.0.0.1"
    assert f"bytes */{3 * CHUNK + 4321}" in ranges(fake)
    for request in fake.calls(UPLOAD):  # Google wants a Content-Length, not chunked encoding
        assert "transfer-encoding" not in request.headers
        assert request.headers["content-length"].isdigit()


# -- visibility ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("privacy", "shown"),
    [
        ("private", "only the channel (YouTube private)"),
        ("unlisted", "people with the link (YouTube unlisted)"),
        ("public", None),
    ],
)
def test_a_video_that_is_not_public_says_who_sees_it(privacy: str, shown: str | None) -> None:
    """The plan says who will see the video (preview and results show it); public: None."""
    from crosspost.config import load_config
    from crosspost.loader import load_announcement

    config = load_config(EXAMPLE / "crosspost.toml")
    loaded = load_announcement(EXAMPLE / "announcement.toml", config)
    post = YouTubeAdapter(YouTubeSettings(privacy_status=privacy)).render(loaded, config)  # type: ignore[arg-type]
    assert post.visibility == shown
    assert planned().visibility == "only the channel (YouTube private)"  # the example's


# -- language and title, from the announcement ---------------------------------------


def announce(tmp_path: Path, head: str, media: str = "media/humas.mp4", **settings: Any) -> Post:
    """The YouTube post of an announcement whose first lines are ``head``."""
    (tmp_path / "media").mkdir(exist_ok=True)
    name = Path(media).name
    (tmp_path / "media" / name).write_bytes((EXAMPLE / "media" / name).read_bytes())
    file = tmp_path / "announcement.toml"
    file.write_text(
        f'{head}\nbody = "🎉 #TemanPemilih Sosialisasi hari ini #KPUMelayani"\n'
        f'targets = ["youtube"]\n[[media]]\npath = "{media}"\n',
        encoding="utf-8",
    )
    plan = plan_file(file, only=["youtube"])
    if not settings:
        return plan.posts[0]
    return YouTubeAdapter(YouTubeSettings(**settings)).render(plan.loaded, plan.config)


def test_the_announcements_language_is_the_videos_default_language(tmp_path: Path) -> None:
    """``language = "id"`` is planned (preview shows it), sent as snippet.defaultLanguage
    and kept by YouTube on the video; defaultAudioLanguage is not claimed from it."""
    post = announce(tmp_path, 'title = "Sosialisasi"\nlanguage = "id"')
    assert post.extra["language"] == "id"
    assert post.to_json()["language"] == "id"
    fake = FakeYouTube()
    publish(fake, dataclasses.replace(post_with(make_video(tmp_path, 1000)), extra=post.extra))
    snippet = fake.session.metadata["snippet"]
    assert snippet["defaultLanguage"] == "id"
    assert "defaultAudioLanguage" not in snippet
    assert fake.videos[0]["snippet"]["defaultLanguage"] == "id"


def test_the_announcements_language_wins_over_default_language(tmp_path: Path) -> None:
    """An announcement in English on a channel whose default is Indonesian says English."""
    post = announce(
        tmp_path, 'title = "Voter education"\nlanguage = "en-GB"', default_language="id"
    )
    assert post.extra["language"] == "en-GB"


def test_default_language_applies_when_the_announcement_has_none(tmp_path: Path) -> None:
    """No ``language`` in the announcement: config's default_language; neither: none."""
    assert (
        announce(tmp_path, 'title = "Sosialisasi"', default_language="id").extra["language"] == "id"
    )
    assert "language" not in announce(tmp_path, 'title = "Sosialisasi"').extra


def test_a_language_youtube_does_not_list_is_left_out_with_a_warning(tmp_path: Path) -> None:
    """A private-use BCP-47 tag the announcement accepts is not sent (YouTube would refuse
    the upload); the preview says so."""
    post = announce(tmp_path, 'title = "Sosialisasi"\nlanguage = "id-x-kpu"')
    assert "language" not in post.extra
    assert any('language "id-x-kpu"' in w for w in post.warnings)
    assert post.problems == ()


def test_default_language_setting_must_be_a_language_tag() -> None:
    """A typo in config (a language's name instead of its code) is refused at load time."""
    with pytest.raises(pydantic.ValidationError, match="default_language"):
        YouTubeSettings(default_language="Bahasa Indonesia")
    assert YouTubeSettings(default_language="zh-Hans").default_language == "zh-Hans"


def test_fake_refuses_a_malformed_default_language(tmp_path: Path) -> None:
    """The fake, like YouTube, takes only a language tag: the upload is refused, readably,
    before a byte of the video is sent."""
    fake = FakeYouTube()
    post = post_with(make_video(tmp_path, 1000), extra={"tags": [], "language": "indonesian"})
    with pytest.raises(InvalidContentError, match="Invalid defaultLanguage"):
        publish(fake, post)
    assert fake.sessions == {}
    assert fake.calls(UPLOAD) == []


def test_without_a_title_youtube_gets_a_problem_not_the_bodys_first_line(
    tmp_path: Path,
) -> None:
    """No ``title``: the body's first line (emoji and hashtags) is not made a title; the
    post has none and a problem that says what to add."""
    post = announce(tmp_path, 'language = "id"')
    assert post.title is None
    assert [p for p in post.problems if "title" in p] == [
        'YouTube needs a title: add title = "…" to the announcement '
        "(or to its [platforms.youtube] table)"
    ]
    assert post.parts[0].text.startswith("🎉 #TemanPemilih")


def test_a_title_made_of_spaces_is_no_title(tmp_path: Path) -> None:
    """A blank title counts as none: a problem, never an empty snippet.title."""
    post = announce(tmp_path, 'title = "   "')
    assert post.title is None
    assert any("title" in p for p in post.problems)


def test_youtube_needs_a_title_and_a_video() -> None:
    """title_required is always true; without a video YouTube is unsuitable, with the
    reason preview lists for an announcement without targets."""
    adapter = YouTubeAdapter()
    image = MediaFile(name="a.jpg", kind="image", mime="image/jpeg", path=None, size=10)
    video = MediaFile(name="a.mp4", kind="video", mime="video/mp4", path=None, size=10)
    assert adapter.title_required([video]) and adapter.title_required([])
    assert adapter.unsuitable([image]) == "no video: YouTube posts videos"
    assert adapter.unsuitable([]) == "no video: YouTube posts videos"
    assert adapter.unsuitable([image, video]) is None


def test_publish_without_a_title_sends_nothing(tmp_path: Path) -> None:
    """A post without a title (a plan with its problem ignored) is refused before any
    request: YouTube would refuse it after the quota was spent."""
    fake = FakeYouTube()
    with pytest.raises(InvalidContentError, match="title"):
        publish(fake, post_with(make_video(tmp_path, 1000), title=None))
    assert fake.requests == []
