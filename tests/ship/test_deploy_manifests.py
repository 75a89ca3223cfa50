"""deploy/: the hardening, probes, secret handling and least-privilege RBAC the manifests promise,
checked on the files themselves and, where a kubectl is at hand, on what kustomize renders."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncall_operator.cli import build_parser
from oncall_operator.handlers.main import RunOptions, run_options, started_priority
from oncall_operator.settings import OperatorSettings
from tests.ship.manifests import (
    BASE,
    DEPLOY,
    OPERATOR_NAMESPACE,
    RBAC_KINDS,
    REPO,
    SERVICE_ACCOUNT,
    SINGLE_NAMESPACE,
    Manifest,
    kustomization_resources,
    kustomize,
    load_documents,
    of_kinds,
    only,
)

KUSTOMIZATIONS = [
    BASE,
    SINGLE_NAMESPACE,
    DEPLOY / "argocd" / "crds",
    DEPLOY / "overlays" / "kind-e2e",
]
KIND_NAMES = {"oncallteams", "rotations", "escalationpolicies"}
FORBIDDEN_RESOURCES = {
    "secrets",
    "pods/exec",
    "namespaces",
    "clusterroles",
    "roles",
    "rolebindings",
    "clusterrolebindings",
    "serviceaccounts/token",
    "pods",
}


@pytest.fixture(scope="module")
def base() -> list[Manifest]:
    return kustomization_resources(BASE)


def operator_container(manifests: list[Manifest]) -> dict[str, Any]:
    deployment = only(manifests, "Deployment", "oncall-operator")
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    named = [c for c in containers if c["name"] == "operator"]
    assert len(named) == 1, "the Deployment has one container named operator"
    return named[0]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def dockerfile_text() -> str:
    return (REPO / "Dockerfile").read_text()


def run_params(container: dict[str, Any]) -> RunOptions:
    """What `oncall-operator run` gives kopf from the image's ENTRYPOINT, the container's args and env."""
    entrypoint = re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile_text(), flags=re.MULTILINE)
    assert entrypoint is not None
    command = [*json.loads(entrypoint.group(1)), *container.get("args", [])]
    assert command[:2] == ["oncall-operator", "run"]
    args = build_parser(command[1:]).parse_args(command[1:])
    literal_env = {k: v for k, v in env_of(container).items() if isinstance(v, str)}
    return run_options(args, OperatorSettings.from_env(literal_env))


def dockerfile_user() -> str:
    users = re.findall(r"^USER\s+(\S+)", dockerfile_text(), flags=re.MULTILINE)
    return str(users[-1])


# The hardened pod


def test_pod_runs_as_the_images_numeric_non_root_user(base: list[Manifest]) -> None:
    pod = only(base, "Deployment")["spec"]["template"]["spec"]
    uid, gid = (int(part) for part in dockerfile_user().split(":"))

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (uid, gid)
    assert uid != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["serviceAccountName"] == SERVICE_ACCOUNT


def test_container_is_locked_down(base: list[Manifest]) -> None:
    security = operator_container(base)["securityContext"]

    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in security


def test_only_writable_path_is_an_emptydir_on_tmp(base: list[Manifest]) -> None:
    pod = only(base, "Deployment")["spec"]["template"]["spec"]
    mounts = operator_container(base)["volumeMounts"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    writable = [m["mountPath"] for m in mounts if not m.get("readOnly")]

    assert writable == ["/tmp"]
    assert "emptyDir" in volumes[next(m["name"] for m in mounts if m["mountPath"] == "/tmp")]
    for mount in mounts:
        if mount["mountPath"] != "/tmp":
            assert mount["readOnly"] is True
            assert set(volumes[mount["name"]]) & {"secret", "configMap"}, mount


def test_probes_hit_kopfs_liveness_endpoint_on_the_port_the_image_serves(
    base: list[Manifest],
) -> None:
    container = operator_container(base)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    liveness = re.fullmatch(
        r"http://0\.0\.0\.0:(\d+)/healthz", run_params(container).liveness_endpoint
    )

    assert liveness is not None
    for probe in ("livenessProbe", "readinessProbe"):
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == "/healthz"
        assert ports[http_get["port"]] == int(liveness.group(1))
    assert env_of(container)["ONCALL_LIVENESS_PORT"] == liveness.group(1)


def test_metrics_port_is_declared_and_served_by_the_service(base: list[Manifest]) -> None:
    container = operator_container(base)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    service = only(base, "Service", "oncall-operator-metrics")

    assert ports["metrics"] == int(env_of(container)["ONCALL_METRICS_PORT"]) == 9090
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9090, "targetPort": "metrics"}]
    assert (
        service["spec"]["selector"] == only(base, "Deployment")["spec"]["selector"]["matchLabels"]
    )


def test_resources_have_requests_and_limits(base: list[Manifest]) -> None:
    resources = operator_container(base)["resources"]

    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) >= {"memory"}


def token_file_volume(manifests: list[Manifest]) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """PAGERDUTY_API_TOKEN_FILE, the mount holding it and that mount's volume."""
    pod = only(manifests, "Deployment", "oncall-operator")["spec"]["template"]["spec"]
    container = operator_container(manifests)
    token_file = Path(env_of(container)["PAGERDUTY_API_TOKEN_FILE"])
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(token_file.parent)]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    return token_file, mount, volume


