"""Publishing a plan: every platform at once, each journaled the moment its state changes.

One platform's failure never stops the others. Every platform ends with a
``Result``: published (remote id and URL), failed (a stable code, a readable
reason, whether trying again later may help), or unknown (the final request may
have landed and nobody can tell yet).

What makes it safe to run unattended (docs/state.md):

* Each platform's state is written to the state store *as it changes*:
  ``sending`` (with the handles that find the post) immediately before the
  irreversible step, ``published`` the moment the platform answers. A platform
  never contacted is never touched. Whatever instant the process dies at, the
  store says what may have happened.
* A later run first *reconciles* every ``sending`` or ``unknown`` entry through
  the adapter's lookups: found means published; shown absent means publish;
  otherwise it stays unknown (reported once, not at every cron run).
* SIGINT, SIGTERM and SIGHUP stop new work: platforms that have not reached
  their irreversible step are stopped at once (nothing of theirs is public);
  those that have get a short grace to record their outcome. A second signal
  stops everything; their ``sending`` entries are reconciled by the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from crosspost.adapter import Part, Post, Resume, Sent
from crosspost.credentials import Credentials
from crosspost.errors import (
    AnnouncementError,
    AuthError,
    CredentialsError,
    InputError,
    PlatformError,
    Problem,
    UnknownOutcomeError,
)
from crosspost.journal import (
    StoreJournal,
    claim,
    fingerprint,
    now_utc,
    parse_stamp,
    stamp,
)
from crosspost.planning import Plan
from crosspost.redaction import redact
from crosspost.schedule import next_try
from crosspost.state import Entry, StateError, Store

if TYPE_CHECKING:
    import httpx

    from crosspost.adapter import Adapter
    from crosspost.api import Progress, PublishContext

Status = Literal["published", "failed", "unknown"]
#: ``publish``: a person asked, so failed platforms are tried now. ``run``: cron,
#: so a failed platform waits for its backoff and stops after ``max_attempts``.
Mode = Literal["publish", "run"]

#: After a stop signal, how long platforms already past their irreversible step
#: may take to record their outcome before they are stopped too.
GRACE_SECONDS = 20.0
#: Tokens expiring within this many seconds are renewed before a platform's run:
#: longer than any run (uploads included) takes.
RENEW_HORIZON = 3600.0
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True, slots=True)
class Result:
    """How one platform's publish ended."""

    platform: str
    status: Status
    remote_id: str | None = None
    url: str | None = None
    code: str | None = None
    message: str | None = None
    retryable: bool = False
    exception: BaseException | None = None
    #: True when nothing was sent: the result is the state store's, from an earlier run.
    earlier: bool = False
    #: True when a person was already told (cron stays quiet about it).
    quiet: bool = False
    #: Where a published post is when it is not public (TikTok's inbox, a private
    #: video); None when it is public.
    visibility: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The result in ``--json`` output."""
        data: dict[str, Any] = {"platform": self.platform, "status": self.status}
        if self.status == "published":
            data.update(id=self.remote_id, url=self.url, visibility=self.visibility or "public")
            if self.message:
                data["message"] = self.message
        else:
            data.update(error=self.code, message=self.message, retryable=self.retryable)
        if self.earlier:
            data["earlier"] = True
        return data


def exit_code(results: list[Result]) -> int:
    """0 all published; 3 some outcome unknown; 1 some failed (docs/state.md)."""
    if any(r.status == "unknown" for r in results):
        return 3
    if any(r.status == "failed" for r in results):
        return 1
    return 0


def check_ready(plan: Plan, environ: Mapping[str, str] | None = None) -> None:
    """Raise one error naming every missing secret and account setting, before any request."""
    missing = []
    for name, adapter in plan.adapters.items():
        for key in adapter.required_settings:
            if getattr(adapter.settings, key, None) in (None, ""):
                missing.append(f"{name}: set {key} in [platforms.{name}] of the config")
        creds = Credentials(name, environ)
        lacking = creds.missing(adapter.credentials)
        if lacking:
            missing.append(creds.missing_message(lacking))
    if missing:
        raise CredentialsError("\n".join(missing))


@dataclass(frozen=True, slots=True)
class Policy:
    """How a run treats earlier state: the command's choices and the config's schedule."""

    mode: Mode = "publish"
    #: Platforms a person checked and asked to publish again (``--force --platform``).
    force: Collection[str] = ()
    #: With ``force``: post again even where the state says it is published.
    again: bool = False
    max_attempts: int = 5
    retry_backoff: timedelta = timedelta(minutes=15)
    settle: float = 600.0
    poll_interval: float = 2.0


def policy_for(plan: Plan, **choices: Any) -> Policy:
    """The policy from the plan's config ``[schedule]`` and the command's choices."""
    from crosspost.duration import parse_duration

    schedule = plan.config.config.schedule
    return Policy(
        max_attempts=schedule.max_attempts,
        retry_backoff=parse_duration(schedule.retry_backoff),
        settle=parse_duration(schedule.settle).total_seconds(),
        **choices,
    )


def store_for(plan: Plan) -> Store:
    """The state store the plan's config names (docs/state.md)."""
    from crosspost.state import open_store, state_dir

    config = plan.config
    return open_store(state_dir(config.config.state_dir, config.source))


