"""A PagerDuty client for `plan`: reads go to PagerDuty, writes are kept and never sent.

The operator's own reconcile functions run against it unchanged, so `plan` shows what the
operator would do, computed by the very translation and drift code the operator runs. Only the
read methods listed here reach PagerDuty; any other method is refused loudly, so a write added
to the client later can never slip through a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from oncall_operator.pagerduty import PagerDutyClient

JSON = dict[str, Any]
PLANNED_ID_PREFIX = "(new "


@dataclass(frozen=True)
class Write:
    """One request the operator would send: method name and its arguments."""

    method: str
    args: tuple[Any, ...]
    before: JSON | None = None  # the object as PagerDuty has it, for updates


@dataclass(eq=False)  # hashed by identity: per-client caches (the page log) key on it
class PlanningClient:
    """Wraps a real client; see the module's doc."""

    client: PagerDutyClient
    writes: list[Write] = field(default_factory=list)
    seen: dict[str, JSON] = field(default_factory=dict)  # id -> object last read or planned
    emails: dict[str, str] = field(default_factory=dict)  # user id -> email
    planned_members: dict[str, dict[str, str]] = field(default_factory=dict)
    _count: int = 0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        raise AttributeError(f"plan does not know whether PagerDutyClient.{name} writes")

    # -- reads ---------------------------------------------------------------------------------
    def _remember(self, found: list[JSON]) -> list[JSON]:
        for item in found:
            if item.get("id"):
                self.seen[str(item["id"])] = item
        return found

    def _by_id(self, method: str) -> Callable[..., Any]:
        def read(object_id: str, *args: Any, **kwargs: Any) -> Any:
            if is_planned(object_id):
                return self.seen[object_id]
            found: JSON = getattr(self.client, method)(object_id, *args, **kwargs)
            self.seen[object_id] = found
            return found

        return read

    def get_team(self, team_id: str) -> JSON:
        return dict(self._by_id("get_team")(team_id))

    def get_schedule(self, schedule_id: str, **kwargs: Any) -> JSON:
        return dict(self._by_id("get_schedule")(schedule_id, **kwargs))

    def get_escalation_policy(self, policy_id: str) -> JSON:
        return dict(self._by_id("get_escalation_policy")(policy_id))

    def get_user(self, user_id: str) -> JSON:
        user = dict(self.client.get_user(user_id))
        self.emails[user_id] = str(user.get("email") or user_id)
        return user

    def find_user_by_email(self, email: str) -> JSON | None:
        user = self.client.find_user_by_email(email)
        if user is not None:
            self.emails[str(user["id"])] = str(user.get("email") or email)
        return user

    def list_team_members(self, team_id: str) -> list[JSON]:
        if is_planned(team_id):
            return [
                {"user": {"id": user_id}, "role": role}
                for user_id, role in self.planned_members.get(team_id, {}).items()
            ]
        members = self.client.list_team_members(team_id)
        self.seen[f"{team_id}/members"] = {"members": members}
        return members

    def schedules_of_team(self, team_id: str) -> list[JSON]:
        return [] if is_planned(team_id) else self._remember(self.client.schedules_of_team(team_id))

    def escalation_policies_of_team(self, team_id: str) -> list[JSON]:
        if is_planned(team_id):
            return []
        return self._remember(self.client.escalation_policies_of_team(team_id))

    def find_teams(self, query: str) -> list[JSON]:
        return self._remember(self.client.find_teams(query))

    def find_schedules(self, query: str) -> list[JSON]:
        return self._remember(self.client.find_schedules(query))

    def find_escalation_policies(self, query: str) -> list[JSON]:
        return self._remember(self.client.find_escalation_policies(query))

    def list_oncalls(self, *, schedule_ids: Sequence[str], **kwargs: Any) -> list[JSON]:
        real = [i for i in schedule_ids if not is_planned(i)]
        return self.client.list_oncalls(schedule_ids=real, **kwargs) if real else []

    def list_overrides(self, schedule_id: str, **kwargs: Any) -> list[JSON]:
        return [] if is_planned(schedule_id) else self.client.list_overrides(schedule_id, **kwargs)

    def list_log_entries(self, **kwargs: Any) -> list[JSON]:
        return self.client.list_log_entries(**kwargs)

    # -- writes, kept --------------------------------------------------------------------------
    def _create(self, method: str, label: str, body: JSON) -> JSON:
        self._count += 1
        made = {**body, "id": f"{PLANNED_ID_PREFIX}{label} {self._count})"}
        self.seen[made["id"]] = made
        self.writes.append(Write(method, (body,)))
        return made

    def _update(self, method: str, object_id: str, body: JSON) -> JSON:
        before = self.seen.get(object_id)
        self.writes.append(Write(method, (object_id, body), before))
        updated = {**(before or {}), **body, "id": object_id}
        self.seen[object_id] = updated
        return updated

    def create_team(self, team: JSON) -> JSON:
        return self._create("create_team", "team", team)

    def update_team(self, team_id: str, team: JSON) -> JSON:
        return self._update("update_team", team_id, team)

    def create_schedule(self, schedule: JSON) -> JSON:
        return self._create("create_schedule", "schedule", schedule)

    def update_schedule(self, schedule_id: str, schedule: JSON) -> JSON:
        return self._update("update_schedule", schedule_id, schedule)

    def create_escalation_policy(self, policy: JSON) -> JSON:
        return self._create("create_escalation_policy", "escalation policy", policy)

    def update_escalation_policy(self, policy_id: str, policy: JSON) -> JSON:
        return self._update("update_escalation_policy", policy_id, policy)

    def set_team_member(self, team_id: str, user_id: str, role: str) -> None:
        self.planned_members.setdefault(team_id, {})[user_id] = role
        self.writes.append(Write("set_team_member", (team_id, user_id, role)))

    def remove_team_member(self, team_id: str, user_id: str) -> None:
        self.writes.append(Write("remove_team_member", (team_id, user_id)))

    def create_overrides(self, schedule_id: str, overrides: Sequence[JSON]) -> list[JSON]:
        made = []
        for override in overrides:
            self._count += 1
            made.append({**override, "id": f"{PLANNED_ID_PREFIX}override {self._count})"})
        # Not "create_...": the schedule itself is not created by it.
        self.writes.append(Write("add_overrides", (schedule_id, list(overrides))))
        return made

    def delete_override(self, schedule_id: str, override_id: str) -> None:
        self.writes.append(Write("delete_override", (schedule_id, override_id)))

    def delete_team(self, team_id: str) -> None:
        self.writes.append(Write("delete_team", (team_id,), self.seen.get(team_id)))

    def delete_schedule(self, schedule_id: str) -> None:
        self.writes.append(Write("delete_schedule", (schedule_id,), self.seen.get(schedule_id)))

    def delete_escalation_policy(self, policy_id: str) -> None:
        self.writes.append(
            Write("delete_escalation_policy", (policy_id,), self.seen.get(policy_id))
        )


def is_planned(object_id: str) -> bool:
    """An id this plan made up for an object it would create."""
    return object_id.startswith(PLANNED_ID_PREFIX)
