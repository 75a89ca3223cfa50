"""PagerDuty (the emulator) as its UI shows it to a person: read through the REST API, and edited
by hand through it the way someone in the UI would (the drift the operator must correct)."""

from __future__ import annotations

import ssl
from typing import Any

import pagerduty

from oncall_testbed.emulator import EmulatorServer

COLLECTIONS = {
    "OnCallTeam": "teams",
    "Rotation": "schedules",
    "EscalationPolicy": "escalation_policies",
}


class PagerDutyView:
    def __init__(self, emulator: EmulatorServer) -> None:
        self.client = pagerduty.RestApiV2Client(
            emulator.token,
            base_url=emulator.base_url,
            verify=ssl.create_default_context(cafile=str(emulator.ca_file)),
        )

    def close(self) -> None:
        self.client.close()

    def managed(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        """Every PagerDuty object whose description says a `kind` object of `namespace` manages it."""
        marker = f"Managed by oncall-operator as {namespace}/{kind}/"
        return [
            obj
            for obj in self.client.iter_all(COLLECTIONS[kind])
            if marker in (obj.get("description") or "")
        ]

    def managed_names(self, kind: str, namespace: str) -> list[str]:
        """The Kubernetes names of the managed objects (duplicates show up twice)."""
        marker = f"Managed by oncall-operator as {namespace}/{kind}/"
        names = []
        for obj in self.managed(kind, namespace):
            line = next(li for li in obj["description"].splitlines() if li.startswith(marker))
            names.append(line.removeprefix(marker).split(";")[0])
        return sorted(names)

    def assert_one_each(self, namespace: str, manifests: list[dict[str, Any]]) -> None:
        """PagerDuty holds exactly one managed object for each of the manifests, of every kind."""
        for kind in ("OnCallTeam", "Rotation", "EscalationPolicy"):
            expected = sorted(str(m["metadata"]["name"]) for m in manifests if m["kind"] == kind)
            assert self.managed_names(kind, namespace) == expected, kind

    def get(self, kind: str, id_: str) -> dict[str, Any]:
        found: dict[str, Any] = self.client.rget(f"{COLLECTIONS[kind]}/{id_}")
        return found

    def exists(self, kind: str, id_: str) -> bool:
        response = self.client.get(f"{COLLECTIONS[kind]}/{id_}")
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True

    def members(self, team_id: str) -> dict[str, str]:
        """email -> role of a team's members."""
        return {
            member["user"]["email"]
            if "email" in member["user"]
            else self.email(member["user"]["id"]): member["role"]
            for member in self.client.iter_all(f"teams/{team_id}/members")
        }

    def email(self, user_id: str) -> str:
        user: dict[str, Any] = self.client.rget(f"users/{user_id}")
        return str(user["email"])

    def user_id(self, email: str) -> str:
        user = self.client.find("users", email, attribute="email")
        assert user is not None, f"no PagerDuty user {email}"
        return str(user["id"])

    def put(self, kind: str, id_: str, body: dict[str, Any]) -> dict[str, Any]:
        """A hand edit, as someone in PagerDuty's UI would make it."""
        wrapper = {
            "OnCallTeam": "team",
            "Rotation": "schedule",
            "EscalationPolicy": "escalation_policy",
        }
        updated: dict[str, Any] = self.client.rput(
            f"{COLLECTIONS[kind]}/{id_}", json={wrapper[kind]: body}
        )
        return updated

    def delete(self, kind: str, id_: str) -> None:
        """A deletion by hand, as someone in PagerDuty's UI would make it."""
        self.client.rdelete(f"{COLLECTIONS[kind]}/{id_}")

    def remove_member(self, team_id: str, email: str) -> None:
        self.client.rdelete(f"teams/{team_id}/users/{self.user_id(email)}")

    def create_team(self, name: str, description: str = "") -> dict[str, Any]:
        team: dict[str, Any] = self.client.rpost(
            "teams", json={"team": {"type": "team", "name": name, "description": description}}
        )
        return team
