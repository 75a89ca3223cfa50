"""Request-body validation: the spec with the real API's corrections, plus its extra checks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from oncall_testbed.emulator.validation import BodyValidator, load_subset
from tests.emulator import bodies

USER = "PUSER01"


@pytest.fixture(scope="module")
def validator() -> BodyValidator:
    return BodyValidator()


def _schedule(**layer_fields: Any) -> dict[str, Any]:
    return bodies.schedule(bodies.layer(USER, **layer_fields))


ACCEPTED = [
    ("the spec's own example", "post", "/schedules", None),
    ("a plain schedule", "post", "/schedules", _schedule()),
    ("end: null clears an end", "put", "/schedules/{id}", _schedule(end=None)),
    (
        "layer user typed 'user'",
        "post",
        "/schedules",
        bodies.schedule({**bodies.layer(USER), "users": [{"user": {"id": USER, "type": "user"}}]}),
    ),
    (
        "teams on a schedule",
        "post",
        "/schedules",
        bodies.schedule(bodies.layer(USER), teams=[{"id": "PTEAM01", "type": "team_reference"}]),
    ),
    (
        "weekly restriction longer than a day",
        "post",
        "/schedules",
        _schedule(
            restrictions=[
                {
                    "type": "weekly_restriction",
                    "start_day_of_week": 5,
                    "start_time_of_day": "17:00:00",
                    "duration_seconds": 64 * 3600,
                }
            ]
        ),
    ),
    ("a policy", "post", "/escalation_policies", bodies.policy(("user_reference", USER))),
    (
        "assignment strategy as an object",
        "post",
        "/escalation_policies",
        {
            "escalation_policy": {
                **bodies.policy(("user_reference", USER))["escalation_policy"],
                "escalation_rules": [
                    {
                        "escalation_delay_in_minutes": 5,
                        "targets": [{"type": "user_reference", "id": USER}],
                        "escalation_rule_assignment_strategy": {"type": "round_robin"},
                    }
                ],
            }
        },
    ),
    ("a team", "post", "/teams", bodies.team()),
    ("a membership role", "put", "/teams/{id}/users/{user_id}", {"role": "responder"}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [case[1:] for case in ACCEPTED],
    ids=[case[0] for case in ACCEPTED],
)
def test_accepted(validator: BodyValidator, method: str, path: str, body: Any) -> None:
    if body is None:
        content = load_subset()["paths"]["/schedules"]["post"]["requestBody"]["content"]
        body = content["application/json"]["examples"]["request"]["value"]
    assert validator.errors(method, path, body) == []


def _policy_rule(**rule: Any) -> dict[str, Any]:
    body = bodies.policy(("user_reference", USER))
    body["escalation_policy"]["escalation_rules"][0].update(rule)
    return body


def _without(body: dict[str, Any], *path: str | int) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


REJECTED = [
    ("empty body", "post", "/schedules", {}, "The request body is empty"),
    ("no layers", "post", "/schedules", bodies.schedule(), "schedule.schedule_layers"),
    (
        "layers missing",
        "post",
        "/schedules",
        _without(bodies.schedule(), "schedule", "schedule_layers"),
        "schedule.schedule_layers",
    ),
    ("layer without users", "post", "/schedules", _schedule(users=[]), "schedule_layers[0].users"),
    (
        "weekly restriction without a day",
        "post",
        "/schedules",
        _schedule(
            restrictions=[
                {
                    "type": "weekly_restriction",
                    "start_time_of_day": "09:00:00",
                    "duration_seconds": 3600,
                }
            ]
        ),
        "restrictions[0].start_day_of_week",
    ),
    (
        "day of week out of range",
        "post",
        "/schedules",
        _schedule(
            restrictions=[
                {
                    "type": "weekly_restriction",
                    "start_day_of_week": 8,
                    "start_time_of_day": "09:00:00",
                    "duration_seconds": 3600,
                }
            ]
        ),
        "start_day_of_week",
    ),
    ("start not a date-time", "post", "/schedules", _schedule(start="monday"), "[0].start"),
    (
        "no time zone",
        "post",
        "/schedules",
        _without(_schedule(), "schedule", "time_zone"),
        "time_zone",
    ),
    (
        "no turn length",
        "post",
        "/schedules",
        _without(_schedule(), "schedule", "schedule_layers", 0, "rotation_turn_length_seconds"),
        "rotation_turn_length_seconds",
    ),
    (
        "layer user of the wrong type",
        "post",
        "/schedules",
        bodies.schedule(
            {**bodies.layer(USER), "users": [{"user": {"id": USER, "type": "team_reference"}}]}
        ),
        "users[0].user.type",
    ),
    (
        "no rules",
        "post",
        "/escalation_policies",
        {
            "escalation_policy": {
                **bodies.policy()["escalation_policy"],
                "escalation_rules": [],
            }
        },
        "escalation_rules",
    ),
    (
        "escalation delay below 1",
        "post",
        "/escalation_policies",
        _policy_rule(escalation_delay_in_minutes=0),
        "escalation_delay_in_minutes",
    ),
    ("no targets", "post", "/escalation_policies", _policy_rule(targets=[]), "targets"),
    (
        "eleven targets",
        "post",
        "/escalation_policies",
        _policy_rule(targets=[{"type": "user_reference", "id": USER}] * 11),
        "targets",
    ),
    (
        "ten loops",
        "post",
        "/escalation_policies",
        {"escalation_policy": {**bodies.policy()["escalation_policy"], "num_loops": 10}},
        "num_loops",
    ),
    (
        "two teams on a policy",
        "put",
        "/escalation_policies/{id}",
        {
            "escalation_policy": {
                **bodies.policy(("user_reference", USER))["escalation_policy"],
                "teams": [
                    {"id": "PTEAM01", "type": "team_reference"},
                    {"id": "PTEAM02", "type": "team_reference"},
                ],
            }
        },
        "teams",
    ),
    (
        "strategy as a string",
        "post",
        "/escalation_policies",
        _policy_rule(escalation_rule_assignment_strategy="round_robin"),
        "escalation_rule_assignment_strategy",
    ),
    ("team without a name", "post", "/teams", {"team": {"type": "team"}}, "name"),
    ("unknown role", "put", "/teams/{id}/users/{user_id}", {"role": "owner"}, "role"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_rejected(
    validator: BodyValidator, method: str, path: str, body: Any, expected: str
) -> None:
    errors = validator.errors(method, path, body)
    assert any(expected in error for error in errors), errors
