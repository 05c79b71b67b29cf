"""The journaled runner: nothing posted twice, nothing silently lost, overlap-safe.

The adapters here are scripted (the platform fakes have their own tests and the
crash harness in test_crash.py drives the real ones); the state store is the
real SQLite one in a temporary directory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crosspost.adapter import Adapter, Fields, Limits, MediaChoice, Post, Published, Sent
from crosspost.api import PublishContext
from crosspost.errors import (
    AnnouncementError,
    CredentialsError,
    InvalidContentError,
    UnknownOutcomeError,
)
from crosspost.journal import stamp
from crosspost.media import MediaFile
from crosspost.planning import Plan, plan_file
from crosspost.publishing import Policy, exit_code, run
from crosspost.state import Entry, Store, open_store
from tests.conftest import EXAMPLE

ANNOUNCEMENT = "humas-public-speaking-2023"


class ScriptedAdapter(Adapter):
    """An adapter whose publish follows a script: 'ok', 'fail', 'unknown', 'slow' or 'boom'.

    Every publish records ``sending`` through the context before its "create",
    as the real adapters do through ``Api.create``. ``lookup`` is what
    ``reconcile`` finds: 'found', 'absent' or 'unknown'.
    """

    name = "scripted"
    display_name = "Scripted"
    limits = Limits(body=1000)
    credentials = ("token",)

    def __init__(self, script: list[str], lookup: str = "unknown") -> None:
        super().__init__()
        self.script = script
        self.lookup = lookup
        self.sent: list[str] = []
        self.lookups = 0
        self.seen_before_create: list[Entry | None] = []
        self.store: Store | None = None
        self.lock = threading.Lock()

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """No media."""
        return MediaChoice(media=())

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Follow the script."""
        with self.lock:
            step = self.script.pop(0) if self.script else "ok"
        ctx.remember(text=post.text)
        ctx.sending()
        if self.store is not None:
            self.seen_before_create.append(self.store.entries(ANNOUNCEMENT).get(ctx.platform))
        with self.lock:
            self.sent.append(post.text)
        if step == "slow":
            await asyncio.sleep(0.3)
        if step == "fail":
            raise InvalidContentError(ctx.platform, "refused")
        if step == "unknown":
            raise UnknownOutcomeError(ctx.platform, "timed out after sending")
        if step == "boom":
            raise RuntimeError("a bug")
        return Published(f"id-{len(self.sent)}", f"https://example.org/{len(self.sent)}")

    async def reconcile(self, post: Post, sent: Sent, ctx: PublishContext) -> Published | None:
        """Answer as ``lookup`` says."""
        self.lookups += 1
        assert sent.handles.get("text") == post.text
        if self.lookup == "found":
            return Published("id-found", "https://example.org/found")
        if self.lookup == "absent":
            return None
        raise UnknownOutcomeError(ctx.platform, "not on the timeline yet")


ENV = {"CROSSPOST_FACEBOOK_TOKEN": "t", "CROSSPOST_TWITTER_TOKEN": "t"}


def scripted_plan(
    lookup: str = "unknown", **scripts: list[str]
) -> tuple[Plan, dict[str, ScriptedAdapter]]:
    """The example's plan for the named platforms, published by scripted adapters."""
    plan = plan_file(EXAMPLE / "announcement.toml", only=list(scripts))
    adapters = {name: ScriptedAdapter(script, lookup) for name, script in scripts.items()}
    return dataclasses.replace(plan, adapters=dict(adapters)), adapters


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A real state store in a temporary directory."""
    opened = open_store(tmp_path / "state")
    yield opened  # type: ignore[misc]
    opened.close()


def entry(store: Store, platform: str) -> Entry | None:
    return store.entries(ANNOUNCEMENT).get(platform)


def test_second_run_skips_what_was_published(store: Store) -> None:
    """A re-run publishes only the platform that failed; the published one is not re-sent."""
    plan, adapters = scripted_plan(facebook=["ok"], twitter=["fail"])
    first = run(plan, environ=ENV, store=store)
    assert [r.status for r in first] == ["published", "failed"]
    assert exit_code(first) == 1
    second = run(plan, environ=ENV, store=store)
    assert [r.status for r in second] == ["published", "published"]
    assert len(adapters["facebook"].sent) == 1
    assert len(adapters["twitter"].sent) == 2
    assert "already published" in (second[0].message or "")
    assert exit_code(second) == 0


def test_sending_is_on_disk_before_the_create(store: Store) -> None:
    """The entry says 'sending', with its handles, at the moment the create goes out."""
    plan, adapters = scripted_plan(facebook=["ok"])
    adapters["facebook"].store = store
    run(plan, environ=ENV, store=store)
    seen = adapters["facebook"].seen_before_create[0]
    assert seen is not None and seen.status == "sending"
    assert seen.handles["text"] == plan.posts[0].text and seen.sent_at
    done = entry(store, "facebook")
    assert done is not None and done.status == "published"
    assert done.url == "https://example.org/1"


def test_one_platform_is_recorded_while_another_is_still_sending(store: Store) -> None:
    """A fast platform's 'published' is written at once, not after the slow one ends."""
    plan, adapters = scripted_plan(facebook=["ok"], twitter=["slow"])
    seen: list[Entry | None] = []
    original = adapters["twitter"].publish

    async def slow_then_look(post: Post, ctx: PublishContext) -> Published:
        await asyncio.sleep(0.1)
        seen.append(entry(store, "facebook"))
        return await original(post, ctx)

    adapters["twitter"].publish = slow_then_look  # type: ignore[method-assign]
    run(plan, environ=ENV, store=store)
    assert seen[0] is not None and seen[0].status == "published"


