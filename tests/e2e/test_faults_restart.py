"""Part of the fault matrix (issue 12 item 4): a restart over hundreds of converged objects, on the
control plane against the emulator. 50 teams of the bench's shape (200 objects) converge; the
operator is stopped and a fresh one started; once its metrics show it has reconciled every object
(`oncall_objects` counts each object its reconciles have seen), PagerDuty got no write since the
restart and no object of ours was written in Kubernetes (resourceVersions unchanged)."""

from __future__ import annotations

import time

import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.e2e import many_teams
from tests.e2e.conftest import DEFAULT_ENV, DRIFT_INTERVAL_SECONDS
from tests.e2e.kube import Namespace, wait_for
from tests.e2e.operator_run import OperatorProcess, assert_clean_log, metric_total

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

TEAMS = 50  # 200 objects
CONVERGED_WITHIN_SECONDS = 420.0
RESTART_RECONCILED_WITHIN_SECONDS = 180.0
# Once the last object shows in the metrics, its handler has returned; kopf applies what the
# handler patched (nothing, here) right after: this long is plenty for it to show.
PATCH_APPLIED_SECONDS = 2.0
WRITES = {"POST", "PUT", "DELETE", "PATCH"}


def test_a_restart_over_200_converged_objects_writes_nothing(
    operator: OperatorProcess,
    namespace: Namespace,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    manifests = many_teams.teams(TEAMS, namespace.name)
    started = time.monotonic()
    namespace.create(manifests)
    namespace.wait_all_ready(within=CONVERGED_WITHIN_SECONDS)
    print(f"{len(manifests)} objects Ready in {time.monotonic() - started:.0f}s")
    settle(namespace, pagerduty_emulator)
    operator.stop()  # SIGTERM: kopf finishes what it is doing
    versions = _versions(namespace)
    assert len(versions) == len(manifests)

    pagerduty_emulator.clear_requests()
    restarted = time.monotonic()
    operator.start(**DEFAULT_ENV)

    def reconciled() -> float:
        return metric_total(operator.metrics(), "oncall_objects", namespace=namespace.name)

    wait_for(
        f"the fresh operator's reconciles of all {len(manifests)} objects",
        lambda: reconciled() >= len(manifests),
        within=RESTART_RECONCILED_WITHIN_SECONDS,
    )
    print(f"all reconciled {time.monotonic() - restarted:.0f}s after the restart")
    time.sleep(PATCH_APPLIED_SECONDS)

    ready = metric_total(
        operator.metrics(), "oncall_objects", namespace=namespace.name, ready="True"
    )
    assert ready == len(manifests)
    requests = pagerduty_emulator.requests()
    assert requests, "the fresh operator read nothing from PagerDuty"
    writes = [f"{r['method']} {r['path']}" for r in requests if r["method"] in WRITES]
    assert writes == [], f"PagerDuty writes after a restart with nothing to do: {writes[:20]}"
    changed = {
        name: (version, now)
        for name, (version, now) in _pairs(versions, _versions(namespace)).items()
        if version != now
    }
    assert changed == {}, f"objects written in Kubernetes after the restart: {changed}"
    print(f"{len(requests)} PagerDuty reads after the restart, no write")
    assert_clean_log(operator, pagerduty_token)


def settle(namespace: Namespace, emulator: EmulatorServer) -> None:
    """Until a whole drift interval passes with no status rewritten and no PagerDuty write: the
    reconciles that made everything Ready may still be writing their last status."""
    deadline = time.monotonic() + 6 * DRIFT_INTERVAL_SECONDS

    def sample() -> tuple[dict[str, str], int]:
        writes = sum(1 for r in emulator.requests() if r["method"] in WRITES)
        return _versions(namespace), writes

    previous = sample()
    while True:
        time.sleep(DRIFT_INTERVAL_SECONDS + 1)
        current = sample()
        if current == previous:
            return
        if time.monotonic() > deadline:
            raise AssertionError("statuses or PagerDuty still being written after convergence")
        previous = current


def _versions(namespace: Namespace) -> dict[str, str]:
    return {
        f"{obj['kind']}/{obj['metadata']['name']}": obj["metadata"]["resourceVersion"]
        for obj in namespace.all()
    }


def _pairs(before: dict[str, str], after: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    return {name: (version, after.get(name)) for name, version in before.items()}
