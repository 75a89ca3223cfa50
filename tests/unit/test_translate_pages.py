"""Page counting (translate/pages.py): pure, table-driven, on fixed instants (no wall clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncall_operator.api import BusinessHours, PersonPages, TimeWindow
from oncall_operator.translate.load import Entry
from oncall_operator.translate.pages import (
    Page,
    Person,
    RotationHours,
    at_night,
    in_business_hours,
    most_in_one_stretch,
    pages_from_log_entries,
    team_pages,
)

UTC = dt.UTC
DUBLIN = "Europe/Dublin"
NEW_YORK = "America/New_York"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def entry(
    kind: str, at: str, incident: str = "Q1", urgency: str = "high", **fields: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "created_at": at,
        "incident": {
            "id": incident,
            "type": "incident",
            "urgency": urgency,
            **fields.pop("incident_fields", {}),
        },
        **fields,
    }


def notify(user: str, at: str, incident: str = "Q1", urgency: str = "high") -> dict[str, Any]:
    return entry("notify_log_entry", at, incident, urgency, user={"id": user})


# -- which log entries are pages --------------------------------------------------------------


def test_one_page_per_person_and_incident_at_the_first_notification() -> None:
    pages = pages_from_log_entries(
        [
            notify("UANA", "2026-12-01T03:05:00Z"),  # phone after push
            notify("UANA", "2026-12-01T03:00:00Z"),
            notify("UBO", "2026-12-01T03:00:00Z"),
            notify("UANA", "2026-12-01T04:00:00Z", incident="Q2"),
            notify("UCY", "2026-12-01T05:00:00Z", incident="Q3", urgency="low"),
            entry("trigger_log_entry", "2026-12-01T02:59:00Z"),
        ]
    )
    assert pages == [
        Page("UANA", "Q1", utc("2026-12-01T03:00:00Z")),
        Page("UBO", "Q1", utc("2026-12-01T03:00:00Z")),
        Page("UANA", "Q2", utc("2026-12-01T04:00:00Z")),
    ]


def test_assignments_count_where_the_account_gives_no_notifications() -> None:
    pages = pages_from_log_entries(
        [
            # Q1: notified and assigned: the notifications say who was paged
            notify("UANA", "2026-12-01T03:00:00Z"),
            entry(
                "assign_log_entry",
                "2026-12-01T03:00:00Z",
                assignees=[{"id": "UANA"}, {"id": "UBO"}],
            ),
            # Q2: only an assign entry
            entry("assign_log_entry", "2026-12-01T06:00:00Z", "Q2", assignees=[{"id": "UCY"}]),
            # Q3: only the incident's own assignments
            entry(
                "trigger_log_entry",
                "2026-12-01T07:00:00Z",
                "Q3",
                incident_fields={
                    "assignments": [{"at": "2026-12-01T07:01:00Z", "assignee": {"id": "UDEE"}}]
                },
            ),
        ]
    )
    assert [(p.user_id, p.incident_id, p.at.isoformat()) for p in pages] == [
        ("UANA", "Q1", "2026-12-01T03:00:00+00:00"),
        ("UCY", "Q2", "2026-12-01T06:00:00+00:00"),
        ("UDEE", "Q3", "2026-12-01T07:01:00+00:00"),
    ]


# -- hours ------------------------------------------------------------------------------------

BUSINESS = BusinessHours()  # Mon-Fri 09:00-17:00


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        ("2026-12-01T08:59:59+00:00", False),  # Tuesday, Dublin is on UTC in winter
        ("2026-12-01T09:00:00+00:00", True),  # the first minute is inside
        ("2026-12-01T16:59:59+00:00", True),
        ("2026-12-01T17:00:00+00:00", False),  # the end is outside
        ("2026-12-05T12:00:00+00:00", False),  # Saturday
        ("2026-07-07T08:30:00+00:00", True),  # Tuesday in summer: 09:30 IST
        ("2026-07-07T16:30:00+00:00", False),  # 17:30 IST
    ],
)
def test_business_hours_edges_in_the_rotations_time_zone(at: str, inside: bool) -> None:
    assert in_business_hours(utc(at), BUSINESS, DUBLIN) is inside


def test_business_hours_running_past_midnight() -> None:
    late = TimeWindow(days=["Mon"], start="20:00", end="02:00")
    assert in_business_hours(utc("2026-12-01T01:59:00Z"), late, "UTC")  # Tuesday 01:59
    assert not in_business_hours(utc("2026-12-01T02:00:00Z"), late, "UTC")


@pytest.mark.parametrize(
    ("at", "zone", "night"),
    [
        ("2026-12-01T21:59:59Z", DUBLIN, False),
        ("2026-12-01T22:00:00Z", DUBLIN, True),
        ("2026-12-02T06:59:59Z", DUBLIN, True),
        ("2026-12-02T07:00:00Z", DUBLIN, False),
        ("2026-12-02T02:30:00Z", NEW_YORK, False),  # 21:30 in New York
        ("2026-12-02T04:00:00Z", NEW_YORK, True),  # 23:00 in New York
        ("2026-12-02T11:30:00Z", NEW_YORK, True),  # 06:30 in New York, 11:30 in Dublin
    ],
)
def test_night_is_on_the_persons_own_clock(at: str, zone: str, night: bool) -> None:
    assert at_night(utc(at), zone) is night


@pytest.mark.parametrize(
    ("hours", "most"),
    [
        ([], 0),
        ([0], 1),
        ([0, 11.9, 12], 2),  # 12 hours after the first is a new stretch
        ([0, 1, 2, 30, 31], 3),
        ([5, 0, 13, 6, 14, 17], 4),  # in any order: 5, 6, 13 and 14
    ],
)
def test_most_pages_in_twelve_hours(hours: list[float], most: int) -> None:
    start = utc("2026-12-01T00:00:00Z")
    assert most_in_one_stretch([start + dt.timedelta(hours=h) for h in hours]) == most


# -- a team's pages -----------------------------------------------------------------------------

ANA = Person("ana@example.com", "UANA", DUBLIN)
BO = Person("bo@example.com", "UBO", NEW_YORK)  # lives five hours behind the schedule
SINCE, UNTIL = utc("2026-11-02T00:00:00Z"), utc("2026-12-02T00:00:00Z")


def weekly(*turns: tuple[str, str, str]) -> list[Entry]:
    return [Entry(email, utc(start), utc(end)) for email, start, end in turns]


OUT_OF_HOURS = RotationHours(
    name="out-of-hours-weekly",
    time_zone=DUBLIN,
    business_hours=BUSINESS,
    entries=weekly(
        # Ana's week, written as PagerDuty renders an OutOfHours layer: evenings and the weekend
        ("ana@example.com", "2026-11-23T17:00:00Z", "2026-11-24T09:00:00Z"),
        ("ana@example.com", "2026-11-24T17:00:00Z", "2026-11-30T09:00:00Z"),
        ("bo@example.com", "2026-11-30T17:00:00Z", "2026-12-01T09:00:00Z"),
        ("bo@example.com", "2026-12-01T17:00:00Z", "2026-12-02T09:00:00Z"),
    ),
)
PRODUCT = RotationHours(
    name="payments-business-hours",
    time_zone=DUBLIN,
    business_hours=BUSINESS,
    entries=weekly(("bo@example.com", "2026-11-24T09:00:00Z", "2026-11-24T17:00:00Z")),
)


def page(user: str, at: str, incident: str = "Q") -> Page:
    return Page(user, incident + at, utc(at))


def test_team_pages_count_only_members_on_call_through_the_teams_rotations() -> None:
    pages = [
        page("UANA", "2026-11-23T16:59:00Z"),  # Monday before her shift: not on call
        page("UANA", "2026-11-23T17:00:00Z"),  # her first minute, out of hours
        page("UANA", "2026-11-24T02:00:00Z"),  # night
        page("UANA", "2026-11-24T03:00:00Z"),  # night, third in 12 hours
        page("UANA", "2026-11-24T12:00:00Z"),  # business hours: off this rotation
        page("UANA", "2026-11-28T12:00:00Z"),  # Saturday noon
        page("UZED", "2026-11-28T12:00:00Z"),  # not a member
        page("UBO", "2026-11-24T10:00:00Z"),  # product rotation, in hours; 05:00 in New York
        page("UBO", "2026-12-01T02:30:00Z"),  # 02:30 in Dublin, 21:30 in New York: not night
        page("UBO", "2026-12-01T04:00:00Z"),  # 23:00 in New York: night
        page("UBO", "2026-12-03T04:00:00Z"),  # after the window
        page("UANA", "2026-10-26T20:00:00Z"),  # before the window
    ]
    counted = team_pages(pages, [OUT_OF_HOURS, PRODUCT], [ANA, BO], SINCE, UNTIL)
    assert counted.out_of_hours == 6
    assert counted.people == [
        PersonPages(email="ana@example.com", pages=4, night_pages=2, max_pages_in_12h=3),
        PersonPages(email="bo@example.com", pages=3, night_pages=2, max_pages_in_12h=2),
    ]


def test_a_page_is_out_of_hours_by_the_rotation_that_had_the_person_on_call() -> None:
    # The same instant is business hours in Dublin and out of hours in Tokyo.
    tokyo = RotationHours(
        name="tokyo",
        time_zone="Asia/Tokyo",
        business_hours=BUSINESS,
        entries=weekly(("ana@example.com", "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z")),
    )
    dublin = RotationHours(
        name="dublin", time_zone=DUBLIN, business_hours=BUSINESS, entries=tokyo.entries
    )
    at_noon_dublin = [page("UANA", "2026-11-24T12:00:00Z")]  # 21:00 in Tokyo
    assert team_pages(at_noon_dublin, [dublin], [ANA], SINCE, UNTIL).out_of_hours == 0
    assert team_pages(at_noon_dublin, [tokyo], [ANA], SINCE, UNTIL).out_of_hours == 1
    both = team_pages(at_noon_dublin, [dublin, tokyo], [ANA], SINCE, UNTIL)
    assert (both.out_of_hours, both.people[0].pages) == (1, 1)  # one page, counted once


def test_a_team_with_no_pages_lists_every_member_at_zero() -> None:
    counted = team_pages([], [OUT_OF_HOURS], [ANA, BO], SINCE, UNTIL)
    assert counted.out_of_hours == 0
    assert [p.to_wire() for p in counted.people] == [
        {"email": "ana@example.com", "pages": 0, "nightPages": 0, "maxPagesIn12h": 0},
        {"email": "bo@example.com", "pages": 0, "nightPages": 0, "maxPagesIn12h": 0},
    ]
