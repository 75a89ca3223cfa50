"""examples/ as the tests apply them: every oncall.dev object, moved into the test's namespace."""

from __future__ import annotations

import copy
import datetime as dt
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


# The day the example cohorts and time off were written for. The e2e tests run with the real
# clock, so they move every date by the whole weeks since then: the set keeps the shape it had
# (seven volunteers, time off ahead) whenever the tests run.
EXAMPLES_WRITTEN = dt.date(2026, 12, 2)


def virtual_team(today: dt.date | None = None) -> list[Manifest]:
    found = manifests(EXAMPLES / "virtual-team")
    weeks = ((today or dt.datetime.now(dt.UTC).date()) - EXAMPLES_WRITTEN).days // 7
    return [shifted(m, dt.timedelta(weeks=max(weeks, 0))) for m in found]


def shifted(manifest: Manifest, by: dt.timedelta) -> Manifest:
    """The manifest with its members' since/until and away dates moved `by`."""
    if manifest["kind"] != "OnCallTeam" or not by:
        return manifest
    moved = copy.deepcopy(manifest)
    for member in moved["spec"].get("members") or []:
        for spans in (member, *(member.get("away") or [])):
            for key in ("since", "until", "from"):
                if key in spans:
                    spans[key] = (dt.date.fromisoformat(str(spans[key])) + by).isoformat()
    return moved


def feature(name: str) -> list[Manifest]:
    return manifests(EXAMPLES / "features" / name)


def named(found: list[Manifest], kind: str, name: str) -> Manifest:
    return next(m for m in found if m["kind"] == kind and m["metadata"]["name"] == name)
