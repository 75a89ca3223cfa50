"""`oncall-operator import`: manifests of our kinds written from an existing PagerDuty account.

Selected objects bring what they refer to (a policy its schedules and team, a schedule its
team), so the output is a set `validate` can judge and applying it adopts each object.
Exit 0 written, 1 PagerDuty errors or nothing found, 2 usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from oncall_operator.gitops.importer import (
    JSON,
    Manifest,
    Names,
    policy_manifest,
    rotation_manifest,
    team_manifest,
)
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import PagerDutyError
from oncall_operator.settings import PagerDutySettings, SettingsError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


@dataclass
class Selection:
    teams: dict[str, JSON] = field(default_factory=dict)
    schedules: dict[str, JSON] = field(default_factory=dict)
    policies: dict[str, JSON] = field(default_factory=dict)


def select(
    client: PagerDutyClient,
    team_names: Sequence[str] = (),
    schedule_ids: Sequence[str] = (),
    policy_ids: Sequence[str] = (),
    everything: bool = False,
) -> Selection:
    """The PagerDuty objects asked for, with what they refer to."""
    chosen = Selection()
    if everything:
        chosen.teams = {str(t["id"]): t for t in client.find_teams("")}
        chosen.schedules = {str(s["id"]): s for s in client.find_schedules("")}
        chosen.policies = {str(p["id"]): p for p in client.find_escalation_policies("")}
    for name in team_names:
        matches = [t for t in client.find_teams(name) if t.get("name") == name]
        if not matches:
            raise LookupError(f"PagerDuty has no team named {name!r}")
        for team in matches:
            chosen.teams[str(team["id"])] = team
            chosen.schedules |= {str(s["id"]): s for s in client.schedules_of_team(str(team["id"]))}
            chosen.policies |= {
                str(p["id"]): p for p in client.escalation_policies_of_team(str(team["id"]))
            }
    for schedule_id in schedule_ids:
        chosen.schedules[schedule_id] = client.get_schedule(schedule_id)
    for policy_id in policy_ids:
        chosen.policies[policy_id] = client.get_escalation_policy(policy_id)
    for policy in chosen.policies.values():
        for rule in policy.get("escalation_rules") or []:
            for target in rule.get("targets") or []:
                target_id = str(target.get("id"))
                if (
                    str(target.get("type")).startswith("schedule")
                    and target_id not in chosen.schedules
                ):
                    chosen.schedules[target_id] = client.get_schedule(target_id)
    for owner in [*chosen.schedules.values(), *chosen.policies.values()]:
        for team in (owner.get("teams") or [])[:1]:
            if str(team["id"]) not in chosen.teams:
                chosen.teams[str(team["id"])] = client.get_team(str(team["id"]))
    return chosen


def manifests(
    client: PagerDutyClient, chosen: Selection, namespace: str, now: dt.datetime
) -> list[Manifest]:
    """Teams, then rotations, then escalation policies, each in PagerDuty's order."""
    names = Names(namespace)
    emails: dict[str, str] = {}

    def email_of(user_id: str) -> None:
        if user_id not in emails:
            email = client.get_user(user_id).get("email")
            if email:
                emails[user_id] = str(email)

    members = {team_id: client.list_team_members(team_id) for team_id in chosen.teams}
    for listed in members.values():
        for member in listed:
            email_of(str(member["user"]["id"]))
    for schedule in chosen.schedules.values():
        for layer in schedule.get("schedule_layers") or []:
            for user in layer.get("users") or []:
                email_of(str(user["user"]["id"]))
    for policy in chosen.policies.values():
        for rule in policy.get("escalation_rules") or []:
            for target in rule.get("targets") or []:
                if str(target.get("type")).startswith("user"):
                    email_of(str(target["id"]))

    found = [team_manifest(names, t, members[i], emails) for i, t in chosen.teams.items()]
    rotations = [rotation_manifest(names, s, emails, now) for s in chosen.schedules.values()]
    schedule_names = {
        schedule_id: names.identity("Rotation", schedule).name
        for schedule_id, schedule in chosen.schedules.items()
    }
    policies = [policy_manifest(names, p, schedule_names, emails) for p in chosen.policies.values()]
    return [*found, *rotations, *policies]


def utc_now() -> dt.datetime:
    """The clock (tests replace it)."""
    return dt.datetime.now(dt.UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--team",
        action="append",
        default=[],
        metavar="NAME",
        help="a PagerDuty team by name, with its schedules and escalation policies (repeatable)",
    )
    parser.add_argument(
        "--schedule",
        action="append",
        default=[],
        metavar="ID",
        help="a PagerDuty schedule by id (repeatable)",
    )
    parser.add_argument(
        "--escalation-policy",
        action="append",
        default=[],
        metavar="ID",
        help="a PagerDuty escalation policy by id, with its schedules (repeatable)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="every team, schedule and escalation policy of the account",
    )
    parser.add_argument(
        "--namespace",
        default="default",
        help="namespace of the manifests (objects with a managed-by line keep theirs)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="write one file per object under DIR/NAMESPACE/ instead of printing a stream",
    )


def main(args: argparse.Namespace) -> int:
    if not (args.all or args.team or args.schedule or args.escalation_policy):
        print(
            "oncall-operator import: say what to import: --team, --schedule, --escalation-policy or --all",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        client = PagerDutyClient.from_settings(PagerDutySettings.from_env())
    except (SettingsError, ValueError) as error:
        print(f"oncall-operator import: {error}", file=sys.stderr)
        return EXIT_ERROR
    try:
        chosen = select(client, args.team, args.schedule, args.escalation_policy, args.all)
        written = manifests(client, chosen, args.namespace, utc_now())
    except (PagerDutyError, LookupError) as error:
        print(f"oncall-operator import: {error}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        client.close()
    if not written:
        print("oncall-operator import: nothing to import", file=sys.stderr)
        return EXIT_ERROR
    for manifest in written:
        for note in manifest.notes:
            print(f"{manifest.identity}: {note}", file=sys.stderr)
    if args.output_dir is None:
        sys.stdout.write("---\n".join(m.to_yaml() for m in written))
        return EXIT_OK
    for manifest in written:
        identity = manifest.identity
        path = (
            args.output_dir / identity.namespace / f"{identity.kind.lower()}-{identity.name}.yaml"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(manifest.to_yaml())
        print(path)
    return EXIT_OK
