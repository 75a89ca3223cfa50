"""Handoffs in a time zone: the anchor localised and the next handoff, across DST.

Dublin 2026: clocks go 01:00 GMT -> 02:00 IST on 29 March, back 02:00 IST -> 01:00 GMT on
25 October. New York 2026: 02:00 EST -> 03:00 EDT on 8 March, back 02:00 EDT -> 01:00 EST
on 1 November. Expectations are worked out by hand from those facts.
"""

import datetime as dt

import pytest

from oncall_operator.api import Layer
from oncall_operator.translate.rotation import handoff_instant, next_handoff
from oncall_operator.translate.timemath import localise, rfc3339

HOUR = 3600
DAY = 24 * HOUR
WEEK = 7 * DAY


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _layer(handoff: str) -> Layer:
    return Layer(
        name="primary",
        participants={"emails": ["ana@example.com"]},
        shift_length="1w",
        handoff=handoff,
    )


@pytest.mark.parametrize(
    ("time_zone", "handoff", "expected"),
    [
        ("Europe/Dublin", "2026-03-28T09:00", "2026-03-28T09:00:00+00:00"),
        ("Europe/Dublin", "2026-03-29T09:00", "2026-03-29T09:00:00+01:00"),
        ("Europe/Dublin", "2026-03-29T01:30", "2026-03-29T02:00:00+01:00"),
        ("Europe/Dublin", "2026-03-29T00:59:59", "2026-03-29T00:59:59+00:00"),
        ("Europe/Dublin", "2026-10-25T01:30", "2026-10-25T01:30:00+01:00"),
        ("Europe/Dublin", "2026-10-25T09:00", "2026-10-25T09:00:00+00:00"),
        ("America/New_York", "2026-03-07T09:00", "2026-03-07T09:00:00-05:00"),
        ("America/New_York", "2026-03-08T02:30", "2026-03-08T03:00:00-04:00"),
        ("America/New_York", "2026-03-08T09:00", "2026-03-08T09:00:00-04:00"),
        ("America/New_York", "2026-11-01T01:30", "2026-11-01T01:30:00-04:00"),
        ("America/New_York", "2026-11-01T09:00", "2026-11-01T09:00:00-05:00"),
        ("UTC", "2026-01-05T09:00:00", "2026-01-05T09:00:00Z"),
    ],
    ids=[
        "Dublin winter",
        "Dublin summer day of change",
        "Dublin spring gap moves to the transition",
        "Dublin last second before the gap",
        "Dublin ambiguous takes the first",
        "Dublin after fall-back",
        "New York winter",
        "New York spring gap moves to the transition",
        "New York summer day of change",
        "New York ambiguous takes the first",
        "New York after fall-back",
        "UTC written with Z",
    ],
)
def test_virtual_start(time_zone: str, handoff: str, expected: str) -> None:
    assert rfc3339(handoff_instant(_layer(handoff), time_zone), time_zone) == expected


@pytest.mark.parametrize(
    ("time_zone", "anchor", "turn", "after", "expected"),
    [
        # Weekly 09:00 Monday in Dublin, anchored in winter.
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2026-01-07T12:00", "2026-01-12T09:00"),
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2026-01-12T08:59:59", "2026-01-12T09:00"),
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2026-01-12T09:00", "2026-01-19T09:00"),
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2026-01-12T09:00:01", "2026-01-19T09:00"),
        # Across spring-forward: still 09:00 local, now 08:00 UTC.
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2026-03-25T12:00", "2026-03-30T08:00"),
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2026-03-30T07:59", "2026-03-30T08:00"),
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2026-03-30T08:00", "2026-04-06T08:00"),
        # Across fall-back: back to 09:00 UTC.
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2026-10-20T00:00", "2026-10-26T09:00"),
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2026-10-19T08:00", "2026-10-26T09:00"),
        # Before the anchor the rotation runs backwards too.
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2025-12-31T00:00", "2026-01-05T09:00"),
        ("Europe/Dublin", "2026-01-05T09:00", WEEK, "2025-12-20T00:00", "2025-12-22T09:00"),
        # 12h turns in New York from 20:00 EST: the turn over spring-forward is 11h long.
        ("America/New_York", "2026-03-07T20:00", 12 * HOUR, "2026-03-08T01:00", "2026-03-08T12:00"),
        ("America/New_York", "2026-03-07T20:00", 12 * HOUR, "2026-03-08T12:00", "2026-03-09T00:00"),
        # Daily 02:30 in New York: the handoff in the gap happens at the transition.
        ("America/New_York", "2026-03-01T02:30", DAY, "2026-03-07T08:00", "2026-03-08T07:00"),
        ("America/New_York", "2026-03-01T02:30", DAY, "2026-03-08T07:00", "2026-03-09T06:30"),
        # Daily 01:30 in New York: the ambiguous handoff is the first 01:30 (EDT).
        ("America/New_York", "2026-10-01T01:30", DAY, "2026-10-31T12:00", "2026-11-01T05:30"),
        ("America/New_York", "2026-10-01T01:30", DAY, "2026-11-01T05:30", "2026-11-02T06:30"),
        # Hourly turns: the 02:00 turn has no length and is skipped.
        ("America/New_York", "2026-03-08T00:00", HOUR, "2026-03-08T06:00", "2026-03-08T07:00"),
        ("America/New_York", "2026-03-08T00:00", HOUR, "2026-03-08T07:00", "2026-03-08T08:00"),
        # Fall-back with hourly turns: 01:00 EDT, then 01:00 EST is not a new wall-clock hour.
        ("America/New_York", "2026-11-01T00:00", HOUR, "2026-11-01T05:00", "2026-11-01T07:00"),
    ],
)
def test_next_handoff(time_zone: str, anchor: str, turn: int, after: str, expected: str) -> None:
    virtual_start = localise(dt.datetime.fromisoformat(anchor), time_zone)
    assert next_handoff(virtual_start, turn, time_zone, utc(after)) == utc(expected)


def test_next_handoff_takes_the_anchor_as_an_instant_in_any_offset() -> None:
    anchor = dt.datetime.fromisoformat("2026-01-05T10:00:00+01:00")  # 09:00 in Dublin
    assert next_handoff(anchor, WEEK, "Europe/Dublin", utc("2026-06-01T00:00")) == utc(
        "2026-06-01T08:00"
    )


def test_next_handoff_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="after must be an aware date-time"):
        next_handoff(utc("2026-01-05T09:00"), WEEK, "UTC", dt.datetime(2026, 1, 6))
