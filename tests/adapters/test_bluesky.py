"""Bluesky against FakeBluesky: counting, facets' byte offsets, media, publish, errors, reconcile,
and one loopback run of the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from crosspost.adapter import Fields, Part, Post, Published, Sent
from crosspost.api import Journal, Progress, PublishContext
from crosspost.credentials import Credentials
from crosspost.errors import (
    AuthError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost.models import Overrides
from crosspost.planning import plan_file
from crosspost.units import Unit
from crosspost_adapters.bluesky import (
    BlueskyAdapter,
    BlueskySettings,
    facets,
    hashtags,
    links,
    mentions,
)
from crosspost_adapters.bluesky._publish import TID_ALPHABET, tid
from tests.adapters.support import RecordingJournal, run
from tests.conftest import EXAMPLE
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.server import serve
from tests.fakes.world import World
from tests.test_e2e import crosspost

CREATE = r"^POST /xrpc/com\.atproto\.repo\.createRecord$"
SESSION = r"^POST /xrpc/com\.atproto\.server\.createSession$"
BLOB = r"^POST /xrpc/com\.atproto\.repo\.uploadBlob$"
JPEG = (EXAMPLE / "media" / "humas.jpg").read_bytes()
FAMILY = "👨\u200d👩\u200d👧"  # one grapheme, 18 bytes of UTF-8
ACCENT = "e\u0301"  # one grapheme (e + combining acute), 3 bytes
ADAPTER = BlueskyAdapter(BlueskySettings(handle="kpumura.bsky.social"))


def sliced(text: str, facet: dict[str, Any]) -> str:
    """The text a facet points at, read from the UTF-8 bytes as Bluesky reads it."""
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


# -- counting and render ---------------------------------------------------------


def test_graphemes_count_emoji_sequences_and_combining_marks_as_one() -> None:
    """300 user-perceived characters fit, whatever their code points: "é" as e + accent is one."""
    assert ADAPTER.measure(ACCENT * 300) == 300
    assert ADAPTER.measure("a" * 300) == 300
    assert ADAPTER.measure(FAMILY) == 2  # one grapheme, but 18 of the 3,000 bytes


def test_three_thousand_bytes_limit_counts_too() -> None:
    """300 family emoji are 300 graphemes but 5,400 bytes: over Bluesky's 3,000-byte cap."""
    assert ADAPTER.measure(FAMILY * 300) == 540
    assert ADAPTER.measure(FAMILY * 166) == 299  # 2,988 bytes: fits
    assert ADAPTER.measure(FAMILY * 167) == 301  # 3,006 bytes: does not


def write(tmp_path: Path, body: str, extra: str = "", media: str = "") -> Path:
    """An announcement targeting Bluesky, and its config beside it."""
    (tmp_path / "crosspost.toml").write_text(
        '[platforms.bluesky]\nhandle = "kpumura.bsky.social"\n', encoding="utf-8"
    )
    path = tmp_path / "a.toml"
    path.write_text(
        f'targets = ["bluesky"]\nbody = {json.dumps(body)}\n{extra}\n{media}', encoding="utf-8"
    )
    return path


def test_long_text_is_trimmed_to_300_graphemes_with_langs_and_a_card(tmp_path: Path) -> None:
    """A long Indonesian text is trimmed within 300 graphemes; langs and the card come along."""
    body = ("Kegiatan penguatan peran kehumasan " + ACCENT + " ") * 30
    path = write(
        tmp_path,
        body,
        'language = "id"\ntitle = "Pelatihan Humas"\nlink = "https://kab-musirawas.kpu.go.id/b/1"',
    )
    [post] = plan_file(path, only=["bluesky"]).posts
    assert post.unit == Unit.GRAPHEMES and post.trimmed and not post.problems
    assert post.parts[0].length <= 300 and ADAPTER.measure(post.text) == post.parts[0].length
    assert post.extra["langs"] == ["id"]
    card = post.extra["card"]
    assert card["uri"] == "https://kab-musirawas.kpu.go.id/b/1"
    assert card["title"] == "Pelatihan Humas"
    assert card["description"].endswith("…") and len(card["description"]) <= 300


