"""Telegram channels: render (limits in UTF-16, media choice), publish against FakeTelegram
(exact requests, escaping, uploads, albums), errors, the lost answer, doctor, and one loopback
run of the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from crosspost.adapter import Fields, Login, LoginSession, Part, Post, Published
from crosspost.api import Journal, Progress, PublishContext
from crosspost.credentials import Credentials
from crosspost.errors import (
    AuthError,
    ConfigError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost.planning import plan_file
from crosspost.units import Unit, utf16_length
from crosspost_adapters.telegram import (
    CAPTION,
    TEXT,
    TelegramAdapter,
    TelegramOptions,
    TelegramSettings,
)
from tests.adapters.support import Recorder, RecordingJournal, run
from tests.conftest import EXAMPLE
from tests.fakes.base import body_json, multipart
from tests.fakes.server import serve
from tests.fakes.telegram import FakeTelegram, ParseError, parse_html
from tests.fakes.world import World
from tests.test_e2e import crosspost

SEND = r"^POST /bot[^/]+/send"
JPEG = (EXAMPLE / "media" / "humas.jpg").read_bytes()
MP4 = (EXAMPLE / "media" / "humas.mp4").read_bytes()
#: The fields choose_media gets (Telegram's choice does not look at them).
NO_FIELDS = Fields(None, "", (), None, (), TelegramOptions())
#: What the issue names: markup-looking text must reach the channel exactly as written.
MARKUP = "Rapat <b>pleno</b> &amp; sosialisasi: *bintang* <i>tetap</i> a < b > c & d"


# -- helpers -----------------------------------------------------------------------------


def announcement(tmp_path: Path, toml: str, *, media: bool = False, **settings: Any) -> Path:
    """An announcement targeting Telegram, with a crosspost.toml beside it (chat_id set)."""
    if media:
        (tmp_path / "media").mkdir(exist_ok=True)
        shutil.copy(EXAMPLE / "media" / "humas.jpg", tmp_path / "media" / "humas.jpg")
        shutil.copy(EXAMPLE / "media" / "humas.mp4", tmp_path / "media" / "humas.mp4")
    table = {"chat_id": "@kpumura", **settings}
    (tmp_path / "crosspost.toml").write_text(
        tomli_w.dumps({"platforms": {"telegram": table}}), "utf-8"
    )
    path = tmp_path / "announcement.toml"
    path.write_text('targets = ["telegram"]\n' + toml, "utf-8")
    return path


def planned(tmp_path: Path, toml: str, **kw: Any) -> Post:
    """The Telegram post of an announcement."""
    [post] = plan_file(announcement(tmp_path, toml, **kw)).posts
    return post


def post_with(*media: MediaFile, text: str = "Halo #TemanPemilih", **options: Any) -> Post:
    """A hand-made Telegram post."""
    limit = CAPTION if media else TEXT
    return Post(
        platform="telegram",
        unit=Unit.UTF16,
        parts=(Part(text, utf16_length(text), limit),),
        media=media,
        options=options,
    )


def photo(tmp_path: Path, name: str = "humas.jpg") -> MediaFile:
    path = tmp_path / name
    path.write_bytes(JPEG)
    return MediaFile(f"media/{name}", "image", "image/jpeg", path=path, size=len(JPEG))


def video(tmp_path: Path, name: str = "humas.mp4") -> MediaFile:
    path = tmp_path / name
    path.write_bytes(MP4)
    return MediaFile(f"media/{name}", "video", "video/mp4", path=path, size=len(MP4))


def context(
    fake: FakeTelegram,
    client: httpx.AsyncClient,
    *,
    token: str | None = None,
    journal: Journal | None = None,
    progress: Progress | None = None,
    **settings: Any,
) -> PublishContext:
    values: dict[str, Any] = {"api_base": "http://testserver", "chat_id": "@kpumura"}
    values.update(settings)
    environ = {"CROSSPOST_TELEGRAM_BOT_TOKEN": token or fake.token}
    return PublishContext(
        client=client,
        platform="telegram",
        settings=TelegramSettings(**values),
        credentials=Credentials("telegram", environ=environ),
        progress=progress or Progress(),
        poll_interval=0,
        journal=journal or Journal(),
    )


def publish(
    fake: FakeTelegram,
    post: Post,
    transport: httpx.AsyncBaseTransport | None = None,
    **kw: Any,
) -> Published:
    async def go() -> Published:
        async with httpx.AsyncClient(transport=transport or fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await TelegramAdapter(ctx.settings).publish(post, ctx)

    result: Published = run(go())
    return result


def failure(fake: FakeTelegram, post: Post, **kw: Any) -> PlatformError:
    with pytest.raises(PlatformError) as info:
        publish(fake, post, **kw)
    return info.value


# -- render ------------------------------------------------------------------------------


def test_text_post_is_measured_in_utf16_against_4096(tmp_path: Path) -> None:
    """No media: a message of 4,096 UTF-16 units; an emoji counts 2, as Telegram's offsets."""
    post = planned(tmp_path, 'body = "Halo 😀 #TemanPemilih"\n')
    assert post.unit is Unit.UTF16
    [part] = post.parts
    assert part.limit == TEXT == 4096
    assert part.length == len("Halo  #TemanPemilih") + 2
    assert post.problems == ()


