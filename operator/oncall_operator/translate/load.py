"""On-call load from PagerDuty's rendered final schedule, and the humane policy's verdicts.

A shift is a run of consecutive entries of one person: entries of the same person with nobody
else on call between them (an out-of-hours week split by business hours) are one shift.
All sums are exact interval arithmetic on instants.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oncall_operator.api import OnCallPolicy, OnCallStatus, PersonLoad, TimeWindow
from oncall_operator.translate.timemath import (
    localise,
    parse_instant,
    require_aware,
    rfc3339,
    wall_clock,
)

HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Entry:
    """One rendered entry: `person` (email, or the user id when unknown) on call [start, end)."""

    person: str
    start: dt.datetime
    end: dt.datetime


def parse_entries(
    entries: Sequence[Mapping[str, Any]], emails_by_user_id: Mapping[str, str]
) -> list[Entry]:
    """Entries sorted by start, people named by email where known; empty entries dropped."""
    parsed = []
    for i, entry in enumerate(entries):
        user = entry.get("user") or {}
        user_id = str(user.get("id") or "")
        person = emails_by_user_id.get(user_id) or str(user.get("email") or user_id)
        start = parse_instant(entry.get("start"), f"entries[{i}].start")
        end = parse_instant(entry.get("end"), f"entries[{i}].end")
        if end > start:
            parsed.append(Entry(person, start, end))
    return sorted(parsed, key=lambda e: (e.start, e.end))


def _clipped(entries: Sequence[Entry], since: dt.datetime, until: dt.datetime) -> list[Entry]:
    return [
        Entry(e.person, max(e.start, since), min(e.end, until))
        for e in entries
        if e.end > since and e.start < until
    ]


def shifts(entries: Sequence[Entry]) -> list[Entry]:
    """Runs of consecutive entries of the same person, from their first start to last end."""
    runs: list[Entry] = []
    for entry in entries:
        if runs and runs[-1].person == entry.person:
            runs[-1] = Entry(entry.person, runs[-1].start, max(runs[-1].end, entry.end))
        else:
            runs.append(entry)
    return runs


def business_intervals(
    business_hours: TimeWindow, time_zone: str, since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Business hours as instants overlapping [since, until): local wall-clock windows, each
    end being its local start plus the window length in wall-clock time, then localised."""
    first_day = wall_clock(since, time_zone).date() - dt.timedelta(days=1)
    last_day = wall_clock(until, time_zone).date()
    length = dt.timedelta(minutes=business_hours.duration_minutes)
    start_of_day = dt.timedelta(minutes=business_hours.start_minutes)
    weekdays = {day.iso for day in business_hours.days}
    intervals = []
    day = first_day
    while day <= last_day:
        if day.isoweekday() in weekdays:
            local_start = dt.datetime.combine(day, dt.time()) + start_of_day
            start = localise(local_start, time_zone)
            end = localise(local_start + length, time_zone)
            if end > since and start < until:
                intervals.append((start, end))
        day += dt.timedelta(days=1)
    return intervals


def _overlap(entry: Entry, intervals: Sequence[tuple[dt.datetime, dt.datetime]]) -> dt.timedelta:
    total = dt.timedelta()
    for start, end in intervals:
        low, high = max(start, entry.start), min(end, entry.end)
        if high > low:
            total += high - low
    return total


def _hours(duration: dt.timedelta) -> float:
    return round(duration / HOUR, 2)


def person_load(
    entries: Sequence[Mapping[str, Any]],
    emails_by_user_id: Mapping[str, str],
    business_hours: TimeWindow,
    time_zone: str,
    since: dt.datetime,
    until: dt.datetime,
) -> list[PersonLoad]:
    """Per person over [since, until): hours on call, of them out of hours, and shifts; by email."""
    return load_of_entries(
        parse_entries(entries, emails_by_user_id), business_hours, time_zone, since, until
    )


def load_of_entries(
    entries: Sequence[Entry],
    business_hours: TimeWindow,
    time_zone: str,
    since: dt.datetime,
    until: dt.datetime,
) -> list[PersonLoad]:
    """person_load of entries already parsed (sorted by start)."""
    require_aware(since, "since")
    require_aware(until, "until")
    clipped = _clipped(entries, since, until)
    business = business_intervals(business_hours, time_zone, since, until)
    on_call: dict[str, dt.timedelta] = {}
    inside: dict[str, dt.timedelta] = {}
    for entry in clipped:
        on_call[entry.person] = on_call.get(entry.person, dt.timedelta()) + entry.end - entry.start
        inside[entry.person] = inside.get(entry.person, dt.timedelta()) + _overlap(entry, business)
    runs: dict[str, int] = {}
    for run in shifts(clipped):
        runs[run.person] = runs.get(run.person, 0) + 1
    return [
        PersonLoad(
            email=person,
            hours=_hours(on_call[person]),
            out_of_hours_hours=_hours(on_call[person] - inside[person]),
            shifts=runs[person],
        )
        for person in sorted(on_call)
    ]


