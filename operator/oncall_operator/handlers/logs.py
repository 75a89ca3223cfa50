"""Keep the operator's log about changes: routine successes of the polling timers and every
PagerDuty request line would bury them (the metrics count both)."""

from __future__ import annotations

import logging
import re

# kopf says "Timer 'drift' succeeded." at INFO for every tick of every object.
_ROUTINE_TIMER_SUCCESS = re.compile(r"^Timer '[^']+' succeeded\.$")
# Loggers of the HTTP libraries under the PagerDuty client: one INFO line per request.
HTTP_LOGGERS = ("httpx", "httpx2", "httpcore")


class RoutineTimerFilter(logging.Filter):
    """Drops kopf's per-tick "Timer '...' succeeded." lines; failures and retries still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno <= logging.INFO
            and _ROUTINE_TIMER_SUCCESS.match(record.getMessage()) is not None
        )


def quiet_routine_logs() -> None:
    kopf_objects = logging.getLogger("kopf.objects")
    if not any(isinstance(f, RoutineTimerFilter) for f in kopf_objects.filters):
        kopf_objects.addFilter(RoutineTimerFilter())
    for name in HTTP_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
