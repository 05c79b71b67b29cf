"""``crosspost auth``: connect an account (``login``), see what is connected (``status``),
forget it (``logout``).

``login`` runs the platform's own authorization flow (``Adapter.login``), then
stores the tokens and what is known about them in the credentials file in one
locked, atomic write, and the account ids it found (``page_id``) in the
config's ``[platforms.<name>]`` table, comments kept. Nothing here ever prints
a secret: only key names, variable names and paths (docs/credentials.md).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crosspost.cli._options import ConfigOpt, JsonOpt

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

    from crosspost.adapter import Adapter, Login
    from crosspost.credentials import Credentials, CredentialStore

app = typer.Typer(
    name="auth",
    help="Connect crosspost to your accounts: log in once, see what is connected, log out.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

#: The HTTP transport ``auth login`` uses; None is the network. Tests set a
#: loopback or mock transport here (``publishing.run`` takes one the same way).
TRANSPORT: httpx.AsyncBaseTransport | None = None

#: ``--login`` choices: how Instagram is reached (docs/credentials.md).
LOGIN_KINDS = ("facebook", "instagram")

PlatformArg = Annotated[
    str,
    typer.Argument(help="facebook, instagram, tiktok, youtube or twitter (x).", show_default=False),
]


@app.command()
def login(
    platform: PlatformArg,
    no_browser: Annotated[
        bool,
        typer.Option(
            "--no-browser",
            help="Print the address to open instead of opening a browser (a server over SSH); "
            "then paste the address the browser ended on.",
        ),
    ] = False,
    config: ConfigOpt = None,
    oauth1: Annotated[
        bool,
        typer.Option(
            "--oauth1",
            help="X only: OAuth 1.0a user tokens, which never expire (best for cron).",
        ),
    ] = False,
    login_with: Annotated[
        str | None,
        typer.Option(
            "--login",
            help="Instagram only: log in through 'facebook' (a Page's linked account) or "
            "'instagram' (Instagram Login).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Connect PLATFORM: log in in the browser, store the tokens.

    The tokens go to the credentials file with their expiry; ids the login finds (a
    Facebook page_id) go to the config. crosspost renews the tokens before each run.
    """
    from crosspost import registry
    from crosspost.adapter import LoginSession
    from crosspost.api import new_client
    from crosspost.cli._output import console
    from crosspost.config import find_config, load_config, user_dir
    from crosspost.credentials import Credentials, CredentialStore
    from crosspost.errors import ConfigError

    name = registry.canonical(platform)
    options: dict[str, Any] = {}
    if oauth1:
        if name != "twitter":
            raise ConfigError("--oauth1 is for X (twitter) only")
        options["oauth1"] = True
    if login_with is not None:
        if name != "instagram":
            raise ConfigError("--login is for instagram only")
        if login_with not in LOGIN_KINDS:
            raise ConfigError(f"--login must be one of: {', '.join(LOGIN_KINDS)}")
        options["login"] = login_with

    config_path = find_config(config, None)
    configuration = load_config(config_path)
    adapter_class = registry.adapter_class(name)
    settings = configuration.for_platform(name) or adapter_class.Settings()
    adapter = adapter_class(settings)
    store = CredentialStore()
    store.read()  # a broken credentials file stops us before the browser, not after
    credentials = Credentials(name)
    out = console()

    async def flow() -> Login:
        async with new_client(transport=TRANSPORT) as client:
            session = LoginSession(
                client=client,
                platform=name,
                settings=settings,
                credentials=credentials,
                open_browser=not no_browser,
                say=lambda line: _say(out, line),
                ask=_ask,
                choose=lambda question, items: _choose(out, question, items),
                options=options,
            )
            return await adapter.login(session)

    import asyncio  # deferred: every other command would pay for it at start-up

    result = asyncio.run(flow())
    stored = save_login(store, name, result)
    _report(out, adapter, credentials, result, stored)
    if result.settings:  # after the tokens are safe: a config problem must not lose them
        target = config_path or user_dir() / "config.toml"
        table = write_settings(target, name, adapter_class, result.settings)
        _say(out, f"  Wrote {', '.join(result.settings)} to {target} under [{table}].")
    _say(out, "  Check it with: crosspost auth status")


