"""State that survives a restart, the command line, and the official Python client against it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pagerduty
import pytest

from oncall_testbed.emulator import EmulatorServer
from oncall_testbed.emulator.cli import load_users
from tests.emulator import bodies
from tests.emulator.spec_check import check_httpx_response, check_response, validating_client
from tests.fixtures.emulator import DEFAULT_USERS, TOKEN


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state" / "emulator.json"
    with _serve(state) as pd:
        ana = pd.get("/users", params={"query": "ana@"}).json()["users"][0]["id"]
        team = pd.post("/teams", json=bodies.team()).json()["team"]
        pd.put(f"/teams/{team['id']}/users/{ana}", json={"role": "manager"})
        schedule = pd.post("/schedules", json=bodies.schedule(bodies.layer(ana))).json()
        before = pd.get(f"/schedules/{schedule['schedule']['id']}").json()
    assert json.loads(state.read_text())["teams"][0]["id"] == team["id"]
    with _serve(state) as pd:
        users = pd.get("/users", params={"limit": 100}).json()["users"]
        assert len(users) == len(DEFAULT_USERS)  # seeding again does not double anyone
        members = pd.get(f"/teams/{team['id']}/members").json()["members"]
        assert [m["user"]["id"] for m in members] == [ana]
        after = pd.get(f"/schedules/{schedule['schedule']['id']}").json()
    assert _without_urls(after) == _without_urls(before)
    assert list(state.parent.iterdir()) == [state]  # no temporary files left behind


@contextlib.contextmanager
def _serve(state: Path) -> Iterator[httpx2.Client]:
    with (
        EmulatorServer(TOKEN, users=DEFAULT_USERS, state_file=state) as server,
        validating_client(server.base_url, TOKEN, str(server.ca_file)) as client,
    ):
        yield client


def _without_urls(document: object) -> object:
    """The document with `self` links dropped: they carry the port, which changes on restart."""
    if isinstance(document, dict):
        return {k: _without_urls(v) for k, v in document.items() if k != "self"}
    if isinstance(document, list):
        return [_without_urls(item) for item in document]
    return document


def test_the_official_client_works_against_it(emulator: EmulatorServer) -> None:
    client = pagerduty.RestApiV2Client(
        emulator.token,
        base_url=emulator.base_url,
        verify=ssl.create_default_context(cafile=str(emulator.ca_file)),
        event_hooks={"response": [check_httpx_response]},
    )
    user = client.find("users", "BO@example.com", attribute="email")
    assert user is not None and user["name"] == "Bo Berg"
    team = client.rpost("teams", json=bodies.team())
    client.rput(f"teams/{team['id']}/users/{user['id']}", json={"role": "responder"})
    assert [m["user"]["id"] for m in client.iter_all(f"teams/{team['id']}/members")] == [user["id"]]
    assert len(list(client.iter_all("users"))) == len(DEFAULT_USERS)
    schedule = client.rpost("schedules", json=bodies.schedule(bodies.layer(user["id"])))
    assert schedule["id"].startswith("P")


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    users = tmp_path / "users.yaml"
    users.write_text(
        "users:\n  - {name: Ana Alvarez, email: ana@example.com, time_zone: Europe/Dublin}\n"
    )
    ca_file = tmp_path / "ca.pem"
    process = subprocess.Popen(
        [sys.executable, "-m", "oncall_testbed.cli", "emulator", "--port", "0",
         "--token", "cli-secret-token", "--users", str(users), "--ca-file", str(ca_file),
         "--state", str(tmp_path / "state.json")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "operator")},
    )  # fmt: skip
    assert process.stdout is not None
    first_line = process.stdout.readline()
    match = re.search(r"https://127\.0\.0\.1:\d+", first_line)
    assert match, first_line
    try:
        yield process, match.group(0), ca_file
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_cli_serves_curl_with_the_ca_file(
    emulator_process: tuple[subprocess.Popen[str], str, Path],
) -> None:
    process, base_url, ca_file = emulator_process
    curl = subprocess.run(
        ["curl", "-sS", "--fail-with-body", "--cacert", str(ca_file),
         "-H", "Authorization: Token token=cli-secret-token",
         "-H", "Accept: application/vnd.pagerduty+json;version=2",
         f"{base_url}/users?query=ana"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert curl.returncode == 0, curl.stderr
    check_response("GET", "/users", 200, curl.stdout.encode(), "application/json")
    assert json.loads(curl.stdout)["users"][0]["email"] == "ana@example.com"
    refused = subprocess.run(
        ["curl", "-sS", f"{base_url}/users"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0  # without --cacert the certificate is not trusted
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "PagerDuty emulator stopped" in output
    assert "cli-secret-token" not in output


def test_cli_without_a_token_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oncall_testbed.cli", "emulator", "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
        env={k: v for k, v in os.environ.items() if k != "PAGERDUTY_EMULATOR_TOKEN"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "--token" in result.stderr


@pytest.mark.parametrize("content", ["[]", "users: {name: x}", "users: [x]", "people: []"])
def test_a_users_file_of_the_wrong_shape_is_named(tmp_path: Path, content: str) -> None:
    users = tmp_path / "users.yaml"
    users.write_text(content)
    with pytest.raises(ValueError, match=r"users\.yaml: expected `users:"):
        load_users(users)


def test_the_examples_users_file_loads() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "users.yaml"
    if not examples.exists():
        pytest.skip("examples/users.yaml is not there")
    users = load_users(examples)
    assert users and all({"name", "email"} <= set(user) for user in users)
