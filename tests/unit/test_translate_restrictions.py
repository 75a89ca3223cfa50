"""Coverage -> PagerDuty weekly restrictions; expectations written by hand."""

from typing import Any

import pytest

from oncall_operator.api import BusinessHours, Coverage, Layer, TimeWindow
from oncall_operator.translate.restrictions import (
    business_hours_restrictions,
    layer_restrictions,
    out_of_hours_restrictions,
    window_restrictions,
)

H = 3600
ALL_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def weekly(day: int, time: str, hours: float) -> dict[str, Any]:
    return {
        "type": "weekly_restriction",
        "start_day_of_week": day,
        "start_time_of_day": time,
        "duration_seconds": int(hours * H),
    }


@pytest.mark.parametrize(
    ("business_hours", "expected"),
    [
        pytest.param(
            BusinessHours(),
            [
                weekly(1, "17:00:00", 16),
                weekly(2, "17:00:00", 16),
                weekly(3, "17:00:00", 16),
                weekly(4, "17:00:00", 16),
                weekly(5, "17:00:00", 64),
            ],
            id="default Mon-Fri 09-17: Friday evening covers the weekend",
        ),
        pytest.param(
            BusinessHours(days=["Sun", "Mon", "Tue", "Wed", "Thu"], start="08:30", end="16:30"),
            [
                weekly(1, "16:30:00", 16),
                weekly(2, "16:30:00", 16),
                weekly(3, "16:30:00", 16),
                weekly(4, "16:30:00", 64),
                weekly(7, "16:30:00", 16),
            ],
            id="Sun-Thu 08:30-16:30: weekend is Fri+Sat, Sunday evening wraps to Monday",
        ),
        pytest.param(
            BusinessHours(start="22:00", end="06:00"),
            [
                weekly(2, "06:00:00", 16),
                weekly(3, "06:00:00", 16),
                weekly(4, "06:00:00", 16),
                weekly(5, "06:00:00", 16),
                weekly(6, "06:00:00", 64),
            ],
            id="night window 22:00-06:00 Mon-Fri runs past midnight",
        ),
        pytest.param(
            BusinessHours(days=["Mon"], start="00:00", end="24:00"),
            [weekly(2, "00:00:00", 144)],
            id="only Monday all day: Tuesday to Sunday is one stretch",
        ),
        pytest.param(
            BusinessHours(days=ALL_DAYS, start="09:00", end="17:00"),
            [weekly(d, "17:00:00", 16) for d in range(1, 8)],
            id="every day: Sunday evening runs into Monday morning",
        ),
        pytest.param(
            BusinessHours(days=["Sat", "Sun"], start="10:00", end="14:00"),
            [weekly(6, "14:00:00", 20), weekly(7, "14:00:00", 140)],
            id="weekend business: Sunday 14:00 to Saturday 10:00 wraps the week",
        ),
        pytest.param(
            BusinessHours(days=ALL_DAYS, start="00:00", end="23:00"),
            [weekly(d, "23:00:00", 1) for d in range(1, 8)],
            id="one hour a night",
        ),
    ],
)
def test_out_of_hours(business_hours: BusinessHours, expected: list[dict[str, Any]]) -> None:
    assert out_of_hours_restrictions(business_hours) == expected


@pytest.mark.parametrize(
    "business_hours",
    [
        BusinessHours(days=ALL_DAYS, start="00:00", end="24:00"),
        BusinessHours(days=ALL_DAYS, start="07:00", end="07:00"),
    ],
    ids=["all day every day", "24h windows starting 07:00"],
)
def test_out_of_hours_of_a_full_week_is_refused_naming_the_field(
    business_hours: BusinessHours,
) -> None:
    with pytest.raises(ValueError, match=r"spec\.businessHours covers the whole week"):
        out_of_hours_restrictions(business_hours)


