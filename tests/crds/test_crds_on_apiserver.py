"""The generated CRDs on a real kube-apiserver: every bound and CEL rule rejects what it should,
the server fills in the defaults, every example is accepted, and a full status survives pruning."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pydantic import BaseModel

from oncall_operator.api import (
    GROUP,
    VERSION,
    EscalationPolicySpec,
    EscalationPolicyStatus,
    OnCallTeamSpec,
    OnCallTeamStatus,
    RotationSpec,
    RotationStatus,
)

pytestmark = pytest.mark.controlplane

ROOT = Path(__file__).resolve().parents[2]
PLURALS = {
    "OnCallTeam": "oncallteams",
    "Rotation": "rotations",
    "EscalationPolicy": "escalationpolicies",
}
SPEC_MODELS: dict[str, type[BaseModel]] = {
    "OnCallTeam": OnCallTeamSpec,
    "Rotation": RotationSpec,
    "EscalationPolicy": EscalationPolicySpec,
}
ESTABLISHED_WITHIN_SECONDS = 30.0


@pytest.fixture(scope="session")
def installed_crds(kube_api_client: client.ApiClient) -> None:
    """crds/ applied (created or replaced) and Established."""
    extensions = client.ApiextensionsV1Api(kube_api_client)
    for path in sorted((ROOT / "crds").glob("oncall.dev_*.yaml")):
        crd = yaml.safe_load(path.read_text())
        name = crd["metadata"]["name"]
        try:
            current = extensions.read_custom_resource_definition(name)
            crd["metadata"]["resourceVersion"] = current.metadata.resource_version
            extensions.replace_custom_resource_definition(name, crd)
        except ApiException as error:
            if error.status != 404:
                raise
            extensions.create_custom_resource_definition(crd)
        wait_established(extensions, name)


def wait_established(extensions: client.ApiextensionsV1Api, name: str) -> None:
    deadline = time.monotonic() + ESTABLISHED_WITHIN_SECONDS
    while time.monotonic() < deadline:
        conditions = extensions.read_custom_resource_definition(name).status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return
        time.sleep(0.2)
    raise AssertionError(f"CRD {name} not Established within {ESTABLISHED_WITHIN_SECONDS}s")


@pytest.fixture
def namespace(kube_api_client: client.ApiClient, installed_crds: None) -> Iterator[str]:
    name = f"crds-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(kube_api_client)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    # This control plane runs no namespace controller: a deleted namespace keeps its objects
    # forever, and an operator started by a later test would find them. Delete them first.
    objects = client.CustomObjectsApi(kube_api_client)
    for plural in PLURALS.values():
        objects.delete_collection_namespaced_custom_object(GROUP, VERSION, name, plural)
    core.delete_namespace(name)


@pytest.fixture
def objects(kube_api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube_api_client)


def create(
    objects: client.CustomObjectsApi,
    namespace: str,
    kind: str,
    spec: dict[str, Any],
    *,
    name: str = "subject",
    dry_run: bool = True,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": spec,
    }
    created: dict[str, Any] = objects.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURALS[kind], body, dry_run="All" if dry_run else None
    )
    return created


def causes(error: ApiException) -> list[tuple[str, str]]:
    """(field, message) of every cause the API server gave for refusing an object."""
    details = json.loads(error.body).get("details") or {}
    return [(c.get("field", ""), c.get("message", "")) for c in details.get("causes", [])]


LAYER = {"name": "primary", "participants": {"emails": ["ana@example.com"]}, "shiftLength": "1w", "handoff": "2026-01-05T09:00:00"}  # fmt: skip
ROTATION = {"timeZone": "Europe/Dublin", "layers": [LAYER]}
WINDOW = {"days": ["Sat"], "start": "09:00", "end": "17:00"}


def with_layer(**changes: Any) -> dict[str, Any]:
    return {**ROTATION, "layers": [{**LAYER, **changes}]}


def custom(**window: Any) -> dict[str, Any]:
    return with_layer(coverage="Custom", windows=[{**WINDOW, **window}])


def policy(*targets: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"rules": [{"escalateAfterMinutes": 5, "targets": list(targets)}], **changes}


USER = {"user": {"email": "u@example.com"}}

# (kind, spec, field the server names, words of its message)
REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    ("Rotation", with_layer(participants={}), "spec.layers[0].participants", "exactly one of fromTeam or emails"),
    ("Rotation", with_layer(participants={"emails": ["a@example.com"], "fromTeam": {}}), "spec.layers[0].participants", "exactly one of fromTeam or emails"),
    ("Rotation", with_layer(windows=[WINDOW]), "spec.layers[0]", "allowed only with it"),
    ("Rotation", with_layer(coverage="Custom"), "spec.layers[0]", "windows are required with coverage Custom"),
    ("Rotation", {**ROTATION, "layers": [LAYER, LAYER]}, "spec.layers", "layer names must be unique"),
    ("Rotation", {**ROTATION, "layers": [{**LAYER, "participants": {"fromTeam": {}}}]}, "spec", "need spec.teamRef"),
    ("Rotation", with_layer(shiftLength="59m"), "spec.layers[0].shiftLength", "shiftLength must be at least 1h"),
    ("Rotation", with_layer(shiftLength="0w0d"), "spec.layers[0].shiftLength", "shiftLength must be at least 1h"),
    ("Rotation", with_layer(shiftLength="1y"), "spec.layers[0].shiftLength", "should match"),
    ("Rotation", with_layer(handoff="2026-01-05T09:00+01"), "spec.layers[0].handoff", "should match"),
    ("Rotation", with_layer(handoff="2026-02-30T09:00"), "spec.layers[0].handoff", "handoff is not a real date-time"),
    ("Rotation", with_layer(coverage="Weekends"), "spec.layers[0].coverage", "Unsupported value"),
    ("Rotation", with_layer(changesTakeEffect="Later"), "spec.layers[0].changesTakeEffect", "Unsupported value"),
    ("Rotation", custom(start="9:00"), "spec.layers[0].windows[0].start", "should match"),
    ("Rotation", custom(start="24:00"), "spec.layers[0].windows[0].start", "should match"),
    ("Rotation", custom(end="24:01"), "spec.layers[0].windows[0].end", "should match"),
    ("Rotation", custom(end="17:60"), "spec.layers[0].windows[0].end", "should match"),
    ("Rotation", custom(days=["Sat", "Sat"]), "spec.layers[0].windows[0].days", "days must not repeat"),
    ("Rotation", custom(days=["Caturday"]), "spec.layers[0].windows[0].days[0]", "Unsupported value"),
    ("Rotation", {**ROTATION, "layers": []}, "spec.layers", "at least 1 items"),
    ("Rotation", {"layers": [LAYER]}, "spec.timeZone", "Required value"),
    ("Rotation", {**ROTATION, "timeZone": "Europe Dublin"}, "spec.timeZone", "should match"),
    ("Rotation", {**ROTATION, "deletionPolicy": "Keep"}, "spec.deletionPolicy", "Unsupported value"),
    ("Rotation", {**ROTATION, "pagerduty": {"id": "pabc"}}, "spec.pagerduty.id", "should match"),
    ("Rotation", {**ROTATION, "businessHours": {"start": "25:00"}}, "spec.businessHours.start", "should match"),
    ("OnCallTeam", {"members": [{"email": "a@example.com"}, {"email": "A@Example.com"}]}, "spec.members", "each member email may appear only once"),
    ("OnCallTeam", {"members": [{"email": "not-an-email"}]}, "spec.members[0].email", "should match"),
    ("OnCallTeam", {"members": [{"email": "\u00e9@example.com"}]}, "spec.members[0].email", "should match"),
    ("OnCallTeam", {"members": [{"email": "a@example.com", "role": "owner"}]}, "spec.members[0].role", "Unsupported value"),
    ("OnCallTeam", {"members": [{"email": "a@example.com", "since": "2027-01-01", "until": "2026-12-31"}]}, "spec.members[0]", "until must not be before since"),
    ("OnCallTeam", {"members": [{"email": "a@example.com", "until": "31/12/2026"}]}, "spec.members[0].until", "date"),
    ("OnCallTeam", {"policy": {"maxOnCallPercent": 0}}, "spec.policy.maxOnCallPercent", "greater than or equal to 1"),
    ("OnCallTeam", {"members": [{"email": "a@example.com", "away": [{"from": "2027-01-05", "until": "2027-01-04"}]}]}, "spec.members[0].away[0]", "until must not be before from"),
    ("OnCallTeam", {"members": [{"email": "a@example.com", "away": [{"from": "5 Jan", "until": "2027-01-04"}]}]}, "spec.members[0].away[0].from", "date"),
    ("OnCallTeam", {"policy": {"termWarningDays": -1}}, "spec.policy.termWarningDays", "greater than or equal to 0"),
    ("OnCallTeam", {"policy": {"maxOnCallPercent": 101}}, "spec.policy.maxOnCallPercent", "less than or equal to 100"),
    ("OnCallTeam", {"displayName": ""}, "spec.displayName", "at least 1 chars long"),
    ("EscalationPolicy", policy(), "spec.rules[0].targets", "at least 1 items"),
    ("EscalationPolicy", policy(*[{"rotationRef": {"name": f"r{i}"}} for i in range(11)]), "spec.rules[0].targets", "at most 10 items"),
    ("EscalationPolicy", policy({}), "spec.rules[0].targets[0]", "exactly one of rotationRef or user"),
    ("EscalationPolicy", policy({"rotationRef": {"name": "r"}, **USER}), "spec.rules[0].targets[0]", "exactly one of rotationRef or user"),
    ("EscalationPolicy", {"rules": [{"escalateAfterMinutes": 0, "targets": [USER]}]}, "spec.rules[0].escalateAfterMinutes", "greater than or equal to 1"),
    ("EscalationPolicy", policy(USER, repeat=10), "spec.repeat", "less than or equal to 9"),
    ("EscalationPolicy", policy(USER, handoffNotifications="Never"), "spec.handoffNotifications", "Unsupported value"),
    ("EscalationPolicy", {"rules": []}, "spec.rules", "at least 1 items"),
    # Unknown IANA zones: CEL loads the name from the server's own zone database.
    ("Rotation", {**ROTATION, "timeZone": "Europe/Dubln"}, "spec.timeZone", "unknown time zone Europe/Dubln"),
    ("Rotation", {**ROTATION, "timeZone": "Mars/Olympus_Mons"}, "spec.timeZone", "unknown time zone"),
    ("Rotation", {**ROTATION, "timeZone": "Local"}, "spec.timeZone", "Local is not an IANA time zone name"),
    ("OnCallTeam", {"policy": {"timeZone": "America/Gotham"}}, "spec.policy.timeZone", "unknown time zone America/Gotham"),
    # Dates and date-times that match the shape but are not on the calendar.
    ("OnCallTeam", {"members": [{"email": "a@example.com", "since": "2026-02-30"}]}, "spec.members[0].since", "date"),
    ("OnCallTeam", {"members": [{"email": "a@example.com", "until": "2026-13-01"}]}, "spec.members[0].until", "date"),
    ("Rotation", with_layer(handoff="2027-02-29T09:00"), "spec.layers[0].handoff", "handoff is not a real date-time"),
    ("Rotation", with_layer(handoff="0000-01-01T00:00"), "spec.layers[0].handoff", "handoff"),
    # Ranges.
    ("Rotation", {**ROTATION, "businessHours": {"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "start": "00:00", "end": "24:00"}, "layers": [{**LAYER, "coverage": "OutOfHours"}]}, "spec", "would never be on call"),
    ("Rotation", {**ROTATION, "businessHours": {"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "start": "08:00", "end": "08:00"}, "layers": [{**LAYER, "coverage": "OutOfHours"}]}, "spec", "would never be on call"),
    ("EscalationPolicy", {"rules": [{"escalateAfterMinutes": 10081, "targets": [USER]}]}, "spec.rules[0].escalateAfterMinutes", "less than or equal to 10080"),
    ("EscalationPolicy", policy(USER, repeat=-1), "spec.repeat", "greater than or equal to 0"),
    ("OnCallTeam", {"policy": {"minRestHours": 8761}}, "spec.policy.minRestHours", "less than or equal to 8760"),
    # References' shape: a referent's name must be one the API server could store.
    ("Rotation", {**ROTATION, "teamRef": {"name": "Out_Of_Hours"}}, "spec.teamRef.name", "should match"),
    ("Rotation", {**ROTATION, "teamRef": {"name": ""}}, "spec.teamRef.name", "at least 1 chars long"),
    ("EscalationPolicy", policy({"rotationRef": {"name": "-weekly"}}), "spec.rules[0].targets[0].rotationRef.name", "should match"),
    ("EscalationPolicy", policy(USER, teamRef={"name": "team/a"}), "spec.teamRef.name", "should match"),
    # Duplicates.
    ("EscalationPolicy", policy({"rotationRef": {"name": "r"}}, {"rotationRef": {"name": "r"}}), "spec.rules[0].targets", "must not page the same rotation or user twice"),
    ("EscalationPolicy", policy(USER, {"user": {"email": "U@Example.com"}}), "spec.rules[0].targets", "must not page the same rotation or user twice"),
    ("Rotation", {**ROTATION, "teamRef": {"name": "t"}, "layers": [{**LAYER, "participants": {"fromTeam": {"roles": ["manager", "manager"]}}}]}, "spec.layers[0].participants.fromTeam.roles", "roles must not repeat"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "spec", "field", "words"), REFUSED)
def test_the_server_refuses_and_names_the_field(
    objects: client.CustomObjectsApi,
    namespace: str,
    kind: str,
    spec: dict[str, Any],
    field: str,
    words: str,
) -> None:
    with pytest.raises(ApiException) as refused:
        create(objects, namespace, kind, spec)
    assert refused.value.status == 422
    found = causes(refused.value)
    assert any(f == field and words in message for f, message in found), found
    with pytest.raises(ValueError, match=r"."):
        SPEC_MODELS[kind].model_validate(spec)  # pydantic refuses it too


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("Rotation", custom(start="00:00", end="24:00")),
    ("Rotation", custom(start="22:00", end="06:00")),
    ("Rotation", with_layer(shiftLength="1h")),
    ("Rotation", with_layer(shiftLength="30m30m")),
    ("Rotation", with_layer(shiftLength="1d12h", handoff="2028-02-29T23:59")),
    ("EscalationPolicy", policy(*[{"rotationRef": {"name": f"r{i}"}} for i in range(10)])),
    ("OnCallTeam", {"members": [{"email": "a@example.com", "since": "2026-09-01", "until": "2026-09-01"}]}),
    ("Rotation", {**ROTATION, "timeZone": "America/Argentina/Buenos_Aires"}),
    ("Rotation", {**ROTATION, "timeZone": "Etc/GMT+5"}),
    ("OnCallTeam", {"policy": {"timeZone": "UTC"}}),
    ("Rotation", {**ROTATION, "teamRef": {"name": "team.a-1"}, "businessHours": {"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "start": "08:00", "end": "20:00"}, "layers": [{**LAYER, "coverage": "OutOfHours"}]}),
    ("EscalationPolicy", policy({"rotationRef": {"name": "r"}}, USER, {"user": {"email": "v@example.com"}})),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "spec"), ACCEPTED)
def test_the_server_and_the_models_accept_the_edges(
    objects: client.CustomObjectsApi, namespace: str, kind: str, spec: dict[str, Any]
) -> None:
    create(objects, namespace, kind, spec)
    SPEC_MODELS[kind].model_validate(spec)


def test_the_server_fills_in_the_defaults(objects: client.CustomObjectsApi, namespace: str) -> None:
    team = create(
        objects, namespace, "OnCallTeam", {"members": [{"email": "a@example.com"}], "policy": {}}
    )
    # members[].away defaults to [] (the server writes out defaults a factory makes)
    assert team["spec"]["members"] == [{"email": "a@example.com", "role": "responder", "away": []}]
    assert team["spec"]["deletionPolicy"] == "Delete"
    assert team["spec"]["policy"]["timeZone"] == "UTC"
    rotation = create(
        objects, namespace, "Rotation", {**ROTATION, "teamRef": {"name": "t"}, "layers": [{**LAYER, "participants": {"fromTeam": {}}}]}
    )  # fmt: skip
    layer = rotation["spec"]["layers"][0]
    assert (layer["coverage"], layer["changesTakeEffect"]) == ("Always", "NextHandoff")
    assert layer["participants"]["fromTeam"] == {"roles": ["responder"]}
    assert rotation["spec"]["businessHours"] == {
        "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
        "start": "09:00",
        "end": "17:00",
    }
    partial = create(
        objects, namespace, "Rotation", {**ROTATION, "businessHours": {"end": "18:00"}}
    )
    assert partial["spec"]["businessHours"]["start"] == "09:00"
    assert partial["spec"]["businessHours"]["end"] == "18:00"
    escalation = create(objects, namespace, "EscalationPolicy", policy(USER))
    assert (escalation["spec"]["repeat"], escalation["spec"]["handoffNotifications"]) == (
        0,
        "IfHasServices",
    )
    # What the server stores parses to what pydantic makes of the same input.
    for kind, stored, sent in (
        ("OnCallTeam", team, {"members": [{"email": "a@example.com"}], "policy": {}}),
        ("EscalationPolicy", escalation, policy(USER)),
    ):
        model = SPEC_MODELS[kind]
        assert model.model_validate(stored["spec"]) == model.model_validate(sent)


def example_documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.relative_to(ROOT / 'examples')}:{doc['metadata']['name']}", doc)
        for path in sorted((ROOT / "examples").rglob("*.yaml"))
        if path.name != "users.yaml"
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["kind"] in PLURALS
    ]


@pytest.mark.parametrize(
    ("label", "doc"), example_documents(), ids=[label for label, _ in example_documents()]
)
def test_every_example_is_accepted_by_the_server_and_the_models(
    objects: client.CustomObjectsApi, namespace: str, label: str, doc: dict[str, Any]
) -> None:
    stored = create(
        objects,
        namespace,
        doc["kind"],
        doc["spec"],
        name=doc["metadata"]["name"],
        annotations=doc["metadata"].get("annotations"),
    )
    SPEC_MODELS[doc["kind"]].model_validate(doc["spec"])
    SPEC_MODELS[doc["kind"]].model_validate(stored["spec"])


CONDITION = {
    "type": "Ready",
    "status": "True",
    "reason": "Synced",
    "message": "PagerDuty matches the spec.",
    "observedGeneration": 1,
    "lastTransitionTime": "2026-11-23T09:00:00Z",
}
COMMON_STATUS = {
    "observedGeneration": 1,
    "pagerduty": {"id": "PABC123", "htmlUrl": "https://example.pagerduty.com/x/PABC123"},
    "conditions": [CONDITION],
}
FULL_STATUS: list[tuple[str, dict[str, Any], dict[str, Any], type[BaseModel]]] = [
    (
        "OnCallTeam",
        {"members": [{"email": "a@example.com"}]},
        {
            **COMMON_STATUS,
            "members": {"total": 7, "resolved": 6, "active": 5, "unresolved": ["zed@example.com"], "expiringSoon": ["ana@example.com"]},
            "pages": {"outOfHoursLast30Days": 4, "people": [{"email": "ana@example.com", "pages": 3, "nightPages": 1, "maxPagesIn12h": 2}]},
        },
        OnCallTeamStatus,
    ),
    (
        "Rotation",
        ROTATION,
        {
            **COMMON_STATUS,
            "layers": [{"name": "primary", "id": "PLAYER1"}],
            "onCall": {"now": "bo@example.com", "until": "2026-11-30T09:00:00Z", "next": "cy@example.com"},
            "nextHandoff": "2026-11-30T09:00:00Z",
            "load": [{"email": "bo@example.com", "hours": 105.5, "outOfHoursHours": 96.5, "shifts": 1}],
            "overrides": [{"id": "POVR001", "start": "2026-12-07T09:00:00Z", "end": "2026-12-14T09:00:00Z", "email": "cy@example.com", "covers": "bo@example.com"}],
        },
        RotationStatus,
    ),
    ("EscalationPolicy", policy(USER), COMMON_STATUS, EscalationPolicyStatus),
]  # fmt: skip


def assert_every_field_set(model: BaseModel, path: str = "status") -> None:
    """The sample status really is full: a field left out would not be checked for pruning."""
    unset = set(type(model).model_fields) - model.model_fields_set
    assert not unset, f"{path}: {sorted(unset)}"
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                assert_every_field_set(item, f"{path}.{name}")


@pytest.mark.parametrize(
    ("kind", "spec", "status", "model"), FULL_STATUS, ids=[k for k, *_ in FULL_STATUS]
)
def test_a_full_status_survives_pruning(
    objects: client.CustomObjectsApi,
    namespace: str,
    kind: str,
    spec: dict[str, Any],
    status: dict[str, Any],
    model: type[BaseModel],
) -> None:
    assert_every_field_set(model.model_validate(status))
    created = create(objects, namespace, kind, spec, dry_run=False)
    created["status"] = status
    objects.replace_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURALS[kind], "subject", created
    )
    stored = objects.get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURALS[kind], "subject"
    )
    assert stored["status"] == status
    assert model.model_validate(stored["status"]).to_wire() == status
