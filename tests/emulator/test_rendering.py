"""The emulator's on-call rendering, against expectations worked out by hand (all times UTC).

Tests whose expectations depend on the emulator's DST choice (handoffs and restriction windows
kept at local wall-clock time; see rendering's docstring) say so with `_wallclock_handoff_rule`.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from oncall_testbed.emulator.rendering import (
    Entry,
    Layer,
    coverage_percentage,
    layer_from_json,
    render_final,
    render_layer,
    user_on_call_at,
)

DAY = 86_400
WEEK = 7 * DAY


def at(text: str) -> datetime:
    """'2026-03-02 09:00' read as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def entries(*rows: tuple[str, str, str]) -> list[Entry]:
    return [Entry(user, at(start), at(end)) for user, start, end in rows]


def weekly(day: int, start: str, hours: int) -> dict[str, Any]:
    return {
        "type": "weekly_restriction",
        "start_day_of_week": day,
        "start_time_of_day": start,
        "duration_seconds": hours * 3600,
    }


def daily(start: str, seconds: int) -> dict[str, Any]:
    return {"type": "daily_restriction", "start_time_of_day": start, "duration_seconds": seconds}


def layer(
    users: list[str],
    anchor: str,
    turn_seconds: int,
    *,
    start: str = "2026-01-01T00:00:00Z",
    end: str | None = None,
    restrictions: list[dict[str, Any]] | None = None,
) -> Layer:
    doc: dict[str, Any] = {
        "start": start,
        "end": end,
        "rotation_virtual_start": anchor,
        "rotation_turn_length_seconds": turn_seconds,
        "users": [{"user": {"id": user, "type": "user_reference"}} for user in users],
    }
    if restrictions is not None:
        doc["restrictions"] = restrictions
    return layer_from_json(doc)


BUSINESS_HOURS = [weekly(day, "09:00:00", 8) for day in (1, 2, 3, 4, 5)]
OUT_OF_HOURS = [weekly(day, "17:00:00", 16) for day in (1, 2, 3, 4)] + [weekly(5, "17:00:00", 64)]


# --- Turns, no restrictions -----------------------------------------------------------------

# Three users, weekly turns from Monday 2026-03-02 09:00 UTC: A, B, C, A, ...
THREE_WEEKLY = layer(["A", "B", "C"], "2026-03-02T09:00:00Z", WEEK)


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        pytest.param(
            "2026-03-04 12:00",
            "2026-03-27 06:00",
            entries(
                ("A", "2026-03-04 12:00", "2026-03-09 09:00"),
                ("B", "2026-03-09 09:00", "2026-03-16 09:00"),
                ("C", "2026-03-16 09:00", "2026-03-23 09:00"),
                ("A", "2026-03-23 09:00", "2026-03-27 06:00"),
            ),
            id="four-weeks-clipped-mid-turn",
        ),
        pytest.param(
            "2026-02-10 00:00",
            "2026-03-03 00:00",
            entries(
                ("A", "2026-02-10 00:00", "2026-02-16 09:00"),  # k = -3
                ("B", "2026-02-16 09:00", "2026-02-23 09:00"),  # k = -2
                ("C", "2026-02-23 09:00", "2026-03-02 09:00"),  # k = -1
                ("A", "2026-03-02 09:00", "2026-03-03 00:00"),  # k = 0
            ),
            id="before-the-anchor-negative-turns",
        ),
        pytest.param(
            "2026-03-10 00:00",
            "2026-03-11 00:00",
            entries(("B", "2026-03-10 00:00", "2026-03-11 00:00")),
            id="inside-one-turn",
        ),
        pytest.param(
            "2026-03-16 09:00",
            "2026-03-23 09:00",
            entries(("C", "2026-03-16 09:00", "2026-03-23 09:00")),
            id="exactly-one-turn",
        ),
        pytest.param("2026-03-11 00:00", "2026-03-11 00:00", [], id="empty-range"),
        pytest.param("2026-03-12 00:00", "2026-03-11 00:00", [], id="reversed-range"),
    ],
)
def test_weekly_rotation_of_three_in_utc(since: str, until: str, expected: list[Entry]) -> None:
    assert render_layer(THREE_WEEKLY, "UTC", at(since), at(until)) == expected


