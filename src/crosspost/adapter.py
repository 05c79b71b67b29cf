"""The adapter API: what a platform declares, and the post it renders.

Built-in and third-party adapters subclass ``Adapter`` and import only this
module, ``crosspost.models``, ``crosspost.config``, ``crosspost.errors``,
``crosspost.media``, ``crosspost.units``, ``crosspost.fitting`` and (inside
``publish``) ``crosspost.api``.

An adapter is mostly data: its unit, limits, layout and drop order. ``render``
is pure (no I/O, no clock): the ``Post`` it returns is exactly what preview
shows and what ``publish`` sends. ``publish`` is the only method that touches
the network, through the client it is given.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from crosspost import fitting, hashtags, twittertext
from crosspost.config import Configuration, FindUs, PlatformSettings
from crosspost.fitting import Draft, Layout
from crosspost.media import MediaFile
from crosspost.models import Loaded, Overrides
from crosspost.units import Unit, counter

if TYPE_CHECKING:
    import httpx

    from crosspost.api import PublishContext
    from crosspost.credentials import Credentials


@dataclass(frozen=True, slots=True)
class Limits:
    """A platform's limits, in its own unit; each declaration cites its source.

    ``hashtags`` caps the hashtags in a post: the body's inline ones count, and
    the listed ones fill what is left, highest priority first. With
    ``count_inline`` the cap is the platform's rule (Instagram refuses more), so
    a body with more inline hashtags is a problem; without it the cap is advice
    (X's two). ``title`` is None when the platform has no title.
    """

    body: int
    title: int | None = None
    hashtags: int | None = None
    count_inline: bool = False


@dataclass(frozen=True, slots=True)
class Part:
    """One measured piece of text: its length and limit in the platform's unit."""

    text: str
    length: int
    limit: int

    def to_json(self) -> dict[str, Any]:
        """The preview JSON form."""
        return {"text": self.text, "length": self.length, "limit": self.limit}


@dataclass(frozen=True, slots=True)
class Post:
    """One platform's fitted post: what preview shows and publish sends, field for field.

    ``parts`` has more than one entry only for an X thread. ``extra`` holds
    platform fields beyond text and media (YouTube's ``tags``, TikTok's
    ``mode``); ``options`` the platform options from the announcement.
    ``problems`` non-empty means this post cannot be published as planned.
    """

    platform: str
    unit: Unit
    parts: tuple[Part, ...]
    title: Part | None = None
    media: tuple[MediaFile, ...] = ()
    trimmed: bool = False
    dropped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    #: None when the post will be public; otherwise who can see it, in words
    #: ("only the account (TikTok SELF_ONLY)"). Preview and results show it: a
    #: post only the account can see must never look like a public one.
    visibility: str | None = None
    #: The platform whose post of the same announcement is this post's read-more
    #: link: the text holds ``readmore.placeholder(continue_on)`` until the runner
    #: fills in that post's URL; ``fallback`` is the post to send instead when
    #: that post did not go out.
    continue_on: str | None = None
    fallback: tuple[Part, ...] = ()

    @property
    def text(self) -> str:
        """The text of the first (usually only) part."""
        return self.parts[0].text if self.parts else ""

    def to_json(self) -> dict[str, Any]:
        """The preview JSON form (docs/json.md, "preview")."""
        data: dict[str, Any] = {
            "platform": self.platform,
            "unit": self.unit.value,
            "title": self.title.to_json() if self.title else None,
            "parts": [part.to_json() for part in self.parts],
            "media": [_media_json(m) for m in self.media],
            "trimmed": self.trimmed,
            "dropped": list(self.dropped),
            "warnings": list(self.warnings),
            "problems": list(self.problems),
            "visibility": self.visibility or "public",
        }
        if self.continue_on:
            data["continue_on"] = self.continue_on
        data.update(self.extra)
        return data


def _media_json(media: MediaFile) -> dict[str, Any]:
    data: dict[str, Any] = {"path": media.name, "kind": media.kind}
    if media.url:
        data["url"] = media.url
    return data


@dataclass(frozen=True, slots=True)
class Published:
    """What a platform answered for a post that went out: its id and public URL."""

    remote_id: str
    url: str | None = None
    ids: tuple[str, ...] = ()  # every id, for a thread or multi-step post
    #: None when the post is public as planned; otherwise where it is, in words
    #: ("in the TikTok inbox: open TikTok to finish the post"). Results, JSON
    #: and ``queue`` show it, so a post that is not public never reads as one.
    visibility: str | None = None
    #: What a person should know about a post that went out (its first comment
    #: was refused): the result's message, in text, JSON and cron's report.
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    """What ``Adapter.reconcile`` returns when publishing may go on from where the
    earlier attempt stopped, safely: the post is there but a later step is not
    (Instagram's first comment), or sending again cannot post twice (Mastodon's
    Idempotency-Key, within its hour).

    The runner then calls ``publish`` again with ``ctx.previous`` set to the
    earlier attempt's handles; ``publish`` skips what they show is done and does
    only the rest. ``step`` is the progress line that says so, in full.
    """

    step: str


@dataclass(frozen=True, slots=True)
class Account:
    """Who a credential posts as, as the platform reports it."""

    name: str
    id: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of ``crosspost doctor``: ``ok``, ``warn`` (tonight's run still works) or
    ``fail`` (tonight's run would fail); the message says what to do."""

    level: Literal["ok", "warn", "fail"]
    message: str


@dataclass
class LoginSession:
    """What ``Adapter.login`` gets: the client, this platform's settings and secrets, and
    the ways to talk to the person logging in (tests drive them without a terminal)."""

    client: httpx.AsyncClient
    platform: str
    settings: PlatformSettings
    credentials: Credentials
    #: Open the authorization URL in a browser; False: print it (a server over SSH).
    open_browser: bool
    #: Print a line to the person.
    say: Callable[[str], None]
    #: Ask the person for a line (the redirected URL with --no-browser).
    ask: Callable[[str], str]
    #: Let the person pick one of several (a Facebook Page); the index picked.
    choose: Callable[[str, list[str]], int]
    #: Options of ``auth login`` (``{"oauth1": True}`` for X, ``{"login": "instagram"}``).
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Login:
    """What a finished login stores: secrets and facts in the credentials file, and
    account ids the config needs (``page_id``), which ``auth login`` writes there."""

    account: Account
    secrets: dict[str, str]
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sent:
    """What the journal recorded of an irreversible step whose answer never came back.

    ``at`` is when the step was sent (UTC); ``handles`` what the adapter
    recorded to find the post (the exact text, a container or publish id, an
    upload session); ``age`` how many seconds ago that was.
    """

    at: datetime
    handles: Mapping[str, Any]

    @property
    def age(self) -> float:
        """Seconds since the step was sent."""
        return (datetime.now(UTC) - self.at).total_seconds()


@dataclass(frozen=True, slots=True)
class Fields:
    """The shared announcement fields for one platform, overrides applied."""

    title: str | None
    body: str
    hashtags: tuple[str, ...]
    link: str | None
    media: tuple[MediaFile, ...]
    options: Overrides


@dataclass
class MediaChoice:
    """The media a platform will post, and what the choice left out or cannot do."""

    media: tuple[MediaFile, ...]
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Adapter(ABC):
    """One platform: its rules as data, a pure ``render``, and ``publish``.

    Subclasses set the class attributes and implement ``choose_media`` and
    ``publish``; most override nothing else.
    """

    #: The platform key in TOML tables, CLI options and JSON ("twitter").
    name: ClassVar[str]
    #: How people call it ("X / Twitter").
    display_name: ClassVar[str]
    #: Other names users may write for this platform (a plugin's; registry.canonical).
    aliases: ClassVar[tuple[str, ...]] = ()
    #: The unit the body limit is counted in; ``title_unit`` for the title.
    unit: ClassVar[Unit] = Unit.CHARS
    title_unit: ClassVar[Unit] = Unit.CHARS
    limits: ClassVar[Limits]
    layout: ClassVar[Layout] = Layout()
    drop_order: ClassVar[tuple[str, ...]] = fitting.DROP_STEPS
    #: The model of this platform's ``[platforms.<name>]`` table in config.toml.
    Settings: ClassVar[type[PlatformSettings]] = PlatformSettings
    #: The model of this platform's ``[platforms.<name>]`` table in the announcement.
    Options: ClassVar[type[Overrides]] = Overrides
    #: Environment variables (and credentials-file keys) this platform needs.
    credentials: ClassVar[tuple[str, ...]] = ()
    #: Settings (account ids) that must be set in config before publishing.
    required_settings: ClassVar[tuple[str, ...]] = ()
    #: Every key this platform may read from the credentials file beyond
    #: ``credentials`` (app secrets, refresh tokens): anything else there is a typo.
    secrets: ClassVar[tuple[str, ...]] = ()
    #: Where the platform's developer console issues the app credentials.
    console_url: ClassVar[str | None] = None

    def __init__(self, settings: PlatformSettings | None = None) -> None:
        self.settings = settings if settings is not None else self.Settings()

    # -- rules -------------------------------------------------------------

    @property
    def effective_limits(self) -> Limits:
        """The declared limits with the user's config overrides applied."""
        s = self.settings
        return dataclasses.replace(
            self.limits,
            body=s.max_length or self.limits.body,
            title=s.max_title or self.limits.title,
            hashtags=self.limits.hashtags if s.max_hashtags is None else s.max_hashtags,
        )

    @property
    def effective_layout(self) -> Layout:
        """The declared layout with the user's hashtag style applied."""
        style = self.settings.hashtag_style
        return dataclasses.replace(self.layout, hashtag_style=style) if style else self.layout

    def measure(self, text: str) -> int:
        """The length of ``text`` as this platform counts it."""
        return counter(self.unit)(text)

    def measure_title(self, text: str) -> int:
        """The length of a title as this platform counts it."""
        return counter(self.title_unit)(text)

    # -- render (pure) -----------------------------------------------------

    def fields(self, loaded: Loaded) -> Fields:
        """The announcement's fields for this platform, with its override table applied."""
        ann = loaded.announcement
        options = loaded.overrides.get(self.name) or self.Options()
        return Fields(
            title=options.title if options.title is not None else ann.title,
            body=options.body if options.body is not None else ann.body,
            hashtags=tuple(options.hashtags if options.hashtags is not None else ann.hashtags),
            link=options.link if options.link is not None else ann.link,
            media=loaded.platform_media.get(self.name, loaded.media),
            options=options,
        )

    @abstractmethod
    def choose_media(self, media: Sequence[MediaFile], fields: Fields) -> MediaChoice:
        """Which media this platform posts; a problem when it cannot post any of it."""

    def unsuitable(self, media: Sequence[MediaFile]) -> str | None:
        """Why this platform cannot take an announcement with these media, or None.

        An announcement without ``targets`` goes only to the platforms that can
        take it; the others are listed as skipped with this reason ("no video:
        YouTube posts videos"). With explicit ``targets`` the platform is kept
        and ``choose_media`` reports the problem.
        """
        return None

    def title_required(self, media: Sequence[MediaFile]) -> bool:
        """Whether a post with these media needs a title (YouTube; TikTok photo posts).

        When it does and the announcement has none, render reports a problem
        ("add title = …") instead of making one up from the body.
        """
        return False

    #: Whether a URL in a post's text is a link people can open (not on Instagram).
    links_clickable: ClassVar[bool] = True

    @property
    def allows_links(self) -> bool:
        """Whether a URL may appear in this platform's posts (X's ``links = false``
        leaves them out: X bills posts with a URL at a higher rate)."""
        return True

    def title_for(self, fields: Fields, media: Sequence[MediaFile]) -> str | None:
        """The title this platform shows, or None; by default the announcement's title."""
        return fields.title

    def limits_for(self, media: Sequence[MediaFile]) -> Limits:
        """The limits for a post with these media (TikTok photo posts differ from videos)."""
        return self.effective_limits

    def clean(self, text: str, what: str, warnings: list[str]) -> str:
        """Replace what the platform refuses in ``text`` (YouTube: '<' and '>'), with a warning."""
        return text

    def finish(self, post: Post, fields: Fields) -> Post:
        """A last platform-specific touch on the rendered post (YouTube's tags, say)."""
        return post

    def render(self, loaded: Loaded, config: Configuration) -> Post:
        """The fitted post for this platform: pure, deterministic, no I/O.

        ``config`` is the organisation's configuration (profile hashtags, the Find
        Us block, read-more); this platform's own table is ``self.settings``.
        """
        from crosspost import readmore

        fields = self.fields(loaded)
        warnings: list[str] = []
        problems: list[str] = []
        dropped: list[str] = []

        choice = self.choose_media(fields.media, fields)
        warnings += choice.warnings
        problems += choice.problems
        limits = self.limits_for(choice.media)

        body = self.clean(fields.body.replace("\r\n", "\n").strip(), "text", warnings)
        # Priority: the profile's tags (the office's own), the announcement's, then inline.
        listed = hashtags.prioritised(config.config.profile.hashtags, fields.hashtags)
        if limits.hashtags is not None and limits.count_inline:
            inline = len({tag.casefold() for tag in hashtags.inline(body)})
            if inline > limits.hashtags:
                problems.append(
                    f"the text has {inline} hashtags; {self.display_name} allows {limits.hashtags}"
                )

        title = None
        if limits.title is not None:
            title = self._fit_title(fields, choice.media, limits.title, warnings, problems)
        if self.title_required(choice.media) and (title is None or not title.text):
            problems.append(
                f'{self.display_name} needs a title: add title = "…" to the announcement '
                f"(or to its [platforms.{self.name}] table)"
            )

        find_us = config.config.find_us if self.settings.find_us else None
        link = fields.link
        if not self.allows_links:
            link, find_us = self._without_links(body, link, find_us, warnings, problems)
        read_more, instead = readmore.choose(
            link=link,
            body=body,
            language=loaded.announcement.language,
            config=config,
            settings=self.settings,
            find_us=find_us,
        )
        if not self.allows_links:
            read_more = instead = None
        moves = self.first_comment_moves()
        draft = Draft(
            body=body,
            link=None if "link" in moves else link,
            hashtags=() if "hashtags" in moves else tuple(listed),
            find_us=find_us,
            platform=self.name,
            read_more=None if "link" in moves else read_more,
            max_hashtags=limits.hashtags,
        )
        # Only a read-more line that holds the other post's place waits for that post.
        waits_for = self.settings.continue_on
        if waits_for is not None and (
            draft.read_more is None or draft.read_more.url != readmore.placeholder(waits_for)
        ):
            waits_for = None
        measure = readmore.measuring(self.measure, waits_for)
        parts, trimmed = self._fit_body(
            draft, fields, limits.body, dropped, warnings, problems, measure
        )
        fallback: tuple[Part, ...] = ()
        if waits_for is not None:
            if not any(readmore.placeholder(waits_for) in part.text for part in parts):
                waits_for = None  # untrimmed: nothing waits for the other post
            else:
                warnings.append(
                    f"the read-more link is {waits_for}'s post of this announcement, "
                    f'published first in the same run (continue_on = "{waits_for}")'
                )
                fallback, _ = self._fit_body(
                    dataclasses.replace(draft, read_more=instead),
                    fields,
                    limits.body,
                    [],
                    [],
                    [],
                    self.measure,
                )
        extra: dict[str, Any] = {}
        if moves:
            comment = _first_comment(moves, draft, listed, link, read_more, parts, trimmed)
            if comment:
                extra["first_comment"] = comment
        if not self.links_clickable:
            self._unclickable(parts, find_us, moves, warnings)

        post = Post(
            platform=self.name,
            unit=self.unit,
            parts=parts,
            title=title,
            media=choice.media,
            trimmed=trimmed,
            dropped=tuple(dropped),
            warnings=tuple(warnings),
            problems=tuple(problems),
            extra=extra,
            options=fields.options.model_dump(exclude=set(Overrides.model_fields)),
            continue_on=waits_for,
            fallback=fallback,
        )
        return self.finish(post, fields)

    def _unclickable(
        self,
        parts: Sequence[Part],
        find_us: FindUs | None,
        moves: frozenset[str],
        warnings: list[str],
    ) -> None:
        """Warn that a caption's URL cannot be opened (the Find Us block's are for reading)."""
        text = "\n".join(_before_find_us(p.text, find_us) for p in parts)
        urls = [u.text for u in twittertext.extract_urls(text)]
        if not urls:
            return
        where = f"[platforms.{self.name}]"
        hint = (
            "readers have to copy it"
            if "link" in moves
            else f'set first_comment = "link" in {where} of the config to post the link or '
            "read-more line as the first comment instead"
        )
        warnings.append(
            f"{self.display_name} does not make links in captions clickable ({urls[0]}): {hint}"
        )

    def first_comment_moves(self) -> frozenset[str]:
        """What goes into a first comment instead of the caption: "hashtags", "link" (Instagram)."""
        return frozenset()

    def _without_links(
        self,
        body: str,
        link: str | None,
        find_us: FindUs | None,
        warnings: list[str],
        problems: list[str],
    ) -> tuple[str | None, FindUs | None]:
        """``links = false``: no URL in the post; the body's own is a problem to fix."""
        where = f"[platforms.{self.name}]"
        if link:
            warnings.append(f"left out the link: links = false in {where} of the config")
        urls = twittertext.extract_urls(body)
        if urls:
            problems.append(
                f"the text has a URL ({urls[0].text}) but links = false in {where} of the "
                f"config: remove it, or give {self.display_name} its own body in {where} of "
                "the announcement"
            )
        if find_us is not None:
            kept = [
                item
                for item in find_us.links
                if not twittertext.extract_urls(f"{item.text or ''} {item.url or ''}")
            ]
            find_us = find_us.model_copy(update={"links": kept})
        return None, find_us

    def _fit_title(
        self,
        fields: Fields,
        media: Sequence[MediaFile],
        limit: int,
        warnings: list[str],
        problems: list[str],
    ) -> Part | None:
        source = self.title_for(fields, media)
        if source is None or not source.strip():
            return None
        source = self.clean(source, "title", warnings)
        text, trimmed = fitting.fit_line(source, limit, self.measure_title)
        if not text:
            problems.append(f"the title cannot be shortened to {limit} {self.title_unit}")
        elif trimmed:
            warnings.append(f"shortened the title to fit {limit} {self.title_unit}")
        return Part(text, self.measure_title(text), limit)

    def _fit_body(
        self,
        draft: Draft,
        fields: Fields,
        limit: int,
        dropped: list[str],
        warnings: list[str],
        problems: list[str],
        measure: Callable[[str], int],
    ) -> tuple[tuple[Part, ...], bool]:
        if self.wants_thread(fields):
            most = self.settings.max_thread_parts
            texts = fitting.split(draft, self.effective_layout, limit, measure, max_parts=most)
            if not texts:
                problems.append(f"the text cannot be split into parts of {limit} {self.unit}")
                return (), False
            if len(texts) > most:
                problems.append(
                    f"the text needs a thread of more than {most} posts (max_thread_parts = "
                    f"{most} in [platforms.{self.name}]): shorten it, or set thread = false to "
                    "trim it with a link to the rest, or raise max_thread_parts"
                )
                return (), False
            if len(texts) > 1:
                warnings.append(f"split into a thread of {len(texts)} posts")
            if draft.find_us is not None and not any(draft.find_us.heading in t for t in texts):
                dropped.append("find_us")
                warnings.append(
                    f"left out the Find Us block: it fits no post of {limit} {self.unit}"
                )
            self._capped(draft, _left_out(draft.hashtags, "\n".join(texts)), dropped, warnings)
            return tuple(Part(t, measure(t), limit) for t in texts), False
        result = fitting.fit(draft, self.effective_layout, limit, measure, self.drop_order)
        dropped += result.dropped
        for note in result.notes:
            warnings.append(f"{note} to fit {limit} {self.unit}")
        if "hashtags" not in result.dropped:
            self._capped(draft, result.left_out, dropped, warnings)
        if not result.fits:
            problems.append(
                f"the post is {result.length} {self.unit} and cannot be shortened to {limit}"
            )
        return (Part(result.text, result.length, limit),), result.trimmed

    def _capped(
        self, draft: Draft, left_out: Sequence[str], dropped: list[str], warnings: list[str]
    ) -> None:
        """Report the listed hashtags the cap left out (the highest-priority ones stay)."""
        if not left_out or draft.max_hashtags is None:
            return
        dropped += [f"hashtag:#{tag}" for tag in left_out]
        warnings.append(
            f"left out {' '.join('#' + tag for tag in left_out)}: {self.display_name} takes "
            f"{draft.max_hashtags} hashtag{'' if draft.max_hashtags == 1 else 's'} per post "
            "(kept the highest-priority ones)"
        )

    def wants_thread(self, fields: Fields) -> bool:
        """Whether to split into a thread instead of trimming (X's ``thread = true``)."""
        return False

    # -- publish (network) -------------------------------------------------

    @abstractmethod
    async def publish(self, post: Post, ctx: PublishContext) -> Published:
        """Send ``post``; raise a ``PlatformError`` subclass when it does not go out."""

    # -- accounts (docs/credentials.md) ---------------------------------------

    def missing_credentials(self, credentials: Credentials) -> list[str]:
        """The secrets publishing needs that are set nowhere (X accepts either of two sets)."""
        return credentials.missing(self.credentials)

    async def login(self, session: LoginSession) -> Login:
        """Run this platform's authorization flow to the end; what to store.

        Called by ``crosspost auth login``. The default: the platform has no
        flow crosspost can run, and the secrets are set by hand.
        """
        from crosspost.errors import ConfigError

        raise ConfigError(
            f"{self.display_name}: crosspost cannot log in here; set the credentials by hand "
            "(see docs/platforms/)"
        )

    async def renew(self, ctx: PublishContext, horizon: float) -> None:
        """Renew every token that expires within ``horizon`` seconds, before publishing.

        A renewed (rotated) token is saved (``ctx.credentials.save``) before
        anything uses it. When renewal is impossible, raise ``AuthError`` naming
        the account, the reason and the ``crosspost auth login`` command. The
        default has nothing to renew.
        """
        return None

    async def identity(self, ctx: PublishContext) -> Account:
        """Who the credentials post as, from a read-only ``/me``-style call (``doctor``)."""
        from crosspost.errors import ConfigError

        raise ConfigError(f"{self.display_name}: crosspost cannot ask who the account is")

    async def diagnose(self, ctx: PublishContext, post: Post | None) -> list[Finding]:
        """``doctor``'s read-only checks beyond identity: ids, scopes, media URLs, visibility."""
        return []

    async def reconcile(
        self, post: Post, sent: Sent, ctx: PublishContext
    ) -> Published | Resume | None:
        """Find out whether an earlier run's irreversible step landed (docs/state.md).

        ``sent`` is what the journal holds: when the step was sent and the
        handles the adapter recorded (``ctx.sending`` / ``ctx.remember``).
        Return the post when the platform shows it; None when the platform shows
        it is not there (publishing again cannot post twice); raise
        ``UnknownOutcomeError`` when it cannot tell yet; ``Resume`` when the post
        is there but a later step of the same publish is not (the runner then
        calls ``publish`` with ``ctx.previous``). Only safe, read-only calls are
        allowed here. The default cannot tell.
        """
        from crosspost.errors import UnknownOutcomeError

        raise UnknownOutcomeError(
            self.name,
            f"{self.display_name} offers no way to look for the post; check the account",
        )


def _before_find_us(text: str, find_us: FindUs | None) -> str:
    """``text`` up to where its Find Us block starts (all of it when it has none)."""
    if find_us is None:
        return text
    starts = [text.rfind(mark) for mark in (find_us.rule, find_us.heading) if mark]
    found = [i for i in starts if i >= 0]
    return text[: min(found)] if found else text


def _left_out(listed: Sequence[str], text: str) -> tuple[str, ...]:
    """The listed hashtags that ``text`` does not show."""
    shown = {tag.casefold() for tag in hashtags.inline(text)}
    return tuple(tag for tag in listed if tag.casefold() not in shown)


def _first_comment(
    moves: frozenset[str],
    draft: Draft,
    listed: Sequence[str],
    link: str | None,
    read_more: fitting.ReadMore | None,
    parts: Sequence[Part],
    trimmed: bool,
) -> str:
    """The first comment's text: the link (or read-more line), then the hashtags."""
    lines = []
    caption = parts[0].text if parts else ""
    if "link" in moves:
        if link and link not in caption:
            lines.append(link)
        elif trimmed and read_more is not None and read_more.url not in caption:
            lines.append(read_more.line)
    if "hashtags" in moves:
        tags = fitting.appended_hashtags(
            dataclasses.replace(draft, hashtags=tuple(listed)), caption
        )
        if tags:
            lines.append(" ".join(f"#{tag}" for tag in tags))
    return "\n".join(lines)


def public_url(media: MediaFile, base_url: str | None) -> MediaFile | None:
    """``media`` with its public URL: its own ``url``, else ``base_url`` + its path; or None.

    Platforms that fetch media themselves (Instagram, TikTok photos) need a URL
    the user hosts; ``media_base_url`` in config names where the files live.
    The path is percent-encoded, and a path that leaves the announcement's
    folder (``../``) has no URL there (``crosspost.hosting``).
    """
    if media.url:
        return media
    if base_url and media.path is not None:
        from crosspost.hosting import hosted_url

        url = hosted_url(base_url, media.name)
        return dataclasses.replace(media, url=url) if url else None
    return None


def over_size(media: MediaFile, limit: int) -> bool:
    """Whether a local file is larger than ``limit`` bytes."""
    return media.size is not None and media.size > limit
