"""What no single object can show, checked across the whole set of manifests: references that
point nowhere, teams no rotation uses, escalation policies whose first rule leaves hours of the
week with nobody on call, and each team's humane policy over the next 28 days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from oncall_operator.api import EscalationPolicySpec, OnCallTeamSpec, RotationSpec
from oncall_operator.gitops.documents import Document
from oncall_operator.gitops.rendering import (
    coverage_stretches,
    layer_people,
    local_intervals,
    merged,
    rendered_entries,
)
from oncall_operator.reconcile.references import references_of
from oncall_operator.reconcile.rotation import LOAD_WINDOW, load_window_start
from oncall_operator.translate import load

WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class Parsed:
    """A document whose spec the API models accept, with that spec."""

    document: Document
    spec: OnCallTeamSpec | RotationSpec | EscalationPolicySpec


@dataclass(frozen=True)
class CrossProblem:
    document: Document
    path: str
    message: str


@dataclass
class _Namespace:
    teams: dict[str, Parsed]
    rotations: dict[str, Parsed]
    policies: list[Parsed]
    # Every object of the namespace by kind, valid or not: an invalid referent is reported on
    # its own and must not make its referrers point nowhere.
    names: dict[str, set[str]]
    used_teams: set[str]


def _by_namespace(parsed: Sequence[Parsed], documents: Sequence[Document]) -> dict[str, _Namespace]:
    spaces: dict[str, _Namespace] = {}
    for document in documents:
        space = spaces.setdefault(document.namespace, _Namespace({}, {}, [], {}, set()))
        space.names.setdefault(document.kind, set()).add(document.name)
        if document.kind == "Rotation":
            space.used_teams |= references_of(document.kind, document.spec)[0]
    for item in parsed:
        space = spaces.setdefault(item.document.namespace, _Namespace({}, {}, [], {}, set()))
        if isinstance(item.spec, OnCallTeamSpec):
            space.teams.setdefault(item.document.name, item)
        elif isinstance(item.spec, RotationSpec):
            space.rotations.setdefault(item.document.name, item)
        else:
            space.policies.append(item)
    return spaces


def cross_problems(
    parsed: Sequence[Parsed], documents: Sequence[Document], now: dt.datetime
) -> list[CrossProblem]:
    """`parsed`: the objects whose specs are valid; `documents`: every object of our kinds."""
    problems: list[CrossProblem] = []
    for namespace, space in _by_namespace(parsed, documents).items():
        where = f"namespace {namespace}" if namespace else "the manifests"
        problems += _references(space, where)
        problems += _unused_teams(space)
        problems += _first_rule_gaps(space, now)
        problems += _humane_policy(space, now)
    return problems


def _missing(kind: str, name: str, where: str) -> str:
    return f"Add {kind} {name} to {where} or correct the name: no such {kind} is in the set."


def _references(space: _Namespace, where: str) -> list[CrossProblem]:
    problems = []
    for item in [*space.rotations.values(), *space.policies]:
        spec = item.spec
        assert isinstance(spec, RotationSpec | EscalationPolicySpec)
        if spec.team_ref is not None and spec.team_ref.name not in space.names.get(
            "OnCallTeam", ()
        ):
            problems.append(
                CrossProblem(
                    item.document,
                    "spec.teamRef.name",
                    _missing("OnCallTeam", spec.team_ref.name, where),
                )
            )
        if isinstance(spec, EscalationPolicySpec):
            for r, rule in enumerate(spec.rules):
                for t, target in enumerate(rule.targets):
                    ref = target.rotation_ref
                    if ref is not None and ref.name not in space.names.get("Rotation", ()):
                        problems.append(
                            CrossProblem(
                                item.document,
                                f"spec.rules[{r}].targets[{t}].rotationRef.name",
                                _missing("Rotation", ref.name, where),
                            )
                        )
    return problems


def _unused_teams(space: _Namespace) -> list[CrossProblem]:
    return [
        CrossProblem(
            team.document,
            "metadata.name",
            f"Add a Rotation with teamRef {name} or remove the team: no rotation uses it.",
        )
        for name, team in space.teams.items()
        if name not in space.used_teams
    ]


def _team_of(space: _Namespace, spec: RotationSpec) -> OnCallTeamSpec | None:
    team = space.teams.get(spec.team_ref.name) if spec.team_ref else None
    return team.spec if team is not None and isinstance(team.spec, OnCallTeamSpec) else None


def _covered(
    space: _Namespace, spec: RotationSpec, since: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The instants of [since, since + a week) some layer with participants covers."""
    team = _team_of(space, spec)
    intervals = []
    for layer in spec.layers:
        if not layer_people(spec, layer, team, since):
            continue
        try:
            stretches = coverage_stretches(spec, layer)
        except ValueError:  # coverage that is never on call
            continue
        intervals += local_intervals(stretches, spec.time_zone, since, since + WEEK)
    return intervals


