"""Typed PagerDuty REST API v2 operations for the operator, on python-pagerduty's RestApiV2Client.

The library speaks HTTP (auth header, Accept header, base URL); this module owns everything the
operator depends on: envelopes, pagination, one shared rate limiter, PagerDuty's ratelimit-* headers
heeded by every thread (`AccountQuota`), bounded retries that honour
`ratelimit-reset`, and errors as our own types. The token comes from a `TokenSource` (a string,
or a file re-read when it changes and after a 401, so a rotated Secret needs no restart) and
lives only there and inside the library's auth object: it is never logged, put in an exception or
shown by repr().
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, Self

import httpx2
import pagerduty

from oncall_operator.pagerduty.errors import (
    Forbidden,
    InUse,
    Invalid,
    NotFound,
    PagerDutyError,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from oncall_operator.pagerduty.ratelimit import AccountQuota, RateLimiter
from oncall_operator.pagerduty.token import TokenSource
from oncall_operator.settings import DEFAULT_API_URL, DEFAULT_TIMEOUT_SECONDS, PagerDutySettings

EU_API_URL = "https://api.eu.pagerduty.com"
PAGE_LIMIT = 100
OFFSET_CAP = 10_000  # PagerDuty answers 400 when offset + limit exceeds it
MAX_RATE_LIMIT_WAIT_SECONDS = 60.0
NEGATIVE_CACHE_SECONDS = 30.0

JSON = dict[str, Any]
log = logging.getLogger(__name__)


class ClientHooks(Protocol):
    """Observers of the client (metrics) without this package importing them."""

    def request_done(self, method: str, status: int | None, seconds: float) -> None: ...

    def rate_limit_waited(self, seconds: float) -> None: ...


class PagerDutyClient:
    """The PagerDuty operations the operator needs. Thread-safe; payloads without envelopes."""

    def __init__(
        self,
        token: str | TokenSource,
        *,
        api_url: str = DEFAULT_API_URL,
        ca_file: str | None = None,
        requests_per_minute: int = 900,
        user_cache_ttl_seconds: float = 300.0,
        max_retries: int = 3,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        hooks: ClientHooks | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`token`: the token, or a `TokenSource` that may change it (a file). `clock` and `sleep`
        are injectable so tests can see waits without waiting."""
        self._tokens = token if isinstance(token, TokenSource) else TokenSource.fixed(token)
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {max_retries}")
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, not {timeout_seconds}")
        self.api_url = api_url.rstrip("/")
        self.max_retries = max_retries
        self.user_cache_ttl_seconds = user_cache_ttl_seconds
        self._hooks = hooks
        self._clock = clock
        self._sleep = sleep
        self._limiter = RateLimiter(requests_per_minute, clock=clock, sleep=sleep)
        self._quota = AccountQuota(clock=clock, sleep=sleep)
        verify: ssl.SSLContext | bool = True
        if ca_file:
            verify = ssl.create_default_context()  # the system CAs, and the extra one below
            try:
                verify.load_verify_locations(cafile=ca_file)
            except (OSError, ssl.SSLError) as error:
                raise ValueError(f"CA file {ca_file!r} cannot be loaded: {error}") from None
        try:
            self._api = pagerduty.RestApiV2Client(
                self._tokens.current(), base_url=self.api_url, verify=verify
            )
        except pagerduty.UrlError as error:
            raise ValueError(f"PagerDuty API URL {self.api_url!r} is not usable: {error}") from None
        # Passed straight to httpx2, which takes float seconds; the library annotates it int.
        self._api.timeout = timeout_seconds  # type: ignore[assignment]
        # We retry ourselves (bounded, honouring ratelimit-reset). retry {429: 1} with
        # max_http_attempts -1 makes the library hand back the first 429 instead of sleeping
        # and retrying it without limit; max_network_attempts 0 raises the first network error.
        self._api.retry = {429: 1}
        self._api.max_http_attempts = -1
        self._api.max_network_attempts = 0
        # With its retries off, the library's only log lines are false "exceeded attempts" errors.
        logging.getLogger("pagerduty").setLevel(logging.CRITICAL)
        self._users: dict[str, tuple[float, JSON | None]] = {}
        self._users_lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: PagerDutySettings, hooks: ClientHooks | None = None, **options: Any
    ) -> Self:
        """`options`: more keyword arguments for the constructor (a subclass's own)."""
        token = settings.token()
        return cls(
            TokenSource.from_file(token) if isinstance(token, Path) else token,
            api_url=settings.api_url,
            ca_file=str(settings.ca_file) if settings.ca_file else None,
            requests_per_minute=settings.rate_limit,
            timeout_seconds=settings.timeout_seconds,
            hooks=hooks,
            **options,
        )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, hooks: ClientHooks | None = None
    ) -> PagerDutyClient:
        """The client the PAGERDUTY_* variables describe (see `settings.PagerDutySettings`)."""
        return cls.from_settings(PagerDutySettings.from_env(environ), hooks=hooks)

    def __repr__(self) -> str:
        return f"PagerDutyClient(api_url={self.api_url!r})"

    def close(self) -> None:
        self._api.close()

    # -- users ------------------------------------------------------------------------------------
    def find_user_by_email(self, email: str) -> JSON | None:
        """The user whose email matches exactly, ignoring case; cached (misses for less time)."""
        key = email.strip().lower()
        now = self._clock()
        with self._users_lock:
            cached = self._users.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = next(
            (
                u
                for u in self._list("users", {"query": key})
                if str(u.get("email", "")).lower() == key
            ),
            None,
        )
        ttl = (
            self.user_cache_ttl_seconds
            if found is not None
            else min(NEGATIVE_CACHE_SECONDS, self.user_cache_ttl_seconds)
        )
        with self._users_lock:
            self._users[key] = (now + ttl, found)
        return found

    def get_user(self, user_id: str) -> JSON:
        return self._get_one(f"users/{user_id}", "user")

    # -- teams ------------------------------------------------------------------------------------
    def get_team(self, team_id: str) -> JSON:
        return self._get_one(f"teams/{team_id}", "team")

    def find_teams(self, query: str) -> list[JSON]:
        return self._list("teams", {"query": query})

    def create_team(self, team: JSON) -> JSON:
        return self._send("POST", "teams", "team", team)

    def update_team(self, team_id: str, team: JSON) -> JSON:
        return self._send("PUT", f"teams/{team_id}", "team", team)

    def delete_team(self, team_id: str) -> None:
        self._request("DELETE", f"teams/{team_id}")

    def list_team_members(self, team_id: str) -> list[JSON]:
        return self._list(f"teams/{team_id}/members", {}, key="members")

    def set_team_member(self, team_id: str, user_id: str, role: str) -> None:
        self._request("PUT", f"teams/{team_id}/users/{user_id}", json={"role": role})

    def remove_team_member(self, team_id: str, user_id: str) -> None:
        self._request("DELETE", f"teams/{team_id}/users/{user_id}")

    # -- schedules --------------------------------------------------------------------------------
    def get_schedule(
        self,
        schedule_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        time_zone: str | None = None,
        layers: bool = True,
    ) -> JSON:
        """The schedule; with a window, its final schedule and each layer's entries rendered in it
        (`GET /schedules/{id}` always renders both). `layers=False` says the caller reads only
        the final schedule, which lets a read model answer from `GET /oncalls` instead."""
        del layers  # one request renders both here
        params: JSON = {}
        if since is not None:
            params["since"] = _iso(since)
        if until is not None:
            params["until"] = _iso(until)
        if time_zone:
            params["time_zone"] = time_zone
        return self._get_one(f"schedules/{schedule_id}", "schedule", params)

    def find_schedules(self, query: str) -> list[JSON]:
        """Schedules whose name contains `query`, with their layers (the list omits them unless
        asked, and never has final_schedule: NOTES.md, "Reading many objects at once")."""
        return self._list("schedules", {"query": query, "include[]": ["schedule_layers"]})

    def schedules_of_team(self, team_id: str) -> list[JSON]:
        """The schedules associated with a team, with their layers."""
        return self._list("schedules", {"team_ids[]": [team_id], "include[]": ["schedule_layers"]})

    def create_schedule(self, schedule: JSON) -> JSON:
        return self._send("POST", "schedules", "schedule", schedule)

    def update_schedule(self, schedule_id: str, schedule: JSON) -> JSON:
        return self._send("PUT", f"schedules/{schedule_id}", "schedule", schedule)

    def delete_schedule(self, schedule_id: str) -> None:
        self._request("DELETE", f"schedules/{schedule_id}")

    def list_oncalls(
        self, *, schedule_ids: Sequence[str], since: dt.datetime, until: dt.datetime
    ) -> list[JSON]:
        params: JSON = {
            "schedule_ids[]": list(schedule_ids),
            "since": _iso(since),
            "until": _iso(until),
        }
        return self._list("oncalls", params, key="oncalls")

    def list_overrides(
        self, schedule_id: str, *, since: dt.datetime, until: dt.datetime
    ) -> list[JSON]:
        """The schedule's overrides overlapping [since, until), whole (overflow)."""
        params: JSON = {"since": _iso(since), "until": _iso(until), "overflow": "true"}
        return self._list(f"schedules/{schedule_id}/overrides", params, key="overrides")

    def create_overrides(self, schedule_id: str, overrides: Sequence[JSON]) -> list[JSON]:
        """Create overrides in one request; each created one is returned in order. An item
        PagerDuty refused raises Invalid with its errors (the others stay created)."""
        path = f"schedules/{schedule_id}/overrides"
        body = self._request("POST", path, json={"overrides": list(overrides)})
        results = body.get(_LIST_BODY)
        if not isinstance(results, list):
            raise PagerDutyError("answer is not a list of overrides", method="POST", path=path)
        created, refused = [], []
        for result in results:
            if (
                isinstance(result, dict)
                and isinstance(result.get("override"), dict)
                and int(result.get("status") or 201) < 300
            ):
                created.append(result["override"])
                continue
            refused += [str(e) for e in (result or {}).get("errors") or ["refused"]]
        if refused:
            raise Invalid("PagerDuty refused an override", errors=refused, method="POST", path=path)
        return created

    def delete_override(self, schedule_id: str, override_id: str) -> None:
        """Delete a future override, or end one under way now (PagerDuty truncates it)."""
        self._request("DELETE", f"schedules/{schedule_id}/overrides/{override_id}")

    # -- escalation policies ----------------------------------------------------------------------
    def get_escalation_policy(self, policy_id: str) -> JSON:
        return self._get_one(f"escalation_policies/{policy_id}", "escalation_policy")

    def find_escalation_policies(self, query: str) -> list[JSON]:
        return self._list("escalation_policies", {"query": query})

    def escalation_policies_of_team(self, team_id: str) -> list[JSON]:
        return self._list("escalation_policies", {"team_ids[]": [team_id]})

    def create_escalation_policy(self, policy: JSON) -> JSON:
        return self._send("POST", "escalation_policies", "escalation_policy", policy)

    def update_escalation_policy(self, policy_id: str, policy: JSON) -> JSON:
        return self._send("PUT", f"escalation_policies/{policy_id}", "escalation_policy", policy)

    def delete_escalation_policy(self, policy_id: str) -> None:
        self._request("DELETE", f"escalation_policies/{policy_id}")

    # -- incidents and their log entries -----------------------------------------------------------
    def list_log_entries(self, *, since: dt.datetime, until: dt.datetime) -> list[JSON]:
        """Every log entry of the account in [since, until), each with its full incident (for
        the urgency): who was notified of what, and when (NOTES.md "Incidents, pages and teams")."""
        params: JSON = {
            "since": _iso(since),
            "until": _iso(until),
            "include[]": ["incidents"],
            "is_overview": "false",
        }
        return self._list("log_entries", params, key="log_entries")

    # -- plumbing ---------------------------------------------------------------------------------
    def _get_one(self, path: str, key: str, params: JSON | None = None) -> JSON:
        return _unwrap(self._request("GET", path, params=params), key, "GET", path)

    def _send(self, method: str, path: str, key: str, body: JSON) -> JSON:
        return _unwrap(self._request(method, path, json={key: body}), key, method, path)

    def _list(self, path: str, params: JSON, key: str | None = None) -> list[JSON]:
        """Every page of a classic offset-paginated list."""
        key = key or path.rsplit("/", 1)[-1]
        items: list[JSON] = []
        offset = 0
        while True:
            page = self._request(
                "GET", path, params={**params, "limit": PAGE_LIMIT, "offset": offset}
            )
            found = page.get(key)
            if not isinstance(found, list):
                raise PagerDutyError(f"answer has no {key!r} list", method="GET", path=path)
            items.extend(found)
            offset += len(found)
            if not page.get("more") or not found:
                return items
            if offset + PAGE_LIMIT > OFFSET_CAP:
                log.warning(
                    "GET %s: PagerDuty lists stop at %d items; the rest is unread", path, offset
                )
                return items

    def _request(
        self, method: str, path: str, *, params: JSON | None = None, json: JSON | None = None
    ) -> JSON:
        """One API call with bounded retries; returns the decoded body ({} for 204)."""
        attempt = 0
        reauthenticated = False
        while True:
            waited = self._limiter.acquire() + self._quota.start()
            if waited and self._hooks:
                self._hooks.rate_limit_waited(waited)
            started = time.monotonic()
            status: int | None = None
            response: httpx2.Response | None = None
            failure = ""
            delivered = True  # whether PagerDuty may have received the request
            try:
                token = self._use_current_token()
                response = self._api.request(method, path, params=params, json=json)
                status = response.status_code
            except pagerduty.HttpError as error:
                status = error.response.status_code if error.response is not None else None
                response = error.response
            except (pagerduty.Error, httpx2.TransportError) as error:
                cause = error.__cause__ or error
                failure = type(cause).__name__
                delivered = not isinstance(cause, (httpx2.ConnectError, httpx2.ConnectTimeout))
            finally:
                elapsed = time.monotonic() - started
                self._quota.finish(**_quota_word(response))
                if self._hooks:
                    self._hooks.request_done(method, status, elapsed)
            log.debug("%s %s -> %s (%.2fs)", method, path, status or "no response", elapsed)
            if response is not None and response.is_success:
                return _decode(response) if response.status_code != 204 else {}
            if response is not None and response.status_code == 401 and not reauthenticated:
                # A rotated token: the file may hold a new one (or another thread read it already).
                self._tokens.reread()
                if self._tokens.current() != token:
                    reauthenticated = True
                    continue
            retry_in = self._retry_delay(response, attempt)
            if response is None and delivered and method == "POST":
                # A create whose answer never came may have been made: sent again it could make
                # a second object. The caller looks for it before creating (find-before-create).
                retry_in = None
            if retry_in is not None and attempt < self.max_retries:
                attempt += 1
                if response is None or response.status_code != 429:
                    self._sleep(retry_in)
                # After a 429 the quota holds this and every other thread until the reset.
                continue
            if response is None:
                raise Unavailable(
                    f"PagerDuty could not be reached ({failure}) after {attempt + 1} attempts",
                    method=method,
                    path=path,
                )
            raise _error_for(response, method, path, attempt + 1)

    def _use_current_token(self) -> str:
        """The token this request sends: the source's current one, handed to the library."""
        token = self._tokens.current()
        auth = self._api.auth_method
        if auth.secret != token:
            auth.secret = token
        return token

    def _retry_delay(self, response: httpx2.Response | None, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        if response is None or response.status_code >= 500:
            return min(2.0**attempt, 30.0)
        if response.status_code == 429:
            return _reset_seconds(response)
        return None


def _reset_seconds(response: httpx2.Response) -> float:
    raw = response.headers.get("ratelimit-reset", "")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RATE_LIMIT_WAIT_SECONDS)


