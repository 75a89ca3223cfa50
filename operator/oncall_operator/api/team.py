"""OnCallTeam: a PagerDuty team, its memberships and the humane on-call policy."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field, model_validator

from oncall_operator.api.common import (
    ApiModel,
    BusinessHours,
    CommonSpec,
    CommonStatus,
    Email,
    TimeZone,
)


class TeamRole(StrEnum):
    """PagerDuty team roles."""

    RESPONDER = "responder"
    MANAGER = "manager"
    OBSERVER = "observer"


class Away(ApiModel):
    """Time off: whole days in the policy's time zone, both ends inclusive."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {"rule": "self.from <= self.until", "message": "until must not be before from"}
            ]
        }
    }

    from_: dt.date = Field(
        alias="from", description="First day away (YYYY-MM-DD) in the team policy's time zone."
    )
    until: dt.date = Field(
        description="Last day away (YYYY-MM-DD), inclusive, in the team policy's time zone."
    )
    note: str | None = Field(
        default=None, max_length=200, description="Why, for people reading the manifest."
    )

    @model_validator(mode="after")
    def _is_ordered(self) -> Away:
        if self.until < self.from_:
            raise ValueError(f"until ({self.until}) is before from ({self.from_})")
        return self


class Member(ApiModel):
    """A person on the team, identified by the email of their PagerDuty user."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.since) || !has(self.until) || self.since <= self.until",
                    "message": "until must not be before since",
                }
            ]
        }
    }

    email: Email
    role: TeamRole = Field(
        default=TeamRole.RESPONDER,
        description="PagerDuty team role: responder (default), manager or observer.",
    )
    since: dt.date | None = Field(
        default=None, description="First day of the term (YYYY-MM-DD); not a member before it."
    )
    until: dt.date | None = Field(
        default=None,
        description="Last day of the term (YYYY-MM-DD); the member leaves every rotation fed by "
        "the team at its first handoff after this day (a shift is never cut short), then the team.",
    )
    away: list[Away] = Field(
        default_factory=list,
        max_length=50,
        description="Time off. The operator hands this person's on-call time in these days to "
        "another participant with PagerDuty schedule overrides.",
    )

    @model_validator(mode="after")
    def _term_is_ordered(self) -> Member:
        if self.since and self.until and self.until < self.since:
            raise ValueError(f"until ({self.until}) is before since ({self.since})")
        return self

    def is_active(self, today: dt.date) -> bool:
        """Whether the member's term covers `today` (both ends inclusive)."""
        return (self.since is None or self.since <= today) and (
            self.until is None or today <= self.until
        )


class OnCallPolicy(ApiModel):
    """Limits that guard people from burning out; breaches show as Sustainable=False."""

    max_on_call_percent: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Maximum share (%) of any 4-week window one person may be on call.",
    )
    min_rest_hours: int | None = Field(
        default=None,
        ge=0,
        le=8760,
        description="Minimum hours off between two shifts of the same person.",
    )
    max_out_of_hours_pages_per_month: int | None = Field(
        default=None,
        ge=0,
        description="Maximum high-urgency pages to members on call through the team's rotations "
        "outside those rotations' business hours, over the last 30 days.",
    )
    time_zone: TimeZone = Field(
        default="UTC",
        description="IANA time zone in which the members' since, until and away dates begin and "
        "end (pages are judged by each rotation's own time zone and business hours).",
    )
    term_warning_days: int = Field(
        default=14,
        ge=0,
        le=366,
        description="Members whose term ends within this many days are listed in "
        "status.members.expiringSoon, with an Event (default 14).",
    )
    business_hours: BusinessHours = Field(
        default_factory=BusinessHours,
        description="Deprecated and ignored: pages are judged against each rotation's own "
        "businessHours.",
    )


class OnCallTeamSpec(CommonSpec):
    """Desired state of a PagerDuty team and its memberships."""

    members: list[Member] = Field(
        default_factory=list,
        # The uniqueness rule compares every pair: 150 keeps its CEL cost inside the API server's budget.
        max_length=150,
        description="Members in order; the order is the default rotation order.",
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.all(m, self.exists_one(n, n.email.lowerAscii() == m.email.lowerAscii()))",
                    "message": "each member email may appear only once",
                }
            ]
        },
    )
    policy: OnCallPolicy | None = Field(
        default=None, description="Optional humane on-call guard checked against every rotation."
    )

    @model_validator(mode="after")
    def _emails_are_unique(self) -> OnCallTeamSpec:
        seen: set[str] = set()
        for index, member in enumerate(self.members):
            key = member.email.lower()
            if key in seen:
                raise ValueError(f"members[{index}].email {member.email!r} appears twice")
            seen.add(key)
        return self


class MembersStatus(ApiModel):
    """How many members resolved to PagerDuty users."""

    total: int = Field(default=0, ge=0, description="Members listed in the spec.")
    resolved: int = Field(default=0, ge=0, description="Members found in PagerDuty by email.")
    active: int = Field(default=0, ge=0, description="Resolved members whose term covers today.")
    unresolved: list[str] = Field(
        default_factory=list, description="Emails with no PagerDuty user."
    )
    expiring_soon: list[str] = Field(
        default_factory=list,
        description="Emails whose term ends within policy.termWarningDays (default 14).",
    )


class PersonPages(ApiModel):
    """One member's pages over the last 30 days while on call through the team's rotations."""

    email: str = Field(description="The member.")
    pages: int = Field(default=0, ge=0, description="High-urgency pages received on call.")
    night_pages: int = Field(
        default=0, ge=0, description="Of those, pages 22:00-07:00 in the person's own time zone."
    )
    max_pages_in_12h: int = Field(
        default=0,
        ge=0,
        alias="maxPagesIn12h",  # the generated camel case would read "In12H"
        description="The most pages within any 12 hours (the SRE limit is two).",
    )


class PagesStatus(ApiModel):
    """Pages PagerDuty sent the team's members while they were on call through its rotations."""

    out_of_hours_last_30_days: int = Field(
        default=0,
        ge=0,
        description="High-urgency pages to members on call through a rotation of the team, outside "
        "that rotation's business hours, over the last 30 days.",
    )
    people: list[PersonPages] = Field(
        default_factory=list, description="Per member: pages, night pages, busiest 12 hours."
    )


class OnCallTeamStatus(CommonStatus):
    """Observed state of the PagerDuty team, written by the operator."""

    members: MembersStatus | None = Field(default=None, description="Membership resolution.")
    pages: PagesStatus | None = Field(default=None, description="Recent out-of-hours pages.")
