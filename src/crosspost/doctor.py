"""``crosspost doctor``: would tonight's run work? Online, read-only checks per platform.

For the state directory and for each platform set up (or each target of an
announcement), in this order:

* the state directory can be written (the runner records each step before it
  takes it, so a state it cannot write means nothing is sent);
* the secrets publishing needs are set, and where each comes from (never its value);
* when tokens expire (``expires_at`` and ``refresh_expires_at`` stored by login
  and renewal): an expired token that cannot be renewed fails, one expiring within
  ``warn_days`` warns, and a renewable token set in the environment is pointed
  out, since renewal writes the credentials file, which the environment overrides;
* who the credentials post as (``Adapter.identity``, a ``/me``-style call: a
  refused token fails);
* the adapter's own findings (``Adapter.diagnose``: account ids, scopes,
  visibility such as TikTok ``SELF_ONLY`` or a YouTube video that only the
  account can see);
* with an announcement: its posts' problems, and every media URL a platform
  fetches by itself (Instagram always, TikTok photos, Facebook media given only
  as a URL) answers 200 with an image or video content type, unless the
  adapter's own findings already speak of that URL (Instagram checks its own).

Read-only: ``Adapter.renew`` is never called here, since renewing rotates
refresh tokens; doctor only reads what renewal would use. Platforms are checked
concurrently through one client. Imports httpx: only ``crosspost doctor`` loads
this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx

from crosspost import registry
from crosspost.adapter import Adapter, Finding, Post
from crosspost.api import PublishContext, new_client
from crosspost.config import Configuration, find_config, load_config
from crosspost.credentials import Credentials, CredentialStore, env_name
from crosspost.duration import describe
from crosspost.errors import (
    AuthError,
    ConfigError,
    CredentialsError,
    CrosspostError,
    InputError,
    PlatformError,
)
from crosspost.media import MediaFile
from crosspost.redaction import redact

Level = Literal["ok", "warn", "fail"]

#: Platforms whose refresh tokens rotate: each renewal returns a new one and the
#: old one stops working, so one kept in an environment variable dies at the first
#: renewal (docs/oauth.md, "Rotation").
ROTATING_REFRESH = frozenset({"twitter", "tiktok"})
#: How long one media URL may take to answer before it counts as unreachable.
MEDIA_TIMEOUT = 15.0
#: The status a platform's fetcher needs; a redirect is followed first.
MEDIA_OK = 200


@dataclass
class PlatformReport:
    """What doctor found for one platform, in the order it checked."""

    platform: str
    display_name: str
    account: str | None = None
    findings: list[Finding] = field(default_factory=list)
    #: The findings about the account's tokens (expiring, expired, refused): what
    #: doctor alerts about (docs/alerts.md).
    tokens: list[Finding] = field(default_factory=list)

    def token(self, level: Level, message: str) -> None:
        """Record a finding about the tokens (also kept for alerts)."""
        self.add(level, message)
        self.tokens.append(self.findings[-1])

    def add(self, level: Level, message: str) -> None:
        """Record one finding (the message is redacted: it never shows a secret)."""
        self.findings.append(Finding(level, redact(message)))

    @property
    def failed(self) -> bool:
        """True when tonight's run would fail on this platform."""
        return any(f.level == "fail" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """The platform's part of ``doctor --json``."""
        return {
            "platform": self.platform,
            "account": self.account,
            "findings": [{"level": f.level, "message": f.message} for f in self.findings],
        }


@dataclass
class Report:
    """Everything doctor found: the state directory, the credentials file, each platform."""

    state_dir: str | None
    state: Finding
    credentials: Finding | None = None
    platforms: list[PlatformReport] = field(default_factory=list)
    #: Findings about the whole run (no platform set up at all).
    general: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when tonight's run would fail somewhere (exit 1)."""
        found = [self.state, *self.general, *([self.credentials] if self.credentials else [])]
        return any(f.level == "fail" for f in found) or any(p.failed for p in self.platforms)

    def to_json(self) -> dict[str, Any]:
        """The ``doctor --json`` document."""
        return {
            "state_dir": self.state_dir,
            "ok": not self.failed,
            "state": _finding_json(self.state),
            "credentials_file": _finding_json(self.credentials) if self.credentials else None,
            "problems": [_finding_json(f) for f in self.general],
            "platforms": [p.to_json() for p in self.platforms],
        }


def _finding_json(finding: Finding) -> dict[str, str]:
    return {"level": finding.level, "message": finding.message}


# -- the whole check ------------------------------------------------------------------


def examine(
    file: Path | None,
    *,
    config_path: Path | None = None,
    only: Sequence[str] = (),
    warn_days: int = 7,
    environ: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    now: datetime | None = None,
) -> Report:
    """Check the state directory and every platform set up (or ``file``'s targets).

    Bad input (an unreadable config or announcement, an unknown ``--platform``)
    raises ``InputError`` as every command does; everything else is a finding.
    """
    from crosspost.state import state_dir

    config = load_config(find_config(config_path, file))
    now = now or datetime.now(UTC)
    posts: dict[str, Post | None]
    deadline = now
    if file is not None:
        from crosspost.loader import load_announcement
        from crosspost.planning import build

        loaded = load_announcement(file, config)
        plan = build(loaded, config, only)
        posts = {post.platform: post for post in plan.posts}
        adapters = plan.adapters
        if loaded.publish_at is not None and loaded.publish_at > now:
            deadline = loaded.publish_at  # a token must still work then
    else:
        names = platforms_set_up(config, environ, only)
        posts = dict.fromkeys(names)
        adapters = {name: registry.get_adapter(name, config.for_platform(name)) for name in names}

    try:
        directory: Path | None = state_dir(config.config.state_dir, config.source)
    except ConfigError as exc:
        directory = None
        state = Finding("fail", redact(str(exc)))
    else:
        assert directory is not None
        state = check_state(directory)
    report = Report(str(directory) if directory else None, state, _credentials_file())
    if not adapters:
        report.general.append(
            Finding(
                "fail",
                "no platform is set up: run crosspost auth login PLATFORM, or add a "
                "[platforms.<name>] table to the config",
            )
        )
        return report
    window = timedelta(days=warn_days)
    report.platforms = asyncio.run(
        _check_all(adapters, posts, environ, transport, now, deadline, window)
    )
    return report


def platforms_set_up(
    config: Configuration, environ: Mapping[str, str] | None, only: Sequence[str] = ()
) -> tuple[str, ...]:
    """The platforms doctor checks without an announcement, in publishing order.

    ``only`` (``--platform``) names them; otherwise every enabled platform with a
    table in the config, a table in the credentials file or a
    ``CROSSPOST_<PLATFORM>_*`` variable in the environment.
    """
    import os

    chosen = {registry.canonical(name) for name in only}
    if not chosen:
        env = os.environ if environ is None else environ
        chosen = set(config.platforms)
        with contextlib.suppress(CredentialsError):  # reported once, as the file's finding
            # Only platform tables: the file also holds [alerts] urls.
            chosen |= set(CredentialStore().read()) & set(registry.names())
        for name in registry.names():
            prefix = env_name(name, "")
            if any(key.startswith(prefix) for key in env):
                chosen.add(name)
        chosen = {n for n in chosen if (s := config.for_platform(n)) is None or s.enabled}
    builtin = registry.builtin_names()
    return tuple(n for n in builtin if n in chosen) + tuple(sorted(chosen - set(builtin)))


def check_state(directory: Path) -> Finding:
    """Whether the state directory can record a run's steps now (the runner's own test)."""
    from crosspost.state import open_store

    try:
        store = open_store(directory)
        try:
            store.check_writable()
        finally:
            store.close()
    except CrosspostError as exc:
        return Finding("fail", redact(str(exc)))
    return Finding("ok", f"{directory} (writable)")


def _credentials_file() -> Finding | None:
    """The credentials file, when there is one: readable and well-formed, or the error."""
    store = CredentialStore()
    try:
        tables = store.read()
    except CredentialsError as exc:
        return Finding("fail", redact(str(exc)))
    if not store.path.is_file():
        return None
    listed = ", ".join(sorted(tables)) or "no platform yet"
    return Finding("ok", f"{store.path} ({listed})")


async def _check_all(
    adapters: Mapping[str, Adapter],
    posts: Mapping[str, Post | None],
    environ: Mapping[str, str] | None,
    transport: httpx.AsyncBaseTransport | None,
    now: datetime,
    deadline: datetime,
    window: timedelta,
) -> list[PlatformReport]:
    async with new_client(transport=transport) as client:
        checks = [
            check_platform(adapter, posts.get(name), client, environ, now, deadline, window)
            for name, adapter in adapters.items()
        ]
        return list(await asyncio.gather(*checks))


# -- one platform -----------------------------------------------------------------------


async def check_platform(
    adapter: Adapter,
    post: Post | None,
    client: httpx.AsyncClient,
    environ: Mapping[str, str] | None,
    now: datetime,
    deadline: datetime,
    window: timedelta,
) -> PlatformReport:
    """Every check of one platform; the account comes from its identity call."""
    name = adapter.name
    report = PlatformReport(name, adapter.display_name)
    credentials = Credentials(name, environ)
    if post is not None:
        for problem in post.problems:
            report.add("fail", f"the post cannot be published: {problem}")
    settings_ok = True
    for key in adapter.required_settings:
        if getattr(adapter.settings, key, None) in (None, ""):
            report.add("fail", f"set {key} in [platforms.{name}] of the config")
            settings_ok = False
    try:
        missing = adapter.missing_credentials(credentials)
        if missing:
            report.add("fail", credentials.missing_message(missing))
        else:
            report.add("ok", "credentials: " + sources(adapter, credentials))
            for finding in expiry(adapter, credentials, now, deadline, window):
                report.token(finding.level, finding.message)
    except CredentialsError as exc:
        report.add("fail", str(exc))
        missing = ["?"]
    said: list[str] = []
    if not missing and settings_ok:
        ctx = PublishContext(
            client=client, platform=name, settings=adapter.settings, credentials=credentials
        )
        if await _identity(adapter, ctx, report):
            said = await _diagnose(adapter, ctx, post, report)
    if post is not None:
        for media in fetched_by_url(post):
            assert media.url is not None
            if any(media.url in message for message in said):
                continue  # the adapter checked this URL itself, by its platform's rules
            finding = await check_media(client, media, adapter.display_name)
            report.add(finding.level, finding.message)
    return report


async def _identity(adapter: Adapter, ctx: PublishContext, report: PlatformReport) -> bool:
    """Ask who the account is; False when the platform refused the credentials."""
    if type(adapter).identity is Adapter.identity:
        report.add("warn", f"account: not checked ({adapter.display_name} has no identity check)")
        return True
    try:
        account = await adapter.identity(ctx)
    except AuthError as exc:
        report.token("fail", exc.message)
        return False
    except PlatformError as exc:
        report.add("fail", f"account: could not be checked: {exc.message}")
        return False
    except CredentialsError as exc:
        report.add("fail", str(exc))
        return False
    except ConfigError as exc:  # the adapter cannot tell (yet): not a failure of the account
        report.add("warn", f"account: not checked: {exc}")
        return True
    except Exception as exc:  # a bug of ours: a finding, not exit 70 for the whole check
        report.add("fail", _bug("checking the account", exc))
        return False
    report.account = account.name
    shown = account.name + (f" ({account.url})" if account.url else "")
    report.add("ok", f"account: {shown}")
    return True


async def _diagnose(
    adapter: Adapter, ctx: PublishContext, post: Post | None, report: PlatformReport
) -> list[str]:
    """The adapter's own findings (ids, scopes, visibility, media URLs); their messages."""
    try:
        findings = await adapter.diagnose(ctx, post)
    except AuthError as exc:
        report.add("fail", exc.message)
        return []
    except PlatformError as exc:
        report.add("fail", f"could not finish the checks: {exc.message}")
        return []
    except InputError as exc:
        report.add("fail", str(exc))
        return []
    except Exception as exc:  # a bug of ours: a finding, not exit 70 for the whole check
        report.add("fail", _bug("checking", exc))
        return []
    for finding in findings:
        report.add(finding.level, finding.message)
    return [finding.message for finding in findings]


def _bug(what: str, exc: Exception) -> str:
    from crosspost.redaction import redact

    return redact(
        f"crosspost failed unexpectedly while {what} ({type(exc).__name__}: {exc}); "
        "run with --debug and please report it"
    )


def sources(adapter: Adapter, credentials: Credentials) -> str:
    """Which secrets are set and where each comes from (variable names, never values)."""
    keys = list(dict.fromkeys([*adapter.credentials, *adapter.secrets]))
    from_env = [k for k in keys if credentials.from_environment(k) and credentials.get(k)]
    from_file = [
        k for k in keys if not credentials.from_environment(k) and credentials.get(k) is not None
    ]
    parts = []
    if from_env:
        parts.append(
            "from the environment: " + ", ".join(env_name(adapter.name, k) for k in from_env)
        )
    if from_file:
        parts.append(f"from {credentials.store.path}: " + ", ".join(from_file))
    return "; ".join(parts) or "set"


# -- expiry -----------------------------------------------------------------------------


def renews(adapter: Adapter) -> bool:
    """Whether the adapter renews tokens before publishing (overrides ``renew``)."""
    return type(adapter).renew is not Adapter.renew


def expiry(
    adapter: Adapter,
    credentials: Credentials,
    now: datetime,
    deadline: datetime,
    window: timedelta,
) -> list[Finding]:
    """What the stored expiry facts mean for the next run; nothing when none are known.

    ``deadline`` is when the token must still work (the announcement's
    ``publish_at``, else now). A token that renewal can replace is fine when it
    expires; one it cannot must outlive the deadline (fail) and should outlive
    ``window`` (warn).
    """
    name = adapter.name
    login = f"crosspost auth login {name}"
    keys = {*adapter.credentials, *adapter.secrets}
    access_at = credentials.expires_at("access_token")
    refresh_at = credentials.expires_at("refresh_token")
    has_refresh = "refresh_token" in keys and credentials.get("refresh_token") is not None
    # A platform without refresh tokens (Instagram) renews the access token itself,
    # which works only while it has not expired.
    self_renewing = renews(adapter) and "refresh_token" not in keys
    if has_refresh:
        can_renew = renews(adapter) and (refresh_at is None or refresh_at > deadline)
    else:
        can_renew = self_renewing and access_at is not None and access_at > deadline
    found: list[Finding] = []

    if access_at is not None:
        when = _when(access_at, now)
        if access_at <= deadline and not can_renew:
            if access_at <= now:
                why = f"the access token expired {when}"
            else:
                why = f"the access token expires {when}, before the post's publish_at"
            found.append(Finding("fail", f"{why}; log in again: {login}"))
        elif access_at <= now:
            found.append(
                Finding("ok", f"the access token expired {when}; it is renewed before publishing")
            )
        elif access_at - now <= window:
            if has_refresh and can_renew:
                found.append(
                    Finding(
                        "ok", f"the access token expires {when}; it is renewed before publishing"
                    )
                )
            elif can_renew:
                found.append(
                    Finding(
                        "warn",
                        f"the access token expires {when}; a publish before then renews it, "
                        f"otherwise log in again: {login}",
                    )
                )
            else:
                found.append(
                    Finding(
                        "warn", f"the access token expires {when}; log in again before: {login}"
                    )
                )
        else:
            found.append(Finding("ok", f"the access token is valid until {_at(access_at)}"))

    if has_refresh and refresh_at is not None:
        when = _when(refresh_at, now)
        if refresh_at <= deadline:
            still = access_at is not None and access_at > deadline
            level: Level = "warn" if still else "fail"
            verb = "expired" if refresh_at <= now else "expires"
            found.append(
                Finding(
                    level,
                    f"the refresh token {verb} {when}, so renewal stops; log in again: {login}",
                )
            )
        elif refresh_at - now <= window:
            found.append(
                Finding(
                    "warn",
                    f"the refresh token expires {when} (Google's limit while the consent screen "
                    f"is in Testing is 7 days); log in again before: {login}"
                    if name == "youtube"
                    else f"the refresh token expires {when}; log in again before: {login}",
                )
            )

    if renews(adapter):
        found += _environment_notes(adapter, credentials, has_refresh, self_renewing)
    return found


def _environment_notes(
    adapter: Adapter, credentials: Credentials, has_refresh: bool, self_renewing: bool
) -> list[Finding]:
    """Renewable tokens set in the environment: renewal writes the file, which they override."""
    name = adapter.name
    found = []
    if has_refresh and credentials.from_environment("refresh_token") and name in ROTATING_REFRESH:
        found.append(
            Finding(
                "warn",
                f"{env_name(name, 'refresh_token')} is set in the environment, but "
                f"{adapter.display_name} replaces the refresh token at each renewal and renewal "
                "stores the new one in the credentials file, which the environment overrides: "
                f"renewal fails after the first one. Unset it and run crosspost auth login {name}",
            )
        )
    if credentials.from_environment("access_token") and (has_refresh or self_renewing):
        found.append(
            Finding(
                "warn",
                f"{env_name(name, 'access_token')} is set in the environment: renewal stores "
                "new access tokens in the credentials file, which the environment overrides, so "
                "this one is used until it expires. Unset it and run "
                f"crosspost auth login {name}",
            )
        )
    return found


def _at(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _when(when: datetime, now: datetime) -> str:
    """``in 2d 3h (2025-01-03 10:00 UTC)`` or ``5h ago (…)``."""
    span = describe(when - now)
    return f"in {span} ({_at(when)})" if when > now else f"{span} ago ({_at(when)})"


# -- media URLs ----------------------------------------------------------------------


def fetched_by_url(post: Post) -> list[MediaFile]:
    """The media the platform downloads itself from their URL (so the URL must work).

    Instagram fetches every image and video from its URL; TikTok photo posts
    are pulled from URLs (PULL_FROM_URL); other platforms fetch only media given
    as a URL without a local file (Facebook's ``url`` and ``file_url``).
    """
    with_url = [m for m in post.media if m.url]
    if post.platform == "instagram":
        return with_url
    if post.platform == "tiktok" and post.extra.get("mode") == "photo":
        return with_url
    return [m for m in with_url if m.path is None]


async def check_media(client: httpx.AsyncClient, media: MediaFile, platform: str) -> Finding:
    """HEAD, then GET when HEAD is not answered well: 200 and an image/video content type.

    Some servers refuse HEAD (405) or answer it differently; a platform fetches
    with GET, so GET decides. Redirects are followed; the body is not read.
    """
    assert media.url is not None
    url = media.url
    head = await _fetch(client, "HEAD", url)
    answer = head if isinstance(head, httpx.Response) and _fits(head, media) else None
    if answer is None:
        got = await _fetch(client, "GET", url)
        if isinstance(got, str):
            return Finding("fail", f"media {url}: {got}; {platform} could not fetch it")
        answer = got
    if answer.status_code != MEDIA_OK:
        return Finding(
            "fail",
            f"media {url}: answered {answer.status_code}; {platform} fetches it from there and "
            "needs 200",
        )
    ctype = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if not ctype.startswith(f"{media.kind}/"):
        said = f"content type {ctype}" if ctype else "no content type"
        return Finding(
            "fail",
            f"media {url}: served with {said}; {platform} needs {media.kind}/… "
            f"({media.mime} for this file): fix the web server's types",
        )
    if ctype != media.mime:
        return Finding("warn", f"media {url}: served as {ctype}, but the file is {media.mime}")
    length = answer.headers.get("content-length", "")
    if media.size is not None and length.isdigit() and int(length) != media.size:
        return Finding(
            "warn",
            f"media {url}: the server has {int(length):,} bytes, the local file "
            f"{media.size:,}: is it the same file?",
        )
    return Finding("ok", f"media {url}: reachable ({ctype})")


def _fits(response: httpx.Response, media: MediaFile) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    return response.status_code == MEDIA_OK and ctype.startswith(f"{media.kind}/")


async def _fetch(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response | str:
    """The response's status and headers (the body is never read), or why there is none."""
    try:
        async with client.stream(
            method, url, follow_redirects=True, timeout=MEDIA_TIMEOUT
        ) as response:
            return response
    except httpx.TimeoutException:
        return f"no answer within {MEDIA_TIMEOUT:.0f} seconds"
    except httpx.HTTPError as exc:
        return f"cannot be fetched ({redact(str(exc) or type(exc).__name__)})"
