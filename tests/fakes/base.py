"""The shared machinery of the fake platforms: routing, recording, fault injection.

A fake is a callable from ``httpx.Request`` to ``httpx.Response``. In-process it
sits behind ``httpx.MockTransport``; for end-to-end runs ``tests.fakes.server``
serves the same object over real loopback HTTP. Fakes are as strict as the
platforms: unknown paths, missing auth, wrong fields and over-long text get the
platform's real error shapes.
"""

from __future__ import annotations

import json as jsonlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

Handler = Callable[..., httpx.Response]


class Dropped(Exception):
    """Raised by a fault that drops the connection; in-process it becomes an httpx error."""


@dataclass
class Fault:
    """One injected failure: for requests whose ``METHOD path`` matches ``match``."""

    match: str
    status: int | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    after: bool = False  # apply after the real handler ran (the action happened)
    times: int = 1


class FakePlatform:
    """Base of the fake platforms: subclasses register routes with ``route``."""

    name = "fake"
    #: Set by ``World`` on the platform fakes: counts requests, kills the client (crash tests).
    gate: Tripwire | None = None

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.faults: list[Fault] = []
        self.delay = 0.0  # seconds added to every response (benchmarks)
        self.base_url = "http://testserver"  # the server sets the real origin
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._lock = threading.Lock()

    # -- wiring ------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer ``method`` requests whose path fully matches ``pattern`` with ``handler``.

        The handler gets the request and the pattern's named groups as keywords.
        """
        self._routes.append((method, re.compile(pattern), handler))

    def fail(
        self,
        match: str,
        status: int | None = None,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        drop: bool = False,
        after: bool = False,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` requests matching ``match`` (a regex over
        ``"METHOD /path"``) fail with ``status``/``json``, or drop the connection.
        With ``after``, the request is first handled for real (it landed), then the
        answer is lost: the ambiguous case."""
        self.faults.append(Fault(match, status, json, headers or {}, drop, after, times))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(_light(request))
        if self.delay:  # after recording: a client that gave up was still heard
            time.sleep(self.delay)
        with self._lock:
            fault = self._take_fault(request)
            if fault is not None and not fault.after:
                return self._apply(fault)
            response = self._dispatch(request)
            if fault is not None:
                return self._apply(fault)
            return response

    def _take_fault(self, request: httpx.Request) -> Fault | None:
        key = f"{request.method} {request.url.path}"
        for fault in self.faults:
            if fault.times > 0 and re.search(fault.match, key):
                fault.times -= 1
                return fault
        return None

    def _apply(self, fault: Fault) -> httpx.Response:
        if fault.drop:
            raise Dropped
        return httpx.Response(fault.status or 500, json=fault.json, headers=fault.headers)

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match:
                allowed = True
                if method == request.method:
                    return handler(request, **match.groupdict())
        return self.not_found(request, allowed)

    def not_found(self, request: httpx.Request, method_mismatch: bool) -> httpx.Response:
        """The platform's answer to an unknown path or method; subclasses give its shape."""
        return httpx.Response(405 if method_mismatch else 404, json={"error": "not found"})

    # -- helpers -----------------------------------------------------------

    def calls(self, pattern: str) -> list[httpx.Request]:
        """The recorded requests whose ``METHOD /path`` matches ``pattern``."""
        return [r for r in self.requests if re.search(pattern, f"{r.method} {r.url.path}")]

    def transport(self) -> httpx.MockTransport:
        """An in-process transport serving this fake (a dropped connection raises ReadError)."""

        def handler(request: httpx.Request) -> httpx.Response:
            try:
                return self(request)
            except Dropped:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                ) from None

        return httpx.MockTransport(handler)


#: Request bodies above this size are not kept in ``requests`` (a 1 GiB upload
#: would otherwise stay in the fake's memory); handlers still see the whole body.
KEEP_BODY = 1 << 20


def _light(request: httpx.Request) -> httpx.Request:
    if len(request.content) <= KEEP_BODY:
        return request
    return httpx.Request(request.method, request.url, headers=request.headers, content=b"")


def body_json(request: httpx.Request) -> Any:
    """The request's JSON body, or None when it is not JSON."""
    try:
        return jsonlib.loads(request.content or b"null")
    except ValueError:
        return None


