"""The operator end to end: crds/ and deploy/'s RBAC on the real control plane, a PagerDuty
emulator seeded with examples/users.yaml, and `oncall-operator run` as a subprocess acting as its
ServiceAccount. One operator serves the whole session (tests that need other settings restart it
with them and it is put back); every test gets a namespace of its own, emptied afterwards."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from oncall_testbed.controlplane import ControlPlane
from oncall_testbed.emulator import EmulatorServer
from tests.e2e import examples
from tests.e2e.kube import Namespace
from tests.e2e.operator_run import OperatorProcess
from tests.e2e.pagerduty_view import PagerDutyView
from tests.ship.manifests import BASE
from tests.ship.rbac import deploy_rbac, ensure_namespace, install_crds

# Short, so that a drift test sees two ticks in seconds; a test that must not see the drift
# timer restarts the operator with SLOW_DRIFT.
DRIFT_INTERVAL_SECONDS = 5.0
SLOW_DRIFT_SECONDS = 600.0
# The read budget is raised like the rate limit: the sweep lists PagerDuty every drift interval
# instead of waiting for the budget that the tests' own reconciles spend.
DEFAULT_ENV = {
    "ONCALL_DRIFT_INTERVAL_SECONDS": str(DRIFT_INTERVAL_SECONDS),
    "ONCALL_READ_BUDGET_PER_MINUTE": "100000",
}

_LOG_OFFSET = pytest.StashKey[int]()
_counter = itertools.count(1)


@pytest.fixture(scope="package")
def pagerduty_token() -> str:
    """Random per run, so finding it anywhere in the operator's log is a real leak."""
    return f"e2e-token-{secrets.token_hex(16)}"


@pytest.fixture(scope="package")
def pagerduty_emulator(pagerduty_token: str) -> Iterator[EmulatorServer]:
    """The PagerDuty every e2e test shares, with the examples' users; no rate limit to speak of
    (these tests are about Kubernetes and PagerDuty agreeing, not about being throttled)."""
    with EmulatorServer(
        pagerduty_token, users=examples.users(), rate_limit_per_minute=100_000
    ) as server:
        yield server


@pytest.fixture(scope="package")
def pagerduty(pagerduty_emulator: EmulatorServer) -> Iterator[PagerDutyView]:
    view = PagerDutyView(pagerduty_emulator)
    yield view
    view.close()


@pytest.fixture(scope="package")
def operator_cluster(kube_api_client: client.ApiClient) -> Iterator[client.ApiClient]:
    """crds/ installed and the operator's RBAC exactly deploy/base's, while tests/e2e runs.

    Package scope: the operator and its grants go away before other packages' tests (which set
    RBAC of their own on the same control plane) run."""
    install_crds(kube_api_client)
    with deploy_rbac(kube_api_client, BASE):
        yield kube_api_client


@pytest.fixture(scope="package")
def operator_process(
    control_plane: ControlPlane,
    operator_cluster: client.ApiClient,
    pagerduty_emulator: EmulatorServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    log_file = tmp_path_factory.mktemp("operator") / "operator.log"
    process = OperatorProcess(
        log_file,
        {
            "KUBECONFIG": str(control_plane.operator_kubeconfig),
            "PAGERDUTY_API_TOKEN": pagerduty_emulator.token,
            "PAGERDUTY_API_URL": pagerduty_emulator.base_url,
            "PAGERDUTY_CA_FILE": str(pagerduty_emulator.ca_file),
            "PAGERDUTY_RATE_LIMIT": "100000",
        },
    )
    process.start(**DEFAULT_ENV)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def operator(
    operator_process: OperatorProcess, request: pytest.FixtureRequest
) -> Iterator[OperatorProcess]:
    """The session's operator, running with the default settings; its log from this test on is
    shown when the test fails."""
    if not operator_process.running or operator_process.env != {
        **operator_process.base_env,
        **DEFAULT_ENV,
    }:
        operator_process.restart(**DEFAULT_ENV)
    request.node.stash[_LOG_OFFSET] = operator_process.log_size()
    yield operator_process
    if not operator_process.running:
        operator_process.start(**DEFAULT_ENV)


@pytest.fixture
def namespace(
    operator_cluster: client.ApiClient, request: pytest.FixtureRequest
) -> Iterator[Namespace]:
    """A namespace of this test's own; its objects are deleted (and finalized) afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    name = f"e2e-{next(_counter)}-{slug}"[:63].rstrip("-")
    ensure_namespace(operator_cluster, name)
    found = Namespace(operator_cluster, name)
    yield found
    found.delete_everything()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and _LOG_OFFSET in item.stash:
        process: OperatorProcess | None = item.funcargs.get("operator")  # type: ignore[attr-defined]
        if process is not None:
            log = process.log_since(item.stash[_LOG_OFFSET])
            report.sections.append(("operator log (this test)", log[-20_000:]))
