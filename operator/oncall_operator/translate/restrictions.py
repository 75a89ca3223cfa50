"""Coverage -> PagerDuty weekly restrictions (local wall-clock hours of the week).

A window is a stretch of the week in minutes from Monday 00:00, possibly running past
Sunday 24:00 into Monday. Windows are unioned on the circular week and written one weekly
restriction per stretch, so Mon-Fri 17:00-09:00 plus the weekend is one Friday 17:00 for 64 h.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from oncall_operator.api import Coverage, Layer, TimeWindow
from oncall_operator.translate.timemath import MINUTES_PER_DAY, MINUTES_PER_WEEK

# (start minute of the week in [0, MINUTES_PER_WEEK), length in minutes)
Stretch = tuple[int, int]


def window_stretches(windows: Iterable[TimeWindow]) -> list[Stretch]:
    """One stretch per (window, day it starts on)."""
    return [
        ((day.iso - 1) * MINUTES_PER_DAY + window.start_minutes, window.duration_minutes)
        for window in windows
        for day in window.days
    ]


def union(stretches: Iterable[Stretch]) -> list[Stretch]:
    """Disjoint stretches covering the same minutes, sorted by start; touching ones merged.

    The whole week is [(0, MINUTES_PER_WEEK)]; nothing is [].
    """
    pieces: list[tuple[int, int]] = []  # linear [start, end) within one week
    for start, length in stretches:
        if length >= MINUTES_PER_WEEK:
            return [(0, MINUTES_PER_WEEK)]
        end = start + length
        if end > MINUTES_PER_WEEK:
            pieces += [(start, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK)]
        elif length > 0:
            pieces.append((start, end))
    merged: list[list[int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if merged == [[0, MINUTES_PER_WEEK]]:
        return [(0, MINUTES_PER_WEEK)]
    # A stretch running to Sunday 24:00 continues into one starting Monday 00:00.
    if len(merged) > 1 and merged[0][0] == 0 and merged[-1][1] == MINUTES_PER_WEEK:
        first = merged.pop(0)
        merged[-1][1] = MINUTES_PER_WEEK + first[1]
    return [(start, end - start) for start, end in merged]


def complement(stretches: Sequence[Stretch]) -> list[Stretch]:
    """The minutes of the week outside the union of `stretches`, as stretches."""
    covered = union(stretches)
    if not covered:
        return [(0, MINUTES_PER_WEEK)]
    gaps: list[Stretch] = []
    for (start, length), (next_start, _) in zip(covered, [*covered[1:], covered[0]], strict=True):
        end = (start + length) % MINUTES_PER_WEEK
        gap = (next_start - end) % MINUTES_PER_WEEK
        if gap:
            gaps.append((end, gap))
    return union(gaps)


def covers(stretches: Sequence[Stretch], minute_of_week: int) -> bool:
    """Whether a minute of the week lies in one of the stretches."""
    return any((minute_of_week - start) % MINUTES_PER_WEEK < length for start, length in stretches)


def as_restrictions(stretches: Sequence[Stretch]) -> list[dict[str, Any]]:
    """PagerDuty weekly restrictions; the whole week is [] (no restriction = always)."""
    covered = union(stretches)
    if covered == [(0, MINUTES_PER_WEEK)]:
        return []
    return [
        {
            "type": "weekly_restriction",
            "start_day_of_week": start // MINUTES_PER_DAY + 1,
            "start_time_of_day": f"{start % MINUTES_PER_DAY // 60:02d}:{start % 60:02d}:00",
            "duration_seconds": length * 60,
        }
        for start, length in covered
    ]


def restriction_stretches(restrictions: Iterable[Mapping[str, Any]]) -> list[Stretch]:
    """The hours of the week PagerDuty restrictions cover, as a union of stretches (the inverse
    of as_restrictions; a daily restriction covers its hours every day; seconds are dropped).
    No restriction at all means the whole week."""
    stretches: list[Stretch] = []
    given = list(restrictions)
    if not given:
        return [(0, MINUTES_PER_WEEK)]
    for restriction in given:
        hours, minutes, *_ = (int(p) for p in str(restriction["start_time_of_day"]).split(":"))
        start = hours * 60 + minutes
        length = int(restriction["duration_seconds"]) // 60
        if restriction.get("type") == "daily_restriction":
            stretches += [(day * MINUTES_PER_DAY + start, length) for day in range(7)]
        else:
            day = int(restriction["start_day_of_week"]) - 1
            stretches.append((day * MINUTES_PER_DAY + start, length))
    return union(stretches)


def window_restrictions(windows: Sequence[TimeWindow]) -> list[dict[str, Any]]:
    """Weekly restrictions for the windows; merged where they touch or overlap."""
    return as_restrictions(window_stretches(windows))


def business_hours_restrictions(business_hours: TimeWindow) -> list[dict[str, Any]]:
    """Weekly restrictions for the hours inside business hours."""
    return window_restrictions([business_hours])


def out_of_hours_restrictions(
    business_hours: TimeWindow, field: str = "spec.businessHours"
) -> list[dict[str, Any]]:
    """Weekly restrictions for every hour outside business hours (evenings, nights, weekends).

    Business hours that fill the whole week leave no out-of-hours time: an empty restriction
    list would mean "always", so that is refused naming `field`.
    """
    outside = complement(window_stretches([business_hours]))
    if not outside:
        raise ValueError(
            f"{field} covers the whole week, so a layer with coverage OutOfHours would never "
            "be on call; shorten the business hours or use another coverage"
        )
    return as_restrictions(outside)


def layer_restrictions(layer: Layer, business_hours: TimeWindow) -> list[dict[str, Any]]:
    """Restrictions for a layer's coverage; [] (no restriction) for Always."""
    if layer.coverage is Coverage.BUSINESS_HOURS:
        return business_hours_restrictions(business_hours)
    if layer.coverage is Coverage.OUT_OF_HOURS:
        return out_of_hours_restrictions(business_hours)
    if layer.coverage is Coverage.CUSTOM:
        return window_restrictions(layer.windows or [])
    return []
