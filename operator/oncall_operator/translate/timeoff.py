"""Time off as PagerDuty overrides: who covers whose on-call time while they are away.

PagerDuty overrides carry no description, so what the operator made is known by id (in
status.overrides) and otherwise only by matching exactly what it would make. Everything here is
pure: the schedule as rendered, the people away and the load of each candidate go in; the
overrides wanted and the time nobody can cover come out.

Rules:
- The away person's on-call time is where the schedule without the operator's own overrides
  (layers, later winning, then overrides made by people) has them on call inside their time
  off; each run of theirs (see load.shifts) gets one cover, one override per entry, so a cover
  is never put on call in hours the layer does not cover.
- The cover is another participant not away at any time of that run: the one with the fewest
  on-call hours (every rotation, and the covers given so far); ties go to participant order.
- An override already made for the same time off (same end, started no later than now) whose
  user can still cover is kept, so a cover once chosen stays and nothing churns.
- Time that has ended is not covered; time under way is covered from now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from oncall_operator.translate.load import Entry, shifts

Span = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Cover:
    """One override: `email` on call over [start, end) instead of `covers`."""

    start: dt.datetime
    end: dt.datetime
    email: str
    covers: str
    id: str | None = None


@dataclass(frozen=True)
class CoverPlan:
    covers: list[Cover] = field(default_factory=list)
    uncovered: list[Cover] = field(default_factory=list)  # email "" : nobody could take it


def painted(layers: Sequence[Sequence[Entry]], overrides: Sequence[Entry] = ()) -> list[Entry]:
    """The final schedule from each layer's entries (a later layer wins where it has someone on
    call) with overrides painted over it in order."""
    result: list[Entry] = []
    for top in [*layers, *([o] for o in overrides)]:
        for entry in top:
            result = _paint(result, entry)
    return sorted(result, key=lambda e: (e.start, e.end))


def _paint(below: Sequence[Entry], top: Entry) -> list[Entry]:
    kept: list[Entry] = []
    for entry in below:
        if entry.end <= top.start or entry.start >= top.end:
            kept.append(entry)
            continue
        if entry.start < top.start:
            kept.append(Entry(entry.person, entry.start, top.start))
        if entry.end > top.end:
            kept.append(Entry(entry.person, top.end, entry.end))
    kept.append(top)
    return kept


def away_parts(
    schedule: Sequence[Entry], away: Mapping[str, Sequence[Span]], now: dt.datetime
) -> list[list[Entry]]:
    """The away people's on-call time not yet ended, grouped by run: each inner list is the
    parts of one run inside time off (starts clipped to now)."""
    spans = {person.lower(): list(s) for person, s in away.items() if s}
    grouped: list[list[Entry]] = []
    ordered = sorted(schedule, key=lambda e: (e.start, e.end))
    for run in shifts(ordered):
        person_spans = spans.get(run.person.lower())
        if not person_spans:
            continue
        parts = []
        for entry in ordered:
            if entry.person != run.person or entry.start < run.start or entry.end > run.end:
                continue
            for low, high in person_spans:
                start, end = max(entry.start, low, now), min(entry.end, high)
                if start < end:
                    parts.append(Entry(entry.person, start, end))
        if parts:
            grouped.append(sorted(parts, key=lambda e: e.start))
    return grouped


def _is_away(
    person: str, away: Mapping[str, Sequence[Span]], low: dt.datetime, high: dt.datetime
) -> bool:
    for name, spans in away.items():
        if name.lower() == person.lower() and any(s < high and e > low for s, e in spans):
            return True
    return False


def plan_covers(
    schedule: Sequence[Entry],
    away: Mapping[str, Sequence[Span]],
    candidates: Sequence[str],
    hours: Mapping[str, dt.timedelta],
    existing: Sequence[Cover],
    now: dt.datetime,
) -> CoverPlan:
    """The overrides that cover the away people's time in `schedule` (which holds no override of
    the operator's own), keeping `existing` ones that still fit; `hours` is each candidate's
    on-call time in the window the choice is made over."""
    tally = {c.lower(): hours.get(c, hours.get(c.lower(), dt.timedelta())) for c in candidates}
    plan = CoverPlan()

    def give(cover: Cover) -> None:
        plan.covers.append(cover)
        key = cover.email.lower()
        tally[key] = tally.get(key, dt.timedelta()) + (cover.end - cover.start)

    for parts in away_parts(schedule, away, now):
        person = parts[0].person
        low, high = parts[0].start, parts[-1].end
        able = [
            c
            for c in candidates
            if c.lower() != person.lower() and not _is_away(c, away, low, high)
        ]
        able_keys = {a.lower() for a in able}
        run_cover: str | None = None
        missing: list[Entry] = []
        for part in parts:
            # Made before for this time off: the same end, started by now (time under way is
            # covered from the moment the override was made).
            kept = next(
                (
                    c
                    for c in existing
                    if c.end == part.end
                    and c.start <= part.start
                    and c.covers.lower() == person.lower()
                    and c.email.lower() in able_keys
                ),
                None,
            )
            if kept is None:
                missing.append(part)
                continue
            give(kept)
            run_cover = run_cover or kept.email
        for part in missing:
            if not able:
                plan.uncovered.append(Cover(part.start, part.end, "", person))
                continue
            if run_cover is None:  # fewest hours; min keeps participant order on ties
                run_cover = min(able, key=lambda a: tally.get(a.lower(), dt.timedelta()))
            give(Cover(part.start, part.end, run_cover, person))
    plan.covers.sort(key=lambda c: (c.start, c.end))
    return plan
