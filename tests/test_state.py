"""The publish state store: exact, durable, shared between processes, and its errors readable.

Some tests need a directory that refuses writes even to root (the tests run as
root in CI, where ``chmod`` stops nothing). They run a child in its own user
and mount namespaces (``unshare``), where it may bind-mount a directory
read-only or mount a 2 MiB tmpfs and fill it: the kernel then really refuses
the writes, as a read-only or full disk would.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
import pytest

from crosspost import state
from crosspost.errors import ConfigError
from crosspost.state import (
    DB_NAME,
    Entry,
    Event,
    Source,
    SqliteStore,
    StateError,
    open_store,
    state_dir,
)

#: An entry with every field away from its default.
FULL = Entry(
    platform="x",
    status="unknown",
    hash="9f2c4e1ab0d3c5e7",
    at="2025-03-01T10:00:05+00:00",
    remote_id="1896000000000000001",
    url="https://x.com/i/status/1896000000000000001",
    code="unknown",
    message="x: the answer to the create call was lost",
    handles={
        "text": "Besok, Sabtu 1 Maret: Musi Rawas memilih! 🗳️",
        "media_ids": ["710", "711"],
        "parts": 2,
        "upload": {"session": "s-1", "chunks": [0, 1]},
    },
    sent_at="2025-03-01T10:00:00+00:00",
    attempts=2,
    next_try="2025-03-01T10:30:00+00:00",
    reported=True,
)
PUBLISHED = Entry(
    platform="facebook", status="published", hash="h1", at="2025-03-01T10:00:01+00:00"
)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def store(directory: Path) -> Iterator[SqliteStore]:
    with SqliteStore(directory) as opened:
        yield opened


def entry_json(entry: Entry) -> str:
    return json.dumps(dataclasses.asdict(entry))


def python(script: str, *args: str) -> list[str]:
    """The command running ``script`` in a new Python process."""
    return [sys.executable, "-c", textwrap.dedent(script), *args]


@contextmanager
def holding(script: str, *args: str) -> Iterator[str]:
    """Run ``script`` in another process until it prints its first line (yielded).

    The child waits on its standard input; closing it lets the child finish.
    """
    with subprocess.Popen(
        python(script, *args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        try:
            line = child.stdout.readline().strip()
            assert line, child.stderr.read() if child.stderr else ""
            yield line
            child.stdin.close()
            assert child.wait(timeout=30) == 0
        finally:
            if child.poll() is None:
                child.kill()


@pytest.fixture
def sandbox() -> list[str]:
    """A command prefix giving a child its own user and mount namespaces, so it may mount."""
    prefix = ["unshare", "--user", "--map-root-user", "--mount"]
    usable = shutil.which("unshare") and shutil.which("mount")
    if not usable or subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("needs unshare (user namespaces) to make a directory refuse root's writes")
    return prefix


def in_sandbox(prefix: list[str], script: str, *args: str) -> list[str]:
    """Run ``script`` in the sandbox; its output lines."""
    done = subprocess.run(
        [*prefix, *python(script, *args)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.splitlines()


ATTEMPT = """
import subprocess, sys
from pathlib import Path
from crosspost.state import Entry, SqliteStore, StateError

def attempt(label, action):
    try:
        action()
    except StateError as exc:
        print(label, "StateError", exc)
    except BaseException as exc:
        print(label, "raised", type(exc).__name__, exc)
    else:
        print(label, "ok")

def mount(*args):
    subprocess.run(["mount", *args], check=True)

