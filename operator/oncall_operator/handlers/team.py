"""OnCallTeam handlers: one reconcile for every trigger, a drift timer, deletion by policy."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import kopf

from oncall_operator.api import GROUP, VERSION
from oncall_operator.handlers.glue import SETTINGS, delete_object, is_due, reconcile_object
from oncall_operator.reconcile import team as domain

KIND, PLURAL = "OnCallTeam", "oncallteams"


def _run(memo: kopf.Memo) -> Any:
    def run(meta: Any, spec: dict[str, Any], status: dict[str, Any]) -> Any:
        return domain.reconcile_team(memo.client, meta, spec, status, dt.datetime.now(dt.UTC))

    return run


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
async def reconcile(
    *, body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    await reconcile_object(body, patch, memo, logger, KIND, _run(memo))


@kopf.timer(
    GROUP,
    VERSION,
    PLURAL,
    interval=SETTINGS.drift_interval_seconds,
    initial_delay=SETTINGS.drift_interval_seconds,
)
async def drift(
    *, body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    await reconcile_object(body, patch, memo, logger, KIND, _run(memo), trigger="drift")


@kopf.timer(GROUP, VERSION, PLURAL, interval=SETTINGS.reference_poll_seconds)
async def requeue(
    *, body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    if is_due(memo, None):
        await reconcile_object(body, patch, memo, logger, KIND, _run(memo), trigger="requeue")


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def delete(*, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    await delete_object(body, memo, KIND, functools.partial(domain.delete_team, memo.client))
