"""Alerts: failures, skips and expiring tokens, sent where the office reads them (docs/alerts.md).

Messages go out through Apprise, one URL per target (Telegram, e-mail, ntfy, a
JSON webhook...). ``notify`` turns one run's events into ONE message, sends it
to every configured URL and remembers, in the state store, when each problem
was last alerted: the same problem is not alerted at every cron run, only again
after ``remind_after`` while it persists, and at once when it comes back after
it went away.

Alerts never change what a run did: ``notify`` never raises, and an alert that
could not be delivered is reported in the returned ``Delivery`` for the caller
to log in one line. Alert URLs may carry tokens and passwords: each is
registered for redaction the moment it is read and never shown; a target is
named by its scheme alone (``tgram://…``). Apprise's own logging is captured
during a send and never reaches stdout or stderr (cron mail).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import parse_qsl, urlsplit

from crosspost import redaction
from crosspost.config import AlertKind, Configuration
from crosspost.duration import parse_duration
from crosspost.errors import CrosspostError
from crosspost.redaction import redact

if TYPE_CHECKING:
    from crosspost.publishing import Result
    from crosspost.state import Store

Kind = AlertKind
#: Every kind of event, in the order a message lists them.
KINDS: tuple[Kind, ...] = get_args(AlertKind)
#: Kinds about an account's token rather than one announcement.
TOKEN_KINDS: tuple[Kind, ...] = ("token_expiring", "token_dead")
#: The environment variable holding alert URLs (whitespace or comma separated).
ENV_URLS = "CROSSPOST_ALERTS_URLS"
#: Where the state store keeps when each problem was last alerted. No announcement
#: can have this id: declared ids match ``[A-Za-z0-9][A-Za-z0-9._-]*`` and an id
#: taken from a file name cannot contain "/".
STATE_KEY = "/alerts"
#: Seconds one target may take to connect and to answer: an unreachable alert
#: service must not hold up a cron run (Apprise's e-mail default is 15 s).
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 15.0
#: A message body is cut (at a line) beyond this many characters: Telegram's
#: limit is 4096 (https://core.telegram.org/bots/api#sendmessage), the lowest of
#: the common targets, and Apprise passes longer bodies on as they are by default.
MAX_BODY = 3500
#: Query parameters of an Apprise URL whose values are secrets on some services.
_SECRET_PARAMS = ("token", "key", "apikey", "secret", "pass", "password", "auth", "webhook")
#: Loggers that may speak while Apprise sends (requests uses urllib3).
_LOGGERS = ("apprise", "urllib3", "requests")

#: How each kind is counted in a title and named in a body.
_COUNTED = {
    "failed": "failed",
    "unknown": "unknown",
    "late_skipped": "skipped (late)",
    "blackout_skipped": "skipped (blackout)",
    "token_expiring": "token expiring",
    "token_dead": "token dead",
    "published": "published",
}
_LABELS = {
    "failed": "failed",
    "unknown": "outcome unknown",
    "late_skipped": "skipped, too late",
    "blackout_skipped": "skipped, blackout",
    "token_expiring": "token expiring",
    "token_dead": "token no longer works",
    "published": "published",
}


@dataclass(frozen=True)
class Event:
    """One thing worth telling a person: what happened, where, and the command that fixes it.

    ``announcement`` and ``file`` are None for token events (about an account);
    ``platform`` is None for an event about a whole announcement (a late skip).
    ``message`` is the reason or what happened, in words; ``url`` the post's
    address when it was published; ``command`` the exact command that fixes it.
    """

    kind: Kind
    announcement: str | None
    file: str | None
    platform: str | None
    message: str
    url: str | None = None
    command: str | None = None

    @property
    def key(self) -> str:
        """What makes two events the same problem: kind, announcement and platform."""
        return f"{self.kind}|{self.announcement or ''}|{self.platform or ''}"


@dataclass(frozen=True)
class Target:
    """How one alert URL fared; named by its scheme only (the URL may carry a secret)."""

    scheme: str
    delivered: bool
    reason: str | None = None

    @property
    def shown(self) -> str:
        """The target as it may be printed: ``tgram://…``."""
        return f"{self.scheme}://…"


DeliveryStatus = Literal["nothing", "unconfigured", "sent", "partial", "failed"]


