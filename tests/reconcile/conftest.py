"""Reconcile tests run the real PagerDuty client against the HTTPS emulator (fresh per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oncall_operator.pagerduty import PagerDutyClient
from oncall_testbed.emulator import EmulatorServer


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[PagerDutyClient]:
    pd = PagerDutyClient(
        token=emulator.token, api_url=emulator.base_url, ca_file=str(emulator.ca_file)
    )
    try:
        yield pd
    finally:
        pd.close()
