"""Blackout windows: nothing goes out on a schedule inside one (issue #11, docs/state.md).

End to end as cron runs it (``crosspost run`` as a separate process against the
loopback fakes, the helpers of tests/test_run.py), plus ``publish``'s refusal
and override, and how ``validate`` shows a window. Time is never moved: a window
"ends" by being rewritten into the past.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crosspost.cli import main
from crosspost.config import load_config
from crosspost.errors import ConfigError
from tests.conftest import EXAMPLE
from tests.fakes.world import World
from tests.test_run import announcement, crosspost, setup, when

JAKARTA = ZoneInfo("Asia/Jakarta")
QUIET = "masa tenang Pilkada"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The fakes, serving the media of the test's folder (as in tests/test_run.py)."""
    folder = tmp_path / "announcements"
    (folder / "media").mkdir(parents=True)
    shutil.copy(EXAMPLE / "media" / "humas.jpg", folder / "media" / "humas.jpg")
    w = World(folder)
    with w.serving():
        yield w


def moment(**delta: float) -> datetime:
    """Now plus ``delta``, to the second, in UTC."""
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0)


def table(start: datetime | str, end: datetime | str, reason: str = QUIET, *extra: str) -> str:
    """A ``[[blackout]]`` table; datetimes are written with their offsets, strings as they are."""
    shown = [v.isoformat() if isinstance(v, datetime) else v for v in (start, end)]
    lines = ["[[blackout]]", f"start = {shown[0]}", f"end = {shown[1]}", f'reason = "{reason}"']
    return "\n".join([*lines, *extra]) + "\n"


def blackout(folder: Path, *tables: str) -> None:
    """Replace the config's [[blackout]] tables with ``tables``."""
    config = folder / "crosspost.toml"
    text = config.read_text("utf-8").split("\n# blackout\n")[0]
    config.write_text(text + "\n# blackout\n" + "".join(tables), encoding="utf-8")


def jakarta(at: datetime) -> str:
    """How crosspost shows ``at`` to an office in Jakarta."""
    shown = at.astimezone(JAKARTA)
    return f"{shown:%a} {shown.day} {shown:%b} {shown.year} {shown:%H:%M} WIB"


def flags(folder: Path, announcement_id: str) -> dict[str, object]:
    """The announcement's flags in the state store, read straight from the database."""
    db = sqlite3.connect(folder / "state" / "state.sqlite3")
    try:
        row = db.execute(
            "SELECT meta FROM announcements WHERE id = ?", (announcement_id,)
        ).fetchone()
    finally:
        db.close()
    found: dict[str, object] = json.loads(row[0]) if row and row[0] else {}
    return found


# -- crosspost run ---------------------------------------------------------------------------


def test_a_due_post_inside_a_window_is_skipped_with_its_reason(
    world: World, tmp_path: Path
) -> None:
    """Nothing reaches the platforms; the reason and the local end are said once."""
    folder = setup(world, tmp_path)
    end = moment(hours=2)
    blackout(folder, table(moment(hours=-1), end))
    due = announcement(folder, "due.toml", "Rapat pleno", publish_at=when(minutes=-5))
    first = crosspost(world, tmp_path, "run", str(folder))
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"! {due}: blackout: {QUIET} (until {jakarta(end)})" in first.stdout
    assert "not published to Facebook, X / Twitter" in first.stdout
    assert not world.facebook.requests and not world.twitter.requests
    again = crosspost(world, tmp_path, "run", str(folder))
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""
    document = crosspost(world, tmp_path, "run", str(folder), "--json")
    data = json.loads(document.stdout)["announcements"][0]
    assert data["state"] == "blackout_skipped"
    assert [(b["platform"], b["reason"]) for b in data["blackout"]] == [
        ("facebook", QUIET),
        ("twitter", QUIET),
    ]
    assert datetime.fromisoformat(data["blackout"][0]["end"]) == end
    assert "results" not in data
    assert not world.facebook.requests and not world.twitter.requests


def test_after_the_window_a_post_within_max_late_is_published(world: World, tmp_path: Path) -> None:
    """The window ends (rewritten into the past): the next run publishes what it held back."""
    folder = setup(world, tmp_path)
    blackout(folder, table(moment(hours=-1), moment(hours=1)))
    announcement(folder, "due.toml", "Setelah masa tenang", publish_at=when(minutes=-10))
    assert crosspost(world, tmp_path, "run", str(folder)).returncode == 0
    assert not world.facebook.posts and not world.twitter.tweets
    blackout(folder, table(moment(hours=-1), moment(minutes=-1)))
    after = crosspost(world, tmp_path, "run", str(folder))
    assert after.returncode == 0, after.stdout + after.stderr
    assert "✓ Facebook: published" in after.stdout and "✓ X / Twitter: published" in after.stdout
    assert len(world.facebook.posts) == 1 and len(world.twitter.tweets) == 1


