"""`oncall-operator run` refuses to start without what it needs, saying why, instead of retrying."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

EXIT_WITHIN_SECONDS = 60


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"PAGERDUTY_API_TOKEN": ""}, "PAGERDUTY_API_TOKEN is not set"),
        (
            {"PAGERDUTY_API_TOKEN_FILE": "/nonexistent/pagerduty/token"},
            "the API token file '/nonexistent/pagerduty/token' cannot be read",
        ),
        (
            {"PAGERDUTY_API_TOKEN": "t0k3n-not-to-be-shown", "PAGERDUTY_RATE_LIMIT": "lots"},
            "PAGERDUTY_RATE_LIMIT='lots' is not a whole number",
        ),
    ],
)
def test_bad_configuration_stops_the_operator(env: dict[str, str], says: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAGERDUTY_", "ONCALL_"))}
    started = subprocess.run(
        [sys.executable, "-m", "oncall_operator.cli", "run", "--listen-address", "127.0.0.1"],
        env={**clean, "ONCALL_LIVENESS_PORT": "0", "ONCALL_METRICS_PORT": "0", **env},
        capture_output=True,
        text=True,
        timeout=EXIT_WITHIN_SECONDS,
        check=False,
    )
    assert started.returncode != 0
    assert says in started.stderr + started.stdout
    assert "t0k3n-not-to-be-shown" not in started.stderr + started.stdout
