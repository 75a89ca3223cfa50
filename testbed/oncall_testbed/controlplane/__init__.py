"""A real local Kubernetes control plane (etcd + kube-apiserver, built from upstream) for tests and the demo.

`ensure_binaries(build=...)` finds kube-apiserver, etcd and kubectl as envtest does, building them
from the Go module in gomod/ when asked; `ControlPlane(state_dir)` starts and stops them.
"""

from oncall_testbed.controlplane.binaries import (
    KUBERNETES_VERSION,
    Binaries,
    BinariesNotFound,
    ControlPlaneError,
    find_binaries,
    store_dir,
)
from oncall_testbed.controlplane.build import BuildFailed, can_build, ensure_binaries
from oncall_testbed.controlplane.pki import ADMIN, OPERATOR, Identity
from oncall_testbed.controlplane.server import ControlPlane, ControlPlaneNotRunning

__all__ = [
    "ADMIN",
    "KUBERNETES_VERSION",
    "OPERATOR",
    "Binaries",
    "BinariesNotFound",
    "BuildFailed",
    "ControlPlane",
    "ControlPlaneError",
    "ControlPlaneNotRunning",
    "Identity",
    "can_build",
    "ensure_binaries",
    "find_binaries",
    "store_dir",
]
