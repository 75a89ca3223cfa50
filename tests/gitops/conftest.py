"""An emulator seeded with examples/users.yaml for plan and import, and the environment that
points `oncall-operator plan|import` at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oncall_operator.pagerduty import PagerDutyClient
from oncall_testbed.emulator import EmulatorServer
from tests.e2e.examples import users

TOKEN = "gitops-token"


@pytest.fixture(scope="session")
def example_account_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(TOKEN, users=users()) as server:
        yield server


@pytest.fixture
def account(
    example_account_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    """The example users only, nothing else; PAGERDUTY_* set for the commands."""
    example_account_server.reset()
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", TOKEN)
    monkeypatch.setenv("PAGERDUTY_API_URL", example_account_server.base_url)
    monkeypatch.setenv("PAGERDUTY_CA_FILE", str(example_account_server.ca_file))
    monkeypatch.delenv("PAGERDUTY_API_TOKEN_FILE", raising=False)
    return example_account_server


@pytest.fixture
def pagerduty(account: EmulatorServer) -> Iterator[PagerDutyClient]:
    client = PagerDutyClient.from_env()
    yield client
    client.close()
