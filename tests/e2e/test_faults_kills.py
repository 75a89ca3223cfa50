"""Part of the fault matrix (issue 12 item 4): the operator SIGKILLed at random points, 50 times,
while it converges about 50 objects, on the control plane against the emulator.

The 50 kills fall in ONE converging run (not 50 separate convergences): the objects are applied
once, then the operator is started and killed 50 times in a row, each life ended by SIGKILL at a
seeded random delay after its start (during start-up, listing, reconciling, a status write) or
right after its first write reaches PagerDuty (between PagerDuty's answer and the status write:
the crash that could make a duplicate), whichever comes first. PagerDuty answers each request
after LATENCY_SECONDS meanwhile: without it a life's concurrent reconciles land a burst of writes
before the kill does, and the PagerDuty work was over by the 25th kill; with it the kills spread
over the whole creation (asserted: not everything is Ready after the 50th). A request in flight
at a kill may be carried out or not, as with PagerDuty (a create carried out but never answered
is the hardest case: the next life must find it). Then a last life, at full speed, finishes the
work. The seed and every kill are printed (`ONCALL_FAULTS_SEED=<seed>` reproduces the same
delays; what a life gets done in them varies with the machine)."""

from __future__ import annotations

import os
import random
import time

import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.e2e import many_teams
from tests.e2e.conftest import DEFAULT_ENV
from tests.e2e.kube import Namespace, is_ready
from tests.e2e.operator_run import OperatorProcess, assert_clean_log
from tests.e2e.pagerduty_view import PagerDutyView

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

KILLS = 50
TEAMS = 13  # 52 objects
WRITES = {"POST", "PUT", "DELETE", "PATCH"}
LONGEST_LIFE_SECONDS = 1.5
LATENCY_SECONDS = 0.05
POLL_SECONDS = 0.01


def test_fifty_kills_at_random_points_while_converging_make_no_duplicate(
    operator: OperatorProcess,
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    seed = int(os.environ.get("ONCALL_FAULTS_SEED") or random.SystemRandom().randrange(10**6))
    print(f"kill schedule: ONCALL_FAULTS_SEED={seed}")
    rng = random.Random(seed)
    manifests = many_teams.teams(TEAMS, namespace.name)

    operator.stop()
    pagerduty_emulator.clear_requests()
    namespace.create(manifests)
    kills: list[str] = []
    pagerduty_emulator.set_faults(latency_seconds=LATENCY_SECONDS)
    try:
        for kill in range(1, KILLS + 1):
            after_seconds = rng.uniform(0.0, LONGEST_LIFE_SECONDS)
            operator.start(**DEFAULT_ENV)
            started = time.monotonic()
            seen = len(pagerduty_emulator.requests())
            writes = 0
            while time.monotonic() - started < after_seconds and not writes:
                writes = sum(
                    1 for r in pagerduty_emulator.requests()[seen:] if r["method"] in WRITES
                )
                time.sleep(POLL_SECONDS)
            operator.stop(kill=True)
            at = time.monotonic() - started
            why = f"{writes} writes seen" if writes else f"{after_seconds:.2f}s, no write"
            kills.append(f"kill {kill}: {at:.2f}s after /healthz answered ({why})")
            print(kills[-1])
    finally:
        pagerduty_emulator.set_faults()
    objects = namespace.all()
    converged = sum(1 for obj in objects if is_ready(obj))
    during = sum(1 for r in pagerduty_emulator.requests() if r["method"] in WRITES)
    print(f"after {KILLS} kills: {converged} of {len(objects)} objects Ready, {during} writes")
    assert converged < len(objects), (
        "everything was Ready before the last kill: it proves less than it says"
    )

    operator.start(**DEFAULT_ENV)
    ready = namespace.wait_all_ready(within=180)
    requests = pagerduty_emulator.requests()
    print(f"all Ready after {sum(1 for r in requests if r['method'] in WRITES)} writes")

    assert len(ready) == len(manifests)
    for kind in many_teams.KINDS:
        expected = many_teams.names(manifests, kind)
        # One PagerDuty object per resource, by the emulator's own state and the managed marker,
        assert pagerduty.managed_names(kind, namespace.name) == expected, kind
        # and by every object with this test's names, marked or not (no delete happened, so
        # this is every object made),
        assert many_teams.in_pagerduty(pagerduty, kind, namespace.name) == expected, kind
        # which the request log agrees with: the creates answered, plus those a kill left
        # unanswered (made or not), bracket the objects.
        answered, unanswered = many_teams.creates(requests, kind)
        print(f"{kind}: {answered} creates answered, {unanswered} unanswered")
        assert answered <= len(expected) <= answered + unanswered, kind
        # and it is the one the resource's status names.
        ids = {str(o["id"]) for o in pagerduty.managed(kind, namespace.name)}
        in_status = {obj["status"]["pagerduty"]["id"] for obj in ready if obj["kind"] == kind}
        assert in_status == ids, kind
    deletes = [f"{r['method']} {r['path']}" for r in requests if r["method"] == "DELETE"]
    assert deletes == [], f"PagerDuty deletes while converging: {deletes}"
    assert_clean_log(operator, pagerduty_token)