# -- one run ----------------------------------------------------------------------------


def run(
    plan: Plan,
    *,
    store: Store | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
    environ: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Result]:
    """Publish ``plan`` under the announcement's lock, once per platform, journaled.

    Platforms the state shows as published are skipped (their earlier result is
    returned); ``sending`` and ``unknown`` ones are reconciled through the
    platform before anything is sent; missing credentials stop the run before
    any request is made. ``progress`` is told each step (the CLI shows them;
    the default says nothing): this module knows nothing of how they are shown.
    """
    if plan.problems:
        raise AnnouncementError([Problem("", line) for line in plan.problem_lines()])
    policy = policy or policy_for(plan)
    own = store is None
    store = store or store_for(plan)
    try:
        with store.locked(plan.loaded.id):
            return _run_locked(plan, store, policy, progress, environ, transport)
    finally:
        if own:
            store.close()


@dataclass(frozen=True, slots=True)
class _Todo:
    post: Post
    previous: Entry | None
    reconcile: bool


def _run_locked(
    plan: Plan,
    store: Store,
    policy: Policy,
    progress: Progress | None,
    environ: Mapping[str, str] | None,
    transport: httpx.AsyncBaseTransport | None,
) -> list[Result]:
    announcement = plan.loaded.id
    claim(store, announcement, plan.loaded.source)
    entries = store.entries(announcement)
    earlier: dict[str, Result] = {}
    todo: list[_Todo] = []
    now = now_utc()
    file = str(plan.loaded.source)
    for post in plan.posts:
        decided = _decide(post, entries.get(post.platform), policy, now, file)
        if isinstance(decided, Result):
            earlier[post.platform] = decided
        else:
            todo.append(decided)
    fresh: list[Result] = []
    if todo:
        sub = dataclasses.replace(
            plan,
            posts=tuple(t.post for t in todo),
            adapters={t.post.platform: plan.adapters[t.post.platform] for t in todo},
        )
        check_ready(sub, environ)
        store.check_writable()
        journal = StoreJournal(store, announcement, {t.post.platform: t.post for t in todo}, file)
        # The URLs of posts already out: a post whose read-more link is another
        # platform's post (continue_on) uses them, whether or not that platform runs now.
        urls = {n: e.url for n, e in entries.items() if e.status == "published" and e.url}
        fresh = asyncio.run(
            _publish_all(sub, todo, journal, policy, progress, environ, transport, urls)
        )
    by_platform = {r.platform: r for r in fresh} | earlier
    return [by_platform[p.platform] for p in plan.posts]


