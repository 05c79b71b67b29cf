"""A fake Bluesky PDS (XRPC), as strict as docs/platforms/bluesky.md lets it be.

Methods (``POST``/``GET /xrpc/<nsid>``); every error is XRPC's
``{"error": <name>, "message": <words>}``:

* ``com.atproto.server.createSession`` — ``identifier`` (the handle or DID) and
  ``password`` (the app password): ``accessJwt``, ``refreshJwt``, ``handle``, ``did``;
  anything else 401 ``AuthenticationRequired``.
* ``com.atproto.server.refreshSession`` — ``Authorization: Bearer <refreshJwt>``: a new
  pair (the old refresh token is spent).
* Every other write needs ``Authorization: Bearer <accessJwt>``: none is 401
  ``AuthMissing``, an unknown one 400 ``InvalidToken``, an expired one (``expire()``)
  400 ``ExpiredToken``.
* ``com.atproto.repo.uploadBlob`` — the body's bytes, typed by ``Content-Type``: a blob
  reference (``$link``, ``mimeType``, ``size``).
* ``com.atproto.identity.resolveHandle`` — ``handle``: a DID for ``known`` handles, else
  400 ``InvalidRequest`` "Unable to resolve handle".
* ``com.atproto.repo.createRecord`` — an ``app.bsky.feed.post`` in the session's repo,
  with a TID ``rkey``; the record is validated as the lexicons say: ``text`` at most 300
  graphemes and 3,000 bytes, ``createdAt``, ``langs`` (at most 3), ``facets``, an
  ``app.bsky.embed.images`` embed (at most 4 images, each an uploaded blob of the same
  type and size, at most ``max_blob`` bytes, with ``alt``) or an
  ``app.bsky.embed.external`` one (``uri``, ``title``, ``description``).
  STRICTER than the PDS (which does not check facets against the text, as far as its
  lexicons say): a facet whose byte range falls outside the text or inside a UTF-8
  character is refused, so a wrong offset fails a test instead of passing silently.
* ``com.atproto.repo.getRecord`` — ``repo``, ``collection``, ``rkey``, no auth needed:
  the record, or 400 ``RecordNotFound``.

An unknown method is 501 ``MethodNotImplemented``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from typing import Any

import httpx
import regex

from tests.fakes.base import FakePlatform, body_json

COLLECTION = "app.bsky.feed.post"
#: The lexicons' limits (app.bsky.feed.post, app.bsky.embed.images, app.bsky.richtext.facet).
MAX_GRAPHEMES = 300
MAX_BYTES = 3_000
MAX_LANGS = 3
MAX_IMAGES = 4
MAX_BLOB = 2_000_000
TAG_GRAPHEMES, TAG_BYTES = 64, 640
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
FEATURES = {
    "app.bsky.richtext.facet#link": "uri",
    "app.bsky.richtext.facet#mention": "did",
    "app.bsky.richtext.facet#tag": "tag",
}


def xrpc_error(status: int, error: str, message: str) -> httpx.Response:
    """An XRPC error answer."""
    return httpx.Response(status, json={"error": error, "message": message})


def graphemes(text: str) -> int:
    """Extended grapheme clusters."""
    return len(regex.findall(r"\X", text))


class Invalid(Exception):
    """A record the lexicon refuses; ``str()`` is the PDS's words."""


