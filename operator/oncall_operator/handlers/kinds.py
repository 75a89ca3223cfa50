"""The four handlers every kind has, registered from one description of the kind.

Each kind gets: one level-based reconcile for resume/create/update, a drift timer, a quick
timer that reconciles only when a referent changed in the indexes, a requeue fell due or the
moment the last reconcile asked to be woken at came (a handoff, a member's term), and
deletion through the finalizer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import kopf

from oncall_operator.api import GROUP, VERSION
from oncall_operator.handlers.glue import (
    DRIFT,
    ON_CALL_LEDGER,
    REFERENCE_CHANGES,
    SETTINGS,
    SHARED_REFERENCES,
    delete_object,
    due_because,
    due_by_time,
    reconcile_object,
)
from oncall_operator.handlers.indexes import CLAIM_INDEXES
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.readmodel import reading_fresh
from oncall_operator.reconcile.model import Event, ObjectMeta, Outcome, References

Spec = dict[str, Any]
Status = dict[str, Any]


@dataclass(frozen=True)
class KindHandlers:
    kind: str
    plural: str
    reconcile: Callable[
        [PagerDutyClient, ObjectMeta, Spec, Status, References, dt.datetime], Outcome
    ]
    delete: Callable[[PagerDutyClient, ObjectMeta, Spec, Status], list[Event]]
    # What of its referents an object depends on; a change of it triggers a reconcile.
    fingerprint: Callable[[Mapping[str, Any], References], Hashable]


def register(kind: KindHandlers) -> None:
    """Register the reconcile, drift, references and delete handlers of one kind with kopf."""

    async def run(
        body: kopf.Body,
        patch: kopf.Patch,
        memo: kopf.Memo,
        logger: Any,
        trigger: str,
        refs: References,
        fresh: bool = False,
    ) -> None:
        def reconcile(meta: ObjectMeta, spec: Spec, status: Status) -> Outcome:
            # An edit (or a resume from pause) reads its own objects from PagerDuty itself: what
            # someone changed there since the last sweep is corrected at once.
            with reading_fresh(fresh):
                now = dt.datetime.now(dt.UTC)
                return kind.reconcile(memo.client, meta, spec, status, refs, now)

        fingerprint = kind.fingerprint(body.get("spec") or {}, refs)
        await reconcile_object(
            body, patch, memo, logger, kind.kind, reconcile, fingerprint, trigger
        )

    def refs_of(body: kopf.Body, indexes: Mapping[str, Any]) -> References:
        namespace = body.metadata.namespace or ""
        # A rotation's own on-call time is its own to compute, never a reason to run again.
        own = f"{namespace}/{body.metadata.name}" if kind.kind == "Rotation" else None
        return SHARED_REFERENCES.resolve(
            namespace,
            indexes["team_index"],
            indexes["rotation_index"],
            [indexes[name] for name in CLAIM_INDEXES],
            ON_CALL_LEDGER,
            own,
        )

    @kopf.on.resume(GROUP, VERSION, kind.plural, id=f"{kind.plural}-reconcile")
    @kopf.on.create(GROUP, VERSION, kind.plural, id=f"{kind.plural}-reconcile")
    @kopf.on.update(GROUP, VERSION, kind.plural, id=f"{kind.plural}-reconcile")
    async def on_change(
        *,
        body: kopf.Body,
        patch: kopf.Patch,
        memo: kopf.Memo,
        logger: Any,
        namespace: str | None,
        **kwargs: Any,
    ) -> None:
        edited = kwargs.get("reason") == "update"
        await run(body, patch, memo, logger, "change", refs_of(body, kwargs), fresh=edited)

    @kopf.timer(
        GROUP,
        VERSION,
        kind.plural,
        id=f"{kind.plural}-drift",
        interval=SETTINGS.drift_interval_seconds,
        initial_delay=SETTINGS.drift_interval_seconds,
    )
    async def on_drift_tick(
        *,
        body: kopf.Body,
        patch: kopf.Patch,
        memo: kopf.Memo,
        logger: Any,
        namespace: str | None,
        **kwargs: Any,
    ) -> None:
        await run(body, patch, memo, logger, DRIFT, refs_of(body, kwargs))

    @kopf.timer(
        GROUP,
        VERSION,
        kind.plural,
        id=f"{kind.plural}-references",
        interval=SETTINGS.reference_poll_seconds,
    )
    async def on_references_tick(
        *,
        body: kopf.Body,
        patch: kopf.Patch,
        memo: kopf.Memo,
        logger: Any,
        namespace: str | None,
        **kwargs: Any,
    ) -> None:
        # Resolving references costs O(objects): only when something changed since last time.
        if REFERENCE_CHANGES.unchanged_since_look(memo) and due_by_time(memo) is None:
            return
        version = REFERENCE_CHANGES.version
        refs = refs_of(body, kwargs)
        because = due_because(memo, kind.fingerprint(body.get("spec") or {}, refs))
        if because is None:
            REFERENCE_CHANGES.looked(memo, version)
        else:
            await run(body, patch, memo, logger, because, refs)

    @kopf.on.delete(GROUP, VERSION, kind.plural, id=f"{kind.plural}-delete")
    async def on_delete(*, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        def delete(meta: ObjectMeta, spec: Spec, status: Status) -> list[Event]:
            return kind.delete(memo.client, meta, spec, status)

        await delete_object(body, memo, kind.kind, delete)
