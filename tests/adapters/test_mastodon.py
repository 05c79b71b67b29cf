"""Mastodon: counting as the server does, media choice, publish against FakeMastodon,
a lost answer settled by the Idempotency-Key, reconcile, doctor, and one CLI run."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import tomli_w

from crosspost.adapter import Finding, Part, Post, Published, Resume, Sent
from crosspost.api import Journal, PublishContext
from crosspost.credentials import Credentials
from crosspost.errors import (
    AuthError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost.planning import plan_file
from crosspost.units import Unit
from crosspost_adapters.mastodon import (
    MastodonAdapter,
    MastodonSettings,
    mastodon_length,
)
from crosspost_adapters.mastodon._publish import classify
from tests.adapters.support import Crashed, Recorder, RecordingJournal, crash_at, run
from tests.conftest import EXAMPLE
from tests.fakes.base import multipart
from tests.fakes.mastodon import FakeMastodon, server_length
from tests.fakes.server import serve
from tests.fakes.world import World
from tests.test_e2e import crosspost

STATUSES = r"^POST /api/v1/statuses$"
UPLOAD = r"^POST /api/v2/media$"
POLL = r"^GET /api/v1/media/"
JPEG = (EXAMPLE / "media" / "humas.jpg").read_bytes()
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(4000)


# -- helpers -------------------------------------------------------------------------------


def config_file(tmp_path: Path, **mastodon: Any) -> Path:
    """The example's config with a [platforms.mastodon] table."""
    data = tomllib.loads((EXAMPLE / "crosspost.toml").read_text("utf-8"))
    data.setdefault("platforms", {})["mastodon"] = {"instance": "https://mastodon.example"}
    data["platforms"]["mastodon"].update(mastodon)
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(data), "utf-8")
    return path


def planned(tmp_path: Path, announcement: Path = EXAMPLE / "announcement.toml") -> Post:
    """The announcement's Mastodon post."""
    plan = plan_file(announcement, config_path=config_file(tmp_path), only=["mastodon"])
    [post] = plan.posts
    return post


def announcement(tmp_path: Path, text: str) -> Path:
    """An announcement file in tmp_path with this TOML (media beside it as named)."""
    path = tmp_path / "announcement.toml"
    path.write_text(text, "utf-8")
    return path


def media(tmp_path: Path, name: str, data: bytes, kind: str = "image", alt: str = "") -> MediaFile:
    """A local media file."""
    path = tmp_path / name
    path.write_bytes(data)
    mime = "image/jpeg" if kind == "image" else "video/mp4"
    return MediaFile(name, kind, mime, path=path, alt=alt or f"alt of {name}", size=len(data))  # type: ignore[arg-type]


def post_with(*files: MediaFile, text: str = "Halo #TemanPemilih dari @kpumura") -> Post:
    """A hand-made Mastodon post."""
    return Post(
        platform="mastodon",
        unit=Unit.CHARS,
        parts=(Part(text, mastodon_length(text), 500),),
        media=files,
        options={"visibility": "public"},
        extra={"language": "id"},
    )


def context(
    fake: FakeMastodon,
    client: httpx.AsyncClient,
    journal: Journal | None = None,
    previous: dict[str, Any] | None = None,
    token: str | None = None,
    **settings: Any,
) -> PublishContext:
    """A publish context pointed at ``fake``."""
    values: dict[str, Any] = {
        "instance": "https://mastodon.example",
        "api_base": "http://testserver",
    }
    values.update(settings)
    return PublishContext(
        client=client,
        platform="mastodon",
        settings=MastodonSettings(**values),
        credentials=Credentials(
            "mastodon", environ={"CROSSPOST_MASTODON_ACCESS_TOKEN": token or fake.token}
        ),
        progress=Recorder(),
        poll_interval=0,
        journal=journal or Journal(),
        previous=previous or {},
    )


