"""OnCallTeam handlers: reconciled early when a rotation its members are on changes their
on-call time (load across rotations), or when a requeue or wake-up falls due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from typing import Any

from oncall_operator.handlers.glue import SETTINGS, on_call_fingerprint
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


def members_load_fingerprint(spec: Mapping[str, Any], refs: References) -> Hashable:
    """What a team's status depends on beyond its own spec: the on-call time of every rotation
    its members are on (load across rotations)."""
    emails = [str(m.get("email") or "") for m in spec.get("members") or []]
    return on_call_fingerprint(refs, emails)


register(
    KindHandlers(
        "OnCallTeam", "oncallteams", _reconcile, domain.delete_team, members_load_fingerprint
    )
)
