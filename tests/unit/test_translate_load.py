"""On-call load, who is on call now, the humane policy's breaches and out-of-hours pages.
Hours are counted by hand from the entries below."""

import datetime as dt
from typing import Any

import pytest

from oncall_operator.api import BusinessHours, OnCallPolicy, OnCallStatus, PersonLoad
from oncall_operator.translate.load import (
    on_call_now,
    person_load,
    sustainability_breaches,
)
from oncall_operator.translate.pages import in_business_hours

EMAILS = {"PANA": "ana@example.com", "PBO": "bo@example.com", "PCY": "cy@example.com"}
SINCE = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # Monday, GMT in Dublin
UNTIL = SINCE + dt.timedelta(days=28)


def entry(user: str, start: str, end: str) -> dict[str, Any]:
    return {"user": {"id": user, "type": "user_reference"}, "start": start, "end": end}


# An out-of-hours week for ana (split by business hours), then bo, as PagerDuty renders it.
OOH_WEEK_ANA = [
    entry("PANA", "2026-11-30T17:00:00Z", "2026-12-01T09:00:00Z"),
    entry("PANA", "2026-12-01T17:00:00Z", "2026-12-02T09:00:00Z"),
    entry("PANA", "2026-12-02T17:00:00Z", "2026-12-03T09:00:00Z"),
    entry("PANA", "2026-12-03T17:00:00Z", "2026-12-04T09:00:00Z"),
    entry("PANA", "2026-12-04T17:00:00Z", "2026-12-07T09:00:00Z"),
]


def test_out_of_hours_week_is_one_shift_all_out_of_hours() -> None:
    loads = person_load(
        [*OOH_WEEK_ANA, entry("PBO", "2026-12-07T17:00:00+00:00", "2026-12-08T09:00:00+00:00")],
        EMAILS,
        BusinessHours(),
        "Europe/Dublin",
        SINCE,
        UNTIL,
    )
    assert loads == [
        PersonLoad(email="ana@example.com", hours=128, out_of_hours_hours=128, shifts=1),
        PersonLoad(email="bo@example.com", hours=16, out_of_hours_hours=16, shifts=1),
    ]


