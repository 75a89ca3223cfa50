"""Request-body validation: PagerDuty's OpenAPI schema, corrected to the real API, plus its extra checks.

The schema comes from the committed subset of PagerDuty's spec (see specsubset.py). Where the
real API and the spec disagree, the real API wins; each correction below names its source.
Errors are strings naming the field path, as PagerDuty's `errors` list does.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema_path import SchemaPath
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.request.validators import V30RequestBodyValidator

from oncall_testbed.emulator.specsubset import SUBSET_FILE

SPEC_BASE_URL = "https://api.pagerduty.com"


def corrected_spec(spec: dict[str, Any], *, for_requests: bool) -> dict[str, Any]:
    """A copy of `spec` with the real API's behaviour where the spec is wrong.

    for_requests: also strip `readOnly` (the spec marks `id` and `type` read-only yet requires
    them in request bodies, and the real API accepts read-only `teams` on a schedule).
    """
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    # `"end": null` clears a layer's end (terraform-provider-pagerduty issue 451).
    schemas["ScheduleLayer"]["properties"]["end"]["nullable"] = True
    # A layer user may be typed "user" as well as "user_reference".
    schemas["ScheduleLayerUser"]["properties"]["user"] = {
        "allOf": [
            {"$ref": "#/components/schemas/Reference"},
            {"type": "object", "properties": {"type": {"enum": ["user_reference", "user"]}}},
        ]
    }
    # An object in the examples and in the real API, a string in the schema.
    schemas["EscalationRule"]["properties"]["escalation_rule_assignment_strategy"] = {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": ["round_robin", "assign_to_everyone"]}},
        "required": ["type"],
    }
    # A permanent on-call (a user target) has null start and end, as the spec's own text says.
    for bound in ("start", "end"):
        schemas["Oncall"]["properties"][bound]["nullable"] = True
    # POST /schedules answers 200, not 201 (api-schema issue 497).
    create_schedule = spec["paths"]["/schedules"]["post"]["responses"]
    create_schedule["200"] = create_schedule["201"]
    # GET /schedules/{id}/overrides answers 200; the spec's only response code, 201, is a slip.
    list_overrides = spec["paths"]["/schedules/{id}/overrides"]["get"]["responses"]
    list_overrides["200"] = list_overrides["201"]
    if for_requests:
        _strip_read_only(spec)
    return spec


def _strip_read_only(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("readOnly", None)
        for value in node.values():
            _strip_read_only(value)
    elif isinstance(node, list):
        for item in node:
            _strip_read_only(item)


@functools.cache
def load_subset(spec_file: Path = SUBSET_FILE) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(spec_file.read_text(encoding="utf-8"))
    return document


@dataclass
class _BodyRequest:
    """The minimum openapi-core needs to validate a request body."""

    method: str
    path: str
    body: bytes
    host_url: str = SPEC_BASE_URL
    content_type: str = "application/json"
    parameters: RequestParameters = field(default_factory=RequestParameters)

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


class BodyValidator:
    """Validate request bodies against the corrected spec and the real API's extra rules."""

    def __init__(self, spec_file: Path = SUBSET_FILE) -> None:
        spec = corrected_spec(load_subset(spec_file), for_requests=True)
        self._validator = V30RequestBodyValidator(
            SchemaPath.from_dict(spec), base_url=SPEC_BASE_URL
        )

    def errors(self, method: str, path: str, body: Any) -> list[str]:
        """Every reason PagerDuty would reject `body` sent as `method path`; [] when it is fine."""
        if body is None or body == {}:
            return ["The request body is empty."]  # before the schema: it has nothing to say
        request = _BodyRequest(method.lower(), path, json.dumps(body).encode())
        found: list[str] = []
        for error in self._validator.iter_errors(request):
            schema_errors = getattr(error.__cause__, "schema_errors", None)
            if not schema_errors:
                found.append(str(error))
                continue
            for schema_error in schema_errors:
                found.append(f"{_path_text(schema_error.absolute_path)}: {schema_error.message}")
        found.extend(real_api_errors(path, body))
        return found


def _path_text(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def real_api_errors(path: str, body: Any) -> list[str]:
    """What the real API rejects although the schema allows it (NOTES.md, "Using the spec")."""
    if not isinstance(body, dict):
        return []
    if path.startswith("/schedules") and isinstance(body.get("schedule"), dict):
        return list(_schedule_errors(body["schedule"]))
    if path.startswith("/escalation_policies") and isinstance(body.get("escalation_policy"), dict):
        return list(_policy_errors(body["escalation_policy"]))
    return []


def _schedule_errors(schedule: dict[str, Any]) -> Iterator[str]:
    layers = schedule.get("schedule_layers")
    if not isinstance(layers, list) or not layers:
        yield "schedule.schedule_layers: a schedule needs at least one layer"
        return
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict):
            continue
        where = f"schedule.schedule_layers[{index}]"
        if layer.get("users") == []:
            yield f"{where}.users: a layer needs at least one user"
        turn = layer.get("rotation_turn_length_seconds")
        if isinstance(turn, int) and turn <= 0:
            yield f"{where}.rotation_turn_length_seconds: must be positive"
        for r_index, restriction in enumerate(layer.get("restrictions") or []):
            if not isinstance(restriction, dict):
                continue
            r_where = f"{where}.restrictions[{r_index}]"
            if (
                restriction.get("type") == "weekly_restriction"
                and restriction.get("start_day_of_week") is None
            ):
                yield f"{r_where}.start_day_of_week: required for a weekly_restriction"
            duration = restriction.get("duration_seconds")
            if isinstance(duration, int) and duration <= 0:
                yield f"{r_where}.duration_seconds: must be positive"


def _policy_errors(policy: dict[str, Any]) -> Iterator[str]:
    rules = policy.get("escalation_rules")
    if rules == []:
        yield "escalation_policy.escalation_rules: a policy needs at least one rule"
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        where = f"escalation_policy.escalation_rules[{index}]"
        delay = rule.get("escalation_delay_in_minutes")
        if isinstance(delay, int) and delay < 1:
            yield f"{where}.escalation_delay_in_minutes: must be at least 1"
    loops = policy.get("num_loops")
    if isinstance(loops, int) and not 0 <= loops <= 9:
        yield "escalation_policy.num_loops: must be between 0 and 9"
    teams = policy.get("teams")
    if isinstance(teams, list) and len(teams) > 1:
        yield "escalation_policy.teams: only one team may be associated with a policy"
