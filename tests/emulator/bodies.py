"""Request bodies as a PagerDuty client sends them, for the emulator tests."""

from __future__ import annotations

from typing import Any


def layer(*user_ids: str, **fields: Any) -> dict[str, Any]:
    """A daily rotation layer anchored at 2026-01-05 09:00 UTC (a Monday)."""
    return {
        "start": "2026-01-05T09:00:00Z",
        "rotation_virtual_start": "2026-01-05T09:00:00Z",
        "rotation_turn_length_seconds": 86400,
        "users": [{"user": {"id": user_id, "type": "user_reference"}} for user_id in user_ids],
        **fields,
    }


def schedule(
    *layers: dict[str, Any], name: str = "Payments primary", **fields: Any
) -> dict[str, Any]:
    return {
        "schedule": {
            "type": "schedule",
            "name": name,
            "time_zone": "Europe/Dublin",
            "schedule_layers": list(layers),
            **fields,
        }
    }


def policy(*targets: tuple[str, str], name: str = "Payments", **fields: Any) -> dict[str, Any]:
    """A one-rule policy; targets are (type, id) pairs."""
    return {
        "escalation_policy": {
            "type": "escalation_policy",
            "name": name,
            "escalation_rules": [
                {
                    "escalation_delay_in_minutes": 10,
                    "targets": [{"type": kind, "id": target_id} for kind, target_id in targets],
                }
            ],
            **fields,
        }
    }


def team(name: str = "Payments", **fields: Any) -> dict[str, Any]:
    return {"team": {"type": "team", "name": name, **fields}}
