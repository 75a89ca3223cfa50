"""deploy/monitoring: promtool checks and unit-tests the alerts; every metric that the rules and
the Grafana dashboard name is one the operator exports; the ServiceMonitor finds the Service."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from oncall_operator.metrics import OperatorMetrics
from tests.fixtures.gotools import GoToolGetter

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "deploy" / "monitoring"
RULE = MONITORING / "prometheusrule.yaml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
ALERTS = {
    "OnCallPagerDutyUnauthorized",
    "OnCallObjectsNotReady",
    "OnCallRateLimitWaits",
    "OnCallReadBudgetExhausted",
    "OnCallPolicyBreached",
}
# PromQL words that look like metric names but are functions, keywords or label names.
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "rate", "increase", "or", "and",
    "unless", "vector", "histogram_quantile", "on", "ignoring", "le", "kind", "namespace",
    "reason", "ready", "status", "method", "version", "team", "name", "result", "bool",
}  # fmt: skip


def rule_groups() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(RULE.read_text())["spec"]
    return spec


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule_groups()))
    shutil.copy(MONITORING / "tests" / "rules-test.yaml", tmp_path / "rules-test.yaml")
    return tmp_path


def test_promtool_checks_the_rules(go_tool: GoToolGetter, rules_dir: Path) -> None:
    result = subprocess.run(
        [go_tool("promtool"), "check", "rules", "rules.yaml"],
        cwd=rules_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout


def test_promtool_unit_tests_every_alert(go_tool: GoToolGetter, rules_dir: Path) -> None:
    result = subprocess.run(
        [go_tool("promtool"), "test", "rules", "rules-test.yaml"],
        cwd=rules_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(
        re.findall(r"alertname: (\w+)", (MONITORING / "tests" / "rules-test.yaml").read_text())
    )
    assert tested == ALERTS


def test_promtool_fails_a_broken_expectation(go_tool: GoToolGetter, rules_dir: Path) -> None:
    """The unit tests can fail: an alert expected too early is reported."""
    test_file = rules_dir / "rules-test.yaml"
    test_file.write_text(test_file.read_text().replace("eval_time: 16m", "eval_time: 13m"))
    result = subprocess.run(
        [go_tool("promtool"), "test", "rules", "rules-test.yaml"],
        cwd=rules_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "OnCallObjectsNotReady" in result.stdout + result.stderr


def test_the_rule_holds_every_alert_the_issue_asks_for() -> None:
    alerts = {rule["alert"] for group in rule_groups()["groups"] for rule in group["rules"]}
    assert alerts == ALERTS
    not_ready = next(
        rule
        for group in rule_groups()["groups"]
        for rule in group["rules"]
        if rule["alert"] == "OnCallObjectsNotReady"
    )
    assert not_ready["for"] == "15m"


def exported_names() -> set[str]:
    registry = CollectorRegistry()
    OperatorMetrics(registry)
    return {sample.name for family in registry.collect() for sample in family.samples} | {
        # histograms and labelled counters show samples only once observed
        f"{family.name}{suffix}"
        for family in registry.collect()
        for suffix in (
            ("_total",) if family.type == "counter" else ("_bucket", "_count", "_sum", "")
        )
    }


def metric_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', "", expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_ranges))
    return {w for w in words if w not in PROMQL_WORDS}


def dashboard_exprs() -> Iterator[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"]
            yield re.sub(r"label_values\((\w+),.*\)", r"\1", query)


def rule_exprs() -> Iterator[str]:
    for group in rule_groups()["groups"]:
        for rule in group["rules"]:
            yield rule["expr"]


@pytest.mark.parametrize("source", ["dashboard", "rules"])
def test_every_expression_names_metrics_the_operator_exports(source: str) -> None:
    exprs = list(dashboard_exprs() if source == "dashboard" else rule_exprs())
    assert exprs
    exported = exported_names()
    for expr in exprs:
        names = metric_names(expr)
        assert names, expr
        assert names <= exported, f"{expr}: {sorted(names - exported)} not exported"


def test_the_name_check_catches_an_unknown_metric() -> None:
    assert metric_names('sum by (kind) (rate(oncall_nope_total{kind="x"}[5m]))') == {
        "oncall_nope_total"
    }
    assert "oncall_nope_total" not in exported_names()


def test_servicemonitor_selects_the_metrics_service_and_port() -> None:
    monitor = yaml.safe_load((MONITORING / "servicemonitor.yaml").read_text())
    service = yaml.safe_load((REPO / "deploy" / "base" / "service.yaml").read_text())
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    ports = {port["name"] for port in service["spec"]["ports"]}
    assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} <= ports
