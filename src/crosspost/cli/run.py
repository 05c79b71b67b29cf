"""``crosspost run DIR``: what cron calls. Publishes every announcement that is due, once.

Each run takes the run lock of the state directory; a second ``run`` while one
is going exits at once (exit 0), so overlapping cron lines are harmless.
Announcements are taken in ``publish_at`` order. Drafts, announcements with no
``publish_at`` and future ones are left alone; a late one (due longer than
``max_late`` ago) is skipped and reported once. A failed platform is retried on
later runs with a growing wait, up to ``[schedule] max_attempts``. A platform
a blackout window holds back is left alone and reported once; it goes out after
the window if still within ``max_late`` (docs/state.md, "Blackout windows").
When nothing happened, nothing is printed (cron sends no mail).
"""

from __future__ import annotations

import dataclasses
import json as jsonlib
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crosspost.cli._options import ConfigOpt, JsonOpt
from crosspost.cli._output import error, human, print_json, show_results

if TYPE_CHECKING:
    from rich.console import Console

    from crosspost.alerts import Event, Kind
    from crosspost.config import Configuration
    from crosspost.models import Loaded
    from crosspost.planning import Plan
    from crosspost.schedule import Window
    from crosspost.state import Store


def run(
    directory: Annotated[
        Path, typer.Argument(help="The folder of announcement files.", show_default=False)
    ],
    json: JsonOpt = False,
    config: ConfigOpt = None,
    log: Annotated[
        Path | None,
        typer.Option(
            "--log",
            help="Append one JSON line per announcement acted on to this file.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Publish every announcement under DIR that is due (for cron); quiet when nothing is."""
    from crosspost.schedule import scan

    files = scan(directory)
    out = human(json)
    runner = _Runner(out, json, config, directory)
    try:
        documents = runner.all(files)
        runner.alert()
    finally:
        runner.close()
    if json:
        print_json({"directory": str(directory), "announcements": documents})
    if log is not None:
        _append_log(log, [d for d in documents if d.get("acted")])
    if runner.code:
        raise typer.Exit(runner.code)


class _Runner:
    """One ``run``: the stores it opened, the locks it holds, the exit code so far."""

    def __init__(self, out: Console, json: bool, config: Path | None, root: Path) -> None:
        self.out = out
        self.root = root
        self.json = json
        self.config = config
        self.stores: dict[Path, Store] = {}
        self.locks = ExitStack()
        self.configs: dict[Path | None, Configuration] = {}
        #: The exit code so far; the worst wins: 3 unknown, 2 bad input, 1 failed.
        self.code = 0
        #: What to alert about, per state directory: one message each at the end.
        self.events: dict[Path, tuple[Configuration, list[Event]]] = {}

    def raise_to(self, code: int) -> None:
        self.code = max(self.code, code)

    def tell(self, config: Configuration, *events: Event) -> None:
        """Keep events for the alert this run sends at its end."""
        from crosspost.state import state_dir

        directory = state_dir(config.config.state_dir, config.source).resolve()
        self.events.setdefault(directory, (config, []))[1].extend(events)

    def alert(self) -> None:
        """Send one alert per state directory (de-duplicated, reminders after a while).

        A message that cannot be delivered is one line on stderr; it never
        changes the run's exit code.
        """
        from crosspost.alerts import notify

        for directory, (config, events) in self.events.items():
            store = self.stores.get(directory)
            if store is None or not events:
                continue
            delivery = notify(config, store, events)
            if delivery.problem:
                error(delivery.problem)

    def close(self) -> None:
        self.locks.close()
        for store in self.stores.values():
            store.close()

    # -- loading --------------------------------------------------------------------

    def config_for(self, path: Path) -> Configuration:
        from crosspost.config import find_config, load_config

        source = find_config(self.config, path, self.root)
        key = source.resolve() if source else None
        if key not in self.configs:
            self.configs[key] = load_config(source)
        return self.configs[key]

    def store_for(self, config: Configuration) -> Store:
        """The state store of ``config``, with its run lock (``_Busy`` when another run has it)."""
        from crosspost.state import open_store, state_dir

        directory = state_dir(config.config.state_dir, config.source).resolve()
        if directory not in self.stores:
            store = open_store(directory)
            self.stores[directory] = store
            held = self.locks.enter_context(store.run_lock())
            if not held:
                raise _Busy(directory)
        return self.stores[directory]

    def all(self, files: list[Path]) -> list[dict[str, Any]]:
        from crosspost.errors import CrosspostError
        from crosspost.loader import load_announcement
        from crosspost.schedule import duplicate_ids

        documents: list[dict[str, Any]] = []
        loaded: list[tuple[Loaded, Configuration]] = []
        for path in files:
            try:
                config = self.config_for(path)
                loaded.append((load_announcement(path, config), config))
            except CrosspostError as exc:
                documents.append(self.problem(path, None, str(exc), exc.exit_code))
        twins = duplicate_ids({item.source: item.id for item, _ in loaded})
        for ident, paths in twins.items():
            for path in paths:
                others = ", ".join(str(p) for p in paths if p != path)
                documents.append(
                    self.problem(
                        path,
                        ident,
                        f"{path}: the id '{ident}' is also used by {others}; nothing of either "
                        'was published: give each file its own id = "..."',
                        2,
                    )
                )
        doubled = {p for paths in twins.values() for p in paths}
        loaded = [item for item in loaded if item[0].source not in doubled]
        far = datetime.max.replace(tzinfo=UTC)
        loaded.sort(key=lambda item: (item[0].publish_at or far, str(item[0].source)))
        for item, config in loaded:
            try:
                documents.append(self.one(item, config))
            except _Busy as busy:
                if not self.json:
                    self.out.print(
                        f"another crosspost run is already publishing from {busy.directory}; "
                        "this one leaves it to that run",
                        soft_wrap=True,
                    )
                return documents
            except CrosspostError as exc:
                documents.append(self.problem(item.source, item.id, str(exc), exc.exit_code))
        return documents

    def problem(self, path: Path, ident: str | None, message: str, code: int) -> dict[str, Any]:
        self.raise_to(2 if code == 2 else 1)
        if not self.json:
            error(message)
        return {"id": ident, "file": str(path), "state": "error", "error": message, "acted": True}

    # -- one announcement -----------------------------------------------------------

    def one(self, loaded: Loaded, config: Configuration) -> dict[str, Any]:
        from crosspost.schedule import timing

        now = datetime.now(UTC)
        state = timing(loaded, config, now)
        doc: dict[str, Any] = {
            "id": loaded.id,
            "file": str(loaded.source),
            "publish_at": loaded.publish_at.isoformat() if loaded.publish_at else None,
            "state": state,
        }
        if state not in ("due", "late"):
            return doc
        store = self.store_for(config)
        from crosspost.planning import build

        plan = build(loaded, config)
        if state == "late":
            return self.late(plan, store, doc)
        if plan.problems:
            lines = plan.problem_lines()
            return self.problem(loaded.source, loaded.id, "\n".join(lines), 2)
        held = self.blackout(plan, store, doc, now)
        if held is not None:
            free = [p for p in plan.posts if p.platform not in held]
            if not free or set(held) >= set(self.pending(plan, store)):
                doc["state"] = "blackout_skipped"  # nothing can go out before the window ends
                return doc
            plan = dataclasses.replace(
                plan,
                posts=tuple(free),
                adapters={p.platform: plan.adapters[p.platform] for p in free},
            )
        from crosspost.publishing import exit_code, policy_for
        from crosspost.publishing import run as publish

        results = publish(plan, store=store, policy=policy_for(plan, mode="run"))
        self.raise_to(exit_code(results))
        from crosspost.alerts import events_from_results

        # Problems already told are passed again: the alert reminds after a while.
        told = [dataclasses.replace(r, quiet=False) for r in results]
        self.tell(config, *events_from_results(loaded.id, str(loaded.source), told))
        doc["results"] = [r.to_json() for r in results]
        news = [r for r in results if not r.quiet and not (r.earlier and r.status == "published")]
        doc["acted"] = bool(news) or bool(doc.get("acted"))
        if news and not self.json:
            self.heading(loaded)
            show_results(news, self.out)
        return doc

    def pending(self, plan: Plan, store: Store) -> list[str]:
        """The platforms of ``plan`` not published yet."""
        entries = store.entries(plan.loaded.id)
        return [
            p.platform
            for p in plan.posts
            if (e := entries.get(p.platform)) is None or e.status != "published"
        ]

    def blackout(
        self, plan: Plan, store: Store, doc: dict[str, Any], now: datetime
    ) -> dict[str, Window] | None:
        """The platforms not yet published that a blackout window holds back now (None: none).

        They are listed under the document's ``blackout`` key, recorded in the
        state (``blackout_skipped``), and reported once per window.
        """
        from crosspost.cli.publish import blackout_json, blackout_message, remember_blackout
        from crosspost.schedule import blocked_platforms, windows

        found = windows(plan.loaded, plan.config)
        held = blocked_platforms(now, self.pending(plan, store), found)
        if not held:
            return None
        doc["blackout"] = blackout_json(held, plan.config)
        fresh = remember_blackout(store, plan.loaded.id, held)
        if fresh:
            message = blackout_message(plan, {name: held[name] for name in fresh})
            doc.update(message=message, acted=True)
            self.tell(plan.config, self.event("blackout_skipped", plan, message))
            if not self.json:
                from rich.text import Text

                for line in message.splitlines():
                    self.out.print(Text(f"! {line}", style="yellow"), soft_wrap=True)
        return held

    def late(self, plan: Plan, store: Store, doc: dict[str, Any]) -> dict[str, Any]:
        from crosspost.cli.publish import blackout_json, late_message, late_windows

        entries = store.entries(plan.loaded.id)
        if all(
            (e := entries.get(p.platform)) is not None and e.status == "published"
            for p in plan.posts
        ):
            doc["state"] = "published"
            return doc
        doc["state"] = "late_skipped"
        held = late_windows(plan, store)
        if held:
            doc["blackout"] = blackout_json(held, plan.config)
        meta = store.meta(plan.loaded.id)
        if meta.get("late_reported"):
            return doc
        message = late_message(plan, str(plan.loaded.source), held)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        store.set_meta(plan.loaded.id, late_reported=stamp, late_skipped=stamp)
        doc.update(message=message, acted=True)
        file = str(plan.loaded.source)
        self.tell(
            plan.config,
            self.event("late_skipped", plan, message, f"crosspost publish {file} --now"),
        )
        if not self.json:
            from rich.text import Text

            self.out.print(Text(f"! {message}", style="yellow"), soft_wrap=True)
        return doc

    @staticmethod
    def event(kind: Kind, plan: Plan, message: str, command: str | None = None) -> Event:
        """An alert event about a whole announcement (a late or blackout skip)."""
        from crosspost.alerts import Event

        file = str(plan.loaded.source)
        return Event(kind, plan.loaded.id, file, None, message, command=command)

    def heading(self, loaded: Loaded) -> None:
        from rich.text import Text

        self.out.print(Text(f"{loaded.id} ({loaded.source})", style="bold"), soft_wrap=True)


class _Busy(Exception):
    """Another ``crosspost run`` holds the run lock of this state directory."""

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory))
        self.directory = directory


def _append_log(path: Path, documents: list[dict[str, Any]]) -> None:
    """Append one JSON line per announcement acted on (``--log``)."""
    from crosspost.errors import ConfigError
    from crosspost.redaction import redact

    if not documents:
        return
    at = datetime.now(UTC).isoformat(timespec="seconds")
    lines = "".join(
        redact(jsonlib.dumps({"at": at} | doc, ensure_ascii=False)) + "\n" for doc in documents
    )
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(lines)
    except OSError as exc:
        raise ConfigError(f"--log {path}: cannot append: {exc.strerror}") from None