def test_long_text_is_trimmed_to_4096_units(tmp_path: Path) -> None:
    """A 5,000-unit body is trimmed to at most 4,096 UTF-16 units (emoji counted 2)."""
    body = ("Kegiatan humas 😀 " * 300).strip()
    assert utf16_length(body) > TEXT
    post = planned(tmp_path, f'body = "{body}"\n')
    assert post.trimmed
    assert post.parts[0].length == utf16_length(post.text) <= TEXT


def test_media_post_caption_is_1024_units(tmp_path: Path) -> None:
    """With a photo and a video the text is a caption: trimmed to 1,024 UTF-16 units."""
    body = "Pelatihan kehumasan. " * 100
    post = planned(
        tmp_path,
        f'body = "{body.strip()}"\n[[media]]\npath = "media/humas.jpg"\n'
        '[[media]]\npath = "media/humas.mp4"\n',
        media=True,
    )
    assert [m.name for m in post.media] == ["media/humas.jpg", "media/humas.mp4"]
    assert post.parts[0].limit == CAPTION == 1024
    assert post.trimmed and utf16_length(post.text) <= CAPTION
    assert post.problems == ()


def test_markup_in_the_body_is_measured_as_written(tmp_path: Path) -> None:
    """Tags and entities in the announcement are text: counted as typed, not as parsed HTML."""
    post = planned(tmp_path, f'body = "{MARKUP}"\n')
    assert post.text == MARKUP
    assert post.parts[0].length == utf16_length(MARKUP)


def test_media_choice_leaves_out_what_telegram_is_not_sent(tmp_path: Path) -> None:
    """GIFs and MOV files are left out with a reason; more than 10 items are cut to 10."""
    adapter = TelegramAdapter(TelegramSettings(chat_id="@kpumura"))
    gif = MediaFile("a.gif", "image", "image/gif")
    mov = MediaFile("b.mov", "video", "video/quicktime")
    photos = [MediaFile(f"p{n}.jpg", "image", "image/jpeg") for n in range(12)]
    choice = adapter.choose_media([gif, mov, *photos], NO_FIELDS)
    assert [m.name for m in choice.media] == [f"p{n}.jpg" for n in range(10)]
    assert any("a.gif" in w and "GIFs" in w for w in choice.warnings)
    assert any("b.mov" in w for w in choice.warnings)
    assert any("album holds 10" in w for w in choice.warnings)
    assert choice.problems == []


