"""Rotation -> PagerDuty schedule: create, no-op, edits now or at the next handoff, removed
layers, and the drift normal form. Expectations are hand-written literals.

Europe/Dublin is on GMT (+00:00) in late November, so local times equal UTC there.
"""

import copy
import datetime as dt
from typing import Any

import pytest

from oncall_operator.api import BusinessHours, LayerStatus, OnCallTeamSpec, RotationSpec, Weekday
from oncall_operator.translate.identity import ObjectIdentity
from oncall_operator.translate.rotation import (
    layer_participants,
    layer_statuses,
    schedule_doc,
    schedule_drift,
)

IDENTITY = ObjectIdentity(namespace="oncall", kind="Rotation", name="out-of-hours-weekly")
DESCRIPTION = (
    "Volunteers.\nManaged by oncall-operator as oncall/Rotation/out-of-hours-weekly; "
    "edit it in Git, not here."
)
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # a Wednesday
HANDOFF = "2026-11-30T09:00:00+00:00"  # the Monday after NOW
USERS = {"primary": ["PANA", "PBO"], "secondary": ["PCY"]}

OOH = [
    {
        "type": "weekly_restriction",
        "start_day_of_week": 1,
        "start_time_of_day": "17:00:00",
        "duration_seconds": 57600,
    },
    {
        "type": "weekly_restriction",
        "start_day_of_week": 2,
        "start_time_of_day": "17:00:00",
        "duration_seconds": 57600,
    },
    {
        "type": "weekly_restriction",
        "start_day_of_week": 3,
        "start_time_of_day": "17:00:00",
        "duration_seconds": 57600,
    },
    {
        "type": "weekly_restriction",
        "start_day_of_week": 4,
        "start_time_of_day": "17:00:00",
        "duration_seconds": 57600,
    },
    {
        "type": "weekly_restriction",
        "start_day_of_week": 5,
        "start_time_of_day": "17:00:00",
        "duration_seconds": 230400,
    },
]


def users(*ids: str) -> list[dict[str, Any]]:
    return [{"user": {"id": i, "type": "user_reference"}} for i in ids]


def spec(
    primary_changes: str = "NextHandoff", secondary: bool = True, **primary: Any
) -> RotationSpec:
    layers: list[dict[str, Any]] = [
        {
            "name": "primary",
            "participants": {"emails": ["ana@example.com", "bo@example.com"]},
            "shiftLength": "1w",
            "handoff": "2026-01-05T09:00",
            "coverage": "OutOfHours",
            "changesTakeEffect": primary_changes,
            **primary,
        }
    ]
    if secondary:
        layers.append(
            {
                "name": "secondary",
                "participants": {"emails": ["cy@example.com"]},
                "shiftLength": "1d",
                "handoff": "2026-03-29T09:00",
                "changesTakeEffect": "Immediately",
            }
        )
    return RotationSpec.model_validate(
        {
            "displayName": "Out-of-hours weekly",
            "description": "Volunteers.",
            "timeZone": "Europe/Dublin",
            "layers": layers,
        }
    )


