"""`oncall-testbed bench` (also `oncall-operator bench`, `make bench`): the operator at scale.

N teams, each an OnCallTeam of 7 members, a BusinessHours and an OutOfHours weekly Rotation fed
by it, and an EscalationPolicy with two rules, applied to the project's control plane with
`oncall-operator run` (its own process) against the PagerDuty emulator (rate-limited as PagerDuty
is). Measured from outside: time to all Ready, apply→Ready p50/p99, PagerDuty requests during
convergence against the floor (writes + ceil(users/100) + ceil(objects/100)), three drift
intervals at rest (PagerDuty writes and reads, Kubernetes writes, the busiest minute of reads
against the read budget), spec edits' apply→Ready, the operator's peak RSS and CPU. Prints a
table and writes JSON under benchmarks/results/. Bounded: every wait has a deadline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from oncall_testbed.emulator import EmulatorServer

KINDS = "oncallteams.oncall.dev,rotations.oncall.dev,escalationpolicies.oncall.dev"
NAMESPACE = "bench"
MEMBERS_PER_TEAM = 7
PAGE = 100
WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """The bench could not run or a bound was exceeded; the message says what."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teams", type=int, default=30, help="number of teams (default 30)")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=960,
        help="the emulator's requests per minute, as PagerDuty's account limit (default 960)",
    )
    parser.add_argument(
        "--operator-rate-limit",
        type=int,
        default=900,
        help="PAGERDUTY_RATE_LIMIT of the operator (default 900)",
    )
    parser.add_argument(
        "--drift-interval",
        type=float,
        default=60.0,
        help="ONCALL_DRIFT_INTERVAL_SECONDS; at rest is measured over three (default 60)",
    )
    parser.add_argument(
        "--read-budget", type=int, default=60, help="ONCALL_READ_BUDGET_PER_MINUTE (default 60)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="give up when not all Ready after this many seconds (default 600)",
    )
    parser.add_argument("--edits", type=int, default=5, help="spec edits timed at rest")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("benchmarks/results"),
        help="directory of the JSON results (default benchmarks/results)",
    )


def main(args: argparse.Namespace) -> int:
    if args.teams < 1:
        print("bench: --teams must be at least 1", file=sys.stderr)
        return 2
    try:
        result = Bench(args).run()
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    print(table(result), flush=True)
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"bench-{args.teams}-teams.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"\nwritten: {path}")
    return 0


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the workload ---------------------------------------------------------------------------


def user_email(team: int, member: int) -> str:
    return f"t{team}-m{member}@bench.example.com"


def users(teams: int) -> list[dict[str, str]]:
    return [
        {"name": f"Team {t} member {m}", "email": user_email(t, m), "time_zone": "Europe/Dublin"}
        for t in range(teams)
        for m in range(MEMBERS_PER_TEAM)
    ]


def manifests(team: int) -> list[dict[str, Any]]:
    """One team's four objects, the shape the issue measures."""
    name = f"t{team}"
    meta = {"namespace": NAMESPACE}

    def rotation(suffix: str, coverage: str) -> dict[str, Any]:
        return {
            "apiVersion": "oncall.dev/v1alpha1",
            "kind": "Rotation",
            "metadata": {**meta, "name": f"{name}-{suffix}"},
            "spec": {
                "teamRef": {"name": name},
                "timeZone": "Europe/Dublin",
                "layers": [
                    {
                        "name": "primary",
                        "participants": {"fromTeam": {"roles": ["responder"]}},
                        "shiftLength": "1w",
                        "handoff": "2026-11-30T09:00:00",
                        "coverage": coverage,
                    }
                ],
            },
        }

    return [
        {
            "apiVersion": "oncall.dev/v1alpha1",
            "kind": "OnCallTeam",
            "metadata": {**meta, "name": name},
            "spec": {"members": [{"email": user_email(team, m)} for m in range(MEMBERS_PER_TEAM)]},
        },
        rotation("business", "BusinessHours"),
        rotation("ooh", "OutOfHours"),
        {
            "apiVersion": "oncall.dev/v1alpha1",
            "kind": "EscalationPolicy",
            "metadata": {**meta, "name": f"{name}-alerts"},
            "spec": {
                "teamRef": {"name": name},
                "rules": [
                    {
                        "escalateAfterMinutes": 15,
                        "targets": [
                            {"rotationRef": {"name": f"{name}-business"}},
                            {"rotationRef": {"name": f"{name}-ooh"}},
                        ],
                    },
                    {
                        "escalateAfterMinutes": 30,
                        "targets": [{"user": {"email": user_email(team, 0)}}],
                    },
                ],
            },
        },
    ]


