"""The emulator's independent renderer as a witness of the schedule documents: who it puts on
call at hand-picked instants. People worked out by hand: turn k of a weekly layer anchored
Monday 2026-01-05 09:00 Dublin is users[k % n]; Monday 2026-11-23 starts turn 46."""

import datetime as dt
from typing import Any

import pytest

from oncall_operator.api import RotationSpec
from oncall_operator.translate.identity import ObjectIdentity
from oncall_operator.translate.rotation import schedule_doc
from oncall_testbed.emulator import rendering

IDENTITY = ObjectIdentity(namespace="oncall", kind="Rotation", name="ooh")
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # Wednesday of turn 46


def _spec(
    changes: str = "NextHandoff", time_zone: str = "Europe/Dublin", **layer: Any
) -> RotationSpec:
    return RotationSpec.model_validate(
        {
            "timeZone": time_zone,
            "layers": [
                {
                    "name": "primary",
                    "participants": {"emails": ["a@example.com"]},
                    "shiftLength": "1w",
                    "handoff": "2026-01-05T09:00",
                    "coverage": "OutOfHours",
                    "changesTakeEffect": changes,
                    **layer,
                }
            ],
        }
    )


def _stored(doc: dict[str, Any]) -> dict[str, Any]:
    layers = [
        {**layer, "id": layer.get("id") or f"PL{i}"}
        for i, layer in enumerate(doc["schedule_layers"])
    ]
    return {**doc, "id": "PS", "schedule_layers": layers}


def on_call(doc: dict[str, Any], time_zone: str, at: str) -> str | None:
    layers = [rendering.layer_from_json(layer) for layer in doc["schedule_layers"]]
    instant = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
    return rendering.user_on_call_at(layers, time_zone, instant)


CREATED = _stored(schedule_doc(IDENTITY, _spec(), {"primary": ["PANA", "PBO"]}, None, NOW, None))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-11-25T11:59", None),  # business hours: nobody on an out-of-hours layer
        ("2026-11-25T17:00", "PANA"),
        ("2026-11-28T12:00", "PANA"),  # Saturday
        ("2026-11-30T08:59", "PANA"),
        ("2026-11-30T09:00", None),  # Monday business hours
        ("2026-11-30T17:00", "PBO"),  # turn 47
    ],
)
def test_created_out_of_hours_layer(at: str, expected: str | None) -> None:
    assert on_call(CREATED, "Europe/Dublin", at) == expected


NEW_USERS = {"primary": ["PDI", "PCY"]}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-11-25T20:00", "PANA"),  # the person on call now stays on call
        ("2026-11-28T12:00", "PANA"),
        ("2026-11-30T08:30", "PANA"),
        ("2026-11-30T17:00", "PCY"),  # turn 47 of the new layer: users[1]
        ("2026-12-07T17:00", "PDI"),
    ],
)
def test_next_handoff_edit_keeps_whoever_is_on_call(at: str, expected: str) -> None:
    doc = schedule_doc(IDENTITY, _spec(), NEW_USERS, CREATED, NOW, None)
    assert on_call(doc, "Europe/Dublin", at) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [("2026-11-25T20:00", "PDI"), ("2026-11-30T17:00", "PCY")],
)
def test_immediately_edit_applies_now(at: str, expected: str) -> None:
    doc = schedule_doc(IDENTITY, _spec("Immediately"), NEW_USERS, CREATED, NOW, None)
    assert on_call(doc, "Europe/Dublin", at) == expected


def test_removed_layer_puts_nobody_on_call_after_now() -> None:
    two = _spec().model_copy(
        update={
            "layers": [
                *_spec().layers,
                _spec(handoff="2026-01-05T09:00").layers[0].model_copy(update={"name": "backup"}),
            ]
        }
    )
    both = _stored(
        schedule_doc(IDENTITY, two, {"primary": ["PANA"], "backup": ["PBO"]}, None, NOW, None)
    )
    assert on_call(both, "Europe/Dublin", "2026-11-25T20:00") == "PBO"  # the later layer wins
    later = NOW + dt.timedelta(hours=1)
    doc = schedule_doc(IDENTITY, _spec(), {"primary": ["PANA"]}, both, later, None)
    assert on_call(doc, "Europe/Dublin", "2026-11-25T20:00") == "PANA"


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-03-09T12:30", "PANA"),  # 08:30 EDT Monday: before the 09:00 local handoff
        ("2026-03-09T13:00", "PBO"),  # 09:00 EDT
        ("2026-11-02T13:59", "PANA"),  # 08:59 EST, still turn 34
        ("2026-11-02T14:00", "PBO"),  # 09:00 EST, turn 35
    ],
)
def test_weekly_handoff_stays_nine_local_across_dst(at: str, expected: str) -> None:
    spec = _spec(time_zone="America/New_York", handoff="2026-03-02T09:00", coverage="Always")
    doc = schedule_doc(
        IDENTITY, spec, {"primary": ["PANA", "PBO"]}, None, NOW - dt.timedelta(days=300), None
    )
    assert on_call(doc, "America/New_York", at) == expected
