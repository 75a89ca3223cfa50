"""Prometheus metrics of the operator: reconciles, PagerDuty requests, rate-limit waits, drift."""

from __future__ import annotations

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)


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

        self.drift_sweep_period = Gauge(
            "oncall_drift_sweep_period_seconds",
            "Seconds one drift sweep takes: the drift interval, or longer when the objects need "
            "more PagerDuty reads than ONCALL_READ_BUDGET_PER_MINUTE allows in it.",
            registry=registry,
        )

    def sweep_period_changed(self, seconds: float) -> None:
        self.drift_sweep_period.set(seconds)

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
