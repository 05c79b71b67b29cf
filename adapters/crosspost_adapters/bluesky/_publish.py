"""Publishing to Bluesky over XRPC: session, blobs, handles, then one createRecord.

The flow (docs/platforms/bluesky.md; lexicons at
https://github.com/bluesky-social/atproto/tree/main/lexicons):

1. ``POST /xrpc/com.atproto.server.createSession`` with the handle and the app
   password: a fresh session each run (``accessJwt``, ``refreshJwt``, ``did``,
   ``handle``). Nothing is stored; the app password is the lasting secret. When a
   call answers ``ExpiredToken``, ``com.atproto.server.refreshSession`` (with the
   refresh token) renews the session once and the call is sent again.
2. Each image: ``POST /xrpc/com.atproto.repo.uploadBlob`` with its bytes and MIME
   type. An unreferenced blob is deleted by the PDS after a while, so repeating it
   is harmless.
3. Each syntactically valid @handle: ``GET /xrpc/com.atproto.identity.resolveHandle``;
   one that does not resolve stays plain text.
4. ``POST /xrpc/com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` with a
   record key (a TID) chosen here. The key, the DID and the handle are journaled
   first (``ctx.remember``), then ``Api.create`` records ``sending``. After a lost
   answer, ``com.atproto.repo.getRecord`` for that key says whether the post is
   there: the same lookup a later run's ``reconcile`` makes (docs/reconcile.md).

The post's URL is ``https://bsky.app/profile/<handle>/post/<rkey>``.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from crosspost.plugin import (
    Account,
    AuthError,
    ConfigError,
    InvalidContentError,
    MediaFile,
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
from crosspost_adapters.bluesky import (
    MAX_LANGS,
    BlueskyAdapter,
    facets,
    mentions,
)

PLATFORM = "bluesky"
COLLECTION = "app.bsky.feed.post"
APP = "https://bsky.app"
#: Record keys of app.bsky.feed.post are TIDs: 13 characters of base32-sortable
#: (https://atproto.com/specs/tid).
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
#: Where a person makes an app password.
APP_PASSWORDS = "https://bsky.app/settings/app-passwords"
RELOGIN = (
    f"check handle in [platforms.{PLATFORM}] and CROSSPOST_BLUESKY_APP_PASSWORD (an app "
    f"password from {APP_PASSWORDS}, not the account's password)"
)


def tid(micros: int | None = None, clock: int | None = None) -> str:
    """A TID: 53 bits of microseconds since 1970 and 10 bits of clock id, as 13
    base32-sortable characters (the first bit is 0)."""
    micros = time.time_ns() // 1000 if micros is None else micros
    clock = secrets.randbelow(1024) if clock is None else clock
    value = (micros << 10) | clock
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def post_url(handle: str, rkey: str) -> str:
    """The post's page on bsky.app."""
    return f"{APP}/profile/{handle}/post/{rkey}"


# -- errors ------------------------------------------------------------------


class ExpiredSession(AuthError):
    """``ExpiredToken``: the access token ran out; a refreshed session may send again."""


class RecordNotFound(InvalidContentError):
    """``getRecord``: no record at that key."""


class HandleNotFound(InvalidContentError):
    """``resolveHandle``: the handle names no account."""


#: XRPC errors by their ``error`` name (``{"error": ..., "message": ...}``): the class
#: and what to do. Names from the lexicons' ``errors`` and the PDS's answers.
ERRORS: dict[str, tuple[type[PlatformError], str]] = {
    "ExpiredToken": (ExpiredSession, "the session expired"),
    "InvalidToken": (AuthError, f"the session was refused: {RELOGIN}"),
    "AuthenticationRequired": (AuthError, RELOGIN),
    "AuthMissing": (AuthError, RELOGIN),
    "AccountTakedown": (AuthError, "the account is taken down: check it on bsky.app"),
    "AuthFactorTokenRequired": (
        AuthError,
        f"the account asks for a sign-in code: log in with an app password ({APP_PASSWORDS})",
    ),
    "RecordNotFound": (RecordNotFound, "the record is not there"),
    "HandleNotFound": (HandleNotFound, "the handle does not resolve"),
    "InvalidMimeType": (InvalidContentError, "Bluesky refused an image's type"),
    "InvalidSize": (InvalidContentError, "Bluesky refused an image's size"),
    "BlobTooLarge": (InvalidContentError, "an image is too large for Bluesky"),
    "PayloadTooLarge": (InvalidContentError, "an upload is too large for Bluesky"),
}


