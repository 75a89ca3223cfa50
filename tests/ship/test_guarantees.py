"""docs/guarantees.md names the tests that prove each promise: every one of them exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUARANTEES = REPO / "docs" / "guarantees.md"


def named_tests() -> list[tuple[str, str]]:
    return re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", GUARANTEES.read_text())


def test_every_test_the_guarantees_name_exists() -> None:
    named = named_tests()
    assert len(named) >= 20
    missing = []
    for path, name in named:
        tree = ast.parse((REPO / path).read_text())
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        if name not in functions:
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_promise_names_a_test() -> None:
    text = GUARANTEES.read_text()
    promises = text.split("## What it does not promise")[0].split("\n### ")[1:]
    assert len(promises) >= 10
    for promise in promises:
        assert re.search(r"`tests/[\w/]+\.py::\w+`", promise), promise.splitlines()[0]
