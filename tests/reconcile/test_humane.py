"""Time off as PagerDuty overrides, and load across rotations, through the reconciles against an
emulator whose clock is the test's own (a fake clock; every date is relative to it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from oncall_operator.api import RotationStatus
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.reconcile.model import Outcome, References, RotationOnCall, TeamInfo
from oncall_operator.reconcile.rotation import reconcile_rotation
from oncall_operator.reconcile.team import reconcile_team
from oncall_operator.translate.load import Entry
from oncall_testbed.emulator import EmulatorServer
from tests.fixtures.emulator import DEFAULT_USERS, TOKEN
from tests.reconcile.helpers import condition, event_reasons, meta, reasons, writes

UTC = dt.UTC
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
# A Wednesday; handoffs are Mondays 09:00 Dublin (UTC in winter): ana has the week of the
# 30th, bo the 7th, cy the 14th, dee the 21st, then ana again.
NOW = dt.datetime(2026, 12, 2, 10, tzinfo=UTC)
MONDAY = dt.datetime(2026, 11, 30, 9, tzinfo=UTC)
TEAM_META = meta("OnCallTeam", "volunteers")
ROTATION_META = meta("Rotation", "weekly")


def day(offset: int) -> str:
    """The date `offset` days after NOW's, as the spec writes dates."""
    return (NOW + offset * DAY).date().isoformat()


def team_spec(*members: dict[str, Any], policy: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "members": list(members),
        "policy": {"timeZone": "Europe/Dublin", **(policy or {})},
    }


FOUR = [{"email": f"{n}@example.com"} for n in ("ana", "bo", "cy", "dee")]
ROTATION = {
    "teamRef": {"name": "volunteers"},
    "timeZone": "Europe/Dublin",
    "layers": [
        {
            "name": "primary",
            "participants": {"fromTeam": {}},
            "shiftLength": "1w",
            "handoff": "2026-11-30T09:00:00",
        }
    ],
}


@pytest.fixture
def clock() -> list[dt.datetime]:
    return [NOW]


@pytest.fixture
def emulator(clock: list[dt.datetime]) -> Iterator[EmulatorServer]:
    with EmulatorServer(TOKEN, users=DEFAULT_USERS, clock=lambda: clock[0]) as server:
        yield server


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[PagerDutyClient]:
    pd = PagerDutyClient(emulator.token, api_url=emulator.base_url, ca_file=str(emulator.ca_file))
    yield pd
    pd.close()


def refs_for(client: PagerDutyClient, spec: dict[str, Any], **extra: Any) -> References:
    team = reconcile_team(client, TEAM_META, spec, {}, NOW)
    info = TeamInfo("volunteers", spec, team.status["pagerduty"]["id"], team.ready)
    return References(teams={"volunteers": info}, **extra)


def rotate(
    client: PagerDutyClient, refs: References, status: dict[str, Any], at: dt.datetime = NOW
) -> Outcome:
    outcome = reconcile_rotation(client, ROTATION_META, ROTATION, status, refs, at)
    RotationStatus.model_validate(outcome.status)
    return outcome


def on_call_at(client: PagerDutyClient, schedule_id: str, at: dt.datetime) -> str:
    rendered = client.get_schedule(schedule_id, since=at, until=at + dt.timedelta(minutes=1))
    (entry,) = rendered["final_schedule"]["rendered_schedule_entries"]
    return str(client.get_user(entry["user"]["id"])["email"])