def test_oversized_and_misshapen_photos_are_problems() -> None:
    """Uploads over 10 MB (photos) or 50 MB (videos), and photos beyond 10,000 px or 20:1."""
    adapter = TelegramAdapter(TelegramSettings(chat_id="@kpumura"))
    big = MediaFile("big.jpg", "image", "image/jpeg", path=Path("big.jpg"), size=11_000_000)
    long = MediaFile("long.png", "image", "image/png", path=Path("l.png"), width=4200, height=200)
    huge = MediaFile("huge.mp4", "video", "video/mp4", path=Path("h.mp4"), size=60_000_000)
    by_url = MediaFile(
        "u.mp4", "video", "video/mp4", url="https://x.example/u.mp4", size=30_000_000
    )
    choice = adapter.choose_media([big, long, huge, by_url], NO_FIELDS)
    text = "\n".join(choice.problems)
    assert "big.jpg: too large for Telegram, which uploads photos of at most 10 MB" in text
    assert "long.png is 4200×200" in text and "20 times" in text
    assert "huge.mp4: too large for Telegram, which uploads videos of at most 50 MB" in text
    assert "u.mp4: too large for Telegram, which fetches from a URL videos of at most 20" in text


def test_settings_take_a_username_or_a_numeric_id() -> None:
    """chat_id: "@name", "-100…", or a TOML integer; anything else is refused."""
    assert TelegramSettings(chat_id="@kpumura").chat_id == "@kpumura"
    assert TelegramSettings(chat_id=-1001234567890).chat_id == "-1001234567890"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chat_id"):
        TelegramSettings(chat_id="https://t.me/kpumura")


# -- the fake's HTML parser (strict like Telegram) ---------------------------------------


def test_fake_parses_html_like_telegram() -> None:
    """Known tags go, the four named entities and numeric ones decode, unknown tags fail."""
    assert parse_html("<b>a</b> &lt;&amp;&gt;&quot; &#128512; &copy;") == 'a <&>" 😀 &copy;'
    with pytest.raises(ParseError, match='Unsupported start tag "foo"'):
        parse_html("<foo>x</foo>")
    with pytest.raises(ParseError, match="start tag"):
        parse_html("a < b")
    with pytest.raises(ParseError, match='end tag corresponding to start tag "b"'):
        parse_html("<b>bold")


# -- publish -----------------------------------------------------------------------------


def test_text_message_is_sent_escaped_and_shown_as_written(tmp_path: Path) -> None:
    """sendMessage with the text HTML-escaped (&, <, > only) and parse_mode HTML: the
    channel shows <b>, &amp; and *stars* literally; the URL is t.me/<channel>/<id>."""
    fake = FakeTelegram()
    post = planned(tmp_path, f'body = "{MARKUP}"\n')
    result = publish(fake, post)
    [request] = fake.calls(SEND)
    assert request.url.path == f"/bot{fake.token}/sendMessage"
    assert body_json(request) == {
        "chat_id": "@kpumura",
        "text": MARKUP.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "parse_mode": "HTML",
    }
    [message] = fake.messages
    assert message["text"] == MARKUP
    assert result == Published(remote_id="101", url="https://t.me/kpumura/101")


def test_length_limit_is_counted_after_parsing(tmp_path: Path) -> None:
    """A text of exactly 4,096 units full of & and < goes out, though escaped it is longer."""
    text = ("a & b < c " * 410)[:TEXT]
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    assert utf16_length(text) == TEXT < utf16_length(escaped)
    fake = FakeTelegram()
    publish(fake, post_with(text=text))
    assert body_json(fake.calls(SEND)[0])["text"] == escaped
    assert fake.messages[0]["text"] == text.strip()
    fake.messages.clear()
    error = failure(fake, post_with(text=text + "x"))
    assert isinstance(error, InvalidContentError)
    assert "message is too long" in error.message


def test_photo_is_uploaded_with_its_caption(tmp_path: Path) -> None:
    """One local photo: sendPhoto, multipart with the file and the escaped caption."""
    fake = FakeTelegram()
    result = publish(fake, post_with(photo(tmp_path), text="Foto <kegiatan> & #humas"))
    [request] = fake.calls(SEND)
    assert request.url.path.endswith("/sendPhoto")
    fields, files = multipart(request)
    assert fields == {
        "chat_id": "@kpumura",
        "caption": "Foto &lt;kegiatan&gt; &amp; #humas",
        "parse_mode": "HTML",
    }
    assert files == {"photo": JPEG}
    assert fake.messages[0]["caption"] == "Foto <kegiatan> & #humas"
    assert result.url == "https://t.me/kpumura/101"


