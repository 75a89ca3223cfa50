"""Start and stop etcd + kube-apiserver on loopback, with state, keys, kubeconfigs and logs in one directory.

    with ControlPlane(tmp_dir, binaries=ensure_binaries(build=True)) as plane:
        client = kubernetes.config.new_client_from_config(str(plane.admin_kubeconfig))

The processes run in their own session, so `start()` can return and leave them running for a
later `stop()` from another process (`oncall-testbed controlplane up` / `down`); state.json
records their pids and stop() only signals a pid whose command line names this state dir.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from oncall_testbed.controlplane.binaries import Binaries, ControlPlaneError, find_binaries
from oncall_testbed.controlplane.kubeconfig import write_kubeconfig
from oncall_testbed.controlplane.pki import ADMIN, IDENTITIES, OPERATOR, Identity, Pki

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
READY_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 15.0
PORT_ATTEMPTS = 3  # free_port() can race with another process on a busy machine
_PR_SET_PDEATHSIG = 1


class PortTaken(ControlPlaneError):
    """A loopback port chosen as free was taken before etcd or kube-apiserver bound it."""


class ControlPlaneNotRunning(ControlPlaneError):
    """An address or kubeconfig of a control plane was asked for while it is stopped."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the starting process dies (test runs)."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ControlPlane:
    def __init__(
        self,
        state_dir: Path | str,
        binaries: Binaries | None = None,
        *,
        die_with_parent: bool = False,
        ready_timeout: float = READY_TIMEOUT_SECONDS,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self._binaries = binaries
        self._die_with_parent = die_with_parent
        self._ready_timeout = ready_timeout
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._log_offsets: dict[str, int] = {}
        self.pki = Pki(self.state_dir / "pki")

    @property
    def binaries(self) -> Binaries:
        """The binaries given, else found as envtest finds them (kubectl for callers too)."""
        if self._binaries is None:
            self._binaries = find_binaries()
        return self._binaries

    # -- paths ---------------------------------------------------------------------------
    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def ca_file(self) -> Path:
        return self.pki.ca_cert

    @property
    def admin_kubeconfig(self) -> Path:
        return self.kubeconfig(ADMIN)

    @property
    def operator_kubeconfig(self) -> Path:
        return self.kubeconfig(OPERATOR)

    def kubeconfig(self, identity: Identity) -> Path:
        return self.state_dir / f"{identity.name}.kubeconfig"

    @property
    def server_url(self) -> str:
        state = self._read_state()
        if state is None:
            raise ControlPlaneNotRunning(f"no control plane is running in {self.state_dir}")
        return str(state["server_url"])

    @property
    def _state_file(self) -> Path:
        return self.state_dir / "state.json"

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def is_running(self) -> bool:
        state = self._read_state()
        return state is not None and all(self._owns(pid) for pid in state["pids"].values())

    def start(self, progress: Callable[[str], None] | None = None) -> None:
        """Start etcd and kube-apiserver and return once /readyz answers ok; reuse a running one."""
        if self.is_running():
            self._wait_ready(self.server_url)
            return
        binaries = self.binaries
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        self.pki.ensure()
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.stop()  # leftovers of a crashed run or of the attempt before
            try:
                self._start_once(binaries, progress)
                return
            except PortTaken:
                if attempt == PORT_ATTEMPTS:
                    raise

    def _start_once(self, binaries: Binaries, progress: Callable[[str], None] | None) -> None:
        etcd_url = f"http://127.0.0.1:{free_port()}"
        server_url = f"https://127.0.0.1:{free_port()}"
        for identity in IDENTITIES:
            write_kubeconfig(
                self.kubeconfig(identity),
                server_url=server_url,
                ca_file=self.ca_file,
                user=identity.name,
                token=self.pki.token(identity),
            )
        started = time.monotonic()
        self._spawn("etcd", self._etcd_command(binaries.etcd, etcd_url))
        self._spawn(
            "kube-apiserver", self._apiserver_command(binaries.kube_apiserver, etcd_url, server_url)
        )
        self._write_state(server_url, etcd_url)
        try:
            self._wait_ready(server_url)
        except ControlPlaneError:
            self.stop()
            raise
        if progress:
            progress(f"control plane ready at {server_url} in {time.monotonic() - started:.1f}s")

    def stop(self) -> None:
        """Stop the processes this state dir records (API server first) and forget them."""
        state = self._read_state()
        pids: dict[str, int] = dict(state["pids"]) if state else {}
        for name in ("kube-apiserver", "etcd"):
            child = self._children.pop(name, None)
            pid = pids.get(name, child.pid if child else None)
            if pid is not None and (child is not None or self._owns(pid)):
                _terminate(pid, child)
        self._state_file.unlink(missing_ok=True)
        shutil.rmtree(self.state_dir / "etcd-data", ignore_errors=True)

    # -- processes -----------------------------------------------------------------------
    def _etcd_command(self, etcd: Path, client_url: str) -> list[str]:
        peer_url = f"http://127.0.0.1:{free_port()}"
        return [
            str(etcd),
            "--name=default",
            f"--data-dir={self.state_dir / 'etcd-data'}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            "--unsafe-no-fsync=true",  # throwaway data: fsync only slows tests down
        ]

    def _apiserver_command(self, apiserver: Path, etcd_url: str, server_url: str) -> list[str]:
        port = server_url.rsplit(":", 1)[1]
        return [
            str(apiserver),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            # the endpoint reconciler refuses a loopback address; nothing here needs the endpoints
            "--endpoint-reconciler-type=none",
            f"--secure-port={port}",
            f"--tls-cert-file={self.pki.serving_cert}",
            f"--tls-private-key-file={self.pki.serving_key}",
            f"--client-ca-file={self.pki.ca_cert}",
            "--authorization-mode=RBAC",
            f"--token-auth-file={self.pki.token_file}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={self.pki.service_account_public_key}",
            f"--service-account-signing-key-file={self.pki.service_account_key}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--allow-privileged=true",
            # no controller-manager mints ServiceAccount tokens here (as in envtest)
            "--disable-admission-plugins=ServiceAccount",
            "--profiling=false",
        ]

    def _spawn(self, name: str, command: list[str]) -> None:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            self._log_offsets[name] = log.tell()
            self._children[name] = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                start_new_session=True,  # survives the command that started it; Ctrl-C does not reach it
                preexec_fn=_die_with_parent if self._die_with_parent else None,  # noqa: PLW1509
            )

    def _owns(self, pid: int) -> bool:
        """True when pid is alive and its command line names this state dir (not a reused pid)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        return str(self.state_dir).encode() in cmdline and "\nState:\tZ" not in status

    def _wait_ready(self, server_url: str) -> None:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        request = urllib.request.Request(  # noqa: S310 - https URL this class built
            f"{server_url}/readyz", headers={"Authorization": f"Bearer {self.pki.token(ADMIN)}"}
        )
        deadline = time.monotonic() + self._ready_timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            for name, child in self._children.items():
                if child.poll() is not None:
                    tail = self._log_tail(name)
                    error = PortTaken if "address already in use" in tail else ControlPlaneError
                    raise error(
                        f"{name} exited with code {child.returncode} during startup:\n{tail}"
                    )
            try:
                with urllib.request.urlopen(request, context=context, timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError) as error:
                last_error = str(error)
            time.sleep(0.25)
        raise ControlPlaneError(
            f"kube-apiserver at {server_url} not ready after {self._ready_timeout:.0f}s ({last_error}); "
            f"logs in {self.log_dir}:\n{self._log_tail('kube-apiserver')}"
        )

    def _log_tail(self, name: str, lines: int = 30) -> str:
        """The last lines this start wrote to name's log (earlier starts' lines are left out)."""
        log = self.log_dir / f"{name}.log"
        if not log.exists():
            return ""
        with log.open("rb") as file:
            file.seek(self._log_offsets.get(name, 0))
            return "\n".join(file.read().decode(errors="replace").splitlines()[-lines:])

    # -- state ---------------------------------------------------------------------------
    def _write_state(self, server_url: str, etcd_url: str) -> None:
        state = {
            "server_url": server_url,
            "etcd_url": etcd_url,
            "pids": {name: child.pid for name, child in self._children.items()},
        }
        self._state_file.write_text(json.dumps(state, indent=2) + "\n")

    def _read_state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] = json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return None
        return state


def _terminate(pid: int, child: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT_SECONDS; reaps it when it is our child."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if _wait_gone(pid, child, STOP_TIMEOUT_SECONDS):
            return


def _wait_gone(pid: int, child: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    if child is not None:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return True
        if "\nState:\tZ" in status:
            return True  # exited; its parent (init) reaps it
        time.sleep(0.1)
    return False
