"""Property-based tests (hypothesis) of the translation, checked against independent sums and
against the emulator's own renderer (which shares no code with the operator):

- restrictions cover exactly the minutes of the week a coverage preset or custom window means;
- handoffs across DST changes agree with the emulator's renderer.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_operator.api import BusinessHours, Coverage, Layer, TimeWindow, Weekday
from oncall_operator.translate.restrictions import layer_restrictions, window_restrictions
from oncall_operator.translate.rotation import next_handoff
from oncall_operator.translate.timemath import localise
from oncall_testbed.emulator import rendering

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
# Zones with DST changes on both hemispheres, one with a 30-minute change, and one without DST.
DST_ZONES = [
    "Europe/Dublin",
    "America/New_York",
    "America/Santiago",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
]
MONDAY = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # renders in UTC start on a Monday


@st.composite
def hhmm(draw: st.DrawFn, end: bool = False) -> str:
    if end and draw(st.booleans()):
        return "24:00"
    return f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 15, 30, 45, 59])):02d}"


@st.composite
def windows(draw: st.DrawFn) -> TimeWindow:
    days = draw(st.lists(st.sampled_from(list(Weekday)), min_size=1, max_size=7, unique=True))
    return TimeWindow(days=days, start=draw(hhmm()), end=draw(hhmm(end=True)))


def meant_minutes(windows: list[TimeWindow]) -> set[int]:
    """The minutes of the week (Monday 00:00 = 0) the windows mean, summed directly from the
    contract: a window starts on each of its days; an end not after its start runs past midnight."""
    minutes: set[int] = set()
    for window in windows:
        start = int(window.start[:2]) * 60 + int(window.start[3:])
        end = int(window.end[:2]) * 60 + int(window.end[3:])
        length = end - start if end > start else end - start + MINUTES_PER_DAY
        for day in window.days:
            first = (day.iso - 1) * MINUTES_PER_DAY + start
            minutes |= {(first + m) % MINUTES_PER_WEEK for m in range(length)}
    return minutes


def rendered_minutes(restrictions: list[dict[str, object]]) -> set[int]:
    """The minutes the emulator's renderer puts a restricted layer on call, over one UTC week."""
    layer = rendering.layer_from_json(
        {
            "start": MONDAY.isoformat(),
            "rotation_virtual_start": MONDAY.isoformat(),
            "rotation_turn_length_seconds": 4 * 7 * 86400,
            "users": [{"user": {"id": "PUSER01", "type": "user_reference"}}],
            "restrictions": restrictions,
        }
    )
    entries = rendering.render_layer(layer, "UTC", MONDAY, MONDAY + dt.timedelta(days=7))
    minutes: set[int] = set()
    for entry in entries:
        first = int((entry.start - MONDAY).total_seconds()) // 60
        last = int((entry.end - MONDAY).total_seconds()) // 60
        minutes |= set(range(first, last))
    return minutes


@settings(max_examples=100, deadline=None)
@given(st.lists(windows(), min_size=1, max_size=4))
def test_custom_windows_cover_exactly_the_minutes_they_mean(custom: list[TimeWindow]) -> None:
    assert rendered_minutes(window_restrictions(custom)) == meant_minutes(custom)


@settings(max_examples=100, deadline=None)
@given(windows(), st.sampled_from([Coverage.BUSINESS_HOURS, Coverage.OUT_OF_HOURS]))
def test_presets_cover_exactly_business_or_the_other_hours(
    window: TimeWindow, coverage: Coverage
) -> None:
    hours = BusinessHours(days=window.days, start=window.start, end=window.end)
    business = meant_minutes([hours])
    meant = (
        business if coverage is Coverage.BUSINESS_HOURS else set(range(MINUTES_PER_WEEK)) - business
    )
    if not meant:  # business hours fill the week: refused at admission and by the model
        return
    layer = Layer(
        name="primary",
        participants={"emails": ["ana@example.com"]},
        shift_length="1w",
        handoff="2026-01-05T09:00",
        coverage=coverage,
    )
    assert rendered_minutes(layer_restrictions(layer, hours)) == meant


@st.composite
def anchors(draw: st.DrawFn) -> dt.datetime:
    """A local wall-clock anchor, on the quarter hour, any time in 2025-2027."""
    day = draw(st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)))
    minute = draw(st.integers(0, 24 * 4 - 1)) * 15
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60))


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(DST_ZONES),
    anchor=anchors(),
    turn_hours=st.sampled_from([1, 6, 8, 12, 24, 48, 72, 168, 336]),
    days_later=st.integers(0, 500),
    minutes_later=st.integers(0, MINUTES_PER_DAY - 1),
)
def test_handoffs_across_dst_agree_with_the_emulators_renderer(
    zone: str, anchor: dt.datetime, turn_hours: int, days_later: int, minutes_later: int
) -> None:
    """The rule the two share by contract (NOTES.md, "DST"): handoffs keep local wall-clock time;
    the renderer is the emulator's own reading of it."""
    virtual_start = localise(anchor, zone)  # the anchor instant the operator sends
    after = virtual_start + dt.timedelta(days=days_later, minutes=minutes_later)
    expected = next_handoff(virtual_start, turn_hours * 3600, zone, after)
    layer = rendering.layer_from_json(
        {
            "start": virtual_start.isoformat(),
            "rotation_virtual_start": virtual_start.isoformat(),
            "rotation_turn_length_seconds": turn_hours * 3600,
            "users": [
                {"user": {"id": "PUSER01", "type": "user_reference"}},
                {"user": {"id": "PUSER02", "type": "user_reference"}},
            ],
        }
    )
    entries = rendering.render_layer(
        layer, zone, after, after + dt.timedelta(hours=2 * turn_hours + 2)
    )
    assert entries[0].end == expected, (entries[:2], expected)
