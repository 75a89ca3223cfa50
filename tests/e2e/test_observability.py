"""What an engineer and a cluster see of the operator: `kubectl get` columns (the API server's
Table from the CRDs' printer columns), the liveness endpoint and the Prometheus metrics."""

from __future__ import annotations

import re

import pytest

from tests.e2e import examples
from tests.e2e.kube import Namespace
from tests.e2e.operator_run import OperatorProcess, assert_clean_log, metric_total

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

COMMON_COLUMNS = ["Name", "Ready", "Reason", "PagerDuty", "Age"]
ROTATION_COLUMNS = ["On-Call", "Next-Handoff"]


@pytest.fixture
def virtual_team(operator: OperatorProcess, namespace: Namespace) -> Namespace:
    namespace.create(examples.virtual_team())
    namespace.wait_all_ready(60)
    return namespace


@pytest.mark.parametrize("kind", ["OnCallTeam", "Rotation", "EscalationPolicy"])
def test_printer_columns(kind: str, virtual_team: Namespace) -> None:
    table = virtual_team.table(kind)
    columns = [c["name"] for c in table["columnDefinitions"]]
    expected = COMMON_COLUMNS + (ROTATION_COLUMNS if kind == "Rotation" else [])
    assert sorted(columns) == sorted(expected), columns
    assert table["rows"], f"no {kind} rows"
    on_call = []
    for row in table["rows"]:
        cells = dict(zip(columns, row["cells"], strict=True))
        obj = virtual_team.get(kind, cells["Name"])
        assert cells["Ready"] == "True", cells
        assert cells["Reason"] == "Synced", cells
        assert cells["PagerDuty"] == obj["status"]["pagerduty"]["id"], cells
        if kind == "Rotation":
            # Nobody is on call in a business-hours rotation out of hours: the cell is empty then.
            assert cells["On-Call"] == (obj["status"].get("onCall") or {}).get("now"), cells
            on_call += [cells["On-Call"]] if cells["On-Call"] else []
            assert cells["Next-Handoff"], cells
            assert cells["Next-Handoff"] == obj["status"]["nextHandoff"], cells
    if kind == "Rotation":
        # engineering-managers covers every hour, so someone is always on call there.
        assert all(re.fullmatch(r"[^@\s]+@example\.com", email) for email in on_call), on_call
        assert on_call, "nobody on call in any rotation"


def test_liveness_and_metrics(
    operator: OperatorProcess, virtual_team: Namespace, pagerduty_token: str
) -> None:
    assert operator.alive()
    metrics = operator.metrics()
    for kind in ("OnCallTeam", "Rotation", "EscalationPolicy"):
        assert metric_total(metrics, "oncall_reconciles_total", kind=kind, result="ready") > 0, kind
    assert metric_total(metrics, "oncall_pagerduty_requests_total", method="POST") > 0
    assert metric_total(metrics, "oncall_pagerduty_requests_total", method="GET") > 0
    assert pagerduty_token not in metrics
    assert_clean_log(operator, pagerduty_token)
