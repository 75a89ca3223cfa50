"""Reading PagerDuty requests: query parameters, JSON bodies, and offset pagination of lists."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from oncall_testbed.emulator import rendering
from oncall_testbed.emulator.errors import invalid
from oncall_testbed.emulator.layers import Window, instant
from oncall_testbed.emulator.state import JSONDict

PAGINATION_CAP = 10_000  # offset + limit beyond this is answered 400
MAX_LIMIT = 100
DEFAULT_LIMIT = 25


def page(request: web.Request, key: str, items: list[JSONDict]) -> web.Response:
    """PagerDuty's offset pagination: limit capped at 100, offset + limit at most 10,000."""
    limit = min(int_query(request, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    offset = int_query(request, "offset", 0)
    if limit < 1:
        raise invalid("limit: must be at least 1")
    if offset < 0:
        raise invalid("offset: must not be negative")
    if offset + limit > PAGINATION_CAP:
        raise invalid(f"Offset must be less than or equal to {PAGINATION_CAP} minus limit")
    body = {
        key: items[offset : offset + limit],
        "offset": offset,
        "limit": limit,
        "more": offset + limit < len(items),
        "total": len(items) if flag(request, "total") else None,
    }
    return web.json_response(body)


def matching_name(objects: Iterable[JSONDict], request: web.Request) -> list[JSONDict]:
    """The objects whose name contains `query`, case-insensitively."""
    query = request.query.get("query", "").lower()
    return [o for o in objects if query in o["name"].lower()]


def ids(request: web.Request, name: str) -> set[str]:
    """An array filter such as `team_ids[]=A&team_ids[]=B`."""
    return set(request.query.getall(f"{name}[]", []))


def includes(request: web.Request) -> set[str]:
    """What `include[]=…` asks to add to each object."""
    return set(request.query.getall("include[]", []))


def int_query(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid(f"{name}: expected an integer, got {raw[:40]!r}") from None


def flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() == "true"


def query_instant(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        return instant(raw)
    except ValueError:
        raise invalid(f"{name}: not an ISO 8601 date-time: {raw[:40]!r}") from None


def window(
    request: web.Request, *, default_since: datetime, default_until: datetime, longest: timedelta
) -> Window:
    """`since`..`until` from the query (defaults as given), at most `longest` long."""
    since = query_instant(request, "since") or default_since
    until = query_instant(request, "until") or default_until
    if until < since:
        raise invalid("until: must not be before since")
    if until - since > longest:
        raise invalid(f"until: the range from since may be at most {longest.days} days")
    return since, until


def schedule_window(request: web.Request, default_length: timedelta) -> Window | None:
    """The rendering range of GET /schedules/{id}: none unless `since` or `until` is given."""
    since, until = query_instant(request, "since"), query_instant(request, "until")
    if since is None and until is None:
        return None
    if since is None:
        assert until is not None
        since = until - default_length
    if until is None:
        until = since + default_length
    if until < since:
        raise invalid("until: must not be before since")
    return since, until


def time_zone(request: web.Request, default: str) -> str:
    zone_name = request.query.get("time_zone", default)
    check_zone(zone_name, "time_zone")
    return zone_name


def check_zone(zone_name: str, field: str) -> None:
    try:
        rendering.schedule_zone(zone_name)
    except ValueError:
        raise invalid(f"{field}: unknown time zone {zone_name[:64]!r}") from None


async def json_body(request: web.Request, *, required: bool) -> Any:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise invalid("The request body is empty.")
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None
