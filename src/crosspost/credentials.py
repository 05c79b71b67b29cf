"""Where secrets come from: environment variables, then the credentials file.

A platform's secret ``page_token`` is read from ``CROSSPOST_FACEBOOK_PAGE_TOKEN``,
else from ``credentials.toml`` in the user config directory::

    [facebook]
    page_token = "..."

The file must be readable by its owner only (mode 0600), since it holds tokens
that can post as the organisation. Secrets never live in config.toml and are
never printed: every value read here is registered for redaction.

``crosspost auth login`` and token renewal write the file through
``CredentialStore``: under a file lock, re-read, merged, written to a temporary
file, fsynced and renamed over the old one, so a crash or two processes
renewing at once never lose a token (docs/credentials.md). Beside the secrets,
a table may hold what crosspost knows about them: ``expires_at`` (of the
access token), ``refresh_expires_at``, ``obtained_at``, ``scopes``, and the
``account`` and ``account_id`` the platform reported. Unknown tables and keys
are errors that name them: ``[twiter]`` must not be silently ignored.
"""

from __future__ import annotations

import os
import stat
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crosspost import redaction
from crosspost.config import user_dir
from crosspost.errors import CredentialsError

FILE_NAME = "credentials.toml"
#: What a table may hold beside secrets: facts about them, never secret themselves.
META_KEYS = ("expires_at", "refresh_expires_at", "obtained_at", "scopes", "account", "account_id")
#: How long a process waits for another one writing the credentials file.
LOCK_TIMEOUT = 60.0


def env_name(platform: str, key: str) -> str:
    """The environment variable for a platform's secret: ``CROSSPOST_FACEBOOK_PAGE_TOKEN``."""
    return f"CROSSPOST_{platform.upper()}_{key.upper()}"


def credentials_path() -> Path:
    """The credentials file's path (it may not exist)."""
    return user_dir() / FILE_NAME


