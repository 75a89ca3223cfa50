"""`oncall-testbed demo`: the whole product on this machine in one command.

Builds or finds the control plane, starts it, the PagerDuty emulator (users seeded from
examples/users.yaml) and the operator (as its ServiceAccount, with the RBAC from deploy/);
applies crds/ and examples/; waits for Ready; prints the resources and, from PagerDuty, who is
on call this week and next. Everything keeps running in the background until `--down`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

DEMO_DIR = Path(".demo")
KINDS = "oncallteams.oncall.dev,rotations.oncall.dev,escalationpolicies.oncall.dev"
RBAC_KINDS = {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"}
READY_TIMEOUT_SECONDS = 240.0


class DemoError(RuntimeError):
    """A step of the demo could not be done; the message says what is missing and how to get it."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", type=Path, default=DEMO_DIR, help="state directory (default .demo)"
    )
    parser.add_argument("--down", action="store_true", help="stop everything the demo started")
    parser.add_argument(
        "--examples",
        type=Path,
        default=Path("examples"),
        help="manifests to apply (default examples/)",
    )


def main(args: argparse.Namespace) -> int:
    demo = Demo(args.dir.resolve(), args.examples.resolve())
    try:
        if args.down:
            demo.down()
        else:
            demo.up()
    except DemoError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1
    return 0


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Demo:
    def __init__(self, state_dir: Path, examples: Path) -> None:
        self.dir = state_dir
        self.examples = examples
        self.repo = Path.cwd()
        self.testbed_cli = [sys.executable, "-m", "oncall_testbed.cli"]
        self.operator_cli = [sys.executable, "-m", "oncall_operator.cli"]

    # -- lifecycle -----------------------------------------------------------------------
    def up(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        from oncall_testbed.controlplane import ControlPlane, ensure_binaries

        say(
            "control plane: finding kube-apiserver, etcd and kubectl (a first build from source takes several minutes)"
        )
        try:
            binaries = ensure_binaries(build=True, progress=say)
        except Exception as error:  # the control plane explains what is missing and how to get it
            raise DemoError(str(error)) from error
        self.kubectl_path = str(binaries.kubectl)
        plane = ControlPlane(self.dir / "controlplane", binaries=binaries)
        say("control plane: starting etcd and kube-apiserver on loopback")
        plane.start()
        self.admin_kubeconfig = Path(plane.admin_kubeconfig)
        self.operator_kubeconfig = Path(plane.operator_kubeconfig)

        self.start_emulator()
        say("applying crds/")
        self.kubectl("apply", "-f", str(self.repo / "crds"))
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        say("applying the operator's RBAC from deploy/base (it runs as its ServiceAccount)")
        self.apply_rbac()
        self.start_operator()
        say(
            f"applying {self.examples.relative_to(self.repo) if self.examples.is_relative_to(self.repo) else self.examples}"
        )
        manifests = self.example_manifests()
        for path in manifests:
            self.kubectl("apply", "-f", str(path))
        self.wait_ready()
        self.show()

    def down(self) -> None:
        for name in ("operator", "emulator"):
            self.stop_process(name)
        plane_dir = self.dir / "controlplane"
        if plane_dir.exists():
            from oncall_testbed.controlplane import ControlPlane

            ControlPlane(plane_dir).stop()
        say("demo stopped")

    # -- parts ---------------------------------------------------------------------------
    def start_emulator(self) -> None:
        self.stop_process("emulator")
        token_file = self.dir / "pagerduty-token"
        if not token_file.exists():
            token_file.write_text(secrets.token_urlsafe(24))
            token_file.chmod(0o600)
        self.token = token_file.read_text().strip()
        port = free_port()
        self.ca_file = self.dir / "emulator-ca.pem"
        self.ca_file.unlink(missing_ok=True)
        self.api_url = f"https://127.0.0.1:{port}"
        say(f"PagerDuty emulator: starting on {self.api_url} (users from examples/users.yaml)")
        self.spawn(
            "emulator",
            [
                *self.testbed_cli,
                "emulator",
                "--port",
                str(port),
                "--token",
                self.token,
                "--users",
                str(self.examples / "users.yaml"),
                "--ca-file",
                str(self.ca_file),
                "--state",
                str(self.dir / "emulator-state.json"),
            ],
            env={},
        )
        deadline = time.monotonic() + 30
        while not self.ca_file.exists():
            if time.monotonic() > deadline:
                raise DemoError(f"the emulator did not start; see {self.dir / 'emulator.log'}")
            time.sleep(0.2)

    def apply_rbac(self) -> None:
        rendered = self.kubectl("kustomize", str(self.repo / "deploy" / "base"), capture=True)
        rbac = [
            doc for doc in yaml.safe_load_all(rendered) if doc and doc.get("kind") in RBAC_KINDS
        ]
        if not rbac:
            raise DemoError("deploy/base renders no RBAC objects")
        self.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(rbac))

    def start_operator(self) -> None:
        self.stop_process("operator")
        say(
            "operator: starting `oncall-operator run` as system:serviceaccount:oncall-operator:oncall-operator"
        )
        self.metrics_port, self.liveness_port = free_port(), free_port()
        self.spawn(
            "operator",
            [*self.operator_cli, "run"],
            env={
                "KUBECONFIG": str(self.operator_kubeconfig),
                "PAGERDUTY_API_TOKEN": self.token,
                "PAGERDUTY_API_URL": self.api_url,
                "PAGERDUTY_CA_FILE": str(self.ca_file),
                "ONCALL_METRICS_PORT": str(self.metrics_port),
                "ONCALL_LIVENESS_PORT": str(self.liveness_port),
                "ONCALL_DRIFT_INTERVAL_SECONDS": "60",
            },
        )

    def example_manifests(self) -> list[Path]:
        """Every manifest of on-call objects under examples/, namespaces first; not the emulator's
        users file, not the adopt example, not installation examples (External Secrets, ...)."""
        files = sorted(
            p
            for p in self.examples.rglob("*.yaml")
            if p.name != "users.yaml" and "adopt" not in p.parts and _only_oncall_objects(p)
        )
        return sorted(files, key=lambda p: (not _has_kind(p, "Namespace"), str(p)))

    def wait_ready(self) -> None:
        say("waiting for every resource to become Ready")
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        pending: list[str] = []
        while time.monotonic() < deadline:
            items = json.loads(self.kubectl("get", KINDS, "-A", "-o", "json", capture=True))[
                "items"
            ]
            pending = [
                f"{i['kind']} {i['metadata']['namespace']}/{i['metadata']['name']}: {_ready_message(i)}"
                for i in items
                if not _is_ready(i) and not _is_paused(i)
            ]
            if items and not pending:
                say(f"all {len(items)} resources are Ready")
                return
            time.sleep(2)
        raise DemoError(
            "not Ready in time:\n  "
            + "\n  ".join(pending)
            + f"\noperator log: {self.dir / 'operator.log'}"
        )

    def show(self) -> None:
        print(self.kubectl("get", KINDS, "-A", capture=True), flush=True)
        self.show_on_call()
        print(
            f"\nThe demo keeps running.\n"
            f"  export KUBECONFIG={self.admin_kubeconfig}\n"
            f"  {self.kubectl_path} get rotations -A\n"
            f"  logs: {self.dir}/operator.log, {self.dir}/emulator.log\n"
            f"  stop: make demo-down",
            flush=True,
        )

    def show_on_call(self) -> None:
        from oncall_operator.pagerduty import PagerDutyClient

        client = PagerDutyClient(self.token, api_url=self.api_url, ca_file=str(self.ca_file))
        try:
            items = json.loads(
                self.kubectl("get", "rotations.oncall.dev", "-A", "-o", "json", capture=True)
            )["items"]
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            week_start = now - dt.timedelta(days=now.weekday())
            week_start = week_start.replace(hour=0, minute=0, second=0)
            for item in items:
                schedule_id = ((item.get("status") or {}).get("pagerduty") or {}).get("id")
                if not schedule_id:
                    continue
                schedule = client.get_schedule(
                    schedule_id, since=week_start, until=week_start + dt.timedelta(days=14)
                )
                print(
                    f"\nPagerDuty schedule {schedule.get('name')} ({schedule_id}), {schedule.get('time_zone')}:"
                )
                for label, offset in (("this week", 0), ("next week", 7)):
                    start = week_start + dt.timedelta(days=offset)
                    end = start + dt.timedelta(days=7)
                    people = _people_between(schedule, start, end)
                    print(f"  {label:9} ({start:%Y-%m-%d}): {', '.join(people) or 'nobody'}")
        finally:
            client.close()

    # -- process and kubectl helpers -------------------------------------------------------------
    def kubectl(self, *args: str, capture: bool = False, stdin: str | None = None) -> str:
        command = [self.kubectl_path, f"--kubeconfig={self.admin_kubeconfig}", *args]
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DemoError(f"kubectl {' '.join(args)} failed:\n{result.stderr.strip()}")
        if not capture and result.stdout.strip():
            print(result.stdout.rstrip(), flush=True)
        return result.stdout

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
        )
        (self.dir / f"{name}.pid").write_text(str(process.pid))

    def stop_process(self, name: str) -> None:
        pid_file = self.dir / f"{name}.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        pid_file.unlink(missing_ok=True)