def on_call_now(
    entries: Sequence[Mapping[str, Any]], emails_by_user_id: Mapping[str, str], now: dt.datetime
) -> OnCallStatus:
    """Who is on call at `now`, until when (adjacent entries of theirs joined), and who is next."""
    require_aware(now, "now")
    parsed = parse_entries(entries, emails_by_user_id)
    current = next((e for e in parsed if e.start <= now < e.end), None)
    if current is None:
        upcoming = next((e for e in parsed if e.start > now), None)
        return OnCallStatus(next=upcoming.person if upcoming else None)
    until = current.end
    for entry in parsed:
        if entry.person == current.person and entry.start <= until < entry.end:
            until = entry.end
    following = next(
        (e for e in parsed if e.start >= current.start and e.person != current.person), None
    )
    return OnCallStatus(
        now=current.person,
        until=rfc3339(until),
        next=following.person if following else None,
    )


def _minute(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


FOUR_WEEKS = dt.timedelta(days=28)


def _union(
    intervals: Sequence[tuple[dt.datetime, dt.datetime]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Sorted disjoint intervals covering the same instants (touching ones joined)."""
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _covered(
    intervals: Sequence[tuple[dt.datetime, dt.datetime]], low: dt.datetime, high: dt.datetime
) -> dt.timedelta:
    total = dt.timedelta()
    for start, end in intervals:
        if min(end, high) > max(start, low):
            total += min(end, high) - max(start, low)
    return total


def busiest_window(
    intervals: Sequence[tuple[dt.datetime, dt.datetime]],
    since: dt.datetime,
    until: dt.datetime,
    window: dt.timedelta = FOUR_WEEKS,
) -> tuple[dt.timedelta, dt.datetime]:
    """The most on-call time any `window`-long stretch inside [since, until) holds, and where
    that stretch starts. Exact: the maximum of a sliding sum is reached where a window edge
    meets an interval edge, so only those starts are tried."""
    disjoint = _union(intervals)
    last_start = max(since, until - window)
    starts = {since, last_start}
    for start, end in disjoint:
        starts |= {start, end - window}
    best = (dt.timedelta(), since)
    for start in sorted(s for s in starts if since <= s <= last_start):
        held = _covered(disjoint, start, min(start + window, until))
        if held > best[0]:
            best = (held, start)
    return best


def load_breaches(
    rotations: Mapping[str, Sequence[Entry]],
    policy: OnCallPolicy,
    since: dt.datetime,
    until: dt.datetime,
    people: Collection[str] | None = None,
) -> list[str]:
    """One readable sentence per breach of the policy by a person's load across every rotation
    given (`rotations`: entries of each rotation, people by email): maxOnCallPercent over every
    4-week window in [since, until) (one window of the whole range when it is shorter), and
    minRestHours between shifts, a shift being a run of one rotation and overlapping or
    touching shifts of different rotations one stretch of duty. Only `people` are judged when
    given (emails, any case)."""
    require_aware(since, "since")
    require_aware(until, "until")
    wanted = None if people is None else {p.lower() for p in people}
    on_call: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    duty: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for entries in rotations.values():
        clipped = _clipped(sorted(entries, key=lambda e: (e.start, e.end)), since, until)
        for entry in clipped:
            if wanted is None or entry.person.lower() in wanted:
                on_call.setdefault(entry.person, []).append((entry.start, entry.end))
        for run in shifts(clipped):
            if wanted is None or run.person.lower() in wanted:
                duty.setdefault(run.person, []).append((run.start, run.end))
    breaches: list[str] = []
    span = until - since
    if policy.max_on_call_percent is not None and span > dt.timedelta():
        window = min(span, FOUR_WEEKS)
        for person in sorted(on_call):
            held, start = busiest_window(on_call[person], since, until, window)
            share = held / window
            if share * 100 > policy.max_on_call_percent:
                where = (
                    f"the next {window / dt.timedelta(days=1):g} days"
                    if span <= FOUR_WEEKS
                    else f"the 4 weeks from {start.astimezone(dt.UTC).date().isoformat()}"
                )
                breaches.append(
                    f"{person} is on call {int(share * 100 + 0.5)}% of {where} "
                    f"(policy maxOnCallPercent {policy.max_on_call_percent})"
                )
    if policy.min_rest_hours is not None:
        minimum = dt.timedelta(hours=policy.min_rest_hours)
        short: list[tuple[dt.datetime, str]] = []  # said in the order they happen
        for person in sorted(duty):
            stretches = _union(duty[person])
            for (_, previous), (start, _) in itertools.pairwise(stretches):
                if start - previous < minimum:
                    short.append(
                        (
                            start,
                            f"{person} has {(start - previous) / HOUR:g}h rest between shifts "
                            f"ending {_minute(previous)} and starting {_minute(start)} (policy "
                            f"minRestHours {policy.min_rest_hours})",
                        )
                    )
        breaches += [message for _, message in sorted(short, key=lambda s: s[0])]
    return breaches


def sustainability_breaches(
    entries: Sequence[Mapping[str, Any]],
    emails_by_user_id: Mapping[str, str],
    policy: OnCallPolicy,
    since: dt.datetime,
    until: dt.datetime,
) -> list[str]:
    """`load_breaches` of one rotation's rendered entries."""
    return load_breaches({"": parse_entries(entries, emails_by_user_id)}, policy, since, until)
