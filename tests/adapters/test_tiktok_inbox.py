"""TikTok's inbox mode, the chunk plan's edge, status poll pacing, unsuitable media and titles.

Inbox mode (the default) sends videos to ``/v2/post/publish/inbox/video/init/`` with
``source_info`` only, and photos to content/init with ``post_mode = MEDIA_UPLOAD``; the
post then waits in the creator's TikTok inbox (docs/platforms/tiktok.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from crosspost.adapter import Published
from crosspost.api import Journal, Progress, PublishContext
from crosspost.config import load_config
from crosspost.credentials import Credentials
from crosspost.errors import AuthError, RateLimitedError
from crosspost.loader import load_announcement
from crosspost.media import MediaFile
from crosspost_adapters._tiktok_api import chunk_plan
from crosspost_adapters.tiktok import (
    INBOX_PLANNED,
    INBOX_POSTED,
    INBOX_RESULT,
    TikTokAdapter,
    TikTokOptions,
    TikTokSettings,
)
from tests.adapters.support import RecordingJournal
from tests.adapters.test_tiktok import (
    CREATOR,
    ENV,
    INIT,
    JPEG,
    PHOTO_INIT,
    PHOTOS,
    PUT,
    STATUS,
    crashed,
    example_post,
    init_body,
    photo_post,
    reconcile,
    run,
    video_file,
    video_post,
)
from tests.conftest import EXAMPLE
from tests.fakes.tiktok import MAX_CHUNK, MAX_LAST_CHUNK, MIN_CHUNK, FakeTikTok, chunk_rule_problem

INBOX_INIT = r"POST /v2/post/publish/inbox/video/init/"
MB = 1_000_000
UPLOAD_ONLY = ("user.info.basic", "video.upload")


# -- the plan: mode, visibility, warnings --------------------------------------------------


def rendered(settings: TikTokSettings, **announcement: Any) -> Any:
    """The example's TikTok post under ``settings``, with announcement options."""
    config = load_config(EXAMPLE / "crosspost.toml")
    loaded = load_announcement(EXAMPLE / "announcement.toml", config)
    if announcement:
        overrides = {**loaded.overrides, "tiktok": TikTokOptions(**announcement)}
        loaded = dataclasses.replace(loaded, overrides=overrides)
    return TikTokAdapter(settings).render(loaded, config)


def test_inbox_is_the_default_mode_and_the_plan_says_where_the_post_waits() -> None:
    """No mode set: inbox; preview's visibility says the post waits in the TikTok inbox and
    that the caption has to be pasted in the app; no privacy level is planned."""
    assert TikTokSettings().mode == "inbox"
    post = rendered(TikTokSettings())
    assert post.options["mode"] == "inbox" and "privacy_level" not in post.options
    assert post.visibility == INBOX_PLANNED
    assert (
        post.to_json()["visibility"] == "waits in the TikTok inbox: open TikTok to finish the post"
    )
    assert any("takes no caption" in w for w in post.warnings)
    assert not any("privacy_level" in w for w in post.warnings)


def test_the_announcement_mode_overrides_the_config() -> None:
    """[platforms.tiktok] mode in the announcement wins over the config's, both ways."""
    direct = rendered(TikTokSettings(mode="inbox"), mode="direct")
    assert direct.options["mode"] == "direct" and direct.options["privacy_level"] == "SELF_ONLY"
    assert direct.visibility == "only the account (TikTok SELF_ONLY)"
    inbox = rendered(TikTokSettings(mode="direct"), mode="inbox")
    assert inbox.options["mode"] == "inbox" and inbox.visibility == INBOX_PLANNED


def test_direct_only_options_in_inbox_mode_are_a_warning() -> None:
    """privacy_level (config or announcement) and disable_* set in inbox mode: a warning
    naming them, since the officer chooses them in the TikTok app."""
    configured = TikTokSettings.model_validate({"privacy_level": "SELF_ONLY", "disable_duet": True})
    post = rendered(configured)
    (warning,) = [w for w in post.warnings if "direct posts only" in w]
    assert "privacy_level, disable_duet" in warning and 'mode = "direct"' in warning
    announced = rendered(TikTokSettings(), privacy_level="PUBLIC_TO_EVERYONE")
    assert any("privacy_level" in w and "direct posts only" in w for w in announced.warnings)
    assert "privacy_level" not in announced.options
    direct = rendered(
        TikTokSettings.model_validate({"mode": "direct", "privacy_level": "SELF_ONLY"})
    )
    assert not any("direct posts only" in w for w in direct.warnings)


