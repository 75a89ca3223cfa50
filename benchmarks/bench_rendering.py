"""Print how long the emulator takes to render schedules (a figure to read, not a test).

Run: .venv/bin/python benchmarks/bench_rendering.py
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from oncall_testbed.emulator.rendering import layer_from_json, render_final, render_layer

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=90)
REPEATS = 20


def hourly_layer(restrictions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "start": "2025-12-01T00:00:00Z",
        "rotation_virtual_start": "2025-12-01T09:00:00Z",
        "rotation_turn_length_seconds": 3600,
        "users": [{"user": {"id": f"PUSER{n}", "type": "user_reference"}} for n in range(5)],
        "restrictions": restrictions,
    }


SEVEN_WEEKLY = [
    {
        "type": "weekly_restriction",
        "start_day_of_week": day,
        "start_time_of_day": "08:30:00",
        "duration_seconds": 9 * 3600,
    }
    for day in range(1, 8)
]


def best_of(label: str, render: Any) -> None:
    timings = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        count = len(render())
        timings.append(time.perf_counter() - began)
    print(f"{label:<62} {min(timings) * 1000:8.2f} ms  ({count} entries)")


def main() -> None:
    restricted = layer_from_json(hourly_layer(SEVEN_WEEKLY))
    unrestricted = layer_from_json(hourly_layer([]))
    print(f"90 days, best of {REPEATS}")
    for zone in ("UTC", "Europe/Dublin", "America/New_York"):
        best_of(
            f"render_layer 1 h turns, 7 weekly restrictions, {zone}",
            lambda zone=zone: render_layer(restricted, zone, SINCE, UNTIL),
        )
    best_of(
        "render_layer 1 h turns, no restrictions, Europe/Dublin",
        lambda: render_layer(unrestricted, "Europe/Dublin", SINCE, UNTIL),
    )
    best_of(
        "render_final of both layers, Europe/Dublin",
        lambda: render_final([unrestricted, restricted], "Europe/Dublin", SINCE, UNTIL),
    )


if __name__ == "__main__":
    main()
