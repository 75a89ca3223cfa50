"""go.mod pins one release, its staging replaces are generated from that release, the build stamps its version."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oncall_testbed.controlplane import staging as replace_staging
from oncall_testbed.controlplane.binaries import KUBERNETES_VERSION
from oncall_testbed.controlplane.build import (
    GO_PACKAGES,
    build_command,
    pinned_version,
    version_ldflags,
)

MODULE_DIR = replace_staging.MODULE_DIR

RELEASE_GO_MOD = """\
module k8s.io/kubernetes

require (
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	github.com/example/fork => github.com/example/fork v1.2.3
)

replace k8s.io/kms => ./staging/src/k8s.io/kms
"""


def test_package_and_go_mod_pin_the_same_release() -> None:
    assert pinned_version(MODULE_DIR) == KUBERNETES_VERSION
    major, minor, _ = KUBERNETES_VERSION.split(".")
    assert (int(major), int(minor)) >= (1, 34)


def test_every_staging_replace_of_the_release_and_nothing_else_is_generated() -> None:
    assert replace_staging.staging_replaces(RELEASE_GO_MOD, "v0.37.2") == {
        "k8s.io/api": "v0.37.2",
        "k8s.io/client-go": "v0.37.2",
        "k8s.io/kms": "v0.37.2",
    }


@pytest.mark.parametrize(("release", "staging"), [("v1.37.2", "v0.37.2"), ("v1.34.0", "v0.34.0")])
def test_staging_modules_are_tagged_v0_minor_patch(release: str, staging: str) -> None:
    assert replace_staging.staging_version(release) == staging


def test_go_mod_matches_what_the_generator_writes() -> None:
    if shutil.which("go") is None:
        pytest.skip("Go is not installed: cannot read the release's go.mod from the module cache")
    result = subprocess.run(
        [sys.executable, "-m", "oncall_testbed.controlplane.staging", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "staging replaces match k8s.io/kubernetes" in result.stdout


def test_version_ldflags_set_what_version_reports() -> None:
    flags = version_ldflags("1.37.2", "2026-10-27T12:01:04Z")
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {package}.gitVersion=v1.37.2" in flags
        assert f"-X {package}.gitMajor=1" in flags
        assert f"-X {package}.gitMinor=37" in flags
        assert f"-X {package}.buildDate=2026-10-27T12:01:04Z" in flags


def test_build_is_the_upstream_entry_points_without_cgo_symbols() -> None:
    command = build_command("go", "1.37.2", "2026-10-27T12:01:04Z", Path("/out"))
    assert command[:2] == ["go", "build"]
    assert command[-len(GO_PACKAGES) :] == list(GO_PACKAGES)
    assert "k8s.io/kubernetes/cmd/kube-apiserver" in GO_PACKAGES
    assert "k8s.io/kubernetes/cmd/kubectl" in GO_PACKAGES
    assert "etcdmain.Main(os.Args)" in (MODULE_DIR / "cmd" / "etcd" / "main.go").read_text()
