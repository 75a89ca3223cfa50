"""What PagerDuty does by itself when a schedule or escalation policy is written.

With Advanced Permissions (Business plans and above), users added to a schedule or escalation
policy are added to that object's teams, and associating a team with a schedule adds the
schedule's users to the team [PagerDuty knowledge base "Teams", "Team Association Behavior";
../shared/pagerduty/NOTES.md "Side effects PagerDuty applies by itself"]. The knowledge base does
not say which team role such a user gets; the emulator gives responder, the role PagerDuty's
team pages call the default for people who take on-call shifts, and never changes the role of
someone already on the team.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from oncall_testbed.emulator import layers
from oncall_testbed.emulator.state import Account, JSONDict

ADDED_ROLE = "responder"


def schedule_user_ids(schedule: JSONDict, moment: datetime) -> list[str]:
    """Users of the schedule's layers that have not ended, in order, without repeats."""
    found: dict[str, None] = {}
    for layer in schedule["schedule_layers"]:
        end = layer.get("end")
        if end is None or layers.instant(end) > moment:
            found.update((u["user"]["id"], None) for u in layer["users"])
    return list(found)


def policy_user_ids(policy: JSONDict) -> list[str]:
    """Users a policy targets directly (a schedule's users come with the schedule)."""
    found: dict[str, None] = {}
    for rule in policy["escalation_rules"]:
        found.update((t["id"], None) for t in rule["targets"] if t["type"] == "user_reference")
    return list(found)


def add_users_to_teams(account: Account, team_ids: Iterable[str], user_ids: list[str]) -> None:
    """Make every user a member of every team (as ADDED_ROLE) unless already one."""
    for team_id in team_ids:
        team = account.teams.get(team_id)
        if team is None:
            continue
        for user_id in user_ids:
            team["members"].setdefault(user_id, ADDED_ROLE)
