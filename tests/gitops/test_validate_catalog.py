"""`oncall-operator validate` on a catalog of broken manifests, each with the exact finding it must
print and exit 1; clean sets exit 0; unreadable input and usage errors exit 2."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from oncall_operator import cli
from oncall_operator.gitops import validate
from tests.gitops.manifests import (
    LAYER,
    NS,
    dump,
    layer,
    obj,
    policy,
    rotation,
    team,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
WINDOW = {"days": ["Sat"], "start": "09:00", "end": "17:00"}
USER = {"user": {"email": "cto@example.com"}}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate, "utc_now", lambda: NOW)


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["validate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def with_team(**spec: Any) -> list[dict[str, Any]]:
    return [team(**spec), rotation(), policy()]


def with_rotation(**spec: Any) -> list[dict[str, Any]]:
    return [team(), rotation(**spec), policy()]


def with_layer(**changes: Any) -> list[dict[str, Any]]:
    return [team(), rotation(layer=layer(**changes)), policy()]


def with_policy(**spec: Any) -> list[dict[str, Any]]:
    return [team(), rotation(), policy(**spec)]


T, R, P = "0: OnCallTeam/t", "1: Rotation/r", "2: EscalationPolicy/p"

# (id, documents, expected lines after the file name: "index: Kind/name: path: message")
CATALOG: list[tuple[str, list[dict[str, Any]], list[str]]] = [
    # --- OnCallTeam ---------------------------------------------------------------------
    ("team-duplicate-email", with_team(members=[{"email": "a@example.com"}, {"email": "A@Example.com"}]),
     [f"{T}: spec.members: each member email may appear only once."]),
    ("team-bad-email", with_team(members=[{"email": "not-an-email"}]),
     ["0: OnCallTeam/t: spec.members[0].email: Write a value matching ^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$ (not 'not-an-email')."]),
    ("team-unknown-role", with_team(members=[{"email": "a@example.com", "role": "owner"}]),
     [f"{T}: spec.members[0].role: Use one of responder, manager, observer (not 'owner')."]),
    ("team-term-backwards", with_team(members=[{"email": "a@example.com", "since": "2027-01-01", "until": "2026-12-31"}]),
     [f"{T}: spec.members[0]: until must not be before since."]),
    ("team-date-format", with_team(members=[{"email": "a@example.com", "until": "31/12/2026"}]),
     [f"{T}: spec.members[0].until: Write a date as YYYY-MM-DD (not '31/12/2026')."]),
    ("team-percent-zero", with_team(policy={"maxOnCallPercent": 0}),
     [f"{T}: spec.policy.maxOnCallPercent: Use a number of at least 1."]),
    ("team-percent-over", with_team(policy={"maxOnCallPercent": 101}),
     [f"{T}: spec.policy.maxOnCallPercent: Use a number of at most 100."]),
    ("team-empty-display-name", with_team(displayName=""),
     [f"{T}: spec.displayName: Give at least 1 character."]),
    ("team-misspelt-field", with_team(member=[]),
     [f"{T}: spec.member: Remove the unknown field member (check its spelling)."]),
    ("team-policy-time-zone", with_team(policy={"timeZone": "Mars/Olympus"}),
     [f"{T}: spec.policy.timeZone: not an IANA time zone name (e.g. Europe/Dublin)."]),
    ("team-business-days-repeat", with_team(policy={"businessHours": {"days": ["Mon", "Mon"]}}),
     [f"{T}: spec.policy.businessHours.days: days must not repeat."]),
    ("team-members-not-a-list", with_team(members="ana@example.com"),
     [f"{T}: spec.members: Write an array here, not a string."]),
    ("team-adopt-id-lowercase", with_team(pagerduty={"id": "pabc"}),
     [f"{T}: spec.pagerduty.id: Write a value matching ^[A-Z0-9]+$ (not 'pabc')."]),
    # --- Rotation -----------------------------------------------------------------------
    ("rotation-no-participants", with_layer(participants={}),
     [f"{R}: spec.layers[0].participants: participants needs exactly one of fromTeam or emails."]),
    ("rotation-both-participants", with_layer(participants={"fromTeam": {}, "emails": ["a@example.com"]}),
     [f"{R}: spec.layers[0].participants: participants needs exactly one of fromTeam or emails."]),
    ("rotation-windows-without-custom", with_layer(windows=[WINDOW]),
     [f"{R}: spec.layers[0]: windows are required with coverage Custom and allowed only with it."]),
    ("rotation-custom-without-windows", with_layer(coverage="Custom"),
     [f"{R}: spec.layers[0]: windows are required with coverage Custom and allowed only with it."]),
    ("rotation-layer-names-repeat", with_rotation(layers=[LAYER, LAYER]),
     [f"{R}: spec.layers: layer names must be unique."]),
    ("rotation-from-team-without-team-ref", [team(), obj("Rotation", "r", {"timeZone": "UTC", "layers": [LAYER]}), policy()],
     [f"{R}: spec: layers with participants.fromTeam need spec.teamRef.",
      f"{T}: metadata.name: Add a Rotation with teamRef t or remove the team: no rotation uses it."]),
    ("rotation-shift-too-short", with_layer(shiftLength="59m"),
     [f"{R}: spec.layers[0].shiftLength: shiftLength must be at least 1h."]),
    ("rotation-shift-unit", with_layer(shiftLength="1y"),
     ["1: Rotation/r: spec.layers[0].shiftLength: Write a value matching ^([0-9]{1,6}[wdhm]){1,4}$ (not '1y').",
      f"{R}: spec.layers[0].shiftLength: shiftLength must be at least 1h."]),
    ("rotation-handoff-not-a-date", with_layer(handoff="2026-02-30T09:00"),
     [f"{R}: spec.layers[0].handoff: handoff is not a real date-time."]),
    ("rotation-coverage-unknown", with_layer(coverage="Weekends"),
     [f"{R}: spec.layers[0].coverage: Use one of Always, BusinessHours, OutOfHours, Custom (not 'Weekends')."]),
    ("rotation-window-start-24", with_layer(coverage="Custom", windows=[{**WINDOW, "start": "24:00"}]),
     [f"{R}: spec.layers[0].windows[0].start: Write a value matching ^([01][0-9]|2[0-3]):[0-5][0-9]$ (not '24:00')."]),
    ("rotation-window-days-repeat", with_layer(coverage="Custom", windows=[{**WINDOW, "days": ["Sat", "Sat"]}]),
     [f"{R}: spec.layers[0].windows[0].days: days must not repeat."]),
    ("rotation-no-time-zone", [team(), obj("Rotation", "r", {"teamRef": {"name": "t"}, "layers": [LAYER]}), policy()],
     [f"{R}: spec.timeZone: Add the required field timeZone."]),
    ("rotation-unknown-time-zone", with_rotation(timeZone="Europe/Atlantis"),
     [f"{R}: spec.timeZone: not an IANA time zone name (e.g. Europe/Dublin)."]),
    ("rotation-no-layers", with_rotation(layers=[]),
     [f"{R}: spec.layers: Give at least 1 item."]),
    ("rotation-changes-take-effect", with_layer(changesTakeEffect="Later"),
     [f"{R}: spec.layers[0].changesTakeEffect: Use one of NextHandoff, Immediately (not 'Later')."]),
    # --- EscalationPolicy -----------------------------------------------------------------
    ("policy-no-targets", [team(), rotation(), obj("EscalationPolicy", "p", {"rules": [{"escalateAfterMinutes": 5, "targets": []}]})],
     [f"{P}: spec.rules[0].targets: Give at least 1 item."]),
    ("policy-empty-target", with_policy(rules=[{"escalateAfterMinutes": 5, "targets": [{}]}]),
     [f"{P}: spec.rules[0].targets[0]: a target needs exactly one of rotationRef or user."]),
    ("policy-target-both", with_policy(rules=[{"escalateAfterMinutes": 5, "targets": [{"rotationRef": {"name": "r"}, **USER}]}]),
     [f"{P}: spec.rules[0].targets[0]: a target needs exactly one of rotationRef or user."]),
    ("policy-zero-minutes", with_policy(rules=[{"escalateAfterMinutes": 0, "targets": [USER]}]),
     [f"{P}: spec.rules[0].escalateAfterMinutes: Use a number of at least 1."]),
    ("policy-repeat-ten", with_policy(repeat=10),
     [f"{P}: spec.repeat: Use a number of at most 9."]),
    ("policy-handoff-notifications", with_policy(handoffNotifications="Never"),
     [f"{P}: spec.handoffNotifications: Use one of IfHasServices, Always (not 'Never')."]),
    ("policy-eleven-targets", with_policy(rules=[{"escalateAfterMinutes": 5, "targets": [{"user": {"email": f"u{i}@example.com"}} for i in range(11)]}]),
     [f"{P}: spec.rules[0].targets: Give at most 10 items."]),
    ("policy-no-rules", with_policy(rules=[]),
     [f"{P}: spec.rules: Give at least 1 item."]),
    # --- any kind -------------------------------------------------------------------------
    ("name-not-dns", [team(), rotation(), {**policy(), "metadata": {"name": "P_1", "namespace": NS}}],
     ["2: EscalationPolicy/P_1: metadata.name: Rename 'P_1': a name is lowercase letters, digits, '-' and '.' (a DNS subdomain)."]),
    ("unserved-version", [team(), rotation(), {**policy(), "apiVersion": "oncall.dev/v1beta1"}],
     [f"{P}: apiVersion: Use apiVersion oncall.dev/v1alpha1."]),
    ("duplicate-object", [team(), rotation(), policy(), policy()],
     ["3: EscalationPolicy/p: metadata.name: Rename or remove this object: {file}:2 already defines EscalationPolicy p."]),
    # --- across objects ---------------------------------------------------------------------
    ("rotation-team-missing", [rotation(), policy(teamRef=None)],
     [f"0: Rotation/r: spec.teamRef.name: Add OnCallTeam t to namespace {NS} or correct the name: no such OnCallTeam is in the set."]),
    ("policy-rotation-missing", [team(), rotation(), policy(targets=[{"rotationRef": {"name": "nightly"}}])],
     [f"{P}: spec.rules[0].targets[0].rotationRef.name: Add Rotation nightly to namespace {NS} or correct the name: no such Rotation is in the set."]),
    ("policy-team-missing", [team(), rotation(), policy(teamRef={"name": "other"})],
     [f"{P}: spec.teamRef.name: Add OnCallTeam other to namespace {NS} or correct the name: no such OnCallTeam is in the set."]),
    ("team-unused", [team(), rotation(), policy(), team("spare")],
     ["3: OnCallTeam/spare: metadata.name: Add a Rotation with teamRef spare or remove the team: no rotation uses it."]),
    ("first-rule-business-hours-only", [team(), rotation(layer=layer(coverage="BusinessHours")), policy()],
     [f"{P}: spec.rules[0].targets: Add a target that covers the gaps: the first rule leaves 128 hours of the week of 2026-12-07 with nobody on call, the first from Mon 00:00 to Mon 09:00 UTC."]),
    ("first-rule-nobody-in-team", [team(members=[{"email": "m@example.com", "role": "manager"}]), rotation(), policy()],
     [f"{P}: spec.rules[0].targets: Add a target that covers the gaps: the first rule leaves 168 hours of the week of 2026-12-07 with nobody on call, all week."]),
    ("humane-on-call-share", with_team(policy={"maxOnCallPercent": 25}),
     [f"{R}: spec.layers: Rebalance the rotation or add people: ana@example.com is on call 50% of the next 28 days (policy maxOnCallPercent 25).",
      f"{R}: spec.layers: Rebalance the rotation or add people: bo@example.com is on call 50% of the next 28 days (policy maxOnCallPercent 25)."]),
    ("humane-rest", [team(policy={"minRestHours": 200}), rotation(layer=layer(shiftLength="1w")), policy()],
     [f"{R}: spec.layers: Rebalance the rotation or add people: bo@example.com has 168h rest between shifts ending 2026-12-07T09:00Z and starting 2026-12-14T09:00Z (policy minRestHours 200).",
      f"{R}: spec.layers: Rebalance the rotation or add people: ana@example.com has 168h rest between shifts ending 2026-12-14T09:00Z and starting 2026-12-21T09:00Z (policy minRestHours 200)."]),
]  # fmt: skip


def test_the_catalog_is_large_and_covers_every_kind() -> None:
    assert len(CATALOG) >= 30
    assert {case_id.split("-")[0] for case_id, _, _ in CATALOG} >= {"team", "rotation", "policy"}


@pytest.mark.parametrize(("case_id", "documents", "expected"), CATALOG, ids=[c[0] for c in CATALOG])
def test_each_broken_manifest_gives_its_exact_finding(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case_id: str,
    documents: list[dict[str, Any]],
    expected: list[str],
) -> None:
    path = tmp_path / f"{case_id}.yaml"
    path.write_text(dump(*documents))

    code, out, err = run(tmp_path, capsys, str(path))

    assert out.splitlines() == [f"{path}:{line.replace('{file}', str(path))}" for line in expected]
    assert code == 1
    n = len(expected)
    assert err.strip().startswith(f"{n} finding{'s' * (n != 1)} in ")


def test_a_clean_set_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clean.yaml"
    path.write_text(dump(team(), rotation(), policy()))

    assert run(tmp_path, capsys, str(path)) == (0, "", "0 findings in 3 objects.\n")


def test_the_virtual_team_example_is_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(tmp_path, capsys, str(ROOT / "examples" / "virtual-team"))

    assert (code, out) == (0, "")


def test_the_feature_examples_show_only_their_teams_without_rotations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(tmp_path, capsys, str(ROOT / "examples" / "features"))

    unused = [line.split(": ")[1] for line in out.splitlines()]
    assert code == 1
    assert unused == [
        "OnCallTeam/adopted-team",
        "OnCallTeam/orphan-on-delete",
        "OnCallTeam/paused-team",
    ]
    assert all("no rotation uses it." in line for line in out.splitlines())


def test_stdin_folders_json_and_other_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "team.yml").write_text(
        dump(team(), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    )
    (tmp_path / "notes.txt").write_text("not: [yaml")
    stream = dump(rotation(layer=layer(shiftLength="30m")), policy())
    monkeypatch.setattr("sys.stdin", io.StringIO(stream))

    code, out, _ = run(tmp_path, capsys, str(tmp_path), "-", "--output", "json")

    report = json.loads(out)
    assert code == 1
    assert report == {
        "checked": 3,
        "findings": [
            {"file": "<stdin>", "index": 0, "kind": "Rotation", "name": "r", "path": "spec.layers[0].shiftLength", "message": "shiftLength must be at least 1h."},
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "no such file or directory"), ("a: [b", "not valid YAML")],
    ids=["missing", "not-yaml"],
)
def test_unreadable_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, words: str
) -> None:
    path = tmp_path / "input.yaml"
    if content is not None:
        path.write_text(content)

    code, out, err = run(tmp_path, capsys, str(path))

    assert (code, out) == (2, "")
    assert words in err


def test_no_path_is_a_usage_error_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["validate"])
    assert exited.value.code == 2


def test_a_crds_folder_without_crds_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(dump(team()))

    code, _, err = run(tmp_path, capsys, str(path), "--crds", str(tmp_path / "nothing"))

    assert code == 2
    assert "holds no CustomResourceDefinition" in err


def test_the_crds_folder_of_the_repository_gives_the_same_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(dump(*with_layer(shiftLength="30m")))

    built_in = run(tmp_path, capsys, str(path))
    from_files = run(tmp_path, capsys, str(path), "--crds", str(ROOT / "crds"))

    assert built_in == from_files
    assert built_in[0] == 1


def test_rule_options_field_path_message_expression_and_transition_rules() -> None:
    from oncall_operator.gitops.schema import check_object

    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "x-kubernetes-validations": [
                    {"rule": "self.a < self.b", "fieldPath": ".b", "messageExpression": "'b must exceed ' + string(self.a)"},
                    {"rule": "self.a == 0", "message": "a must be zero", "fieldPath": "a"},
                    {"rule": "self.a == oldSelf.a", "message": "a is immutable"},
                ],
            }
        },
    }  # fmt: skip
    body = {"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n"}, "spec": {"a": 3, "b": 1}}

    found = [(p.path, p.message) for p in check_object(body, schema)]

    assert found == [("spec.b", "b must exceed 3."), ("spec.a", "a must be zero.")]
