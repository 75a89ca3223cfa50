"""Rotating the PagerDuty token under a running operator: PAGERDUTY_API_TOKEN_FILE names a file
laid out as a mounted Secret; PagerDuty's key is replaced, the operator reports Unauthorized, the
Secret is updated, and the same process goes back to Ready — no restart, the token never shown."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.client.test_token_file import SecretVolume
from tests.e2e import examples
from tests.e2e.conftest import DRIFT_INTERVAL_SECONDS
from tests.e2e.kube import Namespace, condition, is_ready, wait_for
from tests.e2e.operator_run import OperatorProcess

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

READY_WITHIN_SECONDS = 60.0
# The drift timer retries an Unauthorized object; two of its ticks and a reconcile.
NOTICED_WITHIN_SECONDS = 3 * DRIFT_INTERVAL_SECONDS + 15


def test_a_rotated_token_file_is_used_without_a_restart(
    operator: OperatorProcess,
    namespace: Namespace,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
    tmp_path: Path,
) -> None:
    volume_dir = tmp_path / "pagerduty-api-token"
    volume_dir.mkdir()
    volume = SecretVolume(volume_dir, pagerduty_token)
    operator.restart(
        PAGERDUTY_API_TOKEN="",  # blank is unset: only the file gives the token
        PAGERDUTY_API_TOKEN_FILE=str(volume.path),
        ONCALL_DRIFT_INTERVAL_SECONDS=str(DRIFT_INTERVAL_SECONDS),
    )
    assert operator.process is not None
    pid = operator.process.pid
    (team,) = examples.feature("orphan")  # Orphan: its deletion after the test calls no PagerDuty
    name = team["metadata"]["name"]
    namespace.create([team])
    namespace.wait_ready("OnCallTeam", name, READY_WITHIN_SECONDS)

    rotated = f"rotated-token-{secrets.token_hex(16)}"
    try:
        pagerduty_emulator.set_token(rotated)  # a new key in PagerDuty, the old one deleted
        namespace.patch("OnCallTeam", name, {"spec": {"displayName": "Edited after rotation"}})
        refused = wait_for(
            "Ready=False Unauthorized while the Secret still holds the old token",
            lambda: (
                (obj := namespace.get("OnCallTeam", name))
                and condition(obj, "Ready").get("reason") == "Unauthorized"
                and obj
            ),
            within=NOTICED_WITHIN_SECONDS,
        )
        volume.write(rotated)  # the kubelet updates the mounted Secret
        synced = wait_for(
            "Ready again with the rotated token, by the same process",
            lambda: (obj := namespace.get("OnCallTeam", name)) and is_ready(obj) and obj,
            within=NOTICED_WITHIN_SECONDS,
        )
    finally:  # the rest of the session uses the original key again
        pagerduty_emulator.set_token(pagerduty_token)
        volume.write(pagerduty_token)

    assert operator.running and operator.process.pid == pid, "the operator was not restarted"
    assert synced["status"]["observedGeneration"] == synced["metadata"]["generation"]
    log = operator.log()
    assert "PagerDuty API token re-read from" in log
    shown = [log, json.dumps(refused["status"]), json.dumps(synced["status"])]
    shown.append(json.dumps(namespace.events(name)))
    for token in (pagerduty_token, rotated):
        assert all(token not in text for text in shown)
