"""Rotation -> a PagerDuty schedule, plus who is on call, the load per person and the policy check.

References: a rotation with a teamRef needs its OnCallTeam to exist in PagerDuty (status id) and to
have a valid spec, and waits otherwise without writing anything. It does not wait for the team's
Ready: a team with one unknown email is Ready=False, yet its PagerDuty team works.

Participants: a layer whose participants resolve to no PagerDuty user is never sent (PagerDuty
refuses `users: []`); the whole schedule is then left as it is with Ready=False NoParticipants.
Unknown emails listed in `participants.emails` of a layer that still has other users: the others
are used, and Ready=False with reason ReferencesUnresolved says so (the same rule as OnCallTeam).
Team members without a PagerDuty user are left out of fromTeam layers silently: the OnCallTeam
already reports them, and the rotation does what its spec asks with the team PagerDuty has.

onCall, nextHandoff and load are read over 28 days from the latest handoff of any layer, not from
`now`, so they change only when the rotation moves on and a no-op reconcile writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oncall_operator import conditions
from oncall_operator.api import Layer, OnCallPolicy, OnCallTeamSpec, RotationSpec
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import PagerDutyError
from oncall_operator.reconcile.adoption import PagerDutyKind, delete_managed, locate
from oncall_operator.reconcile.errors import AdoptionFailed, InvalidSpec
from oncall_operator.reconcile.model import (
    Event,
    ObjectMeta,
    Outcome,
    References,
    RotationOnCall,
)
from oncall_operator.reconcile.references import references_of
from oncall_operator.reconcile.status import StatusDraft, begin, listed, set_policy_breached
from oncall_operator.reconcile.timeoff import away_of, no_cover_message, sync_overrides
from oncall_operator.reconcile.users import ResolvedEmails, emails_of, resolve_emails
from oncall_operator.translate import load, terms, timeoff
from oncall_operator.translate import rotation as translate_rotation
from oncall_operator.translate import team as translate_team
from oncall_operator.translate.identity import ObjectIdentity

__all__ = ["delete_rotation", "reconcile_rotation", "references_of"]

KIND = "Rotation"
LOAD_WINDOW = dt.timedelta(days=28)
LOAD_HORIZON = dt.timedelta(weeks=12)  # every 4-week window in it is checked against the policy


def schedules_of(client: PagerDutyClient) -> PagerDutyKind:
    return PagerDutyKind(
        label="schedule",
        get=client.get_schedule,
        find=client.find_schedules,
        delete=client.delete_schedule,
    )


@dataclass(frozen=True)
class TeamReference:
    """The rotation's team as far as it is known: PagerDuty id and validated spec."""

    pagerduty_id: str | None
    spec: OnCallTeamSpec | None


class WaitingForTeam(Exception):
    """The referenced OnCallTeam cannot be used yet; the message says why."""


def reconcile_rotation(
    client: PagerDutyClient,
    meta: ObjectMeta,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    refs: References,
    now: dt.datetime,
) -> Outcome:
    """Make the PagerDuty schedule match the spec; return the full new status."""
    draft, parsed = begin(RotationSpec, meta, spec, status, now)
    if parsed is None:
        return draft.outcome()
    try:
        team = _team_of(parsed, refs)
    except WaitingForTeam as waiting:
        return draft.waiting_for_references(str(waiting))
    doing = ["looking up the participants' PagerDuty users"]
    try:
        _sync(client, draft, parsed, team, doing, refs)
    except InvalidSpec as error:
        return draft.invalid(error)
    except (PagerDutyError, AdoptionFailed) as error:
        return draft.failed_while(error, doing[-1])
    return draft.outcome()


def _team_of(spec: RotationSpec, refs: References) -> TeamReference:
    if spec.team_ref is None:
        return TeamReference(pagerduty_id=None, spec=None)
    name = spec.team_ref.name
    info = refs.teams.get(name)
    if info is None:
        raise WaitingForTeam(f"OnCallTeam {name} (spec.teamRef) does not exist in this namespace.")
    if not info.pagerduty_id:
        raise WaitingForTeam(f"OnCallTeam {name} (spec.teamRef) is not in PagerDuty yet.")
    try:
        team_spec = OnCallTeamSpec.model_validate(dict(info.spec or {}))
    except ValueError:
        raise WaitingForTeam(
            f"OnCallTeam {name} (spec.teamRef) has an invalid spec; its members cannot be used."
        ) from None
    return TeamReference(pagerduty_id=info.pagerduty_id, spec=team_spec)


