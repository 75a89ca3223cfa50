"""Part of the fault matrix, on the control plane against the emulator, asserting PagerDuty's end
state and the statuses: PagerDuty answering 5xx, slowly, while the examples converge. (The
operator killed half-way is tests/e2e/test_lifecycle.py's and test_high_availability.py's.)"""

from __future__ import annotations

import time

import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.e2e import examples
from tests.e2e.kube import Namespace, wait_for
from tests.e2e.operator_run import OperatorProcess, assert_clean_log
from tests.e2e.pagerduty_view import PagerDutyView

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]


def test_slow_5xx_answers_while_converging_end_with_everything_ready_once(
    operator: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    manifests = examples.virtual_team()
    pagerduty_emulator.set_faults(error_rate=0.3, latency_seconds=0.3, error_status=503)
    try:
        namespace.create(manifests)
        wait_for(
            "some 503s answered",
            lambda: sum(r["status"] == 503 for r in pagerduty_emulator.requests()) >= 3 or None,
            within=30,
        )
        time.sleep(5)
    finally:
        pagerduty_emulator.set_faults()
    namespace.wait_all_ready(120)
    pagerduty.assert_one_each(namespace.name, manifests)
    assert_clean_log(operator, pagerduty_token)
