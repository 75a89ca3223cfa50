"""examples/ is documentation that must stay true: every manifest parses with the API models,
every person is seeded in users.yaml and every reference resolves inside its example set."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from oncall_operator.api import (
    API_VERSION,
    EscalationPolicySpec,
    OnCallTeamSpec,
    RotationSpec,
    TeamRole,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPEC_MODELS: dict[str, type[BaseModel]] = {
    "OnCallTeam": OnCallTeamSpec,
    "Rotation": RotationSpec,
    "EscalationPolicy": EscalationPolicySpec,
}
# An example set is applied as a unit: one directory under features/, or the virtual team.
EXAMPLE_SETS = sorted(
    [EXAMPLES / "virtual-team", *(p for p in (EXAMPLES / "features").iterdir() if p.is_dir())]
)


# Installation examples (secrets, GitOps tools), not on-call objects; tests/ship checks them.
INSTALL_EXAMPLES = {"external-secrets", "flux"}


def manifests(directory: Path = EXAMPLES) -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, doc)
        for path in sorted(directory.rglob("*.yaml"))
        if path.name != "users.yaml"
        and not set(path.relative_to(EXAMPLES).parts[:1]) & INSTALL_EXAMPLES
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def oncall_objects(directory: Path = EXAMPLES) -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path, doc in manifests(directory) if doc["kind"] in SPEC_MODELS]


def emails_in(kind: str, spec: BaseModel) -> set[str]:
    if isinstance(spec, OnCallTeamSpec):
        return {m.email for m in spec.members}
    if isinstance(spec, RotationSpec):
        return {e for layer in spec.layers for e in layer.participants.emails or []}
    assert isinstance(spec, EscalationPolicySpec), kind
    return {t.user.email for rule in spec.rules for t in rule.targets if t.user}


def parsed(doc: dict[str, Any]) -> BaseModel:
    return SPEC_MODELS[doc["kind"]].model_validate(doc["spec"])


def seeded_emails() -> set[str]:
    users = yaml.safe_load((EXAMPLES / "users.yaml").read_text())["users"]
    assert all(set(user) == {"name", "email", "time_zone"} for user in users)
    return {user["email"].lower() for user in users}


@pytest.mark.parametrize(
    ("path", "doc"),
    oncall_objects(),
    ids=[f"{p.relative_to(EXAMPLES)}:{d['metadata']['name']}" for p, d in oncall_objects()],
)
def test_every_example_parses_with_the_models(path: Path, doc: dict[str, Any]) -> None:
    assert doc["apiVersion"] == API_VERSION
    assert doc["metadata"]["namespace"] in {"oncall", "oncall-features"}
    parsed(doc)


def test_only_known_kinds_and_namespaces_first() -> None:
    kinds = Counter(doc["kind"] for _, doc in manifests())
    assert set(kinds) == {"Namespace", *SPEC_MODELS}
    namespaces = {doc["metadata"]["name"] for _, doc in manifests() if doc["kind"] == "Namespace"}
    assert namespaces == {doc["metadata"]["namespace"] for _, doc in oncall_objects()}


def test_every_email_is_seeded_in_users_yaml() -> None:
    seeded = seeded_emails()
    used = {e.lower() for _, doc in oncall_objects() for e in emails_in(doc["kind"], parsed(doc))}
    assert used - seeded == set()
    assert all(email.endswith("@example.com") for email in seeded)


@pytest.mark.parametrize("example_set", EXAMPLE_SETS, ids=lambda p: p.name)
def test_every_reference_resolves_inside_its_example_set(example_set: Path) -> None:
    names = {(doc["kind"], doc["metadata"]["name"]) for _, doc in oncall_objects(example_set)}
    for _, doc in oncall_objects(example_set):
        spec = parsed(doc)
        team_ref = getattr(spec, "team_ref", None)
        if team_ref is not None:
            assert ("OnCallTeam", team_ref.name) in names, doc["metadata"]["name"]
        if isinstance(spec, EscalationPolicySpec):
            for rule in spec.rules:
                for target in rule.targets:
                    if target.rotation_ref is not None:
                        assert ("Rotation", target.rotation_ref.name) in names


def test_names_are_unique_per_kind_and_namespace() -> None:
    keys = Counter(
        (doc["kind"], doc["metadata"]["namespace"], doc["metadata"]["name"])
        for _, doc in oncall_objects()
    )
    assert [key for key, count in keys.items() if count > 1] == []


def find(kind: str, name: str) -> Any:
    (doc,) = [d for _, d in oncall_objects(EXAMPLES / "virtual-team") if (d["kind"], d["metadata"]["name"]) == (kind, name)]  # fmt: skip
    return parsed(doc)


def test_virtual_team_is_the_practice_from_the_brief() -> None:
    written = dt.date(2026, 12, 2)  # when the cohorts were last rolled on (a fixed clock)
    volunteers = find("OnCallTeam", "out-of-hours")
    # Seven volunteers share the weeks every day of the year after, and someone stays for
    # three months more: the examples stay valid for at least a year.
    for offset in range(365):
        day = written + dt.timedelta(days=offset)
        active = [m for m in volunteers.members if m.is_active(day)]
        assert len(active) == 7 or day > dt.date(2027, 11, 30), (day, len(active))
        assert len(active) >= 4, day
    assert all(
        m.since and m.until and 175 <= (m.until - m.since).days <= 185 for m in volunteers.members
    )
    assert any(m.away for m in volunteers.members), "time off is shown"
    assert volunteers.policy is not None and volunteers.policy.term_warning_days != 14
    assert volunteers.policy is not None
    assert find("Rotation", "out-of-hours-weekly").layers[0].coverage == "OutOfHours"
    assert find("Rotation", "out-of-hours-weekly").layers[0].shift_length == "1w"
    for product in ("payments", "search"):
        rotation = find("Rotation", f"{product}-business-hours")
        assert rotation.time_zone == "Europe/Dublin"
        assert [layer.coverage for layer in rotation.layers] == ["BusinessHours"]
        first, last = find("EscalationPolicy", f"{product}-alerts").rules
        assert first.escalate_after_minutes == 15
        assert [t.rotation_ref.name for t in first.targets] == [
            f"{product}-business-hours",
            "out-of-hours-weekly",
        ]
        assert [t.rotation_ref.name for t in last.targets] == ["engineering-managers"]
    managers = find("OnCallTeam", "engineering-managers")
    assert {m.role for m in managers.members} == {TeamRole.MANAGER}
    assert find("Rotation", "engineering-managers").layers[0].participants.from_team.roles == [
        TeamRole.MANAGER
    ]


def test_feature_examples_cover_every_feature() -> None:
    specs = [parsed(doc) for _, doc in oncall_objects(EXAMPLES / "features")]
    layers = [layer for s in specs if isinstance(s, RotationSpec) for layer in s.layers]
    rules = [rule for s in specs if isinstance(s, EscalationPolicySpec) for rule in s.rules]
    docs = [doc for _, doc in oncall_objects(EXAMPLES / "features")]
    assert any(s.pagerduty is not None for s in specs), "adopt"
    assert any(layer.coverage == "Custom" for layer in layers), "custom windows"
    assert {layer.changes_take_effect for layer in layers} == {"NextHandoff", "Immediately"}
    assert any(s.deletion_policy == "Orphan" for s in specs), "orphan"
    assert any(
        d["metadata"].get("annotations", {}).get("oncall.dev/paused") == "true" for d in docs
    )
    assert any(layer.participants.emails for layer in layers), "explicit emails"
    assert any(isinstance(s, RotationSpec) and len(s.layers) > 1 for s in specs), "multi-layer"
    assert any(t.user for rule in rules for t in rule.targets), "user target"
    assert any(isinstance(s, OnCallTeamSpec) and s.policy for s in specs), "policy limits"


def test_e2e_moves_the_example_dates_by_whole_weeks() -> None:
    from tests.e2e import examples

    later = examples.virtual_team(examples.EXAMPLES_WRITTEN + dt.timedelta(days=400))
    team = next(m for m in later if m["metadata"]["name"] == "out-of-hours")
    ivy = next(m for m in team["spec"]["members"] if m["email"] == "ivy@example.com")
    assert (ivy["since"], ivy["until"], ivy["away"][0]["from"]) == (
        "2027-10-05",
        "2028-04-02",
        "2028-02-15",
    )
    assert examples.virtual_team(examples.EXAMPLES_WRITTEN) == examples.manifests(
        examples.EXAMPLES / "virtual-team"
    )
