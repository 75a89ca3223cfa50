"""The values the reconcile layer takes from and gives back to the kopf handlers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from oncall_operator.translate.load import Entry


@dataclass(frozen=True)
class ObjectMeta:
    """The parts of a resource's metadata a reconcile needs."""

    namespace: str
    name: str
    kind: str
    generation: int
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event to post on the object (Created, Adopted, Updated, DriftCorrected, ...)."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True)
class Outcome:
    """What one reconcile found and did."""

    status: dict[str, Any]  # the complete new status (wire form, camelCase) to store
    events: list[Event]
    requeue_after: float | None  # run again after N seconds; None: only the drift timer
    ready: bool
    # The moment the object's status changes by the calendar alone (a handoff, a member's term
    # starting or ending): the handlers reconcile it again then, ahead of any drift check.
    wake_at: dt.datetime | None = None
    # A rotation's on-call time as PagerDuty renders it, for the load checks of every other
    # rotation and team (load across rotations); None: nothing new to say.
    on_call: RotationOnCall | None = None


@dataclass(frozen=True)
class RotationOnCall:
    """Who one rotation puts on call (overrides included) over its load horizon."""

    rotation: str  # namespace/name
    team: str | None  # namespace/name of its teamRef
    entries: tuple[Entry, ...]
    # Worked out once: the handlers' quick timers compare these every few seconds.
    people: frozenset[str] = field(init=False, repr=False, compare=False)
    digest: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "people", frozenset(e.person.lower() for e in self.entries))
        object.__setattr__(self, "digest", hash(self.entries))


@dataclass(frozen=True)
class TeamInfo:
    """An OnCallTeam as a referrer sees it (from a kopf index)."""

    name: str
    spec: Mapping[str, Any] | None
    pagerduty_id: str | None
    ready: bool


@dataclass(frozen=True)
class RotationInfo:
    """A Rotation as a referrer sees it (from a kopf index)."""

    name: str
    pagerduty_id: str | None
    ready: bool
    spec: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class References:
    """Teams and rotations of the referrer's namespace, by name."""

    teams: Mapping[str, TeamInfo] = field(default_factory=dict)
    rotations: Mapping[str, RotationInfo] = field(default_factory=dict)
    # PagerDuty id -> "namespace/Kind/name" of every resource (any namespace) whose
    # status.pagerduty.id claims it; one owner per PagerDuty object.
    claims: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # "namespace/name" -> on-call time of every rotation the operator reconciled (all namespaces).
    on_call: Mapping[str, RotationOnCall] = field(default_factory=dict)
