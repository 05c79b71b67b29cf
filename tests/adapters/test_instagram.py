"""Instagram publishing against FakeInstagram: containers, polling, media_publish, faults."""

from __future__ import annotations

import functools
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from crosspost.adapter import Part, Post, Published, Resume, Sent
from crosspost.api import Journal, Progress, PublishContext
from crosspost.credentials import Credentials
from crosspost.errors import (
    AuthError,
    ConfigError,
    CredentialsError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost.models import MediaKind
from crosspost.planning import plan_file
from crosspost.units import Unit
from crosspost_adapters._instagram_api import classify
from crosspost_adapters.instagram import InstagramAdapter, InstagramSettings
from tests.adapters.support import Crashed, Recorder, RecordingJournal, crash_at, run
from tests.conftest import EXAMPLE
from tests.fakes.base import FakePlatform, form
from tests.fakes.instagram import FakeInstagram
from tests.fakes.server import serve

MEDIA = r"^POST /v\d+\.\d+/\d+/media$"
PUBLISH = r"^POST /v\d+\.\d+/\d+/media_publish$"
STATUS = r"^GET /v\d+\.\d+/18\d+$"
QUOTA = r"^GET /v\d+\.\d+/\d+/content_publishing_limit$"
RUPLOAD = r"^POST /ig-api-upload/"
# A real JPEG (the example's 480×360 photo): the fake decodes its size, as Instagram does.
JPEG = (EXAMPLE / "media" / "humas.jpg").read_bytes()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(4000)


@functools.cache
def planned() -> Post:
    """The example announcement's Instagram post (its photo, at media_base_url)."""
    plan = plan_file(EXAMPLE / "announcement.toml", only=["instagram"])
    return plan.posts[0]


def hosted(
    fake: FakeInstagram, name: str, data: bytes = JPEG, kind: MediaKind = "image"
) -> MediaFile:
    """A media file Instagram can fetch at a public URL (registered with the fake)."""
    url = f"https://kab-musirawas.kpu.go.id/crosspost/media/{name}"
    fake.media[url] = data
    mime = "image/jpeg" if kind == "image" else "video/mp4"
    return MediaFile(f"media/{name}", kind, mime, url=url, alt=f"alt of {name}")


def post_with(*media: MediaFile, text: str = "Halo #TemanPemilih dari @kpumura") -> Post:
    """A hand-made Instagram post."""
    return Post(
        platform="instagram",
        unit=Unit.CHARS,
        parts=(Part(text, len(text), 2_200),),
        media=media,
    )


def context(
    fake: FakeInstagram,
    client: httpx.AsyncClient,
    env: dict[str, str] | None = None,
    progress: Progress | None = None,
    poll_timeout: float = 600.0,
    journal: Journal | None = None,
    **settings: Any,
) -> PublishContext:
    """A publish context pointed at ``fake`` through ``client``."""
    values: dict[str, Any] = {"api_base": "http://testserver", "ig_user_id": fake.ig_user_id}
    values.update(settings)
    environ = {"CROSSPOST_INSTAGRAM_ACCESS_TOKEN": fake.access_token} if env is None else env
    return PublishContext(
        client=client,
        platform="instagram",
        settings=InstagramSettings(**values),
        credentials=Credentials("instagram", environ=environ),
        progress=progress or Progress(),
        poll_interval=0,
        poll_timeout=poll_timeout,
        journal=journal or Journal(),
    )


def publish(
    fake: FakeInstagram,
    post: Post,
    transport: httpx.AsyncBaseTransport | None = None,
    **kw: Any,
) -> Published:
    """Publish ``post`` to ``fake`` in-process (through ``transport`` when given)."""

    async def go() -> Published:
        async with httpx.AsyncClient(transport=transport or fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await InstagramAdapter(ctx.settings).publish(post, ctx)

    result: Published = run(go())
    return result


def reconcile(fake: FakeInstagram, post: Post, sent: Sent, **kw: Any) -> Published | None:
    """What a later run's ``reconcile`` finds for ``post`` on ``fake``."""

    async def go() -> Published | Resume | None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await InstagramAdapter(ctx.settings).reconcile(post, sent, ctx)

    found = run(go())
    assert not isinstance(found, Resume)  # these posts have no first comment
    return found  # type: ignore[no-any-return]


def failure(fake: FakeInstagram, post: Post, **kw: Any) -> PlatformError:
    """Publish and return the PlatformError it raised (any other exception fails the test)."""
    with pytest.raises(PlatformError) as info:
        publish(fake, post, **kw)
    return info.value


# -- happy paths ---------------------------------------------------------------


def test_example_image_post_creates_polls_and_publishes() -> None:
    """The example's photo: container with image_url/caption/alt_text, polled, published once."""
    fake = FakeInstagram()
    post = planned()
    [media] = post.media
    assert media.url is not None
    assert media.path is not None
    fake.media[media.url] = media.path.read_bytes()
    progress = Recorder()
    result = publish(fake, post, progress=progress)
    [create] = fake.calls(MEDIA)
    assert form(create) == {"image_url": media.url, "caption": post.text, "alt_text": media.alt}
    assert create.headers["authorization"] == f"Bearer {fake.access_token}"
    assert len(fake.calls(STATUS)) == 2  # IN_PROGRESS once, then FINISHED
    assert len(fake.calls(QUOTA)) == 1
    [published] = fake.posts
    assert published["caption"] == post.text
    assert published["image_urls"] == [media.url]
    assert published["alt_texts"] == [media.alt]
    assert result.remote_id == published["id"]
    assert result.url == published["permalink"]
    assert "publishing" in progress.steps
    for request in fake.requests:
        assert fake.access_token not in str(request.url)


def test_carousel_children_then_parent_with_the_caption() -> None:
    """Two images: two carousel items, a CAROUSEL parent with children and caption, one post."""
    fake = FakeInstagram()
    a, b = hosted(fake, "a.jpg"), hosted(fake, "b.jpg")
    post = post_with(a, b)
    publish(fake, post)
    child_a, child_b, parent = (form(r) for r in fake.calls(MEDIA))
    assert child_a == {"image_url": a.url, "is_carousel_item": "true", "alt_text": a.alt}
    assert child_b["image_url"] == b.url
    assert "caption" not in child_a
    ids = [c for c, v in fake.containers.items() if v["kind"] == "CHILD"]
    assert parent == {"media_type": "CAROUSEL", "children": ",".join(ids), "caption": post.text}
    [published] = fake.posts
    assert published["media_type"] == "CAROUSEL_ALBUM"
    assert published["image_urls"] == [a.url, b.url]
    assert published["caption"] == post.text


def test_reel_from_a_url_waits_for_processing() -> None:
    """A video with a URL: REELS container with video_url, polled until FINISHED, published."""
    fake = FakeInstagram(polls_until_finished=3)
    clip = hosted(fake, "clip.mp4", MP4, "video")
    post = post_with(clip)
    publish(fake, post)
    assert form(fake.calls(MEDIA)[0]) == {
        "media_type": "REELS",
        "caption": post.text,
        "video_url": clip.url,
    }
    assert len(fake.calls(STATUS)) == 4
    assert fake.posts[0]["media_type"] == "VIDEO"


def test_reel_from_a_file_is_uploaded_to_the_rebased_rupload_uri(tmp_path: Path) -> None:
    """No URL: a resumable container, bytes POSTed to its rupload uri rebased onto api_base."""
    fake = FakeInstagram(rupload_origin="https://rupload.facebook.com")
    data = MP4 + random.Random(1).randbytes(2 * 1024 * 1024)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    clip = MediaFile("media/clip.mp4", "video", "video/mp4", path=path, size=len(data))
    progress = Recorder()
    publish(fake, post_with(clip), progress=progress)
    assert form(fake.calls(MEDIA)[0])["upload_type"] == "resumable"
    [upload] = fake.calls(RUPLOAD)
    assert upload.url.host == "testserver"
    assert upload.headers["authorization"] == f"OAuth {fake.access_token}"
    assert upload.headers["offset"] == "0"
    assert upload.headers["file_size"] == str(len(data))
    assert fake.posts[0]["data"] == [data]
    assert progress.started == [len(data)]


def test_rupload_cut_mid_file_is_sent_again_and_published_once(tmp_path: Path) -> None:
    """A connection dropped mid-upload: the bytes are sent again from 0; one Reel."""
    fake = FakeInstagram()
    fake.cut_upload_at = 1000
    path = tmp_path / "clip.mp4"
    path.write_bytes(MP4)
    clip = MediaFile("media/clip.mp4", "video", "video/mp4", path=path, size=len(MP4))
    publish(fake, post_with(clip))
    assert len(fake.calls(RUPLOAD)) == 2
    assert fake.posts[0]["data"] == [MP4]
    assert len(fake.calls(PUBLISH)) == 1


def test_instagram_login_uses_graph_instagram_com() -> None:
    """login = "instagram" sends every call to graph.instagram.com (no api_base)."""
    fake = FakeInstagram()
    image = hosted(fake, "a.jpg")
    publish(fake, post_with(image), api_base=None, login="instagram")
    assert {r.url.host for r in fake.requests} == {"graph.instagram.com"}


def test_facebook_login_uses_graph_facebook_com() -> None:
    """login = "facebook" (the default) sends every call to graph.facebook.com."""
    fake = FakeInstagram()
    image = hosted(fake, "a.jpg")
    publish(fake, post_with(image), api_base=None)
    assert {r.url.host for r in fake.requests} == {"graph.facebook.com"}


# -- content the fake refuses --------------------------------------------------


def test_unreachable_image_says_to_make_it_public() -> None:
    """An image URL Instagram cannot fetch: the message names the URL and what to do."""
    fake = FakeInstagram()
    url = "https://kab-musirawas.kpu.go.id/crosspost/media/missing.jpg"
    error = failure(fake, post_with(MediaFile("media/missing.jpg", "image", "image/jpeg", url=url)))
    assert isinstance(error, InvalidContentError)
    assert f"Instagram could not fetch the media at {url}: make it publicly reachable" in str(error)
    assert not fake.posts
    assert not fake.calls(PUBLISH)


def test_png_behind_a_jpeg_url_is_refused_with_instagrams_message() -> None:
    """A PNG is refused (36001/2207005) with Instagram's own user message."""
    fake = FakeInstagram()
    error = failure(fake, post_with(hosted(fake, "a.jpg", PNG)))
    assert isinstance(error, InvalidContentError)
    assert "Supported formats are: JPEG" in str(error)


def test_banner_shaped_jpeg_is_refused_for_its_aspect_ratio() -> None:
    """A 3:1 JPEG known only by URL is refused by Instagram (36003/2207009), readably."""
    banner = b"\xff\xd8\xff\xc0\x00\x11\x08" + (500).to_bytes(2, "big")
    banner += (1500).to_bytes(2, "big") + b"\x03" + bytes(64)
    fake = FakeInstagram()
    error = failure(fake, post_with(hosted(fake, "banner.jpg", banner)))
    assert isinstance(error, InvalidContentError)
    assert "aspect ratio between 4:5 and 1.91:1" in str(error)


def test_too_many_hashtags_is_refused_with_instagrams_message() -> None:
    """More hashtags than the cap (configurable, 30 by default) is 100/2207040."""
    fake = FakeInstagram(max_hashtags=5)
    text = " ".join(f"#tag{i}" for i in range(6))
    error = failure(fake, post_with(hosted(fake, "a.jpg"), text=text))
    assert isinstance(error, InvalidContentError)
    assert "at most 5 hashtags" in str(error)


def test_thirty_hashtags_pass_by_default() -> None:
    """30 hashtags is the API reference's number: accepted by default, 31 refused."""
    fake = FakeInstagram()
    text = " ".join(f"#tag{i}" for i in range(30))
    publish(fake, post_with(hosted(fake, "a.jpg"), text=text))
    error = failure(fake, post_with(hosted(fake, "b.jpg"), text=text + " #one"))
    assert isinstance(error, InvalidContentError)


def test_too_many_mentions_is_refused() -> None:
    """21 @-mentions is one too many."""
    fake = FakeInstagram()
    text = " ".join(f"@user{i}" for i in range(21))
    assert isinstance(
        failure(fake, post_with(hosted(fake, "a.jpg"), text=text)), InvalidContentError
    )


def test_caption_over_2200_code_points_is_refused() -> None:
    """2,201 code points is too long for a caption; 2,200 emoji are fine."""
    fake = FakeInstagram()
    publish(fake, post_with(hosted(fake, "a.jpg"), text="😀" * 2_200))
    error = failure(fake, post_with(hosted(fake, "b.jpg"), text="x" * 2_201))
    assert isinstance(error, InvalidContentError)
    assert "2200" in str(error)


def test_container_error_status_is_invalid_content_with_the_status_text() -> None:
    """A container ending in ERROR: InvalidContentError quoting the status; nothing published."""
    fake = FakeInstagram(outcome="ERROR")
    error = failure(fake, post_with(hosted(fake, "clip.mp4", MP4, "video")))
    assert isinstance(error, InvalidContentError)
    assert "2207026" in str(error)
    assert not fake.calls(PUBLISH)


def test_expired_container_is_invalid_content() -> None:
    """An EXPIRED container: InvalidContentError saying to publish again; nothing published."""
    fake = FakeInstagram(outcome="EXPIRED")
    error = failure(fake, post_with(hosted(fake, "a.jpg")))
    assert isinstance(error, InvalidContentError)
    assert "expired" in str(error)
    assert not fake.calls(PUBLISH)
    assert not fake.posts


def test_processing_that_never_ends_times_out_as_transient() -> None:
    """Still IN_PROGRESS at poll_timeout: TransientError, media_publish never sent."""
    fake = FakeInstagram(polls_until_finished=10**9)
    error = failure(fake, post_with(hosted(fake, "a.jpg")), poll_timeout=0.05)
    assert isinstance(error, TransientError)
    assert "nothing was published" in str(error)
    assert not fake.calls(PUBLISH)


# -- quota ----------------------------------------------------------------------


def test_used_up_quota_stops_before_any_container() -> None:
    """content_publishing_limit at 50 of 50: RateLimitedError before creating anything."""
    fake = FakeInstagram(quota_total=1)
    publish(fake, post_with(hosted(fake, "a.jpg")))
    error = failure(fake, post_with(hosted(fake, "b.jpg"), text="another"))
    assert isinstance(error, RateLimitedError)
    assert "1 of 1" in str(error)
    assert len(fake.calls(MEDIA)) == 1


def test_quota_refused_by_the_publish_itself_is_rate_limited() -> None:
    """Without the check, media_publish's 9/2207042 is a RateLimitedError; one post only."""
    fake = FakeInstagram(quota_total=1)
    publish(fake, post_with(hosted(fake, "a.jpg")), check_quota=False)
    error = failure(fake, post_with(hosted(fake, "b.jpg"), text="another"), check_quota=False)
    assert isinstance(error, RateLimitedError)
    assert "24 hours" in str(error)
    assert len(fake.posts) == 1


def test_missing_quota_endpoint_is_skipped() -> None:
    """A host without content_publishing_limit (code 100) does not stop the publish."""
    fake = FakeInstagram(quota_endpoint=False)
    publish(fake, post_with(hosted(fake, "a.jpg")))
    assert len(fake.posts) == 1


# -- the create and its ambiguity ---------------------------------------------


def test_not_ready_on_publish_polls_again_then_publishes_once() -> None:
    """media_publish says 9007/2207027 (not ready): poll again, publish once."""
    fake = FakeInstagram()
    fake.fail(
        PUBLISH,
        400,
        json={"error": {"message": "not ready", "code": 9007, "error_subcode": 2207027}},
    )
    publish(fake, post_with(hosted(fake, "a.jpg")))
    assert len(fake.calls(PUBLISH)) == 2
    assert len(fake.posts) == 1


def test_publish_answer_lost_after_it_landed_is_reconciled() -> None:
    """media_publish landed but its answer was lost: the container says PUBLISHED: success."""
    fake = FakeInstagram()
    fake.fail(PUBLISH, drop=True, after=True)
    post = post_with(hosted(fake, "a.jpg"))
    result = publish(fake, post)
    assert len(fake.calls(PUBLISH)) == 1
    [published] = fake.posts
    assert result.remote_id == published["id"]
    assert result.url == published["permalink"]


def test_publish_5xx_that_did_not_land_is_unknown_and_sent_once() -> None:
    """A 500 on media_publish and the container not PUBLISHED: UnknownOutcomeError, sent once."""
    fake = FakeInstagram()
    fake.fail(PUBLISH, 500)
    error = failure(fake, post_with(hosted(fake, "a.jpg")))
    assert isinstance(error, UnknownOutcomeError)
    assert len(fake.calls(PUBLISH)) == 1
    assert not fake.posts


def test_short_429_on_publish_is_waited_out_and_publishes_once() -> None:
    """A 429 with a short Retry-After on media_publish is retried; one post."""
    fake = FakeInstagram()
    fake.fail(PUBLISH, 429, headers={"Retry-After": "2"})
    publish(fake, post_with(hosted(fake, "a.jpg")))
    assert len(fake.calls(PUBLISH)) == 2
    assert len(fake.posts) == 1


def test_long_429_is_rate_limited_with_retry_after() -> None:
    """A 429 asking for an hour is a RateLimitedError with retry_after; nothing published."""
    fake = FakeInstagram()
    fake.fail(MEDIA, 429, headers={"Retry-After": "3600"})
    error = failure(fake, post_with(hosted(fake, "a.jpg")))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 3600
    assert not fake.posts


def test_5xx_on_container_creation_is_retried() -> None:
    """A 500 on the (invisible, safe) container creation is retried; one post."""
    fake = FakeInstagram()
    fake.fail(MEDIA, 500, times=2)
    publish(fake, post_with(hosted(fake, "a.jpg")))
    assert len(fake.calls(MEDIA)) == 3
    assert len(fake.posts) == 1


def test_dropped_status_polls_end_as_transient_not_raw_httpx() -> None:
    """Status polls that keep dropping end as a TransientError, never an httpx exception."""
    fake = FakeInstagram()
    fake.fail(STATUS, drop=True, times=100)
    error = failure(fake, post_with(hosted(fake, "a.jpg")))
    assert isinstance(error, TransientError)
    assert not fake.posts


def test_permalink_failure_after_publishing_still_reports_success() -> None:
    """The post is out even if its permalink cannot be read: Published with no URL."""
    fake = FakeInstagram()
    fake.fail(r"^GET /v\d+\.\d+/179", 400, json={"error": {"message": "x", "code": 100}})
    result = publish(fake, post_with(hosted(fake, "a.jpg")))
    assert result.remote_id == fake.posts[0]["id"]
    assert result.url is None


# -- configuration and credentials ---------------------------------------------


def test_expired_token_is_an_auth_error_without_the_token() -> None:
    """An expired token: AuthError saying which variable to renew; the token is not shown."""
    fake = FakeInstagram()
    fake.expire(fake.access_token)
    error = failure(fake, post_with(hosted(fake, "a.jpg")))
    assert isinstance(error, AuthError)
    assert "CROSSPOST_INSTAGRAM_ACCESS_TOKEN" in str(error)
    assert fake.access_token not in str(error)


def test_http_401_is_an_auth_error() -> None:
    """A bare 401 from a proxy is an AuthError."""
    fake = FakeInstagram()
    fake.fail(QUOTA, 401)
    assert isinstance(failure(fake, post_with(hosted(fake, "a.jpg"))), AuthError)


def test_missing_ig_user_id_is_a_config_error_before_any_request() -> None:
    """No ig_user_id: a ConfigError naming [platforms.instagram] ig_user_id; nothing sent."""
    fake = FakeInstagram()
    with pytest.raises(ConfigError, match=r"\[platforms\.instagram\] ig_user_id"):
        publish(fake, post_with(hosted(fake, "a.jpg")), ig_user_id=None)
    assert fake.requests == []


def test_missing_token_names_the_variable_before_any_request() -> None:
    """No token: CredentialsError naming CROSSPOST_INSTAGRAM_ACCESS_TOKEN; nothing sent."""
    fake = FakeInstagram()
    with pytest.raises(CredentialsError, match="CROSSPOST_INSTAGRAM_ACCESS_TOKEN"):
        publish(fake, post_with(hosted(fake, "a.jpg")), env={})
    assert fake.requests == []


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"code": 9004, "error_subcode": 2207052}, InvalidContentError),
        ({"code": 9, "error_subcode": 2207042}, RateLimitedError),
        ({"code": 36000, "error_subcode": 2207004}, InvalidContentError),
        ({"code": 36001, "error_subcode": 2207005}, InvalidContentError),
        ({"code": 100, "error_subcode": 2207040}, InvalidContentError),
        ({"code": -2, "error_subcode": 2207003}, TransientError),
        ({"code": -1, "error_subcode": 2207001}, TransientError),
        ({"code": -2, "error_subcode": 2207020}, InvalidContentError),
        ({"code": 190}, AuthError),
        ({"code": 4}, RateLimitedError),
        ({"code": 4, "error_subcode": 2207051}, InvalidContentError),
    ],
)
def test_instagram_error_codes_map_to_the_error_tree(
    error: dict[str, Any], kind: type[PlatformError]
) -> None:
    """Each code of docs/platforms/instagram.md becomes the right error class."""
    request = httpx.Request("POST", "https://graph.facebook.com/v25.0/1/media")
    body = {"error": {"message": "m", "error_user_msg": "Instagram says so", **error}}
    found = classify(httpx.Response(400, json=body, request=request))
    assert type(found) is kind
    assert "Instagram" in str(found)


