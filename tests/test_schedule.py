"""Schedule rules shared by ``run`` and ``queue``: files, timing, retries, local times."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crosspost.config import Configuration, parse_config
from crosspost.errors import InputError
from crosspost.loader import load_announcement
from crosspost.models import Loaded
from crosspost.schedule import (
    MAX_BACKOFF,
    duplicate_ids,
    local,
    max_late,
    next_try,
    scan,
    timing,
)

NOON = datetime(2023, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta


def config(**sections: Any) -> Configuration:
    """A configuration from TOML-like tables, with no file behind it."""
    return parse_config(dict(sections), None)


def announcement(tmp_path: Path, extra: str = "", name: str = "a.toml") -> Loaded:
    """A loaded announcement with ``extra`` TOML lines (publish_at, draft, max_late)."""
    path = tmp_path / name
    path.write_text(f'body = "Halo"\n{extra}\n', encoding="utf-8")
    return load_announcement(path, config())


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('body = "x"\n', encoding="utf-8")


# -- scan ------------------------------------------------------------------------------------


def test_scan_finds_toml_files_recursively_in_sorted_order(tmp_path: Path) -> None:
    touch(
        tmp_path, "b.toml", "a.toml", "2023/12/c.toml", "2023/01/d.toml", "notes.txt", "e.TOML.bak"
    )
    assert scan(tmp_path) == [
        tmp_path / "2023/01/d.toml",
        tmp_path / "2023/12/c.toml",
        tmp_path / "a.toml",
        tmp_path / "b.toml",
    ]


def test_scan_skips_config_and_underscore_and_dot_files_and_folders(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "live.toml",
        "crosspost.toml",
        "sub/crosspost.toml",
        "_parked.toml",
        ".hidden.toml",
        "_drafts/x.toml",
        ".git/y.toml",
        "sub/_old/z.toml",
        "sub/.cache/w.toml",
        "sub/live2.toml",
    )
    assert scan(tmp_path) == [tmp_path / "live.toml", tmp_path / "sub/live2.toml"]


def test_scan_applies_the_skip_rules_below_the_folder_only(tmp_path: Path) -> None:
    """A folder that itself starts with '_' or '.' is still scanned when named explicitly."""
    touch(tmp_path, "_queue/a.toml")
    assert scan(tmp_path / "_queue") == [tmp_path / "_queue/a.toml"]


def test_scan_of_an_empty_folder_is_empty(tmp_path: Path) -> None:
    assert scan(tmp_path) == []


def test_scan_refuses_a_missing_folder_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope: no such folder"):
        scan(tmp_path / "nope")


def test_scan_refuses_a_file_naming_it(tmp_path: Path) -> None:
    touch(tmp_path, "a.toml")
    with pytest.raises(InputError, match=r"a\.toml: is a file, not a folder"):
        scan(tmp_path / "a.toml")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_scan_refuses_an_unreadable_subfolder_instead_of_skipping_it(tmp_path: Path) -> None:
    touch(tmp_path, "locked/a.toml")
    (tmp_path / "locked").chmod(0)
    try:
        with pytest.raises(InputError, match=r"locked: cannot read this folder"):
            scan(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)


# -- timing ----------------------------------------------------------------------------------


def test_timing_draft_wins_even_when_due(tmp_path: Path) -> None:
    loaded = announcement(tmp_path, "draft = true\npublish_at = 2023-12-02T10:00:00+07:00")
    assert timing(loaded, config(), NOON) == "draft"


def test_timing_without_publish_at_is_unscheduled(tmp_path: Path) -> None:
    assert timing(announcement(tmp_path), config(), NOON) == "unscheduled"


def test_timing_before_publish_at_is_scheduled(tmp_path: Path) -> None:
    loaded = announcement(tmp_path, "publish_at = 2023-12-02T10:00:00+07:00")
    assert timing(loaded, config(), NOON - timedelta(seconds=1)) == "scheduled"


def test_timing_exactly_at_publish_at_is_due(tmp_path: Path) -> None:
    loaded = announcement(tmp_path, "publish_at = 2023-12-02T10:00:00+07:00")
    assert timing(loaded, config(), NOON) == "due"


def test_timing_exactly_max_late_after_is_still_due_and_a_second_more_is_late(
    tmp_path: Path,
) -> None:
    loaded = announcement(tmp_path, "publish_at = 2023-12-02T10:00:00+07:00")
    assert timing(loaded, config(), NOON + timedelta(hours=6)) == "due"  # default max_late 6h
    assert timing(loaded, config(), NOON + timedelta(hours=6, seconds=1)) == "late"


def test_timing_uses_the_config_max_late(tmp_path: Path) -> None:
    loaded = announcement(tmp_path, "publish_at = 2023-12-02T10:00:00+07:00")
    strict = config(schedule={"max_late": "30m"})
    assert timing(loaded, strict, NOON + timedelta(minutes=30)) == "due"
    assert timing(loaded, strict, NOON + timedelta(minutes=31)) == "late"


def test_timing_announcement_max_late_overrides_the_config(tmp_path: Path) -> None:
    loaded = announcement(tmp_path, 'publish_at = 2023-12-02T10:00:00+07:00\nmax_late = "2d"')
    strict = config(schedule={"max_late": "30m"})
    assert max_late(loaded, strict) == timedelta(days=2)
    assert timing(loaded, strict, NOON + timedelta(days=1)) == "due"
    assert timing(loaded, strict, NOON + timedelta(days=2, minutes=1)) == "late"


def test_max_late_defaults_to_six_hours(tmp_path: Path) -> None:
    assert max_late(announcement(tmp_path), config()) == timedelta(hours=6)


# -- next_try --------------------------------------------------------------------------------


def test_next_try_doubles_the_backoff_after_each_failure() -> None:
    backoff = timedelta(minutes=15)
    waits = [next_try(n, backoff, NOON) - NOON for n in (1, 2, 3, 4)]
    assert waits == [timedelta(minutes=m) for m in (15, 30, 60, 120)]


def test_next_try_is_capped_at_a_day() -> None:
    backoff = timedelta(minutes=15)
    assert next_try(7, backoff, NOON) - NOON == timedelta(hours=16)
    assert next_try(8, backoff, NOON) - NOON == MAX_BACKOFF == timedelta(hours=24)
    assert next_try(10_000, backoff, NOON) - NOON == MAX_BACKOFF
    assert next_try(1, timedelta(days=3), NOON) - NOON == MAX_BACKOFF


def test_next_try_treats_zero_attempts_as_the_first() -> None:
    assert next_try(0, timedelta(minutes=15), NOON) - NOON == timedelta(minutes=15)


# -- duplicate_ids ---------------------------------------------------------------------------


def test_duplicate_ids_lists_only_ids_used_twice_with_their_files() -> None:
    found = {
        Path("b/x.toml"): "rapat",
        Path("a/x.toml"): "rapat",
        Path("c.toml"): "c",
        Path("d.toml"): "e",
        Path("e.toml"): "e",
        Path("f.toml"): "e",
    }
    assert duplicate_ids(found) == {
        "e": [Path("d.toml"), Path("e.toml"), Path("f.toml")],
        "rapat": [Path("a/x.toml"), Path("b/x.toml")],
    }


def test_duplicate_ids_of_distinct_ids_is_empty() -> None:
    assert duplicate_ids({Path("a.toml"): "a", Path("b.toml"): "b"}) == {}


# -- local -----------------------------------------------------------------------------------


def test_local_shows_the_profile_zone_with_its_abbreviation() -> None:
    jakarta = config(profile={"timezone": "Asia/Jakarta"})
    assert local(NOON, jakarta) == "Sat 2 Dec 2023 10:00 WIB"


def test_local_without_a_profile_zone_is_utc() -> None:
    assert local(NOON, config()) == "Sat 2 Dec 2023 03:00 UTC"


def test_local_converts_from_any_offset() -> None:
    jakarta = config(profile={"timezone": "Asia/Jakarta"})
    paris = datetime.fromisoformat("2023-12-02T04:00:00+01:00")
    assert local(paris, jakarta) == "Sat 2 Dec 2023 10:00 WIB"


def test_local_in_a_dst_zone_follows_summer_and_winter_time() -> None:
    amsterdam = config(profile={"timezone": "Europe/Amsterdam"})
    assert local(datetime(2024, 3, 31, 0, 59, tzinfo=UTC), amsterdam) == "Sun 31 Mar 2024 01:59 CET"
    assert local(datetime(2024, 3, 31, 1, 0, tzinfo=UTC), amsterdam) == "Sun 31 Mar 2024 03:00 CEST"


def test_local_tells_apart_the_repeated_hour_when_summer_time_ends() -> None:
    amsterdam = config(profile={"timezone": "Europe/Amsterdam"})
    first = local(datetime(2024, 10, 27, 0, 30, tzinfo=UTC), amsterdam)
    second = local(datetime(2024, 10, 27, 1, 30, tzinfo=UTC), amsterdam)
    assert first == "Sun 27 Oct 2024 02:30 CEST"
    assert second == "Sun 27 Oct 2024 02:30 CET"


def test_local_shows_a_numeric_abbreviation_where_the_zone_has_no_letters() -> None:
    sao_paulo = config(profile={"timezone": "America/Sao_Paulo"})
    assert local(datetime(2024, 1, 1, 13, 0, tzinfo=UTC), sao_paulo) == "Mon 1 Jan 2024 10:00 -03"
