"""What every kind's handlers share: run a reconcile off the event loop, write status only when it
changed, post its Events, and remember when to look again."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
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
    RotationOnCall,
    TeamInfo,
)
from oncall_operator.settings import OperatorSettings

FINALIZER = f"{GROUP}/finalizer"
DRIFT = "drift"  # the trigger of the drift timer
# "namespace/name" -> what each rotation puts people on call for, as its last reconcile read it
# from PagerDuty: the load checks of every other rotation and team read it (all namespaces).
ON_CALL_LEDGER: dict[str, RotationOnCall] = {}
SETTINGS = OperatorSettings.from_env()
# How long a status write may take to come back through the watch before timers stop waiting for it.
STATUS_ECHO_SECONDS = 10.0


class ReferenceChanges:
    """A count of changes to what references resolve from — the indexes of teams, rotations and
    claims, and the on-call ledger — so that the quick timer of an object whose references were
    compared since the last change skips resolving them again (that is O(objects) per object: at
    rest, thousands of objects every few seconds). Index functions run on kopf's threads and kopf
    stores their result just after: a look is remembered only once `settle_seconds` passed
    since the last change, so a look racing a change is made again at the next tick."""

    def __init__(self, settle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.settle_seconds = settle_seconds
        self._clock = clock
        self.version = 0
        self.changed_at = -float("inf")

    def changed(self) -> None:
        self.version += 1
        self.changed_at = self._clock()

    def settled(self) -> bool:
        """The last change is at least `settle_seconds` old."""
        return self._clock() - self.changed_at >= self.settle_seconds

    def unchanged_since_look(self, memo: kopf.Memo) -> bool:
        """Nothing changed since this object last compared its references."""
        return memo.get("references_looked_at") == self.version

    def looked(self, memo: kopf.Memo, version: int) -> None:
        """This object compared its references as of `version` (read before resolving them)."""
        if self.settled():
            memo["references_looked_at"] = version


REFERENCE_CHANGES = ReferenceChanges(settle_seconds=SETTINGS.reference_poll_seconds)

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
    claim_indexes: Sequence[kopf.Index[str, str]] = (),
    on_call: Mapping[str, RotationOnCall] | None = None,
    leave_out: str | None = None,
) -> References:
    """What the indexes know about the teams and rotations of one namespace, and every claim
    (looked up per id when asked: building them all is O(objects))."""
    return References(
        teams={info.name: info for info in team_index.get(namespace, [])},
        rotations={info.name: info for info in rotation_index.get(namespace, [])},
        claims=ClaimsView(claim_indexes),
        on_call={k: v for k, v in (on_call or {}).items() if k != leave_out},
    )


class SharedReferences:
    """`references_in` for the handlers, which resolve references on the event loop for every
    object every few seconds: the namespace's referents and the on-call ledger are copied once
    per change (see `ReferenceChanges`) and shared by every object until the next."""

    def __init__(self, changes: ReferenceChanges) -> None:
        self.changes = changes
        # namespace -> (version, settled when made, teams, rotations, on-call ledger); what is
        # shared is never changed
        self._copies: dict[
            str,
            tuple[
                int, bool, dict[str, TeamInfo], dict[str, RotationInfo], dict[str, RotationOnCall]
            ],
        ] = {}

    def resolve(
        self,
        namespace: str,
        team_index: kopf.Index[str, TeamInfo],
        rotation_index: kopf.Index[str, RotationInfo],
        claim_indexes: Sequence[kopf.Index[str, str]],
        on_call: Mapping[str, RotationOnCall],
        leave_out: str | None = None,
    ) -> References:
        version = self.changes.version
        settled = self.changes.settled()
        copied = self._copies.get(namespace)
        # A copy made before the last change settled may predate kopf storing it: it serves only
        # until then, and the first look after makes a fresh one.
        if copied is not None and copied[0] == version and (copied[1] or not settled):
            _, _, teams, rotations, ledger = copied
        else:
            teams = {info.name: info for info in team_index.get(namespace, [])}
            rotations = {info.name: info for info in rotation_index.get(namespace, [])}
            ledger = dict(on_call)
            self._copies[namespace] = (version, settled, teams, rotations, ledger)
        return References(
            teams=teams,
            rotations=rotations,
            claims=ClaimsView(claim_indexes),
            on_call=Excluding(ledger, leave_out) if leave_out in ledger else ledger,
        )


SHARED_REFERENCES = SharedReferences(REFERENCE_CHANGES)


class ClaimsView(Mapping[str, Sequence[str]]):
    """PagerDuty id -> the resources claiming it, across the claim indexes, looked up per id."""

    def __init__(self, indexes: Sequence[kopf.Index[str, str]]) -> None:
        self._indexes = indexes

    def __getitem__(self, pagerduty_id: str) -> Sequence[str]:
        found = [claim for index in self._indexes for claim in index.get(pagerduty_id, [])]
        if not found:
            raise KeyError(pagerduty_id)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(i for index in self._indexes for i in index))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Excluding(Mapping[str, RotationOnCall]):
    """A mapping without one key, without copying it (the mapping is never changed)."""

    def __init__(self, mapping: Mapping[str, RotationOnCall], left_out: str | None) -> None:
        self._mapping = mapping
        self._left_out = left_out

    def __getitem__(self, key: str) -> RotationOnCall:
        if key == self._left_out:
            raise KeyError(key)
        return self._mapping[key]

    def __iter__(self) -> Iterator[str]:
        return (k for k in self._mapping if k != self._left_out)

    def __len__(self) -> int:
        return len(self._mapping) - (self._left_out in self._mapping)


def on_call_fingerprint(refs: References, people: Iterable[str]) -> Hashable:
    """What of other rotations' on-call time the load checks of these people depend on."""
    wanted = {p.lower() for p in people}
    return tuple(
        sorted(
            (key, record.digest)
            for key, record in refs.on_call.items()
            if not wanted.isdisjoint(record.people)
        )
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
    """Run one level-based reconcile and record its result on the object.

    Timers skip their turn while the body they hold predates the status this operator just wrote:
    reconciling from it would repeat work already done (and, say, report an adoption of what it
    had just created)."""
    # Drift checks of objects at rest go one at a time on a thread whose reads wait for the read
    # budget, queued outside the object's lock: a spec edit, a referent becoming ready or a
    # handoff never waits behind a sweep of thousands of objects. An object not Ready yet is
    # still converging (or retrying an error) and is not held to the budget.
    if trigger == DRIFT:  # the read model sweeps only while drift checks come due
        want_sweep = getattr(memo.get("client"), "want_sweep", None)
        if callable(want_sweep):
            want_sweep()
    gate: DriftGate | None = memo.get("drift_gate") if trigger == DRIFT and is_ready(body) else None
    async with gate.turn() if gate is not None else contextlib.nullcontext():
        await _reconcile_locked(body, patch, memo, logger, kind, run, fingerprint, trigger, gate)


async def _reconcile_locked(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    kind: str,
    run: ReconcileFn,
    fingerprint: Hashable,
    trigger: str,
    gate: DriftGate | None,
) -> None:
    lock: asyncio.Lock = memo.setdefault("reconcile_lock", asyncio.Lock())
    async with lock:
        if trigger != "change" and awaiting_own_write(body, memo):
            return
        swept = sweeps_done(memo)
        if trigger == DRIFT and swept is not None and memo.get("sweeps_seen") == swept:
            return  # PagerDuty was not read again since this object's last reconcile
        meta = object_meta(kind, body)
        old_status = dict(body.get("status") or {})
        started = time.monotonic()
        spec = dict(body.get("spec") or {})
        loop = asyncio.get_running_loop()
        executor = gate.executor if gate is not None else reconcile_executor(memo)
        outcome = await loop.run_in_executor(executor, run, meta, spec, old_status)
        memo["sweeps_seen"] = swept
        write_status_if_changed(patch, old_status, outcome.status)
        if patch.status:
            memo["status_written"] = (body.metadata.get("resourceVersion"), time.monotonic())
        post_events(body, outcome.events)
        memo["reference_fingerprint"] = fingerprint
        memo["requeue_at"] = (
            time.monotonic() + outcome.requeue_after if outcome.requeue_after is not None else None
        )
        memo["wake_at"] = outcome.wake_at
        if outcome.on_call is not None:
            if ON_CALL_LEDGER.get(outcome.on_call.rotation) != outcome.on_call:
                REFERENCE_CHANGES.changed()
            ON_CALL_LEDGER[outcome.on_call.rotation] = outcome.on_call
        result = reconcile_result(outcome)
        metrics = memo.get("metrics")
        if metrics is not None:
            metrics.reconciles.labels(kind=kind, result=result).inc()
            metrics.reconciled(kind, time.monotonic() - started)
            metrics.observe_status(kind, meta.namespace, meta.name, outcome.status)
            drift = sum(1 for e in outcome.events if e.reason == "DriftCorrected")
            if drift:
                metrics.drift_corrections.labels(kind=kind).inc(drift)
        changed = bool(patch.status) or bool(outcome.events)
        # A reconcile that changed nothing is routine: only debug logs it.
        logger.log(
            logging.INFO if changed else logging.DEBUG,
            "%s reconcile (%s): %s in %.2fs%s",
            kind,
            trigger,
            result,
            time.monotonic() - started,
            "; " + ", ".join(e.reason for e in outcome.events) if outcome.events else "",
        )


def reconcile_executor(memo: kopf.Memo) -> Executor | None:
    """The threads reconciles other than drift checks run on: ONCALL_WORKER_LIMIT of them (made
    at startup), so that many PagerDuty calls can be under way at once. None (asyncio's default
    pool, `min(32, CPUs + 4)` threads) only where no startup ran (tests)."""
    executor = memo.get("reconcile_executor")
    return executor if isinstance(executor, Executor) else None


class DriftGate:
    """Drift checks one at a time on `executor` (whose thread's reads wait for the read budget).
    Shared by every object through the operator's memo."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self._slot: asyncio.Semaphore | None = None

    def turn(self) -> asyncio.Semaphore:
        if self._slot is None:  # made on first use, inside the operator's event loop
            self._slot = asyncio.Semaphore(1)
        return self._slot


def sweeps_done(memo: kopf.Memo) -> int | None:
    """How many drift sweeps the read model has made (None without one): a drift check finds
    something new only after the next."""
    done = getattr(memo.get("client"), "sweeps_done", None)
    return done if isinstance(done, int) else None


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


def is_due(memo: kopf.Memo, fingerprint: Hashable, now: dt.datetime | None = None) -> bool:
    """Whether the quick timer should reconcile now (see `due_because`)."""
    return due_because(memo, fingerprint, now) is not None


def due_because(
    memo: kopf.Memo, fingerprint: Hashable, now: dt.datetime | None = None
) -> str | None:
    """Why the quick timer should reconcile now, or None: a referent changed ("references"), a
    requeue fell due ("requeue"), or the calendar moment the last reconcile asked to be woken
    at has come ("wake-up": a handoff, a term starting or ending). `now` is the wall clock."""
    if "reference_fingerprint" not in memo:
        return None  # the change handler has not run yet; it will
    because = due_by_time(memo, now)
    if because is None and memo.get("reference_fingerprint") != fingerprint:
        return "references"
    return because


def due_by_time(memo: kopf.Memo, now: dt.datetime | None = None) -> str | None:
    """ "wake-up" or "requeue" when that moment has come (see `due_because`), else None."""
    if "reference_fingerprint" not in memo:
        return None
    wake_at: dt.datetime | None = memo.get("wake_at")
    if wake_at is not None and (now or dt.datetime.now(dt.UTC)) >= wake_at:
        return "wake-up"
    requeue_at = memo.get("requeue_at")
    if requeue_at is not None and time.monotonic() >= requeue_at:
        return "requeue"
    return None


def awaiting_own_write(body: kopf.Body, memo: kopf.Memo) -> bool:
    """Whether the last status written from this same resourceVersion has not been seen back yet."""
    written: tuple[str, float] | None = memo.get("status_written")
    if written is None:
        return False
    resource_version, at = written
    return bool(
        body.metadata.get("resourceVersion") == resource_version
        and time.monotonic() - at < STATUS_ECHO_SECONDS
    )


def write_status_if_changed(
    patch: kopf.Patch, old: Mapping[str, Any], new: Mapping[str, Any]
) -> None:
    """Patch only the status fields that differ; a no-op reconcile makes no Kubernetes write."""
    for key, value in status_merge_patch(old, new).items():
        patch.status[key] = value


def status_merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) that turns `old` into `new`; empty when they are equal.

    Nested objects are diffed key by key, so a key gone from a nested object (e.g.
    status.onCall.next) is removed with a null rather than left behind by the merge.
    """
    diff: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if before == value:
            continue
        if isinstance(before, Mapping) and isinstance(value, Mapping):
            diff[key] = status_merge_patch(before, value)
        else:
            diff[key] = value
    for key in old:
        if key not in new:
            diff[key] = None
    return diff


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
    # Never alongside a reconcile of the same object that may still be writing to PagerDuty.
    lock: asyncio.Lock = memo.setdefault("reconcile_lock", asyncio.Lock())
    async with lock:
        try:
            events = await asyncio.get_running_loop().run_in_executor(
                reconcile_executor(memo),
                delete,
                meta,
                dict(body.get("spec") or {}),
                dict(body.get("status") or {}),
            )
        except RetryLater as error:
            kopf.event(body, type="Warning", reason="DeleteBlocked", message=str(error))
            raise kopf.TemporaryError(str(error), delay=error.delay) from None
    post_events(body, events)
    if kind == "Rotation":
        ON_CALL_LEDGER.pop(f"{meta.namespace}/{meta.name}", None)
    # kopf drops a deleted object from the indexes without calling the index functions.
    REFERENCE_CHANGES.changed()
    metrics = memo.get("metrics")
    if metrics is not None:
        metrics.forget(kind, meta.namespace, meta.name)
