"""The window onCall and load are read over moves only at handoffs (no churn between them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncall_operator.api import RotationSpec
from oncall_operator.reconcile.rotation import load_window_start, next_handoff


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def layer(name: str, shift: str, handoff: str) -> dict[str, Any]:
    return {
        "name": name,
        "participants": {"emails": ["ana@example.com"]},
        "shiftLength": shift,
        "handoff": handoff,
    }


WEEKLY = [layer("primary", "1w", "2026-11-30T09:00:00")]


@pytest.mark.parametrize(
    ("layers", "now", "start", "handoff"),
    [
        (WEEKLY, "2026-12-02T10:00", "2026-11-30T09:00", "2026-12-07T09:00"),
        (WEEKLY, "2026-12-07T08:59", "2026-11-30T09:00", "2026-12-07T09:00"),
        (WEEKLY, "2026-12-07T09:00", "2026-12-07T09:00", "2026-12-14T09:00"),
        # before the anchor, turns run backwards from it
        (WEEKLY, "2026-11-25T12:00", "2026-11-23T09:00", "2026-11-30T09:00"),
        # Dublin summer time: 09:00 local is 08:00 UTC
        (WEEKLY, "2027-06-02T10:00", "2027-05-31T08:00", "2027-06-07T08:00"),
        # the latest handoff of any layer; the earliest next one
        (
            [*WEEKLY, layer("daily", "1d", "2026-11-30T18:00:00")],
            "2026-12-02T19:00",
            "2026-12-02T18:00",
            "2026-12-03T18:00",
        ),
        # shifts longer than the 28-day window: moved on by whole windows
        (
            [layer("long", "8w", "2026-10-05T09:00:00")],
            "2026-11-20T12:00",
            "2026-11-02T08:00",  # 28 days on from 09:00 summer time (08:00 UTC)
            "2026-11-30T09:00",
        ),
    ],
)
def test_window_start_and_next_handoff(
    layers: list[dict[str, Any]], now: str, start: str, handoff: str
) -> None:
    spec = RotationSpec.model_validate({"timeZone": "Europe/Dublin", "layers": layers})
    assert load_window_start(spec, utc(now)) == utc(start)
    assert next_handoff(spec, utc(now)) == utc(handoff)
