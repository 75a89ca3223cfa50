"""Who is on call: render PagerDuty schedule layers into entries, as PagerDuty does.

Written from PagerDuty's spec and docs, independently of the operator's translation code, so a
bug in one is caught by the other. All arithmetic is done on UTC instants; entries are in UTC.

Semantics (one rule a line):
- A layer is active on [start, end); `end` null or missing means it never ends; outside it renders
  nothing; a layer whose end is not after its start renders nothing.
- Turns are anchored at `rotation_virtual_start` (may be before `start`); turn k covers
  [boundary(k), boundary(k+1)) and is taken by users[k mod n]; k is negative before the anchor.
- DST rule (no PagerDuty source says; the emulator's choice): handoffs keep the schedule's local
  wall-clock time: boundary(k) = localise(anchor's naive local wall-clock + k * turn length).
- localise(): a nonexistent local time (spring-forward gap) moves forward to the first existing
  instant (the transition); an ambiguous one (fall-back) takes the first occurrence (fold=0).
- The anchor is read as local wall-clock time; one in the repeated hour of a fall-back therefore
  means its first occurrence.
- So a turn that ends in a gap is shortened, one that crosses a fall-back is lengthened, and a
  turn lying wholly inside a gap has zero length and renders nothing.
- Restrictions are local wall-clock in the schedule time zone: a daily_restriction window starts
  every day at start_time_of_day; a weekly_restriction window starts on start_day_of_week (ISO,
  Monday = 1) at start_time_of_day; either may run past midnight or past Sunday.
- A window's end is its local start plus duration_seconds in wall-clock time, then localised; so a
  window containing a DST change is an hour shorter or longer in UTC, and windows that tile the
  week in wall-clock (business hours + out of hours) still tile it exactly.
- A layer with restrictions is on call only inside the union of its windows; without, always.
- A restriction whose duration is at least its period (a day, a week) covers all time.
- render_layer: entries of one layer, adjacent entries of the same user merged, sorted, clipped to
  [since, until).
- render_final: a later layer (higher index) overrides earlier ones wherever it has someone on
  call; its gaps let earlier layers show through; adjacent entries of the same user are merged;
  sorted by start; clipped to [since, until).
- apply_overrides: each schedule override, in creation order, puts its user on call for all of
  its [start, end) over whatever the layers (or an earlier override) had there; so where
  overrides overlap the one created last wins.
- coverage_percentage: the share of [since, until) the entries cover, 0-100, unrounded.
- user_on_call_at: who the final schedule has on call at one instant, None for nobody.
- Work is proportional to the number of turns and windows in the range, never to its length in
  minutes.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

__all__ = [
    "Entry",
    "Layer",
    "Restriction",
    "apply_overrides",
    "coverage_percentage",
    "layer_from_json",
    "render_final",
    "render_layer",
    "schedule_zone",
    "user_on_call_at",
]

RestrictionType = Literal["daily_restriction", "weekly_restriction"]

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_RESOLUTION = timedelta(microseconds=1)  # the smallest step a datetime can take
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)$")
_LAYER_USER_TYPES = frozenset({"user_reference", "user"})  # the real API accepts both


@dataclass(frozen=True)
class Restriction:
    """A recurring window (local wall-clock) in which a restricted layer is on call."""

    type: RestrictionType
    start_time_of_day: time
    duration: timedelta
    start_day_of_week: int | None = None  # ISO weekday, Monday = 1; weekly restrictions only

    @property
    def period(self) -> timedelta:
        return _DAY if self.type == "daily_restriction" else _WEEK


@dataclass(frozen=True)
class Layer:
    """One schedule layer; instants are aware UTC datetimes."""

    start: datetime
    end: datetime | None
    rotation_virtual_start: datetime
    turn_length: timedelta
    user_ids: tuple[str, ...]
    restrictions: tuple[Restriction, ...] = ()
    id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Entry:
    """One stretch of on-call time for one user: [start, end), aware UTC datetimes."""

    user_id: str
    start: datetime
    end: datetime


# ---------------------------------------------------------------------------------------------
# Parsing


def layer_from_json(doc: dict[str, Any]) -> Layer:
    """Parse a PagerDuty schedule layer; raise ValueError naming the field path on bad input."""
    if not isinstance(doc, dict):
        raise ValueError(f"layer: expected an object, got {type(doc).__name__}")
    start = _parse_instant(doc, "start", required=True)
    end = _parse_instant(doc, "end", required=False)
    anchor = _parse_instant(doc, "rotation_virtual_start", required=True)
    assert start is not None and anchor is not None  # required=True never returns None
    turn_seconds = _positive_int(
        doc.get("rotation_turn_length_seconds"), "rotation_turn_length_seconds"
    )
    return Layer(
        start=start,
        end=end,
        rotation_virtual_start=anchor,
        turn_length=timedelta(seconds=turn_seconds),
        user_ids=_parse_users(doc.get("users")),
        restrictions=_parse_restrictions(doc.get("restrictions")),
        id=_optional_string(doc, "id"),
        name=_optional_string(doc, "name"),
    )


def _positive_int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{path}: expected a positive integer, got {value!r}")
    return value


def _optional_string(doc: dict[str, Any], field: str) -> str | None:
    value = doc.get(field)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{field}: expected a string, got {type(value).__name__}")
    return value


def _parse_instant(doc: dict[str, Any], field: str, *, required: bool) -> datetime | None:
    value = doc.get(field)
    if value is None:
        if required:
            raise ValueError(f"{field}: required")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected an ISO 8601 date-time string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{field}: not an ISO 8601 date-time: {value!r}") from None
    if parsed.utcoffset() is None:
        raise ValueError(f"{field}: date-time needs a UTC offset or Z: {value!r}")
    return parsed.astimezone(UTC)


def _parse_users(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"users: expected a list, got {value!r}")
    if not value:
        raise ValueError("users: must not be empty")
    user_ids: list[str] = []
    for index, item in enumerate(value):
        path = f"users[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("user"), dict):
            raise ValueError(f"{path}.user: expected an object")
        user = item["user"]
        user_id = user.get("id")
        if not isinstance(user_id, str) or not user_id:
            raise ValueError(f"{path}.user.id: expected a non-empty string, got {user_id!r}")
        user_type = user.get("type", "user_reference")
        if user_type not in _LAYER_USER_TYPES:
            raise ValueError(f"{path}.user.type: expected 'user_reference', got {user_type!r}")
        user_ids.append(user_id)
    return tuple(user_ids)


def _parse_restrictions(value: object) -> tuple[Restriction, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"restrictions: expected a list, got {value!r}")
    return tuple(_parse_restriction(item, f"restrictions[{i}]") for i, item in enumerate(value))


def _parse_restriction(item: object, path: str) -> Restriction:
    if not isinstance(item, dict):
        raise ValueError(f"{path}: expected an object")
    kind = item.get("type")
    if kind not in ("daily_restriction", "weekly_restriction"):
        raise ValueError(
            f"{path}.type: expected 'daily_restriction' or 'weekly_restriction', got {kind!r}"
        )
    time_text = item.get("start_time_of_day")
    match = _TIME_OF_DAY.match(time_text) if isinstance(time_text, str) else None
    if match is None:
        raise ValueError(f"{path}.start_time_of_day: expected 'HH:MM:SS', got {time_text!r}")
    hour, minute, second = (int(part) for part in match.groups())
    duration = _positive_int(item.get("duration_seconds"), f"{path}.duration_seconds")
    day: int | None = None  # meaningless on a daily restriction; ignored there
    if kind == "weekly_restriction":
        raw_day = item.get("start_day_of_week")
        if isinstance(raw_day, bool) or not isinstance(raw_day, int) or not 1 <= raw_day <= 7:
            raise ValueError(
                f"{path}.start_day_of_week: expected an integer 1..7 (Monday = 1), got {raw_day!r}"
            )
        day = raw_day
    return Restriction(
        type=kind,
        start_time_of_day=time(hour, minute, second),
        duration=timedelta(seconds=duration),
        start_day_of_week=day,
    )


# ---------------------------------------------------------------------------------------------
# Time-zone arithmetic


def schedule_zone(time_zone: str) -> ZoneInfo:
    """The IANA zone named `time_zone`; ValueError naming `time_zone` if there is none."""
    if not isinstance(time_zone, str) or time_zone not in _known_zones():
        raise ValueError(f"time_zone: unknown IANA time zone {str(time_zone)[:64]!r}")
    return ZoneInfo(time_zone)


@functools.cache
def _known_zones() -> frozenset[str]:
    # Checking names against the list keeps odd input (paths, NUL bytes) away from the file system.
    return frozenset(available_timezones())


def _wall_clock(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _localise(wall_clock: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local time: gap -> forward to the transition, overlap -> first."""
    first = wall_clock.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall_clock(first, zone) == wall_clock:
        return first
    # In a gap: fold=1 reads it with the later offset, giving an instant before the transition.
    low = math.floor(wall_clock.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    high = math.ceil(first.timestamp())
    while high - low > 1:  # invariant: wall clock at `low` is before the gap, at `high` after it
        middle = (low + high) // 2
        if _wall_clock(datetime.fromtimestamp(middle, UTC), zone) > wall_clock:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _require_aware(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name}: expected an aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Rendering

Interval = tuple[datetime, datetime]


def render_layer(layer: Layer, time_zone: str, since: datetime, until: datetime) -> list[Entry]:
    """Entries of one layer in [since, until), merged and sorted."""
    zone = schedule_zone(time_zone)
    since = _require_aware(since, "since")
    until = _require_aware(until, "until")
    low = max(since, layer.start)
    high = until if layer.end is None else min(until, layer.end)
    if low >= high:
        return []
    turns = _turns(layer, zone, low, high)
    if layer.restrictions:
        windows = _restriction_windows(layer.restrictions, zone, low, high)
        turns = _intersect(turns, windows)
    return _merge_same_user(turns)


def render_final(
    layers: Sequence[Layer], time_zone: str, since: datetime, until: datetime
) -> list[Entry]:
    """The final schedule: later layers win where they have someone on call."""
    schedule_zone(time_zone)  # bad arguments fail the same way with or without layers
    _require_aware(since, "since")
    _require_aware(until, "until")
    rendered = [render_layer(layer, time_zone, since, until) for layer in layers]
    instants = sorted({t for entries in rendered for e in entries for t in (e.start, e.end)})
    cursors = [0] * len(rendered)
    final: list[Entry] = []
    for piece_start, piece_end in itertools.pairwise(instants):
        for index, entries in enumerate(rendered):  # advance past entries ending before piece
            while cursors[index] < len(entries) and entries[cursors[index]].end <= piece_start:
                cursors[index] += 1
        for index in reversed(range(len(rendered))):
            entries = rendered[index]
            if cursors[index] < len(entries) and entries[cursors[index]].start <= piece_start:
                final.append(Entry(entries[cursors[index]].user_id, piece_start, piece_end))
                break
    return _merge_same_user(final)


def apply_overrides(final: Sequence[Entry], overrides: Sequence[Entry]) -> list[Entry]:
    """`final` with each override (in creation order) painted over it, merged and sorted."""
    result = list(final)
    for override in overrides:
        kept: list[Entry] = []
        for entry in result:
            if entry.end <= override.start or entry.start >= override.end:
                kept.append(entry)
                continue
            if entry.start < override.start:
                kept.append(Entry(entry.user_id, entry.start, override.start))
            if entry.end > override.end:
                kept.append(Entry(entry.user_id, override.end, entry.end))
        kept.append(override)
        result = sorted(kept, key=lambda e: (e.start, e.end))
    return _merge_same_user(result)


def coverage_percentage(entries: Sequence[Entry], since: datetime, until: datetime) -> float:
    """Percentage (0-100) of [since, until) covered by disjoint `entries` already clipped to it."""
    span = (_require_aware(until, "until") - _require_aware(since, "since")).total_seconds()
    if span <= 0:
        return 0.0
    covered = sum((entry.end - entry.start).total_seconds() for entry in entries)
    return 100.0 * covered / span


def user_on_call_at(layers: Sequence[Layer], time_zone: str, instant: datetime) -> str | None:
    """The id of the user on call at `instant` in the final schedule, or None if nobody is."""
    instant = _require_aware(instant, "instant")
    final = render_final(layers, time_zone, instant, instant + _RESOLUTION)
    return final[0].user_id if final else None


def _turns(layer: Layer, zone: ZoneInfo, low: datetime, high: datetime) -> list[Entry]:
    anchor = _wall_clock(layer.rotation_virtual_start, zone)

    def boundary(k: int) -> datetime:
        return _localise(anchor + k * layer.turn_length, zone)

    # Estimate the turn holding `low` in wall-clock, then correct for DST shifts.
    k = (_wall_clock(low, zone) - anchor) // layer.turn_length
    while boundary(k) > low:
        k -= 1
    while boundary(k + 1) <= low:
        k += 1
    turns: list[Entry] = []
    turn_start = boundary(k)
    while turn_start < high:
        turn_end = boundary(k + 1)
        start, end = max(turn_start, low), min(turn_end, high)
        if start < end:  # a turn wholly inside a spring-forward gap is empty
            turns.append(Entry(layer.user_ids[k % len(layer.user_ids)], start, end))
        k += 1
        turn_start = turn_end
    return turns


def _restriction_windows(
    restrictions: Sequence[Restriction], zone: ZoneInfo, low: datetime, high: datetime
) -> list[Interval]:
    """The union of all restriction windows, as sorted disjoint UTC intervals within [low, high)."""
    if any(r.duration >= r.period for r in restrictions):
        return [(low, high)]
    windows = sorted(w for r in restrictions for w in _windows_of(r, zone, low, high))
    union: list[Interval] = []
    for start, end in windows:
        if union and start <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], end))
        else:
            union.append((start, end))
    return union


