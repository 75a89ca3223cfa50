"""Reading pages from PagerDuty: one account-wide log-entries scan per interval, shared by every
team, and each team's rotations rendered over the counted window only when it has pages to judge.

The counting itself is translate/pages.py; the `report` command reads a month through the same
functions.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from oncall_operator.api import OnCallTeamSpec, RotationSpec
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.client import OFFSET_CAP, PAGE_LIMIT
from oncall_operator.translate import load
from oncall_operator.translate.pages import (
    Page,
    Person,
    RotationHours,
    TeamPages,
    pages_from_log_entries,
    team_pages,
)
from oncall_operator.translate.timemath import zone

PAGES_WINDOW = dt.timedelta(days=30)
# PagerDuty lists stop at 10,000 items, whatever the range: past that, a week at a time.
SCAN_CHUNK = dt.timedelta(days=7)
DEFAULT_MAX_AGE = dt.timedelta(minutes=5)
HOUR = dt.timedelta(hours=1)


def scan_pages(client: PagerDutyClient, since: dt.datetime, until: dt.datetime) -> list[Page]:
    """Every page of the account in [since, until), from its log entries: one list of the whole
    range, or — when PagerDuty's cap on a list's items cut it short — a week at a time."""
    whole = client.list_log_entries(since=since, until=until)
    if len(whole) <= OFFSET_CAP - PAGE_LIMIT:  # the list ended by itself: complete
        return pages_from_log_entries(whole)
    entries = []
    start = since
    while start < until:
        end = min(start + SCAN_CHUNK, until)
        entries += client.list_log_entries(since=start, until=end)
        start = end
    return pages_from_log_entries(entries)


class PageLog:
    """The account's pages over the last 30 days, scanned at most once per `max_age` and shared
    by all teams' reconciles (thread-safe: reconciles run in worker threads)."""

    def __init__(self, max_age: dt.timedelta = DEFAULT_MAX_AGE) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._scanned_at: dt.datetime | None = None
        self._pages: list[Page] = []

    def pages(self, client: PagerDutyClient, now: dt.datetime) -> list[Page]:
        with self._lock:
            fresh = self._scanned_at is not None and now - self._scanned_at < self.max_age
            if not fresh or (self._scanned_at is not None and now < self._scanned_at):
                self._pages = scan_pages(client, now - PAGES_WINDOW, now)
                self._scanned_at = now
            return self._pages


_LOGS: weakref.WeakKeyDictionary[PagerDutyClient, PageLog] = weakref.WeakKeyDictionary()
_LOGS_LOCK = threading.Lock()


def page_log_of(client: PagerDutyClient) -> PageLog:
    """The one PageLog of this client's account (a fresh one for a client that cannot be a
    weak key, such as the planner's wrapper: it reconciles each object once)."""
    with _LOGS_LOCK:
        try:
            found = _LOGS.get(client)
            if found is None:
                found = _LOGS[client] = PageLog()
        except TypeError:
            return PageLog()
        return found


@dataclass(frozen=True)
class FedRotation:
    """A Rotation whose teamRef names the team, with its PagerDuty schedule id."""

    name: str
    spec: RotationSpec
    schedule_id: str


def rotations_fed_by(
    team_name: str, rotations: Iterable[tuple[str, Mapping[str, object] | None, str | None]]
) -> list[FedRotation]:
    """The rotations (name, spec, PagerDuty id) whose teamRef names `team_name`, with a valid spec
    and a PagerDuty schedule, by name."""
    fed = []
    for name, raw_spec, schedule_id in rotations:
        if not raw_spec or not schedule_id:
            continue
        team_ref = raw_spec.get("teamRef")
        if not isinstance(team_ref, Mapping) or team_ref.get("name") != team_name:
            continue  # another team's: not validated (every team asks about every rotation)
        try:
            spec = RotationSpec.model_validate(dict(raw_spec))
        except ValueError:
            continue  # the rotation reports its own spec errors
        if spec.team_ref is not None and spec.team_ref.name == team_name:
            fed.append(FedRotation(name=name, spec=spec, schedule_id=schedule_id))
    return sorted(fed, key=lambda r: r.name)


def team_pages_between(
    client: PagerDutyClient,
    pages: Sequence[Page],
    spec: OnCallTeamSpec,
    user_ids: Mapping[str, str],
    rotations: Sequence[FedRotation],
    since: dt.datetime,
    until: dt.datetime,
) -> TeamPages:
    """The team's pages in [since, until). `user_ids` maps lower-cased member emails to
    PagerDuty user ids (members without one are left out). Schedules and people's time zones
    are read only when some member was paged in the window."""
    members = [
        (m.email, user_ids[m.email.lower()]) for m in spec.members if m.email.lower() in user_ids
    ]
    paged = {page.user_id for page in pages if since <= page.at < until}
    if not paged & {user_id for _, user_id in members}:
        people = [Person(email, user_id, "UTC") for email, user_id in members]
        return team_pages([], [], people, since, until)
    people = [Person(email, user_id, _time_zone_of(client, email)) for email, user_id in members]
    hours = [rendered_hours(client, rotation, user_ids, since, until) for rotation in rotations]
    return team_pages(pages, hours, people, since, until)


def rendered_hours(
    client: PagerDutyClient,
    rotation: FedRotation,
    user_ids: Mapping[str, str],
    since: dt.datetime,
    until: dt.datetime,
) -> RotationHours:
    """The rotation's final schedule (overrides included) over [since, until), people by email.

    The window asked for is widened to whole hours, so that the read model's render cache (one
    per window) is hit by every reconcile within an hour; pages outside [since, until) are not
    counted anyway."""
    schedule = client.get_schedule(
        rotation.schedule_id,
        since=_hour_floor(since),
        until=_hour_floor(until) + HOUR,
        time_zone=rotation.spec.time_zone,
        layers=False,
    )
    raw = (schedule.get("final_schedule") or {}).get("rendered_schedule_entries") or []
    emails = {user_id: email for email, user_id in user_ids.items()}
    return RotationHours(
        name=rotation.name,
        time_zone=rotation.spec.time_zone,
        business_hours=rotation.spec.business_hours,
        entries=load.parse_entries(raw, emails),
    )


def _hour_floor(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def people_of(
    client: PagerDutyClient, spec: OnCallTeamSpec, user_ids: Mapping[str, str], zones: bool = True
) -> list[Person]:
    """The members who have a PagerDuty user, in team order, with their own time zone (read
    only when `zones`; the client caches users)."""
    people = []
    for member in spec.members:
        user_id = user_ids.get(member.email.lower())
        if user_id is not None:
            zone = _time_zone_of(client, member.email) if zones else "UTC"
            people.append(Person(member.email, user_id, zone))
    return people


def _time_zone_of(client: PagerDutyClient, email: str) -> str:
    user = client.find_user_by_email(email)  # cached by the client
    name = str((user or {}).get("time_zone") or "UTC")
    try:
        zone(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return "UTC"  # a zone name this Python does not know: judge night in UTC
    return name
