"""Facebook Page publishing against FakeFacebook: feed, photos, resumable video, faults."""

from __future__ import annotations

import dataclasses
import functools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from crosspost.adapter import Part, Post, Published, Sent
from crosspost.api import Progress, PublishContext
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
from crosspost.planning import plan_file
from crosspost.units import Unit
from crosspost_adapters._facebook_api import classify
from crosspost_adapters.facebook import FacebookAdapter, FacebookSettings
from tests.adapters.support import Crashed, Recorder, RecordingJournal, crash_at, run
from tests.conftest import EXAMPLE
from tests.fakes.base import form, multipart
from tests.fakes.facebook import FakeFacebook, graph_error
from tests.fakes.server import serve

FEED = r"^POST /v\d+\.\d+/\d+/feed$"
PHOTOS = r"^POST /v\d+\.\d+/\d+/photos$"
VIDEOS = r"^POST /v\d+\.\d+/\d+/videos$"
UPLOAD = r"^POST /v\d+\.\d+/upload:"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


@functools.cache
def planned() -> Post:
    """The example announcement's Facebook post (the seed post, with the photo)."""
    plan = plan_file(EXAMPLE / "announcement.toml", only=["facebook"])
    return plan.posts[0]


def text_post(text: str = "Halo #TemanPemilih, jadwal sosialisasi besok.", **kw: Any) -> Post:
    """A hand-made Facebook post."""
    return Post(
        platform="facebook",
        unit=Unit.CHARS,
        parts=(Part(text, len(text), 63_206),),
        **kw,
    )


def image(tmp_path: Path, name: str = "photo.jpg", data: bytes = JPEG) -> MediaFile:
    """A JPEG file on disk."""
    path = tmp_path / name
    path.write_bytes(data)
    return MediaFile(name, "image", "image/jpeg", path=path, size=len(data))


def video(tmp_path: Path, size: int = 3 * 1024 * 1024 + 17, mime: str = "video/mp4") -> MediaFile:
    """A video file of ``size`` bytes that starts like an MP4 (more than one read chunk)."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    data = head + random.Random(size).randbytes(size - len(head))
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    return MediaFile("media/clip.mp4", "video", mime, path=path, size=size)


def context(
    fake: FakeFacebook,
    client: httpx.AsyncClient,
    env: dict[str, str] | None = None,
    progress: Progress | None = None,
    **settings: Any,
) -> PublishContext:
    """A publish context pointed at ``fake`` through ``client``."""
    values: dict[str, Any] = {
        "api_base": "http://testserver",
        "page_id": fake.page_id,
        "app_id": fake.app_id,
    }
    values.update(settings)
    environ = {"CROSSPOST_FACEBOOK_PAGE_TOKEN": fake.page_token} if env is None else env
    return PublishContext(
        client=client,
        platform="facebook",
        settings=FacebookSettings(**values),
        credentials=Credentials("facebook", environ=environ),
        progress=progress or Progress(),
        poll_interval=0,
    )


def publish(fake: FakeFacebook, post: Post, **kw: Any) -> Published:
    """Publish ``post`` to ``fake`` in-process."""

    async def go() -> Published:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await FacebookAdapter(ctx.settings).publish(post, ctx)

    result: Published = run(go())
    return result


def failure(fake: FakeFacebook, post: Post, **kw: Any) -> PlatformError:
    """Publish and return the PlatformError it raised (any other exception fails the test)."""
    with pytest.raises(PlatformError) as info:
        publish(fake, post, **kw)
    return info.value


def no_token_in_urls(fake: FakeFacebook) -> None:
    """No request carried a token in its URL."""
    for request in fake.requests:
        assert fake.page_token not in str(request.url)
        assert fake.user_token not in str(request.url)
        assert "access_token" not in str(request.url)


# -- happy paths ---------------------------------------------------------------


def test_text_post_goes_to_the_feed_with_the_planned_message() -> None:
    """A text post is one POST /feed whose message is the plan's text, token in the header."""
    fake = FakeFacebook()
    post = text_post()
    result = publish(fake, post)
    [request] = fake.calls(FEED)
    assert json.loads(request.content) == {"message": post.text}
    assert request.headers["authorization"] == f"Bearer {fake.page_token}"
    assert request.url.path == f"/v25.0/{fake.page_id}/feed"
    assert fake.posts[0]["message"] == post.text
    assert result.remote_id == fake.posts[0]["id"]
    assert result.url == f"https://www.facebook.com/{fake.posts[0]['id']}"
    no_token_in_urls(fake)


def test_link_named_by_the_plan_is_sent_as_link() -> None:
    """A link the render side puts in ``extra['link']`` is sent as the feed's ``link``."""
    fake = FakeFacebook()
    post = text_post(extra={"link": "https://kab-musirawas.kpu.go.id"})
    publish(fake, post)
    assert fake.posts[0]["link"] == "https://kab-musirawas.kpu.go.id"
    assert fake.posts[0]["message"] == post.text


def test_example_photo_post_uploads_the_file_with_the_seed_text() -> None:
    """The example's photo goes to /photos as multipart ``source`` with the plan's text."""
    fake = FakeFacebook()
    post = planned()
    assert len(post.media) == 1
    result = publish(fake, post)
    [request] = fake.calls(PHOTOS)
    fields, files = multipart(request)
    assert fields == {"caption": post.text, "published": "true"}
    assert post.media[0].path is not None
    assert files["source"] == post.media[0].path.read_bytes()
    [posted] = fake.posts
    assert posted["kind"] == "photo"
    assert posted["message"] == post.text
    assert result.remote_id == posted["id"]
    assert result.url == f"https://www.facebook.com/{posted['id']}"
    assert not fake.calls(FEED)


def test_photo_with_only_a_url_is_sent_as_url(tmp_path: Path) -> None:
    """A photo known only by its public URL is sent as ``url`` and Facebook fetches it."""
    fake = FakeFacebook()
    url = "https://example.org/media/photo.jpg"
    fake.media[url] = JPEG
    media = MediaFile(url, "image", "image/jpeg", url=url)
    publish(fake, text_post(media=(media,)))
    [request] = fake.calls(PHOTOS)
    assert form(request)["url"] == url
    assert fake.fetched == [url]
    assert fake.posts[0]["photos"]


