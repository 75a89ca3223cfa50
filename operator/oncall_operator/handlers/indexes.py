"""In-memory indexes of teams and rotations by namespace, so referrers resolve names without API calls."""

from __future__ import annotations

from typing import Any

import kopf

from oncall_operator.api import GROUP, VERSION
from oncall_operator.handlers.glue import is_ready
from oncall_operator.reconcile.model import RotationInfo, TeamInfo


def _pagerduty_id(body: kopf.Body) -> str | None:
    pagerduty = (body.get("status") or {}).get("pagerduty") or {}
    found = pagerduty.get("id")
    return str(found) if found else None


@kopf.index(GROUP, VERSION, "oncallteams")
def team_index(
    *, body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[str, TeamInfo]:
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
    return {
        namespace or "": RotationInfo(
            name=name, pagerduty_id=_pagerduty_id(body), ready=is_ready(body)
        )
    }
