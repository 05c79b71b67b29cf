"""Editing config.toml in place: a few keys set, every comment and every other line kept.

``crosspost auth login`` writes the account ids a login found (Facebook's
``page_id``, Instagram's ``ig_user_id``) into the user's own config file,
which is full of comments the user wrote. Rewriting it from parsed data would
lose them, so the file is edited line by line: only the ``key = value`` lines
of the one table are touched, missing keys go right after its header, and a
missing table is appended at the end. The result must parse and must hold the
new values, else nothing is written (docs/credentials.md).
"""

from __future__ import annotations

import os
import stat
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crosspost.errors import ConfigError

Value = str | int | bool


@dataclass(frozen=True, slots=True)
class _Line:
    """What the scanner knows of one physical line."""

    #: The line begins outside any string, array or inline table: it may be a
    #: header or start a ``key = value`` statement.
    top: bool
    #: Where a ``#`` comment begins in the line (outside strings), or None.
    comment: int | None
    #: Where the first ``=`` outside strings and brackets is, or None.
    equals: int | None


def set_keys(path: Path, table: str, values: Mapping[str, Value]) -> None:
    """Set ``values`` in ``[table]`` of the TOML file ``path``, keeping everything else.

    ``table`` is a dotted path of bare keys (``"platforms.facebook"``). A key
    already in the table has its line replaced (a trailing comment is kept); a
    missing one is added right after the table's header; a missing table is
    appended at the end of the file, which is created when absent. The edited
    text must parse (``tomllib``) and hold exactly these values in that table,
    else ``ConfigError`` naming the file is raised and the file is unchanged.
    The write is atomic (temporary file, fsync, rename) and keeps the file's mode.
    """
    path = path.resolve() if path.is_symlink() else path
    try:
        # Bytes, not read_text: universal newlines would turn a CRLF file into LF lines.
        text = path.read_bytes().decode("utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {_reason(exc)}") from None
    text = text.removeprefix("\ufeff")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: does not parse ({exc}); fix it, then try again") from None
    edited = edit(text, table, values)
    _check(path, edited, table, values)
    _write(path, edited)


def edit(text: str, table: str, values: Mapping[str, Value]) -> str:
    """``text`` with ``values`` set in ``[table]`` (the pure part of ``set_keys``; unchecked)."""
    import tomli_w

    wanted = tuple(table.split("."))
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    info = _scan(lines)

    def render(key: str, value: Value) -> str:
        return tomli_w.dumps({key: value}).rstrip("\n")

    header = next(
        (i for i, line in enumerate(lines) if info[i].top and _header(line, info[i]) == wanted),
        None,
    )
    if header is None:
        block = [f"[{'.'.join(wanted)}]"] + [render(k, v) for k, v in values.items()]
        gap = [newline] if lines and lines[-1].strip() else []
        return "".join(lines + gap + [line + newline for line in block])

    end = next(
        (i for i in range(header + 1, len(lines)) if info[i].top and _is_header(lines[i])),
        len(lines),
    )
    replaced: dict[int, tuple[int, str]] = {}  # first line -> (last line, new text)
    missing = dict(values)
    for start in range(header + 1, end):
        if not info[start].top or info[start].equals is None:
            continue
        key = _key_path(lines[start][: info[start].equals])
        if key is None or len(key) != 1 or key[0] not in missing:
            continue
        last = start
        while last + 1 < end and not info[last + 1].top:
            last += 1
        comment = info[last].comment
        tail = f"  {lines[last][comment:].rstrip()}" if comment is not None else ""
        replaced[start] = (last, render(key[0], missing.pop(key[0])) + tail + newline)

    out = lines[: header + 1] + [render(k, v) + newline for k, v in missing.items()]
    i = header + 1
    while i < len(lines):
        if i in replaced:
            last, new = replaced[i]
            out.append(new)
            i = last + 1
        else:
            out.append(lines[i])
            i += 1
    return "".join(out)


def _scan(lines: list[str]) -> list[_Line]:
    """Each line's state at its start (inside a multi-line string or array, or not), where
    its comment begins and its first ``=``: enough to tell headers and key lines apart
    from text inside strings and arrays that merely looks like them."""
    result = []
    quote: str | None = None  # the open string's delimiter
    depth = 0  # open [ and { inside a value
    for line in lines:
        top = quote is None and depth == 0
        comment = equals = None
        i = 0
        while i < len(line):
            char = line[i]
            if quote is not None:
                if char == "\\" and quote in ('"', '"""'):
                    i += 2
                    continue
                if line.startswith(quote, i):
                    run = len(quote)
                    if len(quote) == 3:  # up to two quotes may end the content: """"" closes
                        while run < 5 and line.startswith(quote[0], i + run):
                            run += 1
                    quote = None
                    i += run
                    continue
                if char == "\n" and len(quote) == 1:
                    quote = None  # unterminated: tomllib reports it
                i += 1
                continue
            if char == "#":
                comment = i
                break
            if line.startswith('"""', i) or line.startswith("'''", i):
                quote = line[i : i + 3]
                i += 3
                continue
            if char in "\"'":
                quote = char
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth = max(depth - 1, 0)
            elif char == "=" and equals is None and depth == 0 and top:
                equals = i
            i += 1
        result.append(_Line(top, comment, equals))
    return result


def _is_header(line: str) -> bool:
    return line.lstrip().startswith("[")


def _header(line: str, info: _Line) -> tuple[str, ...] | None:
    """The key path of a ``[table]`` header line; None for other lines and ``[[arrays]]``."""
    text = line[: info.comment].strip() if info.comment is not None else line.strip()
    if not text.startswith("[") or text.startswith("[["):
        return None
    return _key_path(text[1:-1]) if text.endswith("]") else None


def _key_path(key: str) -> tuple[str, ...] | None:
    """The parts of a TOML key as written (bare, quoted, dotted), decoded by tomllib itself."""
    try:
        data: Any = tomllib.loads(f"{key.strip()} = 0")
    except tomllib.TOMLDecodeError:
        return None
    parts = []
    while isinstance(data, dict) and len(data) == 1:
        name, data = next(iter(data.items()))
        parts.append(name)
    return tuple(parts)


def _check(path: Path, text: str, table: str, values: Mapping[str, Value]) -> None:
    """The edited text parses and holds ``values`` in ``[table]``; else ConfigError."""
    what = ", ".join(values)
    try:
        data: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: cannot add {what} under [{table}]: the file would no longer parse "
            f"({exc}); it was not changed; add by hand: " + _by_hand(values)
        ) from None
    for part in table.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    if not isinstance(data, dict) or any(
        type(data.get(k)) is not type(v) or data.get(k) != v for k, v in values.items()
    ):
        raise ConfigError(
            f"{path}: cannot add {what} under [{table}]: the table is written in a form "
            "crosspost does not edit; it was not changed; add by hand: " + _by_hand(values)
        )


def _by_hand(values: Mapping[str, Value]) -> str:
    import tomli_w

    return "; ".join(tomli_w.dumps({k: v}).strip() for k, v in values.items())


def _write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, keeping its mode (a new file: 0666 - umask)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be written: {_reason(exc)}; the previous file is unchanged"
        ) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
