"""TikTok publishing against FakeTikTok: the plan goes out exactly as planned, once."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

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
from crosspost.media import MediaFile, video_duration
from crosspost.planning import plan_file
from crosspost.units import Unit
from crosspost_adapters._tiktok_api import chunk_plan
from crosspost_adapters.tiktok import TikTokAdapter, TikTokSettings
from tests.adapters.support import Crashed, RecordingJournal, crash_at
from tests.conftest import EXAMPLE
from tests.fakes.base import body_json
from tests.fakes.server import serve
from tests.fakes.tiktok import FakeTikTok, chunk_rule_problem, utf16

TOKEN = "tiktok-access-token"
ENV = {"CROSSPOST_TIKTOK_ACCESS_TOKEN": TOKEN}
MIB = 1024 * 1024
INIT = r"POST /v2/post/publish/video/init/"
PHOTO_INIT = r"POST /v2/post/publish/content/init/"
CREATOR = r"POST /v2/post/publish/creator_info/query/"
STATUS = r"POST /v2/post/publish/status/fetch/"
PUT = r"PUT /video/"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PHOTOS = (
    "https://kab-musirawas.kpu.go.id/crosspost/a.jpg",
    "https://kab-musirawas.kpu.go.id/crosspost/b.jpg",
)


class Recorder(Progress):
    """Remembers every progress report."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.started: list[tuple[str, int]] = []
        self.sent = 0

    def step(self, platform: str, message: str) -> None:
        self.steps.append(message)

    def upload_started(self, platform: str, name: str, total: int) -> None:
        self.started.append((name, total))

    def upload_advanced(self, platform: str, name: str, sent: int) -> None:
        self.sent += sent


def run(
    fake: FakeTikTok,
    post: Post,
    *,
    env: dict[str, str] | None = None,
    poll_timeout: float = 30.0,
    progress: Progress | None = None,
    api_base: str = "http://testserver",
    client: httpx.AsyncClient | None = None,
    journal: Journal | None = None,
    **options: Any,
) -> Published:
    """Publish ``post`` through the adapter, against ``fake`` in-process (or ``client``).

    Direct mode unless ``mode`` says otherwise (these tests predate the inbox default).
    """
    options.setdefault("mode", "direct")
    config = TikTokSettings(api_base=api_base, **options)

    async def go() -> Published:
        async with client or httpx.AsyncClient(transport=fake.transport()) as http:
            ctx = PublishContext(
                client=http,
                platform="tiktok",
                settings=config,
                credentials=Credentials("tiktok", environ=ENV if env is None else env),
                progress=progress or Progress(),
                poll_interval=0,
                poll_timeout=poll_timeout,
                journal=journal or Journal(),
            )
            return await TikTokAdapter(config).publish(post, ctx)

    return asyncio.run(go())


def reconcile(fake: FakeTikTok, post: Post, sent: Sent, mode: str = "direct") -> Published | None:
    """What a later run's ``reconcile`` finds for ``post`` on ``fake``."""
    config = TikTokSettings(api_base="http://testserver", mode=mode)  # type: ignore[arg-type]

    async def go() -> Published | None:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            ctx = PublishContext(
                client=http,
                platform="tiktok",
                settings=config,
                credentials=Credentials("tiktok", environ=ENV),
                poll_interval=0,
            )
            return await TikTokAdapter(config).reconcile(post, sent, ctx)

    return asyncio.run(go())


def crashed(
    fake: FakeTikTok, post: Post, pattern: str, *, act: bool, nth: int = 1, **options: Any
) -> RecordingJournal:
    """Publish until the ``nth`` request matching ``pattern``, where the run dies."""
    journal = RecordingJournal(lambda: (len(fake.calls(INIT)), len(fake.calls(PUT))))
    client = httpx.AsyncClient(transport=crash_at(fake.transport(), pattern, act=act, nth=nth))
    with pytest.raises(Crashed):
        run(fake, post, client=client, journal=journal, **options)
    return journal


def no_secret_in(journal: RecordingJournal, fake: FakeTikTok) -> None:
    """Neither the access token nor an upload URL's token is in any handle."""
    text = json.dumps(journal.events)
    assert TOKEN not in text
    assert all(p.upload_token not in text for p in fake.posts if p.upload_token)
    assert "upload_url" not in text and "/video/?" not in text


def example_post(mode: str | None = None) -> Post:
    """The example announcement's TikTok post (a video); ``mode`` replaces the planned
    delivery (direct: SELF_ONLY, as the example's config says)."""
    plan = plan_file(EXAMPLE / "announcement.toml")
    post = next(p for p in plan.posts if p.platform == "tiktok")
    if mode == "direct":
        options = {**post.options, "mode": "direct", "privacy_level": "SELF_ONLY"}
        return dataclasses.replace(post, options=options)
    return post


def video_file(tmp_path: Path, size: int, name: str = "clip.mp4") -> Path:
    """A file of ``size`` patterned bytes (not a real video: the fake does not decode)."""
    path = tmp_path / name
    block = bytes(range(256)) * 4096  # 1 MiB
    with path.open("wb") as handle:
        left = size
        while left:
            handle.write(block[: min(left, len(block))])
            left -= min(left, len(block))
    return path