def test_unsuitable_without_video_or_image() -> None:
    """No video or image: the reason TikTok is skipped; a video or a photo suits it."""
    adapter = TikTokAdapter()
    assert adapter.unsuitable(()) == "no video or image: TikTok posts need one"
    video = MediaFile("a.mp4", "video", "video/mp4")
    photo = MediaFile("a.jpg", "image", "image/jpeg")
    assert adapter.unsuitable((video,)) is None and adapter.unsuitable((photo,)) is None


def test_photo_posts_require_a_title_videos_do_not() -> None:
    """A photo post has a title (90 UTF-16 units); a video (even with images) does not; a
    photo post's title is never made up from the body."""
    adapter = TikTokAdapter()
    video = MediaFile("a.mp4", "video", "video/mp4")
    photo = MediaFile("a.jpg", "image", "image/jpeg")
    assert adapter.title_required((photo, photo)) is True
    assert adapter.title_required((video, photo)) is False
    assert adapter.title_required(()) is False
    assert adapter.limits_for((photo,)).title == 90
    fields = dataclasses.replace(
        adapter.fields(load_announcement(EXAMPLE / "announcement.toml")), title=None
    )
    assert adapter.title_for(fields, (photo,)) is None


# -- publishing in inbox mode -------------------------------------------------------------


def test_inbox_video_sends_source_info_only_and_ends_in_the_inbox(tmp_path: Path) -> None:
    """Inbox video: no creator_info, inbox/video/init with source_info alone, the bytes, the
    poll ending at SEND_TO_USER_INBOX; the result says where the post is."""
    path = video_file(tmp_path, 16 * 1024 * 1024)
    fake = FakeTikTok(processing_polls=2)
    published = run(fake, video_post(path), mode="inbox", chunk_size=5 * 1024 * 1024)
    assert init_body(fake, INBOX_INIT) == {
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": 16 * 1024 * 1024,
            "chunk_size": 5 * 1024 * 1024,
            "total_chunk_count": 3,
        }
    }
    assert fake.calls(CREATOR) == [] and fake.calls(INIT + "$") == []
    [posted] = fake.in_inbox
    assert posted.publish_id.startswith("v_inbox_file~")
    assert posted.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(fake.calls(STATUS)) == 3 and fake.published == []
    assert published == Published(
        posted.publish_id, None, (posted.publish_id,), visibility=INBOX_RESULT
    )
    assert published.visibility == "in the TikTok inbox: open TikTok to finish the post"


def test_inbox_needs_only_the_upload_scope(tmp_path: Path) -> None:
    """A token with video.upload but not video.publish: inbox works, direct is refused."""
    fake = FakeTikTok(scopes=UPLOAD_ONLY)
    published = run(fake, video_post(video_file(tmp_path, 1000)), mode="inbox")
    assert published.visibility == INBOX_RESULT
    with pytest.raises(AuthError, match="did not grant a permission"):
        run(fake, video_post(video_file(tmp_path, 1000)), mode="direct")
    assert len(fake.calls(CREATOR)) == 1 and len(fake.posts) == 1  # refused at creator_info
    without = FakeTikTok(scopes=("user.info.basic", "video.publish"))
    with pytest.raises(AuthError, match="did not grant a permission"):
        run(without, video_post(video_file(tmp_path, 1000)), mode="inbox")
    assert len(without.calls(INBOX_INIT)) == 1 and without.posts == []


def test_inbox_photos_go_with_media_upload_title_and_description() -> None:
    """Inbox photos: content/init with MEDIA_UPLOAD, the title and description, no privacy
    or interaction fields, no creator_info; the result says the inbox."""
    fake = FakeTikTok(scopes=UPLOAD_ONLY)
    fake.media.update(dict.fromkeys(PHOTOS, JPEG))
    post = photo_post()
    published = run(fake, post, mode="inbox")
    assert init_body(fake, PHOTO_INIT) == {
        "post_info": {"title": post.title.text if post.title else None, "description": post.text},
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": list(PHOTOS),
            "photo_cover_index": 0,
        },
        "post_mode": "MEDIA_UPLOAD",
        "media_type": "PHOTO",
    }
    assert fake.calls(CREATOR) == []
    assert [p.media_type for p in fake.in_inbox] == ["PHOTO"]
    assert published.visibility == INBOX_RESULT


def test_a_sixth_pending_inbox_upload_is_refused_until_tomorrow(tmp_path: Path) -> None:
    """TikTok keeps at most 5 uploads pending in 24 hours: the 6th is RateLimitedError
    saying to finish or delete them in the app, retry after a day; once one is posted
    in the app, there is room again."""
    fake = FakeTikTok()
    for _ in range(5):
        run(fake, video_post(video_file(tmp_path, 1000)), mode="inbox")
    with pytest.raises(RateLimitedError) as caught:
        run(fake, video_post(video_file(tmp_path, 1000)), mode="inbox")
    assert "5 in 24 hours" in str(caught.value) and "TikTok app" in str(caught.value)
    assert caught.value.retry_after == 86_400.0
    assert len(fake.posts) == 5
    fake.finish_in_app(fake.posts[0])
    run(fake, video_post(video_file(tmp_path, 1000)), mode="inbox")
    assert len(fake.in_inbox) == 5