def test_post_with_an_image_has_no_card(tmp_path: Path) -> None:
    """Images and a card cannot share one embed: the images win."""
    (tmp_path / "p.jpg").write_bytes(JPEG)
    path = write(
        tmp_path,
        "Halo",
        'link = "https://kab-musirawas.kpu.go.id/b/1"',
        '[[media]]\npath = "p.jpg"\nalt = "Foto"\n',
    )
    [post] = plan_file(path, only=["bluesky"]).posts
    assert [m.name for m in post.media] == ["p.jpg"] and "card" not in post.extra
    assert "langs" not in post.extra  # no language given, none invented


def image(name: str, size: int = 1000, alt: str | None = "alt", path: bool = True) -> MediaFile:
    """An image as the loader resolves it."""
    where = Path("/announcements") / name if path else None
    url = None if path else f"https://example.org/{name}"
    return MediaFile(name, "image", "image/jpeg", path=where, url=url, alt=alt, size=size)


def choose(*media: MediaFile) -> tuple[list[str], list[str], list[str]]:
    """Names chosen, warnings and problems."""
    fields = Fields(None, "Halo", (), None, tuple(media), Overrides())
    choice = ADAPTER.choose_media(media, fields)
    return [m.name for m in choice.media], choice.warnings, choice.problems


def test_four_images_at_most_and_the_rest_left_out_with_a_warning() -> None:
    """A post holds four images (app.bsky.embed.images maxLength 4)."""
    names, warnings, problems = choose(*(image(f"{n}.jpg") for n in range(6)))
    assert names == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"] and not problems
    assert any("4 images: the other 2 are left out" in w for w in warnings)


def test_image_over_the_blob_limit_is_a_problem() -> None:
    """2,000,000 bytes is the blob limit; one byte more is refused at render."""
    assert choose(image("ok.jpg", size=2_000_000))[2] == []
    [problem] = choose(image("big.jpg", size=2_000_001))[2]
    assert "big.jpg: too large for Bluesky" in problem and "2,000,000" in problem


def test_video_is_left_out_missing_alt_warned_url_only_image_a_problem() -> None:
    """Videos go nowhere (said plainly); no alt text is a warning; an image without a file
    cannot be uploaded."""
    clip = MediaFile("v.mp4", "video", "video/mp4", path=Path("/a/v.mp4"), size=10)
    names, warnings, problems = choose(clip, image("n.jpg", alt=None), image("u.jpg", path=False))
    assert names == ["n.jpg", "u.jpg"]
    assert any("1 video(s) left out" in w for w in warnings)
    assert any("n.jpg has no alt text" in w for w in warnings)
    assert [p for p in problems if p.startswith("u.jpg: Bluesky takes images as uploads")]


# -- facets --------------------------------------------------------------------


def test_facets_use_utf8_byte_offsets_after_emoji_and_combining_marks() -> None:
    """Every facet's byte range points exactly at its text, after multi-byte characters."""
    text = (
        f"{FAMILY} caf{ACCENT} ＃Pemilu2024 lihat https://kpu.go.id/x. "
        f"(@kpumura.bsky.social) #TemanPemilih!"
    )
    made = facets(text, ADAPTER.graphemes, {"kpumura.bsky.social": "did:plc:abc"})
    got = [(f["features"][0]["$type"].split("#")[1], sliced(text, f)) for f in made]
    assert got == [
        ("tag", "＃Pemilu2024"),
        ("link", "https://kpu.go.id/x"),
        ("mention", "@kpumura.bsky.social"),
        ("tag", "#TemanPemilih"),
    ]
    assert made[0]["index"]["byteStart"] == len(f"{FAMILY} caf{ACCENT} ".encode())
    assert [f["features"][0].get("tag") for f in made if "tag" in f["features"][0]] == [
        "Pemilu2024",
        "TemanPemilih",
    ]
    assert made[1]["features"][0]["uri"] == "https://kpu.go.id/x"
    assert made[2]["features"][0]["did"] == "did:plc:abc"