def as_pagerduty_returns(doc: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """What a GET returns after PagerDuty stored `doc`: ids for new layers, times rewritten
    in UTC, read-only extras, restrictions in another order."""
    stored = copy.deepcopy(doc)
    stored.update(id="PSCHED1", html_url="https://pd/schedules/PSCHED1", summary="s", self="u")
    new_ids = iter(ids)
    for layer in stored["schedule_layers"]:
        if "id" not in layer:
            layer["id"] = next(new_ids)
        for field in ("start", "end", "rotation_virtual_start"):
            if layer.get(field):
                instant = dt.datetime.fromisoformat(layer[field]).astimezone(dt.UTC)
                layer[field] = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
        for user in layer["users"]:
            user["user"]["summary"] = "someone"
        layer["restrictions"] = list(reversed(layer["restrictions"]))
        layer["rendered_coverage_percentage"] = None
    return stored


CREATED = {
    "type": "schedule",
    "name": "Out-of-hours weekly",
    "description": DESCRIPTION,
    "time_zone": "Europe/Dublin",
    "schedule_layers": [
        {
            "start": "2026-11-25T12:00:00+00:00",
            "end": None,
            "name": "primary",
            "rotation_virtual_start": "2026-01-05T09:00:00+00:00",
            "rotation_turn_length_seconds": 604800,
            "users": users("PANA", "PBO"),
            "restrictions": OOH,
        },
        {
            "start": "2026-11-25T12:00:00+00:00",
            "end": None,
            "name": "secondary",
            "rotation_virtual_start": "2026-03-29T09:00:00+01:00",
            "rotation_turn_length_seconds": 86400,
            "users": users("PCY"),
            "restrictions": [],
        },
    ],
    "teams": [{"id": "PTEAM", "type": "team_reference"}],
}
STORED = as_pagerduty_returns(CREATED, ["PL1", "PL2"])


def test_create() -> None:
    assert schedule_doc(IDENTITY, spec(), USERS, None, NOW, "PTEAM") == CREATED


def test_without_a_team_no_teams_are_sent() -> None:
    assert "teams" not in schedule_doc(IDENTITY, spec(), USERS, None, NOW, None)


def test_unchanged_is_idempotent() -> None:
    later = NOW + dt.timedelta(hours=3)
    doc = schedule_doc(IDENTITY, spec(), USERS, STORED, later, "PTEAM")
    assert schedule_drift(STORED, doc, later) == []
    assert [
        (layer.get("id"), layer["start"], layer["end"]) for layer in doc["schedule_layers"]
    ] == [
        ("PL1", "2026-11-25T12:00:00Z", None),
        ("PL2", "2026-11-25T12:00:00Z", None),
    ]
    assert [layer["users"] for layer in doc["schedule_layers"]] == [
        users("PANA", "PBO"),
        users("PCY"),
    ]


def test_immediately_edit_updates_the_layer_in_place_from_now() -> None:
    later = NOW + dt.timedelta(hours=1)
    doc = schedule_doc(
        IDENTITY, spec(), {**USERS, "secondary": ["PCY", "PDI"]}, STORED, later, "PTEAM"
    )
    assert doc["schedule_layers"][1] == {
        "id": "PL2",
        "name": "secondary",
        "start": "2026-11-25T13:00:00+00:00",
        "end": None,
        "rotation_virtual_start": "2026-03-29T09:00:00+01:00",
        "rotation_turn_length_seconds": 86400,
        "users": users("PCY", "PDI"),
        "restrictions": [],
    }
    assert schedule_drift(STORED, doc, later) == [
        "layer secondary: users: PagerDuty has [PCY], the spec wants [PCY, PDI]"
    ]


def _next_handoff_edit() -> dict[str, Any]:
    return schedule_doc(
        IDENTITY, spec(), {**USERS, "primary": ["PANA", "PBO", "PDI"]}, STORED, NOW, "PTEAM"
    )


def test_next_handoff_edit_ends_the_old_layer_and_starts_a_new_one_at_the_handoff() -> None:
    layers = _next_handoff_edit()["schedule_layers"]
    assert layers[0] == {
        "id": "PL1",
        "name": "primary",
        "start": "2026-11-25T12:00:00Z",
        "end": HANDOFF,
        "rotation_virtual_start": "2026-01-05T09:00:00Z",
        "rotation_turn_length_seconds": 604800,
        "users": users("PANA", "PBO"),
        "restrictions": list(reversed(OOH)),
    }
    assert layers[1] == {
        "start": HANDOFF,
        "end": None,
        "name": "primary",
        "rotation_virtual_start": "2026-01-05T09:00:00+00:00",
        "rotation_turn_length_seconds": 604800,
        "users": users("PANA", "PBO", "PDI"),
        "restrictions": OOH,
    }
    assert [layer.get("id") for layer in layers] == ["PL1", None, "PL2"]
    assert schedule_drift(STORED, _next_handoff_edit(), NOW) == [
        "layer primary: users: PagerDuty has [PANA, PBO], the spec wants [PANA, PBO, PDI] "
        "from its next handoff (2026-11-30T09:00:00Z)"
    ]


PENDING = as_pagerduty_returns(_next_handoff_edit(), ["PL3"])
PENDING_USERS = {**USERS, "primary": ["PANA", "PBO", "PDI"]}


@pytest.mark.parametrize(
    "now",
    [NOW + dt.timedelta(hours=1), dt.datetime(2026, 11, 30, 8, 59, tzinfo=dt.UTC)],
    ids=["an hour later", "a minute before the handoff"],
)
def test_rerunning_on_the_pending_pair_is_a_no_op(now: dt.datetime) -> None:
    doc = schedule_doc(IDENTITY, spec(), PENDING_USERS, PENDING, now, "PTEAM")
    assert schedule_drift(PENDING, doc, now) == []
    assert [
        (layer.get("id"), layer["start"], layer["end"]) for layer in doc["schedule_layers"]
    ] == [
        ("PL1", "2026-11-25T12:00:00Z", "2026-11-30T09:00:00Z"),
        ("PL3", "2026-11-30T09:00:00Z", None),
        ("PL2", "2026-11-25T12:00:00Z", None),
    ]


def test_after_the_handoff_the_old_layer_is_history_and_nothing_changes() -> None:
    now = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    doc = schedule_doc(IDENTITY, spec(), PENDING_USERS, PENDING, now, "PTEAM")
    assert schedule_drift(PENDING, doc, now) == []
    assert [(layer.get("id"), layer["end"]) for layer in doc["schedule_layers"]] == [
        ("PL1", "2026-11-30T09:00:00Z"),
        ("PL3", None),
        ("PL2", None),
    ]
    assert layer_statuses(PENDING, spec(), now) == [
        LayerStatus(name="primary", id="PL3"),
        LayerStatus(name="secondary", id="PL2"),
    ]


def test_second_edit_before_the_handoff_updates_the_pending_layer() -> None:
    now = NOW + dt.timedelta(days=1)
    doc = schedule_doc(
        IDENTITY, spec(), {**USERS, "primary": ["PDI", "PANA"]}, PENDING, now, "PTEAM"
    )
    layers = doc["schedule_layers"]
    assert [(layer.get("id"), layer["start"], layer["end"]) for layer in layers] == [
        ("PL1", "2026-11-25T12:00:00Z", "2026-11-30T09:00:00Z"),
        ("PL3", "2026-11-30T09:00:00Z", None),
        ("PL2", "2026-11-25T12:00:00Z", None),
    ]
    assert layers[0]["users"] == users("PANA", "PBO")
    assert layers[1]["users"] == users("PDI", "PANA")
    assert schedule_drift(PENDING, doc, now) == [
        "layer primary: users: PagerDuty has [PANA, PBO, PDI], the spec wants [PDI, PANA]"
    ]


def test_immediately_edit_while_a_change_is_pending_ends_the_old_layer_now() -> None:
    now = NOW + dt.timedelta(days=1)
    doc = schedule_doc(IDENTITY, spec("Immediately"), PENDING_USERS, PENDING, now, "PTEAM")
    assert [
        (layer.get("id"), layer["start"], layer["end"]) for layer in doc["schedule_layers"]
    ] == [
        ("PL1", "2026-11-25T12:00:00Z", "2026-11-26T12:00:00+00:00"),
        ("PL3", "2026-11-26T12:00:00+00:00", None),
        ("PL2", "2026-11-25T12:00:00Z", None),
    ]


def test_the_next_handoff_follows_the_old_layer_across_dst() -> None:
    summer_now = dt.datetime(2026, 10, 21, 12, 0, tzinfo=dt.UTC)  # Wednesday, IST
    stored = as_pagerduty_returns(
        schedule_doc(IDENTITY, spec(), USERS, None, summer_now, None), ["PL1", "PL2"]
    )
    doc = schedule_doc(IDENTITY, spec(), {**USERS, "primary": ["PBO"]}, stored, summer_now, None)
    # Monday 26 October 09:00 is GMT again: the weekly 09:00 handoff stays 09:00 local.
    assert doc["schedule_layers"][0]["end"] == "2026-10-26T09:00:00+00:00"
    assert doc["schedule_layers"][1]["start"] == "2026-10-26T09:00:00+00:00"


def test_handoff_edit_is_a_content_change() -> None:
    edited = spec(handoff="2026-01-06T09:00")
    doc = schedule_doc(IDENTITY, edited, USERS, STORED, NOW, "PTEAM")
    layers = doc["schedule_layers"]
    assert layers[0]["end"] == HANDOFF
    assert layers[1]["rotation_virtual_start"] == "2026-01-06T09:00:00+00:00"


def test_coverage_edit_changes_restrictions_in_drift() -> None:
    doc = schedule_doc(IDENTITY, spec("Immediately", coverage="Always"), USERS, STORED, NOW, None)
    assert doc["schedule_layers"][0]["restrictions"] == []
    assert schedule_drift(STORED, doc, NOW) == [
        "layer primary: restrictions: PagerDuty has 5 restrictions, the spec wants 0 restrictions"
    ]


def test_removed_layer_is_sent_with_end_now() -> None:
    later = NOW + dt.timedelta(minutes=30, microseconds=5)
    doc = schedule_doc(IDENTITY, spec(secondary=False), USERS, STORED, later, "PTEAM")
    assert [(layer.get("id"), layer["name"], layer["end"]) for layer in doc["schedule_layers"]] == [
        ("PL2", "secondary", "2026-11-25T12:30:00+00:00"),
        ("PL1", "primary", None),
    ]
    assert schedule_drift(STORED, doc, later) == [
        "layers differ: PagerDuty has [primary, secondary], the spec wants [primary]"
    ]
    stored = as_pagerduty_returns(doc, [])
    again = schedule_doc(IDENTITY, spec(secondary=False), USERS, stored, later, "PTEAM")
    assert schedule_drift(stored, again, later) == []
    assert layer_statuses(stored, spec(secondary=False), later) == [
        LayerStatus(name="primary", id="PL1")
    ]


def test_removed_pending_layer_never_ends_before_it_starts() -> None:
    now = NOW + dt.timedelta(days=1)
    doc = schedule_doc(
        IDENTITY, spec(secondary=False), USERS | {"primary": ["PX"]}, PENDING, now, None
    )
    removed = [layer for layer in doc["schedule_layers"] if layer.get("id") == "PL2"]
    assert removed[0]["end"] == "2026-11-26T12:00:00+00:00"


def test_ended_layers_are_kept_and_ignored_by_drift() -> None:
    old = {
        "id": "PL0",
        "name": "primary",
        "start": "2025-01-01T00:00:00Z",
        "end": "2025-06-01T00:00:00Z",
        "rotation_virtual_start": "2025-01-01T00:00:00Z",
        "rotation_turn_length_seconds": 3600,
        "users": users("POLD"),
        "restrictions": [],
    }
    stored = {**STORED, "schedule_layers": [old, *STORED["schedule_layers"]]}
    doc = schedule_doc(IDENTITY, spec(), USERS, stored, NOW, "PTEAM")
    assert schedule_drift(stored, doc, NOW) == []
    assert doc["schedule_layers"][0] == old
    assert [layer.get("id") for layer in doc["schedule_layers"]] == ["PL0", "PL1", "PL2"]


def _with_layer(schedule: dict[str, Any], index: int, **fields: Any) -> dict[str, Any]:
    changed = copy.deepcopy(schedule)
    changed["schedule_layers"][index].update(fields)
    return changed


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        pytest.param(
            _with_layer(STORED, 0, start="2026-11-25T11:30:00Z"), [], id="past start reset"
        ),
        pytest.param(_with_layer(STORED, 0, id="POTHER"), [], id="ids ignored"),
        pytest.param(
            _with_layer(STORED, 0, rotation_virtual_start="2026-01-05T04:00:00-05:00"),
            [],
            id="virtual start as an instant",
        ),
        pytest.param(
            _with_layer(STORED, 1, start="2026-12-01T00:00:00Z"),
            ["layer secondary: start: PagerDuty has 2026-12-01T00:00:00Z, the spec wants none"],
            id="a future start matters",
        ),
        pytest.param(
            _with_layer(STORED, 1, end="2026-12-01T00:00:00Z"),
            ["layer secondary: end: PagerDuty has 2026-12-01T00:00:00Z, the spec wants none"],
            id="a future end matters",
        ),
        pytest.param(
            _with_layer(STORED, 1, end="2026-11-01T00:00:00Z"),
            ["layers differ: PagerDuty has [primary], the spec wants [primary, secondary]"],
            id="an ended layer is gone",
        ),
        pytest.param(
            _with_layer(STORED, 0, users=users("PBO", "PANA")),
            ["layer primary: users: PagerDuty has [PBO, PANA], the spec wants [PANA, PBO]"],
            id="user order matters",
        ),
        pytest.param(
            _with_layer(STORED, 0, rotation_turn_length_seconds=86400),
            ["layer primary: turn length: PagerDuty has 86400 s, the spec wants 604800 s"],
            id="turn length",
        ),
        pytest.param(
            _with_layer(STORED, 0, rotation_virtual_start="2026-01-05T08:00:00Z"),
            [
                "layer primary: rotation virtual start: PagerDuty has 2026-01-05T08:00:00Z, "
                "the spec wants 2026-01-05T09:00:00Z"
            ],
            id="virtual start",
        ),
        pytest.param(
            _with_layer(STORED, 0, restrictions=OOH[:4]),
            [
                "layer primary: restrictions: PagerDuty has 4 restrictions, "
                "the spec wants 5 restrictions"
            ],
            id="restrictions",
        ),
        pytest.param(
            _with_layer(
                STORED,
                1,
                restrictions=[
                    {
                        "type": "daily_restriction",
                        "start_time_of_day": "09:00:00",
                        "duration_seconds": 3600,
                    }
                ],
            ),
            [
                "layer secondary: restrictions: PagerDuty has 1 restriction, "
                "the spec wants 0 restrictions"
            ],
            id="a restriction added in the UI",
        ),
        pytest.param(
            {**STORED, "name": "Renamed", "time_zone": "UTC", "description": "hand edit"},
            [
                'name: PagerDuty has "Renamed", the spec wants "Out-of-hours weekly"',
                "description differs",  # the spec's carries the managed line: too long to quote
                'time_zone: PagerDuty has "UTC", the spec wants "Europe/Dublin"',
            ],
            id="schedule fields",
        ),
        pytest.param(
            {**STORED, "teams": [{"id": "PTEAM", "type": "team", "summary": "T"}]},
            [],
            id="team reference read back as a team",
        ),
        pytest.param(
            {**STORED, "teams": []},
            ["teams: PagerDuty has [], the spec wants [PTEAM]"],
            id="team dropped",
        ),
        pytest.param(
            {**STORED, "schedule_layers": list(reversed(STORED["schedule_layers"]))},
            [
                "layers differ: PagerDuty has [secondary, primary], the spec wants [primary, secondary]"
            ],
            id="layer order matters",
        ),
    ],
)
def test_drift(existing: dict[str, Any], expected: list[str]) -> None:
    assert schedule_drift(existing, CREATED, NOW) == expected


