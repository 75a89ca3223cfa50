"""Build a Go program from a pinned Go module into a content-addressed store, once.

Each tool is a small Go module under `modules/NAME/` (package data): go.mod and go.sum pin
the upstream release (a `tool` directive names the upstream command, or a tiny main.go imports
the upstream package). `go build -trimpath` with CGO off fetches it from the Go module proxy and
the binary is installed into

    ${XDG_DATA_HOME:-~/.local/share}/oncall-testbed/gotools/NAME-KEY/BINARY

where KEY hashes the module's files and the build flags, so a changed pin builds anew and an
unchanged one is found without Go. A file lock per tool keeps parallel test runs to one build.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

Progress = Callable[[str], None]

MODULES_DIR = Path(__file__).resolve().with_name("modules")
HEARTBEAT_SECONDS = 60.0
# Both cores of a small CI runner, no more: the machine is shared and links take GBs each.
BUILD_PARALLELISM = "2"
_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class GoToolError(RuntimeError):
    """A Go tool could not be found or built."""


class ToolNotAvailable(GoToolError):
    """Not built yet and cannot be built here (no Go, or the module is not installed)."""


class ToolBuildFailed(GoToolError):
    """Go is here but `go build` failed; the message has the end of its output."""


@dataclass(frozen=True)
class GoTool:
    """One program built from one pinned module in modules/<name>/."""

    name: str
    package: str  # what `go build` builds, from inside the module: an import path or "."
    module: str  # the upstream module go.mod pins (reported by `tools list`)
    description: str
    binary: str = ""  # output file name; default: name
    ldflags: tuple[str, ...] = ("-s", "-w")
    tags: tuple[str, ...] = ()
    cgo: bool = False
    env: Mapping[str, str] = field(default_factory=dict)  # extra build environment
    directory: Path | None = None  # the module; default: modules/<name>/ beside this file

    @property
    def binary_name(self) -> str:
        return self.binary or self.name

    @property
    def module_dir(self) -> Path:
        return self.directory or MODULES_DIR / self.name

    @property
    def env_variable(self) -> str:
        """An explicit binary to use instead of the store (like envtest's TEST_ASSET_*)."""
        return "ONCALL_GOTOOL_" + self.name.upper().replace("-", "_")


def platform_suffix() -> str:
    """`linux-amd64`, as setup-envtest names its store entries."""
    machine = platform.machine().lower()
    return f"{platform.system().lower()}-{_GOARCH.get(machine, machine)}"


def find_go() -> str | None:
    return shutil.which("go")


def data_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(
        env.get("XDG_DATA_HOME") or Path(env.get("HOME", str(Path.home()))) / ".local" / "share"
    )


def store_root(env: Mapping[str, str] | None = None) -> Path:
    return data_home(env) / "oncall-testbed" / "gotools"


def module_files(tool: GoTool) -> list[Path]:
    """go.mod, go.sum and the module's own Go sources: what the build depends on locally."""
    directory = tool.module_dir
    if not (directory / "go.mod").is_file():
        return []
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and (path.name in {"go.mod", "go.sum"} or path.suffix == ".go")
    )


