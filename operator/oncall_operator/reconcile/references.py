"""Which teams and rotations an object refers to, read from its raw spec for the handlers' wake-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def references_of(kind: str, spec: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(team names, rotation names) the object waits on; tolerant of invalid specs."""
    teams: set[str] = set()
    rotations: set[str] = set()
    if kind in ("Rotation", "EscalationPolicy"):
        teams.update(_ref_name(spec.get("teamRef")))
    if kind == "EscalationPolicy":
        for rule in _dicts(spec.get("rules")):
            for target in _dicts(rule.get("targets")):
                rotations.update(_ref_name(target.get("rotationRef")))
    return teams, rotations


def _ref_name(ref: Any) -> set[str]:
    if isinstance(ref, Mapping) and isinstance(ref.get("name"), str) and ref["name"]:
        return {ref["name"]}
    return set()


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