# -- the journal and reconcile -------------------------------------------------


def crashed_publish(fake: FakeInstagram, post: Post, *, act: bool) -> RecordingJournal:
    """Publish until media_publish, where the run dies (after the fake acted, with ``act``)."""
    journal = RecordingJournal(lambda: len(fake.calls(PUBLISH)))
    with pytest.raises(Crashed):
        publish(fake, post, crash_at(fake.transport(), PUBLISH, act=act), journal=journal)
    return journal


def test_container_is_journaled_and_sending_recorded_before_media_publish() -> None:
    """remember(container), then sending, both before media_publish reaches Instagram; the
    media id media_publish answers is remembered right after."""
    fake = FakeInstagram()
    journal = RecordingJournal(lambda: len(fake.calls(PUBLISH)))
    result = publish(fake, post_with(hosted(fake, "a.jpg")), journal=journal)
    [published] = fake.posts
    assert journal.events == [
        ("remember", {"container": published["container"]}, 0),
        ("sending", {}, 0),
        ("remember", {"media_id": published["id"]}, 1),
    ]
    assert len(fake.calls(PUBLISH)) == 1
    assert result.ids == (published["id"], published["container"])
    assert fake.access_token not in json.dumps(journal.events)


def test_carousel_journals_the_parent_container() -> None:
    """A carousel's handle is the parent container, the one media_publish publishes."""
    fake = FakeInstagram()
    journal = RecordingJournal()
    publish(fake, post_with(hosted(fake, "a.jpg"), hosted(fake, "b.jpg")), journal=journal)
    [published] = fake.posts
    assert journal.handles() == {"container": published["container"], "media_id": published["id"]}
    assert fake.containers[published["container"]]["kind"] == "CAROUSEL"


