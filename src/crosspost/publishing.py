"""Publishing a plan: every platform at once, each in its own steps, each with its own result.

One platform's failure never stops the others. Every platform ends with a
``Result``: published (remote id and URL), failed (a stable code, a readable
reason, whether trying again later may help), or unknown (the final request may
have landed; check before publishing again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from crosspost.credentials import Credentials
from crosspost.errors import (
    AnnouncementError,
    CredentialsError,
    InputError,
    PlatformError,
    Problem,
    UnknownOutcomeError,
)
from crosspost.planning import Plan
from crosspost.redaction import redact

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

    from crosspost.api import Progress
    from crosspost.ledger import Ledger

Status = Literal["published", "failed", "unknown"]


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
    #: True when nothing was sent: the result is the ledger's, from an earlier run.
    earlier: bool = False

    def to_json(self) -> dict[str, Any]:
        """The result in ``--json`` output."""
        data: dict[str, Any] = {"platform": self.platform, "status": self.status}
        if self.status == "published":
            data.update(id=self.remote_id, url=self.url)
            if self.message:
                data["message"] = self.message
        else:
            data.update(error=self.code, message=self.message, retryable=self.retryable)
        return data


def exit_code(results: list[Result]) -> int:
    """0 all published; 3 some outcome unknown; 1 some failed (design.md)."""
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


async def publish_plan(
    plan: Plan,
    client: httpx.AsyncClient,
    *,
    progress: Progress | None = None,
    environ: Mapping[str, str] | None = None,
    poll_interval: float = 2.0,
) -> list[Result]:
    """Publish every post of ``plan`` concurrently; one result per platform, in plan order."""
    from crosspost.api import Progress, PublishContext

    shown = progress or Progress()

    async def one(platform: str) -> Result:
        adapter = plan.adapters[platform]
        post = next(p for p in plan.posts if p.platform == platform)
        ctx = PublishContext(
            client=client,
            platform=platform,
            settings=adapter.settings,
            credentials=Credentials(platform, environ),
            progress=shown,
            poll_interval=poll_interval,
        )
        try:
            published = await adapter.publish(post, ctx)
        except UnknownOutcomeError as exc:
            return Result(platform, "unknown", code=exc.code, message=redact(str(exc)))
        except PlatformError as exc:
            return Result(
                platform, "failed", code=exc.code, message=redact(str(exc)), retryable=exc.retryable
            )
        except CredentialsError as exc:
            return Result(platform, "failed", code="auth", message=redact(str(exc)))
        except InputError as exc:  # a setting the platform needs (an account id) is missing
            return Result(platform, "failed", code="config", message=redact(str(exc)))
        except Exception as exc:  # a bug of ours: say so, and never claim it did not post
            return Result(
                platform,
                "unknown",
                code="internal",
                message=redact(
                    f"{platform}: crosspost failed unexpectedly ({type(exc).__name__}: {exc}); "
                    "the post may or may not have gone out; run with --debug for details"
                ),
                exception=exc,
            )
        shown.step(platform, "published")
        return Result(platform, "published", remote_id=published.remote_id, url=published.url)

    return list(await asyncio.gather(*(one(name) for name in plan.adapters)))


def run(
    plan: Plan,
    *,
    out: Console | None = None,
    live: bool = False,
    force: bool = False,
    environ: Mapping[str, str] | None = None,
    ledger: Ledger | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    poll_interval: float = 2.0,
) -> list[Result]:
    """Publish ``plan`` under the announcement's ledger lock, skipping what is already done.

    Platforms the ledger shows as published are skipped (their earlier result is
    returned); platforms whose earlier outcome is unknown are refused until
    ``force``. Missing credentials stop the run before any request is made.
    """
    import dataclasses

    from crosspost.ledger import Ledger, fingerprint

    if plan.problems:
        lines = [f"{name}: {problem}" for name, found in plan.problems.items() for problem in found]
        raise AnnouncementError([Problem(str(plan.loaded.source), line) for line in lines])
    ledger = ledger or Ledger(plan.loaded.id)
    with ledger.locked():
        entries = ledger.entries()
        earlier: dict[str, Result] = {}
        for post in plan.posts:
            entry = entries.get(post.platform)
            if entry is None or force or entry.status == "failed":
                continue
            if entry.status == "published":
                changed = entry.hash != fingerprint(post)
                note = (
                    "; the post has changed since (publish with --force to post the new version)"
                    if changed
                    else ""
                )
                earlier[post.platform] = Result(
                    post.platform,
                    "published",
                    entry.remote_id,
                    entry.url,
                    message=f"already published at {entry.at}, not sent again{note}",
                    earlier=True,
                )
            else:  # "unknown", or "sending" left behind by a run that was killed
                earlier[post.platform] = Result(
                    post.platform,
                    "unknown",
                    code="unknown",
                    message=(
                        f"an earlier run ({entry.at}) may or may not have published this "
                        f"({entry.message or 'it was interrupted'}); check the account, and if "
                        "the post is not there, publish again with --force"
                    ),
                    earlier=True,
                )
        todo = [p for p in plan.posts if p.platform not in earlier]
        sub = dataclasses.replace(
            plan,
            posts=tuple(todo),
            adapters={p.platform: plan.adapters[p.platform] for p in todo},
        )
        check_ready(sub, environ)
        for post in todo:
            ledger.record(post.platform, "sending", post)
        fresh = asyncio.run(_publish_all(sub, out, live, environ, transport, poll_interval))
        for result, post in zip(fresh, todo, strict=True):
            ledger.record(
                post.platform,
                result.status,
                post,
                remote_id=result.remote_id,
                url=result.url,
                message=result.message,
            )
    by_platform = {r.platform: r for r in fresh} | earlier
    return [by_platform[p.platform] for p in plan.posts]


async def _publish_all(
    plan: Plan,
    out: Console | None,
    live: bool,
    environ: Mapping[str, str] | None,
    transport: httpx.AsyncBaseTransport | None,
    poll_interval: float,
) -> list[Result]:
    from crosspost.api import Progress, new_client

    if not plan.posts:
        return []
    async with new_client(transport=transport) as client:
        if out is None:
            return await publish_plan(
                plan, client, progress=Progress(), environ=environ, poll_interval=poll_interval
            )
        from crosspost.cli._progress import LineProgress, LiveProgress

        if live:
            with LiveProgress(out) as shown:
                return await publish_plan(
                    plan, client, progress=shown, environ=environ, poll_interval=poll_interval
                )
        return await publish_plan(
            plan, client, progress=LineProgress(out), environ=environ, poll_interval=poll_interval
        )
