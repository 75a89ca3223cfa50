"""Security: a full run — the examples converging, errors (an unknown email, an adopted id
PagerDuty does not have, a refused token) and a token rotation through PAGERDUTY_API_TOKEN_FILE —
captured whole (every operator log line, every Event of the namespace, every status), and no
token appears anywhere in it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from oncall_testbed.emulator import EmulatorServer
from tests.e2e import examples
from tests.e2e.kube import Namespace, condition, wait_for
from tests.e2e.operator_run import OperatorProcess

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]


@pytest.fixture
def token_file(
    operator: OperatorProcess, pagerduty_emulator: EmulatorServer, tmp_path: Path
) -> Iterator[Path]:
    """The operator restarted reading its token from a file; the emulator's token put back after."""
    path = tmp_path / "token"
    path.write_text(pagerduty_emulator.token)
    original = pagerduty_emulator.token
    operator.restart(PAGERDUTY_API_TOKEN="", PAGERDUTY_API_TOKEN_FILE=str(path))
    try:
        yield path
    finally:
        pagerduty_emulator.set_token(original)
        operator.stop()  # the `operator` fixture starts it again with the default settings


def everything_shown(operator: OperatorProcess, namespace: Namespace) -> str:
    events = client.CoreV1Api(namespace.api_client).list_namespaced_event(namespace.name)
    return "\n".join(
        [
            operator.log(),
            json.dumps([namespace.api_client.sanitize_for_serialization(e) for e in events.items]),
            json.dumps([obj.get("status") for obj in namespace.all()]),
        ]
    )


def test_no_token_in_any_log_line_event_or_status_of_a_full_run(
    operator: OperatorProcess,
    token_file: Path,
    namespace: Namespace,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    manifests = examples.virtual_team()
    broken_team = {
        "apiVersion": "oncall.dev/v1alpha1",
        "kind": "OnCallTeam",
        "metadata": {"name": "with-a-stranger"},
        "spec": {"members": [{"email": "nobody-here@example.com"}]},
    }
    missing_adoption = {
        **broken_team,
        "metadata": {"name": "adopts-nothing"},
        "spec": {"pagerduty": {"id": "PNOPE01"}},
    }
    namespace.create([*manifests, broken_team, missing_adoption])
    for name in ("payments", "out-of-hours-weekly"):
        kind = "OnCallTeam" if name == "payments" else "Rotation"
        namespace.wait_ready(kind, name, within=60)
    for name, reason in (
        ("with-a-stranger", "ReferencesUnresolved"),
        ("adopts-nothing", "PagerDutyError"),
    ):
        wait_for(
            f"{name} Ready=False {reason}",
            lambda name=name, reason=reason: (
                condition(namespace.get("OnCallTeam", name), "Ready").get("reason") == reason
                or None
            ),
            within=60,
        )

    # Rotation: PagerDuty accepts only the new key; the operator reads it from the file.
    rotated = f"rotated-token-{secrets.token_hex(16)}"
    pagerduty_emulator.set_token(rotated)
    token_file.write_text(rotated)
    namespace.patch("OnCallTeam", "payments", {"spec": {"description": "Rotated key, same team."}})
    wait_for(
        "the edit applied with the rotated key",
        lambda: (
            (
                (team := namespace.get("OnCallTeam", "payments"))["status"].get(
                    "observedGeneration"
                )
                == 2
                and condition(team, "Ready").get("status") == "True"
            )
            or None
        ),
        within=60,
    )
    # A refused key (revoked before the file is updated) is an error the status shows.
    pagerduty_emulator.set_token(f"revoked-{secrets.token_hex(8)}")
    namespace.patch("OnCallTeam", "payments", {"spec": {"description": "Refused key."}})
    wait_for(
        "Ready=False Unauthorized",
        lambda: (
            condition(namespace.get("OnCallTeam", "payments"), "Ready").get("reason")
            == "Unauthorized"
            or None
        ),
        within=60,
    )

    shown = everything_shown(operator, namespace)
    assert "Unauthorized" in shown and "nobody-here@example.com" in shown  # the capture is real
    for token in (pagerduty_token, rotated):
        assert token not in shown