def classify(response: httpx.Response) -> PlatformError:
    """An XRPC error answer as crosspost's error: by its ``error`` name, else its status."""
    data: Any = json_body(response)
    name = str(data.get("error") or "") if isinstance(data, dict) else ""
    said = str(data.get("message") or "") if isinstance(data, dict) else ""
    words = f"{name}: {said}" if name and said else name or said or excerpt(response)
    status = response.status_code
    if status == 429 or name == "RateLimitExceeded":
        return RateLimitedError(
            PLATFORM,
            f"Bluesky's rate limit is reached ({words}): publish again later",
            status=status,
            retry_after=_reset(response),
        )
    if name in ERRORS:
        kind, what = ERRORS[name]
        return kind(PLATFORM, f"Bluesky: {what} ({words})", status=status)
    if status == 401:
        return AuthError(PLATFORM, f"Bluesky refused the login ({words}): {RELOGIN}", status=status)
    if status == 403:
        return AuthError(PLATFORM, f"Bluesky refused the request ({words})", status=status)
    if status >= 500:
        return TransientError(
            PLATFORM, f"Bluesky had a temporary problem ({words}); try again later", status=status
        )
    if status in (400, 413):
        return InvalidContentError(PLATFORM, f"Bluesky refused the post ({words})", status=status)
    return PlatformError(PLATFORM, f"Bluesky answered HTTP {status} ({words})", status=status)


def _reset(response: httpx.Response) -> float | None:
    """Seconds until the rate limit resets: ``Retry-After``, else ``ratelimit-reset`` (the
    PDS's epoch seconds; https://docs.bsky.app/docs/advanced-guides/rate-limits)."""
    wait = retry_after(response)
    if wait is not None:
        return wait
    reset = response.headers.get("ratelimit-reset", "").strip()
    return max(float(reset) - time.time(), 0.0) if reset.isdigit() else None


# -- the flow ----------------------------------------------------------------


