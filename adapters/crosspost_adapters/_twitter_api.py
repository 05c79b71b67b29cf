"""X through API v2: publishing (media uploads, then ``POST /2/tweets``), signing in, renewal.

Publishing (https://docs.x.com/x-api/media/quickstart/media-upload-chunked,
https://docs.x.com/x-api/posts/manage-tweets/introduction, and the endpoint
schemas of https://api.x.com/2/openapi.json):

1. Media first. Nothing is public until the post exists, so every upload step
   is safe to repeat (``Api.call``):

   * an image (or a GIF up to 5 MB): one ``POST /2/media/upload``, multipart
     with ``media`` and ``media_category`` (``tweet_image``/``tweet_gif``);
   * a video (or a larger GIF): ``POST /2/media/upload/initialize`` (JSON),
     ``POST /2/media/upload/{id}/append`` per chunk (multipart ``media`` and
     ``segment_index`` 0-999), ``POST /2/media/upload/{id}/finalize``;
   * when an answer carries ``processing_info``, poll
     ``GET /2/media/upload?command=STATUS&media_id=`` after ``check_after_secs``
     until ``succeeded`` or ``failed``;
   * alt text: ``POST /2/media/metadata`` (optional; its failure is not fatal).

2. ``POST /2/tweets`` with the first part's text and the media ids: the one
   irreversible call (``Api.create``); X answers 201 ``{"data": {"id", "text"}}``.
   Each further part of a thread replies to the previous one
   (``reply.in_reply_to_tweet_id``). Since Feb 2026 self-serve tiers may refuse
   such replies with a 403 ("Post creation restrictions",
   https://docs.x.com/x-api/posts/manage-tweets/integrate); the parts already
   out are then reported, never posted again.

Errors are RFC 7807 problem objects ``{"title", "detail", "type", "status"}``
(400s add ``errors: [{"message"}]``; a 429 may be ``{"errors": [{"code": 88}]}``),
mapped by ``classify`` (https://docs.x.com/x-api/fundamentals/response-codes-and-errors).

X has no idempotency key. What finds a post whose answer was lost is its text
on the account's timeline (``GET /2/users/:id/tweets``); the journal keeps that
text before each create, and ``reconcile`` reads the timeline on the next run
(docs/reconcile.md, "X").

Signing in (docs/platforms/twitter.md): every request carries either an OAuth 2.0
user access token (``Authorization: Bearer``; it lasts 2 hours and is renewed
with a refresh token that rotates) or an OAuth 1.0a signature
(``crosspost.oauth1.OAuth1Auth``; the user token does not expire). ``login``
runs X's authorization code flow with PKCE, or with ``--oauth1`` the 3-legged
OAuth 1.0a flow; ``renew`` refreshes an OAuth 2.0 token before a run, and a 401
during a run renews once and repeats the step.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from crosspost import oauth, oauth1, redaction, twittertext
from crosspost.adapter import Account, Finding, Login, LoginSession, Post, Published, Sent
from crosspost.api import (
    Api,
    ContentFactory,
    PublishContext,
    excerpt,
    file_chunks,
    file_size,
    json_body,
    rebase,
    retry_after,
)
from crosspost.credentials import Credentials, env_name
from crosspost.errors import (
    AuthError,
    ConfigError,
    CredentialsError,
    InvalidContentError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UnknownOutcomeError,
)
from crosspost.media import MediaFile
from crosspost.redaction import redact
from crosspost_adapters.twitter import (
    MIN_VIDEO_SECONDS,
    OAUTH1_KEYS,
    TwitterSettings,
    uses_oauth1,
)

if TYPE_CHECKING:
    from pathlib import Path

    from crosspost_adapters.twitter import TwitterAdapter

API = "https://api.x.com"
TWEETS = f"{API}/2/tweets"
USERS_ME = f"{API}/2/users/me"
#: OAuth 2.0 authorization code flow with PKCE: the consent page is on x.com, the
#: token and revocation endpoints on api.x.com
#: (https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token).
AUTHORIZE = "https://x.com/i/oauth2/authorize"
TOKEN = f"{API}/2/oauth2/token"
REVOKE = f"{API}/2/oauth2/revoke"
#: Posting with media needs these; ``offline.access`` brings the refresh token
#: (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code).
SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
POST_SCOPES = ("tweet.read", "tweet.write", "users.read")
MEDIA_SCOPE = "media.write"
#: The 3-legged OAuth 1.0a flow (https://docs.x.com/fundamentals/authentication/api-reference,
#: https://docs.x.com/fundamentals/authentication/oauth-1-0a/obtaining-user-access-tokens).
REQUEST_TOKEN = f"{API}/oauth/request_token"
OAUTH1_AUTHORIZE = f"{API}/oauth/authorize"
ACCESS_TOKEN = f"{API}/oauth/access_token"
CALLBACK_PATH = "/callback"
LOGIN_COMMAND = "crosspost auth login twitter"
OAUTH1_COMMAND = "crosspost auth login twitter --oauth1"
#: How long a login waits for the browser to come back.
LOGIN_TIMEOUT = 300.0
#: How long a renewal waits for another crosspost process renewing the same token.
RENEW_LOCK_TIMEOUT = 60.0
#: Clocks differ: a post may carry a ``created_at`` a little before our own
#: clock said we sent it, so the timeline is read from this long before.
CLOCK_SKEW = timedelta(minutes=5)
#: ``max_results`` of the user timeline is 5..100 (docs.x.com, pagination and
#: ``GET /2/users/:id/tweets``): read 100 a page, at most this many pages.
TIMELINE_PAGE = 100
TIMELINE_PAGES = 5
UPLOAD = f"{API}/2/media/upload"
METADATA = f"{API}/2/media/metadata"
#: The public address of a post; ``i/web`` works without knowing the account's handle.
STATUS_URL = "https://x.com/i/web/status/{id}"
#: The one-shot upload is for images; a GIF above this goes chunked (v1.1 said
#: one-shot uploads are for images up to 5 MB, and X's image limit is 5 MB).
ONE_SHOT_BYTES = 5_000_000
#: ``segment_index`` runs from 0 to 999 (openapi.json, append).
MAX_SEGMENTS = 1000
#: The largest APPEND chunk we send (v1.1: "must be <= 5 MB"; v2: UNVERIFIED).
MAX_CHUNK = 5 * 1024 * 1024

_DUPLICATE = re.compile(r"duplicate", re.IGNORECASE)
# 403 detail of the Feb 2026 self-serve restriction: "Reply to this conversation
# is not allowed because you have not been mentioned or otherwise engaged ...".
_REPLY_REFUSED = re.compile(r"\brepl(y|ies)\b.*\bnot (allowed|permitted)\b", re.IGNORECASE)
_NOT_PERMITTED = re.compile(
    r"not (permitted|authori[sz]ed)|forbidden|suspended|locked|access", re.IGNORECASE
)


class ReplyRefusedError(InvalidContentError):
    """X refused a reply (a thread's next part): the account's API tier may not reply."""


class DuplicateError(InvalidContentError):
    """X refused the text as a duplicate of a recent post of the account (403)."""


def utcnow() -> datetime:
    """The time renewal decides by (tests move it along with the fakes' clock)."""
    return datetime.now(UTC)


async def publish(adapter: TwitterAdapter, post: Post, ctx: PublishContext) -> Published:
    """Upload ``post.media``, then post ``post.parts`` as one post or a reply chain."""
    settings = _settings(adapter, ctx)
    # Missing credentials must fail before the first request, naming the variable.
    signer = _Signer(ctx, settings)
    if post.problems:
        raise InvalidContentError(
            ctx.platform,
            "the X post cannot be published as planned: " + "; ".join(post.problems),
        )
    if not post.parts:
        raise InvalidContentError(ctx.platform, "the X post has no text to publish")
    session = _Session(ctx, ctx.api(classify), signer, settings)
    media_ids = [await session.upload(media) for media in post.media]
    return await session.post_parts(post, media_ids)


async def reconcile(
    adapter: TwitterAdapter, post: Post, sent: Sent, ctx: PublishContext
) -> Published | None:
    """What became of a create whose answer an earlier run never heard (docs/reconcile.md).

    From the journal's handles (``text`` of the part in flight, ``part`` of
    ``parts``, the ``ids`` X answered before) and the timeline since ``sent.at``
    (less ``CLOCK_SKEW``):

    * every part found (or answered): ``Published``;
    * nothing out and the post not on the timeline ``ctx.settle`` seconds after
      it was sent: None, it never landed and may be published again;
    * not on the timeline yet, a timeline that cannot be read, or a thread only
      partly out: ``UnknownOutcomeError`` (a partial thread is never sent again).
    """
    settings = _settings(adapter, ctx)
    session = _Session(ctx, ctx.api(classify), _Signer(ctx, settings), settings)
    return await session.reconcile(post, sent)


def _settings(adapter: TwitterAdapter, ctx: PublishContext) -> TwitterSettings:
    settings = ctx.settings if isinstance(ctx.settings, TwitterSettings) else adapter.settings
    if not isinstance(settings, TwitterSettings):  # pragma: no cover - the adapter makes one
        settings = TwitterSettings()
    return settings


# -- credentials: which scheme, renewal, X's refusals ---------------------------------


class _Unauthorized(AuthError):
    """X's 401: the credentials are not (or no longer) accepted; ``detail`` is X's text."""

    def __init__(self, platform: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(platform, f"X refused the credentials ({detail})", status=status)
        self.detail = detail


def _account(credentials: Credentials) -> str:
    """The account as stored at login (``@name``), for messages."""
    name = credentials.meta("account")
    return name if isinstance(name, str) and name else "the X account"


def _from_environment(credentials: Credentials) -> list[str]:
    """The variables that hold the OAuth 2.0 tokens, where they do (renewal cannot replace them)."""
    return [
        env_name("twitter", key)
        for key in ("access_token", "refresh_token")
        if credentials.from_environment(key)
    ]


def _renewable(credentials: Credentials) -> bool:
    """Whether crosspost can renew the OAuth 2.0 token: refresh token and client id in the file."""
    return (
        not _from_environment(credentials)
        and credentials.get("refresh_token") is not None
        and credentials.get("client_id") is not None
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _environment_error(credentials: Credentials, why: str, status: int | None = None) -> AuthError:
    names = " and ".join(_from_environment(credentials))
    return AuthError(
        "twitter",
        f"{why}; the token comes from {names}, and crosspost cannot renew a token set in "
        "the environment (X's OAuth 2.0 access tokens last 2 hours): unset the variable so "
        f"crosspost uses the credentials file that {LOGIN_COMMAND} fills and renews, or "
        "update the variable with a new token",
        status=status,
    )


def _login_again(account: str, why: str, status: int | None = None) -> AuthError:
    return AuthError(
        "twitter",
        f"{why}: run {LOGIN_COMMAND} to connect {account} again (or {OAUTH1_COMMAND}: "
        "OAuth 1.0a user tokens do not expire, the better choice for cron)",
        status=status,
    )


class _Signer:
    """How one run proves to X who it is: a bearer token (OAuth 2.0), renewed once when
    X answers 401 (unless ``renewing`` is off: doctor never renews), or an OAuth 1.0a
    signature on every request."""

    def __init__(
        self, ctx: PublishContext, settings: TwitterSettings, *, renewing: bool = True
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.renewing = renewing
        credentials = ctx.credentials
        self.oauth1 = uses_oauth1(credentials)
        self._signature: oauth1.OAuth1Auth | None = None
        if self.oauth1:
            key, secret, token, token_secret = (credentials.require(k) for k in OAUTH1_KEYS)
            self._signature = oauth1.OAuth1Auth(key, secret, token, token_secret)
        self.token = credentials.require("access_token")
        self.renewed = False

    def apply(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """``kwargs`` of a request with the credentials added (header, or ``auth=`` signer)."""
        sent = dict(kwargs)
        headers = dict(sent.pop("headers", None) or {})
        if self._signature is not None:
            # JSON and multipart bodies are not signed, form bodies are (RFC 5849
            # §3.4.1.3.1; docs.x.com "Creating a signature"): OAuth1Auth reads them.
            sent["auth"] = self._signature
        else:
            headers["Authorization"] = f"Bearer {self.token}"
        sent["headers"] = headers
        return sent

    async def recover(self, exc: AuthError) -> bool:
        """After X's 401: renew the OAuth 2.0 token once; whether to repeat the step."""
        if not isinstance(exc, _Unauthorized) or self.oauth1 or self.renewed:
            return False
        if not self.renewing:
            return False
        if not _renewable(self.ctx.credentials):
            return False
        self.renewed = True
        self.ctx.progress.step(self.ctx.platform, "X refused the access token: renewing it")
        self.token = await _refresh(self.ctx, self.settings, stale=self.token, horizon=0.0)
        return True

    def refused(self, exc: AuthError) -> AuthError:
        """X's 401 in words that say what to do; other refusals as they are."""
        if not isinstance(exc, _Unauthorized):
            return exc
        credentials = self.ctx.credentials
        account = _account(credentials)
        if self.oauth1:
            return AuthError(
                "twitter",
                f"X refused the OAuth 1.0a credentials of {account} ({exc.detail}): the access "
                "token was revoked, the app's consumer key and secret were regenerated, or "
                f"this computer's clock is off; run {OAUTH1_COMMAND} again",
                status=exc.status,
            )
        if _from_environment(credentials):
            return _environment_error(
                credentials,
                f"X refused the access token of {account} ({exc.detail}; expired or revoked)",
                exc.status,
            )
        if not self.renewing and _renewable(credentials):
            return AuthError(
                "twitter",
                f"X refused the access token of {account} ({exc.detail}): it was revoked or "
                "expired early; the next publish renews it, and if X refuses that too, run "
                f"{LOGIN_COMMAND}",
                status=exc.status,
            )
        if self.renewed:
            return _login_again(
                account,
                f"X refused the access token of {account} even after renewing it ({exc.detail})",
                exc.status,
            )
        return _login_again(
            account,
            f"X refused the access token of {account} ({exc.detail}; X's OAuth 2.0 tokens "
            "last 2 hours) and crosspost has no refresh token and client id to renew it",
            exc.status,
        )


def oauth_app(settings: TwitterSettings) -> oauth.OAuthApp:
    """X's OAuth 2.0 authorization server, pointed at ``api_base`` when one is set.

    PKCE S256; a confidential client authenticates with HTTP Basic; the callback
    is ``http://127.0.0.1:<callback_port>/callback``, registered exactly in the app.
    """
    base = settings.api_base
    return oauth.OAuthApp(
        platform="twitter",
        display_name="X",
        authorize_url=rebase(AUTHORIZE, base),
        token_url=rebase(TOKEN, base),
        revoke_url=rebase(REVOKE, base),
        scopes=SCOPES,
        client_auth="basic",
        redirect_path=CALLBACK_PATH,
        fixed_port=settings.callback_port,
    )


@asynccontextmanager
async def _renewal(credentials: Credentials) -> AsyncIterator[None]:
    """Hold the X renewal lock: one crosspost process renews at a time.

    X's refresh tokens rotate, so a second process renewing with the refresh token
    the first has just used would be refused and lose the account; the second one
    waits, then finds the renewed token in the file. Waiting does not block the
    event loop (the other platforms go on).
    """
    from filelock import FileLock, Timeout

    path = credentials.store.path
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(f"{path}.twitter-renewal.lock", mode=0o600)
    deadline = time.monotonic() + RENEW_LOCK_TIMEOUT
    while True:
        try:
            lock.acquire(timeout=0)
            break
        except Timeout:
            if time.monotonic() >= deadline:
                raise CredentialsError(
                    f"twitter: another crosspost process has been renewing the X token for "
                    f"over {RENEW_LOCK_TIMEOUT:g} seconds ({path}); try again"
                ) from None
            await asyncio.sleep(0.1)
    try:
        yield
    finally:
        lock.release()


async def _refresh(
    ctx: PublishContext, settings: TwitterSettings, *, stale: str | None, horizon: float
) -> str:
    """A fresh OAuth 2.0 access token, stored (rotated refresh token included) before use.

    Under the renewal lock the file is read again: when another process renewed
    meanwhile (the token is no longer ``stale`` and lasts beyond ``horizon``
    seconds), its token is used as it is.
    """
    credentials = ctx.credentials
    account = _account(credentials)
    async with _renewal(credentials):
        credentials.save()  # an empty save re-reads the file under its lock
        token = credentials.get("access_token")
        expires = credentials.expires_at("access_token")
        fresh = expires is None or expires > utcnow() + timedelta(seconds=horizon)
        if token is not None and token != stale and fresh:
            return token
        refresh_token = credentials.get("refresh_token")
        client_id = credentials.get("client_id")
        if refresh_token is None or client_id is None:
            lacking = " and ".join(
                name
                for name, value in (("refresh token", refresh_token), ("client id", client_id))
                if value is None
            )
            raise _login_again(
                account,
                f"the X access token of {account} has expired and crosspost cannot renew it "
                f"(no {lacking} stored)",
            )
        ctx.progress.step(ctx.platform, "renewing the X access token")
        try:
            tokens = await oauth.refresh(
                ctx.client,
                oauth_app(settings),
                client_id,
                credentials.get("client_secret"),
                refresh_token,
                now=utcnow,
            )
        except oauth.LoginRequiredError as exc:
            raise _login_again(
                account,
                f"X refused to renew the access token of {account}: the refresh token expired "
                f"or was revoked ({exc.error or 'refused'})",
                exc.status,
            ) from None
        except oauth.OAuthError as exc:  # the app's own credentials were refused
            raise AuthError(
                "twitter", f"{exc.message} (renewing the token of {account})", status=exc.status
            ) from None
        # X rotates refresh tokens: the old one is dead now, so the new one is in the
        # file before anything else happens (docs/oauth.md, "Tokens and renewal").
        values: dict[str, Any] = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at,
            "obtained_at": tokens.issued_at,
        }
        if tokens.scopes:
            values["scopes"] = list(tokens.scopes)
        credentials.save(**values)
        return tokens.access_token


async def renew(adapter: TwitterAdapter, ctx: PublishContext, horizon: float) -> None:
    """Refresh the OAuth 2.0 token when it expires within ``horizon`` seconds.

    OAuth 1.0a tokens do not expire. A token whose expiry crosspost does not know
    (set by hand) is left alone: a 401 renews it during the run. A token set in
    the environment is never renewed (the renewed one could not replace it).
    """
    credentials = ctx.credentials
    if uses_oauth1(credentials) or credentials.get("access_token") is None:
        return
    now = utcnow()
    expires = credentials.expires_at("access_token")
    if _from_environment(credentials):
        if expires is not None and expires <= now:
            raise _environment_error(
                credentials,
                f"the X access token of {_account(credentials)} expired at {_when(expires)}",
            )
        return
    if expires is None or expires > now + timedelta(seconds=horizon):
        return
    if not _renewable(credentials) and expires > now:
        return  # it still works; doctor warns that it cannot be renewed
    await _refresh(
        ctx, _settings(adapter, ctx), stale=credentials.get("access_token"), horizon=horizon
    )


async def identity(adapter: TwitterAdapter, ctx: PublishContext) -> Account:
    """The account's @username and id from ``GET /2/users/me``, with the stored token.

    Never renews (``doctor`` is read-only: renewing replaces X's refresh token). An
    OAuth 2.0 token past its expiry that the next publish will renew cannot be
    asked with: ``ConfigError`` (doctor: "not checked") says so.
    """
    why = _unchecked(ctx.credentials)
    if why is not None:
        raise ConfigError(why)
    settings = _settings(adapter, ctx)
    signer = _Signer(ctx, settings, renewing=False)
    return await _Session(ctx, ctx.api(classify), signer, settings).account()


def _unchecked(credentials: Credentials) -> str | None:
    """Why X cannot be asked who the account is without renewing first, or None."""
    if uses_oauth1(credentials) or not _renewable(credentials):
        return None
    expires = credentials.expires_at("access_token")
    if expires is None or expires > utcnow():
        return None
    return (
        f"the X access token expired at {_when(expires)}; the next publish renews it, but "
        "asking X now would mean renewing it here, which replaces the refresh token "
        "(doctor never does)"
    )


async def diagnose(
    adapter: TwitterAdapter, ctx: PublishContext, post: Post | None
) -> list[Finding]:
    """``doctor``'s X checks (offline): how requests are signed, whether the stored
    scopes cover the post, and the risk a thread runs.

    Token lifetimes are doctor's own check (``expires_at`` and the environment).
    """
    settings = _settings(adapter, ctx)
    credentials = ctx.credentials
    findings: list[Finding] = []
    if uses_oauth1(credentials):
        findings.append(
            Finding(
                "ok",
                "signed with OAuth 1.0a user context: these tokens do not expire (the X app's "
                "permission must be Read and write)",
            )
        )
    elif credentials.get("access_token") is not None:
        findings.append(_scopes(credentials, post))
        if _renewable(credentials):
            findings.append(
                Finding(
                    "ok",
                    "OAuth 2.0: the 2-hour access token is renewed before each run and the "
                    f"rotated refresh token stored at once (for cron, {OAUTH1_COMMAND} gives "
                    "tokens that do not expire)",
                )
            )
    if post is not None and len(post.parts) > 1 and settings.threads_allowed:
        findings.append(
            Finding(
                "warn",
                f"the post is a thread of {len(post.parts)} parts: since February 2026 X's "
                "self-serve API tiers refuse replies the author did not summon, so a thread "
                "can stop half-way unless the account has Enterprise access; set thread = "
                "false under [platforms.twitter] of the announcement (or threads_allowed = "
                "false in the config, the default) to shorten the text instead",
            )
        )
    return findings


def _scopes(credentials: Credentials, post: Post | None) -> Finding:
    needed = list(POST_SCOPES)
    if post is None or post.media:
        needed.append(MEDIA_SCOPE)
    stored = credentials.meta("scopes")
    if credentials.from_environment("access_token") or not isinstance(stored, list):
        return Finding(
            "warn",
            "crosspost does not know the scopes of the X access token (it was not stored by "
            f"{LOGIN_COMMAND}); posting needs {' '.join(needed)}",
        )
    missing = [scope for scope in needed if scope not in stored]
    if missing:
        return Finding(
            "fail",
            f"the X access token lacks the scope(s) {' '.join(missing)} "
            f"{'the post needs' if post is not None else 'posting needs'}: run {LOGIN_COMMAND} "
            f"(it asks for {' '.join(SCOPES)})",
        )
    return Finding("ok", f"the X access token has the scopes posting needs ({' '.join(needed)})")


# -- logging in ---------------------------------------------------------------------


def _login_settings(adapter: TwitterAdapter, session: LoginSession) -> TwitterSettings:
    if isinstance(session.settings, TwitterSettings):
        return session.settings
    if isinstance(adapter.settings, TwitterSettings):
        return adapter.settings.model_copy(update={"api_base": session.settings.api_base})
    return TwitterSettings(api_base=session.settings.api_base)


def _missing_app(session: LoginSession, keys: tuple[str, ...], what: str) -> CredentialsError:
    from crosspost_adapters.twitter import TwitterAdapter

    names = ", ".join(env_name("twitter", key) for key in keys)
    return CredentialsError(
        f"twitter: crosspost auth login needs the X app's {what}: set {names}, or add "
        f"{', '.join(keys)} under [twitter] in {session.credentials.store.path} (mode 0600). "
        f"The X developer console ({TwitterAdapter.console_url}) shows them under the app's "
        "Keys and tokens; see docs/platforms/twitter.md"
    )


async def login(adapter: TwitterAdapter, session: LoginSession) -> Login:
    """Connect an X account: OAuth 2.0 with PKCE, or with ``--oauth1`` OAuth 1.0a.

    OAuth 2.0: X's consent page, the code exchanged for a 2-hour access token and
    a refresh token (``offline.access``), then ``GET /2/users/me`` for the account.
    The app's client id and secret are stored with the tokens, so renewal works
    from cron without the environment they came from.
    """
    settings = _login_settings(adapter, session)
    if session.options.get("oauth1"):
        return await _login_oauth1(session, settings)
    credentials = session.credentials
    client_id = credentials.get("client_id")
    if client_id is None:
        raise _missing_app(
            session,
            ("client_id", "client_secret"),
            "OAuth 2.0 Client ID (and Client Secret, for a Web App or Automated App)",
        )
    client_secret = credentials.get("client_secret")
    tokens = await oauth.login(
        oauth_app(settings),
        client_id,
        client_secret,
        client=session.client,
        open_browser=session.open_browser,
        paste=session.ask,
        say=session.say,
        timeout=LOGIN_TIMEOUT,
        now=utcnow,
    )
    missing = [s for s in (*POST_SCOPES, MEDIA_SCOPE) if s not in tokens.scopes]
    if missing:
        session.say(f"X did not grant {' '.join(missing)}: posting (with media) may be refused")
    if tokens.refresh_token is None:
        session.say(
            "X gave no refresh token (offline.access was not granted): the access token "
            f"lasts 2 hours and cannot be renewed; {OAUTH1_COMMAND} gives tokens that do not "
            "expire"
        )
    ctx = _login_context(session, settings)
    account = await _whoami(ctx.api(classify), {"Authorization": f"Bearer {tokens.access_token}"})
    # An OAuth 1.0a secret left from an earlier login would make crosspost sign
    # with OAuth 1.0a and the new bearer token as if it were an OAuth 1.0a token.
    _forget(session, "access_token_secret")
    secrets_: dict[str, str] = {"access_token": tokens.access_token, "client_id": client_id}
    if tokens.refresh_token is not None:
        secrets_["refresh_token"] = tokens.refresh_token
    if client_secret is not None:
        secrets_["client_secret"] = client_secret
    return Login(
        account=account,
        secrets=secrets_,
        expires_at=tokens.expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
        scopes=tokens.scopes,
    )


def _login_context(session: LoginSession, settings: TwitterSettings) -> PublishContext:
    return PublishContext(
        client=session.client,
        platform="twitter",
        settings=settings,
        credentials=session.credentials,
    )


def _forget(session: LoginSession, *keys: str) -> None:
    """Remove what an earlier login of the other kind left in the credentials file."""
    credentials = session.credentials
    stale = [key for key in keys if credentials.meta(key) is not None]
    if stale:
        credentials.save(**dict.fromkeys(stale))
    for key in keys:
        if credentials.from_environment(key):
            session.say(
                f"{env_name('twitter', key)} is set in the environment and overrides this "
                "login: unset it"
            )


async def _whoami(api: Api, headers: dict[str, str], **kwargs: Any) -> Account:
    """``GET /2/users/me``: the account's @username, id and profile address."""
    response = await api.call("GET", USERS_ME, headers=headers, **kwargs)
    return _account_of(response)


def _account_of(response: httpx.Response) -> Account:
    body = json_body(response)
    data = body.get("data") if isinstance(body, dict) else None
    user_id = data.get("id") if isinstance(data, dict) else None
    username = data.get("username") if isinstance(data, dict) else None
    if not isinstance(user_id, str) or not user_id.isdigit() or not isinstance(username, str):
        raise TransientError("twitter", "X answered /2/users/me without the account's id")
    return Account(name=f"@{username}", id=user_id, url=f"https://x.com/{username}")


class _OAuth1Receiver(oauth.LoopbackReceiver):
    """The loopback listener for OAuth 1.0a's answer (``oauth_token`` and ``oauth_verifier``,
    or ``denied``), which the browser's page reports as it does an OAuth 2.0 code."""

    def _deliver(self, params: dict[str, str]) -> bool:
        if params.get("oauth_verifier"):
            redaction.register(params["oauth_verifier"])
            params.setdefault("code", "")  # the listener's "you can close this tab" page
        elif "denied" in params:
            params.setdefault("error", "access_denied")
        return super()._deliver(params)


def _oauth1_header(
    method: str,
    url: str,
    *,
    consumer_key: str,
    consumer_secret: str,
    token: str | None = None,
    token_secret: str = "",
    extra: Mapping[str, str] | None = None,
) -> str:
    """An ``Authorization: OAuth`` header carrying protocol parameters beyond the usual
    ones (``oauth_callback``, ``oauth_verifier``), signed per RFC 5849 §3.4, as X's
    request_token and access_token steps want them."""
    params = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": secrets.token_hex(16),
        "oauth_signature_method": oauth1.SIGNATURE_METHOD,
        "oauth_timestamp": str(int(time.time())),
        "oauth_version": "1.0",
        **(extra or {}),
    }
    if token is not None:
        params["oauth_token"] = token
    base = oauth1.signature_base_string(method, url, params)
    signature = oauth1.hmac_sha1_signature(base, consumer_secret, token_secret)
    params["oauth_signature"] = redaction.register(signature)
    return "OAuth " + ", ".join(
        f'{oauth1.percent_encode(k)}="{oauth1.percent_encode(v)}"'
        for k, v in sorted(params.items())
    )


def _oauth1_text(response: httpx.Response) -> str:
    """X's words in an OAuth 1.0a refusal: JSON ``errors``, the older XML, or plain text."""
    body = json_body(response)
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        words = [
            f"{e.get('message')} (code {e.get('code')})" if e.get("code") else str(e.get("message"))
            for e in body["errors"]
            if isinstance(e, dict)
        ]
        if words:
            return redact("; ".join(words))
    found = re.search(r"<error[^>]*>([^<]+)</error>", response.text)
    if found:
        return redact(" ".join(found[1].split()))
    return excerpt(response) or f"HTTP {response.status_code}"


async def _oauth1_step(
    client: httpx.AsyncClient, url: str, header: str, refusal: str
) -> dict[str, str]:
    """POST one step of the OAuth 1.0a flow; its form-encoded answer."""
    try:
        response = await client.post(url, headers={"Authorization": header})
    except httpx.HTTPError as exc:
        raise TransientError(
            "twitter", f"could not reach X to log in ({type(exc).__name__}): try again"
        ) from None
    status = response.status_code
    if status == 429:
        raise RateLimitedError("twitter", "X is limiting logins (HTTP 429): try again later")
    if status >= 500:
        raise TransientError("twitter", f"X had a temporary problem (HTTP {status}): try again")
    if status != 200:
        raise oauth.OAuthError(
            "twitter", refusal.format(text=_oauth1_text(response)), status=status
        )
    answer = dict(parse_qsl(response.text.strip(), keep_blank_values=True))
    for key in ("oauth_token_secret", "oauth_token"):
        if answer.get(key):
            redaction.register(answer[key])
    return answer


async def _login_oauth1(session: LoginSession, settings: TwitterSettings) -> Login:
    """The 3-legged OAuth 1.0a flow: request token, the user's consent, access token.

    The access token and secret it gives do not expire (X revokes them only when
    the user removes the app or the app's keys are regenerated).
    """
    credentials = session.credentials
    key, secret = credentials.get("consumer_key"), credentials.get("consumer_secret")
    if key is None or secret is None:
        raise _missing_app(session, ("consumer_key", "consumer_secret"), "API Key and Secret")
    console = "the X developer console"
    with _OAuth1Receiver(CALLBACK_PATH, settings.callback_port) as receiver:
        callback = receiver.redirect_uri
        url = rebase(REQUEST_TOKEN, settings.api_base)
        header = _oauth1_header(
            "POST",
            url,
            consumer_key=key,
            consumer_secret=secret,
            extra={"oauth_callback": callback},
        )
        temporary = await _oauth1_step(
            session.client,
            url,
            header,
            f"X refused to start the login ({{text}}): check consumer_key and consumer_secret "
            f"(the app's API Key and Secret in {console}) and that {callback} is one of the "
            "app's callback URLs exactly (User authentication settings; or set callback_port "
            "under [platforms.twitter] to the registered port)",
        )
        request_token = temporary.get("oauth_token", "")
        request_secret = temporary.get("oauth_token_secret", "")
        if not request_token or temporary.get("oauth_callback_confirmed") != "true":
            raise oauth.OAuthError(
                "twitter", "X's request token answer is incomplete: run the login again"
            )
        address = (
            rebase(OAUTH1_AUTHORIZE, settings.api_base)
            + "?"
            + urlencode({"oauth_token": request_token})
        )
        params = await _oauth1_answer(receiver, session, address)
    verifier = _oauth1_verifier(params, request_token)
    url = rebase(ACCESS_TOKEN, settings.api_base)
    header = _oauth1_header(
        "POST",
        url,
        consumer_key=key,
        consumer_secret=secret,
        token=request_token,
        token_secret=request_secret,
        extra={"oauth_verifier": verifier},
    )
    granted = await _oauth1_step(
        session.client,
        url,
        header,
        f"X refused to complete the login ({{text}}): run {OAUTH1_COMMAND} again",
    )
    token, token_secret = granted.get("oauth_token", ""), granted.get("oauth_token_secret", "")
    if not token or not token_secret:
        raise oauth.OAuthError("twitter", "X's access token answer is incomplete: log in again")
    ctx = _login_context(session, settings)
    account = await _whoami(
        ctx.api(classify), {}, auth=oauth1.OAuth1Auth(key, secret, token, token_secret)
    )
    # What an earlier OAuth 2.0 login stored describes a token this login replaces.
    _forget(session, "refresh_token", "expires_at", "refresh_expires_at", "scopes")
    return Login(
        account=account,
        secrets={
            "access_token": token,
            "access_token_secret": token_secret,
            "consumer_key": key,
            "consumer_secret": secret,
        },
    )


async def _oauth1_answer(
    receiver: oauth.LoopbackReceiver, session: LoginSession, address: str
) -> dict[str, str]:
    """The browser's answer: through the loopback listener, or pasted (``--no-browser``)."""
    import webbrowser

    opened = False
    if session.open_browser:
        session.say(f"Opening your browser to log in to X. If it does not open, visit:\n{address}")
        opened = bool(webbrowser.open(address))
    if opened:
        deadline = time.monotonic() + LOGIN_TIMEOUT
        while (answer := receiver.poll()) is None:
            if time.monotonic() >= deadline:
                raise oauth.OAuthError(
                    "twitter",
                    f"no answer from X reached {receiver.redirect_uri} within "
                    f"{LOGIN_TIMEOUT:g} s: run {OAUTH1_COMMAND} again (with --no-browser to "
                    "paste the address instead)",
                    error="timeout",
                )
            await asyncio.sleep(oauth.POLL)
        return answer
    session.say(
        f"Open this address in a browser, log in to X and authorize the app:\n{address}\n"
        f"The browser then goes to {receiver.redirect_uri}?oauth_token=…&oauth_verifier=… "
        "(on another machine it shows an error page): copy that whole address."
    )
    text = session.ask(
        "Paste the address here (or just press Enter if the page said to close it): "
    )
    if not text.strip():
        answer = receiver.poll()
        if answer is None:
            raise oauth.OAuthError(
                "twitter",
                f"nothing was pasted and no answer reached {receiver.redirect_uri}: run "
                f"{OAUTH1_COMMAND} again",
                error="no_answer",
            )
        return answer
    return _oauth1_pasted(text)


def _oauth1_pasted(text: str) -> dict[str, str]:
    """The answer in a pasted address (or its query string)."""
    text = text.strip().strip("'\"<>")
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        query = parts.query
    elif parts.scheme or " " in text or "=" not in text:
        raise oauth.OAuthError(
            "twitter",
            "that is not the address the browser ended on: copy the whole address from the "
            "browser's address bar (it starts with http://127.0.0.1:)",
        )
    else:
        query = text.split("#", 1)[0].removeprefix("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    if "oauth_verifier" not in params and "denied" not in params:
        raise oauth.OAuthError(
            "twitter",
            "that address carries no answer from X (no oauth_verifier= in it): copy the "
            "address of the page the browser went to after you authorized the app",
        )
    if params.get("oauth_verifier"):
        redaction.register(params["oauth_verifier"])
    return params


def _oauth1_verifier(params: Mapping[str, str], request_token: str) -> str:
    """The ``oauth_verifier`` of an answer that belongs to this login's request token."""
    if "denied" in params:
        raise oauth.OAuthError(
            "twitter",
            "access was not granted (you cancelled, or X refused this app)",
            error="access_denied",
        )
    got = params.get("oauth_token", "")
    if not hmac.compare_digest(got.encode("utf-8"), request_token.encode("utf-8")):
        raise oauth.OAuthError(
            "twitter",
            f"the answer does not belong to this login (oauth_token mismatch); run "
            f"{OAUTH1_COMMAND} again",
            error="token_mismatch",
        )
    verifier = params.get("oauth_verifier", "")
    if not verifier:
        raise oauth.OAuthError("twitter", "X's answer carries no oauth_verifier", error="no_code")
    return redaction.register(verifier)


# -- publishing ------------------------------------------------------------------------


class _Session:
    """One publish: the Api, the credentials and the settings every step needs."""

    def __init__(
        self, ctx: PublishContext, api: Api, signer: _Signer, settings: TwitterSettings
    ) -> None:
        self.ctx = ctx
        self.api = api
        self.platform = ctx.platform
        self.settings = settings
        self.signer = signer
        self._me: str | None = None  # the account's user id, once read

    async def _send(
        self, method: str, url: str, *, create: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One request with the credentials; after X's 401 the OAuth 2.0 token is renewed
        once and the step repeated (a refused request did nothing, a create included)."""
        while True:
            try:
                if create:
                    return await self.api.create(method, url, **self.signer.apply(kwargs))
                return await self.api.call(method, url, **self.signer.apply(kwargs))
            except AuthError as exc:
                if await self.signer.recover(exc):
                    continue
                error = self.signer.refused(exc)
                if error is exc:
                    raise
                raise error from exc

    async def account(self) -> Account:
        """Who the credentials post as (``GET /2/users/me``)."""
        return _account_of(await self._send("GET", USERS_ME))

    # -- media -------------------------------------------------------------

    async def upload(self, media: MediaFile) -> str:
        """Upload one media file, wait for X to process it, set its alt text; its id."""
        if media.path is None:
            raise InvalidContentError(
                self.platform, f"{media.name}: X uploads a local file; give the media's path"
            )
        try:
            total = file_size(media.path)
        except OSError as exc:  # moved or deleted since the plan was made
            raise InvalidContentError(
                self.platform,
                f"{media.name}: cannot read the file ({exc.strerror}); nothing was posted",
            ) from exc
        gif = media.mime == "image/gif"
        image = "tweet_gif" if gif else "tweet_image"
        if media.is_image and total <= ONE_SHOT_BYTES:
            self.ctx.progress.step(self.platform, f"uploading {media.name}")
            data = await self._one_shot(media, media.path, total, image)
        else:
            what = "GIF" if gif else "video" if media.is_video else "image"
            self.ctx.progress.step(self.platform, f"uploading {what} {media.name}")
            category = image if media.is_image else self.settings.video_category
            data = await self._chunked(media, media.path, total, category)
        media_id = _media_id(self.platform, data, media)
        await self._processed(media, media_id, data)
        if media.alt:
            await self._alt_text(media, media_id, media.alt)
        return media_id

    async def _one_shot(
        self, media: MediaFile, path: Path, total: int, category: str
    ) -> dict[str, Any]:
        self.ctx.progress.upload_started(self.platform, media.name, total)
        body, headers = _multipart({"media_category": category}, path, 0, total, media)
        response = await self._send("POST", UPLOAD, content=body, headers=headers)
        self.ctx.progress.upload_advanced(self.platform, media.name, total)
        return _data(self.platform, response)

    async def _chunked(
        self, media: MediaFile, path: Path, total: int, category: str
    ) -> dict[str, Any]:
        chunk = _chunk_size(self.settings.chunk_size, total)
        if chunk > MAX_CHUNK:
            raise InvalidContentError(
                self.platform,
                f"{media.name}: {total} bytes is too large to upload to X "
                f"({MAX_SEGMENTS} chunks of at most {MAX_CHUNK} bytes)",
            )
        response = await self._send(
            "POST",
            f"{UPLOAD}/initialize",
            json={"media_type": media.mime, "total_bytes": total, "media_category": category},
        )
        media_id = _media_id(self.platform, _data(self.platform, response), media)
        self.ctx.progress.upload_started(self.platform, media.name, total)
        for index, start in enumerate(range(0, total, chunk)):
            end = min(start + chunk, total)
            # A fresh body per attempt, streamed from disk: a retried chunk is read
            # again and memory stays at one read buffer, whatever the video's size.
            body, headers = _multipart({"segment_index": str(index)}, path, start, end, media)
            await self._send("POST", f"{UPLOAD}/{media_id}/append", content=body, headers=headers)
            # Counted once the chunk is accepted, so a retried chunk is not counted twice.
            self.ctx.progress.upload_advanced(self.platform, media.name, end - start)
        response = await self._send("POST", f"{UPLOAD}/{media_id}/finalize")
        return _data(self.platform, response)

    async def _processed(self, media: MediaFile, media_id: str, data: dict[str, Any]) -> None:
        """Poll STATUS until X has processed the media (videos, GIFs); raise if it failed."""
        info = data.get("processing_info")
        deadline = time.monotonic() + self.ctx.poll_timeout
        announced = False
        while isinstance(info, dict):
            state = info.get("state")
            if state == "succeeded":
                return
            if state == "failed":
                raise InvalidContentError(
                    self.platform,
                    _processing_failed(media, info, self.settings.max_video_seconds),
                )
            if not announced:
                self.ctx.progress.step(self.platform, f"waiting for X to process {media.name}")
                announced = True
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransientError(
                    self.platform,
                    f"X was still processing {media.name} after {self.ctx.poll_timeout:g} "
                    "seconds; nothing was posted: try again later",
                )
            await asyncio.sleep(self._poll_delay(info, left))
            response = await self._send(
                "GET", UPLOAD, params={"command": "STATUS", "media_id": media_id}
            )
            info = _data(self.platform, response).get("processing_info")
        # No processing_info: X says the media is ready to attach.

    def _poll_delay(self, info: dict[str, Any], left: float) -> float:
        # X says when to look again (check_after_secs); tests set poll_interval
        # to 0, which means "do not sleep at all". A floor of half a second
        # keeps a "0" from X from turning into a busy loop.
        if self.ctx.poll_interval <= 0:
            return 0.0
        after = info.get("check_after_secs")
        wait = float(after) if isinstance(after, int | float) and after >= 0 else None
        return min(max(wait if wait is not None else self.ctx.poll_interval, 0.5), left)

    async def _alt_text(self, media: MediaFile, media_id: str, alt: str) -> None:
        # Alt text is worth having but not worth losing the post over: a failure
        # here is reported as a step and the post goes out without it.
        try:
            await self._send(
                "POST", METADATA, json={"id": media_id, "metadata": {"alt_text": {"text": alt}}}
            )
        except PlatformError as exc:
            self.ctx.progress.step(
                self.platform,
                redact(f"could not set the alt text of {media.name} ({exc}); posting without it"),
            )

    # -- posts -------------------------------------------------------------

    async def post_parts(self, post: Post, media_ids: list[str]) -> Published:
        """Create the post, then each further part as a reply to the one before.

        Before each create the journal gets what finds that part afterwards (its
        ``text``, its number ``part`` of ``parts``); after each answer, the ``ids``
        X gave so far (docs/reconcile.md, "X").
        """
        ids: list[str] = []
        count = len(post.parts)
        for number, part in enumerate(post.parts, start=1):
            body: dict[str, Any] = {"text": part.text}
            if number == 1 and media_ids:
                body["media"] = {"media_ids": media_ids}
            if ids:
                body["reply"] = {"in_reply_to_tweet_id": ids[-1]}
            step = "creating post" if count == 1 else f"posting part {number} of {count}"
            self.ctx.progress.step(self.platform, step)
            self.ctx.remember(text=part.text, part=number, parts=count)
            try:
                ids.append(await self._create(body, ids[-1] if ids else None))
            except PlatformError as exc:
                if not ids:
                    raise
                raise _partial(self.platform, exc, ids, count) from exc
            self.ctx.remember(ids=list(ids))
        return _published(ids)

    async def _create(self, body: dict[str, Any], reply_to: str | None) -> str:
        text = str(body.get("text", ""))
        sent = datetime.now(UTC)
        try:
            response = await self._send("POST", TWEETS, create=True, json=body)
        except UnknownOutcomeError as exc:
            return await self._landed(text, reply_to, sent, exc)
        except DuplicateError as exc:
            return await self._duplicate(text, reply_to, exc)
        data = json_body(response)
        post_id = data.get("data", {}).get("id") if isinstance(data, dict) else None
        if not isinstance(post_id, str) or not post_id.isdigit():
            # X acted on the request (2xx) but its answer has no id: it may be public.
            raise UnknownOutcomeError(
                self.platform,
                f"X answered {response.status_code} without a post id ({excerpt(response)}); "
                "the post may or may not have been published: check the account before "
                "publishing again",
                status=response.status_code,
            )
        return post_id

    async def _landed(
        self, text: str, reply_to: str | None, sent: datetime, exc: UnknownOutcomeError
    ) -> str:
        """After an ambiguous create in this run, look for the post on the timeline at once.

        The same lookup as ``reconcile`` (``find``). Found: its id. Not found: it
        was sent a moment ago, so absence proves nothing yet (``ctx.settle``): the
        outcome stays unknown and the next run looks again.
        """
        self.ctx.progress.step(self.platform, "the answer was lost: checking the timeline")
        try:
            lookup = await self.find(text, since=sent - CLOCK_SKEW, reply_to=reply_to)
        except PlatformError as error:
            raise UnknownOutcomeError(
                self.platform,
                f"{exc.message} (the timeline could not be read to check: {error.message})",
                status=exc.status,
            ) from exc
        if lookup.found is not None:
            return lookup.found
        raise UnknownOutcomeError(
            self.platform,
            f"{exc.message} (the post is not on the timeline yet; the next run looks again "
            "before anything is sent)",
            status=exc.status,
        ) from exc

    async def _duplicate(self, text: str, reply_to: str | None, exc: DuplicateError) -> str:
        """X refused the text as a duplicate: the post is most likely out already; find it.

        X gives no id with this refusal (docs/reconcile.md, "X"), so the newest
        ``DUPLICATE_LOOKBACK`` posts are searched for the same text. Found: it is
        the post. Not found: the refusal stands (the duplicate is older, or another
        post). The timeline unreadable: the outcome is unknown, not a failure.
        """
        self.ctx.progress.step(self.platform, "X says the post is a duplicate: finding it")
        try:
            lookup = await self.find(text, since=None, reply_to=reply_to, pages=1)
        except PlatformError as error:
            raise UnknownOutcomeError(
                self.platform,
                f"X refused the post as a duplicate of a recent post, so it is probably "
                f"published, but the timeline could not be read to find it ({error.message}); "
                "the next run looks again",
                status=exc.status,
            ) from exc
        if lookup.found is None:
            raise exc
        return lookup.found

    # -- finding posts -------------------------------------------------------

    async def _user_id(self) -> str:
        if self._me is None:
            account = await self.account()
            assert account.id is not None  # _account_of requires it
            self._me = account.id
        return self._me

    async def find(
        self,
        text: str,
        *,
        since: datetime | None,
        reply_to: str | None,
        pages: int = TIMELINE_PAGES,
    ) -> Lookup:
        """Look for this account's post with ``text`` on its timeline (safe, read-only calls).

        ``GET /2/users/me``, then ``GET /2/users/:id/tweets`` newest first, 100 at a
        time (``max_results`` 5..100), from ``since`` on (``start_time``; None: no
        bound), following ``meta.next_token`` for at most ``pages`` pages. X
        rewrites links to t.co, so links are compared as links (``_comparable``).
        A thread's later part must reply to ``reply_to``; a first part must be no
        reply. Raises the ``PlatformError`` of a failed read.
        """
        user_id = await self._user_id()
        params: dict[str, str] = {
            "max_results": str(TIMELINE_PAGE),
            "tweet.fields": "created_at,referenced_tweets",
        }
        if since is not None:
            # start_time is inclusive, in whole seconds; never after now (X refuses that).
            start = min(since, datetime.now(UTC) - CLOCK_SKEW)
            params["start_time"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        wanted = _comparable(text)
        for _ in range(pages):
            response = await self._send("GET", f"{API}/2/users/{user_id}/tweets", params=params)
            body = json_body(response)
            items = body.get("data") if isinstance(body, dict) else None
            for item in items if isinstance(items, list) else []:
                if _matches(item, wanted, since, reply_to):
                    return Lookup(str(item["id"]), complete=True)
            meta = body.get("meta") if isinstance(body, dict) else None
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not isinstance(token, str) or not token:
                return Lookup(None, complete=True)
            params["pagination_token"] = token
        return Lookup(None, complete=False)

    # -- reconcile -------------------------------------------------------------

    async def reconcile(self, post: Post, sent: Sent) -> Published | None:
        """Decide from the journal's handles and the timeline what became of a lost create.

        See ``reconcile`` (module level) and docs/reconcile.md, "X".
        """
        handles = sent.handles
        ids = [str(i) for i in handles.get("ids") or [] if str(i).isdigit()]
        parts = _int(handles.get("parts")) or len(post.parts) or 1
        if len(ids) >= parts:  # every answer came back; only the run's own record was lost
            return _published(ids[:parts])
        part = _int(handles.get("part")) or len(ids) + 1
        text = handles.get("text")
        if not isinstance(text, str) and part - 1 < len(post.parts):
            text = post.parts[part - 1].text  # an entry recorded without its text
        if part != len(ids) + 1 or not isinstance(text, str):
            # The next part was never sent (the run stopped between two parts).
            raise _unfinished(self.platform, ids, parts, "was not sent")
        settled = sent.age >= self.ctx.settle
        self.ctx.progress.step(self.platform, "looking for the post on the timeline")
        try:
            lookup = await self.find(
                text, since=sent.at - CLOCK_SKEW, reply_to=ids[-1] if ids else None
            )
        except PlatformError as error:
            raise UnknownOutcomeError(
                self.platform,
                f"cannot tell whether the post went out: X's timeline could not be read "
                f"({error.message}); the next run looks again",
                status=error.status,
            ) from error
        if lookup.found is not None:
            ids.append(lookup.found)
            if len(ids) == parts:
                return _published(ids)
            raise _unfinished(self.platform, ids, parts, "was not sent")
        if not lookup.complete:
            raise UnknownOutcomeError(
                self.platform,
                f"cannot tell whether the post went out: the account posted more than "
                f"{TIMELINE_PAGE * TIMELINE_PAGES} times since it was sent, too many to read; "
                "check the account",
            )
        if ids:
            state = "was not posted" if settled else "is not on the timeline yet (it may appear)"
            raise _unfinished(self.platform, ids, parts, state)
        if settled:
            return None  # X shows no such post long after it was sent: it never landed
        raise UnknownOutcomeError(
            self.platform,
            f"the post is not on X's timeline yet ({_ago(sent.age)} after it was sent; "
            f"X may still be showing it): the next run looks again, and publishes it once "
            f"{_ago(self.ctx.settle)} have passed without it appearing",
        )


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a timeline read found: the post's id, and whether every post in range was seen."""

    found: str | None
    complete: bool


def _matches(item: object, wanted: str, since: datetime | None, reply_to: str | None) -> bool:
    """Whether a timeline item is the post: its text, its time, its place in the thread."""
    if not isinstance(item, dict) or not str(item.get("id", "")).isdigit():
        return False
    if _comparable(str(item.get("text", ""))) != wanted:
        return False
    created = _timestamp(item.get("created_at"))
    if since is not None and created is not None and created < since:
        return False
    refs = item.get("referenced_tweets")
    replied = [
        str(r.get("id"))
        for r in (refs if isinstance(refs, list) else [])
        if isinstance(r, dict) and r.get("type") == "replied_to"
    ]
    return replied == ([reply_to] if reply_to else [])


def _published(ids: list[str]) -> Published:
    return Published(remote_id=ids[0], url=STATUS_URL.format(id=ids[0]), ids=tuple(ids))


def _unfinished(platform: str, ids: list[str], count: int, state: str) -> UnknownOutcomeError:
    """A thread found half out: never republished, a person finishes or removes it."""
    done = len(ids)
    urls = ", ".join(STATUS_URL.format(id=i) for i in ids)
    later = f"; {_parts(done + 2, count)} not sent" if done + 1 < count else ""
    return UnknownOutcomeError(
        platform,
        f"X published {_parts(1, done)} of the {count}-part thread ({urls}); part {done + 1} "
        f"{state}{later}. Publishing again would repeat the published parts, so crosspost "
        "will not: add the rest by hand as replies (or delete the published parts), then "
        "record what you did with crosspost resolve",
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _ago(seconds: float) -> str:
    minutes = max(int(seconds // 60), 0)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _comparable(text: str) -> str:
    """``text`` with every link replaced by a marker, for matching what X shows back."""
    out, last = [], 0
    for entity in twittertext.extract_urls(text):
        out += [text[last : entity.start], "<link>"]
        last = entity.end
    return " ".join(("".join(out) + text[last:]).split())


def _timestamp(value: object) -> datetime | None:
    """X's ``created_at`` (``2026-11-26T10:00:00.000Z``) as a UTC datetime."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _partial(platform: str, exc: PlatformError, ids: list[str], count: int) -> PlatformError:
    """The error for a thread that stopped after ``ids`` went out: it names what is public.

    Running the publish again would post those parts a second time, so the
    error is never one that invites a blind retry.
    """
    done = len(ids)
    urls = ", ".join(STATUS_URL.format(id=i) for i in ids)
    head = f"X published {_parts(1, done)} of the {count}-part thread ({urls})"
    rest = _parts(done + 1, count)
    undo = (
        "Do not publish this announcement to X again (it would repeat the published parts): "
        "add the rest by hand as replies, or delete the published parts first"
    )
    if isinstance(exc, ReplyRefusedError):
        # Since 23 Feb 2026 self-serve tiers may reply only where the author of the
        # post summoned the account (@mention or quote); a thread replies to itself
        # (https://docs.x.com/x-api/posts/manage-tweets/integrate). The runner
        # records the entry as unknown, since parts are public (docs/reconcile.md).
        return InvalidContentError(
            platform,
            f"{head}, then refused the reply that continues it ({exc.message}): since "
            "February 2026 X's self-serve API tiers may reply only where the author of the "
            f"post summoned the account, and this account's tier does not allow threads; "
            f"{rest} {'was' if done + 1 == count else 'were'} not posted. {undo}. Then set "
            "threads_allowed = false under [platforms.twitter] in the config (the default) "
            "so that later long texts are shortened to one post instead of threaded.",
            status=exc.status,
        )
    if isinstance(exc, UnknownOutcomeError):
        later = f"; {_parts(done + 2, count)} not sent" if done + 1 < count else ""
        return UnknownOutcomeError(
            platform,
            f"{head}; part {done + 1} may or may not have been published ({exc.message})"
            f"{later}. {undo}.",
            status=exc.status,
        )
    # A definite refusal mid-thread (a quota, a 400) still leaves a half-published
    # thread: it needs a person to look, like an unknown outcome, not a retry.
    return UnknownOutcomeError(
        platform,
        f"{head}, then refused part {done + 1} ({exc.message}); {rest} "
        f"{'was' if done + 1 == count else 'were'} not posted. {undo}.",
        status=exc.status,
    )


def _parts(first: int, last: int) -> str:
    """``part 2`` or ``parts 2-4``."""
    return f"part {first}" if first == last else f"parts {first}-{last}"


# -- helpers -----------------------------------------------------------------


def _chunk_size(configured: int, total: int) -> int:
    """The configured chunk size, grown when the file would need more than 1000 segments."""
    return max(min(configured, MAX_CHUNK), math.ceil(total / MAX_SEGMENTS))


def _multipart(
    fields: dict[str, str], path: Path, start: int, end: int, media: MediaFile
) -> tuple[ContentFactory, dict[str, str]]:
    """A multipart/form-data body factory: ``fields`` then bytes [start, end) of ``path``.

    Built by hand because httpx's ``files=`` needs the bytes (or a whole file)
    up front; this streams the chunk from disk on every attempt, with an exact
    Content-Length so no chunked transfer encoding is needed.
    """
    boundary = secrets.token_hex(16)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", media.name.rsplit("/", 1)[-1]) or "media"
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="media"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunks = file_chunks(path, start, end, name=media.name)

    def factory() -> AsyncIterator[bytes]:
        async def stream() -> AsyncIterator[bytes]:
            yield head
            piece = chunks()
            assert not isinstance(piece, bytes)  # file_chunks always streams
            async for data in piece:
                yield data
            yield tail

        return stream()

    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + (end - start) + len(tail)),
    }
    return factory, headers


def _data(platform: str, response: httpx.Response) -> dict[str, Any]:
    """The ``data`` object of an upload answer; a TransientError when it has none."""
    body = json_body(response)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        # Only upload steps get here; nothing is public yet, so trying again is safe.
        raise TransientError(
            platform,
            f"X answered {response.status_code} without the expected data ({excerpt(response)}); "
            "nothing was posted: try again later",
            status=response.status_code,
        )
    return data


def _media_id(platform: str, data: dict[str, Any], media: MediaFile) -> str:
    media_id = data.get("id")
    if not isinstance(media_id, str) or not media_id.isdigit():
        raise TransientError(
            platform,
            f"X accepted {media.name} but gave no media id; nothing was posted: try again later",
        )
    return media_id


def _processing_failed(media: MediaFile, info: dict[str, Any], longest: float) -> str:
    error = info.get("error")
    reason = error.get("message") if isinstance(error, dict) else None
    why = f": {redact(str(reason))}" if reason else ""
    hint = (
        f" (X takes MP4 or MOV, H.264 video with AAC audio, {MIN_VIDEO_SECONDS:g} to "
        f"{longest:g} seconds long)"
        if media.is_video
        else ""
    )
    return f"X could not process {media.name}{why}{hint}; nothing was posted"


# -- errors ------------------------------------------------------------------


def _problem(response: httpx.Response) -> tuple[str, str, list[int]]:
    """(problem type, the most specific human text, legacy error codes) of an error answer."""
    body = json_body(response)
    if not isinstance(body, dict):
        return "", excerpt(response), []
    kind = str(body.get("type") or "")
    messages: list[str] = []
    codes: list[int] = []
    errors = body.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                if isinstance(item.get("message"), str):
                    messages.append(item["message"])
                if isinstance(item.get("code"), int):
                    codes.append(item["code"])
    detail = body.get("detail")
    # A 400 carries a generic detail ("One or more parameters to your request
    # was invalid.") and the real reasons in errors[].message: prefer those.
    text = "; ".join(messages) or (detail if isinstance(detail, str) else "")
    text = text or str(body.get("title") or body.get("message") or "") or excerpt(response)
    return kind, redact(text), codes


def classify(response: httpx.Response) -> PlatformError:
    """The crosspost error for an X error answer (docs.x.com, response codes and errors)."""
    status = response.status_code
    kind, text, codes = _problem(response)
    platform = "twitter"
    if status == 401 or {32, 89}.intersection(codes):
        # Expired, revoked or badly signed: _Signer renews (OAuth 2.0) or says what to do.
        return _Unauthorized(platform, text, status=status)
    if status == 429 or kind.endswith("/usage-capped") or 88 in codes:
        capped = kind.endswith("/usage-capped")
        wait = retry_after(response)
        when = f" for {wait:.0f} seconds" if wait is not None else ""
        return RateLimitedError(
            platform,
            (
                f"X's usage cap for this app is used up ({text}); nothing was posted: try "
                "again when the cap resets, or raise the app's plan"
                if capped
                else f"X is rate limiting this account{when}; nothing was posted: try again later"
            ),
            status=status,
            retry_after=wait,
        )
    if status == 403:
        if _DUPLICATE.search(text) or 187 in codes:
            return DuplicateError(
                platform,
                "X refused the post as a duplicate of a recent post: it may already be "
                "published (check the account); change the text to post it again",
                status=status,
            )
        if _REPLY_REFUSED.search(text):
            return ReplyRefusedError(platform, f"X refused the reply: {text}", status=status)
        if kind.endswith(("/client-forbidden", "/not-authorized-for-resource")) or (
            _NOT_PERMITTED.search(text) or 326 in codes
        ):
            return AuthError(
                platform,
                f"X refused access: {text}. Check that the X app has read and write permission "
                "and that the token has the tweet.write, users.read and media.write scopes, "
                f"then run {LOGIN_COMMAND} (or {OAUTH1_COMMAND})",
                status=status,
            )
        return InvalidContentError(platform, f"X refused the post: {text}", status=status)
    if status in (400, 404, 413, 422):
        return InvalidContentError(platform, f"X refused the request: {text}", status=status)
    if status == 408 or status >= 500:
        return TransientError(
            platform,
            f"X had a temporary problem ({status}: {text}); try again later",
            status=status,
        )
    return PlatformError(platform, f"X answered {status}: {text}", status=status)
