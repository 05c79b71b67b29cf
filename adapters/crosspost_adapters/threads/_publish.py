"""Publishing to Threads: container(s) → status → threads_publish (docs/platforms/threads.md).

The flow (Threads Posts guide and publishing reference,
https://developers.facebook.com/docs/threads/posts):

1. ``POST /{v}/{threads_user_id}/threads`` creates a container, invisible until
   published, so safe to repeat: ``media_type=TEXT`` with ``text``; ``IMAGE`` with
   ``image_url``; ``VIDEO`` with ``video_url`` (``text`` and ``alt_text`` optional);
   or a carousel: each item with ``is_carousel_item=true``, then the parent with
   ``media_type=CAROUSEL``, ``children=id1,id2`` and ``text``.
2. ``GET /{v}/{container}?fields=status,error_message`` until ``FINISHED``
   (``ERROR`` and ``EXPIRED`` are final): Threads fetches each URL itself, and a
   video takes a while to process. Polls back off from the run's poll interval up
   to ``poll_max`` seconds (Meta suggests about once a minute).
3. ``POST /{v}/{threads_user_id}/threads_publish?creation_id=...``: the create. The
   container id is journaled first (``ctx.remember(container=...)``), then
   ``Api.create`` records ``sending``. After an ambiguous answer the container's
   ``status`` tells whether it landed (``PUBLISHED``), the same lookup a later
   run's ``reconcile`` makes (docs/reconcile.md).
4. ``GET /{v}/{media_id}?fields=permalink`` for the post's public URL.

Renewal: a long-lived token lasts 60 days and is refreshed with
``GET /refresh_access_token?grant_type=th_refresh_token`` once at least 24 hours
old and not expired (long-lived tokens guide,
https://developers.facebook.com/docs/threads/get-started/long-lived-tokens). The new
token is saved before anything uses it.

Errors come as the Graph error object
(``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``);
``RULES`` maps them to crosspost's errors, first match wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx

from crosspost.plugin import (
    Account,
    AuthError,
    ConfigError,
    InvalidContentError,
    MediaFile,
    Pace,
    PlatformError,
    Post,
    PublishContext,
    Published,
    RateLimitedError,
    Sent,
    TransientError,
    UnknownOutcomeError,
    excerpt,
    json_body,
    retry_after,
)
from crosspost_adapters.threads import ThreadsSettings

PLATFORM = "threads"
#: The Threads Graph API host (graph.threads.com answers too, says the overview).
GRAPH = "https://graph.threads.net"
LONG_LIVED = timedelta(days=60)
#: "can be refreshed as long as they are at least 24 hours old but have not expired".
MIN_REFRESH_AGE = timedelta(hours=24)
#: Container ``status`` values of a container that was not published: FINISHED and
#: IN_PROGRESS are waiting, ERROR and EXPIRED never will be. PUBLISHED alone means out.
NOT_PUBLISHED = frozenset({"FINISHED", "IN_PROGRESS", "ERROR", "EXPIRED"})
#: How many of the account's newest posts a lookup reads to find one by its text.
RECENT = 10
RECONNECT = (
    "set CROSSPOST_THREADS_ACCESS_TOKEN (or access_token under [threads] in the credentials "
    "file) to a new long-lived Threads token"
)


# -- errors ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GraphError:
    """The fields of a Graph error object that decide what went wrong."""

    code: int | None
    subcode: int | None
    text: str
    transient: bool

    @property
    def codes(self) -> str:
        """``code 190, subcode 463``: for a support request."""
        if self.subcode is not None:
            return f"code {self.code}, subcode {self.subcode}"
        return f"code {self.code}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the classifier: when it applies, which error, and what it says."""

    applies: Callable[[GraphError, int], bool]
    kind: type[PlatformError]
    says: str


#: Graph's codes as the error-handling guide documents them, Threads' own first.
RULES: tuple[Rule, ...] = (
    Rule(
        lambda e, s: e.code in (102, 190) or (e.subcode is not None and 458 <= e.subcode <= 467),
        AuthError,
        "Threads refused the access token ({text}; {codes}): " + RECONNECT,
    ),
    Rule(
        lambda e, s: e.code == 10 or (e.code is not None and 200 <= e.code < 300),
        AuthError,
        "Threads says the token lacks a permission ({text}; {codes}): publishing needs "
        "threads_basic and threads_content_publish; " + RECONNECT,
    ),
    Rule(
        lambda e, s: e.code in (4, 9, 17, 32, 613) or s == 429,
        RateLimitedError,
        "Threads is limiting how often we may call it or post ({text}; {codes}; at most 250 "
        "posts a day through the API): wait a while and publish again",
    ),
    Rule(
        lambda e, s: e.code in (1, 2) or e.transient or s >= 500,
        TransientError,
        "Threads had a temporary problem ({text}; {codes}): try again",
    ),
    Rule(
        lambda e, s: e.code == 100 and e.subcode == 33,
        AuthError,
        "Threads cannot reach this account ({text}; {codes}): check threads_user_id in "
        "[platforms.threads] of the config, and that the token belongs to that account",
    ),
)