def test_several_photos_are_uploaded_unpublished_then_attached_to_one_feed_post(
    tmp_path: Path,
) -> None:
    """Several photos: each uploaded with published=false, then one /feed attaches them all."""
    fake = FakeFacebook()
    photos = (image(tmp_path, "a.jpg"), image(tmp_path, "b.jpg", JPEG + b"\x01"))
    post = text_post(media=photos)
    progress = Recorder()
    result = publish(fake, post, progress=progress)
    uploads = fake.calls(PHOTOS)
    assert [multipart(r)[0] for r in uploads] == [{"published": "false"}] * 2
    ids = list(fake.photos)
    [request] = fake.calls(FEED)
    assert json.loads(request.content) == {
        "message": post.text,
        "attached_media": [{"media_fbid": i} for i in ids],
    }
    [posted] = fake.posts
    assert posted["photos"] == ids
    assert all(fake.photos[i]["attached_to"] == posted["id"] for i in ids)
    assert result.ids == (posted["id"], *ids)
    assert "uploading photo 2 of 2" in progress.steps


def test_video_goes_up_in_chunks_with_the_page_token_alone_and_gets_its_title(
    tmp_path: Path,
) -> None:
    """A video: start, transfers of Facebook's chunks, finish with title and text; only the
    Page token (no user token, no app id) and nothing in any URL."""
    fake = FakeFacebook()
    clip = video(tmp_path)
    post = text_post(media=(clip,), title=Part("Jadwal Sosialisasi", 18, 100))
    progress = Recorder()
    result = publish(fake, post, progress=progress, app_id=None)
    calls = fake.calls(VIDEOS)
    assert [_phase(c) for c in calls] == ["start", *["transfer"] * 4, "finish"]
    assert all(c.url.host == "testserver" for c in calls)  # graph-video.facebook.com, rebased
    assert all(c.headers["authorization"] == f"Bearer {fake.page_token}" for c in calls)
    start, *transfers, finish = (_fields(c) for c in calls)
    assert start["file_size"] == str(clip.size)
    assert [t["start_offset"] for t in transfers] == ["0", "1000000", "2000000", "3000000"]
    assert finish["title"] == "Jadwal Sosialisasi"
    assert finish["description"] == post.text
    [posted] = fake.posts
    assert clip.path is not None
    assert posted["bytes"] == clip.path.read_bytes()
    assert posted["title"] == "Jadwal Sosialisasi"
    assert result.remote_id == posted["video_id"]
    assert result.url == f"https://www.facebook.com/{fake.page_id}/videos/{posted['video_id']}"
    assert progress.started == [clip.size]
    assert progress.sent == clip.size
    assert "uploading video" in progress.steps
    assert not fake.calls(UPLOAD) and not fake.calls(r"/uploads$")
    no_token_in_urls(fake)


def _fields(request: httpx.Request) -> dict[str, str]:
    fields, _files = multipart(request)
    return {**form(request), **fields}


def _phase(request: httpx.Request) -> str:
    return _fields(request).get("upload_phase", "")


def test_video_without_a_title_is_published_without_one(tmp_path: Path) -> None:
    """No title in the post: the finish sends none and the fake records none."""
    fake = FakeFacebook()
    publish(fake, text_post(media=(video(tmp_path, 5000),)))
    assert "title" not in _fields(fake.calls(VIDEOS)[-1])
    assert fake.posts[0]["title"] is None


def test_a_dropped_chunk_is_sent_again_and_the_video_goes_out_once(tmp_path: Path) -> None:
    """The connection drops during a transfer (nothing kept): the chunk is sent again."""
    fake = FakeFacebook()
    fake.cut_upload_at = 500_000
    clip = video(tmp_path, 2 * 1024 * 1024)
    publish(fake, text_post(media=(clip,)))
    offsets = [_fields(c)["start_offset"] for c in fake.calls(VIDEOS) if _phase(c) == "transfer"]
    assert offsets == ["0", "0", "1000000", "2000000"]
    [posted] = fake.posts
    assert clip.path is not None and posted["bytes"] == clip.path.read_bytes()


def test_a_chunk_whose_answer_was_lost_resumes_where_facebook_says(tmp_path: Path) -> None:
    """A chunk landed but its answer was lost: the resend is refused with 1363037 and the
    offsets Facebook wants, and the upload goes on from there."""
    fake = FakeFacebook()
    clip = video(tmp_path, 2 * 1024 * 1024)
    transfers = 0

    def lose_first_transfer_answer(request: httpx.Request) -> httpx.Response:
        nonlocal transfers
        response = fake(request)
        if _phase(request) == "transfer":
            transfers += 1
            if transfers == 1:
                raise httpx.ReadError("connection lost", request=request)
        return response

    async def go() -> Published:
        transport = httpx.MockTransport(lose_first_transfer_answer)
        async with httpx.AsyncClient(transport=transport) as client:
            ctx = context(fake, client)
            return await FacebookAdapter(ctx.settings).publish(text_post(media=(clip,)), ctx)

    result = run(go())
    offsets = [_fields(c)["start_offset"] for c in fake.calls(VIDEOS) if _phase(c) == "transfer"]
    assert offsets == ["0", "0", "1000000", "2000000"]  # the resend refused, then as told
    [posted] = fake.posts
    assert clip.path is not None and posted["bytes"] == clip.path.read_bytes()
    assert result.remote_id == posted["video_id"]


def test_fake_refuses_a_chunk_it_does_not_expect_with_the_offsets_it_wants() -> None:
    """The fake answers a wrong start_offset as Facebook does: 1363037 with error_data."""
    fake = FakeFacebook(chunk_size=10)
    auth = {"Authorization": f"Bearer {fake.page_token}"}
    url = f"/v25.0/{fake.page_id}/videos"
    with httpx.Client(transport=fake.transport(), base_url="http://testserver") as http:
        started = http.post(url, data={"upload_phase": "start", "file_size": "25"}, headers=auth)
        session = started.json()["upload_session_id"]
        assert started.json()["start_offset"] == "0" and started.json()["end_offset"] == "10"
        wrong = http.post(
            url,
            data={"upload_phase": "transfer", "upload_session_id": session, "start_offset": "10"},
            files={"video_file_chunk": ("c", b"x" * 10)},
            headers=auth,
        )
        early = http.post(
            url, data={"upload_phase": "finish", "upload_session_id": session}, headers=auth
        )
    error = wrong.json()["error"]
    assert wrong.status_code == 400 and error["error_subcode"] == 1363037
    assert error["error_data"] == {"start_offset": "0", "end_offset": "10"}
    assert early.status_code == 400 and not fake.posts