def test_the_fake_refuses_post_info_on_the_inbox_upload() -> None:
    """The inbox init takes source_info only: a post_info is invalid_param, nothing made."""
    fake = FakeTikTok()
    source = {"source": "FILE_UPLOAD", "video_size": 1000, "chunk_size": 1000}
    with httpx.Client(transport=fake.transport(), base_url="http://testserver") as http:
        answer = http.post(
            "/v2/post/publish/inbox/video/init/",
            headers={"Authorization": f"Bearer {ENV['CROSSPOST_TIKTOK_ACCESS_TOKEN']}"},
            json={
                "post_info": {"title": "hi", "privacy_level": "SELF_ONLY"},
                "source_info": {**source, "total_chunk_count": 1},
            },
        )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_param"
    assert fake.posts == []


def test_inbox_journal_records_the_delivery_before_init(tmp_path: Path) -> None:
    """mode, delivery and size before the inbox init; the publish_id right after it."""
    fake = FakeTikTok()
    journal = RecordingJournal(lambda: len(fake.calls(INBOX_INIT)))
    run(fake, video_post(video_file(tmp_path, 1000)), mode="inbox", journal=journal)
    publish_id = fake.posts[0].publish_id
    assert journal.events[:3] == [
        ("remember", {"mode": "video", "delivery": "inbox", "video_size": 1000}, 0),
        ("sending", {}, 0),
        ("remember", {"publish_id": publish_id, "mode": "video", "delivery": "inbox"}, 1),
    ]


def test_reconcile_finds_an_inbox_upload_in_the_inbox_then_posted(tmp_path: Path) -> None:
    """The run died after the last chunk: reconcile says it waits in the inbox; once the
    officer posted it in the app, that it was posted from there (privately: no public
    id), or its public id; the journal decides the mode, not today's config."""
    fake = FakeTikTok(processing_polls=0)
    post = video_post(video_file(tmp_path, 1000))
    journal = crashed(fake, post, PUT, act=True, mode="inbox")
    assert journal.handles()["delivery"] == "inbox"
    # The handles say inbox even if the config has since moved to direct.
    found = reconcile(fake, post, journal.sent(), mode="direct")
    [posted] = fake.in_inbox
    assert found == Published(posted.publish_id, None, (posted.publish_id,), INBOX_RESULT)
    fake.finish_in_app(posted)
    private = reconcile(fake, post, journal.sent(), mode="direct")
    assert private is not None and private.remote_id == posted.publish_id
    assert private.visibility == INBOX_POSTED
    posted.status = "SEND_TO_USER_INBOX"
    fake.finish_in_app(posted, public=True)
    later = reconcile(fake, post, journal.sent(), mode="inbox")
    assert later is not None and later.remote_id == posted.post_id and later.visibility is None
    assert len(fake.calls(INBOX_INIT)) == 1


# -- the chunk plan -----------------------------------------------------------------------


def test_a_video_over_64_mb_that_one_chunk_would_take_goes_in_two_halves() -> None:
    """70 MB with 40 MB chunks: floor gives 1 chunk over 64 MB (refused by TikTok); the plan
    sends two halves of 35 MB instead. 100 MB with 40 MB chunks: 40 + 60."""
    assert chunk_rule_problem(70 * MB, 40 * MB, 1) is not None  # what the old plan sent
    plan = chunk_plan(70 * MB, 40 * MB)
    assert (plan.chunk_size, plan.total_chunk_count) == (35 * MB, 2)
    assert plan.ranges == ((0, 35 * MB), (35 * MB, 70 * MB))
    big = chunk_plan(100 * MB, 40 * MB)
    assert (big.chunk_size, big.total_chunk_count) == (40 * MB, 2)
    assert big.ranges == ((0, 40 * MB), (40 * MB, 100 * MB))