directory = Path(sys.argv[1])
"""


# -- what is stored ------------------------------------------------------------------


def test_entry_round_trips_exactly(store: SqliteStore, directory: Path) -> None:
    """Every field comes back as written, types included (handles, bool, int), after a reopen."""
    store.put("pilkada", FULL)
    store.put("pilkada", PUBLISHED)
    store.close()
    with SqliteStore(directory) as again:
        entries = again.entries("pilkada")
    assert entries == {"facebook": PUBLISHED, "x": FULL}
    back = entries["x"]
    assert type(back.reported) is bool and type(back.attempts) is int
    assert dict(back.handles) == dict(FULL.handles)


def test_put_replaces_the_entry_and_appends_to_the_history(store: SqliteStore) -> None:
    """A second put of a platform replaces its entry; the history keeps both, in order."""
    sending = Entry("x", "sending", "h", "2025-03-01T10:00:00+00:00", handles={"text": "t"})
    store.put("pilkada", sending)
    store.put("pilkada", FULL)
    assert store.entries("pilkada") == {"x": FULL}
    assert store.history("pilkada") == [
        Event("x", "sending", sending.at, None),
        Event("x", "unknown", FULL.at, FULL.message),
    ]
    assert store.entries("other") == {} and store.history("other") == []


def test_meta_merges_values_and_none_removes_a_key(store: SqliteStore) -> None:
    """set_meta merges into the announcement's flags; None removes one; JSON types survive."""
    assert store.meta("pilkada") == {}
    store.set_meta("pilkada", late_reported=True, note="Sabtu", count=3)
    store.set_meta("pilkada", note=None, tags=["a", "b"])
    assert store.meta("pilkada") == {"late_reported": True, "count": 3, "tags": ["a", "b"]}
    assert store.meta("other") == {}


def test_source_round_trips_and_every_announcement_is_listed(store: SqliteStore) -> None:
    """The source file is kept per id; announcements() lists each id known, once, sorted."""
    assert store.source("pilkada") is None
    store.set_source("pilkada", Source("/srv/posts/pilkada.toml", "c0ffee"))
    store.set_source("pilkada", Source("/srv/posts/pilkada.toml", "beef"))
    store.put("zakat", PUBLISHED)
    store.set_meta("agenda", late_reported=True)
    assert store.source("pilkada") == Source("/srv/posts/pilkada.toml", "beef")
    assert store.source("zakat") is None
    assert list(store.announcements()) == ["agenda", "pilkada", "zakat"]


def test_handles_are_stored_as_given_and_nothing_else(store: SqliteStore, directory: Path) -> None:
    """The store adds nothing to an entry: the database row holds exactly the entry's fields."""
    store.put("pilkada", FULL)
    with sqlite3.connect(directory / DB_NAME) as raw:
        raw.row_factory = sqlite3.Row
        row = dict(raw.execute("SELECT * FROM entries").fetchone())
    assert json.loads(row.pop("handles")) == FULL.handles
    expected = dataclasses.asdict(FULL)
    del expected["handles"]
    expected["reported"] = 1
    assert row == {"announcement": "pilkada", **expected}


