"""Answers that never come: a request PagerDuty carried out but answered after the client's
timeout, or a connection closed without an answer. A read or an idempotent write (PUT, DELETE)
is sent again; a create is not (it may have been made, and sent again it would make a second
object): it fails as Unavailable and the caller looks before it creates (reconcile/adoption.py,
pagerduty/readmodel.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from oncall_operator.pagerduty import PagerDutyClient, Unavailable
from oncall_operator.settings import PagerDutySettings, SettingsError
from oncall_testbed.emulator import EmulatorServer


@pytest.fixture
def impatient(emulator: EmulatorServer) -> Iterator[PagerDutyClient]:
    """A client that waits 0.5 s for an answer and never sleeps between attempts."""
    client = PagerDutyClient(
        emulator.token,
        api_url=emulator.base_url,
        ca_file=str(emulator.ca_file),
        timeout_seconds=0.5,
        max_retries=2,
        sleep=lambda _: None,
    )
    yield client
    client.close()


def _team(name: str) -> dict[str, str]:
    return {"type": "team", "name": name, "description": ""}


@pytest.mark.parametrize(
    "faults",
    [{"slow_rate": 1.0, "slow_seconds": 1.5}, {"drop_rate": 1.0}],
    ids=["answered-after-the-timeout", "connection-dropped"],
)
def test_a_create_without_an_answer_is_not_sent_again(
    impatient: PagerDutyClient, emulator: EmulatorServer, faults: dict[str, float]
) -> None:
    emulator.set_faults(**faults)
    with pytest.raises(Unavailable, match="after 1 attempts"):
        impatient.create_team(_team("Made once"))
    # Every attempt is carried out and logged by the time a held-back answer would have come.
    time.sleep(faults.get("slow_seconds", 0.0) + 0.5)
    emulator.set_faults()
    # (POSTs only: an earlier test's slow GET may still be logged late.)
    assert [r["path"] for r in emulator.requests() if r["method"] == "POST"] == ["/teams"]
    assert [t["name"] for t in impatient.find_teams("Made once")] == ["Made once"]


def test_an_update_without_an_answer_is_sent_again(
    impatient: PagerDutyClient, emulator: EmulatorServer
) -> None:
    team = impatient.create_team(_team("Renamed"))
    emulator.set_faults(drop_rate=1.0)
    with pytest.raises(Unavailable, match="after 3 attempts"):
        impatient.update_team(team["id"], _team("Renamed again"))
    emulator.set_faults()
    puts = [r["status"] for r in emulator.requests() if r["method"] == "PUT"]
    assert puts == [None, None, None]  # carried out each time, never answered
    assert impatient.get_team(team["id"])["name"] == "Renamed again"


def test_the_timeout_comes_from_the_environment(emulator: EmulatorServer) -> None:
    settings = PagerDutySettings.from_env(
        {"PAGERDUTY_API_TOKEN": "t", "PAGERDUTY_TIMEOUT_SECONDS": "2.5"}
    )
    assert settings.timeout_seconds == 2.5
    with pytest.raises(SettingsError, match="PAGERDUTY_TIMEOUT_SECONDS='soon'"):
        PagerDutySettings.from_env(
            {"PAGERDUTY_API_TOKEN": "t", "PAGERDUTY_TIMEOUT_SECONDS": "soon"}
        )
    with pytest.raises(SettingsError, match="between 0 and 300"):
        PagerDutySettings.from_env({"PAGERDUTY_API_TOKEN": "t", "PAGERDUTY_TIMEOUT_SECONDS": "0"})
