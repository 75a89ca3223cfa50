"""The read model against the emulator: reconciles read PagerDuty in lists shared by all, writes are
unchanged, the drift sweep keeps to the read budget and still corrects hand edits, and
find-before-create never duplicates. Time is a fake clock the budget's waits move on."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from oncall_operator.pagerduty import PagerDutyClient, Unavailable
from oncall_operator.pagerduty.budget import ReadBudget, sweep_period
from oncall_operator.pagerduty.readmodel import CachingPagerDutyClient, Snapshot
from oncall_operator.reconcile.model import References, TeamInfo
from oncall_operator.reconcile.rotation import reconcile_rotation
from oncall_operator.reconcile.team import reconcile_team
from oncall_testbed.emulator import EmulatorServer
from tests.reconcile.helpers import NOW, event_reasons, meta, writes

NOW_DT = NOW
DAY30 = __import__("datetime").timedelta(days=30)

TEAM: dict[str, Any] = {
    "members": [
        {"email": "ana@example.com"},
        {"email": "bo@example.com"},
        {"email": "cy@example.com"},
    ]
}
ROTATION: dict[str, Any] = {
    "teamRef": {"name": "t0"},
    "timeZone": "Europe/Dublin",
    "layers": [
        {
            "name": "primary",
            "participants": {"fromTeam": {}},
            "shiftLength": "1w",
            "handoff": "2026-11-30T09:00:00",
        }
    ],
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def caching_client(
    emulator: EmulatorServer, clock: FakeClock, **options: Any
) -> CachingPagerDutyClient:
    return CachingPagerDutyClient(
        emulator.token,
        api_url=emulator.base_url,
        ca_file=str(emulator.ca_file),
        clock=clock,
        sleep=clock.sleep,
        **options,
    )


@pytest.fixture
def cached(emulator: EmulatorServer, clock: FakeClock) -> Iterator[CachingPagerDutyClient]:
    pd = caching_client(emulator, clock, read_budget_per_minute=60, drift_interval_seconds=300)
    try:
        yield pd
    finally:
        pd.close()


@pytest.fixture
def by_hand(emulator: EmulatorServer) -> Iterator[PagerDutyClient]:
    """Someone in PagerDuty's UI: a client of its own, which the read model does not see."""
    pd = PagerDutyClient(emulator.token, api_url=emulator.base_url, ca_file=str(emulator.ca_file))
    try:
        yield pd
    finally:
        pd.close()


def reads(emulator: EmulatorServer) -> Counter[str]:
    """GET requests by path shape (ids as {id}, query string dropped)."""
    shapes = (
        re.sub(r"/P[A-Z0-9]{6}", "/{id}", r["path"].split("?")[0])
        for r in emulator.requests()
        if r["method"] == "GET"
    )
    return Counter(shapes)


def team_refs(name: str, outcome: Any, spec: dict[str, Any] = TEAM) -> References:
    info = TeamInfo(
        name=name, spec=spec, pagerduty_id=outcome.status["pagerduty"]["id"], ready=True
    )
    return References(teams={name: info})


