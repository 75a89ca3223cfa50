"""Terms at handoffs, time off as covers, and load across rotations: pure, with fixed instants."""

from __future__ import annotations

import datetime as dt

import pytest

from oncall_operator.api import Layer, OnCallPolicy, OnCallTeamSpec, RotationSpec
from oncall_operator.translate import terms
from oncall_operator.translate.load import Entry, busiest_window, load_breaches
from oncall_operator.translate.rotation import effective_turn, layer_participants
from oncall_operator.translate.timeoff import Cover, painted, plan_covers

UTC = dt.UTC
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(weeks=1)
HOUR = dt.timedelta(hours=1)
MONDAY = dt.datetime(2027, 1, 4, 9, tzinfo=UTC)  # a handoff; Dublin is on UTC in January


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def _rotation(changes: str = "NextHandoff") -> RotationSpec:
    return RotationSpec.model_validate(
        {
            "teamRef": {"name": "ooh"},
            "timeZone": "Europe/Dublin",
            "layers": [
                {
                    "name": "primary",
                    "participants": {"fromTeam": {}},
                    "shiftLength": "1w",
                    "handoff": "2027-01-04T09:00:00",
                    "changesTakeEffect": changes,
                }
            ],
        }
    )


def _team(*members: dict[str, object], time_zone: str = "Europe/Dublin") -> OnCallTeamSpec:
    return OnCallTeamSpec.model_validate(
        {"members": list(members), "policy": {"timeZone": time_zone}}
    )


def _people(
    rotation: RotationSpec, team: OnCallTeamSpec, now: dt.datetime, carried: bool = True
) -> list[str]:
    layer: Layer = rotation.layers[0]
    turn = effective_turn(layer, rotation.time_zone, now, carried=carried)
    return [e.split("@")[0] for e in layer_participants(rotation, layer, team, turn)]


# -- terms ------------------------------------------------------------------------------------


def test_a_term_ending_mid_shift_ends_at_the_next_handoff() -> None:
    rotation = _rotation()
    team = _team({"email": "ana@example.com", "until": "2027-01-06"}, {"email": "bo@example.com"})
    # Wednesday: ana's term ends today; she stays for the turn under way and the one edited now.
    assert _people(rotation, team, MONDAY + 2 * DAY, carried=False) == ["ana", "bo"]
    # Thursday (term over): the edit made now applies from Monday 11th, without ana.
    assert _people(rotation, team, MONDAY + 3 * DAY) == ["bo"]
    # A term ending exactly at a handoff's midnight: gone from that handoff on.
    midnight = _rotation().model_copy()
    assert terms.handoff_on_or_after(midnight.layers[0], "Europe/Dublin", MONDAY) == MONDAY


def test_a_term_is_never_cut_short_even_when_edits_apply_immediately() -> None:
    rotation = _rotation("Immediately")
    team = _team({"email": "ana@example.com", "until": "2027-01-06"}, {"email": "bo@example.com"})
    # Thursday: ana's term has ended but her week runs to Monday 11th 09:00.
    assert _people(rotation, team, MONDAY + 3 * DAY, carried=False) == ["ana", "bo"]
    assert _people(rotation, team, MONDAY + WEEK, carried=False) == ["bo"]


def test_a_member_joining_mid_rotation_joins_at_the_first_handoff_on_or_after_since() -> None:
    rotation = _rotation()
    team = _team({"email": "ana@example.com"}, {"email": "cy@example.com", "since": "2027-01-06"})
    assert _people(rotation, team, MONDAY - DAY) == ["ana"]  # next turn starts Monday 4th
    assert _people(rotation, team, MONDAY + HOUR) == ["ana", "cy"]  # next turn: Monday 11th
    assert _people(rotation, team, MONDAY + 3 * DAY, carried=False) == ["ana"]  # not this week
    # since on a handoff day: the handoff at 09:00 that day is on or after its midnight.
    on_handoff = _team({"email": "cy@example.com", "since": "2027-01-11"})
    assert _people(rotation, on_handoff, MONDAY + 6 * DAY + 23 * HOUR, carried=False) == []
    assert _people(rotation, on_handoff, MONDAY + WEEK, carried=False) == ["cy"]


def test_term_dates_are_days_in_the_policy_time_zone() -> None:
    rotation = _rotation("Immediately")
    # A handoff at 09:00 Dublin on Monday 11th is 20:00 Monday in Auckland (UTC+13 in January):
    # a since of Tuesday 12th in Auckland starts at 11:00 UTC on Monday 11th, after that handoff.
    team = _team({"email": "cy@example.com", "since": "2027-01-12"}, time_zone="Pacific/Auckland")
    assert _people(rotation, team, MONDAY + WEEK, carried=False) == []
    assert _people(rotation, team, MONDAY + 2 * WEEK, carried=False) == ["cy"]