def test_teams_are_left_alone_without_a_team_ref() -> None:
    desired = schedule_doc(IDENTITY, spec(), USERS, STORED, NOW, None)
    assert schedule_drift({**STORED, "teams": []}, desired, NOW) == []


def test_restrictions_compare_as_a_set_with_or_without_seconds() -> None:
    reordered = [{**r, "start_time_of_day": r["start_time_of_day"][:5]} for r in reversed(OOH)]
    assert schedule_drift(_with_layer(STORED, 0, restrictions=reordered), CREATED, NOW) == []


def test_out_of_hours_on_a_full_week_is_refused_naming_the_layer_and_field() -> None:
    every_hour = BusinessHours(days=list(Weekday), start="00:00", end="24:00")
    full = spec().model_copy(update={"business_hours": every_hour})
    with pytest.raises(
        ValueError, match=r"spec\.layers\[0\] \(primary\): spec\.businessHours covers"
    ):
        schedule_doc(IDENTITY, full, USERS, None, NOW, None)


def test_a_layer_without_users_is_refused() -> None:
    with pytest.raises(ValueError, match=r"spec\.layers\[1\] \(secondary\) has no PagerDuty users"):
        schedule_doc(IDENTITY, spec(), {"primary": ["PANA"]}, None, NOW, None)