def test_many_teams_are_read_in_lists_and_a_second_round_reads_nothing(
    cached: CachingPagerDutyClient, emulator: EmulatorServer
) -> None:
    teams = [reconcile_team(cached, meta("OnCallTeam", f"t{i}"), TEAM, {}, NOW) for i in range(5)]
    rotations = [
        reconcile_rotation(
            cached,
            meta("Rotation", f"r{i}"),
            {**ROTATION, "teamRef": {"name": f"t{i}"}},
            {},
            team_refs(f"t{i}", team),
            NOW,
        )
        for i, team in enumerate(teams)
    ]
    assert all(o.ready for o in teams + rotations)
    seen = reads(emulator)
    # One list of each collection (users once, not once per email), and no per-object reads:
    # who a new schedule puts on call comes from a list of its team's schedules (one per
    # rotation here, made one after another), not from GET /schedules/{id}.
    assert seen["/users"] == 1
    assert seen["/teams"] == 1
    assert seen["/schedules"] == 1 + 5
    assert seen["/schedules/{id}"] == 0
    assert seen["/teams/{id}/members"] == 0  # a team this process made has none until it adds them
    assert seen["/teams/{id}"] == 0
    # Writes are what the diff needs: a team, its three members, a schedule, per team.
    assert Counter(w.split(" ")[0] for w in writes(emulator)) == {"POST": 10, "PUT": 15}

    def round_again() -> list[Any]:
        again = [
            reconcile_team(cached, meta("OnCallTeam", f"t{i}"), TEAM, o.status, NOW)
            for i, o in enumerate(teams)
        ]
        return again + [
            reconcile_rotation(
                cached,
                meta("Rotation", f"r{i}"),
                {**ROTATION, "teamRef": {"name": f"t{i}"}},
                o.status,
                team_refs(f"t{i}", teams[i]),
                NOW,
            )
            for i, o in enumerate(rotations)
        ]

    # Writing a team's schedule may change its members (PagerDuty's Advanced Permissions add the
    # schedule's users), but every user of these schedules is a member already: nothing to read.
    emulator.clear_requests()
    assert [o.status for o in round_again()] == [o.status for o in teams + rotations]
    assert reads(emulator)["/teams/{id}/members"] == 0
    emulator.clear_requests()
    assert [o.status for o in round_again()] == [o.status for o in teams + rotations]
    assert writes(emulator) == []
    # Nothing is read per object (the page count is one account-wide scan per drift interval).
    assert set(reads(emulator)) <= {"/log_entries"}
    assert reads(emulator)["/log_entries"] <= 1


def test_a_hand_edit_is_corrected_within_one_sweep_period_even_over_budget(
    emulator: EmulatorServer, clock: FakeClock, by_hand: PagerDutyClient
) -> None:
    # A budget of 2 reads a minute: the sweep's reads (4 lists and more) outgrow a 60 s interval.
    cached = caching_client(emulator, clock, read_budget_per_minute=2, drift_interval_seconds=60)
    team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, {}, NOW)
    refs = team_refs("t0", team)
    rotation = reconcile_rotation(cached, meta("Rotation", "r0"), ROTATION, {}, refs, NOW)
    schedule_id = rotation.status["pagerduty"]["id"]
    edited = by_hand.get_schedule(schedule_id)
    by_hand.update_schedule(schedule_id, {**edited, "name": "Renamed in the UI"})
    by_hand.update_team(team.status["pagerduty"]["id"], {"type": "team", "name": "Renamed too"})

    # Until the sweep lists again, the read model has not seen the edit.
    stale = reconcile_rotation(cached, meta("Rotation", "r0"), ROTATION, rotation.status, refs, NOW)
    assert stale.events == []

    clock.now += 120  # sweeps start a drift interval apart; convergence's reads are paid back
    started = clock.now
    swept = cached.sweep_once()
    took = clock.now - started
    assert cached.period == sweep_period(60, swept, 2) > 60  # the sweep says it takes longer
    assert took <= cached.period
    assert took >= (swept - cached.budget.capacity) * 30  # never faster than 2 a minute

    fixed = reconcile_rotation(cached, meta("Rotation", "r0"), ROTATION, rotation.status, refs, NOW)
    assert event_reasons(fixed) == ["DriftCorrected"]
    assert by_hand.get_schedule(schedule_id)["name"] == "r0"
    fixed_team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, team.status, NOW)
    assert event_reasons(fixed_team) == ["DriftCorrected"]
    cached.close()


def test_memberships_changed_by_hand_show_in_the_directory_and_roles_when_old(
    emulator: EmulatorServer, clock: FakeClock, by_hand: PagerDutyClient
) -> None:
    cached = caching_client(emulator, clock, member_roles_max_age_seconds=3600)
    team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, {}, NOW)
    team_id = team.status["pagerduty"]["id"]
    ana, dee = (by_hand.find_user_by_email(f"{n}@example.com") for n in ("ana", "dee"))
    assert ana is not None and dee is not None
    by_hand.set_team_member(team_id, str(dee["id"]), "responder")  # a membership added
    cached.sweep_once()
    fixed = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, team.status, NOW)
    assert event_reasons(fixed) == ["MembershipChanged"]
    assert "removed dee@example.com" in fixed.events[0].message

    by_hand.set_team_member(team_id, str(ana["id"]), "manager")  # only a role: not in the directory
    cached.sweep_once()
    assert reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, team.status, NOW).events == []
    clock.now += 3600
    emulator.clear_requests()
    cached.sweep_once()
    assert reads(emulator)["/teams/{id}/members"] == 1
    fixed = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, team.status, NOW)
    assert "changed the role of ana@example.com to responder" in fixed.events[0].message
    cached.close()


