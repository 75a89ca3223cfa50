"""Argo CD health checks of the three kinds, run the way Argo CD runs them: Lua 5.1 (Argo CD's
gopher-lua dialect) with `obj` set to the object, against the sample objects in
tests/ship/argocd/<group>/<Kind>/ laid out like Argo CD's resource_customizations tests
(health_test.yaml listing testdata/*.yaml with the expected status and message)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lupa.lua51
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HEALTH_LUA = REPO / "deploy" / "argocd" / "health.lua"
ARGOCD_CM_PATCH = REPO / "deploy" / "argocd" / "argocd-cm-patch.yaml"
CASES_ROOT = Path(__file__).parent / "argocd"
GROUP = "oncall.dev"
KINDS = ("OnCallTeam", "Rotation", "EscalationPolicy")
HEALTH_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended"}

# Argo CD (util/lua runLua) opens only Lua's package, base and table libraries and a safe `os`
# for health scripts; `resource.customizations.useOpenLibs.<group>_<Kind>: "true"` in argocd-cm
# opens the standard libraries (string among them) for that kind. Seen in a real run of Argo CD's
# own evaluation: without it, `string` is nil.
UNAVAILABLE_IN_ARGOCD = ("io", "require", "dofile", "loadfile", "load", "loadstring", "debug")
OPEN_LIBS_ONLY = ("string", "math")


def health_key(kind: str) -> str:
    return f"resource.customizations.health.{GROUP}_{kind}"


def argocd_cm_scripts() -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(ARGOCD_CM_PATCH.read_text())["data"]
    return data


def open_libs_key(kind: str) -> str:
    return f"resource.customizations.useOpenLibs.{GROUP}_{kind}"


def run_health_check(script: str, obj: dict[str, Any], open_libs: bool = True) -> dict[str, Any]:
    """`open_libs`: as argocd-cm installs the script (the patch turns useOpenLibs on)."""
    lua = lupa.lua51.LuaRuntime()
    lua_globals = lua.globals()
    for name in UNAVAILABLE_IN_ARGOCD + (() if open_libs else OPEN_LIBS_ONLY):
        lua_globals[name] = None
    lua_globals.obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script)
    return {"status": result["status"], "message": result["message"]}


def health_cases() -> Iterator[Any]:
    for health_test in sorted(CASES_ROOT.glob(f"{GROUP}/*/health_test.yaml")):
        kind = health_test.parent.name
        for case in yaml.safe_load(health_test.read_text())["tests"]:
            input_path = health_test.parent / case["inputPath"]
            yield pytest.param(
                kind, input_path, case["healthStatus"], id=f"{kind}-{input_path.stem}"
            )


@pytest.mark.parametrize(("kind", "input_path", "expected"), list(health_cases()))
def test_health_check_returns_the_expected_status(
    kind: str, input_path: Path, expected: dict[str, str]
) -> None:
    obj = yaml.safe_load(input_path.read_text())
    assert obj["kind"] == kind, f"{input_path} holds a {obj['kind']}, not a {kind}"
    settings = argocd_cm_scripts()
    script = settings[health_key(kind)]
    open_libs = settings.get(open_libs_key(kind)) == "true"

    assert run_health_check(script, obj, open_libs=open_libs) == expected


@pytest.mark.parametrize("kind", KINDS)
def test_the_script_needs_the_open_libraries_the_patch_turns_on(kind: str) -> None:
    paused = {
        "kind": kind,
        "metadata": {"name": "x", "generation": 1, "annotations": {"oncall.dev/paused": " True "}},
    }
    with pytest.raises(lupa.lua51.LuaError, match="string"):
        run_health_check(HEALTH_LUA.read_text(), paused, open_libs=False)
    assert argocd_cm_scripts()[open_libs_key(kind)] == "true"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_cases_for_every_health_status(kind: str) -> None:
    cases = yaml.safe_load((CASES_ROOT / GROUP / kind / "health_test.yaml").read_text())["tests"]

    assert {case["healthStatus"]["status"] for case in cases} == HEALTH_STATUSES


def test_argocd_cm_patch_installs_health_lua_for_exactly_the_three_kinds() -> None:
    scripts = argocd_cm_scripts()
    source = HEALTH_LUA.read_text()

    health = {key: value for key, value in scripts.items() if ".health." in key}
    assert set(scripts) == set(health) | {open_libs_key(kind) for kind in KINDS}
    assert set(health) == {health_key(kind) for kind in KINDS}
    for key, script in health.items():
        assert script == source, (
            f"{ARGOCD_CM_PATCH.name}: {key} differs from health.lua; paste health.lua into it again"
        )


def test_every_served_kind_has_a_health_check() -> None:
    crd_kinds = {
        yaml.safe_load(path.read_text())["spec"]["names"]["kind"]
        for path in sorted((REPO / "crds").glob(f"{GROUP}_*.yaml"))
    }

    assert crd_kinds == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_sample_object_is_listed_in_its_health_test(kind: str) -> None:
    directory = CASES_ROOT / GROUP / kind
    listed = {
        case["inputPath"]
        for case in yaml.safe_load((directory / "health_test.yaml").read_text())["tests"]
    }

    assert listed == {f"testdata/{p.name}" for p in (directory / "testdata").glob("*.yaml")}
