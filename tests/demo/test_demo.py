"""`make demo`'s command, run for real: control plane, emulator and operator; examples become Ready."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oncall_testbed.controlplane import Binaries
from oncall_testbed.demo import Demo, _people_between

REPO = Path(__file__).resolve().parents[2]


def test_people_between_lists_whoever_overlaps_the_week_in_order() -> None:
    import datetime as dt

    schedule = {
        "final_schedule": {
            "rendered_schedule_entries": [
                {
                    "start": "2026-11-23T09:00:00Z",
                    "end": "2026-11-30T09:00:00Z",
                    "user": {"summary": "Ana"},
                },
                {
                    "start": "2026-11-30T09:00:00Z",
                    "end": "2026-12-07T09:00:00Z",
                    "user": {"summary": "Bo"},
                },
            ]
        }
    }
    week = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    assert _people_between(schedule, week, week + dt.timedelta(days=7)) == ["Ana"]
    assert _people_between(schedule, week, week + dt.timedelta(days=8)) == ["Ana", "Bo"]
    assert _people_between(schedule, week + dt.timedelta(days=8), week + dt.timedelta(days=9)) == [
        "Bo"
    ]


@pytest.mark.controlplane
@pytest.mark.e2e
def test_demo_brings_every_example_to_ready_and_stops(
    control_plane: object, tmp_path: Path
) -> None:
    binaries: Binaries = control_plane.binaries  # type: ignore[attr-defined]
    env = {**os.environ, "PATH": f"{Path(binaries.kubectl).parent}:{os.environ['PATH']}"}
    state = tmp_path / "demo"
    command = [sys.executable, "-m", "oncall_testbed.cli", "demo", "--dir", str(state)]
    try:
        result = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=420, check=False
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output + (state / "operator.log").read_text(errors="replace")
        assert "resources are Ready" in output
        assert "PagerDuty schedule Out-of-hours weekly" in output
        assert "make demo-down" in output
        operator_log = (state / "operator.log").read_text()
        assert "Forbidden" not in operator_log
        token = (state / "pagerduty-token").read_text().strip()
        assert token not in output and token not in operator_log
    finally:
        subprocess.run(
            [*command, "--down"], cwd=REPO, env=env, capture_output=True, timeout=120, check=False
        )


def test_demo_applies_the_on_call_examples_and_no_installation_example() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    applied = Demo(Path("/nonexistent-demo-dir"), examples).example_manifests()
    top = {path.relative_to(examples).parts[0] for path in applied}

    assert top == {"virtual-team", "features"}
    assert "kind: Namespace" in applied[0].read_text()
    assert not [p for p in applied if "adopt" in p.parts or p.name == "users.yaml"]
