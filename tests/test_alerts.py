"""Alerts (docs/alerts.md): one message per call through Apprise, against a loopback sink.

The sink (tests/fakes/sink.py) is a real HTTP server on 127.0.0.1; Apprise's
``json://`` URLs point at it, so every message really goes through Apprise and
requests. Time is moved with ``notify``'s ``now``.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from crosspost import alerts
from crosspost.alerts import TOKEN_KINDS, Event, events_from_results, forget, notify
from crosspost.cli import main
from crosspost.config import Configuration, parse_config
from crosspost.credentials import CredentialStore
from crosspost.errors import ConfigError, CredentialsError
from crosspost.publishing import Result, resolve_hint
from crosspost.state import StateError, Store, open_store
from tests.fakes.sink import Sink, closed_port

T0 = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
FILE = "announcements/pilkada.toml"
#: Long and unique: a registered secret is redacted from every later output.
SECRET = "alert-secret-9c41e7b2d08f"


def configuration(*urls: str, **alerts_table: Any) -> Configuration:
    return parse_config({"alerts": {"urls": list(urls), **alerts_table}}, None)


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink().serving() as serving:
        yield serving


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "state")
    try:
        yield opened
    finally:
        opened.close()


def failed_and_unknown() -> list[Event]:
    results = [
        Result("facebook", "failed", code="auth", message="Facebook: the Page token has expired"),
        Result(
            "twitter",
            "unknown",
            code="unknown",
            message=f"the answer was lost. {resolve_hint('twitter', FILE)}",
        ),
    ]
    return events_from_results("pilkada", FILE, results)


def published(platform: str) -> list[Event]:
    result = Result(platform, "published", "123", f"https://example.org/{platform}/123")
    return events_from_results("pilkada", FILE, [result])


# -- one message, de-duplicated, reminders ---------------------------------------------


def test_one_failed_and_one_unknown_send_exactly_one_message_naming_both(
    sink: Sink, store: Store
) -> None:
    delivery = notify(configuration(sink.url()), store, failed_and_unknown(), now=T0)

    assert delivery.status == "sent"
    [message] = sink.messages()
    assert message["title"] == "crosspost: 1 failed, 1 unknown"
    body = message["message"]
    assert f"pilkada ({FILE})" in body
    assert "- Facebook: failed: the Page token has expired" in body
    assert "Fix: crosspost auth login facebook" in body
    assert "- X / Twitter: outcome unknown: the answer was lost" in body
    assert f"crosspost resolve {FILE} --platform twitter --not-published" in body
    assert message["type"] == "failure"


def test_the_same_problems_again_send_no_message(sink: Sink, store: Store) -> None:
    config = configuration(sink.url())
    notify(config, store, failed_and_unknown(), now=T0)

    again = notify(config, store, failed_and_unknown(), now=T0 + timedelta(hours=1))

    assert again.status == "nothing"
    assert len(sink.received) == 1


def test_after_the_reminder_interval_one_reminder_is_sent(sink: Sink, store: Store) -> None:
    config = configuration(sink.url(), remind_after="6h")
    notify(config, store, failed_and_unknown(), now=T0)
    notify(config, store, failed_and_unknown(), now=T0 + timedelta(hours=5, minutes=59))
    assert len(sink.received) == 1

    reminder = notify(config, store, failed_and_unknown(), now=T0 + timedelta(hours=6))

    assert reminder.status == "sent"
    assert len(sink.received) == 2
    body = sink.messages()[1]["message"]
    assert body.count("(reminder: first reported 2026-05-01T03:00:00+00:00)") == 2
    # and the next reminder waits another interval from this one
    notify(config, store, failed_and_unknown(), now=T0 + timedelta(hours=11))
    assert len(sink.received) == 2


def test_a_problem_that_went_away_and_came_back_alerts_again(sink: Sink, store: Store) -> None:
    config = configuration(sink.url())
    notify(config, store, failed_and_unknown(), now=T0)

    # Facebook published on a later run: not news worth a message by default...
    quiet = notify(config, store, published("facebook"), now=T0 + timedelta(hours=1))
    assert quiet.status == "nothing"
    assert len(sink.received) == 1
    # ...but its earlier failure is forgotten, so failing again alerts at once
    back = notify(config, store, failed_and_unknown(), now=T0 + timedelta(hours=2))

    assert back.status == "sent"
    assert [e.platform for e in back.events] == ["facebook"]  # X's unknown is still held back
    assert sink.messages()[1]["title"] == "crosspost: 1 failed"


def test_a_token_problem_forgotten_after_doctor_found_it_fine_alerts_again(
    sink: Sink, store: Store
) -> None:
    config = configuration(sink.url())
    expiring = [
        Event(
            "token_expiring",
            None,
            None,
            "twitter",
            "the access token of @kpu_musirawas expires in 3 days",
            command="crosspost auth login twitter",
        )
    ]
    notify(config, store, expiring, now=T0)
    assert notify(config, store, expiring, now=T0 + timedelta(hours=1)).status == "nothing"

    forget(store, kinds=TOKEN_KINDS, platform="twitter")
    again = notify(config, store, expiring, now=T0 + timedelta(hours=2))

    assert again.status == "sent"
    first = sink.messages()[0]
    assert first["title"] == "crosspost: 1 token expiring"
    assert (
        "Accounts\n- X / Twitter: token expiring: the access token of @kpu_musirawas"
        in (first["message"])
    )
    assert "Fix: crosspost auth login twitter" in first["message"]


def test_an_alert_nobody_received_is_tried_again_by_the_next_call(sink: Sink, store: Store) -> None:
    events = failed_and_unknown()
    sink.status = 500  # the service refuses
    first = notify(configuration(sink.url()), store, events, now=T0)
    assert first.status == "failed"
    sink.status = 200

    second = notify(configuration(sink.url()), store, events, now=T0 + timedelta(minutes=15))

    assert second.status == "sent"
    assert len(sink.received) == 2


def test_partial_delivery_counts_as_alerted(sink: Sink, store: Store) -> None:
    config = configuration(sink.url(), f"json://127.0.0.1:{closed_port()}/hook")

    delivery = notify(config, store, failed_and_unknown(), now=T0)

    assert delivery.status == "partial"
    assert [t.delivered for t in delivery.targets] == [True, False]
    assert delivery.problem is not None
    assert delivery.problem.startswith("alerts: alert not delivered to json://… (")
    assert notify(config, store, failed_and_unknown(), now=T0 + timedelta(hours=1)).events == ()


# -- notify_on ---------------------------------------------------------------------------


def test_notify_on_leaves_out_the_kinds_not_listed(sink: Sink, store: Store) -> None:
    delivery = notify(
        configuration(sink.url(), notify_on=["unknown"]), store, failed_and_unknown(), now=T0
    )

    assert [e.kind for e in delivery.events] == ["unknown"]
    [message] = sink.messages()
    assert message["title"] == "crosspost: 1 unknown"
    assert "Facebook" not in message["message"]


def test_published_is_left_out_by_default_and_sent_with_its_url_when_asked(
    sink: Sink, store: Store
) -> None:
    assert notify(configuration(sink.url()), store, published("youtube"), now=T0).status == (
        "nothing"
    )
    assert sink.received == []

    config = configuration(sink.url(), notify_on=["published", "failed"])
    delivery = notify(config, store, published("youtube"), now=T0)

    assert delivery.status == "sent"
    [message] = sink.messages()
    assert message["title"] == "crosspost: 1 published"
    assert "- YouTube: published\n  https://example.org/youtube/123" in message["message"]
    assert message["type"] == "success"


def test_an_unknown_notify_on_kind_is_a_config_error_naming_the_kinds() -> None:
    with pytest.raises(ConfigError, match=r"alerts\.notify_on\[0\].*'token_dead'"):
        configuration(notify_on=["failure"])


# -- delivery failures -------------------------------------------------------------------


def test_an_unreachable_url_is_a_failed_delivery_and_nothing_is_printed(
    store: Store, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # as if the application logged everything somewhere
    config = configuration(f"json://127.0.0.1:{closed_port()}/hook")

    delivery = notify(config, store, failed_and_unknown(), now=T0)

    assert delivery.status == "failed"
    [target] = delivery.targets
    assert not target.delivered
    assert target.reason == "A Connection error occurred sending JSON notification to 127.0.0.1"
    assert delivery.problem == f"alerts: alert not delivered to json://… ({target.reason})"
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert [r for r in caplog.records if r.name.startswith(("apprise", "urllib3"))] == []
    # nobody got it: the next run tries again instead of holding it back
    assert notify(config, store, failed_and_unknown(), now=T0 + timedelta(minutes=1)).events


def test_a_url_apprise_does_not_know_is_a_failed_target(
    store: Store, capfd: pytest.CaptureFixture[str]
) -> None:
    delivery = notify(
        configuration("nosuchservice://example.org/x"), store, failed_and_unknown(), now=T0
    )

    assert delivery.status == "failed"
    assert delivery.targets[0].shown == "nosuchservice://…"
    assert capfd.readouterr() == ("", "")


def test_a_state_that_cannot_be_read_or_written_still_sends_and_never_raises(
    sink: Sink,
) -> None:
    class BrokenStore:
        def meta(self, announcement: str) -> dict[str, Any]:
            raise StateError("/srv/state/state.sqlite3: the disk is full")

        def set_meta(self, announcement: str, **values: Any) -> None:
            raise StateError("/srv/state/state.sqlite3: the disk is full")

    delivery = notify(
        configuration(sink.url()), cast(Store, BrokenStore()), failed_and_unknown(), now=T0
    )

    assert delivery.status == "sent"
    assert len(sink.received) == 1
    assert delivery.problem is not None
    assert "repeated alerts may not be held back" in delivery.problem


def test_an_unreadable_credentials_file_still_leaves_the_other_urls_their_message(
    sink: Sink, store: Store
) -> None:
    path = _credentials_file('[alerts]\nurls = ["json://example.org/a"]\n')
    path.chmod(0o644)  # readable by others: refused

    delivery = notify(
        configuration(), store, failed_and_unknown(), now=T0, environ={alerts.ENV_URLS: sink.url()}
    )

    assert delivery.status == "sent"
    assert len(sink.received) == 1
    assert delivery.problem is not None
    assert "alert URLs in the credentials file were not used" in delivery.problem
    assert "chmod 600" in delivery.problem


def test_no_alert_url_sends_nothing_and_records_nothing(store: Store) -> None:
    delivery = notify(configuration(), store, failed_and_unknown(), now=T0)

    assert delivery.status == "unconfigured"
    assert delivery.title == "crosspost: 1 failed, 1 unknown"
    assert delivery.problem is None
    assert store.meta(alerts.STATE_KEY) == {}


# -- secrets -----------------------------------------------------------------------------


def test_a_secret_in_an_alert_url_never_appears_in_output_state_or_errors(
    sink: Sink,
    store: Store,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    good = sink.url(userinfo=f"humas:{SECRET}")
    dead = f"json://humas:{SECRET}@127.0.0.1:{closed_port()}/hook"

    sent = notify(configuration(good), store, failed_and_unknown(), now=T0)
    missed = notify(
        configuration(dead, notify_on=["published"]), store, published("tiktok"), now=T0
    )
    cfg = tmp_path / "crosspost.toml"
    cfg.write_text(f'[alerts]\nurls = ["{dead}"]\n', "utf-8")
    code = main(["alerts", "test", "--config", str(cfg)])

    assert sent.status == "sent"
    assert sink.received[0].headers["Authorization"].startswith("Basic ")  # it was used
    assert missed.status == "failed"
    assert code == 1
    shown = [repr(sent), repr(missed), str(missed.problem), *capfd.readouterr()]
    shown += [record.getMessage() for record in caplog.records]
    for folder in (tmp_path / "state",):
        shown += [p.read_bytes().decode("latin-1") for p in folder.iterdir() if p.is_file()]
    assert all(SECRET not in text for text in shown)
    assert any("json://…" in text for text in shown)
    # errors about a misplaced URL never quote it
    with pytest.raises(ConfigError) as bad_config:
        configuration(f"humas:{SECRET}@127.0.0.1/hook")
    assert SECRET not in str(bad_config.value)
    credentials = _credentials_file(f'[alerts]\nurls = "json://humas:{SECRET}@example.org"\n')
    with pytest.raises(CredentialsError) as bad_file:
        CredentialStore(credentials).read()
    assert SECRET not in str(bad_file.value)


# -- where URLs come from ----------------------------------------------------------------


def _credentials_file(text: str) -> Path:
    path = Path(os.environ["CROSSPOST_HOME"]) / "credentials.toml"
    path.write_text(text, "utf-8")
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return path


def test_urls_come_from_the_config_the_credentials_file_and_the_environment() -> None:
    _credentials_file('[alerts]\nurls = ["tgram://123456:bot-token-5ae1f0/-100200"]\n')
    environ = {alerts.ENV_URLS: "ntfys://ntfy.example.org/humas, json://example.org/a\n"}

    urls = alerts.alert_urls(configuration("json://example.org/a"), environ)

    assert urls == [
        "json://example.org/a",
        "tgram://123456:bot-token-5ae1f0/-100200",
        "ntfys://ntfy.example.org/humas",
    ]
    assert [alerts.scheme_of(u) for u in urls] == ["json", "tgram", "ntfys"]


def test_the_credentials_file_alerts_table_holds_only_urls() -> None:
    path = _credentials_file('[alerts]\nurls = ["json://example.org/a"]\nurl = "x"\n')

    with pytest.raises(CredentialsError, match=r"\[alerts\] holds only urls"):
        CredentialStore(path).read()


def test_a_url_in_the_credentials_file_stays_secret_when_the_credentials_are_written() -> None:
    path = _credentials_file('[alerts]\nurls = ["json://example.org/a"]\n')

    CredentialStore(path).update("twitter", {"account": "kpu_musirawas"})

    assert CredentialStore(path).read()["alerts"] == {"urls": ["json://example.org/a"]}


# -- events from results -----------------------------------------------------------------


def test_events_from_results_leave_out_what_a_person_was_already_told() -> None:
    results = [
        Result("facebook", "published", "1", "https://fb.example/1", earlier=True),
        Result("instagram", "failed", code="transient", message="5xx", earlier=True, quiet=True),
        Result("tiktok", "unknown", code="unknown", message="still unsure", quiet=True),
        Result("youtube", "unknown", code="unknown", message="not found yet", earlier=True),
        Result("twitter", "published", "2", "https://x.example/2"),
    ]

    events = events_from_results("pilkada", FILE, results)

    assert [(e.kind, e.platform) for e in events] == [
        ("unknown", "youtube"),
        ("published", "twitter"),
    ]
    assert events[1].url == "https://x.example/2"


def test_a_refused_credential_carries_the_login_command_and_others_none() -> None:
    results = [
        Result("tiktok", "failed", code="auth", message="token revoked"),
        Result("youtube", "failed", code="invalid_content", message="title too long"),
    ]

    auth, content = events_from_results("pilkada", FILE, results)

    assert auth.command == "crosspost auth login tiktok"
    assert content.command is None
    assert (content.kind, content.message, content.file) == ("failed", "title too long", FILE)


# -- the message -------------------------------------------------------------------------


def test_a_long_message_is_cut_at_a_line_and_says_how_much_was_left_out(
    sink: Sink, store: Store
) -> None:
    events = [
        Event("failed", f"announcement-{i:03}", None, "facebook", "the Page refused it " * 3)
        for i in range(200)
    ]

    notify(configuration(sink.url()), store, events, now=T0)

    [message] = sink.messages()
    assert message["title"] == "crosspost: 200 failed"
    body = message["message"]
    assert len(body) <= alerts.MAX_BODY
    shown = body.count("- Facebook: failed")
    assert body.endswith(f"... and {200 - shown} more; run crosspost status for everything.")


def test_a_title_given_by_the_caller_replaces_the_counted_one(sink: Sink, store: Store) -> None:
    notify(configuration(sink.url()), store, failed_and_unknown(), title="crosspost run", now=T0)

    assert sink.messages()[0]["title"] == "crosspost run"


# -- crosspost alerts test ---------------------------------------------------------------


def test_alerts_test_sends_to_every_target_and_exits_0(
    sink: Sink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "crosspost.toml"
    cfg.write_text(f'[alerts]\nurls = ["{sink.url()}", "{sink.url("form")}"]\n', "utf-8")

    code = main(["alerts", "test", "--config", str(cfg)])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == ["✓ json://…: delivered", "✓ form://…: delivered"]
    json_message, form_message = sink.messages()
    assert json_message["title"] == form_message["title"] == "crosspost: test alert"
    assert form_message["message"].startswith("This is a test message from crosspost.")


def test_alerts_test_with_an_unreachable_target_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "crosspost.toml"
    cfg.write_text(f'[alerts]\nurls = ["json://127.0.0.1:{closed_port()}/"]\n', "utf-8")

    code = main(["alerts", "test", "--config", str(cfg)])

    out, _ = capsys.readouterr()
    assert code == 1
    assert out.startswith("✗ json://…: not delivered: A Connection error occurred")


def test_alerts_test_from_cron_prints_one_line_per_target_and_nothing_of_apprise(
    tmp_path: Path,
) -> None:
    """A real process, as cron runs it: no pytest handler stands between Apprise and stderr."""
    dead = f"json://humas:{SECRET}@127.0.0.1:{closed_port()}/hook"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    environ |= {
        "CROSSPOST_HOME": str(tmp_path / "home"),
        alerts.ENV_URLS: dead,
        "NO_COLOR": "1",
        "PYTHONWARNINGS": "default",  # deprecation warnings of Apprise's imports would show
    }

    done = subprocess.run(
        [sys.executable, "-m", "crosspost", "alerts", "test"],
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1
    assert done.stderr == ""
    assert done.stdout == (
        "✗ json://…: not delivered: A Connection error occurred sending JSON notification to "
        "127.0.0.1\n"
    )


def test_alerts_test_without_urls_exits_2_and_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "crosspost.toml"
    cfg.write_text("[profile]\nname = 'KPU'\n", "utf-8")

    code = main(["alerts", "test", "--config", str(cfg)])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "error: no alert URL is set" in err
    assert f"under [alerts] in {cfg}" in err
    assert "CROSSPOST_ALERTS_URLS" in err