def publish(
    fake: FakeMastodon,
    post: Post,
    transport: httpx.AsyncBaseTransport | None = None,
    **kw: Any,
) -> Published:
    """Publish ``post`` to ``fake`` in-process."""

    async def go() -> Published:
        async with httpx.AsyncClient(transport=transport or fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await MastodonAdapter(ctx.settings).publish(post, ctx)

    result: Published = run(go())
    return result


def reconcile(fake: FakeMastodon, post: Post, sent: Sent, **kw: Any) -> Published | Resume | None:
    """What a later run's reconcile finds."""

    async def go() -> Published | Resume | None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await MastodonAdapter(ctx.settings).reconcile(post, sent, ctx)

    return run(go())  # type: ignore[no-any-return]


def failure(fake: FakeMastodon, post: Post, **kw: Any) -> PlatformError:
    """Publish and return the PlatformError it raised."""
    with pytest.raises(PlatformError) as info:
        publish(fake, post, **kw)
    return info.value


def fields(request: httpx.Request) -> dict[str, list[str]]:
    """A form-encoded request's fields."""
    return parse_qs(request.content.decode("utf-8"), keep_blank_values=True)


# -- counting and render ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Halo", 4),
        # Every http(s) URL counts 23, however long (posting guide; StatusLengthValidator).
        ("see https://kab-musirawas.kpu.go.id/berita/2023/11/30/humas?x=1 now", 4 + 23 + 4),
        ("https://t.co", 23),
        # A bare domain is not given the concession: it counts as written.
        ("kpu.go.id", 9),
        # A remote mention counts only @user; a local one as written.
        ("@humas@kpu.social halo", 6 + 5),
        ("@humas halo", 11),
        # An e-mail address is not a mention.
        ("tanya humas@kpu.go.id", 21),
        # Grapheme clusters: a family emoji and a flag are one character each.
        ("👨‍👩‍👧 🇮🇩", 3),
        ("é", 1),
    ],
)
def test_length_is_counted_as_the_server_counts(text: str, length: int) -> None:
    """mastodon_length follows Mastodon's rules, and the fake's own reading agrees."""
    assert mastodon_length(text) == length
    assert server_length(text) == length


def test_example_fits_500_with_its_link_counted_as_23(tmp_path: Path) -> None:
    """The example is trimmed to exactly 500 as Mastodon counts: its read-more URL (31
    code points) counts 23, so the text is 508 code points; language "id", the photo."""
    post = planned(tmp_path)
    assert post.trimmed
    assert post.parts[0].length == 500 == server_length(post.text)
    assert len(post.text) == 508
    assert "https://kab-musirawas.kpu.go.id" in post.text
    assert post.extra["language"] == "id"
    assert [m.name for m in post.media] == ["media/humas.jpg"]
    assert post.media[0].alt
    assert any("does not mix them" in w for w in post.warnings)
    assert post.visibility is None
    assert post.problems == ()


def test_max_length_setting_raises_the_limit(tmp_path: Path) -> None:
    """max_length = 1000 (an instance with longer posts): the example fits untrimmed."""
    plan = plan_file(
        EXAMPLE / "announcement.toml",
        config_path=config_file(tmp_path, max_length=5000),
        only=["mastodon"],
    )
    [post] = plan.posts
    assert not post.trimmed
    assert post.parts[0].limit == 5000


def test_media_choice_four_images_or_one_video(tmp_path: Path) -> None:
    """Five images: the first four, with a warning; videos only: the first; a URL-only
    image and an over-long alt text are problems."""
    adapter = MastodonAdapter(MastodonSettings(instance="https://mastodon.example"))
    images = [media(tmp_path, f"{i}.jpg", JPEG) for i in range(5)]
    choice = adapter.choose_media(images, None)  # type: ignore[arg-type]
    assert [m.name for m in choice.media] == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]
    assert any("4 images" in w for w in choice.warnings)
    videos = [media(tmp_path, "a.mp4", MP4, "video"), media(tmp_path, "b.mp4", MP4, "video")]
    choice = adapter.choose_media(videos, None)  # type: ignore[arg-type]
    assert [m.name for m in choice.media] == ["a.mp4"]
    remote = MediaFile("x.jpg", "image", "image/jpeg", url="https://example.org/x.jpg")
    long_alt = media(tmp_path, "l.jpg", JPEG, alt="a" * 1501)
    choice = adapter.choose_media([remote, long_alt], None)  # type: ignore[arg-type]
    assert any("from a file" in p for p in choice.problems)
    assert any("1501 characters" in p for p in choice.problems)


def test_announcement_visibility_is_shown_and_sent(tmp_path: Path) -> None:
    """[platforms.mastodon] visibility = "unlisted" in the announcement: preview says who
    sees it, and publish sends visibility=unlisted."""
    (tmp_path / "media").mkdir()
    path = announcement(
        tmp_path,
        'body = "Halo #TemanPemilih"\nlanguage = "en-GB"\ntargets = ["mastodon"]\n'
        '[platforms.mastodon]\nvisibility = "unlisted"\n',
    )
    post = planned(tmp_path, path)
    assert post.visibility is not None and "unlisted" in post.visibility
    assert post.extra["language"] == "en"
    fake = FakeMastodon()
    result = publish(fake, post)
    [sent] = fake.calls(STATUSES)
    assert fields(sent)["visibility"] == ["unlisted"]
    assert fields(sent)["language"] == ["en"]
    assert result.visibility == post.visibility


