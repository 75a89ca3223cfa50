"""The kopf glue shared by every kind: status written only when it changed, the wake-up timer's
decision, the result label of a reconcile, readiness as referrers see it, and one reconcile run."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import kopf
import pytest

from oncall_operator.handlers import glue
from oncall_operator.reconcile.errors import RetryLater
from oncall_operator.reconcile.model import Event, ObjectMeta, Outcome, RotationInfo, TeamInfo


def ready(status: str = "True", reason: str = "Synced") -> dict[str, Any]:
    return {"type": "Ready", "status": status, "reason": reason, "message": "m"}


@pytest.mark.parametrize(
    ("old", "new", "patch"),
    [
        pytest.param({}, {}, {}, id="both empty"),
        pytest.param({"observedGeneration": 2}, {"observedGeneration": 2}, {}, id="no change"),
        pytest.param(
            {"observedGeneration": 1},
            {"observedGeneration": 2},
            {"observedGeneration": 2},
            id="scalar",
        ),
        pytest.param({}, {"pagerduty": {"id": "P1"}}, {"pagerduty": {"id": "P1"}}, id="new key"),
        pytest.param({"pages": {"n": 1}}, {}, {"pages": None}, id="key gone"),
        pytest.param(
            {"onCall": {"now": "a@x", "until": "t1", "next": "b@x"}},
            {"onCall": {"now": "b@x", "until": "t2"}},
            {"onCall": {"now": "b@x", "until": "t2", "next": None}},
            id="nested key gone is nulled, not merged away",
        ),
        pytest.param(
            {"members": {"total": 2, "unresolved": ["z@x"]}},
            {"members": {"total": 2, "unresolved": []}},
            {"members": {"unresolved": []}},
            id="nested: only what changed",
        ),
        pytest.param(
            {"conditions": [ready("False", "Reconciling")]},
            {"conditions": [ready()]},
            {"conditions": [ready()]},
            id="lists replaced whole",
        ),
        pytest.param(
            {"layers": "odd"},
            {"layers": [{"name": "a"}]},
            {"layers": [{"name": "a"}]},
            id="type change",
        ),
    ],
)
def test_status_merge_patch(
    old: dict[str, Any], new: dict[str, Any], patch: dict[str, Any]
) -> None:
    assert glue.status_merge_patch(old, new) == patch


def test_write_status_if_changed_leaves_the_patch_empty_when_nothing_changed() -> None:
    status = {"observedGeneration": 3, "conditions": [ready()], "onCall": {"now": "a@x"}}
    patch = kopf.Patch()
    glue.write_status_if_changed(patch, status, dict(status))
    assert not patch


def test_write_status_if_changed_patches_the_status_only() -> None:
    patch = kopf.Patch()
    glue.write_status_if_changed(patch, {"observedGeneration": 1}, {"observedGeneration": 2})
    assert dict(patch) == {"status": {"observedGeneration": 2}}


def test_is_due_waits_for_the_first_change_reconcile() -> None:
    assert not glue.is_due(kopf.Memo(), ("anything",))


@pytest.mark.parametrize(
    ("stored", "requeue_in", "current", "due"),
    [
        pytest.param(("t", "P1", True), None, ("t", "P1", True), False, id="nothing changed"),
        pytest.param(("t", None, False), None, ("t", "P1", True), True, id="referent got ready"),
        pytest.param(None, None, None, False, id="team: no referents, no requeue"),
        pytest.param(None, -1.0, None, True, id="requeue fell due"),
        pytest.param(None, 60.0, None, False, id="requeue not yet due"),
    ],
)
def test_is_due(stored: Any, requeue_in: float | None, current: Any, due: bool) -> None:
    memo = kopf.Memo(
        reference_fingerprint=stored,
        requeue_at=None if requeue_in is None else time.monotonic() + requeue_in,
    )
    assert glue.is_due(memo, current) is due


def test_wake_up_falls_due_at_the_moment_the_reconcile_asked_for() -> None:
    handoff = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    memo = kopf.Memo(reference_fingerprint=None, requeue_at=None, wake_at=handoff)
    second = dt.timedelta(seconds=1)
    assert glue.due_because(memo, None, handoff - second) is None
    assert glue.due_because(memo, None, handoff) == "wake-up"
    assert glue.due_because(memo, None, handoff + second) == "wake-up"
    # A referent change is still noticed when no wake-up is due.
    assert glue.due_because(memo, ("changed",), handoff - second) == "references"


async def test_reconcile_object_remembers_when_to_wake(posted: list[Any]) -> None:
    handoff = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    status = {"observedGeneration": 4, "conditions": [ready()]}
    run = Recorder(
        Outcome(status=dict(status), events=[], requeue_after=None, ready=True, wake_at=handoff)
    )
    memo = kopf.Memo()
    await glue.reconcile_object(body(status), kopf.Patch(), memo, _logger(), "Rotation", run)
    assert memo["wake_at"] == handoff
    assert glue.due_because(memo, None, handoff) == "wake-up"


def outcome(ready_condition: dict[str, Any] | None, is_ready: bool = False) -> Outcome:
    conditions = [ready_condition] if ready_condition else []
    return Outcome(status={"conditions": conditions}, events=[], requeue_after=None, ready=is_ready)


@pytest.mark.parametrize(
    ("result", "label"),
    [
        (outcome(ready(), is_ready=True), "ready"),
        (outcome(ready("False", "Paused")), "paused"),
        (outcome(ready("False", "WaitingForReferences")), "waiting"),
        (outcome(ready("False", "RateLimited")), "waiting"),
        (outcome(ready("False", "InvalidSpec")), "invalid"),
        (outcome(ready("False", "PagerDutyError")), "error"),
        (outcome(None), "error"),
    ],
)
def test_reconcile_result(result: Outcome, label: str) -> None:
    assert glue.reconcile_result(result) == label


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "metadata": {"generation": 2},
                "status": {"observedGeneration": 2, "conditions": [ready()]},
            },
            True,
        ),
        (
            {
                "metadata": {"generation": 3},
                "status": {"observedGeneration": 2, "conditions": [ready()]},
            },
            False,
        ),
        (
            {
                "metadata": {"generation": 2},
                "status": {"observedGeneration": 2, "conditions": [ready("False")]},
            },
            False,
        ),
        ({"metadata": {"generation": 1}}, False),
    ],
)
def test_is_ready_means_ready_for_the_current_generation(
    body: dict[str, Any], expected: bool
) -> None:
    assert glue.is_ready(body) is expected


def test_references_in_reads_one_namespace() -> None:
    team = TeamInfo(name="ooh", spec={}, pagerduty_id="PT", ready=True)
    rotation = RotationInfo(name="weekly", pagerduty_id=None, ready=False)
    elsewhere = TeamInfo(name="other", spec={}, pagerduty_id="PX", ready=True)
    refs = glue.references_in(
        "oncall",
        {"oncall": [team], "elsewhere": [elsewhere]},  # type: ignore[arg-type]
        {"oncall": [rotation]},  # type: ignore[arg-type]
    )
    assert refs.teams == {"ooh": team}
    assert refs.rotations == {"weekly": rotation}
    assert glue.references_in("empty", {}, {}).teams == {}  # type: ignore[arg-type]


def test_references_in_gathers_the_claims_of_every_namespace_and_kind() -> None:
    refs = glue.references_in(
        "oncall",
        {},  # type: ignore[arg-type]
        {},  # type: ignore[arg-type]
        [
            {"PT1": ["a/OnCallTeam/t"]},  # type: ignore[list-item]
            {"PS1": ["b/Rotation/r"], "PT1": ["c/Rotation/odd"]},  # type: ignore[list-item]
        ],
    )
    assert refs.claims == {"PT1": ["a/OnCallTeam/t", "c/Rotation/odd"], "PS1": ["b/Rotation/r"]}


def body(status: dict[str, Any], resource_version: str = "1") -> kopf.Body:
    return kopf.Body(
        {
            "apiVersion": "oncall.dev/v1alpha1",
            "kind": "OnCallTeam",
            "metadata": {
                "namespace": "ns",
                "name": "team",
                "uid": "u1",
                "resourceVersion": resource_version,
                "generation": 4,
                "annotations": {"oncall.dev/paused": "false"},
            },
            "spec": {"members": [{"email": "a@example.com"}]},
            "status": status,
        }
    )


class Recorder:
    def __init__(self, result: Outcome) -> None:
        self.result = result
        self.calls: list[tuple[ObjectMeta, dict[str, Any], dict[str, Any]]] = []

    def __call__(self, meta: ObjectMeta, spec: dict[str, Any], status: dict[str, Any]) -> Outcome:
        self.calls.append((meta, spec, status))
        return self.result


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """kopf.event calls, recorded instead of queued (no operator is running)."""
    events: list[tuple[str, str, str]] = []

    def record(_: Any, *, type: str, reason: str, message: str) -> None:
        events.append((type, reason, message))

    monkeypatch.setattr(kopf, "event", record)
    return events


async def test_reconcile_object_records_the_outcome(posted: list[tuple[str, str, str]]) -> None:
    new_status = {"observedGeneration": 4, "conditions": [ready()]}
    run = Recorder(
        Outcome(
            status=new_status,
            events=[Event("Normal", "Created", "Created the PagerDuty team")],
            requeue_after=30.0,
            ready=True,
        )
    )
    patch, memo = kopf.Patch(), kopf.Memo()
    await glue.reconcile_object(
        body({"observedGeneration": 3}), patch, memo, _logger(), "OnCallTeam", run, ("fp",)
    )
    meta, spec, status = run.calls[0]
    assert meta == ObjectMeta("ns", "team", "OnCallTeam", 4, {"oncall.dev/paused": "false"})
    assert spec == {"members": [{"email": "a@example.com"}]}
    assert status == {"observedGeneration": 3}
    assert dict(patch) == {"status": new_status}
    assert posted == [("Normal", "Created", "Created the PagerDuty team")]
    assert memo["reference_fingerprint"] == ("fp",)
    assert memo["requeue_at"] > time.monotonic() + 25


async def test_reconcile_object_with_nothing_to_do_writes_nothing(
    posted: list[tuple[str, str, str]],
) -> None:
    status = {"observedGeneration": 4, "conditions": [ready()]}
    run = Recorder(Outcome(status=dict(status), events=[], requeue_after=None, ready=True))
    patch, memo = kopf.Patch(), kopf.Memo(requeue_at=1.0)
    await glue.reconcile_object(body(status), patch, memo, _logger(), "OnCallTeam", run)
    assert not patch
    assert posted == []
    assert memo["requeue_at"] is None


def _logger() -> Any:
    import logging

    return logging.getLogger("tests.handlers")


async def test_timers_wait_for_the_status_they_wrote_to_come_back(
    posted: list[tuple[str, str, str]],
) -> None:
    """A timer holding the body from before this operator's own status write skips its turn."""
    written = {"observedGeneration": 4, "conditions": [ready()]}
    run = Recorder(Outcome(status=written, events=[], requeue_after=None, ready=True))
    before = body({})
    memo = kopf.Memo()
    await glue.reconcile_object(before, kopf.Patch(), memo, _logger(), "OnCallTeam", run)
    assert len(run.calls) == 1

    await glue.reconcile_object(
        before, kopf.Patch(), memo, _logger(), "OnCallTeam", run, trigger="drift"
    )
    assert len(run.calls) == 1, "the drift timer reconciled from a body older than its own write"

    await glue.reconcile_object(before, kopf.Patch(), memo, _logger(), "OnCallTeam", run)
    assert len(run.calls) == 2, "a change always reconciles"

    echoed = body(written, resource_version="2")
    await glue.reconcile_object(
        echoed, kopf.Patch(), memo, _logger(), "OnCallTeam", run, trigger="drift"
    )
    assert len(run.calls) == 3


