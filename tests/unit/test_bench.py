"""The scale bench's workload and figures (the run itself is `make bench`, not a test)."""

from __future__ import annotations

from typing import Any

from oncall_operator.api import EscalationPolicySpec, OnCallTeamSpec, RotationSpec
from oncall_testbed import bench

SPECS: dict[str, Any] = {
    "OnCallTeam": OnCallTeamSpec,
    "Rotation": RotationSpec,
    "EscalationPolicy": EscalationPolicySpec,
}


def test_each_team_is_the_shape_the_issue_measures() -> None:
    docs = bench.manifests(3)
    assert [d["kind"] for d in docs] == ["OnCallTeam", "Rotation", "Rotation", "EscalationPolicy"]
    for doc in docs:
        SPECS[doc["kind"]].model_validate(doc["spec"])  # valid as the CRDs' models say
    assert len(docs[0]["spec"]["members"]) == 7
    assert [d["spec"]["layers"][0]["coverage"] for d in docs[1:3]] == [
        "BusinessHours",
        "OutOfHours",
    ]
    assert len(docs[3]["spec"]["rules"]) == 2
    assert {u["email"] for u in bench.users(4)} >= {m["email"] for m in docs[0]["spec"]["members"]}


def test_figures() -> None:
    assert bench._percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert bench._percentile([1.0, 2.0, 3.0, 4.0], 99) == 4.0
    times = [f"2026-12-02T10:00:{s:02d}+00:00" for s in (0, 10, 59)] + ["2026-12-02T10:01:05+00:00"]
    assert bench._busiest_minute([{"time": t} for t in times]) == 3
    assert bench._shape("/teams/PABC123/members?limit=100") == "/teams/{id}/members"


def test_oncall_operator_bench_takes_the_testbed_bench_options() -> None:
    import argparse

    from oncall_operator import bench as operator_bench

    mine, theirs = argparse.ArgumentParser(), argparse.ArgumentParser()
    operator_bench.add_arguments(mine)
    bench.add_arguments(theirs)
    argv = ["--teams", "7", "--drift-interval", "15", "--rate-limit", "480"]
    ours, testbed = vars(mine.parse_args(argv)), vars(theirs.parse_args(argv))
    assert ours.keys() == testbed.keys()
    assert {k: str(v) for k, v in ours.items()} == {k: str(v) for k, v in testbed.items()}
