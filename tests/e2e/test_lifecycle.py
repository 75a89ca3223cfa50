"""A resource's life with the operator running: edited in Git, drifted by hand in PagerDuty,
deleted under both policies, the operator killed half-way, and quiet when there is nothing to do."""

from __future__ import annotations

import copy
import json
import secrets
import time
from typing import Any

import pytest

from oncall_operator.reconcile.errors import IN_USE_RETRY_SECONDS
from oncall_testbed.emulator import EmulatorServer
from tests.e2e import examples
from tests.e2e.conftest import DRIFT_INTERVAL_SECONDS
from tests.e2e.kube import Namespace, condition, is_ready, wait_for
from tests.e2e.operator_run import OperatorProcess, assert_clean_log, metric_total
from tests.e2e.pagerduty_view import PagerDutyView

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

READY_WITHIN_SECONDS = 60.0
# The drift timer's interval, plus a reconcile, plus the poll of this test.
DRIFT_CORRECTED_WITHIN_SECONDS = 3 * DRIFT_INTERVAL_SECONDS + 10


def multi_layer() -> list[dict]:
    """A team and a rotation fed by it (examples/features/multi-layer)."""
    return examples.feature("multi-layer")


def pagerduty_id(namespace: Namespace, kind: str, name: str) -> str:
    return str(namespace.get(kind, name)["status"]["pagerduty"]["id"])


def layer_user_ids(schedule: dict) -> list[list[str]]:
    return [
        [u["user"]["id"] for u in layer["users"]]
        for layer in schedule["schedule_layers"]
        if not layer.get("end")
    ]


def test_edit_is_followed_and_observed_generation_bumps(
    operator: OperatorProcess, namespace: Namespace, pagerduty: PagerDutyView, pagerduty_token: str
) -> None:
    namespace.create(multi_layer())
    namespace.wait_all_ready(READY_WITHIN_SECONDS)
    team_id = pagerduty_id(namespace, "OnCallTeam", "multi-layer-team")
    schedule_id = pagerduty_id(namespace, "Rotation", "multi-layer")
    pia = pagerduty.user_id("pia@example.com")
    assert not any(pia in ids for ids in layer_user_ids(pagerduty.get("Rotation", schedule_id)))

    team = namespace.get("OnCallTeam", "multi-layer-team")
    members = [*team["spec"]["members"], {"email": "pia@example.com"}]
    edited = namespace.patch(
        "OnCallTeam",
        "multi-layer-team",
        {"spec": {"displayName": "Renamed in Git", "members": members}},
    )
    assert edited["metadata"]["generation"] == team["metadata"]["generation"] + 1

    ready = namespace.wait_ready("OnCallTeam", "multi-layer-team")
    assert ready["status"]["observedGeneration"] == edited["metadata"]["generation"]
    assert pagerduty.get("OnCallTeam", team_id)["name"] == "Renamed in Git"
    assert pagerduty.members(team_id)["pia@example.com"] == "responder"
    # The rotation takes its responders from the team: it follows without an edit of its own.
    wait_for(
        "pia in the rotation's all-week layer",
        lambda: pia in layer_user_ids(pagerduty.get("Rotation", schedule_id))[0],
        within=30,
    )
    assert pagerduty.managed_names("OnCallTeam", namespace.name) == ["multi-layer-team"]
    assert_clean_log(operator, pagerduty_token)


def test_drift_by_hand_is_corrected(
    operator: OperatorProcess, namespace: Namespace, pagerduty: PagerDutyView, pagerduty_token: str
) -> None:
    namespace.create(multi_layer())
    namespace.wait_all_ready(READY_WITHIN_SECONDS)
    team_id = pagerduty_id(namespace, "OnCallTeam", "multi-layer-team")
    schedule_id = pagerduty_id(namespace, "Rotation", "multi-layer")
    team_before = pagerduty.get("OnCallTeam", team_id)
    members_before = pagerduty.members(team_id)
    schedule_before = pagerduty.get("Rotation", schedule_id)

    # Someone in PagerDuty's UI renames the team, drops a member and renames the schedule.
    pagerduty.put("OnCallTeam", team_id, {"type": "team", "name": "Renamed in the UI"})
    pagerduty.remove_member(team_id, "oz@example.com")
    hand_edited = copy.deepcopy(schedule_before)
    hand_edited["name"] = "Renamed in the UI"
    pagerduty.put("Rotation", schedule_id, hand_edited)

    wait_for(
        "the team's name and members put back",
        lambda: (
            pagerduty.get("OnCallTeam", team_id)["name"] == team_before["name"]
            and pagerduty.members(team_id) == members_before
        ),
        within=DRIFT_CORRECTED_WITHIN_SECONDS,
    )
    wait_for(
        "the schedule's name put back",
        lambda: pagerduty.get("Rotation", schedule_id)["name"] == schedule_before["name"],
        within=DRIFT_CORRECTED_WITHIN_SECONDS,
    )
    for kind, name in (("OnCallTeam", "multi-layer-team"), ("Rotation", "multi-layer")):
        wait_for(
            f"a DriftCorrected event on {kind} {name}",
            lambda name=name: [
                e for e in namespace.events(name) if e["reason"] == "DriftCorrected"
            ],
            within=10,
        )
    assert metric_total(operator.metrics(), "oncall_drift_corrections_total") >= 2
    assert all(is_ready(obj) for obj in namespace.all())
    assert_clean_log(operator, pagerduty_token)