def _decide(
    post: Post, entry: Entry | None, policy: Policy, now: datetime, file: str
) -> _Todo | Result:
    """What to do for one platform given its state: publish, reconcile first, or nothing."""
    name = post.platform
    if name in policy.force:
        if entry is not None and entry.status == "published" and not policy.again:
            return _published(entry, post, file, forced=True)
        return _Todo(post, entry, reconcile=False)
    if entry is None or entry.status == "not_published":
        return _Todo(post, entry, reconcile=False)
    if entry.status == "published":
        return _published(entry, post, file)
    if entry.status in ("sending", "unknown"):
        return _Todo(post, entry, reconcile=True)
    # failed: a person retries now; cron waits for the backoff and gives up at last
    if policy.mode == "run":
        if entry.attempts >= policy.max_attempts:
            return Result(
                name,
                "failed",
                code=entry.code,
                message=(
                    f"gave up after {entry.attempts} failed attempts (last: {entry.message}); "
                    f"fix the cause, then publish it by hand: crosspost publish {file} "
                    f"--platform {name}"
                ),
                earlier=True,
                quiet=entry.reported,
            )
        due = parse_stamp(entry.next_try)
        if due is not None and due > now:
            return Result(
                name,
                "failed",
                code=entry.code,
                message=f"{entry.message} (next try at {stamp(due)})",
                retryable=True,
                earlier=True,
                quiet=True,
            )
    return _Todo(post, entry, reconcile=False)


def _published(entry: Entry, post: Post, file: str, *, forced: bool = False) -> Result:
    changed = entry.hash != fingerprint(post)
    note = f"already published at {entry.at}, not sent again"
    if changed:
        note += (
            "; the post has changed since (to post the new version as well: crosspost publish "
            f"{file} --force --again --platform {post.platform})"
        )
    elif forced:
        note += f" (to post a second copy: add --again to --force --platform {post.platform})"
    where = entry.handles.get("visibility")
    visibility = where if isinstance(where, str) else None
    if visibility:
        note += f"; {visibility}"
    return Result(
        post.platform,
        "published",
        entry.remote_id,
        entry.url,
        message=note,
        earlier=True,
        visibility=visibility,
    )


async def _publish_all(
    plan: Plan,
    todo: list[_Todo],
    journal: StoreJournal,
    policy: Policy,
    progress: Progress | None,
    environ: Mapping[str, str] | None,
    transport: httpx.AsyncBaseTransport | None,
    urls: Mapping[str, str],
) -> list[Result]:
    from crosspost.api import Progress, new_client

    async with new_client(transport=transport) as client:
        shown = progress if progress is not None else Progress()
        return await _gather(plan, todo, journal, policy, client, shown, environ, urls)


async def _gather(
    plan: Plan,
    todo: list[_Todo],
    journal: StoreJournal,
    policy: Policy,
    client: httpx.AsyncClient,
    progress: Progress,
    environ: Mapping[str, str] | None,
    urls: Mapping[str, str],
) -> list[Result]:
    """Run every platform as a task; a stop signal stops what has not yet sent anything."""
    tasks: dict[str, asyncio.Task[Result]] = {}
    others = _Others(tasks, urls)
    for t in todo:
        tasks[t.post.platform] = asyncio.create_task(
            _one(plan, t, journal, policy, client, progress, environ, others)
        )
    stopping: list[int] = []

    def on_signal(signum: int) -> None:
        stopping.append(signum)
        for name, task in tasks.items():
            if len(stopping) > 1 or name not in journal.sent:
                task.cancel()
        if len(stopping) == 1:
            progress.step(
                "crosspost", f"stopping ({signal.Signals(signum).name}): nothing new is sent"
            )
            asyncio.get_running_loop().call_later(GRACE_SECONDS, _cancel_all, tasks)

    with _signals(on_signal):
        done = await asyncio.gather(*tasks.values(), return_exceptions=True)
    results = []
    for (name, _task), outcome in zip(tasks.items(), done, strict=True):
        if isinstance(outcome, Result):
            results.append(outcome)
        else:  # cancelled by a stop signal
            results.append(_interrupted(name, journal, stopping))
    return results


def _cancel_all(tasks: Mapping[str, asyncio.Task[Result]]) -> None:
    for task in tasks.values():
        task.cancel()