def _quota_word(response: httpx2.Response | None) -> dict[str, Any]:
    """What an answer tells `AccountQuota` (see `AccountQuota.finish`)."""
    if response is None:
        return {}
    if response.status_code == 429:
        return {"rate_limited": True, "reset_seconds": _reset_seconds(response)}
    try:
        remaining: int | None = int(response.headers.get("ratelimit-remaining", ""))
    except ValueError:
        remaining = None
    try:
        reset: float | None = float(response.headers.get("ratelimit-reset", ""))
    except ValueError:
        reset = None
    return {"succeeded": response.is_success, "remaining": remaining, "reset_seconds": reset}


_LIST_BODY = "_list"  # where a body that is a JSON array (POST overrides) is put


def _decode(response: httpx2.Response) -> JSON:
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, list):
        return {_LIST_BODY: body}
    return body if isinstance(body, dict) else {}


def _unwrap(body: JSON, key: str, method: str, path: str) -> JSON:
    found = body.get(key)
    if not isinstance(found, dict):
        raise PagerDutyError(f"answer has no {key!r} object", method=method, path=path)
    return found


def _error_for(response: httpx2.Response, method: str, path: str, attempts: int) -> PagerDutyError:
    status = response.status_code
    error = _decode(response).get("error") or {}
    message = str(error.get("message") or response.reason_phrase or f"HTTP {status}")
    errors = [str(e) for e in error.get("errors") or []]
    where: dict[str, Any] = {"method": method, "path": path, "status": status}
    detail = f"{message}: {'; '.join(errors)}" if errors else message
    if status == 429:
        return RateLimited(
            f"rate limited by PagerDuty on {attempts} attempts",
            reset_seconds=_reset_seconds(response),
            **where,
        )
    if status == 401:
        return Unauthorized("PagerDuty refused the API token (401 Unauthorized)", **where)
    if status == 403:
        return Forbidden(f"the API token may not do this (403): {detail}", **where)
    if status == 404:
        return NotFound(f"not found in PagerDuty ({detail})", **where)
    if status == 400 and _means_in_use(detail):
        return InUse(detail, **where)
    if status in (400, 402, 409, 422):
        return Invalid(message, errors=errors, **where)
    if status >= 500:
        return Unavailable(f"PagerDuty answered {status} on {attempts} attempts: {detail}", **where)
    return PagerDutyError(f"unexpected answer {status}: {detail}", **where)


def _means_in_use(detail: str) -> bool:
    text = detail.lower()
    return (
        "being used" in text
        or "in use" in text
        or "can't be deleted" in text
        or "cannot be deleted" in text
    )


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("PagerDuty times must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
