"""The operator's log keeps what changed: kopf's per-tick timer successes are dropped, the rest kept."""

from __future__ import annotations

import logging

import pytest
from kopf._cogs.clients.errors import APIConflictError

from oncall_operator.handlers.logs import ConflictRetryFilter, RoutineTimerFilter


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


def _throttling_record(error: BaseException) -> logging.LogRecord:
    message = f"Throttling for 2 seconds due to an unexpected error: {error!r}"
    made = logging.LogRecord(
        "kopf.objects", logging.ERROR, __file__, 1, message, None, (type(error), error, None)
    )
    return made


def test_a_conflict_kopf_retries_is_one_warning_without_a_traceback() -> None:
    conflict = APIConflictError({"message": "the object has been modified"}, status=409, headers={})
    made = _throttling_record(conflict)
    assert ConflictRetryFilter().filter(made) is True
    assert (made.levelno, made.exc_info) == (logging.WARNING, None)
    assert made.getMessage() == (
        "The API server refused a write with 409 Conflict (the object changed meanwhile); "
        "writing again in 2s"
    )


def test_other_errors_keep_their_traceback() -> None:
    other = ValueError("boom")
    made = _throttling_record(other)
    assert ConflictRetryFilter().filter(made) is True
    assert (made.levelno, made.exc_info) == (logging.ERROR, (ValueError, other, None))