def test_video_is_sent_with_sendvideo(tmp_path: Path) -> None:
    """One video: sendVideo with supports_streaming, the file as the video part."""
    fake = FakeTelegram()
    publish(fake, post_with(video(tmp_path)))
    [request] = fake.calls(SEND)
    assert request.url.path.endswith("/sendVideo")
    fields, files = multipart(request)
    assert fields["supports_streaming"] == "true"
    assert files == {"video": MP4}


def test_photo_and_video_go_as_one_album_with_the_caption_first(tmp_path: Path) -> None:
    """Two media: sendMediaGroup, items attach://file0 and file1, caption on the first only;
    every message id is kept, the first is the post."""
    fake = FakeTelegram()
    result = publish(fake, post_with(photo(tmp_path), video(tmp_path), text="Album & foto"))
    [request] = fake.calls(SEND)
    assert request.url.path.endswith("/sendMediaGroup")
    fields, files = multipart(request)
    assert json.loads(fields["media"]) == [
        {
            "type": "photo",
            "media": "attach://file0",
            "caption": "Album &amp; foto",
            "parse_mode": "HTML",
        },
        {"type": "video", "media": "attach://file1", "supports_streaming": True},
    ]
    assert files == {"file0": JPEG, "file1": MP4}
    assert [m.get("caption") for m in fake.messages] == ["Album & foto", None]
    [album] = fake.posts  # one post, two messages
    assert album["media"] == ["photo", "video"] and album["message_ids"] == [101, 102]
    assert result.remote_id == "101"
    assert result.ids == ("101", "102")


def test_media_with_only_a_url_is_passed_as_the_url() -> None:
    """A photo given by URL: sendPhoto with photo = the URL, as JSON; Telegram fetches it."""
    fake = FakeTelegram()
    url = "https://kab-musirawas.kpu.go.id/crosspost/media/humas.jpg"
    fake.urls[url] = JPEG
    publish(fake, post_with(MediaFile("humas.jpg", "image", "image/jpeg", url=url)))
    [request] = fake.calls(SEND)
    assert body_json(request) == {
        "chat_id": "@kpumura",
        "caption": "Halo #TemanPemilih",
        "parse_mode": "HTML",
        "photo": url,
    }


def test_private_channel_post_has_no_public_link() -> None:
    """A numeric chat_id of a channel without a username: no URL, and visibility says so."""
    fake = FakeTelegram()
    result = publish(fake, post_with(), chat_id=str(fake.private.id))
    assert result.url is None
    assert result.visibility == "in a private channel: only its members see it"
    assert fake.messages[0]["chat_id"] == fake.private.id


def test_numeric_id_of_a_public_channel_links_by_its_username() -> None:
    """chat_id -100… of a public channel: the URL comes from the answer's chat.username."""
    fake = FakeTelegram()
    result = publish(fake, post_with(), chat_id=str(fake.public.id))
    assert result.url == "https://t.me/kpumura/101"


def test_silent_post_without_link_preview(tmp_path: Path) -> None:
    """The config's disable_notification, and the announcement's link_preview = false."""
    fake = FakeTelegram()
    post = planned(
        tmp_path,
        'body = "Lihat https://kab-musirawas.kpu.go.id"\n'
        "[platforms.telegram]\nlink_preview = false\n",
    )
    publish(fake, post, disable_notification=True)
    payload = body_json(fake.calls(SEND)[0])
    assert payload["disable_notification"] is True
    assert payload["link_preview_options"] == {"is_disabled": True}
    assert fake.messages[0]["disable_notification"] is True