def test_one_user_is_one_unbroken_entry() -> None:
    solo = layer(["A"], "2026-03-02T09:00:00Z", DAY)
    assert render_layer(solo, "UTC", at("2026-03-01 00:00"), at("2026-03-20 00:00")) == entries(
        ("A", "2026-03-01 00:00", "2026-03-20 00:00")
    )


def test_entries_are_aware_utc_and_any_zone_is_accepted_for_since_and_until() -> None:
    since = datetime.fromisoformat("2026-03-10T01:00:00+01:00")
    until = datetime.fromisoformat("2026-03-10T02:00:00-05:00")
    [entry] = render_layer(THREE_WEEKLY, "Europe/Dublin", since, until)
    assert (entry.user_id, entry.start, entry.end) == (
        "B",
        at("2026-03-10 00:00"),
        at("2026-03-10 07:00"),
    )
    assert entry.start.tzinfo is UTC


# --- Restrictions in Europe/Dublin (IST = UTC+1 in June) ---------------------------------------

# Week of Monday 2026-06-01; daily turns handed over at 09:00 local (08:00 UTC).
JUNE_WEEK = (at("2026-05-31 23:00"), at("2026-06-07 23:00"))  # Mon 00:00 to Mon 00:00 local
BUSINESS = layer(["A", "B", "C"], "2026-06-01T09:00:00+01:00", DAY, restrictions=BUSINESS_HOURS)
NIGHTS = layer(["X", "Y"], "2026-06-01T09:00:00+01:00", DAY, restrictions=OUT_OF_HOURS)

BUSINESS_WEEK = entries(
    ("A", "2026-06-01 08:00", "2026-06-01 16:00"),  # Mon
    ("B", "2026-06-02 08:00", "2026-06-02 16:00"),  # Tue
    ("C", "2026-06-03 08:00", "2026-06-03 16:00"),  # Wed
    ("A", "2026-06-04 08:00", "2026-06-04 16:00"),  # Thu
    ("B", "2026-06-05 08:00", "2026-06-05 16:00"),  # Fri
)
NIGHTS_WEEK = entries(
    ("Y", "2026-05-31 23:00", "2026-06-01 08:00"),  # tail of last weekend, Sunday's turn
    ("X", "2026-06-01 16:00", "2026-06-02 08:00"),  # Mon night
    ("Y", "2026-06-02 16:00", "2026-06-03 08:00"),  # Tue night
    ("X", "2026-06-03 16:00", "2026-06-04 08:00"),  # Wed night
    ("Y", "2026-06-04 16:00", "2026-06-05 08:00"),  # Thu night
    ("X", "2026-06-05 16:00", "2026-06-06 08:00"),  # weekend: Friday's turn
    ("Y", "2026-06-06 08:00", "2026-06-07 08:00"),  # Saturday's turn
    ("X", "2026-06-07 08:00", "2026-06-07 23:00"),  # Sunday's turn, clipped
)


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        pytest.param(BUSINESS, BUSINESS_WEEK, id="business-hours"),
        pytest.param(NIGHTS, NIGHTS_WEEK, id="out-of-hours"),
    ],
)
def test_restrictions_for_one_week_in_dublin(rotation: Layer, expected: list[Entry]) -> None:
    assert render_layer(rotation, "Europe/Dublin", *JUNE_WEEK) == expected


def test_business_and_out_of_hours_layers_tile_the_week() -> None:
    final = render_final([BUSINESS, NIGHTS], "Europe/Dublin", *JUNE_WEEK)
    assert final == sorted(BUSINESS_WEEK + NIGHTS_WEEK, key=lambda entry: entry.start)
    assert all(a.end == b.start for a, b in itertools.pairwise(final))


def test_daily_restriction_across_midnight() -> None:
    nightly = layer(["N"], "2026-03-02T00:00:00Z", WEEK, restrictions=[daily("22:00:00", 8 * 3600)])
    assert render_layer(nightly, "UTC", at("2026-03-03 00:00"), at("2026-03-05 12:00")) == entries(
        ("N", "2026-03-03 00:00", "2026-03-03 06:00"),
        ("N", "2026-03-03 22:00", "2026-03-04 06:00"),
        ("N", "2026-03-04 22:00", "2026-03-05 06:00"),
    )


