"""OnCallTeam -> PagerDuty team, memberships, and the managed-by line; expectations by hand."""

import datetime as dt

import pytest

from oncall_operator.api import Member, OnCallPolicy, OnCallTeamSpec, TeamRole
from oncall_operator.translate import team as translate_team
from oncall_operator.translate.identity import (
    ObjectIdentity,
    managed_description,
    managed_identity,
)
from oncall_operator.translate.team import (
    MembershipChanges,
    active_members,
    desired_membership,
    membership_changes,
    team_doc,
    team_drift,
)

IDENTITY = ObjectIdentity(namespace="oncall", kind="OnCallTeam", name="out-of-hours")
LINE = "Managed by oncall-operator as oncall/OnCallTeam/out-of-hours; edit it in Git, not here."
TODAY = dt.date(2026, 11, 23)


def test_identity_prints_as_namespace_kind_name() -> None:
    assert str(IDENTITY) == "oncall/OnCallTeam/out-of-hours"


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (None, LINE),
        ("", LINE),
        ("Volunteers.", f"Volunteers.\n{LINE}"),
        ("Two\nlines.\n\n", f"Two\nlines.\n{LINE}"),
    ],
)
def test_managed_description(description: str | None, expected: str) -> None:
    assert managed_description(description, IDENTITY) == expected


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (f"Volunteers.\n{LINE}", IDENTITY),
        (LINE, IDENTITY),
        (f"Volunteers.\r\n{LINE}", IDENTITY),
        (
            "Managed by oncall-operator as a/Rotation/b; edit it in Git, not here.",
            ObjectIdentity("a", "Rotation", "b"),
        ),
        ("Volunteers.", None),
        (None, None),
        ("Managed by oncall-operator as oncall/OnCallTeam; edit it in Git, not here.", None),
        (f"x {LINE}", None),
    ],
    ids=["after text", "alone", "CRLF", "other kind", "none", "null", "two parts", "mid-line"],
)
def test_managed_identity_parses_the_line_back(
    description: str | None, expected: ObjectIdentity | None
) -> None:
    assert managed_identity(description) == expected


def test_team_doc_uses_display_name_and_managed_description() -> None:
    spec = OnCallTeamSpec(displayName="Out-of-hours virtual team", description="Volunteers.")
    assert team_doc(IDENTITY, spec) == {
        "type": "team",
        "name": "Out-of-hours virtual team",
        "description": f"Volunteers.\n{LINE}",
    }


def test_team_doc_name_defaults_to_metadata_name() -> None:
    assert team_doc(IDENTITY, OnCallTeamSpec())["name"] == "out-of-hours"


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (
            {
                "id": "PT1",
                "type": "team",
                "name": "out-of-hours",
                "description": LINE,
                "html_url": "https://x",
                "summary": "s",
                "self": "u",
                "default_role": "manager",
            },
            [],
        ),
        (
            {"name": "renamed", "description": LINE},
            ['name: PagerDuty has "renamed", the spec wants "out-of-hours"'],
        ),
        ({"name": "out-of-hours", "description": None}, ["description differs"]),
    ],
    ids=["read-only fields ignored", "name", "description"],
)
def test_team_drift(existing: dict[str, object], expected: list[str]) -> None:
    assert team_drift(existing, team_doc(IDENTITY, OnCallTeamSpec())) == expected


TEAM = OnCallTeamSpec(
    policy={"termWarningDays": 30},
    members=[
        {"email": "Ana@Example.com", "until": "2026-12-23"},
        {"email": "bo@example.com", "role": "manager"},
        {"email": "cy@example.com", "since": "2026-11-24"},
        {"email": "di@example.com", "until": "2026-11-22"},
        {"email": "ed@example.com", "role": "observer", "until": "2026-12-24"},
        {"email": "zed@example.com"},
        {"email": "fi@example.com", "since": "2026-11-23", "until": "2026-11-23"},
    ],
)
USER_IDS = {
    "ana@example.com": "PANA",
    "bo@example.com": "PBO",
    "cy@example.com": "PCY",
    "di@example.com": "PDI",
    "ed@example.com": "PED",
    "fi@example.com": "PFI",
}