def video_post(
    path: Path, text: str = "Sosialisasi Pemilu 2024 #KPUMelayani", privacy: str = "SELF_ONLY"
) -> Post:
    """A hand-built video post for ``path``."""
    media = MediaFile(path.name, "video", "video/mp4", path=path, size=path.stat().st_size)
    return Post(
        platform="tiktok",
        unit=Unit.UTF16,
        parts=(Part(text, utf16(text), 2200),),
        media=(media,),
        extra={"mode": "video"},
        options={"privacy_level": privacy},
    )


def photo_post(
    urls: tuple[str, ...] = PHOTOS,
    title: str = "Penguatan Peran Kehumasan",
    text: str = "KPU Musi Rawas mengikuti pelatihan public speaking #TemanPemilih",
    privacy: str = "SELF_ONLY",
) -> Post:
    """A hand-built photo post pulling ``urls``."""
    media = tuple(MediaFile(u.rsplit("/", 1)[1], "image", "image/jpeg", url=u) for u in urls)
    return Post(
        platform="tiktok",
        unit=Unit.UTF16,
        parts=(Part(text, utf16(text), 4000),),
        title=Part(title, utf16(title), 90),
        media=media,
        extra={"mode": "photo"},
        options={"privacy_level": privacy},
    )


def init_body(fake: FakeTikTok, pattern: str = INIT) -> Any:
    """The JSON body of the one init call."""
    calls = fake.calls(pattern)
    assert len(calls) == 1
    return body_json(calls[0])


def sha(path: Path) -> str:
    """SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the chunk plan (pure) ---------------------------------------------------------------


def test_chunk_plan_matches_the_doc_example() -> None:
    """50,000,123 bytes in 10,000,000-byte chunks: 5 chunks, the last 10,000,123 bytes."""
    plan = chunk_plan(50_000_123, 10_000_000)
    assert (plan.video_size, plan.chunk_size, plan.total_chunk_count) == (50_000_123, 10**7, 5)
    assert plan.ranges[-1] == (40_000_000, 50_000_123)
    assert plan.ranges[-1][1] - plan.ranges[-1][0] == 10_000_123


def test_chunk_plan_sends_a_small_file_whole() -> None:
    """A file under 5 MB (and one under chunk_size) goes as one chunk with chunk_size = size."""
    assert chunk_plan(158_726, 10_000_000).ranges == ((0, 158_726),)
    plan = chunk_plan(7_000_000, 10_000_000)
    assert (plan.chunk_size, plan.total_chunk_count, plan.ranges) == (
        7_000_000,
        1,
        ((0, 7 * 10**6),),
    )


def test_chunk_plan_exact_multiple_and_remainder_absorbed() -> None:
    """An exact multiple gives equal chunks; a remainder smaller than a chunk joins the last."""
    assert chunk_plan(30_000_000, 10_000_000).ranges == (
        (0, 10**7),
        (10**7, 2 * 10**7),
        (2 * 10**7, 3 * 10**7),
    )
    assert chunk_plan(19_999_999, 10_000_000).ranges == ((0, 19_999_999),)


def test_chunk_plan_refuses_what_tiktok_refuses() -> None:
    """An empty file, a chunk size outside 5-64 MB, or more than 1000 chunks is a ValueError."""
    for size, chunk in ((0, 10**7), (10**8, 1_000_000), (10**8, 65_000_000), (6 * 10**9, 5 * MIB)):
        with pytest.raises(ValueError, match=r"empty|outside|chunks"):
            chunk_plan(size, chunk)


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=4_000_000_000),
    chunk=st.integers(min_value=5 * MIB, max_value=64_000_000),
)
def test_chunk_plan_always_obeys_the_fakes_rules(size: int, chunk: int) -> None:
    """Every plan covers the file contiguously and passes the fake's independent rule check."""
    plan = chunk_plan(size, chunk)
    assert plan.ranges[0][0] == 0 and plan.ranges[-1][1] == size
    assert all(a[1] == b[0] for a, b in zip(plan.ranges, plan.ranges[1:], strict=False))
    assert len(plan.ranges) == plan.total_chunk_count
    assert chunk_rule_problem(size, plan.chunk_size, plan.total_chunk_count) is None


def test_chunk_size_setting_is_validated() -> None:
    """[platforms.tiktok] chunk_size outside TikTok's 5-64 MB is a config error."""
    assert TikTokSettings().chunk_size == 10_000_000
    for bad in (1_000_000, 100_000_000):
        with pytest.raises(ValidationError):
            TikTokSettings(chunk_size=bad)


def test_video_duration_reads_the_mp4_header(tmp_path: Path) -> None:
    """The example MP4 is 4 seconds long; a file without an mvhd box has no known duration."""
    assert video_duration(EXAMPLE / "media" / "humas.mp4") == 4.0
    assert video_duration(video_file(tmp_path, 1000)) is None


# -- happy paths -------------------------------------------------------------------------


