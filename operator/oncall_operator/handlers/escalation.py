"""EscalationPolicy handlers: also reconciled within seconds of a target rotation or its team changing."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from oncall_operator.handlers.kinds import KindHandlers, register
from oncall_operator.reconcile import escalation as domain
from oncall_operator.reconcile.model import References

KIND = "EscalationPolicy"


def referents_fingerprint(spec: Mapping[str, Any], refs: References) -> Hashable:
    """What of its referents a policy depends on: ids and readiness of its team and rotations."""
    team_names, rotation_names = domain.references_of(KIND, spec)
    teams = tuple(
        (name, team.pagerduty_id, team.ready) if (team := refs.teams.get(name)) else (name,)
        for name in sorted(team_names)
    )
    rotations = tuple(
        (name, rotation.pagerduty_id, rotation.ready)
        if (rotation := refs.rotations.get(name))
        else (name,)
        for name in sorted(rotation_names)
    )
    return teams, rotations


register(
    KindHandlers(
        KIND,
        "escalationpolicies",
        domain.reconcile_escalation_policy,
        domain.delete_escalation_policy,
        referents_fingerprint,
    )
)
