"""The pre-commit hook definition and the CI workflow example run the commands as documented."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncall_operator import cli
from tests.gitops.manifests import dump, layer, policy, rotation, team

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "pull-request.yml"


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["oncall-validate"]
    found: dict[str, Any] = hooks[0]
    return found


def test_the_pre_commit_hook_runs_validate_on_the_whole_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = hook()
    command = [*definition["entry"].split()[1:], *definition["args"]]
    assert definition["entry"].split()[0] == "oncall-operator"  # the package's console script
    assert definition["language"] == "python" and definition["pass_filenames"] is False
    assert re.search(definition["files"], "oncall/teams.yaml")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(dump(team(), rotation(), policy()))

    assert cli.main(command) == 0

    (tmp_path / "broken.yaml").write_text(dump(rotation("r2", layer=layer(shiftLength="5m"))))
    assert cli.main(command) == 1
    assert "broken.yaml:0: Rotation/r2: spec.layers[0].shiftLength" in capsys.readouterr().out


def steps(job: str) -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    found: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return found


def test_the_workflow_validates_then_plans() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())

    assert workflow["jobs"]["plan"]["needs"] == "validate"
    assert any(
        'oncall-operator validate "$MANIFESTS"' in s.get("run", "") for s in steps("validate")
    )
    assert any("gh pr comment" in s.get("run", "") for s in steps("plan"))


@pytest.mark.parametrize(("plan_exit", "step_exit"), [(0, 0), (2, 0), (1, 1)])
def test_the_plan_step_passes_on_changes_and_fails_on_errors(
    tmp_path: Path, plan_exit: int, step_exit: int
) -> None:
    script = next(s["run"] for s in steps("plan") if s.get("id") == "plan")
    fake = tmp_path / "bin" / "oncall-operator"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho \"+ create PagerDuty team 't'\"\nexit {plan_exit}\n")
    fake.chmod(0o755)
    output = tmp_path / "github-output"
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output), "MANIFESTS": "oncall/"}  # fmt: skip

    result = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)  # fmt: skip

    assert result.returncode == step_exit, result.stderr
    assert output.read_text() == f"exitcode={plan_exit}\n"
    assert (tmp_path / "plan.txt").read_text() == "+ create PagerDuty team 't'\n"