def test_example_video_is_posted_exactly_as_planned() -> None:
    """Direct mode: the example's caption, privacy and toggles go out verbatim; the bytes
    arrive intact."""
    fake = FakeTikTok()
    post = example_post("direct")
    published = run(fake, post)
    body = init_body(fake)
    size = (EXAMPLE / "media" / "humas.mp4").stat().st_size
    assert body["post_info"] == {
        "title": post.parts[0].text,
        "privacy_level": "SELF_ONLY",
        "disable_comment": False,
        "disable_duet": False,
        "disable_stitch": False,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
    }
    assert body["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": size,
        "total_chunk_count": 1,
    }
    assert len(fake.posts) == 1 and fake.published == fake.posts
    assert fake.posts[0].digest == sha(EXAMPLE / "media" / "humas.mp4")
    put = fake.calls(PUT)[0]
    assert put.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
    assert put.headers["content-type"] == "video/mp4"
    assert "authorization" not in put.headers  # the upload URL carries its own token
    # SELF_ONLY posts never get a public id: the publish_id is the handle.
    assert published == Published(fake.posts[0].publish_id, None, (fake.posts[0].publish_id,))


def test_public_video_returns_its_public_url(tmp_path: Path) -> None:
    """A public post is returned with its public id and https://www.tiktok.com/@user/video/id."""
    fake = FakeTikTok(username="kpumura")
    published = run(fake, video_post(video_file(tmp_path, 2000), privacy="PUBLIC_TO_EVERYONE"))
    post_id = fake.posts[0].post_id
    assert published.remote_id == post_id
    assert published.url == f"https://www.tiktok.com/@kpumura/video/{post_id}"
    assert published.ids == (fake.posts[0].publish_id, post_id)


def test_chunked_upload_sends_exact_ranges_in_order(tmp_path: Path) -> None:
    """A 16 MiB file in 5 MiB chunks: 3 PUTs, the last absorbing the remainder; progress adds up."""
    size = 16 * MIB + 123
    path = video_file(tmp_path, size)
    fake = FakeTikTok()
    progress = Recorder()
    run(fake, video_post(path), chunk_size=5 * MIB, progress=progress)
    body = init_body(fake)
    assert body["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": 5 * MIB,
        "total_chunk_count": 3,
    }
    ranges = [r.headers["content-range"] for r in fake.calls(PUT)]
    assert ranges == [
        f"bytes 0-{5 * MIB - 1}/{size}",
        f"bytes {5 * MIB}-{10 * MIB - 1}/{size}",
        f"bytes {10 * MIB}-{size - 1}/{size}",
    ]
    assert [r.headers["content-length"] for r in fake.calls(PUT)] == [
        str(5 * MIB),
        str(5 * MIB),
        str(size - 10 * MIB),
    ]
    assert fake.posts[0].digest == sha(path)
    assert progress.started == [("clip.mp4", size)] and progress.sent == size
    assert "uploading video" in progress.steps


def test_photo_post_sends_title_description_and_urls() -> None:
    """A photo post pulls the plan's URLs with its title and description, DIRECT_POST."""
    fake = FakeTikTok()
    for url in PHOTOS:
        fake.media[url] = JPEG
    post = photo_post()
    published = run(fake, post)
    body = init_body(fake, PHOTO_INIT)
    assert body == {
        "post_info": {
            "title": post.title.text if post.title else None,
            "description": post.parts[0].text,
            "privacy_level": "SELF_ONLY",
            "disable_comment": False,
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
        },
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": list(PHOTOS),
            "photo_cover_index": 0,
        },
        "post_mode": "DIRECT_POST",
        "media_type": "PHOTO",
    }
    assert fake.published[0].media_type == "PHOTO"
    assert published.remote_id == fake.posts[0].publish_id


def test_creator_disabled_interactions_stay_disabled(tmp_path: Path) -> None:
    """When the creator turned comments/duets/stitches off in the app, the post keeps them off."""
    fake = FakeTikTok(comment_disabled=True, duet_disabled=True, stitch_disabled=True)
    run(fake, video_post(video_file(tmp_path, 1000)))
    info = init_body(fake)["post_info"]
    assert info["disable_comment"] and info["disable_duet"] and info["disable_stitch"]


def test_loopback_server_end_to_end() -> None:
    """The example video goes through a real HTTP server, upload URL included."""
    fake = FakeTikTok()
    with serve(fake) as origin:
        post = example_post("direct")
        published = run(fake, post, api_base=origin, client=httpx.AsyncClient())
    assert fake.posts[0].digest == sha(EXAMPLE / "media" / "humas.mp4")
    assert published.remote_id == fake.published[0].publish_id


# -- checks before anything is created ---------------------------------------------------


def test_missing_token_names_the_variable_before_any_request(tmp_path: Path) -> None:
    """No access token: a CredentialsError naming CROSSPOST_TIKTOK_ACCESS_TOKEN, nothing sent."""
    fake = FakeTikTok()
    with pytest.raises(CredentialsError, match="CROSSPOST_TIKTOK_ACCESS_TOKEN"):
        run(fake, video_post(video_file(tmp_path, 1000)), env={})
    assert fake.requests == []


