"""Layer history on update (pure): what PagerDuty keeps when a schedule's layers are PUT."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from oncall_testbed.emulator.layers import merge_update, versions

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
NOW_TEXT = "2026-06-01T12:00:00+00:00"


def _layer(layer_id: str, *users: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": layer_id,
        "name": "Layer",
        "start": "2026-01-05T09:00:00Z",
        "end": None,
        "rotation_virtual_start": "2026-01-05T09:00:00Z",
        "rotation_turn_length_seconds": 86400,
        "users": [{"user": {"id": u, "type": "user_reference"}} for u in users],
        "restrictions": [],
        "history": [],
        **fields,
    }


def test_unchanged_layer_is_kept_as_it_was() -> None:
    current = [_layer("PL1", "PA")]
    sent = [_layer("PL1", "PA", start="2026-05-31T00:00:00Z")]  # only the start differs
    assert merge_update(current, sent, NOW, "UTC") == current


def test_changed_layer_starts_now_and_keeps_its_old_version() -> None:
    (changed,) = merge_update([_layer("PL1", "PA")], [_layer("PL1", "PB")], NOW, "UTC")
    assert (changed["id"], changed["start"]) == ("PL1", NOW_TEXT)
    (old,) = changed["history"]
    assert (old["users"][0]["user"]["id"], old["end"]) == ("PA", NOW_TEXT)
    assert [v["users"][0]["user"]["id"] for v in versions([changed])] == ["PA", "PB"]


def test_changed_layer_starting_later_keeps_its_start() -> None:
    future = "2026-07-01T00:00:00Z"
    (changed,) = merge_update(
        [_layer("PL1", "PA")], [_layer("PL1", "PB", start=future)], NOW, "UTC"
    )
    assert changed["start"] == future


def test_missing_layers_end_now_unless_already_ended() -> None:
    ended_before = "2026-03-01T00:00:00Z"
    current = [_layer("PL1", "PA"), _layer("PL2", "PB"), _layer("PL3", "PC", end=ended_before)]
    result = merge_update(current, [_layer("PL9", "PD")], NOW, "UTC")
    assert [(layer["id"], layer["end"]) for layer in result] == [
        ("PL9", None),
        ("PL1", NOW_TEXT),
        ("PL2", NOW_TEXT),
        ("PL3", ended_before),
    ]


def test_times_are_written_in_the_schedule_time_zone() -> None:
    (changed,) = merge_update([_layer("PL1", "PA")], [_layer("PL1", "PB")], NOW, "Europe/Dublin")
    assert changed["start"] == "2026-06-01T13:00:00+01:00"
