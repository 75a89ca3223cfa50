"""The operator starts on a cluster that already holds more objects of a kind than
ONCALL_WORKER_LIMIT: kopf indexes every object before any handler runs, so a cap on kopf's
per-object workers would leave the objects past the cap unindexed and everything waiting forever."""

from __future__ import annotations

import copy

import pytest

from tests.e2e import examples
from tests.e2e.conftest import DEFAULT_ENV
from tests.e2e.kube import Namespace
from tests.e2e.operator_run import OperatorProcess

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

WORKER_LIMIT = 2
ROTATIONS = 5  # more than the limit


def test_existing_objects_beyond_the_worker_limit_all_become_ready(
    operator: OperatorProcess, namespace: Namespace
) -> None:
    manifests = examples.virtual_team()
    team = examples.named(manifests, "OnCallTeam", "out-of-hours")
    rotation = examples.named(manifests, "Rotation", "out-of-hours-weekly")
    rotations = []
    for number in range(ROTATIONS):
        copied = copy.deepcopy(rotation)
        copied["metadata"]["name"] = f"weekly-{number}"
        copied["spec"]["displayName"] = f"Weekly {number} ({namespace.name})"
        rotations.append(copied)

    operator.stop()
    namespace.create([team, *rotations])  # all there before the operator lists them
    operator.start(**DEFAULT_ENV, ONCALL_WORKER_LIMIT=str(WORKER_LIMIT))

    ready = namespace.wait_all_ready(within=90)
    assert len(ready) == 1 + ROTATIONS