def test_expiring_soon_uses_term_warning_days() -> None:
    team = OnCallTeamSpec.model_validate(
        {
            "members": [
                {"email": "ana@example.com", "until": "2027-01-14"},
                {"email": "bo@example.com", "until": "2027-01-15"},
                {"email": "cy@example.com", "until": "2027-01-03"},
            ],
            "policy": {"termWarningDays": 10},
        }
    )
    assert terms.expiring_soon(team, dt.date(2027, 1, 4)) == ["ana@example.com"]


# -- time off ---------------------------------------------------------------------------------


def _weekly(people: list[str], weeks: int, start: dt.datetime = MONDAY) -> list[Entry]:
    return [
        Entry(f"{people[k % len(people)]}@example.com", start + k * WEEK, start + (k + 1) * WEEK)
        for k in range(weeks)
    ]


def _away(team: OnCallTeamSpec) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    return {m.email: terms.away_spans(m, terms.team_time_zone(team)) for m in team.members}


def _short(covers: list[Cover]) -> list[tuple[str, str, dt.datetime, dt.datetime]]:
    return [(c.email.split("@")[0], c.covers.split("@")[0], c.start, c.end) for c in covers]


EMAILS = ["ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com"]


def test_time_off_across_a_handoff_is_covered_on_both_sides() -> None:
    schedule = _weekly(["ana", "bo", "cy", "dee"], 4)
    # bo is away Friday 8th to Tuesday 12th: the end of ana's week? no: bo's week is the 11th.
    team = _team(
        {"email": "ana@example.com", "away": [{"from": "2027-01-08", "until": "2027-01-12"}]},
        {"email": "bo@example.com"},
        {"email": "cy@example.com"},
        {"email": "dee@example.com"},
    )
    hours = {"bo@example.com": 2 * WEEK, "cy@example.com": WEEK, "dee@example.com": 3 * WEEK}
    plan = plan_covers(schedule, _away(team), EMAILS, hours, [], MONDAY - DAY)
    # ana is on call in her week only (4th-11th): covered from Friday 8th 00:00 to the handoff.
    assert _short(plan.covers) == [
        ("cy", "ana", _at("2027-01-08T00:00:00+00:00"), MONDAY + WEEK),
    ]
    assert plan.uncovered == []


def test_time_off_across_dst_ends_at_local_midnight() -> None:
    spring = dt.datetime(2027, 3, 22, 9, tzinfo=UTC)  # Monday; Dublin moves to IST on Sunday 28th
    schedule = _weekly(["ana", "bo"], 2, spring)
    team = _team(
        {"email": "ana@example.com", "away": [{"from": "2027-03-27", "until": "2027-03-28"}]},
        {"email": "bo@example.com"},
    )
    plan = plan_covers(schedule, _away(team), EMAILS[:2], {}, [], spring)
    # Saturday 00:00 GMT to Monday 00:00 IST (= Sunday 23:00 UTC): 47 hours, not 48.
    assert _short(plan.covers) == [
        ("bo", "ana", _at("2027-03-27T00:00:00+00:00"), _at("2027-03-29T00:00:00+01:00"))
    ]
    assert plan.covers[0].end - plan.covers[0].start == 47 * HOUR


def test_two_people_away_at_once_are_covered_by_those_who_are_not() -> None:
    # Two layers' worth of on-call at once: ana days, bo nights, both away the same days.
    day = MONDAY + 2 * DAY
    schedule = [
        Entry("ana@example.com", day, day + 12 * HOUR),
        Entry("bo@example.com", day + 12 * HOUR, day + DAY),
    ]
    team = _team(
        {"email": "ana@example.com", "away": [{"from": "2027-01-06", "until": "2027-01-06"}]},
        {"email": "bo@example.com", "away": [{"from": "2027-01-06", "until": "2027-01-07"}]},
        {"email": "cy@example.com"},
        {"email": "dee@example.com"},
    )
    plan = plan_covers(schedule, _away(team), EMAILS, {}, [], MONDAY)
    covers = _short(plan.covers)
    assert [(cover, whose) for cover, whose, _, _ in covers] == [("cy", "ana"), ("dee", "bo")]
    assert all(cover not in ("ana", "bo") for cover, *_ in covers)


def test_nobody_to_cover_is_reported() -> None:
    schedule = _weekly(["ana", "bo"], 2)
    team = _team(
        {"email": "ana@example.com", "away": [{"from": "2027-01-05", "until": "2027-01-05"}]},
        {"email": "bo@example.com", "away": [{"from": "2027-01-05", "until": "2027-01-06"}]},
    )
    plan = plan_covers(schedule, _away(team), EMAILS[:2], {}, [], MONDAY)
    assert plan.covers == []
    assert _short(plan.uncovered) == [("", "ana", MONDAY + 15 * HOUR, MONDAY + 2 * DAY - 9 * HOUR)]


