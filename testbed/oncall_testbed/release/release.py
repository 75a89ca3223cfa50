"""`make release`: the release's artefacts in dist/, every one carrying the version of the git tag.

    oncall-testbed release --image registry.example.com/oncall-operator [--digest sha256:...]

writes
    dist/install.yaml                  the CRDs and the operator (deploy/base), image pinned
    dist/oncall-operator-X.Y.Z.tgz     the Helm chart, version and appVersion X.Y.Z, image defaults

The version is setuptools-scm's (the same as the package's): `vX.Y.Z` at HEAD gives X.Y.Z. A
release needs HEAD exactly at such a tag, a clean tree and a CHANGELOG.md section for it;
`--snapshot` builds from any commit (version X.Y.devN+gHASH, as SemVer X.Y.0-devN+gHASH for
the chart) to try the artefacts out.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from oncall_testbed.release.chart import BASE_PATH, CHART_PATH, CRDS_PATH, find_kubectl, kustomize

OPERATOR_CONTAINER = "operator"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_PEP440_DEV = re.compile(
    r"^(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?\.dev(?P<dev>\d+)(?:\+(?P<local>[\w.]+))?$"
)
_RELEASE = re.compile(r"^\d+\.\d+\.\d+$")


class ReleaseError(RuntimeError):
    """The release cannot be made as asked; the message says what to do."""


def package_version(repo: Path) -> str:
    """The version setuptools-scm gives the repository (what the wheel and the image carry)."""
    from setuptools_scm import get_version

    return str(get_version(root=str(repo)))


def semver(version: str) -> str:
    """A PEP 440 version as SemVer 2 (Helm's chart versions): X.Y.Z stays, X.Y.devN+local
    becomes X.Y.0-devN+local (and X.Y.Z.devN+local becomes X.Y.Z-devN+local)."""
    if _RELEASE.match(version):
        return version
    match = _PEP440_DEV.match(version)
    if not match:
        raise ReleaseError(f"version {version!r} is neither X.Y.Z nor a setuptools-scm dev version")
    patch = match["patch"] or "0"
    local = f"+{match['local']}" if match["local"] else ""
    return f"{match['major']}.{match['minor']}.{patch}-dev{match['dev']}{local}"


def image_tag(version: str) -> str:
    """An image tag for the version (tags allow no `+`)."""
    return semver(version).replace("+", "-")


def image_reference(repository: str, version: str, digest: str | None) -> str:
    if digest:
        if not DIGEST.match(digest):
            raise ReleaseError(f"--digest {digest!r} is not sha256:<64 hex digits>")
        return f"{repository}@{digest}"
    return f"{repository}:{image_tag(version)}"


def check_releasable(repo: Path, version: str) -> None:
    """HEAD exactly at vX.Y.Z, nothing uncommitted, and CHANGELOG.md has the version's section."""
    if not _RELEASE.match(version):
        raise ReleaseError(
            f"HEAD is not at a release tag (version {version}): tag it (git tag vX.Y.Z) or "
            "pass --snapshot"
        )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if dirty.strip():
        raise ReleaseError("the working tree has uncommitted changes; commit them or --snapshot")
    changelog = (repo / "CHANGELOG.md").read_text()
    if not re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M):
        raise ReleaseError(f"CHANGELOG.md has no section '## [{version}] - YYYY-MM-DD'")


def install_manifest(repo: Path, kubectl: str, image: str, version: str) -> str:
    """The CRDs, then deploy/base as kustomize renders it with the operator's image pinned."""
    crds = [yaml.safe_load(p.read_text()) for p in sorted((repo / CRDS_PATH).glob("*.yaml"))]
    operator = kustomize(repo / BASE_PATH, kubectl)
    pinned = 0
    for manifest in operator:
        if manifest["kind"] != "Deployment":
            continue
        for container in manifest["spec"]["template"]["spec"]["containers"]:
            if container["name"] == OPERATOR_CONTAINER:
                container["image"] = image
                pinned += 1
    if pinned != 1:
        raise ReleaseError(f"deploy/base has {pinned} operator containers to pin, not 1")
    header = (
        f"# oncall-operator {version}: the CRDs and the operator (deploy/base), image {image}.\n"
        "# Create the namespace's token Secret (see README), then:\n"
        "#   kubectl apply --server-side -f install.yaml\n"
    )
    return header + yaml.safe_dump_all([*crds, *operator], sort_keys=False)


def package_chart(
    repo: Path, helm: str, out: Path, version: str, repository: str, digest: str | None
) -> Path:
    """`helm package` of a copy of the chart whose default image is the release's."""
    chart_version = semver(version)
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "oncall-operator"
        shutil.copytree(repo / CHART_PATH, copy)
        values_file = copy / "values.yaml"
        values = values_file.read_text()
        values, replaced = re.subn(
            r"^(  repository: ).*$", lambda m: m[1] + repository, values, count=1, flags=re.M
        )
        if digest:
            values = re.sub(
                r"^(  digest: ).*$", lambda m: f'{m[1]}"{digest}"', values, count=1, flags=re.M
            )
        if replaced != 1:
            raise ReleaseError("the chart's values.yaml has no image.repository to set")
        values_file.write_text(values)
        result = subprocess.run(
            [
                helm,
                "package",
                str(copy),
                "--version",
                chart_version,
                "--app-version",
                image_tag(version),
                "--destination",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise ReleaseError(f"helm package failed:\n{result.stderr.strip()}")
    return out / f"oncall-operator-{chart_version}.tgz"


def find_helm() -> str:
    """Helm built from its Go module (helm.sh/helm/v4) by the testbed's Go-tool builder, once."""
    from oncall_testbed.gotools import GoToolError, ensure_tool, get_tool

    try:
        return str(ensure_tool(get_tool("helm"), build=True, progress=_say))
    except GoToolError as error:
        raise ReleaseError(f"no helm: {error}") from None


def _say(message: str) -> None:
    print(f"release: {message}", file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--image", required=True, help="the image repository, e.g. ghcr.io/acme/oncall-operator"
    )
    parser.add_argument(
        "--digest", help="pin the image by this digest (sha256:...) instead of the tag"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("dist"), help="where to write (default dist/)"
    )
    parser.add_argument(
        "--snapshot", action="store_true", help="allow a commit that is not a release tag"
    )
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help=argparse.SUPPRESS)


def main(args: argparse.Namespace) -> int:
    repo: Path = args.repo.resolve()
    try:
        version = package_version(repo)
        if not args.snapshot:
            check_releasable(repo, version)
        image = image_reference(args.image, version, args.digest)
        out: Path = args.out if args.out.is_absolute() else repo / args.out
        out.mkdir(parents=True, exist_ok=True)
        manifest = out / "install.yaml"
        manifest.write_text(install_manifest(repo, find_kubectl(), image, version))
        packaged = package_chart(repo, find_helm(), out, version, args.image, args.digest)
    except (ReleaseError, RuntimeError) as error:
        _say(str(error))
        return 1
    _say(f"{version}: wrote {manifest} (image {image}) and {packaged}")
    return 0