@pytest.mark.parametrize(
    ("entries", "time_zone", "expected"),
    [
        pytest.param(
            [entry("PANA", "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z")],
            "Europe/Dublin",
            [PersonLoad(email="ana@example.com", hours=15, out_of_hours_hours=7, shifts=1)],
            id="clipped at since; Monday 09:00-17:00 is business",
        ),
        pytest.param(
            [entry("PANA", "2026-12-05T00:00:00Z", "2026-12-07T00:00:00Z")],
            "Europe/Dublin",
            [PersonLoad(email="ana@example.com", hours=48, out_of_hours_hours=48, shifts=1)],
            id="weekend",
        ),
        pytest.param(
            [entry("PANA", "2026-12-01T12:00:00Z", "2026-12-01T14:00:00Z")],
            "America/New_York",
            [PersonLoad(email="ana@example.com", hours=2, out_of_hours_hours=2, shifts=1)],
            id="07:00-09:00 in New York is before business hours",
        ),
        pytest.param(
            [
                entry("PANA", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                entry("PANA", "2026-12-01T11:00:00Z", "2026-12-01T11:30:00Z"),
                entry("PBO", "2026-12-01T11:30:00Z", "2026-12-01T12:00:00Z"),
                entry("PANA", "2026-12-01T12:00:00Z", "2026-12-01T12:15:00Z"),
            ],
            "UTC",
            [
                PersonLoad(email="ana@example.com", hours=1.75, out_of_hours_hours=0, shifts=2),
                PersonLoad(email="bo@example.com", hours=0.5, out_of_hours_hours=0, shifts=1),
            ],
            id="adjacent entries are one shift; someone else between makes two",
        ),
        pytest.param(
            [entry("PZED", "2026-12-01T16:00:00Z", "2026-12-01T18:20:00Z")],
            "UTC",
            [PersonLoad(email="PZED", hours=2.33, out_of_hours_hours=1.33, shifts=1)],
            id="unknown user named by id; minutes exact",
        ),
        pytest.param(
            [entry("PANA", "2026-12-29T00:00:00Z", "2026-12-30T00:00:00Z")],
            "UTC",
            [],
            id="after until: nothing",
        ),
    ],
)
def test_person_load(
    entries: list[dict[str, Any]], time_zone: str, expected: list[PersonLoad]
) -> None:
    assert person_load(entries, EMAILS, BusinessHours(), time_zone, SINCE, UNTIL) == expected


def test_out_of_hours_hours_follow_dst_in_the_rotation_zone() -> None:
    # Dublin, Sunday 29 March 2026 is the spring change; Monday 30 March business is 08:00-16:00Z.
    since = dt.datetime(2026, 3, 28, 0, 0, tzinfo=dt.UTC)
    loads = person_load(
        [entry("PANA", "2026-03-30T07:00:00Z", "2026-03-30T17:00:00Z")],
        EMAILS,
        BusinessHours(),
        "Europe/Dublin",
        since,
        since + dt.timedelta(days=28),
    )
    assert loads == [PersonLoad(email="ana@example.com", hours=10, out_of_hours_hours=2, shifts=1)]


BO_MONDAY = entry("PBO", "2026-12-07T17:00:00Z", "2026-12-08T09:00:00Z")
ANA_MONDAY = entry("PANA", "2026-12-07T09:00:00Z", "2026-12-07T17:00:00Z")


@pytest.mark.parametrize(
    ("entries", "now", "expected"),
    [
        pytest.param(
            [*OOH_WEEK_ANA, BO_MONDAY],
            "2026-12-01T20:00:00Z",
            OnCallStatus(
                now="ana@example.com", until="2026-12-02T09:00:00Z", next="bo@example.com"
            ),
            id="evening",
        ),
        pytest.param(
            [*OOH_WEEK_ANA, ANA_MONDAY, BO_MONDAY],
            "2026-12-05T20:00:00Z",
            OnCallStatus(
                now="ana@example.com", until="2026-12-07T17:00:00Z", next="bo@example.com"
            ),
            id="adjacent entries joined",
        ),
        pytest.param(
            [*OOH_WEEK_ANA, BO_MONDAY],
            "2026-12-02T12:00:00Z",
            OnCallStatus(now=None, until=None, next="ana@example.com"),
            id="gap: nobody now",
        ),
        pytest.param(
            [*OOH_WEEK_ANA, BO_MONDAY],
            "2026-12-07T18:00:00+01:00",
            OnCallStatus(now="bo@example.com", until="2026-12-08T09:00:00Z", next=None),
            id="last, now given in another offset",
        ),
        pytest.param(
            [*OOH_WEEK_ANA, BO_MONDAY], "2026-12-09T00:00:00Z", OnCallStatus(), id="after"
        ),
        pytest.param([], "2026-12-09T00:00:00Z", OnCallStatus(), id="no entries"),
    ],
)
def test_on_call_now(entries: list[dict[str, Any]], now: str, expected: OnCallStatus) -> None:
    assert on_call_now(entries, EMAILS, dt.datetime.fromisoformat(now)) == expected


def _weekly_turns(people: list[str], weeks: int) -> list[dict[str, Any]]:
    return [
        entry(
            people[k % len(people)],
            (SINCE + dt.timedelta(weeks=k)).isoformat(),
            (SINCE + dt.timedelta(weeks=k + 1)).isoformat(),
        )
        for k in range(weeks)
    ]


@pytest.mark.parametrize(
    ("entries", "policy", "expected"),
    [
        pytest.param(
            _weekly_turns(["PANA", "PBO", "PCY", "PANA"], 4),
            OnCallPolicy(maxOnCallPercent=25),
            ["ana@example.com is on call 50% of the next 28 days (policy maxOnCallPercent 25)"],
            id="two of four weeks",
        ),
        pytest.param(
            _weekly_turns(["PANA", "PBO", "PCY", "PANA"], 4),
            OnCallPolicy(maxOnCallPercent=50),
            [],
            id="exactly at the limit is fine",
        ),
        pytest.param(
            [entry("PBO", "2026-11-30T09:00:00Z", "2026-12-10T21:00:00Z")],
            OnCallPolicy(maxOnCallPercent=25),
            ["bo@example.com is on call 38% of the next 28 days (policy maxOnCallPercent 25)"],
            id="37.5% rounds to 38%",
        ),
        pytest.param(
            [
                entry("PCY", "2026-11-30T09:00:00Z", "2026-12-01T09:00:00Z"),
                entry("PANA", "2026-12-01T09:00:00Z", "2026-12-01T21:00:00Z"),
                entry("PCY", "2026-12-01T21:00:00Z", "2026-12-02T09:00:00Z"),
            ],
            OnCallPolicy(minRestHours=72),
            [
                "cy@example.com has 12h rest between shifts ending 2026-12-01T09:00Z and "
                "starting 2026-12-01T21:00Z (policy minRestHours 72)"
            ],
            id="short rest",
        ),
        pytest.param(
            _weekly_turns(["PANA", "PBO"], 4),
            OnCallPolicy(minRestHours=168),
            [],
            id="a week off is a week of rest",
        ),
        pytest.param(
            _weekly_turns(["PANA", "PBO"], 4),
            OnCallPolicy(minRestHours=169),
            [
                "ana@example.com has 168h rest between shifts ending 2026-12-07T09:00Z and "
                "starting 2026-12-14T09:00Z (policy minRestHours 169)",
                "bo@example.com has 168h rest between shifts ending 2026-12-14T09:00Z and "
                "starting 2026-12-21T09:00Z (policy minRestHours 169)",
            ],
            id="both people",
        ),
        pytest.param(
            OOH_WEEK_ANA,
            OnCallPolicy(minRestHours=72, maxOnCallPercent=100),
            [],
            id="business-hours gaps inside one out-of-hours week are not rest",
        ),
    ],
)
def test_sustainability_breaches(
    entries: list[dict[str, Any]], policy: OnCallPolicy, expected: list[str]
) -> None:
    assert sustainability_breaches(entries, EMAILS, policy, SINCE, UNTIL) == expected


@pytest.mark.parametrize(
    ("created_at", "time_zone", "business_hours", "out_of_hours"),
    [
        ("2026-12-01T10:00:00Z", "UTC", BusinessHours(), 0),
        ("2026-12-01T08:59:59Z", "UTC", BusinessHours(), 1),
        ("2026-12-01T17:00:00Z", "UTC", BusinessHours(), 1),
        ("2026-12-01T16:59:59Z", "UTC", BusinessHours(), 0),
        ("2026-12-05T12:00:00Z", "UTC", BusinessHours(), 1),
        ("2026-12-01T15:00:00Z", "America/New_York", BusinessHours(), 0),
        ("2026-12-01T13:00:00Z", "America/New_York", BusinessHours(), 1),
        ("2026-07-01T16:30:00Z", "Europe/Dublin", BusinessHours(), 1),
        ("2026-12-06T23:00:00Z", "UTC", BusinessHours(days=["Sun"], start="22:00", end="06:00"), 0),
        ("2026-12-07T05:59:00Z", "UTC", BusinessHours(days=["Sun"], start="22:00", end="06:00"), 0),
        ("2026-12-07T06:00:00Z", "UTC", BusinessHours(days=["Sun"], start="22:00", end="06:00"), 1),
    ],
    ids=[
        "inside",
        "just before",
        "at the end",
        "last second",
        "Saturday",
        "10:00 New York",
        "08:00 New York",
        "17:30 Dublin summer",
        "Sunday night",
        "Monday early, still Sunday's window",
        "Monday 06:00",
    ],
)
def test_a_page_is_out_of_hours_outside_the_business_hours(
    created_at: str, time_zone: str, business_hours: BusinessHours, out_of_hours: int
) -> None:
    at = dt.datetime.fromisoformat(created_at)
    assert in_business_hours(at, business_hours, time_zone) is (out_of_hours == 0)


def test_bad_entry_times_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"entries\[0\]\.end 'soon' is not an RFC 3339 date-time"):
        person_load(
            [entry("PANA", "2026-12-01T10:00:00Z", "soon")],
            EMAILS,
            BusinessHours(),
            "UTC",
            SINCE,
            UNTIL,
        )