# -- publish ---------------------------------------------------------------------------------


def test_images_uploaded_with_alt_text_then_one_status_with_a_journaled_key(
    tmp_path: Path,
) -> None:
    """Two images: two uploads with file and description, then POST /api/v1/statuses with
    status, media_ids[] in order, visibility, language and an Idempotency-Key that the
    journal held before the request went out."""
    fake = FakeMastodon()
    a, b = media(tmp_path, "a.jpg", JPEG), media(tmp_path, "b.jpg", JPEG)
    post = post_with(a, b)
    journal = RecordingJournal(probe=lambda: len(fake.calls(STATUSES)))
    result = publish(fake, post, journal=journal)
    uploads = fake.calls(UPLOAD)
    assert [multipart(u)[0] for u in uploads] == [
        {"description": a.alt},
        {"description": b.alt},
    ]
    assert multipart(uploads[0])[1]["file"] == JPEG
    [sent] = fake.calls(STATUSES)
    ids = list(fake.media)
    assert fields(sent) == {
        "status": [post.text],
        "media_ids[]": ids,
        "visibility": ["public"],
        "language": ["id"],
    }
    key = sent.headers["idempotency-key"]
    assert sent.headers["authorization"] == f"Bearer {fake.token}"
    remembered = [h for kind, h, seen in journal.events if "idempotency_key" in h]
    assert remembered[0]["idempotency_key"] == key
    assert remembered[0]["text"] == post.text
    # The key and the "sending" mark were both recorded before any status request.
    assert all(seen == 0 for kind, h, seen in journal.events if kind == "sending")
    assert [e[2] for e in journal.events if "idempotency_key" in e[1]] == [0]
    [status] = fake.statuses
    assert result.remote_id == status["id"]
    assert result.url == f"https://mastodon.example/@kpumura/{status['id']}"
    assert result.visibility is None


def test_video_waits_for_processing_before_the_status(tmp_path: Path) -> None:
    """A video answers 202 without a url; GET /api/v1/media/:id is polled (206, then 200)
    and the status goes only once it is processed."""
    fake = FakeMastodon(polls_until_processed=3)
    clip = media(tmp_path, "clip.mp4", MP4, "video")
    publish(fake, post_with(clip))
    assert len(fake.calls(POLL)) == 3
    order = [f"{r.method} {r.url.path}" for r in fake.requests]
    assert order.index("POST /api/v1/statuses") > max(
        i for i, r in enumerate(order) if r.startswith("GET /api/v1/media/")
    )
    assert fake.statuses[0]["media_attachments"][0]["type"] == "video"


def test_text_only_status_has_no_media_ids() -> None:
    """No media: the form holds no media_ids[]."""
    fake = FakeMastodon()
    publish(fake, post_with())
    assert "media_ids[]" not in fields(fake.calls(STATUSES)[0])


def test_too_long_for_the_instance_is_refused_with_its_words() -> None:
    """A text over the instance's limit (counted as it counts): 422, InvalidContentError
    with the instance's message; nothing posted."""
    fake = FakeMastodon(max_characters=100)
    error = failure(fake, post_with(text="a" * 101))
    assert isinstance(error, InvalidContentError)
    assert "character limit of 100" in error.message
    assert fake.statuses == []


def test_a_refused_token_is_an_auth_error_without_the_token() -> None:
    """401: AuthError naming where to make a token; the token is not in the message."""
    fake = FakeMastodon()
    error = failure(fake, post_with(), token="wrong-token-123")
    assert isinstance(error, AuthError)
    assert "Preferences → Development" in error.message
    assert "wrong-token-123" not in error.message


def test_a_missing_scope_is_an_auth_error_naming_the_scopes(tmp_path: Path) -> None:
    """403 on the upload (no write:media): AuthError naming the scopes to grant."""
    fake = FakeMastodon(scopes=("write:statuses", "read:accounts"))
    error = failure(fake, post_with(media(tmp_path, "a.jpg", JPEG)))
    assert isinstance(error, AuthError)
    assert "write:media" in error.message


def test_rate_limit_reads_mastodons_iso_reset() -> None:
    """429 with X-RateLimit-Reset (ISO 8601): RateLimitedError with the seconds to wait."""
    reset = (datetime.now(UTC) + timedelta(seconds=120)).isoformat()
    request = httpx.Request("POST", "https://mastodon.example/api/v1/statuses")
    response = httpx.Response(
        429,
        json={"error": "Too many requests"},
        headers={"X-RateLimit-Reset": reset},
        request=request,
    )
    error = classify(response)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is not None and 100 < error.retry_after <= 120


