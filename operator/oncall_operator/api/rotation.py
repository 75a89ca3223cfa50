"""Rotation: a PagerDuty schedule built from named layers in a time zone."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from oncall_operator.api.common import (
    ApiModel,
    BusinessHours,
    CommonSpec,
    CommonStatus,
    Email,
    LocalObjectRef,
    TimeWindow,
    TimeZone,
)
from oncall_operator.api.team import TeamRole

_DURATION = re.compile(r"^([0-9]+[wdhm])+$")
_DURATION_PART = re.compile(r"([0-9]+)([wdhm])")
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60}
LOCAL_DATETIME_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
# CEL twins of duration_seconds >= 1h and of datetime.fromisoformat, so the API server refuses
# what the pydantic validators refuse (findAll and sum are Kubernetes CEL library functions).
_SHIFT_AT_LEAST_AN_HOUR_RULE = (
    "self.findAll('[0-9]+[wdhm]').map(p, int(p.substring(0, size(p) - 1)) * "
    "(p.endsWith('w') ? 604800 : p.endsWith('d') ? 86400 : p.endsWith('h') ? 3600 : 60))"
    ".sum() >= 3600"
)
_REAL_LOCAL_DATETIME_RULE = (
    "timestamp(size(self) == 16 ? self + ':00Z' : self + 'Z') > timestamp('0001-01-01T00:00:00Z')"
)


# Business hours fill the week when they run 24 h (00:00-24:00, or an end equal to the start,
# which wraps past midnight) on all seven days; out-of-hours coverage is then empty.
_OUT_OF_HOURS_NEEDS_TIME_OUTSIDE_RULE = (
    "!has(self.businessHours) || !self.layers.exists(l, l.coverage == 'OutOfHours') || "
    "size(self.businessHours.days) < 7 || !(self.businessHours.start == self.businessHours.end || "
    "(self.businessHours.start == '00:00' && self.businessHours.end == '24:00'))"
)


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as "1w", "12h" or "1d12h"."""
    if not _DURATION.match(text):
        raise ValueError(f"{text!r} is not a duration like 1w, 2d, 12h or 1d12h")
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


class Coverage(StrEnum):
    """Which hours of the week a layer covers."""

    ALWAYS = "Always"
    BUSINESS_HOURS = "BusinessHours"
    OUT_OF_HOURS = "OutOfHours"
    CUSTOM = "Custom"


class ChangesTakeEffect(StrEnum):
    """When an edit of a layer applies."""

    NEXT_HANDOFF = "NextHandoff"
    IMMEDIATELY = "Immediately"


class FromTeam(ApiModel):
    """Take the participants from the rotation's team."""

    roles: list[TeamRole] = Field(
        default_factory=lambda: [TeamRole.RESPONDER],
        min_length=1,
        max_length=3,
        description="Team members with these roles take part, in team order (default responder).",
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.all(r, self.exists_one(s, s == r))",
                    "message": "roles must not repeat",
                }
            ]
        },
    )

    @field_validator("roles")
    @classmethod
    def _roles_do_not_repeat(cls, roles: list[TeamRole]) -> list[TeamRole]:
        if len(set(roles)) != len(roles):
            raise ValueError("roles must not repeat")
        return roles


class Participants(ApiModel):
    """Who takes turns: exactly one of fromTeam or emails."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.fromTeam) != has(self.emails)",
                    "message": "participants needs exactly one of fromTeam or emails",
                }
            ]
        }
    }

    from_team: FromTeam | None = Field(
        default=None, description="The team's members with these roles, in team order."
    )
    emails: list[Email] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="An explicit ordered list of PagerDuty users by email.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Participants:
        if (self.from_team is None) == (self.emails is None):
            raise ValueError("participants needs exactly one of fromTeam or emails")
        return self


class Layer(ApiModel):
    """One schedule layer; later layers win where they overlap earlier ones."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "self.coverage == 'Custom' ? has(self.windows) && size(self.windows) > 0 : !has(self.windows)",
                    "message": "windows are required with coverage Custom and allowed only with it",
                }
            ]
        }
    }

    name: str = Field(
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Stable identity of the layer (lowercase DNS label); renaming ends the old layer.",
    )
    participants: Participants = Field(description="Who takes turns on this layer.")
    shift_length: str = Field(
        max_length=28,
        pattern=r"^([0-9]{1,6}[wdhm]){1,4}$",
        description="Length of one shift, e.g. 1w, 1d, 12h or 1d12h (units w, d, h, m); at least 1h.",
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": _SHIFT_AT_LEAST_AN_HOUR_RULE, "message": "shiftLength must be at least 1h"}
            ]
        },
    )
    handoff: str = Field(
        max_length=19,
        pattern=LOCAL_DATETIME_PATTERN,
        description="Local date-time (YYYY-MM-DDTHH:MM[:SS], no offset) in timeZone of one handoff: "
        "the rotation anchor.",
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": _REAL_LOCAL_DATETIME_RULE, "message": "handoff is not a real date-time"}
            ]
        },
    )
    coverage: Coverage = Field(
        default=Coverage.ALWAYS,
        description="Always (default), BusinessHours, OutOfHours or Custom (with windows).",
    )
    windows: list[TimeWindow] | None = Field(
        default=None,
        max_length=50,
        description="With coverage Custom only: the local hours this layer is on call.",
    )
    changes_take_effect: ChangesTakeEffect = Field(
        default=ChangesTakeEffect.NEXT_HANDOFF,
        description="NextHandoff (default) keeps whoever is on call now until the next handoff; "
        "Immediately applies an edit at once.",
    )

    @field_validator("shift_length")
    @classmethod
    def _at_least_an_hour(cls, value: str) -> str:
        if duration_seconds(value) < 3600:
            raise ValueError(f"shiftLength {value!r} is shorter than 1h")
        return value

    @field_validator("handoff")
    @classmethod
    def _is_local_datetime(cls, value: str) -> str:
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            raise ValueError("handoff is a local date-time without an offset")
        return value

    @model_validator(mode="after")
    def _windows_only_with_custom(self) -> Layer:
        if self.coverage is Coverage.CUSTOM and not self.windows:
            raise ValueError("coverage Custom needs windows")
        if self.coverage is not Coverage.CUSTOM and self.windows is not None:
            raise ValueError(f"windows are only allowed with coverage Custom, not {self.coverage}")
        return self

    @property
    def shift_seconds(self) -> int:
        return duration_seconds(self.shift_length)

    @property
    def handoff_local(self) -> dt.datetime:
        """The anchor handoff as a naive local date-time in the rotation's time zone."""
        return dt.datetime.fromisoformat(self.handoff)