@dataclass(frozen=True)
class Delivery:
    """What ``notify`` (or ``send_test``) did.

    ``status``: ``nothing`` (no event needed a message), ``unconfigured`` (one
    did, but no alert URL is set), ``sent`` (every target took it), ``partial``
    (some did), ``failed`` (none did). ``events`` are those the message
    carried; ``targets`` one per URL, in order; ``notes`` lines worth logging
    besides (the state could not record the alert, say). Nothing here holds a URL.
    """

    status: DeliveryStatus
    events: tuple[Event, ...] = ()
    targets: tuple[Target, ...] = ()
    title: str = ""
    body: str = ""
    notes: tuple[str, ...] = ()

    @property
    def problem(self) -> str | None:
        """One line for stderr when the alert did not reach every target; else None."""
        missed = [t for t in self.targets if not t.delivered]
        lines = [f"{t.shown} ({t.reason})" for t in missed]
        text = ""
        if lines:
            text = "alert not delivered to " + "; ".join(lines)
        if self.notes:
            text = "; ".join([text, *self.notes] if text else self.notes)
        return f"alerts: {text}" if text else None


# -- events ----------------------------------------------------------------------------


def events_from_results(
    announcement: str, file: str | None, results: Iterable[Result]
) -> list[Event]:
    """The events of one announcement's publish results.

    Skips what a person was already told: results marked ``quiet``, and a
    platform an earlier run had published (``earlier``). A failed platform whose
    credentials were refused carries the ``crosspost auth login`` command; an
    unknown outcome's message already holds the ``crosspost resolve`` commands.
    """
    events = []
    for result in results:
        if result.quiet or (result.earlier and result.status == "published"):
            continue
        message = redact(result.message or "")
        if result.status == "published":
            events.append(
                Event(
                    "published",
                    announcement,
                    file,
                    result.platform,
                    message or "published",
                    url=result.url or result.remote_id,
                )
            )
        elif result.status == "failed":
            command = f"crosspost auth login {result.platform}" if result.code == "auth" else None
            events.append(
                Event(
                    "failed",
                    announcement,
                    file,
                    result.platform,
                    message or f"failed ({result.code})",
                    command=command,
                )
            )
        else:
            events.append(
                Event("unknown", announcement, file, result.platform, message or "outcome unknown")
            )
    return events


# -- where alerts go -------------------------------------------------------------------


def alert_urls(
    config: Configuration,
    environ: Mapping[str, str] | None = None,
    credentials_file: Path | None = None,
) -> list[str]:
    """Every configured alert URL, each registered for redaction, without repeats.

    From ``[alerts] urls`` in the config, ``[alerts] urls`` in the credentials
    file and ``$CROSSPOST_ALERTS_URLS`` (whitespace or comma separated), in that
    order; all of them receive each message. A credentials file that cannot be
    read raises its ``CredentialsError`` (which names the file, never a value).
    """
    return _collect(config, environ, credentials_file, None)


def _collect(
    config: Configuration,
    environ: Mapping[str, str] | None,
    credentials_file: Path | None,
    notes: list[str] | None,
) -> list[str]:
    """``alert_urls``; with ``notes``, an unreadable credentials file is a note, not an error."""
    from crosspost.credentials import CredentialStore
    from crosspost.errors import CredentialsError

    env = os.environ if environ is None else environ
    found = list(config.config.alerts.urls)
    try:
        table = CredentialStore(credentials_file).read().get("alerts", {})
    except CredentialsError as exc:
        if notes is None:
            raise
        notes.append(f"alert URLs in the credentials file were not used: {redact(str(exc))}")
        table = {}
    found += [u for u in table.get("urls", []) if isinstance(u, str)]
    found += env.get(ENV_URLS, "").replace(",", " ").split()
    urls = list(dict.fromkeys(u.strip() for u in found if u.strip()))
    for url in urls:
        _register(url)
    return urls


def scheme_of(url: str) -> str:
    """The scheme of an alert URL (``tgram``): the only part of it ever shown."""
    scheme, sep, _ = url.partition("://")
    return scheme.lower() if sep and scheme.isascii() and scheme.isalnum() else "?"


