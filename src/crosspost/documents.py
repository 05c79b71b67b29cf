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
#: How deep tables and arrays may nest, and how many parts a dotted key may
#: have. A real announcement or config nests at most five levels (the file >
#: platforms > x > media > a table); 64 leaves room for any hand-written file
#: while staying far below where tomllib fails: its parser recurses per level of
#: arrays and inline tables (RecursionError near 450), and its time grows with
#: the square of a dotted key's parts (a key of 100,000 parts never finishes).
MAX_DEPTH = 64

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
    too_deep = Problem(name, f"nested deeper than {MAX_DEPTH} levels")
    if _nesting(text) > MAX_DEPTH:  # before parsing: tomllib would recurse or stall
        raise error(too_deep)
    try:
        data = tomllib.loads(text)
    except RecursionError:  # a backstop: _nesting counted too few
        raise error(too_deep) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        where = name
        if match:
            message = message[: match.start()]
            where = f"{name}:{match[1]}:{match[2]}" if match[1] else f"{name}:end"
        raise error(Problem(where, f"TOML syntax error: {message}")) from None
    if _depth(data) > MAX_DEPTH:  # a header's and a key's levels add up
        raise error(too_deep)
    return data


# What ends each kind of text when scanning for nesting: code, comments, the
# four kinds of strings (https://toml.io/en/v1.0.0#string).
_CODE = regex.compile(r"""\"\"\"|'''|["'#\[\]{}.=,\n]""")
_UNTIL = {
    "#": regex.compile(r"\n"),
    '"': regex.compile(r'[\\"\n]'),
    "'": regex.compile(r"['\n]"),
    '"""': regex.compile(r'\\|"""'),
    "'''": regex.compile(r"'''"),
}


def _nesting(text: str) -> int:
    """The deepest nesting of brackets, or the most parts of a dotted key, in TOML ``text``.

    A linear scan that skips strings and comments, so that it can run before
    tomllib (whose parser would recurse, or take quadratic time, on the
    pathological inputs). It stops as soon as the answer exceeds ``MAX_DEPTH``.
    """
    depth = parts = deepest = 0
    pos = 0
    mode = ""  # "" outside strings and comments, else the token that opened them
    while deepest <= MAX_DEPTH:
        found = (_UNTIL[mode] if mode else _CODE).search(text, pos)
        if found is None:
            break
        token, pos = found[0], found.end()
        if mode == "":
            if token in _UNTIL:
                mode = token
            elif token in "[{":
                depth += 1
                parts = 0
            elif token in "]}":
                depth = max(depth - 1, 0)
                parts = 0
            elif token == ".":  # a float has one dot; a dotted key one per level
                parts += 1
            else:  # "=", ",", a line break: the key (or value) is over
                parts = 0
            deepest = max(deepest, depth, parts + 1)
        elif token == "\\":
            pos += 1  # an escaped character, perhaps a quote
        elif token == "\n" and mode in "#\"'":
            mode = ""  # a comment ends; an unclosed string is tomllib's error to report
            parts = 0
        elif token == mode:
            if len(mode) == 3:  # a multi-line string may end with one or two more quotes
                while pos < len(text) and text[pos] == mode[0] and found.end() + 2 > pos:
                    pos += 1
            mode = ""
    return deepest


def _depth(data: dict[str, Any]) -> int:
    """How deep tables and arrays nest in ``data``, counted without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


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
