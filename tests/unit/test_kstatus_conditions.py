"""Reconciling and Stalled follow Ready from one mapping (conditions.kstatus_conditions)."""

from __future__ import annotations

import datetime as dt

import pytest

from oncall_operator import conditions

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)


def with_ready(status: str, reason: str) -> list[conditions.Condition]:
    return conditions.set_condition([], "Ready", status, reason, f"{reason}.", 3, NOW)


def pair(found: list[conditions.Condition]) -> tuple[str, str]:
    by_type = {c["type"]: c for c in found}
    return by_type["Reconciling"]["status"], by_type["Stalled"]["status"]


@pytest.mark.parametrize(
    ("ready", "reason", "expected"),
    [
        ("True", "Synced", ("False", "False")),
        ("False", "Paused", ("False", "False")),
        *[("False", reason, ("False", "True")) for reason in sorted(conditions.STALLED_REASONS)],
        ("False", "PagerDutyUnavailable", ("True", "False")),
        ("False", "RateLimited", ("True", "False")),
        ("False", "PagerDutyError", ("True", "False")),
        ("False", "WaitingForReferences", ("True", "False")),
        ("Unknown", "Reconciling", ("True", "False")),
    ],
)
def test_reconciling_and_stalled_from_ready(
    ready: str, reason: str, expected: tuple[str, str]
) -> None:
    assert pair(conditions.kstatus_conditions(with_ready(ready, reason), 3, NOW)) == expected


def test_stalled_carries_ready_reason_and_message_and_generation() -> None:
    found = conditions.kstatus_conditions(with_ready("False", "Unauthorized"), 3, NOW)
    stalled = conditions.find_condition(found, "Stalled")
    assert stalled is not None
    assert (stalled["reason"], stalled["message"], stalled["observedGeneration"]) == (
        "Unauthorized",
        "Unauthorized.",
        3,
    )


def test_no_ready_yet_is_reconciling() -> None:
    assert pair(conditions.kstatus_conditions([], 1, NOW)) == ("True", "False")


def test_applying_again_later_changes_nothing() -> None:
    """A reconcile that finds nothing new writes no status: transition times are kept."""
    first = conditions.kstatus_conditions(with_ready("False", "InvalidSpec"), 3, NOW)
    again = conditions.kstatus_conditions(first, 3, NOW + dt.timedelta(minutes=5))
    assert again == first