def test_weekly_restriction_wraps_past_sunday() -> None:
    sunday_night = layer(
        ["S"], "2026-03-02T00:00:00Z", WEEK, restrictions=[weekly(7, "20:00:00", 13)]
    )
    # Sundays 2026-03-01, -08, -15: 20:00 Sunday to 09:00 Monday.
    assert render_layer(sunday_night, "UTC", at("2026-03-02 00:00"), at("2026-03-16 00:00")) == (
        entries(
            ("S", "2026-03-02 00:00", "2026-03-02 09:00"),  # from Sunday 2026-03-01
            ("S", "2026-03-08 20:00", "2026-03-09 09:00"),
            ("S", "2026-03-15 20:00", "2026-03-16 00:00"),
        )
    )


def test_overlapping_restrictions_are_united() -> None:
    overlapping = layer(
        ["A"],
        "2026-03-02T00:00:00Z",
        WEEK,
        restrictions=[
            daily("09:00:00", 4 * 3600),
            weekly(2, "12:00:00", 3),
            daily("14:00:00", 3600),
        ],
    )
    # Tuesday 2026-03-03: 09-13 and 12-15 join, 14-15 is inside; Wednesday: 09-13 and 14-15.
    assert render_layer(overlapping, "UTC", at("2026-03-03 00:00"), at("2026-03-05 00:00")) == (
        entries(
            ("A", "2026-03-03 09:00", "2026-03-03 15:00"),
            ("A", "2026-03-04 09:00", "2026-03-04 13:00"),
            ("A", "2026-03-04 14:00", "2026-03-04 15:00"),
        )
    )


def test_restriction_as_long_as_its_period_covers_everything() -> None:
    always = layer(["A", "B"], "2026-03-02T00:00:00Z", DAY, restrictions=[daily("09:00:00", DAY)])
    assert render_layer(always, "UTC", at("2026-03-02 06:00"), at("2026-03-03 06:00")) == entries(
        ("A", "2026-03-02 06:00", "2026-03-03 00:00"),
        ("B", "2026-03-03 00:00", "2026-03-03 06:00"),
    )


def test_restricted_turn_handoff_inside_a_window_splits_it() -> None:
    # Daily handoff at 12:00 inside the 09:00-17:00 window: the window is shared by two users.
    midday = layer(
        ["A", "B"], "2026-03-02T12:00:00Z", DAY, restrictions=[daily("09:00:00", 8 * 3600)]
    )
    assert render_layer(midday, "UTC", at("2026-03-03 00:00"), at("2026-03-04 00:00")) == entries(
        ("A", "2026-03-03 09:00", "2026-03-03 12:00"),
        ("B", "2026-03-03 12:00", "2026-03-03 17:00"),
    )


# --- DST ----------------------------------------------------------------------------------------


# Daily turns A, B handed over at 09:00 local. Dublin: GMT+0 / IST+1, spring forward 2026-03-29
# 01:00 UTC, fall back 2026-10-25 01:00 UTC. New York: EST-5 / EDT-4, spring forward 2026-03-08
# 07:00 UTC, fall back 2026-11-01 06:00 UTC.
@pytest.mark.parametrize(
    ("zone", "anchor", "since", "until", "expected"),
    [
        pytest.param(
            "Europe/Dublin",
            "2026-03-01T09:00:00+00:00",
            "2026-03-27 00:00",
            "2026-03-31 00:00",
            entries(
                ("B", "2026-03-27 00:00", "2026-03-27 09:00"),
                ("A", "2026-03-27 09:00", "2026-03-28 09:00"),
                ("B", "2026-03-28 09:00", "2026-03-29 08:00"),  # 23 h
                ("A", "2026-03-29 08:00", "2026-03-30 08:00"),
                ("B", "2026-03-30 08:00", "2026-03-31 00:00"),
            ),
            id="dublin-spring",
        ),
        pytest.param(
            "Europe/Dublin",
            "2026-03-01T09:00:00+00:00",
            "2026-10-23 00:00",
            "2026-10-27 00:00",
            entries(
                ("B", "2026-10-23 00:00", "2026-10-23 08:00"),
                ("A", "2026-10-23 08:00", "2026-10-24 08:00"),
                ("B", "2026-10-24 08:00", "2026-10-25 09:00"),  # 25 h
                ("A", "2026-10-25 09:00", "2026-10-26 09:00"),
                ("B", "2026-10-26 09:00", "2026-10-27 00:00"),
            ),
            id="dublin-autumn",
        ),
        pytest.param(
            "America/New_York",
            "2026-03-01T09:00:00-05:00",
            "2026-03-07 00:00",
            "2026-03-10 00:00",
            entries(
                ("B", "2026-03-07 00:00", "2026-03-07 14:00"),
                ("A", "2026-03-07 14:00", "2026-03-08 13:00"),  # 23 h
                ("B", "2026-03-08 13:00", "2026-03-09 13:00"),
                ("A", "2026-03-09 13:00", "2026-03-10 00:00"),
            ),
            id="new-york-spring",
        ),
        pytest.param(
            "America/New_York",
            "2026-03-01T09:00:00-05:00",
            "2026-10-31 00:00",
            "2026-11-03 00:00",
            entries(
                ("B", "2026-10-31 00:00", "2026-10-31 13:00"),
                ("A", "2026-10-31 13:00", "2026-11-01 14:00"),  # 25 h
                ("B", "2026-11-01 14:00", "2026-11-02 14:00"),
                ("A", "2026-11-02 14:00", "2026-11-03 00:00"),
            ),
            id="new-york-autumn",
        ),
    ],
)
def test_daily_0900_handoff_stays_at_0900_local_wallclock_handoff_rule(
    zone: str, anchor: str, since: str, until: str, expected: list[Entry]
) -> None:
    daily_pair = layer(["A", "B"], anchor, DAY)
    assert render_layer(daily_pair, zone, at(since), at(until)) == expected


