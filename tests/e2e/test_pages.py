"""Pages end to end: incidents raised in the emulator on a product team's escalation policy, out
of hours, page the volunteers' rotation; the volunteer team, which owns no policy, counts them
and turns Sustainable=False PageBudgetExceeded (with one Warning Event)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.e2e.kube import Namespace, condition, wait_for
from tests.e2e.operator_run import OperatorProcess

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

API = "oncall.dev/v1alpha1"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
READY_WITHIN_SECONDS = 60.0
COUNTED_WITHIN_SECONDS = 60.0


def manifests(namespace: str, business_day: str) -> list[dict[str, Any]]:
    """Volunteers on call outside business hours (one business day, three days from today, so
    that now is out of hours whenever the test runs); the payments team's policy pages them."""
    business_hours = {"days": [business_day], "start": "09:00", "end": "17:00"}
    handoff = "2026-01-05T09:00:00"  # a Monday

    def meta(name: str) -> dict[str, Any]:
        return {"name": name, "namespace": namespace}

    return [
        {
            "apiVersion": API,
            "kind": "OnCallTeam",
            "metadata": meta("volunteers"),
            "spec": {
                "displayName": f"Volunteers {namespace}",
                "members": [{"email": "hal@example.com"}, {"email": "lee@example.com"}],
                "policy": {"maxOutOfHoursPagesPerMonth": 1},
            },
        },
        {
            "apiVersion": API,
            "kind": "OnCallTeam",
            "metadata": meta("payments"),
            "spec": {
                "displayName": f"Payments {namespace}",
                "members": [{"email": "ana@example.com"}],
            },
        },
        {
            "apiVersion": API,
            "kind": "Rotation",
            "metadata": meta("volunteers-weekly"),
            "spec": {
                "teamRef": {"name": "volunteers"},
                "timeZone": "UTC",
                "businessHours": business_hours,
                "layers": [
                    {
                        "name": "primary",
                        "participants": {"fromTeam": {}},
                        "shiftLength": "1w",
                        "handoff": handoff,
                        "coverage": "OutOfHours",
                    }
                ],
            },
        },
        {
            "apiVersion": API,
            "kind": "Rotation",
            "metadata": meta("payments-business-hours"),
            "spec": {
                "teamRef": {"name": "payments"},
                "timeZone": "UTC",
                "businessHours": business_hours,
                "layers": [
                    {
                        "name": "primary",
                        "participants": {"fromTeam": {}},
                        "shiftLength": "1w",
                        "handoff": handoff,
                        "coverage": "BusinessHours",
                    }
                ],
            },
        },
        {
            "apiVersion": API,
            "kind": "EscalationPolicy",
            "metadata": meta("payments-alerts"),
            "spec": {
                "teamRef": {"name": "payments"},
                "rules": [
                    {
                        "escalateAfterMinutes": 15,
                        "targets": [
                            {"rotationRef": {"name": "payments-business-hours"}},
                            {"rotationRef": {"name": "volunteers-weekly"}},
                        ],
                    }
                ],
            },
        },
    ]


def test_out_of_hours_incidents_on_a_product_policy_exceed_the_volunteers_page_budget(
    operator: OperatorProcess, namespace: Namespace, pagerduty_emulator: EmulatorServer
) -> None:
    today = dt.datetime.now(dt.UTC)
    business_day = WEEKDAYS[(today.weekday() + 3) % 7]
    namespace.create(manifests(namespace.name, business_day))
    namespace.wait_all_ready(READY_WITHIN_SECONDS)
    policy = namespace.get("EscalationPolicy", "payments-alerts")
    volunteers = namespace.get("OnCallTeam", "volunteers")
    assert volunteers["status"]["pages"]["outOfHoursLast30Days"] == 0
    assert condition(volunteers, "Sustainable")["reason"] == "WithinPolicy"

    raised_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pagerduty_emulator.seed_incidents(
        [
            {
                "escalation_policy_id": policy["status"]["pagerduty"]["id"],
                "created_at": (raised_at - dt.timedelta(seconds=seconds)).isoformat(),
                "urgency": "high",
                "title": f"Checkout down ({seconds})",
            }
            for seconds in (2, 1)
        ]
    )

    def over_budget() -> dict[str, Any] | None:
        team = namespace.get("OnCallTeam", "volunteers")
        sustainable = condition(team, "Sustainable")
        return team if sustainable.get("reason") == "PageBudgetExceeded" else None

    team = wait_for("the volunteers over their page budget", over_budget, COUNTED_WITHIN_SECONDS)
    sustainable = condition(team, "Sustainable")
    assert sustainable["status"] == "False"
    assert "2 out-of-hours" in sustainable["message"]
    pages = team["status"]["pages"]
    assert pages["outOfHoursLast30Days"] == 2
    assert sorted(p["pages"] for p in pages["people"]) == [0, 2]  # whoever is on call this week
    assert {p["email"] for p in pages["people"]} == {"hal@example.com", "lee@example.com"}
    assert max(p["maxPagesIn12h"] for p in pages["people"]) == 2
    # The product team owns the incidents but its members were not paged.
    payments = namespace.get("OnCallTeam", "payments")
    assert payments["status"]["pages"]["outOfHoursLast30Days"] == 0
    warnings = [e for e in namespace.events("volunteers") if e["reason"] == "PageBudgetExceeded"]
    assert [e["type"] for e in warnings] == ["Warning"]
