"""Keep the operator's log about changes: routine successes of the polling timers and every
PagerDuty request line would bury them (the metrics count both); and a write the API server
refused with 409 Conflict, which kopf retries, is one warning line, not an error's traceback."""

from __future__ import annotations

import logging
import re

# kopf says "Timer 'drift' succeeded." at INFO for every tick of every object.
_ROUTINE_TIMER_SUCCESS = re.compile(r"^Timer '[^']+' succeeded\.$")
# kopf's error throttler: "Throttling for 1 seconds due to an unexpected error: APIConflictError(...)"
_THROTTLING = re.compile(r"^Throttling for (?P<delay>\S+) seconds due to an unexpected error")
# Loggers of the HTTP libraries under the PagerDuty client: one INFO line per request.
HTTP_LOGGERS = ("httpx", "httpx2", "httpcore")


class RoutineTimerFilter(logging.Filter):
    """Drops kopf's per-tick "Timer '...' succeeded." lines; failures and retries still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno <= logging.INFO
            and _ROUTINE_TIMER_SUCCESS.match(record.getMessage()) is not None
        )


class ConflictRetryFilter(logging.Filter):
    """Rewrites kopf's traceback for a write refused with 409 Conflict (another writer changed
    the object first) as one warning: kopf applies its patch again after the delay it names,
    re-running the handlers on the object as it is now, so nothing is lost."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        found = _THROTTLING.match(record.getMessage())
        if found is None or not _is_kopf_conflict(error):
            return True
        record.msg = (
            "The API server refused a write with 409 Conflict (the object changed meanwhile); "
            "writing again in %ss"
        )
        record.args = (found["delay"],)
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _is_kopf_conflict(error: BaseException | None) -> bool:
    """kopf's APIConflictError, which kopf does not export: its API errors carry the status."""
    return (
        error is not None
        and type(error).__module__.startswith("kopf.")
        and getattr(error, "status", None) == 409
    )


def quiet_routine_logs() -> None:
    kopf_objects = logging.getLogger("kopf.objects")
    for kind in (RoutineTimerFilter, ConflictRetryFilter):
        if not any(isinstance(f, kind) for f in kopf_objects.filters):
            kopf_objects.addFilter(kind())
    for name in HTTP_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
