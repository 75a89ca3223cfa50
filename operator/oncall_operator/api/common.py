"""Types shared by the three kinds: references, the PagerDuty link, deletion policy, conditions."""

from __future__ import annotations

import re
import zoneinfo
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, field_validator
from pydantic.alias_generators import to_camel

GROUP = "oncall.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
PAUSED_ANNOTATION = f"{GROUP}/paused"

# ASCII only, so that Python, the API server's RE2 and CEL's lowerAscii() agree on every address.
_EMAIL_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
_EMAIL = re.compile(_EMAIL_PATTERN)
OBJECT_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=254,
        pattern=_EMAIL_PATTERN,
        description="Email address of a PagerDuty user (matched case-insensitively).",
    ),
    AfterValidator(_check_email),
]


def _check_time_zone(value: str) -> str:
    # "Local" is the machine's zone to Go (so to CEL) and to no one else: refused on both sides.
    try:
        if value == "Local":
            raise ValueError(value)
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/Dublin)") from None
    return value


# CEL's timestamp accessors take a zone name and load it from the API server's IANA database
# (Go's time.LoadLocation): an unknown name is an evaluation error, which refuses the object
# naming the field. The accessor's value is irrelevant; only whether the zone loads.
TIME_ZONE_RULES: list[JsonValue] = [
    {"rule": "self != 'Local'", "message": "Local is not an IANA time zone name"},
    {
        "rule": "timestamp('2026-01-01T00:00:00Z').getFullYear(self) > 0",
        "message": "not an IANA time zone name (e.g. Europe/Dublin)",
    },
]

TimeZone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$",
        description="IANA time zone name, e.g. Europe/Dublin.",
        json_schema_extra={"x-kubernetes-validations": TIME_ZONE_RULES},
    ),
    AfterValidator(_check_time_zone),
]


class ApiModel(BaseModel):
    """Base of every API model: camelCase on the wire, snake_case in Python, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The object as Kubernetes stores it: camelCase keys, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class LocalObjectRef(ApiModel):
    """A reference by name to another object of this API in the same namespace."""

    name: str = Field(
        min_length=1,
        max_length=253,
        # What the API server accepts as a custom resource's name (a DNS-1123 subdomain).
        pattern=OBJECT_NAME_PATTERN,
        description="Name of the referenced object, in the same namespace as the referrer.",
    )


class Weekday(StrEnum):
    MON = "Mon"
    TUE = "Tue"
    WED = "Wed"
    THU = "Thu"
    FRI = "Fri"
    SAT = "Sat"
    SUN = "Sun"

    @property
    def iso(self) -> int:
        """ISO day number, Monday = 1 (PagerDuty's start_day_of_week)."""
        return list(Weekday).index(self) + 1


_START_OF_WINDOW = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_END_OF_WINDOW = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
_DAYS_UNIQUE_RULE: dict[str, JsonValue] = {
    "rule": "self.all(d, self.exists_one(e, e == d))",
    "message": "days must not repeat",
}


class TimeWindow(ApiModel):
    """Local wall-clock hours on some days; an end not after the start runs past midnight."""

    days: list[Weekday] = Field(
        min_length=1,
        max_length=7,
        description="Days the window starts on (Mon..Sun).",
        json_schema_extra={"x-kubernetes-validations": [_DAYS_UNIQUE_RULE]},
    )
    start: str = Field(
        pattern=_START_OF_WINDOW,
        description='Start time "HH:MM" (00:00 to 23:59) in the time zone.',
    )
    end: str = Field(
        pattern=_END_OF_WINDOW,
        description='End time "HH:MM" (may be "24:00"); an end not after start runs into the next day.',
    )

    @field_validator("days")
    @classmethod
    def _days_do_not_repeat(cls, days: list[Weekday]) -> list[Weekday]:
        if len(set(days)) != len(days):
            raise ValueError("days must not repeat")
        return days

    @property
    def start_minutes(self) -> int:
        return _minutes(self.start)

    @property
    def duration_minutes(self) -> int:
        """Length of one window; an end not after the start wraps past midnight."""
        length = _minutes(self.end) - self.start_minutes
        return length if length > 0 else length + 24 * 60


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class BusinessHours(TimeWindow):
    """The hours a product team owns its alerts; everything else is out of hours."""

    days: list[Weekday] = Field(
        default_factory=lambda: [Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI],
        min_length=1,
        max_length=7,
        description="Business days (default Mon..Fri).",
        json_schema_extra={"x-kubernetes-validations": [_DAYS_UNIQUE_RULE]},
    )
    start: str = Field(
        default="09:00", pattern=_START_OF_WINDOW, description='Start "HH:MM" (default 09:00).'
    )
    end: str = Field(
        default="17:00", pattern=_END_OF_WINDOW, description='End "HH:MM" (default 17:00).'
    )


class PagerDutyRef(ApiModel):
    """Adopt an existing PagerDuty object instead of creating one."""

    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Z0-9]+$",
        description="Id of an existing PagerDuty object to adopt (e.g. PABC123). Once the object "
        "is managed its id is kept in status.pagerduty.id.",
    )


class DeletionPolicy(StrEnum):
    """What happens to the PagerDuty object when the Kubernetes resource is deleted."""

    DELETE = "Delete"
    ORPHAN = "Orphan"


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(ApiModel):
    """One observation of the object's state, Kubernetes style (keyed by type)."""

    type: str = Field(
        description="Condition type: Ready, Synced, ReferencesResolved, Sustainable, or kstatus' Reconciling and Stalled."
    )
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(
        pattern=r"^[A-Za-z]([A-Za-z0-9]*)$",
        description="CamelCase machine-readable reason for the condition's last transition.",
    )
    message: str = Field(
        default="", description="One readable sentence saying what is true or wrong."
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation this condition describes."
    )
    last_transition_time: str | None = Field(
        default=None,
        description="When status last flipped (RFC 3339); unchanged when only reason or message change.",
    )


class PagerDutyStatus(ApiModel):
    """The PagerDuty object this resource manages."""

    id: str | None = Field(default=None, description="Id of the PagerDuty object.")
    html_url: str | None = Field(
        default=None, description="Link to the object in PagerDuty's web UI."
    )


class CommonSpec(ApiModel):
    """Fields every kind has."""

    display_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Name shown in PagerDuty; defaults to metadata.name.",
    )
    description: str | None = Field(
        default=None,
        max_length=1024,
        description="Text copied to PagerDuty, followed by a line saying the object is managed by "
        "oncall-operator as <namespace>/<kind>/<name>.",
    )
    pagerduty: PagerDutyRef | None = Field(
        default=None,
        description="Adopt this existing PagerDuty object instead of creating one.",
    )
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.DELETE,
        description="Delete (default) removes the PagerDuty object when this resource is deleted; "
        "Orphan leaves it in PagerDuty and only drops the Kubernetes resource.",
    )


class CommonStatus(ApiModel):
    """Status fields every kind has."""

    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation this status describes."
    )
    pagerduty: PagerDutyStatus | None = Field(
        default=None, description="The PagerDuty object managed by this resource."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready (summary), Synced, ReferencesResolved, where it applies Sustainable, and kstatus' Reconciling (True while the operator still works) and Stalled (True when a person must act).",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
