"""EscalationPolicy -> a PagerDuty escalation policy.

Every target must resolve before anything is written (a policy with a target left out would page
the wrong people): each rotationRef to a Rotation that is in PagerDuty, each user email to a
PagerDuty user, the teamRef to a team in PagerDuty. Until then Ready=False WaitingForReferences
and ReferencesResolved=False says what is missing. As for rotations, a referent counts once it
exists in PagerDuty, whether or not its own Ready is True.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from oncall_operator import conditions
from oncall_operator.api import EscalationPolicySpec
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import PagerDutyError
from oncall_operator.reconcile.adoption import PagerDutyKind, delete_managed, locate
from oncall_operator.reconcile.errors import AdoptionFailed
from oncall_operator.reconcile.model import Event, ObjectMeta, Outcome, References
from oncall_operator.reconcile.references import references_of
from oncall_operator.reconcile.status import StatusDraft, begin, listed
from oncall_operator.reconcile.users import emails_of, resolve_emails
from oncall_operator.translate import escalation as translate_escalation
from oncall_operator.translate.identity import ObjectIdentity

__all__ = ["delete_escalation_policy", "reconcile_escalation_policy", "references_of"]

KIND = "EscalationPolicy"


def policies_of(client: PagerDutyClient) -> PagerDutyKind:
    return PagerDutyKind(
        label="escalation policy",
        get=client.get_escalation_policy,
        find=client.find_escalation_policies,
        delete=client.delete_escalation_policy,
    )


def reconcile_escalation_policy(
    client: PagerDutyClient,
    meta: ObjectMeta,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    refs: References,
    now: dt.datetime,
) -> Outcome:
    """Make the PagerDuty escalation policy match the spec; return the full new status."""
    draft, parsed = begin(EscalationPolicySpec, meta, spec, status, now)
    if parsed is None:
        return draft.outcome()
    missing = _missing_references(parsed, refs)
    if missing:
        return draft.waiting_for_references(" ".join(missing))
    doing = ["looking up the target users in PagerDuty"]
    try:
        _sync(client, draft, parsed, refs, doing)
    except (PagerDutyError, AdoptionFailed) as error:
        return draft.failed_while(error, doing[-1])
    return draft.outcome()


def _missing_references(spec: EscalationPolicySpec, refs: References) -> list[str]:
    """One sentence per team or rotation the policy cannot use yet, in spec order."""
    missing: list[str] = []
    if spec.team_ref is not None:
        team = refs.teams.get(spec.team_ref.name)
        if team is None:
            missing.append(f"OnCallTeam {spec.team_ref.name} (spec.teamRef) does not exist.")
        elif not team.pagerduty_id:
            missing.append(
                f"OnCallTeam {spec.team_ref.name} (spec.teamRef) is not in PagerDuty yet."
            )
    absent: list[str] = []
    not_created: list[str] = []
    for rule in spec.rules:
        for target in rule.targets:
            if target.rotation_ref is None:
                continue
            name = target.rotation_ref.name
            rotation = refs.rotations.get(name)
            if rotation is None and name not in absent:
                absent.append(name)
            elif rotation is not None and not rotation.pagerduty_id and name not in not_created:
                not_created.append(name)
    if absent:
        missing.append(f"Rotation {listed(absent)} does not exist.")
    if not_created:
        missing.append(f"Rotation {listed(not_created)} is not in PagerDuty yet.")
    return missing


def _sync(
    client: PagerDutyClient,
    draft: StatusDraft,
    spec: EscalationPolicySpec,
    refs: References,
    doing: list[str],
) -> None:
    emails = [t.user.email for rule in spec.rules for t in rule.targets if t.user is not None]
    resolved = resolve_emails(client, emails)
    if resolved.unknown:
        message = f"No PagerDuty user has the email {listed(resolved.unknown)}."
        draft.condition(
            conditions.REFERENCES_RESOLVED, conditions.FALSE, conditions.UNKNOWN_EMAILS, message
        )
        draft.nothing_written(conditions.WAITING_FOR_REFERENCES, message)
        return
    draft.condition(
        conditions.REFERENCES_RESOLVED,
        conditions.TRUE,
        conditions.RESOLVED,
        "Every team, rotation and user the policy names is in PagerDuty.",
    )
    schedule_ids = {
        name: str(info.pagerduty_id) for name, info in refs.rotations.items() if info.pagerduty_id
    }
    team_id = refs.teams[spec.team_ref.name].pagerduty_id if spec.team_ref else None

    meta = draft.meta
    identity = ObjectIdentity(namespace=meta.namespace, kind=KIND, name=meta.name)
    name = spec.display_name or meta.name
    spec_id = spec.pagerduty.id if spec.pagerduty else None
    doing.append("reading the PagerDuty escalation policy")
    existing = locate(policies_of(client), identity, name, spec_id, draft, refs.claims)
    desired = translate_escalation.escalation_policy_doc(
        identity, spec, schedule_ids, resolved.user_ids, team_id
    )
    if existing is None:
        doing.append("creating the PagerDuty escalation policy")
        policy = client.create_escalation_policy(desired)
        draft.event("Created", f"Created PagerDuty escalation policy {policy['id']} ({name}).")
    else:
        policy = existing
        drift = translate_escalation.escalation_policy_drift(existing, desired)
        if drift:  # said again with user targets by their emails
            user_targets = [
                str(target.get("id"))
                for rule in existing.get("escalation_rules") or []
                for target in rule.get("targets") or []
                if str(target.get("type", "")).startswith("user")
            ]
            names = emails_of(client, user_targets, resolved.emails_by_user_id)
            drift = translate_escalation.escalation_policy_drift(existing, desired, names)
            doing.append("updating the PagerDuty escalation policy")
            policy = client.update_escalation_policy(str(existing["id"]), desired)
            draft.change_event(f"PagerDuty escalation policy {existing['id']}", drift)
    draft.set_pagerduty(policy)
    draft.synced("PagerDuty accepted every change.")
    draft.ready("The PagerDuty escalation policy matches the spec.")


def delete_escalation_policy(
    client: PagerDutyClient,
    meta: ObjectMeta,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
) -> list[Event]:
    """Delete the PagerDuty escalation policy (deletionPolicy Delete); while a service uses it,
    PagerDuty refuses and RetryLater is raised."""
    return delete_managed(policies_of(client), meta, spec, status)