def _windows_of(
    restriction: Restriction, zone: ZoneInfo, low: datetime, high: datetime
) -> Iterator[Interval]:
    # A window starting up to `duration` (plus a day of DST slack) before `low` may reach into it.
    first_day = _wall_clock(low, zone).date() - timedelta(days=restriction.duration.days + 2)
    last_day = _wall_clock(high, zone).date()
    for day in _days(first_day, last_day):
        if restriction.type == "weekly_restriction" and (
            day.isoweekday() != restriction.start_day_of_week
        ):
            continue
        local_start = datetime.combine(day, restriction.start_time_of_day)
        start = _localise(local_start, zone)
        end = _localise(local_start + restriction.duration, zone)
        start, end = max(start, low), min(end, high)
        if start < end:
            yield (start, end)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += _DAY


def _intersect(entries: Sequence[Entry], windows: Sequence[Interval]) -> list[Entry]:
    """The parts of sorted disjoint `entries` inside sorted disjoint `windows`."""
    result: list[Entry] = []
    i = j = 0
    while i < len(entries) and j < len(windows):
        entry, (window_start, window_end) = entries[i], windows[j]
        start, end = max(entry.start, window_start), min(entry.end, window_end)
        if start < end:
            result.append(Entry(entry.user_id, start, end))
        if entry.end <= window_end:
            i += 1
        else:
            j += 1
    return result


def _merge_same_user(entries: Sequence[Entry]) -> list[Entry]:
    merged: list[Entry] = []
    for entry in entries:
        last = merged[-1] if merged else None
        if last is not None and last.user_id == entry.user_id and last.end == entry.start:
            merged[-1] = Entry(last.user_id, last.start, entry.end)
        else:
            merged.append(entry)
    return merged
