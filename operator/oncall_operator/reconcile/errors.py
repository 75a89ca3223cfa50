"""The one place where failures become conditions, requeue delays and retryable deletions.

PagerDuty errors (oncall_operator.pagerduty.errors) map to a `Failure`: the reason of Ready=False
and Synced=False, one readable sentence, and when to run again. Messages are built from the
error's fields, never from a request, so the API token cannot leak into status or Events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from oncall_operator import conditions
from oncall_operator.pagerduty.errors import (
    InUse,
    Invalid,
    NotFound,
    PagerDutyError,
    RateLimited,
    Unauthorized,
    Unavailable,
)

# Transient failures back off by the time the failure has lasted, within these bounds.
MIN_BACKOFF_SECONDS = 15.0
MAX_BACKOFF_SECONDS = 300.0
# A deletion PagerDuty refuses because the object is still in use is tried again after this.
IN_USE_RETRY_SECONDS = 30.0
# The most validation problems listed in one condition message.
MAX_PROBLEMS_SHOWN = 5


class RetryLater(Exception):
    """PagerDuty cannot do this now (object in use, rate limit, outage); try again after `delay`."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


class InvalidSpec(Exception):
    """The spec fails validation; `problems` name each field path (spec.layers[0].shiftLength: ...)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        text = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        super().__init__(f"The spec is invalid: {text}.")


class AdoptionFailed(Exception):
    """spec.pagerduty.id names an object PagerDuty does not have."""


class OwnedElsewhere(AdoptionFailed):
    """The PagerDuty object belongs to another resource (its managed marker or its status)."""


@dataclass(frozen=True)
class Failure:
    """How a failed reconcile shows in the status and when to try again."""

    reason: str  # of Ready=False and Synced=False
    message: str
    requeue_after: float | None  # None: wait for the drift timer or a spec change


def invalid_spec(error: ValidationError) -> InvalidSpec:
    """Pydantic's errors as field paths: loc ('layers', 0, 'shiftLength') -> spec.layers[0].shiftLength."""
    problems = [f"{field_path(e['loc'])}: {_plain(e['msg'])}" for e in error.errors()]
    return InvalidSpec(problems)


def field_path(loc: Sequence[int | str]) -> str:
    path = "spec"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _plain(message: str) -> str:
    """Drop pydantic's "Value error, " prefix from messages our own validators raise."""
    prefix = "Value error, "
    return message.removeprefix(prefix)


def failure_of(
    error: Exception,
    doing: str,
    previous_conditions: Sequence[Mapping[str, Any]],
    now: dt.datetime,
) -> Failure:
    """Map an error raised while `doing` (e.g. "updating the PagerDuty schedule") to a Failure."""
    if isinstance(error, OwnedElsewhere):
        return Failure(conditions.OWNED_ELSEWHERE, str(error), None)
    if isinstance(error, AdoptionFailed):
        return Failure(conditions.PAGERDUTY_ERROR, str(error), None)
    if isinstance(error, RateLimited):
        return Failure(
            conditions.RATE_LIMITED,
            f"PagerDuty's rate limit was reached while {doing}; trying again in "
            f"{error.reset_seconds:g}s.",
            max(float(error.reset_seconds), 1.0),
        )
    if isinstance(error, Unauthorized):
        return Failure(
            conditions.UNAUTHORIZED,
            f"PagerDuty refused the operator's API token while {doing}; check the token's "
            "secret and its permissions.",
            None,
        )
    if isinstance(error, Invalid):
        return Failure(
            conditions.PAGERDUTY_ERROR,
            f"PagerDuty rejected the request while {doing}: {_listed(error.errors)}.",
            None,
        )
    if isinstance(error, Unavailable):
        return Failure(
            conditions.PAGERDUTY_UNAVAILABLE,
            f"PagerDuty did not answer while {doing}; trying again.",
            backoff_seconds(previous_conditions, conditions.PAGERDUTY_UNAVAILABLE, now),
        )
    if isinstance(error, NotFound | InUse | PagerDutyError):
        return Failure(
            conditions.PAGERDUTY_ERROR,
            f"PagerDuty answered with an error while {doing}: {error}.",
            backoff_seconds(previous_conditions, conditions.PAGERDUTY_ERROR, now),
        )
    raise error


def _listed(errors: Sequence[str]) -> str:
    return "; ".join(str(e) for e in errors) or "no details given"


def backoff_seconds(
    previous_conditions: Sequence[Mapping[str, Any]], reason: str, now: dt.datetime
) -> float:
    """Wait as long as the failure has already lasted (bounded): 15s, 30s, 60s ... 300s.

    Derived from Synced's lastTransitionTime, so no retry counter has to live in the status.
    """
    synced = conditions.find_condition(previous_conditions, conditions.SYNCED)
    if synced is None or synced.get("status") != conditions.FALSE or synced.get("reason") != reason:
        return MIN_BACKOFF_SECONDS
    try:
        since = dt.datetime.fromisoformat(str(synced.get("lastTransitionTime")))
    except ValueError:
        return MIN_BACKOFF_SECONDS
    lasted = (now - since).total_seconds()
    return min(max(lasted, MIN_BACKOFF_SECONDS), MAX_BACKOFF_SECONDS)


def retry_deletion(error: PagerDutyError, what: str) -> RetryLater:
    """A deletion PagerDuty refused: kopf keeps the finalizer and tries again."""
    if isinstance(error, RateLimited):
        return RetryLater(
            f"PagerDuty's rate limit was reached while deleting {what}.",
            max(float(error.reset_seconds), 1.0),
        )
    if isinstance(error, InUse):
        return RetryLater(
            f"PagerDuty refuses to delete {what} while it is still in use: {error}.",
            IN_USE_RETRY_SECONDS,
        )
    if isinstance(error, Invalid):
        return RetryLater(
            f"PagerDuty refused to delete {what}: {_listed(error.errors)}.",
            IN_USE_RETRY_SECONDS,
        )
    if isinstance(error, Unauthorized):
        return RetryLater(
            f"PagerDuty refused the operator's API token while deleting {what}.",
            MAX_BACKOFF_SECONDS,
        )
    return RetryLater(f"Deleting {what} failed: {error}.", MIN_BACKOFF_SECONDS)