def parse_error(response: httpx.Response) -> GraphError | None:
    """The Graph error object of a response, or None when it has none."""
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    text = error.get("error_user_msg") or error.get("message") or error.get("error_user_title")
    return GraphError(
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        text=str(text or "no reason given"),
        transient=error.get("is_transient") is True,
    )


def classify(response: httpx.Response) -> PlatformError:
    """Threads' answer as crosspost's error (the first rule of ``RULES`` that applies)."""
    status = response.status_code
    error = parse_error(response)
    if error is None:
        return _by_status(response)
    for rule in RULES:
        if rule.applies(error, status):
            message = rule.says.format(text=error.text, codes=error.codes)
            if rule.kind is RateLimitedError:
                return RateLimitedError(
                    PLATFORM, message, status=status, retry_after=retry_after(response)
                )
            return rule.kind(PLATFORM, message, status=status)
    return InvalidContentError(
        PLATFORM, f"Threads refused the post: {error.text} ({error.codes})", status=status
    )


def _by_status(response: httpx.Response) -> PlatformError:
    """An answer without a Graph error object (a proxy, a load balancer)."""
    status = response.status_code
    text = excerpt(response) or f"HTTP {status}"
    if status in (401, 403):
        return AuthError(
            PLATFORM, f"Threads refused the access token ({text}): " + RECONNECT, status=status
        )
    if status == 429:
        return RateLimitedError(
            PLATFORM,
            f"Threads is limiting how often we may call it ({text}): publish again later",
            status=status,
            retry_after=retry_after(response),
        )
    if status >= 500 or status == 408:
        return TransientError(
            PLATFORM, f"Threads had a temporary problem (HTTP {status}: {text})", status=status
        )
    return InvalidContentError(
        PLATFORM, f"Threads refused the request (HTTP {status}: {text})", status=status
    )


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


# -- publishing ----------------------------------------------------------------------