def test_finish_dropped_after_facebook_acted_is_found_by_the_video_id(tmp_path: Path) -> None:
    """The finish landed but its answer was lost: the video is found among the Page's
    videos by the id the start gave, and published once."""
    fake = FakeFacebook()
    post = text_post(media=(video(tmp_path, 5000),))
    finish = r"^POST /v[\d.]+/\d+/videos$"
    journal = RecordingJournal()

    def drop_finish(request: httpx.Request) -> httpx.Response:
        response = fake(request)
        if _phase(request) == "finish":
            raise httpx.ReadError("connection lost", request=request)
        return response

    result = journaled(fake, post, journal, httpx.MockTransport(drop_finish))
    [posted] = fake.posts
    assert result.remote_id == posted["video_id"]
    assert len([c for c in fake.calls(finish) if _phase(c) == "finish"]) == 1
    assert fake.calls(r"^GET /v[\d.]+/\d+/videos$")


def test_video_with_only_a_url_is_sent_as_file_url() -> None:
    """A video known only by its URL is created with ``file_url`` and no upload."""
    fake = FakeFacebook()
    url = "https://example.org/clip.mp4"
    fake.media[url] = b"\x00\x00\x00\x18ftypmp42" + bytes(100)
    publish(fake, text_post(media=(MediaFile(url, "video", "video/mp4", url=url),)))
    assert form(fake.calls(VIDEOS)[0])["file_url"] == url
    assert not fake.calls(UPLOAD)


# -- video_upload = "app": the Resumable Upload API with a user token ----------------------

APP_ENV = {
    "CROSSPOST_FACEBOOK_PAGE_TOKEN": "fb-page-token-0123456789",
    "CROSSPOST_FACEBOOK_USER_TOKEN": "fb-user-token-0123456789",
}


def app_publish(fake: FakeFacebook, post: Post, **kw: Any) -> Published:
    """Publish with ``video_upload = "app"`` and both tokens."""
    kw.setdefault("env", APP_ENV)
    return publish(fake, post, video_upload="app", **kw)


def test_app_upload_sends_the_session_id_exactly_as_facebook_returned_it(tmp_path: Path) -> None:
    """The session id ``upload:<base64>=?sig=<mac>`` reaches Facebook intact: the base64
    with its "=" padding in the path, the signature as the query string."""
    fake = FakeFacebook()
    clip = video(tmp_path)
    post = text_post(media=(clip,), title=Part("Judul", 5, 100))
    progress = Recorder()
    result = app_publish(fake, post, progress=progress)
    [opened] = fake.calls(r"^POST /v25.0/\d+/uploads$")
    assert dict(opened.url.params) == {
        "file_name": "clip.mp4",
        "file_length": str(clip.size),
        "file_type": "video/mp4",
    }
    assert opened.headers["authorization"] == f"OAuth {fake.user_token}"
    [key] = fake.uploads
    session = fake.session_id(key)
    assert "?sig=" in session and key.endswith("=")
    [sent] = fake.calls(UPLOAD)
    assert sent.url.raw_path.decode() == f"/v25.0/{session}"
    assert sent.url.params["sig"] == session.split("?sig=", 1)[1]
    assert sent.headers["file_offset"] == "0"
    assert sent.headers["authorization"] == f"OAuth {fake.user_token}"
    [create] = fake.calls(VIDEOS)
    assert create.headers["authorization"] == f"Bearer {fake.page_token}"
    params = form(create)
    assert params["description"] == post.text
    assert params["title"] == "Judul"
    [posted] = fake.posts
    assert clip.path is not None
    assert posted["bytes"] == clip.path.read_bytes()
    assert result.remote_id == posted["video_id"]
    assert progress.started == [clip.size] and progress.sent == clip.size
    no_token_in_urls(fake)


def test_fake_refuses_a_percent_encoded_session_id_as_meta_does() -> None:
    """The old bug: the whole id quoted into the path loses the signature; the fake answers
    Meta's "HMAC check failed", and a forged signature is refused too."""
    fake = FakeFacebook()
    auth = {"Authorization": f"OAuth {fake.user_token}"}
    with httpx.Client(transport=fake.transport(), base_url="http://testserver") as http:
        opened = http.post(
            f"/v25.0/{fake.app_id}/uploads",
            params={"file_name": "a.mp4", "file_length": "10", "file_type": "video/mp4"},
            headers=auth,
        )
        session = opened.json()["id"]
        mangled = http.get("/v25.0/" + quote(session, safe=":"), headers=auth)
        forged = http.get(f"/v25.0/{session.split('?')[0]}?sig=AAAA", headers=auth)
        intact = http.get(f"/v25.0/{session}", headers=auth)
    assert mangled.status_code == 400
    assert "HMAC check failed" in mangled.json()["error"]["message"]
    assert mangled.json()["error"]["message"].endswith("mac=")
    assert forged.status_code == 400 and "HMAC check failed" in forged.text
    assert intact.status_code == 200 and intact.json()["file_offset"] == 0


def test_app_upload_refuses_the_page_token_as_the_guide_wants_a_user_token(
    tmp_path: Path,
) -> None:
    """The fake's upload session takes a user token only; crosspost sends the user token,
    and without one says what to do before any request."""
    fake = FakeFacebook()
    with httpx.Client(transport=fake.transport(), base_url="http://testserver") as http:
        refused = http.post(
            f"/v25.0/{fake.app_id}/uploads",
            params={"file_name": "a.mp4", "file_length": "10", "file_type": "video/mp4"},
            headers={"Authorization": f"OAuth {fake.page_token}"},
        )
    assert refused.status_code == 403
    with pytest.raises(CredentialsError, match="crosspost auth login facebook") as caught:
        app_publish(
            fake,
            text_post(media=(video(tmp_path, 4096),)),
            env={"CROSSPOST_FACEBOOK_PAGE_TOKEN": fake.page_token},
        )
    assert 'video_upload = "page"' in str(caught.value)
    assert len(fake.requests) == 1  # only the probe above