@pytest.mark.parametrize(
    ("zone", "anchor", "since", "until", "expected"),
    [
        pytest.param(
            "Europe/Dublin",
            "2026-03-01T09:00:00+00:00",
            "2026-03-28 00:00",
            "2026-03-31 00:00",
            entries(
                ("A", "2026-03-28 08:00", "2026-03-28 09:00"),  # window 08:00-20:00 GMT
                ("B", "2026-03-28 09:00", "2026-03-28 20:00"),
                ("B", "2026-03-29 07:00", "2026-03-29 08:00"),  # window 08:00-20:00 IST
                ("A", "2026-03-29 08:00", "2026-03-29 19:00"),
                ("A", "2026-03-30 07:00", "2026-03-30 08:00"),
                ("B", "2026-03-30 08:00", "2026-03-30 19:00"),
            ),
            id="dublin-spring",
        ),
        pytest.param(
            "America/New_York",
            "2026-03-01T09:00:00-05:00",
            "2026-10-31 00:00",
            "2026-11-02 12:00",
            entries(
                ("B", "2026-10-31 12:00", "2026-10-31 13:00"),  # window 08:00-20:00 EDT
                ("A", "2026-10-31 13:00", "2026-11-01 00:00"),
                ("A", "2026-11-01 13:00", "2026-11-01 14:00"),  # window 08:00-20:00 EST
                ("B", "2026-11-01 14:00", "2026-11-02 01:00"),
            ),
            id="new-york-autumn",
        ),
    ],
)
def test_daily_turns_with_restrictions_across_dst_wallclock_handoff_rule(
    zone: str, anchor: str, since: str, until: str, expected: list[Entry]
) -> None:
    day_shift = layer(["A", "B"], anchor, DAY, restrictions=[daily("08:00:00", 12 * 3600)])
    assert render_layer(day_shift, zone, at(since), at(until)) == expected


@pytest.mark.parametrize(
    ("zone", "since", "until", "expected_start", "expected_end", "hours"),
    [
        # Friday 17:00 local + 64 h of wall-clock = Monday 09:00 local.
        (
            "Europe/Dublin",
            "2026-03-23 18:00",
            "2026-04-02 00:00",
            "2026-03-27 17:00",
            "2026-03-30 08:00",
            63,
        ),
        (
            "Europe/Dublin",
            "2026-10-19 18:00",
            "2026-10-29 00:00",
            "2026-10-23 16:00",
            "2026-10-26 09:00",
            65,
        ),
        (
            "America/New_York",
            "2026-03-02 18:00",
            "2026-03-12 00:00",
            "2026-03-06 22:00",
            "2026-03-09 13:00",
            63,
        ),
        (
            "America/New_York",
            "2026-10-26 18:00",
            "2026-11-05 00:00",
            "2026-10-30 21:00",
            "2026-11-02 14:00",
            65,
        ),
    ],
    ids=["dublin-spring", "dublin-autumn", "new-york-spring", "new-york-autumn"],
)
def test_weekend_window_containing_dst_change_wallclock_handoff_rule(
    zone: str, since: str, until: str, expected_start: str, expected_end: str, hours: int
) -> None:
    weekend = layer(["W"], "2026-01-05T09:00:00Z", WEEK, restrictions=[weekly(5, "17:00:00", 64)])
    [entry] = render_layer(weekend, zone, at(since), at(until))
    assert (entry.start, entry.end) == (at(expected_start), at(expected_end))
    assert (entry.end - entry.start).total_seconds() == hours * 3600