def _register(url: str) -> None:
    """Register ``url`` and the secret parts of it a message might quote on their own."""
    redaction.register(url)
    try:
        parts = urlsplit(url)
        password = parts.password
        query = parse_qsl(parts.query)
    except ValueError:
        return
    if password:
        redaction.register(password)
    for name, value in query:
        if any(word in name.lower() for word in _SECRET_PARAMS):
            redaction.register(value)


# -- notify ----------------------------------------------------------------------------


def notify(
    config: Configuration,
    store: Store,
    events: list[Event],
    *,
    title: str | None = None,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    credentials_file: Path | None = None,
) -> Delivery:
    """Send ONE message about ``events`` to every alert URL; never raises.

    Events whose kind is not in ``notify_on`` are left out. An event whose
    problem was alerted less than ``remind_after`` ago is left out too; after
    that it is sent again as a reminder. A ``published`` event makes the state
    forget the problems of that announcement and platform (and a dead token of
    that platform), so a new failure there alerts at once. The time of each
    alert is recorded only when at least one target took the message, so an
    alert nobody received is tried again by the next run. ``title`` replaces
    the counted one ("crosspost: 1 failed, 1 unknown").
    """
    when = now or datetime.now(UTC)
    if when.tzinfo is None:  # a time without an offset is taken as UTC, like the state's
        when = when.replace(tzinfo=UTC)
    notes: list[str] = []
    try:
        alerts = config.config.alerts
        remind_after = parse_duration(alerts.remind_after)
        sent = _read_sent(store, notes)
        _forget_resolved(store, events, sent, notes)
        due = _due(events, alerts.notify_on, sent, when, remind_after)
        if not due:
            return Delivery("nothing", notes=tuple(notes))
        urls = _collect(config, environ, credentials_file, notes)
        heading = title or _title([event for event, _ in due])
        body = _body(due)
        if not urls:
            return Delivery(
                "unconfigured",
                tuple(event for event, _ in due),
                title=heading,
                body=body,
                notes=tuple(notes),
            )
        targets = _send(urls, heading, body, _notify_type(event for event, _ in due))
        if any(t.delivered for t in targets):
            _record(store, due, sent, when, notes)
        delivered = sum(t.delivered for t in targets)
        status: DeliveryStatus = (
            "sent" if delivered == len(targets) else "partial" if delivered else "failed"
        )
        return Delivery(
            status, tuple(event for event, _ in due), targets, heading, body, tuple(notes)
        )
    except Exception as exc:  # a bug of ours must not change a run's outcome either
        notes.append(f"alerts failed unexpectedly: {type(exc).__name__}: {redact(str(exc))}")
        return Delivery("failed", notes=tuple(notes))


def forget(
    store: Store,
    *,
    kinds: Iterable[Kind] | None = None,
    announcement: str | None = None,
    platform: str | None = None,
) -> None:
    """Forget alerted problems that went away (a token is fine again, say); never raises.

    Each filter left as None matches everything: ``forget(store,
    kinds=TOKEN_KINDS, platform="twitter")`` after doctor found X's token valid.
    A forgotten problem that comes back is alerted at once.
    """
    wanted = set(kinds) if kinds is not None else None
    notes: list[str] = []
    sent = _read_sent(store, notes)
    gone = []
    for key in sent:
        kind, ann, plat = _split_key(key)
        if wanted is not None and kind not in wanted:
            continue
        if announcement is not None and ann != announcement:
            continue
        if platform is not None and plat != platform:
            continue
        gone.append(key)
    _drop(store, gone, notes)


def send_test(
    config: Configuration,
    *,
    environ: Mapping[str, str] | None = None,
    credentials_file: Path | None = None,
) -> Delivery:
    """Send a test message to every alert URL (``crosspost alerts test``).

    Raises the ``CredentialsError`` of a credentials file that cannot be read;
    a target that cannot be reached is a ``Target`` with ``delivered=False``.
    """
    urls = alert_urls(config, environ, credentials_file)
    title = "crosspost: test alert"
    body = (
        "This is a test message from crosspost. Failed and unknown posts, skipped "
        "announcements and expiring tokens will be reported here."
    )
    if not urls:
        return Delivery("unconfigured", title=title, body=body)
    targets = _send(urls, title, body, "info")
    delivered = sum(t.delivered for t in targets)
    status: DeliveryStatus = (
        "sent" if delivered == len(targets) else "partial" if delivered else "failed"
    )
    return Delivery(status, targets=targets, title=title, body=body)