def test_interrupted_send_found_on_the_platform_is_not_resent(store: Store) -> None:
    """A 'sending' entry left by a killed run is looked up: found means published."""
    plan, adapters = scripted_plan("found", facebook=["ok"])
    _left_sending(store, plan)
    result = run(plan, environ=ENV, store=store)
    assert result[0].status == "published" and result[0].url == "https://example.org/found"
    assert adapters["facebook"].sent == [] and adapters["facebook"].lookups == 1
    recorded = entry(store, "facebook")
    assert recorded is not None and recorded.status == "published"


def test_interrupted_send_shown_absent_is_published_once(store: Store) -> None:
    """When the platform shows the post is not there, the next run publishes it, once."""
    plan, adapters = scripted_plan("absent", facebook=["ok"])
    _left_sending(store, plan)
    assert run(plan, environ=ENV, store=store)[0].status == "published"
    assert run(plan, environ=ENV, store=store)[0].status == "published"
    assert len(adapters["facebook"].sent) == 1


def test_still_unknown_is_reported_once_then_quiet(store: Store) -> None:
    """An outcome nobody can tell stays unknown, not resent; the second report is quiet."""
    plan, adapters = scripted_plan("unknown", facebook=["unknown"])
    first = run(plan, environ=ENV, store=store)
    assert first[0].status == "unknown" and not first[0].quiet
    assert "crosspost resolve" in (first[0].message or "")
    second = run(plan, environ=ENV, store=store)
    third = run(plan, environ=ENV, store=store)
    assert second[0].status == third[0].status == "unknown"
    assert third[0].quiet
    assert exit_code(third) == 3
    assert len(adapters["facebook"].sent) == 1
    assert adapters["facebook"].lookups == 2


def test_force_needs_naming_and_never_reposts_without_again(store: Store) -> None:
    """--force publishes an unknown platform without asking; a published one only --again."""
    plan, adapters = scripted_plan("unknown", facebook=["unknown", "ok", "ok"])
    run(plan, environ=ENV, store=store)
    forced = run(plan, environ=ENV, store=store, policy=Policy(force=("facebook",)))
    assert forced[0].status == "published" and adapters["facebook"].lookups == 0
    kept = run(plan, environ=ENV, store=store, policy=Policy(force=("facebook",)))
    assert kept[0].earlier and "--again" in (kept[0].message or "")
    assert len(adapters["facebook"].sent) == 2
    run(plan, environ=ENV, store=store, policy=Policy(force=("facebook",), again=True))
    assert len(adapters["facebook"].sent) == 3


def test_an_unexpected_error_after_sending_is_unknown_before_it_failed(store: Store) -> None:
    """A bug of ours after 'sending' never claims the post did not go out."""
    plan, _ = scripted_plan(facebook=["boom"])
    result = run(plan, environ=ENV, store=store)
    assert result[0].status == "unknown" and result[0].code == "internal"
    recorded = entry(store, "facebook")
    assert recorded is not None and recorded.status == "unknown"


