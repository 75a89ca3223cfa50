"""Small valid manifests of the three kinds for the gitops tests to break one field at a time."""

from __future__ import annotations

import copy
from typing import Any

import yaml

API = "oncall.dev/v1alpha1"
NS = "team-a"


def obj(kind: str, name: str, spec: dict[str, Any], namespace: str = NS) -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}  # fmt: skip


def team(name: str = "t", **spec: Any) -> dict[str, Any]:
    base = {"members": [{"email": "ana@example.com"}, {"email": "bo@example.com"}]}
    return obj("OnCallTeam", name, {**base, **spec})


LAYER: dict[str, Any] = {
    "name": "primary",
    "participants": {"fromTeam": {}},
    "shiftLength": "1w",
    "handoff": "2026-01-05T09:00",
}


def rotation(name: str = "r", layer: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    base = {
        "teamRef": {"name": "t"},
        "timeZone": "Europe/Dublin",
        "layers": [layer or copy.deepcopy(LAYER)],
    }
    return obj("Rotation", name, {**base, **spec})


def layer(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(LAYER), **changes}


def policy(
    name: str = "p", targets: list[dict[str, Any]] | None = None, **spec: Any
) -> dict[str, Any]:
    rules = [{"escalateAfterMinutes": 10, "targets": targets or [{"rotationRef": {"name": "r"}}]}]
    return obj("EscalationPolicy", name, {"teamRef": {"name": "t"}, "rules": rules, **spec})


def clean_set() -> list[dict[str, Any]]:
    """A team, its always-covered rotation and a policy paging it: no findings."""
    return [team(), rotation(), policy()]


def dump(*documents: dict[str, Any]) -> str:
    return yaml.safe_dump_all(list(documents), sort_keys=False)