class Publisher:
    """One run's talk with Threads: the settings, the token and the URLs every step needs."""

    def __init__(self, ctx: PublishContext) -> None:
        settings = ctx.settings
        assert isinstance(settings, ThreadsSettings)
        self.ctx = ctx
        self.settings = settings
        self.api = ctx.api(classify)

    # -- helpers ---------------------------------------------------------------

    @property
    def user(self) -> str:
        """The Threads user id, or a config error saying how to find it."""
        if not self.settings.threads_user_id:
            raise ConfigError(
                "[platforms.threads] threads_user_id is not set in the config: add the id of "
                "the Threads account to post to (GET https://graph.threads.net/v1.0/me with "
                "its token answers it)"
            )
        return self.settings.threads_user_id

    def headers(self) -> dict[str, str]:
        """The token in the Authorization header: never in a URL, never in the journal."""
        return {"Authorization": f"Bearer {self.ctx.credentials.require('access_token')}"}

    def url(self, *path: str) -> str:
        """``https://graph.threads.net/v1.0/<path...>``, each segment quoted."""
        segments = [quote(p, safe="") for p in path]
        return "/".join([GRAPH, self.settings.graph_version, *segments])

    def step(self, message: str) -> None:
        self.ctx.progress.step(self.ctx.platform, message)

    # -- publish -----------------------------------------------------------------

    async def publish(self, post: Post) -> Published:
        """A text post, one image or video, or a carousel; then threads_publish."""
        user = self.user
        text = {"text": post.text} if post.text else {}
        media = list(post.media)
        if not media:
            if not post.text.strip():
                raise InvalidContentError(PLATFORM, "Threads needs text or media to post")
            self.step("creating the text container")
            container = await self.container(user, {"media_type": "TEXT", **text})
        elif len(media) == 1:
            self.step(f"creating the {media[0].kind} container")
            container = await self.container(user, {**_media_params(media[0]), **text})
            self.step(f"waiting for Threads to fetch {media[0].name}")
            await self.wait(container, media[0].name)
        else:
            children = []
            for number, item in enumerate(media, 1):
                self.step(f"creating carousel item {number} of {len(media)}")
                params = {**_media_params(item), "is_carousel_item": "true"}
                children.append(await self.container(user, params))
            for item, child in zip(media, children, strict=True):
                self.step(f"waiting for Threads to fetch {item.name}")
                await self.wait(child, item.name)
            self.step("creating the carousel container")
            params = {"media_type": "CAROUSEL", "children": ",".join(children), **text}
            container = await self.container(user, params)
            await self.wait(container, "the carousel")
        return await self.release(user, container, post)

    async def container(self, user: str, params: dict[str, str]) -> str:
        """``POST /{user}/threads``: a container, invisible until published."""
        response = await self.api.call(
            "POST", self.url(user, "threads"), data=params, headers=self.headers()
        )
        return _id(response)

    async def wait(self, container: str, what: str) -> None:
        """Poll the container until FINISHED; ERROR and EXPIRED are final; time runs out."""
        pace = Pace(first=self.ctx.poll_interval, most=self.settings.poll_max)
        async for _ in pace.polls(self.ctx.poll_timeout):
            status, reason = await self.status(container)
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status == "ERROR":
                raise InvalidContentError(
                    PLATFORM, f"Threads could not process {what}: {reason or 'no reason given'}"
                )
            if status == "EXPIRED":
                raise InvalidContentError(
                    PLATFORM,
                    f"Threads' container for {what} expired before it was published; nothing "
                    "was published: publish again",
                )
        raise TransientError(
            PLATFORM,
            f"Threads was still processing {what} after {self.ctx.poll_timeout:g} "
            "seconds; nothing was published: publish again later",
        )

    async def status(self, container: str) -> tuple[str, str]:
        """The container's ``status`` and ``error_message``."""
        response = await self.api.call(
            "GET",
            self.url(container),
            params={"fields": "status,error_message"},
            headers=self.headers(),
        )
        body = json_body(response)
        if not isinstance(body, dict):
            return "", ""
        return str(body.get("status") or ""), str(body.get("error_message") or "")

    async def release(self, user: str, container: str, post: Post) -> Published:
        """``threads_publish`` (the create); an ambiguous answer is checked on the container."""
        # Journaled before threads_publish: after a lost answer (or a crash) the
        # container's status is what tells whether the post went out.
        self.ctx.remember(container=container)
        self.step("publishing")
        try:
            response = await self.api.create(
                "POST",
                self.url(user, "threads_publish"),
                params={"creation_id": container},
                headers=self.headers(),
            )
        except UnknownOutcomeError as unknown:
            # In the same run the request may still be on its way: only PUBLISHED proves
            # anything; otherwise the next run's reconcile asks again.
            try:
                found = await self.lookup(container, post)
            except UnknownOutcomeError:
                raise unknown from None
            if found is None:
                raise unknown from None
            self.step("published (confirmed from the container)")
            return found
        media_id = _id(response)
        self.ctx.remember(media_id=media_id)
        return Published(media_id, await self.permalink(media_id), (media_id, container))

    # -- finding a post ------------------------------------------------------------

    async def reconcile(self, post: Post, sent: Sent) -> Published | None:
        """After a run that stopped in threads_publish: ask the journaled container.

        No container handle means threads_publish was never sent (the id is
        journaled before it), so nothing can have been published.
        """
        container = _text(sent.handles.get("container"))
        if container is None:
            return None
        self.step("looking up the media container")
        return await self.lookup(container, post, _text(sent.handles.get("media_id")))

    async def lookup(
        self, container: str, post: Post, media_id: str | None = None
    ) -> Published | None:
        """Whether ``container`` was published: the post, or None when it certainly was not."""
        try:
            status, _ = await self.status(container)
        except PlatformError as exc:
            raise UnknownOutcomeError(
                PLATFORM,
                f"Threads: the status of media container {container} cannot be read "
                f"({exc.message}); the post may or may not be out: the next run asks again",
                status=exc.status,
            ) from None
        if status == "PUBLISHED":
            if media_id:
                url = await self.permalink(media_id)
            else:
                media_id, url = await self.find(post)
            found = media_id or container
            return Published(found, url, (found, container))
        if status in NOT_PUBLISHED:
            return None
        raise UnknownOutcomeError(
            PLATFORM,
            f"Threads: media container {container} has status {status or 'none'!r}, which says "
            "neither published nor not published; check the account",
        )

    async def find(self, post: Post) -> tuple[str | None, str | None]:
        """The newest of the account's posts whose text is this post's: id and permalink."""
        try:
            response = await self.api.call(
                "GET",
                self.url(self.user, "threads"),
                params={"fields": "id,text,permalink,timestamp", "limit": str(RECENT)},
                headers=self.headers(),
            )
        except PlatformError:
            return None, None  # it is published; only its address is unknown
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            if (item.get("text") or "") == post.text:
                link = item.get("permalink")
                return str(item["id"]), link if isinstance(link, str) else None
        return None, None

    async def permalink(self, media_id: str) -> str | None:
        """The post's public URL; None when it cannot be read (the post is out regardless)."""
        try:
            response = await self.api.call(
                "GET", self.url(media_id), params={"fields": "permalink"}, headers=self.headers()
            )
        except PlatformError:
            return None
        body = json_body(response)
        link = body.get("permalink") if isinstance(body, dict) else None
        return link if isinstance(link, str) and link else None

    # -- accounts --------------------------------------------------------------------

    async def identity(self) -> Account:
        """``GET /me?fields=id,username``: who the token posts as."""
        response = await self.api.call(
            "GET", self.url("me"), params={"fields": "id,username"}, headers=self.headers()
        )
        body = json_body(response)
        found = body.get("id") if isinstance(body, dict) else None
        if not found:
            raise TransientError(PLATFORM, "Threads answered without the account's id")
        username = str(body.get("username") or "") if isinstance(body, dict) else ""
        profile = f"https://www.threads.net/@{username}" if username else None
        return Account(username or str(found), str(found), profile)

    async def renew(self, horizon: float) -> None:
        """Refresh the token once it is ``renew_after_days`` old or expires within ``horizon``
        seconds; save it before anything uses it.

        Nothing to do for a token from the environment (it cannot be saved). An
        expired token cannot be refreshed: ``AuthError``. A refused refresh of a token
        that still lasts beyond the run is left for the next run.
        """
        creds = self.ctx.credentials
        if creds.from_environment("access_token"):
            return
        token = creds.get("access_token")
        if token is None:
            return
        now = datetime.now(UTC)
        expires = creds.expires_at("access_token")
        if expires is not None and expires <= now:
            raise AuthError(
                PLATFORM,
                f"the Threads access token expired on {expires:%Y-%m-%d}; Threads refreshes "
                "only tokens that have not expired: " + RECONNECT,
            )
        obtained = _when(creds.meta("obtained_at"))
        if obtained is None and expires is not None:
            obtained = expires - LONG_LIVED
        age = now - obtained if obtained is not None else None
        soon = expires is not None and expires <= now + timedelta(seconds=horizon)
        old = age is None or age >= timedelta(days=self.settings.renew_after_days)
        if not (soon or old) or (age is not None and age < MIN_REFRESH_AGE):
            return
        self.step("renewing the access token")
        try:
            # The token goes in the query here: the endpoint is documented that way.
            response = await self.api.call(
                "GET",
                f"{GRAPH}/refresh_access_token",
                params={"grant_type": "th_refresh_token", "access_token": token},
            )
            body = json_body(response)
            renewed = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(renewed, str) or not renewed:
                raise TransientError(PLATFORM, "Threads answered the refresh without a token")
        except PlatformError as exc:
            if not soon:
                return  # the token still lasts beyond this run; the next run tries again
            until = f" and expires on {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
            raise AuthError(
                PLATFORM,
                f"the Threads access token could not be renewed ({exc.message}){until}: "
                + RECONNECT,
            ) from None
        seconds = body.get("expires_in") if isinstance(body, dict) else None
        lasts = (
            timedelta(seconds=seconds)
            if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0
            else LONG_LIVED
        )
        # Saved before it is used: the publish reads it from the credentials.
        creds.save(access_token=renewed, expires_at=now + lasts, obtained_at=now)


def _media_params(media: MediaFile) -> dict[str, str]:
    """An image or video container's parameters: its public URL and alt text."""
    if not media.url:
        raise InvalidContentError(
            PLATFORM,
            f"{media.name}: Threads fetches media from a public URL and this one has none: "
            "set media_base_url in [platforms.threads] of the config",
        )
    params = (
        {"media_type": "IMAGE", "image_url": media.url}
        if media.is_image
        else {"media_type": "VIDEO", "video_url": media.url}
    )
    if media.alt:
        params["alt_text"] = media.alt
    return params


def _id(response: httpx.Response) -> str:
    body = json_body(response)
    value = body.get("id") if isinstance(body, dict) else None
    if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
        raise TransientError(
            PLATFORM, f"Threads answered without an id (HTTP {response.status_code})"
        )
    return str(value)


def _text(value: object) -> str | None:
    """A handle as a non-empty string (ids are stored as given), or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


__all__ = ["RULES", "Publisher", "classify"]
