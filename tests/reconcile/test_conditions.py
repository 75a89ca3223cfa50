"""conditions.set_condition: keyed by type, lastTransitionTime only on a flip, stable order."""

from __future__ import annotations

import datetime as dt

import pytest

from oncall_operator import conditions as c

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=1)


def test_new_condition_gets_every_field() -> None:
    result = c.set_condition([], c.READY, c.TRUE, c.SYNCED_REASON, "In sync.", 3, T0)
    assert result == [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Synced",
            "message": "In sync.",
            "observedGeneration": 3,
            "lastTransitionTime": "2026-11-23T09:00:00Z",
        }
    ]


@pytest.mark.parametrize(
    ("new_status", "new_reason", "expected_time"),
    [
        ("True", "Synced", "2026-11-23T09:00:00Z"),  # same status, same reason
        ("True", "Other", "2026-11-23T09:00:00Z"),  # reason changes alone: no transition
        ("False", "Paused", "2026-11-23T10:00:00Z"),  # flip
        ("Unknown", "Reconciling", "2026-11-23T10:00:00Z"),  # flip
    ],
)
def test_last_transition_time_moves_only_on_a_flip(
    new_status: str, new_reason: str, expected_time: str
) -> None:
    first = c.set_condition([], c.READY, c.TRUE, "Synced", "In sync.", 1, T0)
    second = c.set_condition(first, c.READY, new_status, new_reason, "Changed.", 2, T1)
    assert second[0]["lastTransitionTime"] == expected_time
    assert second[0]["reason"] == new_reason
    assert second[0]["observedGeneration"] == 2


def test_setting_the_same_condition_again_returns_an_equal_list() -> None:
    conditions = c.set_condition([], c.SYNCED, c.TRUE, "Synced", "In sync.", 1, T0)
    conditions = c.set_condition(conditions, c.READY, c.TRUE, "Synced", "In sync.", 1, T0)
    again = c.set_condition(conditions, c.READY, c.TRUE, "Synced", "In sync.", 1, T1)
    assert again == conditions


def test_known_types_in_fixed_order_then_others_as_found() -> None:
    conditions = [
        {"type": "Custom", "status": "True", "reason": "X"},
        {"type": "Sustainable", "status": "True", "reason": "NoPolicy"},
    ]
    conditions = c.set_condition(conditions, c.SYNCED, c.TRUE, "Synced", "", 1, T0)
    conditions = c.set_condition(conditions, c.READY, c.TRUE, "Synced", "", 1, T0)
    assert [x["type"] for x in conditions] == ["Ready", "Synced", "Sustainable", "Custom"]


def test_input_is_not_modified() -> None:
    original = c.set_condition([], c.READY, c.TRUE, "Synced", "", 1, T0)
    snapshot = [dict(x) for x in original]
    c.set_condition(original, c.READY, c.FALSE, "Paused", "", 1, T1)
    assert original == snapshot


def test_condition_without_transition_time_gets_one() -> None:
    result = c.set_condition(
        [{"type": "Ready", "status": "True", "reason": "Synced"}],
        c.READY,
        c.TRUE,
        "Synced",
        "",
        1,
        T1,
    )
    assert result[0]["lastTransitionTime"] == "2026-11-23T10:00:00Z"


def test_bad_status_is_refused() -> None:
    with pytest.raises(ValueError, match="True, False or Unknown"):
        c.set_condition([], c.READY, "true", "Synced", "", 1, T0)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        c.set_condition([], c.READY, c.TRUE, "Synced", "", 1, dt.datetime(2026, 1, 1))


def test_find_and_is_true() -> None:
    conditions = c.set_condition([], c.READY, c.FALSE, "Paused", "", 1, T0)
    assert c.find_condition(conditions, c.READY) == conditions[0]
    assert c.find_condition(conditions, c.SYNCED) is None
    assert not c.is_true(conditions, c.READY)