@pytest.mark.parametrize(
    ("restriction", "since", "until", "expected"),
    [
        # 02:30 does not exist on 2026-03-08 in New York: the window starts at 03:00 EDT.
        pytest.param(
            daily("02:30:00", 3600),
            "2026-03-08 00:00",
            "2026-03-08 12:00",
            entries(("A", "2026-03-08 07:00", "2026-03-08 07:30")),
            id="start-in-spring-gap-moves-forward",
        ),
        # 01:30 happens twice on 2026-11-01: the first (EDT); its end 02:30 is EST.
        pytest.param(
            daily("01:30:00", 3600),
            "2026-11-01 00:00",
            "2026-11-01 12:00",
            entries(("A", "2026-11-01 05:30", "2026-11-01 07:30")),
            id="ambiguous-start-takes-first-occurrence",
        ),
    ],
)
def test_restriction_in_dst_gap_or_overlap_wallclock_handoff_rule(
    restriction: dict[str, Any], since: str, until: str, expected: list[Entry]
) -> None:
    restricted = layer(["A"], "2026-01-05T00:00:00Z", WEEK, restrictions=[restriction])
    assert render_layer(restricted, "America/New_York", at(since), at(until)) == expected


def test_turns_inside_spring_gap_are_skipped_wallclock_handoff_rule() -> None:
    # 30-minute turns from 01:00 EST: the 02:00 (C) and 02:30 (D) turns do not exist locally.
    half_hourly = layer(["A", "B", "C", "D"], "2026-03-08T01:00:00-05:00", 1800)
    assert render_layer(
        half_hourly, "America/New_York", at("2026-03-08 06:00"), at("2026-03-08 08:00")
    ) == entries(
        ("A", "2026-03-08 06:00", "2026-03-08 06:30"),  # 01:00 EST
        ("B", "2026-03-08 06:30", "2026-03-08 07:00"),  # 01:30 EST
        ("A", "2026-03-08 07:00", "2026-03-08 07:30"),  # 03:00 EDT, turn k = 4
        ("B", "2026-03-08 07:30", "2026-03-08 08:00"),
    )


def test_hourly_turn_at_repeated_hour_is_first_occurrence_wallclock_handoff_rule() -> None:
    # Hourly turns from 00:00 EDT on 2026-11-01: 01:00 is the first 01:00 (EDT), the next turn
    # starts at 02:00 EST, so B holds both 01:00 hours.
    hourly = layer(["A", "B", "C"], "2026-11-01T00:00:00-04:00", 3600)
    assert render_layer(
        hourly, "America/New_York", at("2026-11-01 04:00"), at("2026-11-01 09:00")
    ) == entries(
        ("A", "2026-11-01 04:00", "2026-11-01 05:00"),  # 00:00 EDT
        ("B", "2026-11-01 05:00", "2026-11-01 07:00"),  # 01:00 EDT to 02:00 EST: 2 h
        ("C", "2026-11-01 07:00", "2026-11-01 08:00"),  # 02:00 EST
        ("A", "2026-11-01 08:00", "2026-11-01 09:00"),
    )


# --- Layers -----------------------------------------------------------------------------------

# Layer 0: A then B, weekly from Monday 2026-03-02 00:00, around the clock.
ROUND_THE_CLOCK = layer(["A", "B"], "2026-03-02T00:00:00Z", WEEK)
# Layer 1: X, Y daily from 09:00, only 09:00-17:00, active from Wed 12:00 to Tue 12:00 (mid-turn).
DAYTIME_COVER = layer(
    ["X", "Y"],
    "2026-03-02T09:00:00Z",
    DAY,
    start="2026-03-04T12:00:00Z",
    end="2026-03-10T12:00:00Z",
    restrictions=[daily("09:00:00", 8 * 3600)],
)