def test_an_unknown_email_is_looked_for_at_the_next_refresh_not_on_every_reconcile(
    cached: CachingPagerDutyClient, emulator: EmulatorServer
) -> None:
    spec = {"members": [*TEAM["members"], {"email": "newcomer-scale@example.com"}]}
    first = reconcile_team(cached, meta("OnCallTeam", "t0"), spec, {}, NOW)
    assert first.status["members"]["unresolved"] == ["newcomer-scale@example.com"]
    emulator.clear_requests()
    for _ in range(3):
        reconcile_team(cached, meta("OnCallTeam", "t0"), spec, first.status, NOW)
    assert reads(emulator)["/users"] == 0
    emulator.seed_users([{"name": "Newcomer", "email": "newcomer-scale@example.com"}])
    cached.sweep_once()
    found = reconcile_team(cached, meta("OnCallTeam", "t0"), spec, first.status, NOW)
    assert found.status["members"]["unresolved"] == []


def test_crash_between_create_and_status_write_never_duplicates(
    cached: CachingPagerDutyClient, emulator: EmulatorServer, clock: FakeClock
) -> None:
    team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, {}, NOW)
    refs = team_refs("t0", team)
    made = reconcile_rotation(cached, meta("Rotation", "r0"), ROTATION, {}, refs, NOW)
    # The status write was lost; the same process reconciles again at once.
    again = reconcile_rotation(cached, meta("Rotation", "r0"), ROTATION, {}, refs, NOW)
    assert event_reasons(again) == ["Adopted"]
    assert again.status["pagerduty"] == made.status["pagerduty"]
    # A new process (the operator restarted): its first lookup lists what the old one made.
    restarted = caching_client(emulator, clock)
    after_restart = reconcile_rotation(restarted, meta("Rotation", "r0"), ROTATION, {}, refs, NOW)
    assert event_reasons(after_restart) == ["Adopted"]
    restarted.close()
    assert [w for w in writes(emulator) if w == "POST /schedules"] == ["POST /schedules"]


def test_a_create_that_got_no_answer_is_looked_for_again_before_creating(
    cached: CachingPagerDutyClient, emulator: EmulatorServer, by_hand: PagerDutyClient
) -> None:
    team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, {}, NOW)
    refs = team_refs("t0", team)
    assert cached.find_schedules("r0") == []  # listed just now: fresh for the next 30 s
    # The create reaches PagerDuty, but its answer is lost (made here by a client of its own;
    # the read model only sees its own request fail).
    made = reconcile_rotation(by_hand, meta("Rotation", "r0"), ROTATION, {}, refs, NOW)
    emulator.script_response("POST", "/schedules", 503, times=4)
    with pytest.raises(Unavailable):
        cached.create_schedule(by_hand.get_schedule(made.status["pagerduty"]["id"]))
    adopted = reconcile_rotation(cached, meta("Rotation", "r0"), ROTATION, {}, refs, NOW)
    assert event_reasons(adopted) == ["Adopted"]
    assert adopted.status["pagerduty"] == made.status["pagerduty"]


def test_a_lookup_older_than_the_create_freshness_lists_again(
    cached: CachingPagerDutyClient,
    emulator: EmulatorServer,
    clock: FakeClock,
    by_hand: PagerDutyClient,
) -> None:
    team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, {}, NOW)
    refs = team_refs("t0", team)
    assert cached.find_schedules("r0") == []
    made = reconcile_rotation(by_hand, meta("Rotation", "r0"), ROTATION, {}, refs, NOW)
    clock.now += cached.create_freshness_seconds
    adopted = reconcile_rotation(cached, meta("Rotation", "r0"), ROTATION, {}, refs, NOW)
    assert event_reasons(adopted) == ["Adopted"]
    assert adopted.status["pagerduty"] == made.status["pagerduty"]


