import pytest
from prometheus_client import CollectorRegistry

from oncall_operator.metrics import OperatorMetrics
from oncall_operator.settings import OperatorSettings, SettingsError


def test_defaults_watch_every_namespace_and_check_drift_every_five_minutes() -> None:
    settings = OperatorSettings.from_env({})
    assert settings.watch_namespaces == ()
    assert settings.drift_interval_seconds == 300.0
    assert (settings.metrics_port, settings.liveness_port) == (9090, 8080)


def test_namespaces_are_a_comma_list() -> None:
    settings = OperatorSettings.from_env({"ONCALL_WATCH_NAMESPACES": " oncall, team-a ,,"})
    assert settings.watch_namespaces == ("oncall", "team-a")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "ONCALL_DRIFT_INTERVAL_SECONDS",
            "soon",
            "ONCALL_DRIFT_INTERVAL_SECONDS='soon' is not a number",
        ),
        ("ONCALL_DRIFT_INTERVAL_SECONDS", "0", "must be greater than 0"),
        ("ONCALL_METRICS_PORT", "70000", "ONCALL_METRICS_PORT='70000' is not a TCP port"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        OperatorSettings.from_env({name: value})


def test_client_hooks_count_requests_and_rate_limit_waits() -> None:
    registry = CollectorRegistry()
    metrics = OperatorMetrics(registry)
    metrics.request_done("GET", 200, 0.1)
    metrics.request_done("PUT", None, 0.2)
    metrics.rate_limit_waited(2.5)
    sample = registry.get_sample_value
    assert sample("oncall_pagerduty_requests_total", {"method": "GET", "status": "200"}) == 1
    assert sample("oncall_pagerduty_requests_total", {"method": "PUT", "status": "error"}) == 1
    assert sample("oncall_pagerduty_rate_limit_wait_seconds_total") == 2.5


def test_team_page_gauges_follow_the_status_and_go_with_the_team() -> None:
    registry = CollectorRegistry()
    metrics = OperatorMetrics(registry)
    over = {
        "pages": {"outOfHoursLast30Days": 12, "people": []},
        "conditions": [{"type": "Sustainable", "status": "False", "reason": "PageBudgetExceeded"}],
    }
    metrics.observe_status("OnCallTeam", "oncall", "out-of-hours", over)
    metrics.observe_status("Rotation", "oncall", "weekly", over)  # not a team: no gauge
    sample = registry.get_sample_value
    labels = {"namespace": "oncall", "team": "out-of-hours"}
    assert sample("oncall_team_out_of_hours_pages", labels) == 12
    assert sample("oncall_team_page_budget_exceeded", labels) == 1
    assert (
        sample("oncall_team_out_of_hours_pages", {"namespace": "oncall", "team": "weekly"}) is None
    )
    within = {"pages": {"outOfHoursLast30Days": 3}, "conditions": []}
    metrics.observe_status("OnCallTeam", "oncall", "out-of-hours", within)
    assert sample("oncall_team_page_budget_exceeded", labels) == 0
    metrics.forget("OnCallTeam", "oncall", "out-of-hours")
    metrics.forget("OnCallTeam", "oncall", "never-seen")
    assert sample("oncall_team_out_of_hours_pages", labels) is None