def test_privacy_level_not_offered_fails_before_init(tmp_path: Path) -> None:
    """A privacy level the account does not offer fails before init, listing the options."""
    fake = FakeTikTok(private_account=True)
    with pytest.raises(InvalidContentError) as caught:
        run(fake, video_post(video_file(tmp_path, 1000), privacy="PUBLIC_TO_EVERYONE"))
    message = str(caught.value)
    assert "FOLLOWER_OF_CREATOR, MUTUAL_FOLLOW_FRIENDS, SELF_ONLY" in message
    assert "[platforms.tiktok] privacy_level" in message
    assert fake.calls(INIT) == [] and fake.posts == []


def test_unaudited_app_offers_only_self_only(tmp_path: Path) -> None:
    """An unaudited app asking for a public post is stopped before init with the reason."""
    fake = FakeTikTok(unaudited=True, private_account=True)
    with pytest.raises(InvalidContentError, match="not audited"):
        run(fake, video_post(video_file(tmp_path, 1000), privacy="PUBLIC_TO_EVERYONE"))
    assert fake.calls(INIT) == []


def test_unaudited_app_and_public_account_is_explained(tmp_path: Path) -> None:
    """Unaudited app + public account: TikTok's 403 becomes 'set the account to private'."""
    fake = FakeTikTok(unaudited=True, private_account=False)
    with pytest.raises(InvalidContentError) as caught:
        run(fake, video_post(video_file(tmp_path, 1000)))
    assert "private" in str(caught.value) and "SELF_ONLY" in str(caught.value)
    assert len(fake.calls(INIT)) == 1 and fake.posts == []


def test_video_longer_than_allowed_fails_before_init(tmp_path: Path) -> None:
    """A video longer than max_video_post_duration_sec is refused before anything is created."""
    path = tmp_path / "humas.mp4"
    shutil.copy(EXAMPLE / "media" / "humas.mp4", path)
    fake = FakeTikTok(max_video_post_duration_sec=3)
    with pytest.raises(InvalidContentError, match=r"4 seconds long.*at most 3 seconds"):
        run(fake, video_post(path))
    assert fake.calls(INIT) == []


def test_photo_cover_index_beyond_photos_fails_early() -> None:
    """photo_cover_index must point at one of the photos; checked before any request."""
    fake = FakeTikTok()
    with pytest.raises(InvalidContentError, match="photo_cover_index"):
        run(fake, photo_post(), photo_cover_index=2)
    assert fake.requests == []


# -- auth and rate limits ----------------------------------------------------------------


def test_expired_token_is_an_auth_error_without_the_token(tmp_path: Path) -> None:
    """An expired token set in the environment (which crosspost cannot renew): AuthError
    saying to unset the variable or log in, never quoting the token; nothing posted."""
    fake = FakeTikTok()
    fake.expired_tokens.add(TOKEN)
    with pytest.raises(AuthError) as caught:
        run(fake, video_post(video_file(tmp_path, 1000)))
    message = str(caught.value)
    assert "unset CROSSPOST_TIKTOK_ACCESS_TOKEN" in message
    assert "crosspost auth login tiktok" in message and TOKEN not in message
    assert caught.value.status == 401
    assert fake.calls(INIT) == [] and len(fake.calls(CREATOR)) == 1  # no renewal attempted


def test_missing_scope_names_it(tmp_path: Path) -> None:
    """A token without video.publish: AuthError naming the missing scope."""
    fake = FakeTikTok(scopes=("user.info.basic",))
    with pytest.raises(AuthError, match=r"video.publish"):
        run(fake, video_post(video_file(tmp_path, 1000)))


def test_error_envelope_with_http_200_is_a_failure(tmp_path: Path) -> None:
    """error.code other than 'ok' fails even when the HTTP status is 200."""
    fake = FakeTikTok()
    error = {"code": "access_token_invalid", "message": "expired", "log_id": "x1"}
    fake.fail(CREATOR, 200, json={"data": {}, "error": error})
    with pytest.raises(AuthError, match="log_id x1"):
        run(fake, video_post(video_file(tmp_path, 1000)))
    assert fake.calls(INIT) == []


def test_short_429_is_waited_out(tmp_path: Path) -> None:
    """A 429 with a short Retry-After on a safe step is retried, then the post goes out once."""
    fake = FakeTikTok()
    error = {"code": "rate_limit_exceeded", "message": "slow down", "log_id": "x"}
    fake.fail(CREATOR, 429, json={"data": {}, "error": error}, headers={"Retry-After": "2"})
    run(fake, video_post(video_file(tmp_path, 1000)))
    assert len(fake.calls(CREATOR)) == 2 and len(fake.published) == 1