def test_hashtag_rules_follow_the_app() -> None:
    """Not inside a word, not only digits, trailing punctuation not part of it, at most 64
    graphemes."""
    text = "a#no #2024 #ok!, #" + "x" * 65 + " #" + ACCENT * 64
    tags = [s.value for s in hashtags(text, ADAPTER.graphemes)]
    assert tags == ["ok", ACCENT * 64]


def test_links_need_a_scheme_and_lose_a_closing_parenthesis() -> None:
    """http(s) links only; "(see https://x.org/a)" links x.org/a without the ")"."""
    text = "(see https://x.org/a) kpu.go.id https://w.org/(b) http://y.org"
    assert [s.uri for s in links(text)] == ["https://x.org/a", "https://w.org/(b)", "http://y.org"]


def test_mentions_are_handles_by_syntax_not_emails_or_bare_names() -> None:
    """@kpumura (Instagram's), humas@kpu.go.id and @30.11 are not Bluesky mentions."""
    text = "@kpumura humas@kpu.go.id @Orang.Example.com. @30.11"
    assert [s.value for s in mentions(text)] == ["orang.example.com"]


def test_unresolved_mention_gets_no_facet() -> None:
    """A handle without a DID stays plain text."""
    assert facets("hi @a.example.com", ADAPTER.graphemes, {}) == []


def test_tid_is_13_sortable_characters() -> None:
    """Record keys are TIDs: later times sort later; the first character is 2-j."""
    first, later = tid(1_700_000_000_000_000, 5), tid(1_700_000_000_000_001, 0)
    assert len(first) == 13 and first[0] in TID_ALPHABET[:16] and first < later
    assert set(first) <= set(TID_ALPHABET)


# -- publish -------------------------------------------------------------------


def context(
    fake: FakeBluesky,
    client: httpx.AsyncClient,
    journal: Journal | None = None,
    password: str | None = None,
    **settings: Any,
) -> PublishContext:
    """A publish context pointed at ``fake``."""
    values: dict[str, Any] = {"api_base": "http://testserver", "handle": fake.handle}
    values.update(settings)
    env = {"CROSSPOST_BLUESKY_APP_PASSWORD": password or fake.app_password}
    return PublishContext(
        client=client,
        platform="bluesky",
        settings=BlueskySettings(**values),
        credentials=Credentials("bluesky", environ=env),
        progress=Progress(),
        poll_interval=0,
        journal=journal or Journal(),
    )


def publish(fake: FakeBluesky, post: Post, **kw: Any) -> Published:
    """Publish ``post`` to ``fake`` in-process."""

    async def go() -> Published:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await BlueskyAdapter(ctx.settings).publish(post, ctx)

    result: Published = run(go())
    return result


def reconcile(fake: FakeBluesky, sent: Sent, **kw: Any) -> Published | None:
    """What a later run's reconcile finds."""

    async def go() -> Any:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await BlueskyAdapter(ctx.settings).reconcile(post_of("x"), sent, ctx)

    found: Published | None = run(go())
    return found


def failure(fake: FakeBluesky, post: Post, **kw: Any) -> PlatformError:
    """The PlatformError publishing raised."""
    with pytest.raises(PlatformError) as info:
        publish(fake, post, **kw)
    return info.value


def post_of(text: str, *media: MediaFile, **extra: Any) -> Post:
    """A hand-made Bluesky post."""
    return Post(
        platform="bluesky",
        unit=Unit.GRAPHEMES,
        parts=(Part(text, ADAPTER.measure(text), 300),),
        media=media,
        extra=extra,
    )


CARD = {"uri": "https://kpu.go.id/b", "title": "Judul", "description": "Awal teks"}