# -- lost answers ----------------------------------------------------------------------------


def test_lost_answer_is_sent_again_with_the_same_key_and_posts_once() -> None:
    """The status landed but its answer was lost: the same request with the same key is
    sent again in the same run, and Mastodon answers the status it made."""
    fake = FakeMastodon()
    fake.fail(STATUSES, drop=True, after=True)
    result = publish(fake, post_with())
    first, second = fake.calls(STATUSES)
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.content == second.content
    [status] = fake.statuses
    assert result.remote_id == status["id"]


def test_answers_lost_every_time_end_unknown_then_the_next_run_finds_it() -> None:
    """Every answer lost: unknown (never a third blind post); the next run finds the status
    on the account by its exact text (source), without sending again."""
    fake = FakeMastodon()
    fake.fail(STATUSES, drop=True, after=True, times=3)
    journal = RecordingJournal()
    post = post_with()
    with pytest.raises(UnknownOutcomeError):
        publish(fake, post, journal=journal)
    assert len(fake.statuses) == 1
    sent_before = len(fake.calls(STATUSES))
    found = reconcile(fake, post, journal.sent())
    assert isinstance(found, Published)
    assert found.remote_id == fake.statuses[0]["id"]
    assert len(fake.calls(STATUSES)) == sent_before


def test_within_the_hour_a_send_that_never_landed_resumes_with_the_same_key() -> None:
    """The process died before the status reached the instance: not on the account, the key
    still fresh, so reconcile answers Resume; publish with the earlier handles sends the
    same key once."""
    fake = FakeMastodon()
    journal = RecordingJournal()
    post = post_with()
    with pytest.raises(Crashed):
        publish(
            fake, post, transport=crash_at(fake.transport(), STATUSES, act=False), journal=journal
        )
    assert fake.statuses == []
    sent = journal.sent()
    found = reconcile(fake, post, sent)
    assert isinstance(found, Resume)
    publish(fake, post, previous=dict(sent.handles))
    [again] = fake.calls(STATUSES)
    assert again.headers["idempotency-key"] == sent.handles["idempotency_key"]
    assert len(fake.statuses) == 1


def test_resending_a_landed_status_with_its_key_answers_the_same_status() -> None:
    """The status landed and the process died: publishing again with the journaled key (as
    after Resume) gets the same status back, and the account still has one."""
    fake = FakeMastodon()
    journal = RecordingJournal()
    post = post_with()
    with pytest.raises(Crashed):
        publish(
            fake, post, transport=crash_at(fake.transport(), STATUSES, act=True), journal=journal
        )
    [status] = fake.statuses
    result = publish(fake, post, previous=journal.handles())
    assert result.remote_id == status["id"]
    assert len(fake.statuses) == 1


def test_after_the_hour_the_lookup_decides(tmp_path: Path) -> None:
    """Past the key's hour: a status that landed is found by its text; one that did not,
    after ``settle``, is not published (publishing again is safe)."""
    fake = FakeMastodon()
    journal = RecordingJournal()
    post = post_with()
    with pytest.raises(Crashed):
        publish(
            fake, post, transport=crash_at(fake.transport(), STATUSES, act=True), journal=journal
        )
    old = journal.sent(age=4_000)
    handles = dict(old.handles, key_at=old.at.isoformat())
    found = reconcile(fake, post, Sent(old.at, handles))
    assert isinstance(found, Published) and found.remote_id == fake.statuses[0]["id"]
    other = post_with(text="Pengumuman lain yang tidak pernah terkirim")
    absent = reconcile(fake, other, Sent(old.at, dict(handles, text=other.text)))
    assert absent is None


def test_no_key_journaled_means_nothing_was_sent() -> None:
    """A journal without the key: the status request never went out (the key is
    journaled before it): not published, and no request is made."""
    fake = FakeMastodon()
    assert reconcile(fake, post_with(), Sent(datetime.now(UTC), {})) is None
    assert fake.requests == []


# -- doctor ----------------------------------------------------------------------------------


def diagnose(fake: FakeMastodon, post: Post | None = None, **settings: Any) -> list[Finding]:
    """doctor's findings for Mastodon against ``fake``."""

    async def go() -> list[Finding]:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, **settings)
            return await MastodonAdapter(ctx.settings).diagnose(ctx, post)

    return run(go())  # type: ignore[no-any-return]


