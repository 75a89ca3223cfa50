"""Small readers shared by the reconcile tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from oncall_operator.reconcile.model import ObjectMeta, Outcome
from oncall_testbed.emulator import EmulatorServer

NAMESPACE = "oncall"
# A Wednesday morning in December (Europe/Dublin is on UTC then).
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def meta(
    kind: str, name: str, generation: int = 1, annotations: Mapping[str, str] | None = None
) -> ObjectMeta:
    return ObjectMeta(
        namespace=NAMESPACE,
        name=name,
        kind=kind,
        generation=generation,
        annotations=dict(annotations or {}),
    )


def writes(emulator: EmulatorServer) -> list[str]:
    """'METHOD path' of every write request the emulator saw."""
    return [
        f"{r['method']} {r['path']}" for r in emulator.requests() if r["method"] in WRITE_METHODS
    ]


def condition(outcome: Outcome | Mapping[str, Any], condition_type: str) -> dict[str, Any]:
    status = outcome.status if isinstance(outcome, Outcome) else outcome
    found = [c for c in status.get("conditions", []) if c["type"] == condition_type]
    assert found, f"no {condition_type} condition in {status.get('conditions')}"
    return dict(found[0])


def reasons(outcome: Outcome) -> dict[str, tuple[str, str]]:
    """type -> (status, reason) of every condition but kstatus' Reconciling and Stalled, which
    follow Ready in one place (conditions.kstatus_conditions; tests/ship/test_kstatus_*)."""
    return {
        c["type"]: (c["status"], c["reason"])
        for c in outcome.status["conditions"]
        if c["type"] not in ("Reconciling", "Stalled")
    }


def event_reasons(outcome: Outcome) -> list[str]:
    return [e.reason for e in outcome.events]


def assert_fits_the_crd(outcome: Outcome, model: type[BaseModel]) -> None:
    """The status uses only fields the API declares (the API server would prune the rest)."""
    model.model_validate(outcome.status)