@pytest.mark.parametrize(("policy", "still_in_pagerduty"), [("Delete", False), ("Orphan", True)])
def test_delete_honours_the_deletion_policy(
    policy: str,
    still_in_pagerduty: bool,
    operator: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_token: str,
) -> None:
    team, rotation = multi_layer()
    team["spec"]["deletionPolicy"] = policy
    rotation["spec"]["deletionPolicy"] = policy
    namespace.create([team, rotation])
    namespace.wait_all_ready(READY_WITHIN_SECONDS)
    ids = {
        kind: pagerduty_id(namespace, kind, obj["metadata"]["name"])
        for kind, obj in (("OnCallTeam", team), ("Rotation", rotation))
    }

    for kind, obj in (("Rotation", rotation), ("OnCallTeam", team)):
        namespace.delete(kind, obj["metadata"]["name"])
        wait_for(
            f"{kind} {obj['metadata']['name']} gone from Kubernetes",
            lambda kind=kind, obj=obj: namespace.gone(kind, obj["metadata"]["name"]),
            within=30,
        )
        assert pagerduty.exists(kind, ids[kind]) is still_in_pagerduty, (kind, policy)
    assert_clean_log(operator, pagerduty_token)


def test_operator_killed_half_way_makes_no_duplicates(
    operator: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    manifests = examples.virtual_team()
    pagerduty_emulator.clear_requests()
    namespace.create(manifests)
    wait_for(
        "the operator's first PagerDuty create",
        lambda: any(r["method"] == "POST" for r in pagerduty_emulator.requests()),
        within=30,
        every=0.05,
    )
    operator.stop(kill=True)
    not_ready = [obj["metadata"]["name"] for obj in namespace.all() if not is_ready(obj)]
    assert not_ready, "everything was Ready before the kill: the test proves nothing"

    operator.start()
    namespace.wait_all_ready(READY_WITHIN_SECONDS)
    pagerduty.assert_one_each(namespace.name, manifests)
    assert_clean_log(operator, pagerduty_token)


def test_nothing_to_do_writes_nothing(
    operator: OperatorProcess,
    namespace: Namespace,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    """Two drift ticks over a converged namespace: PagerDuty is read, nothing is written anywhere."""
    namespace.create(examples.virtual_team())
    objects = namespace.wait_all_ready(READY_WITHIN_SECONDS)
    settled = settled_versions(namespace, within=4 * DRIFT_INTERVAL_SECONDS)
    pagerduty_emulator.clear_requests()
    reconciles = metric_total(operator.metrics(), "oncall_reconciles_total")

    wait_for(
        "two drift ticks of every object",
        lambda: (
            metric_total(operator.metrics(), "oncall_reconciles_total")
            >= reconciles + 2 * len(objects)
        ),
        within=4 * DRIFT_INTERVAL_SECONDS,
    )
    assert _versions(namespace) == settled, "a status was rewritten with nothing to do"
    requests = pagerduty_emulator.requests()
    assert requests, "the drift ticks read nothing from PagerDuty"
    writes = [f"{r['method']} {r['path']}" for r in requests if r["method"] != "GET"]
    assert writes == [], f"PagerDuty writes with nothing to do: {writes}"
    assert all(condition(obj, "Ready")["status"] == "True" for obj in namespace.all())
    assert_clean_log(operator, pagerduty_token)


def _versions(namespace: Namespace) -> dict[str, str]:
    return {obj["metadata"]["name"]: obj["metadata"]["resourceVersion"] for obj in namespace.all()}


def _account_list(request: dict[str, Any]) -> bool:
    """A page of one of the lists the drift sweep reads for the whole account."""
    path = request["path"].split("?")[0]
    return request["method"] == "GET" and path in {
        "/users",
        "/teams",
        "/schedules",
        "/escalation_policies",
    }


def settled_versions(namespace: Namespace, within: float) -> dict[str, str]:
    """The resourceVersions once a whole drift interval passes without a write (the reconciles
    that converged the namespace may still be writing their last status when it turns Ready)."""
    deadline = time.monotonic() + within
    previous = _versions(namespace)
    while True:
        time.sleep(DRIFT_INTERVAL_SECONDS + 1)
        current = _versions(namespace)
        if current == previous:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(
                f"statuses still changing after {within:.0f}s: {previous} -> {current}"
            )
        previous = current


def test_paused_object_makes_no_pagerduty_request(
    operator: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    (team,) = examples.feature("paused")
    namespace.create([team])
    paused = wait_for(
        "Ready=False Paused",
        lambda: (
            (obj := namespace.get("OnCallTeam", team["metadata"]["name"]))
            and condition(obj, "Ready").get("reason") == "Paused"
            and obj
        ),
        within=30,
    )
    assert condition(paused, "Ready")["status"] == "False"
    pagerduty_emulator.clear_requests()
    ticks = metric_total(operator.metrics(), "oncall_reconciles_total", result="paused")

    wait_for(
        "two drift ticks of the paused team",
        lambda: (
            metric_total(operator.metrics(), "oncall_reconciles_total", result="paused")
            >= ticks + 2
        ),
        within=4 * DRIFT_INTERVAL_SECONDS,
    )
    # The drift sweep lists the account's collections whatever is paused; nothing else is read.
    assert [r for r in pagerduty_emulator.requests() if not _account_list(r)] == []
    assert pagerduty.managed("OnCallTeam", namespace.name) == []
    assert_clean_log(operator, pagerduty_token)


def test_deletion_waits_while_pagerduty_still_uses_the_object(
    operator: OperatorProcess, namespace: Namespace, pagerduty: PagerDutyView, pagerduty_token: str
) -> None:
    """A schedule an escalation policy still targets cannot go: the Rotation keeps its finalizer
    and says why, and goes once the policy has gone (kopf retries the deletion)."""
    policy = {
        "apiVersion": "oncall.dev/v1alpha1",
        "kind": "EscalationPolicy",
        "metadata": {"name": "uses-the-rotation"},
        "spec": {
            "teamRef": {"name": "multi-layer-team"},
            "rules": [
                {"escalateAfterMinutes": 5, "targets": [{"rotationRef": {"name": "multi-layer"}}]}
            ],
        },
    }
    namespace.create([*multi_layer(), policy])
    namespace.wait_all_ready(READY_WITHIN_SECONDS)
    schedule_id = pagerduty_id(namespace, "Rotation", "multi-layer")

    namespace.delete("Rotation", "multi-layer")
    blocked = wait_for(
        "a DeleteBlocked warning on the rotation",
        lambda: [e for e in namespace.events("multi-layer") if e["reason"] == "DeleteBlocked"],
        within=20,
    )
    assert blocked[0]["type"] == "Warning"
    assert not namespace.gone("Rotation", "multi-layer")
    assert pagerduty.exists("Rotation", schedule_id)

    namespace.delete("EscalationPolicy", "uses-the-rotation")
    wait_for(
        "the rotation deleted once nothing uses its schedule",
        lambda: namespace.gone("Rotation", "multi-layer"),
        within=IN_USE_RETRY_SECONDS + 15,
    )
    assert not pagerduty.exists("Rotation", schedule_id)
    assert_clean_log(operator, pagerduty_token)


def test_a_wrong_token_is_unauthorized_and_never_shown(
    operator: OperatorProcess, namespace: Namespace
) -> None:
    wrong_token = f"wrong-token-{secrets.token_hex(8)}"
    operator.restart(PAGERDUTY_API_TOKEN=wrong_token)  # the next test's operator gets the right one
    (team,) = examples.feature("orphan")
    namespace.create([team])
    refused = wait_for(
        "Ready=False Unauthorized",
        lambda: (
            (obj := namespace.get("OnCallTeam", team["metadata"]["name"]))
            and condition(obj, "Ready").get("reason") == "Unauthorized"
            and obj
        ),
        within=30,
    )
    shown = [
        operator.log(),
        json.dumps(refused["status"]),
        json.dumps(namespace.events(team["metadata"]["name"])),
    ]
    assert all(wrong_token not in text for text in shown)
