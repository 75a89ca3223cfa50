"""`oncall-testbed tools build|list|path`: the Go tools the tests use, from the shell."""

from __future__ import annotations

import argparse
import re
import sys

from oncall_testbed.gotools.build import GoTool, GoToolError, ensure_tool, find_tool
from oncall_testbed.gotools.registry import TOOLS, get_tool


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="build the named tools (or all) unless already in the store"
    )
    build.add_argument("names", nargs="*", metavar="NAME", help=f"one of {', '.join(TOOLS)}")
    build.add_argument("--all", action="store_true", help="every tool")
    actions.add_parser("list", help="each tool, the module version it pins and where it is")
    path = actions.add_parser("path", help="print a built tool's path (exit 1 when not built)")
    path.add_argument("name", metavar="NAME")


def main(args: argparse.Namespace) -> int:
    try:
        return ACTIONS[args.action](args)
    except GoToolError as error:
        print(f"tools: {error}", file=sys.stderr)
        return 1


def _progress(message: str) -> None:
    print(f"tools: {message}", flush=True)


def build(args: argparse.Namespace) -> int:
    if args.all == bool(args.names):
        print("tools: name the tools to build, or --all", file=sys.stderr)
        return 2
    tools = list(TOOLS.values()) if args.all else [get_tool(name) for name in args.names]
    for tool in tools:
        _progress(f"{tool.name}: {ensure_tool(tool, build=True, progress=_progress)}")
    return 0


def pinned_version(tool: GoTool) -> str:
    """The version of tool.module that its go.mod requires, or '?' when go.mod lacks it."""
    go_mod = tool.module_dir / "go.mod"
    text = go_mod.read_text() if go_mod.is_file() else ""
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(tool.module)}\s+(v\S+)", text, re.MULTILINE)
    return match.group(1) if match else "?"


def list_tools(args: argparse.Namespace) -> int:
    for tool in TOOLS.values():
        found = find_tool(tool)
        where = str(found) if found else "not built"
        print(f"{tool.name}\t{tool.module} {pinned_version(tool)}\t{where}")
    return 0


def path(args: argparse.Namespace) -> int:
    print(ensure_tool(get_tool(args.name), build=False))
    return 0


ACTIONS = {"build": build, "list": list_tools, "path": path}
