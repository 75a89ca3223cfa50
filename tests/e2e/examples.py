"""examples/ as the tests apply them: every oncall.dev object, moved into the test's namespace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FEATURES = sorted(p.name for p in (EXAMPLES / "features").iterdir() if p.is_dir())
# Needs a PagerDuty id that exists first (examples/features/adopt/README.md): its own test seeds it.
NEEDS_SEEDED_ID = {"adopt"}

Manifest = dict[str, Any]


def users() -> list[dict[str, str]]:
    seed: dict[str, list[dict[str, str]]] = yaml.safe_load((EXAMPLES / "users.yaml").read_text())
    return seed["users"]


def manifests(directory: Path) -> list[Manifest]:
    """The directory's oncall.dev objects (Namespaces are the test's business), in file order."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("apiVersion", "").startswith("oncall.dev/"):
                found.append(doc)
    return found


def virtual_team() -> list[Manifest]:
    return manifests(EXAMPLES / "virtual-team")


def feature(name: str) -> list[Manifest]:
    return manifests(EXAMPLES / "features" / name)


def named(found: list[Manifest], kind: str, name: str) -> Manifest:
    return next(m for m in found if m["kind"] == kind and m["metadata"]["name"] == name)
