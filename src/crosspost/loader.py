"""Loading an announcement: read, validate, resolve, and collect every problem at once.

``load_announcement`` either returns a ``Loaded`` announcement that every adapter
can render, or raises one ``AnnouncementError`` listing every problem found, one
line each, each naming the file and the place in it.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import regex
from pydantic import ValidationError

from crosspost import hashtags, registry
from crosspost.config import Configuration
from crosspost.documents import read_toml, validation_problems
from crosspost.errors import AnnouncementError, ConfigError, Problem
from crosspost.media import (
    SUPPORTED,
    MediaFile,
    guess_from_name,
    image_size,
    inspect,
    video_duration,
)
from crosspost.models import Announcement, Loaded, Media, Overrides

# C0 and C1 control characters other than tab and newline: invisible, and
# refused or mangled by the platforms. (\r is allowed: CRLF files are normal.)
_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

#: A publish_at further ahead than this is most likely a typo in the year: it is
#: warned about (validate and preview show it), not refused.
FAR_AHEAD = timedelta(days=365)


def load_announcement(path: Path, config: Configuration | None = None) -> Loaded:
    """Read ``path``, validate it against the schema and ``config``, resolve its media."""
    if config is None:
        config = Configuration.model_validate({"config": {}, "source": None, "platforms": {}})
    where = str(path)
    data = read_toml(path, AnnouncementError)
    try:
        ann = Announcement.model_validate(data)
    except ValidationError as exc:
        raise AnnouncementError(validation_problems(exc, Announcement, where)) from None

    problems: list[Problem] = []
    targets = _targets(ann, where, problems)
    overrides = _overrides(ann, where, problems)
    problems += _text_problems(ann, overrides, where)
    base = path.parent
    media = _media(ann.media, base, where, "media", problems)
    platform_media = {
        name: _media(opts.media, base, where, f"platforms.{name}.media", problems)
        for name, opts in overrides.items()
        if opts.media is not None
    }
    warnings: list[str] = []
    publish_at = _publish_at(ann.publish_at, config, where, problems, warnings)
    if problems:
        raise AnnouncementError(problems)
    return Loaded(
        announcement=ann,
        source=path,
        id=ann.id or path.stem,
        targets=targets,
        overrides=overrides,
        media=media,
        platform_media=platform_media,
        publish_at=publish_at,
        warnings=tuple(warnings),
    )


def _targets(ann: Announcement, where: str, problems: list[Problem]) -> tuple[str, ...] | None:
    listed: list[str] | None = ann.targets
    key = "targets"
    if isinstance(ann.platforms, list):
        if ann.targets is not None:
            problems.append(Problem(f"{where}: platforms", "give the list in 'targets' only"))
        listed, key = ann.platforms, "platforms"
    if listed is None:
        return None
    found: list[str] = []
    for i, name in enumerate(listed):
        try:
            canonical = registry.canonical(name)
        except ConfigError as exc:
            problems.append(Problem(f"{where}: {key}[{i}]", str(exc)))
            continue
        if canonical not in found:
            found.append(canonical)
    if not listed:
        problems.append(Problem(f"{where}: {key}", "is empty; list at least one platform"))
    return tuple(found)


def _overrides(ann: Announcement, where: str, problems: list[Problem]) -> dict[str, Overrides]:
    if not isinstance(ann.platforms, dict):
        return {}
    found: dict[str, Overrides] = {}
    for key, table in ann.platforms.items():
        try:
            name = registry.canonical(key)
        except ConfigError as exc:
            problems.append(Problem(f"{where}: platforms.{key}", str(exc)))
            continue
        if name in found:
            problems.append(Problem(f"{where}: platforms.{key}", f"{name} is given twice"))
            continue
        model = registry.adapter_class(name).Options
        try:
            found[name] = model.model_validate(table)
        except ValidationError as exc:
            problems += validation_problems(exc, model, where, f"platforms.{key}")
    return found


def _text_problems(ann: Announcement, overrides: dict[str, Overrides], where: str) -> list[Problem]:
    problems: list[Problem] = []
    texts: list[tuple[str, Any]] = [
        ("title", ann.title),
        ("body", ann.body),
        *((f"hashtags[{i}]", tag) for i, tag in enumerate(ann.hashtags)),
        *((f"media[{i}].alt", m.alt) for i, m in enumerate(ann.media)),
    ]
    for name, opts in overrides.items():
        texts += [(f"platforms.{name}.title", opts.title), (f"platforms.{name}.body", opts.body)]
        if opts.body is not None and not opts.body.strip():
            problems.append(Problem(f"{where}: platforms.{name}.body", "is empty"))
        for i, tag in enumerate(opts.hashtags or []):
            texts.append((f"platforms.{name}.hashtags[{i}]", tag))
    for field, text in texts:
        if not isinstance(text, str):
            continue
        bad = _CONTROL.search(text)
        if bad:
            line = text[: bad.start()].count("\n") + 1
            problems.append(
                Problem(
                    f"{where}: {field}",
                    f"contains the invisible control character U+{ord(bad[0]):04X} "
                    f"(line {line} of the text); remove it",
                )
            )
        if field.rsplit(".", 1)[-1].startswith("hashtags["):
            why = hashtags.problem(text)
            if why:
                problems.append(Problem(f"{where}: {field}", why))
    return problems


def _media(
    items: list[Media], base: Path, where: str, key: str, problems: list[Problem]
) -> tuple[MediaFile, ...]:
    files: list[MediaFile] = []
    for i, item in enumerate(items):
        place = f"{where}: {key}[{i}]"
        if item.path is None and item.url is None:
            problems.append(Problem(place, "give a 'path' to a file, a 'url', or both"))
            continue
        if item.path is not None:
            found = inspect(base / item.path)
            if isinstance(found, str):
                problems.append(Problem(f"{place}.path", f"'{item.path}': {found}"))
                continue
            kind, mime, size = found
            if item.kind is not None and item.kind != kind:
                problems.append(
                    Problem(f"{place}.kind", f"says {item.kind}, but the file is {kind}")
                )
                continue
            path = (base / item.path).resolve()
            dimensions = image_size(path) if kind == "image" else None
            files.append(
                MediaFile(
                    item.path,
                    kind,
                    mime,
                    path,
                    item.url,
                    _nfc(item.alt),
                    size,
                    width=dimensions[0] if dimensions else None,
                    height=dimensions[1] if dimensions else None,
                    duration=video_duration(path) if kind == "video" else None,
                )
            )
            continue
        assert item.url is not None
        guessed = guess_from_name(item.url)
        url_kind = item.kind or (guessed[0] if guessed else None)
        if url_kind is None:
            problems.append(
                Problem(
                    place,
                    f"cannot tell whether '{item.url}' is an image or a video; "
                    f'add kind = "image" or "video" ({SUPPORTED})',
                )
            )
            continue
        mime = guessed[1] if guessed and guessed[0] == url_kind else f"{url_kind}/*"
        files.append(MediaFile(item.url, url_kind, mime, None, item.url, _nfc(item.alt), None))
    return tuple(files)


def _nfc(text: str | None) -> str | None:
    return unicodedata.normalize("NFC", text) if text is not None else None


def _publish_at(
    value: datetime | None,
    config: Configuration,
    where: str,
    problems: list[Problem],
    warnings: list[str],
) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        tz = config.timezone
        if tz is None:
            problems.append(
                Problem(
                    f"{where}: publish_at",
                    "has no UTC offset and the config has no [profile] timezone; "
                    'write it like 2023-11-30T10:00:00+07:00, or set timezone = "Asia/Jakarta"',
                )
            )
            return None
        local = _local_time(value, tz, str(tz), f"{where}: publish_at", problems)
        if local is None:
            return None
        value = local
    ahead = value - datetime.now(UTC)
    if ahead > FAR_AHEAD:
        warnings.append(
            f"{where}: publish_at: {value.isoformat()} is {ahead.days:,} days ahead, more "
            "than a year; check the year"
        )
    return value


def _local_time(
    value: datetime, tz: tzinfo, zone: str, place: str, problems: list[Problem]
) -> datetime | None:
    """``value``, a wall-clock time in ``tz``, made aware; None (and a problem) when the
    time does not exist (the clocks skip it) or exists twice (the clocks go back).
    """
    first = value.replace(tzinfo=tz, fold=0)
    second = value.replace(tzinfo=tz, fold=1)
    shown = value.isoformat()
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != value:
        problems.append(
            Problem(
                place,
                f"{shown} does not exist in {zone}: the clocks skip from "
                f"{_offset(first)} to {_offset(second)} then; choose a time outside "
                "the gap",
            )
        )
        return None
    if first.utcoffset() != second.utcoffset():
        problems.append(
            Problem(
                place,
                f"{shown} happens twice in {zone} (the clocks go back then); "
                f"write it with its offset: {first.isoformat()} (the first) or "
                f"{second.isoformat()} (the second)",
            )
        )
        return None
    return first


def _offset(moment: datetime) -> str:
    """The UTC offset of an aware time, as ISO 8601 writes it (+07:00)."""
    minutes = int((moment.utcoffset() or timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
