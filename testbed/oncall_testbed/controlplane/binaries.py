"""Find kube-apiserver, etcd and kubectl the way controller-runtime's envtest finds them.

Per binary, first match wins: `TEST_ASSET_<NAME>`, then `$KUBEBUILDER_ASSETS/<name>`, then
setup-envtest's store (`$XDG_DATA_HOME` or `~/.local/share`, `kubebuilder-envtest/k8s/
<version>-<os>-<arch>/`; our pinned version first, then the newest other), then
`/usr/local/kubebuilder/bin`. So a user who already has envtest binaries needs no Go.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The Kubernetes release gomod/go.mod pins; a test holds the two together.
KUBERNETES_VERSION = "1.37.2"
DEFAULT_ASSETS_DIR = Path("/usr/local/kubebuilder/bin")
BINARY_NAMES = ("kube-apiserver", "etcd", "kubectl")
ENV_VARIABLES = {
    "kube-apiserver": "TEST_ASSET_KUBE_APISERVER",
    "etcd": "TEST_ASSET_ETCD",
    "kubectl": "TEST_ASSET_KUBECTL",
}
_STORE_ENTRY = re.compile(r"^(\d+)\.(\d+)\.(\d+)-(.+)$")
_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class ControlPlaneError(RuntimeError):
    """The local control plane could not be found, built, started or stopped."""


class BinariesNotFound(ControlPlaneError):
    """A binary is in none of the places envtest looks; the message says where to get it."""


@dataclass(frozen=True)
class Binaries:
    kube_apiserver: Path
    etcd: Path
    kubectl: Path


def platform_suffix() -> str:
    """`linux-amd64`, as setup-envtest names its store entries."""
    machine = platform.machine().lower()
    return f"{platform.system().lower()}-{_GOARCH.get(machine, machine)}"


def envtest_store(env: Mapping[str, str] | None = None) -> Path:
    """setup-envtest's store of Kubernetes binaries: one directory per version and platform."""
    env = os.environ if env is None else env
    data_home = env.get("XDG_DATA_HOME") or str(
        Path(env.get("HOME", str(Path.home()))) / ".local" / "share"
    )
    return Path(data_home) / "kubebuilder-envtest" / "k8s"


def store_dir(env: Mapping[str, str] | None = None, version: str = KUBERNETES_VERSION) -> Path:
    """Where our build installs: the store entry of the pinned version."""
    return envtest_store(env) / f"{version}-{platform_suffix()}"


def search_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Directories searched after `TEST_ASSET_*`, in order."""
    env = os.environ if env is None else env
    dirs: list[Path] = []
    if env.get("KUBEBUILDER_ASSETS"):
        dirs.append(Path(env["KUBEBUILDER_ASSETS"]))
    pinned = store_dir(env)
    dirs.append(pinned)
    dirs.extend(entry for entry in _other_store_entries(envtest_store(env)) if entry != pinned)
    dirs.append(DEFAULT_ASSETS_DIR)
    return dirs


def _other_store_entries(store: Path) -> list[Path]:
    """This platform's store entries, newest version first."""
    if not store.is_dir():
        return []
    versioned = []
    for entry in store.iterdir():
        match = _STORE_ENTRY.match(entry.name)
        if match and match.group(4) == platform_suffix():
            versioned.append(
                ((int(match.group(1)), int(match.group(2)), int(match.group(3))), entry)
            )
    return [entry for _, entry in sorted(versioned, reverse=True)]


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_binary(name: str, env: Mapping[str, str] | None = None) -> Path | None:
    """The first `name` found in envtest's order; an explicit `TEST_ASSET_*` must exist."""
    env = os.environ if env is None else env
    variable = ENV_VARIABLES[name]
    if env.get(variable):
        explicit = Path(env[variable])
        if not _is_executable(explicit):
            raise BinariesNotFound(f"{variable}={explicit} is not an executable file")
        return explicit
    for directory in search_dirs(env):
        candidate = directory / name
        if _is_executable(candidate):
            return candidate
    return None


def find_binaries(env: Mapping[str, str] | None = None) -> Binaries:
    """Paths of kube-apiserver, etcd and kubectl, or BinariesNotFound naming what is missing."""
    found = {name: find_binary(name, env) for name in BINARY_NAMES}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise BinariesNotFound(not_found_message(missing, env))
    return Binaries(
        kube_apiserver=_present(found["kube-apiserver"]),
        etcd=_present(found["etcd"]),
        kubectl=_present(found["kubectl"]),
    )


def _present(path: Path | None) -> Path:
    assert path is not None  # find_binaries checked every name before building Binaries
    return path


def not_found_message(missing: list[str], env: Mapping[str, str] | None = None) -> str:
    places = ", ".join(str(directory) for directory in search_dirs(env))
    variables = ", ".join(ENV_VARIABLES[name] for name in missing)
    return (
        f"{', '.join(missing)} not found (looked at {variables}, then in {places}). "
        f"To get them: install Go (1.26 or newer) and run `oncall-testbed controlplane build` "
        f"(or `make controlplane-binaries`), which builds Kubernetes {KUBERNETES_VERSION} from "
        f"source into {store_dir(env)}; or point KUBEBUILDER_ASSETS at a directory holding "
        f"envtest binaries (setup-envtest use {KUBERNETES_VERSION} -p path)."
    )
