"""A rotation's PagerDuty overrides for its team members' time off, kept in step with `away`.

The operator knows its overrides by the ids in status.overrides and, after a crash before that
status was written, by matching exactly what it would make (end, user, and a start from the
time off's start to now); every other override was made by a person and is left alone (it
still counts: PagerDuty's final schedule, which load and onCall read, includes it).
The schedule is read once; the overrides only when someone is away or some are recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oncall_operator.api import OnCallTeamSpec
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.reconcile.status import StatusDraft, listed
from oncall_operator.translate import terms, timeoff
from oncall_operator.translate.load import Entry, parse_entries
from oncall_operator.translate.timemath import parse_instant, rfc3339

Span = tuple[dt.datetime, dt.datetime]


@dataclass
class TimeOffResult:
    changed: bool = False  # overrides were created or deleted: the rendered schedule is stale
    uncovered: list[timeoff.Cover] = field(default_factory=list)


def away_of(team: OnCallTeamSpec, now: dt.datetime, until: dt.datetime) -> dict[str, list[Span]]:
    """Each member's time off that has not ended and starts before `until`."""
    zone = terms.team_time_zone(team)
    found: dict[str, list[Span]] = {}
    for member in team.members:
        spans = [(s, e) for s, e in terms.away_spans(member, zone) if e > now and s < until]
        if spans:
            found[member.email] = spans
    return found


def sync_overrides(
    client: PagerDutyClient,
    draft: StatusDraft,
    schedule_id: str,
    team: OnCallTeamSpec,
    rendered: Mapping[str, Any],
    email_of: Callable[[str], str],
    user_ids: Mapping[str, str],
    candidates: Sequence[str],
    others: Sequence[Entry],
    window: Span,
    doing: list[str],
) -> TimeOffResult:
    """Create and delete overrides so that every away member's on-call time in `window` has a
    cover; write status.overrides. `user_ids`: lower-cased email -> PagerDuty user id."""
    now = draft.now
    since, until = window
    away = away_of(team, now, until)
    recorded = {str(o.get("id")): o for o in draft.old.get("overrides") or []}
    if not away and not recorded:
        return TimeOffResult()  # status.overrides stays as read (absent, or [] as defaulted)
    doing.append("reading the schedule's overrides")
    listed_now = client.list_overrides(schedule_id, since=min(since, now), until=until)
    emails_by_id = {uid: email_of(uid) for uid in _user_ids_of(rendered, listed_now)}
    layers = [
        parse_entries(layer.get("rendered_schedule_entries") or [], emails_by_id)
        for layer in rendered.get("schedule_layers") or []
    ]
    layers_only = timeoff.painted(layers)
    able = [c for c in candidates if c.lower() in user_ids]

    existing: list[timeoff.Cover] = []
    people_made: list[Entry] = []
    parts = [p for run in timeoff.away_parts(layers_only, away, since) for p in run]
    for override in listed_now:
        cover = _as_cover(override, emails_by_id)
        if cover.id in recorded:
            whose = str(recorded[str(cover.id)].get("covers") or "")
            existing.append(timeoff.Cover(cover.start, cover.end, cover.email, whose, cover.id))
            continue
        # Made by the operator before its status was written: what it would make, exactly.
        part = next(
            (
                p
                for p in parts
                if p.end == cover.end
                and p.start <= cover.start <= max(p.start, now)
                and cover.email.lower() in {a.lower() for a in able}
                and cover.email.lower() != p.person.lower()
            ),
            None,
        )
        if part is not None:
            existing.append(
                timeoff.Cover(cover.start, cover.end, cover.email, part.person, cover.id)
            )
        else:
            people_made.append(Entry(cover.email, cover.start, cover.end))

    base = timeoff.painted(layers, sorted(people_made, key=lambda e: e.start))
    hours = _hours(able, [*base, *others], since, until)
    plan = timeoff.plan_covers(base, away, able, hours, existing, now)
    stale = [c for c in existing if c not in plan.covers and c.end > now and c.id]
    fresh = [c for c in plan.covers if c.id is None]
    for cover in stale:
        doing.append("deleting an override no longer needed")
        client.delete_override(schedule_id, str(cover.id))
    made: list[timeoff.Cover] = []
    if fresh:
        doing.append("creating overrides for time off")
        created = client.create_overrides(
            schedule_id,
            [
                {
                    "start": rfc3339(c.start),
                    "end": rfc3339(c.end),
                    "user": {"id": user_ids[c.email.lower()], "type": "user_reference"},
                    "time_zone": "UTC",
                }
                for c in fresh
            ],
        )
        made = [
            timeoff.Cover(c.start, c.end, c.email, c.covers, str(o.get("id")))
            for c, o in zip(fresh, created, strict=True)
        ]
    kept = [c for c in plan.covers if c.id is not None]
    covers = sorted([*kept, *made], key=lambda c: (c.start, c.end))
    draft.status["overrides"] = [
        {
            "id": c.id,
            "start": rfc3339(c.start),
            "end": rfc3339(c.end),
            "email": c.email,
            "covers": c.covers,
        }
        for c in covers
        if c.end > now
    ]
    said = []
    if made:
        said.append("covered " + listed([_told(c) for c in made]))
    if stale:
        said.append("removed the override " + listed([_told(c) for c in stale]))
    if said:
        draft.event(
            "OverridesChanged", f"Time off on schedule {schedule_id}: " + "; ".join(said) + "."
        )
    return TimeOffResult(changed=bool(made or stale), uncovered=plan.uncovered)


def _told(cover: timeoff.Cover) -> str:
    return (
        f"{cover.covers} {_minute(cover.start)}-{_minute(cover.end)} by {cover.email}"
        if cover.email
        else f"{cover.covers} {_minute(cover.start)}-{_minute(cover.end)}"
    )


def no_cover_message(uncovered: Sequence[timeoff.Cover]) -> str:
    return (
        "Nobody can cover the time off of "
        + listed([f"{c.covers} on call {_minute(c.start)} to {_minute(c.end)}" for c in uncovered])
        + ": every other participant is away then."
    )


def _minute(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def _user_ids_of(rendered: Mapping[str, Any], overrides: Sequence[Mapping[str, Any]]) -> set[str]:
    found = {str((o.get("user") or {}).get("id") or "") for o in overrides}
    for layer in rendered.get("schedule_layers") or []:
        for entry in layer.get("rendered_schedule_entries") or []:
            found.add(str((entry.get("user") or {}).get("id") or ""))
    return found - {""}


def _as_cover(override: Mapping[str, Any], emails_by_id: Mapping[str, str]) -> timeoff.Cover:
    user_id = str((override.get("user") or {}).get("id") or "")
    return timeoff.Cover(
        parse_instant(override.get("start"), "override.start"),
        parse_instant(override.get("end"), "override.end"),
        emails_by_id.get(user_id, user_id),
        "",
        str(override.get("id") or ""),
    )


def _hours(
    people: Sequence[str], entries: Sequence[Entry], since: dt.datetime, until: dt.datetime
) -> dict[str, dt.timedelta]:
    """Each person's on-call time in [since, until) over the entries given."""
    hours = {p.lower(): dt.timedelta() for p in people}
    for entry in entries:
        key = entry.person.lower()
        if key in hours:
            low, high = max(entry.start, since), min(entry.end, until)
            if high > low:
                hours[key] += high - low
    return hours