def test_long_429_on_init_is_rate_limited(tmp_path: Path) -> None:
    """A 429 asking for an hour's wait on init: RateLimitedError with retry_after, sent once."""
    fake = FakeTikTok()
    error = {"code": "rate_limit_exceeded", "message": "slow down", "log_id": "x"}
    fake.fail(INIT, 429, json={"data": {}, "error": error}, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitedError) as caught:
        run(fake, video_post(video_file(tmp_path, 1000)))
    assert caught.value.retry_after == 3600
    assert len(fake.calls(INIT)) == 1 and fake.posts == []


def test_rate_limits_per_minute_are_enforced_by_the_fake(tmp_path: Path) -> None:
    """With rate_limits on, the 7th init in a minute is a 429 the client reports."""
    fake = FakeTikTok(rate_limits=True)
    fake.daily_cap = 100
    path = video_file(tmp_path, 1000)
    for _ in range(6):
        run(fake, video_post(path))
    with pytest.raises(RateLimitedError):
        run(fake, video_post(path))
    assert len(fake.published) == 6


def test_daily_post_cap_says_try_tomorrow(tmp_path: Path) -> None:
    """spam_risk_too_many_posts: RateLimitedError with a day's wait, init sent once."""
    fake = FakeTikTok(daily_cap=0)
    with pytest.raises(RateLimitedError, match="tomorrow") as caught:
        run(fake, video_post(video_file(tmp_path, 1000)))
    assert caught.value.retry_after == 86_400
    assert len(fake.calls(INIT)) == 1


# -- transient faults and the final create -----------------------------------------------


def test_5xx_on_safe_steps_is_retried(tmp_path: Path) -> None:
    """5xx on creator_info, a chunk and status/fetch are retried; one post results."""
    fake = FakeTikTok()
    fake.fail(CREATOR, 503)
    fake.fail(PUT, 500)
    fake.fail(STATUS, 502, times=2)
    run(fake, video_post(video_file(tmp_path, 1000)))
    assert len(fake.posts) == 1 and len(fake.published) == 1


def test_5xx_on_init_is_unknown_outcome_sent_once(tmp_path: Path) -> None:
    """A 5xx answering init: UnknownOutcomeError (it may have landed); init not re-sent."""
    fake = FakeTikTok()
    fake.fail(INIT, 500)
    with pytest.raises(UnknownOutcomeError, match="check the account"):
        run(fake, video_post(video_file(tmp_path, 1000)))
    assert len(fake.calls(INIT)) == 1


def test_dropped_connection_on_init_is_unknown_outcome(tmp_path: Path) -> None:
    """The init landed but its answer was lost: UnknownOutcomeError, init sent once."""
    fake = FakeTikTok()
    fake.fail(INIT, drop=True, after=True)
    with pytest.raises(UnknownOutcomeError):
        run(fake, video_post(video_file(tmp_path, 1000)))
    assert len(fake.calls(INIT)) == 1 and len(fake.posts) == 1


def test_internal_error_envelope_on_init_is_unknown_outcome(tmp_path: Path) -> None:
    """An internal_error envelope answering init is ambiguous: UnknownOutcomeError."""
    fake = FakeTikTok()
    error = {"code": "internal_error", "message": "oops", "log_id": "x"}
    fake.fail(INIT, 200, json={"data": {}, "error": error})
    with pytest.raises(UnknownOutcomeError):
        run(fake, video_post(video_file(tmp_path, 1000)))
    assert len(fake.calls(INIT)) == 1


def test_dropped_chunk_is_resent_and_post_goes_out_once(tmp_path: Path) -> None:
    """A connection dropped mid-upload: the chunk is re-sent and the post is published once."""
    size = 16 * MIB
    path = video_file(tmp_path, size)
    fake = FakeTikTok()
    fake.fail(PUT, drop=True)  # the first chunk never arrives
    fake.fail(PUT, drop=True, after=True)  # the next arrives, its answer is lost
    run(fake, video_post(path), chunk_size=5 * MIB)
    assert len(fake.calls(PUT)) == 3 + 2
    assert len(fake.posts) == 1 and len(fake.published) == 1
    assert fake.posts[0].digest == sha(path)


def test_last_chunk_answer_lost_but_complete_is_published(tmp_path: Path) -> None:
    """Every answer to the last chunk is lost, yet TikTok has every byte: status decides, OK."""
    fake = FakeTikTok()
    fake.fail(PUT, drop=True, after=True, times=4)
    published = run(fake, video_post(video_file(tmp_path, 1000)))
    assert published.remote_id == fake.published[0].publish_id


def test_last_chunk_never_arriving_is_transient(tmp_path: Path) -> None:
    """The last chunk keeps failing and status shows bytes missing: nothing posted, transient."""
    fake = FakeTikTok()
    fake.fail(PUT, 503, times=4)
    with pytest.raises(TransientError, match="nothing was posted") as caught:
        run(fake, video_post(video_file(tmp_path, 1000)))
    assert not isinstance(caught.value, UnknownOutcomeError)
    assert fake.published == []


def test_middle_chunk_failing_says_nothing_was_posted(tmp_path: Path) -> None:
    """A non-final chunk failing after retries: TransientError, nothing posted, no status poll."""
    fake = FakeTikTok()
    fake.fail(PUT, 500, times=4)
    with pytest.raises(TransientError, match=r"chunk 1 of 3.*nothing was posted"):
        run(fake, video_post(video_file(tmp_path, 16 * MIB)), chunk_size=5 * MIB)
    assert fake.calls(STATUS) == []