def test_text_post_sends_facets_langs_and_card_and_answers_the_bsky_app_url() -> None:
    """Session from the app password, the handle resolved, one createRecord with a TID key."""
    fake = FakeBluesky(known={"orang.example.com": "did:plc:orang"})
    text = f"Halo @orang.example.com {FAMILY} #TemanPemilih https://kpu.go.id/b"
    result = publish(fake, post_of(text, langs=["id"], card=CARD))
    [login] = fake.calls(SESSION)
    assert json.loads(login.content) == {
        "identifier": "kpumura.bsky.social",
        "password": fake.app_password,
    }
    [create] = fake.calls(CREATE)
    body = json.loads(create.content)
    assert body["repo"] == fake.did and body["collection"] == "app.bsky.feed.post"
    rkey = body["rkey"]
    record = body["record"]
    assert record["text"] == text and record["langs"] == ["id"]
    assert record["createdAt"].endswith("Z")
    assert [sliced(text, f) for f in record["facets"]] == [
        "@orang.example.com",
        "#TemanPemilih",
        "https://kpu.go.id/b",
    ]
    assert record["facets"][0]["features"][0]["did"] == "did:plc:orang"
    assert record["embed"] == {"$type": "app.bsky.embed.external", "external": CARD}
    assert result.url == f"https://bsky.app/profile/kpumura.bsky.social/post/{rkey}"
    assert result.remote_id == f"at://{fake.did}/app.bsky.feed.post/{rkey}"
    assert create.headers["authorization"].startswith("Bearer eyJ.access.")


def test_a_handle_that_does_not_resolve_stays_plain_text() -> None:
    """resolveHandle refuses it: the post goes out, without a mention facet."""
    fake = FakeBluesky()
    publish(fake, post_of("Halo @nobody.example.com"))
    assert len(fake.calls(r"resolveHandle")) == 1
    assert "facets" not in fake.posts[0]


def test_images_are_uploaded_as_blobs_with_alt_text_and_aspect_ratio(tmp_path: Path) -> None:
    """Each image's bytes go to uploadBlob with its type; the record embeds the blobs."""
    (tmp_path / "a.jpg").write_bytes(JPEG)
    pic = MediaFile(
        "a.jpg",
        "image",
        "image/jpeg",
        path=tmp_path / "a.jpg",
        alt="Peserta",
        width=480,
        height=360,
    )
    publish(fake := FakeBluesky(), post_of("Foto", pic, pic))
    uploads = fake.calls(BLOB)
    assert [u.content for u in uploads] == [JPEG, JPEG]
    assert uploads[0].headers["content-type"] == "image/jpeg"
    embed = fake.posts[0]["embed"]
    assert embed["$type"] == "app.bsky.embed.images" and len(embed["images"]) == 2
    first = embed["images"][0]
    assert first["alt"] == "Peserta" and first["aspectRatio"] == {"width": 480, "height": 360}
    assert first["image"]["size"] == len(JPEG) and first["image"]["mimeType"] == "image/jpeg"


def test_an_image_over_the_pds_blob_limit_is_refused_as_invalid_content(tmp_path: Path) -> None:
    """A PDS with a smaller limit (an older one's 1 MB) refuses the record: nothing posted."""
    (tmp_path / "a.jpg").write_bytes(JPEG)
    pic = MediaFile("a.jpg", "image", "image/jpeg", path=tmp_path / "a.jpg", alt="x")
    fake = FakeBluesky(max_blob=len(JPEG) - 1)
    error = failure(fake, post_of("Foto", pic))
    assert isinstance(error, InvalidContentError) and "file too big" in error.message
    assert fake.records == {}


def test_wrong_app_password_is_an_auth_error_that_never_shows_it() -> None:
    """401 AuthenticationRequired: the message says what to check, without the password."""
    fake = FakeBluesky()
    error = failure(fake, post_of("Halo"), password="wrong-pass-word-1234")
    assert isinstance(error, AuthError)
    assert "app password" in error.message and "wrong-pass-word-1234" not in error.message
    assert fake.calls(CREATE) == []


