"""The credentials file as crosspost writes it: checked tables, atomic locked writes, facts.

The crash and concurrency tests run real processes: one killed with SIGKILL in
the middle of its writes, two writing at once. Keys are YouTube's
(``client_id``, ``client_secret``, ``refresh_token``), which every version of
the YouTube adapter reads.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crosspost.credentials import Credentials, CredentialStore
from crosspost.errors import CredentialsError
from tests.conftest import ROOT


def private(path: Path, text: str) -> Path:
    """A credentials file with ``text``, readable by its owner only."""
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- what the file may hold ---------------------------------------------------------------------


def test_unknown_table_is_an_error_naming_it(tmp_path: Path) -> None:
    """A misspelt platform table ([twiter]) is refused with its name and the file, not ignored."""
    file = private(tmp_path / "c.toml", '[twiter]\naccess_token = "x-token"\n')
    with pytest.raises(CredentialsError) as info:
        CredentialStore(file).read()
    assert f"{file}: [twiter] is not a platform crosspost knows" in str(info.value)


def test_unknown_key_is_an_error_naming_it_and_the_known_ones(tmp_path: Path) -> None:
    """A key no adapter reads ([youtube] refersh_token) is refused, naming it and the known keys."""
    file = private(tmp_path / "c.toml", '[youtube]\nrefersh_token = "1//x"\n')
    with pytest.raises(CredentialsError) as info:
        CredentialStore(file).read()
    message = str(info.value)
    assert f"{file}: [youtube] refersh_token is not a key crosspost reads" in message
    assert "refresh_token" in message
    assert "expires_at" in message  # the facts are known keys too


def test_alias_table_is_said_to_be_written_with_the_platform_name(tmp_path: Path) -> None:
    """[x] is X's alias in commands, but the file names the platform: [twitter]."""
    file = private(tmp_path / "c.toml", '[x]\naccess_token = "x-token"\n')
    with pytest.raises(CredentialsError, match=r"\[x\]: write it as \[twitter\]"):
        CredentialStore(file).read()


def test_update_refuses_an_unknown_key_and_leaves_the_file_alone(tmp_path: Path) -> None:
    """An update with a key the platform does not read is refused before anything is written."""
    file = private(tmp_path / "c.toml", '[youtube]\nclient_id = "id-1"\n')
    before = file.read_bytes()
    with pytest.raises(CredentialsError, match=r"\[youtube\] acces_token is not a key"):
        CredentialStore(file).update("youtube", {"acces_token": "t"})
    assert file.read_bytes() == before


def test_update_merges_removes_and_keeps_other_tables(tmp_path: Path) -> None:
    """update merges into one table, None removes a key, and other platforms are untouched."""
    file = private(
        tmp_path / "c.toml",
        '[youtube]\nclient_id = "id-1"\nrefresh_token = "old"\n[tiktok]\naccess_token = "tt"\n',
    )
    store = CredentialStore(file)
    store.update("youtube", {"refresh_token": "new", "client_id": None, "account": "KPU"})
    assert store.read() == {
        "youtube": {"refresh_token": "new", "account": "KPU"},
        "tiktok": {"access_token": "tt"},
    }
    assert store.remove("youtube") is True
    assert store.remove("youtube") is False
    assert store.read() == {"tiktok": {"access_token": "tt"}}


def test_mode_0600_is_kept_and_given_to_a_new_file(tmp_path: Path) -> None:
    """The file crosspost writes is readable by its owner only, new or rewritten."""
    new = tmp_path / "home" / "credentials.toml"
    CredentialStore(new).update("youtube", {"client_id": "id-1"})
    assert mode(new) == 0o600
    old = private(tmp_path / "c.toml", '[youtube]\nclient_id = "id-1"\n')
    CredentialStore(old).update("youtube", {"client_secret": "s-1"})
    assert mode(old) == 0o600
    assert not list(tmp_path.glob(".credentials-*"))  # no temporary file left behind


# -- Credentials: environment over file, facts, save --------------------------------------------


