"""The built tools are the upstream programs at the pinned versions (built on first use)."""

from __future__ import annotations

import json
import subprocess

from oncall_testbed.gotools.registry import PROMETHEUS_VERSION
from tests.fixtures.gotools import GoToolGetter


def test_promtool_is_the_pinned_prometheus(go_tool: GoToolGetter) -> None:
    result = subprocess.run(
        [go_tool("promtool"), "--version"], capture_output=True, text=True, check=True
    )
    assert f"promtool, version {PROMETHEUS_VERSION}" in result.stdout


def test_kstatus_computes_what_the_library_says(go_tool: GoToolGetter) -> None:
    """A custom resource's status is read from its conditions by kstatus' generic rules."""

    def resource(name: str, generation: int, observed: int, conditions: list[object]) -> object:
        return {
            "apiVersion": "example.test/v1",
            "kind": "Widget",
            "metadata": {"name": name, "namespace": "default", "generation": generation},
            "status": {"observedGeneration": observed, "conditions": conditions},
        }

    objects = [
        resource("ready", 2, 2, [{"type": "Ready", "status": "True", "reason": "Ok"}]),
        resource("old", 3, 2, [{"type": "Ready", "status": "True", "reason": "Ok"}]),
        resource("stalled", 1, 1, [{"type": "Stalled", "status": "True", "reason": "Bad"}]),
        resource("busy", 1, 1, [{"type": "Reconciling", "status": "True", "reason": "Work"}]),
    ]
    result = subprocess.run(
        [go_tool("kstatus")], input=json.dumps(objects), capture_output=True, text=True, check=True
    )
    statuses = {entry["name"]: entry["status"] for entry in json.loads(result.stdout)}
    assert statuses == {
        "ready": "Current",
        "old": "InProgress",  # observedGeneration behind generation
        "stalled": "Failed",
        "busy": "InProgress",
    }


def test_kstatus_rejects_what_is_not_a_list_of_objects(go_tool: GoToolGetter) -> None:
    result = subprocess.run(
        [go_tool("kstatus")], input="{}", capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "reading a JSON array of objects from stdin" in result.stderr
