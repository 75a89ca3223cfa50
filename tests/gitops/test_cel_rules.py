"""Every `x-kubernetes-validations` rule of every CRD, evaluated by validate's CEL both ways (an
object it passes and one it fails), and the real API server agreeing on both."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from oncall_operator.gitops.schema import builtin_schemas, check_object
from tests.crds.test_crds_on_apiserver import (  # noqa: F401  (fixtures used by name)
    causes,
    create,
    installed_crds,
    namespace,
    objects,
)
from tests.gitops.manifests import API

EMAIL = {"email": "a@example.com"}
LAYER = {"name": "p", "participants": {"emails": ["a@example.com"]}, "shiftLength": "1w", "handoff": "2026-01-05T09:00"}  # fmt: skip
ROTATION = {"timeZone": "UTC", "layers": [LAYER]}


def rotation_layer(**changes: Any) -> dict[str, Any]:
    return {**ROTATION, "layers": [{**LAYER, **changes}]}


def rules(kind: str, schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    # A second rule on the same field is told apart as path#1, path#2, ...
    for index, rule in enumerate(schema.get("x-kubernetes-validations", [])):
        yield kind, f"{path}#{index}" if index else path, rule["rule"]
    for name, sub in schema.get("properties", {}).items():
        yield from rules(kind, sub, f"{path}.{name}" if path else name)
    if "items" in schema:
        yield from rules(kind, schema["items"], f"{path}[]")


def every_rule() -> list[tuple[str, str, str]]:
    return [
        found
        for key, schema in builtin_schemas().items()
        for found in rules(key.split()[1], schema, "")
    ]


# (kind, schema path) -> (spec the rule passes, spec it fails, field path the failure names)
CASES: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any], str]] = {
    ("OnCallTeam", "spec.members"): (
        {"members": [EMAIL, {"email": "b@example.com"}]},
        {"members": [EMAIL, {"email": "A@Example.COM"}]},
        "spec.members",
    ),
    ("OnCallTeam", "spec.members[]"): (
        {"members": [{**EMAIL, "since": "2026-09-01", "until": "2026-09-01"}]},
        {"members": [{**EMAIL, "since": "2026-09-02", "until": "2026-09-01"}]},
        "spec.members[0]",
    ),
    ("OnCallTeam", "spec.members[].away[]"): (
        {"members": [{**EMAIL, "away": [{"from": "2027-01-04", "until": "2027-01-04"}]}]},
        {"members": [{**EMAIL, "away": [{"from": "2027-01-05", "until": "2027-01-04"}]}]},
        "spec.members[0].away[0]",
    ),
    ("OnCallTeam", "spec.policy.businessHours.days"): (
        {"policy": {"businessHours": {"days": ["Mon", "Tue"]}}},
        {"policy": {"businessHours": {"days": ["Mon", "Tue", "Mon"]}}},
        "spec.policy.businessHours.days",
    ),
    ("Rotation", "spec"): (
        {**rotation_layer(participants={"fromTeam": {}}), "teamRef": {"name": "t"}},
        rotation_layer(participants={"fromTeam": {}}),
        "spec",
    ),
    ("Rotation", "spec.businessHours.days"): (
        {**ROTATION, "businessHours": {"days": ["Sat", "Sun"]}},
        {**ROTATION, "businessHours": {"days": ["Sun", "Sun"]}},
        "spec.businessHours.days",
    ),
    ("Rotation", "spec.layers"): (
        {**ROTATION, "layers": [LAYER, {**LAYER, "name": "q"}]},
        {**ROTATION, "layers": [LAYER, LAYER]},
        "spec.layers",
    ),
    ("Rotation", "spec.layers[]"): (
        rotation_layer(coverage="Custom", windows=[{"days": ["Sat"], "start": "22:00", "end": "06:00"}]),
        rotation_layer(coverage="OutOfHours", windows=[{"days": ["Sat"], "start": "22:00", "end": "06:00"}]),
        "spec.layers[0]",
    ),
    ("Rotation", "spec.layers[].handoff"): (
        rotation_layer(handoff="2028-02-29T23:59"),
        rotation_layer(handoff="2027-02-29T23:59"),
        "spec.layers[0].handoff",
    ),
    ("Rotation", "spec.layers[].participants"): (
        rotation_layer(participants={"emails": ["a@example.com"]}),
        rotation_layer(participants={}),
        "spec.layers[0].participants",
    ),
    ("Rotation", "spec.layers[].shiftLength"): (
        rotation_layer(shiftLength="30m30m"),
        rotation_layer(shiftLength="59m"),
        "spec.layers[0].shiftLength",
    ),
    ("Rotation", "spec.layers[].windows[].days"): (
        rotation_layer(coverage="Custom", windows=[{"days": ["Sat", "Sun"], "start": "00:00", "end": "24:00"}]),
        rotation_layer(coverage="Custom", windows=[{"days": ["Sat", "Sun", "Sat"], "start": "00:00", "end": "24:00"}]),
        "spec.layers[0].windows[0].days",
    ),
    ("OnCallTeam", "spec.policy.timeZone"): (
        {"policy": {"timeZone": "Europe/Dublin"}},
        {"policy": {"timeZone": "Local"}},
        "spec.policy.timeZone",
    ),
    ("OnCallTeam", "spec.policy.timeZone#1"): (
        {"policy": {"timeZone": "America/Argentina/Buenos_Aires"}},
        {"policy": {"timeZone": "Mars/Olympus"}},
        "spec.policy.timeZone",
    ),
    ("Rotation", "spec.timeZone"): (
        {**ROTATION, "timeZone": "Etc/GMT+5"},
        {**ROTATION, "timeZone": "Local"},
        "spec.timeZone",
    ),
    ("Rotation", "spec.timeZone#1"): (
        {**ROTATION, "timeZone": "Pacific/Chatham"},
        {**ROTATION, "timeZone": "Europe/Atlantis"},
        "spec.timeZone",
    ),
    ("Rotation", "spec#1"): (
        {**rotation_layer(coverage="OutOfHours"), "businessHours": {"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "start": "08:00", "end": "20:00"}},
        {**rotation_layer(coverage="OutOfHours"), "businessHours": {"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "start": "00:00", "end": "24:00"}},
        "spec",
    ),
    ("Rotation", "spec.layers[].participants.fromTeam.roles"): (
        {**rotation_layer(participants={"fromTeam": {"roles": ["manager", "responder"]}}), "teamRef": {"name": "t"}},
        {**rotation_layer(participants={"fromTeam": {"roles": ["manager", "manager"]}}), "teamRef": {"name": "t"}},
        "spec.layers[0].participants.fromTeam.roles",
    ),
    ("EscalationPolicy", "spec.rules[].targets"): (
        {"rules": [{"escalateAfterMinutes": 5, "targets": [{"user": EMAIL}, {"rotationRef": {"name": "r"}}]}]},
        {"rules": [{"escalateAfterMinutes": 5, "targets": [{"user": EMAIL}, {"user": {"email": "A@example.com"}}]}]},
        "spec.rules[0].targets",
    ),
    ("EscalationPolicy", "spec.rules[].targets[]"): (
        {"rules": [{"escalateAfterMinutes": 5, "targets": [{"user": EMAIL}]}]},
        {"rules": [{"escalateAfterMinutes": 5, "targets": [{"user": EMAIL, "rotationRef": {"name": "r"}}]}]},
        "spec.rules[0].targets[0]",
    ),
}  # fmt: skip


def rule_cases() -> list[tuple[str, str, str]]:
    return every_rule()


def message_of(kind: str, path: str, rule: str) -> str:
    node: Mapping[str, Any] = builtin_schemas()[f"{API} {kind}"]
    for part in path.split("#", maxsplit=1)[0].replace("[]", ".[]").split("."):
        node = node["items"] if part == "[]" else node["properties"][part]
    return next(r["message"] for r in node["x-kubernetes-validations"] if r["rule"] == rule)


def problems(kind: str, spec: dict[str, Any]) -> list[tuple[str, str]]:
    body = {"apiVersion": API, "kind": kind, "metadata": {"name": "subject"}, "spec": spec}
    return [(p.path, p.message) for p in check_object(body, builtin_schemas()[f"{API} {kind}"])]


def test_every_rule_of_every_crd_has_a_case() -> None:
    found = {(kind, path) for kind, path, _ in every_rule()}

    assert len(every_rule()) >= 12
    assert found == set(CASES), "add a passing and a failing spec for each new rule to CASES"


@pytest.mark.parametrize(
    ("kind", "path", "rule"), rule_cases(), ids=[f"{k}:{p}" for k, p, _ in rule_cases()]
)
def test_validate_evaluates_the_rule_both_ways(kind: str, path: str, rule: str) -> None:
    passing, failing, field = CASES[(kind, path)]
    message = message_of(kind, path, rule).rstrip(".") + "."

    assert problems(kind, passing) == []
    assert (field, message) in problems(kind, failing)


@pytest.mark.controlplane
@pytest.mark.parametrize(
    ("kind", "path", "rule"), rule_cases(), ids=[f"{k}:{p}" for k, p, _ in rule_cases()]
)
def test_the_api_server_agrees_both_ways(
    objects: client.CustomObjectsApi,  # noqa: F811
    namespace: str,  # noqa: F811
    kind: str,
    path: str,
    rule: str,
) -> None:
    passing, failing, field = CASES[(kind, path)]
    message = message_of(kind, path, rule)

    create(objects, namespace, kind, passing)
    with pytest.raises(ApiException) as refused:
        create(objects, namespace, kind, failing)

    assert refused.value.status == 422
    assert any(f == field and message in m for f, m in causes(refused.value)), causes(refused.value)
