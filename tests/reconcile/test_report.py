"""`oncall-operator report` against the emulator: November 2026 of a weekly rotation with an
override (bo covers two of ana's days) and pages the emulator decided; from the resources as
kubectl prints them (status carries the schedule id) and as Git holds them (found by marker)."""

from __future__ import annotations

import datetime as dt
import json
import ssl
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from oncall_operator import cli, report
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.reconcile.model import References, TeamInfo
from oncall_operator.reconcile.rotation import reconcile_rotation
from oncall_operator.reconcile.team import reconcile_team
from oncall_testbed.emulator import EmulatorServer
from tests.reconcile.helpers import NAMESPACE, meta

TEAM_SPEC: dict[str, Any] = {
    "members": [
        {"email": "ana@example.com"},
        {"email": "bo@example.com"},
        {"email": "cy@example.com"},
    ],
    "policy": {"maxOutOfHoursPagesPerMonth": 1},
}
# Always on call, weekly from Monday 2 November 09:00 Dublin (UTC in November): cy (from
# 26 October), ana, bo, cy, ana (23 November), bo (30 November).
ROTATION_SPEC: dict[str, Any] = {
    "teamRef": {"name": "volunteers"},
    "timeZone": "Europe/Dublin",
    "layers": [
        {
            "name": "primary",
            "participants": {"fromTeam": {}},
            "shiftLength": "1w",
            "handoff": "2026-11-02T09:00:00",
        }
    ],
}
CREATED = dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)


def manifest(kind: str, name: str, spec: dict[str, Any], status: Any = None) -> dict[str, Any]:
    body = {
        "apiVersion": "oncall.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec,
    }
    return {**body, "status": status} if status else body


@pytest.fixture
def november(client: PagerDutyClient, emulator: EmulatorServer) -> str:
    """The team, its rotation, bo's override and November's incidents; the schedule id."""
    team = reconcile_team(client, meta("OnCallTeam", "volunteers"), TEAM_SPEC, {}, CREATED)
    info = TeamInfo("volunteers", TEAM_SPEC, team.status["pagerduty"]["id"], team.ready)
    rotation = reconcile_rotation(
        client,
        meta("Rotation", "volunteers-weekly"),
        ROTATION_SPEC,
        {},
        References(teams={"volunteers": info}),
        CREATED,
    )
    schedule_id = str(rotation.status["pagerduty"]["id"])
    bo = client.find_user_by_email("bo@example.com")
    assert bo is not None
    with httpx2.Client(
        base_url=emulator.base_url,
        verify=ssl.create_default_context(cafile=str(emulator.ca_file)),
        headers={"Authorization": f"Token token={emulator.token}"},
    ) as http:
        override = {
            "start": "2026-11-24T09:00:00Z",
            "end": "2026-11-26T09:00:00Z",
            "user": {"id": bo["id"], "type": "user_reference"},
            "time_zone": "UTC",
        }
        made = http.post(f"/schedules/{schedule_id}/overrides", json={"overrides": [override]})
        assert made.status_code == 201, made.text
    policy = client.create_escalation_policy(
        {
            "type": "escalation_policy",
            "name": "Payments alerts",
            "escalation_rules": [
                {
                    "escalation_delay_in_minutes": 15,
                    "targets": [{"type": "schedule_reference", "id": schedule_id}],
                }
            ],
        }
    )
    emulator.seed_incidents(
        [
            {"escalation_policy_id": policy["id"], "created_at": at, "title": at}
            for at in (
                "2026-11-25T03:00:00Z",  # bo, through the override, at night
                "2026-11-20T12:00:00Z",  # cy, Friday noon: business hours
                "2026-11-21T22:30:00Z",  # cy, Saturday night
                "2026-12-01T03:00:00Z",  # December
            )
        ]
    )
    return schedule_id