def test_app_upload_with_an_expired_user_token_stops_before_any_request(tmp_path: Path) -> None:
    """A stored user token past its expiry: an AuthError naming the login command; no
    request, since Facebook cannot renew it."""
    fake = FakeFacebook()
    file = tmp_path / "credentials.toml"
    file.write_text(
        f'[facebook]\npage_token = "{fake.page_token}"\nuser_token = "{fake.user_token}"\n'
        f"expires_at = {(datetime.now(UTC) - timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        'account = "KPU Musi Rawas"\n'
    )
    file.chmod(0o600)

    async def go() -> Published:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = dataclasses.replace(
                context(fake, client, env={}, video_upload="app"),
                credentials=Credentials("facebook", environ={}, file=file),
            )
            return await FacebookAdapter(ctx.settings).publish(
                text_post(media=(video(tmp_path, 4096),)), ctx
            )

    with pytest.raises(AuthError) as caught:
        run(go())
    message = str(caught.value)
    assert "expired on" in message and "crosspost auth login facebook" in message
    assert "the Page KPU Musi Rawas" in message
    assert fake.user_token not in message
    assert fake.requests == []


def test_app_upload_cut_mid_file_resumes_from_facebooks_offset(tmp_path: Path) -> None:
    """A connection dropped mid-upload: the offset is asked and the rest sent; one video."""
    fake = FakeFacebook()
    fake.cut_upload_at = 1_000_000
    clip = video(tmp_path)
    app_publish(fake, text_post(media=(clip,)))
    offsets = [r.headers["file_offset"] for r in fake.calls(UPLOAD) if r.method == "POST"]
    assert offsets[0] == "0"
    assert offsets[-1] == "1000000"
    assert fake.calls(r"^GET /v25.0/upload:")
    [posted] = fake.posts
    assert clip.path is not None
    assert posted["bytes"] == clip.path.read_bytes()
    assert len(fake.calls(VIDEOS)) == 1


def test_app_upload_answer_lost_after_the_last_byte_still_gets_the_handle(
    tmp_path: Path,
) -> None:
    """The upload landed but its answer was lost: the offset says done and the handle follows."""
    fake = FakeFacebook()
    fake.fail(UPLOAD, drop=True, after=True)
    clip = video(tmp_path, 10_000)
    app_publish(fake, text_post(media=(clip,)))
    assert fake.calls(UPLOAD)[-1].headers["file_offset"] == str(clip.size)
    assert len(fake.posts) == 1


def test_app_upload_5xx_is_retried(tmp_path: Path) -> None:
    """A 5xx on the (safe) upload step is retried and the video goes out once."""
    fake = FakeFacebook()
    fake.fail(UPLOAD, 500, json={"error": {"message": "x", "code": 2, "is_transient": True}})
    app_publish(fake, text_post(media=(video(tmp_path, 5000),)))
    assert len(fake.posts) == 1


def test_app_upload_type_facebook_does_not_take_is_refused_readably(tmp_path: Path) -> None:
    """A file_type outside the upload API's list is an InvalidContentError naming the types."""
    fake = FakeFacebook()
    with pytest.raises(InvalidContentError, match="video/mp4"):
        app_publish(fake, text_post(media=(video(tmp_path, 5000, "video/quicktime"),)))
    assert not fake.posts


# -- configuration and credentials ---------------------------------------------


def test_missing_page_id_is_a_config_error_before_any_request() -> None:
    """No page_id: a ConfigError naming [platforms.facebook] page_id, and nothing sent."""
    fake = FakeFacebook()
    with pytest.raises(ConfigError, match=r"\[platforms\.facebook\] page_id"):
        publish(fake, text_post(), page_id=None)
    assert fake.requests == []


def test_app_upload_without_app_id_is_a_config_error_before_any_request(tmp_path: Path) -> None:
    """``video_upload = "app"`` needs app_id: a ConfigError naming it, nothing sent."""
    fake = FakeFacebook()
    with pytest.raises(ConfigError, match=r"\[platforms\.facebook\] app_id"):
        app_publish(fake, text_post(media=(video(tmp_path, 5000),)), app_id=None)
    assert fake.requests == []


def test_missing_token_names_the_variable_before_any_request() -> None:
    """No Page token: a CredentialsError naming CROSSPOST_FACEBOOK_PAGE_TOKEN, nothing sent."""
    fake = FakeFacebook()
    with pytest.raises(CredentialsError, match="CROSSPOST_FACEBOOK_PAGE_TOKEN"):
        publish(fake, text_post(), env={})
    assert fake.requests == []


def test_credentials_declared_by_the_adapter() -> None:
    """The adapter declares the Page token as its one required credential."""
    assert FacebookAdapter.credentials == ("page_token",)


# -- errors --------------------------------------------------------------------


def test_expired_token_is_an_auth_error_without_the_token() -> None:
    """An expired Page token (190/463) is an AuthError saying to get a new Page token."""
    fake = FakeFacebook()
    fake.expire(fake.page_token)
    error = failure(fake, text_post())
    assert isinstance(error, AuthError)
    assert "new Page access token" in str(error)
    assert fake.page_token not in str(error)
    assert not fake.posts


def test_wrong_token_is_an_auth_error() -> None:
    """A token Facebook cannot parse is an AuthError."""
    fake = FakeFacebook()
    error = failure(fake, text_post(), env={"CROSSPOST_FACEBOOK_PAGE_TOKEN": "nope-nope"})
    assert isinstance(error, AuthError)
    assert "nope-nope" not in str(error)


def test_http_401_is_an_auth_error() -> None:
    """A bare 401 (no Graph error object) is an AuthError."""
    fake = FakeFacebook()
    fake.fail(FEED, 401)
    assert isinstance(failure(fake, text_post()), AuthError)


def test_wrong_page_id_says_to_check_the_config() -> None:
    """A page id Facebook does not know (100/33) names the config table to check."""
    fake = FakeFacebook()
    error = failure(fake, text_post(), page_id="999")
    assert isinstance(error, AuthError)
    assert "[platforms.facebook]" in str(error)


def test_short_429_on_the_create_is_waited_out_then_posted_once() -> None:
    """A 429 with a short Retry-After on /feed is retried (it was refused) and posts once."""
    fake = FakeFacebook()
    fake.fail(FEED, 429, headers={"Retry-After": "1"}, json={"error": {"code": 4, "message": "x"}})
    publish(fake, text_post())
    assert len(fake.calls(FEED)) == 2
    assert len(fake.posts) == 1


def test_long_429_is_rate_limited_with_retry_after() -> None:
    """A 429 asking to wait an hour is a RateLimitedError carrying retry_after."""
    fake = FakeFacebook()
    fake.fail(FEED, 429, headers={"Retry-After": "3600"})
    error = failure(fake, text_post())
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 3600
    assert not fake.posts


