"""The Go-tool builder: builds a pinned module once into its store entry, finds it after, explains failures."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from oncall_testbed.gotools import build as gobuild
from oncall_testbed.gotools.build import (
    GoTool,
    ToolBuildFailed,
    ToolNotAvailable,
    build_command,
    cache_key,
    ensure_tool,
    find_tool,
    store_dir,
)

HELLO = """package main

import "fmt"

var greeting = "unset"

func main() { fmt.Println("hello from", greeting) }
"""


def hello_tool(directory: Path, source: str = HELLO) -> GoTool:
    """A module with no dependencies: builds offline in seconds."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "go.mod").write_text("module example.test/hello\n\ngo 1.26.0\n")
    (directory / "main.go").write_text(source)
    return GoTool(
        name="hello",
        package=".",
        module="example.test/hello",
        description="test tool",
        ldflags=("-s", "-w", "-X main.greeting=the-store"),
        directory=directory,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}


needs_go = pytest.mark.skipif(gobuild.find_go() is None, reason="Go is not installed")


@needs_go
def test_builds_once_into_the_store_and_finds_it_after(tmp_path: Path, env: dict[str, str]) -> None:
    tool = hello_tool(tmp_path / "mod")
    assert find_tool(tool, env) is None
    messages: list[str] = []
    binary = ensure_tool(tool, progress=messages.append, env=env)
    assert binary == store_dir(tool, env) / "hello"
    assert binary.is_relative_to(tmp_path / "data" / "oncall-testbed" / "gotools")
    out = subprocess.run([binary], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "hello from the-store"  # built with the tool's ldflags
    assert any("built hello in" in message for message in messages)
    assert (binary.parent / "build.json").is_file()
    assert find_tool(tool, env) == binary


@needs_go
def test_a_module_that_names_a_toolchain_is_built_and_recorded_with_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """As argocd-health (Argo CD needs Go 1.27): GOTOOLCHAIN=auto fetches the go.mod's toolchain."""
    tool = dataclasses.replace(hello_tool(tmp_path / "mod"), env={"GOTOOLCHAIN": "auto"})
    go_mod = tool.module_dir / "go.mod"
    go_mod.write_text(go_mod.read_text() + "\ntoolchain go1.27.4\n")

    binary = ensure_tool(tool, progress=lambda _: None, env={**env, "GOTOOLCHAIN": "local"})

    record = json.loads((binary.parent / "build.json").read_text())
    assert record["go"] == "go1.27.4"


@needs_go
def test_a_build_failure_reports_go_output(tmp_path: Path, env: dict[str, str]) -> None:
    tool = hello_tool(tmp_path / "mod", source="package main\n\nfunc main() { undefinedName() }\n")
    with pytest.raises(ToolBuildFailed, match="undefined: undefinedName"):
        ensure_tool(tool, progress=lambda _: None, env=env)
    assert find_tool(tool, env) is None


def test_a_found_tool_is_not_rebuilt(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = hello_tool(tmp_path / "mod")
    binary = store_dir(tool, env) / "hello"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)

    def no_build(*args: object, **kwargs: object) -> Path:
        raise AssertionError("must not build what the store has")

    monkeypatch.setattr(gobuild, "build_tool", no_build)
    assert ensure_tool(tool, env=env) == binary


def test_changing_the_module_changes_the_store_entry(tmp_path: Path) -> None:
    tool = hello_tool(tmp_path / "mod")
    before = cache_key(tool)
    (tool.module_dir / "go.sum").write_text("example.test/dep v1.0.0 h1:abc=\n")
    after_sum = cache_key(tool)
    (tool.module_dir / "main.go").write_text(HELLO.replace("hello", "bye"))
    after_source = cache_key(tool)
    other_flags = GoTool(**{**tool.__dict__, "ldflags": ("-s",)})
    assert len({before, after_sum, after_source, cache_key(other_flags)}) == 4
    (tool.module_dir / "README.md").write_text("not a build input")
    assert cache_key(tool) == after_source


def test_without_go_it_says_so_instead_of_building(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gobuild, "find_go", lambda: None)
    with pytest.raises(ToolNotAvailable, match=r"building hello needs Go \(1.26 or newer\)"):
        ensure_tool(hello_tool(tmp_path / "mod"), env=env)


def test_not_building_says_how_to_get_it(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(ToolNotAvailable, match="oncall-testbed tools build hello"):
        ensure_tool(hello_tool(tmp_path / "mod"), build=False, env=env)


def test_an_explicit_binary_wins_and_must_exist(tmp_path: Path, env: dict[str, str]) -> None:
    tool = hello_tool(tmp_path / "mod")
    explicit = tmp_path / "my-hello"
    explicit.write_text("#!/bin/sh\n")
    explicit.chmod(0o755)
    assert find_tool(tool, {**env, "ONCALL_GOTOOL_HELLO": str(explicit)}) == explicit
    with pytest.raises(ToolNotAvailable, match="ONCALL_GOTOOL_HELLO="):
        find_tool(tool, {**env, "ONCALL_GOTOOL_HELLO": str(tmp_path / "missing")})


def test_parallel_callers_build_once(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = hello_tool(tmp_path / "mod")
    builds: list[int] = []
    inside = threading.Event()
    release = threading.Event()

    def slow_build(tool: GoTool, progress: object, env: dict[str, str]) -> Path:
        builds.append(1)
        inside.set()
        release.wait(timeout=30)
        binary = store_dir(tool, env) / tool.binary_name
        binary.parent.mkdir(parents=True, exist_ok=True)
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
        return binary

    monkeypatch.setattr(gobuild, "build_tool", slow_build)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(ensure_tool(tool, env=env)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    assert inside.wait(timeout=30)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(builds) == 1  # the others waited on the lock, then found the binary
    assert len(results) == 3
    assert len(set(results)) == 1


def test_the_build_is_trimmed_bounded_and_reads_only_the_pinned_module() -> None:
    tool = GoTool(name="t", package="example.test/cmd/t", module="example.test", description="")
    command = build_command("go", tool, Path("/out/t"))
    assert command[:2] == ["go", "build"]
    assert command[command.index("-p") + 1] == "2"
    assert "-trimpath" in command
    assert "-mod=readonly" in command  # go.sum is committed; a build never edits it
    assert command[-3:] == ["-o", "/out/t", "example.test/cmd/t"]


def test_cli_path_of_an_unbuilt_tool_says_how_to_build_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oncall_testbed.cli", "tools", "path", "promtool"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "oncall-testbed tools build promtool" in result.stderr


def test_cli_refuses_an_unknown_tool() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oncall_testbed.cli", "tools", "build", "nosuchtool"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "no Go tool named 'nosuchtool'" in result.stderr