def test_status_unreadable_after_init_is_unknown_outcome(tmp_path: Path) -> None:
    """status/fetch dropping every time after init: UnknownOutcomeError naming the publish_id."""
    fake = FakeTikTok()
    fake.fail(STATUS, drop=True, times=10)
    with pytest.raises(UnknownOutcomeError) as caught:
        run(fake, video_post(video_file(tmp_path, 1000)))
    assert fake.posts[0].publish_id in str(caught.value)


def test_polling_timeout_is_unknown_outcome(tmp_path: Path) -> None:
    """Still processing when poll_timeout runs out: UnknownOutcomeError naming the publish_id."""
    fake = FakeTikTok(processing_polls=1000)
    with pytest.raises(UnknownOutcomeError, match="still processing") as caught:
        run(fake, video_post(video_file(tmp_path, 1000)), poll_timeout=0)
    assert fake.posts[0].publish_id in str(caught.value)


def test_processing_polls_until_complete(tmp_path: Path) -> None:
    """The client keeps polling while TikTok processes, then returns the published post."""
    fake = FakeTikTok(processing_polls=3)
    run(fake, video_post(video_file(tmp_path, 1000)))
    assert len(fake.calls(STATUS)) == 4 and len(fake.published) == 1


# -- content refused ---------------------------------------------------------------------


def test_failed_status_is_explained_in_plain_words(tmp_path: Path) -> None:
    """FAILED with duration_check_failed: InvalidContentError saying the video is too long."""
    fake = FakeTikTok(fail_reason="duration_check_failed")
    with pytest.raises(InvalidContentError, match=r"too long or too short.*duration_check_failed"):
        run(fake, video_post(video_file(tmp_path, 1000)))


def test_unreachable_photo_is_photo_pull_failed() -> None:
    """A photo TikTok cannot download: InvalidContentError saying to make the URL public."""
    fake = FakeTikTok()
    fake.media[PHOTOS[0]] = JPEG
    with pytest.raises(InvalidContentError, match=r"download a photo.*photo_pull_failed"):
        run(fake, photo_post())