async def test_delete_object_posts_its_events(posted: list[tuple[str, str, str]]) -> None:
    def delete(meta: ObjectMeta, spec: dict[str, Any], status: dict[str, Any]) -> list[Event]:
        assert (meta.name, status) == ("team", {"pagerduty": {"id": "P1"}})
        return [Event("Normal", "Deleted", "Deleted the PagerDuty team P1")]

    await glue.delete_object(body({"pagerduty": {"id": "P1"}}), kopf.Memo(), "OnCallTeam", delete)
    assert posted == [("Normal", "Deleted", "Deleted the PagerDuty team P1")]


async def test_delete_refused_for_now_is_retried_by_kopf(
    posted: list[tuple[str, str, str]],
) -> None:
    def delete(meta: ObjectMeta, spec: dict[str, Any], status: dict[str, Any]) -> list[Event]:
        raise RetryLater("PagerDuty refuses to delete the schedule while it is still in use.", 30.0)

    with pytest.raises(kopf.TemporaryError) as raised:
        await glue.delete_object(body({}), kopf.Memo(), "Rotation", delete)
    assert raised.value.delay == 30.0
    assert posted == [
        (
            "Warning",
            "DeleteBlocked",
            "PagerDuty refuses to delete the schedule while it is still in use.",
        )
    ]