# -- de-duplication --------------------------------------------------------------------


def _read_sent(store: Store, notes: list[str]) -> dict[str, dict[str, str]]:
    """When each remembered problem was first and last alerted, by key."""
    try:
        meta = store.meta(STATE_KEY)
    except CrosspostError as exc:
        notes.append(f"the state could not be read, so repeated alerts may not be held back: {exc}")
        return {}
    return {
        key: value
        for key, value in meta.items()
        if isinstance(value, dict) and isinstance(value.get("last"), str)
    }


def _forget_resolved(
    store: Store, events: list[Event], sent: dict[str, dict[str, str]], notes: list[str]
) -> None:
    """A platform that published has none of its earlier problems there any more."""
    gone = []
    for event in events:
        if event.kind != "published":
            continue
        for key in sent:
            kind, ann, plat = _split_key(key)
            same_post = ann == (event.announcement or "") and plat in ("", event.platform)
            token_works = kind == "token_dead" and plat == event.platform
            if (same_post and kind not in TOKEN_KINDS) or token_works:
                gone.append(key)
    for key in gone:
        sent.pop(key, None)
    _drop(store, gone, notes)


def _due(
    events: list[Event],
    notify_on: Iterable[str],
    sent: Mapping[str, Mapping[str, str]],
    now: datetime,
    remind_after: timedelta,
) -> list[tuple[Event, str | None]]:
    """The events to send, each with when it was first alerted if this is a reminder."""
    wanted = set(notify_on)
    due: list[tuple[Event, str | None]] = []
    seen: set[str] = set()
    for event in events:
        if event.kind not in wanted or event.key in seen:
            continue
        seen.add(event.key)
        before = sent.get(event.key) if event.kind != "published" else None
        if before is None:
            due.append((event, None))
            continue
        last = _parse(before.get("last"))
        if last is None or now - last >= remind_after:
            due.append((event, before.get("first")))
    return due


def _record(
    store: Store,
    due: list[tuple[Event, str | None]],
    sent: Mapping[str, Mapping[str, str]],
    now: datetime,
    notes: list[str],
) -> None:
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    values: dict[str, Any] = {}
    for event, _ in due:
        if event.kind == "published":
            continue  # news, not a problem that can persist
        first = sent.get(event.key, {}).get("first") or stamp
        values[event.key] = {"first": first, "last": stamp}
    if not values:
        return
    try:
        store.set_meta(STATE_KEY, **values)
    except CrosspostError as exc:
        notes.append(f"the state could not record this alert, so it may be sent again: {exc}")


def _drop(store: Store, keys: list[str], notes: list[str]) -> None:
    if not keys:
        return
    try:
        store.set_meta(STATE_KEY, **dict.fromkeys(keys))
    except CrosspostError as exc:
        notes.append(f"the state could not forget a resolved alert: {exc}")


def _split_key(key: str) -> tuple[str, str, str]:
    """``Event.key`` back into kind, announcement and platform ("" for None).

    Kinds and platform names hold no "|"; an id taken from a file name might.
    """
    kind, _, rest = key.partition("|")
    announcement, _, platform = rest.rpartition("|")
    return kind, announcement, platform


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# -- the message -----------------------------------------------------------------------


def _title(events: list[Event]) -> str:
    """``crosspost: 1 failed, 1 unknown``: counts in the order of ``KINDS``."""
    counts = [(kind, sum(e.kind == kind for e in events)) for kind in KINDS]
    return "crosspost: " + ", ".join(f"{n} {_COUNTED[kind]}" for kind, n in counts if n)


def _body(due: list[tuple[Event, str | None]]) -> str:
    """Per announcement (then the accounts), one entry per platform; English for now."""
    groups: dict[str | None, list[tuple[Event, str | None]]] = {}
    for event, first in due:
        groups.setdefault(event.announcement, []).append((event, first))
    lines: list[str] = []
    for announcement, entries in sorted(groups.items(), key=lambda g: (g[0] is None, g[0] or "")):
        if lines:
            lines.append("")
        if announcement is None:
            lines.append("Accounts")
        else:
            file = entries[0][0].file
            lines.append(f"{announcement} ({file})" if file else announcement)
        for event, first in entries:
            lines += _entry(event, first)
    return _cut(lines)


