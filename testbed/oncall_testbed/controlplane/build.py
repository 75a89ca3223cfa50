"""Build kube-apiserver, kubectl and etcd from upstream Go modules and install them into the store.

The Go module is `gomod/` beside this file (package data): it pins one Kubernetes release and
builds its entry points unmodified, with CGO off and the version ldflags Kubernetes' own
release build sets (so `/version` is right). A lock keeps concurrent test runs to one build.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from oncall_testbed.controlplane.binaries import (
    BINARY_NAMES,
    KUBERNETES_VERSION,
    Binaries,
    BinariesNotFound,
    ControlPlaneError,
    envtest_store,
    find_binaries,
    store_dir,
)
from oncall_testbed.gotools.build import (
    ToolBuildFailed,
    file_lock,
    find_go,
    install,
    run_with_heartbeat,
)

Progress = Callable[[str], None]

GO_PACKAGES = (
    "k8s.io/kubernetes/cmd/kube-apiserver",
    "k8s.io/kubernetes/cmd/kubectl",
    "./cmd/etcd",
)
# Both version packages are stamped by Kubernetes' hack/lib/version.sh.
VERSION_PACKAGES = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")


class BuildFailed(ControlPlaneError):
    """Go is here but the build did not produce the binaries; the message has go's output."""


GO_MODULE_DIR = Path(__file__).resolve().with_name("gomod")


def go_module_dir() -> Path | None:
    """The Go module that pins the release, shipped inside this package."""
    return GO_MODULE_DIR if (GO_MODULE_DIR / "go.mod").is_file() else None


def pinned_version(module_dir: Path) -> str:
    """The k8s.io/kubernetes version go.mod requires, without the leading `v`."""
    match = re.search(
        r"^\s*(?:require\s+)?k8s\.io/kubernetes\s+v(\S+)",
        (module_dir / "go.mod").read_text(),
        re.MULTILINE,
    )
    if not match:
        raise BuildFailed(f"{module_dir / 'go.mod'} does not require k8s.io/kubernetes")
    return match.group(1)


def version_ldflags(version: str, build_date: str) -> list[str]:
    major, minor, _patch = version.split(".", 2)
    values = {
        "gitVersion": f"v{version}",
        "gitMajor": major,
        "gitMinor": minor,
        "gitCommit": "",  # the proxy's module zip carries no commit id; empty beats "$Format:%H$"
        "gitTreeState": "clean",
        "buildDate": build_date,
    }
    return [
        f"-X {package}.{name}={value}"
        for package in VERSION_PACKAGES
        for name, value in values.items()
    ]


def release_date(go: str, module_dir: Path, version: str) -> str:
    """The release's publication time from the module proxy's .info, so the build is reproducible."""
    result = _run_go(go, module_dir, ["mod", "download", "-json", f"k8s.io/kubernetes@v{version}"])
    info_path = json.loads(result)["Info"]
    return str(json.loads(Path(info_path).read_text())["Time"])


def _run_go(go: str, module_dir: Path, args: list[str]) -> str:
    result = subprocess.run(
        [go, *args], cwd=module_dir, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BuildFailed(f"go {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def build_command(go: str, version: str, build_date: str, output_dir: Path) -> list[str]:
    ldflags = " ".join(["-s", "-w", *version_ldflags(version, build_date)])
    return [
        go,
        "build",
        "-p",
        "2",
        "-trimpath",
        "-ldflags",
        ldflags,
        "-o",
        f"{output_dir}/",
        *GO_PACKAGES,
    ]


def build_binaries(progress: Progress = print, env: Mapping[str, str] | None = None) -> Binaries:
    """Build into a work directory beside the envtest store, install into the store; return the installed paths."""
    env = dict(os.environ if env is None else env)
    go = find_go()
    module_dir = go_module_dir()
    if go is None:
        raise BinariesNotFound(
            "building the control plane needs Go (1.26 or newer) on PATH; none was found"
        )
    if module_dir is None:
        raise BinariesNotFound(
            f"building the control plane needs its Go module ({GO_MODULE_DIR / 'go.mod'}), "
            "which this installation of oncall-testbed lacks; reinstall it from the repository"
        )
    version = pinned_version(module_dir)
    if version != KUBERNETES_VERSION:
        raise BuildFailed(
            f"go.mod pins Kubernetes {version} but the package expects {KUBERNETES_VERSION}"
        )
    # Not inside the package: an installed package directory may be read-only.
    output_dir = envtest_store(env) / "oncall-testbed-build"
    output_dir.mkdir(parents=True, exist_ok=True)
    progress(
        f"building Kubernetes {version} (kube-apiserver, kubectl) and etcd from upstream Go modules"
    )
    command = build_command(go, version, release_date(go, module_dir, version), output_dir)
    _run_with_heartbeat(
        command, module_dir, {**env, "CGO_ENABLED": "0"}, progress, output_dir / "build.log"
    )
    target = store_dir(env)
    _install(output_dir, target)
    progress(f"installed into {target}")
    return find_binaries(env)


def _run_with_heartbeat(
    command: list[str], cwd: Path, env: dict[str, str], progress: Progress, log_path: Path
) -> None:
    try:
        run_with_heartbeat(
            command,
            cwd,
            env,
            progress,
            log_path,
            what="the control plane",
            hint="; a first build takes 10-30 min on 2 cores",
        )
    except ToolBuildFailed as failed:
        raise BuildFailed(str(failed)) from None


def _install(source_dir: Path, target_dir: Path) -> None:
    for name in BINARY_NAMES:
        install(source_dir / name, target_dir / name)


@contextmanager
def build_lock(env: Mapping[str, str] | None = None) -> Iterator[None]:
    """One build at a time per store (parallel test runs would otherwise each build for minutes)."""
    with file_lock(envtest_store(env) / ".oncall-operator-build.lock"):
        yield


def can_build() -> bool:
    return find_go() is not None and go_module_dir() is not None


def ensure_binaries(
    build: bool = False, progress: Progress = print, env: Mapping[str, str] | None = None
) -> Binaries:
    """Binaries found as envtest finds them; when missing and `build`, built from source first."""
    try:
        return find_binaries(env)
    except BinariesNotFound as not_found:
        if not build:
            raise
        if find_go() is None:
            raise BinariesNotFound(
                f"{not_found} (Go is not installed here, so they cannot be built)"
            ) from None
    with build_lock(env):
        try:
            return find_binaries(env)  # another process may have built them while we waited
        except BinariesNotFound:
            return build_binaries(progress, env)
