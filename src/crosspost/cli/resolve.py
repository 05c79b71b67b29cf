"""``crosspost resolve``: record what a person found on the platform, settling an unknown."""

from __future__ import annotations

from typing import Annotated

import typer

from crosspost.cli._options import AnnouncementArg, ConfigOpt
from crosspost.cli._output import NAMES, human


def resolve(
    file: AnnouncementArg,
    platform: Annotated[
        str,
        typer.Option("--platform", "-p", help="The platform you checked.", show_default=False),
    ],
    published: Annotated[
        str | None,
        typer.Option(
            "--published",
            help="The post is there: its URL (crosspost never posts it again).",
            show_default=False,
        ),
    ] = None,
    not_published: Annotated[
        bool,
        typer.Option("--not-published", help="The post is not there: the next run publishes it."),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Record that you checked a platform: the post is there (URL), or it is not."""
    from crosspost.errors import ConfigError
    from crosspost.journal import fingerprint, stamp
    from crosspost.planning import plan_file
    from crosspost.publishing import store_for
    from crosspost.registry import canonical
    from crosspost.state import Entry

    if (published is None) == (not not_published):
        raise ConfigError(
            f"say what you found: crosspost resolve {file} --platform {platform} "
            "--published URL, or --not-published"
        )
    if published is not None and not published.startswith(("https://", "http://")):
        raise ConfigError(f"--published: '{published}' is not a URL; paste the post's address")
    name = canonical(platform)
    plan = plan_file(file, config_path=config, only=[name])
    post = plan.posts[0]
    store = store_for(plan)
    label = NAMES.get(name, name)
    try:
        with store.locked(plan.loaded.id):
            store.check_writable()
            previous = store.entries(plan.loaded.id).get(name)
            entry = Entry(
                platform=name,
                status="published" if published else "not_published",
                hash=fingerprint(post),
                at=stamp(),
                remote_id=published.rstrip("/").rsplit("/", 1)[-1] if published else None,
                url=published,
                message="recorded by hand (crosspost resolve)",
                handles=dict(previous.handles) if previous else {},
                sent_at=previous.sent_at if previous else None,
                reported=True,
            )
            store.put(plan.loaded.id, entry)
    finally:
        store.close()
    out = human(False)
    if published:
        out.print(
            f"{label}: recorded as published at {published}; crosspost will not post it again",
            soft_wrap=True,
        )
    else:
        out.print(
            f"{label}: recorded as not published; the next publish or run posts it",
            soft_wrap=True,
        )
