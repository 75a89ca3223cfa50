"""EscalationPolicy handlers: reconcile on change, on drift, and within seconds of a target rotation or its team changing."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Hashable
from typing import Any

import kopf

from oncall_operator.api import GROUP, VERSION
from oncall_operator.handlers.glue import (
    SETTINGS,
    delete_object,
    is_due,
    reconcile_object,
    references_in,
)
from oncall_operator.reconcile import escalation as domain
from oncall_operator.reconcile.model import References

KIND, PLURAL = "EscalationPolicy", "escalationpolicies"


def _fingerprint(spec: dict[str, Any], refs: References) -> Hashable:
    """What of the referents this policy depends on: ids and readiness of its team and rotations."""
    team_names, rotation_names = domain.references_of(KIND, spec)
    teams = tuple(
        (name, team.pagerduty_id, team.ready) if (team := refs.teams.get(name)) else (name,)
        for name in sorted(team_names)
    )
    rotations = tuple(
        (name, rotation.pagerduty_id, rotation.ready)
        if (rotation := refs.rotations.get(name))
        else (name,)
        for name in sorted(rotation_names)
    )
    return teams, rotations


async def _reconcile(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, trigger: str, refs: References
) -> None:
    def run(meta: Any, spec: dict[str, Any], status: dict[str, Any]) -> Any:
        return domain.reconcile_escalation_policy(
            memo.client, meta, spec, status, refs, dt.datetime.now(dt.UTC)
        )

    fingerprint = _fingerprint(dict(body.get("spec") or {}), refs)
    await reconcile_object(body, patch, memo, logger, KIND, run, fingerprint, trigger)


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
async def reconcile(
    *,
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: Any,
    namespace: str | None,
    **kwargs: Any,
) -> None:
    refs = references_in(namespace or "", kwargs["team_index"], kwargs["rotation_index"])
    await _reconcile(body, patch, memo, logger, "change", refs)


@kopf.timer(
    GROUP,
    VERSION,
    PLURAL,
    interval=SETTINGS.drift_interval_seconds,
    initial_delay=SETTINGS.drift_interval_seconds,
)
async def drift(
    *,
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: Any,
    namespace: str | None,
    **kwargs: Any,
) -> None:
    refs = references_in(namespace or "", kwargs["team_index"], kwargs["rotation_index"])
    await _reconcile(body, patch, memo, logger, "drift", refs)


@kopf.timer(GROUP, VERSION, PLURAL, interval=SETTINGS.reference_poll_seconds)
async def references_changed(
    *,
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: Any,
    namespace: str | None,
    **kwargs: Any,
) -> None:
    refs = references_in(namespace or "", kwargs["team_index"], kwargs["rotation_index"])
    if is_due(memo, _fingerprint(dict(body.get("spec") or {}), refs)):
        await _reconcile(body, patch, memo, logger, "references", refs)


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def delete(*, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    await delete_object(
        body, memo, KIND, functools.partial(domain.delete_escalation_policy, memo.client)
    )