def test_expires_at_reads_the_stored_fact_per_token(tmp_path: Path) -> None:
    """expires_at() is the access token's expiry, expires_at('refresh_token') the refresh
    token's; a naive time is UTC; nothing stored means unknown (None)."""
    file = private(
        tmp_path / "c.toml",
        "[tiktok]\n"
        'access_token = "act.1"\nrefresh_token = "rft.1"\n'
        "expires_at = 2025-03-01T10:00:00+07:00\n"
        "refresh_expires_at = 2025-08-28T03:00:00\n",
    )
    credentials = Credentials("tiktok", {}, file)
    assert credentials.expires_at() == datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
    assert credentials.expires_at("refresh_token") == datetime(2025, 8, 28, 3, 0, tzinfo=UTC)
    assert Credentials("youtube", {}, file).expires_at() is None


def test_a_token_from_the_environment_has_no_known_expiry(tmp_path: Path) -> None:
    """A token set in the environment is not the one the file's expiry describes."""
    file = private(
        tmp_path / "c.toml",
        '[tiktok]\naccess_token = "act.1"\nexpires_at = 2025-03-01T10:00:00Z\n',
    )
    env = {"CROSSPOST_TIKTOK_ACCESS_TOKEN": "act.env"}
    credentials = Credentials("tiktok", env, file)
    assert credentials.from_environment("access_token") is True
    assert credentials.from_environment("refresh_token") is False
    assert credentials.expires_at() is None
    assert credentials.get("access_token") == "act.env"


def test_save_stores_at_once_and_is_read_back(tmp_path: Path) -> None:
    """save() writes the file before returning; the same object and a new one read the new
    value; None removes a key; facts are kept beside the secrets."""
    file = private(tmp_path / "c.toml", '[tiktok]\naccess_token = "act.1"\nrefresh_token = "r1"\n')
    credentials = Credentials("tiktok", {}, file)
    assert credentials.get("refresh_token") == "r1"
    later = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    credentials.save(access_token="act.2", refresh_token="r2", expires_at=later, scopes=None)
    assert tomllib.loads(file.read_text("utf-8"))["tiktok"] == {
        "access_token": "act.2",
        "refresh_token": "r2",
        "expires_at": later,
    }
    assert credentials.get("refresh_token") == "r2"
    assert credentials.expires_at() == later
    assert Credentials("tiktok", {}, file).get("access_token") == "act.2"
    credentials.save(refresh_token=None)
    assert Credentials("tiktok", {}, file).get("refresh_token") is None


# -- crashes and concurrency (real processes) -----------------------------------------------

#: A child process that stores a new token over and over until it is killed.
WRITER = """
import sys
from pathlib import Path
from crosspost.credentials import CredentialStore
store = CredentialStore(Path(sys.argv[1]))
pad = "x" * 20000  # a bigger file makes each write take longer: more chances to be killed in it
i = 0
while True:
    i += 1
    store.update("youtube", {"refresh_token": f"token-{i:06d}-{pad}"})
    if i == 1:
        print("writing", flush=True)
"""

#: A child process that says it is ready, waits for the start signal, then writes its own
#: key and the shared key ``rounds`` times.
RACER = """
import sys, time
from pathlib import Path
from crosspost.credentials import CredentialStore
path, me, own, rounds, go = sys.argv[1:]
path, rounds, go = Path(path), int(rounds), Path(go)
store = CredentialStore(path)
store.read()  # everything imported before the start
print("ready", flush=True)
while not go.exists():
    time.sleep(0.0005)
for i in range(rounds):
    store.update("youtube", {own: f"{me}-{i}", "refresh_token": f"{me}-{i}"})
"""

TOKEN = re.compile(r"token-\d{6}-x{20000}")


def child(code: str, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, text=True, cwd=ROOT, **kwargs
    )


