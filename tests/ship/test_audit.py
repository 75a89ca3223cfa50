"""pip-audit over the operator's runtime dependencies: every distribution the installed
oncall-operator pulls in (no extras), pinned at its installed version, checked against PyPI's
advisory data (pip-audit's `pypi` service) with --strict, so a dependency it cannot audit fails
too. `make audit` runs just this.

pip-audit's `pypi` service reads https://pypi.org/pypi/NAME/VERSION/json; where that is not
reachable (a PyPI mirror that serves only the simple index) the audit is skipped, with the
reason in pytest's summary, never passed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.ship.test_image import RUNTIME_DEPENDENCIES

PROBE = "https://pypi.org/pypi/pip/24.0/json"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure(root: str = "oncall-operator") -> dict[str, str]:
    """Name -> installed version of every distribution `root` needs at run time."""
    found: dict[str, str] = {}
    pending = [root]
    while pending:
        name = pending.pop()
        key = canonical(name)
        if key in found:
            continue
        dist = distribution(name)
        found[key] = dist.version
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            pending.append(requirement.name)
    del found[canonical(root)]
    return found


def test_the_closure_holds_every_declared_runtime_dependency_and_no_test_tool() -> None:
    closure = runtime_closure()
    assert {canonical(n) for n in RUNTIME_DEPENDENCIES} <= closure.keys()
    for test_tool in ("pytest", "kubernetes", "hypothesis", "pip-audit", "oncall-testbed"):
        assert test_tool not in closure


def advisory_service_problem() -> str | None:
    try:
        with urllib.request.urlopen(PROBE, timeout=20) as answer:
            answer.read(1)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return f"PyPI's JSON API for pip-audit's pypi service is not reachable here ({error})"
    return None


def test_pip_audit_finds_no_known_vulnerability(tmp_path: Path) -> None:
    problem = advisory_service_problem()
    if problem:
        pytest.skip(problem)
    requirements = tmp_path / "runtime-requirements.txt"
    requirements.write_text(
        "".join(f"{name}=={version}\n" for name, version in sorted(runtime_closure().items()))
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "pip-audit"),
            "--strict",
            "--vulnerability-service",
            "pypi",
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