@contextmanager
def _signals(handler: Any) -> Iterator[None]:
    """Route SIGINT/SIGTERM/SIGHUP to ``handler`` for the block (main thread only)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in _SIGNALS:
        try:
            loop.add_signal_handler(sig, handler, int(sig))
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread
            continue
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _interrupted(name: str, journal: StoreJournal, stopping: list[int]) -> Result:
    why = signal.Signals(stopping[0]).name if stopping else "a stop request"
    if name in journal.sent:
        return Result(
            name,
            "unknown",
            code="interrupted",
            message=(
                f"stopped by {why} while the post was being sent; the next run asks the "
                "platform whether it landed before sending anything"
            ),
        )
    return Result(
        name,
        "failed",
        code="interrupted",
        message=f"stopped by {why} before anything was posted; the next run publishes it",
        retryable=True,
    )


async def _one(
    plan: Plan,
    todo: _Todo,
    journal: StoreJournal,
    policy: Policy,
    client: httpx.AsyncClient,
    progress: Progress,
    environ: Mapping[str, str] | None,
    others: _Others,
) -> Result:
    """One platform: reconcile an earlier unfinished attempt if any, then publish."""
    from crosspost.api import PublishContext

    name = todo.post.platform
    adapter = plan.adapters[name]
    note = None
    continued: str | None = None
    if todo.post.continue_on is not None:
        # Before anything else, even a reconcile: the post as sent holds the URL. An
        # earlier attempt's choice (recorded as ``continued``) is kept, so a rerun
        # looks for, and finishes, exactly what that attempt sent.
        earlier = todo.previous.handles.get("continued") if todo.previous else None
        chosen = earlier if todo.reconcile and isinstance(earlier, str) else None
        post, note, continued = await others.continued(todo.post, adapter, progress, chosen)
        todo = dataclasses.replace(todo, post=post)
    ctx = PublishContext(
        client=client,
        platform=name,
        settings=adapter.settings,
        credentials=Credentials(name, environ),
        progress=progress,
        poll_interval=policy.poll_interval,
        settle=policy.settle,
        journal=journal,
    )
    previous = todo.previous
    journal.start(name, previous, unsettled=todo.reconcile)
    try:
        # Tokens that would expire during the run are renewed first (and saved at once).
        await adapter.renew(ctx, RENEW_HORIZON)
    except (PlatformError, CredentialsError) as exc:
        # Only a refused token is "auth" (alerts then say: log in again); a busy
        # sign-in service (Google's 429) is a transient failure with its own code.
        auth = isinstance(exc, AuthError | CredentialsError)
        return _failed(name, journal, exc, policy, code="auth" if auth else None)
    if todo.reconcile and previous is not None:
        try:
            found = await _reconcile(adapter, todo.post, previous, ctx, journal)
        except StateError as exc:
            return _state_failed(name, journal, exc)
        except Exception as exc:  # a bug of ours while looking: the earlier entry stands
            return Result(
                name,
                "unknown",
                code="internal",
                message=redact(
                    f"{name}: crosspost failed unexpectedly while checking the earlier attempt "
                    f"({type(exc).__name__}: {exc}); nothing was sent; run with --debug for "
                    "details"
                ),
                exception=exc,
            )
        if isinstance(found, Resume):
            # The post is public; only a later step is left. The entry stays
            # ``sending`` with its handles, and publish does the rest.
            ctx.previous = dict(previous.handles)
            ctx.progress.step(name, found.step)
        elif found is not None:
            return found
        else:
            journal.start(name, previous)
    if continued is not None:
        journal.handles[name]["continued"] = continued  # written with ``sending``
    try:
        published = await adapter.publish(todo.post, ctx)
    except PlatformError as exc:
        return _failed(name, journal, exc, policy)
    except CredentialsError as exc:
        return _failed(name, journal, exc, policy, code="auth")
    except InputError as exc:  # a setting the platform needs (an account id) is missing
        return _failed(name, journal, exc, policy, code="config")
    except StateError as exc:
        return _state_failed(name, journal, exc)
    except Exception as exc:  # a bug of ours: say so, and never claim it did not post
        sent = name in journal.sent
        message = redact(
            f"{name}: crosspost failed unexpectedly ({type(exc).__name__}: {exc}); "
            + (
                "the post may or may not have gone out; the next run checks before sending"
                if sent
                else "nothing was posted"
            )
            + "; run with --debug for details"
        )
        if sent:
            _record(journal, name, "unknown", code="internal", message=message)
            return Result(name, "unknown", code="internal", message=message, exception=exc)
        return _failed(name, journal, exc, policy, code="internal", message=message)
    progress.step(name, "published")
    visibility = published.visibility or (
        f"not public: {todo.post.visibility}" if todo.post.visibility else None
    )
    result = _record_published(name, journal, published.remote_id, published.url, visibility)
    if result.message:  # the state could not be written: that message comes first
        return result
    # A post only the account can see must never read as a public one.
    said = [text for text in (visibility, published.note, note) if text]
    return dataclasses.replace(result, message="; ".join(said) or None)


#: What the journal records when a ``continue_on`` post went out with its usual link.
FALLBACK = "fallback"


@dataclass
class _Others:
    """The other platforms of this run, for a post whose read-more link is one's post."""

    tasks: Mapping[str, asyncio.Task[Result]]
    urls: Mapping[str, str]

    async def continued(
        self, post: Post, adapter: Adapter, progress: Progress, chosen: str | None = None
    ) -> tuple[Post, str | None, str]:
        """``post`` with the other platform's URL filled in, or its fallback; why it is the
        fallback; and what was chosen (the URL, or "fallback") for the journal.

        ``chosen``: what an earlier attempt sent, to be sent (and looked for) again.
        """
        from crosspost import readmore

        other = post.continue_on
        assert other is not None
        url = self.urls.get(other) if chosen is None else chosen
        task = self.tasks.get(other)
        if chosen is None and url is None and task is not None:
            progress.step(post.platform, f"waiting for the {other} post: it is the read-more link")
            await asyncio.wait([task])
            if not task.cancelled() and task.exception() is None:
                done = task.result()
                url = done.url if done.status == "published" else None
        why = f"the {other} post did not go out"
        if url and url != FALLBACK:
            texts = [readmore.fill(part.text, other, url) for part in post.parts]
            parts = tuple(
                Part(text, adapter.measure(text), part.limit)
                for text, part in zip(texts, post.parts, strict=True)
            )
            if all(part.length <= part.limit for part in parts):
                extra = {
                    key: readmore.fill(value, other, url) if isinstance(value, str) else value
                    for key, value in post.extra.items()
                }
                filled = dataclasses.replace(
                    post, parts=parts, extra=extra, continue_on=None, fallback=()
                )
                return filled, None, url
            why = f"the {other} post's URL is too long for this post"
        note = f'{why}, so the read-more link is the usual one (continue_on = "{other}")'
        fallback = dataclasses.replace(post, parts=post.fallback, continue_on=None, fallback=())
        return fallback, note, FALLBACK


