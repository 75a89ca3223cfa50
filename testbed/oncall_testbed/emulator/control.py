"""What wraps every request: auth, PagerDuty's rate limit, fault injection and the request log.

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
        # Per key, and per (key, "/oncalls") for the on-call list's own limit.
        self._hits: dict[bytes | tuple[bytes, str], collections.deque[float]] = {}
        self._error_rate = 0.0
        self._latency = 0.0
        self._error_status = 500
        self._scripts: list[ScriptedResponse] = []
        self._log: collections.deque[dict[str, Any]] = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self._random = random.Random()  # noqa: S311 - fault injection, not security

    # -- configuration (Python API and admin endpoints) ---------------------------------

    def set_rate_limit(self, per_minute: int, oncalls_per_minute: int | None = None) -> None:
        if per_minute < 1:
            raise ValueError("rate_limit: must be at least 1 request per minute")
        if oncalls_per_minute is not None and oncalls_per_minute < 1:
            raise ValueError("oncalls_rate_limit: must be at least 1 request per minute")
        with self._lock:
            self._rate_limit = per_minute
            if oncalls_per_minute is not None:
                self._oncalls_limit = oncalls_per_minute
            self._hits.clear()

    def set_token(self, token: str) -> None:
        """Accept `token` from now on and refuse the old one (a key rotated in PagerDuty's UI:
        the new key is made, the old one deleted); the admin endpoints need the new one too."""
        if not token:
            raise ValueError("token: must not be empty")
        with self._lock:
            self._token = token.encode()

    def set_faults(
        self, error_rate: float = 0.0, latency_seconds: float = 0.0, error_status: int = 500
    ) -> None:
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError("error_rate: must be between 0 and 1")
        if not 0.0 <= latency_seconds <= 60.0:
            raise ValueError("latency_seconds: must be between 0 and 60")
        if not 400 <= error_status <= 599:
            raise ValueError("error_status: must be an HTTP error status (400-599)")
        with self._lock:
            self._error_rate, self._latency = error_rate, latency_seconds
            self._error_status = error_status

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
            self._error_rate, self._latency, self._error_status = 0.0, 0.0, 500
            self._scripts.clear()
            self._log.clear()
            self._hits.clear()

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

    def take(self, key: bytes, path: str = "") -> tuple[bool, dict[str, str]]:
        """Count one request for `key`; (allowed, ratelimit-* headers). A request to /oncalls
        must fit both the account's limit and the on-call list's own, tighter one."""
        with self._lock:
            moment = time.monotonic()
            limits: list[tuple[bytes | tuple[bytes, str], int]] = [(key, self._rate_limit)]
            if path == ONCALLS_PATH:
                limits.append(((key, ONCALLS_PATH), self._oncalls_limit))
            windows = [(self._window(bucket, moment), limit) for bucket, limit in limits]
            allowed = all(len(hits) < limit for hits, limit in windows)
            if allowed:
                for hits, _ in windows:
                    hits.append(moment)
            # The headers describe the tightest limit this request is under.
            hits, limit = min(windows, key=lambda w: w[1] - len(w[0]))
            reset = math.ceil(hits[0] + RATE_WINDOW_SECONDS - moment) if hits else 0
            headers = {
                "ratelimit-limit": str(limit),
                "ratelimit-remaining": str(max(limit - len(hits), 0)),
                "ratelimit-reset": str(max(reset, 1) if not allowed else reset),
            }
            return allowed, headers

    def _window(self, bucket: bytes | tuple[bytes, str], moment: float) -> collections.deque[float]:
        hits = self._hits.setdefault(bucket, collections.deque())
        while hits and hits[0] <= moment - RATE_WINDOW_SECONDS:
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

    def record(self, request: web.Request, status: int) -> None:
        entry = {
            "method": request.method,
            "path": request.path_qs,
            "status": status,
            "time": datetime.now(UTC).isoformat(),
        }
        with self._lock:
            self._log.append(entry)


def middleware(controls: Controls) -> Middleware:
    """One aiohttp middleware doing, in order: log, auth, rate limit, faults, errors as JSON."""

    @web.middleware
    async def emulate(request: web.Request, handler: Handler) -> web.StreamResponse:
        is_admin = request.path.startswith(ADMIN_PREFIX)
        response = await _answer(controls, request, handler, is_admin)
        if not is_admin:
            controls.record(request, response.status)
        return response

    return emulate


async def _answer(
    controls: Controls, request: web.Request, handler: Handler, is_admin: bool
) -> web.StreamResponse:
    key = controls.authenticated(request)
    if key is None:
        return ApiError(401, AUTHENTICATION_FAILED, "Unauthorized").response()
    if is_admin:
        return await _handled(request, handler, {})
    allowed, headers = controls.take(key, request.path)
    if not allowed:
        return ApiError(429, RATE_LIMITED, "Rate Limit Exceeded").response(headers)
    fault, latency = controls.next_fault(request)
    if latency:
        await asyncio.sleep(latency)
    if fault is not None:
        for name, value in headers.items():  # a script's own headers win
            fault.headers.setdefault(name, value)
        return fault
    return await _handled(request, handler, headers)


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
    except Exception:  # a bug in the emulator: answer as PagerDuty would, and say so in the log
        _log.exception("emulator: %s %s failed", request.method, request.path)
        response = ApiError(500, None, "Internal Server Error").response()
    response.headers.update(headers)
    return response