class Publisher:
    """One publish (or reconcile, or identity check) against the account's PDS."""

    def __init__(self, ctx: PublishContext, adapter: BlueskyAdapter) -> None:
        self.ctx = ctx
        self.adapter = adapter
        self.settings = adapter.bluesky
        self.api = ctx.api(classify)
        self.did = ""
        self.handle = ""
        self._access = ""
        self._refresh = ""

    def xrpc(self, nsid: str) -> str:
        """The method's URL on the PDS (``api_base`` rebases it in ``Api``)."""
        return f"{self.settings.service}/xrpc/{nsid}"

    def step(self, message: str) -> None:
        self.ctx.progress.step(self.ctx.platform, message)

    # -- session -----------------------------------------------------------

    async def login(self) -> None:
        """``createSession`` with the handle and the app password."""
        handle = self.settings.handle
        if not handle:
            raise ConfigError(
                f'{PLATFORM}: set handle = "yourname.bsky.social" in [platforms.{PLATFORM}] '
                "of the config"
            )
        password = self.ctx.credentials.require("app_password")
        self.step("logging in")
        response = await self.api.call(
            "POST",
            self.xrpc("com.atproto.server.createSession"),
            json={"identifier": handle, "password": password},
        )
        self._session(response)

    async def refresh(self) -> None:
        """``refreshSession`` with the refresh token: a new access token."""
        self.step("renewing the session")
        response = await self.api.call(
            "POST", self.xrpc("com.atproto.server.refreshSession"), headers=self._auth(refresh=True)
        )
        self._session(response)

    def _session(self, response: httpx.Response) -> None:
        from crosspost import redaction

        data = json_body(response)
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("accessJwt", "refreshJwt", "did", "handle")
        ):
            raise TransientError(PLATFORM, "Bluesky answered the login without a session")
        self._access = redaction.register(data["accessJwt"])
        self._refresh = redaction.register(data["refreshJwt"])
        self.did, self.handle = data["did"], data["handle"]

    def _auth(self, *, refresh: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._refresh if refresh else self._access}"}

    async def _authed(
        self,
        method: str,
        nsid: str,
        *,
        create: bool = False,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """A call with the session; an expired session is refreshed once and sent again
        (``ExpiredToken`` is a refusal: the call did nothing)."""
        for attempt in (1, 2):
            send = self.api.create if create else self.api.call
            try:
                merged = {**(headers or {}), **self._auth()}
                return await send(method, self.xrpc(nsid), headers=merged, **kw)
            except ExpiredSession:
                if attempt == 2:
                    raise
                await self.refresh()
        raise AssertionError("unreachable")  # pragma: no cover

    # -- steps -------------------------------------------------------------

    async def upload(self, media: MediaFile, number: int, total: int) -> dict[str, Any]:
        """``uploadBlob``: the image's bytes; the blob reference the record points at."""
        assert media.path is not None
        data = media.path.read_bytes()
        self.step(f"uploading image {number} of {total}")
        self.ctx.progress.upload_started(self.ctx.platform, media.name, len(data))
        response = await self._authed(
            "POST",
            "com.atproto.repo.uploadBlob",
            content=lambda: data,
            headers={"Content-Type": media.mime},
        )
        self.ctx.progress.upload_advanced(self.ctx.platform, media.name, len(data))
        body = json_body(response)
        blob = body.get("blob") if isinstance(body, dict) else None
        if not isinstance(blob, dict):
            raise TransientError(
                PLATFORM, f"{media.name}: Bluesky answered the upload without a blob"
            )
        return blob

    async def resolve(self, text: str) -> dict[str, str]:
        """The DIDs of the text's @handles; a handle that does not resolve is left out."""
        dids: dict[str, str] = {}
        for handle in dict.fromkeys(span.value for span in mentions(text)):
            self.step(f"looking up @{handle}")
            try:
                response = await self._authed(
                    "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
                )
            except InvalidContentError:
                continue  # HandleNotFound, or refused as no handle: it stays plain text
            body = json_body(response)
            did = body.get("did") if isinstance(body, dict) else None
            if isinstance(did, str) and did.startswith("did:"):
                dids[handle] = did
        return dids

    def record(
        self, post: Post, blobs: list[dict[str, Any]], dids: dict[str, str]
    ) -> dict[str, Any]:
        """The ``app.bsky.feed.post`` record of ``post``."""
        text = post.text
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": text,
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        made = facets(text, self.adapter.graphemes, dids)
        if made:
            record["facets"] = made
        langs = post.extra.get("langs")
        if isinstance(langs, list) and langs:
            record["langs"] = langs[:MAX_LANGS]
        if blobs:
            images = []
            for media, blob in zip(post.media, blobs, strict=True):
                image: dict[str, Any] = {"image": blob, "alt": (media.alt or "").strip()}
                if media.width and media.height:
                    image["aspectRatio"] = {"width": media.width, "height": media.height}
                images.append(image)
            record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        elif isinstance(post.extra.get("card"), dict):
            card = post.extra["card"]
            record["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": card["uri"],
                    "title": card["title"],
                    "description": card["description"],
                },
            }
        return record

    async def publish(self, post: Post) -> Published:
        """Log in, upload the images, resolve the handles, then create the record."""
        await self.login()
        blobs = [
            await self.upload(media, n, len(post.media)) for n, media in enumerate(post.media, 1)
        ]
        dids = await self.resolve(post.text)
        record = self.record(post, blobs, dids)
        rkey = tid()
        # Journaled before createRecord: after a lost answer (or a crash) getRecord for
        # this key is what tells whether the post went out.
        self.ctx.remember(did=self.did, handle=self.handle, rkey=rkey)
        self.step("publishing")
        try:
            response = await self._authed(
                "POST",
                "com.atproto.repo.createRecord",
                create=True,
                json={"repo": self.did, "collection": COLLECTION, "rkey": rkey, "record": record},
            )
        except UnknownOutcomeError as unknown:
            try:
                found = await self.lookup(self.did, self.handle, rkey)
            except PlatformError:
                raise unknown from None
            if found is None:
                raise
            self.step("published (confirmed with getRecord)")
            return found
        body = json_body(response)
        uri = body.get("uri") if isinstance(body, dict) else None
        cid = body.get("cid") if isinstance(body, dict) else None
        if not isinstance(uri, str):
            uri = f"at://{self.did}/{COLLECTION}/{rkey}"
        ids = (uri, cid) if isinstance(cid, str) else (uri,)
        return Published(uri, post_url(self.handle, rkey), ids)

    async def lookup(self, did: str, handle: str, rkey: str) -> Published | None:
        """``getRecord`` for the key: the post, or None when no record is there."""
        try:
            response = await self.api.call(
                "GET",
                self.xrpc("com.atproto.repo.getRecord"),
                params={"repo": did, "collection": COLLECTION, "rkey": rkey},
            )
        except RecordNotFound:
            return None
        body = json_body(response)
        uri = body.get("uri") if isinstance(body, dict) else None
        if not isinstance(uri, str):
            raise UnknownOutcomeError(PLATFORM, "Bluesky answered getRecord without the record")
        cid = body.get("cid") if isinstance(body, dict) else None
        ids = (uri, cid) if isinstance(cid, str) else (uri,)
        return Published(uri, post_url(handle or did, rkey), ids)

    async def reconcile(self, sent: Sent) -> Published | None:
        """Whether the journaled record is there (``getRecord`` needs no session).

        No ``rkey``: it is journaled before createRecord is sent, so nothing was sent.
        Not there yet, and sent less than ``settle`` ago: the request may still be on
        its way (unknown); later, it is not there and a new publish cannot post twice.
        """
        handles = sent.handles
        rkey, did = handles.get("rkey"), handles.get("did")
        if not isinstance(rkey, str) or not isinstance(did, str):
            return None
        found = await self.lookup(did, str(handles.get("handle") or ""), rkey)
        if found is not None or sent.age > self.ctx.settle:
            return found
        raise UnknownOutcomeError(
            PLATFORM,
            f"the post ({rkey}) is not on Bluesky yet; it may still be on its way: "
            "run again in a few minutes",
        )

    async def identity(self) -> Account:
        """Who the app password logs in as (a session, nothing posted)."""
        await self.login()
        return Account(self.handle, self.did, f"{APP}/profile/{self.handle}")