def test_time_off_is_covered_with_an_override_and_kept_in_step_with_away(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    bo_away = {"email": "bo@example.com", "away": [{"from": day(6), "until": day(7)}]}
    spec = team_spec(FOUR[0], bo_away, *FOUR[2:])
    refs = refs_for(client, spec)
    first = rotate(client, refs, {})
    assert first.ready
    start, end = f"{day(6)}T00:00:00Z", f"{day(8)}T00:00:00Z"
    (override,) = first.status["overrides"]
    # bo's week runs 7th-14th; the three others have equal hours, so the first in order covers.
    assert {k: v for k, v in override.items() if k != "id"} == {
        "start": start,
        "end": end,
        "email": "ana@example.com",
        "covers": "bo@example.com",
    }
    assert "OverridesChanged" in event_reasons(first)
    schedule_id = first.status["pagerduty"]["id"]
    assert on_call_at(client, schedule_id, NOW + 6 * DAY + dt.timedelta(hours=12)) == (
        "ana@example.com"
    )
    assert on_call_at(client, schedule_id, NOW + 8 * DAY) == "bo@example.com"
    # Load includes the override: ana has the rest of her week (the schedule starts now) and
    # bo's two days.
    load = {p["email"]: p["hours"] for p in first.status["load"]}
    assert load["ana@example.com"] == 119 + 48 and load["bo@example.com"] == 7 * 24 - 48

    emulator.clear_requests()
    again = rotate(client, refs, first.status, NOW + dt.timedelta(hours=1))
    assert writes(emulator) == []
    assert again.status["overrides"] == first.status["overrides"]

    # A crash before the status write: the override is recognised, never doubled.
    lost = {k: v for k, v in first.status.items() if k != "overrides"}
    recovered = rotate(client, refs, lost)
    assert writes(emulator) == []
    assert recovered.status["overrides"] == first.status["overrides"]

    # Someone makes an override in PagerDuty: left alone, not listed as the operator's.
    cy_id = str(client.find_user_by_email("cy@example.com")["id"])  # type: ignore[index]
    by_hand = {
        "start": f"{day(13)}T10:00:00Z",
        "end": f"{day(13)}T12:00:00Z",
        "user": {"id": cy_id, "type": "user_reference"},
    }
    (made_by_hand,) = client.create_overrides(schedule_id, [by_hand])
    # bo is back: the operator's override goes, the person's stays.
    refs = refs_for(client, team_spec(*FOUR))
    emulator.clear_requests()
    back = rotate(client, refs, again.status, NOW + dt.timedelta(hours=2))
    assert writes(emulator) == [f"DELETE /schedules/{schedule_id}/overrides/{override['id']}"]
    assert back.status["overrides"] == []
    left = client.list_overrides(schedule_id, since=NOW, until=NOW + 30 * DAY)
    assert [o["id"] for o in left] == [made_by_hand["id"]]


def test_two_people_away_at_once_with_nobody_left_is_no_cover(client: PagerDutyClient) -> None:
    both = [
        {"email": f"{n}@example.com", "away": [{"from": day(6), "until": day(6)}]}
        for n in ("ana", "bo")
    ]
    outcome = rotate(client, refs_for(client, team_spec(*both)), {})
    assert reasons(outcome)["Ready"] == ("False", "NoCover")
    assert reasons(outcome)["Synced"] == ("True", "Synced")
    message = condition(outcome, "Ready")["message"]
    assert f"bo@example.com on call {day(6)}T00:00Z to {day(7)}T00:00Z" in message
    assert not outcome.status.get("overrides")


def test_two_people_away_at_once_are_covered_by_the_others(client: PagerDutyClient) -> None:
    away = [
        {"email": f"{n}@example.com", "away": [{"from": day(6), "until": day(13)}]}
        for n in ("bo", "cy")
    ]
    outcome = rotate(client, refs_for(client, team_spec(FOUR[0], *away, FOUR[3])), {})
    assert outcome.ready
    covers = {(o["covers"], o["email"]) for o in outcome.status["overrides"]}
    assert {whose for whose, _ in covers} == {"bo@example.com", "cy@example.com"}
    assert {who for _, who in covers} <= {"ana@example.com", "dee@example.com"}


def test_shares_of_two_rotations_add_up_over_the_limit(client: PagerDutyClient) -> None:
    limit = {"maxOnCallPercent": 25}
    spec = team_spec(*FOUR, policy=limit)
    alone = rotate(client, refs_for(client, spec), {})
    # Four people weekly: one week in any four, exactly the limit.
    assert reasons(alone)["Sustainable"] == ("True", "WithinPolicy")
    assert alone.on_call is not None and alone.on_call.rotation == "oncall/weekly"

    # ana also holds two days of another rotation, in another namespace, in her first week off.
    elsewhere = RotationOnCall(
        "payments/business-hours",
        "payments/payments",
        (Entry("ana@example.com", MONDAY + 7 * DAY, MONDAY + 9 * DAY),),
    )
    refs = refs_for(client, spec, on_call={elsewhere.rotation: elsewhere})
    both = rotate(client, refs, alone.status)
    sustainable = condition(both, "Sustainable")
    assert (sustainable["status"], sustainable["reason"]) == ("False", "PolicyBreached")
    assert sustainable["message"].startswith("ana@example.com is on call 32% of the 4 weeks")
    assert "bo@example.com" not in sustainable["message"]
    assert "PolicyBreached" in event_reasons(both)

    # The team says the same, from every rotation the operator knows.
    records = {elsewhere.rotation: elsewhere, alone.on_call.rotation: alone.on_call}
    team = reconcile_team(client, TEAM_META, spec, {}, NOW, References(on_call=records))
    verdict = condition(team, "Sustainable")
    assert (verdict["status"], verdict["reason"]) == ("False", "PolicyBreached")
    assert "ana@example.com is on call 32%" in verdict["message"]


def test_a_shift_is_a_run_within_one_rotation_not_across_them(client: PagerDutyClient) -> None:
    # ana holds the nights of the week of 11 January on one rotation (one shift split by
    # business hours) while a manager holds that week's business hours on another: ana's nights are
    # one shift with no short rest, however the two rotations interleave.
    week = MONDAY + 6 * 7 * DAY
    nights = tuple(
        Entry("ana@example.com", week + n * DAY + 8 * HOUR, week + (n + 1) * DAY) for n in range(5)
    )
    days = tuple(
        Entry("mgr1@example.com", week + n * DAY, week + n * DAY + 8 * HOUR) for n in range(1, 5)
    )
    records = {
        "other/nights": RotationOnCall("other/nights", None, nights),
        "other/days": RotationOnCall("other/days", None, days),
    }
    spec = team_spec(*FOUR, policy={"minRestHours": 72})
    outcome = rotate(client, refs_for(client, spec, on_call=records), {})
    assert reasons(outcome)["Sustainable"] == ("True", "WithinPolicy"), condition(
        outcome, "Sustainable"
    )


def test_time_off_in_a_rotation_a_policy_uses_is_kept_through_the_read_model(
    emulator: EmulatorServer, clock: list[dt.datetime]
) -> None:
    """The read model answers who is on call for a schedule an escalation policy uses from
    GET /oncalls, which carries no layer entries; the covers are judged from the layers, so a
    later reconcile must still see bo's week and keep the override it made."""
    from oncall_operator.pagerduty.readmodel import CachingPagerDutyClient
    from oncall_operator.reconcile.escalation import reconcile_escalation_policy
    from oncall_operator.reconcile.model import RotationInfo

    pd = CachingPagerDutyClient(
        emulator.token, api_url=emulator.base_url, ca_file=str(emulator.ca_file)
    )
    try:
        bo_away = {"email": "bo@example.com", "away": [{"from": day(6), "until": day(7)}]}
        refs = refs_for(pd, team_spec(FOUR[0], bo_away, *FOUR[2:]))
        first = rotate(pd, refs, {})
        (override,) = first.status["overrides"]
        schedule_id = first.status["pagerduty"]["id"]
        policy_refs = References(
            teams=refs.teams,
            rotations={"weekly": RotationInfo("weekly", schedule_id, True)},
        )
        policy_spec = {
            "teamRef": {"name": "volunteers"},
            "rules": [
                {"escalateAfterMinutes": 30, "targets": [{"rotationRef": {"name": "weekly"}}]}
            ],
        }
        policy = reconcile_escalation_policy(
            pd, meta("EscalationPolicy", "pages"), policy_spec, {}, policy_refs, NOW
        )
        assert policy.ready, policy.status
        emulator.clear_requests()
        # Past the next handoff (a new load window, so nothing kept serves it), bo's days off
        # still ahead.
        clock[0] = NOW + 5 * DAY + 12 * HOUR
        later = rotate(pd, refs, first.status, clock[0])
        assert writes(emulator) == []
        assert later.status["overrides"] == [override]
    finally:
        pd.close()