def test_reconcile_finds_the_post_when_media_publish_landed_and_the_answer_was_lost() -> None:
    """The run died after Instagram published: the container says PUBLISHED, the post is found."""
    fake = FakeInstagram()
    post = post_with(hosted(fake, "a.jpg"))
    journal = crashed_publish(fake, post, act=True)
    [published] = fake.posts
    found = reconcile(fake, post, journal.sent())
    assert found == Published(
        published["id"], published["permalink"], (published["id"], published["container"])
    )
    assert len(fake.calls(PUBLISH)) == 1


def test_reconcile_says_not_published_when_media_publish_never_arrived() -> None:
    """The run died before media_publish arrived: FINISHED, so None; publishing again posts once."""
    fake = FakeInstagram()
    post = post_with(hosted(fake, "a.jpg"))
    journal = crashed_publish(fake, post, act=False)
    assert reconcile(fake, post, journal.sent()) is None
    assert fake.posts == []
    publish(fake, post)
    assert len(fake.posts) == 1


def test_reconcile_of_an_expired_container_is_not_published() -> None:
    """An EXPIRED container can never be published: None."""
    fake = FakeInstagram()
    post = post_with(hosted(fake, "a.jpg"))
    journal = crashed_publish(fake, post, act=False)
    fake.expire(journal.handles()["container"])
    assert reconcile(fake, post, journal.sent()) is None