def _entry(event: Event, first: str | None) -> list[str]:
    where = _display(event.platform) if event.platform else "all platforms"
    message = redact(event.message)
    for prefix in (f"{where}: ", f"{event.platform}: ", "X: "):
        message = message.removeprefix(prefix)  # the line already names the platform
    line = f"- {where}: {_LABELS[event.kind]}"
    if message and message != _LABELS[event.kind]:
        line += f": {message}"
    lines = [line]
    if event.url:
        lines.append(f"  {redact(event.url)}")
    if event.command:
        lines.append(f"  Fix: {redact(event.command)}")
    if first:
        lines.append(f"  (reminder: first reported {first})")
    return lines


def _display(platform: str) -> str:
    from crosspost import registry

    try:
        return registry.adapter_class(platform).display_name
    except Exception:  # an unknown or broken plugin: its name still says where
        return platform


def _cut(lines: list[str]) -> str:
    """The body, cut at a line when longer than ``MAX_BODY``, saying how much was left out."""
    text = "\n".join(lines)
    if len(text) <= MAX_BODY:
        return text
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > MAX_BODY - 100:
            break
        kept.append(line)
        size += len(line) + 1
    left = sum(1 for line in lines[len(kept) :] if line.startswith("- "))
    kept += ["", f"... and {left} more; run crosspost status for everything."]
    return "\n".join(kept)


def _notify_type(events: Iterable[Event]) -> str:
    kinds = {event.kind for event in events}
    if kinds & {"failed", "unknown", "token_dead"}:
        return "failure"
    if kinds - {"published"}:
        return "warning"
    return "success"


# -- sending ---------------------------------------------------------------------------


def _send(urls: list[str], title: str, body: str, notify_type: str) -> tuple[Target, ...]:
    """Send the message to each URL on its own, so each target's outcome is known."""
    return tuple(_send_one(url, title, body, notify_type) for url in urls)


def _send_one(url: str, title: str, body: str, notify_type: str) -> Target:
    scheme = scheme_of(url)
    with _captured() as heard:
        try:
            import apprise

            plugin = apprise.Apprise.instantiate(url)
            if plugin is None:
                return Target(scheme, False, _heard(heard, "not an Apprise URL crosspost can use"))
            _register_private(plugin)
            # Bounded: an unreachable alert service must not hold up the run.
            plugin.socket_connect_timeout = min(plugin.socket_connect_timeout, CONNECT_TIMEOUT)
            plugin.socket_read_timeout = min(plugin.socket_read_timeout, READ_TIMEOUT)
            sender = apprise.Apprise()
            sender.add(plugin)
            ok = bool(sender.notify(body=body, title=title, notify_type=notify_type))
        except Exception as exc:
            reason = f"Apprise failed: {type(exc).__name__}: {exc}"
            return Target(scheme, False, redact(reason))
    if ok:
        return Target(scheme, True)
    return Target(scheme, False, _heard(heard, "the service did not accept the message"))


def _register_private(plugin: Any) -> None:
    """Register what Apprise itself marks private in this service's URL (a bot token)."""
    for specs in (plugin.template_tokens, plugin.template_args):
        for key, spec in specs.items():
            if isinstance(spec, dict) and spec.get("private"):
                value = getattr(plugin, spec.get("map_to", key), None)
                for item in value if isinstance(value, list | tuple) else [value]:
                    if isinstance(item, str):
                        redaction.register(item)


def _heard(records: list[str], default: str) -> str:
    """The last thing Apprise logged about a failure, redacted; ``default`` if nothing."""
    return redact(records[-1]).rstrip(".") if records else default


class _Capture(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.into.append(" ".join(record.getMessage().split()))
        except Exception:  # a malformed record is dropped, never printed
            return


@contextmanager
def _captured() -> Iterator[list[str]]:
    """Apprise's (and requests') log records and warnings, kept from stdout and stderr.

    Without a handler of their own, warnings of a library logger reach Python's
    last-resort handler, which prints them to stderr: cron would mail them.
    """
    heard: list[str] = []
    handler = _Capture(heard)
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate))
        logger.addHandler(handler)
        logger.propagate = False
    try:
        with warnings.catch_warnings():
            # Apprise's plugins import deprecated modules; verify=no makes urllib3 warn.
            warnings.simplefilter("ignore")
            yield heard
    finally:
        for logger, propagate in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