async def test_reconcile_object_counts_results_and_drift_corrections(
    posted: list[tuple[str, str, str]],
) -> None:
    from prometheus_client import CollectorRegistry

    from oncall_operator.metrics import OperatorMetrics

    metrics = OperatorMetrics(CollectorRegistry())
    status = {"observedGeneration": 4, "conditions": [ready()]}
    drifted = Event("Normal", "DriftCorrected", "Put the team's name back")
    run = Recorder(Outcome(status=status, events=[drifted], requeue_after=None, ready=True))
    await glue.reconcile_object(
        body(status), kopf.Patch(), kopf.Memo(metrics=metrics), _logger(), "OnCallTeam", run
    )
    sample = metrics.registry.get_sample_value
    assert sample("oncall_reconciles_total", {"kind": "OnCallTeam", "result": "ready"}) == 1
    assert sample("oncall_drift_corrections_total", {"kind": "OnCallTeam"}) == 1


class SweepingClient:
    """Stands in for the read model: only how many drift sweeps it made."""

    def __init__(self) -> None:
        self.sweeps_done = 0
        self.wanted = 0

    def want_sweep(self) -> None:
        self.wanted += 1


async def test_a_drift_check_runs_only_after_a_new_sweep_and_on_its_own_pool(
    posted: list[Any],
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    status = {"observedGeneration": 4, "conditions": [ready()]}
    threads: list[str] = []

    def run(meta: ObjectMeta, spec: dict[str, Any], old: dict[str, Any]) -> Outcome:
        import threading

        threads.append(threading.current_thread().name)
        return Outcome(status=dict(status), events=[], requeue_after=None, ready=True)

    client = SweepingClient()
    with ThreadPoolExecutor(1, thread_name_prefix="drift-check") as pool:
        memo = kopf.Memo(client=client, drift_gate=glue.DriftGate(pool))
        again = body(status, resource_version="2")
        await glue.reconcile_object(again, kopf.Patch(), memo, _logger(), "OnCallTeam", run)
        await glue.reconcile_object(
            again, kopf.Patch(), memo, _logger(), "OnCallTeam", run, trigger="drift"
        )
        assert len(threads) == 1, "no sweep since the last reconcile: nothing new to compare"
        assert client.wanted == 1  # but the drift check asked for the next sweep
        client.sweeps_done += 1
        await glue.reconcile_object(
            again, kopf.Patch(), memo, _logger(), "OnCallTeam", run, trigger="drift"
        )
        await glue.reconcile_object(
            again, kopf.Patch(), memo, _logger(), "OnCallTeam", run, trigger="wake-up"
        )
        client.sweeps_done += 1
        converging = body({"observedGeneration": 3, "conditions": [ready("False", "Reconciling")]})
        await glue.reconcile_object(
            converging, kopf.Patch(), memo, _logger(), "OnCallTeam", run, trigger="drift"
        )
    assert len(threads) == 4
    assert threads[1].startswith("drift-check")  # drift checks queue on their own pool
    assert not threads[2].startswith("drift-check")  # a handoff never waits behind them
    assert not threads[3].startswith("drift-check")  # nor an object that is not Ready yet


async def test_a_change_never_waits_behind_a_queued_drift_check_of_the_same_object(
    posted: list[Any],
) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    status = {"observedGeneration": 4, "conditions": [ready()]}
    run = Recorder(Outcome(status=dict(status), events=[], requeue_after=None, ready=True))
    client = SweepingClient()
    client.sweeps_done = 1
    with ThreadPoolExecutor(1) as pool:
        gate = glue.DriftGate(pool)
        memo = kopf.Memo(client=client, drift_gate=gate)
        now_body = body(status, resource_version="2")
        async with gate.turn():  # another object's drift check holds the gate
            queued = asyncio.create_task(
                glue.reconcile_object(
                    now_body, kopf.Patch(), memo, _logger(), "OnCallTeam", run, trigger="drift"
                )
            )
            await asyncio.sleep(0.05)
            await asyncio.wait_for(
                glue.reconcile_object(now_body, kopf.Patch(), memo, _logger(), "OnCallTeam", run),
                timeout=5,
            )
            assert len(run.calls) == 1 and not queued.done()
        await queued


def test_on_call_fingerprint_follows_only_the_rotations_of_the_people_given() -> None:
    import datetime as dt

    from oncall_operator.handlers.glue import on_call_fingerprint, references_in
    from oncall_operator.reconcile.model import RotationOnCall
    from oncall_operator.translate.load import Entry

    start = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)

    def record(key: str, person: str, days: int) -> RotationOnCall:
        return RotationOnCall(key, None, (Entry(person, start, start + dt.timedelta(days=days)),))

    ledger = {
        "a/one": record("a/one", "ana@example.com", 7),
        "b/two": record("b/two", "bo@x.io", 7),
    }
    refs = references_in("a", {}, {}, (), ledger, leave_out="a/one")  # type: ignore[arg-type]
    assert list(refs.on_call) == ["b/two"]  # a rotation's own time is never its trigger
    everyone = references_in("a", {}, {}, (), ledger)  # type: ignore[arg-type]
    before = on_call_fingerprint(everyone, ["ANA@example.com"])
    ledger["b/two"] = record("b/two", "bo@x.io", 8)  # someone else's time: no change
    assert (
        on_call_fingerprint(references_in("a", {}, {}, (), ledger), ["ana@example.com"]) == before
    )  # type: ignore[arg-type]
    ledger["a/one"] = record("a/one", "ana@example.com", 8)
    assert (
        on_call_fingerprint(references_in("a", {}, {}, (), ledger), ["ana@example.com"]) != before
    )  # type: ignore[arg-type]


