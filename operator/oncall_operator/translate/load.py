"""On-call load from PagerDuty's rendered final schedule, and the humane policy's verdicts.

A shift is a run of consecutive entries of one person: entries of the same person with nobody
else on call between them (an out-of-hours week split by business hours) are one shift.
All sums are exact interval arithmetic on instants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
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


def sustainability_breaches(
    entries: Sequence[Mapping[str, Any]],
    emails_by_user_id: Mapping[str, str],
    policy: OnCallPolicy,
    since: dt.datetime,
    until: dt.datetime,
) -> list[str]:
    """Readable sentences, one per breach of maxOnCallPercent (over [since, until)) and of
    minRestHours (between two shifts of the same person)."""
    require_aware(since, "since")
    require_aware(until, "until")
    clipped = _clipped(parse_entries(entries, emails_by_user_id), since, until)
    breaches: list[str] = []
    window = until - since
    if policy.max_on_call_percent is not None and window > dt.timedelta():
        on_call: dict[str, dt.timedelta] = {}
        for entry in clipped:
            on_call[entry.person] = (
                on_call.get(entry.person, dt.timedelta()) + entry.end - entry.start
            )
        days = window / dt.timedelta(days=1)
        for person in sorted(on_call):
            share = on_call[person] / window
            if share * 100 > policy.max_on_call_percent:
                breaches.append(
                    f"{person} is on call {int(share * 100 + 0.5)}% of the next {days:g} days "
                    f"(policy maxOnCallPercent {policy.max_on_call_percent})"
                )
    if policy.min_rest_hours is not None:
        minimum = dt.timedelta(hours=policy.min_rest_hours)
        last_end: dict[str, dt.datetime] = {}
        for run in shifts(clipped):
            previous = last_end.get(run.person)
            if previous is not None and run.start - previous < minimum:
                rest = (run.start - previous) / HOUR
                breaches.append(
                    f"{run.person} has {rest:g}h rest between shifts ending {_minute(previous)} "
                    f"and starting {_minute(run.start)} (policy minRestHours "
                    f"{policy.min_rest_hours})"
                )
            last_end[run.person] = run.end
    return breaches
