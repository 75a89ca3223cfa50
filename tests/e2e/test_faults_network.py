"""Part of the fault matrix, on the control plane against the emulator, asserting PagerDuty's end
state and the statuses: PagerDuty's rate limit spent (429s, and every `ratelimit-reset` honoured),
and answers that never come (after the client's timeout, or a connection closed without one)
while the examples converge. (5xx answers are tests/e2e/test_fault_matrix.py's; the API server's
faults are test_faults_apiserver.py's.)"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator

import httpx2
import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.e2e import examples
from tests.e2e.conftest import DEFAULT_ENV
from tests.e2e.kube import Namespace, wait_for
from tests.e2e.operator_run import (
    OperatorProcess,
    assert_clean_log,
    assert_no_traceback,
    metric_total,
)
from tests.e2e.pagerduty_view import PagerDutyView

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

# The account allows this many requests per window of this many seconds: the examples need
# several windows, so the operator runs out of them again and again and waits for each reset.
THROTTLED_LIMIT = 20
THROTTLED_WINDOW_SECONDS = 4.0
UNTHROTTLED_LIMIT = 100_000  # the e2e emulator's own (conftest.py)


@pytest.fixture
def restarted_after(operator: OperatorProcess) -> Iterator[OperatorProcess]:
    """The operator, started afresh with the default settings after the test (it learnt the
    throttled account's quota, or runs with settings of the test's own)."""
    yield operator
    operator.restart(**DEFAULT_ENV)


def test_a_spent_rate_limit_is_waited_out_without_an_early_request_and_leaves_no_trace(
    restarted_after: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    operator = restarted_after
    manifests = examples.virtual_team()
    log_start = operator.log_size()
    operator.stop()
    pagerduty_emulator.set_rate_limit(THROTTLED_LIMIT, window_seconds=THROTTLED_WINDOW_SECONDS)
    pagerduty_emulator.clear_requests()
    try:
        # Another consumer of the same key spends the window (without a 429 of its own): the
        # operator starts with nothing left, so its first request is answered 429.
        with httpx2.Client(
            base_url=pagerduty_emulator.base_url,
            headers={"Authorization": f"Token token={pagerduty_emulator.token}"},
            verify=ssl.create_default_context(cafile=str(pagerduty_emulator.ca_file)),
        ) as neighbour:
            for _ in range(THROTTLED_LIMIT):
                assert neighbour.get("/users").status_code == 200
        operator.start(**DEFAULT_ENV)
        namespace.create(manifests)
        namespace.wait_all_ready(240)
        waits = metric_total(operator.metrics(), "oncall_pagerduty_rate_limit_waits_total")
        requests = pagerduty_emulator.requests()
        early = pagerduty_emulator.early_requests()
    finally:
        pagerduty_emulator.set_rate_limit(UNTHROTTLED_LIMIT)
    statuses = [r["status"] for r in requests[THROTTLED_LIMIT:]]
    assert 429 in statuses, "the operator was never answered 429"
    windows = len(requests) / THROTTLED_LIMIT
    assert windows >= 3, f"the examples fit in {windows:.1f} windows: not throttled hard enough"
    assert waits >= 2, "the operator never waited for the account's limit"
    assert early == [], f"requests came before the ratelimit-reset they were told: {early}"
    for obj in namespace.all():
        text = json.dumps(obj.get("status") or {})
        assert "429" not in text and "RateLimited" not in text, obj["metadata"]["name"]
        assert "rate limit" not in text.lower(), obj["metadata"]["name"]
    pagerduty.assert_one_each(namespace.name, manifests)
    assert_clean_log(operator, pagerduty_token)
    assert_no_traceback(operator, log_start)


def test_answers_that_never_come_end_with_everything_ready_once(
    restarted_after: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    operator = restarted_after
    manifests = examples.virtual_team()
    # The client gives up after a second; the emulator carries a share of the requests out and
    # answers them after two, and closes the connection on another share without answering.
    operator.restart(**DEFAULT_ENV, PAGERDUTY_TIMEOUT_SECONDS="1")
    log_start = operator.log_size()
    pagerduty_emulator.clear_requests()
    pagerduty_emulator.set_faults(slow_rate=0.3, slow_seconds=2.0, drop_rate=0.3)
    try:
        namespace.create(manifests)
        wait_for(
            "a create carried out but never answered",
            lambda: (
                any(
                    r["method"] == "POST" and r["status"] is None
                    for r in pagerduty_emulator.requests()
                )
                or None
            ),
            within=60,
        )
        time.sleep(5)
    finally:
        pagerduty_emulator.set_faults()
    namespace.wait_all_ready(120)
    unanswered = [r for r in pagerduty_emulator.requests() if r["status"] is None]
    assert len(unanswered) >= 3
    pagerduty.assert_one_each(namespace.name, manifests)
    assert_clean_log(operator, pagerduty_token)
    assert_no_traceback(operator, log_start)
