"""Fixtures the tests of what ships share."""

from __future__ import annotations

import pytest

from tests.ship.manifests import find_kubectl


@pytest.fixture(scope="module")
def kubectl() -> str:
    """kubectl (for `kubectl kustomize`): the control plane's build, else one on PATH."""
    found = find_kubectl()
    if found is None:
        pytest.skip("no kubectl: neither the control plane's build nor one on PATH")
    return found
