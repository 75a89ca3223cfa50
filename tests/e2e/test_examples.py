"""Every example, applied on the real control plane and reconciled by the operator acting as its
ServiceAccount with exactly deploy/'s RBAC, becomes Ready, and PagerDuty holds what it says."""

from __future__ import annotations

import pytest

from tests.e2e import examples
from tests.e2e.kube import Namespace, condition
from tests.e2e.operator_run import OperatorProcess, assert_clean_log
from tests.e2e.pagerduty_view import PagerDutyView

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

READY_WITHIN_SECONDS = 60.0


def test_virtual_team(
    operator: OperatorProcess, namespace: Namespace, pagerduty: PagerDutyView, pagerduty_token: str
) -> None:
    manifests = examples.virtual_team()
    namespace.create(manifests)
    namespace.wait_all_ready(READY_WITHIN_SECONDS)

    pagerduty.assert_one_each(namespace.name, manifests)

    team_spec = examples.named(manifests, "OnCallTeam", "payments")["spec"]
    team = namespace.get("OnCallTeam", "payments")
    pd_team = pagerduty.get("OnCallTeam", team["status"]["pagerduty"]["id"])
    assert pd_team["name"] == team_spec["displayName"]
    assert pd_team["description"].startswith(team_spec["description"])
    assert pagerduty.members(pd_team["id"]) == {
        m["email"]: m.get("role", "responder") for m in team_spec["members"]
    }

    rotation = namespace.get("Rotation", "out-of-hours-weekly")
    schedule = pagerduty.get("Rotation", rotation["status"]["pagerduty"]["id"])
    assert schedule["name"] == "Out-of-hours weekly"
    assert schedule["time_zone"] == "Europe/Dublin"
    live_layers = [layer for layer in schedule["schedule_layers"] if not layer.get("end")]
    assert len(live_layers) == 1
    assert live_layers[0]["restrictions"], "OutOfHours coverage is a restricted layer"
    assert [layer["name"] for layer in rotation["status"]["layers"]] == ["primary"]

    policy = namespace.get("EscalationPolicy", "payments-alerts")
    pd_policy = pagerduty.get("EscalationPolicy", policy["status"]["pagerduty"]["id"])
    schedule_ids = {
        name: namespace.get("Rotation", name)["status"]["pagerduty"]["id"]
        for name in ("payments-business-hours", "out-of-hours-weekly", "engineering-managers")
    }
    assert pd_policy["num_loops"] == 1
    assert [
        (rule["escalation_delay_in_minutes"], [t["id"] for t in rule["targets"]])
        for rule in pd_policy["escalation_rules"]
    ] == [
        (15, [schedule_ids["payments-business-hours"], schedule_ids["out-of-hours-weekly"]]),
        (30, [schedule_ids["engineering-managers"]]),
    ]
    assert [t["id"] for t in pd_policy.get("teams") or []] == [pd_team["id"]]
    assert_clean_log(operator, pagerduty_token)


@pytest.mark.parametrize(
    "feature", [f for f in examples.FEATURES if f not in examples.NEEDS_SEEDED_ID]
)
def test_feature_example(
    feature: str,
    operator: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_token: str,
) -> None:
    manifests = examples.feature(feature)
    assert manifests, f"examples/features/{feature} has no oncall.dev objects"
    namespace.create(manifests)
    found = namespace.wait_all_ready(READY_WITHIN_SECONDS, except_paused=True)

    for obj in found:
        kind, name = obj["kind"], obj["metadata"]["name"]
        paused = (obj["metadata"].get("annotations") or {}).get("oncall.dev/paused") == "true"
        if paused:
            assert condition(obj, "Ready")["reason"] == "Paused"
            assert name not in pagerduty.managed_names(kind, namespace.name)
        else:
            assert pagerduty.managed_names(kind, namespace.name).count(name) == 1, (kind, name)
            assert pagerduty.exists(kind, obj["status"]["pagerduty"]["id"])
    assert_clean_log(operator, pagerduty_token)


def test_adopt_example_takes_over_the_seeded_team(
    operator: OperatorProcess, namespace: Namespace, pagerduty: PagerDutyView, pagerduty_token: str
) -> None:
    seeded = pagerduty.create_team("Made by hand before the operator", "Made in the UI.")
    (manifest,) = examples.feature("adopt")
    manifest["spec"]["pagerduty"]["id"] = seeded["id"]
    namespace.create([manifest])
    team = namespace.wait_ready("OnCallTeam", manifest["metadata"]["name"], READY_WITHIN_SECONDS)

    assert team["status"]["pagerduty"]["id"] == seeded["id"]
    assert pagerduty.managed_names("OnCallTeam", namespace.name) == [manifest["metadata"]["name"]]
    adopted = pagerduty.get("OnCallTeam", seeded["id"])
    assert adopted["name"] == manifest["spec"]["displayName"]
    assert pagerduty.members(seeded["id"]) == {"noa@example.com": "responder"}
    assert_clean_log(operator, pagerduty_token)