def test_token_is_a_file_of_the_mounted_secret_and_no_env_value_holds_a_secret(
    base: list[Manifest],
) -> None:
    env = env_of(operator_container(base))
    token_file, mount, volume = token_file_volume(base)
    pod = only(base, "Deployment")["spec"]["template"]["spec"]

    assert "PAGERDUTY_API_TOKEN" not in env, "the file, so that a rotated Secret is seen"
    assert volume["secret"]["secretName"] == "pagerduty-api-token"
    assert volume["secret"]["items"] == [{"key": "token", "path": token_file.name}]
    assert "subPath" not in mount, "a subPath mount never sees the Secret change"
    assert mount["readOnly"] is True
    # Readable by the pod's group only, which is the non-root user's.
    assert volume["secret"]["defaultMode"] == 0o440
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    for name, value in env.items():
        if re.search("SECRET|PASSWORD|KEY", name) or name == "PAGERDUTY_API_TOKEN":
            assert isinstance(value, dict), f"{name} must come from a Secret, not a literal"


def test_external_secrets_example_makes_the_secret_the_operator_mounts(
    base: list[Manifest],
) -> None:
    token_file, _, volume = token_file_volume(base)
    docs = load_documents([REPO / "examples" / "external-secrets" / "external-secret.yaml"])
    store = only(docs, "SecretStore")
    external = only(docs, "ExternalSecret")

    assert {d["apiVersion"] for d in docs} == {"external-secrets.io/v1"}
    assert external["metadata"]["namespace"] == store["metadata"]["namespace"] == OPERATOR_NAMESPACE
    assert external["spec"]["secretStoreRef"] == {"kind": "SecretStore", "name": "pagerduty"}
    assert external["spec"]["target"]["name"] == volume["secret"]["secretName"]
    (item,) = volume["secret"]["items"]
    assert [d["secretKey"] for d in external["spec"]["data"]] == [item["key"]]
    assert item["path"] == token_file.name


def test_rendered_secret_mode_is_octal_0440(kubectl: str) -> None:
    _, _, volume = token_file_volume(kustomize(BASE, kubectl))

    assert volume["secret"]["defaultMode"] == 288 == 0o440


def test_base_runs_kopf_with_peering_on_every_namespace(base: list[Manifest]) -> None:
    params = run_params(operator_container(base))
    peering = only(base, "ClusterKopfPeering")

    assert params.standalone is False
    assert params.peering_name == peering["metadata"]["name"]
    assert params.clusterwide is True
    assert params.namespaces == ()