def test_layer_end_mid_turn_and_start_after_since() -> None:
    assert render_layer(DAYTIME_COVER, "UTC", at("2026-03-02 00:00"), at("2026-03-16 00:00")) == (
        entries(
            ("X", "2026-03-04 12:00", "2026-03-04 17:00"),  # starts mid-window
            ("Y", "2026-03-05 09:00", "2026-03-05 17:00"),
            ("X", "2026-03-06 09:00", "2026-03-06 17:00"),
            ("Y", "2026-03-07 09:00", "2026-03-07 17:00"),
            ("X", "2026-03-08 09:00", "2026-03-08 17:00"),
            ("Y", "2026-03-09 09:00", "2026-03-09 17:00"),
            ("X", "2026-03-10 09:00", "2026-03-10 12:00"),  # ends mid-turn, mid-window
        )
    )


def test_later_layer_overrides_and_earlier_shows_through_its_gaps() -> None:
    final = render_final(
        [ROUND_THE_CLOCK, DAYTIME_COVER], "UTC", at("2026-03-02 00:00"), at("2026-03-16 00:00")
    )
    assert final == entries(
        ("A", "2026-03-02 00:00", "2026-03-04 12:00"),
        ("X", "2026-03-04 12:00", "2026-03-04 17:00"),
        ("A", "2026-03-04 17:00", "2026-03-05 09:00"),
        ("Y", "2026-03-05 09:00", "2026-03-05 17:00"),
        ("A", "2026-03-05 17:00", "2026-03-06 09:00"),
        ("X", "2026-03-06 09:00", "2026-03-06 17:00"),
        ("A", "2026-03-06 17:00", "2026-03-07 09:00"),
        ("Y", "2026-03-07 09:00", "2026-03-07 17:00"),
        ("A", "2026-03-07 17:00", "2026-03-08 09:00"),
        ("X", "2026-03-08 09:00", "2026-03-08 17:00"),
        ("A", "2026-03-08 17:00", "2026-03-09 00:00"),
        ("B", "2026-03-09 00:00", "2026-03-09 09:00"),
        ("Y", "2026-03-09 09:00", "2026-03-09 17:00"),
        ("B", "2026-03-09 17:00", "2026-03-10 09:00"),
        ("X", "2026-03-10 09:00", "2026-03-10 12:00"),
        ("B", "2026-03-10 12:00", "2026-03-16 00:00"),
    )


def test_round_the_clock_layer_last_hides_everything_before_it() -> None:
    final = render_final(
        [DAYTIME_COVER, ROUND_THE_CLOCK], "UTC", at("2026-03-02 00:00"), at("2026-03-16 00:00")
    )
    assert final == entries(
        ("A", "2026-03-02 00:00", "2026-03-09 00:00"),
        ("B", "2026-03-09 00:00", "2026-03-16 00:00"),
    )


def test_same_user_on_two_layers_is_one_entry() -> None:
    always_a = layer(["A"], "2026-03-02T00:00:00Z", WEEK)
    daytime_a = layer(
        ["A"], "2026-03-02T00:00:00Z", DAY, restrictions=[daily("09:00:00", 8 * 3600)]
    )
    since, until = at("2026-03-02 00:00"), at("2026-03-04 00:00")
    assert render_final([always_a, daytime_a], "UTC", since, until) == entries(
        ("A", "2026-03-02 00:00", "2026-03-04 00:00")
    )


def test_final_schedule_leaves_gaps_where_no_layer_is_on_call() -> None:
    business = layer(
        ["A"], "2026-03-02T09:00:00Z", WEEK, restrictions=[daily("09:00:00", 8 * 3600)]
    )
    ended = layer(["Z"], "2026-03-02T00:00:00Z", WEEK, end="2026-03-02T00:00:00Z")
    assert render_final(
        [business, ended], "UTC", at("2026-03-02 00:00"), at("2026-03-04 00:00")
    ) == entries(
        ("A", "2026-03-02 09:00", "2026-03-02 17:00"),
        ("A", "2026-03-03 09:00", "2026-03-03 17:00"),
    )


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-03-04 11:59", "A"),
        ("2026-03-04 12:00", "X"),  # DAYTIME_COVER starts
        ("2026-03-09 08:59", "B"),
        ("2026-03-09 09:00", "Y"),
        ("2026-03-10 12:00", "B"),  # DAYTIME_COVER has ended
    ],
)
def test_user_on_call_at(instant: str, expected: str) -> None:
    layers = [ROUND_THE_CLOCK, DAYTIME_COVER]
    assert user_on_call_at(layers, "UTC", at(instant)) == expected


