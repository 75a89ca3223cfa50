"""Who a Rotation's spec puts on call, worked out offline: each layer's turns from its handoff
(local wall-clock handoffs, the operator's rule), cut to its coverage, later layers winning.

The result has the shape of PagerDuty's rendered entries, so translate/load.py judges it with
the very code that judges PagerDuty's own rendering for status.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from oncall_operator.api import Layer, OnCallTeamSpec, RotationSpec
from oncall_operator.translate import rotation as translate_rotation
from oncall_operator.translate.restrictions import (
    Stretch,
    layer_restrictions,
    restriction_stretches,
)
from oncall_operator.translate.timemath import (
    localise,
    rfc3339,
    wall_clock,
)

Interval = tuple[dt.datetime, dt.datetime]


def coverage_stretches(spec: RotationSpec, layer: Layer) -> list[Stretch]:
    """The local hours of the week the layer covers, read back from the very restrictions the
    operator sends PagerDuty. ValueError for coverage that is never on call."""
    return restriction_stretches(layer_restrictions(layer, spec.business_hours))


def local_intervals(
    stretches: Sequence[Stretch], time_zone: str, since: dt.datetime, until: dt.datetime
) -> list[Interval]:
    """Weekly local stretches as instants overlapping [since, until), clipped to it."""
    first_monday = wall_clock(since, time_zone).date()
    first_monday -= dt.timedelta(days=first_monday.weekday() + 7)
    intervals: list[Interval] = []
    week = dt.datetime.combine(first_monday, dt.time())
    while localise(week, time_zone) < until:
        for start, length in stretches:
            begin = localise(week + dt.timedelta(minutes=start), time_zone)
            end = localise(week + dt.timedelta(minutes=start + length), time_zone)
            low, high = max(begin, since), min(end, until)
            if high > low:
                intervals.append((low, high))
        week += dt.timedelta(days=7)
    return merged(intervals)


def merged(intervals: Sequence[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same instants; touching ones joined."""
    result: list[Interval] = []
    for start, end in sorted(intervals):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def _turns(
    layer: Layer, people: Sequence[str], time_zone: str, since: dt.datetime, until: dt.datetime
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    anchor = translate_rotation.handoff_instant(layer, time_zone)
    anchor_local = wall_clock(anchor, time_zone)
    turn = dt.timedelta(seconds=layer.shift_seconds)
    k = (wall_clock(since, time_zone) - anchor_local) // turn - 1
    turns = []
    while (start := localise(anchor_local + k * turn, time_zone)) < until:
        end = localise(anchor_local + (k + 1) * turn, time_zone)
        if end > since:
            turns.append((people[k % len(people)], max(start, since), min(end, until)))
        k += 1
    return turns


def layer_people(
    spec: RotationSpec, layer: Layer, team: OnCallTeamSpec | None, at: dt.datetime
) -> list[str]:
    """The layer's participants by email in the turn holding `at`, as the operator takes them
    (none if its team is unknown)."""
    if layer.participants.from_team is not None and team is None:
        return []
    turn = translate_rotation.effective_turn(layer, spec.time_zone, at, carried=False)
    return translate_rotation.layer_participants(spec, layer, team, turn)


def rendered_entries(
    spec: RotationSpec,
    team: OnCallTeamSpec | None,
    since: dt.datetime,
    until: dt.datetime,
) -> list[dict[str, Any]]:
    """Entries {user: {id: email}, start, end} over [since, until), later layers winning."""
    pieces: list[tuple[int, str, dt.datetime, dt.datetime]] = []
    for index, layer in enumerate(spec.layers):
        people = layer_people(spec, layer, team, since)
        if not people:
            continue
        covered = local_intervals(coverage_stretches(spec, layer), spec.time_zone, since, until)
        for person, start, end in _turns(layer, people, spec.time_zone, since, until):
            for low, high in covered:
                if min(end, high) > max(start, low):
                    pieces.append((index, person, max(start, low), min(end, high)))
    cuts = sorted({moment for _, _, start, end in pieces for moment in (start, end)})
    entries: list[dict[str, Any]] = []
    for low, high in itertools.pairwise(cuts):
        on_top = [p for p in pieces if p[2] <= low and high <= p[3]]
        if not on_top:
            continue
        person = max(on_top, key=lambda p: p[0])[1]
        if entries and entries[-1]["user"]["id"] == person and entries[-1]["end"] == rfc3339(low):
            entries[-1]["end"] = rfc3339(high)
        else:
            entries.append({"user": {"id": person}, "start": rfc3339(low), "end": rfc3339(high)})
    return entries
