"""Rotation handlers: also reconciled within seconds of its team changing (members, id, readiness)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from oncall_operator.handlers.glue import on_call_fingerprint
from oncall_operator.handlers.kinds import KindHandlers, register
from oncall_operator.reconcile import rotation as domain
from oncall_operator.reconcile.model import References

KIND = "Rotation"


def team_fingerprint(spec: Mapping[str, Any], refs: References) -> Hashable:
    """What of its team a rotation depends on: the team's id, readiness and members, and the
    on-call time its people have in other rotations (load across rotations)."""
    team_names, _ = domain.references_of(KIND, spec)
    teams = tuple(
        (name, team.pagerduty_id, team.ready, repr(team.spec))
        if (team := refs.teams.get(name))
        else (name,)
        for name in sorted(team_names)
    )
    people = [
        str(m.get("email") or "")
        for name in team_names
        if (team := refs.teams.get(name)) is not None
        for m in (team.spec or {}).get("members") or []
    ]
    people += [
        e
        for layer in spec.get("layers") or []
        for e in (layer.get("participants") or {}).get("emails") or []
    ]
    return teams, on_call_fingerprint(refs, people)


register(
    KindHandlers(
        KIND, "rotations", domain.reconcile_rotation, domain.delete_rotation, team_fingerprint
    )
)
