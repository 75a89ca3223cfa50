"""kstatus itself (sigs.k8s.io/cli-utils/pkg/kstatus/status, the library Flux's health checks and
cli-utils waiters use, built by oncall-testbed tools) computes the status of every status the
operator writes: Current when Ready, Failed when a person must act (Stalled), InProgress while the
operator still works (Reconciling) — so a Flux Kustomization stops waiting on an invalid spec."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from oncall_operator import conditions
from tests.fixtures.gotools import GoToolGetter
from tests.ship.test_argocd_health import KINDS
from tests.ship.test_argocd_health_of_operator_status import CASES, GENERATION, status_after

EXPECTED = {
    "ready": "Current",
    "paused": "InProgress",
    "paused-annotation-removed-not-yet-seen": "InProgress",
    "invalid-spec": "Failed",
    "pagerduty-error": "InProgress",
    "unauthorized": "Failed",
    "pagerduty-unavailable": "InProgress",
    "rate-limited": "InProgress",
    "waiting-for-references": "InProgress",
    "references-unresolved": "InProgress",
    "no-participants": "Failed",
    "no-cover": "Failed",
    "owned-elsewhere": "Failed",
}


def objects() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "oncall.dev/v1alpha1",
            "kind": kind,
            "metadata": {
                "name": case_id,
                "namespace": "oncall",
                "generation": GENERATION,
                "annotations": annotations,
            },
            "status": status_after(end, kind, annotations),
        }
        for kind in KINDS
        for case_id, end, annotations, _argocd in CASES
    ]


@pytest.fixture(scope="module")
def computed(go_tool: GoToolGetter) -> dict[tuple[str, str], str]:
    result = subprocess.run(
        [go_tool("kstatus")],
        input=json.dumps(objects()),
        capture_output=True,
        text=True,
        check=True,
    )
    return {(entry["kind"], entry["name"]): entry["status"] for entry in json.loads(result.stdout)}


def test_every_case_has_an_expected_kstatus() -> None:
    assert {case[0] for case in CASES} == set(EXPECTED)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case_id", list(EXPECTED))
def test_kstatus_of_what_the_operator_writes(
    computed: dict[tuple[str, str], str], kind: str, case_id: str
) -> None:
    assert computed[(kind, case_id)] == EXPECTED[case_id]


def test_stalled_reasons_are_exactly_what_argocd_shows_degraded_or_current() -> None:
    """Failed in kstatus means a person must act: the same set conditions.py maps to Stalled."""
    failed = {case for case, status in EXPECTED.items() if status == "Failed"}
    reasons = {
        "invalid-spec": conditions.INVALID_SPEC,
        "unauthorized": conditions.UNAUTHORIZED,
        "no-participants": conditions.NO_PARTICIPANTS,
        "no-cover": conditions.NO_COVER,
        "owned-elsewhere": conditions.OWNED_ELSEWHERE,
    }
    assert failed == set(reasons)
    assert set(reasons.values()) == conditions.STALLED_REASONS


def test_an_edit_not_yet_observed_is_in_progress(go_tool: GoToolGetter) -> None:
    obj = objects()[0]
    obj["metadata"]["generation"] = GENERATION + 1
    result = subprocess.run(
        [go_tool("kstatus")], input=json.dumps([obj]), capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout)[0]["status"] == "InProgress"
