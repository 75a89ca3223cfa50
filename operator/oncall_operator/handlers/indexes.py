"""In-memory indexes: teams and rotations by namespace, so referrers resolve names without API
calls, and every resource's claimed PagerDuty id, so no two resources manage one object."""

from __future__ import annotations

from typing import Any

import kopf

from oncall_operator.api import GROUP, VERSION
from oncall_operator.handlers.glue import REFERENCE_CHANGES, is_ready
from oncall_operator.reconcile.model import RotationInfo, TeamInfo


def _pagerduty_id(body: kopf.Body) -> str | None:
    pagerduty = (body.get("status") or {}).get("pagerduty") or {}
    found = pagerduty.get("id")
    return str(found) if found else None


@kopf.index(GROUP, VERSION, "oncallteams")
def team_index(
    *, body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[str, TeamInfo]:
    REFERENCE_CHANGES.changed()
    return {
        namespace or "": TeamInfo(
            name=name,
            spec=dict(body.get("spec") or {}),
            pagerduty_id=_pagerduty_id(body),
            ready=is_ready(body),
        )
    }


@kopf.index(GROUP, VERSION, "rotations")
def rotation_index(
    *, body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[str, RotationInfo]:
    REFERENCE_CHANGES.changed()
    return {
        namespace or "": RotationInfo(
            name=name,
            pagerduty_id=_pagerduty_id(body),
            ready=is_ready(body),
            spec=dict(body.get("spec") or {}),
        )
    }


# PagerDuty id -> the resources (any namespace) whose status claims it: one owner per object.
def _claim(kind: str, body: kopf.Body, namespace: str | None, name: str) -> dict[str, str]:
    REFERENCE_CHANGES.changed()
    found = _pagerduty_id(body)
    return {found: f"{namespace or ''}/{kind}/{name}"} if found else {}


@kopf.index(GROUP, VERSION, "oncallteams", id="team_claims")
def team_claims(*, body: kopf.Body, namespace: str | None, name: str, **_: Any) -> dict[str, str]:
    return _claim("OnCallTeam", body, namespace, name)


@kopf.index(GROUP, VERSION, "rotations", id="rotation_claims")
def rotation_claims(
    *, body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[str, str]:
    return _claim("Rotation", body, namespace, name)


@kopf.index(GROUP, VERSION, "escalationpolicies", id="escalation_policy_claims")
def escalation_policy_claims(
    *, body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[str, str]:
    return _claim("EscalationPolicy", body, namespace, name)


CLAIM_INDEXES = ("team_claims", "rotation_claims", "escalation_policy_claims")