def test_doctor_warns_when_max_length_differs_from_the_instance() -> None:
    """The instance allows 1000; max_length is the default 500: a warning saying what to set.
    Set to 1000: ok."""
    fake = FakeMastodon(max_characters=1000)
    [finding] = diagnose(fake)
    assert finding.level == "warn"
    assert "max_length = 1000" in finding.message
    [finding] = diagnose(fake, max_length=1000)
    assert finding.level == "ok"


def test_identity_is_the_tokens_account() -> None:
    """identity: verify_credentials' account."""
    fake = FakeMastodon()

    async def go() -> Any:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client)
            return await MastodonAdapter(ctx.settings).identity(ctx)

    account = run(go())
    assert (account.name, account.id) == ("kpumura", fake.account_id)


# -- the CLI over loopback -------------------------------------------------------------------


@pytest.fixture
def world() -> Iterator[World]:
    """The five fakes and a media host on loopback."""
    w = World()
    with w.serving():
        yield w


TARGETED = """\
body = "Halo #TemanPemilih, KPU Musi Rawas membuka pelatihan kehumasan: https://kab-musirawas.kpu.go.id/berita/pelatihan-kehumasan-dan-public-speaking-2023"
language = "id"
targets = ["mastodon", "facebook"]

[[media]]
path = "humas.jpg"
alt = "Peserta pelatihan kehumasan"
"""


def test_cli_publishes_to_mastodon_over_loopback(world: World, tmp_path: Path) -> None:
    """crosspost publish --now --json on an announcement targeting Mastodon: the fake
    instance gets the photo with its alt text and one status; the JSON says published
    with the status's URL; the token appears nowhere in the output."""
    fake = FakeMastodon()
    (tmp_path / "humas.jpg").write_bytes(JPEG)
    path = announcement(tmp_path, TARGETED)
    with serve(fake) as origin:
        config = world.config(tmp_path / "config.toml")
        data = tomllib.loads(config.read_text("utf-8"))
        data["platforms"]["mastodon"] = {"instance": "https://mastodon.example", "api_base": origin}
        config.write_text(tomli_w.dumps(data), "utf-8")
        env = world.environ() | {"CROSSPOST_MASTODON_ACCESS_TOKEN": fake.token}
        result = crosspost(
            world, tmp_path, "publish", "--now", "--json", str(path), env=env, config=config
        )
    assert result.returncode == 0, result.stdout + result.stderr
    results = {r["platform"]: r for r in json.loads(result.stdout)["results"]}
    assert results["mastodon"]["status"] == "published"
    [status] = fake.statuses
    assert results["mastodon"]["url"] == f"https://mastodon.example/@kpumura/{status['id']}"
    assert status["text"].startswith("Halo #TemanPemilih")
    assert status["language"] == "id"
    [upload] = fake.calls(UPLOAD)
    assert multipart(upload) == ({"description": "Peserta pelatihan kehumasan"}, {"file": JPEG})
    assert fake.calls(STATUSES)[0].headers["idempotency-key"]
    assert fake.token not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_cli_rerun_finds_a_status_whose_answers_were_lost(world: World, tmp_path: Path) -> None:
    """Every answer to the status lost: the run ends unknown (exit 3) with one status made;
    the next run reads the journaled key and text back, finds the status, exit 0."""
    fake = FakeMastodon()
    fake.fail(STATUSES, drop=True, after=True, times=3)
    (tmp_path / "humas.jpg").write_bytes(JPEG)
    path = announcement(tmp_path, TARGETED)
    with serve(fake) as origin:
        config = world.config(tmp_path / "config.toml")
        data = tomllib.loads(config.read_text("utf-8"))
        data["platforms"]["mastodon"] = {"instance": "https://mastodon.example", "api_base": origin}
        config.write_text(tomli_w.dumps(data), "utf-8")
        env = world.environ() | {"CROSSPOST_MASTODON_ACCESS_TOKEN": fake.token}
        first = crosspost(world, tmp_path, "publish", "--now", str(path), env=env, config=config)
        assert first.returncode == 3, first.stdout + first.stderr
        again = crosspost(
            world, tmp_path, "publish", "--now", "--json", str(path), env=env, config=config
        )
    assert again.returncode == 0, again.stdout + again.stderr
    results = {r["platform"]: r for r in json.loads(again.stdout)["results"]}
    [status] = fake.statuses
    assert results["mastodon"]["status"] == "published"
    assert results["mastodon"]["url"] == status["url"]
    assert len(fake.calls(STATUSES)) == 3
