"""Many teams of the bench's shape (testbed/oncall_testbed/bench.py: an OnCallTeam of 7
members, a BusinessHours and an OutOfHours weekly Rotation fed by it, an EscalationPolicy with two
rules), staffed from examples/users.yaml so that the e2e emulator already knows every member,
and named after the test's namespace in PagerDuty (names stay apart from other tests')."""

from __future__ import annotations

import json
from typing import Any

from oncall_testbed import bench
from tests.e2e import examples
from tests.e2e.pagerduty_view import COLLECTIONS, PagerDutyView

Manifest = dict[str, Any]
KINDS = ("OnCallTeam", "Rotation", "EscalationPolicy")
# The collection a kind's create is a POST to, as the emulator's request log shows it.
CREATED_BY_POST = {
    "OnCallTeam": "/teams",
    "Rotation": "/schedules",
    "EscalationPolicy": "/escalation_policies",
}


def teams(count: int, namespace: str) -> list[Manifest]:
    """`count` teams, 4 objects each, in apply order (each team's objects together)."""
    people = [user["email"] for user in examples.users()]
    found: list[Manifest] = []
    for team in range(count):
        text = json.dumps(bench.manifests(team))
        for member in range(bench.MEMBERS_PER_TEAM):
            email = people[(team * bench.MEMBERS_PER_TEAM + member) % len(people)]
            text = text.replace(f'"{bench.user_email(team, member)}"', json.dumps(email))
        for manifest in json.loads(text):
            manifest["spec"]["displayName"] = f"{namespace} {manifest['metadata']['name']}"
            found.append(manifest)
    return found


def names(manifests: list[Manifest], kind: str) -> list[str]:
    return sorted(str(m["metadata"]["name"]) for m in manifests if m["kind"] == kind)


def creates(requests: list[dict[str, Any]], kind: str) -> tuple[int, int]:
    """The creates of `kind` in the emulator's request log: (answered with a 2xx, unanswered).
    An unanswered one (its sender was killed while PagerDuty handled it; the log has no status)
    may or may not have made an object."""
    posts = [
        r
        for r in requests
        if r["method"] == "POST" and r["path"].split("?")[0] == CREATED_BY_POST[kind]
    ]
    answered = sum(1 for r in posts if r["status"] is not None and 200 <= r["status"] < 300)
    return answered, sum(1 for r in posts if r["status"] is None)


def in_pagerduty(view: PagerDutyView, kind: str, namespace: str) -> list[str]:
    """The names of every PagerDuty object of `kind` named for `namespace`'s resources (see
    teams()), whether or not it carries a managed marker (duplicates show up twice)."""
    return sorted(
        str(o["name"]).removeprefix(f"{namespace} ")
        for o in view.client.iter_all(COLLECTIONS[kind])
        if str(o.get("name") or "").startswith(f"{namespace} ")
    )