def test_two_replicas_take_turns_and_a_drain_leaves_one(base: list[Manifest]) -> None:
    # Kopf peering pauses every replica but one; a rolling update starts the new pod waiting.
    spec = only(base, "Deployment")["spec"]
    budget = only(base, "PodDisruptionBudget")["spec"]

    assert spec["replicas"] == 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert budget["minAvailable"] == 1
    assert budget["selector"] == spec["selector"]


def test_a_later_started_replica_has_the_lower_priority() -> None:
    first, second = started_priority(), started_priority()

    assert first > second


def test_operator_namespace_enforces_the_restricted_pod_security_standard(
    base: list[Manifest],
) -> None:
    labels = only(base, "Namespace", OPERATOR_NAMESPACE)["metadata"]["labels"]

    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_base_lists_every_manifest_file_it_has() -> None:
    listed = set(yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}

    assert listed == present


# Least-privilege RBAC


def rbac_rules(manifests: list[Manifest]) -> list[dict[str, Any]]:
    return [rule for role in of_kinds(manifests, ["ClusterRole", "Role"]) for rule in role["rules"]]


def all_rules() -> list[tuple[str, dict[str, Any]]]:
    manifests = kustomization_resources(BASE) + kustomization_resources(SINGLE_NAMESPACE)
    return [
        (role["kind"], rule)
        for role in of_kinds(manifests, ["ClusterRole", "Role"])
        for rule in role["rules"]
    ]


@pytest.mark.parametrize(("kind", "rule"), all_rules())
def test_rbac_rule_has_no_wildcards_and_grants_nothing_sensitive(
    kind: str, rule: dict[str, Any]
) -> None:
    for field in ("apiGroups", "resources", "verbs"):
        assert "*" not in rule[field], f"{kind} rule {rule} has a wildcard in {field}"
    assert not set(rule["resources"]) & FORBIDDEN_RESOURCES
    assert not set(rule["verbs"]) & {
        "delete",
        "deletecollection",
        "escalate",
        "bind",
        "impersonate",
    }
    assert "resourceNames" not in rule and "nonResourceURLs" not in rule


def test_cluster_role_grants_exactly_what_the_operator_uses(base: list[Manifest]) -> None:
    granted = {
        (group, resource): sorted(rule["verbs"])
        for rule in rbac_rules(base)
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    expected = {
        **{("oncall.dev", kind): ["get", "list", "patch", "watch"] for kind in KIND_NAMES},
        **{("oncall.dev", f"{kind}/status"): ["get", "patch", "update"] for kind in KIND_NAMES},
        ("", "events"): ["create", "patch"],
        ("events.k8s.io", "events"): ["create", "patch"],
        ("apiextensions.k8s.io", "customresourcedefinitions"): ["list", "watch"],
        ("kopf.dev", "clusterkopfpeerings"): ["get", "list", "patch", "watch"],
    }

    assert granted == expected


def test_single_namespace_role_is_the_cluster_role_without_cluster_scoped_rules(
    base: list[Manifest],
) -> None:
    role = only(kustomization_resources(SINGLE_NAMESPACE), "Role")
    namespaced_rules = [
        rule
        for rule in rbac_rules(base)
        if rule["apiGroups"] not in (["apiextensions.k8s.io"], ["kopf.dev"])
    ]
    peering = {"apiGroups": ["kopf.dev"], "resources": ["kopfpeerings"]}

    assert role["rules"] == [
        *namespaced_rules,
        {**peering, "verbs": ["get", "list", "watch", "patch"]},
    ]


def test_bindings_name_the_operators_service_account() -> None:
    manifests = kustomization_resources(BASE) + kustomization_resources(SINGLE_NAMESPACE)
    for binding in of_kinds(manifests, ["ClusterRoleBinding", "RoleBinding"]):
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": OPERATOR_NAMESPACE}
        ]
        role_kind = "ClusterRole" if binding["kind"] == "ClusterRoleBinding" else "Role"
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": role_kind,
            "name": "oncall-operator",
        }


