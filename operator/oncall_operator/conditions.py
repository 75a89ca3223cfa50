"""Status conditions of all three kinds, Kubernetes style: types, reasons and how one is set.

A condition list is keyed by `type`. Setting a condition keeps `lastTransitionTime` unless the
`status` flips, so a reconcile that finds nothing new returns a list equal to the one it read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

# Types
READY: Final = "Ready"
SYNCED: Final = "Synced"
REFERENCES_RESOLVED: Final = "ReferencesResolved"
SUSTAINABLE: Final = "Sustainable"
# kstatus' abnormal-true conditions (sigs.k8s.io/cli-utils/pkg/kstatus): set from Ready by
# kstatus_conditions() at the end of every reconcile, so Flux and kstatus waiters stop waiting
# on what needs a person (Stalled) and keep waiting while the operator still works (Reconciling).
RECONCILING_TYPE: Final = "Reconciling"
STALLED: Final = "Stalled"
TYPE_ORDER: Final = (READY, SYNCED, REFERENCES_RESOLVED, SUSTAINABLE, RECONCILING_TYPE, STALLED)

# Statuses
TRUE: Final = "True"
FALSE: Final = "False"
UNKNOWN: Final = "Unknown"

# Reasons of Ready and Synced
SYNCED_REASON: Final = "Synced"
PAUSED: Final = "Paused"
WAITING_FOR_REFERENCES: Final = "WaitingForReferences"
RECONCILING: Final = "Reconciling"
INVALID_SPEC: Final = "InvalidSpec"
PAGERDUTY_ERROR: Final = "PagerDutyError"
PAGERDUTY_UNAVAILABLE: Final = "PagerDutyUnavailable"
RATE_LIMITED: Final = "RateLimited"
UNAUTHORIZED: Final = "Unauthorized"
DELETING: Final = "Deleting"
NO_PARTICIPANTS: Final = "NoParticipants"
REFERENCES_UNRESOLVED: Final = "ReferencesUnresolved"
OWNED_ELSEWHERE: Final = "OwnedElsewhere"
NO_COVER: Final = "NoCover"

# Reasons of ReferencesResolved
RESOLVED: Final = "Resolved"
MISSING_REFERENCES: Final = "MissingReferences"
UNKNOWN_EMAILS: Final = "UnknownEmails"

# Reasons of Sustainable
WITHIN_POLICY: Final = "WithinPolicy"
POLICY_BREACHED: Final = "PolicyBreached"
PAGE_BUDGET_EXCEEDED: Final = "PageBudgetExceeded"
NO_POLICY: Final = "NoPolicy"

Condition = dict[str, Any]


def rfc3339(moment: dt.datetime) -> str:
    """A UTC timestamp to the second, the form Kubernetes uses ("2026-11-23T21:54:40Z")."""
    if moment.tzinfo is None:
        raise ValueError("condition times must be timezone-aware")
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    type: str,
    status: str,
    reason: str,
    message: str,
    generation: int,
    now: dt.datetime,
) -> list[Condition]:
    """A new list with condition `type` set; lastTransitionTime moves only when `status` flips.

    Known types come first in TYPE_ORDER, others after them in the order they were found.
    """
    if status not in (TRUE, FALSE, UNKNOWN):
        raise ValueError(f"condition status must be True, False or Unknown, not {status!r}")
    previous = find_condition(conditions, type)
    transition = (
        previous["lastTransitionTime"]
        if previous is not None
        and previous.get("status") == status
        and previous.get("lastTransitionTime")
        else rfc3339(now)
    )
    updated: Condition = {
        "type": type,
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": transition,
    }
    others = [dict(c) for c in conditions if c.get("type") != type]
    return sorted([*others, updated], key=_position(conditions, type))


def find_condition(
    conditions: Sequence[Mapping[str, Any]], condition_type: str
) -> Condition | None:
    """The condition of this type, or None."""
    for condition in conditions:
        if condition.get("type") == condition_type:
            return dict(condition)
    return None


def is_true(conditions: Sequence[Mapping[str, Any]], condition_type: str) -> bool:
    found = find_condition(conditions, condition_type)
    return found is not None and found.get("status") == TRUE


def _position(conditions: Sequence[Mapping[str, Any]], new_type: str) -> Any:
    found_order = [c.get("type") for c in conditions]
    if new_type not in found_order:
        found_order.append(new_type)

    def key(condition: Mapping[str, Any]) -> tuple[int, int]:
        kind = condition.get("type")
        if kind in TYPE_ORDER:
            return (0, TYPE_ORDER.index(kind))
        return (1, found_order.index(kind))

    return key


# Ready=False reasons that only a person can end (the operator does not retry them by itself
# until the spec, the token or PagerDuty's side changes): Stalled=True. Every other Ready=False
# reason except Paused is work still in flight (waiting, retrying): Reconciling=True.
STALLED_REASONS: Final = frozenset(
    {
        "InvalidSpec",
        "Unauthorized",
        "NoParticipants",
        "NoCover",
        "OwnedElsewhere",
    }
)


def kstatus_conditions(
    conditions: Sequence[Mapping[str, Any]], generation: int, now: dt.datetime
) -> list[Condition]:
    """Reconciling and Stalled as kstatus reads them, derived from the Ready condition.

    Ready=True or Paused: neither is True. A reason in STALLED_REASONS: Stalled=True (same reason
    and message). Any other Ready=False/Unknown, or no Ready yet: Reconciling=True.
    """
    ready = find_condition(conditions, READY) or {}
    reason = str(ready.get("reason") or RECONCILING)
    message = str(ready.get("message") or "The operator has not finished a reconcile yet.")
    if ready.get("status") == TRUE or reason == PAUSED:
        reconciling, stalled = (FALSE, reason, message), (FALSE, reason, message)
    elif reason in STALLED_REASONS:
        reconciling, stalled = (FALSE, reason, message), (TRUE, reason, message)
    else:
        reconciling, stalled = (TRUE, reason, message), (FALSE, reason, message)
    updated = set_condition(conditions, RECONCILING_TYPE, *reconciling, generation, now)
    return set_condition(updated, STALLED, *stalled, generation, now)