def test_a_post_held_back_until_it_is_late_is_skipped_naming_the_window(
    world: World, tmp_path: Path
) -> None:
    """Held back by a run, then late (max_late lowered): late-skipped, the window named."""
    folder = setup(world, tmp_path)
    blackout(folder, table(moment(hours=-1), moment(hours=1)))
    due = announcement(folder, "due.toml", "Besok", publish_at=when(minutes=-10))
    assert crosspost(world, tmp_path, "run", str(folder)).returncode == 0
    end = moment(minutes=-1)
    blackout(folder, table(moment(hours=-1), end))
    announcement(folder, "due.toml", "Besok", publish_at=when(minutes=-10), max_late='"5m"')
    late = crosspost(world, tmp_path, "run", str(folder), "--json")
    assert late.returncode == 0, late.stderr
    data = json.loads(late.stdout)["announcements"][0]
    assert data["state"] == "late_skipped"
    assert f"held back by blackout: {QUIET} (until " in data["message"]
    assert f"crosspost publish {due} --now" in data["message"]
    assert {b["platform"] for b in data["blackout"]} == {"facebook", "twitter"}
    assert not world.facebook.requests and not world.twitter.requests


def test_a_late_post_whose_time_fell_in_a_past_window_names_it(
    world: World, tmp_path: Path
) -> None:
    """No run saw the window (cron was off); the late report still says what held it back."""
    folder = setup(world, tmp_path)
    end = moment(days=-1)
    blackout(folder, table(moment(days=-3), end, "embargo hasil"))
    due = announcement(folder, "old.toml", "Hasil", publish_at=when(days=-2))
    result = crosspost(world, tmp_path, "run", str(folder))
    assert result.returncode == 0
    assert result.stdout.startswith(f"! {due}: was due ")
    assert f"held back by blackout: embargo hasil (until {jakarta(end)})" in result.stdout
    assert not world.facebook.requests and not world.twitter.requests


