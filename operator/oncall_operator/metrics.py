"""Prometheus metrics of the operator: reconciles, PagerDuty requests, rate-limit waits, drift."""

from __future__ import annotations

import contextlib
import platform
import threading
from collections import Counter as Tally
from collections.abc import Mapping
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)

from oncall_operator import __version__

# Reasons of Sustainable=False that count as a policy breach (oncall_policy_breaches_total).
BREACH_REASONS = ("PolicyBreached", "PageBudgetExceeded", "NoCover")


class OperatorMetrics:
    """The operator's metrics; also the PagerDuty client's hooks (request_done, rate_limit_waited)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.reconciles = Counter(
            "oncall_reconciles_total",
            "Reconciles by kind and result (ready, waiting, error, paused, invalid).",
            ["kind", "result"],
            registry=registry,
        )
        self.pagerduty_requests = Counter(
            "oncall_pagerduty_requests_total",
            "PagerDuty API requests by method and HTTP status ('error' when no response).",
            ["method", "status"],
            registry=registry,
        )
        self.pagerduty_request_seconds = Histogram(
            "oncall_pagerduty_request_seconds",
            "PagerDuty API request latency by method.",
            ["method"],
            registry=registry,
        )
        self.rate_limit_waits = Counter(
            "oncall_pagerduty_rate_limit_waits_total",
            "Times a PagerDuty call waited because of the rate limit.",
            registry=registry,
        )
        self.rate_limit_wait_seconds = Counter(
            "oncall_pagerduty_rate_limit_wait_seconds_total",
            "Seconds spent waiting for the PagerDuty rate limit.",
            registry=registry,
        )
        self.drift_corrections = Counter(
            "oncall_drift_corrections_total",
            "PagerDuty objects changed outside Git and set back to the spec, by kind.",
            ["kind"],
            registry=registry,
        )
        self.out_of_hours_pages = Gauge(
            "oncall_team_out_of_hours_pages",
            "High-urgency pages to a team's members on call outside business hours, last 30 days.",
            ["namespace", "team"],
            registry=registry,
        )
        self.page_budget_exceeded = Gauge(
            "oncall_team_page_budget_exceeded",
            "1 while a team is over its maxOutOfHoursPagesPerMonth (Sustainable=False "
            "PageBudgetExceeded), else 0.",
            ["namespace", "team"],
            registry=registry,
        )
        self.load_policy_breached = Gauge(
            "oncall_load_policy_breached",
            "1 while someone's on-call load (every 4 weeks of the next 12, across rotations) or "
            "rest breaks the team's policy (Sustainable=False PolicyBreached), else 0.",
            ["kind", "namespace", "name"],
            registry=registry,
        )
        self.drift_sweep_period = Gauge(
            "oncall_drift_sweep_period_seconds",
            "Seconds one drift sweep takes: the drift interval, or longer when the objects need "
            "more PagerDuty reads than ONCALL_READ_BUDGET_PER_MINUTE allows in it.",
            registry=registry,
        )

        self.objects = Gauge(
            "oncall_objects",
            "Objects by kind, namespace and their Ready condition's status and reason, as the "
            "last reconcile of each wrote it.",
            ["kind", "namespace", "ready", "reason"],
            registry=registry,
        )
        self.reconcile_seconds = Histogram(
            "oncall_reconcile_duration_seconds",
            "Time one reconcile took (PagerDuty calls included), by kind.",
            ["kind"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=registry,
        )
        self.build_info = Gauge(
            "oncall_build_info",
            "Always 1; the labels say which operator version runs on which Python.",
            ["version", "python"],
            registry=registry,
        )
        self.build_info.labels(version=__version__, python=platform.python_version()).set(1)
        self.policy_breaches = Counter(
            "oncall_policy_breaches_total",
            "Times an object went Sustainable=False for a policy breach (PolicyBreached, "
            "PageBudgetExceeded, NoCover), by kind and reason; counted on the change, not per "
            "reconcile.",
            ["kind", "namespace", "reason"],
            registry=registry,
        )
        self.drift_interval = Gauge(
            "oncall_drift_interval_seconds",
            "ONCALL_DRIFT_INTERVAL_SECONDS: how often the drift sweep should go round.",
            registry=registry,
        )
        # (kind, namespace, name) -> (Ready status, Ready reason, Sustainable breach reason)
        self._objects: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        self._objects_lock = threading.Lock()

    def reconciled(self, kind: str, seconds: float) -> None:
        self.reconcile_seconds.labels(kind=kind).observe(seconds)

    def policy_breached(self, kind: str, namespace: str, reason: str) -> None:
        """Count one new breach; observe_status calls it, other code may too."""
        self.policy_breaches.labels(kind=kind, namespace=namespace, reason=reason).inc()

    def _track_object(
        self, kind: str, namespace: str, name: str, status: Mapping[str, Any] | None
    ) -> None:
        """Keep oncall_objects equal to the count of objects per (kind, ns, ready, reason)."""
        key = (kind, namespace, name)
        with self._objects_lock:
            previous = self._objects.pop(key, None)
            if status is not None:
                found = {
                    c.get("type"): c
                    for c in status.get("conditions") or []
                    if isinstance(c, Mapping)
                }
                ready = found.get("Ready") or {}
                sustainable = found.get("Sustainable") or {}
                breach = (
                    str(sustainable.get("reason") or "")
                    if sustainable.get("status") == "False"
                    and sustainable.get("reason") in BREACH_REASONS
                    else ""
                )
                current = (
                    str(ready.get("status") or "Unknown"),
                    str(ready.get("reason") or ""),
                    breach,
                )
                self._objects[key] = current
                if breach and (previous is None or previous[2] != breach):
                    self.policy_breached(kind, namespace, breach)
            counts = Tally(
                (k[0], k[1], v[0], v[1])
                for k, v in self._objects.items()
                if (k[0], k[1]) == (kind, namespace)
            )
            before = (
                {(kind, namespace, previous[0], previous[1])} if previous is not None else set()
            )
            for labels in before | set(counts):
                if labels in counts:
                    self.objects.labels(*labels).set(counts[labels])
                else:
                    with contextlib.suppress(KeyError):
                        self.objects.remove(*labels)

    def sweep_period_changed(self, seconds: float) -> None:
        self.drift_sweep_period.set(seconds)

    def observe_status(
        self, kind: str, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        """Gauges read from a status a reconcile wrote (objects by Ready reason, pages, breaches)."""
        self._track_object(kind, namespace, name, status)
        if kind in ("OnCallTeam", "Rotation"):
            breached = any(
                c.get("type") == "Sustainable" and c.get("reason") == "PolicyBreached"
                for c in status.get("conditions") or []
            )
            self.load_policy_breached.labels(kind=kind, namespace=namespace, name=name).set(
                1 if breached else 0
            )
        pages = status.get("pages")
        if kind != "OnCallTeam" or not isinstance(pages, Mapping):
            return
        labels = {"namespace": namespace, "team": name}
        self.out_of_hours_pages.labels(**labels).set(int(pages.get("outOfHoursLast30Days") or 0))
        exceeded = any(
            c.get("type") == "Sustainable" and c.get("reason") == "PageBudgetExceeded"
            for c in status.get("conditions") or []
        )
        self.page_budget_exceeded.labels(**labels).set(1 if exceeded else 0)

    def forget(self, kind: str, namespace: str, name: str) -> None:
        """Drop the gauges of a deleted object."""
        self._track_object(kind, namespace, name, None)
        with contextlib.suppress(KeyError):  # never observed
            self.load_policy_breached.remove(kind, namespace, name)
        if kind != "OnCallTeam":
            return
        for gauge in (self.out_of_hours_pages, self.page_budget_exceeded):
            with contextlib.suppress(KeyError):  # never observed
                gauge.remove(namespace, name)

    # PagerDuty client hooks
    def request_done(self, method: str, status: int | None, seconds: float) -> None:
        self.pagerduty_requests.labels(method=method, status=str(status or "error")).inc()
        self.pagerduty_request_seconds.labels(method=method).observe(seconds)

    def rate_limit_waited(self, seconds: float) -> None:
        self.rate_limit_waits.inc()
        self.rate_limit_wait_seconds.inc(seconds)

    def serve(self, port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from the pod IP
        """Expose /metrics over HTTP in a background thread."""
        start_http_server(port, addr=addr, registry=self.registry)
