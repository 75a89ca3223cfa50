"""Invalid specs become one message naming each field path; paused objects touch nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncall_operator.api import EscalationPolicySpec, OnCallTeamSpec, RotationSpec
from oncall_operator.reconcile.errors import InvalidSpec, field_path
from oncall_operator.reconcile.status import parse_spec

LAYER = {
    "name": "primary",
    "participants": {"emails": ["ana@example.com"]},
    "shiftLength": "1w",
    "handoff": "2026-01-05T09:00:00",
}


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), "spec"),
        (("layers", 0, "shiftLength"), "spec.layers[0].shiftLength"),
        (("rules", 1, "targets", 0, "user", "email"), "spec.rules[1].targets[0].user.email"),
    ],
)
def test_field_path(loc: tuple[int | str, ...], path: str) -> None:
    assert field_path(loc) == path


@pytest.mark.parametrize(
    ("model", "spec", "expected"),
    [
        (
            RotationSpec,
            {"timeZone": "Europe/Dublin", "layers": [LAYER | {"shiftLength": "30m"}]},
            "spec.layers[0].shiftLength: shiftLength '30m' is shorter than 1h",
        ),
        (
            RotationSpec,
            {"timeZone": "Mars/Olympus", "layers": [LAYER]},
            "spec.timeZone: 'Mars/Olympus' is not an IANA time zone name",
        ),
        (
            RotationSpec,
            {"timeZone": "UTC", "layers": [LAYER, LAYER]},
            "spec: layers[1].name 'primary' is used twice",
        ),
        (
            OnCallTeamSpec,
            {"members": [{"email": "ana@example.com", "role": "boss"}]},
            "spec.members[0].role: Input should be 'responder', 'manager' or 'observer'",
        ),
        (
            EscalationPolicySpec,
            {"rules": [{"escalateAfterMinutes": 0, "targets": [{"user": {"email": "a@b.c"}}]}]},
            "spec.rules[0].escalateAfterMinutes: Input should be greater than or equal to 1",
        ),
        (OnCallTeamSpec, {"colour": "blue"}, "spec.colour: Extra inputs are not permitted"),
    ],
)
def test_invalid_spec_names_the_field(model: Any, spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(model, spec)
    assert expected in str(caught.value)
    assert str(caught.value).startswith("The spec is invalid: ")


def test_many_problems_are_cut_with_a_count() -> None:
    error = InvalidSpec([f"spec.x{i}: bad" for i in range(8)])
    assert str(error) == (
        "The spec is invalid: spec.x0: bad; spec.x1: bad; spec.x2: bad; spec.x3: bad; "
        "spec.x4: bad; and 3 more."
    )


def test_valid_spec_parses() -> None:
    parsed = parse_spec(RotationSpec, {"timeZone": "UTC", "layers": [LAYER]})
    assert parsed.layers[0].shift_seconds == 7 * 86400
    assert dt.timedelta(seconds=parsed.layers[0].shift_seconds) == dt.timedelta(weeks=1)