def test_a_window_written_in_another_timezone_is_read_by_its_offset(
    world: World, tmp_path: Path
) -> None:
    """+09:00 (WIT) in a Jakarta office: shown in WIB; a WIT window that is over holds nothing."""
    folder = setup(world, tmp_path)
    wit = timezone(timedelta(hours=9))
    end = moment(hours=1).astimezone(wit)
    over = moment(minutes=-30).astimezone(wit)  # as a Jakarta wall-clock time, 90 min ahead
    blackout(
        folder,
        table(moment(hours=-1).astimezone(wit), end, "embargo WIT", 'platforms = ["x"]'),
        table(moment(hours=-3).astimezone(wit), over, "sudah lewat", 'platforms = ["facebook"]'),
    )
    due = announcement(folder, "due.toml", "Lintas zona", publish_at=when(minutes=-5))
    result = crosspost(world, tmp_path, "run", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"! {due}: blackout: embargo WIT (until {jakarta(end)})" in result.stdout
    assert "sudah lewat" not in result.stdout
    assert len(world.facebook.posts) == 1 and not world.twitter.requests


def test_a_local_window_is_in_the_profiles_timezone(world: World, tmp_path: Path) -> None:
    """start and end without an offset are Jakarta wall-clock times."""
    folder = setup(world, tmp_path)
    start = moment(hours=-1).astimezone(JAKARTA).replace(tzinfo=None)
    end = moment(hours=1).astimezone(JAKARTA).replace(tzinfo=None)
    blackout(folder, table(start.isoformat(), end.isoformat()))
    announcement(folder, "due.toml", "Jam lokal", publish_at=when(minutes=-5))
    result = crosspost(world, tmp_path, "run", str(folder))
    assert result.returncode == 0
    assert f"(until {jakarta(end.replace(tzinfo=JAKARTA))})" in result.stdout
    assert not world.facebook.requests and not world.twitter.requests


def test_a_per_platform_window_holds_back_only_its_platform(world: World, tmp_path: Path) -> None:
    """X is in the window, Facebook is not: Facebook goes out now, X after the window."""
    folder = setup(world, tmp_path)
    blackout(folder, table(moment(hours=-1), moment(hours=1), QUIET, 'platforms = ["x"]'))
    announcement(folder, "due.toml", "Sebagian", publish_at=when(minutes=-5))
    first = crosspost(world, tmp_path, "run", str(folder), "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)["announcements"][0]
    assert data["state"] == "due"
    assert [b["platform"] for b in data["blackout"]] == ["twitter"]
    assert [(r["platform"], r["status"]) for r in data["results"]] == [("facebook", "published")]
    assert len(world.facebook.posts) == 1 and not world.twitter.requests
    quiet = crosspost(world, tmp_path, "run", str(folder))
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    blackout(folder, table(moment(hours=-1), moment(minutes=-1), QUIET, 'platforms = ["x"]'))
    after = crosspost(world, tmp_path, "run", str(folder))
    assert after.returncode == 0, after.stdout + after.stderr
    assert len(world.facebook.posts) == 1 and len(world.twitter.tweets) == 1


def test_an_announcements_own_window_applies_to_it_alone(world: World, tmp_path: Path) -> None:
    """A one-off embargo in one file: that file waits, the other one goes out."""
    folder = setup(world, tmp_path)
    embargoed = announcement(folder, "embargo.toml", "Hasil rekap", publish_at=when(minutes=-5))
    with embargoed.open("a", encoding="utf-8") as handle:
        handle.write(table(moment(hours=-1), moment(hours=3), "embargo hasil"))
    announcement(folder, "other.toml", "Sosialisasi", publish_at=when(minutes=-5))
    result = crosspost(world, tmp_path, "run", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"! {embargoed}: blackout: embargo hasil" in result.stdout
    assert len(world.facebook.posts) == 1
    assert world.facebook.posts[0]["message"].startswith("Sosialisasi")
    assert len(world.twitter.tweets) == 1


# -- crosspost publish -----------------------------------------------------------------------


def test_publish_inside_a_window_is_refused_and_the_override_recorded(
    world: World, tmp_path: Path
) -> None:
    """Exit 1 naming the window and the override; with a reason it goes out, and is recorded."""
    folder = setup(world, tmp_path)
    end = moment(hours=2)
    blackout(folder, table(moment(hours=-1), end))
    path = announcement(folder, "now.toml", "Ralat jadwal")
    refused = crosspost(world, tmp_path, "publish", str(path))
    assert refused.returncode == 1
    assert f"inside a blackout window: {QUIET}" in refused.stderr
    assert f"until {jakarta(end)}" in refused.stderr
    assert f'crosspost publish {path} --ignore-blackout --reason "WHY"' in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not world.facebook.requests and not world.twitter.requests
    forced = crosspost(
        world, tmp_path, "publish", str(path), "--ignore-blackout", "--reason", "Ralat KPU RI"
    )
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "--ignore-blackout recorded with the reason: Ralat KPU RI" in forced.stdout
    assert len(world.facebook.posts) == 1 and len(world.twitter.tweets) == 1
    (record,) = flags(folder, "now")["blackout_override"]  # type: ignore[misc]
    assert record["reason"] == "Ralat KPU RI"
    assert record["platforms"] == ["facebook", "twitter"]
    assert [w["reason"] for w in record["windows"]] == [QUIET]
    assert datetime.fromisoformat(record["at"]) <= datetime.now(UTC)
    assert "by" in record


def test_publish_refuses_an_override_without_a_reason(world: World, tmp_path: Path) -> None:
    """--ignore-blackout alone, a blank reason, or --reason alone: usage error, nothing sent."""
    folder = setup(world, tmp_path)
    blackout(folder, table(moment(hours=-1), moment(hours=1)))
    path = announcement(folder, "now.toml", "Tanpa alasan")
    for args in (["--ignore-blackout"], ["--ignore-blackout", "--reason", " "], ["--reason", "x"]):
        result = crosspost(world, tmp_path, "publish", str(path), *args)
        assert result.returncode == 2, args
        assert "--ignore-blackout" in result.stderr and "--reason" in result.stderr
    assert not world.facebook.requests and not world.twitter.requests


def test_publish_json_names_the_window(world: World, tmp_path: Path) -> None:
    """--json: the refusal is a document with the window and the override command."""
    folder = setup(world, tmp_path)
    blackout(folder, table(moment(hours=-1), moment(hours=1), QUIET, 'platforms = ["twitter"]'))
    path = announcement(folder, "now.toml", "Sebagian")
    result = crosspost(world, tmp_path, "publish", str(path), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [b["platform"] for b in data["blackout"]] == ["twitter"]
    assert data["command"].endswith('--ignore-blackout --reason "WHY"')
    assert f"to publish to the others now: crosspost publish {path} --platform facebook" in (
        result.stderr
    )
    only = crosspost(world, tmp_path, "publish", str(path), "--platform", "facebook")
    assert only.returncode == 0, only.stdout + only.stderr
    assert len(world.facebook.posts) == 1 and not world.twitter.requests


# -- validate and the config -----------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_warns_of_a_publish_at_inside_a_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A warning line '! blackout: <reason> …' naming the platforms; still exit 0."""
    start, end = moment(days=1), moment(days=3)
    write(
        tmp_path / "crosspost.toml",
        '[profile]\ntimezone = "Asia/Jakarta"\n' + table(start, end, QUIET, 'platforms = ["x"]'),
    )
    inside = write(
        tmp_path / "a.toml",
        f'body = "Halo"\ntargets = ["facebook", "x"]\npublish_at = {moment(days=2).isoformat()}\n',
    )
    outside = write(
        tmp_path / "b.toml",
        f'body = "Halo"\ntargets = ["facebook", "x"]\npublish_at = {moment(days=4).isoformat()}\n',
    )
    assert main(["validate", str(inside), str(outside)]) == 0
    out = capsys.readouterr().out
    warning = next(line for line in out.splitlines() if "! blackout:" in line)
    assert warning.strip().startswith(f"! blackout: {QUIET} (from {jakarta(start)} until ")
    assert "publish_at falls inside it for X / Twitter;" in warning
    assert out.count("! blackout:") == 1  # b.toml is after the window


def test_a_dst_gap_or_a_missing_timezone_is_refused_naming_the_field(tmp_path: Path) -> None:
    """A local time the clocks skip, or one with no profile timezone, is an error on its field."""
    gap = write(
        tmp_path / "gap.toml",
        '[profile]\ntimezone = "Europe/Berlin"\n'
        + table("2026-03-29T02:30:00", "2026-03-29T06:00:00"),
    )
    with pytest.raises(ConfigError) as found:
        load_config(gap)
    assert f"{gap}: blackout[0].start: 2026-03-29T02:30:00 does not exist in Europe/Berlin" in (
        str(found.value)
    )
    bare = write(tmp_path / "bare.toml", table("2026-03-29T02:30:00", moment()))
    with pytest.raises(ConfigError) as missing:
        load_config(bare)
    assert f"{bare}: blackout[0].start: has no UTC offset" in str(missing.value)
    backwards = write(tmp_path / "back.toml", table(moment(), moment(hours=-1)))
    with pytest.raises(ConfigError, match=r"blackout\[0\]\.end: .* is not after start"):
        load_config(backwards)
    unknown = write(
        tmp_path / "unknown.toml", table(moment(), moment(hours=1), "x", 'platforms = ["fax"]')
    )
    with pytest.raises(ConfigError, match=r"blackout\[0\]\.platforms: unknown platform 'fax'"):
        load_config(unknown)


def test_an_announcements_own_local_window_needs_a_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """validate names the announcement's field (exit 2) when no profile timezone applies."""
    path = write(
        tmp_path / "a.toml",
        'body = "Halo"\ntargets = ["facebook"]\n\n' + table("2026-01-01T08:00:00", moment()),
    )
    write(tmp_path / "crosspost.toml", '[profile]\nname = "KPU"\n')
    assert main(["validate", str(path)]) == 2
    assert f"{path}: blackout[0].start: has no UTC offset" in capsys.readouterr().err


def test_a_blackout_skip_reaches_the_offices_channel_and_nothing_goes_out(
    world: World, tmp_path: Path
) -> None:
    """The quiet period holds a due post: one alert with the reason; no platform is called."""
    from tests.fakes.sink import Sink
    from tests.test_run import with_alerts

    folder = setup(world, tmp_path)
    blackout(folder, table(moment(hours=-1), moment(hours=2)))
    announcement(folder, "due.toml", "Rapat pleno", publish_at=when(minutes=-5))
    sink = Sink()
    with sink.serving():
        with_alerts(folder, sink.url())
        for _ in range(2):
            assert crosspost(world, tmp_path, "run", str(folder)).returncode == 0
        messages = sink.messages()
    assert len(messages) == 1 and QUIET in messages[0]["message"]
    assert not world.facebook.requests and not world.twitter.requests
