"""The status a reconcile builds: a working copy of the old status, conditions, Events, outcome.

Every kind starts from the status it read and changes only what it found different, so a
reconcile with nothing to do returns a status equal to the one it was given (no write).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from oncall_operator import conditions
from oncall_operator.api import PAUSED_ANNOTATION
from oncall_operator.reconcile.errors import Failure, InvalidSpec, failure_of, invalid_spec
from oncall_operator.reconcile.model import Event, ObjectMeta, Outcome, RotationOnCall

SpecModel = TypeVar("SpecModel", bound=BaseModel)


class StatusDraft:
    """The new status of one object while its reconcile runs."""

    def __init__(self, meta: ObjectMeta, old_status: Mapping[str, Any], now: dt.datetime) -> None:
        self.meta = meta
        self.now = now
        self.old: dict[str, Any] = copy.deepcopy(dict(old_status))
        self.status: dict[str, Any] = copy.deepcopy(dict(old_status))
        self.status["observedGeneration"] = meta.generation
        self.status.setdefault("conditions", [])
        self.events: list[Event] = []
        self.wake: dt.datetime | None = None
        self.on_call: RotationOnCall | None = None

    def condition(self, condition_type: str, status: str, reason: str, message: str) -> None:
        self.status["conditions"] = conditions.set_condition(
            self.status["conditions"],
            condition_type,
            status,
            reason,
            message,
            self.meta.generation,
            self.now,
        )

    def event(
        self, reason: str, message: str, event_type: Literal["Normal", "Warning"] = "Normal"
    ) -> None:
        self.events.append(Event(type=event_type, reason=reason, message=message))

    def set_pagerduty(self, pagerduty_object: Mapping[str, Any]) -> None:
        link = {"id": str(pagerduty_object["id"])}
        if pagerduty_object.get("html_url"):
            link["htmlUrl"] = str(pagerduty_object["html_url"])
        self.status["pagerduty"] = link

    @property
    def pagerduty_id(self) -> str | None:
        found = (self.status.get("pagerduty") or {}).get("id")
        return str(found) if found else None

    def spec_already_applied(self) -> bool:
        """Whether PagerDuty matched this generation before: a write now corrects drift."""
        ready = conditions.find_condition(self.old.get("conditions") or [], conditions.READY)
        return (
            ready is not None
            and ready.get("status") == conditions.TRUE
            and ready.get("observedGeneration") == self.meta.generation
        )

    def change_event(self, what: str, differences: list[str]) -> None:
        """Updated when the spec changed; DriftCorrected when PagerDuty, which matched this
        generation of the spec before, was edited by hand since: the message says what changed
        (one line of translate.drift per difference)."""
        details = "; ".join(differences)
        if self.spec_already_applied():
            self.event(
                "DriftCorrected",
                f"{what[:1].upper()}{what[1:]} was changed by hand in PagerDuty; set it back to "
                f"the spec: {details}.",
            )
        else:
            self.event("Updated", f"Updated {what}: {details}.")

    def wake_at(self, moment: dt.datetime | None) -> None:
        """Reconcile this object again at `moment` (the earliest of all asked for wins): for
        what changes by the calendar alone, such as a handoff or the start or end of a term."""
        if moment is not None and (self.wake is None or moment < self.wake):
            self.wake = moment

    def outcome(self, requeue_after: float | None = None) -> Outcome:
        self.status["conditions"] = conditions.kstatus_conditions(
            self.status["conditions"], self.meta.generation, self.now
        )
        return Outcome(
            status=self.status,
            events=self.events,
            requeue_after=requeue_after,
            ready=conditions.is_true(self.status["conditions"], conditions.READY),
            wake_at=self.wake,
            on_call=self.on_call,
        )

    # The end states every kind shares

    def synced(self, message: str) -> None:
        self.condition(conditions.SYNCED, conditions.TRUE, conditions.SYNCED_REASON, message)

    def ready(self, message: str) -> None:
        self.condition(conditions.READY, conditions.TRUE, conditions.SYNCED_REASON, message)

    def not_ready(self, reason: str, message: str) -> None:
        self.condition(conditions.READY, conditions.FALSE, reason, message)

    def paused(self) -> Outcome:
        message = (
            f"Reconciling is paused by the annotation {PAUSED_ANNOTATION}; PagerDuty is neither "
            "read nor written until it is removed."
        )
        self.not_ready(conditions.PAUSED, message)
        self.condition(conditions.SYNCED, conditions.FALSE, conditions.PAUSED, message)
        return self.outcome()

    def invalid(self, error: InvalidSpec) -> Outcome:
        message = str(error)
        self._warn_when_new(conditions.INVALID_SPEC, message)
        self.not_ready(conditions.INVALID_SPEC, message)
        self.condition(conditions.SYNCED, conditions.FALSE, conditions.INVALID_SPEC, message)
        return self.outcome()

    def failed_while(self, error: Exception, doing: str) -> Outcome:
        """End with the failure an error raised while `doing` maps to (reconcile/errors.py)."""
        return self.failed(failure_of(error, doing, self.old.get("conditions") or [], self.now))

    def failed(self, failure: Failure) -> Outcome:
        self._warn_when_new("Failed", failure.message, failure.reason)
        self.not_ready(failure.reason, failure.message)
        self.condition(conditions.SYNCED, conditions.FALSE, failure.reason, failure.message)
        return self.outcome(failure.requeue_after)

    def _warn_when_new(
        self, event_reason: str, message: str, ready_reason: str | None = None
    ) -> None:
        """A Warning Event the first time an error shows, not on every retry of the same one."""
        ready = conditions.find_condition(self.old.get("conditions") or [], conditions.READY)
        shown = ready is not None and (ready.get("reason"), ready.get("message")) == (
            ready_reason or event_reason,
            message,
        )
        if not shown:
            self.event(event_reason, message, "Warning")

    def waiting_for_references(self, message: str) -> Outcome:
        """End without writing: a referent is missing or not in PagerDuty yet; `message` says which."""
        self.condition(
            conditions.REFERENCES_RESOLVED, conditions.FALSE, conditions.MISSING_REFERENCES, message
        )
        self.nothing_written(conditions.WAITING_FOR_REFERENCES, message)
        return self.outcome()

    def nothing_written(self, reason: str, message: str) -> None:
        """Ready=False and Synced=Unknown: the reconcile stopped before writing to PagerDuty."""
        self.not_ready(reason, message)
        self.condition(
            conditions.SYNCED,
            conditions.UNKNOWN,
            reason,
            f"Nothing was written to PagerDuty: {message[:1].lower()}{message[1:]}",
        )


def set_policy_breached(draft: StatusDraft, breaches: Sequence[str]) -> None:
    """Sustainable=False, reason PolicyBreached, naming every breach of the team's load policy;
    a Warning Event when the breaches are not the ones the status already shows."""
    message = " ".join(breaches)
    old = conditions.find_condition(draft.old.get("conditions") or [], conditions.SUSTAINABLE)
    if old is None or old.get("message") != message:
        draft.event(conditions.POLICY_BREACHED, message, "Warning")
    draft.condition(conditions.SUSTAINABLE, conditions.FALSE, conditions.POLICY_BREACHED, message)


def is_paused(meta: ObjectMeta) -> bool:
    return str(meta.annotations.get(PAUSED_ANNOTATION, "")).strip().lower() == "true"


def begin(
    model: type[SpecModel],
    meta: ObjectMeta,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    now: dt.datetime,
) -> tuple[StatusDraft, SpecModel | None]:
    """Every reconcile's first steps: the draft status and the validated spec.

    The spec is None when the draft already holds the end of this reconcile: the object is
    paused (no PagerDuty call at all) or its spec is invalid (the field paths in the condition).
    """
    draft = StatusDraft(meta, status, now)
    if is_paused(meta):
        draft.paused()
        return draft, None
    try:
        return draft, parse_spec(model, spec)
    except InvalidSpec as error:
        draft.invalid(error)
        return draft, None


def parse_spec(model: type[SpecModel], spec: Mapping[str, Any]) -> SpecModel:
    """The validated spec, or InvalidSpec naming each bad field by its path."""
    try:
        return model.model_validate(dict(spec))
    except ValidationError as error:
        raise invalid_spec(error) from None


def listed(items: list[str], limit: int = 10) -> str:
    """ "a, b and c" — for one-sentence messages; long lists are cut with a count."""
    shown = items[:limit]
    rest = len(items) - len(shown)
    if rest > 0:
        return ", ".join(shown) + f" and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]
