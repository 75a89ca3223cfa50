"""The operator's log keeps what changed: kopf's per-tick timer successes are dropped, the rest kept."""

from __future__ import annotations

import logging

import pytest

from oncall_operator.handlers.logs import RoutineTimerFilter


def record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("kopf.objects", level, __file__, 1, message, None, None)


@pytest.mark.parametrize(
    ("message", "level", "kept"),
    [
        ("Timer 'drift' succeeded.", logging.INFO, False),
        ("Timer 'references_changed' succeeded.", logging.INFO, False),
        ("Timer 'drift' failed with an exception. Will retry.", logging.ERROR, True),
        ("Handler 'reconcile' succeeded.", logging.INFO, True),
        ("OnCallTeam reconcile (drift): ready in 0.02s; DriftCorrected", logging.INFO, True),
    ],
)
def test_routine_timer_filter(message: str, level: int, kept: bool) -> None:
    assert RoutineTimerFilter().filter(record(message, level)) is kept