TURN = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)  # a turn of the daily layers below
TEAM = OnCallTeamSpec(
    members=[
        {"email": "ana@example.com"},
        {"email": "bo@example.com", "role": "manager"},
        {"email": "cy@example.com", "until": "2026-11-01"},
        {"email": "di@example.com"},
    ]
)


@pytest.mark.parametrize(
    ("participants", "expected"),
    [
        (
            {"emails": ["zed@example.com", "ana@example.com"]},
            ["zed@example.com", "ana@example.com"],
        ),
        ({"fromTeam": {}}, ["ana@example.com", "di@example.com"]),
        (
            {"fromTeam": {"roles": ["manager", "responder"]}},
            ["ana@example.com", "bo@example.com", "di@example.com"],
        ),
    ],
    ids=["explicit order", "responders by default, past terms left out", "team order"],
)
def test_layer_participants(participants: dict[str, Any], expected: list[str]) -> None:
    rotation = RotationSpec.model_validate(
        {
            "teamRef": {"name": "t"},
            "timeZone": "UTC",
            "layers": [
                {
                    "name": "p",
                    "participants": participants,
                    "shiftLength": "1d",
                    "handoff": "2026-01-05T09:00",
                }
            ],
        }
    )
    assert layer_participants(rotation, rotation.layers[0], TEAM, TURN) == expected