def test_journal_holds_the_method_and_text_before_the_send() -> None:
    """The method, chat and text are remembered, and sending journaled, before the request."""
    fake = FakeTelegram()
    journal = RecordingJournal(probe=lambda: len(fake.calls(SEND)))
    progress = Recorder()
    publish(fake, post_with(text="Halo"), journal=journal, progress=progress)
    assert journal.events == [
        ("remember", {"method": "sendMessage", "chat_id": "@kpumura", "text": "Halo"}, 0),
        ("sending", {}, 0),
    ]
    assert progress.steps == ["sending the message"]


# -- errors ------------------------------------------------------------------------------


def test_refused_token_is_an_auth_error_without_the_token() -> None:
    """401 Unauthorized: AuthError saying where the token comes from; the token is in no
    message although it is in the request's URL."""
    fake = FakeTelegram()
    wrong = "7000000001:AAwrongwrongwrongwrongwrongwrong"
    error = failure(fake, post_with(), token=wrong)
    assert isinstance(error, AuthError)
    assert "Unauthorized" in error.message and "@BotFather" in error.message
    assert wrong not in str(error)


def test_unknown_chat_names_the_setting() -> None:
    """400 chat not found: the message names chat_id in [platforms.telegram]."""
    error = failure(FakeTelegram(), post_with(), chat_id="@nosuchchannel")
    assert "chat not found" in error.message
    assert "chat_id in [platforms.telegram]" in error.message
    assert not isinstance(error, InvalidContentError)


def test_bot_without_admin_rights_is_told_to_become_one() -> None:
    """A member without the right to post, and a bot outside the channel: AuthError, fix."""
    fake = FakeTelegram()
    fake.public.bot_status = "member"
    error = failure(fake, post_with())
    assert isinstance(error, AuthError)
    assert "need administrator rights" in error.message
    assert "administrator allowed to post" in error.message
    fake.public.bot_status = None
    error = failure(fake, post_with())
    assert isinstance(error, AuthError)
    assert "not a member" in error.message


def test_flood_control_is_rate_limited_with_retry_after() -> None:
    """429 with parameters.retry_after beyond a minute: RateLimitedError, sent once."""
    fake = FakeTelegram()
    fake.flood("sendMessage", 300)
    error = failure(fake, post_with())
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 300
    assert "wait 300 seconds" in error.message
    assert len(fake.calls(SEND)) == 1 and fake.messages == []


def test_retry_after_header_is_honoured_too() -> None:
    """A 429 without Telegram's parameters but with Retry-After (a proxy): its wait is kept."""
    fake = FakeTelegram()
    fake.fail(r".", 429, headers={"retry-after": "3600"}, json={}, times=100)
    error = failure(fake, post_with())
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 3600


def test_malformed_token_is_an_auth_error() -> None:
    """A token not shaped like one reaches no bot (404 Not Found): AuthError, nothing sent."""
    fake = FakeTelegram()
    error = failure(fake, post_with(), token="wrong-" + fake.token)
    assert isinstance(error, AuthError)
    assert "Not Found" in error.message
    assert fake.posts == []


def test_short_flood_wait_is_sat_out_and_sent_once() -> None:
    """429 retry_after 1: the send is repeated after the wait (it certainly did not post).
    The suite's stamina test mode skips the real wait."""
    fake = FakeTelegram()
    fake.flood("sendMessage", 1)
    publish(fake, post_with())
    assert len(fake.calls(SEND)) == 2
    assert len(fake.messages) == 1


def test_too_long_caption_refused_by_telegram_is_content() -> None:
    """A caption over 1,024 units (a hand-made post): 400 caption too long → content error."""
    fake = FakeTelegram()
    url = "https://x.example/a.jpg"
    fake.urls[url] = JPEG
    media = MediaFile("a.jpg", "image", "image/jpeg", url=url)
    error = failure(fake, post_with(media, text="😀" * 513))
    assert isinstance(error, InvalidContentError)
    assert "message caption is too long" in error.message


def test_unreachable_media_url_is_a_media_error() -> None:
    """Telegram cannot fetch the URL: the message says to check it is reachable."""
    media = MediaFile("a.jpg", "image", "image/jpeg", url="https://x.example/missing.jpg")
    error = failure(FakeTelegram(), post_with(media))
    assert isinstance(error, InvalidContentError)
    assert "failed to get HTTP URL content" in error.message
    assert "publicly reachable" in error.message


