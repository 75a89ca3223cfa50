"""PagerDuty users by email: the operator looks them up, never creates them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from oncall_operator.pagerduty import PagerDutyClient


@dataclass(frozen=True)
class ResolvedEmails:
    user_ids: dict[str, str]  # lower-cased email -> PagerDuty user id, only those found
    unknown: list[str]  # emails with no PagerDuty user, as written, first-seen order

    @property
    def emails_by_user_id(self) -> dict[str, str]:
        return {user_id: email for email, user_id in self.user_ids.items()}


def resolve_emails(client: PagerDutyClient, emails: Iterable[str]) -> ResolvedEmails:
    """Look each distinct email up once (case-insensitively)."""
    user_ids: dict[str, str] = {}
    unknown: list[str] = []
    seen: set[str] = set()
    for email in emails:
        key = email.lower()
        if key in seen:
            continue
        seen.add(key)
        user = client.find_user_by_email(email)
        if user is None:
            unknown.append(email)
        else:
            user_ids[key] = str(user["id"])
    return ResolvedEmails(user_ids=user_ids, unknown=unknown)
