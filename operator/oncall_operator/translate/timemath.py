"""Local wall-clock time in an IANA zone <-> instants, and RFC 3339 text.

The DST rule shared with the emulator (written independently there): a local time that does
not exist (spring-forward gap) means the transition instant; an ambiguous one (fall-back)
means its first occurrence (fold=0).
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from functools import cache

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


@cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def wall_clock(instant: dt.datetime, time_zone: str) -> dt.datetime:
    """The naive local date-time an aware instant shows in the zone."""
    return instant.astimezone(zone(time_zone)).replace(tzinfo=None)


def localise(local: dt.datetime, time_zone: str) -> dt.datetime:
    """The UTC instant of a naive local date-time (gap -> transition, ambiguous -> first)."""
    first = local.replace(tzinfo=zone(time_zone), fold=0).astimezone(dt.UTC)
    if wall_clock(first, time_zone) == local:
        return first
    # In a gap fold=1 reads the later offset: an instant before the transition; fold=0 is after.
    before = math.floor(local.replace(tzinfo=zone(time_zone), fold=1).timestamp())
    after = math.ceil(first.timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if wall_clock(dt.datetime.fromtimestamp(middle, dt.UTC), time_zone) >= local:
            after = middle
        else:
            before = middle
    return dt.datetime.fromtimestamp(after, dt.UTC)


def rfc3339(instant: dt.datetime, time_zone: str = "UTC") -> str:
    """Whole-second RFC 3339 text with the zone's offset at that instant ("Z" for UTC)."""
    text = instant.astimezone(zone(time_zone)).isoformat(timespec="seconds")
    return text.removesuffix("+00:00") + "Z" if time_zone == "UTC" else text


def parse_instant(text: object, what: str) -> dt.datetime:
    """An aware instant from RFC 3339 text (PagerDuty's format); names `what` when it is not."""
    if isinstance(text, dt.datetime):
        value = text
    else:
        try:
            value = dt.datetime.fromisoformat(str(text))
        except ValueError:
            raise ValueError(f"{what} {text!r} is not an RFC 3339 date-time") from None
    if value.tzinfo is None:
        raise ValueError(f"{what} {text!r} has no UTC offset")
    return value.astimezone(dt.UTC)


def require_aware(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware date-time, got {value!r}")
    return value