def _sync(
    client: PagerDutyClient,
    draft: StatusDraft,
    spec: RotationSpec,
    team: TeamReference,
    doing: list[str],
    refs: References,
) -> None:
    now = draft.now
    # An edit of a layer PagerDuty carries takes effect at its next handoff (NextHandoff): the
    # members of that turn are wanted; a new layer starts now, with the turn under way.
    carried = {str(layer.get("name")) for layer in draft.old.get("layers") or []}
    participants = {
        layer.name: translate_rotation.layer_participants(
            spec,
            layer,
            team.spec,
            translate_rotation.effective_turn(
                layer, spec.time_zone, now, carried=layer.name in carried
            ),
        )
        for layer in spec.layers
    }
    resolved = resolve_emails(client, (e for emails in participants.values() for e in emails))
    layer_user_ids = {
        name: [resolved.user_ids[e.lower()] for e in emails if e.lower() in resolved.user_ids]
        for name, emails in participants.items()
    }
    # A team member without a PagerDuty user is the team's to report; the rotation reports its own.
    explicit = {e.lower() for layer in spec.layers for e in layer.participants.emails or []}
    unknown = [e for e in resolved.unknown if e.lower() in explicit]
    _set_references(draft, spec, unknown)
    if team.spec is not None:  # a fromTeam layer's people change as the team's terms do
        local_today = terms.local_today(now, terms.team_time_zone(team.spec))
        draft.wake_at(translate_team.next_term_change(team.spec, local_today))
    empty = [name for name, ids in layer_user_ids.items() if not ids]
    if empty:
        draft.nothing_written(
            conditions.NO_PARTICIPANTS,
            f"Layer {listed(empty)} has no participant with a PagerDuty user; the PagerDuty "
            "schedule is left as it is.",
        )
        return

    meta = draft.meta
    identity = ObjectIdentity(namespace=meta.namespace, kind=KIND, name=meta.name)
    name = spec.display_name or meta.name
    spec_id = spec.pagerduty.id if spec.pagerduty else None
    doing.append("reading the PagerDuty schedule")
    existing = locate(schedules_of(client), identity, name, spec_id, draft, refs.claims)
    try:
        desired = translate_rotation.schedule_doc(
            identity, spec, layer_user_ids, existing, now, team.pagerduty_id
        )
    except ValueError as error:  # a spec the schema allows but PagerDuty cannot express
        raise InvalidSpec([str(error)]) from None
    if existing is None:
        doing.append("creating the PagerDuty schedule")
        schedule = client.create_schedule(desired)
        draft.event("Created", f"Created PagerDuty schedule {schedule['id']} ({name}).")
    else:
        schedule = existing
        drift = translate_rotation.schedule_drift(existing, desired, now)
        if drift:  # said again with the people by their emails
            names = emails_of(client, _layer_user_ids(existing), resolved.emails_by_user_id)
            drift = translate_rotation.schedule_drift(existing, desired, now, names)
            doing.append("updating the PagerDuty schedule")
            schedule = client.update_schedule(str(existing["id"]), desired)
            draft.change_event(f"PagerDuty schedule {existing['id']}", drift)
    draft.set_pagerduty(schedule)
    draft.status["layers"] = [
        layer.to_wire() for layer in translate_rotation.layer_statuses(schedule, spec, now)
    ]

    doing.append("reading who the PagerDuty schedule puts on call")
    since = load_window_start(spec, now)
    until = since + LOAD_HORIZON
    schedule_id = str(schedule["id"])
    # Time off is judged from the layers' own entries; without any, the final schedule will do.
    judging_time_off = team.spec is not None and bool(
        away_of(team.spec, now, until) or draft.old.get("overrides")
    )
    rendered = client.get_schedule(
        schedule_id, since=since, until=until, time_zone=spec.time_zone, layers=judging_time_off
    )
    own_key = f"{meta.namespace}/{meta.name}"
    # Each rotation apart: a shift is a run within one rotation (load.load_breaches).
    elsewhere = {key: r.entries for key, r in refs.on_call.items() if key != own_key}
    others = [entry for entries in elsewhere.values() for entry in entries]
    uncovered: list[timeoff.Cover] = []
    if team.spec is not None:
        emails_by_id = resolved.emails_by_user_id

        def email_of(user_id: str) -> str:
            if user_id not in emails_by_id:
                emails_by_id[user_id] = str(client.get_user(user_id).get("email") or user_id)
            return emails_by_id[user_id]

        result = sync_overrides(
            client,
            draft,
            schedule_id,
            team.spec,
            rendered,
            email_of,
            resolved.user_ids,
            list(dict.fromkeys(e for emails in participants.values() for e in emails)),
            others,
            (since, until),
            doing,
        )
        uncovered = result.uncovered
        if result.changed:
            doing.append("reading who the PagerDuty schedule puts on call")
            rendered = client.get_schedule(
                schedule_id, since=since, until=until, time_zone=spec.time_zone, layers=False
            )
    entries = list((rendered.get("final_schedule") or {}).get("rendered_schedule_entries") or [])
    emails = _emails_of_everyone_on_call(client, entries, resolved)
    draft.status["onCall"] = load.on_call_now(entries, emails, now).to_wire()
    draft.status["load"] = [
        person.to_wire()
        for person in load.person_load(
            entries, emails, spec.business_hours, spec.time_zone, since, since + LOAD_WINDOW
        )
    ]
    handoff = next_handoff(spec, now)
    draft.status["nextHandoff"] = conditions.rfc3339(handoff)
    draft.wake_at(handoff)  # who is on call moves on then
    own = load.parse_entries(entries, emails)
    team_key = f"{meta.namespace}/{spec.team_ref.name}" if spec.team_ref else None
    draft.on_call = RotationOnCall(own_key, team_key, tuple(own))

    draft.synced("PagerDuty accepted every change.")
    if uncovered:
        draft.not_ready(conditions.NO_COVER, no_cover_message(uncovered))
    elif unknown:
        draft.not_ready(
            conditions.REFERENCES_UNRESOLVED,
            f"No PagerDuty user has the email {listed(unknown)}; the schedule uses "
            "the other participants.",
        )
    else:
        draft.ready("The PagerDuty schedule matches the spec.")
    policy = team.spec.policy if team.spec else None
    people = {e.person for e in own}
    set_sustainable(draft, policy, {own_key: own, **elsewhere}, people, since, until)