@pytest.mark.parametrize(
    ("business_hours", "expected"),
    [
        pytest.param(
            BusinessHours(),
            [weekly(d, "09:00:00", 8) for d in range(1, 6)],
            id="default",
        ),
        pytest.param(
            BusinessHours(days=["Mon", "Tue", "Wed", "Thu", "Fri"], start="00:00", end="24:00"),
            [weekly(1, "00:00:00", 120)],
            id="whole weekdays merge into one stretch",
        ),
        pytest.param(
            BusinessHours(days=["Fri"], start="22:00", end="06:00"),
            [weekly(5, "22:00:00", 8)],
            id="one night window past midnight",
        ),
        pytest.param(
            BusinessHours(days=ALL_DAYS, start="00:00", end="24:00"),
            [],
            id="the whole week is no restriction at all",
        ),
    ],
)
def test_business_hours(business_hours: BusinessHours, expected: list[dict[str, Any]]) -> None:
    assert business_hours_restrictions(business_hours) == expected


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        pytest.param(
            [TimeWindow(days=["Sat", "Sun"], start="00:00", end="24:00")],
            [weekly(6, "00:00:00", 48)],
            id="weekend days touch: one 48h stretch",
        ),
        pytest.param(
            [TimeWindow(days=["Sun"], start="20:00", end="08:00")],
            [weekly(7, "20:00:00", 12)],
            id="Sunday night crosses into Monday",
        ),
        pytest.param(
            [
                TimeWindow(days=["Sun"], start="20:00", end="24:00"),
                TimeWindow(days=["Mon"], start="00:00", end="08:00"),
            ],
            [weekly(7, "20:00:00", 12)],
            id="Sunday evening and Monday morning merge across the week wrap",
        ),
        pytest.param(
            [
                TimeWindow(days=["Mon", "Wed"], start="18:00", end="02:00"),
                TimeWindow(days=["Tue"], start="01:00", end="03:00"),
            ],
            [weekly(1, "18:00:00", 9), weekly(3, "18:00:00", 8)],
            id="overlapping windows across midnight merge",
        ),
        pytest.param(
            [
                TimeWindow(days=["Fri"], start="12:00", end="13:00"),
                TimeWindow(days=["Mon"], start="12:00", end="13:00"),
            ],
            [weekly(1, "12:00:00", 1), weekly(5, "12:00:00", 1)],
            id="sorted by time of the week",
        ),
        pytest.param(
            [TimeWindow(days=["Thu"], start="09:15", end="09:45")],
            [weekly(4, "09:15:00", 0.5)],
            id="minutes kept",
        ),
    ],
)
def test_custom_windows(windows: list[TimeWindow], expected: list[dict[str, Any]]) -> None:
    assert window_restrictions(windows) == expected


def _layer(coverage: Coverage, windows: list[TimeWindow] | None = None) -> Layer:
    return Layer(
        name="primary",
        participants={"emails": ["ana@example.com"]},
        shift_length="1w",
        handoff="2026-01-05T09:00",
        coverage=coverage,
        windows=windows,
    )


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (_layer(Coverage.ALWAYS), []),
        (_layer(Coverage.BUSINESS_HOURS), [weekly(1, "08:00:00", 4)]),
        (_layer(Coverage.OUT_OF_HOURS), [weekly(1, "12:00:00", 164)]),
        (
            _layer(Coverage.CUSTOM, [TimeWindow(days=["Tue"], start="10:00", end="11:00")]),
            [weekly(2, "10:00:00", 1)],
        ),
    ],
    ids=["Always", "BusinessHours", "OutOfHours", "Custom"],
)
def test_layer_restrictions_follow_coverage(layer: Layer, expected: list[dict[str, Any]]) -> None:
    business_hours = BusinessHours(days=["Mon"], start="08:00", end="12:00")
    assert layer_restrictions(layer, business_hours) == expected


def _half_hours(restrictions: list[dict[str, Any]]) -> list[int]:
    """Half-hour slots of the week (0 = Monday 00:00) each restriction covers, with repeats."""
    slots = []
    for r in restrictions:
        hours, minutes, _ = (int(p) for p in r["start_time_of_day"].split(":"))
        first = (r["start_day_of_week"] - 1) * 48 + hours * 2 + minutes // 30
        slots += [(first + i) % 336 for i in range(r["duration_seconds"] // 1800)]
    return slots


@pytest.mark.parametrize(
    "business_hours",
    [
        BusinessHours(),
        BusinessHours(days=["Sun", "Mon", "Tue", "Wed", "Thu"], start="08:30", end="16:30"),
        BusinessHours(start="22:00", end="06:00"),
        BusinessHours(days=["Sat", "Sun"], start="00:00", end="24:00"),
        BusinessHours(days=["Wed"], start="12:00", end="12:00"),
        BusinessHours(days=ALL_DAYS, start="09:30", end="17:00"),
    ],
    ids=["default", "Sun-Thu", "nights", "weekend", "24h from Wednesday noon", "every day"],
)
def test_business_and_out_of_hours_tile_the_week_exactly(business_hours: BusinessHours) -> None:
    slots = _half_hours(business_hours_restrictions(business_hours))
    slots += _half_hours(out_of_hours_restrictions(business_hours))
    assert sorted(slots) == list(range(336))