@pytest.fixture
def pagerduty_env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", emulator.token)
    monkeypatch.setenv("PAGERDUTY_API_URL", emulator.base_url)
    monkeypatch.setenv("PAGERDUTY_CA_FILE", str(emulator.ca_file))
    monkeypatch.delenv("PAGERDUTY_API_TOKEN_FILE", raising=False)
    monkeypatch.setattr(report, "utc_now", lambda: NOW)


def run_report(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> tuple[int, str]:
    code = cli.main(["report", "--month", "2026-11", *options, str(path)])
    return code, capsys.readouterr().out


def people(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (team,) = document["teams"]
    return {p["email"]: p for p in team["people"]}


def test_a_month_with_an_override_from_kubectl_output(
    november: str,
    pagerduty_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            manifest("OnCallTeam", "volunteers", TEAM_SPEC),
            manifest(
                "Rotation", "volunteers-weekly", ROTATION_SPEC, {"pagerduty": {"id": november}}
            ),
        ],
    }
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(listed))
    code, out = run_report(capsys, path, "--output", "json")
    assert code == 0
    document = json.loads(out)
    assert (document["since"], document["until"]) == (
        "2026-11-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
    )
    found = people(document)
    # Hours: ana 2 weeks less bo's 48 h; bo a week, the override and 30 November 09:00-24:00;
    # cy 1 November 00:00 to 2 November 09:00 and a week. 720 h covered in 30/7 weeks: 168 h a week.
    expected = {
        "ana@example.com": (288, 224, 0, 0),
        "bo@example.com": (231, 167, 1, 1),
        "cy@example.com": (201, 161, 2, 1),
    }
    for email, (hours, out_of_hours, pages, night) in expected.items():
        row = found[email]
        assert (row["hours_on_call"], row["out_of_hours_hours"]) == (hours, out_of_hours), email
        assert (row["pages"], row["night_pages"]) == (pages, night), email
        assert row["weekly_shifts"] == pytest.approx(hours / 168, abs=0.006), email
    assert sum(p["weekly_shifts"] for p in found.values()) == pytest.approx(30 / 7, abs=0.02)
    (team,) = document["teams"]
    assert (team["out_of_hours_pages"], team["budget"], team["over_budget"]) == (2, 1, True)
    assert team["rotations"] == ["volunteers-weekly"]


def test_manifests_from_git_find_the_schedule_by_its_marker_and_print_a_table_and_csv(
    november: str,
    pagerduty_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "manifests.yaml"
    path.write_text(
        yaml.safe_dump_all(
            [
                manifest("OnCallTeam", "volunteers", TEAM_SPEC),
                manifest("Rotation", "volunteers-weekly", ROTATION_SPEC),
            ]
        )
    )
    code, table = run_report(capsys, path, "--team", "volunteers")
    assert code == 0
    lines = table.splitlines()
    assert lines[0] == ("On-call report for 2026-11 (2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z)")
    ana = next(line for line in lines if "ana@example.com" in line).split()
    assert ana == [NAMESPACE, "volunteers", "ana@example.com", "1.71", "288.00", "224.00", "0", "0"]
    team = lines[-1].split()
    assert team == [NAMESPACE, "volunteers", "2", "1", "yes"]

    code, text = run_report(capsys, path, "--output", "csv")
    assert code == 0
    rows = text.splitlines()
    assert rows[0].startswith("record,namespace,team,email,weekly_shifts")
    assert sum(row.startswith("person,") for row in rows) == 3
    assert [row for row in rows if row.startswith("team,")] == [
        f"team,{NAMESPACE},volunteers,,,,,,,2,1,True"
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--month", "November"], "expected YYYY-MM"),
        (["--month", "2027-01"], "has not begun"),
        (["--month", "2026-11", "--team", "nobody"], "no OnCallTeam matches"),
    ],
)
def test_bad_requests_exit_2_saying_why(
    options: list[str],
    message: str,
    pagerduty_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(manifest("OnCallTeam", "volunteers", TEAM_SPEC)))
    assert cli.main(["report", *options, str(path)]) == 2
    assert message in capsys.readouterr().err
