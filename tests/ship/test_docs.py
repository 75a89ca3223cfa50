"""docs/api.md is the reference users read: every field of the CRDs and every reason the operator
writes is in it, and nothing a user reads points outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncall_operator import conditions
from tests.ship.manifests import REPO

API_DOC = REPO / "docs" / "api.md"
KINDS = ("OnCallTeam", "Rotation", "EscalationPolicy")


def crd(kind: str) -> dict[str, Any]:
    for path in (REPO / "crds").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        if doc["spec"]["names"]["kind"] == kind:
            return dict(doc)
    raise AssertionError(f"no CRD for {kind}")


def field_names(schema: dict[str, Any], path: str = "") -> list[tuple[str, str]]:
    """(path, name) of every property under spec and status, depth first."""
    found = []
    for name, sub in (schema.get("properties") or {}).items():
        here = f"{path}.{name}" if path else name
        found.append((here, name))
        found += field_names(sub, here)
    if schema.get("type") == "array":
        found += field_names(schema.get("items") or {}, path + "[]")
    return found


def section(text: str, heading: str) -> str:
    match = re.search(rf"^## {heading}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docs/api.md has no section {heading!r}"
    return match.group(1)


def documented(name: str, text: str) -> bool:
    """`name` appears as a field in a code span (`name`, `a.name`, `name[]`, `name.x`)."""
    return re.search(rf"`[^`\n]*(?<![\w])({re.escape(name)})(?![\w])[^`\n]*`", text) is not None


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_of_the_crd_is_documented(kind: str) -> None:
    text = API_DOC.read_text()
    own = section(text, kind) + section(text, "Fields every kind has")
    schema = crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    fields = [
        (path, name)
        for path, name in field_names(schema)
        if path.startswith(("spec.", "status.")) and not path.startswith("status.conditions")
    ]

    assert fields
    missing = [path for path, name in fields if not documented(name, own)]
    assert missing == [], f"docs/api.md, section {kind}, does not mention: {missing}"


def test_every_condition_type_and_reason_is_documented() -> None:
    text = section(API_DOC.read_text(), "Conditions and reasons")
    names = {
        value
        for name, value in vars(conditions).items()
        if name.isupper() and isinstance(value, str) and re.fullmatch(r"[A-Z][A-Za-z]+", value)
    } - {"True", "False", "Unknown"}

    assert {"Ready", "Synced", "ReferencesResolved", "Sustainable", "Unauthorized"} <= names
    assert sorted(n for n in names if f"`{n}`" not in text) == []


def test_printer_columns_are_documented() -> None:
    text = API_DOC.read_text()
    for kind in KINDS:
        for column in crd(kind)["spec"]["versions"][0]["additionalPrinterColumns"]:
            assert f"`{column['name']}`" in text, (kind, column["name"])


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [REPO / name for name in listed if (REPO / name).is_file()]


def test_nothing_users_read_links_outside_the_repository() -> None:
    """Only tests and generators may name ../shared (the development material beside the
    repository), and they say what they take from it."""
    offenders = []
    for path in tracked_files():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        if "../shared" not in text:
            continue
        relative = path.relative_to(REPO)
        if relative.parts[0] in {"tests", "testbed"} and relative.suffix == ".py":
            continue
        offenders.append(str(relative))

    assert offenders == []


def test_relative_links_in_markdown_resolve() -> None:
    broken = []
    for path in tracked_files():
        if path.suffix != ".md":
            continue
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if re.match(r"^[a-z]+:", target):
                continue
            if not (path.parent / target).exists():
                broken.append(f"{path.relative_to(REPO)} -> {target}")

    assert broken == []
