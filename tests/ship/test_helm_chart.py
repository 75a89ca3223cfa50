"""deploy/helm/oncall-operator: generated from deploy/base, rendering what kustomize renders, linted
by Helm and installed, upgraded and uninstalled by Helm on the real control plane.

Helm is built from its Go module (helm.sh/helm/v4) by the testbed's Go-tool builder, once."""

from __future__ import annotations

import copy
import json
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from oncall_operator.settings import OperatorSettings, PagerDutySettings
from oncall_testbed.controlplane import ControlPlane
from oncall_testbed.gotools.registry import HELM_VERSION
from oncall_testbed.release import chart, release
from tests.fixtures.gotools import GoToolGetter
from tests.ship.manifests import (
    BASE,
    OPERATOR_NAMESPACE,
    REPO,
    SINGLE_NAMESPACE,
    Manifest,
    kustomize,
    only,
)

CHART = REPO / chart.CHART_PATH
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def helm(go_tool: GoToolGetter) -> str:
    return str(go_tool("helm"))


def base_image_tag() -> str:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    (image,) = kustomization["images"]
    return str(image["newTag"])


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, capture_output=True, text=True, check=False, timeout=120, **kwargs
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result


def template(helm: str, *settings: str, namespace: str = OPERATOR_NAMESPACE) -> list[Manifest]:
    """`helm template` of the chart with `--set` settings, parsed (CRDs not included)."""
    args = [helm, "template", "oncall-operator", str(CHART), "--namespace", namespace]
    for setting in settings:
        args += ["--set", setting]
    return [doc for doc in yaml.safe_load_all(run(args).stdout) if doc]


CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "ClusterKopfPeering"}


def without_helm_labels(manifests: list[Manifest]) -> list[Manifest]:
    """The objects without Helm's own labels, CRDs (the chart has them in crds/) and the namespace
    kustomize puts on cluster-scoped kinds it does not know (the API server ignores it)."""
    manifests = [m for m in manifests if m["kind"] != "CustomResourceDefinition"]
    for manifest in manifests:
        if manifest["kind"] in CLUSTER_SCOPED:
            manifest["metadata"].pop("namespace", None)
        labels = manifest["metadata"].get("labels", {})
        for label in chart.HELM_LABELS:
            labels.pop(label, None)
    return sorted(
        manifests,
        key=lambda m: (m["kind"], m["metadata"].get("namespace", ""), m["metadata"]["name"]),
    )


