"""`oncall-operator plan PATH…`: what the operator would create, change, end or delete in
PagerDuty for these manifests, read-only (like `terraform plan -detailed-exitcode`).

Each object goes through the operator's own reconcile (reconcile/, translate/) against a
PlanningClient, which reads PagerDuty and keeps the writes; the kept writes are shown field by
field, schedule layers by name, people by email and references by name.
Exit 0 no changes, 2 changes, 1 errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from oncall_operator import conditions
from oncall_operator.gitops import validate as validate_command
from oncall_operator.gitops.documents import Document, UnreadableInput, read_documents
from oncall_operator.gitops.planning import JSON, PlanningClient, Write, is_planned
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import PagerDutyError
from oncall_operator.pagerduty.readmodel import CachingPagerDutyClient
from oncall_operator.reconcile.escalation import reconcile_escalation_policy
from oncall_operator.reconcile.model import (
    ObjectMeta,
    Outcome,
    References,
    RotationInfo,
    TeamInfo,
)
from oncall_operator.reconcile.rotation import reconcile_rotation
from oncall_operator.reconcile.team import reconcile_team
from oncall_operator.settings import PagerDutySettings, SettingsError
from oncall_operator.translate import rotation as translate_rotation
from oncall_operator.translate.identity import ObjectIdentity, managed_identity

EXIT_NO_CHANGES, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
ORDER = ("OnCallTeam", "Rotation", "EscalationPolicy")
LABELS = {"OnCallTeam": "team", "Rotation": "schedule", "EscalationPolicy": "escalation policy"}


@dataclass(frozen=True)
class Line:
    """One field of a change: `+` added, `~` changed, `-` ended or removed."""

    op: str
    text: str


@dataclass
class Change:
    """What the operator would do to one PagerDuty object."""

    action: str  # create | change | delete
    kind: str  # team | schedule | escalation policy
    name: str
    id: str | None
    resource: str  # namespace/Kind/name
    lines: list[Line] = field(default_factory=list)


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # objects that would not be Ready, and why
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        ended = sum(
            1 for c in self.changes if c.action == "change" for line in c.lines if line.op == "-"
        )
        return {
            "create": sum(1 for c in self.changes if c.action == "create"),
            "change": sum(1 for c in self.changes if c.action == "change"),
            "end": ended,
            "delete": sum(1 for c in self.changes if c.action == "delete"),
        }


@dataclass
class _Names:
    """PagerDuty ids -> names this plan knows, to show references by name."""

    users: dict[str, str]
    schedules: dict[str, str] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reconciled:
    document: Document
    identity: ObjectIdentity
    display_name: str
    outcome: Outcome

    @property
    def pagerduty_id(self) -> str | None:
        return str((self.outcome.status.get("pagerduty") or {}).get("id") or "") or None


def reconcile_all(
    client: PagerDutyClient,
    documents: Sequence[Document],
    now: dt.datetime,
    default_namespace: str = "default",
    known_ids: Mapping[ObjectIdentity, str] | None = None,
) -> Iterator[Reconciled]:
    """The operator's reconcile of each object of our kinds, teams first, then rotations, then
    escalation policies, each seeing the PagerDuty ids of the referents before it (as the
    operator's indexes give them); yielded one at a time, as each is done. `known_ids`: the
    PagerDuty id each resource's status would hold in the cluster."""
    ours = sorted((d for d in documents if d.is_ours()), key=lambda d: ORDER.index(d.kind))
    teams: dict[tuple[str, str], TeamInfo] = {}
    rotations: dict[tuple[str, str], RotationInfo] = {}
    for document in ours:
        namespace = document.namespace or default_namespace
        annotations = (document.body.get("metadata") or {}).get("annotations") or {}
        meta = ObjectMeta(
            namespace=namespace,
            name=document.name,
            kind=document.kind,
            generation=1,
            annotations={str(k): str(v) for k, v in annotations.items()},
        )
        refs = References(
            teams={n: t for (ns, n), t in teams.items() if ns == namespace},
            rotations={n: r for (ns, n), r in rotations.items() if ns == namespace},
        )
        identity = ObjectIdentity(namespace, document.kind, document.name)
        known = (known_ids or {}).get(identity)
        status = {"pagerduty": {"id": known}} if known else {}
        done = Reconciled(
            document,
            identity,
            str(document.spec.get("displayName") or document.name),
            _reconcile(client, meta, document.spec, status, refs, now),
        )
        if document.kind == "OnCallTeam":
            info = TeamInfo(document.name, document.spec, done.pagerduty_id, True)
            teams[(namespace, document.name)] = info
        elif document.kind == "Rotation":
            rotations[(namespace, document.name)] = RotationInfo(
                document.name, done.pagerduty_id, True
            )
        yield done


def plan_documents(
    client: PagerDutyClient,
    documents: Sequence[Document],
    now: dt.datetime,
    default_namespace: str = "default",
    deletes: bool = True,
) -> Plan:
    """The plan for every object of our kinds in `documents` (already validated)."""
    planning = PlanningClient(client)
    plan = Plan()
    names = _Names(users=planning.emails)
    wanted: set[ObjectIdentity] = set()
    written = 0
    managed = managed_objects(planning)
    known_ids = {identity: str(found["id"]) for identity, (_, found) in managed.items()}
    reader = cast(PagerDutyClient, planning)
    for done in reconcile_all(reader, documents, now, default_namespace, known_ids):
        wanted.add(done.identity)
        if done.pagerduty_id and done.document.kind == "OnCallTeam":
            names.teams[done.pagerduty_id] = done.display_name
        elif done.pagerduty_id and done.document.kind == "Rotation":
            names.schedules[done.pagerduty_id] = done.document.name
        _judge(plan, done.identity, done.outcome)
        change = _change_of(
            done.document.kind, str(done.identity), done.display_name, done.pagerduty_id,
            planning.writes[written:], planning, names, now,
        )  # fmt: skip
        written = len(planning.writes)
        if change is not None:
            plan.changes.append(change)
    if deletes and not plan.errors:
        namespaces = {identity.namespace for identity in wanted}
        plan.changes += _deletes(managed, namespaces, wanted)
    return plan


def _reconcile(
    client: PagerDutyClient,
    meta: ObjectMeta,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    refs: References,
    now: dt.datetime,
) -> Outcome:
    if meta.kind == "OnCallTeam":
        return reconcile_team(client, meta, spec, status, now, refs)
    if meta.kind == "Rotation":
        return reconcile_rotation(client, meta, spec, status, refs, now)
    return reconcile_escalation_policy(client, meta, spec, status, refs, now)


def _judge(plan: Plan, identity: ObjectIdentity, outcome: Outcome) -> None:
    """Failures are errors; any other reason not to be Ready is a note."""
    by_type = {c["type"]: c for c in outcome.status.get("conditions") or []}
    synced = by_type.get(conditions.SYNCED)
    ready = by_type.get(conditions.READY)
    if (
        synced is not None
        and synced.get("status") == conditions.FALSE
        and synced.get("reason") != conditions.PAUSED
    ):
        plan.errors.append(f"{identity}: {synced.get('message')}")
    elif ready is not None and ready.get("status") != conditions.TRUE:
        plan.notes.append(f"{identity}: {ready.get('reason')}: {ready.get('message')}")


def _change_of(
    kind: str,
    resource: str,
    display: str,
    pagerduty_id: str | None,
    writes: Sequence[Write],
    planning: PlanningClient,
    names: _Names,
    now: dt.datetime,
) -> Change | None:
    if not writes:
        return None
    label = LABELS[kind]
    creates = [w for w in writes if w.method.startswith("create_")]
    updates = [w for w in writes if w.method.startswith("update_")]
    change = Change(
        action="create" if creates else "change",
        kind=label,
        name=display,
        id=None if creates else pagerduty_id,
        resource=resource,
    )
    for write in creates:
        change.lines += _created_lines(kind, write.args[0], names)
    for write in updates:
        change.lines += _updated_lines(kind, write.before or {}, write.args[1], names, now)
    members = planning.seen.get(f"{pagerduty_id}/members", {}).get("members") or []
    roles = {str(m["user"]["id"]): str(m.get("role")) for m in members}
    for write in writes:
        if write.method == "set_team_member":
            _, user_id, role = write.args
            email = names.users.get(user_id, user_id)
            if user_id in roles:
                change.lines.append(Line("~", f"member {email}: role {roles[user_id]} -> {role}"))
            else:
                change.lines.append(Line("+", f"member {email} ({role})"))
        elif write.method == "remove_team_member":
            user_id = write.args[1]
            change.lines.append(Line("-", f"member {names.users.get(user_id, user_id)} leaves"))
        elif write.method == "add_overrides":
            for override in write.args[1]:
                user_id = str(override["user"]["id"])
                who = names.users.get(user_id, user_id)
                span = f"{override['start']} to {override['end']}"
                change.lines.append(Line("+", f"override: {who} on call {span} (time off)"))
        elif write.method == "delete_override":
            change.lines.append(Line("-", f"override {write.args[1]} (time off no longer)"))
    return change


def _created_lines(kind: str, body: Mapping[str, Any], names: _Names) -> list[Line]:
    lines = [Line("+", f"name: {body.get('name')!r}")]
    if kind == "Rotation":
        lines.append(Line("+", f"time zone: {body.get('time_zone')}"))
        for layer in body.get("schedule_layers") or []:
            lines.append(Line("+", f"layer {layer.get('name')}: {_layer_text(layer, names)}"))
    elif kind == "EscalationPolicy":
        lines += [Line("+", text) for text in _policy_texts(body, names)]
        lines.append(Line("+", f"repeat: {body.get('num_loops')}"))
    return lines


def _layer_text(layer: Mapping[str, Any], names: _Names) -> str:
    users = [
        names.users.get(str(u["user"]["id"]), str(u["user"]["id"]))
        for u in layer.get("users") or []
    ]
    hours = int(layer.get("rotation_turn_length_seconds") or 0) / 3600
    restrictions = layer.get("restrictions") or []
    hours_of_week = (
        "always"
        if not restrictions
        else ", ".join(
            f"{_DAYS[int(r.get('start_day_of_week') or 1) - 1]} {str(r['start_time_of_day'])[:5]} "
            f"for {int(r['duration_seconds']) / 3600:g}h"
            for r in restrictions
        )
    )
    return (
        f"users [{', '.join(users)}], shifts of {hours:g}h handing off at "
        f"{layer.get('rotation_virtual_start')}, on call {hours_of_week}"
    )


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _policy_texts(body: Mapping[str, Any], names: _Names) -> list[str]:
    texts = []
    for index, rule in enumerate(body.get("escalation_rules") or []):
        targets = ", ".join(_target_name(t, names) for t in rule.get("targets") or [])
        texts.append(
            f"rule {index + 1}: after {rule.get('escalation_delay_in_minutes')} min page {targets}"
        )
    return texts


def _target_name(target: Mapping[str, Any], names: _Names) -> str:
    target_id = str(target.get("id"))
    if str(target.get("type", "")).startswith("schedule"):
        return f"rotation {names.schedules.get(target_id, target_id)}"
    return f"user {names.users.get(target_id, target_id)}"


def _updated_lines(
    kind: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    names: _Names,
    now: dt.datetime,
) -> list[Line]:
    lines = [
        Line("~", f"{key.replace('_', ' ')}: {before.get(key)!r} -> {after.get(key)!r}")
        for key in (
            "name",
            "description",
            "time_zone",
            "num_loops",
            "on_call_handoff_notifications",
        )
        if key in after and (before.get(key) or "") != (after.get(key) or "")
    ]
    if "teams" in after:
        had = sorted(
            names.teams.get(str(t.get("id")), str(t.get("id"))) for t in before.get("teams") or []
        )
        wants = sorted(
            names.teams.get(str(t.get("id")), str(t.get("id"))) for t in after.get("teams") or []
        )
        if had != wants:
            lines.append(Line("~", f"teams: {had} -> {wants}"))
    if kind == "Rotation":
        lines += _layer_lines(before, after, names, now)
    elif kind == "EscalationPolicy":
        had_rules, wants_rules = _policy_texts(before, names), _policy_texts(after, names)
        lines += [
            Line("~", f"{old} -> {new}" if old.split(":")[0] == new.split(":")[0] else new)
            for old, new in zip(had_rules, wants_rules, strict=False)
            if old != new
        ]
        lines += [Line("+", text) for text in wants_rules[len(had_rules) :]]
        lines += [Line("-", f"{text} (removed)") for text in had_rules[len(wants_rules) :]]
    return lines


def _active(schedule: Mapping[str, Any], now: dt.datetime) -> dict[str, list[Mapping[str, Any]]]:
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for layer in schedule.get("schedule_layers") or []:
        form = translate_rotation.layer_form(layer, now)
        if form.end is None or form.end > now:
            by_name.setdefault(form.name, []).append(layer)
    return by_name


def _layer_lines(
    before: Mapping[str, Any], after: Mapping[str, Any], names: _Names, now: dt.datetime
) -> list[Line]:
    had, wants = _active(before, now), _active(after, now)
    lines: list[Line] = []
    for name in [*wants, *(n for n in had if n not in wants)]:
        if name not in had:
            lines.append(Line("+", f"layer {name}: {_layer_text(wants[name][-1], names)}"))
            continue
        if name not in wants:
            lines.append(Line("-", f"layer {name} ends now"))
            continue
        old = translate_rotation.layer_form(had[name][-1], now)
        new_layer = wants[name][-1]
        new = translate_rotation.layer_form(new_layer, now)
        when = f" (from {new_layer.get('start')}, the next handoff)" if new.future_start else ""
        if old.users != new.users:
            lines.append(
                Line(
                    "~",
                    f"layer {name}: users {_emails(old.users, names)} -> {_emails(new.users, names)}{when}",
                )
            )
        if old.turn_seconds != new.turn_seconds:
            lines.append(
                Line(
                    "~",
                    f"layer {name}: shift {old.turn_seconds / 3600:g}h -> {new.turn_seconds / 3600:g}h{when}",
                )
            )
        if old.virtual_start != new.virtual_start:
            lines.append(
                Line(
                    "~",
                    f"layer {name}: handoff {old.virtual_start.isoformat()} -> {new.virtual_start.isoformat()}{when}",
                )
            )
        if old.restrictions != new.restrictions:
            lines.append(
                Line(
                    "~",
                    f"layer {name}: on-call hours change to {_layer_text(new_layer, names).rsplit('on call ', 1)[1]}{when}",
                )
            )
        for extra in wants[name][:-1]:
            end = extra.get("end")
            if end and old.end is None:
                lines.append(Line("-", f"layer {name}: the current version ends at {end}"))
    return lines


def _emails(user_ids: Sequence[str], names: _Names) -> str:
    return "[" + ", ".join(names.users.get(u, u) for u in user_ids) + "]"


def managed_objects(client: PlanningClient) -> dict[ObjectIdentity, tuple[str, JSON]]:
    """Every PagerDuty team, schedule and escalation policy whose managed-by line names a
    resource, by that resource (one list read of each kind): what the cluster's statuses
    would say."""
    found: dict[ObjectIdentity, tuple[str, JSON]] = {}
    listings = (
        ("team", client.find_teams),
        ("schedule", client.find_schedules),
        ("escalation policy", client.find_escalation_policies),
    )
    for label, listing in listings:
        for item in listing(""):
            identity = managed_identity(item.get("description"))
            if identity is not None and LABELS.get(identity.kind) == label:
                found.setdefault(identity, (label, item))
    return found


def _deletes(
    managed: Mapping[ObjectIdentity, tuple[str, JSON]],
    namespaces: set[str],
    wanted: set[ObjectIdentity],
) -> list[Change]:
    """PagerDuty objects managed as a resource of these namespaces that is not in the set."""
    return [
        Change(
            action="delete",
            kind=label,
            name=str(found.get("name")),
            id=str(found.get("id")),
            resource=str(identity),
            lines=[
                Line(
                    "-",
                    f"{identity} is not in the manifests: deleting it deletes this {label} "
                    "(deletionPolicy Delete)",
                )
            ],
        )
        for identity, (label, found) in managed.items()
        if identity.namespace in namespaces and identity not in wanted
    ]


# --- the command -------------------------------------------------------------------------------


def render_text(plan: Plan) -> str:
    out: list[str] = []
    signs = {"create": "+", "change": "~", "delete": "-"}
    for change in plan.changes:
        what = f"PagerDuty {change.kind}" + (
            f" {change.id}" if change.id and not is_planned(change.id) else ""
        )
        out.append(
            f"{signs[change.action]} {change.action} {what} {change.name!r} ({change.resource})"
        )
        out += [f"    {line.op} {line.text}" for line in change.lines]
    for note in plan.notes:
        out.append(f"! {note}")
    counts = plan.counts()
    if plan.changes:
        out.append(
            f"Plan: {counts['create']} to create, {counts['change']} to change, "
            f"{counts['end']} to end, {counts['delete']} to delete."
        )
    else:
        out.append("No changes: PagerDuty matches the manifests.")
    return "\n".join(out) + "\n"


def utc_now() -> dt.datetime:
    """The clock (tests replace it)."""
    return dt.datetime.now(dt.UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, folders or - for stdin")
    parser.add_argument(
        "--output", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.add_argument(
        "--namespace",
        default="default",
        help="namespace of objects whose manifests name none (default: default)",
    )
    parser.add_argument(
        "--no-deletes",
        action="store_true",
        help="do not list PagerDuty objects managed in these namespaces but absent from the set",
    )


def main(args: argparse.Namespace) -> int:
    try:
        documents = read_documents(args.paths)
    except UnreadableInput as error:
        print(f"oncall-operator plan: {error}", file=sys.stderr)
        return EXIT_ERROR
    invalid = list(validate_command.validate_documents(documents, utc_now(), cross=False))
    if invalid:
        for finding in invalid:
            print(finding, file=sys.stderr)
        print(
            "oncall-operator plan: fix the manifests first (oncall-operator validate).",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        settings = PagerDutySettings.from_env()
        # The operator's read model: whole collections listed once instead of one read per
        # object (a third fewer requests for the virtual-team example, half on an empty account).
        client = CachingPagerDutyClient.from_settings(
            settings, read_budget_per_minute=settings.rate_limit
        )
    except (SettingsError, ValueError) as error:
        print(f"oncall-operator plan: {error}", file=sys.stderr)
        return EXIT_ERROR
    try:
        plan = plan_documents(
            client, documents, utc_now(), args.namespace, deletes=not args.no_deletes
        )
    except PagerDutyError as error:
        print(f"oncall-operator plan: PagerDuty: {error}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        client.close()
    if args.output == "json":
        json.dump(
            {
                "changes": [asdict(c) for c in plan.changes],
                "notes": plan.notes,
                "errors": plan.errors,
                "summary": plan.counts(),
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(plan))
    for message in plan.errors:
        print(f"error: {message}", file=sys.stderr)
    if plan.errors:
        return EXIT_ERROR
    return EXIT_CHANGES if plan.changes else EXIT_NO_CHANGES