def test_connection_errors_never_show_the_token() -> None:
    """A transport error quoting the URL (which holds the token) is redacted."""
    fake = FakeTelegram()

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"connection reset while talking to {request.url}")

    error = failure(fake, post_with(), transport=httpx.MockTransport(broken))
    assert isinstance(error, UnknownOutcomeError)
    assert fake.token not in str(error)
    assert "****" in str(error)


def test_missing_chat_id_is_a_config_error() -> None:
    """No chat_id: a ConfigError naming the key, before any request."""
    fake = FakeTelegram()
    with pytest.raises(ConfigError, match="chat_id is not set"):
        publish(fake, post_with(), chat_id=None)
    assert fake.requests == []


# -- the lost answer ---------------------------------------------------------------------


def test_lost_answer_is_unknown_and_never_looked_up_or_resent() -> None:
    """The message landed but the answer was lost: unknown; reconcile says why, sends nothing."""
    fake = FakeTelegram()
    fake.fail(r"/sendMessage$", drop=True, after=True)
    journal = RecordingJournal()
    with pytest.raises(UnknownOutcomeError):
        publish(fake, post_with(), journal=journal)
    assert len(fake.messages) == 1
    before = len(fake.requests)

    async def go() -> object:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client)
            return await TelegramAdapter(ctx.settings).reconcile(post_with(), journal.sent(), ctx)

    with pytest.raises(UnknownOutcomeError) as info:
        run(go())
    assert "cannot list a channel's messages" in info.value.message
    assert "@kpumura" in info.value.message and "sendMessage" in info.value.message
    assert len(fake.requests) == before


# -- doctor ------------------------------------------------------------------------------


def test_identity_and_diagnose_check_the_bot_and_its_rights() -> None:
    """getMe names the bot; getChatMember says whether it may post in the channel."""
    fake = FakeTelegram()

    async def go() -> tuple[Any, Any]:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client)
            adapter = TelegramAdapter(ctx.settings)
            return await adapter.identity(ctx), await adapter.diagnose(ctx, None)

    account, findings = run(go())
    assert account.name == "@kpumura_bot" and account.id == str(fake.bot_id)
    assert [(f.level, f.message) for f in findings] == [("ok", "@kpumura_bot may post in @kpumura")]
    fake.public.can_post = False
    _, findings = run(go())
    [finding] = findings
    assert finding.level == "fail"
    assert finding.message.startswith("@kpumura_bot is an administrator of @kpumura, not an ")
    fake.public.bot_status = None
    _, [finding] = run(go())
    assert finding.message.startswith("@kpumura_bot is not a member of @kpumura")


# -- auth login -------------------------------------------------------------------------


def login(fake: FakeTelegram, answers: list[str], **settings: Any) -> tuple[Login, list[str]]:
    """Run ``TelegramAdapter.login`` with these answers typed in; the Login and what it said."""
    said: list[str] = []
    asked = iter(answers)

    async def go() -> Login:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            values = {"api_base": "http://testserver", **settings}
            session = LoginSession(
                client=client,
                platform="telegram",
                settings=TelegramSettings(**values),
                credentials=Credentials("telegram", environ={}),
                open_browser=False,
                say=said.append,
                ask=lambda question: next(asked),
                choose=lambda question, items: 0,
            )
            return await TelegramAdapter(session.settings).login(session)

    result: Login = run(go())
    return result, said


def test_login_checks_the_pasted_token_and_asks_for_the_channel() -> None:
    """auth login: the token is checked with getMe, the channel asked for and checked; the
    token is the secret to store and chat_id the setting to write."""
    fake = FakeTelegram()
    result, said = login(fake, [f"  {fake.token} ", "@kpumura"])
    assert result.secrets == {"bot_token": fake.token}
    assert result.settings == {"chat_id": "@kpumura"}
    assert result.account.name == "@kpumura_bot"
    assert "  ✓ @kpumura_bot may post in @kpumura" in said
    assert [r.url.path.rsplit("/", 1)[1] for r in fake.requests] == [
        "getMe",
        "getChatMember",
    ]
    assert fake.posts == []