def test_participants_from_a_missing_team_name_the_field() -> None:
    rotation = RotationSpec.model_validate(
        {
            "teamRef": {"name": "t"},
            "timeZone": "UTC",
            "layers": [
                {
                    "name": "p",
                    "participants": {"fromTeam": {}},
                    "shiftLength": "1d",
                    "handoff": "2026-01-05T09:00",
                }
            ],
        }
    )
    with pytest.raises(ValueError, match=r"spec\.layers\[0\]\.participants\.fromTeam"):
        layer_participants(rotation, rotation.layers[0], None, TURN)


def test_rerunning_after_an_immediately_edit_is_a_no_op() -> None:
    later = NOW + dt.timedelta(hours=1)
    edited = {**USERS, "secondary": ["PCY", "PDI"]}
    stored = as_pagerduty_returns(
        schedule_doc(IDENTITY, spec(), edited, STORED, later, "PTEAM"), []
    )
    again = later + dt.timedelta(minutes=5)
    assert (
        schedule_drift(
            stored, schedule_doc(IDENTITY, spec(), edited, stored, again, "PTEAM"), again
        )
        == []
    )


def test_a_layer_added_to_the_spec_starts_now_after_the_others() -> None:
    with_third = spec().model_copy(
        update={
            "layers": [*spec().layers, spec().layers[1].model_copy(update={"name": "tertiary"})]
        }
    )
    doc = schedule_doc(IDENTITY, with_third, {**USERS, "tertiary": ["PDI"]}, STORED, NOW, "PTEAM")
    assert [
        (layer.get("id"), layer["name"], layer["start"]) for layer in doc["schedule_layers"]
    ] == [
        ("PL1", "primary", "2026-11-25T12:00:00Z"),
        ("PL2", "secondary", "2026-11-25T12:00:00Z"),
        (None, "tertiary", "2026-11-25T12:00:00+00:00"),
    ]


def test_drift_names_users_by_the_emails_given_and_the_rest_by_id() -> None:
    """A DriftCorrected Event says who PagerDuty had and who the spec wants, by email where known
    (someone added by hand in PagerDuty included, through the user directory)."""
    drift = schedule_drift(
        _with_layer(STORED, 0, users=users("PBO", "PANA")),
        CREATED,
        NOW,
        {"PBO": "bo@example.com", "PANA": "ana@example.com"},
    )
    assert drift == [
        "layer primary: users: PagerDuty has [bo@example.com, ana@example.com], "
        "the spec wants [ana@example.com, bo@example.com]"
    ]
    only_one = schedule_drift(
        _with_layer(STORED, 0, users=users("PBO", "PANA")), CREATED, NOW, {"PBO": "bo@x.com"}
    )
    assert only_one == [
        "layer primary: users: PagerDuty has [bo@x.com, PANA], the spec wants [PANA, bo@x.com]"
    ]
