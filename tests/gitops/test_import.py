"""`oncall-operator import` round trips: what it writes validates, applying it adopts with no
PagerDuty write beyond the managed-by line, and `plan` on it shows nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncall_operator import cli
from oncall_operator.api import TimeWindow
from oncall_operator.gitops import importer, importing
from oncall_operator.gitops import plan as plan_command
from oncall_operator.gitops.documents import read_documents
from oncall_operator.gitops.importer import Names, policy_manifest, shift_length
from oncall_operator.gitops.plan import reconcile_all
from oncall_operator.gitops.validate import validate_documents
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.translate.escalation import escalation_policy_drift
from oncall_operator.translate.restrictions import restriction_stretches, window_restrictions
from oncall_operator.translate.rotation import schedule_drift
from oncall_testbed.emulator import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
EXAMPLES = [
    ROOT / "examples" / "virtual-team",
    *sorted(p for p in (ROOT / "examples" / "features").iterdir() if p.is_dir() and p.name not in ("adopt", "paused")),
]  # fmt: skip


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_command, "utc_now", lambda: NOW)
    monkeypatch.setattr(importing, "utc_now", lambda: NOW)


def writes(account: EmulatorServer) -> list[str]:
    return [
        f"{r['method']} {str(r['path']).split('?')[0]}"
        for r in account.requests()
        if r["method"] != "GET"
    ]


def apply(client: PagerDutyClient, directory: Path) -> None:
    for done in reconcile_all(client, read_documents([str(directory)]), NOW):
        assert done.outcome.ready, (done.identity, done.outcome.status["conditions"])


def import_into(capsys: pytest.CaptureFixture[str], directory: Path, *selection: str) -> str:
    code = cli.main(["import", *selection, "--output-dir", str(directory)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.err


def plan_exit(capsys: pytest.CaptureFixture[str], directory: Path) -> tuple[int, str]:
    code = cli.main(["plan", str(directory)])
    return code, capsys.readouterr().out


def test_the_examples_round_trip(
    account: EmulatorServer,
    pagerduty: PagerDutyClient,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    for example in EXAMPLES:
        apply(pagerduty, example)
    expected = {
        (d.namespace, d.kind, d.name)
        for e in EXAMPLES
        for d in read_documents([str(e)])
        if d.is_ours()
    }
    account.clear_requests()

    notes = import_into(capsys, tmp_path, "--all")

    imported = read_documents([str(tmp_path)])
    assert {(d.namespace, d.kind, d.name) for d in imported} == expected
    assert notes == ""
    assert validate_documents(imported, NOW, cross=False) == []
    assert writes(account) == []

    apply(pagerduty, tmp_path)
    assert writes(account) == []
    assert plan_exit(capsys, tmp_path) == (0, "No changes: PagerDuty matches the manifests.\n")


def user_id(client: PagerDutyClient, email: str) -> str:
    found = client.find_user_by_email(email)
    assert found is not None
    return str(found["id"])


def layer(
    name: str, users: list[str], turn: int, restrictions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "start": "2026-11-01T00:00:00Z",
        "rotation_virtual_start": "2026-01-05T09:00:00+00:00",
        "rotation_turn_length_seconds": turn,
        "users": [{"user": {"id": u, "type": "user_reference"}} for u in users],
        "restrictions": restrictions or [],
    }


def weekly(day: int, start: str, hours: int) -> dict[str, Any]:
    return {
        "type": "weekly_restriction",
        "start_day_of_week": day,
        "start_time_of_day": start,
        "duration_seconds": hours * 3600,
    }


def hand_made(client: PagerDutyClient) -> dict[str, dict[str, Any]]:
    """A team, a schedule of four layers (business hours, out of hours, a custom window and
    always) and a policy with schedule and user targets, made by hand: no managed-by lines."""
    ana, bo, cy, cto, mgr = (
        user_id(client, f"{n}@example.com") for n in ("ana", "bo", "cy", "cto", "mira")
    )
    team = client.create_team(
        {"type": "team", "name": "Platform", "description": "Keeps the lights on."}
    )
    client.set_team_member(str(team["id"]), ana, "manager")
    client.set_team_member(str(team["id"]), bo, "responder")
    out_of_hours = [weekly(d, "17:00:00", 16) for d in (1, 2, 3, 4)] + [weekly(5, "17:00:00", 64)]
    schedule = client.create_schedule(
        {
            "type": "schedule",
            "name": "Platform on call",
            "time_zone": "Europe/Dublin",
            "teams": [{"id": team["id"], "type": "team_reference"}],
            "schedule_layers": [
                layer(
                    "weekdays",
                    [ana, bo],
                    7 * 86400,
                    [weekly(d, "09:00:00", 8) for d in range(1, 6)],
                ),
                layer("nights", [bo, cy], 7 * 86400, out_of_hours),
                layer("saturday-mornings", [cy], 86400, [weekly(6, "10:00:00", 4)]),
                layer("backstop", [mgr], 14 * 86400 + 12 * 3600),
            ],
        }
    )
    policy = client.create_escalation_policy(
        {
            "type": "escalation_policy",
            "name": "Platform alerts",
            "num_loops": 2,
            "on_call_handoff_notifications": "always",
            "teams": [{"id": team["id"], "type": "team_reference"}],
            "escalation_rules": [
                {"escalation_delay_in_minutes": 10, "targets": [{"id": schedule["id"], "type": "schedule_reference"}, {"id": cto, "type": "user_reference"}]},
                {"escalation_delay_in_minutes": 20, "targets": [{"id": mgr, "type": "user_reference"}]},
            ],
        }
    )  # fmt: skip
    return {"team": team, "schedule": schedule, "policy": policy}


def test_a_hand_made_setup_round_trips_with_only_the_managed_by_lines_written(
    account: EmulatorServer,
    pagerduty: PagerDutyClient,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    made = hand_made(pagerduty)
    before = {
        "schedule": pagerduty.get_schedule(str(made["schedule"]["id"])),
        "policy": pagerduty.get_escalation_policy(str(made["policy"]["id"])),
        "members": pagerduty.list_team_members(str(made["team"]["id"])),
    }
    account.clear_requests()

    notes = import_into(capsys, tmp_path, "--team", "Platform", "--namespace", "platform")

    assert notes == ""
    assert writes(account) == []
    by_kind = {d.kind: d.body for d in read_documents([str(tmp_path)])}
    rotation = by_kind["Rotation"]["spec"]
    assert rotation["teamRef"] == {"name": "platform"}
    assert [
        (y["name"], y.get("coverage", "Always"), y["shiftLength"]) for y in rotation["layers"]
    ] == [
        ("weekdays", "BusinessHours", "1w"),
        ("nights", "OutOfHours", "1w"),
        ("saturday-mornings", "Custom", "1d"),
        ("backstop", "Always", "2w12h"),
    ]
    assert rotation["layers"][2]["windows"] == [{"days": ["Sat"], "start": "10:00", "end": "14:00"}]
    assert rotation["layers"][0]["participants"] == {
        "emails": ["ana@example.com", "bo@example.com"]
    }
    assert rotation["layers"][0]["handoff"] == "2026-01-05T09:00"
    assert by_kind["EscalationPolicy"]["spec"]["rules"] == [
        {"escalateAfterMinutes": 10, "targets": [{"rotationRef": {"name": "platform-on-call"}}, {"user": {"email": "cto@example.com"}}]},
        {"escalateAfterMinutes": 20, "targets": [{"user": {"email": "mira@example.com"}}]},
    ]  # fmt: skip
    assert by_kind["OnCallTeam"]["spec"]["members"][0] == {
        "email": "ana@example.com",
        "role": "manager",
    }

    apply(pagerduty, tmp_path)

    assert sorted(writes(account)) == sorted(
        [f"PUT /teams/{made['team']['id']}", f"PUT /schedules/{made['schedule']['id']}", f"PUT /escalation_policies/{made['policy']['id']}"]
    )  # fmt: skip
    schedule = pagerduty.get_schedule(str(made["schedule"]["id"]))
    policy = pagerduty.get_escalation_policy(str(made["policy"]["id"]))
    assert schedule["description"].endswith(
        "Managed by oncall-operator as platform/Rotation/platform-on-call; edit it in Git, not here."
    )
    assert (
        schedule_drift(
            {**before["schedule"], "description": schedule["description"]}, schedule, NOW
        )
        == []
    )
    assert (
        escalation_policy_drift({**before["policy"], "description": policy["description"]}, policy)
        == []
    )
    assert pagerduty.list_team_members(str(made["team"]["id"])) == before["members"]
    assert plan_exit(capsys, tmp_path) == (0, "No changes: PagerDuty matches the manifests.\n")


def test_what_our_kinds_cannot_say_is_a_comment_and_a_line_on_stderr(
    account: EmulatorServer,
    pagerduty: PagerDutyClient,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    ana = user_id(pagerduty, "ana@example.com")
    schedule = pagerduty.create_schedule(
        {
            "type": "schedule",
            "name": "Legacy",
            "time_zone": "UTC",
            "schedule_layers": [layer("Layer 1", [ana], 86400, [{"type": "daily_restriction", "start_time_of_day": "08:00:00", "duration_seconds": 4 * 3600}])],
        }
    )  # fmt: skip

    code = cli.main(["import", "--schedule", str(schedule["id"])])
    captured = capsys.readouterr()

    assert code == 0
    text = captured.out
    assert text.startswith(
        "# NOTE: layer 'Layer 1' is named layer-1 here (layer names are DNS labels)"
    )
    assert (
        "# NOTE: layer layer-1: PagerDuty has daily restrictions; the operator writes the same hours as weekly restrictions\n"
        in text
    )
    assert captured.err.splitlines() == [
        "default/Rotation/legacy: layer 'Layer 1' is named layer-1 here (layer names are DNS labels): applying ends the PagerDuty layer and starts the same one under the new name",
        "default/Rotation/legacy: layer layer-1: PagerDuty has daily restrictions; the operator writes the same hours as weekly restrictions",
    ]
    spec = yaml.safe_load(text)["spec"]
    # The same hours every day are business hours of all seven days.
    assert spec["businessHours"] == {
        "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "start": "08:00",
        "end": "12:00",
    }
    assert spec["layers"][0]["coverage"] == "BusinessHours"


def test_targets_that_are_neither_users_nor_schedules_are_noted() -> None:
    names = Names("ns")
    policy = {
        "id": "PEP1",
        "name": "Mixed",
        "escalation_rules": [
            {"escalation_delay_in_minutes": 5, "targets": [{"id": "PU1", "type": "user_reference"}, {"id": "PX", "type": "escalation_policy_reference"}]},
        ],
    }  # fmt: skip

    manifest = policy_manifest(names, policy, {}, {"PU1": "ana@example.com"})

    assert manifest.notes == [
        "rule 1: target escalation_policy_reference PX cannot be expressed and is left out"
    ]
    assert manifest.body["spec"]["rules"] == [
        {"escalateAfterMinutes": 5, "targets": [{"user": {"email": "ana@example.com"}}]}
    ]
    assert manifest.to_yaml().startswith("# NOTE: rule 1: target escalation_policy_reference PX")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (604800, "1w"),
        (86400, "1d"),
        (43200, "12h"),
        (129600, "1d12h"),
        (5400, "1h30m"),
        (1814400 + 3600, "3w1h"),
    ],
)
def test_shift_lengths(seconds: int, text: str) -> None:
    assert shift_length(seconds) == text


def test_nothing_selected_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["import"]) == 2
    assert "--team, --schedule, --escalation-policy or --all" in capsys.readouterr().err


def test_custom_windows_split_at_midnight_join_back_into_the_same_restrictions() -> None:
    friday_evening_to_monday = [weekly(5, "17:00:00", 64), weekly(3, "22:00:00", 10)]
    stretches = restriction_stretches(friday_evening_to_monday)

    windows = importer.windows_of(stretches)

    assert windows == [
        {"days": ["Mon"], "start": "00:00", "end": "09:00"},
        {"days": ["Wed"], "start": "22:00", "end": "24:00"},
        {"days": ["Thu"], "start": "00:00", "end": "08:00"},
        {"days": ["Fri"], "start": "17:00", "end": "24:00"},
        {"days": ["Sat", "Sun"], "start": "00:00", "end": "24:00"},
    ]
    sent = window_restrictions([TimeWindow.model_validate(w) for w in windows])
    assert restriction_stretches(sent) == stretches