def form(request: httpx.Request) -> dict[str, str]:
    """Query parameters and url-encoded form fields, merged (Graph accepts either)."""
    data = dict(request.url.params)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qsl

        data.update(parse_qsl(request.content.decode("utf-8")))
    elif ctype.startswith("application/json"):
        payload = body_json(request)
        if isinstance(payload, dict):
            data.update(
                {k: v if isinstance(v, str) else jsonlib.dumps(v) for k, v in payload.items()}
            )
    return data


def multipart(request: httpx.Request) -> tuple[dict[str, str], dict[str, bytes]]:
    """Fields and files of a multipart/form-data body (strictly parsed)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return {}, {}
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + request.content
    )
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[str(name)] = payload
        else:
            fields[str(name)] = payload.decode("utf-8")
    return fields, files


#: What the server does with one request: drop it unanswered without acting, serve
#: it, or serve it for real and then kill the client before the answer goes out.
Verdict = Literal["drop", "serve", "serve-then-kill"]


class Tripwire:
    """A request counter shared by every platform fake of a ``World``, and a kill switch.

    Every request that reaches a platform fake's server counts (the media host does
    not). Armed with ``arm(k, ...)``, the k-th request signals the client process:
    with SIGKILL either before the fake acts (``act=False``: nothing happened) or
    after it acted and before the answer is sent (``act=True``: the post exists but
    the client never hears). Once a SIGKILL fired, later requests are dropped
    unanswered, as a dead process sends nothing more. SIGINT and SIGTERM are sent
    when request k arrives and everything is served as usual: the process goes on
    and must stop by itself.

    The process id comes from ``watch(pid)``, called by the test right after it
    starts the process; a kill waits (up to ``PID_WAIT`` seconds) for it.
    """

    PID_WAIT = 10.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid_known = threading.Event()
        self._pid: int | None = None
        self.count = 0
        #: Requests that matched ``match`` (all of them when it is None).
        self.matched = 0
        self.match: str | None = None
        self.at: int | None = None
        self.act = False
        self.signal = signal.SIGKILL
        #: ``METHOD /path`` of the request that fired the signal, once it fired.
        self.fired: str | None = None
        #: How many requests with that same ``METHOD /path`` the run had made, that one included.
        self.fired_nth = 0
        #: ``METHOD /path`` of every counted request, in arrival order.
        self.log: list[str] = []
        #: Why a signal could not be sent (no pid in time), for the test to report.
        self.error: str | None = None

    def arm(
        self,
        k: int,
        *,
        act: bool = False,
        sig: signal.Signals = signal.SIGKILL,
        match: str | None = None,
    ) -> None:
        """Signal the process at the k-th request counted from now (1-based); with
        ``match``, at the k-th request whose ``METHOD /path`` matches that regex."""
        with self._lock:
            self.count = self.matched = self.fired_nth = 0
            self.at, self.act, self.signal, self.match = k, act, sig, match
            self.fired = self.error = None
            self.log = []

    def watch(self, pid: int) -> None:
        """The process to signal."""
        self._pid = pid
        self._pid_known.set()

    def disarm(self) -> None:
        """Stop signalling and dropping; the count restarts at zero."""
        with self._lock:
            self.count = self.matched = self.fired_nth = 0
            self.at = self.match = None
            self.fired = None
            self.log = []
            self._pid = None
            self._pid_known.clear()

    def before(self, request: httpx.Request) -> Verdict:
        """Count ``request`` as it arrives; say what the server should do with it."""
        with self._lock:
            key = f"{request.method} {request.url.path}"
            self.count += 1
            self.log.append(key)
            if self.fired is not None:
                return "drop" if self.signal == signal.SIGKILL else "serve"
            if self.match is None or re.search(self.match, key):
                self.matched += 1
            else:
                return "serve"
            if self.matched != self.at:
                return "serve"
            self.fired, self.fired_nth = key, self.log.count(key)
            verdict: Verdict = "serve"
            if self.signal == signal.SIGKILL:
                verdict = "serve-then-kill" if self.act else "drop"
        if verdict != "serve-then-kill":
            self.kill()
        return verdict

    def kill(self) -> None:
        """Send the armed signal to the watched process (waiting a little for its pid)."""
        if not self._pid_known.wait(self.PID_WAIT) or self._pid is None:
            self.error = f"no process id within {self.PID_WAIT:g} s; nothing was signalled"
            return
        try:
            os.kill(self._pid, self.signal)
        except ProcessLookupError:  # it already ended
            self.error = "the process had already ended when the signal was due"
