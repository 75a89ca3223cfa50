"""docs/gitops.md documents every option of the three commands."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

from oncall_operator.cli import SUBCOMMANDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "gitops.md"


@pytest.mark.parametrize("command", ["validate", "plan", "import"])
def test_every_option_is_documented(command: str) -> None:
    parser = argparse.ArgumentParser()
    importlib.import_module(SUBCOMMANDS[command][0]).add_arguments(parser)
    options = [
        o
        for action in parser._actions
        for o in action.option_strings
        if o.startswith("--") and o != "--help"
    ]
    text = DOC.read_text()

    assert f"`oncall-operator {command}" in text
    assert options and all(
        f"`{o}" in text or f"[{o}" in text or f"{o} " in text for o in options
    ), options