def save_login(store: CredentialStore, platform: str, result: Login) -> list[str]:
    """Store a login's secrets and facts in one write; the secret keys stored, in order.

    Secrets the login did not return are kept (an app secret set once). The
    facts describe the token just obtained, so one the login did not report
    (an expiry, scopes) is removed rather than left describing the old token.
    """
    from crosspost import redaction

    for value in result.secrets.values():
        redaction.register(value)
    facts: dict[str, Any] = {
        "expires_at": _utc(result.expires_at),
        "refresh_expires_at": _utc(result.refresh_expires_at),
        "obtained_at": datetime.now(UTC).replace(microsecond=0),
        "scopes": list(result.scopes) or None,
        "account": result.account.name or None,
        "account_id": result.account.id or None,
    }
    store.update(platform, {**result.secrets, **facts})
    return list(result.secrets)


def write_settings(
    path: Path, platform: str, adapter_class: type[Adapter], values: dict[str, str]
) -> str:
    """Write ``values`` into the config's table for ``platform``; the table's name.

    The table the config already has for the platform is used, under whichever
    name it is written (``[platforms.x]``); the values are checked against the
    platform's settings before anything is written.
    """
    import tomllib

    from pydantic import ValidationError

    from crosspost import registry
    from crosspost.config_edit import set_keys
    from crosspost.documents import validation_problems
    from crosspost.errors import ConfigError, Problem

    tables: dict[str, Any] = {}
    if path.is_file():
        try:
            tables = tomllib.loads(path.read_text("utf-8")).get("platforms", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            tables = {}  # set_keys names what is wrong with the file
    key = next(
        (k for k in tables if _canonical(registry, k) == platform and isinstance(tables[k], dict)),
        platform,
    )
    try:
        adapter_class.Settings.model_validate({**tables.get(key, {}), **values})
    except ValidationError as exc:
        problems = validation_problems(exc, adapter_class.Settings, str(path), f"platforms.{key}")
        problems.append(Problem(str(path), "the login's settings were not written to it"))
        raise ConfigError(problems) from None
    set_keys(path, f"platforms.{key}", values)
    return f"platforms.{key}"


def _canonical(registry: Any, key: str) -> str | None:
    from crosspost.errors import ConfigError

    try:
        name: str = registry.canonical(key)
    except ConfigError:
        return None
    return name


def _report(
    out: Console,
    adapter: Adapter,
    credentials: Credentials,
    result: Login,
    stored: list[str],
) -> None:
    """What the login did, in words: who, until when, where each thing went (never values)."""
    from rich.text import Text

    from crosspost.credentials import env_name
    from crosspost.redaction import redact

    who = result.account.name
    if result.account.id and result.account.id != who:
        who += f" ({result.account.id})"
    if result.expires_at is None:
        until = "the token does not expire"
    else:
        until = f"token valid until {local(result.expires_at)}"
        if "refresh_token" in result.secrets:
            until += " (crosspost renews it by itself before each run)"
    # The account's name is a fact the platform reported, not a secret: shown as is, even
    # though storing it registered it for redaction with the other values.
    line = Text(redact(f"✓ Connected {adapter.display_name} as ")) + Text(who)
    out.print(line + Text(redact(f"; {until}")), soft_wrap=True)
    if result.refresh_expires_at is not None:
        _say(out, f"  The refresh token lasts until {local(result.refresh_expires_at)}.")
    path = credentials.store.path
    _say(out, f"  Saved {', '.join(stored) or 'the account facts'} to {path} (mode 0600).")
    for key in stored:
        if credentials.from_environment(key):
            _say(
                out,
                f"  ! {env_name(adapter.name, key)} is set in the environment and overrides "
                f"the {key} just saved: unset it, or crosspost keeps using the old value "
                "(and cannot renew it)",
            )


@app.command()
def status(json: JsonOpt = False) -> None:
    """Show which accounts are connected, and until when.

    Per platform: the account, where each secret comes from (an environment variable or
    the credentials file), when the token expires, the scopes; never the secrets.
    """
    from rich.text import Text

    from crosspost import registry
    from crosspost.cli._output import human, print_json
    from crosspost.credentials import CredentialStore

    out = human(json)
    store = CredentialStore()
    store.read()  # an unreadable or mistyped file is an error naming it
    now = datetime.now(UTC)
    rows = [platform_status(name, now) for name in registry.names()]
    if json:
        print_json({"credentials_file": str(store.path), "platforms": rows})
        return
    where = store.path if store.path.is_file() else f"{store.path} (not created yet)"
    out.print(Text(f"Credentials file: {where}"), soft_wrap=True)
    for row in rows:
        mark, style = ("✓", "green") if row["connected"] else ("✗", "red")
        head = Text(f"{mark} {row['display_name']}: ", style=f"bold {style}")
        if row["connected"]:
            account = row["account"]
            if account and row["account_id"] and row["account_id"] != account:
                account += f" ({row['account_id']})"
            head += Text(f"connected as {account}" if account else "connected")
        else:
            head += Text(f"not connected: run crosspost auth login {row['platform']}")
        out.print(head, soft_wrap=True)
        for key, source in row["secrets"].items():
            said = f"{source['variable']} (environment)" if source["variable"] else "file"
            if source["expiry"]:
                said += f"; {source['expiry']}"
            out.print(Text(f"    {key}: {said}"), soft_wrap=True)
        if row["scopes"] is not None:
            out.print(Text("    scopes: " + (", ".join(row["scopes"]) or "none")), soft_wrap=True)
        for problem in row["problems"]:
            out.print(Text(f"    ! {problem}", style="yellow"), soft_wrap=True)


def platform_status(name: str, now: datetime) -> dict[str, Any]:
    """One platform's row of ``auth status``: where each secret comes from, what is known
    about it (account, expiry in words, scopes); never a value."""
    from crosspost import registry
    from crosspost.credentials import Credentials, env_name
    from crosspost.errors import CredentialsError

    adapter = registry.get_adapter(name)
    credentials = Credentials(name)
    keys = list(dict.fromkeys((*adapter.credentials, *adapter.secrets)))
    secrets: dict[str, dict[str, str | None]] = {}
    for key in keys:
        if credentials.from_environment(key):
            secrets[key] = {"from": "environment", "variable": env_name(name, key)}
        elif credentials.meta(key) is not None:
            secrets[key] = {"from": "file", "variable": None}
        else:
            continue
        secrets[key]["expiry"] = None
    problems: list[str] = []
    try:
        connected = not adapter.missing_credentials(credentials)
    except CredentialsError as exc:  # a value that cannot be a secret: named, never shown
        connected = False
        problems.append(str(exc).removeprefix(f"{name}: "))
    token = _token_key(keys)
    expires = credentials.expires_at(token) if token in secrets else None
    refresh = credentials.expires_at("refresh_token") if "refresh_token" in secrets else None
    relogin = f"run crosspost auth login {name}"
    renewable = "refresh_token" in secrets and (refresh is None or refresh > now)
    if token in secrets:
        if secrets[token]["from"] == "environment":
            said = "expiry unknown (set in the environment)"
        elif expires is None:
            said = "does not expire"
        elif expires > now:
            said = f"expires in {span(expires - now)}"
        elif renewable:
            said = f"expired {span(now - expires)} ago; renewed before the next publish"
        else:
            said = f"expired {span(now - expires)} ago — {relogin}"
        secrets[token]["expiry"] = said
    if refresh is not None:
        secrets["refresh_token"]["expiry"] = (
            f"expires in {span(refresh - now)}"
            if refresh > now
            else f"expired {span(now - refresh)} ago — {relogin}"
        )
    scopes = credentials.meta("scopes")
    return {
        "platform": name,
        "display_name": adapter.display_name,
        "connected": connected,
        "account": credentials.meta("account"),
        "account_id": credentials.meta("account_id"),
        "secrets": secrets,
        "expires_at": _iso(expires),
        "expired": expires is not None and expires <= now,
        "refresh_expires_at": _iso(refresh),
        "obtained_at": _iso(credentials.meta("obtained_at")),
        "scopes": [str(s) for s in scopes] if isinstance(scopes, list) else None,
        "problems": problems,
    }


def _token_key(keys: list[str]) -> str | None:
    """The key whose expiry ``expires_at`` records: the access token, else the first
    other token the platform reads (Facebook's ``page_token``)."""
    if "access_token" in keys:
        return "access_token"
    return next((k for k in keys if k.endswith("_token") and k != "refresh_token"), None)


@app.command()
def logout(platform: PlatformArg) -> None:
    """Forget PLATFORM's stored tokens.

    Removes its table from the credentials file; the platform itself is not told.
    """
    from crosspost import registry
    from crosspost.cli._output import console
    from crosspost.credentials import Credentials, CredentialStore, env_name

    name = registry.canonical(platform)
    adapter_class = registry.adapter_class(name)
    store = CredentialStore()
    out = console()
    if store.remove(name):
        _say(out, f"✓ Removed {adapter_class.display_name}'s credentials from {store.path}.")
        _say(
            out,
            "  The platform still lists crosspost as allowed; remove it in the account's "
            "settings to revoke the tokens there.",
        )
    else:
        _say(out, f"No {adapter_class.display_name} credentials in {store.path}: nothing to do.")
    credentials = Credentials(name)
    keys = dict.fromkeys((*adapter_class.credentials, *adapter_class.secrets))
    still = [env_name(name, key) for key in keys if credentials.from_environment(key)]
    if still:
        _say(
            out,
            f"  ! Set in the environment, and still used: {', '.join(still)}; unset "
            f"{'it' if len(still) == 1 else 'them'} to disconnect completely.",
        )


# -- talking to the person logging in --------------------------------------------------------


def _say(out: Console, line: str) -> None:
    """Print ``line`` whole (an address must stay one piece to be copied), secrets redacted."""
    from rich.text import Text

    from crosspost.redaction import redact

    out.print(Text(redact(line)), soft_wrap=True)


def _ask(question: str) -> str:
    """One line from standard input; an error when there is none (cron, a closed pipe)."""
    from crosspost.errors import ConfigError

    sys.stdout.write(question.rstrip() + " ")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        raise ConfigError(
            "auth login needs an answer on standard input and got none; run it in a terminal"
        )
    return line.strip()


def _choose(out: Console, question: str, items: list[str]) -> int:
    """A numbered list, and the number the person types (again until it is one of them)."""
    from crosspost.errors import ConfigError

    if not items:
        raise ConfigError(f"{question}: there is nothing to choose from")
    if len(items) == 1:
        _say(out, f"{question} {items[0]} (the only one)")
        return 0
    _say(out, question)
    for number, item in enumerate(items, 1):
        _say(out, f"  {number}. {item}")
    while True:
        answer = _ask(f"Number (1-{len(items)}):")
        if answer.isdigit() and 1 <= int(answer) <= len(items):
            return int(answer) - 1
        _say(out, f"Type a number from 1 to {len(items)}.")


# -- times in words ---------------------------------------------------------------------------


def local(moment: datetime) -> str:
    """``moment`` in this machine's local time, to the minute, with its zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone().strftime("%Y-%m-%d %H:%M %Z").rstrip()


def span(delta: timedelta) -> str:
    """A duration in words: ``3 days``, ``1 hour 59 minutes``, ``5 minutes``."""
    seconds = max(int(delta.total_seconds()), 0)
    units = (("day", 86400), ("hour", 3600), ("minute", 60))
    for i, (unit, size) in enumerate(units):
        if seconds >= size:
            count = seconds // size
            said = f"{count} {unit}{'' if count == 1 else 's'}"
            if count == 1 and i + 1 < len(units):  # "1 hour" for 1h59m would mislead
                smaller, step = units[i + 1]
                rest = seconds % size // step
                if rest:
                    said += f" {rest} {smaller}{'' if rest == 1 else 's'}"
            return said
    return "less than a minute"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    return None