def _valid(size: int, chunk: int) -> None:
    """The plan for ``size`` bytes obeys the media transfer guide, checked here directly."""
    plan = chunk_plan(size, chunk)
    lengths = [end - start for start, end in plan.ranges]
    assert sum(lengths) == size and plan.ranges[0][0] == 0
    assert plan.total_chunk_count == len(lengths) == max(size // plan.chunk_size, 1)
    if size < MIN_CHUNK:
        assert lengths == [size] and plan.chunk_size == size
    if size > MAX_CHUNK:
        assert len(lengths) >= 2
    assert all(MIN_CHUNK <= n <= MAX_CHUNK for n in lengths[:-1])
    assert all(n == plan.chunk_size for n in lengths[:-1])
    assert lengths[-1] <= MAX_LAST_CHUNK
    assert MIN_CHUNK <= plan.chunk_size <= MAX_CHUNK or plan.chunk_size == size
    assert chunk_rule_problem(size, plan.chunk_size, plan.total_chunk_count) is None


@settings(max_examples=400, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=200 * MB),
    chunk=st.integers(min_value=MIN_CHUNK, max_value=MAX_CHUNK),
)
def test_chunk_plans_near_the_64_mb_edge_are_always_valid(size: int, chunk: int) -> None:
    """Sizes up to 200 MB (where one chunk could exceed 64 MB), any allowed chunk size."""
    _valid(size, chunk)


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(min_value=64 * MB, max_value=128 * MB),
    chunk=st.integers(min_value=32 * MB, max_value=MAX_CHUNK),
)
def test_chunk_plans_with_chunks_over_32_mb_are_always_valid(size: int, chunk: int) -> None:
    """The case of the bug: chunk_size over 32 MB, a video between 64 and 128 MB."""
    _valid(size, chunk)


def sparse(tmp_path: Path, size: int) -> Path:
    """A file of ``size`` zero bytes that takes no room on disk."""
    path = tmp_path / f"big-{size}.mp4"
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def publish_streaming(fake: FakeTikTok, path: Path, chunk_size: int) -> Published:
    """Publish a video of ``path`` with the fake reading each chunk as it streams."""
    post = video_post(path)
    config = TikTokSettings(api_base="http://testserver", chunk_size=chunk_size)

    async def go() -> Published:
        async with httpx.AsyncClient(transport=fake.streaming_transport()) as http:
            ctx = PublishContext(
                client=http,
                platform="tiktok",
                settings=config,
                credentials=Credentials("tiktok", environ=ENV),
                poll_interval=0,
                journal=Journal(),
            )
            return await TikTokAdapter(config).publish(post, ctx)

    return asyncio.run(go())


@pytest.mark.parametrize("size", [100 * MB, 70 * MB], ids=["100MB", "70MB"])
def test_a_large_video_with_40_mb_chunks_is_accepted_whole(tmp_path: Path, size: int) -> None:
    """100 MB and 70 MB videos with chunk_size 40 MB reach TikTok's inbox whole, each chunk
    within TikTok's limits (the fake takes the bytes as they stream)."""
    path = sparse(tmp_path, size)
    fake = FakeTikTok()
    published = publish_streaming(fake, path, 40 * MB)
    [posted] = fake.in_inbox
    assert posted.received == size
    zeros = hashlib.sha256()
    for _ in range(size // MB):
        zeros.update(bytes(MB))
    assert posted.digest == zeros.hexdigest()
    lengths = [last - first + 1 for first, last in posted.chunks]
    assert lengths == ([40 * MB, 60 * MB] if size == 100 * MB else [35 * MB, 35 * MB])
    assert published.visibility == INBOX_RESULT


# -- status polls -------------------------------------------------------------------------


def test_status_polls_back_off_up_to_poll_max(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polls wait 2 s, then 1.5 times longer each time, never more than poll_max (30 status
    requests a minute per token is TikTok's limit)."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("asyncio.sleep", sleep)  # the waits between polls, recorded
    fake = FakeTikTok(processing_polls=7)
    config = TikTokSettings(api_base="http://testserver", poll_max=8.0)

    async def go() -> Published:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            ctx = PublishContext(
                client=http,
                platform="tiktok",
                settings=config,
                credentials=Credentials("tiktok", environ=ENV),
                progress=Progress(),
                poll_interval=2.0,
                poll_timeout=600.0,
            )
            return await TikTokAdapter(config).publish(video_post(video_file(tmp_path, 1000)), ctx)

    asyncio.run(go())
    assert waits == [2.0, 3.0, 4.5, 6.75, 8.0, 8.0, 8.0]
    assert len(fake.calls(STATUS)) == 8


def test_poll_max_defaults_to_10_s_and_stays_within_the_rate() -> None:
    """poll_max: 10 s by default; below 2 s (30 a minute) it is a config error."""
    assert TikTokSettings().poll_max == 10.0
    with pytest.raises(ValidationError):
        TikTokSettings(poll_max=1.0)


def test_example_in_inbox_mode_goes_to_the_inbox(tmp_path: Path) -> None:
    """The example's planned TikTok post (inbox by default) is uploaded to the inbox as is."""
    post = example_post()
    assert post.options["mode"] == "inbox"
    fake = FakeTikTok(scopes=UPLOAD_ONLY)
    published = run(fake, post)
    size = (EXAMPLE / "media" / "humas.mp4").stat().st_size
    assert init_body(fake, INBOX_INIT)["source_info"]["video_size"] == size
    assert published.visibility == INBOX_RESULT
