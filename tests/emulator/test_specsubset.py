"""The committed spec subset is exactly what specsubset.py makes from PagerDuty's full spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oncall_testbed.emulator.specsubset import (
    SERVED_OPERATIONS,
    SUBSET_FILE,
    extract_subset,
    render,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
FULL_SPEC = REPO_ROOT / ".." / "shared" / "pagerduty" / "openapiv3.json"


@pytest.mark.skipif(not FULL_SPEC.exists(), reason=f"PagerDuty's full spec is not at {FULL_SPEC}")
def test_committed_subset_is_regenerated_exactly() -> None:
    full = json.loads(FULL_SPEC.read_text(encoding="utf-8"))
    assert render(extract_subset(full)) == SUBSET_FILE.read_text(encoding="utf-8")


def test_subset_has_exactly_the_served_operations() -> None:
    subset = json.loads(SUBSET_FILE.read_text(encoding="utf-8"))
    methods = {"get", "put", "post", "delete", "patch"}
    served = {path: sorted(set(item) & methods) for path, item in subset["paths"].items()}
    assert served == {path: sorted(ops) for path, ops in SERVED_OPERATIONS.items()}


def test_every_reference_resolves_inside_the_subset() -> None:
    subset = json.loads(SUBSET_FILE.read_text(encoding="utf-8"))
    text = json.dumps(subset)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        section, name = ref.removeprefix("#/components/").split("/")[:2]
        assert name in subset["components"][section], ref
