"""Where secrets come from: environment variables, then the credentials file.

A platform's secret ``page_token`` is read from ``CROSSPOST_FACEBOOK_PAGE_TOKEN``,
else from ``credentials.toml`` in the user config directory::

    [facebook]
    page_token = "..."

The file must be readable by its owner only (mode 0600), since it holds tokens
that can post as the organisation. Secrets never live in config.toml and are
never printed: every value read here is registered for redaction.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

from crosspost import redaction
from crosspost.config import user_dir
from crosspost.errors import CredentialsError

FILE_NAME = "credentials.toml"


def env_name(platform: str, key: str) -> str:
    """The environment variable for a platform's secret: ``CROSSPOST_FACEBOOK_PAGE_TOKEN``."""
    return f"CROSSPOST_{platform.upper()}_{key.upper()}"


def credentials_path() -> Path:
    """The credentials file's path (it may not exist)."""
    return user_dir() / FILE_NAME


class Credentials:
    """The secrets of one platform, looked up on demand and never shown."""

    def __init__(
        self,
        platform: str,
        environ: Mapping[str, str] | None = None,
        file: Path | None = None,
    ) -> None:
        self.platform = platform
        self._environ = os.environ if environ is None else environ
        self._file = credentials_path() if file is None else file
        self._table: dict[str, object] | None = None

    def _from_file(self) -> dict[str, object]:
        if self._table is None:
            self._table = {}
            if self._file.is_file():
                mode = stat.S_IMODE(self._file.stat().st_mode)
                if mode & 0o077:
                    raise CredentialsError(
                        f"{self._file}: readable by others (mode {mode:04o}); "
                        f"run: chmod 600 {self._file}"
                    )
                try:
                    data = tomllib.loads(self._file.read_text("utf-8"))
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                    raise CredentialsError(f"{self._file}: cannot be read: {exc}") from None
                except RecursionError:  # brackets nested hundreds deep: not a credentials file
                    raise CredentialsError(
                        f"{self._file}: cannot be read: nested too deep"
                    ) from None
                table = data.get(self.platform, {})
                self._table = table if isinstance(table, dict) else {}
        return self._table

    def get(self, key: str) -> str | None:
        """The secret ``key``, or None when it is set nowhere.

        A value with a control character (a line break pasted along) or a
        non-ASCII character is refused with a ``CredentialsError`` naming where
        it was set, never the value: no platform issues such tokens, and HTTP
        headers cannot carry them, so sending it would fail in a way that looks
        like a platform fault.
        """
        where = env_name(self.platform, key)
        value = self._environ.get(where)
        if value is None:
            where = f"{key} under [{self.platform}] in {self._file}"
            found = self._from_file().get(key)
            value = found if isinstance(found, str) else None
        if value is not None:
            value = value.strip()
            redaction.register(value)
            unusable = _unusable(value)
            if unusable:
                raise CredentialsError(
                    f"{self.platform}: {where} contains {unusable}; secrets are plain ASCII "
                    "text: copy it again and set it without it (the value is not shown)"
                )
        return value or None

    def require(self, key: str) -> str:
        """The secret ``key``; a CredentialsError naming what to set when it is missing."""
        value = self.get(key)
        if value is None:
            raise CredentialsError(self.missing_message([key]))
        return value

    def missing(self, keys: tuple[str, ...]) -> list[str]:
        """Which of ``keys`` are set nowhere."""
        return [key for key in keys if self.get(key) is None]

    def missing_message(self, keys: list[str]) -> str:
        """A sentence saying what to set for the missing ``keys``."""
        names = ", ".join(env_name(self.platform, k) for k in keys)
        return (
            f"{self.platform}: missing credentials: set {names} in the environment, "
            f"or add them under [{self.platform}] in {self._file} (mode 0600)"
        )


_NAMED = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}


def _unusable(value: str) -> str | None:
    """What in ``value`` cannot be part of a secret, in words (never the value), or None."""
    for char in value:
        if char in _NAMED:
            return _NAMED[char]
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return "a control character"
        if ord(char) > 0x7E:
            return "a non-ASCII character (a curly quote or a non-breaking space, say)"
    return None
