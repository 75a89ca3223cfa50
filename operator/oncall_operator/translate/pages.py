"""Pages as PagerDuty pages people: who was notified of which high-urgency incident, and when,
judged against the rotations that had them on call.

A page is one person notified of one high-urgency incident, at the first notification
(`notify_log_entry`; PagerDuty writes one per contact method and escalation loop, which is still
one page). Where the account gives no notify entries for an incident, its `assign_log_entry`
assignees, and failing those the incident's `assignments`, are the people paged.

A team's pages are those its members received while one of the team's rotations had them on
call in PagerDuty's final schedule (overrides included); a page is out of hours when it falls
outside the business hours (in its time zone) of a rotation that had the person on call then.
Night is 22:00-07:00 in the person's own PagerDuty time zone. The busiest stretch is the most
pages one person received within any 12 hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oncall_operator.api import PersonPages, TimeWindow
from oncall_operator.translate.load import Entry
from oncall_operator.translate.restrictions import covers, window_stretches
from oncall_operator.translate.timemath import MINUTES_PER_DAY, parse_instant, wall_clock

NIGHT_STARTS = dt.time(22, 0)
NIGHT_ENDS = dt.time(7, 0)
STRETCH = dt.timedelta(hours=12)


@dataclass(frozen=True)
class Page:
    """One person (PagerDuty user id) paged for one incident at `at`."""

    user_id: str
    incident_id: str
    at: dt.datetime


@dataclass(frozen=True)
class RotationHours:
    """A rotation as page counting needs it: its business hours in its time zone, and PagerDuty's
    final schedule over the counted window (people named by email)."""

    name: str
    time_zone: str
    business_hours: TimeWindow
    entries: Sequence[Entry]


@dataclass(frozen=True)
class Person:
    email: str
    user_id: str
    time_zone: str  # the person's own PagerDuty time zone


@dataclass(frozen=True)
class TeamPages:
    """What status.pages (and the report) says of a team over one window."""

    out_of_hours: int
    people: list[PersonPages] = field(default_factory=list)


def pages_from_log_entries(entries: Iterable[Mapping[str, Any]]) -> list[Page]:
    """The pages in PagerDuty log entries that carry their incident (`include[]=incidents`):
    high urgency only, one per person and incident at the first notification, sorted by time."""
    notified: dict[tuple[str, str], dt.datetime] = {}
    assigned: dict[tuple[str, str], dt.datetime] = {}
    incidents: dict[str, Mapping[str, Any]] = {}
    for index, entry in enumerate(entries):
        incident = entry.get("incident") or {}
        incident_id = str(incident.get("id") or "")
        if not incident_id or incident.get("urgency") != "high":
            continue
        incidents[incident_id] = incident
        at = parse_instant(entry.get("created_at"), f"log_entries[{index}].created_at")
        kind = entry.get("type")
        if kind == "notify_log_entry":
            user_id = str((entry.get("user") or {}).get("id") or "")
            if user_id:
                _keep_earliest(notified, (user_id, incident_id), at)
        elif kind == "assign_log_entry":
            for assignee in entry.get("assignees") or []:
                if assignee.get("id"):
                    _keep_earliest(assigned, (str(assignee["id"]), incident_id), at)
    with_notices = {incident_id for _, incident_id in notified}
    pages = dict(notified)
    for (user_id, incident_id), at in assigned.items():
        if incident_id not in with_notices:
            pages.setdefault((user_id, incident_id), at)
    with_pages = {incident_id for _, incident_id in pages}
    for incident_id, incident in incidents.items():
        if incident_id in with_pages:
            continue
        for index, assignment in enumerate(incident.get("assignments") or []):
            user_id = str((assignment.get("assignee") or {}).get("id") or "")
            when = assignment.get("at") or incident.get("created_at")
            if user_id:
                at = parse_instant(when, f"incident {incident_id} assignments[{index}].at")
                _keep_earliest(pages, (user_id, incident_id), at)
    return sorted(
        (Page(user_id, incident_id, at) for (user_id, incident_id), at in pages.items()),
        key=lambda p: (p.at, p.user_id, p.incident_id),
    )


def _keep_earliest(
    found: dict[tuple[str, str], dt.datetime], key: tuple[str, str], at: dt.datetime
) -> None:
    if key not in found or at < found[key]:
        found[key] = at


def in_business_hours(at: dt.datetime, business_hours: TimeWindow, time_zone: str) -> bool:
    """Whether `at` falls inside the business hours (local wall-clock in `time_zone`)."""
    local = wall_clock(at, time_zone)
    minute = (local.isoweekday() - 1) * MINUTES_PER_DAY + local.hour * 60 + local.minute
    return covers(window_stretches([business_hours]), minute)


def at_night(at: dt.datetime, time_zone: str) -> bool:
    """Whether `at` is between 22:00 and 07:00 on the clock of `time_zone`."""
    local = wall_clock(at, time_zone).time()
    return local >= NIGHT_STARTS or local < NIGHT_ENDS


def most_in_one_stretch(times: Sequence[dt.datetime], stretch: dt.timedelta = STRETCH) -> int:
    """The most of `times` inside any window [t, t + stretch)."""
    ordered = sorted(times)
    most = first = 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= stretch:
            first += 1
        most = max(most, last - first + 1)
    return most


def _on_call(entries: Sequence[Entry], email: str, at: dt.datetime) -> bool:
    key = email.lower()
    return any(e.person.lower() == key and e.start <= at < e.end for e in entries)


def team_pages(
    pages: Iterable[Page],
    rotations: Sequence[RotationHours],
    people: Sequence[Person],
    since: dt.datetime,
    until: dt.datetime,
) -> TeamPages:
    """The team's pages in [since, until): per person (every member, paged or not, in the order
    given) and the team's out-of-hours total."""
    by_user = {person.user_id: person for person in people}
    received: dict[str, list[dt.datetime]] = {person.email: [] for person in people}
    night: dict[str, int] = {person.email: 0 for person in people}
    out_of_hours = 0
    for page in pages:
        person = by_user.get(page.user_id)
        if person is None or not since <= page.at < until:
            continue
        through = [r for r in rotations if _on_call(r.entries, person.email, page.at)]
        if not through:
            continue  # paged, but not while on call for this team
        received[person.email].append(page.at)
        if at_night(page.at, person.time_zone):
            night[person.email] += 1
        if any(not in_business_hours(page.at, r.business_hours, r.time_zone) for r in through):
            out_of_hours += 1
    return TeamPages(
        out_of_hours=out_of_hours,
        people=[
            PersonPages(
                email=person.email,
                pages=len(received[person.email]),
                night_pages=night[person.email],
                max_pages_in_12h=most_in_one_stretch(received[person.email]),
            )
            for person in people
        ],
    )
