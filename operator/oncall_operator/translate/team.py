"""OnCallTeam -> a PagerDuty team document and the memberships it should have."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from oncall_operator.api import Member, OnCallTeamSpec, TeamRole
from oncall_operator.translate.drift import text_difference
from oncall_operator.translate.identity import ObjectIdentity, managed_description
from oncall_operator.translate.timemath import localise


def team_doc(identity: ObjectIdentity, spec: OnCallTeamSpec) -> dict[str, Any]:
    """Body of a PagerDuty team create or update."""
    return {
        "type": "team",
        "name": spec.display_name or identity.name,
        "description": managed_description(spec.description, identity),
    }


def team_drift(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> list[str]:
    """One line per field the spec owns (name, description) that PagerDuty's copy differs in,
    saying what PagerDuty has and what the spec wants (translate.drift)."""
    return [
        text_difference(name, str(existing.get(name) or ""), str(desired.get(name) or ""))
        for name in ("name", "description")
        if (existing.get(name) or "") != (desired.get(name) or "")
    ]


def active_members(
    spec: OnCallTeamSpec, today: dt.date, roles: Collection[TeamRole]
) -> list[Member]:
    """Members with one of `roles` whose term covers today, in team order."""
    return [m for m in spec.members if m.role in roles and m.is_active(today)]


@dataclass(frozen=True)
class DesiredMembership:
    """The team's PagerDuty memberships as the spec wants them today."""

    roles: dict[str, str]  # PagerDuty user id -> role, for active members who resolved
    unresolved: list[str]  # spec emails with no PagerDuty user, in spec order
    expiring_soon: list[str]  # active members whose term ends within policy.termWarningDays
    inactive: list[str]  # members before their `since` or after their `until`


def desired_membership(
    spec: OnCallTeamSpec, user_ids: Mapping[str, str], today: dt.date
) -> DesiredMembership:
    """Memberships for today; `user_ids` maps lower-cased emails to PagerDuty user ids."""
    roles: dict[str, str] = {}
    unresolved: list[str] = []
    expiring: list[str] = []
    inactive: list[str] = []
    for member in spec.members:
        user_id = user_ids.get(member.email.lower())
        if user_id is None:
            unresolved.append(member.email)
        if not member.is_active(today):
            inactive.append(member.email)
            continue
        if member.until is not None and member.until - today <= _warning(spec):
            expiring.append(member.email)
        if user_id is not None:
            roles[user_id] = member.role.value
    return DesiredMembership(
        roles=roles, unresolved=unresolved, expiring_soon=expiring, inactive=inactive
    )


@dataclass(frozen=True)
class MembershipChanges:
    """What to do to PagerDuty's memberships to reach the desired ones."""

    add: dict[str, str] = field(default_factory=dict)  # user id -> role
    change_role: dict[str, str] = field(default_factory=dict)  # user id -> new role
    remove: list[str] = field(default_factory=list)  # user ids

    def is_empty(self) -> bool:
        return not (self.add or self.change_role or self.remove)


def membership_changes(desired: Mapping[str, str], actual: Mapping[str, str]) -> MembershipChanges:
    """The difference between desired and actual memberships (user id -> role)."""
    return MembershipChanges(
        add={u: r for u, r in desired.items() if u not in actual},
        change_role={u: r for u, r in desired.items() if u in actual and actual[u] != r},
        remove=[u for u in actual if u not in desired],
    )


def next_term_change(spec: OnCallTeamSpec, today: dt.date) -> dt.datetime | None:
    """The first midnight (in the policy's time zone, where `today` is a date) after `today` at
    which a member's term starts, ends or starts to count as expiring soon (termWarningDays), or
    their time off starts or ends: the team's memberships and status change then by the
    calendar alone."""
    dates: list[dt.date] = []
    for member in spec.members:
        if member.since is not None:
            dates.append(member.since)
        if member.until is not None:
            dates += [member.until + dt.timedelta(days=1), member.until - _warning(spec)]
        for away in member.away:
            dates += [away.from_, away.until + dt.timedelta(days=1)]
    upcoming = [d for d in dates if d > today]
    if not upcoming:
        return None
    zone = spec.policy.time_zone if spec.policy else "UTC"
    return localise(dt.datetime.combine(min(upcoming), dt.time(0)), zone)


def _warning(spec: OnCallTeamSpec) -> dt.timedelta:
    return dt.timedelta(days=spec.policy.term_warning_days if spec.policy else 14)


def users_pagerduty_adds(
    schedules: Iterable[Mapping[str, Any]],
    policies: Iterable[Mapping[str, Any]],
    now: dt.datetime,
) -> set[str]:
    """User ids PagerDuty itself makes members of a team (Advanced Permissions): the users of the
    team's schedules (layers not ended) and the users its escalation policies target directly.

    The operator leaves these memberships alone: removing them would fight PagerDuty, which adds
    them back at the next write of the schedule or policy (NOTES.md, "Side effects")."""
    found: set[str] = set()
    for schedule in schedules:
        for layer in schedule.get("schedule_layers") or []:
            end = layer.get("end")
            if end and dt.datetime.fromisoformat(str(end)) <= now:
                continue
            found |= {str(u["user"]["id"]) for u in layer.get("users") or [] if u.get("user")}
    for policy in policies:
        for rule in policy.get("escalation_rules") or []:
            found |= {
                str(t["id"])
                for t in rule.get("targets") or []
                if t.get("type") in ("user_reference", "user")
            }
    return found
