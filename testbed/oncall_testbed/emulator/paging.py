"""Raising an incident as PagerDuty does: whom its policy's first rule pages, and the log it writes.

An incident is raised on a service (POST /incidents) or, for tests, straight on an escalation
policy at a given time (POST /_emulator/incidents). The emulator itself decides whom the first
rule notifies at `created_at` with its own renderer: a user target is that user; a schedule
target is whoever the schedule's final schedule (overrides included) has on call then. It writes the incident's
assignments and its log entries (trigger, assign, one notify per person) [NOTES.md "Incidents,
pages and teams"]. The incident's teams are its escalation policy's teams at that moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from oncall_testbed.emulator import layers, overrides
from oncall_testbed.emulator.state import Account, JSONDict

URGENCIES = ("high", "low")
STATUSES = ("triggered", "acknowledged", "resolved")
_INSTANT = timedelta(seconds=1)


def on_call_at(account: Account, schedule: JSONDict, moment: datetime) -> list[str]:
    """Ids of the users the schedule's final schedule (overrides included) has on call then."""
    entries = layers.render_entries(
        layers.versions(schedule["schedule_layers"]),
        schedule["time_zone"],
        (moment, moment + _INSTANT),
        overflow=False,
        final=True,
        overrides=overrides.entries_of(schedule),
    )
    return list(dict.fromkeys(e.user_id for e in entries))


def first_rule_users(account: Account, policy: JSONDict, moment: datetime) -> list[str]:
    """Whom the policy's first rule notifies at `moment`, in target order, each once."""
    notified: list[str] = []
    for target in policy["escalation_rules"][0]["targets"]:
        if target["type"] == "user_reference":
            notified.append(target["id"])
        elif target["id"] in account.schedules:
            notified.extend(on_call_at(account, account.schedules[target["id"]], moment))
    return list(dict.fromkeys(notified))


def raise_incident(
    account: Account,
    *,
    title: str,
    created_at: datetime,
    policy_id: str,
    service_id: str | None,
    urgency: str,
    status: str,
) -> JSONDict:
    """Store an incident and its log entries; the caller holds the account lock."""
    policy = account.escalation_policies[policy_id]
    assignees = first_rule_users(account, policy, created_at)
    when = created_at.isoformat().replace("+00:00", "Z")
    incident = account.add(
        "incidents",
        {
            "title": title,
            "created_at": when,
            "status": status,
            "urgency": urgency,
            "service_id": service_id,
            "escalation_policy_id": policy_id,
            "team_ids": list(policy["teams"]),
            "assignee_ids": assignees,
            "incident_number": len(account.incidents) + 1,
        },
    )
    base = {"created_at": when, "incident_id": incident["id"], "service_id": service_id}
    account.add("log_entries", {**base, "type": "trigger_log_entry"})
    if assignees:
        account.add("log_entries", {**base, "type": "assign_log_entry", "assignee_ids": assignees})
    for user_id in assignees:
        account.add("log_entries", {**base, "type": "notify_log_entry", "user_id": user_id})
    return incident


def seed_incidents(account: Account, incidents: list[JSONDict]) -> list[JSONDict]:
    """POST /_emulator/incidents: [{escalation_policy_id, created_at, urgency?, title, status?}]."""
    checked = []
    for index, raw in enumerate(incidents):
        where = f"incidents[{index}]"
        title, created_at = raw.get("title"), raw.get("created_at")
        if not isinstance(title, str) or not title:
            raise ValueError(f"{where}.title: expected a non-empty string")
        if not isinstance(created_at, str) or not _is_instant(created_at):
            raise ValueError(f"{where}.created_at: expected an ISO 8601 date-time with an offset")
        policy_id = raw.get("escalation_policy_id")
        if policy_id not in account.escalation_policies:
            raise ValueError(f"{where}.escalation_policy_id: no escalation policy {policy_id!r}")
        urgency = raw.get("urgency", "high")
        if urgency not in URGENCIES:
            raise ValueError(f"{where}.urgency: expected 'high' or 'low'")
        status = raw.get("status", "resolved")
        if status not in STATUSES:
            raise ValueError(f"{where}.status: unknown status {status!r}")
        checked.append((title, layers.instant(created_at), policy_id, urgency, status))
    raised = [
        raise_incident(
            account,
            title=title,
            created_at=moment,
            policy_id=policy_id,
            service_id=None,
            urgency=urgency,
            status=status,
        )
        for title, moment, policy_id, urgency, status in checked
    ]
    account.save()
    return raised


def _is_instant(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.upper()).utcoffset() is not None
    except ValueError:
        return False
