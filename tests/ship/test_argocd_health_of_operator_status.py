"""The Argo CD health check on the statuses the operator itself writes (reconcile.status), so that
a new reason or a changed condition in the operator cannot silently change what Argo CD shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from oncall_operator import conditions
from oncall_operator.api import PAUSED_ANNOTATION
from oncall_operator.reconcile.errors import Failure, InvalidSpec
from oncall_operator.reconcile.model import ObjectMeta
from oncall_operator.reconcile.status import StatusDraft
from tests.ship.test_argocd_health import HEALTH_LUA, KINDS, run_health_check

NOW = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.UTC)
GENERATION = 4


def ready(draft: StatusDraft) -> None:
    draft.synced("PagerDuty matches the spec.")
    draft.ready("PagerDuty matches the spec.")


def failed(reason: str) -> Callable[[StatusDraft], Any]:
    return lambda draft: draft.failed(Failure(reason, f"{reason} while updating the team.", None))


def waiting(reason: str) -> Callable[[StatusDraft], Any]:
    return lambda draft: draft.nothing_written(reason, f"{reason}: waiting for the team.")


# (what the reconcile ended with, annotations, expected Argo CD health)
CASES: list[tuple[str, Callable[[StatusDraft], Any], dict[str, str], str]] = [
    ("ready", ready, {}, "Healthy"),
    ("paused", StatusDraft.paused, {PAUSED_ANNOTATION: "true"}, "Suspended"),
    ("paused-annotation-removed-not-yet-seen", StatusDraft.paused, {}, "Suspended"),
    (
        "invalid-spec",
        lambda d: d.invalid(InvalidSpec(["spec.members[0].email: bad"])),
        {},
        "Degraded",
    ),
    ("pagerduty-error", failed(conditions.PAGERDUTY_ERROR), {}, "Degraded"),
    ("unauthorized", failed(conditions.UNAUTHORIZED), {}, "Degraded"),
    # transient: the operator retries by itself (issue 11: Progressing, not Degraded)
    ("pagerduty-unavailable", failed(conditions.PAGERDUTY_UNAVAILABLE), {}, "Progressing"),
    ("rate-limited", failed(conditions.RATE_LIMITED), {}, "Progressing"),
    ("waiting-for-references", waiting(conditions.WAITING_FOR_REFERENCES), {}, "Progressing"),
    ("references-unresolved", waiting(conditions.REFERENCES_UNRESOLVED), {}, "Progressing"),
    # nobody to put on call needs a person to act (add members, fix terms): a real error
    ("no-participants", waiting(conditions.NO_PARTICIPANTS), {}, "Degraded"),
    ("no-cover", waiting(conditions.NO_COVER), {}, "Degraded"),
    ("owned-elsewhere", failed(conditions.OWNED_ELSEWHERE), {}, "Degraded"),
]


def status_after(
    end: Callable[[StatusDraft], Any], kind: str, annotations: dict[str, str]
) -> dict[str, Any]:
    meta = ObjectMeta(
        namespace="oncall",
        name="out-of-hours",
        kind=kind,
        generation=GENERATION,
        annotations=annotations,
    )
    draft = StatusDraft(meta, {}, NOW)
    end(draft)
    return draft.outcome().status  # every reconcile ends in outcome(), which adds kstatus' pair


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("end", "annotations", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_health_of_what_the_operator_writes(
    kind: str, end: Callable[[StatusDraft], Any], annotations: dict[str, str], expected: str
) -> None:
    obj = {
        "apiVersion": "oncall.dev/v1alpha1",
        "kind": kind,
        "metadata": {
            "name": "out-of-hours",
            "namespace": "oncall",
            "generation": GENERATION,
            "annotations": annotations,
        },
        "status": status_after(end, kind, annotations),
    }

    health = run_health_check(HEALTH_LUA.read_text(), obj)

    assert health["status"] == expected
    assert health["message"]


def test_an_edit_not_yet_observed_is_progressing_whatever_the_old_status_says() -> None:
    obj = {
        "apiVersion": "oncall.dev/v1alpha1",
        "kind": "Rotation",
        "metadata": {"name": "weekly", "namespace": "oncall", "generation": GENERATION + 1},
        "status": status_after(failed(conditions.PAGERDUTY_ERROR), "Rotation", {}),
    }

    assert run_health_check(HEALTH_LUA.read_text(), obj)["status"] == "Progressing"
