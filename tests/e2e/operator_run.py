"""`oncall-operator run` as a subprocess, the way a pod runs it: its own process, a kubeconfig of
the operator's identity, PagerDuty's URL and token in the environment, a log file of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

STARTED_WITHIN_SECONDS = 60.0
STOPPED_WITHIN_SECONDS = 15.0
# Our own variables are set by the test; a developer's shell must not leak into the operator.
_OURS = ("PAGERDUTY_", "ONCALL_", "KUBECONFIG")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OperatorProcess:
    """One operator at a time: start(), stop(kill=...), restart(**env), the log, liveness, metrics."""

    def __init__(self, log_file: Path, env: Mapping[str, str]) -> None:
        self.log_file = log_file
        self.base_env = dict(env)
        self.env: dict[str, str] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self.liveness_port = 0
        self.metrics_port = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, **env: str) -> None:
        """Start with the base environment plus `env`; return once the liveness endpoint answers."""
        if self.running:
            raise RuntimeError("the operator is already running")
        self.liveness_port, self.metrics_port = free_port(), free_port()
        self.env = {**self.base_env, **env}
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
        full_env.update(self.env)
        full_env["ONCALL_LIVENESS_PORT"] = str(self.liveness_port)
        full_env["ONCALL_METRICS_PORT"] = str(self.metrics_port)
        full_env["PYTHONUNBUFFERED"] = "1"
        with self.log_file.open("ab") as log:
            log.write(f"==== operator start {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "oncall_operator.cli",
                    "run",
                    "--listen-address",
                    "127.0.0.1",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
            )
        deadline = time.monotonic() + STARTED_WITHIN_SECONDS
        while not self.alive():
            if not self.running:
                raise AssertionError(f"the operator exited at start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the operator's /healthz did not answer:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self, kill: bool = False) -> None:
        """SIGTERM and wait (kopf finishes what it is doing), or SIGKILL at once (a crash)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(STOPPED_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, kill: bool = False, **env: str) -> None:
        self.stop(kill=kill)
        self.start(**env)

    def alive(self) -> bool:
        return self._get(self.liveness_port, "/healthz") is not None

    def metrics(self) -> str:
        text = self._get(self.metrics_port, "/metrics")
        if text is None:
            raise AssertionError("the operator's /metrics did not answer")
        return text

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def log_size(self) -> int:
        return self.log_file.stat().st_size if self.log_file.exists() else 0

    def log_since(self, offset: int) -> str:
        with self.log_file.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    @staticmethod
    def _get(port: int, path: str) -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                body: bytes = response.read()
                return body.decode() if response.status == 200 else None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None


def metric_total(metrics_text: str, name: str, **labels: str) -> float:
    """The sum of a counter's samples whose labels include `labels` (0 when it has none yet)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def assert_clean_log(operator: OperatorProcess, token: str) -> None:
    """Nothing the API server refused, and the PagerDuty token nowhere in the operator's log."""
    log = operator.log()
    refused = [line for line in log.splitlines() if "Forbidden" in line or " 403" in line]
    assert refused == [], "the operator was refused:\n" + "\n".join(refused[:20])
    assert token not in log, "the PagerDuty token is in the operator's log"


def assert_no_traceback(operator: OperatorProcess, since: int) -> None:
    """No unhandled exception in the operator's log since byte `since`."""
    log = operator.log_since(since)
    assert "Traceback" not in log, "an unhandled exception in the operator's log:\n" + log[-6000:]