def test_an_expired_session_is_refreshed_once_and_the_post_goes_out_once() -> None:
    """ExpiredToken on createRecord: refreshSession, then the same record again."""
    fake = FakeBluesky()
    fake.fail(CREATE, 400, json={"error": "ExpiredToken", "message": "Token has expired"})
    publish(fake, post_of("Halo"))
    assert len(fake.calls(r"refreshSession")) == 1
    first, second = fake.calls(CREATE)
    assert first.headers["authorization"] != second.headers["authorization"]
    assert json.loads(first.content)["rkey"] == json.loads(second.content)["rkey"]
    assert len(fake.records) == 1


def test_rate_limit_is_rate_limited_with_the_reset_time() -> None:
    """429 RateLimitExceeded with ratelimit-reset far away: rate limited, nothing posted."""
    import time

    fake = FakeBluesky()
    reset = str(int(time.time()) + 3600)
    fake.fail(
        SESSION,
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"ratelimit-reset": reset, "ratelimit-remaining": "0"},
    )
    error = failure(fake, post_of("Halo"))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is not None and 3500 < error.retry_after <= 3600


def test_the_record_key_is_journaled_before_create_record_is_sent() -> None:
    """remember(did, handle, rkey) then sending, both before the fake holds any record."""
    fake = FakeBluesky()
    journal = RecordingJournal(probe=lambda: len(fake.calls(CREATE)))
    publish(fake, post_of("Halo"), journal=journal)
    kinds = [(kind, seen) for kind, _, seen in journal.events]
    assert kinds == [("remember", 0), ("sending", 0)]
    handles = journal.handles()
    assert handles == {"did": fake.did, "handle": fake.handle, "rkey": next(iter(fake.records))}


def test_lost_answer_after_the_post_landed_is_confirmed_in_the_same_run() -> None:
    """The connection drops after createRecord acted: getRecord finds it; published once."""
    fake = FakeBluesky()
    fake.fail(CREATE, drop=True, after=True)
    result = publish(fake, post_of("Halo"))
    [rkey] = fake.records
    assert result.url is not None and result.url.endswith(f"/post/{rkey}")
    assert len(fake.calls(CREATE)) == 1 and len(fake.calls(r"getRecord")) == 1


def test_a_5xx_that_did_not_land_is_unknown_and_sent_once() -> None:
    """500 before acting: maybe published, so never sent again; getRecord finds nothing."""
    fake = FakeBluesky()
    fake.fail(CREATE, 500, json={"error": "InternalServerError", "message": "Internal"})
    error = failure(fake, post_of("Halo"))
    assert isinstance(error, UnknownOutcomeError)
    assert len(fake.calls(CREATE)) == 1 and fake.records == {}


# -- reconcile -----------------------------------------------------------------


def crashed(fake: FakeBluesky, *, landed: bool) -> RecordingJournal:
    """A publish whose createRecord answer never came (it landed, or it never arrived)."""
    journal = RecordingJournal()
    fake.fail(CREATE, drop=True, after=landed)
    fake.fail(r"getRecord", 503, times=10)  # the same run cannot check either
    with pytest.raises(UnknownOutcomeError):
        publish(fake, post_of("Halo"), journal=journal)
    fake.faults.clear()
    return journal


def test_reconcile_finds_the_post_that_landed() -> None:
    """getRecord for the journaled key: the post, with its bsky.app URL."""
    fake = FakeBluesky()
    journal = crashed(fake, landed=True)
    found = reconcile(fake, journal.sent())
    [rkey] = fake.records
    assert found is not None and found.url == f"https://bsky.app/profile/{fake.handle}/post/{rkey}"
    assert fake.calls(r"getRecord")[-1].url.params["rkey"] == rkey


def test_reconcile_of_a_record_that_never_arrived_is_not_published_after_settle() -> None:
    """RecordNotFound once settle has passed: not there, publish again."""
    fake = FakeBluesky()
    journal = crashed(fake, landed=False)
    assert reconcile(fake, journal.sent(age=3600)) is None


def test_reconcile_too_soon_is_unknown() -> None:
    """RecordNotFound seconds after sending: the request may still be on its way."""
    fake = FakeBluesky()
    journal = crashed(fake, landed=False)
    with pytest.raises(UnknownOutcomeError):
        reconcile(fake, journal.sent(age=1))