class FakeBluesky(FakePlatform):
    """One account on a PDS; see the module docstring for its rules."""

    name = "bluesky"

    def __init__(
        self,
        handle: str = "kpumura.bsky.social",
        app_password: str = "abcd-efgh-ijkl-mnop",
        *,
        did: str = "did:plc:kpumusirawas0000000000",
        known: dict[str, str] | None = None,
        max_blob: int = MAX_BLOB,
    ) -> None:
        super().__init__()
        self.handle = handle
        self.app_password = app_password
        self.did = did
        #: Handles resolveHandle knows, besides the account's own.
        self.known = {handle: did, **(known or {})}
        self.max_blob = max_blob
        self.access: dict[str, bool] = {}  # token → still valid
        self.refresh: set[str] = set()
        self.blobs: dict[str, tuple[str, bytes]] = {}  # cid → (mime, bytes)
        #: Records by rkey: ``uri``, ``cid``, ``value`` (the record as sent).
        self.records: dict[str, dict[str, Any]] = {}
        #: Every session created (createSession and refreshSession).
        self.sessions = 0
        for method, nsid, handler in (
            ("POST", "com.atproto.server.createSession", self._create_session),
            ("POST", "com.atproto.server.refreshSession", self._refresh_session),
            ("POST", "com.atproto.repo.uploadBlob", self._upload_blob),
            ("GET", "com.atproto.identity.resolveHandle", self._resolve_handle),
            ("POST", "com.atproto.repo.createRecord", self._create_record),
            ("GET", "com.atproto.repo.getRecord", self._get_record),
        ):
            self.route(method, rf"/xrpc/{re.escape(nsid)}", handler)

    @property
    def posts(self) -> list[dict[str, Any]]:
        """The posts' records as sent, oldest first."""
        return [r["value"] for r in self.records.values()]

    def expire(self) -> None:
        """Every access token issued so far expires (ExpiredToken from now on)."""
        for token in self.access:
            self.access[token] = False

    def not_found(self, request: httpx.Request, method_mismatch: bool) -> httpx.Response:
        """XRPC's answer to a method it does not implement."""
        if request.url.path.startswith("/xrpc/"):
            if method_mismatch:
                return xrpc_error(400, "InvalidRequest", "Incorrect HTTP method")
            return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")
        return httpx.Response(404, text="Not Found")

    # -- sessions ----------------------------------------------------------

    def _session(self) -> httpx.Response:
        access, refresh = (
            f"eyJ.access.{secrets.token_hex(8)}",
            f"eyJ.refresh.{secrets.token_hex(8)}",
        )
        self.access[access] = True
        self.refresh.add(refresh)
        self.sessions += 1
        return httpx.Response(
            200,
            json={
                "accessJwt": access,
                "refreshJwt": refresh,
                "handle": self.handle,
                "did": self.did,
                "active": True,
            },
        )

    def _create_session(self, request: httpx.Request) -> httpx.Response:
        body = body_json(request)
        if not isinstance(body, dict):
            return xrpc_error(400, "InvalidRequest", "Request encoding (Content-Type) required")
        for key in ("identifier", "password"):
            if not isinstance(body.get(key), str):
                return xrpc_error(400, "InvalidRequest", f'Input must have the property "{key}"')
        if (
            body["identifier"] not in (self.handle, self.did)
            or body["password"] != self.app_password
        ):
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return self._session()

    def _refresh_session(self, request: httpx.Request) -> httpx.Response:
        token = _bearer(request)
        if token is None:
            return xrpc_error(401, "AuthMissing", "Authentication Required")
        if token not in self.refresh:
            return xrpc_error(400, "ExpiredToken", "Token has been revoked")
        self.refresh.discard(token)
        return self._session()

    def _authorized(self, request: httpx.Request) -> httpx.Response | None:
        token = _bearer(request)
        if token is None:
            return xrpc_error(401, "AuthMissing", "Authentication Required")
        if token not in self.access:
            return xrpc_error(400, "InvalidToken", "Token could not be verified")
        if not self.access[token]:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return None

    # -- methods -----------------------------------------------------------

    def _upload_blob(self, request: httpx.Request) -> httpx.Response:
        refused = self._authorized(request)
        if refused:
            return refused
        mime = request.headers.get("content-type", "")
        data = request.content
        if not mime or not data:
            return xrpc_error(400, "InvalidRequest", "Request encoding (Content-Type) required")
        cid = "bafkrei" + hashlib.sha256(data).hexdigest()[:52]
        self.blobs[cid] = (mime, data)
        return httpx.Response(
            200,
            json={
                "blob": {
                    "$type": "blob",
                    "ref": {"$link": cid},
                    "mimeType": mime,
                    "size": len(data),
                }
            },
        )

    def _resolve_handle(self, request: httpx.Request) -> httpx.Response:
        handle = request.url.params.get("handle")
        if not handle:
            return xrpc_error(400, "InvalidRequest", 'Params must have the property "handle"')
        did = self.known.get(handle.lower())
        if did is None:
            return xrpc_error(400, "InvalidRequest", "Unable to resolve handle")
        return httpx.Response(200, json={"did": did})

    def _create_record(self, request: httpx.Request) -> httpx.Response:
        refused = self._authorized(request)
        if refused:
            return refused
        body = body_json(request)
        if not isinstance(body, dict):
            return xrpc_error(400, "InvalidRequest", "Request encoding (Content-Type) required")
        if body.get("repo") not in (self.did, self.handle):
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        if body.get("collection") != COLLECTION:
            return xrpc_error(400, "InvalidRequest", f"fake: only {COLLECTION} records")
        rkey = body.get("rkey")
        if not isinstance(rkey, str) or not TID.match(rkey):
            return xrpc_error(400, "InvalidRequest", f"Invalid record key: {rkey}")
        if rkey in self.records:
            # UNVERIFIED: what the PDS answers for a key that is taken.
            return xrpc_error(400, "InvalidRequest", f"Record already exists: {rkey}")
        record = body.get("record")
        try:
            self._validate(record)
        except Invalid as exc:
            return xrpc_error(400, "InvalidRequest", f"Invalid {COLLECTION} record: {exc}")
        uri = f"at://{self.did}/{COLLECTION}/{rkey}"
        cid = (
            "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:52]
        )
        self.records[rkey] = {"uri": uri, "cid": cid, "value": record}
        return httpx.Response(200, json={"uri": uri, "cid": cid, "validationStatus": "valid"})

    def _get_record(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        for key in ("repo", "collection", "rkey"):
            if not params.get(key):
                return xrpc_error(400, "InvalidRequest", f'Params must have the property "{key}"')
        if params["repo"] not in (self.did, self.handle):
            return xrpc_error(400, "InvalidRequest", f"Could not find repo: {params['repo']}")
        uri = f"at://{self.did}/{params['collection']}/{params['rkey']}"
        found = self.records.get(params["rkey"])
        if params["collection"] != COLLECTION or found is None:
            return xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return httpx.Response(200, json=found)

    # -- the lexicon ---------------------------------------------------------

    def _validate(self, record: Any) -> None:
        if not isinstance(record, dict):
            raise Invalid("Record must be an object")
        if record.get("$type") not in (None, COLLECTION):
            raise Invalid(f"Invalid $type: expected {COLLECTION}, got {record.get('$type')}")
        text = record.get("text")
        if not isinstance(text, str):
            raise Invalid('Record must have the property "text"')
        if len(text.encode("utf-8")) > MAX_BYTES:
            raise Invalid(f"Record/text must not be longer than {MAX_BYTES} characters")
        if graphemes(text) > MAX_GRAPHEMES:
            raise Invalid(f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes")
        created = record.get("createdAt")
        if not isinstance(created, str) or not re.match(
            r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", created
        ):
            raise Invalid("Record/createdAt must be an valid atproto datetime")
        langs = record.get("langs", [])
        if not isinstance(langs, list) or len(langs) > MAX_LANGS:
            raise Invalid(f"Record/langs must not have more than {MAX_LANGS} elements")
        for lang in langs:
            if not isinstance(lang, str) or not re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]+)*$", lang):
                raise Invalid("Record/langs must be a well-formed BCP 47 language tag")
        for n, facet in enumerate(record.get("facets", [])):
            self._facet(text, n, facet)
        embed = record.get("embed")
        if embed is not None:
            self._embed(embed)

    def _facet(self, text: str, n: int, facet: Any) -> None:
        where = f"Record/facets/{n}"
        index = facet.get("index") if isinstance(facet, dict) else None
        features = facet.get("features") if isinstance(facet, dict) else None
        if not isinstance(index, dict) or not isinstance(features, list):
            raise Invalid(f'{where} must have the properties "index" and "features"')
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not isinstance(start, int) or not isinstance(end, int) or start < 0 or end < 0:
            raise Invalid(f"{where}/index must have byteStart and byteEnd, at least 0")
        data = text.encode("utf-8")
        if not start < end <= len(data):
            raise Invalid(
                f"fake: {where}/index {start}..{end} is outside the text's {len(data)} bytes"
            )
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid(f"fake: {where}/index {start}..{end} cuts a UTF-8 character") from None
        for feature in features:
            kind = feature.get("$type") if isinstance(feature, dict) else None
            key = FEATURES.get(str(kind))
            if key is None or not isinstance(feature.get(key), str):
                raise Invalid(f"{where}/features must be a mention, a link or a tag")
            value = feature[key]
            if key == "did" and not value.startswith("did:"):
                raise Invalid(f"{where}/features/0/did must be a valid did")
            if key == "tag" and (
                graphemes(value) > TAG_GRAPHEMES or len(value.encode()) > TAG_BYTES
            ):
                raise Invalid(
                    f"{where}/features/0/tag must not be longer than {TAG_GRAPHEMES} graphemes"
                )

    def _embed(self, embed: Any) -> None:
        kind = embed.get("$type") if isinstance(embed, dict) else None
        if kind == "app.bsky.embed.images":
            images = embed.get("images")
            if not isinstance(images, list):
                raise Invalid('Record/embed must have the property "images"')
            if len(images) > MAX_IMAGES:
                raise Invalid(f"Record/embed/images must not have more than {MAX_IMAGES} elements")
            for n, image in enumerate(images):
                self._image(n, image)
        elif kind == "app.bsky.embed.external":
            external = embed.get("external")
            if not isinstance(external, dict) or not all(
                isinstance(external.get(k), str) for k in ("uri", "title", "description")
            ):
                raise Invalid("Record/embed/external must have uri, title and description")
            if not re.match(r"^[a-z][a-z0-9+.-]*:\S+$", external["uri"]):
                raise Invalid("Record/embed/external/uri must be a uri")
        else:
            raise Invalid(f"fake: Record/embed $type {kind} is not served here")

    def _image(self, n: int, image: Any) -> None:
        where = f"Record/embed/images/{n}"
        if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
            raise Invalid(f'{where} must have the property "alt"')
        blob = image.get("image")
        ref = blob.get("ref") if isinstance(blob, dict) else None
        cid = ref.get("$link") if isinstance(ref, dict) else None
        if not isinstance(blob, dict) or blob.get("$type") != "blob" or cid not in self.blobs:
            raise Invalid(f"{where}/image: could not find blob {cid}")
        mime, data = self.blobs[cid]
        if blob.get("mimeType") != mime or blob.get("size") != len(data):
            raise Invalid(f"{where}/image does not match the stored blob")
        if not mime.startswith("image/"):
            raise Invalid(f"{where}/image mimeType must be image/*")
        if len(data) > self.max_blob:
            raise Invalid(f"{where}/image file too big (max {self.max_blob} bytes)")


def _bearer(request: httpx.Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[len("Bearer ") :] if value.startswith("Bearer ") else None