def _first_rule_gaps(space: _Namespace, now: dt.datetime) -> list[CrossProblem]:
    # The coming week from Monday 00:00 UTC: one fixed stretch of time for every time zone.
    monday = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time(), dt.UTC)
    since = monday + dt.timedelta(days=7 - monday.weekday())
    problems = []
    for item in space.policies:
        spec = item.spec
        assert isinstance(spec, EscalationPolicySpec)
        first = spec.rules[0]
        if any(target.user is not None for target in first.targets):
            continue  # a user is paged at any hour
        names = [t.rotation_ref.name for t in first.targets if t.rotation_ref is not None]
        if not all(_judgeable(space, name) for name in names):
            continue  # a missing or invalid object has a finding of its own
        covered = [
            interval
            for name in names
            for interval in _covered(space, _rotation_spec(space.rotations[name]), since)
        ]
        gaps = _gaps(merged(covered), since, since + WEEK)
        if gaps:
            hours = sum((end - start for start, end in gaps), dt.timedelta()) / dt.timedelta(
                hours=1
            )
            start, end = gaps[0]
            first_gap = (
                "all week"
                if end - start == WEEK
                else f"the first from {start:%a %H:%M} to {end:%a %H:%M} UTC"
            )
            problems.append(
                CrossProblem(
                    item.document,
                    "spec.rules[0].targets",
                    f"Add a target that covers the gaps: the first rule leaves {hours:g} hours of "
                    f"the week of {since.date()} with nobody on call, {first_gap}.",
                )
            )
    return problems


def _judgeable(space: _Namespace, rotation_name: str) -> bool:
    """The rotation and its team (if any) are in the set and valid."""
    rotation = space.rotations.get(rotation_name)
    if rotation is None:
        return False
    team_ref = _rotation_spec(rotation).team_ref
    return team_ref is None or team_ref.name in space.teams


def _rotation_spec(item: Parsed) -> RotationSpec:
    assert isinstance(item.spec, RotationSpec)
    return item.spec


def _gaps(
    covered: Sequence[tuple[dt.datetime, dt.datetime]], since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    gaps = []
    cursor = since
    for start, end in covered:
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < until:
        gaps.append((cursor, until))
    return gaps


def _humane_policy(space: _Namespace, now: dt.datetime) -> list[CrossProblem]:
    problems = []
    for rotation in space.rotations.values():
        spec = rotation.spec
        assert isinstance(spec, RotationSpec)
        team = _team_of(space, spec)
        policy = team.policy if team is not None else None
        if policy is None or (policy.max_on_call_percent is None and policy.min_rest_hours is None):
            continue
        since = load_window_start(spec, now)
        entries = rendered_entries(spec, team, since, since + LOAD_WINDOW)
        people = {str(e["user"]["id"]): str(e["user"]["id"]) for e in entries}
        for breach in load.sustainability_breaches(
            entries, people, policy, since, since + LOAD_WINDOW
        ):
            problems.append(
                CrossProblem(
                    rotation.document,
                    "spec.layers",
                    f"Rebalance the rotation or add people: {breach}.",
                )
            )
    return problems
