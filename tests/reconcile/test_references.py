"""references_of: the names an object waits on, read from the raw spec (even an invalid one)."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_operator.reconcile.references import references_of

POLICY = {
    "teamRef": {"name": "out-of-hours"},
    "rules": [
        {"escalateAfterMinutes": 15, "targets": [{"rotationRef": {"name": "payments"}}]},
        {
            "escalateAfterMinutes": 30,
            "targets": [
                {"rotationRef": {"name": "managers"}},
                {"user": {"email": "cto@example.com"}},
                {"rotationRef": {"name": "payments"}},
            ],
        },
    ],
}


@pytest.mark.parametrize(
    ("kind", "spec", "teams", "rotations"),
    [
        ("OnCallTeam", {"members": [{"email": "ana@example.com"}]}, set(), set()),
        ("Rotation", {"teamRef": {"name": "ooh"}, "layers": []}, {"ooh"}, set()),
        ("Rotation", {"layers": []}, set(), set()),
        ("EscalationPolicy", POLICY, {"out-of-hours"}, {"payments", "managers"}),
        ("EscalationPolicy", {"rules": "not a list", "teamRef": "nope"}, set(), set()),
        ("EscalationPolicy", {"rules": [{"targets": [None, {"rotationRef": {}}]}]}, set(), set()),
    ],
)
def test_references_of(
    kind: str, spec: dict[str, Any], teams: set[str], rotations: set[str]
) -> None:
    assert references_of(kind, spec) == (teams, rotations)