def test_missing_credentials_stop_before_any_request(store: Store) -> None:
    """A missing secret names the variable, and nothing is sent or written."""
    plan, adapters = scripted_plan(facebook=["ok"], twitter=["ok"])
    with pytest.raises(CredentialsError, match="CROSSPOST_TWITTER_TOKEN"):
        run(plan, environ={"CROSSPOST_FACEBOOK_TOKEN": "t"}, store=store)
    assert adapters["facebook"].sent == []
    assert store.entries(ANNOUNCEMENT) == {}


def test_overlapping_runs_publish_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs at the same moment (cron overlap), each with its own store, publish once."""
    monkeypatch.setenv("CROSSPOST_HOME", str(tmp_path))
    plan, adapters = scripted_plan(facebook=["slow"], twitter=["slow"])
    results: list[list[str]] = []

    def go() -> None:
        results.append([r.status for r in run(plan, environ=ENV)])

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert results == [["published", "published"]] * 2
    assert len(adapters["facebook"].sent) == 1 and len(adapters["twitter"].sent) == 1


def test_cron_waits_for_the_backoff_and_gives_up(store: Store) -> None:
    """In 'run' mode a failed platform waits for its next try, and stops after max_attempts."""
    plan, adapters = scripted_plan(facebook=["fail", "fail", "fail"])
    cron = Policy(mode="run", max_attempts=2, retry_backoff=timedelta(minutes=15))
    run(plan, environ=ENV, store=store, policy=cron)
    waiting = run(plan, environ=ENV, store=store, policy=cron)
    assert (
        waiting[0].status == "failed"
        and waiting[0].quiet
        and "next try" in (waiting[0].message or "")
    )
    assert len(adapters["facebook"].sent) == 1
    _due_now(store, "facebook")
    run(plan, environ=ENV, store=store, policy=cron)
    assert len(adapters["facebook"].sent) == 2
    _due_now(store, "facebook")
    gave_up = run(plan, environ=ENV, store=store, policy=cron)
    assert "gave up after 2" in (gave_up[0].message or "")
    assert len(adapters["facebook"].sent) == 2
    # A person publishing by hand still tries.
    run(plan, environ=ENV, store=store)
    assert len(adapters["facebook"].sent) == 3


def test_changed_post_after_publishing_is_flagged_not_resent(store: Store) -> None:
    """A post edited after it was published is not re-sent, and the message says how to."""
    plan, adapters = scripted_plan(facebook=["ok"])
    run(plan, environ=ENV, store=store)
    post = plan.posts[0]
    edited = dataclasses.replace(post, parts=(dataclasses.replace(post.parts[0], text="baru"),))
    again = run(dataclasses.replace(plan, posts=(edited,)), environ=ENV, store=store)
    assert again[0].status == "published"
    assert "changed since" in (again[0].message or "")
    assert "--force --again --platform facebook" in (again[0].message or "")
    assert len(adapters["facebook"].sent) == 1


def test_the_same_id_in_another_file_is_refused_naming_both(store: Store, tmp_path: Path) -> None:
    """A second file with the same id (different content) is an error, never a silent skip."""
    plan, adapters = scripted_plan(facebook=["ok"])
    run(plan, environ=ENV, store=store)
    twin = tmp_path / "twin.toml"
    twin.write_text(f'id = "{ANNOUNCEMENT}"\nbody = "lain"\n', encoding="utf-8")
    other = dataclasses.replace(plan, loaded=dataclasses.replace(plan.loaded, source=twin))
    with pytest.raises(AnnouncementError) as caught:
        run(other, environ=ENV, store=store)
    assert str(twin) in str(caught.value)
    assert "announcement.toml" in str(caught.value)
    assert len(adapters["facebook"].sent) == 1


def test_a_moved_file_keeps_its_state(store: Store, tmp_path: Path) -> None:
    """The same id from a new path whose old file is gone is the same announcement."""
    plan, adapters = scripted_plan(facebook=["ok"])
    gone = tmp_path / "old.toml"
    gone.write_text(f'id = "{ANNOUNCEMENT}"\nbody = "x"\n', encoding="utf-8")
    first = dataclasses.replace(plan, loaded=dataclasses.replace(plan.loaded, source=gone))
    run(first, environ=ENV, store=store)
    gone.unlink()
    again = run(plan, environ=ENV, store=store)
    assert again[0].earlier and len(adapters["facebook"].sent) == 1


def _left_sending(store: Store, plan: Plan) -> None:
    """What a run killed during the create leaves: 'sending', with the text it sent."""
    post = plan.posts[0]
    from crosspost.journal import fingerprint

    store.put(
        ANNOUNCEMENT,
        Entry(
            platform=post.platform,
            status="sending",
            hash=fingerprint(post),
            at=stamp(),
            handles={"text": post.text},
            sent_at=stamp(),
        ),
    )


def _due_now(store: Store, platform: str) -> None:
    """Move a failed platform's next try into the past (as time passing would)."""
    current = entry(store, platform)
    assert current is not None
    past = datetime.now(UTC) - timedelta(seconds=1)
    store.put(ANNOUNCEMENT, dataclasses.replace(current, next_try=stamp(past)))