def test_put_refuses_an_entry_it_could_not_read_back(store: SqliteStore) -> None:
    """A status outside the list or a count of the wrong type is a bug: ValueError, no write."""
    with pytest.raises(ValueError, match="status"):
        store.put("pilkada", dataclasses.replace(PUBLISHED, status="done"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="attempts"):
        store.put("pilkada", dataclasses.replace(PUBLISHED, attempts="2"))  # type: ignore[arg-type]
    assert store.entries("pilkada") == {}


# -- between processes and across crashes -----------------------------------------------

PUT = """
import json, sys
from pathlib import Path
from crosspost.state import Entry, SqliteStore, Source
store = SqliteStore(Path(sys.argv[1]))
store.put("pilkada", Entry(**json.loads(sys.argv[2])))
store.set_source("pilkada", Source("/srv/posts/pilkada.toml", "c0ffee"))
store.set_meta("pilkada", late_reported=True)
print("ready", flush=True)
"""


def test_a_second_process_sees_a_committed_change(store: SqliteStore, directory: Path) -> None:
    """A change written by another process is read by an already open store."""
    assert store.entries("pilkada") == {}
    done = subprocess.run(
        python(PUT, str(directory), entry_json(FULL)), capture_output=True, text=True
    )
    assert done.stdout == "ready\n", done.stderr
    assert store.entries("pilkada") == {"x": FULL}
    assert store.source("pilkada") == Source("/srv/posts/pilkada.toml", "c0ffee")
    assert store.meta("pilkada") == {"late_reported": True}


def test_a_put_survives_killing_the_writer_right_after_it_returns(directory: Path) -> None:
    """SIGKILL right after put returns (no close, no checkpoint): the change is there."""
    with subprocess.Popen(
        python(PUT + "import time; time.sleep(60)\n", str(directory), entry_json(FULL)),
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        try:
            assert child.stdout.readline() == "ready\n"
            child.send_signal(signal.SIGKILL)
            assert child.wait(timeout=30) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
    with SqliteStore(directory) as reopened:
        assert reopened.entries("pilkada") == {"x": FULL}
        assert reopened.meta("pilkada") == {"late_reported": True}


RUN_LOCK = """
import sys
from pathlib import Path
from crosspost.state import SqliteStore
with SqliteStore(Path(sys.argv[1])).run_lock() as held:
    print("held" if held else "taken", flush=True)
    sys.stdin.read()
"""


def test_run_lock_is_exclusive_between_processes(store: SqliteStore, directory: Path) -> None:
    """While one process holds the run lock, another gets False at once; after, True."""
    with holding(RUN_LOCK, str(directory)) as first:
        assert first == "held"
        with store.run_lock() as held:
            assert held is False
    with store.run_lock() as held:
        assert held is True
        with holding(RUN_LOCK, str(directory)) as second:
            assert second == "taken"
    with holding(RUN_LOCK, str(directory)) as third:
        assert third == "held"


LOCKED = """
import sys
from pathlib import Path
from crosspost.state import SqliteStore
with SqliteStore(Path(sys.argv[1])).locked(sys.argv[2]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_locked_times_out_with_a_state_error_while_another_process_holds_it(
    store: SqliteStore, directory: Path
) -> None:
    """Another process holds 'pilkada': waiting gives up with the documented message; other
    announcements are not blocked; once released, the lock is taken."""
    with holding(LOCKED, str(directory), "pilkada") as line:
        assert line == "locked"
        with pytest.raises(StateError) as info, store.locked("pilkada", timeout=0.3):
            pytest.fail("the lock was taken twice")
        with store.locked("zakat", timeout=0.3):
            pass
    message = str(info.value)
    assert "another crosspost run has been publishing 'pilkada' for over 0.3 seconds" in message
    assert "nothing was published by this run" in message
    assert str(directory / "locks" / "pilkada.lock") in message
    with store.locked("pilkada", timeout=5):
        pass


def test_lock_files_of_odd_ids_stay_inside_the_locks_folder(
    store: SqliteStore, directory: Path
) -> None:
    """An id made from a file name with spaces, dots or non-ASCII gets its own safe lock file."""
    for announcement in ("..", "Pilkada 2025 (final)", "pemilu-✓", "a" * 250):
        with store.locked(announcement, timeout=1):
            pass
    names = sorted(p.name for p in (directory / "locks").iterdir())
    assert len(names) == 4 and all(not n.startswith(".") and len(n) < 255 for n in names)


# -- when the state cannot be used ----------------------------------------------------


def test_a_read_only_directory_fails_check_writable(sandbox: list[str], directory: Path) -> None:
    """The state directory becomes read-only (bind mount): check_writable refuses, naming it."""
    SqliteStore(directory).close()
    lines = in_sandbox(
        sandbox,
        ATTEMPT
        + """
store = SqliteStore(directory)
mount("--bind", "-o", "ro", str(directory), str(directory))
attempt("check", store.check_writable)
""",
        str(directory),
    )
    assert lines == [
        f"check StateError {directory / DB_NAME}: crosspost cannot write its publish state "
        f"(read-only file system); fix the permissions of {directory} or set state_dir in the "
        "config"
    ]


def test_a_read_only_database_fails_check_writable_and_put(
    sandbox: list[str], directory: Path
) -> None:
    """The database file is read-only: what it holds is read, writing it is a StateError."""
    with SqliteStore(directory) as store:
        store.put("pilkada", PUBLISHED)
    lines = in_sandbox(
        sandbox,
        ATTEMPT
        + """
mount("--bind", "-o", "ro", str(directory / "state.sqlite3"), str(directory / "state.sqlite3"))
store = SqliteStore(directory)
print(sorted(store.entries("pilkada")))
attempt("check", store.check_writable)
attempt("put", lambda: store.put("pilkada", Entry("x", "sending", "h", "t")))
""",
        str(directory),
    )
    refused = (
        f"StateError {directory / DB_NAME}: crosspost cannot write its publish state (attempt "
        f"to write a readonly database); fix the permissions of {directory} or set state_dir "
        "in the config"
    )
    assert lines == ["['facebook']", f"check {refused}", f"put {refused}"]


def test_a_full_disk_fails_check_writable_and_put_readably(
    sandbox: list[str], tmp_path: Path
) -> None:
    """On a 2 MiB disk, filled: check_writable and put refuse with a StateError; once space is
    freed, put works and nothing earlier was lost."""
    directory = tmp_path / "small-disk"
    directory.mkdir()
    lines = in_sandbox(
        sandbox,
        ATTEMPT
        + """
mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(directory))
store = SqliteStore(directory)
store.put("pilkada", Entry("facebook", "published", "h", "t"))
try:
    with open(directory / "filler", "wb") as filler:
        while True:
            filler.write(bytes(65536))
            filler.flush()
except OSError:
    pass
attempt("check", store.check_writable)
attempt("put", lambda: store.put("pilkada", Entry("x", "sending", "h", "t", message="m" * 9000)))
(directory / "filler").unlink()
attempt("freed", lambda: store.put("pilkada", Entry("x", "sending", "h", "t")))
print(sorted(store.entries("pilkada")))
""",
        str(directory),
    )
    assert lines[0].startswith(f"check StateError {directory}: only 0 KiB free on the disk")
    assert lines[0].endswith("Free some space there or set state_dir in the config")
    assert lines[1] == (
        f"put StateError {directory / DB_NAME}: the disk holding the publish state is full "
        f"(database or disk is full); free some space in {directory} or set state_dir in the "
        "config"
    )
    assert lines[2:] == ["freed ok", "['facebook', 'x']"]


def test_a_state_missing_in_a_read_only_directory_cannot_be_opened(
    sandbox: list[str], directory: Path
) -> None:
    """No database yet and a read-only directory: opening is a StateError naming the file."""
    directory.mkdir()
    lines = in_sandbox(
        sandbox,
        ATTEMPT
        + """
mount("--bind", "-o", "ro", str(directory), str(directory))
attempt("open", lambda: SqliteStore(directory))
attempt("create", lambda: SqliteStore(directory / "sub"))
""",
        str(directory),
    )
    assert lines == [
        f"open StateError {directory / DB_NAME}: crosspost cannot write its publish state "
        f"(unable to open database file); fix the permissions of {directory} or set state_dir "
        "in the config",
        f"create StateError {directory / 'sub'}: the state directory cannot be created "
        "(read-only file system); set state_dir in the config to a directory crosspost can "
        "write",
    ]


def test_a_directory_that_cannot_be_created_is_a_state_error(tmp_path: Path) -> None:
    """A state_dir below a regular file cannot be created, not even by root: StateError."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file", "utf-8")
    with pytest.raises(StateError) as info:
        SqliteStore(blocker / "state")
    assert str(info.value) == (
        f"{blocker / 'state'}: the state directory cannot be created (not a directory); "
        "set state_dir in the config to a directory crosspost can write"
    )


