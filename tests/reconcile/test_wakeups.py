"""Wake-ups: a reconcile says when the calendar alone changes its object's status (a rotation's
next handoff, a team member's term starting or ending), so the handlers look again then instead
of up to a drift interval later. Time is driven by the `now` each reconcile is given."""

from __future__ import annotations

import datetime as dt
from typing import Any

from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.reconcile.model import References, TeamInfo
from oncall_operator.reconcile.rotation import reconcile_rotation
from oncall_operator.reconcile.team import reconcile_team
from tests.reconcile.helpers import NOW, meta

# NOW is Wednesday 2 December 2026 10:00 UTC; handoffs Mondays 09:00 Dublin (UTC in winter).
ROTATION: dict[str, Any] = {
    "timeZone": "Europe/Dublin",
    "layers": [
        {
            "name": "primary",
            "participants": {"emails": ["ana@example.com", "bo@example.com"]},
            "shiftLength": "1w",
            "handoff": "2026-11-30T09:00:00",
        }
    ],
}
NEXT_MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def test_a_rotation_wakes_at_its_next_handoff_and_then_shows_the_new_person(
    client: PagerDutyClient,
) -> None:
    first = reconcile_rotation(client, meta("Rotation", "weekly"), ROTATION, {}, References(), NOW)
    assert first.ready, first.status
    assert first.wake_at == NEXT_MONDAY
    assert first.status["onCall"]["now"] == "ana@example.com"

    # Woken at the handoff (a fake clock: the reconcile is told it is that moment).
    woken = reconcile_rotation(
        client, meta("Rotation", "weekly"), ROTATION, first.status, References(), first.wake_at
    )
    assert woken.status["onCall"]["now"] == "bo@example.com"
    assert woken.wake_at == NEXT_MONDAY + dt.timedelta(weeks=1)


def test_the_earliest_layer_handoff_wins() -> None:
    from oncall_operator.api import RotationSpec
    from oncall_operator.reconcile.rotation import next_handoff

    spec = RotationSpec.model_validate(
        {
            **ROTATION,
            "layers": [
                ROTATION["layers"][0],
                {
                    **ROTATION["layers"][0],
                    "name": "daily",
                    "shiftLength": "1d",
                    "handoff": "2026-11-30T18:00:00",
                },
            ],
        }
    )
    assert next_handoff(spec, NOW) == dt.datetime(2026, 12, 2, 18, 0, tzinfo=dt.UTC)


TEAM: dict[str, Any] = {
    "members": [
        {"email": "ana@example.com"},
        {"email": "bo@example.com", "since": "2026-12-10"},
        {"email": "cy@example.com", "until": "2027-03-31"},
    ]
}


def test_a_team_wakes_when_a_member_joins_and_its_rotation_too(client: PagerDutyClient) -> None:
    team = reconcile_team(client, meta("OnCallTeam", "t"), TEAM, {}, NOW)
    joins = dt.datetime(2026, 12, 10, tzinfo=dt.UTC)
    assert team.wake_at == joins
    assert team.status["members"]["active"] == 2

    later = reconcile_team(client, meta("OnCallTeam", "t"), TEAM, team.status, joins)
    assert later.status["members"]["active"] == 3
    # cy's term ends 2027-03-31: listed as expiring termWarningDays (14) before, gone after.
    assert later.wake_at == dt.datetime(2027, 3, 17, tzinfo=dt.UTC)

    refs = References(
        teams={
            "t": TeamInfo(
                name="t", spec=TEAM, pagerduty_id=team.status["pagerduty"]["id"], ready=True
            )
        }
    )
    rotation = {
        **ROTATION,
        "teamRef": {"name": "t"},
        "layers": [{**ROTATION["layers"][0], "participants": {"fromTeam": {}}}],
    }
    outcome = reconcile_rotation(client, meta("Rotation", "r"), rotation, {}, refs, NOW)
    assert outcome.ready, outcome.status
    assert outcome.wake_at == NEXT_MONDAY  # the handoff comes before bo joins
    outcome = reconcile_rotation(
        client,
        meta("Rotation", "r"),
        rotation,
        outcome.status,
        refs,
        dt.datetime(2026, 12, 8, tzinfo=dt.UTC),
    )
    assert outcome.wake_at == joins  # now bo's first day comes before the next handoff