class RotationSpec(CommonSpec):
    """Desired state of a PagerDuty schedule."""

    model_config = CommonSpec.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!self.layers.exists(l, has(l.participants.fromTeam)) || has(self.teamRef)",
                    "message": "layers with participants.fromTeam need spec.teamRef",
                },
                {
                    "rule": _OUT_OF_HOURS_NEEDS_TIME_OUTSIDE_RULE,
                    "message": "businessHours cover the whole week, so a layer with coverage "
                    "OutOfHours would never be on call",
                },
            ]
        }
    }

    team_ref: LocalObjectRef | None = Field(
        default=None,
        description="The OnCallTeam that owns this schedule and feeds fromTeam participants.",
    )
    time_zone: TimeZone = Field(description="IANA time zone of handoffs and windows (required).")
    business_hours: BusinessHours = Field(
        default_factory=BusinessHours,
        description="Business hours used by the BusinessHours and OutOfHours coverage presets.",
    )
    layers: list[Layer] = Field(
        min_length=1,
        max_length=20,
        description="Schedule layers in order; `name` is each layer's stable identity.",
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.all(l, self.exists_one(m, m.name == l.name))",
                    "message": "layer names must be unique",
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _layer_names_unique(self) -> RotationSpec:
        seen: set[str] = set()
        for index, layer in enumerate(self.layers):
            if layer.name in seen:
                raise ValueError(f"layers[{index}].name {layer.name!r} is used twice")
            seen.add(layer.name)
        if self.business_hours.duration_minutes == 24 * 60 and len(self.business_hours.days) == 7:
            for index, layer in enumerate(self.layers):
                if layer.coverage is Coverage.OUT_OF_HOURS:
                    raise ValueError(
                        f"spec.businessHours covers the whole week, so layers[{index}] with "
                        "coverage OutOfHours would never be on call"
                    )
        if self.team_ref is None:
            for index, layer in enumerate(self.layers):
                if layer.participants.from_team is not None:
                    raise ValueError(f"layers[{index}].participants.fromTeam needs spec.teamRef")
        return self


class LayerStatus(ApiModel):
    """The PagerDuty layer that carries one spec layer."""

    name: str = Field(description="Layer name from the spec.")
    id: str = Field(description="Id of the PagerDuty schedule layer.")


class OnCallStatus(ApiModel):
    """Who is on call now and who follows."""

    now: str | None = Field(default=None, description="Email of the person on call now.")
    until: str | None = Field(default=None, description="When the current shift ends (RFC 3339).")
    next: str | None = Field(default=None, description="Email of the next person on call.")


class PersonLoad(ApiModel):
    """One person's on-call load over the next 28 days."""

    email: str = Field(description="The person.")
    hours: float = Field(ge=0, description="Hours on call over the next 28 days.")
    out_of_hours_hours: float = Field(ge=0, description="Of those, hours outside business hours.")
    shifts: int = Field(ge=0, description="Separate shifts over the next 28 days.")


class OverrideStatus(ApiModel):
    """A PagerDuty schedule override the operator made to cover someone's time off."""

    id: str = Field(description="Id of the PagerDuty override.")
    start: str = Field(description="Start of the override (RFC 3339).")
    end: str = Field(description="End of the override (RFC 3339).")
    email: str = Field(description="Who is on call instead.")
    covers: str = Field(description="Whose time off the override covers.")


class RotationStatus(CommonStatus):
    """Observed state of the PagerDuty schedule, written by the operator."""

    layers: list[LayerStatus] = Field(
        default_factory=list, description="PagerDuty layer id of each spec layer."
    )
    on_call: OnCallStatus | None = Field(default=None, description="Who is on call now and next.")
    next_handoff: str | None = Field(default=None, description="Next handoff time (RFC 3339).")
    load: list[PersonLoad] = Field(
        default_factory=list, description="On-call load per person over the next 28 days."
    )
    overrides: list[OverrideStatus] = Field(
        default_factory=list,
        description="PagerDuty overrides the operator made for the team members' time off "
        "(spec.members[].away of the teamRef team); overrides made by people are not listed.",
    )