def test_png_photo_fails_the_format_check() -> None:
    """A PNG behind a photo URL: TikTok's file_format_check_failed, explained."""
    fake = FakeTikTok(fetch=lambda url: b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    with pytest.raises(InvalidContentError, match="JPEG/WebP"):
        run(fake, photo_post())


def test_unverified_photo_domain_says_verify_it() -> None:
    """Photos from an unverified domain: InvalidContentError pointing at the developer portal."""
    fake = FakeTikTok(verified_prefixes=("https://cdn.example.org/",))
    with pytest.raises(InvalidContentError, match="developer portal"):
        run(fake, photo_post())
    assert len(fake.calls(PHOTO_INIT)) == 1 and fake.posts == []


def test_photo_title_over_90_is_refused_by_the_fake() -> None:
    """A 91-unit photo title is TikTok's invalid_param, shown as InvalidContentError."""
    fake = FakeTikTok()
    with pytest.raises(InvalidContentError, match=r"invalid_param|refused"):
        run(fake, photo_post(title="x" * 91))


def test_no_raw_httpx_exception_escapes(tmp_path: Path) -> None:
    """Every connection fault at every step surfaces as a PlatformError."""
    for pattern in (CREATOR, INIT, PUT, STATUS):
        fake = FakeTikTok()
        fake.fail(pattern, drop=True, times=10)
        with pytest.raises(PlatformError):
            run(fake, video_post(video_file(tmp_path, 1000)))


# -- the fake is strict ------------------------------------------------------------------


def _client(fake: FakeTikTok) -> httpx.Client:
    return httpx.Client(
        transport=fake.transport(),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


def _video_init(http: httpx.Client, title: str = "hi", **source: int) -> httpx.Response:
    info = {"title": title, "privacy_level": "SELF_ONLY", "brand_content_toggle": False}
    return http.post(
        "/v2/post/publish/video/init/",
        json={"post_info": info, "source_info": {"source": "FILE_UPLOAD", **source}},
    )


def test_fake_rejects_a_broken_chunk_plan() -> None:
    """The fake answers invalid_param to chunk plans that break TikTok's rules."""
    fake = FakeTikTok()
    with _client(fake) as http:
        bad = [
            {"video_size": 1000, "chunk_size": 500, "total_chunk_count": 2},  # small: whole
            {"video_size": 50_000_123, "chunk_size": 10**7, "total_chunk_count": 6},  # not floor
            {"video_size": 100_000_000, "chunk_size": 100_000_000, "total_chunk_count": 1},
            {"video_size": 50_000_000, "chunk_size": 1_000_000, "total_chunk_count": 50},
        ]
        for source in bad:
            answer = _video_init(http, **source)
            assert answer.status_code == 400
            assert answer.json()["error"]["code"] == "invalid_param"
        ok = _video_init(http, video_size=50_000_123, chunk_size=10**7, total_chunk_count=5)
        assert ok.json()["error"]["code"] == "ok"


def test_fake_counts_caption_in_utf16_units() -> None:
    """2,200 UTF-16 units pass; one more (an emoji counts 2) is invalid_param."""
    fake = FakeTikTok()
    with _client(fake) as http:
        source = {"video_size": 1000, "chunk_size": 1000, "total_chunk_count": 1}
        assert _video_init(http, "😀" * 1100, **source).status_code == 200
        assert _video_init(http, "😀" * 1100 + "a", **source).status_code == 400


def test_fake_rejects_out_of_order_and_expired_uploads() -> None:
    """A PUT must carry exactly the next range, within the upload URL's hour."""
    fake = FakeTikTok()
    now = [0.0]
    fake.clock = lambda: now[0]
    size = 11 * MIB
    with _client(fake) as http:
        data = _video_init(http, video_size=size, chunk_size=5 * MIB, total_chunk_count=2).json()
        url = data["data"]["upload_url"]
        assert url.startswith(fake.base_url + "/video/?upload_id=")
        second = b"x" * (size - 5 * MIB)
        headers = {
            "Content-Type": "video/mp4",
            "Content-Range": f"bytes {5 * MIB}-{size - 1}/{size}",
        }
        assert http.put(url, content=second, headers=headers).status_code == 400
        first = b"x" * (5 * MIB)
        headers["Content-Range"] = f"bytes 0-{5 * MIB - 1}/{size}"
        assert http.put(url, content=first, headers=headers).status_code == 206
        assert http.put(url, content=first, headers=headers).status_code == 206  # same again
        now[0] = 3601.0
        headers["Content-Range"] = f"bytes {5 * MIB}-{size - 1}/{size}"
        assert http.put(url, content=second, headers=headers).status_code == 403


# -- the journal and reconcile -------------------------------------------------------


def test_video_journal_mode_before_init_publish_id_after_uploaded_before_last_chunk(
    tmp_path: Path,
) -> None:
    """mode before init, sending before init reaches TikTok, the publish_id right after it,
    and ``uploaded`` before the last chunk goes out; no token in any handle."""
    path = video_file(tmp_path, 16 * MIB)
    fake = FakeTikTok()
    journal = RecordingJournal(lambda: (len(fake.calls(INIT)), len(fake.calls(PUT))))
    run(fake, video_post(path), journal=journal, chunk_size=5 * MIB)
    publish_id = fake.posts[0].publish_id
    assert journal.events == [
        ("remember", {"mode": "video", "video_size": 16 * MIB}, (0, 0)),
        ("sending", {}, (0, 0)),
        ("remember", {"publish_id": publish_id, "mode": "video"}, (1, 0)),
        ("remember", {"uploaded": True}, (1, 2)),
    ]
    assert len(fake.calls(PUT)) == 3
    no_secret_in(journal, fake)


def test_photo_journal_mode_before_init_and_publish_id_after() -> None:
    """A photo post: mode, sending before the init arrives, then the publish_id."""
    fake = FakeTikTok()
    fake.media.update(dict.fromkeys(PHOTOS, JPEG))
    journal = RecordingJournal(lambda: len(fake.calls(PHOTO_INIT)))
    run(fake, photo_post(), journal=journal)
    assert journal.events == [
        ("remember", {"mode": "photo"}, 0),
        ("sending", {}, 0),
        ("remember", {"publish_id": fake.posts[0].publish_id, "mode": "photo"}, 1),
    ]
    no_secret_in(journal, fake)


def test_reconcile_finds_a_video_whose_last_chunk_landed(tmp_path: Path) -> None:
    """The run died after the last chunk arrived: still processing is unknown, then Published."""
    fake = FakeTikTok(processing_polls=1)
    post = video_post(video_file(tmp_path, 1000))
    journal = crashed(fake, post, PUT, act=True)
    with pytest.raises(UnknownOutcomeError, match=r"still processing.*next run looks again"):
        reconcile(fake, post, journal.sent())
    found = reconcile(fake, post, journal.sent())
    [posted] = fake.published
    assert found == Published(posted.publish_id, None, (posted.publish_id,))
    assert len(fake.calls(INIT)) == 1


def test_reconcile_of_a_public_video_gives_its_public_id_and_url(tmp_path: Path) -> None:
    """A public post that is out: its public id and URL, as the poll would have built them."""
    fake = FakeTikTok(processing_polls=0)
    post = video_post(video_file(tmp_path, 1000), privacy="PUBLIC_TO_EVERYONE")
    journal = crashed(fake, post, PUT, act=True)
    found = reconcile(fake, post, journal.sent())
    [posted] = fake.published
    assert found is not None and found.remote_id == posted.post_id
    assert found.url == f"https://www.tiktok.com/@{fake.username}/video/{posted.post_id}"
    assert found.ids == (posted.publish_id, posted.post_id)


def test_reconcile_of_a_video_whose_init_answer_was_lost_is_not_published(
    tmp_path: Path,
) -> None:
    """Init landed, its answer (the upload URL) was lost: TikTok never gets the bytes, None;
    publishing again posts exactly one video."""
    fake = FakeTikTok(processing_polls=0)
    post = video_post(video_file(tmp_path, 1000))
    journal = crashed(fake, post, INIT, act=True)
    assert "publish_id" not in journal.handles()
    assert reconcile(fake, post, journal.sent()) is None
    assert fake.calls(STATUS) == []
    run(fake, post)
    assert len(fake.posts) == 2 and len(fake.published) == 1


def test_reconcile_of_a_video_whose_last_chunk_never_went_out_is_not_published(
    tmp_path: Path,
) -> None:
    """The run died before the last chunk: no ``uploaded``, so None without asking TikTok."""
    fake = FakeTikTok()
    post = video_post(video_file(tmp_path, 16 * MIB))
    journal = crashed(fake, post, PUT, act=True, nth=2, chunk_size=5 * MIB)
    assert "uploaded" not in journal.handles()
    assert reconcile(fake, post, journal.sent()) is None
    assert fake.calls(STATUS) == []
    assert fake.published == []


def test_reconcile_of_a_last_chunk_that_never_arrived_is_not_published(tmp_path: Path) -> None:
    """``uploaded`` was journaled but the bytes never arrived: TikTok says it has fewer: None."""
    fake = FakeTikTok(processing_polls=0)
    post = video_post(video_file(tmp_path, 1000))
    journal = crashed(fake, post, PUT, act=False)
    assert journal.handles()["uploaded"] is True
    assert reconcile(fake, post, journal.sent()) is None
    assert len(fake.calls(STATUS)) == 1
    assert fake.published == []


def test_reconcile_of_a_failed_post_is_not_published(tmp_path: Path) -> None:
    """TikTok says FAILED: nothing was posted, None."""
    fake = FakeTikTok(processing_polls=0, fail_reason="internal")
    post = video_post(video_file(tmp_path, 1000))
    journal = crashed(fake, post, PUT, act=True)
    assert reconcile(fake, post, journal.sent()) is None
    assert fake.published == []


def test_reconcile_when_the_status_cannot_be_read_is_unknown(tmp_path: Path) -> None:
    """status/fetch keeps failing: UnknownOutcomeError naming the publish_id, not the token."""
    fake = FakeTikTok(processing_polls=0)
    post = video_post(video_file(tmp_path, 1000))
    journal = crashed(fake, post, PUT, act=True)
    fake.fail(STATUS, 500, times=10)
    with pytest.raises(UnknownOutcomeError) as caught:
        reconcile(fake, post, journal.sent())
    assert fake.posts[0].publish_id in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_reconcile_of_a_photo_post_whose_init_answer_was_lost_is_unknown() -> None:
    """Photos are fetched at init: without a publish_id nobody can tell: unknown."""
    fake = FakeTikTok(processing_polls=0)
    fake.media.update(dict.fromkeys(PHOTOS, JPEG))
    post = photo_post()
    journal = crashed(fake, post, PHOTO_INIT, act=True)
    with pytest.raises(UnknownOutcomeError, match="TikTok app"):
        reconcile(fake, post, journal.sent())


def test_reconcile_finds_a_photo_post_by_its_publish_id() -> None:
    """The run died while polling a photo post: its publish_id finds it."""
    fake = FakeTikTok(processing_polls=0)
    fake.media.update(dict.fromkeys(PHOTOS, JPEG))
    post = photo_post()
    journal = crashed(fake, post, STATUS, act=False)
    found = reconcile(fake, post, journal.sent())
    [posted] = fake.published
    assert found is not None and found.remote_id == posted.publish_id


def test_reconcile_without_any_handle_of_a_video_is_not_published(tmp_path: Path) -> None:
    """Nothing journaled at all (mode from the post): a video cannot be out; no request."""
    fake = FakeTikTok()
    sent = Sent(datetime.now(UTC), {})
    assert reconcile(fake, video_post(video_file(tmp_path, 1000)), sent) is None
    assert fake.requests == []


# -- visibility --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("privacy", "shown"),
    [
        ("SELF_ONLY", "only the account (TikTok SELF_ONLY)"),
        ("FOLLOWER_OF_CREATOR", "followers only (TikTok FOLLOWER_OF_CREATOR)"),
        ("PUBLIC_TO_EVERYONE", None),
    ],
)
def test_a_post_that_is_not_public_says_who_sees_it(privacy: str, shown: str | None) -> None:
    """The plan says who will see the post (preview and results show it); public: None."""
    from crosspost.config import load_config
    from crosspost.loader import load_announcement

    config = load_config(EXAMPLE / "crosspost.toml")
    loaded = load_announcement(EXAMPLE / "announcement.toml", config)
    settings = TikTokSettings(mode="direct", privacy_level=privacy)  # type: ignore[arg-type]
    post = TikTokAdapter(settings).render(loaded, config)
    assert post.visibility == shown
    assert post.to_json()["visibility"] == (shown or "public")