# -- the run ----------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.teams = int(args.teams)
        self.objects = 4 * self.teams
        self.work = Path(tempfile.mkdtemp(prefix="oncall-bench-"))
        self.requests: list[dict[str, Any]] = []
        self.operator: subprocess.Popen[bytes] | None = None

    def run(self) -> dict[str, Any]:
        from oncall_testbed.controlplane import ControlPlane, ensure_binaries

        say(f"{self.teams} teams ({self.objects} objects); work files in {self.work}")
        binaries = ensure_binaries(build=True, progress=say)
        self.kubectl_path = str(binaries.kubectl)
        plane = ControlPlane(self.work / "controlplane", binaries=binaries)
        token = secrets.token_hex(16)
        emulator = EmulatorServer(
            token, users=users(self.teams), rate_limit_per_minute=self.args.rate_limit
        )
        try:
            plane.start()
            self.kubeconfig = Path(plane.admin_kubeconfig)
            emulator.start()
            self.emulator = emulator
            self.prepare_cluster()
            self.start_operator(emulator)
            return self.measure()
        finally:
            self.stop_operator()
            emulator.stop()
            plane.stop()
            shutil.rmtree(self.work, ignore_errors=True)

    def prepare_cluster(self) -> None:
        repo = Path.cwd()
        self.kubectl("apply", "--server-side", "-f", str(repo / "crds"))
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        self.kubectl("create", "namespace", NAMESPACE)
        # Right after the CRDs are made the API server answers their lists 429 "storage is
        # (re)initializing" for a while; the operator starts once they list.
        deadline = time.monotonic() + 60
        while True:
            try:
                self.items()
                return
            except BenchError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def start_operator(self, emulator: EmulatorServer) -> None:
        self.metrics_port, liveness = _free_port(), _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PAGERDUTY_", "ONCALL_"))}
        env.update(
            {
                "KUBECONFIG": str(self.kubeconfig),
                "PAGERDUTY_API_TOKEN": emulator.token,
                "PAGERDUTY_API_URL": emulator.base_url,
                "PAGERDUTY_CA_FILE": str(emulator.ca_file),
                "PAGERDUTY_RATE_LIMIT": str(self.args.operator_rate_limit),
                "ONCALL_DRIFT_INTERVAL_SECONDS": str(self.args.drift_interval),
                "ONCALL_READ_BUDGET_PER_MINUTE": str(self.args.read_budget),
                "ONCALL_METRICS_PORT": str(self.metrics_port),
                "ONCALL_LIVENESS_PORT": str(liveness),
                "ONCALL_WATCH_NAMESPACES": NAMESPACE,
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.operator_log = self.work / "operator.log"
        with self.operator_log.open("wb") as log:
            self.operator = subprocess.Popen(
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
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not _answers(liveness, "/healthz"):
            if self.operator.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"the operator did not start:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop_operator(self) -> None:
        if self.operator is not None and self.operator.poll() is None:
            os.killpg(self.operator.pid, signal.SIGTERM)
            try:
                self.operator.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.operator.pid, signal.SIGKILL)
                self.operator.wait()

    def measure(self) -> dict[str, Any]:
        args = self.args
        floor_users = math.ceil(self.teams * MEMBERS_PER_TEAM / PAGE)
        floor_objects = math.ceil(self.objects / PAGE)
        documents = [doc for team in range(self.teams) for doc in manifests(team)]
        self.take_requests()  # what the operator read at start, with nothing to manage

        say(f"applying {len(documents)} objects")
        applied = time.monotonic()
        for start in range(0, len(documents), 200):
            self.kubectl(
                "apply", "-f", "-", stdin=yaml.safe_dump_all(documents[start : start + 200])
            )
        items, rate_limited_statuses = self.wait_all_ready(applied)
        converged_in = time.monotonic() - applied
        say(f"all {self.objects} Ready after {converged_in:.1f}s")
        cpu_converged = self.cpu_seconds()
        convergence = self.take_requests()
        writes = [r for r in convergence if r["method"] in WRITE_METHODS]
        floor = len(writes) + floor_users + floor_objects
        latencies = sorted(_apply_to_ready(item) for item in items)

        say(f"settling, then at rest for three drift intervals ({3 * args.drift_interval:.0f}s)")
        time.sleep(args.drift_interval)
        self.take_requests()
        versions = self.resource_versions()
        cpu_before_rest = self.cpu_seconds()
        time.sleep(3 * args.drift_interval)
        rest = self.take_requests()
        cpu_rest = self.cpu_seconds() - cpu_before_rest
        changed = [k for k, v in self.resource_versions().items() if versions.get(k) != v]
        rest_reads = [r for r in rest if r["method"] == "GET"]
        sweep_period = _metric(self.metrics(), "oncall_drift_sweep_period_seconds")

        say(f"timing {args.edits} spec edits")
        edits = [self.time_edit(f"t{i % self.teams}-business", i) for i in range(args.edits)]
        rss_kib = self.peak_rss_kib()
        return {
            "when": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "machine": _machine(),
            "command": "oncall-operator bench " + " ".join(_argv(args)),
            "settings": {
                "teams": self.teams,
                "objects": self.objects,
                "users": self.teams * MEMBERS_PER_TEAM,
                "emulator_rate_limit_per_minute": args.rate_limit,
                "operator_rate_limit_per_minute": args.operator_rate_limit,
                "drift_interval_seconds": args.drift_interval,
                "read_budget_per_minute": args.read_budget,
            },
            "convergence": {
                "all_ready_seconds": round(converged_in, 1),
                "apply_to_ready_p50_seconds": _percentile(latencies, 50),
                "apply_to_ready_p99_seconds": _percentile(latencies, 99),
                "requests": len(convergence),
                "writes": len(writes),
                "floor": floor,
                "ratio_to_floor": round(len(convergence) / floor, 3),
                "floor_minutes_at_960": round(floor / 960, 2),
                "target_minutes_at_960": round(1.15 * floor / 960, 2),
                "rate_limited_429": sum(1 for r in convergence if r["status"] == 429),
                "statuses_showing_rate_limited": rate_limited_statuses,
                "by_endpoint": _by_endpoint(convergence),
                "operator_cpu_seconds": round(cpu_converged, 1),
            },
            "at_rest": {
                "seconds": 3 * args.drift_interval,
                "pagerduty_writes": sum(1 for r in rest if r["method"] in WRITE_METHODS),
                "pagerduty_reads": len(rest_reads),
                "reads_per_object_per_interval": round(len(rest_reads) / self.objects / 3, 3),
                "busiest_minute_reads": _busiest_minute(rest_reads),
                "kubernetes_writes": len(changed),
                "by_endpoint": _by_endpoint(rest),
                "drift_sweep_period_seconds": sweep_period,
                "operator_cpu_seconds": round(cpu_rest, 1),
            },
            "edits": {
                "count": len(edits),
                "apply_to_ready_p50_seconds": round(statistics.median(edits), 2),
                "apply_to_ready_max_seconds": round(max(edits), 2),
            },
            "operator_peak_rss_mib": round(rss_kib / 1024, 1),
        }

    # -- steps ------------------------------------------------------------------------------------
    def wait_all_ready(self, since: float) -> tuple[list[dict[str, Any]], int]:
        deadline = since + self.args.timeout
        rate_limited: set[str] = set()
        while True:
            items = self.items()
            for item in items:
                if _ready(item).get("reason") == "RateLimited":
                    rate_limited.add(item["metadata"]["name"])
            pending = [i for i in items if not _is_ready(i)]
            if len(items) == self.objects and not pending:
                return items, len(rate_limited)
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{len(items) - len(pending)} of {self.objects} Ready after "
                    f"{self.args.timeout:.0f}s; e.g. {[_ready(i) for i in pending[:3]]}\n"
                    f"operator log:\n{self.log_tail()}"
                )
            self.requests.extend(self.emulator.controls.take_requests())
            time.sleep(2 if self.objects <= 200 else 5)  # listing thousands costs the machine

    def time_edit(self, name: str, index: int) -> float:
        patch = json.dumps({"spec": {"displayName": f"{name} edit {index}"}})
        started = time.monotonic()
        self.kubectl(
            "patch", "rotations.oncall.dev", name, "-n", NAMESPACE, "--type=merge", "-p", patch
        )
        deadline = started + 60
        while time.monotonic() < deadline:
            item = json.loads(
                self.kubectl(
                    "get", "rotations.oncall.dev", name, "-n", NAMESPACE, "-o", "json", capture=True
                )
            )
            if _is_ready(item):
                return time.monotonic() - started
            time.sleep(0.1)
        raise BenchError(f"Rotation {name} not Ready 60s after an edit")

    def take_requests(self) -> list[dict[str, Any]]:
        taken = self.requests + self.emulator.controls.take_requests()
        self.requests = []
        return taken

    def items(self) -> list[dict[str, Any]]:
        listed = json.loads(self.kubectl("get", KINDS, "-n", NAMESPACE, "-o", "json", capture=True))
        found: list[dict[str, Any]] = listed["items"]
        return found

    def resource_versions(self) -> dict[str, str]:
        return {
            f"{i['kind']}/{i['metadata']['name']}": i["metadata"]["resourceVersion"]
            for i in self.items()
        }

    def metrics(self) -> str:
        import urllib.request

        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    def cpu_seconds(self) -> float:
        assert self.operator is not None
        fields = Path(f"/proc/{self.operator.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def peak_rss_kib(self) -> int:
        assert self.operator is not None
        for line in Path(f"/proc/{self.operator.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def kubectl(self, *args: str, capture: bool = False, stdin: str | None = None) -> str:
        command = [self.kubectl_path, f"--kubeconfig={self.kubeconfig}", *args]
        result = subprocess.run(
            command, input=stdin, capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            raise BenchError(f"kubectl {' '.join(args[:3])} failed: {result.stderr.strip()[:500]}")
        return result.stdout

    def log_tail(self, lines: int = 40) -> str:
        text = self.operator_log.read_text(errors="replace") if self.operator_log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# -- figures ----------------------------------------------------------------------------------


def _ready(item: dict[str, Any]) -> dict[str, Any]:
    conditions = (item.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})


def _is_ready(item: dict[str, Any]) -> bool:
    return _ready(item).get("status") == "True" and (item.get("status") or {}).get(
        "observedGeneration"
    ) == item["metadata"].get("generation")


def _apply_to_ready(item: dict[str, Any]) -> float:
    created = _instant(item["metadata"]["creationTimestamp"])
    ready = _instant(_ready(item)["lastTransitionTime"])
    return (ready - created).total_seconds()


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _percentile(values: list[float], percent: int) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, math.ceil(percent / 100 * len(values)) - 1))
    return round(values[index], 1)


def _shape(path: str) -> str:
    return re.sub(r"/P[A-Z0-9]{6}", "/{id}", path.split("?", maxsplit=1)[0])


def _by_endpoint(requests: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(f"{r['method']} {_shape(r['path'])}" for r in requests)
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _busiest_minute(requests: list[dict[str, Any]]) -> int:
    times = sorted(_instant(r["time"]).timestamp() for r in requests)
    busiest, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 60:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


def _metric(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def _machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return (
        f"{os.cpu_count()} CPU ({model}), {int(memory) // 1024 // 1024} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def _argv(args: argparse.Namespace) -> list[str]:
    return [
        f"--teams {args.teams}",
        f"--rate-limit {args.rate_limit}",
        f"--drift-interval {args.drift_interval:g}",
        f"--read-budget {args.read_budget}",
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int, path: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2):
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def table(result: dict[str, Any]) -> str:
    c, r, e, s = result["convergence"], result["at_rest"], result["edits"], result["settings"]
    rows = [
        ("teams / objects / users", f"{s['teams']} / {s['objects']} / {s['users']}"),
        ("all Ready after", f"{c['all_ready_seconds']} s"),
        (
            "apply→Ready p50 / p99",
            f"{c['apply_to_ready_p50_seconds']} s / {c['apply_to_ready_p99_seconds']} s",
        ),
        ("PagerDuty requests (writes)", f"{c['requests']} ({c['writes']})"),
        ("floor / ratio to floor", f"{c['floor']} / {c['ratio_to_floor']}"),
        ("target time at 960/min (1.15 x floor)", f"{c['target_minutes_at_960']} min"),
        (
            "429s / statuses showing RateLimited",
            f"{c['rate_limited_429']} / {c['statuses_showing_rate_limited']}",
        ),
        ("at rest: PagerDuty writes", str(r["pagerduty_writes"])),
        ("at rest: reads per object per interval", str(r["reads_per_object_per_interval"])),
        (
            "at rest: busiest minute of reads (budget)",
            f"{r['busiest_minute_reads']} ({s['read_budget_per_minute']})",
        ),
        ("at rest: Kubernetes writes", str(r["kubernetes_writes"])),
        ("drift sweep period", f"{r['drift_sweep_period_seconds']} s"),
        (
            "spec edit apply→Ready p50 / max",
            f"{e['apply_to_ready_p50_seconds']} s / {e['apply_to_ready_max_seconds']} s",
        ),
        ("operator peak RSS", f"{result['operator_peak_rss_mib']} MiB"),
        (
            "operator CPU: convergence / at rest",
            f"{c['operator_cpu_seconds']} s / {r['operator_cpu_seconds']} s",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    lines.append("convergence requests by endpoint:")
    lines += [f"  {count:>6}  {what}" for what, count in c["by_endpoint"].items()]
    lines.append("at rest requests by endpoint:")
    lines += [f"  {count:>6}  {what}" for what, count in r["by_endpoint"].items()]
    return "\n".join(lines)
