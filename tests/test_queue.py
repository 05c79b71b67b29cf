"""``crosspost queue`` and ``crosspost status``: the agenda and the per-file state, in local time.

The state store is written directly to stand for what earlier runs recorded
(published, failed, unknown, a late skip); the commands only read it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crosspost.cli import main
from crosspost.state import Entry, open_store, state_dir

JAKARTA = ZoneInfo("Asia/Jakarta")
CONFIG = '[profile]\nname = "KPU"\ntimezone = "Asia/Jakarta"\n'


@pytest.fixture
def posts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of announcements with its config (Jakarta time), crosspost's home in tmp_path."""
    monkeypatch.setenv("CROSSPOST_HOME", str(tmp_path / "home"))
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "crosspost.toml").write_text(CONFIG, encoding="utf-8")
    return folder


def write(folder: Path, name: str, *lines: str) -> Path:
    """An announcement to Facebook and X with extra TOML ``lines``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(['body = "Halo #TemanPemilih"', 'targets = ["facebook", "twitter"]', *lines])
    path.write_text(text + "\n", encoding="utf-8")
    return path


def at(when: datetime) -> str:
    """A ``publish_at`` line."""
    return f"publish_at = {when.isoformat()}"


def put(folder: Path, announcement: str, platform: str, status: str, **fields: object) -> None:
    """Record a platform's entry in the state store the folder's config uses."""
    store = open_store(state_dir(None, folder / "crosspost.toml"))
    try:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        store.put(announcement, Entry(platform, status, "h", now, **fields))  # type: ignore[arg-type]
    finally:
        store.close()


def meta(folder: Path, announcement: str, **values: object) -> None:
    store = open_store(state_dir(None, folder / "crosspost.toml"))
    try:
        store.set_meta(announcement, **values)
    finally:
        store.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def queue_json(capsys: pytest.CaptureFixture[str], folder: Path) -> dict[str, object]:
    code, out, err = run(capsys, "queue", "--json", str(folder))
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def jakarta(days: int, hour: int) -> datetime:
    """``hour``:00 in Jakarta, ``days`` days from today there."""
    today = datetime.now(JAKARTA).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


def shown(when: datetime) -> str:
    """How the agenda writes a Jakarta time."""
    return f"{when:%a} {when.day} {when:%b} {when.year} {when:%H:%M} WIB"


# -- queue -----------------------------------------------------------------------------------


def test_queue_shows_a_week_of_posts_in_office_time_in_order(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seven announcements written in no order show by time, each at its Jakarta time."""
    week = [jakarta(day, 10 + day) for day in range(1, 8)]
    names = ["g.toml", "c.toml", "a.toml", "sub/f.toml", "e.toml", "b.toml", "d.toml"]
    for name, when in zip(names, week, strict=True):
        write(posts, name, at(when.astimezone(UTC)))  # stored in UTC, shown in Jakarta time
    (posts / "sub" / "crosspost.toml").write_text(CONFIG, encoding="utf-8")
    code, out, err = run(capsys, "queue", str(posts))
    assert code == 0, err
    assert "times in Asia/Jakarta" in out
    positions = [out.index(shown(when)) for when in week]
    assert positions == sorted(positions)
    for name, when in zip(names, week, strict=True):
        line = next(line for line in out.splitlines() if shown(when) in line)
        assert f"  {Path(name).stem}  scheduled, in " in line
    data = queue_json(capsys, posts)
    assert data["timezone"] == "Asia/Jakarta"
    rows = data["announcements"]
    assert isinstance(rows, list)
    assert [r["local_time"] for r in rows] == [shown(when) for when in week]
    assert [r["id"] for r in rows] == [Path(n).stem for n in names]
    assert all(r["state"] == "scheduled" for r in rows)


