"""Property-based (hypothesis): a Rotation spec translated, written to PagerDuty (the emulator),
read back and translated again plans no change — no write, the same status."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.reconcile.model import References
from oncall_operator.reconcile.rotation import reconcile_rotation
from oncall_testbed.emulator import EmulatorServer
from tests.reconcile.helpers import NOW, meta, writes

EMAILS = ["ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
ZONES = ["Europe/Dublin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]


@st.composite
def hhmm(draw: st.DrawFn) -> str:
    return f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 30])):02d}"


@st.composite
def layers(draw: st.DrawFn, name: str) -> dict[str, Any]:
    coverage = draw(st.sampled_from(["Always", "BusinessHours", "OutOfHours", "Custom"]))
    layer: dict[str, Any] = {
        "name": name,
        "participants": {
            "emails": draw(st.lists(st.sampled_from(EMAILS), min_size=1, max_size=4, unique=True))
        },
        "shiftLength": draw(st.sampled_from(["1h", "12h", "1d", "1d12h", "1w", "2w"])),
        "handoff": f"{draw(st.sampled_from(['2025-03-30', '2026-10-25', '2026-11-30', '2027-01-04']))}T{draw(hhmm())}",
        "coverage": coverage,
        "changesTakeEffect": draw(st.sampled_from(["NextHandoff", "Immediately"])),
    }
    if coverage == "Custom":
        layer["windows"] = [
            {
                "days": draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True)),
                "start": draw(hhmm()),
                "end": draw(hhmm()),
            }
        ]
    return layer


@st.composite
def rotations(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 3))
    return {
        "timeZone": draw(st.sampled_from(ZONES)),
        "businessHours": {
            "days": draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=6, unique=True)),
            "start": draw(hhmm()),
            "end": draw(hhmm()),
        },
        "layers": [draw(layers(f"layer-{i}")) for i in range(count)],
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=rotations())
def test_translated_read_back_and_translated_again_plans_no_change(
    client: PagerDutyClient, emulator: EmulatorServer, spec: dict[str, Any]
) -> None:
    rotation = meta("Rotation", "property")
    made = reconcile_rotation(client, rotation, spec, {}, References(), NOW)
    assert made.ready, made.status
    emulator.clear_requests()
    again = reconcile_rotation(client, rotation, spec, made.status, References(), NOW)
    assert writes(emulator) == []
    assert again.status == made.status
    assert again.events == []
    client.delete_schedule(made.status["pagerduty"]["id"])