def test_a_corrupt_database_is_a_state_error_that_says_what_to_do(directory: Path) -> None:
    """A file that is not a database: StateError naming it, saying why it matters."""
    directory.mkdir()
    (directory / DB_NAME).write_bytes(b"this is no database, only bytes. " * 200)
    with pytest.raises(StateError) as info:
        open_store(directory)
    assert str(info.value) == (
        f"{directory / DB_NAME}: the publish state cannot be read (file is not a database); "
        "it records what was already published, so crosspost will not publish without it. "
        "Restore the file from a backup, or move it away to start afresh (crosspost then "
        "forgets what it published)"
    )


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("attempts", "many", "the entry of 'pilkada' on facebook has attempts 'many', not a count"),
        ("reported", 7, "the entry of 'pilkada' on facebook has reported '7', not 0 or 1"),
        ("status", "done", "the entry of 'pilkada' on facebook has an unknown status 'done'"),
        (
            "handles",
            "[1, 2]",
            "the entry of 'pilkada' on facebook has handles that are not a JSON object",
        ),
        ("url", b"\x00", "the entry of 'pilkada' on facebook has a url that is not a text"),
    ],
)
def test_wrong_types_in_the_database_are_a_state_error(
    store: SqliteStore, directory: Path, column: str, value: object, reason: str
) -> None:
    """A value crosspost never writes (edited by hand, say) is reported, not half-read."""
    store.put("pilkada", PUBLISHED)
    with sqlite3.connect(directory / DB_NAME) as raw:
        raw.execute(f"UPDATE entries SET {column} = ?", (value,))
    with pytest.raises(StateError) as info:
        store.entries("pilkada")
    assert str(info.value).startswith(f"{directory / DB_NAME}: the publish state cannot be read")
    assert f"({reason})" in str(info.value)


