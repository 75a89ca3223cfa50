"""`oncall-operator bench`: the scale benchmark, which lives in the testbed (it starts a control
plane and the PagerDuty emulator, which the operator's own package never imports). This command
takes the bench's options and runs `oncall-testbed bench` with them."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

# option -> (type, default, help); the same as `oncall-testbed bench`.
OPTIONS: dict[str, tuple[type, object, str]] = {
    "--teams": (int, 30, "number of teams, each of 4 objects (default 30)"),
    "--rate-limit": (int, 960, "the emulator's requests per minute, PagerDuty's 960 by default"),
    "--operator-rate-limit": (int, 900, "PAGERDUTY_RATE_LIMIT of the operator (default 900)"),
    "--drift-interval": (float, 60.0, "ONCALL_DRIFT_INTERVAL_SECONDS (default 60)"),
    "--read-budget": (int, 60, "ONCALL_READ_BUDGET_PER_MINUTE (default 60)"),
    "--timeout": (float, 600.0, "give up when not all Ready after this many seconds"),
    "--edits": (int, 5, "spec edits timed at rest (default 5)"),
    "--output": (str, "benchmarks/results", "directory of the JSON results"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for option, (kind, default, help_text) in OPTIONS.items():
        parser.add_argument(option, type=kind, default=default, help=help_text)


def main(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("oncall_testbed") is None:
        print(
            "bench: needs the oncall-testbed package (`make venv` installs it beside the operator)",
            file=sys.stderr,
        )
        return 2
    forwarded = [
        text
        for option in OPTIONS
        for text in (option, str(getattr(args, option.lstrip("-").replace("-", "_"))))
    ]
    command = [sys.executable, "-m", "oncall_testbed.cli", "bench", *forwarded]
    return subprocess.run(command, check=False).returncode
