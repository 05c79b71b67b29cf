"""The ledger and the runner: nothing posted twice, nothing silently lost, overlap-safe."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from crosspost.adapter import Adapter, Fields, Limits, MediaChoice, Post, Published
from crosspost.api import PublishContext
from crosspost.errors import CredentialsError, InvalidContentError, UnknownOutcomeError
from crosspost.ledger import Ledger, LedgerError
from crosspost.media import MediaFile
from crosspost.planning import Plan, plan_file
from crosspost.publishing import exit_code, run
from tests.conftest import EXAMPLE


class ScriptedAdapter(Adapter):
    """An adapter whose publish follows a script: 'ok', 'fail', 'unknown' or 'slow'."""

    name = "scripted"
    display_name = "Scripted"
    limits = Limits(body=1000)
    credentials = ("token",)

    def __init__(self, script: list[str]) -> None:
        super().__init__()
        self.script = script
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """No media."""
        return MediaChoice(media=())

    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Follow the script."""
        with self.lock:
            step = self.script.pop(0) if self.script else "ok"
            self.sent.append(post.text)
        if step == "slow":
            await asyncio.sleep(0.3)
        if step == "fail":
            raise InvalidContentError(ctx.platform, "refused")
        if step == "unknown":
            raise UnknownOutcomeError(ctx.platform, "timed out after sending")
        return Published(f"id-{len(self.sent)}", f"https://example.org/{len(self.sent)}")


ENV = {"CROSSPOST_FACEBOOK_TOKEN": "t", "CROSSPOST_TWITTER_TOKEN": "t"}


def scripted_plan(**scripts: list[str]) -> tuple[Plan, dict[str, ScriptedAdapter]]:
    """The example's plan for facebook and twitter, published by scripted adapters."""
    plan = plan_file(EXAMPLE / "announcement.toml", only=list(scripts))
    adapters = {name: ScriptedAdapter(script) for name, script in scripts.items()}
    return dataclasses.replace(plan, adapters=dict(adapters)), adapters


def ledger_in(tmp_path: Path) -> Ledger:
    return Ledger("humas-public-speaking-2023", tmp_path / "ledger")


def test_second_run_skips_what_was_published(tmp_path: Path) -> None:
    """A re-run publishes only the platform that failed; the published one is not re-sent."""
    plan, adapters = scripted_plan(facebook=["ok"], twitter=["fail"])
    first = run(plan, environ=ENV, ledger=ledger_in(tmp_path))
    assert [r.status for r in first] == ["published", "failed"]
    assert exit_code(first) == 1
    second = run(plan, environ=ENV, ledger=ledger_in(tmp_path))
    assert [r.status for r in second] == ["published", "published"]
    assert len(adapters["facebook"].sent) == 1
    assert len(adapters["twitter"].sent) == 2
    assert "already published" in (second[0].message or "")
    assert exit_code(second) == 0


def test_unknown_outcome_is_not_retried_without_force(tmp_path: Path) -> None:
    """After an unknown outcome, the next run refuses that platform until --force."""
    plan, adapters = scripted_plan(facebook=["unknown"])
    assert run(plan, environ=ENV, ledger=ledger_in(tmp_path))[0].status == "unknown"
    again = run(plan, environ=ENV, ledger=ledger_in(tmp_path))
    assert again[0].status == "unknown" and "--force" in (again[0].message or "")
    assert exit_code(again) == 3
    assert len(adapters["facebook"].sent) == 1
    forced = run(plan, environ=ENV, ledger=ledger_in(tmp_path), force=True)
    assert forced[0].status == "published"
    assert len(adapters["facebook"].sent) == 2


def test_killed_run_counts_as_unknown(tmp_path: Path) -> None:
    """A 'sending' entry left by a killed run is treated as an unknown outcome."""
    plan, adapters = scripted_plan(facebook=["ok"])
    ledger_in(tmp_path).record("facebook", "sending", plan.posts[0])
    result = run(plan, environ=ENV, ledger=ledger_in(tmp_path))
    assert result[0].status == "unknown"
    assert adapters["facebook"].sent == []


def test_missing_credentials_stop_before_any_request(tmp_path: Path) -> None:
    """A missing secret names the variable, and nothing is sent or written as sending."""
    plan, adapters = scripted_plan(facebook=["ok"], twitter=["ok"])
    with pytest.raises(CredentialsError, match="CROSSPOST_TWITTER_TOKEN"):
        run(plan, environ={"CROSSPOST_FACEBOOK_TOKEN": "t"}, ledger=ledger_in(tmp_path))
    assert adapters["facebook"].sent == []
    assert ledger_in(tmp_path).entries() == {}


def test_overlapping_runs_publish_once(tmp_path: Path) -> None:
    """Two runs at the same moment (cron overlap) publish each platform exactly once."""
    plan, adapters = scripted_plan(facebook=["slow"], twitter=["slow"])
    results: list[list[str]] = []

    def go() -> None:
        results.append([r.status for r in run(plan, environ=ENV, ledger=ledger_in(tmp_path))])

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert results == [["published", "published"]] * 2
    assert len(adapters["facebook"].sent) == 1 and len(adapters["twitter"].sent) == 1


def test_ledger_is_written_atomically_and_readable(tmp_path: Path) -> None:
    """The ledger is valid JSON with each platform's status, id and URL."""
    plan, _ = scripted_plan(facebook=["ok"])
    run(plan, environ=ENV, ledger=ledger_in(tmp_path))
    data = json.loads(ledger_in(tmp_path).path.read_text("utf-8"))
    entry = data["platforms"]["facebook"]
    assert entry["status"] == "published" and entry["url"].startswith("https://")
    assert not list((tmp_path / "ledger").glob(".ledger-*"))


def test_corrupt_ledger_refuses_to_publish(tmp_path: Path) -> None:
    """A ledger that cannot be read stops the run with a message naming the file."""
    plan, adapters = scripted_plan(facebook=["ok"])
    ledger = ledger_in(tmp_path)
    ledger.directory.mkdir(parents=True)
    ledger.path.write_text("{not json", encoding="utf-8")
    with pytest.raises(LedgerError, match="cannot be read"):
        run(plan, environ=ENV, ledger=ledger)
    assert adapters["facebook"].sent == []


def test_changed_post_after_publishing_is_flagged_not_resent(tmp_path: Path) -> None:
    """A post edited after it was published is not re-sent, and the message says so."""
    plan, adapters = scripted_plan(facebook=["ok"])
    run(plan, environ=ENV, ledger=ledger_in(tmp_path))
    post = plan.posts[0]
    edited = dataclasses.replace(post, parts=(dataclasses.replace(post.parts[0], text="baru"),))
    again = run(dataclasses.replace(plan, posts=(edited,)), environ=ENV, ledger=ledger_in(tmp_path))
    assert again[0].status == "published"
    assert "changed since" in (again[0].message or "")
    assert len(adapters["facebook"].sent) == 1
