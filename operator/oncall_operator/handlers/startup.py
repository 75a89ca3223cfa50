"""One startup handler owns the settings: storage prefixes, finalizer, client and metrics in memo."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf

from oncall_operator.api import GROUP
from oncall_operator.handlers.glue import FINALIZER, SETTINGS, DriftGate
from oncall_operator.handlers.kopf_timers import keep_timers_through_refused_writes
from oncall_operator.handlers.logs import quiet_routine_logs
from oncall_operator.metrics import OperatorMetrics
from oncall_operator.pagerduty.readmodel import (
    DEFAULT_CREATE_FRESHNESS_SECONDS,
    CachingPagerDutyClient,
)
from oncall_operator.settings import PagerDutySettings

# kopf marks its storage prefix and leaves every annotation under it out of the diff it reacts to,
# so it must not be GROUP itself: then adding or removing oncall.dev/paused would go unnoticed.
STORAGE_PREFIX = f"operator.{GROUP}"
# How long kopf waits before handling an object again after the API server refused its write
# (409 Conflict, a 5xx): kopf's own delays grow to ten minutes after a dozen refusals in a row,
# leaving an object's status stale that long; these stop growing at a minute.
API_ERROR_DELAYS = (1.0, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)


@kopf.on.startup()
def configure(*, settings: kopf.OperatorSettings, memo: kopf.Memo, logger: Any, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=STORAGE_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=STORAGE_PREFIX, key="last-handled-configuration"
    )
    # Our own Events (Created, DriftCorrected, ...) say what happened; kopf's per-handler chatter would bury them.
    settings.posting.level = logging.WARNING
    quiet_routine_logs()
    # ONCALL_WORKER_LIMIT bounds the threads that run reconciles (and so PagerDuty calls at once;
    # memo.reconcile_executor below), never kopf's per-object workers: with indexes, a worker
    # waits until every object is indexed, so capping workers below the number of existing
    # objects deadlocks the start. kopf's own executor runs only sync handlers (this one).
    settings.execution.max_workers = SETTINGS.worker_limit
    settings.watching.server_timeout = 300
    settings.batching.error_delays = API_ERROR_DELAYS
    keep_timers_through_refused_writes()
    settings.networking.request_timeout = 60
    settings.peering.lifetime = SETTINGS.peering_lifetime_seconds
    # Watching given namespaces needs no cluster-wide reads: without this, kopf retries listing
    # namespaces and CRDs (Forbidden under a namespaced Role) for a minute before it serves.
    settings.scanning.disabled = bool(SETTINGS.watch_namespaces or memo.get("watch_namespaces"))

    # Whatever fails here fails the same way on a retry (and the metrics cannot be registered
    # twice), so it is permanent: the operator exits saying why instead of retrying forever.
    metrics = OperatorMetrics()
    try:
        client = CachingPagerDutyClient.from_settings(
            PagerDutySettings.from_env(),
            hooks=metrics,
            read_budget_per_minute=SETTINGS.read_budget_per_minute,
            drift_interval_seconds=SETTINGS.drift_interval_seconds,
            on_sweep_period=metrics.sweep_period_changed,
            # A replica taking over (Kopf peering) waits at least half the peering lifetime after
            # the last one stopped: lookups before a create list anew if older than a third of it.
            create_freshness_seconds=(
                SETTINGS.peering_lifetime_seconds / 3
                if SETTINGS.peering_name
                else DEFAULT_CREATE_FRESHNESS_SECONDS
            ),
        )
        memo.client = client
    except ValueError as error:
        raise kopf.PermanentError(str(error)) from None
    if SETTINGS.metrics_port:
        address = memo.get("listen_address", "0.0.0.0")  # noqa: S104 - scraped from the pod IP
        try:
            metrics.serve(SETTINGS.metrics_port, addr=address)
        except OSError as error:
            raise kopf.PermanentError(
                f"cannot serve metrics on {address}:{SETTINGS.metrics_port}: {error.strerror}"
            ) from None
    memo.metrics = metrics
    metrics.sweep_period_changed(client.period)
    metrics.drift_interval.set(SETTINGS.drift_interval_seconds)
    # The drift sweep: lists PagerDuty's collections again, paced by the read budget.
    memo.sweep_stop = threading.Event()
    memo.sweeper = threading.Thread(
        target=client.run_sweeps, args=(memo.sweep_stop,), name="drift-sweep", daemon=True
    )
    memo.sweeper.start()
    # Reconciles run on these threads (the async handlers hand them over; asyncio's default pool
    # would be CPUs + 4 threads whatever ONCALL_WORKER_LIMIT says).
    memo.reconcile_executor = ThreadPoolExecutor(
        max_workers=SETTINGS.worker_limit, thread_name_prefix="reconcile"
    )
    # Drift checks run on one thread whose reads wait for the read budget (handlers/glue.py).
    memo.drift_gate = DriftGate(
        ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="drift-check", initializer=client.pace_this_thread
        )
    )
    logger.info(
        "oncall-operator configured: drift interval %ss, read budget %d per minute, namespaces %s",
        SETTINGS.drift_interval_seconds,
        SETTINGS.read_budget_per_minute,
        ",".join(SETTINGS.watch_namespaces) or "all",
    )


@kopf.on.cleanup()
def close_client(*, memo: kopf.Memo, **_: Any) -> None:
    stop = memo.get("sweep_stop")
    if stop is not None:
        stop.set()
    drift_gate = memo.get("drift_gate")
    if drift_gate is not None:
        drift_gate.executor.shutdown(wait=False, cancel_futures=True)
    reconciles = memo.get("reconcile_executor")
    if reconciles is not None:
        reconciles.shutdown(wait=False, cancel_futures=True)
    client = memo.get("client")
    if client is not None:
        client.close()
