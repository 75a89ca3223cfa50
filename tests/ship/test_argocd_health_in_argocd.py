"""Argo CD's own code evaluates the health check: the `argocd-health` Go tool (built by
`oncall-testbed tools build argocd-health`, `make go-tools`) reads deploy/argocd/argocd-cm-patch.yaml
with Argo CD's settings manager and assesses each object with gitops-engine's GetResourceHealth and
lua.ResourceHealthOverrides, as the application controller does (github.com/argoproj/argo-cd/v3).

The lupa tests (test_argocd_health*.py) run the same script in another Lua 5.1; these check that
Argo CD itself agrees with them on every status the operator writes and on every sample object —
including that PagerDutyUnavailable and rate limits are Progressing, not Degraded — and that the
patch's useOpenLibs lines are what makes the script run in Argo CD at all."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncall_operator import conditions
from oncall_testbed.gotools import ToolNotAvailable, ensure_tool, get_tool
from tests.ship.test_argocd_health import (
    ARGOCD_CM_PATCH,
    GROUP,
    HEALTH_LUA,
    KINDS,
    health_cases,
    open_libs_key,
    run_health_check,
)
from tests.ship.test_argocd_health_of_operator_status import CASES, GENERATION, failed, status_after
from tests.ship.test_kstatus_of_operator_status import objects as operator_objects


@pytest.fixture(scope="module")
def argocd_health() -> Path:
    """The built tool; skipped (not built here: a cold build takes 17 min or more) when absent."""
    try:
        return ensure_tool(get_tool("argocd-health"), build=False)
    except ToolNotAvailable as error:
        pytest.skip(f"Argo CD's own health evaluation is unavailable: {error} (make go-tools)")


def _json_default(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):  # unquoted timestamps in the sample YAML
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot send {value!r} to argocd-health")


def evaluate(
    tool: Path, objects: list[dict[str, Any]], argocd_cm: Path = ARGOCD_CM_PATCH
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool), str(argocd_cm)],
        input=json.dumps(objects, default=_json_default),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def assessed(tool: Path, objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    result = evaluate(tool, objects)
    assert result.returncode == 0, result.stderr
    answer: list[dict[str, str]] = json.loads(result.stdout)
    assert [(a["kind"], a["name"]) for a in answer] == [
        (o["kind"], o["metadata"]["name"]) for o in objects
    ]
    return answer


@pytest.fixture(scope="module")
def of_operator_status(argocd_health: Path) -> dict[tuple[str, str], dict[str, str]]:
    answer = assessed(argocd_health, operator_objects())
    return {(entry["kind"], entry["name"]): entry for entry in answer}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("case_id", "expected"), [(c[0], c[3]) for c in CASES])
def test_argocd_assesses_what_the_operator_writes(
    of_operator_status: dict[tuple[str, str], dict[str, str]],
    kind: str,
    case_id: str,
    expected: str,
) -> None:
    health = of_operator_status[(kind, case_id)]

    assert health["status"] == expected
    assert health["message"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case_id", [c[0] for c in CASES])
def test_argocd_and_lupa_agree_on_status_and_message(
    of_operator_status: dict[tuple[str, str], dict[str, str]], kind: str, case_id: str
) -> None:
    obj = next(
        o for o in operator_objects() if o["kind"] == kind and o["metadata"]["name"] == case_id
    )
    health = of_operator_status[(kind, case_id)]

    lupa = run_health_check(HEALTH_LUA.read_text(), obj)
    assert {"status": health["status"], "message": health["message"]} == lupa


@pytest.mark.parametrize(
    "reason", [conditions.PAGERDUTY_UNAVAILABLE, conditions.RATE_LIMITED], ids=str
)
def test_transient_pagerduty_failures_are_progressing_not_degraded(
    argocd_health: Path, reason: str
) -> None:
    obj = {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "OnCallTeam",
        "metadata": {"name": "platform", "namespace": "oncall", "generation": GENERATION},
        "status": status_after(failed(reason), "OnCallTeam", {}),
    }

    [health] = assessed(argocd_health, [obj])

    assert health["status"] == "Progressing"
    assert reason in health["message"]


def test_argocd_assesses_every_sample_object_as_its_health_test_says(
    argocd_health: Path,
) -> None:
    cases = list(health_cases())
    objects = [yaml.safe_load(case.values[1].read_text()) for case in cases]

    answer = assessed(argocd_health, objects)

    for case, health in zip(cases, answer, strict=True):
        assert {"status": health["status"], "message": health["message"]} == case.values[2], case.id
    assert len(cases) >= 3 * 4  # every kind, every status: test_argocd_health checks the set


def test_an_edit_not_yet_observed_is_progressing_in_argocd(argocd_health: Path) -> None:
    obj = operator_objects()[0]
    obj["metadata"]["generation"] = GENERATION + 1

    [health] = assessed(argocd_health, [obj])

    assert health["status"] == "Progressing"
    assert health["message"] == f"Waiting for the operator to observe generation {GENERATION + 1}"


def test_without_use_open_libs_argocd_cannot_run_the_paused_check(
    argocd_health: Path, tmp_path: Path
) -> None:
    """Argo CD's default gives health scripts no `string` library: the patch must open it."""
    patch = yaml.safe_load(ARGOCD_CM_PATCH.read_text())
    for kind in KINDS:
        del patch["data"][open_libs_key(kind)]
    closed = tmp_path / "argocd-cm.yaml"
    closed.write_text(yaml.safe_dump(patch))
    paused = {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "Rotation",
        "metadata": {
            "name": "weekly",
            "generation": 1,
            "annotations": {"oncall.dev/paused": "true"},
        },
    }

    result = evaluate(argocd_health, [paused], argocd_cm=closed)

    assert result.returncode == 1
    assert "'lower'" in result.stderr  # string.lower: `string` is nil without open libraries
    assert evaluate(argocd_health, [paused]).returncode == 0  # the patch as shipped runs it


def test_the_tool_refuses_a_file_that_is_not_argocd_cm(argocd_health: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-rbac-cm\n")

    result = evaluate(argocd_health, [], argocd_cm=other)

    assert result.returncode == 1
    assert "expected the ConfigMap argocd-cm" in result.stderr
