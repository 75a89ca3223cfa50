"""What every kind's handlers share: run a reconcile off the event loop, write status only when it
changed, post its Events, and remember when to look again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import kopf

from oncall_operator.api import GROUP
from oncall_operator.reconcile.errors import RetryLater
from oncall_operator.reconcile.model import (
    Event,
    ObjectMeta,
    Outcome,
    References,
    RotationInfo,
    TeamInfo,
)
from oncall_operator.settings import OperatorSettings

FINALIZER = f"{GROUP}/finalizer"
SETTINGS = OperatorSettings.from_env()

ReconcileFn = Callable[[ObjectMeta, dict[str, Any], dict[str, Any]], Outcome]
DeleteFn = Callable[[ObjectMeta, dict[str, Any], dict[str, Any]], list[Event]]


def object_meta(kind: str, body: kopf.Body) -> ObjectMeta:
    return ObjectMeta(
        namespace=body.metadata.namespace or "",
        name=body.metadata.name or "",
        kind=kind,
        generation=int(body.metadata.get("generation") or 0),
        annotations=dict(body.metadata.annotations),
    )


def is_ready(body: Mapping[str, Any]) -> bool:
    """Ready=True for the object's current generation."""
    status = body.get("status") or {}
    generation = (body.get("metadata") or {}).get("generation")
    if status.get("observedGeneration") != generation:
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def references_in(
    namespace: str,
    team_index: kopf.Index[str, TeamInfo],
    rotation_index: kopf.Index[str, RotationInfo],
) -> References:
    """What the indexes know about the teams and rotations of one namespace."""
    return References(
        teams={info.name: info for info in team_index.get(namespace, [])},
        rotations={info.name: info for info in rotation_index.get(namespace, [])},
    )


async def reconcile_object(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    kind: str,
    run: ReconcileFn,
    fingerprint: Hashable = None,
    trigger: str = "change",
) -> None:
    """Run one level-based reconcile and record its result on the object."""
    lock: asyncio.Lock = memo.setdefault("reconcile_lock", asyncio.Lock())
    async with lock:
        meta = object_meta(kind, body)
        old_status = dict(body.get("status") or {})
        started = time.monotonic()
        outcome = await asyncio.to_thread(run, meta, dict(body.get("spec") or {}), old_status)
        write_status_if_changed(patch, old_status, outcome.status)
        post_events(body, outcome.events)
        memo["reference_fingerprint"] = fingerprint
        memo["requeue_at"] = (
            time.monotonic() + outcome.requeue_after if outcome.requeue_after is not None else None
        )
        result = reconcile_result(outcome)
        metrics = memo.get("metrics")
        if metrics is not None:
            metrics.reconciles.labels(kind=kind, result=result).inc()
            drift = sum(1 for e in outcome.events if e.reason == "DriftCorrected")
            if drift:
                metrics.drift_corrections.labels(kind=kind).inc(drift)
        logger.debug(
            "%s reconcile (%s) finished as %s in %.2fs",
            kind,
            trigger,
            result,
            time.monotonic() - started,
        )


def reconcile_result(outcome: Outcome) -> str:
    """A short label of how a reconcile ended, for metrics: ready, paused, waiting, invalid or error."""
    if outcome.ready:
        return "ready"
    conditions: list[dict[str, Any]] = outcome.status.get("conditions", [])
    ready: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
    reason = ready.get("reason", "")
    if reason == "Paused":
        return "paused"
    if reason in {"WaitingForReferences", "Reconciling", "RateLimited"}:
        return "waiting"
    if reason == "InvalidSpec":
        return "invalid"
    return "error"


def is_due(memo: kopf.Memo, fingerprint: Hashable) -> bool:
    """Whether the quick timer should reconcile now: a referent changed, or a requeue fell due."""
    if "reference_fingerprint" not in memo:
        return False  # the change handler has not run yet; it will
    requeue_at = memo.get("requeue_at")
    if requeue_at is not None and time.monotonic() >= requeue_at:
        return True
    return bool(memo.get("reference_fingerprint") != fingerprint)


def write_status_if_changed(
    patch: kopf.Patch, old: Mapping[str, Any], new: Mapping[str, Any]
) -> None:
    """Patch only the status fields that differ; a no-op reconcile makes no Kubernetes write."""
    for key, value in new.items():
        if old.get(key) != value:
            patch.status[key] = value
    for key in old:
        if key not in new:
            patch.status[key] = None


def post_events(body: kopf.Body, events: list[Event]) -> None:
    for event in events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)


async def delete_object(
    body: kopf.Body,
    memo: kopf.Memo,
    kind: str,
    delete: DeleteFn,
) -> None:
    """Honour deletionPolicy; a PagerDuty object still in use makes kopf retry later."""
    meta = object_meta(kind, body)
    try:
        events = await asyncio.to_thread(
            delete, meta, dict(body.get("spec") or {}), dict(body.get("status") or {})
        )
    except RetryLater as error:
        kopf.event(body, type="Warning", reason="DeleteBlocked", message=str(error))
        raise kopf.TemporaryError(str(error), delay=error.delay) from None
    post_events(body, events)