async def _reconcile(
    adapter: Adapter, post: Post, previous: Entry, ctx: PublishContext, journal: StoreJournal
) -> Result | Resume | None:
    """Ask the platform what became of an earlier attempt: a result, ``Resume`` to finish
    its later steps, or None to publish."""
    name = post.platform
    sent_at = parse_stamp(previous.sent_at or previous.at) or now_utc()
    # Until the platform answers, the earlier attempt's handles and time stand.
    journal.handles[name] = dict(previous.handles)
    journal.sent_at[name] = stamp(sent_at)
    ctx.progress.step(name, "checking whether the earlier attempt landed")
    try:
        found = await adapter.reconcile(post, Sent(sent_at, dict(previous.handles)), ctx)
    except UnknownOutcomeError as exc:
        message = redact(str(exc))
        # Told once already: cron stays quiet until something changes (found,
        # shown absent, or resolved by hand), whatever the lookup now says.
        quiet = previous.status == "unknown" and previous.reported
        _record(journal, name, "unknown", code=exc.code, message=message, reported=True)
        return Result(
            name,
            "unknown",
            code=exc.code,
            message=f"{message}. {resolve_hint(name, journal.file)}",
            earlier=True,
            quiet=quiet,
        )
    except PlatformError as exc:
        message = redact(f"{exc}; the earlier attempt's outcome is still unknown")
        quiet = previous.status == "unknown" and previous.reported
        _record(journal, name, "unknown", code=exc.code, message=message, reported=True)
        return Result(name, "unknown", code=exc.code, message=message, earlier=True, quiet=quiet)
    if found is None:
        ctx.progress.step(name, "the earlier attempt did not land: publishing")
        return None
    if isinstance(found, Resume):
        return found
    result = _record_published(name, journal, found.remote_id, found.url, found.visibility)
    return dataclasses.replace(
        result, message="the earlier run's post had landed; found it on the platform"
    )