def test_desired_membership_today() -> None:
    desired = desired_membership(TEAM, USER_IDS, TODAY)
    assert desired.roles == {
        "PANA": "responder",
        "PBO": "manager",
        "PED": "observer",
        "PFI": "responder",
    }
    assert desired.unresolved == ["zed@example.com"]
    # ana ends in exactly 30 days, fi today; ed in 31 days is not yet "soon".
    assert desired.expiring_soon == ["Ana@Example.com", "fi@example.com"]
    assert desired.inactive == ["cy@example.com", "di@example.com"]


def test_a_term_starting_tomorrow_joins_tomorrow() -> None:
    desired = desired_membership(TEAM, USER_IDS, TODAY + dt.timedelta(days=1))
    assert "PCY" in desired.roles
    assert "PFI" not in desired.roles


@pytest.mark.parametrize(
    ("desired", "actual", "expected"),
    [
        ({"P1": "responder"}, {"P1": "responder"}, MembershipChanges()),
        ({"P1": "responder"}, {}, MembershipChanges(add={"P1": "responder"})),
        ({}, {"P1": "manager"}, MembershipChanges(remove=["P1"])),
        ({"P1": "manager"}, {"P1": "responder"}, MembershipChanges(change_role={"P1": "manager"})),
        (
            {"P1": "responder", "P2": "observer", "P3": "manager"},
            {"P2": "responder", "P3": "manager", "P4": "responder", "P5": "observer"},
            MembershipChanges(
                add={"P1": "responder"}, change_role={"P2": "observer"}, remove=["P4", "P5"]
            ),
        ),
    ],
    ids=["same", "add", "remove", "role change", "all at once"],
)
def test_membership_changes(
    desired: dict[str, str], actual: dict[str, str], expected: MembershipChanges
) -> None:
    changes = membership_changes(desired, actual)
    assert changes == expected
    assert changes.is_empty() == (expected == MembershipChanges())


def test_membership_round_trip_from_spec_until_past_and_since_future() -> None:
    actual = {"PANA": "responder", "PDI": "responder", "PCY": "responder", "PBO": "responder"}
    changes = membership_changes(desired_membership(TEAM, USER_IDS, TODAY).roles, actual)
    assert changes == MembershipChanges(
        add={"PED": "observer", "PFI": "responder"},
        change_role={"PBO": "manager"},
        remove=["PDI", "PCY"],
    )


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([TeamRole.RESPONDER], ["Ana@Example.com", "zed@example.com", "fi@example.com"]),
        ([TeamRole.MANAGER, TeamRole.OBSERVER], ["bo@example.com", "ed@example.com"]),
    ],
)
def test_active_members_in_team_order(roles: list[TeamRole], expected: list[str]) -> None:
    assert [m.email for m in active_members(TEAM, TODAY, roles)] == expected


def test_next_term_change_is_the_first_midnight_a_term_starts_ends_or_warns() -> None:
    spec = OnCallTeamSpec.model_validate(
        {
            "members": [
                {"email": "a@x.com", "since": "2026-12-10"},
                {"email": "b@x.com", "until": "2026-12-20"},
                {"email": "c@x.com"},
            ]
        }
    )
    at = translate_team.next_term_change
    # b warns termWarningDays (14 by default) before the end of the term.
    assert at(spec, dt.date(2026, 11, 1)) == dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    assert at(spec, dt.date(2026, 12, 6)) == dt.datetime(2026, 12, 10, tzinfo=dt.UTC)  # a joins
    assert at(spec, dt.date(2026, 12, 10)) == dt.datetime(2026, 12, 21, tzinfo=dt.UTC)  # b leaves
    assert at(spec, dt.date(2026, 12, 21)) is None
    # Midnights in the policy's time zone, and time off starting and ending.
    dublin = spec.model_copy(
        update={
            "policy": OnCallPolicy(timeZone="America/New_York"),
            "members": [
                Member.model_validate(
                    {"email": "d@x.com", "away": [{"from": "2026-12-24", "until": "2026-12-26"}]}
                )
            ],
        }
    )
    assert at(dublin, dt.date(2026, 12, 21)) == dt.datetime(2026, 12, 24, 5, tzinfo=dt.UTC)
    assert at(dublin, dt.date(2026, 12, 24)) == dt.datetime(2026, 12, 27, 5, tzinfo=dt.UTC)