def test_a_list_running_while_an_object_is_made_or_deleted_keeps_that_write() -> None:
    snapshot = Snapshot("schedules")
    snapshot.put({"id": "POLD", "name": "old"})

    def list_while_writing() -> tuple[list[dict[str, Any]], int]:
        listed = [{"id": "POLD", "name": "old"}]  # the list's answer predates both writes
        snapshot.put({"id": "PNEW", "name": "new"})
        snapshot.drop("POLD")
        return listed, 1

    snapshot.refresh(list_while_writing, lambda: 5.0, 5.0)
    assert snapshot.get("PNEW") == {"id": "PNEW", "name": "new"}
    assert snapshot.get("POLD") is None


def test_threads_asking_at_once_share_one_list(
    cached: CachingPagerDutyClient, emulator: EmulatorServer
) -> None:
    found: list[Any] = []
    threads = [
        threading.Thread(target=lambda: found.append(cached.find_user_by_email("ana@example.com")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and all(f and f["email"] == "ana@example.com" for f in found)
    assert reads(emulator)["/users"] == 1


def test_the_budget_paces_waits_and_caps_what_others_spent(clock: FakeClock) -> None:
    budget = ReadBudget(60, clock=clock, sleep=clock.sleep)
    moments = []
    for _ in range(300):
        budget.wait_for_one()
        moments.append(clock.now)
    busiest = max(sum(1 for m in moments if start <= m < start + 60) for start in moments)
    assert 55 <= busiest <= 60  # never above the budget in any minute, and close to it
    budget.spend(1000)  # convergence spent a lot: the sweep waits at most about a minute for it
    waited = budget.wait_for_one()
    assert 60 <= waited <= 70


def test_reads_of_a_paced_thread_wait_for_the_budget(
    emulator: EmulatorServer, clock: FakeClock
) -> None:
    cached = caching_client(emulator, clock, read_budget_per_minute=6)
    started = clock.now
    cached.pace_this_thread()
    for _ in range(4):
        cached.list_log_entries(since=NOW_DT - DAY30, until=NOW_DT)
    assert clock.now - started >= (4 - 0.6) * 60 / 5.4 - 0.01  # 5.4 a minute after the burst
    cached.close()


def test_the_sweep_period_is_the_drift_interval_unless_the_reads_do_not_fit() -> None:
    assert sweep_period(300, 55, 60) == 300
    assert sweep_period(300, 540, 60) == pytest.approx(600)  # 90% of the budget, steadily


def test_on_call_of_rotations_a_policy_uses_comes_batched_from_oncalls_and_matches(
    cached: CachingPagerDutyClient, emulator: EmulatorServer, by_hand: PagerDutyClient
) -> None:
    """NOTES.md: /oncalls answers for many schedules at once, only for those a policy uses."""
    from oncall_operator.api import RotationSpec
    from oncall_operator.reconcile.escalation import reconcile_escalation_policy
    from oncall_operator.reconcile.model import RotationInfo
    from oncall_operator.reconcile.rotation import LOAD_WINDOW, load_window_start

    team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, {}, NOW)
    refs = team_refs("t0", team)
    names = ["r0", "r1", "r2"]
    made = {
        n: reconcile_rotation(cached, meta("Rotation", n), ROTATION, {}, refs, NOW) for n in names
    }
    policy_refs = References(
        teams=refs.teams,
        rotations={n: RotationInfo(n, o.status["pagerduty"]["id"], True) for n, o in made.items()},
    )
    policy = {
        "rules": [
            {"escalateAfterMinutes": 5, "targets": [{"rotationRef": {"name": n}} for n in names]}
        ]
    }
    assert reconcile_escalation_policy(
        cached, meta("EscalationPolicy", "p"), policy, {}, policy_refs, NOW
    ).ready

    # At the next handoff every rotation is woken and asks who is on call: one request.
    handoff = made["r0"].wake_at
    assert handoff is not None
    emulator.clear_requests()
    found: dict[str, Any] = {}
    threads = [
        threading.Thread(
            target=lambda n=n: found.__setitem__(
                n,
                reconcile_rotation(
                    cached, meta("Rotation", n), ROTATION, made[n].status, refs, handoff
                ),
            )
        )
        for n in names
    ]
    cached.oncalls.gather_seconds = 0.5
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seen = reads(emulator)
    assert seen["/oncalls"] == 1, [r["path"] for r in emulator.requests()]
    assert seen["/schedules/{id}"] == 0
    # The same as PagerDuty's own rendering of each schedule.
    spec = RotationSpec.model_validate(ROTATION)
    since = load_window_start(spec, handoff)
    for n in names:
        assert found[n].status["onCall"]["now"] == "bo@example.com"
        rendered = by_hand.get_schedule(
            made[n].status["pagerduty"]["id"], since=since, until=since + LOAD_WINDOW
        )
        expected = [
            (e["user"]["id"], e["start"], e["end"])
            for e in rendered["final_schedule"]["rendered_schedule_entries"]
        ]
        batched = cached.get_schedule(
            made[n].status["pagerduty"]["id"],
            since=since,
            until=since + LOAD_WINDOW,
            time_zone="Europe/Dublin",
        )
        got = [
            (e["user"]["id"], e["start"], e["end"])
            for e in batched["final_schedule"]["rendered_schedule_entries"]
        ]
        normal = lambda xs: [(u, _utc(a), _utc(b)) for u, a, b in xs]  # noqa: E731
        assert normal(got) == normal(expected)


def _utc(text: str) -> str:
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC).isoformat()


def test_the_sweeper_sweeps_only_when_drift_checks_want_it(emulator: EmulatorServer) -> None:
    """A replica Kopf peering keeps paused runs no drift check: it reads nothing at rest."""
    import time

    cached = CachingPagerDutyClient(
        emulator.token,
        api_url=emulator.base_url,
        ca_file=str(emulator.ca_file),
        drift_interval_seconds=0.05,
        read_budget_per_minute=6000,
    )
    stop = threading.Event()
    sweeper = threading.Thread(target=cached.run_sweeps, args=(stop,))
    sweeper.start()
    try:
        time.sleep(0.5)
        assert cached.sweeps_done == 0
        assert emulator.requests() == []
        cached.want_sweep()
        deadline = time.monotonic() + 10
        while cached.sweeps_done == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cached.sweeps_done == 1
    finally:
        stop.set()
        sweeper.join()
        cached.close()


def test_an_edit_reads_its_own_objects_fresh_and_corrects_a_hand_edit_at_once(
    cached: CachingPagerDutyClient, emulator: EmulatorServer, by_hand: PagerDutyClient
) -> None:
    """A spec edit or a resume from pause (the handlers read fresh for them): what was changed
    by hand since the last sweep is set back at once, not at the next sweep."""
    from oncall_operator.pagerduty.readmodel import reading_fresh

    team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, {}, NOW)
    team_id = team.status["pagerduty"]["id"]
    by_hand.update_team(team_id, {"type": "team", "name": "Fixed by hand while paused"})
    dee = by_hand.find_user_by_email("dee@example.com")
    assert dee is not None
    by_hand.set_team_member(team_id, str(dee["id"]), "responder")
    assert reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, team.status, NOW).events == []
    with reading_fresh():
        fixed = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, team.status, NOW)
    assert event_reasons(fixed) == ["DriftCorrected", "MembershipChanged"]
    assert by_hand.get_team(team_id)["name"] == "t0"