def test_reconcile_without_a_container_is_not_published_and_asks_nothing() -> None:
    """No container handle: media_publish was never sent (it needs one), so None, no request."""
    fake = FakeInstagram()
    assert reconcile(fake, post_with(hosted(fake, "a.jpg")), Sent(datetime.now(UTC), {})) is None
    assert fake.requests == []


def test_reconcile_that_cannot_read_the_container_is_unknown() -> None:
    """The status lookup keeps failing: UnknownOutcomeError naming the container, no token."""
    fake = FakeInstagram()
    post = post_with(hosted(fake, "a.jpg"))
    journal = crashed_publish(fake, post, act=True)
    fake.fail(STATUS, 500, times=10)
    with pytest.raises(UnknownOutcomeError, match="cannot be read") as caught:
        reconcile(fake, post, journal.sent())
    assert journal.handles()["container"] in str(caught.value)
    assert fake.access_token not in str(caught.value)


def test_reconcile_of_a_status_that_says_neither_is_unknown() -> None:
    """A status_code that is neither published nor a not-published state: unknown."""
    fake = FakeInstagram()
    post = post_with(hosted(fake, "a.jpg"))
    journal = crashed_publish(fake, post, act=True)
    fake.fail(STATUS, 200, json={"status_code": "SCHEDULED", "id": "1"})
    with pytest.raises(UnknownOutcomeError, match="SCHEDULED"):
        reconcile(fake, post, journal.sent())