def container(manifests: list[Manifest]) -> dict[str, Any]:
    (found,) = only(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    return dict(found)


def env(manifests: list[Manifest]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in container(manifests)["env"]}


# Helm renders what kustomize renders


def test_helm_is_the_pinned_release(helm: str) -> None:
    result = run([helm, "version", "--template", "{{ .Version }}"])

    assert result.stdout.strip() == HELM_VERSION


def test_helm_lint_is_clean(helm: str) -> None:
    result = run([helm, "lint", "--strict", str(CHART)])

    assert "0 chart(s) failed" in result.stdout


def test_default_values_render_deploy_base(helm: str, kubectl: str) -> None:
    rendered = template(helm, "createNamespace=true", f"image.tag={base_image_tag()}")

    assert without_helm_labels(rendered) == without_helm_labels(kustomize(BASE, kubectl))


def test_watched_namespaces_render_the_single_namespace_overlay(helm: str, kubectl: str) -> None:
    overlay = kustomize(SINGLE_NAMESPACE, kubectl)
    watched = only(overlay, "Role")["metadata"]["namespace"]
    rendered = template(
        helm,
        "createNamespace=true",
        f"image.tag={base_image_tag()}",
        f"watchNamespaces={{{watched}}}",
    )

    assert without_helm_labels(rendered) == without_helm_labels(overlay)


def test_every_object_carries_helms_labels(helm: str) -> None:
    for manifest in template(helm, "createNamespace=true"):
        labels = manifest["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "Helm", manifest["kind"]
        assert labels["app.kubernetes.io/part-of"] == "oncall-operator", manifest["kind"]


def test_values_reach_the_objects(helm: str) -> None:
    rendered = template(
        helm,
        "image.repository=registry.example.com/oncall-operator",
        "image.digest=sha256:" + "a" * 64,
        "replicaCount=2",
        "driftIntervalSeconds=120",
        "readBudgetPerMinute=300",
        "pagerduty.apiUrl=https://api.eu.pagerduty.com",
        "pagerduty.rateLimit=450",
        "pagerduty.tokenSecret.name=pd-token",
        "pagerduty.tokenSecret.key=api-key",
        "pagerduty.tokenFile=/etc/pd/api-key",
        "resources.limits.memory=512Mi",
        "nodeSelector.pool=system",
        "podAnnotations.team=platform",
    )
    deployment = only(rendered, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    operator = container(rendered)
    (secret,) = [v["secret"] for v in pod["volumes"] if "secret" in v]

    assert operator["image"] == "registry.example.com/oncall-operator@sha256:" + "a" * 64
    assert deployment["spec"]["replicas"] == 2
    assert (
        env(rendered).items()
        >= {
            "PAGERDUTY_API_TOKEN_FILE": "/etc/pd/api-key",
            "ONCALL_DRIFT_INTERVAL_SECONDS": "120",
            "ONCALL_LIVENESS_PORT": "8080",
            "ONCALL_METRICS_PORT": "9090",
            "ONCALL_READ_BUDGET_PER_MINUTE": "300",
            "PAGERDUTY_API_URL": "https://api.eu.pagerduty.com",
            "PAGERDUTY_RATE_LIMIT": "450",
        }.items()
    )
    settings = {
        cls.ENV_PREFIX + name.upper()
        for cls in (OperatorSettings, PagerDutySettings)
        for name in cls.model_fields
    }
    assert set(env(rendered)) <= settings, "every variable the chart sets is a setting"
    assert secret == {
        "secretName": "pd-token",
        "defaultMode": 0o440,
        "items": [{"key": "api-key", "path": "api-key"}],
    }
    assert [m["mountPath"] for m in operator["volumeMounts"] if m.get("readOnly")] == ["/etc/pd"]
    assert operator["resources"]["limits"]["memory"] == "512Mi"
    assert pod["nodeSelector"] == {"pool": "system"}
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"team": "platform"}
    assert not [m for m in rendered if m["kind"] == "Namespace"], (
        "createNamespace is off by default"
    )


def test_metrics_off_serves_none(helm: str) -> None:
    rendered = template(helm, "metrics.enabled=false")

    assert [m for m in rendered if m["kind"] == "Service"] == []
    assert env(rendered)["ONCALL_METRICS_PORT"] == "0"
    assert [p["name"] for p in container(rendered)["ports"]] == ["healthz"]


# The monitoring kit (deploy/monitoring), optional

MONITORING = REPO / chart.MONITORING_PATH
MONITORING_KINDS = {"ServiceMonitor", "PrometheusRule"}
MONITORING_ON = ("metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true")


def kit() -> list[Manifest]:
    return [
        doc
        for name in ("servicemonitor.yaml", "prometheusrule.yaml")
        for doc in yaml.safe_load_all((MONITORING / name).read_text())
        if doc
    ]


def in_namespace(manifest: Manifest, namespace: str) -> Manifest:
    """A kit object as it is when applied in `namespace` instead of the kit's own."""
    moved = copy.deepcopy(manifest)
    moved["metadata"]["namespace"] = namespace
    if "namespaceSelector" in moved["spec"]:
        moved["spec"]["namespaceSelector"]["matchNames"] = [namespace]
    return moved


def monitoring(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in MONITORING_KINDS]


def test_monitoring_is_off_by_default(helm: str) -> None:
    rendered = template(helm)

    assert monitoring(rendered) == []
    assert [m for m in rendered if m["kind"] == "ConfigMap"] == []


def test_monitoring_on_renders_deploy_monitoring(helm: str) -> None:
    rendered = template(helm, *MONITORING_ON)

    assert without_helm_labels(monitoring(rendered)) == without_helm_labels(kit())


def test_monitoring_follows_the_release_namespace(helm: str) -> None:
    rendered = template(helm, *MONITORING_ON, namespace="observability-test")

    assert without_helm_labels(monitoring(rendered)) == without_helm_labels(
        [in_namespace(m, "observability-test") for m in kit()]
    )
    (service_monitor,) = [m for m in rendered if m["kind"] == "ServiceMonitor"]
    (service,) = [m for m in rendered if m["kind"] == "Service"]
    assert service_monitor["spec"]["namespaceSelector"]["matchNames"] == ["observability-test"]
    assert service_monitor["spec"]["selector"]["matchLabels"].items() <= (
        service["metadata"]["labels"].items()
    )


def test_prometheus_templates_reach_prometheus_unexpanded(helm: str) -> None:
    (rule,) = [m for m in template(helm, *MONITORING_ON) if m["kind"] == "PrometheusRule"]
    annotations = {r["alert"]: r["annotations"] for g in rule["spec"]["groups"] for r in g["rules"]}

    assert "{{ $labels.kind }}" in annotations["OnCallObjectsNotReady"]["summary"]
    assert "{{ $value | humanize }}" in annotations["OnCallPagerDutyUnauthorized"]["description"]


def test_monitoring_labels_and_interval_are_values(helm: str) -> None:
    rendered = template(
        helm,
        *MONITORING_ON,
        "metrics.serviceMonitor.labels.release=kube-prometheus-stack",
        "metrics.serviceMonitor.interval=1m",
        "metrics.prometheusRule.labels.release=kube-prometheus-stack",
    )
    by_kind = {m["kind"]: m for m in monitoring(rendered)}

    for kind in MONITORING_KINDS:
        labels = by_kind[kind]["metadata"]["labels"]
        assert labels["release"] == "kube-prometheus-stack", kind
        assert labels["app.kubernetes.io/managed-by"] == "Helm", kind
        assert labels["app.kubernetes.io/name"] == "oncall-operator", kind
    assert [e["interval"] for e in by_kind["ServiceMonitor"]["spec"]["endpoints"]] == ["1m"]


def test_monitoring_needs_metrics(helm: str) -> None:
    rendered = template(
        helm, *MONITORING_ON, "metrics.grafanaDashboard.enabled=true", "metrics.enabled=false"
    )

    assert monitoring(rendered) == []
    assert [m for m in rendered if m["kind"] == "ConfigMap"] == []


def test_the_grafana_dashboard_is_an_optional_config_map_for_the_sidecar(helm: str) -> None:
    rendered = template(helm, "metrics.grafanaDashboard.enabled=true")
    (config_map,) = [m for m in rendered if m["kind"] == "ConfigMap"]

    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["namespace"] == OPERATOR_NAMESPACE
    (dashboard,) = config_map["data"].values()
    assert json.loads(dashboard) == json.loads((MONITORING / chart.DASHBOARD_FILE).read_text())


def test_helm_lint_is_clean_with_monitoring_on(helm: str) -> None:
    settings = [*MONITORING_ON, "metrics.grafanaDashboard.enabled=true"]
    result = run([helm, "lint", "--strict", str(CHART), *(f"--set={s}" for s in settings)])

    assert "0 chart(s) failed" in result.stdout


def test_the_image_tag_defaults_to_the_charts_app_version(helm: str) -> None:
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]

    assert container(template(helm))["image"] == f"oncall-operator:{app_version}"


# The packaged chart


def test_the_packaged_chart_carries_the_release_version_and_image(
    helm: str, tmp_path: Path
) -> None:
    packaged = release.package_chart(
        REPO, helm, tmp_path, "1.2.3", "registry.example.com/oncall-operator", DIGEST
    )

    with tarfile.open(packaged) as archive:
        chart = yaml.safe_load(archive.extractfile("oncall-operator/Chart.yaml").read())  # type: ignore[union-attr]
        values = yaml.safe_load(archive.extractfile("oncall-operator/values.yaml").read())  # type: ignore[union-attr]
        names = archive.getnames()
    assert packaged.name == "oncall-operator-1.2.3.tgz"
    assert (chart["version"], chart["appVersion"]) == ("1.2.3", "1.2.3")
    assert values["image"]["repository"] == "registry.example.com/oncall-operator"
    assert values["image"]["digest"] == DIGEST
    assert {f"oncall-operator/crds/{p.name}" for p in (REPO / "crds").glob("*.yaml")} <= set(names)


# helm install / upgrade / uninstall on the control plane

RELEASE = "oncall-operator-helm-test"
RELEASE_NAMESPACE = "oncall-helm-test"
WATCHED = "oncall-helm-watched"


def helm_on(plane: ControlPlane, helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run([helm, *args, "--kubeconfig", str(plane.admin_kubeconfig)])


def gone(read: Any) -> bool:
    try:
        read()
    except ApiException as error:
        return error.status == 404
    return False


def wait_gone(what: str, read: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not gone(read):
        assert time.monotonic() < deadline, f"{what} still exists"
        time.sleep(0.5)


@pytest.fixture
def released(
    control_plane: ControlPlane, kube_api_client: client.ApiClient, helm: str
) -> Iterator[str]:
    """The namespace the test installs into; whatever the release left is uninstalled after."""
    core = client.CoreV1Api(kube_api_client)
    try:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=WATCHED)))
    except ApiException as error:
        if error.status != 409:
            raise
    yield RELEASE_NAMESPACE
    subprocess.run(
        [
            helm,
            "uninstall",
            RELEASE,
            "--namespace",
            RELEASE_NAMESPACE,
            "--ignore-not-found",
            "--kubeconfig",
            str(control_plane.admin_kubeconfig),
        ],
        capture_output=True,
        check=False,
        timeout=120,
    )