def test_reconcile_without_a_record_key_is_not_published_and_asks_nothing() -> None:
    """The key is journaled before createRecord: without one, nothing was sent."""
    from datetime import UTC, datetime

    fake = FakeBluesky()
    assert reconcile(fake, Sent(datetime.now(UTC), {})) is None
    assert fake.requests == []


# -- the fake's own strictness ---------------------------------------------------


def test_fake_refuses_facets_that_cut_a_character_or_leave_the_text() -> None:
    """A byte range inside the emoji, or past the end, is refused: wrong offsets fail tests."""
    fake = FakeBluesky()
    for start, end in ((1, 4), (0, 99)):
        record = {
            "text": FAMILY,
            "createdAt": "2024-01-01T00:00:00.000Z",
            "facets": [
                {
                    "index": {"byteStart": start, "byteEnd": end},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "x"}],
                }
            ],
        }
        with pytest.raises(InvalidContentError):
            publish_raw(fake, record)


def publish_raw(fake: FakeBluesky, record: dict[str, Any]) -> None:
    """Send ``record`` through a real session, as a client with its own facets would."""
    from crosspost_adapters.bluesky._publish import Publisher, tid

    async def go() -> None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client)
            publisher = Publisher(ctx, BlueskyAdapter(ctx.settings))
            await publisher.login()
            await publisher.api.call(
                "POST",
                publisher.xrpc("com.atproto.repo.createRecord"),
                json={
                    "repo": fake.did,
                    "collection": "app.bsky.feed.post",
                    "rkey": tid(),
                    "record": record,
                },
                headers={"Authorization": f"Bearer {publisher._access}"},
            )

    run(go())


def test_fake_refuses_text_over_300_graphemes() -> None:
    """The lexicon's maxGraphemes, with the PDS's words."""
    fake = FakeBluesky()
    with pytest.raises(InvalidContentError) as info:
        publish_raw(fake, {"text": ACCENT * 301, "createdAt": "2024-01-01T00:00:00Z"})
    assert "300 graphemes" in info.value.message


# -- the CLI over loopback ---------------------------------------------------------


def test_cli_publishes_an_announcement_with_an_image_to_bluesky(tmp_path: Path) -> None:
    """publish --now --json: a session, one blob, one record with facets and langs; the JSON
    result has the bsky.app URL; the app password appears nowhere in the output."""
    fake = FakeBluesky()
    folder = tmp_path / "pengumuman"
    folder.mkdir()
    (folder / "foto.jpg").write_bytes(JPEG)
    announcement = folder / "bsky.toml"
    announcement.write_text(
        'id = "bsky-1"\ntargets = ["bluesky"]\nlanguage = "id"\n'
        f'body = "Pelatihan humas {FAMILY} #TemanPemilih https://kab-musirawas.kpu.go.id"\n'
        '[[media]]\npath = "foto.jpg"\nalt = "Peserta pelatihan"\n',
        encoding="utf-8",
    )
    with serve(fake) as origin:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[platforms.bluesky]\nhandle = "{fake.handle}"\napi_base = "{origin}"\n',
            encoding="utf-8",
        )
        env = {"CROSSPOST_BLUESKY_APP_PASSWORD": fake.app_password}
        result = crosspost(
            World(),
            tmp_path,
            "publish",
            "--now",
            "--json",
            str(announcement),
            env=env,
            config=config,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    [entry] = json.loads(result.stdout)["results"]
    [rkey] = fake.records
    assert entry["platform"] == "bluesky" and entry["status"] == "published"
    assert entry["url"] == f"https://bsky.app/profile/{fake.handle}/post/{rkey}"
    [record] = fake.posts
    assert record["langs"] == ["id"]
    assert record["embed"]["images"][0]["alt"] == "Peserta pelatihan"
    assert [sliced(record["text"], f) for f in record["facets"]] == [
        "#TemanPemilih",
        "https://kab-musirawas.kpu.go.id",
    ]
    assert [r.content for r in fake.calls(BLOB)] == [JPEG]
    assert fake.app_password not in result.stdout + result.stderr
