"""EscalationPolicy -> PagerDuty escalation policy document and drift; literals by hand."""

import copy
from typing import Any

import pytest

from oncall_operator.api import EscalationPolicySpec
from oncall_operator.translate.escalation import escalation_policy_doc, escalation_policy_drift
from oncall_operator.translate.identity import ObjectIdentity

IDENTITY = ObjectIdentity(namespace="oncall", kind="EscalationPolicy", name="product-alerts")
LINE = "Managed by oncall-operator as oncall/EscalationPolicy/product-alerts; edit it in Git, not here."
SCHEDULES = {"payments-business-hours": "PS1", "out-of-hours-weekly": "PS2", "managers": "PS3"}
USERS = {"cto@example.com": "PCTO"}

SPEC = EscalationPolicySpec.model_validate(
    {
        "teamRef": {"name": "out-of-hours"},
        "displayName": "Product alerts",
        "rules": [
            {
                "escalateAfterMinutes": 15,
                "targets": [
                    {"rotationRef": {"name": "payments-business-hours"}},
                    {"rotationRef": {"name": "out-of-hours-weekly"}},
                ],
            },
            {
                "escalateAfterMinutes": 30,
                "targets": [
                    {"rotationRef": {"name": "managers"}},
                    {"user": {"email": "CTO@example.com"}},
                ],
            },
        ],
        "repeat": 2,
        "handoffNotifications": "Always",
    }
)

DOC = {
    "type": "escalation_policy",
    "name": "Product alerts",
    "description": LINE,
    "escalation_rules": [
        {
            "escalation_delay_in_minutes": 15,
            "targets": [
                {"id": "PS1", "type": "schedule_reference"},
                {"id": "PS2", "type": "schedule_reference"},
            ],
        },
        {
            "escalation_delay_in_minutes": 30,
            "targets": [
                {"id": "PS3", "type": "schedule_reference"},
                {"id": "PCTO", "type": "user_reference"},
            ],
        },
    ],
    "num_loops": 2,
    "on_call_handoff_notifications": "always",
    "teams": [{"id": "PTEAM", "type": "team_reference"}],
}


def test_policy_doc() -> None:
    assert escalation_policy_doc(IDENTITY, SPEC, SCHEDULES, USERS, "PTEAM") == DOC


def test_defaults_without_team() -> None:
    spec = EscalationPolicySpec.model_validate(
        {
            "rules": [
                {"escalateAfterMinutes": 5, "targets": [{"user": {"email": "cto@example.com"}}]}
            ]
        }
    )
    assert escalation_policy_doc(IDENTITY, spec, {}, USERS, None) == {
        "type": "escalation_policy",
        "name": "product-alerts",
        "description": LINE,
        "escalation_rules": [
            {
                "escalation_delay_in_minutes": 5,
                "targets": [{"id": "PCTO", "type": "user_reference"}],
            }
        ],
        "num_loops": 0,
        "on_call_handoff_notifications": "if_has_services",
        "teams": [],
    }


@pytest.mark.parametrize(
    ("schedules", "users", "message"),
    [
        (
            {"payments-business-hours": "PS1", "out-of-hours-weekly": "PS2"},
            USERS,
            r"spec\.rules\[1\]\.targets\[0\]\.rotationRef: Rotation managers has no PagerDuty schedule",
        ),
        (
            SCHEDULES,
            {},
            r"spec\.rules\[1\]\.targets\[1\]\.user\.email: no PagerDuty user has the email CTO@example\.com",
        ),
    ],
    ids=["rotation", "user"],
)
def test_unresolved_targets_name_the_field(
    schedules: dict[str, str], users: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        escalation_policy_doc(IDENTITY, SPEC, schedules, users, "PTEAM")


def _stored(**changes: Any) -> dict[str, Any]:
    """The policy as a GET returns it: ids, rule ids, services, summaries, object-typed targets."""
    stored = copy.deepcopy(DOC)
    stored.update(id="PEP1", html_url="https://pd/ep/PEP1", summary="Product alerts", self="u")
    stored["services"] = [{"id": "PSVC", "type": "service_reference"}]
    for index, rule in enumerate(stored["escalation_rules"]):
        rule["id"] = f"PR{index}"
        rule["escalation_rule_assignment_strategy"] = {"type": "assign_to_everyone"}
        for target in rule["targets"]:
            target["type"] = target["type"].removesuffix("_reference")
            target["summary"] = "x"
    stored["teams"][0]["summary"] = "Out of hours"
    stored.update(changes)
    return stored


def _rules_with(index: int, **changes: Any) -> list[dict[str, Any]]:
    rules = copy.deepcopy(DOC["escalation_rules"])
    rules[index].update(changes)
    return rules


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        pytest.param(_stored(), [], id="as stored: read-only fields and object types ignored"),
        pytest.param(
            _stored(name="X", description="hand edit"),
            ['name: PagerDuty has "X", the spec wants "Product alerts"', "description differs"],
            id="text",
        ),
        pytest.param(
            _stored(num_loops=0), ["num_loops: PagerDuty has 0, the spec wants 2"], id="repeat"
        ),
        pytest.param(
            _stored(on_call_handoff_notifications="if_has_services"),
            [
                'on_call_handoff_notifications: PagerDuty has "if_has_services", '
                'the spec wants "always"'
            ],
            id="handoff notifications",
        ),
        pytest.param(
            _stored(teams=[]),
            ["teams: PagerDuty has [], the spec wants [PTEAM]"],
            id="team removed in the UI",
        ),
        pytest.param(
            _stored(escalation_rules=_rules_with(1, escalation_delay_in_minutes=10)),
            ["rule 2: escalation delay: PagerDuty has 10 min, the spec wants 30 min"],
            id="delay",
        ),
        pytest.param(
            _stored(
                escalation_rules=_rules_with(
                    0,
                    targets=[
                        {"id": "PS2", "type": "schedule_reference"},
                        {"id": "PS1", "type": "schedule_reference"},
                    ],
                )
            ),
            [
                "rule 1: targets: PagerDuty has [schedule PS2, schedule PS1], "
                "the spec wants [schedule PS1, schedule PS2]"
            ],
            id="target order matters",
        ),
        pytest.param(
            _stored(
                escalation_rules=_rules_with(
                    1, targets=[{"id": "PCTO", "type": "schedule_reference"}]
                )
            ),
            [
                "rule 2: targets: PagerDuty has [schedule PCTO], "
                "the spec wants [schedule PS3, user PCTO]"
            ],
            id="target type",
        ),
        pytest.param(
            _stored(escalation_rules=DOC["escalation_rules"][:1]),
            ["escalation rules differ: PagerDuty has 1, the spec wants 2"],
            id="rule removed in the UI",
        ),
    ],
)
def test_policy_drift(existing: dict[str, Any], expected: list[str]) -> None:
    assert escalation_policy_drift(existing, DOC) == expected


def test_missing_handoff_setting_means_pagerduty_default() -> None:
    desired = {**DOC, "on_call_handoff_notifications": "if_has_services"}
    existing = _stored()
    del existing["on_call_handoff_notifications"]
    assert escalation_policy_drift(existing, desired) == []


def test_drift_names_user_targets_by_the_emails_given() -> None:
    existing = _stored(
        escalation_rules=_rules_with(1, targets=[{"id": "PHAND", "type": "user_reference"}])
    )
    drift = escalation_policy_drift(existing, DOC, {"PHAND": "hand@example.com"})
    assert drift == [
        "rule 2: targets: PagerDuty has [user hand@example.com], "
        "the spec wants [schedule PS3, user PCTO]"
    ]