def _only_oncall_objects(path: Path) -> bool:
    """Every document is an oncall.dev object or a Namespace (what the demo's cluster serves)."""
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return bool(docs) and all(
        str(doc.get("apiVersion", "")).startswith("oncall.dev/") or doc.get("kind") == "Namespace"
        for doc in docs
    )


def _has_kind(path: Path, kind: str) -> bool:
    return any(doc and doc.get("kind") == kind for doc in yaml.safe_load_all(path.read_text()))


def _ready_condition(item: dict[str, Any]) -> dict[str, Any]:
    conditions = (item.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})


def _is_ready(item: dict[str, Any]) -> bool:
    return _ready_condition(item).get("status") == "True" and (item.get("status") or {}).get(
        "observedGeneration"
    ) == item["metadata"].get("generation")


def _is_paused(item: dict[str, Any]) -> bool:
    return _ready_condition(item).get("reason") == "Paused"


def _ready_message(item: dict[str, Any]) -> str:
    condition = _ready_condition(item)
    return f"{condition.get('reason', 'NotObserved')}: {condition.get('message', 'no status yet')}"


def _people_between(schedule: dict[str, Any], start: dt.datetime, end: dt.datetime) -> list[str]:
    """Who the rendered final schedule has on call in [start, end), in order of first shift."""
    entries = (schedule.get("final_schedule") or {}).get("rendered_schedule_entries") or []
    people: list[str] = []
    for entry in entries:
        entry_start = dt.datetime.fromisoformat(entry["start"])
        entry_end = dt.datetime.fromisoformat(entry["end"])
        user = entry.get("user") or {}
        who = user.get("summary") or user.get("email") or user.get("id", "?")
        if entry_start < end and entry_end > start and who not in people:
            people.append(who)
    return people
