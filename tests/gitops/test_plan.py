"""`oncall-operator plan` against the emulator: it only ever reads; every example plans its
creation on an empty account and nothing once converged; edits show field by field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from oncall_operator import cli
from oncall_operator.gitops import plan as plan_command
from oncall_operator.gitops.documents import read_documents
from oncall_operator.gitops.plan import reconcile_all
from oncall_operator.pagerduty import PagerDutyClient
from oncall_testbed.emulator import EmulatorServer
from tests.gitops.manifests import dump, layer, policy, rotation, team

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SETS = [
    ROOT / "examples" / "virtual-team",
    *sorted(
        p for p in (ROOT / "examples" / "features").iterdir() if p.is_dir() and p.name != "adopt"
    ),
]
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_command, "utc_now", lambda: NOW)


def methods(account: EmulatorServer) -> set[str]:
    return {str(r["method"]) for r in account.requests()}


def plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["plan", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def converge(client: PagerDutyClient, *paths: str) -> None:
    for done in reconcile_all(client, read_documents(list(paths)), NOW):
        paused = "oncall.dev/paused" in str(done.document.body)
        assert done.outcome.ready != paused, done.outcome.status["conditions"]


@pytest.mark.parametrize("example", EXAMPLE_SETS, ids=[p.name for p in EXAMPLE_SETS])
def test_every_example_plans_its_creation_then_nothing_once_converged(
    account: EmulatorServer,
    pagerduty: PagerDutyClient,
    capsys: pytest.CaptureFixture[str],
    example: Path,
) -> None:
    objects = [d for d in read_documents([str(example)]) if d.is_ours()]
    paused = [d for d in objects if "oncall.dev/paused" in str(d.body)]

    code, out, _ = plan(capsys, str(example))

    created = [line for line in out.splitlines() if line.startswith("+ create ")]
    assert len(created) == len(objects) - len(paused)
    assert code == (2 if created else 0), out
    assert methods(account) == {"GET"}

    converge(pagerduty, str(example))
    account.clear_requests()
    code, out, _ = plan(capsys, str(example))

    notes = [f"! {d.namespace}/{d.kind}/{d.name}: Paused: " for d in paused]
    assert code == 0
    assert [line[: len(n)] for line, n in zip(out.splitlines(), notes, strict=False)] == notes
    assert out.splitlines()[len(paused) :] == ["No changes: PagerDuty matches the manifests."]
    assert methods(account) == {"GET"}


def test_edits_show_field_by_field_with_layers_by_name_and_people_by_email(
    account: EmulatorServer,
    pagerduty: PagerDutyClient,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    before = tmp_path / "before.yaml"
    before.write_text(dump(team(), rotation(), policy(repeat=1), policy("gone")))
    converge(pagerduty, str(before))
    after = tmp_path / "after.yaml"
    edited_layer = layer(
        participants={"emails": ["ana@example.com", "cy@example.com"]},
        changesTakeEffect="Immediately",
    )
    extra = layer(name="weekend", coverage="Custom", windows=[{"days": ["Sat", "Sun"], "start": "00:00", "end": "24:00"}], participants={"emails": ["bo@example.com"]})  # fmt: skip
    after.write_text(
        dump(
            team(displayName="Team T", members=[{"email": "ana@example.com"}, {"email": "cy@example.com", "role": "manager"}]),
            rotation(layers=[edited_layer, extra]),
            policy(repeat=2, targets=[{"rotationRef": {"name": "r"}}, {"user": {"email": "cto@example.com"}}]),
        )
    )  # fmt: skip
    account.clear_requests()

    code, out, _ = plan(capsys, str(after))

    assert code == 2
    assert methods(account) == {"GET"}
    lines = out.splitlines()
    assert lines[0].startswith("~ change PagerDuty team ") and lines[0].endswith(
        " 'Team T' (team-a/OnCallTeam/t)"
    )
    # bo stays a member: PagerDuty itself adds a schedule's users to its team (Advanced
    # Permissions), and the operator keeps members added that way.
    assert lines[1:3] == ["    ~ name: 't' -> 'Team T'", "    + member cy@example.com (manager)"]
    assert lines[3].startswith("~ change PagerDuty schedule ") and lines[3].endswith(
        " 'r' (team-a/Rotation/r)"
    )
    assert lines[4:6] == [
        "    ~ layer primary: users [ana@example.com, bo@example.com] -> [ana@example.com, cy@example.com]",
        "    + layer weekend: users [bo@example.com], shifts of 168h handing off at 2026-01-05T09:00:00+00:00, on call Sat 00:00 for 48h",
    ]
    assert lines[6].startswith("~ change PagerDuty escalation policy ")
    assert lines[7:9] == [
        "    ~ num loops: 1 -> 2",
        "    ~ rule 1: after 10 min page rotation r -> rule 1: after 10 min page rotation r, user cto@example.com",
    ]
    assert lines[9].startswith("- delete PagerDuty escalation policy ") and lines[9].endswith(
        " 'gone' (team-a/EscalationPolicy/gone)"
    )
    assert lines[-1] == "Plan: 0 to create, 3 to change, 0 to end, 1 to delete."


def test_a_removed_layer_is_ended_and_next_handoff_edits_say_when(
    account: EmulatorServer,
    pagerduty: PagerDutyClient,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    weekend = layer(name="weekend", participants={"emails": ["bo@example.com"]}, shiftLength="1d")
    before = tmp_path / "before.yaml"
    before.write_text(dump(team(), rotation(layers=[layer(), weekend]), policy()))
    converge(pagerduty, str(before))
    after = tmp_path / "after.yaml"
    after.write_text(dump(team(), rotation(layers=[layer(shiftLength="2w")]), policy()))

    code, out, _ = plan(capsys, str(after))

    lines = out.splitlines()
    assert code == 2
    assert lines[1:] == [
        "    ~ layer primary: shift 168h -> 336h (from 2026-12-07T09:00:00+00:00, the next handoff)",
        "    - layer primary: the current version ends at 2026-12-07T09:00:00+00:00",
        "    - layer weekend ends now",
        "Plan: 0 to create, 1 to change, 2 to end, 0 to delete.",
    ]


def test_json_output_and_errors(
    account: EmulatorServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(dump(team(), rotation(), policy()))

    code, out, _ = plan(capsys, str(path), "--output", "json")

    report = json.loads(out)
    assert code == 2
    assert report["summary"] == {"create": 3, "change": 0, "end": 0, "delete": 0}
    assert [(c["action"], c["kind"], c["resource"]) for c in report["changes"]] == [
        ("create", "team", "team-a/OnCallTeam/t"),
        ("create", "schedule", "team-a/Rotation/r"),
        ("create", "escalation policy", "team-a/EscalationPolicy/p"),
    ]

    broken = tmp_path / "broken.yaml"
    broken.write_text(dump(rotation(layer=layer(shiftLength="5m"))))
    code, out, err = plan(capsys, str(broken))
    assert (code, out) == (1, "")
    assert "shiftLength must be at least 1h." in err

    account.set_token("another-token")
    code, out, err = plan(capsys, str(path))
    assert code == 1
    assert "gitops-token" not in out + err


def test_a_converged_plan_reads_through_the_read_model(
    account: EmulatorServer, pagerduty: PagerDutyClient, capsys: pytest.CaptureFixture[str]
) -> None:
    example = ROOT / "examples" / "virtual-team"
    objects = [d for d in read_documents([str(example)]) if d.is_ours()]
    converge(pagerduty, str(example))
    account.clear_requests()

    assert plan(capsys, str(example))[0] == 0

    # Collections are listed once (the operator's read model), not read object by object:
    # 17 requests for these 10 objects when measured (one page-log scan shared by the teams);
    # at most 2 per object.
    requests = account.requests()
    print(f"plan of {len(objects)} converged objects: {len(requests)} requests")
    assert len(requests) <= 2 * len(objects)
    assert sum(1 for r in requests if str(r["path"]).startswith("/teams?")) == 1


def test_the_adopt_example_on_an_account_without_its_team_is_an_error(
    account: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = plan(capsys, str(ROOT / "examples" / "features" / "adopt"))

    assert code == 1
    assert "error: oncall-features/OnCallTeam/adopted-team: " in err
    assert "spec.pagerduty.id: PagerDuty has no team PADOPT1 to adopt." in err
    assert methods(account) == {"GET"}