async def test_reconciles_run_on_the_worker_pool_made_at_startup(posted: list[Any]) -> None:
    """ONCALL_WORKER_LIMIT sizes the pool reconciles run on, not asyncio's default pool."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    status = {"observedGeneration": 4, "conditions": [ready()]}
    threads: list[str] = []

    def run(meta: ObjectMeta, spec: dict[str, Any], old: dict[str, Any]) -> Outcome:
        threads.append(threading.current_thread().name)
        return Outcome(status=dict(status), events=[], requeue_after=None, ready=True)

    with ThreadPoolExecutor(2, thread_name_prefix="reconcile") as pool:
        memo = kopf.Memo(reconcile_executor=pool)
        await glue.reconcile_object(body(status), kopf.Patch(), memo, _logger(), "OnCallTeam", run)
    await glue.reconcile_object(body(status), kopf.Patch(), kopf.Memo(), _logger(), "Rotation", run)
    assert threads[0].startswith("reconcile")
    assert not threads[1].startswith("reconcile")  # no startup ran: asyncio's default pool


def test_reference_changes_let_a_quick_timer_skip_only_when_nothing_changed_since_its_look() -> (
    None
):
    now = [100.0]
    changes = glue.ReferenceChanges(settle_seconds=3, clock=lambda: now[0])
    memo = kopf.Memo()
    assert not changes.unchanged_since_look(memo)  # never looked: resolve them
    version = changes.version
    changes.looked(memo, version)
    assert changes.unchanged_since_look(memo)
    changes.changed()  # an index or the on-call ledger changed
    assert not changes.unchanged_since_look(memo)
    # A look right after a change may have raced kopf storing the index: not remembered.
    now[0] += 1
    changes.looked(memo, changes.version)
    assert not changes.unchanged_since_look(memo)
    now[0] += 3
    version = changes.version
    changes.looked(memo, version)
    assert changes.unchanged_since_look(memo)
    # A change while resolving (after the version was read) is not taken as seen.
    stale = changes.version
    changes.changed()
    now[0] += 10
    changes.looked(memo, stale)
    assert not changes.unchanged_since_look(memo)


def test_due_by_time_is_the_wake_up_or_requeue_part_of_due_because() -> None:
    import datetime as dt
    import time

    handoff = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)
    memo = kopf.Memo(reference_fingerprint=("same",), wake_at=handoff, requeue_at=None)
    assert glue.due_by_time(memo, handoff - dt.timedelta(seconds=1)) is None
    assert glue.due_by_time(memo, handoff) == "wake-up"
    memo = kopf.Memo(reference_fingerprint=("same",), requeue_at=time.monotonic() - 1)
    assert glue.due_by_time(memo) == "requeue"
    assert glue.due_by_time(kopf.Memo(requeue_at=time.monotonic() - 1)) is None  # not started


def test_shared_references_copy_the_referents_once_per_settled_change() -> None:
    import datetime as dt

    from oncall_operator.reconcile.model import RotationOnCall, TeamInfo
    from oncall_operator.translate.load import Entry

    now = [100.0]
    changes = glue.ReferenceChanges(settle_seconds=3, clock=lambda: now[0])
    shared = glue.SharedReferences(changes)
    teams: dict[str, list[TeamInfo]] = {"a": [TeamInfo("t0", {}, "PT00000", True)]}
    claims: dict[str, list[str]] = {"PT00000": ["a/OnCallTeam/t0"]}
    start = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)
    ledger = {"a/r": RotationOnCall("a/r", None, (Entry("ana@x.io", start, start),))}

    def resolve(leave_out: str | None = None) -> Any:
        return shared.resolve("a", teams, {}, [claims], ledger, leave_out)  # type: ignore[arg-type,list-item]

    first = resolve()
    assert first.teams["t0"].ready and first.claims.get("PT00000") == ["a/OnCallTeam/t0"]
    assert first.claims.get("PNOBODY") is None
    assert resolve().teams is first.teams  # nothing changed: shared, not copied again
    assert list(resolve("a/r").on_call) == [] and list(resolve().on_call) == ["a/r"]

    teams["a"] = [TeamInfo("t0", {}, "PT00000", False)]
    changes.changed()
    now[0] += 1  # kopf may not have stored the change yet: shared only until it settles
    unsettled = resolve()
    assert not unsettled.teams["t0"].ready and resolve().teams is unsettled.teams
    now[0] += 3
    settled = resolve()
    assert settled.teams is not unsettled.teams  # made again once settled
    assert not settled.teams["t0"].ready and resolve().teams is settled.teams