def test_force_without_platform_is_refused_with_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--force alone would resend everywhere: refused (exit 2), showing how to name one."""
    from crosspost.cli import main

    ann = str(EXAMPLE / "announcement.toml")
    assert main(["publish", ann, "--force"]) == 2
    err = capsys.readouterr().err
    assert f"crosspost publish {ann} --force --platform" in err
    assert main(["publish", ann, "--again", "--platform", "twitter"]) == 2
    assert "--again goes with --force" in capsys.readouterr().err


def test_a_draft_is_never_published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """publish refuses a draft (exit 2), naming the line to remove; validate says it is one."""
    from crosspost.cli import main

    draft = tmp_path / "draf.toml"
    draft.write_text('body = "Belum siap"\ndraft = true\ntargets = ["facebook"]\n', "utf-8")
    assert main(["publish", str(draft), "--now"]) == 2
    assert "draft = true" in capsys.readouterr().err
    assert main(["validate", str(draft)]) == 0
    assert "a draft" in capsys.readouterr().out


def test_a_thread_cut_short_is_never_retried_blindly(store: Store) -> None:
    """Part 1 is public, part 2 refused: recorded unknown, so no run posts part 1 again."""
    plan, adapters = scripted_plan(twitter=["ok"])
    original = adapters["twitter"].publish

    async def half_thread(post: Post, ctx: PublishContext) -> Published:
        ctx.sending(text=post.text)
        ctx.remember(ids=["111"])
        raise InvalidContentError(ctx.platform, "X refused part 2 of 3")

    adapters["twitter"].publish = half_thread  # type: ignore[method-assign]
    first = run(plan, environ=ENV, store=store)
    assert first[0].status == "unknown" and "crosspost resolve" in (first[0].message or "")
    recorded = entry(store, "twitter")
    assert recorded is not None and recorded.status == "unknown"
    assert recorded.handles["ids"] == ["111"]
    adapters["twitter"].publish = original  # type: ignore[method-assign]
    again = run(plan, environ=ENV, store=store, policy=Policy(mode="run"))
    assert again[0].status == "unknown" and adapters["twitter"].sent == []


def test_a_renewal_failure_keeps_an_unsettled_entry(store: Store) -> None:
    """The token cannot be renewed while an earlier send is unsettled: 'sending' stays."""
    from crosspost.errors import AuthError

    plan, adapters = scripted_plan("found", facebook=["ok"])
    _left_sending(store, plan)

    async def refused(ctx: PublishContext, horizon: float) -> None:
        raise AuthError(ctx.platform, "the refresh token was refused")

    adapters["facebook"].renew = refused  # type: ignore[method-assign]
    result = run(plan, environ=ENV, store=store)
    assert result[0].status == "failed" and result[0].code == "auth"
    kept = entry(store, "facebook")
    assert kept is not None and kept.status == "sending"
    del adapters["facebook"].renew
    found = run(plan, environ=ENV, store=store)
    assert found[0].status == "published" and adapters["facebook"].sent == []


def test_a_bug_while_looking_leaves_the_earlier_entry(store: Store) -> None:
    """reconcile itself fails unexpectedly: nothing sent, the entry still says 'sending'."""
    plan, adapters = scripted_plan(facebook=["ok"])
    _left_sending(store, plan)

    async def broken(post: Post, sent: Sent, ctx: PublishContext) -> Published | None:
        raise KeyError("data")

    adapters["facebook"].reconcile = broken  # type: ignore[method-assign]
    result = run(plan, environ=ENV, store=store)
    assert result[0].status == "unknown" and result[0].code == "internal"
    assert "nothing was sent" in (result[0].message or "")
    kept = entry(store, "facebook")
    assert kept is not None and kept.status == "sending" and adapters["facebook"].sent == []
