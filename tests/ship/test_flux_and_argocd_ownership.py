"""examples/flux points at paths that exist and waits on the team objects; the CRDs have one owner
in Argo CD: the operator's Application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
FLUX = REPO / "examples" / "flux"


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def flux_objects() -> list[dict[str, Any]]:
    return [doc for path in sorted(FLUX.glob("*.yaml")) for doc in documents(path)]


def test_flux_kustomizations_point_at_this_repository_paths_and_depend_in_order() -> None:
    objects = flux_objects()
    sources = {o["metadata"]["name"]: o for o in objects if o["kind"] == "GitRepository"}
    kustomizations = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Kustomization"}
    assert {o["apiVersion"] for o in objects} == {
        "source.toolkit.fluxcd.io/v1",
        "kustomize.toolkit.fluxcd.io/v1",
    }
    for name, kustomization in kustomizations.items():
        spec = kustomization["spec"]
        assert spec["sourceRef"]["name"] in sources, name
        for dependency in spec.get("dependsOn", []):
            assert dependency["name"] in kustomizations, name
        if spec["sourceRef"]["name"] == "oncall-operator":
            assert (REPO / spec["path"]).is_dir(), spec["path"]
    assert kustomizations["oncall-operator-crds"]["spec"]["prune"] is False
    assert kustomizations["oncall-operator"]["spec"]["dependsOn"] == [
        {"name": "oncall-operator-crds"}
    ]
    teams = kustomizations["oncall-teams"]["spec"]
    assert teams["wait"] is True  # health by kstatus, which the conditions satisfy
    assert teams["dependsOn"] == [{"name": "oncall-operator"}]


def test_argocd_crds_belong_to_the_operator_application_only() -> None:
    applications = documents(REPO / "deploy" / "argocd" / "applications.yaml")
    owners = {
        app["metadata"]["name"]
        for app in applications
        for source in app["spec"].get("sources", [app["spec"].get("source")])
        if source and source.get("path") == "deploy/argocd/crds"
    }
    assert owners == {"oncall-operator"}
    operator = next(a for a in applications if a["metadata"]["name"] == "oncall-operator")
    revisions = {source["targetRevision"] for source in operator["spec"]["sources"]}
    assert len(revisions) == 1  # the CRDs and the operator from one revision
