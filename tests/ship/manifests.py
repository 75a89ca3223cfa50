"""The deploy/ manifests as data: render a kustomization, pick objects, read RBAC rules.

Reusable by other tests (the control-plane RBAC test, the operator end-to-end test)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from oncall_testbed.controlplane.binaries import find_binary

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BASE = DEPLOY / "base"
SINGLE_NAMESPACE = DEPLOY / "overlays" / "single-namespace"
OPERATOR_NAMESPACE = "oncall-operator"
SERVICE_ACCOUNT = "oncall-operator"
RBAC_KINDS = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")

Manifest = dict[str, Any]


def find_kubectl() -> str | None:
    """A kubectl with kustomize built in: the control plane's (envtest order), else one on PATH."""
    built = find_binary("kubectl")
    if built is not None:
        return str(built)
    return shutil.which("kubectl")


def kustomize(directory: Path, kubectl: str) -> list[Manifest]:
    """`kubectl kustomize DIRECTORY` parsed into its documents."""
    rendered = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if rendered.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{rendered.stderr}")
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def load_documents(paths: Iterable[Path]) -> list[Manifest]:
    return [doc for path in paths for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization_resources(directory: Path) -> list[Manifest]:
    """The documents of the plain files a kustomization lists (no patches, no transformers)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    files = [directory / name for name in kustomization["resources"] if name.endswith(".yaml")]
    return load_documents(files)


def only(manifests: Iterable[Manifest], kind: str, name: str | None = None) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind and name in (None, m["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def of_kinds(manifests: Iterable[Manifest], kinds: Iterable[str]) -> list[Manifest]:
    wanted = set(kinds)
    return [m for m in manifests if m["kind"] in wanted]
