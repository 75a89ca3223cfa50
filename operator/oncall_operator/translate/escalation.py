"""EscalationPolicy -> PagerDuty escalation policy document, and its normal form for drift."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oncall_operator.api import EscalationPolicySpec, HandoffNotifications
from oncall_operator.translate.drift import difference, text_difference
from oncall_operator.translate.identity import ObjectIdentity, managed_description

_HANDOFF_NOTIFICATIONS = {
    HandoffNotifications.IF_HAS_SERVICES: "if_has_services",
    HandoffNotifications.ALWAYS: "always",
}
# PagerDuty answers with either the reference type or the plain object type.
_TARGET_TYPES = {"schedule": "schedule_reference", "user": "user_reference"}


def escalation_policy_doc(
    identity: ObjectIdentity,
    spec: EscalationPolicySpec,
    schedule_ids: Mapping[str, str],
    user_ids: Mapping[str, str],
    team_id: str | None,
) -> dict[str, Any]:
    """Body of an escalation policy create or update.

    `schedule_ids`: Rotation name -> PagerDuty schedule id; `user_ids`: lower-cased email ->
    PagerDuty user id. A target missing from them is refused naming its field path.
    """
    rules = []
    for r, rule in enumerate(spec.rules):
        targets = []
        for t, target in enumerate(rule.targets):
            path = f"spec.rules[{r}].targets[{t}]"
            if target.rotation_ref is not None:
                name = target.rotation_ref.name
                if name not in schedule_ids:
                    raise ValueError(
                        f"{path}.rotationRef: Rotation {name} has no PagerDuty schedule"
                    )
                targets.append({"id": schedule_ids[name], "type": "schedule_reference"})
            elif target.user is not None:
                email = target.user.email
                if email.lower() not in user_ids:
                    raise ValueError(f"{path}.user.email: no PagerDuty user has the email {email}")
                targets.append({"id": user_ids[email.lower()], "type": "user_reference"})
        rules.append(
            {"escalation_delay_in_minutes": rule.escalate_after_minutes, "targets": targets}
        )
    return {
        "type": "escalation_policy",
        "name": spec.display_name or identity.name,
        "description": managed_description(spec.description, identity),
        "escalation_rules": rules,
        "num_loops": spec.repeat,
        "on_call_handoff_notifications": _HANDOFF_NOTIFICATIONS[spec.handoff_notifications],
        "teams": [] if team_id is None else [{"id": team_id, "type": "team_reference"}],
    }


def _rules(policy: Mapping[str, Any]) -> list[tuple[int, tuple[tuple[str, str], ...]]]:
    return [
        (
            int(rule.get("escalation_delay_in_minutes") or 0),
            tuple(
                (_TARGET_TYPES.get(str(t.get("type")), str(t.get("type"))), str(t.get("id")))
                for t in rule.get("targets") or []
            ),
        )
        for rule in policy.get("escalation_rules") or []
    ]


def _normal_form(policy: Mapping[str, Any]) -> dict[str, object]:
    return {
        "name": policy.get("name") or "",
        "description": policy.get("description") or "",
        "num_loops": int(policy.get("num_loops") or 0),
        "on_call_handoff_notifications": policy.get("on_call_handoff_notifications")
        or "if_has_services",
        "teams": sorted(str(team.get("id")) for team in policy.get("teams") or []),
    }


def escalation_policy_drift(
    existing: Mapping[str, Any],
    desired: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
) -> list[str]:
    """[] when PagerDuty's policy matches the desired one on what the spec owns; else one
    readable line per difference, saying what PagerDuty has and what the spec wants
    (translate.drift; a user target by the email `names` gives for its id). Rule ids, services
    and read-only fields are ignored."""
    names = names or {}
    have, want = _normal_form(existing), _normal_form(desired)
    lines = [
        text_difference(field, str(have[field]), str(want[field]))
        if isinstance(want[field], str)
        else difference(field, have[field], want[field])
        for field in want
        if have[field] != want[field]
    ]
    have_rules, want_rules = _rules(existing), _rules(desired)
    if len(have_rules) != len(want_rules):
        lines.append(
            f"escalation rules differ: PagerDuty has {len(have_rules)}, the spec wants "
            f"{len(want_rules)}"
        )
        return lines
    for index, (got, wanted) in enumerate(zip(have_rules, want_rules, strict=True)):
        if got[0] != wanted[0]:
            lines.append(
                difference(
                    f"rule {index + 1}: escalation delay", f"{got[0]} min", f"{wanted[0]} min"
                )
            )
        if got[1] != wanted[1]:
            lines.append(
                difference(
                    f"rule {index + 1}: targets",
                    _targets(got[1], names),
                    _targets(wanted[1], names),
                )
            )
    return lines


def _targets(targets: tuple[tuple[str, str], ...], names: Mapping[str, str]) -> str:
    """`[schedule PS1, user a@example.com]`."""
    shown = [
        f"{kind.removesuffix('_reference')} {names.get(target_id, target_id)}"
        for kind, target_id in targets
    ]
    return "[" + ", ".join(shown) + "]"
