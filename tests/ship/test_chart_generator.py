"""deploy/helm/oncall-operator is generated from deploy/base (`make chart`): the chart on disk is
exactly what the generator makes of the base, and a changed base shows up as a stale chart.
(tests/ship/test_helm_chart.py renders it with Helm and compares with kustomize.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from oncall_testbed.release import chart
from tests.ship.manifests import BASE, REPO

CHART = REPO / chart.CHART_PATH


def base_image_tag() -> str:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    (image,) = kustomization["images"]
    return str(image["newTag"])


def test_the_chart_is_what_the_generator_makes_of_deploy_base(kubectl: str) -> None:
    files = chart.generate(REPO, kubectl)

    assert chart.stale(REPO, files) == [], "run `make chart` and commit the result"
    # The API's CRDs and Kopf's peering CRDs (from deploy/base/peering.yaml).
    assert {p.name for p in files if p.parts[0] == "crds"} == {
        p.name for p in (REPO / "crds").glob("*.yaml")
    } | {"kopf.dev_peerings.yaml"}


def test_the_generator_notices_a_changed_base(kubectl: str, tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    for part in ("deploy", "crds"):
        shutil.copytree(REPO / part, copy / part)
    deployment = copy / "deploy" / "base" / "deployment.yaml"
    deployment.write_text(deployment.read_text().replace("periodSeconds: 20", "periodSeconds: 25"))

    files = chart.generate(copy, kubectl)

    assert chart.stale(copy, files) == [Path("templates/deployment.yaml")]
    chart.write(copy, files)
    assert chart.stale(copy, chart.generate(copy, kubectl)) == []


def test_chart_app_version_is_the_base_image_tag() -> None:
    chart_yaml = yaml.safe_load((CHART / "Chart.yaml").read_text())

    assert chart_yaml["appVersion"] == chart_yaml["version"] == base_image_tag()


def test_the_generator_notices_a_changed_monitoring_kit(kubectl: str, tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    for part in ("deploy", "crds"):
        shutil.copytree(REPO / part, copy / part)
    kit = copy / "deploy" / "monitoring"
    rules = kit / "prometheusrule.yaml"
    rules.write_text(rules.read_text().replace("for: 15m", "for: 20m"))
    monitor = kit / "servicemonitor.yaml"
    monitor.write_text(monitor.read_text().replace("interval: 30s", "interval: 45s"))
    dashboard = kit / chart.DASHBOARD_FILE
    dashboard.write_text(dashboard.read_text().replace('"refresh": "1m"', '"refresh": "5m"'))

    files = chart.generate(copy, kubectl)

    assert chart.stale(copy, files) == sorted(
        [
            Path("templates/prometheusrule.yaml"),
            Path("values.yaml"),  # the interval is a value; its default is the kit's
            Path("dashboards/oncall-operator.json"),
        ]
    )
    assert yaml.safe_load(files[Path("values.yaml")])["metrics"]["serviceMonitor"] == {
        "enabled": False,
        "labels": {},
        "interval": "45s",
    }


def test_the_generator_refuses_a_service_monitor_that_misses_the_service(
    kubectl: str, tmp_path: Path
) -> None:
    copy = tmp_path / "repo"
    for part in ("deploy", "crds"):
        shutil.copytree(REPO / part, copy / part)
    monitor = copy / "deploy" / "monitoring" / "servicemonitor.yaml"
    monitor.write_text(
        monitor.read_text().replace(
            "app.kubernetes.io/name: oncall-operator\n  namespaceSelector",
            "app.kubernetes.io/name: other\n  namespaceSelector",
        )
    )

    with pytest.raises(chart.ChartError, match="does not select the base's Service"):
        chart.generate(copy, kubectl)
