"""Fixtures for the emulator's own tests: a spec-checking HTTPS client and seeded users by name."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.emulator.spec_check import validating_client
from tests.fixtures.emulator import DEFAULT_USERS, TOKEN


@pytest.fixture
def pd(emulator: EmulatorServer) -> Iterator[httpx2.Client]:
    """A client of the (reset) session emulator; every response is checked against the spec."""
    with validating_client(emulator.base_url, emulator.token, str(emulator.ca_file)) as client:
        yield client


@pytest.fixture
def user_ids(pd: httpx2.Client) -> dict[str, str]:
    """Seeded user id by the local part of the email: user_ids["ana"]."""
    users = pd.get("/users", params={"limit": 100}).json()["users"]
    return {u["email"].split("@")[0]: u["id"] for u in users}


@pytest.fixture
def own_emulator() -> Iterator[EmulatorServer]:
    """A server of the test's own, for tests that change what reset() keeps (the users)."""
    with EmulatorServer(TOKEN, users=DEFAULT_USERS) as server:
        yield server


@pytest.fixture
def own_pd(own_emulator: EmulatorServer) -> Iterator[httpx2.Client]:
    with validating_client(own_emulator.base_url, TOKEN, str(own_emulator.ca_file)) as client:
        yield client