def test_nobody_on_call_in_a_gap() -> None:
    business = layer(
        ["A"], "2026-03-02T09:00:00Z", WEEK, restrictions=[daily("09:00:00", 8 * 3600)]
    )
    assert user_on_call_at([business], "UTC", at("2026-03-02 17:00")) is None


def test_coverage_percentage() -> None:
    since, until = at("2026-03-02 00:00"), at("2026-03-04 00:00")
    business = layer(
        ["A"], "2026-03-02T09:00:00Z", WEEK, restrictions=[daily("09:00:00", 6 * 3600)]
    )
    rendered = render_layer(business, "UTC", since, until)
    assert coverage_percentage(rendered, since, until) == 25.0  # 2 x 6 h of 48 h
    assert coverage_percentage([], since, until) == 0.0
    assert coverage_percentage([], until, since) == 0.0


def test_no_layers_no_entries() -> None:
    assert render_final([], "UTC", at("2026-03-02 00:00"), at("2026-03-04 00:00")) == []


# --- Parsing --------------------------------------------------------------------------------


def test_layer_from_json_reads_every_field() -> None:
    parsed = layer_from_json(
        {
            "id": "PLAYER1",
            "name": "Night shift",
            "start": "2026-03-01T10:00:00+01:00",
            "rotation_virtual_start": "2026-03-02T09:00:00Z",
            "rotation_turn_length_seconds": 3600,
            "users": [
                {"user": {"id": "PUSER1", "type": "user_reference"}},
                {"user": {"id": "PUSER2", "type": "user"}},
            ],
            "restrictions": [
                weekly(5, "17:00:00", 64),
                daily("22:30:15", 1800) | {"start_day_of_week": 3},
            ],
        }
    )
    assert parsed.id == "PLAYER1"
    assert parsed.name == "Night shift"
    assert parsed.start == at("2026-03-01 09:00")
    assert parsed.end is None
    assert parsed.rotation_virtual_start == at("2026-03-02 09:00")
    assert parsed.turn_length.total_seconds() == 3600
    assert parsed.user_ids == ("PUSER1", "PUSER2")
    weekend, nightly = parsed.restrictions
    assert (weekend.type, str(weekend.start_time_of_day), weekend.duration.total_seconds()) == (
        "weekly_restriction",
        "17:00:00",
        64 * 3600,
    )
    assert weekend.start_day_of_week == 5
    assert (nightly.type, str(nightly.start_time_of_day), nightly.start_day_of_week) == (
        "daily_restriction",
        "22:30:15",
        None,
    )


