"""The one mapping from PagerDuty errors to conditions, requeue delays and retried deletions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

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
from oncall_operator.reconcile.errors import (
    AdoptionFailed,
    backoff_seconds,
    failure_of,
    retry_deletion,
)

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
DOING = "updating the PagerDuty schedule"


def synced_false(reason: str, seconds_ago: float) -> list[dict[str, Any]]:
    return conditions.set_condition(
        [],
        conditions.SYNCED,
        conditions.FALSE,
        reason,
        "",
        1,
        NOW - dt.timedelta(seconds=seconds_ago),
    )


@pytest.mark.parametrize(
    ("error", "reason", "message", "requeue"),
    [
        (
            RateLimited("429", reset_seconds=7),
            "RateLimited",
            "PagerDuty's rate limit was reached while updating the PagerDuty schedule; trying "
            "again in 7s.",
            7.0,
        ),
        (
            Unauthorized("401"),
            "Unauthorized",
            "PagerDuty refused the operator's API token while updating the PagerDuty schedule; "
            "check the token's secret and its permissions.",
            None,
        ),
        (
            Invalid(
                "Invalid Input Provided",
                errors=["Name has already been taken", "Users can't be empty"],
            ),
            "PagerDutyError",
            "PagerDuty rejected the request while updating the PagerDuty schedule: Name has "
            "already been taken; Users can't be empty.",
            None,
        ),
        (
            Unavailable("503"),
            "PagerDutyUnavailable",
            "PagerDuty did not answer while updating the PagerDuty schedule; trying again.",
            15.0,
        ),
        (
            AdoptionFailed("spec.pagerduty.id: PagerDuty has no schedule PX to adopt."),
            "PagerDutyError",
            "spec.pagerduty.id: PagerDuty has no schedule PX to adopt.",
            None,
        ),
    ],
)
def test_failure_of(error: Exception, reason: str, message: str, requeue: float | None) -> None:
    failure = failure_of(error, DOING, [], NOW)
    assert (failure.reason, failure.message, failure.requeue_after) == (reason, message, requeue)


@pytest.mark.parametrize("error", [NotFound("gone"), InUse("in use"), PagerDutyError("odd")])
def test_other_pagerduty_errors_back_off(error: PagerDutyError) -> None:
    failure = failure_of(error, DOING, [], NOW)
    assert failure.reason == "PagerDutyError"
    assert failure.message.startswith("PagerDuty answered with an error while updating")
    assert failure.requeue_after == 15.0


def test_a_bug_is_not_hidden_as_a_condition() -> None:
    with pytest.raises(KeyError):
        failure_of(KeyError("layers"), DOING, [], NOW)


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        ([], 15.0),
        (synced_false("PagerDutyUnavailable", 5), 15.0),
        (synced_false("PagerDutyUnavailable", 100), 100.0),
        (synced_false("PagerDutyUnavailable", 4000), 300.0),
        (synced_false("RateLimited", 100), 15.0),  # another failure started the clock
    ],
)
def test_backoff_grows_with_how_long_the_failure_lasted(
    previous: list[dict[str, Any]], expected: float
) -> None:
    assert backoff_seconds(previous, "PagerDutyUnavailable", NOW) == expected


@pytest.mark.parametrize(
    ("error", "delay", "text"),
    [
        (
            InUse("Schedule can't be deleted if it's being used by escalation policies"),
            30.0,
            "in use",
        ),
        (
            Invalid(
                "Invalid Input Provided", errors=["Team can't be deleted while it owns schedules"]
            ),
            30.0,
            "owns schedules",
        ),
        (RateLimited("429", reset_seconds=12), 12.0, "rate limit"),
        (Unauthorized("401"), 300.0, "token"),
        (Unavailable("503"), 15.0, "failed"),
    ],
)
def test_refused_deletions_are_retried(error: PagerDutyError, delay: float, text: str) -> None:
    retry = retry_deletion(error, "PagerDuty schedule PS1")
    assert retry.delay == delay
    assert text in str(retry)
    assert "PagerDuty schedule PS1" in str(retry)