def test_a_cover_once_made_is_kept_and_time_under_way_is_covered_from_now() -> None:
    schedule = _weekly(["ana", "bo", "cy"], 3)
    team = _team(
        {"email": "ana@example.com", "away": [{"from": "2027-01-05", "until": "2027-01-06"}]},
        {"email": "bo@example.com"},
        {"email": "cy@example.com"},
    )
    now = MONDAY + DAY + 3 * HOUR  # Tuesday 12:00, the time off under way
    first = plan_covers(schedule, _away(team), EMAILS[:3], {"bo@example.com": WEEK}, [], now)
    assert _short(first.covers) == [("cy", "ana", now, MONDAY + 3 * DAY - 9 * HOUR)]
    made = [Cover(c.start, c.end, c.email, c.covers, id="Q1") for c in first.covers]
    # Later, bo has less load than cy now has: the cover already made stays all the same.
    later = plan_covers(
        schedule, _away(team), EMAILS[:3], {"cy@example.com": 9 * WEEK}, made, now + HOUR
    )
    assert later.covers == made


def test_painted_puts_later_layers_then_overrides_on_top() -> None:
    base = [Entry("ana", MONDAY, MONDAY + DAY)]
    top = [Entry("bo", MONDAY + 2 * HOUR, MONDAY + 4 * HOUR)]
    override = Entry("cy", MONDAY + 3 * HOUR, MONDAY + 5 * HOUR)
    assert painted([base, top], [override]) == [
        Entry("ana", MONDAY, MONDAY + 2 * HOUR),
        Entry("bo", MONDAY + 2 * HOUR, MONDAY + 3 * HOUR),
        Entry("cy", MONDAY + 3 * HOUR, MONDAY + 5 * HOUR),
        Entry("ana", MONDAY + 5 * HOUR, MONDAY + DAY),
    ]


# -- load across rotations --------------------------------------------------------------------

TWELVE_WEEKS = 12 * WEEK
LIMIT = OnCallPolicy(maxOnCallPercent=25)


@pytest.mark.parametrize(("people", "flagged"), [(3, True), (7, False)])
def test_a_weekly_rotation_of_three_is_over_25_percent_and_of_seven_is_not(
    people: int, flagged: bool
) -> None:
    names = [f"p{i}" for i in range(people)]
    rotation = _weekly(names, 16, MONDAY - 2 * WEEK)
    breaches = load_breaches({"r": rotation}, LIMIT, MONDAY, MONDAY + TWELVE_WEEKS)
    assert bool(breaches) == flagged
    if flagged:
        assert breaches[0].startswith("p0@example.com is on call 50% of the 4 weeks from")


def test_shares_of_two_rotations_add_up_over_the_limit() -> None:
    # ana: one week in four on the weekly rotation (25%), and two days in the same weeks elsewhere.
    weekly = _weekly(["ana", "bo", "cy", "dee"], 12)
    other = [Entry("ana@example.com", MONDAY + WEEK, MONDAY + WEEK + 2 * DAY)]
    alone = load_breaches({"weekly": weekly}, LIMIT, MONDAY, MONDAY + TWELVE_WEEKS)
    assert alone == []
    both = load_breaches(
        {"weekly": weekly, "other": other},
        LIMIT,
        MONDAY,
        MONDAY + TWELVE_WEEKS,
        ["ANA@example.com"],
    )
    assert both == [
        "ana@example.com is on call 32% of the 4 weeks from 2027-01-04 (policy maxOnCallPercent 25)"
    ]


def test_rest_is_judged_across_rotations() -> None:
    weekly = _weekly(["ana", "bo"], 2)  # ana's week ends Monday 11th 09:00
    other = [Entry("ana@example.com", MONDAY + WEEK + DAY, MONDAY + WEEK + 2 * DAY)]
    policy = OnCallPolicy(minRestHours=72)
    assert load_breaches({"weekly": weekly}, policy, MONDAY, MONDAY + TWELVE_WEEKS) == []
    assert load_breaches(
        {"weekly": weekly, "other": other}, policy, MONDAY, MONDAY + TWELVE_WEEKS
    ) == [
        "ana@example.com has 24h rest between shifts ending 2027-01-11T09:00Z and starting "
        "2027-01-12T09:00Z (policy minRestHours 72)"
    ]


def test_busiest_window_is_exact_for_sliding_windows() -> None:
    # Three days on call in all; no 28 days hold more than the first day and the second's first.
    intervals = [(MONDAY, MONDAY + DAY), (MONDAY + 27 * DAY, MONDAY + 29 * DAY)]
    held, start = busiest_window(intervals, MONDAY - 10 * DAY, MONDAY + 60 * DAY)
    assert (held, start) == (2 * DAY, MONDAY)
    # A window that must end where an interval ends to hold it all.
    late = [(MONDAY + 40 * DAY, MONDAY + 43 * DAY)]
    assert busiest_window(late, MONDAY, MONDAY + 43 * DAY) == (3 * DAY, MONDAY + 15 * DAY)