VALID: dict[str, Any] = {
    "start": "2026-03-01T00:00:00Z",
    "end": "2026-04-01T00:00:00Z",
    "rotation_virtual_start": "2026-03-02T09:00:00Z",
    "rotation_turn_length_seconds": WEEK,
    "users": [{"user": {"id": "PUSER1", "type": "user_reference"}}],
    "restrictions": [weekly(1, "09:00:00", 8)],
}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param({"start": None}, "start", id="start-missing"),
        pytest.param({"start": "yesterday"}, "start", id="start-not-iso"),
        pytest.param({"start": "2026-03-01T00:00:00"}, "start", id="start-naive"),
        pytest.param({"end": 1700000000}, "end", id="end-not-string"),
        pytest.param(
            {"rotation_virtual_start": None}, "rotation_virtual_start", id="anchor-missing"
        ),
        pytest.param(
            {"rotation_turn_length_seconds": 0}, "rotation_turn_length_seconds", id="turn-0"
        ),
        pytest.param(
            {"rotation_turn_length_seconds": "3600"}, "rotation_turn_length_seconds", id="turn-str"
        ),
        pytest.param(
            {"rotation_turn_length_seconds": True}, "rotation_turn_length_seconds", id="turn-bool"
        ),
        pytest.param({"users": []}, "users", id="users-empty"),
        pytest.param({"users": None}, "users", id="users-missing"),
        pytest.param({"users": [{"id": "PUSER1"}]}, "users[0].user", id="user-not-wrapped"),
        pytest.param(
            {"users": [{"user": {"id": "P1"}}, {"user": {"id": ""}}]},
            "users[1].user.id",
            id="user-id-empty",
        ),
        pytest.param(
            {"users": [{"user": {"id": "P1", "type": "team"}}]},
            "users[0].user.type",
            id="user-type",
        ),
        pytest.param({"restrictions": {}}, "restrictions", id="restrictions-not-list"),
        pytest.param({"restrictions": ["x"]}, "restrictions[0]", id="restriction-not-object"),
        pytest.param(
            {"restrictions": [weekly(1, "09:00:00", 8) | {"type": "monthly_restriction"}]},
            "restrictions[0].type",
            id="restriction-type",
        ),
        pytest.param(
            {"restrictions": [daily("09:00:00", 60), daily("9:00", 60)]},
            "restrictions[1].start_time_of_day",
            id="time-of-day-short",
        ),
        pytest.param(
            {"restrictions": [daily("24:00:00", 60)]},
            "restrictions[0].start_time_of_day",
            id="time-of-day-24",
        ),
        pytest.param(
            {"restrictions": [daily("09:00:00", 0)]},
            "restrictions[0].duration_seconds",
            id="duration-0",
        ),
        pytest.param(
            {"restrictions": [daily("09:00:00", 60) | {"duration_seconds": None}]},
            "restrictions[0].duration_seconds",
            id="duration-missing",
        ),
        pytest.param(
            {"restrictions": [weekly(1, "09:00:00", 8) | {"start_day_of_week": None}]},
            "restrictions[0].start_day_of_week",
            id="weekly-without-day",
        ),
        pytest.param(
            {"restrictions": [weekly(0, "09:00:00", 8)]},
            "restrictions[0].start_day_of_week",
            id="day-0",
        ),
        pytest.param(
            {"restrictions": [weekly(8, "09:00:00", 8)]},
            "restrictions[0].start_day_of_week",
            id="day-8",
        ),
        pytest.param({"name": 7}, "name", id="name-not-string"),
    ],
)
def test_layer_from_json_errors_name_the_field_path(change: dict[str, Any], path: str) -> None:
    with pytest.raises(ValueError, match=rf"^{re.escape(path)}: "):
        layer_from_json(VALID | change)


def test_layer_from_json_accepts_null_or_missing_end_and_no_restrictions() -> None:
    without = {k: v for k, v in VALID.items() if k not in ("end", "restrictions")}
    assert layer_from_json(without).end is None
    assert layer_from_json(without | {"end": None}).restrictions == ()


def test_layer_from_json_rejects_a_non_object() -> None:
    with pytest.raises(ValueError, match=r"^layer: "):
        layer_from_json(["not", "a", "layer"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("time_zone", "since", "until", "path"),
    [
        ("Mars/Olympus_Mons", at("2026-03-02 00:00"), at("2026-03-03 00:00"), "time_zone"),
        ("../etc/passwd", at("2026-03-02 00:00"), at("2026-03-03 00:00"), "time_zone"),
        ("America", at("2026-03-02 00:00"), at("2026-03-03 00:00"), "time_zone"),
        ("america/new_york", at("2026-03-02 00:00"), at("2026-03-03 00:00"), "time_zone"),
        ("", at("2026-03-02 00:00"), at("2026-03-03 00:00"), "time_zone"),
        ("UTC\x00", at("2026-03-02 00:00"), at("2026-03-03 00:00"), "time_zone"),
        ("UTC", datetime(2026, 3, 2), at("2026-03-03 00:00"), "since"),
        ("UTC", at("2026-03-02 00:00"), datetime(2026, 3, 3), "until"),
    ],
)
def test_render_rejects_bad_zone_and_naive_times(
    time_zone: str, since: datetime, until: datetime, path: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{path}: "):
        render_layer(THREE_WEEKLY, time_zone, since, until)
    with pytest.raises(ValueError, match=rf"^{path}: "):
        render_final([], time_zone, since, until)