TWO_LAYERS: dict[str, Any] = {
    "teamRef": {"name": "t0"},
    "timeZone": "America/New_York",
    "layers": [
        {
            "name": "all-week",
            "participants": {"fromTeam": {}},
            "shiftLength": "1d",
            "handoff": "2026-11-30T09:00:00",
        },
        {
            "name": "office",
            "participants": {"emails": ["cy@example.com", "ana@example.com"]},
            "shiftLength": "1w",
            "handoff": "2026-11-30T09:00:00",
            "coverage": "BusinessHours",
        },
    ],
}


def test_new_schedules_made_together_are_rendered_by_one_list_as_pagerduty_renders_them(
    cached: CachingPagerDutyClient, emulator: EmulatorServer, by_hand: PagerDutyClient
) -> None:
    """NOTES.md: the list renders each layer over since..until; a new schedule has no override,
    so its final schedule is its layers' (the later wins): no GET /schedules/{id} per schedule."""
    from oncall_operator.api import RotationSpec
    from oncall_operator.reconcile.rotation import LOAD_HORIZON, load_window_start

    team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, {}, NOW)
    refs = team_refs("t0", team)
    cached.first_renders.gather_seconds = 0.5
    emulator.clear_requests()
    names = ["r0", "r1", "r2"]
    made: dict[str, Any] = {}
    threads = [
        threading.Thread(
            target=lambda n=n: made.__setitem__(
                n, reconcile_rotation(cached, meta("Rotation", n), TWO_LAYERS, {}, refs, NOW)
            )
        )
        for n in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(made[n].ready for n in names), {n: made[n].status for n in names}
    seen = reads(emulator)
    assert seen["/schedules/{id}"] == 0
    # One list to find before creating, one that renders all three.
    assert seen["/schedules"] == 2, [r["path"] for r in emulator.requests()]

    # The same final schedule as PagerDuty's own rendering, and the same status from it.
    spec = RotationSpec.model_validate(TWO_LAYERS)
    since = load_window_start(spec, NOW)
    for n in names:
        schedule_id = made[n].status["pagerduty"]["id"]
        own = by_hand.get_schedule(
            schedule_id, since=since, until=since + LOAD_HORIZON, time_zone=spec.time_zone
        )
        expected = [
            (e["user"]["id"], _at(e["start"]), _at(e["end"]))
            for e in own["final_schedule"]["rendered_schedule_entries"]
        ]
        assert len({user for user, _, _ in expected}) == 3  # both layers show
        emulator.clear_requests()
        rendered = cached.get_schedule(
            schedule_id, since=since, until=since + LOAD_HORIZON, time_zone=spec.time_zone
        )
        assert emulator.requests() == []  # kept from the reconcile's own rendering
        assert [
            (e["user"]["id"], _at(e["start"]), _at(e["end"]))
            for e in rendered["final_schedule"]["rendered_schedule_entries"]
        ] == expected
        # What is kept of each of the many entries names its user by id only.
        assert {
            tuple(sorted(e["user"]))
            for layer in [rendered["final_schedule"], *rendered["schedule_layers"]]
            for e in layer["rendered_schedule_entries"]
        } == {("id", "type")}
        again = reconcile_rotation(
            PagerDutyClient(
                emulator.token, api_url=emulator.base_url, ca_file=str(emulator.ca_file)
            ),
            meta("Rotation", n),
            TWO_LAYERS,
            made[n].status,
            refs,
            NOW,
        )
        assert again.status == made[n].status

    # A later rendering (another window, a handoff) reads PagerDuty's own final schedule: an
    # override made by hand since shows there, never in a list.
    emulator.clear_requests()
    schedule_id = made["r0"].status["pagerduty"]["id"]
    cached.get_schedule(schedule_id, since=since, until=since + DAY30, time_zone=spec.time_zone)
    assert reads(emulator)["/schedules/{id}"] == 1


def _at(text: str) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_schedule_naming_someone_outside_its_team_makes_the_team_read_again(
    cached: CachingPagerDutyClient, emulator: EmulatorServer
) -> None:
    """NOTES.md "Side effects": PagerDuty adds a schedule's users to its teams by itself."""
    team = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, {}, NOW)
    refs = team_refs("t0", team)
    outsider = {
        **ROTATION,
        "layers": [
            {
                **ROTATION["layers"][0],
                "participants": {"emails": ["ana@example.com", "dee@example.com"]},
            }
        ],
    }
    emulator.clear_requests()
    assert reconcile_rotation(cached, meta("Rotation", "r0"), outsider, {}, refs, NOW).ready
    again = reconcile_team(cached, meta("OnCallTeam", "t0"), TEAM, team.status, NOW)
    assert again.ready and reads(emulator)["/teams/{id}/members"] == 1
    dee = cached.find_user_by_email("dee@example.com")
    assert dee is not None
    members = cached.list_team_members(team.status["pagerduty"]["id"])
    assert dee["id"] in {m["user"]["id"] for m in members}  # the one PagerDuty added