@pytest.mark.controlplane
def test_helm_installs_upgrades_and_uninstalls_the_chart(
    control_plane: ControlPlane, kube_api_client: client.ApiClient, helm: str, released: str
) -> None:
    apps = client.AppsV1Api(kube_api_client)
    rbac = client.RbacAuthorizationV1Api(kube_api_client)
    extensions = client.ApiextensionsV1Api(kube_api_client)

    helm_on(
        control_plane,
        helm,
        "install",
        RELEASE,
        str(CHART),
        "--namespace",
        released,
        "--create-namespace",
        "--set",
        "image.tag=test",
    )
    deployment = apps.read_namespaced_deployment("oncall-operator", released)
    cluster_role = rbac.read_cluster_role("oncall-operator")
    crds = {crd.metadata.name for crd in extensions.list_custom_resource_definition().items}
    status = json.loads(
        helm_on(control_plane, helm, "status", RELEASE, "-n", released, "-o", "json").stdout
    )

    assert status["info"]["status"] == "deployed"
    assert deployment.spec.template.spec.containers[0].image == "oncall-operator:test"
    assert cluster_role.metadata.labels["app.kubernetes.io/instance"] == RELEASE
    assert {
        doc["metadata"]["name"]
        for p in (CHART / "crds").glob("*.yaml")
        for doc in yaml.safe_load_all(p.read_text())
        if doc
    } <= crds

    helm_on(
        control_plane,
        helm,
        "upgrade",
        RELEASE,
        str(CHART),
        "--namespace",
        released,
        "--set",
        "image.tag=test",
        "--set",
        f"watchNamespaces={{{WATCHED}}}",
        "--set",
        "driftIntervalSeconds=60",
    )
    upgraded = apps.read_namespaced_deployment("oncall-operator", released)
    upgraded_env = {e.name: e.value for e in upgraded.spec.template.spec.containers[0].env}

    assert upgraded_env["ONCALL_WATCH_NAMESPACES"] == WATCHED
    assert upgraded_env["ONCALL_DRIFT_INTERVAL_SECONDS"] == "60"
    assert rbac.read_namespaced_role("oncall-operator", WATCHED).rules
    assert (
        rbac.read_namespaced_role_binding("oncall-operator", WATCHED).subjects[0].namespace
        == released
    )
    wait_gone(
        "the ClusterRole after watching one namespace",
        lambda: rbac.read_cluster_role("oncall-operator"),
    )

    helm_on(control_plane, helm, "uninstall", RELEASE, "--namespace", released)

    wait_gone(
        "the Deployment", lambda: apps.read_namespaced_deployment("oncall-operator", released)
    )
    wait_gone("the Role", lambda: rbac.read_namespaced_role("oncall-operator", WATCHED))
    still = {crd.metadata.name for crd in extensions.list_custom_resource_definition().items}
    assert crds <= still, "Helm never deletes the CRDs of crds/ (that would delete every object)"
