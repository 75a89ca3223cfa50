"""PagerDuty users by email: the operator looks them up, never creates them."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import PagerDutyError


@dataclass(frozen=True)
class ResolvedEmails:
    user_ids: dict[str, str]  # lower-cased email -> PagerDuty user id, only those found
    unknown: list[str]  # emails with no PagerDuty user, as written, first-seen order

    @functools.cached_property
    def emails_by_user_id(self) -> dict[str, str]:
        """PagerDuty user id -> email; made once, so emails a caller learns later are kept."""
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


def emails_of(
    client: PagerDutyClient, user_ids: Iterable[str], known: Mapping[str, str]
) -> dict[str, str]:
    """PagerDuty user id -> email for `user_ids` (someone a person added by hand included), from
    `known` first and the user directory after; an id PagerDuty cannot name stays out (it is then
    shown as the id)."""
    emails = dict(known)
    for user_id in user_ids:
        if user_id in emails:
            continue
        try:
            email = client.get_user(user_id).get("email")
        except PagerDutyError:
            continue
        if email:
            emails[user_id] = str(email)
    return emails
