"""Binaries are found in envtest's order, and a missing one is explained, not guessed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oncall_testbed.controlplane import binaries, build
from oncall_testbed.controlplane.binaries import (
    KUBERNETES_VERSION,
    BinariesNotFound,
    find_binaries,
    find_binary,
    platform_suffix,
)

NAMES = ("kube-apiserver", "etcd", "kubectl")


def fake_binaries(directory: Path, names: tuple[str, ...] = NAMES) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = directory / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return directory


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Every place envtest looks, under tmp_path; nothing exists until a test makes it."""
    data_home = tmp_path / "data"
    store = data_home / "kubebuilder-envtest" / "k8s"
    default_dir = tmp_path / "usr-local-kubebuilder-bin"
    monkeypatch.setattr(binaries, "DEFAULT_ASSETS_DIR", default_dir)
    return {
        "explicit": tmp_path / "explicit",
        "assets": tmp_path / "assets",
        "store_pinned": store / f"{KUBERNETES_VERSION}-{platform_suffix()}",
        "store_newer": store / f"9.99.0-{platform_suffix()}",
        "store_older": store / f"1.30.0-{platform_suffix()}",
        "store_other_platform": store / f"{KUBERNETES_VERSION}-plan9-mips",
        "default": default_dir,
        "data_home": data_home,
    }


def env_for(places: dict[str, Path], *, explicit: bool = False) -> dict[str, str]:
    env = {"HOME": "/nonexistent", "XDG_DATA_HOME": str(places["data_home"])}
    if places["assets"].exists():
        env["KUBEBUILDER_ASSETS"] = str(places["assets"])
    if explicit:
        env["TEST_ASSET_KUBE_APISERVER"] = str(places["explicit"] / "kube-apiserver")
    return env


@pytest.mark.parametrize(
    ("present", "explicit", "expected"),
    [
        (["explicit", "assets", "store_pinned", "default"], True, "explicit"),
        (["assets", "store_pinned", "default"], False, "assets"),
        (["store_pinned", "store_newer", "default"], False, "store_pinned"),
        (["store_older", "store_newer", "default"], False, "store_newer"),
        (["store_older", "store_other_platform", "default"], False, "store_older"),
        (["store_other_platform", "default"], False, "default"),
    ],
)
def test_first_place_in_envtest_order_wins(
    places: dict[str, Path], present: list[str], explicit: bool, expected: str
) -> None:
    for name in present:
        fake_binaries(places[name])
    found = find_binary("kube-apiserver", env_for(places, explicit=explicit))
    assert found == places[expected] / "kube-apiserver"


def test_each_binary_is_found_on_its_own(places: dict[str, Path]) -> None:
    fake_binaries(places["assets"], ("etcd",))
    fake_binaries(places["default"], ("kube-apiserver", "kubectl"))
    found = find_binaries(env_for(places))
    assert found.etcd == places["assets"] / "etcd"
    assert found.kube_apiserver == places["default"] / "kube-apiserver"
    assert found.kubectl == places["default"] / "kubectl"


def test_a_non_executable_file_is_not_a_binary(places: dict[str, Path]) -> None:
    fake_binaries(places["assets"])
    (places["assets"] / "etcd").chmod(0o644)
    assert find_binary("etcd", env_for(places)) is None


def test_explicit_variable_naming_a_missing_file_is_an_error(places: dict[str, Path]) -> None:
    fake_binaries(places["assets"])
    with pytest.raises(
        BinariesNotFound, match=r"TEST_ASSET_KUBE_APISERVER=.*not an executable file"
    ):
        find_binary("kube-apiserver", env_for(places, explicit=True))


def test_nothing_found_says_what_is_missing_and_how_to_get_it(places: dict[str, Path]) -> None:
    fake_binaries(places["assets"], ("kubectl",))
    with pytest.raises(BinariesNotFound) as raised:
        find_binaries(env_for(places))
    message = str(raised.value)
    assert message.startswith("kube-apiserver, etcd not found")
    assert "TEST_ASSET_KUBE_APISERVER, TEST_ASSET_ETCD" in message
    assert str(places["store_pinned"]) in message
    assert "install Go" in message
    assert "oncall-testbed controlplane build" in message
    assert "KUBEBUILDER_ASSETS" in message


def test_without_go_ensure_binaries_says_it_cannot_build(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "find_go", lambda: None)
    with pytest.raises(
        BinariesNotFound, match=r"Go is not installed here, so they cannot be built"
    ):
        build.ensure_binaries(build=True, env=env_for(places))


def test_ensure_binaries_does_not_build_what_is_found(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_binaries(places["store_pinned"])

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built although the binaries were there")

    monkeypatch.setattr(build, "build_binaries", no_build)
    found = build.ensure_binaries(build=True, env=env_for(places))
    assert found.kubectl == places["store_pinned"] / "kubectl"


def test_store_follows_xdg_data_home_then_home() -> None:
    assert binaries.envtest_store({"XDG_DATA_HOME": "/x"}) == Path("/x/kubebuilder-envtest/k8s")
    assert binaries.envtest_store({"HOME": "/h"}) == Path("/h/.local/share/kubebuilder-envtest/k8s")
    assert binaries.store_dir({"HOME": "/h"}).name == f"{KUBERNETES_VERSION}-{platform_suffix()}"


def test_platform_suffix_uses_go_names() -> None:
    os_name, arch = platform_suffix().split("-")
    assert os_name == os.uname().sysname.lower()
    assert arch in {"amd64", "arm64"}
