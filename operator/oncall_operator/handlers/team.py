"""OnCallTeam handlers: a team depends on no other object, so only a requeue wakes it early."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from typing import Any

from oncall_operator.handlers.glue import SETTINGS
from oncall_operator.handlers.kinds import KindHandlers, register
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.reconcile import team as domain
from oncall_operator.reconcile.model import ObjectMeta, Outcome, References
from oncall_operator.reconcile.pages import PageLog

# The account's pages, scanned once per drift interval for all teams together.
PAGE_LOG = PageLog(max_age=dt.timedelta(seconds=SETTINGS.drift_interval_seconds))


def _reconcile(
    client: PagerDutyClient,
    meta: ObjectMeta,
    spec: dict[str, Any],
    status: dict[str, Any],
    refs: References,
    now: dt.datetime,
) -> Outcome:
    return domain.reconcile_team(client, meta, spec, status, now, refs, PAGE_LOG)


def _no_referents(spec: Mapping[str, Any], refs: References) -> Hashable:
    return None


register(KindHandlers("OnCallTeam", "oncallteams", _reconcile, domain.delete_team, _no_referents))