def resolve_hint(platform: str, file: str) -> str:
    """The exact commands that settle an unknown outcome after a person has looked."""
    return (
        f"If you find the post, run: crosspost resolve {file} --platform {platform} "
        f"--published URL; if it is not there: crosspost resolve {file} --platform {platform} "
        "--not-published"
    )


def _record(journal: StoreJournal, name: str, status: str, **fields: Any) -> None:
    """Write an outcome; a store that fails here cannot lose the result: it is printed."""
    # The result still reaches the user, and the earlier ``sending`` stays.
    with contextlib.suppress(StateError):
        journal.put(name, status, **fields)


def _record_published(
    name: str,
    journal: StoreJournal,
    remote_id: str,
    url: str | None,
    visibility: str | None = None,
) -> Result:
    # Where the post is when it is not public ("in the TikTok inbox: …") is kept
    # with the entry's handles: ``queue`` and later runs show it.
    fields: dict[str, Any] = {}
    if visibility:
        fields["handles"] = {**journal.handles.get(name, {}), "visibility": visibility}
    try:
        journal.put(name, "published", remote_id=remote_id, url=url, attempts=0, **fields)
    except StateError as exc:
        return Result(
            name,
            "published",
            remote_id,
            url,
            message=(
                f"published, but crosspost could not record it ({exc}); do not publish this "
                f"again: once the state can be written, run: crosspost resolve {journal.file} "
                "--platform "
                f"{name} --published {url or remote_id}"
            ),
        )
    return Result(name, "published", remote_id=remote_id, url=url, visibility=visibility)


def _failed(
    name: str,
    journal: StoreJournal,
    exc: Exception,
    policy: Policy,
    *,
    code: str | None = None,
    message: str | None = None,
) -> Result:
    error_code = code or (exc.code if isinstance(exc, PlatformError) else "failed")
    text = message or redact(str(exc))
    if isinstance(exc, UnknownOutcomeError) or journal.public_parts(name):
        # Unknown, or part of the post is already public (a thread cut short):
        # publishing again would repeat it, so a person decides.
        _record(journal, name, "unknown", code=error_code, message=text, reported=True)
        hint = resolve_hint(name, journal.file)
        return Result(name, "unknown", code=error_code, message=f"{text}. {hint}", exception=exc)
    retryable = isinstance(exc, PlatformError) and exc.retryable
    if name in journal.unsettled:
        # The earlier attempt may have landed and nobody has looked yet: keep its
        # entry, so the next run looks before sending anything.
        return Result(name, "failed", code=error_code, message=text, retryable=retryable)
    previous = journal.previous.get(name)
    attempts = (previous.attempts if previous and previous.status == "failed" else 0) + 1
    _record(
        journal,
        name,
        "failed",
        code=error_code,
        message=text,
        attempts=attempts,
        next_try=stamp(next_try(attempts, policy.retry_backoff, now_utc())),
        reported=True,
    )
    return Result(name, "failed", code=error_code, message=text, retryable=retryable, exception=exc)


def _state_failed(name: str, journal: StoreJournal, exc: StateError) -> Result:
    sent = name in journal.sent
    if sent:
        return Result(
            name,
            "unknown",
            code="state",
            message=redact(
                f"{exc}; the post may have gone out. {resolve_hint(name, journal.file)}"
            ),
        )
    return Result(
        name, "failed", code="state", message=redact(f"{exc}; nothing was posted"), exception=exc
    )
