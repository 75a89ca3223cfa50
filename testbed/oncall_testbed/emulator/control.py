"""What wraps every request: auth, PagerDuty's rate limit, fault injection and the request log.

A 429 tells the key to wait `ratelimit-reset` seconds (NOTES.md "Rate limit"; PagerDuty's
"REST API rate limits": "wait until the time in ratelimit-reset"). The emulator remembers that
moment and records every request of the key that arrives before it: `early_requests()` is the
witness that a client honours the reset (PagerDuty itself just answers 429 again).

Controls is shared by the HTTP middleware (server thread) and the Python API (caller's thread),
so every change goes through its lock.
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import logging
import math
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from oncall_testbed.emulator.errors import (
    AUTHENTICATION_FAILED,
    RATE_LIMITED,
    ApiError,
    not_found,
)

ADMIN_PREFIX = "/_emulator/"
RATE_WINDOW_SECONDS = 60.0
REQUEST_LOG_SIZE = 10_000  # the newest requests; a long-running demo must not grow forever
DEFAULT_RATE_LIMIT = 960  # per minute per key (PagerDuty support docs, "REST API rate limits")
# GET /oncalls has "its own, tighter" limit (PagerDuty support docs "REST API rate limits"; staff
# in community thread 151) whose figure PagerDuty does not publish: a quarter of the account's
# limit stands in for it, and both can be set.
DEFAULT_ONCALLS_RATE_LIMIT = 240
ONCALLS_PATH = "/oncalls"

_log = logging.getLogger(__name__)

Bucket = bytes | tuple[bytes, str]  # a key, or (key, "/oncalls") for the on-call list's own limit
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class ScriptedResponse:
    """A canned answer for the next `times` requests matching method and path."""

    method: str
    path: str
    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    times: int = 1

    def matches(self, request: web.Request) -> bool:
        path = request.path_qs if "?" in self.path else request.path
        return self.method == request.method and self.path == path

    def response(self) -> web.Response:
        if self.body is None and self.status >= 400:
            body: Any = ApiError(self.status, None, _reason(self.status)).body()
        else:
            body = self.body
        if body is None:
            return web.Response(status=self.status, headers=self.headers)
        return web.json_response(body, status=self.status, headers=self.headers)


def _reason(status: int) -> str:
    return web.Response(status=status).reason or "Error"


class Controls:
    """Rate limit, faults, scripted responses and the request log of one emulator."""

    def __init__(
        self,
        token: str,
        rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
        oncalls_rate_limit_per_minute: int = DEFAULT_ONCALLS_RATE_LIMIT,
    ) -> None:
        self._token = self._initial_token = token.encode()
        self._lock = threading.Lock()
        self._initial_rate_limit = self._rate_limit = rate_limit_per_minute
        self._initial_oncalls_limit = self._oncalls_limit = oncalls_rate_limit_per_minute
        self._window_seconds = RATE_WINDOW_SECONDS
        # Per key, and per (key, "/oncalls") for the on-call list's own limit.
        self._hits: dict[Bucket, collections.deque[float]] = {}
        # The moment (time.monotonic) before which a 429 told the bucket's key to send nothing.
        self._resets: dict[Bucket, float] = {}
        self._early: collections.deque[dict[str, Any]] = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self._error_rate = 0.0
        self._latency = 0.0
        self._error_status = 500
        self._slow_rate = 0.0
        self._slow_seconds = 0.0
        self._drop_rate = 0.0
        self._scripts: list[ScriptedResponse] = []
        self._log: collections.deque[dict[str, Any]] = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self._random = random.Random()  # noqa: S311 - fault injection, not security

    # -- configuration (Python API and admin endpoints) ---------------------------------

    def set_rate_limit(
        self,
        per_minute: int,
        oncalls_per_minute: int | None = None,
        window_seconds: float = RATE_WINDOW_SECONDS,
    ) -> None:
        """The limits, counted over a sliding `window_seconds` (PagerDuty's is a minute; a test
        may shorten it to see many windows, and every reset, in seconds)."""
        if not 1.0 <= window_seconds <= RATE_WINDOW_SECONDS:
            raise ValueError(f"window_seconds: must be between 1 and {RATE_WINDOW_SECONDS:g}")
        if per_minute < 1:
            raise ValueError("rate_limit: must be at least 1 request per minute")
        if oncalls_per_minute is not None and oncalls_per_minute < 1:
            raise ValueError("oncalls_rate_limit: must be at least 1 request per minute")
        with self._lock:
            self._rate_limit = per_minute
            self._window_seconds = window_seconds
            if oncalls_per_minute is not None:
                self._oncalls_limit = oncalls_per_minute
            self._hits.clear()
            self._resets.clear()

    def set_token(self, token: str) -> None:
        """Accept `token` from now on and refuse the old one (a key rotated in PagerDuty's UI:
        the new key is made, the old one deleted); the admin endpoints need the new one too."""
        if not token:
            raise ValueError("token: must not be empty")
        with self._lock:
            self._token = token.encode()

    def set_faults(
        self,
        error_rate: float = 0.0,
        latency_seconds: float = 0.0,
        error_status: int = 500,
        slow_rate: float = 0.0,
        slow_seconds: float = 0.0,
        drop_rate: float = 0.0,
    ) -> None:
        """`error_rate` of requests answered `error_status` (not carried out), every request
        `latency_seconds` late; and, after the request was carried out (an object created),
        `slow_rate` of them answered `slow_seconds` late and `drop_rate` of them never answered:
        the connection is closed instead (a client's timeout and a lost connection)."""
        for name, rate in (("error_rate", error_rate), ("slow_rate", slow_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name}: must be between 0 and 1")
        if not 0.0 <= drop_rate <= 1.0:
            raise ValueError("drop_rate: must be between 0 and 1")
        for name, seconds in (("latency_seconds", latency_seconds), ("slow_seconds", slow_seconds)):
            if not 0.0 <= seconds <= 60.0:
                raise ValueError(f"{name}: must be between 0 and 60")
        if slow_rate and not slow_seconds:
            raise ValueError("slow_seconds: must be more than 0 when slow_rate is set")
        if not 400 <= error_status <= 599:
            raise ValueError("error_status: must be an HTTP error status (400-599)")
        with self._lock:
            self._error_rate, self._latency = error_rate, latency_seconds
            self._error_status = error_status
            self._slow_rate, self._slow_seconds = slow_rate, slow_seconds
            self._drop_rate = drop_rate

    def script_response(self, script: ScriptedResponse) -> None:
        if not 100 <= script.status <= 599:
            raise ValueError("status: must be an HTTP status")
        if script.times < 1:
            raise ValueError("times: must be at least 1")
        if not script.path.startswith("/"):
            raise ValueError("path: must start with /")
        with self._lock:
            self._scripts.append(script)

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._log]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()
            self._early.clear()

    def early_requests(self) -> list[dict[str, Any]]:
        """Requests that arrived before the `ratelimit-reset` of a 429 their key was answered:
        [{method, path, time, early_seconds}] (how long before the reset each came)."""
        with self._lock:
            return [dict(entry) for entry in self._early]

    def take_requests(self) -> list[dict[str, Any]]:
        """The log so far, emptied in the same step (no request is missed between the two)."""
        with self._lock:
            taken = [dict(entry) for entry in self._log]
            self._log.clear()
            return taken

    def reset(self) -> None:
        """Back to a quiet emulator: no faults or scripts, empty log, the initial rate limit and
        token."""
        with self._lock:
            self._token = self._initial_token
            self._rate_limit = self._initial_rate_limit
            self._oncalls_limit = self._initial_oncalls_limit
            self._window_seconds = RATE_WINDOW_SECONDS
            self._error_rate, self._latency, self._error_status = 0.0, 0.0, 500
            self._slow_rate, self._slow_seconds, self._drop_rate = 0.0, 0.0, 0.0
            self._scripts.clear()
            self._log.clear()
            self._early.clear()
            self._hits.clear()
            self._resets.clear()

    # -- the request path ------------------------------------------------------------------

    def authenticated(self, request: web.Request) -> bytes | None:
        """The key the request carries if it is the emulator's token, else None."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme not in ("Token", "Bearer"):
            return None
        key = value.removeprefix("token=").encode() if scheme == "Token" else value.encode()
        with self._lock:
            accepted = self._token
        return key if hmac.compare_digest(key, accepted) else None

    def take(self, key: bytes, path: str = "") -> tuple[bool, dict[str, str], float]:
        """Count one request for `key`; (allowed, ratelimit-* headers, seconds it came before
        the reset of an earlier 429, 0 when it did not). A request to /oncalls must fit both the
        account's limit and the on-call list's own, tighter one."""
        with self._lock:
            moment = time.monotonic()
            limits: list[tuple[Bucket, int]] = [(key, self._rate_limit)]
            if path == ONCALLS_PATH:
                limits.append(((key, ONCALLS_PATH), self._oncalls_limit))
            early = max(self._resets.get(bucket, moment) - moment for bucket, _ in limits)
            windows = [(self._window(bucket, moment), limit) for bucket, limit in limits]
            allowed = all(len(hits) < limit for hits, limit in windows)
            if allowed:
                for hits, _ in windows:
                    hits.append(moment)
            # The headers describe the tightest limit this request is under.
            hits, limit = min(windows, key=lambda w: w[1] - len(w[0]))
            reset = math.ceil(hits[0] + self._window_seconds - moment) if hits else 0
            if not allowed:
                reset = max(reset, 1)
                for (bucket, _), (full, bucket_limit) in zip(limits, windows, strict=True):
                    if len(full) >= bucket_limit:
                        self._note_reset(
                            bucket, moment + math.ceil(full[0] + self._window_seconds - moment)
                        )
            headers = {
                "ratelimit-limit": str(limit),
                "ratelimit-remaining": str(max(limit - len(hits), 0)),
                "ratelimit-reset": str(reset),
            }
            return allowed, headers, max(early, 0.0)

    def answered_429(self, key: bytes, headers: Any) -> None:
        """A 429 not of the rate limit's own (scripted, or an injected error) also tells the key
        to wait its `ratelimit-reset`."""
        try:
            seconds = float(headers.get("ratelimit-reset", ""))
        except ValueError:
            return
        with self._lock:
            self._note_reset(key, time.monotonic() + seconds)

    def _note_reset(self, bucket: Bucket, until: float) -> None:
        self._resets[bucket] = max(self._resets.get(bucket, until), until)

    def _window(self, bucket: Bucket, moment: float) -> collections.deque[float]:
        hits = self._hits.setdefault(bucket, collections.deque())
        while hits and hits[0] <= moment - self._window_seconds:
            hits.popleft()
        return hits

    def next_fault(self, request: web.Request) -> tuple[web.Response | None, float]:
        """A scripted or random error response for this request (or None) and latency to add."""
        with self._lock:
            for script in self._scripts:
                if script.matches(request):
                    script.times -= 1
                    if script.times == 0:
                        self._scripts.remove(script)
                    return script.response(), self._latency
            if self._error_rate and self._random.random() < self._error_rate:
                error = ApiError(self._error_status, None, _reason(self._error_status))
                return error.response(), self._latency
            return None, self._latency

    def after_handling(self) -> tuple[float, bool]:
        """For a request carried out: seconds to hold its answer back, and whether to drop it."""
        with self._lock:
            drop = bool(self._drop_rate) and self._random.random() < self._drop_rate
            slow = bool(self._slow_rate) and self._random.random() < self._slow_rate
            return (self._slow_seconds if slow else 0.0), drop

    def record(self, request: web.Request, status: int | None, early_seconds: float = 0.0) -> None:
        """Log the request (status None: the connection was closed without an answer)."""
        entry = {
            "method": request.method,
            "path": request.path_qs,
            "status": status,
            "time": datetime.now(UTC).isoformat(),
        }
        with self._lock:
            self._log.append(entry)
            if early_seconds > 0:
                early = {k: entry[k] for k in ("method", "path", "time")}
                self._early.append({**early, "early_seconds": round(early_seconds, 3)})


def middleware(controls: Controls) -> Middleware:
    """One aiohttp middleware doing, in order: log, auth, rate limit, faults, errors as JSON."""

    @web.middleware
    async def emulate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            if controls.authenticated(request) is None:
                return ApiError(401, AUTHENTICATION_FAILED, "Unauthorized").response()
            return await _handled(request, handler, {})
        response, early_seconds, drop = await _answer(controls, request, handler)
        transport = request.transport
        unanswered = drop or transport is None or transport.is_closing()
        controls.record(request, None if unanswered else response.status, early_seconds)
        if drop and transport is not None:
            # Carried out, never answered: aiohttp finds the connection closed and writes nothing.
            transport.close()
        return response

    return emulate


async def _answer(
    controls: Controls, request: web.Request, handler: Handler
) -> tuple[web.StreamResponse, float, bool]:
    """The answer to a PagerDuty request, how long before a 429's reset it came (or 0), and
    whether to close the connection instead of answering."""
    key = controls.authenticated(request)
    if key is None:
        return ApiError(401, AUTHENTICATION_FAILED, "Unauthorized").response(), 0.0, False
    allowed, headers, early_seconds = controls.take(key, request.path)
    if not allowed:
        limited = ApiError(429, RATE_LIMITED, "Rate Limit Exceeded").response(headers)
        return limited, early_seconds, False
    fault, latency = controls.next_fault(request)
    if latency:
        await asyncio.sleep(latency)
    if fault is not None:
        for name, value in headers.items():  # a script's own headers win
            fault.headers.setdefault(name, value)
        if fault.status == 429:
            controls.answered_429(key, fault.headers)
        return fault, early_seconds, False
    response = await _handled(request, handler, headers)
    hold_back, drop = controls.after_handling()
    if hold_back:
        await asyncio.sleep(hold_back)
    return response, early_seconds, drop


async def _handled(
    request: web.Request, handler: Handler, headers: dict[str, str]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except ApiError as error:
        response = error.response()
    except web.HTTPNotFound:
        response = not_found().response()
    except web.HTTPMethodNotAllowed as error:
        response = ApiError(405, None, "Method Not Allowed").response(
            {"Allow": ",".join(sorted(error.allowed_methods))}
        )
    except ConnectionResetError:  # the client went away before its request was read: no bug
        _log.info("emulator: %s %s: the client went away", request.method, request.path)
        response = ApiError(500, None, "Internal Server Error").response()
    except Exception:  # a bug in the emulator: answer as PagerDuty would, and say so in the log
        _log.exception("emulator: %s %s failed", request.method, request.path)
        response = ApiError(500, None, "Internal Server Error").response()
    response.headers.update(headers)
    return response
