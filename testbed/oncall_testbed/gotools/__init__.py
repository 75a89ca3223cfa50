"""Go programs the tests need (promtool, kstatus, ...), built from pinned Go modules, cached, once.

`ensure_tool(get_tool("promtool"))` returns the binary, building it from the Go module proxy the
first time (a file lock makes parallel runs build once); `oncall-testbed tools build NAME` does
the same from the shell. README.md has the tools, their pins and measured build times.
"""

from oncall_testbed.gotools.build import (
    GoTool,
    GoToolError,
    ToolBuildFailed,
    ToolNotAvailable,
    can_build,
    ensure_tool,
    find_go,
    find_tool,
    store_dir,
)
from oncall_testbed.gotools.registry import TOOLS, get_tool

__all__ = [
    "TOOLS",
    "GoTool",
    "GoToolError",
    "ToolBuildFailed",
    "ToolNotAvailable",
    "can_build",
    "ensure_tool",
    "find_go",
    "find_tool",
    "get_tool",
    "store_dir",
]