def test_throttle_code_uses_the_business_use_case_estimate() -> None:
    """Code 80001 with X-Business-Use-Case-Usage: RateLimitedError, retry_after from minutes."""
    fake = FakeFacebook()
    usage = {fake.page_id: [{"type": "pages", "estimated_time_to_regain_access": 10}]}
    fake.fail(
        FEED,
        400,
        json={"error": {"message": "(#80001) too many calls", "code": 80001}},
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    error = failure(fake, text_post())
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 600


def test_5xx_on_an_unpublished_photo_upload_is_retried(tmp_path: Path) -> None:
    """A 500 on a safe step (an unpublished photo) is retried; the post goes out once."""
    fake = FakeFacebook()
    fake.fail(PHOTOS, 500)
    photos = (image(tmp_path, "a.jpg"), image(tmp_path, "b.jpg", JPEG + b"\x02"))
    publish(fake, text_post(media=photos))
    assert len(fake.calls(PHOTOS)) == 3
    assert len(fake.posts) == 1


def test_5xx_on_the_feed_create_is_unknown_and_sent_once() -> None:
    """A 500 on /feed may have landed: UnknownOutcomeError, and /feed is not sent again."""
    fake = FakeFacebook()
    fake.fail(FEED, 500, json={"error": {"message": "An unknown error occurred", "code": 1}})
    error = failure(fake, text_post())
    assert isinstance(error, UnknownOutcomeError)
    assert len(fake.calls(FEED)) == 1


def test_lost_answer_to_a_landed_photo_post_is_found_on_the_feed(tmp_path: Path) -> None:
    """The photo post landed but the answer was lost: found on the Page's feed, sent once."""
    fake = FakeFacebook()
    fake.fail(PHOTOS, drop=True, after=True)
    post = text_post(media=(image(tmp_path),))
    result = publish(fake, post)
    assert len(fake.calls(PHOTOS)) == 1
    assert len(fake.posts) == 1
    assert result.remote_id == fake.posts[0]["id"]
    assert fake.calls(r"GET /v[\d.]+/\d+/feed$")


def test_lost_request_not_on_the_feed_stays_unknown(tmp_path: Path) -> None:
    """The connection dropped before Facebook acted: not on the feed, so still unknown."""
    fake = FakeFacebook()
    fake.fail(PHOTOS, drop=True)
    error = failure(fake, text_post(media=(image(tmp_path),)))
    assert isinstance(error, UnknownOutcomeError)
    assert "not on the Page's feed yet" in str(error)
    assert len(fake.calls(PHOTOS)) == 1
    assert fake.posts == []


def test_dropped_connection_on_the_video_finish_is_unknown(tmp_path: Path) -> None:
    """A finish whose connection dropped before Facebook acted is unknown, sent once."""
    fake = FakeFacebook()
    finishes = 0

    def drop_finish(request: httpx.Request) -> httpx.Response:
        nonlocal finishes
        if _phase(request) == "finish":
            finishes += 1
            raise httpx.ReadError("connection lost", request=request)
        return fake(request)

    async def go() -> Published:
        async with httpx.AsyncClient(transport=httpx.MockTransport(drop_finish)) as client:
            ctx = context(fake, client)
            return await FacebookAdapter(ctx.settings).publish(
                text_post(media=(video(tmp_path, 5000),)), ctx
            )

    with pytest.raises(UnknownOutcomeError):
        run(go())
    assert finishes == 1 and not fake.posts


def test_lost_answer_to_a_landed_app_video_is_found_among_the_pages_videos(
    tmp_path: Path,
) -> None:
    """The /videos create landed but its answer was lost: found among the Page's videos."""
    fake = FakeFacebook()
    fake.fail(VIDEOS, drop=True, after=True)
    result = app_publish(fake, text_post(media=(video(tmp_path, 5000),)))
    assert len(fake.calls(VIDEOS)) == 1
    [posted] = fake.posts
    assert result.remote_id == posted["video_id"]
    assert result.url == f"https://www.facebook.com/{fake.page_id}/videos/{posted['video_id']}"
    assert fake.calls(r"^GET /v[\d.]+/\d+/videos$")


def test_refused_connection_is_transient_and_nothing_escapes() -> None:
    """A refused connection is retried, then a TransientError (no raw httpx error)."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            ctx = context(FakeFacebook(), client)
            await FacebookAdapter(ctx.settings).publish(text_post(), ctx)

    with pytest.raises(TransientError):
        run(go())


def test_duplicate_post_is_refused_readably() -> None:
    """The same message twice: Facebook's 506 becomes 'refused a duplicate of a recent post'."""
    fake = FakeFacebook()
    publish(fake, text_post())
    error = failure(fake, text_post())
    assert isinstance(error, InvalidContentError)
    assert "Facebook refused a duplicate of a recent post" in str(error)
    assert len(fake.posts) == 1


def test_too_long_message_is_refused_by_the_fake() -> None:
    """63,207 characters is one too many: InvalidContentError quoting Facebook."""
    fake = FakeFacebook()
    error = failure(fake, text_post("x" * 63_207))
    assert isinstance(error, InvalidContentError)
    assert "63206" in str(error)


def test_policy_block_is_invalid_content() -> None:
    """Code 368 (blocked for policy) is an InvalidContentError telling to change the post."""
    fake = FakeFacebook()
    fake.fail(FEED, 400, json={"error": {"message": "blocked", "code": 368}})
    error = failure(fake, text_post())
    assert isinstance(error, InvalidContentError)
    assert "change the post" in str(error)


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (400, {"code": 190, "error_subcode": 460}, AuthError),
        (400, {"code": 102}, AuthError),
        (400, {"code": 10}, AuthError),
        (400, {"code": 200}, AuthError),
        (400, {"code": 1, "error_subcode": 4854002}, AuthError),
        (400, {"code": 4}, RateLimitedError),
        (400, {"code": 17}, RateLimitedError),
        (400, {"code": 32}, RateLimitedError),
        (400, {"code": 613}, RateLimitedError),
        (400, {"code": 368, "error_subcode": 1390008}, RateLimitedError),
        (500, {"code": 1}, TransientError),
        (500, {"code": 2}, TransientError),
        (400, {"code": 100, "is_transient": True}, TransientError),
        (400, {"code": 368}, InvalidContentError),
        (400, {"code": 100, "error_subcode": 1346003}, InvalidContentError),
        (400, {"code": 100, "error_subcode": 1404102}, InvalidContentError),
        (400, {"code": 506, "error_subcode": 1366051}, InvalidContentError),
        (400, {"code": 100, "error_subcode": 1366046}, InvalidContentError),
        (400, {"code": 100}, InvalidContentError),
    ],
)
def test_graph_error_codes_map_to_the_error_tree(
    status: int, error: dict[str, Any], kind: type[PlatformError]
) -> None:
    """Each Graph code of docs/platforms/facebook.md becomes the right error class."""
    request = httpx.Request("POST", "https://graph.facebook.com/v25.0/1/feed")
    body = {"error": {"message": "m", "type": "OAuthException", **error}}
    found = classify(httpx.Response(status, json=body, request=request))
    assert type(found) is kind
    assert found.platform == "facebook"
    assert "Facebook" in str(found)


