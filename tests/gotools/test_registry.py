"""Every registered Go tool has a committed, pinned module that builds what the registry says."""

from __future__ import annotations

import re

import pytest

from oncall_testbed.gotools import TOOLS
from oncall_testbed.gotools.build import GoTool, module_files
from oncall_testbed.gotools.cli import pinned_version


@pytest.mark.parametrize("tool", TOOLS.values(), ids=list(TOOLS))
def test_module_is_committed_and_pins_the_upstream_release(tool: GoTool) -> None:
    names = {path.name for path in module_files(tool)}
    assert {"go.mod", "go.sum"} <= names
    version = pinned_version(tool)
    assert re.fullmatch(r"v\d+\.\d+\.\d+", version), f"{tool.module} is not pinned to a release"
    go_mod = (tool.module_dir / "go.mod").read_text()
    assert not re.search(r"=>\s*\.{1,2}/", go_mod), "no local forks (replace ... => ./dir)"


@pytest.mark.parametrize("tool", TOOLS.values(), ids=list(TOOLS))
def test_builds_an_upstream_command_or_a_local_main_importing_it(tool: GoTool) -> None:
    go_mod = (tool.module_dir / "go.mod").read_text()
    if tool.package == ".":
        source = "\n".join(path.read_text() for path in module_files(tool) if path.suffix == ".go")
        assert "package main" in source
        assert f'"{tool.module}' in source  # it imports the upstream code it exists to run
    else:
        assert tool.package.startswith(tool.module + "/")
        tools_block = re.search(r"^tool\s*\((.*?)\)", go_mod, re.MULTILINE | re.DOTALL)
        tools = tools_block.group(1).split() if tools_block else []
        tools += re.findall(r"^tool\s+(\S+)\s*$", go_mod, re.MULTILINE)
        assert tool.package in tools  # `go mod tidy` keeps what a tool directive names