def cache_key(tool: GoTool) -> str:
    """Hash of the module's files and every build input we choose; the store entry's name."""
    digest = hashlib.sha256()
    for path in module_files(tool):
        digest.update(path.relative_to(tool.module_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    flags = {
        "package": tool.package,
        "ldflags": tool.ldflags,
        "tags": tool.tags,
        "cgo": tool.cgo,
        "env": sorted(tool.env.items()),
        "platform": platform_suffix(),
    }
    digest.update(json.dumps(flags, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def store_dir(tool: GoTool, env: Mapping[str, str] | None = None) -> Path:
    return store_root(env) / f"{tool.name}-{cache_key(tool)}"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_tool(tool: GoTool, env: Mapping[str, str] | None = None) -> Path | None:
    """The explicit `ONCALL_GOTOOL_<NAME>` (must exist), else the store entry, else None."""
    env = os.environ if env is None else env
    explicit = env.get(tool.env_variable)
    if explicit:
        if not _is_executable(Path(explicit)):
            raise ToolNotAvailable(f"{tool.env_variable}={explicit} is not an executable file")
        return Path(explicit)
    candidate = store_dir(tool, env) / tool.binary_name
    return candidate if _is_executable(candidate) else None


def build_command(go: str, tool: GoTool, output: Path) -> list[str]:
    command = [go, "build", "-p", BUILD_PARALLELISM, "-trimpath", "-mod=readonly"]
    if tool.tags:
        command += ["-tags", ",".join(tool.tags)]
    command += ["-ldflags", " ".join(tool.ldflags), "-o", str(output), tool.package]
    return command


def build_tool(
    tool: GoTool, progress: Progress = print, env: Mapping[str, str] | None = None
) -> Path:
    """Build into a work directory in the store, then install atomically; return the binary."""
    env = dict(os.environ if env is None else env)
    go = find_go()
    if go is None:
        raise ToolNotAvailable(
            f"building {tool.name} needs Go (1.26 or newer) on PATH; none was found"
        )
    if not module_files(tool):
        raise ToolNotAvailable(
            f"building {tool.name} needs its Go module ({tool.module_dir / 'go.mod'}), which this "
            "installation of oncall-testbed lacks; reinstall it from the repository"
        )
    # Not inside the package: an installed package directory may be read-only.
    work_dir = store_root(env) / ".work" / tool.name
    work_dir.mkdir(parents=True, exist_ok=True)
    output = work_dir / tool.binary_name
    build_env = {**env, **tool.env, "CGO_ENABLED": "1" if tool.cgo else "0"}
    progress(f"building {tool.name} ({tool.package} from {tool.module}) with {go}")
    seconds = run_with_heartbeat(
        build_command(go, tool, output),
        tool.module_dir,
        build_env,
        progress,
        work_dir / "build.log",
        what=tool.name,
    )
    target = store_dir(tool, env)
    install(output, target / tool.binary_name)
    record = {
        "tool": tool.name,
        "package": tool.package,
        "seconds": round(seconds, 1),
        "go": _go_version(go, tool.module_dir, build_env),
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (target / "build.json").write_text(json.dumps(record, indent=2) + "\n")
    progress(f"{tool.name}: installed {target / tool.binary_name}")
    return target / tool.binary_name


def _go_version(go: str, module_dir: Path, env: Mapping[str, str]) -> str:
    """The Go that built the module: with GOTOOLCHAIN=auto, the toolchain its go.mod names."""
    result = subprocess.run(
        [go, "env", "GOVERSION"],
        cwd=module_dir,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


def run_with_heartbeat(
    command: list[str],
    cwd: Path,
    env: Mapping[str, str],
    progress: Progress,
    log_path: Path,
    what: str = "build",
    hint: str = "",
) -> float:
    """Run a long build with its output in log_path, saying every minute that it still runs."""
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT
        )
        while True:
            try:
                returncode = process.wait(timeout=HEARTBEAT_SECONDS)
                break
            except subprocess.TimeoutExpired:
                minutes = (time.monotonic() - started) / 60
                progress(f"still building {what} ({minutes:.0f} min{hint})")
    elapsed = time.monotonic() - started
    if returncode != 0:
        raise ToolBuildFailed(
            f"go build of {what} failed (exit {returncode}); see {log_path}:\n"
            f"{log_path.read_text()[-4000:]}"
        )
    progress(f"built {what} in {elapsed / 60:.1f} min")
    return elapsed


def install(source: Path, target: Path) -> None:
    """Copy then rename: a concurrent reader sees the old file or the new one, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.installing")
    shutil.copyfile(source, staging)
    staging.chmod(0o755)
    staging.replace(target)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive flock on path (created); other processes wait until it is released."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def ensure_tool(
    tool: GoTool,
    build: bool = True,
    progress: Progress = print,
    env: Mapping[str, str] | None = None,
) -> Path:
    """The tool's binary, found or (when `build`) built first; ToolNotAvailable says why not."""
    found = find_tool(tool, env)
    if found is not None:
        return found
    if not build:
        raise ToolNotAvailable(
            f"{tool.name} is not built: run `oncall-testbed tools build {tool.name}` "
            f"(needs Go) or set {tool.env_variable} to a {tool.name} binary"
        )
    with file_lock(store_root(env) / f".{tool.name}.lock"):
        found = find_tool(tool, env)  # another process may have built it while we waited
        if found is not None:
            return found
        return build_tool(tool, progress, env)


def can_build(tool: GoTool) -> bool:
    return find_go() is not None and bool(module_files(tool))