def _layer_user_ids(schedule: Mapping[str, Any]) -> list[str]:
    return [
        str(entry["user"]["id"])
        for layer in schedule.get("schedule_layers") or []
        for entry in layer.get("users") or []
    ]


def _emails_of_everyone_on_call(
    client: PagerDutyClient, entries: list[dict[str, Any]], resolved: ResolvedEmails
) -> dict[str, str]:
    """PagerDuty user id -> email for each person the entries name, including people who are
    no longer participants but stay on call until a NextHandoff edit takes effect."""
    emails = resolved.emails_by_user_id
    for entry in entries:
        user_id = str((entry.get("user") or {}).get("id") or "")
        if user_id and user_id not in emails:
            emails[user_id] = str(client.get_user(user_id).get("email") or user_id)
    return emails


def _set_references(draft: StatusDraft, spec: RotationSpec, unknown: list[str]) -> None:
    if unknown:
        draft.condition(
            conditions.REFERENCES_RESOLVED,
            conditions.FALSE,
            conditions.UNKNOWN_EMAILS,
            f"No PagerDuty user has the email {listed(unknown)}.",
        )
        return
    team = f"OnCallTeam {spec.team_ref.name} and " if spec.team_ref else ""
    draft.condition(
        conditions.REFERENCES_RESOLVED,
        conditions.TRUE,
        conditions.RESOLVED,
        f"{team}every participant's email resolved.",
    )


def set_sustainable(
    draft: StatusDraft,
    policy: OnCallPolicy | None,
    rotations: Mapping[str, Sequence[load.Entry]],
    people: Collection[str],
    since: dt.datetime,
    until: dt.datetime,
) -> None:
    """Sustainable from the load of `people` across every rotation given, over [since, until);
    a breach not shown before is also a Warning Event."""
    if policy is None or (policy.max_on_call_percent is None and policy.min_rest_hours is None):
        draft.condition(
            conditions.SUSTAINABLE,
            conditions.TRUE,
            conditions.NO_POLICY,
            "The team sets no on-call load policy for rotations.",
        )
        return
    breaches = load.load_breaches(rotations, policy, since, until, people)
    if breaches:
        set_policy_breached(draft, breaches)
    else:
        draft.condition(
            conditions.SUSTAINABLE,
            conditions.TRUE,
            conditions.WITHIN_POLICY,
            "Every 4 weeks of the next 12 meet the team's on-call policy, counting every "
            "rotation each person is on.",
        )


def _latest_handoff(layer: Layer, time_zone: str, now: dt.datetime) -> dt.datetime:
    """The layer's last handoff at or before now (turns run before the anchor too)."""
    anchor = translate_rotation.handoff_instant(layer, time_zone)
    turn = layer.shift_seconds
    # A local wall-clock turn may be an hour shorter across DST: start well before now.
    handoff = translate_rotation.next_handoff(
        anchor, turn, time_zone, now - dt.timedelta(seconds=turn, hours=2)
    )
    while (following := translate_rotation.next_handoff(anchor, turn, time_zone, handoff)) <= now:
        handoff = following
    return handoff


def load_window_start(spec: RotationSpec, now: dt.datetime) -> dt.datetime:
    """Start of the 28 days onCall and load describe: the latest handoff of any layer, moved
    on by whole windows for shifts longer than one, so it changes only when the rotation does."""
    start = max(_latest_handoff(layer, spec.time_zone, now) for layer in spec.layers)
    windows_passed = (now - start) // LOAD_WINDOW
    return (start + windows_passed * LOAD_WINDOW).astimezone(dt.UTC)


def next_handoff(spec: RotationSpec, now: dt.datetime) -> dt.datetime:
    """The earliest handoff of any layer after now."""
    return min(
        translate_rotation.next_handoff(
            translate_rotation.handoff_instant(layer, spec.time_zone),
            layer.shift_seconds,
            spec.time_zone,
            now,
        )
        for layer in spec.layers
    )


def delete_rotation(
    client: PagerDutyClient,
    meta: ObjectMeta,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
) -> list[Event]:
    """Delete the PagerDuty schedule (deletionPolicy Delete); while an escalation policy uses it,
    PagerDuty refuses and RetryLater is raised."""
    return delete_managed(schedules_of(client), meta, spec, status)
