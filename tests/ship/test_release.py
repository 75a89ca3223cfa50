"""Releases: the version comes from the git tag; `make release` writes dist/install.yaml (CRDs and
the operator, image pinned) and the packaged chart; LICENSE and CHANGELOG.md are there."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from oncall_testbed.release import release
from tests.ship.manifests import BASE, REPO, kustomize, only

DIGEST = "sha256:" + "ab" * 32


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def tagged_repo(tmp_path: Path) -> Path:
    """A git repository with the project's packaging files, committed and tagged v1.2.3."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
        shutil.copy(REPO / name, repo / name)
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace("## [Unreleased]", "## [1.2.3] - 2026-12-02")
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "release 1.2.3")
    git(repo, "tag", "v1.2.3")
    return repo


# The version from the tag


def test_a_tagged_commit_has_the_tags_version_and_is_releasable(tagged_repo: Path) -> None:
    version = release.package_version(tagged_repo)

    assert version == "1.2.3"
    release.check_releasable(tagged_repo, version)
    assert release.semver(version) == release.image_tag(version) == "1.2.3"


def test_a_commit_after_the_tag_is_a_dev_version_and_not_releasable(tagged_repo: Path) -> None:
    (tagged_repo / "NEWS").write_text("more\n")
    git(tagged_repo, "add", "NEWS")
    git(tagged_repo, "commit", "-q", "-m", "after")
    version = release.package_version(tagged_repo)

    assert re.fullmatch(r"1\.2\.4\.dev1\+g[0-9a-f]+", version), version
    assert re.fullmatch(r"1\.2\.4-dev1\+g[0-9a-f]+", release.semver(version))
    assert "+" not in release.image_tag(version)
    with pytest.raises(release.ReleaseError, match="not at a release tag"):
        release.check_releasable(tagged_repo, version)


def test_uncommitted_changes_or_no_changelog_section_are_not_released(tagged_repo: Path) -> None:
    (tagged_repo / "README.md").write_text("edited\n")
    with pytest.raises(release.ReleaseError, match="uncommitted"):
        release.check_releasable(tagged_repo, "1.2.3")
    git(tagged_repo, "checkout", "README.md")

    with pytest.raises(release.ReleaseError, match=r"no section '## \[1\.2\.4\]"):
        release.check_releasable(tagged_repo, "1.2.4")


def test_the_installed_package_has_a_version_from_setuptools_scm() -> None:
    import oncall_operator

    assert re.fullmatch(r"\d+\.\d+(\.\d+)?(\.dev\d+)?(\+[\w.]+)?", oncall_operator.__version__)


def test_chart_and_image_versions_of_snapshots_are_semver() -> None:
    assert release.semver("0.1.dev106+gd2b0ad47b.d20261202") == "0.1.0-dev106+gd2b0ad47b.d20261202"
    assert release.image_tag("0.1.dev106+gabc") == "0.1.0-dev106-gabc"
    with pytest.raises(release.ReleaseError):
        release.semver("not-a-version")


# dist/install.yaml


def test_install_manifest_is_the_crds_then_deploy_base_with_the_image_pinned(kubectl: str) -> None:
    image = release.image_reference("registry.example.com/oncall-operator", "1.2.3", DIGEST)
    text = release.install_manifest(REPO, kubectl, image, "1.2.3")
    docs = [d for d in yaml.safe_load_all(text) if d]
    crd_count = len(list((REPO / "crds").glob("*.yaml")))
    base = kustomize(BASE, kubectl)

    assert [d["kind"] for d in docs[:crd_count]] == ["CustomResourceDefinition"] * crd_count
    assert len(docs) == crd_count + len(base)
    (container,) = only(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"registry.example.com/oncall-operator@{DIGEST}"
    (base_container,) = only(base, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert {**container, "image": base_container["image"]} == base_container
    assert text.startswith("# oncall-operator 1.2.3:")


def test_an_image_is_pinned_by_tag_when_no_digest_is_given() -> None:
    assert release.image_reference("r/o", "1.2.3", None) == "r/o:1.2.3"
    with pytest.raises(release.ReleaseError, match="sha256"):
        release.image_reference("r/o", "1.2.3", "latest")


# What a release ships beside the code


def test_license_is_the_full_apache_2_0_text() -> None:
    text = (REPO / "LICENSE").read_text()

    assert text.lstrip().startswith("Apache License")
    assert "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert len(re.findall(r"^\s+\d\. [A-Z]", text, flags=re.MULTILINE)) == 9  # sections 1-9
    assert 'license = "Apache-2.0"' in (REPO / "pyproject.toml").read_text()


def test_changelog_has_an_unreleased_section_and_dated_releases() -> None:
    headings = re.findall(r"^## \[(.+?)\](.*)$", (REPO / "CHANGELOG.md").read_text(), re.M)

    assert headings[0] == ("Unreleased", "")
    for version, date in headings[1:]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", version)
        assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", date)