def test_non_graph_answers_map_by_status() -> None:
    """A proxy's HTML 502 is transient, a bare 403 is auth; both readable."""
    request = httpx.Request("POST", "https://graph.facebook.com/v25.0/1/feed")
    assert isinstance(classify(httpx.Response(502, text="<html>", request=request)), TransientError)
    assert isinstance(classify(httpx.Response(403, text="no", request=request)), AuthError)


def test_graph_error_messages_are_redacted() -> None:
    """A token echoed in Facebook's message never reaches the error text."""
    fake = FakeFacebook()
    echoed = graph_error(400, 100, f"bad access_token={fake.page_token}")
    fake.fail(FEED, 400, json=json.loads(echoed.content))
    error = failure(fake, text_post())
    assert fake.page_token not in str(error)


# -- real loopback HTTP --------------------------------------------------------


def test_loopback_server_publishes_a_video_and_a_text(tmp_path: Path) -> None:
    """Over real HTTP: a chunked Page upload with a dropped chunk, then a text post."""
    fake = FakeFacebook()
    fake.cut_upload_at = 700_000
    clip = video(tmp_path, 2 * 1024 * 1024)

    async def go(origin: str) -> tuple[Published, Published]:
        async with httpx.AsyncClient() as client:
            ctx = context(fake, client, api_base=origin)
            adapter = FacebookAdapter(ctx.settings)
            first = await adapter.publish(text_post(media=(clip,)), ctx)
            second = await adapter.publish(text_post(), ctx)
            return first, second

    with serve(fake) as origin:
        first, second = run(go(origin))
    assert [p["kind"] for p in fake.posts] == ["video", "feed"]
    assert clip.path is not None
    assert fake.posts[0]["bytes"] == clip.path.read_bytes()
    assert first.remote_id == fake.posts[0]["video_id"]
    assert second.remote_id == fake.posts[1]["id"]
    no_token_in_urls(fake)


def test_loopback_server_keeps_the_upload_session_id_intact(tmp_path: Path) -> None:
    """Over real HTTP, ``video_upload = "app"``: the signed session id reaches the fake
    as Facebook gave it (a mangled one would be refused), and the video goes out."""
    fake = FakeFacebook()
    clip = video(tmp_path, 200_000)

    async def go(origin: str) -> Published:
        async with httpx.AsyncClient() as client:
            ctx = context(fake, client, env=APP_ENV, api_base=origin, video_upload="app")
            return await FacebookAdapter(ctx.settings).publish(text_post(media=(clip,)), ctx)

    with serve(fake) as origin:
        result = run(go(origin))
    [key] = fake.uploads
    [sent] = fake.calls(UPLOAD)
    assert sent.url.raw_path.decode() == f"/v25.0/{fake.session_id(key)}"
    assert result.remote_id == fake.posts[0]["video_id"]


# -- the journal and reconcile -------------------------------------------------

READS = r"^GET /v[\d.]+/\d+/(feed|videos)$"


