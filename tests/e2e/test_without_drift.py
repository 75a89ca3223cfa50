"""What must happen within seconds of a change, not at the next drift tick: these tests run the
operator with a drift interval far longer than they last, so only the change handlers and the
reference wake-up can be what moved."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e import examples
from tests.e2e.conftest import SLOW_DRIFT_SECONDS
from tests.e2e.kube import Namespace, condition, is_ready, wait_for
from tests.e2e.operator_run import OperatorProcess, assert_clean_log
from tests.e2e.pagerduty_view import PagerDutyView

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

# A referrer converges this soon after its referent turns Ready (the wake-up polls every 3 s).
FOLLOWS_WITHIN_SECONDS = 20.0
PAUSED = "oncall.dev/paused"


@pytest.fixture
def slow_drift_operator(operator: OperatorProcess) -> Iterator[OperatorProcess]:
    operator.restart(ONCALL_DRIFT_INTERVAL_SECONDS=str(SLOW_DRIFT_SECONDS))
    yield operator  # the `operator` fixture puts the default settings back for the next test


def test_referrer_waits_and_follows_its_referents_within_seconds(
    slow_drift_operator: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_token: str,
) -> None:
    manifests = examples.virtual_team()
    policy = examples.named(manifests, "EscalationPolicy", "payments-alerts")
    targets = {
        target["rotationRef"]["name"]
        for rule in policy["spec"]["rules"]
        for target in rule["targets"]
        if "rotationRef" in target
    }
    namespace.create([policy])
    waiting = wait_for(
        "the policy waiting for its references",
        lambda: (
            (obj := namespace.get("EscalationPolicy", "payments-alerts"))
            and condition(obj, "ReferencesResolved").get("status") == "False"
            and obj
        ),
        within=30,
    )
    assert condition(waiting, "Ready")["status"] == "False"
    assert all(name in condition(waiting, "ReferencesResolved")["message"] for name in targets)
    assert pagerduty.managed("EscalationPolicy", namespace.name) == []

    namespace.create([m for m in manifests if m["kind"] in ("OnCallTeam", "Rotation")])
    wait_for(
        "every target rotation Ready",
        lambda: all(is_ready(namespace.get("Rotation", name)) for name in targets),
        within=60,
        every=0.2,
    )
    targets_ready = time.monotonic()
    namespace.wait_ready("EscalationPolicy", "payments-alerts", within=FOLLOWS_WITHIN_SECONDS)
    print(f"policy Ready {time.monotonic() - targets_ready:.1f}s after its last target rotation")
    assert pagerduty.managed_names("EscalationPolicy", namespace.name) == ["payments-alerts"]
    assert_clean_log(slow_drift_operator, pagerduty_token)


def test_pause_and_resume_take_effect_at_once(
    slow_drift_operator: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_token: str,
) -> None:
    (team,) = examples.feature("orphan")
    name = team["metadata"]["name"]
    namespace.create([team])
    namespace.wait_ready("OnCallTeam", name)
    team_id = namespace.get("OnCallTeam", name)["status"]["pagerduty"]["id"]

    namespace.patch("OnCallTeam", name, {"metadata": {"annotations": {PAUSED: "true"}}})
    wait_for(
        "Ready=False Paused",
        lambda: condition(namespace.get("OnCallTeam", name), "Ready").get("reason") == "Paused",
        within=10,
    )
    # Paused: a hand edit in PagerDuty stays; on resume the operator puts the spec back.
    pagerduty.put("OnCallTeam", team_id, {"type": "team", "name": "Fixed by hand while paused"})
    namespace.patch("OnCallTeam", name, {"metadata": {"annotations": {PAUSED: None}}})
    namespace.wait_ready("OnCallTeam", name, within=10)
    assert pagerduty.get("OnCallTeam", team_id)["name"] == team["spec"]["displayName"]
    assert_clean_log(slow_drift_operator, pagerduty_token)