def test_wrong_flags_in_the_database_are_a_state_error(store: SqliteStore, directory: Path) -> None:
    """Flags that are not a JSON object: meta and set_meta say the file cannot be read."""
    store.set_meta("pilkada", late_reported=True)
    with sqlite3.connect(directory / DB_NAME) as raw:
        raw.execute("UPDATE announcements SET meta = '[true]'")
    for action in (lambda: store.meta("pilkada"), lambda: store.set_meta("pilkada", a=1)):
        with pytest.raises(StateError, match="the flags of 'pilkada' are not a JSON object"):
            action()


# -- schema ----------------------------------------------------------------------------


def test_the_schema_version_is_set_with_the_tables_and_indexes(directory: Path) -> None:
    """A new state is at the last migration's version, in WAL mode, with its tables."""
    SqliteStore(directory).close()
    with sqlite3.connect(directory / DB_NAME) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (len(state.MIGRATIONS),)
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        names = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert {"announcements", "entries", "events", "events_by_announcement", "heartbeat"} <= names


def test_a_later_migration_adds_a_column_to_an_existing_state(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migrations run in order on reopen: version 2 adds a column; the data stays."""
    with SqliteStore(directory) as store:
        store.put("pilkada", FULL)
    added = ("ALTER TABLE entries ADD COLUMN approved_by TEXT",)
    monkeypatch.setattr(state, "MIGRATIONS", (*state.MIGRATIONS, added))
    with SqliteStore(directory) as store:
        assert store.entries("pilkada") == {"x": FULL}
    with sqlite3.connect(directory / DB_NAME) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (2,)
        columns = [row[1] for row in raw.execute("PRAGMA table_info(entries)")]
    assert columns[-1] == "approved_by"


def test_a_state_from_a_newer_crosspost_is_refused(directory: Path) -> None:
    """A schema version beyond what this crosspost knows: StateError saying to upgrade."""
    SqliteStore(directory).close()
    with sqlite3.connect(directory / DB_NAME) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError) as info:
        SqliteStore(directory)
    assert str(info.value) == (
        f"{directory / DB_NAME}: the publish state was written by a newer crosspost (schema "
        f"version 99; this one knows up to {len(state.MIGRATIONS)}); upgrade crosspost"
    )


def test_entries_among_ten_thousand_other_announcements_use_the_indexes(
    store: SqliteStore, directory: Path
) -> None:
    """With 10,000 other announcements (and their history) in the state, reading one returns
    only its own rows, and every query it runs searches an index instead of scanning a table."""
    with sqlite3.connect(directory / DB_NAME) as raw:
        others = [f"old-{n:05}" for n in range(10_000)]
        raw.executemany("INSERT INTO announcements (id) VALUES (?)", [(a,) for a in others])
        raw.executemany(
            "INSERT INTO entries (announcement, platform, status, hash, at) "
            "VALUES (?, 'x', 'published', 'h', 't')",
            [(a,) for a in others],
        )
        raw.executemany(
            "INSERT INTO events (announcement, platform, status, at) "
            "VALUES (?, 'x', 'published', 't')",
            [(a,) for a in others],
        )
    store.put("pilkada", FULL)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)  # type: ignore[union-attr]
    assert store.entries("pilkada") == {"x": FULL}
    assert store.history("pilkada") == [Event("x", "unknown", FULL.at, FULL.message)]
    assert store.meta("pilkada") == {}
    assert store.source("pilkada") is None
    assert len(statements) == 4
    with sqlite3.connect(directory / DB_NAME) as raw:
        for sql in statements:
            plan = [row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}")]
            assert plan and all(step.startswith("SEARCH") for step in plan), (sql, plan)


# -- the JSON ledgers of earlier versions ---------------------------------------------


def write_ledger(folder: Path, announcement: str, platforms: dict[str, object]) -> Path:
    """A ledger file as crosspost.ledger wrote it."""
    folder.mkdir(exist_ok=True)
    path = folder / f"{announcement}.json"
    data = {"announcement": announcement, "platforms": platforms}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    return path


def test_legacy_ledgers_are_imported_then_kept_as_migrated(tmp_path: Path) -> None:
    """Each old ledger's entries are imported as they were ('sending' stays 'sending'), and the
    file is renamed to *.json.migrated with its bytes unchanged."""
    legacy = tmp_path / "ledger"
    pilkada = write_ledger(
        legacy,
        "pilkada",
        {
            "facebook": {
                "status": "published",
                "hash": "h1",
                "at": "2025-03-01T10:00:01+00:00",
                "remote_id": "123_456",
                "url": "https://www.facebook.com/123_456",
            },
            "x": {"status": "sending", "hash": "h2", "at": "2025-03-01T10:00:02+00:00"},
            "tiktok": {
                "status": "failed",
                "hash": "h3",
                "at": "2025-03-01T10:00:03+00:00",
                "message": "tiktok: the token expired",
            },
        },
    )
    zakat = write_ledger(legacy, "zakat", {})
    before = pilkada.read_bytes()
    store = open_store(tmp_path / "state", legacy=legacy)
    try:
        assert store.entries("pilkada") == {
            "facebook": Entry(
                "facebook",
                "published",
                "h1",
                "2025-03-01T10:00:01+00:00",
                remote_id="123_456",
                url="https://www.facebook.com/123_456",
            ),
            "x": Entry(
                "x",
                "sending",
                "h2",
                "2025-03-01T10:00:02+00:00",
                sent_at="2025-03-01T10:00:02+00:00",
            ),
            "tiktok": Entry(
                "tiktok",
                "failed",
                "h3",
                "2025-03-01T10:00:03+00:00",
                message="tiktok: the token expired",
            ),
        }
    finally:
        store.close()
    assert sorted(p.name for p in legacy.iterdir()) == [
        "pilkada.json.migrated",
        "zakat.json.migrated",
    ]
    assert (legacy / "pilkada.json.migrated").read_bytes() == before
    assert not pilkada.exists() and not zakat.exists()


def test_a_legacy_ledger_is_not_imported_twice_nor_over_newer_state(tmp_path: Path) -> None:
    """A ledger for an announcement the state already has is not imported (only set aside,
    under a name that overwrites no earlier one); reopening imports nothing again."""
    legacy = tmp_path / "ledger"
    old = {"status": "failed", "hash": "h0", "at": "2025-01-01T00:00:00+00:00"}
    write_ledger(legacy, "pilkada", {"facebook": old})
    with SqliteStore(tmp_path / "state") as store:
        imported = store.import_ledgers(legacy)
        assert imported == [legacy / "pilkada.json"]
        store.put("pilkada", PUBLISHED)
    write_ledger(legacy, "pilkada", {"facebook": old})  # an old crosspost wrote it again
    reopened = open_store(tmp_path / "state", legacy=legacy)
    try:
        assert reopened.entries("pilkada") == {"facebook": PUBLISHED}
    finally:
        reopened.close()
    with SqliteStore(tmp_path / "state") as store:
        assert [e.status for e in store.history("pilkada")] == ["failed", "published"]
    assert sorted(p.name for p in legacy.iterdir()) == [
        "pilkada.json.migrated",
        "pilkada.json.migrated.2",
    ]


def test_an_unparsable_legacy_ledger_stays_and_is_reported(tmp_path: Path) -> None:
    """A ledger that cannot be read stays in place and is named in a StateError; the readable
    ones are still imported; the next open reports it again."""
    legacy = tmp_path / "ledger"
    good = write_ledger(
        legacy, "zakat", {"x": {"status": "published", "hash": "h", "at": "t", "url": "u"}}
    )
    broken = legacy / "pilkada.json"
    broken.write_text('{"announcement": "pilkada", "platforms": {', "utf-8")
    for _ in range(2):
        with pytest.raises(StateError) as info:
            open_store(tmp_path / "state", legacy=legacy)
        message = str(info.value)
        assert message.startswith(f"{broken}: an old publish ledger cannot be read (")
        assert "crosspost will not publish without it" in message
        assert "rename it to pilkada.json.migrated to skip it" in message
        assert broken.exists() and not good.exists()
    with SqliteStore(tmp_path / "state") as store:
        assert list(store.entries("zakat")) == ["x"]
        assert store.entries("pilkada") == {}


def test_a_legacy_ledger_with_an_unknown_status_is_reported(tmp_path: Path) -> None:
    """A status the store does not know is not guessed at: the file is named and kept."""
    legacy = tmp_path / "ledger"
    path = write_ledger(legacy, "pilkada", {"x": {"status": "posted", "hash": "h", "at": "t"}})
    with pytest.raises(StateError, match=r"'x\.status' is 'posted', not one of"):
        open_store(tmp_path / "state", legacy=legacy)
    assert path.exists()


def test_open_store_imports_from_the_old_ledger_folder_by_default(tmp_path: Path) -> None:
    """Without ``legacy``, the old location (<CROSSPOST_HOME>/ledger) is searched."""
    home = Path(os.environ["CROSSPOST_HOME"])
    write_ledger(home / "ledger", "pilkada", {"x": {"status": "unknown", "hash": "h", "at": "t"}})
    store = open_store(tmp_path / "state")
    try:
        assert store.entries("pilkada")["x"].status == "unknown"
    finally:
        store.close()
    assert (home / "ledger" / "pilkada.json.migrated").exists()


# -- where the state lives ------------------------------------------------------------


def test_state_dir_from_config_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative state_dir is taken from the config file's folder, not the working dir; an
    absolute one is kept; ``~`` is expanded; the config wins over CROSSPOST_HOME."""
    config = tmp_path / "office" / "crosspost.toml"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir("state", config) == tmp_path / "office" / "state"
    monkeypatch.setenv("CROSSPOST_HOME", str(tmp_path / "crosspost-home"))
    assert state_dir("../common/state", config) == tmp_path / "common" / "state"
    assert state_dir(str(tmp_path / "elsewhere"), config) == tmp_path / "elsewhere"
    assert state_dir("~/crosspost-state", config) == tmp_path / "home" / "crosspost-state"
    assert state_dir("state", Path("office/crosspost.toml")) == tmp_path / "office" / "state"


def test_state_dir_without_config_uses_crosspost_home_then_the_user_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No state_dir: $CROSSPOST_HOME/state, else the platform's user state directory."""
    monkeypatch.setenv("CROSSPOST_HOME", str(tmp_path / "home"))
    assert state_dir(None, tmp_path / "crosspost.toml") == tmp_path / "home" / "state"
    monkeypatch.delenv("CROSSPOST_HOME")
    default = state_dir(None, None)
    assert default == Path(platformdirs.user_state_dir("crosspost", appauthor=False))
    assert default.is_absolute() and default.name == "crosspost"


def test_a_relative_crosspost_home_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative CROSSPOST_HOME would mean another folder under cron: refused, saying so."""
    monkeypatch.setenv("CROSSPOST_HOME", "crosspost-home")
    with pytest.raises(ConfigError) as info:
        state_dir(None, None)
    assert str(info.value) == (
        "CROSSPOST_HOME is 'crosspost-home', a relative path; set it to an absolute path "
        "(a cron job runs in another working directory)"
    )
