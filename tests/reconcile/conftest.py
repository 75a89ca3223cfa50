"""Reconcile tests run the real PagerDuty client against the HTTPS emulator (fresh per test), both
the plain client and the read model the operator runs with (CachingPagerDutyClient)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.readmodel import CachingPagerDutyClient
from oncall_testbed.emulator import EmulatorServer


@pytest.fixture(params=["plain", "read-model"])
def client(emulator: EmulatorServer, request: pytest.FixtureRequest) -> Iterator[PagerDutyClient]:
    kind = PagerDutyClient if request.param == "plain" else CachingPagerDutyClient
    pd = kind(token=emulator.token, api_url=emulator.base_url, ca_file=str(emulator.ca_file))
    try:
        yield pd
    finally:
        pd.close()
