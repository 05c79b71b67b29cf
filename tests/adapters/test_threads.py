"""Threads against FakeThreads: counting, render, containers and publish, errors, reconcile,
token renewal, and one loopback run of the CLI."""

from __future__ import annotations

import json
import shutil
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from crosspost.adapter import Part, Post, Published, Sent
from crosspost.api import Journal, PublishContext
from crosspost.credentials import Credentials
from crosspost.errors import (
    AuthError,
    InvalidContentError,
    PlatformError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost.models import MediaKind
from crosspost.planning import plan_file
from crosspost.units import Unit
from crosspost_adapters.threads import ThreadsAdapter, ThreadsSettings, threads_length
from tests.adapters.support import Crashed, RecordingJournal, crash_at, run
from tests.conftest import EXAMPLE
from tests.fakes.facebook import token_of
from tests.fakes.server import serve
from tests.fakes.threads import FakeThreads
from tests.fakes.world import World
from tests.test_e2e import crosspost

CREATE = r"^POST /v\d+\.\d+/\d+/threads$"
PUBLISH = r"^POST /v\d+\.\d+/\d+/threads_publish$"
STATUS = r"^GET /v\d+\.\d+/18\d+$"
JPEG = (EXAMPLE / "media" / "humas.jpg").read_bytes()
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(4000)
BASE = "https://kab-musirawas.kpu.go.id/crosspost"


# -- helpers -----------------------------------------------------------------------


def hosted(fake: FakeThreads, name: str, kind: MediaKind = "image") -> MediaFile:
    """A media file at a public URL the fake can fetch."""
    url = f"{BASE}/media/{name}"
    fake.media[url] = JPEG if kind == "image" else MP4
    mime = "image/jpeg" if kind == "image" else "video/mp4"
    return MediaFile(f"media/{name}", kind, mime, url=url, alt=f"alt of {name}")


def post_with(*media: MediaFile, text: str = "Halo #TemanPemilih dari KPU Musi Rawas") -> Post:
    """A hand-made Threads post."""
    return Post("threads", Unit.CHARS, (Part(text, threads_length(text), 500),), media=media)


def context(
    fake: FakeThreads,
    client: httpx.AsyncClient,
    *,
    credentials: Credentials | None = None,
    journal: Journal | None = None,
) -> PublishContext:
    """A publish context pointed at ``fake``."""
    settings = ThreadsSettings(api_base="http://testserver", threads_user_id=fake.user_id)
    creds = credentials or Credentials(
        "threads", environ={"CROSSPOST_THREADS_ACCESS_TOKEN": fake.access_token}
    )
    return PublishContext(
        client=client,
        platform="threads",
        settings=settings,
        credentials=creds,
        poll_interval=0,
        journal=journal or Journal(),
    )


def publish(
    fake: FakeThreads,
    post: Post,
    transport: httpx.AsyncBaseTransport | None = None,
    **kw: Any,
) -> Published:
    """Publish ``post`` in-process."""

    async def go() -> Published:
        async with httpx.AsyncClient(transport=transport or fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await ThreadsAdapter(ctx.settings).publish(post, ctx)

    result: Published = run(go())
    return result


def reconcile(fake: FakeThreads, post: Post, sent: Sent) -> Any:
    """What a later run's ``reconcile`` finds."""

    async def go() -> Any:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client)
            return await ThreadsAdapter(ctx.settings).reconcile(post, sent, ctx)

    return run(go())


def failure(fake: FakeThreads, post: Post, **kw: Any) -> PlatformError:
    """The PlatformError a publish raised."""
    with pytest.raises(PlatformError) as info:
        publish(fake, post, **kw)
    return info.value


def example(tmp_path: Path, **threads: Any) -> Path:
    """The example announcement beside a config with a [platforms.threads] table."""
    folder = tmp_path / "example"
    shutil.copytree(EXAMPLE, folder)
    config = tomllib.loads((folder / "crosspost.toml").read_text("utf-8"))
    config.setdefault("platforms", {})["threads"] = {"threads_user_id": "1", **threads}
    (folder / "crosspost.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    return folder / "announcement.toml"


def rendered(path: Path) -> Post:
    """The announcement's Threads post."""
    [post] = plan_file(path, only=["threads"]).posts
    return post


# -- counting and render -------------------------------------------------------------


def test_threads_counts_characters_and_each_emoji_as_its_utf8_bytes() -> None:
    """Letters and CJK count 1 each; 😀 4; ©️ (symbol + VS16) 5; 1️⃣ 7; a ZWJ family 25."""
    assert threads_length("Pemilu 2024") == 11
    assert threads_length("日本") == 2
    assert threads_length("a😀") == 5
    assert threads_length("\u00a9\ufe0f") == 5
    assert threads_length("1\ufe0f\u20e3") == 7
    assert threads_length("👨\u200d👩\u200d👧\u200d👦") == 25
    assert threads_length("👍🏽") == 8


def test_the_example_fits_500_with_its_media_at_public_urls_and_one_hashtag(
    tmp_path: Path,
) -> None:
    """The long example is trimmed to 500 by Threads' count; the photo and the video go as a
    carousel from media_base_url; the inline #TemanPemilih is the one hashtag, so the listed
    ones are left out with a warning that says why."""
    post = rendered(example(tmp_path, media_base_url=BASE))
    assert post.problems == ()
    assert post.trimmed and threads_length(post.text) <= 500
    assert post.parts[0].length == threads_length(post.text)
    assert [m.url for m in post.media] == [f"{BASE}/media/humas.jpg", f"{BASE}/media/humas.mp4"]
    assert "hashtag:#KPUMelayani" in post.dropped
    assert any("Threads takes 1 hashtag" in w for w in post.warnings)


def test_emoji_are_trimmed_by_their_bytes_not_as_one_character(tmp_path: Path) -> None:
    """100 words of "Pemilu 🎉" are 900 code points but 1,300 by Threads' count: trimmed."""
    path = example(tmp_path)
    text = path.read_text("utf-8")
    start = text.index("body = '''")
    end = text.index("'''", start + 10) + 3
    body = " ".join(["Pemilu 🎉"] * 100)
    assert len(body) == 899 and threads_length(body) == 1_199
    path.write_text(text[:start] + f'body = "{body}"' + text[end:], "utf-8")
    post = rendered(path)
    assert post.trimmed and post.problems == ()
    assert 480 <= threads_length(post.text) <= 500
    assert len(post.text) < 400  # counted as code points it would have kept far more


def test_without_web_hosting_the_text_goes_alone_with_a_warning(tmp_path: Path) -> None:
    """No media_base_url and no url: Threads cannot fetch the media, the text still posts."""
    post = rendered(example(tmp_path))
    assert post.media == () and post.problems == ()
    assert any("posts the text only" in w and "media_base_url" in w for w in post.warnings)


def test_more_than_five_links_is_a_problem(tmp_path: Path) -> None:
    """Threads refuses a post with more than 5 distinct links: render says so."""
    path = example(tmp_path)
    text = path.read_text("utf-8")
    links = " ".join(f"https://kpu.go.id/{n}" for n in range(6))
    start = text.index("body = '''")
    end = text.index("'''", start + 10) + 3
    path.write_text(text[:start] + f'body = "Tautan: {links}"' + text[end:], "utf-8")
    post = rendered(path)
    [problem] = post.problems
    # Six in the body and the Find Us block's website: every link the post sends counts.
    assert "https://kab-musirawas.kpu.go.id" in post.text
    assert problem == "the text has 7 links; Threads refuses posts with more than 5: remove 2"


# -- publishing ---------------------------------------------------------------------------


def test_a_text_post_is_a_text_container_then_threads_publish() -> None:
    """TEXT container with the text, then threads_publish?creation_id=, then the permalink;
    the token only in the Authorization header."""
    fake = FakeThreads()
    journal = RecordingJournal(lambda: len(fake.calls(PUBLISH)))
    published = publish(fake, post_with(), journal=journal)
    [create] = fake.calls(CREATE)
    assert dict(httpx.QueryParams(create.content.decode())) == {
        "media_type": "TEXT",
        "text": "Halo #TemanPemilih dari KPU Musi Rawas",
    }
    [release] = fake.calls(PUBLISH)
    [container] = fake.containers
    assert release.url.params["creation_id"] == container
    assert all(token_of(r) == fake.access_token for r in fake.requests)
    assert all(fake.access_token not in str(r.url) for r in fake.requests)
    [post] = fake.posts
    assert post["media_type"] == "TEXT" and post["text"] == "Halo #TemanPemilih dari KPU Musi Rawas"
    assert published == Published(post["id"], post["permalink"], (post["id"], container))
    # The container was journaled, then sending, both before threads_publish went out.
    kinds = [(kind, handles, seen) for kind, handles, seen in journal.events]
    assert kinds[:2] == [("remember", {"container": container}, 0), ("sending", {}, 0)]
    assert ("remember", {"media_id": post["id"]}, 1) in kinds


def test_an_image_and_a_video_go_as_a_carousel_after_the_video_is_processed() -> None:
    """Two carousel items (alt text kept), the video polled until FINISHED, a CAROUSEL parent
    with the text and both children, then one publish."""
    fake = FakeThreads(polls_until_finished=2)
    photo, clip = hosted(fake, "humas.jpg"), hosted(fake, "humas.mp4", "video")
    publish(fake, post_with(photo, clip))
    creates = [dict(httpx.QueryParams(r.content.decode())) for r in fake.calls(CREATE)]
    image, video, parent = creates
    assert image == {
        "media_type": "IMAGE",
        "image_url": photo.url,
        "alt_text": "alt of humas.jpg",
        "is_carousel_item": "true",
    }
    assert video["media_type"] == "VIDEO" and video["video_url"] == clip.url
    children = [c for c, e in fake.containers.items() if e["item"]]
    assert parent == {
        "media_type": "CAROUSEL",
        "children": ",".join(children),
        "text": "Halo #TemanPemilih dari KPU Musi Rawas",
    }
    [post] = fake.posts
    assert post["media_type"] == "CAROUSEL" and post["urls"] == [photo.url, clip.url]
    assert len(fake.calls(STATUS)) >= 4  # the video polled IN_PROGRESS twice, then FINISHED


def test_an_image_threads_cannot_fetch_fails_before_anything_is_published() -> None:
    """The container's ERROR (the fetch failed) is a content error; no publish is sent."""
    fake = FakeThreads()
    photo = MediaFile("media/x.jpg", "image", "image/jpeg", url="https://nowhere.example/x.jpg")
    error = failure(fake, post_with(photo))
    assert isinstance(error, InvalidContentError)
    assert error.message == "Threads could not process media/x.jpg: FAILED_DOWNLOADING_IMAGE"
    assert fake.calls(PUBLISH) == [] and fake.posts == []


def test_an_expired_token_is_an_auth_error_that_says_what_to_set() -> None:
    """Graph's 190/463 is an AuthError naming the variable to set; nothing is posted."""
    fake = FakeThreads()
    fake.expire(fake.access_token)
    error = failure(fake, post_with())
    assert isinstance(error, AuthError)
    assert "code 190, subcode 463" in error.message
    assert "CROSSPOST_THREADS_ACCESS_TOKEN" in error.message
    assert fake.access_token not in error.message and fake.posts == []


def test_a_lost_publish_answer_is_confirmed_from_the_container() -> None:
    """threads_publish lands but its answer is a 500: the container says PUBLISHED, and the
    post is found by its text: published once, with its permalink."""
    fake = FakeThreads()
    fake.fail(PUBLISH, 500, json={"error": {"message": "x", "code": 2}}, after=True)
    published = publish(fake, post_with())
    [post] = fake.posts
    assert published.remote_id == post["id"] and published.url == post["permalink"]
    assert len(fake.calls(PUBLISH)) == 1


def test_a_crash_after_threads_publish_landed_is_reconciled_as_published() -> None:
    """The run dies right after threads_publish reached Threads: the next run's reconcile
    reads the journaled container (PUBLISHED) and finds the post; nothing is sent again."""
    fake = FakeThreads()
    journal = RecordingJournal()
    with pytest.raises(Crashed):
        publish(fake, post_with(), crash_at(fake.transport(), PUBLISH, act=True), journal=journal)
    found = reconcile(fake, post_with(), journal.sent())
    [post] = fake.posts
    assert found == Published(post["id"], post["permalink"], (post["id"], post["container"]))
    assert len(fake.calls(PUBLISH)) == 1


def test_a_crash_before_threads_publish_arrived_is_reconciled_as_not_published() -> None:
    """The run dies as threads_publish is sent, before Threads saw it: the container is still
    FINISHED, so reconcile says not published (a new publish cannot post twice)."""
    fake = FakeThreads()
    journal = RecordingJournal()
    with pytest.raises(Crashed):
        publish(fake, post_with(), crash_at(fake.transport(), PUBLISH, act=False), journal=journal)
    assert reconcile(fake, post_with(), journal.sent()) is None
    assert fake.posts == []


def test_a_container_status_that_cannot_be_read_leaves_the_outcome_unknown() -> None:
    """Reconcile cannot read the container (Threads is down): unknown, not "not published"."""
    fake = FakeThreads()
    fake.fail(STATUS, 503, times=5)
    sent = Sent(datetime.now(UTC), {"container": "18000001"})
    with pytest.raises(UnknownOutcomeError):
        reconcile(fake, post_with(), sent)


# -- renewal --------------------------------------------------------------------------------


def stored(tmp_path: Path, fake: FakeThreads, **meta: Any) -> Credentials:
    """Credentials from a file holding the fake's token and ``meta``."""
    file = tmp_path / "credentials.toml"
    creds = Credentials("threads", environ={}, file=file)
    creds.store.update("threads", {"access_token": fake.access_token, **meta})
    return Credentials("threads", environ={}, file=file)


def renew(fake: FakeThreads, creds: Credentials, horizon: float = 3600.0) -> None:
    async def go() -> None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, credentials=creds)
            await ThreadsAdapter(ctx.settings).renew(ctx, horizon)

    run(go())


def test_an_old_token_is_refreshed_and_saved_before_it_is_used(tmp_path: Path) -> None:
    """A token 10 days old is refreshed with th_refresh_token; the new one and its 60-day
    expiry are saved, and the next publish uses it."""
    fake = FakeThreads()
    now = datetime.now(UTC)
    creds = stored(
        tmp_path, fake, obtained_at=now - timedelta(days=10), expires_at=now + timedelta(days=50)
    )
    renew(fake, creds)
    [refresh] = fake.calls(r"^GET /refresh_access_token$")
    assert refresh.url.params["grant_type"] == "th_refresh_token"
    again = Credentials("threads", environ={}, file=tmp_path / "credentials.toml")
    token = again.get("access_token")
    assert token is not None and token != fake.access_token and token in fake.tokens
    expires = again.expires_at()
    assert expires is not None and expires > now + timedelta(days=59)
    publish(fake, post_with(), credentials=again)
    assert token_of(fake.calls(PUBLISH)[0]) == token


def test_a_young_token_is_left_alone(tmp_path: Path) -> None:
    """A token a day and a half old, lasting for weeks: no refresh call."""
    fake = FakeThreads()
    now = datetime.now(UTC)
    creds = stored(
        tmp_path, fake, obtained_at=now - timedelta(hours=36), expires_at=now + timedelta(days=58)
    )
    renew(fake, creds)
    assert fake.calls(r"refresh_access_token") == []


def test_an_expired_token_cannot_be_renewed(tmp_path: Path) -> None:
    """Threads refreshes only unexpired tokens: an AuthError that says what to set."""
    fake = FakeThreads()
    now = datetime.now(UTC)
    creds = stored(tmp_path, fake, expires_at=now - timedelta(days=1))
    with pytest.raises(AuthError, match=r"expired on .*CROSSPOST_THREADS_ACCESS_TOKEN"):
        renew(fake, creds)
    assert fake.calls(r"refresh_access_token") == []


# -- the CLI over loopback --------------------------------------------------------------------


def test_publish_now_posts_an_image_to_threads_through_the_cli(tmp_path: Path) -> None:
    """`crosspost publish --now --json` on an announcement that targets Threads: one IMAGE
    container fetched from media_base_url, one publish, the permalink in the JSON result."""
    fake = FakeThreads()
    folder = tmp_path / "pengumuman"
    (folder / "media").mkdir(parents=True)
    shutil.copy(EXAMPLE / "media" / "humas.jpg", folder / "media" / "humas.jpg")
    fake.media[f"{BASE}/media/humas.jpg"] = JPEG
    (folder / "threads.toml").write_text(
        'id = "threads-e2e"\n'
        'targets = ["threads"]\n'
        'body = "Pelatihan kehumasan 🎉 #TemanPemilih"\n'
        "[[media]]\n"
        'path = "media/humas.jpg"\n'
        'alt = "Peserta pelatihan"\n',
        encoding="utf-8",
    )
    with serve(fake) as origin:
        config = tmp_path / "config.toml"
        config.write_text(
            tomli_w.dumps(
                {
                    "profile": {"name": "KPU Kabupaten Musi Rawas"},
                    "platforms": {
                        "threads": {
                            "api_base": origin,
                            "threads_user_id": fake.user_id,
                            "media_base_url": BASE,
                        }
                    },
                }
            ),
            encoding="utf-8",
        )
        env = {"CROSSPOST_THREADS_ACCESS_TOKEN": fake.access_token}
        result = crosspost(
            World(),
            tmp_path,
            "publish",
            "--now",
            "--json",
            str(folder / "threads.toml"),
            env=env,
            config=config,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    [entry] = json.loads(result.stdout)["results"]
    [post] = fake.posts
    assert entry["platform"] == "threads" and entry["status"] == "published"
    assert entry["url"] == post["permalink"]
    assert post["media_type"] == "IMAGE" and post["urls"] == [f"{BASE}/media/humas.jpg"]
    assert post["text"] == "Pelatihan kehumasan 🎉 #TemanPemilih"
    assert post["alt"] == "Peserta pelatihan"
    assert fake.access_token not in result.stdout + result.stderr