class CredentialStore:
    """The credentials file: read and checked, and written atomically under a lock."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = credentials_path() if path is None else path

    def read(self) -> dict[str, dict[str, Any]]:
        """Every table, checked: owner-only mode, TOML, known platforms and keys."""
        if not self.path.is_file():
            return {}
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise CredentialsError(
                f"{self.path}: readable by others (mode {mode:04o}); run: chmod 600 {self.path}"
            )
        try:
            data = tomllib.loads(self.path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CredentialsError(f"{self.path}: cannot be read: {exc}") from None
        except RecursionError:  # brackets nested hundreds deep: not a credentials file
            raise CredentialsError(f"{self.path}: cannot be read: nested too deep") from None
        except OSError as exc:
            raise CredentialsError(f"{self.path}: cannot be read: {exc.strerror}") from None
        _check_tables(self.path, data)
        return data

    def update(self, platform: str, values: Mapping[str, Any]) -> None:
        """Merge ``values`` into ``platform``'s table (None removes a key) and write the file.

        The file is re-read under the lock, so a token another process stored
        meanwhile is kept; the write is atomic (temporary file, fsync, rename),
        so a crash leaves the previous file whole.
        """
        for key, value in values.items():
            # Secrets are hidden from every output; facts (the account name) are not.
            if isinstance(value, str) and key not in META_KEYS:
                redaction.register(value)
        with self.locked():
            data = self.read()
            table = dict(data.get(platform, {}))
            for key, value in values.items():
                if value is None:
                    table.pop(key, None)
                else:
                    table[key] = value
            if table:
                data[platform] = table
            else:
                data.pop(platform, None)
            _check_tables(self.path, data)
            self._write(data)

    def remove(self, platform: str) -> bool:
        """Forget every secret of ``platform``; whether there was any."""
        with self.locked():
            data = self.read()
            if platform not in data:
                return False
            del data[platform]
            self._write(data)
            return True

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the credentials file's lock (another writer waits)."""
        from filelock import FileLock, Timeout

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path) + ".lock", mode=0o600)
        try:
            lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout:
            raise CredentialsError(
                f"{self.path}: another crosspost process has been writing it for over a "
                "minute; try again"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _write(self, data: dict[str, Any]) -> None:
        import tomli_w

        text = "# crosspost credentials: secrets; keep this file private (mode 0600).\n"
        text += tomli_w.dumps(data)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".credentials-", suffix=".tmp")
        except OSError as exc:
            raise CredentialsError(
                f"{self.path}: cannot be written: {exc.strerror}; nothing was changed"
            ) from None
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise CredentialsError(
                f"{self.path}: cannot be written: {exc.strerror}; the previous file is unchanged"
            ) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _check_tables(path: Path, data: Mapping[str, Any]) -> None:
    """Unknown platforms and keys are errors naming them (a typo must not be ignored)."""
    from crosspost import registry
    from crosspost.errors import ConfigError

    problems = []
    for name, table in data.items():
        if name == "alerts":  # Apprise URLs may carry tokens (docs/alerts.md)
            urls = table.get("urls") if isinstance(table, dict) else None
            if not isinstance(table, dict) or set(table) - {"urls"}:
                problems.append(f"{path}: [alerts] holds only urls = [...] (Apprise URLs)")
            elif not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                problems.append(f"{path}: [alerts] urls must be a list of texts (Apprise URLs)")
            continue
        try:
            platform = registry.canonical(name)
        except ConfigError:
            problems.append(f"{path}: [{name}] is not a platform crosspost knows")
            continue
        if platform != name:
            problems.append(f"{path}: [{name}]: write it as [{platform}]")
            continue
        if not isinstance(table, dict):
            problems.append(f"{path}: {name} must be a table ([{name}])")
            continue
        adapter = registry.adapter_class(platform)
        known = set(adapter.secrets) | set(adapter.credentials) | set(META_KEYS)
        for key in table:
            if key not in known:
                problems.append(
                    f"{path}: [{name}] {key} is not a key crosspost reads; known: "
                    + ", ".join(sorted(known))
                )
    if problems:
        raise CredentialsError("\n".join(problems))


class Credentials:
    """The secrets of one platform, looked up on demand and never shown.

    The environment overrides the file, key by key. ``save`` stores renewed
    secrets in the file at once (before anything uses them).
    """

    def __init__(
        self,
        platform: str,
        environ: Mapping[str, str] | None = None,
        file: Path | None = None,
    ) -> None:
        self.platform = platform
        self._environ = os.environ if environ is None else environ
        self._file = credentials_path() if file is None else file
        self._table: dict[str, Any] | None = None

    @property
    def store(self) -> CredentialStore:
        """The credentials file these secrets are read from and saved to."""
        return CredentialStore(self._file)

    def _from_file(self) -> dict[str, Any]:
        if self._table is None:
            table = self.store.read().get(self.platform, {})
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

    def from_environment(self, key: str) -> bool:
        """Whether ``key`` comes from an environment variable (renewal cannot replace it)."""
        return env_name(self.platform, key) in self._environ

    def meta(self, key: str) -> Any:
        """A fact stored beside the secrets (``expires_at``, ``scopes``, ``account``…)."""
        return self._from_file().get(key)

    def expires_at(self, key: str = "access_token") -> datetime | None:
        """When ``key`` stops working, as stored by login or renewal; None when unknown.

        A secret from the environment has no known expiry.
        """
        if self.from_environment(key):
            return None
        field = "refresh_expires_at" if key == "refresh_token" else "expires_at"
        value = self._from_file().get(field)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return None

    def save(self, **values: Any) -> None:
        """Store renewed secrets and facts in the file now (None removes a key)."""
        self.store.update(self.platform, values)
        self._table = None

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
            f"{self.platform}: missing credentials: run crosspost auth login {self.platform}, "
            f"or set {names} in the environment, or add them under [{self.platform}] in "
            f"{self._file} (mode 0600)"
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
