"""ControlPlane's own lifecycle: it retries a port lost to a race and never signals a pid it did not start."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from oncall_testbed.controlplane import ControlPlane, find_binaries
from oncall_testbed.controlplane import server as server_module


def test_stop_leaves_a_recorded_pid_alone_when_it_is_not_ours(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / "state.json").write_text(
            json.dumps(
                {"server_url": "https://127.0.0.1:1", "pids": {"kube-apiserver": stranger.pid}}
            )
        )
        plane = ControlPlane(tmp_path)
        assert not plane.is_running()
        plane.stop()
        assert stranger.poll() is None
        assert not (tmp_path / "state.json").exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_server_url_of_a_stopped_plane_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(server_module.ControlPlaneNotRunning, match="no control plane is running"):
        _ = ControlPlane(tmp_path).server_url


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.controlplane
def test_a_port_taken_between_choice_and_bind_is_retried(
    tmp_path: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_free_port = server_module.free_port
    handed_out: list[int] = []

    def first_one_taken() -> int:
        port = taken_port if not handed_out else real_free_port()
        handed_out.append(port)
        return port

    monkeypatch.setattr(server_module, "free_port", first_one_taken)
    with ControlPlane(tmp_path, binaries=find_binaries(), die_with_parent=True) as plane:
        assert plane.is_running()
        assert (
            f"127.0.0.1:{taken_port}"
            not in json.loads((tmp_path / "state.json").read_text())["etcd_url"]
        )
    assert handed_out[0] == taken_port
    assert "address already in use" in (tmp_path / "logs" / "etcd.log").read_text()
