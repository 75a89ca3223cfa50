"""OnCallTeam -> a PagerDuty team, its memberships and the pages its members received.

Unknown emails: the members who resolve are synced as usual, the rest are listed in
status.members.unresolved with ReferencesResolved=False (UnknownEmails). Ready is then False with
reason ReferencesUnresolved, because Ready means "PagerDuty matches the spec" and it does not for
those people; Synced stays True since PagerDuty took every write. Rotations and escalation
policies use a team once it exists in PagerDuty, so one unknown email does not stop them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from oncall_operator import conditions
from oncall_operator.api import OnCallTeamSpec
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import PagerDutyError
from oncall_operator.reconcile.adoption import PagerDutyKind, delete_managed, locate
from oncall_operator.reconcile.errors import AdoptionFailed
from oncall_operator.reconcile.model import Event, ObjectMeta, Outcome, References
from oncall_operator.reconcile.pages import (
    PAGES_WINDOW,
    PageLog,
    page_log_of,
    rotations_fed_by,
    team_pages_between,
)
from oncall_operator.reconcile.status import StatusDraft, begin, listed, set_policy_breached
from oncall_operator.reconcile.users import ResolvedEmails, resolve_emails
from oncall_operator.translate import load, terms
from oncall_operator.translate import team as translate_team
from oncall_operator.translate.identity import ObjectIdentity
from oncall_operator.translate.pages import TeamPages

KIND = "OnCallTeam"
LOAD_HORIZON = dt.timedelta(weeks=12)


def teams_of(client: PagerDutyClient) -> PagerDutyKind:
    return PagerDutyKind(
        label="team",
        get=client.get_team,
        find=client.find_teams,
        delete=client.delete_team,
    )


def reconcile_team(
    client: PagerDutyClient,
    meta: ObjectMeta,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    now: dt.datetime,
    refs: References | None = None,
    page_log: PageLog | None = None,
) -> Outcome:
    """Make PagerDuty's team and memberships match the spec; return the full new status.

    Of `refs` the claims matter, and the namespace's rotations (those whose teamRef names this
    team are its own, for pages); `page_log` is the account's shared page scan (by default the
    one of `client`).
    """
    draft, parsed = begin(OnCallTeamSpec, meta, spec, status, now)
    if parsed is None:
        return draft.outcome()
    doing = ["reading the PagerDuty team"]
    try:
        refs = refs or References()
        _sync(client, draft, parsed, doing, refs, page_log or page_log_of(client))
    except (PagerDutyError, AdoptionFailed) as error:
        return draft.failed_while(error, doing[-1])
    return draft.outcome()


def _sync(
    client: PagerDutyClient,
    draft: StatusDraft,
    spec: OnCallTeamSpec,
    doing: list[str],
    refs: References,
    page_log: PageLog,
) -> None:
    meta = draft.meta
    identity = ObjectIdentity(namespace=meta.namespace, kind=KIND, name=meta.name)
    desired = translate_team.team_doc(identity, spec)
    spec_id = spec.pagerduty.id if spec.pagerduty else None
    existing = locate(teams_of(client), identity, desired["name"], spec_id, draft, refs.claims)
    if existing is None:
        doing.append("creating the PagerDuty team")
        team = client.create_team(desired)
        draft.event("Created", f"Created PagerDuty team {team['id']} ({desired['name']}).")
    else:
        team = existing
        differences = translate_team.team_drift(existing, desired)
        if differences:
            doing.append("updating the PagerDuty team")
            team = client.update_team(str(existing["id"]), desired)
            draft.change_event(f"PagerDuty team {existing['id']}", differences)
    draft.set_pagerduty(team)
    team_id = str(team["id"])

    doing.append("looking up the members' PagerDuty users")
    resolved = resolve_emails(client, (m.email for m in spec.members))
    doing.append("syncing the team's memberships")
    today = terms.local_today(draft.now, terms.team_time_zone(spec))
    membership = _sync_members(client, draft, spec, team_id, resolved, today)
    expiring = terms.expiring_soon(spec, today)
    _tell_terms_ending(draft, spec, expiring)
    draft.status["members"] = {
        "total": len(spec.members),
        "resolved": len(spec.members) - len(resolved.unknown),
        "active": len(membership.roles),
        "unresolved": list(resolved.unknown),
        "expiringSoon": expiring,
    }

    doing.append("reading the pages PagerDuty sent the team's members")
    rotations = rotations_fed_by(
        meta.name, ((r.name, r.spec, r.pagerduty_id) for r in refs.rotations.values())
    )
    pages = team_pages_between(
        client,
        page_log.pages(client, draft.now),
        spec,
        resolved.user_ids,
        rotations,
        draft.now - PAGES_WINDOW,
        draft.now,
    )
    draft.status["pages"] = {
        "outOfHoursLast30Days": pages.out_of_hours,
        "people": [person.to_wire() for person in pages.people],
    }

    breaches = _load_breaches(spec, refs, draft.now)
    _set_conditions(draft, spec, resolved, pages, breaches)
    draft.wake_at(translate_team.next_term_change(spec, today))


def _tell_terms_ending(draft: StatusDraft, spec: OnCallTeamSpec, expiring: list[str]) -> None:
    """An Event the first time a member shows in expiringSoon."""
    told = {e.lower() for e in (draft.old.get("members") or {}).get("expiringSoon") or []}
    ends = {m.email.lower(): m.until for m in spec.members}
    new = [f"{e} on {ends[e.lower()]}" for e in expiring if e.lower() not in told]
    if new:
        draft.event(
            "TermEnding",
            f"The term of {listed(new)} ends within "
            f"{spec.policy.term_warning_days if spec.policy else 14} days.",
        )


def _load_breaches(spec: OnCallTeamSpec, refs: References, now: dt.datetime) -> list[str]:
    """The policy's load breaches of the members across every rotation the operator knows
    (all namespaces), over every 4 weeks of the next 12 from the start of today."""
    policy = spec.policy
    if policy is None or (policy.max_on_call_percent is None and policy.min_rest_hours is None):
        return []
    since = terms.day_start(terms.local_today(now, policy.time_zone), policy.time_zone)
    rotations = {key: record.entries for key, record in refs.on_call.items()}
    members = [m.email for m in spec.members]
    return load.load_breaches(rotations, policy, since, since + LOAD_HORIZON, members)


def _sync_members(
    client: PagerDutyClient,
    draft: StatusDraft,
    spec: OnCallTeamSpec,
    team_id: str,
    resolved: ResolvedEmails,
    today: dt.date,
) -> translate_team.DesiredMembership:
    desired = translate_team.desired_membership(spec, resolved.user_ids, today)
    members = client.list_team_members(team_id)
    actual = {str(m["user"]["id"]): str(m["role"]) for m in members}
    changes = translate_team.membership_changes(desired.roles, actual)
    if changes.remove:
        # PagerDuty adds the users of the team's schedules and policies itself (Advanced
        # Permissions); removing them would fight it, so they stay. Read only when needed.
        added_by_pagerduty = translate_team.users_pagerduty_adds(
            client.schedules_of_team(team_id),
            client.escalation_policies_of_team(team_id),
            draft.now,
        )
        changes = dataclasses.replace(
            changes, remove=[u for u in changes.remove if u not in added_by_pagerduty]
        )
    if changes.is_empty():
        return desired
    names = resolved.emails_by_user_id
    for user_id in changes.remove:
        if user_id not in names:  # added by hand in PagerDuty, or dropped from the spec
            names[user_id] = str(client.get_user(user_id).get("email") or user_id)
    for user_id, role in changes.add.items():
        client.set_team_member(team_id, user_id, role)
    for user_id, role in changes.change_role.items():
        client.set_team_member(team_id, user_id, role)
    for user_id in changes.remove:
        client.remove_team_member(team_id, user_id)
    said: list[str] = []
    if changes.add:
        said.append("added " + listed([names.get(u, u) for u in changes.add]))
    if changes.change_role:
        said.append(
            "changed the role of "
            + listed([f"{names.get(u, u)} to {r}" for u, r in changes.change_role.items()])
        )
    if changes.remove:
        said.append("removed " + listed([names.get(u, u) for u in changes.remove]))
    draft.event("MembershipChanged", f"PagerDuty team {team_id}: " + "; ".join(said) + ".")
    return desired


def _set_conditions(
    draft: StatusDraft,
    spec: OnCallTeamSpec,
    resolved: ResolvedEmails,
    pages: TeamPages,
    breaches: list[str],
) -> None:
    draft.synced("PagerDuty accepted every change.")
    if resolved.unknown:
        unknown = f"No PagerDuty user has the email {listed(resolved.unknown)}."
        draft.condition(
            conditions.REFERENCES_RESOLVED, conditions.FALSE, conditions.UNKNOWN_EMAILS, unknown
        )
        draft.not_ready(
            conditions.REFERENCES_UNRESOLVED,
            f"{unknown[:-1]}; the other members are synced.",
        )
    else:
        draft.condition(
            conditions.REFERENCES_RESOLVED,
            conditions.TRUE,
            conditions.RESOLVED,
            f"All {len(spec.members)} member emails resolved to PagerDuty users.",
        )
        draft.ready("The PagerDuty team and its memberships match the spec.")
    limit = spec.policy.max_out_of_hours_pages_per_month if spec.policy else None
    if spec.policy is None:
        draft.condition(
            conditions.SUSTAINABLE,
            conditions.TRUE,
            conditions.NO_POLICY,
            "The team sets no policy.",
        )
    elif limit is not None and pages.out_of_hours > limit:
        message = (
            f"{pages.out_of_hours} out-of-hours high-urgency pages in the last 30 days, more "
            f"than the policy's maxOutOfHoursPagesPerMonth {limit}{_most_paged(pages)}."
        )
        old = conditions.find_condition(draft.old.get("conditions") or [], conditions.SUSTAINABLE)
        if old is None or old.get("reason") != conditions.PAGE_BUDGET_EXCEEDED:
            draft.event(conditions.PAGE_BUDGET_EXCEEDED, message, "Warning")  # once, on the flip
        draft.condition(
            conditions.SUSTAINABLE,
            conditions.FALSE,
            conditions.PAGE_BUDGET_EXCEEDED,
            " ".join([message, *breaches]),
        )
    elif breaches:
        set_policy_breached(draft, breaches)
    else:
        within = f" (at most {limit})" if limit is not None else ""
        draft.condition(
            conditions.SUSTAINABLE,
            conditions.TRUE,
            conditions.WITHIN_POLICY,
            f"{pages.out_of_hours} out-of-hours high-urgency pages in the last 30 days{within}.",
        )


def _most_paged(pages: TeamPages) -> str:
    """ "; most paged: ana@example.com (6, 4 at night)" — who carries the load."""
    paged = sorted((p for p in pages.people if p.pages), key=lambda p: (-p.pages, p.email))
    if not paged:
        return ""
    top = paged[0]
    return f"; most paged: {top.email} ({top.pages}, {top.night_pages} at night)"


def delete_team(
    client: PagerDutyClient,
    meta: ObjectMeta,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
) -> list[Event]:
    """Delete the PagerDuty team (deletionPolicy Delete); PagerDuty refuses while it owns
    schedules or escalation policies, which raises RetryLater."""
    return delete_managed(teams_of(client), meta, spec, status)