def test_queue_puts_unscheduled_and_drafts_last(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(posts, "a-draft.toml", "draft = true", at(jakarta(1, 9)))
    write(posts, "b-unscheduled.toml")
    write(posts, "c-later.toml", at(jakarta(3, 9)))
    write(posts, "d-sooner.toml", at(jakarta(2, 9)))
    rows = queue_json(capsys, posts)["announcements"]
    assert isinstance(rows, list)
    assert [(r["id"], r["state"]) for r in rows] == [
        ("d-sooner", "scheduled"),
        ("c-later", "scheduled"),
        ("a-draft", "draft"),
        ("b-unscheduled", "unscheduled"),
    ]
    assert rows[3]["publish_at"] is None and rows[3]["local_time"] is None
    _, out, _ = run(capsys, "queue", str(posts))
    assert (
        "no time  b-unscheduled  unscheduled: no publish_at, so run leaves it alone; "
        f"to send it now: crosspost publish {posts / 'b-unscheduled.toml'}"
    ) in out
    assert "a-draft  draft: run never publishes it" in out


def test_queue_shows_due_and_late_from_the_clock_and_a_late_skip_from_the_state(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    write(posts, "due.toml", at(now - timedelta(hours=1)))
    write(posts, "late.toml", at(now - timedelta(days=2, hours=3, minutes=5)))
    write(posts, "skipped.toml", at(now - timedelta(days=1)))
    meta(posts, "skipped", late_skipped=now.isoformat())
    rows = {r["id"]: r for r in queue_json(capsys, posts)["announcements"]}  # type: ignore[attr-defined]
    assert rows["due"]["state"] == "due"
    assert rows["late"]["state"] == "late"
    assert rows["skipped"]["state"] == "late_skipped"
    assert {p["status"] for p in rows["skipped"]["platforms"]} == {"late_skipped"}
    _, out, _ = run(capsys, "queue", str(posts))
    assert "  late  late by 2d 3h (max_late 6h): run skips it" in out
    assert "  skipped  late by 1d (max_late 6h): skipped by run" in out
    assert "  due  due: the next run publishes it" in out


def test_queue_shows_published_failed_and_unknown_per_platform(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    write(posts, "mixed.toml", at(now - timedelta(hours=1)))
    put(
        posts, "mixed", "facebook", "published", url="https://www.facebook.com/1_2", remote_id="1_2"
    )
    put(posts, "mixed", "twitter", "sending")
    write(posts, "retry.toml", at(now - timedelta(minutes=30)))
    retry_at = datetime(2031, 5, 6, 3, 30, tzinfo=UTC)
    put(
        posts,
        "retry",
        "facebook",
        "failed",
        message="Facebook: server error 503",
        attempts=1,
        next_try=retry_at.isoformat(),
    )
    put(posts, "retry", "twitter", "failed", message="token revoked", attempts=5)
    rows = {r["id"]: r for r in queue_json(capsys, posts)["announcements"]}  # type: ignore[attr-defined]
    mixed = {p["platform"]: p for p in rows["mixed"]["platforms"]}
    assert rows["mixed"]["state"] == "unknown"
    assert mixed["facebook"] == {
        "platform": "facebook",
        "status": "published",
        "url": "https://www.facebook.com/1_2",
    }
    assert mixed["twitter"]["status"] == "unknown"
    assert mixed["twitter"]["command"] == (
        f"crosspost resolve {posts / 'mixed.toml'} --platform twitter "
        "(--published URL | --not-published)"
    )
    retry = {p["platform"]: p for p in rows["retry"]["platforms"]}
    assert rows["retry"]["state"] == "failed"
    assert retry["facebook"]["next_try"] == retry_at.isoformat()
    assert retry["facebook"]["message"] == "Facebook: server error 503"
    assert retry["twitter"]["gave_up"] == 5 and "next_try" not in retry["twitter"]

    code, out, _ = run(capsys, "queue", str(posts))
    assert code == 0
    assert "✓ Facebook: published: https://www.facebook.com/1_2" in out
    file = posts / "mixed.toml"
    assert (
        f"? X / Twitter: unknown; check the account; if the post is there run: crosspost resolve "
        f"{file} --platform twitter --published URL; if not: crosspost resolve {file} "
        "--platform twitter --not-published"
    ) in out
    assert "✗ Facebook: failed: server error 503; next try Tue 6 May 2031 10:30 WIB" in out
    assert "✗ X / Twitter: failed: token revoked; run gave up after 5 attempts" in out


def test_queue_treats_not_published_as_waiting_for_its_time(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A person's "not published" check puts the platform back in the schedule."""
    write(posts, "a.toml", at(jakarta(2, 10)))
    put(posts, "a", "twitter", "not_published")
    put(posts, "a", "facebook", "published", url="https://www.facebook.com/9")
    rows = queue_json(capsys, posts)["announcements"]
    assert isinstance(rows, list)
    statuses = {p["platform"]: p["status"] for p in rows[0]["platforms"]}
    assert statuses == {"facebook": "published", "twitter": "scheduled"}
    assert rows[0]["state"] == "scheduled"


def test_queue_of_an_all_published_announcement_is_published(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(posts, "a.toml", at(datetime.now(UTC) - timedelta(days=3)))
    put(posts, "a", "facebook", "published", url="https://www.facebook.com/9")
    put(posts, "a", "twitter", "published", url="https://x.com/i/status/7")
    rows = queue_json(capsys, posts)["announcements"]
    assert isinstance(rows, list)
    assert rows[0]["state"] == "published"  # not "late": it went out in time


def test_queue_lists_a_broken_file_as_a_problem_and_goes_on(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(posts, "good.toml", at(jakarta(1, 10)))
    write(posts, "z-draft.toml", "draft = true")
    (posts / "broken.toml").write_text('body = "x"\ntitle = \n', encoding="utf-8")
    code, out, err = run(capsys, "queue", str(posts))
    assert code == 0, err
    assert "broken.toml" in out and "TOML syntax error" in out
    assert "Traceback" not in out + err
    rows = queue_json(capsys, posts)["announcements"]
    assert isinstance(rows, list)
    assert [r["state"] for r in rows] == ["scheduled", "draft", "problem"]  # problems last
    assert rows[2]["file"] == str(posts / "broken.toml") and rows[2]["id"] is None
    assert "TOML syntax error" in rows[2]["message"]


def test_queue_names_both_files_of_a_duplicate_id(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(posts, "2023/rapat.toml", at(jakarta(1, 10)))
    second = write(posts, "2024/rapat.toml", at(jakarta(2, 10)))
    write(posts, "other.toml", at(jakarta(3, 10)))
    rows = queue_json(capsys, posts)["announcements"]
    assert isinstance(rows, list)
    problems = {r["file"]: r["message"] for r in rows if r["state"] == "problem"}
    assert set(problems) == {str(first), str(second)}
    assert f"the id 'rapat' is also used by {second}" in problems[str(first)]
    assert f"the id 'rapat' is also used by {first}" in problems[str(second)]
    _, out, _ = run(capsys, "queue", str(posts))
    assert f"is also used by {second}" in out


def test_queue_skips_config_and_parked_files(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(posts, "live.toml", at(jakarta(1, 10)))
    write(posts, "_parked.toml", at(jakarta(1, 10)))
    write(posts, "_old/x.toml", at(jakarta(1, 10)))
    write(posts, ".y.toml", at(jakarta(1, 10)))
    rows = queue_json(capsys, posts)["announcements"]
    assert isinstance(rows, list)
    assert [r["id"] for r in rows] == ["live"]


def test_queue_of_a_missing_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "queue", str(tmp_path / "nope"))
    assert code == 2 and out == ""
    assert f"{tmp_path / 'nope'}: no such folder" in err


def test_queue_of_a_file_is_a_usage_error(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(posts, "a.toml")
    code, _, err = run(capsys, "queue", str(path))
    assert code == 2 and "is a file, not a folder" in err


def test_queue_shows_where_the_state_lives(posts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(posts, "a.toml", at(jakarta(1, 10)))
    _, out, _ = run(capsys, "queue", str(posts))
    assert f"state: {posts.parent / 'home' / 'state'}" in out


# -- status ----------------------------------------------------------------------------------


def test_status_shows_a_future_post_as_scheduled_in_local_time_and_exits_0(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    when = jakarta(3, 14)
    path = write(posts, "a.toml", at(when.astimezone(UTC)))
    code, out, err = run(capsys, "status", str(path))
    assert code == 0, err
    assert f"• Facebook: scheduled for {shown(when)}" in out
    assert "✗" not in out and "not published" not in out
    code, out, _ = run(capsys, "status", "--json", str(path))
    assert code == 0
    doc = json.loads(out)
    assert [(r["platform"], r["status"]) for r in doc["platforms"]] == [
        ("facebook", "scheduled"),
        ("twitter", "scheduled"),
    ]
    assert doc["publish_at"] == when.astimezone(UTC).isoformat()


def test_status_shows_a_late_post_as_skipped_with_how_late(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(posts, "a.toml", at(datetime.now(UTC) - timedelta(days=1, hours=2, minutes=1)))
    code, out, _ = run(capsys, "status", str(path))
    assert code == 1
    assert "! Facebook: late: skipped, not published\n" in out
    assert "! X / Twitter: late: skipped, not published\n" in out
    assert out.count("late: was due ") == 1  # the announcement's timing, told once
    assert "1d 2h ago (more than max_late 6h; run skips it)" in out
    assert f"crosspost publish {path} --now" in out


def test_status_shows_sending_as_unknown_with_the_resolve_commands(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(posts, "a.toml", at(datetime.now(UTC) - timedelta(minutes=5)))
    put(posts, "a", "twitter", "sending")
    put(posts, "a", "facebook", "published", url="https://www.facebook.com/1_2")
    code, out, _ = run(capsys, "status", str(path))
    assert code == 3
    assert "? X / Twitter: unknown at " in out
    assert f"crosspost resolve {path} --platform twitter --not-published" in out
    code, out, _ = run(capsys, "status", "--json", str(path))
    rows = {r["platform"]: r for r in json.loads(out)["platforms"]}
    assert rows["twitter"]["status"] == "unknown"
    assert rows["facebook"] == {
        "platform": "facebook",
        "status": "published",
        "at": rows["facebook"]["at"],
        "url": "https://www.facebook.com/1_2",
    }


def test_status_shows_times_in_the_profile_timezone_and_the_state_directory(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(posts, "a.toml", at(datetime.now(UTC) - timedelta(minutes=5)))
    store = open_store(state_dir(None, posts / "crosspost.toml"))
    try:
        stamp = "2031-05-06T03:30:00+00:00"
        for name in ("facebook", "twitter"):
            store.put("a", Entry(name, "published", "h", stamp, url=f"https://{name}.example/1"))
        location = store.location
    finally:
        store.close()
    code, out, err = run(capsys, "status", str(path))
    assert code == 0, err
    assert f"state: {location}" in out
    assert "✓ Facebook: published at Tue 6 May 2031 10:30 WIB: https://facebook.example/1" in out
    code, out, _ = run(capsys, "status", "--json", str(path))
    doc = json.loads(out)
    assert doc["platforms"][0]["at"] == stamp  # JSON keeps the stored UTC time
    assert doc["state_dir"] == location


def test_status_counts_not_published_and_failed_as_missing(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(posts, "a.toml", at(datetime.now(UTC) - timedelta(minutes=5)))
    put(posts, "a", "twitter", "not_published")
    put(posts, "a", "facebook", "failed", message="token revoked", attempts=1)
    code, out, _ = run(capsys, "status", str(path))
    assert code == 1
    assert "✗ X / Twitter: not published\n    due: the next run publishes it" in out
    assert "✗ Facebook: failed at " in out and ": token revoked" in out


# -- blackout windows ------------------------------------------------------------------------


def quiet_period(folder: Path, start: datetime, end: datetime, *extra: str) -> None:
    """Add a ``[[blackout]]`` table ("masa tenang Pilkada") to the folder's config."""
    lines = [
        "[[blackout]]",
        f"start = {start.isoformat()}",
        f"end = {end.isoformat()}",
        'reason = "masa tenang Pilkada"',
        *extra,
    ]
    with (folder / "crosspost.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + "\n".join(lines) + "\n")


def test_queue_shows_a_post_scheduled_inside_a_window_with_its_reason_and_end(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """publish_at in the quiet period: 'in blackout: <reason> until <end>'; one after it: not."""
    end = jakarta(3, 0)
    quiet_period(posts, jakarta(1, 0), end)
    write(posts, "inside.toml", at(jakarta(2, 10)), 'max_late = "2d"')
    write(posts, "after.toml", at(jakarta(3, 10)))
    _, out, _ = run(capsys, "queue", str(posts))
    title = next(line for line in out.splitlines() if "  inside  " in line)
    assert f"in blackout: masa tenang Pilkada until {shown(end)}; run publishes it when" in title
    assert "    ! blackout: Facebook, X / Twitter" in out
    assert "  after  scheduled, in " in out
    found = queue_json(capsys, posts)["announcements"]
    assert isinstance(found, list)
    rows = {r["id"]: r for r in found}
    inside = rows["inside"]
    assert inside["state"] == "blackout"
    assert {p["status"] for p in inside["platforms"]} == {"blackout"}
    assert [(b["platform"], b["until"]) for b in inside["blackout"]] == [
        ("facebook", shown(end)),
        ("twitter", shown(end)),
    ]
    assert rows["after"]["state"] == "scheduled" and "blackout" not in rows["after"]


def test_queue_shows_a_window_that_outlasts_max_late_as_a_coming_skip(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The window ends two days after publish_at (max_late 6h): run will skip it; queue says so."""
    quiet_period(posts, jakarta(1, 0), jakarta(4, 0))
    write(posts, "a.toml", at(jakarta(2, 10)))
    rows = queue_json(capsys, posts)["announcements"]
    assert isinstance(rows, list)
    message = rows[0]["platforms"][0]["message"]
    assert message.endswith("that is more than max_late 6h after its time, so run will skip it")


def test_queue_shows_a_per_platform_window_on_that_platform_only(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only X is held back: the announcement stays scheduled, X's line gives the reason."""
    quiet_period(posts, jakarta(1, 0), jakarta(3, 0), 'platforms = ["x"]')
    write(posts, "a.toml", at(jakarta(2, 10)))
    rows = queue_json(capsys, posts)["announcements"]
    assert isinstance(rows, list)
    assert rows[0]["state"] == "scheduled"
    statuses = {p["platform"]: p["status"] for p in rows[0]["platforms"]}
    assert statuses == {"facebook": "scheduled", "twitter": "blackout"}
    _, out, _ = run(capsys, "queue", str(posts))
    assert (
        f"    ! X / Twitter: in blackout: masa tenang Pilkada until {shown(jakarta(3, 0))}" in out
    )
    assert "    • scheduled: Facebook" in out


def test_queue_leaves_a_published_platform_published_inside_a_window(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A window says nothing about what already went out."""
    now = datetime.now(UTC)
    quiet_period(posts, now - timedelta(hours=1), now + timedelta(hours=1))
    write(posts, "a.toml", at(now - timedelta(minutes=5)))
    put(posts, "a", "facebook", "published", url="https://www.facebook.com/1_2")
    rows = queue_json(capsys, posts)["announcements"]
    assert isinstance(rows, list)
    assert rows[0]["state"] == "blackout"
    statuses = {p["platform"]: p["status"] for p in rows[0]["platforms"]}
    assert statuses == {"facebook": "published", "twitter": "blackout"}


def test_status_shows_an_unpublished_platform_inside_a_window(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'not published: in blackout: <reason> until <end>' for X, exit 0 as scheduled is."""
    end = jakarta(3, 0)
    quiet_period(posts, jakarta(1, 0), end, 'platforms = ["twitter"]')
    path = write(posts, "a.toml", at(jakarta(2, 10)), 'max_late = "2d"')
    code, out, _ = run(capsys, "status", str(path))
    assert code == 0
    assert f"X / Twitter: not published: in blackout: masa tenang Pilkada until {shown(end)}" in out
    assert f"Facebook: scheduled for {shown(jakarta(2, 10))}" in out
    code, out, _ = run(capsys, "status", "--json", str(path))
    rows = {r["platform"]: r for r in json.loads(out)["platforms"]}
    assert rows["twitter"]["status"] == "blackout"
    assert rows["facebook"]["status"] == "scheduled"


def test_status_names_the_window_that_made_a_post_late(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Due two days ago inside a window that ended yesterday: late, held back by the window."""
    now = datetime.now(UTC)
    end = now - timedelta(days=1)
    quiet_period(posts, now - timedelta(days=3), end)
    path = write(posts, "a.toml", at(now - timedelta(days=2)))
    code, out, _ = run(capsys, "status", str(path))
    assert code == 1
    assert (
        f"held back by blackout: masa tenang Pilkada (until {shown(end.astimezone(JAKARTA))})"
        in out
    )


INBOX = "in the TikTok inbox: open TikTok to finish the post"


def test_queue_shows_where_a_published_post_is_when_it_is_not_public(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A TikTok upload waiting in the inbox, stored with its visibility: queue says so in
    text and JSON; a public post has no visibility key."""
    write(posts, "a.toml", at(datetime.now(UTC) - timedelta(hours=2)))
    put(posts, "a", "facebook", "published", url="https://www.facebook.com/9")
    put(posts, "a", "twitter", "published", url="https://x.com/i/status/7")
    put(
        posts,
        "a",
        "tiktok",
        "published",
        remote_id="v_inbox_file~v2.7300000000000000001",
        handles={"publish_id": "v_inbox_file~v2.7300000000000000001", "visibility": INBOX},
    )
    (row,) = queue_json(capsys, posts)["announcements"]  # type: ignore[misc]
    platforms = {p["platform"]: p for p in row["platforms"]}
    assert platforms["tiktok"] == {
        "platform": "tiktok",
        "status": "published",
        "url": "v_inbox_file~v2.7300000000000000001",
        "visibility": INBOX,
    }
    assert "visibility" not in platforms["facebook"]
    code, out, _ = run(capsys, "queue", str(posts))
    assert code == 0
    assert f"✓ TikTok: published: v_inbox_file~v2.7300000000000000001; {INBOX}" in out
    assert "✓ Facebook: published: https://www.facebook.com/9\n" in out


def test_status_shows_where_a_published_post_is_when_it_is_not_public(
    posts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """status names the stored visibility of a published post in text and JSON."""
    path = write(posts, "a.toml", at(datetime.now(UTC) - timedelta(hours=2)))
    put(posts, "a", "facebook", "published", url="https://www.facebook.com/9")
    put(posts, "a", "twitter", "published", url="https://x.com/i/status/7")
    inbox = {"visibility": INBOX}
    put(posts, "a", "tiktok", "published", remote_id="v_inbox_file~1", handles=inbox)
    code, out, err = run(capsys, "status", str(path))
    assert code == 0, err
    tiktok = next(line for line in out.splitlines() if "TikTok" in line)
    assert tiktok.strip().startswith("✓ TikTok: published at ") and tiktok.endswith(f"; {INBOX}")
    assert "inbox" not in next(line for line in out.splitlines() if "Facebook" in line)
    code, out, _ = run(capsys, "status", "--json", str(path))
    rows = {r["platform"]: r for r in json.loads(out)["platforms"]}
    assert rows["tiktok"]["visibility"] == INBOX and "visibility" not in rows["facebook"]
