"""The monitoring kit's metrics: objects by kind/namespace/Ready reason, reconcile durations,
build_info and policy breaches, read from the statuses the handlers observe."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from oncall_operator import __version__
from oncall_operator.metrics import OperatorMetrics


def status(ready: str, reason: str, sustainable: tuple[str, str] | None = None) -> dict[str, Any]:
    conditions = [{"type": "Ready", "status": ready, "reason": reason}]
    if sustainable:
        conditions.append(
            {"type": "Sustainable", "status": sustainable[0], "reason": sustainable[1]}
        )
    return {"conditions": conditions}


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_objects_are_counted_by_kind_namespace_and_ready_reason() -> None:
    registry = CollectorRegistry()
    metrics = OperatorMetrics(registry)
    metrics.observe_status("Rotation", "a", "one", status("True", "Synced"))
    metrics.observe_status("Rotation", "a", "two", status("True", "Synced"))
    metrics.observe_status("Rotation", "a", "three", status("False", "Unauthorized"))
    metrics.observe_status("Rotation", "b", "one", status("False", "Unauthorized"))
    ready = {"kind": "Rotation", "ready": "True", "reason": "Synced"}
    unauthorized = {"kind": "Rotation", "ready": "False", "reason": "Unauthorized"}
    assert value(registry, "oncall_objects", namespace="a", **ready) == 2
    assert value(registry, "oncall_objects", namespace="a", **unauthorized) == 1
    assert value(registry, "oncall_objects", namespace="b", **unauthorized) == 1

    metrics.observe_status("Rotation", "a", "three", status("True", "Synced"))  # recovered
    assert value(registry, "oncall_objects", namespace="a", **ready) == 3
    assert value(registry, "oncall_objects", namespace="a", **unauthorized) is None  # series gone

    metrics.forget("Rotation", "a", "one")
    metrics.forget("Rotation", "a", "never-seen")
    assert value(registry, "oncall_objects", namespace="a", **ready) == 2


def test_a_breach_is_counted_once_when_it_starts() -> None:
    registry = CollectorRegistry()
    metrics = OperatorMetrics(registry)
    breached = status("True", "Synced", ("False", "PolicyBreached"))
    for _ in range(3):  # the same breach seen by three reconciles
        metrics.observe_status("OnCallTeam", "a", "t", breached)
    labels = {"kind": "OnCallTeam", "namespace": "a", "reason": "PolicyBreached"}
    assert value(registry, "oncall_policy_breaches_total", **labels) == 1
    metrics.observe_status("OnCallTeam", "a", "t", status("True", "Synced", ("True", "OK")))
    metrics.observe_status("OnCallTeam", "a", "t", breached)
    assert value(registry, "oncall_policy_breaches_total", **labels) == 2
    metrics.observe_status("OnCallTeam", "a", "t", status("True", "Synced", ("False", "NoCover")))
    assert value(registry, "oncall_policy_breaches_total", **{**labels, "reason": "NoCover"}) == 1


def test_build_info_and_reconcile_durations() -> None:
    registry = CollectorRegistry()
    metrics = OperatorMetrics(registry)
    samples = {
        sample.labels["version"]: sample.value
        for family in registry.collect()
        if family.name == "oncall_build_info"
        for sample in family.samples
    }
    assert samples == {__version__: 1.0}
    metrics.reconciled("Rotation", 0.3)
    metrics.reconciled("Rotation", 7.0)
    assert value(registry, "oncall_reconcile_duration_seconds_count", kind="Rotation") == 2
    assert (
        value(registry, "oncall_reconcile_duration_seconds_bucket", kind="Rotation", le="0.5") == 1
    )
