"""`oncall-testbed controlplane up|env|status|down` as a user runs it, and what it says without binaries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oncall_testbed.controlplane import ControlPlane, find_binaries
from oncall_testbed.controlplane.pki import Pki


def controlplane(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oncall_testbed.cli", "controlplane", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )


def test_without_binaries_and_without_go_up_says_so_and_how_to_get_them(tmp_path: Path) -> None:
    go_free_path = os.pathsep.join(
        entry for entry in os.environ["PATH"].split(os.pathsep) if not (Path(entry) / "go").exists()
    )
    env = {"PATH": go_free_path, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    result = controlplane("up", "--state-dir", str(tmp_path / "cp"), env=env)
    assert result.returncode == 1
    assert "kube-apiserver, etcd, kubectl not found" in result.stderr
    assert "Go is not installed here, so they cannot be built" in result.stderr
    assert "oncall-testbed controlplane build" in result.stderr
    assert not (tmp_path / "cp" / "state.json").exists()


def test_env_refuses_when_nothing_runs(tmp_path: Path) -> None:
    result = controlplane("env", "--state-dir", str(tmp_path))
    assert result.returncode == 1
    assert "not running" in result.stderr
    assert result.stdout == ""


@pytest.mark.controlplane
def test_up_env_status_down(tmp_path: Path) -> None:
    find_binaries()  # the marker's skip covers a machine without them; this run must not build
    state_dir = tmp_path / "cp"
    up = controlplane("up", "--state-dir", str(state_dir))
    try:
        assert up.returncode == 0, up.stderr
        assert "control plane ready at https://127.0.0.1:" in up.stdout

        as_admin = controlplane("env", "--state-dir", str(state_dir))
        assert as_admin.stdout == f"export KUBECONFIG={state_dir / 'admin.kubeconfig'}\n"
        as_operator = controlplane("env", "--as-operator", "--state-dir", str(state_dir))
        assert as_operator.stdout == f"export KUBECONFIG={state_dir / 'operator.kubeconfig'}\n"
        pki = Pki(state_dir / "pki")
        for output in (up.stdout + up.stderr, as_admin.stdout, as_operator.stdout):
            assert pki.token_file.read_text().split(",")[0] not in output

        status = controlplane("status", "--state-dir", str(state_dir))
        assert status.returncode == 0
        assert "running at https://127.0.0.1:" in status.stdout

        again = controlplane(
            "up", "--state-dir", str(state_dir)
        )  # idempotent: reuses the running one
        assert again.returncode == 0, again.stderr
        assert (state_dir / "logs" / "kube-apiserver.log").stat().st_size > 0
        assert (state_dir / "logs" / "etcd.log").stat().st_size > 0
    finally:
        down = controlplane("down", "--state-dir", str(state_dir))
    assert down.returncode == 0, down.stderr
    assert "stopped" in down.stdout
    assert not ControlPlane(state_dir).is_running()
    assert controlplane("status", "--state-dir", str(state_dir)).returncode == 1
