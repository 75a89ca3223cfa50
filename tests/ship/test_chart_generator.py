"""deploy/helm/oncall-operator is generated from deploy/base (`make chart`): the chart on disk is
exactly what the generator makes of the base, and a changed base shows up as a stale chart.
(tests/ship/test_helm_chart.py renders it with Helm and compares with kustomize.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from oncall_testbed.release import chart
from tests.ship.manifests import BASE, REPO, find_kubectl

CHART = REPO / chart.CHART_PATH


@pytest.fixture(scope="module")
def kubectl() -> str:
    found = find_kubectl()
    if found is None:
        pytest.skip("no kubectl: neither the control plane's build nor one on PATH")
    return found


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