def journaled(
    fake: FakeFacebook,
    post: Post,
    journal: RecordingJournal,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Published:
    """Publish ``post`` with ``journal`` receiving the state changes."""

    async def go() -> Published:
        async with httpx.AsyncClient(transport=transport or fake.transport()) as client:
            ctx = dataclasses.replace(context(fake, client), journal=journal)
            return await FacebookAdapter(ctx.settings).publish(post, ctx)

    result: Published = run(go())
    return result


def reconcile(
    fake: FakeFacebook, post: Post, sent: Sent, *, settle: float = 600.0, **kw: Any
) -> Published | None:
    """The next run's reconcile of ``post`` against ``fake``."""

    async def go() -> Published | None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = dataclasses.replace(context(fake, client, **kw), settle=settle)
            return await FacebookAdapter(ctx.settings).reconcile(post, sent, ctx)

    result: Published | None = run(go())
    return result


def crashed(
    fake: FakeFacebook, post: Post, create: str, *, landed: bool, nth: int = 1
) -> RecordingJournal:
    """A run that dies at the ``nth`` request matching ``create`` (after Facebook acted on
    it when ``landed``)."""
    journal = RecordingJournal(lambda: len(fake.calls(create)))
    with pytest.raises(Crashed):
        journaled(fake, post, journal, crash_at(fake.transport(), create, act=landed, nth=nth))
    return journal


def test_handles_are_recorded_before_the_create_and_hold_no_token(tmp_path: Path) -> None:
    """Kind, exact text and photo ids reach the journal before /feed does; the id after."""
    fake = FakeFacebook()
    photos = (image(tmp_path, "a.jpg"), image(tmp_path, "b.jpg", JPEG + b"\x03"))
    post = text_post(media=photos)
    journal = RecordingJournal(lambda: len(fake.calls(FEED)))
    result = journaled(fake, post, journal)
    ids = list(fake.photos)
    assert journal.events == [
        ("remember", {"kind": "feed", "message": post.text, "photo_ids": ids}, 0),
        ("sending", {}, 0),  # recorded while Facebook has not seen the create yet
        ("remember", {"post_id": result.remote_id}, 1),
    ]
    recorded = json.dumps(journal.events)
    assert fake.page_token not in recorded and fake.user_token not in recorded


def test_video_handles_name_the_kind_and_the_video_id_before_the_finish(tmp_path: Path) -> None:
    """A video records kind, description and the id the start gave before the finish, and
    the video id once Facebook confirms."""
    fake = FakeFacebook()
    post = text_post(media=(video(tmp_path, 5000),))
    journal = RecordingJournal(
        lambda: len([c for c in fake.calls(VIDEOS) if _phase(c) == "finish"])
    )
    result = journaled(fake, post, journal)
    assert journal.events == [
        (
            "remember",
            {
                "kind": "video",
                "message": post.text,
                "photo_ids": [],
                "upload_video_id": result.remote_id,
            },
            0,
        ),
        ("sending", {}, 0),
        ("remember", {"video_id": result.remote_id}, 1),
    ]


def test_reconcile_finds_a_feed_post_that_landed_unheard() -> None:
    """The run died after Facebook created the post: the next run finds it on the feed."""
    fake = FakeFacebook()
    post = text_post()
    journal = crashed(fake, post, FEED, landed=True)
    [posted] = fake.posts
    result = reconcile(fake, post, journal.sent())
    assert result == Published(
        posted["id"], f"https://www.facebook.com/{posted['id']}", (posted["id"],)
    )
    assert len(fake.calls(FEED)) == 1  # reconcile only reads
    [read] = fake.calls(r"^GET /v[\d.]+/\d+/feed$")
    assert int(read.url.params["since"]) <= posted["created"] - 5 * 60 + 1
    no_token_in_urls(fake)


def test_reconcile_finds_a_photo_post_with_its_photo_ids(tmp_path: Path) -> None:
    """Several photos attached to a post whose answer was lost: the ids come back too."""
    fake = FakeFacebook()
    photos = (image(tmp_path, "a.jpg"), image(tmp_path, "b.jpg", JPEG + b"\x04"))
    post = text_post(media=photos)
    journal = crashed(fake, post, FEED, landed=True)
    [posted] = fake.posts
    result = reconcile(fake, post, journal.sent())
    assert result is not None
    assert result.ids == (posted["id"], *fake.photos)


def test_reconcile_finds_a_video_that_landed_unheard(tmp_path: Path) -> None:
    """The run died after the finish acted: the next run finds it among the Page's videos."""
    fake = FakeFacebook()
    post = text_post(media=(video(tmp_path, 5000),))
    journal = crashed(fake, post, VIDEOS, landed=True, nth=3)  # start, transfer, finish
    [posted] = fake.posts
    assert journal.handles()["upload_video_id"] == posted["video_id"]
    result = reconcile(fake, post, journal.sent())
    assert result is not None and result.remote_id == posted["video_id"]
    assert result.url == f"https://www.facebook.com/{fake.page_id}/videos/{posted['video_id']}"


def test_reconcile_finds_a_video_by_its_id_even_if_facebook_changed_its_text(
    tmp_path: Path,
) -> None:
    """The video is matched by the id the upload's start gave, not only by its text."""
    fake = FakeFacebook()
    post = text_post(media=(video(tmp_path, 5000),))
    journal = crashed(fake, post, VIDEOS, landed=True, nth=3)
    [posted] = fake.posts
    posted["description"] = post.text + " (edited)"
    result = reconcile(fake, post, journal.sent())
    assert result is not None and result.remote_id == posted["video_id"]


def test_reconcile_long_after_a_create_that_never_landed_says_absent() -> None:
    """Died before Facebook saw the create, and settle has passed: None (safe to publish)."""
    fake = FakeFacebook()
    post = text_post()
    journal = crashed(fake, post, FEED, landed=False)
    assert fake.posts == []
    assert reconcile(fake, post, journal.sent(age=601), settle=600) is None
    assert not fake.calls(FEED)


def test_reconcile_soon_after_a_create_that_never_landed_is_unknown() -> None:
    """Died before Facebook saw the create, a minute ago: unknown, the next run looks again."""
    fake = FakeFacebook()
    post = text_post()
    journal = crashed(fake, post, FEED, landed=False)
    with pytest.raises(UnknownOutcomeError) as caught:
        reconcile(fake, post, journal.sent(age=60), settle=600)
    assert "not on the Page's feed yet" in str(caught.value)
    assert "the next run looks again" in str(caught.value)


def test_reconcile_with_an_unreadable_feed_is_unknown_with_the_cause() -> None:
    """The feed read failing (an expired token): unknown, saying why, no token shown."""
    fake = FakeFacebook()
    post = text_post()
    journal = crashed(fake, post, FEED, landed=True)
    fake.expire(fake.page_token)
    with pytest.raises(UnknownOutcomeError) as caught:
        reconcile(fake, post, journal.sent(age=3600))
    message = str(caught.value)
    assert "the Page's feed could not be read" in message
    assert "new Page access token" in message
    assert fake.page_token not in message


def test_reconcile_with_a_failing_feed_is_unknown() -> None:
    """Facebook answering 500 to every read: unknown, never None."""
    fake = FakeFacebook()
    post = text_post()
    journal = crashed(fake, post, FEED, landed=False)
    fake.fail(READS, 500, json={"error": {"message": "An unknown error", "code": 1}}, times=4)
    with pytest.raises(UnknownOutcomeError, match="temporary problem"):
        reconcile(fake, post, journal.sent(age=3600))


def test_reconcile_follows_paging_without_the_token_in_any_url() -> None:
    """120 posts came after ours: the next page is read with the token in the header only."""
    fake = FakeFacebook()
    post = text_post()
    journal = crashed(fake, post, FEED, landed=True)
    [ours] = fake.posts
    for n in range(120):
        fake.add_post(f"later {n}")
    result = reconcile(fake, post, journal.sent())
    assert result is not None and result.remote_id == ours["id"]
    first, second = fake.calls(r"^GET /v[\d.]+/\d+/feed$")
    assert first.url.params["limit"] == "100"
    assert second.url.params["after"]
    no_token_in_urls(fake)


def test_reconcile_trusts_an_id_facebook_answered() -> None:
    """The answer came back but the run's own record was lost: published, no request."""
    fake = FakeFacebook()
    sent = Sent(
        datetime.now(UTC),
        {"kind": "feed", "message": "m", "photo_ids": ["51"], "post_id": "1_2"},
    )
    result = reconcile(fake, text_post("m"), sent)
    assert result == Published("1_2", "https://www.facebook.com/1_2", ("1_2", "51"))
    assert fake.requests == []


def test_reconcile_of_a_post_without_text_is_unknown() -> None:
    """A photo without a caption cannot be told apart on the feed: unknown, never None."""
    fake = FakeFacebook()
    sent = Sent(datetime.now(UTC) - timedelta(hours=2), {"kind": "photo", "message": ""})
    with pytest.raises(UnknownOutcomeError, match="no text to look for"):
        reconcile(fake, text_post(""), sent)


def test_fake_feed_read_is_strict_and_pages() -> None:
    """fields checked, limit capped at 100, since filters, next carries the token as Graph's."""
    fake = FakeFacebook()
    now = [1_800_000_000.0]
    fake.clock = lambda: now[0]
    for n in range(5):
        fake.add_post(f"post {n}")
        now[0] += 60

    def read(**params: str) -> httpx.Response:
        with httpx.Client(transport=fake.transport(), base_url="http://testserver") as client:
            return client.get(
                f"/v25.0/{fake.page_id}/feed",
                params=params,
                headers={"Authorization": f"Bearer {fake.page_token}"},
            )

    assert read(fields="id,nonsense").status_code == 400
    assert read(since="yesterday-ish").status_code == 400
    assert read(limit="0").status_code == 400
    page = read(fields="id,message", limit="2", since=str(1_800_000_000 + 60)).json()
    assert [p["message"] for p in page["data"]] == ["post 4", "post 3"]
    assert f"access_token={fake.page_token}" in page["paging"]["next"]
    after = page["paging"]["cursors"]["after"]
    rest = read(fields="message", limit="2", since="1800000060", after=after).json()
    assert [p["message"] for p in rest["data"]] == ["post 2", "post 1"]
    assert "next" not in rest["paging"]
    assert len(read(limit="500").json()["data"]) == 5


# -- rendering: a video's title ----------------------------------------------------


def _announce(tmp_path: Path, title: str, media: str) -> Post:
    (tmp_path / "media").mkdir()
    name = Path(media).name
    (tmp_path / "media" / name).write_bytes((EXAMPLE / "media" / name).read_bytes())
    file = tmp_path / "announcement.toml"
    file.write_text(
        f'title = "{title}"\nbody = "Halo #TemanPemilih"\ntargets = ["facebook"]\n'
        f'[[media]]\npath = "{media}"\n',
        encoding="utf-8",
    )
    return plan_file(file, only=["facebook"]).posts[0]


def test_a_video_post_carries_the_announcements_title(tmp_path: Path) -> None:
    """Rendering a video post gives it the announcement's title (photo posts have none)."""
    post = _announce(tmp_path, "Penguatan Peran Kehumasan", "media/humas.mp4")
    assert post.title is not None and post.title.text == "Penguatan Peran Kehumasan"
    assert post.title.limit == 100


def test_a_long_video_title_is_shortened_to_fit(tmp_path: Path) -> None:
    """A title over 100 characters is shortened with a warning, never sent too long."""
    post = _announce(tmp_path, "Sosialisasi " * 12, "media/humas.mp4")
    assert post.title is not None and len(post.title.text) <= 100
    assert any("title" in w for w in post.warnings)


def test_a_photo_post_has_no_title(tmp_path: Path) -> None:
    """Feed and photo posts have no title field on Facebook."""
    assert _announce(tmp_path, "Judul", "media/humas.jpg").title is None


def test_an_announced_video_reaches_the_page_with_its_title(tmp_path: Path) -> None:
    """From the announcement to the Page: the video's finish carries the announcement's
    title, and the Page's video has it."""
    post = _announce(tmp_path, "Penguatan Peran Kehumasan", "media/humas.mp4")
    fake = FakeFacebook()
    publish(fake, post)
    assert _fields(fake.calls(VIDEOS)[-1])["title"] == "Penguatan Peran Kehumasan"
    assert fake.posts[0]["title"] == "Penguatan Peran Kehumasan"


# -- rendering and publishing: a link card for a link-only post ------------------------


def _announce_text(tmp_path: Path, lines: str) -> Post:
    file = tmp_path / "announcement.toml"
    file.write_text(
        f'body = "Jadwal sosialisasi pemilih pemula besok pagi."\ntargets = ["facebook"]\n{lines}',
        encoding="utf-8",
    )
    return plan_file(file, only=["facebook"]).posts[0]


def test_a_link_only_post_sends_its_link_for_the_card(tmp_path: Path) -> None:
    """No media and a ``link``: the plan names it (preview shows it) and the feed gets it
    as ``link``, so Facebook shows the page's card; the text still carries the URL."""
    url = "https://kab-musirawas.kpu.go.id/berita/sosialisasi"
    post = _announce_text(tmp_path, f'link = "{url}"\n')
    assert post.extra["link"] == url
    assert post.to_json()["link"] == url
    fake = FakeFacebook()
    publish(fake, post)
    [request] = fake.calls(FEED)
    assert json.loads(request.content) == {"message": post.text, "link": url}
    assert fake.posts[0]["link"] == url
    assert url in fake.posts[0]["message"]


def test_a_post_without_a_link_sends_none(tmp_path: Path) -> None:
    """No ``link`` in the announcement: the feed gets the message alone."""
    post = _announce_text(tmp_path, "")
    assert "link" not in post.extra
    fake = FakeFacebook()
    publish(fake, post)
    assert json.loads(fake.calls(FEED)[0].content) == {"message": post.text}


def test_a_photo_post_with_a_link_sends_no_link_param(tmp_path: Path) -> None:
    """Photos are the attachment: a photo post carries the link in its text only."""
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "humas.jpg").write_bytes((EXAMPLE / "media" / "humas.jpg").read_bytes())
    post = _announce_text(
        tmp_path, 'link = "https://kab-musirawas.kpu.go.id"\n[[media]]\npath = "media/humas.jpg"\n'
    )
    assert "link" not in post.extra
    fake = FakeFacebook()
    publish(fake, post)
    assert "link" not in _fields(fake.calls(PHOTOS)[0])


@pytest.mark.parametrize(
    "link",
    [
        "kab-musirawas.kpu.go.id",
        "https://",
        "https://kpu go.id/berita",
        "ftp://kab-musirawas.kpu.go.id/file",
        "https://localhost/berita",
    ],
)
def test_fake_feed_refuses_a_link_that_is_not_a_web_address(link: str) -> None:
    """The fake's feed takes ``link`` only as an absolute http(s) URL with a host, as
    Graph does; the refusal reads as a link problem, and nothing is posted."""
    fake = FakeFacebook()
    error = failure(fake, text_post(extra={"link": link}))
    assert isinstance(error, InvalidContentError)
    assert "check that it opens in a browser" in str(error)
    assert fake.posts == []


def test_a_link_to_facebook_itself_is_refused_readably() -> None:
    """Apps may not share facebook.com links: the message says to remove it."""
    fake = FakeFacebook()
    error = failure(fake, text_post(extra={"link": "https://www.facebook.com/kpumura"}))
    assert isinstance(error, InvalidContentError)
    assert "remove that link" in str(error)
    assert fake.posts == []