# What kustomize renders


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda d: str(d.relative_to(REPO)))
def test_kustomization_renders(kubectl: str, directory: Path) -> None:
    assert kustomize(directory, kubectl)


def test_base_renders_everything_into_the_operator_namespace(kubectl: str) -> None:
    rendered = kustomize(BASE, kubectl)
    cluster_scoped = {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "ClusterKopfPeering",
    }

    for manifest in rendered:
        if manifest["kind"] not in cluster_scoped:
            assert manifest["metadata"]["namespace"] == OPERATOR_NAMESPACE, manifest["kind"]


def test_single_namespace_overlay_watches_one_namespace_with_a_role_only(kubectl: str) -> None:
    rendered = kustomize(SINGLE_NAMESPACE, kubectl)
    rbac = of_kinds(rendered, RBAC_KINDS)
    container = operator_container(rendered)
    role_namespace = only(rendered, "Role")["metadata"]["namespace"]

    assert sorted(m["kind"] for m in rbac) == ["Role", "RoleBinding"]
    assert only(rendered, "RoleBinding")["metadata"]["namespace"] == role_namespace
    assert "args" not in container, "ONCALL_WATCH_NAMESPACES alone chooses the namespaces"
    assert run_params(container).namespaces == (role_namespace,)
    assert run_params(container).clusterwide is False
    assert env_of(container)["ONCALL_WATCH_NAMESPACES"] == role_namespace


def test_argocd_crds_come_in_an_earlier_sync_wave_and_are_never_pruned(kubectl: str) -> None:
    rendered = kustomize(DEPLOY / "argocd" / "crds", kubectl)
    crd_files = sorted((REPO / "crds").glob("oncall.dev_*.yaml"))

    assert len(rendered) == len(crd_files) > 0
    for crd in rendered:
        annotations = crd["metadata"]["annotations"]
        assert crd["kind"] == "CustomResourceDefinition"
        assert int(annotations["argocd.argoproj.io/sync-wave"]) < 0
        assert annotations["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"


def test_example_applications_point_at_paths_that_exist() -> None:
    applications = [
        doc
        for doc in yaml.safe_load_all((DEPLOY / "argocd" / "applications.yaml").read_text())
        if doc
    ]
    own_paths = [
        source["path"]
        for app in applications
        for source in app["spec"].get("sources", [app["spec"].get("source")])
        if source and source["repoURL"].endswith("/oncall-operator.git")
    ]

    assert {app["kind"] for app in applications} == {"Application"}
    assert own_paths
    for path in own_paths:
        assert (REPO / path / "kustomization.yaml").exists(), path


def test_example_applications_point_at_revisions_that_exist() -> None:
    applications = [
        doc
        for doc in yaml.safe_load_all((DEPLOY / "argocd" / "applications.yaml").read_text())
        if doc
    ]
    revisions = {
        source["targetRevision"]
        for app in applications
        for source in app["spec"].get("sources", [app["spec"].get("source")])
        if source and source["repoURL"].endswith("/oncall-operator.git")
    }
    tags = set(
        subprocess.run(
            ["git", "tag", "--list", "v*"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
    )

    assert revisions
    assert revisions <= {"main"} | tags, "a targetRevision names a tag that does not exist"


def test_crds_kustomization_lists_every_crd_and_hides_from_kubectl_apply() -> None:
    crds = REPO / "crds"
    kustomization = yaml.safe_load((crds / "Kustomization").read_text())
    manifest_files = {p.name for p in crds.iterdir() if p.suffix in {".yaml", ".yml", ".json"}}

    # `kubectl apply -f crds/` reads every .yaml/.yml/.json file: they must all be CRDs.
    assert manifest_files == {p.name for p in crds.glob("oncall.dev_*.yaml")}
    assert set(kustomization["resources"]) == manifest_files