def test_fake_refuses_a_nonexisting_container_field() -> None:
    """The fake answers a field an IG Container lacks with Graph's error 100, as Instagram does."""
    fake = FakeInstagram()
    post = post_with(hosted(fake, "a.jpg"))
    container = crashed_publish(fake, post, act=False).handles()["container"]
    request = httpx.Request(
        "GET",
        f"http://testserver/v25.0/{container}?fields=status_code,permalink",
        headers={"Authorization": f"Bearer {fake.access_token}"},
    )
    response = fake(request)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


# -- real loopback HTTP --------------------------------------------------------


class MediaHost(FakePlatform):
    """A tiny web server for the media files Instagram fetches."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__()
        self.route("GET", r"/media/(?P<name>[^/]+)", lambda r, name: self._file(name, files))

    @staticmethod
    def _file(name: str, files: dict[str, bytes]) -> httpx.Response:
        if name not in files:
            return httpx.Response(404)
        return httpx.Response(200, content=files[name])


def test_loopback_server_fetches_real_urls_and_publishes() -> None:
    """Over real HTTP: Instagram fetches the images from a loopback host and publishes."""
    fake = FakeInstagram()
    host = MediaHost({"a.jpg": JPEG, "b.jpg": JPEG + b"\x01"})

    async def go(origin: str, media_origin: str) -> Published:
        images = tuple(
            MediaFile(f"media/{n}", "image", "image/jpeg", url=f"{media_origin}/media/{n}")
            for n in ("a.jpg", "b.jpg")
        )
        async with httpx.AsyncClient() as client:
            ctx = context(fake, client, api_base=origin)
            return await InstagramAdapter(ctx.settings).publish(post_with(*images), ctx)

    with serve(host) as media_origin, serve(fake) as origin:
        result = run(go(origin, media_origin))
    [published] = fake.posts
    assert published["data"] == [JPEG, JPEG + b"\x01"]
    assert result.url == published["permalink"]
    assert len(host.calls(r"^GET /media/")) == 2
