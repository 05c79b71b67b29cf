"""Reading the TOML files users write, and turning every failure into a readable line.

Users are communication officers, not programmers: an error must say which file,
which line and column (TOML syntax) or which field (schema), and what is wrong,
in one line each. Nothing here prints or exits; it raises ``InputError``s.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

import regex
from pydantic import BaseModel, ValidationError

from crosspost.errors import InputError, Problem

#: Announcements and configs are small text files; anything larger is a mistake
#: (a video passed as the announcement, say) and is refused before reading it all.
MAX_FILE_BYTES = 1_000_000

_TOML_POSITION = regex.compile(r"\s*\(at line (\d+), column (\d+)\)$|\s*\(at end of document\)$")


def read_toml(path: Path, error: type[InputError] = InputError) -> dict[str, Any]:
    """Parse ``path`` as TOML, raising ``error`` with a ``file:line:col`` message on failure."""
    name = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise error(Problem(name, "no such file")) from None
    except OSError as exc:
        raise error(Problem(name, f"cannot read: {exc.strerror}")) from None
    if not path.is_file():
        raise error(Problem(name, "is not a file"))
    if size > MAX_FILE_BYTES:
        raise error(Problem(name, f"is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (1 MB)"))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            Problem(f"{name}:{line}", "is not UTF-8 text; save it as UTF-8 and try again")
        ) from None
    text = text.removeprefix("\ufeff")  # a byte-order mark from Windows editors is harmless
    if not text.strip():
        raise error(Problem(name, "is empty"))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        where = name
        if match:
            message = message[: match.start()]
            where = f"{name}:{match[1]}:{match[2]}" if match[1] else f"{name}:end"
        raise error(Problem(where, f"TOML syntax error: {message}")) from None


def validation_problems(
    exc: ValidationError, model: type[BaseModel], where: str, prefix: str = ""
) -> list[Problem]:
    """One ``Problem`` per pydantic error, with the field path and a "did you mean"."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        kind = err["type"]
        # An unknown key is reported at the table that holds it, not as a path of its own.
        shown = loc[:-1] if kind == "extra_forbidden" else loc
        path = _dotted([*([prefix] if prefix else []), *shown])
        if kind == "extra_forbidden":
            known = _known_keys(model, err["loc"][:-1])
            close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            if not close and known:
                hint = f"; known keys here: {', '.join(sorted(known))}"
            message = f"unknown key '{loc[-1]}'{hint}"
        elif kind == "missing":
            message = "is required"
        else:
            message = err["msg"]
            message = message.removeprefix("Value error, ")
            if kind.endswith("_type") or kind.startswith("is_instance"):
                message = f"{message} (got {_describe(err.get('input'))})"
        problems.append(Problem(f"{where}: {path}" if path else where, message))
    return problems


def _dotted(parts: list[str]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    names = {str: "text", int: "a number", float: "a number", list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed at ``loc`` inside ``model``, following nested models and lists."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _inner_model(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return [f.alias or name for name, f in fields.items()] if fields else []


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside ``X``, ``list[X]``, ``X | None`` or ``dict[str, X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