def test_login_refuses_what_is_not_a_token_and_a_refused_one() -> None:
    """Something else pasted: a ConfigError before any request; a revoked token: AuthError."""
    fake = FakeTelegram()
    with pytest.raises(ConfigError, match="not a bot token"):
        login(fake, ["my channel"], chat_id="@kpumura")
    assert fake.requests == []
    revoked = f"{fake.bot_id}:AA{'x' * 32}"
    with pytest.raises(AuthError, match="Unauthorized"):
        login(fake, [revoked], chat_id="@kpumura")


# -- the CLI over loopback ---------------------------------------------------------------


def cli_setup(tmp_path: Path, origin: str) -> tuple[Path, Path]:
    """The example announcement targeting Telegram, and a config pointing at the fake."""
    folder = tmp_path / "ann"
    folder.mkdir(exist_ok=True)
    if not (folder / "media").exists():
        shutil.copytree(EXAMPLE / "media", folder / "media")
    text = (EXAMPLE / "announcement.toml").read_text("utf-8")
    (folder / "announcement.toml").write_text('targets = ["telegram"]\n' + text, "utf-8")
    config = tmp_path / "config.toml"
    example = (EXAMPLE / "crosspost.toml").read_text("utf-8")
    config.write_text(
        example + f'\n[platforms.telegram]\nchat_id = "@kpumura"\napi_base = "{origin}"\n',
        "utf-8",
    )
    return folder / "announcement.toml", config


def test_cli_publishes_the_example_to_the_channel(tmp_path: Path) -> None:
    """publish --now --json with targets = ["telegram"]: the photo and the video go as one
    album with the trimmed caption; the JSON says published with the t.me URL."""
    fake = FakeTelegram()
    with serve(fake) as origin:
        path, config = cli_setup(tmp_path, origin)
        result = crosspost(
            World(),
            tmp_path,
            "publish",
            "--now",
            "--json",
            str(path),
            env={"CROSSPOST_TELEGRAM_BOT_TOKEN": fake.token},
            config=config,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    [entry] = json.loads(result.stdout)["results"]
    assert entry["platform"] == "telegram" and entry["status"] == "published"
    assert entry["url"] == "https://t.me/kpumura/101"
    [request] = fake.calls(SEND)
    assert request.url.path == f"/bot{fake.token}/sendMediaGroup"
    assert [m["media"][0][0] for m in fake.messages] == ["photo", "video"]
    caption = fake.messages[0]["caption"]
    assert caption.startswith("#TemanPemilih, KPU Kabupaten Musi Rawas")
    assert utf16_length(caption) <= CAPTION
    assert fake.token not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_cli_lost_answer_stays_unknown_and_is_never_resent(tmp_path: Path) -> None:
    """The album landed but the answer was lost: exit 3 with the resolve command; the next
    run (cron) sends nothing again and stays quiet; no token in any output."""
    fake = FakeTelegram()
    fake.fail(r"/sendMediaGroup$", drop=True, after=True)
    env = {"CROSSPOST_TELEGRAM_BOT_TOKEN": fake.token}
    with serve(fake) as origin:
        path, config = cli_setup(tmp_path, origin)
        first = crosspost(World(), tmp_path, "publish", "--now", str(path), env=env, config=config)
        again = crosspost(World(), tmp_path, "publish", "--now", str(path), env=env, config=config)
    assert first.returncode == 3, first.stdout + first.stderr
    assert "? Telegram: outcome unknown" in first.stdout
    assert f"crosspost resolve {path} --platform telegram" in first.stdout
    assert again.returncode == 3, again.stdout + again.stderr
    assert len(fake.calls(SEND)) == 1
    assert len(fake.messages) == 2  # the album's two messages, sent once
    for out in (first, again):
        assert fake.token not in out.stdout + out.stderr
        assert "Traceback" not in out.stderr
