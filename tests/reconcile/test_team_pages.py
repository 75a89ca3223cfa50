"""OnCallTeam status.pages against the emulator: the volunteers are paged through a product
team's escalation policy, which their own PagerDuty team does not own; the emulator decides whom
each incident paged with its own renderer, and the operator counts from the log entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from oncall_operator.api import OnCallTeamStatus
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.reconcile.model import Outcome, References, RotationInfo, TeamInfo
from oncall_operator.reconcile.pages import PageLog
from oncall_operator.reconcile.rotation import reconcile_rotation
from oncall_operator.reconcile.team import reconcile_team
from oncall_testbed.emulator import EmulatorServer
from tests.reconcile.helpers import NOW, assert_fits_the_crd, condition, event_reasons, meta

TEAM = "out-of-hours"
TEAM_SPEC: dict[str, Any] = {
    "members": [
        {"email": "ana@example.com"},
        {"email": "bo@example.com"},
        {"email": "cy@example.com"},
    ],
    "policy": {"maxOutOfHoursPagesPerMonth": 2},
}
# Weekly out-of-hours turns from Monday 2 November 09:00 Dublin: ana, bo, cy, ana (23 Nov), bo.
ROTATION_SPEC: dict[str, Any] = {
    "teamRef": {"name": TEAM},
    "timeZone": "Europe/Dublin",
    "layers": [
        {
            "name": "primary",
            "participants": {"fromTeam": {"roles": ["responder"]}},
            "shiftLength": "1w",
            "handoff": "2026-11-02T09:00:00",
            "coverage": "OutOfHours",
        }
    ],
}
# The schedule exists since well before the counted 30 days (PagerDuty renders no time before
# a layer's start).
CREATED = NOW - dt.timedelta(days=45)


def setup_team(client: PagerDutyClient) -> tuple[Outcome, References]:
    team = reconcile_team(client, meta("OnCallTeam", TEAM), TEAM_SPEC, {}, CREATED)
    team_info = TeamInfo(TEAM, TEAM_SPEC, team.status["pagerduty"]["id"], team.ready)
    rotation = reconcile_rotation(
        client,
        meta("Rotation", "out-of-hours-weekly"),
        ROTATION_SPEC,
        {},
        References(teams={TEAM: team_info}),
        CREATED,
    )
    assert rotation.ready, rotation.status
    info = RotationInfo(
        "out-of-hours-weekly", rotation.status["pagerduty"]["id"], True, ROTATION_SPEC
    )
    return team, References(teams={TEAM: team_info}, rotations={info.name: info})


def product_policy(client: PagerDutyClient, schedule_id: str) -> str:
    """A product team's policy whose first rule pages the volunteers' schedule."""
    product = client.create_team({"type": "team", "name": "Payments"})
    policy = client.create_escalation_policy(
        {
            "type": "escalation_policy",
            "name": "Payments alerts",
            "teams": [{"id": product["id"], "type": "team_reference"}],
            "escalation_rules": [
                {
                    "escalation_delay_in_minutes": 15,
                    "targets": [{"type": "schedule_reference", "id": schedule_id}],
                }
            ],
        }
    )
    return str(policy["id"])


def incident(policy_id: str, at: str, urgency: str = "high") -> dict[str, Any]:
    return {"escalation_policy_id": policy_id, "created_at": at, "urgency": urgency, "title": at}


def test_pages_through_a_product_policy_exceed_the_volunteers_budget(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    team, refs = setup_team(client)
    schedule_id = refs.rotations["out-of-hours-weekly"].pagerduty_id
    assert schedule_id is not None
    policy_id = product_policy(client, schedule_id)
    emulator.seed_incidents(
        [
            incident(policy_id, "2026-11-28T12:00:00Z"),  # Saturday noon: ana
            incident(policy_id, "2026-11-24T02:00:00Z"),  # Tuesday night: ana
            incident(policy_id, "2026-11-24T03:30:00Z"),  # and again
            incident(policy_id, "2026-12-01T12:00:00Z"),  # business hours: nobody on the layer
            incident(policy_id, "2026-12-01T23:00:00Z", urgency="low"),  # bo, low urgency
            incident(policy_id, "2026-12-01T23:30:00Z"),  # bo at night
            incident(policy_id, "2026-10-20T03:00:00Z"),  # more than 30 days ago
        ]
    )
    log = PageLog()
    emulator.clear_requests()
    outcome = reconcile_team(
        client, meta("OnCallTeam", TEAM), TEAM_SPEC, team.status, NOW, refs, log
    )
    assert_fits_the_crd(outcome, OnCallTeamStatus)
    assert outcome.status["pages"] == {
        "outOfHoursLast30Days": 4,
        "people": [
            {"email": "ana@example.com", "pages": 3, "nightPages": 2, "maxPagesIn12h": 2},
            {"email": "bo@example.com", "pages": 1, "nightPages": 1, "maxPagesIn12h": 1},
            {"email": "cy@example.com", "pages": 0, "nightPages": 0, "maxPagesIn12h": 0},
        ],
    }
    sustainable = condition(outcome, "Sustainable")
    assert (sustainable["status"], sustainable["reason"]) == ("False", "PageBudgetExceeded")
    assert "4 out-of-hours" in sustainable["message"]
    assert "most paged: ana@example.com (3, 2 at night)" in sustainable["message"]
    assert event_reasons(outcome) == ["PageBudgetExceeded"]
    assert [e.type for e in outcome.events] == ["Warning"]
    assert outcome.ready  # the verdict on load does not make PagerDuty differ from the spec
    scans = [r["path"] for r in emulator.requests() if r["path"].startswith("/log_entries")]
    assert len(scans) == 1  # 30 days in one list (a week at a time only past the list cap)
    renders = [r["path"] for r in emulator.requests() if r["path"].startswith("/schedules/")]
    assert len(renders) <= 1  # the read model may answer from GET /oncalls instead

    # A second reconcile within the interval: no new scan, no Event, no status change.
    emulator.clear_requests()
    later = NOW + dt.timedelta(minutes=1)
    again = reconcile_team(
        client, meta("OnCallTeam", TEAM), TEAM_SPEC, outcome.status, later, refs, log
    )
    assert again.status == outcome.status
    assert again.events == []
    assert not [r for r in emulator.requests() if r["path"].startswith("/log_entries")]
    # The same whole-hour window is asked for, if at all (the read model's cache serves it).
    asked = [r["path"] for r in emulator.requests() if r["path"].startswith("/schedules/")]
    assert set(asked) <= set(renders)


def test_a_team_whose_members_were_not_paged_reads_no_schedule(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    team, refs = setup_team(client)
    emulator.clear_requests()
    outcome = reconcile_team(
        client, meta("OnCallTeam", TEAM), TEAM_SPEC, team.status, NOW, refs, PageLog()
    )
    assert outcome.status["pages"]["outOfHoursLast30Days"] == 0
    assert [p["pages"] for p in outcome.status["pages"]["people"]] == [0, 0, 0]
    assert not [r for r in emulator.requests() if r["path"].startswith("/schedules")]
    sustainable = condition(outcome, "Sustainable")
    assert (sustainable["status"], sustainable["reason"]) == ("True", "WithinPolicy")


def test_pages_of_a_rotation_of_another_team_do_not_count(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    team, refs = setup_team(client)
    info = refs.rotations["out-of-hours-weekly"]
    assert info.pagerduty_id is not None
    policy_id = product_policy(client, info.pagerduty_id)
    emulator.seed_incidents([incident(policy_id, "2026-11-28T12:00:00Z")])
    elsewhere = RotationInfo(
        info.name, info.pagerduty_id, True, {**ROTATION_SPEC, "teamRef": {"name": "other"}}
    )
    outcome = reconcile_team(
        client,
        meta("OnCallTeam", TEAM),
        TEAM_SPEC,
        team.status,
        NOW,
        References(teams=refs.teams, rotations={info.name: elsewhere}),
        PageLog(),
    )
    assert outcome.status["pages"]["outOfHoursLast30Days"] == 0


def test_a_scan_cut_short_by_the_list_cap_is_made_again_a_week_at_a_time() -> None:
    """PagerDuty lists stop at 10,000 items, whatever the range."""
    from oncall_operator.pagerduty.client import OFFSET_CAP
    from oncall_operator.reconcile.pages import scan_pages

    asked: list[tuple[dt.datetime, dt.datetime]] = []

    class Capped:
        def list_log_entries(self, *, since: dt.datetime, until: dt.datetime) -> list[Any]:
            asked.append((since, until))
            return [{}] * OFFSET_CAP if until - since > dt.timedelta(days=7) else []

    assert scan_pages(Capped(), NOW - dt.timedelta(days=30), NOW) == []  # type: ignore[arg-type]
    assert len(asked) == 1 + 5
    assert [until - since for since, until in asked[1:]] == [dt.timedelta(days=7)] * 4 + [
        dt.timedelta(days=2)
    ]


def test_a_team_validates_only_the_rotations_that_name_it(monkeypatch: Any) -> None:
    """Every team asks about every rotation of its namespace: validating them all is O(objects)
    per team."""
    from oncall_operator.reconcile import pages

    validated: list[Any] = []
    original = pages.RotationSpec.model_validate

    def counting(raw: Any) -> Any:
        validated.append(raw)
        return original(raw)

    monkeypatch.setattr(pages.RotationSpec, "model_validate", counting)
    mine = {
        "teamRef": {"name": "t0"},
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
    others = [(f"r{i}", {**mine, "teamRef": {"name": f"t{i}"}}, f"PS{i:05d}") for i in range(1, 50)]
    fed = pages.rotations_fed_by("t0", [*others, ("r0", mine, "PS00000")])
    assert [r.name for r in fed] == ["r0"]
    assert len(validated) == 1