def test_a_crash_while_storing_a_token_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    """A process killed (SIGKILL) at any moment of its writes leaves a file that parses and
    holds a whole token, the other keys intact; the lock is free again and writes go on."""
    file = private(tmp_path / "credentials.toml", '[youtube]\nclient_id = "id-1"\n')
    store = CredentialStore(file)
    seen = set()
    for delay in (0.0, 0.013, 0.031, 0.057, 0.089, 0.12, 0.2):
        with child(WRITER, str(file), stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "writing"
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        table = store.read()["youtube"]  # parses, owner-only mode
        assert set(table) == {"client_id", "refresh_token"}
        assert table["client_id"] == "id-1"
        assert TOKEN.fullmatch(table["refresh_token"])
        seen.add(table["refresh_token"])
        assert mode(file) == 0o600
    assert len(seen) > 1  # the writer got further each time: the kills landed mid-run
    store.update("youtube", {"refresh_token": "after-the-crash"})  # the lock was released
    assert store.read()["youtube"]["refresh_token"] == "after-the-crash"


def test_two_processes_storing_at_once_lose_nothing(tmp_path: Path) -> None:
    """Two processes updating at once, each its own key and both the same key, 200 times:
    every key survives with its writer's last value, the shared key holds the last write of
    whichever wrote last, and the file parses whenever it is read meanwhile."""
    file = private(tmp_path / "credentials.toml", '[youtube]\naccount = "KPU"\n')
    go = tmp_path / "go"
    rounds = 200
    reads = 0
    with (
        child(
            RACER, str(file), "a", "client_id", str(rounds), str(go), stdout=subprocess.PIPE
        ) as a,
        child(
            RACER, str(file), "b", "client_secret", str(rounds), str(go), stdout=subprocess.PIPE
        ) as b,
    ):
        for proc in (a, b):
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        go.touch()  # both start together, so their updates overlap
        while a.poll() is None or b.poll() is None:
            data = tomllib.loads(file.read_text("utf-8"))  # rename is atomic: never half a file
            assert data["youtube"]["account"] == "KPU"
            reads += 1
    assert (a.returncode, b.returncode) == (0, 0)
    table = CredentialStore(file).read()["youtube"]
    last = rounds - 1
    assert table["client_id"] == f"a-{last}"
    assert table["client_secret"] == f"b-{last}"
    # Each process's last update writes its own key and the shared one together; updates are
    # serialised, so the shared key is the final value of the process whose update came last.
    assert table["refresh_token"] in (f"a-{last}", f"b-{last}")
    assert table["account"] == "KPU"
    assert reads > 0
    assert mode(file) == 0o600


def test_a_lock_held_by_another_process_makes_a_writer_wait(tmp_path: Path) -> None:
    """While another process holds the file's lock, update waits for it, then re-reads the
    file, so the other process's token is kept."""
    file = private(tmp_path / "credentials.toml", '[youtube]\nclient_id = "id-1"\n')
    holder = """
import sys, time
from pathlib import Path
from crosspost.credentials import CredentialStore
store = CredentialStore(Path(sys.argv[1]))
with store.locked():
    print("locked", flush=True)
    time.sleep(1.0)
    data = store.read()
    data["youtube"]["refresh_token"] = "from-the-holder"
    store._write(data)
"""
    with child(holder, str(file), stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        started = time.monotonic()
        CredentialStore(file).update("youtube", {"client_secret": "mine"})
        waited = time.monotonic() - started
    assert proc.returncode == 0
    assert waited > 0.5
    assert CredentialStore(file).read()["youtube"] == {
        "client_id": "id-1",
        "refresh_token": "from-the-holder",
        "client_secret": "mine",
    }


def test_expiry_facts_round_trip_as_toml_datetimes(tmp_path: Path) -> None:
    """Expiry facts are stored as TOML datetimes (a person can read them) and come back aware."""
    file = tmp_path / "credentials.toml"
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    CredentialStore(file).update("tiktok", {"access_token": "act.1", "expires_at": soon})
    assert re.search(r"^expires_at = \d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d", file.read_text(), re.M)
    assert Credentials("tiktok", {}, file).expires_at() == soon
