"""Part of the fault matrix, on the control plane against the emulator, asserting PagerDuty's end
state and the statuses: the API server answering 409 Conflict to half of the operator's writes
to oncall.dev objects that carry a resourceVersion precondition (kopf's finalizer patches; the
merge patches of status and annotations have none, and kube-apiserver never refuses those so),
or to a third of every write, status included, and ending its watch streams at random moments,
through testbed's fault proxy
(oncall_testbed/controlplane/faultproxy.py) that the operator's kubeconfig points at. The proxy
refuses without the object having changed, so no event follows a refusal, as one would in a
real conflict: kopf handles the object again on the drift timer's status write.
(PagerDuty's faults are test_faults_network.py's.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oncall_testbed.controlplane import ControlPlane
from oncall_testbed.controlplane.faultproxy import FaultProxy
from oncall_testbed.emulator import EmulatorServer
from tests.e2e import examples
from tests.e2e.conftest import DEFAULT_ENV
from tests.e2e.kube import Namespace, condition, wait_for
from tests.e2e.operator_run import OperatorProcess, assert_clean_log, assert_no_traceback
from tests.e2e.pagerduty_view import PagerDutyView

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]


# Which writes are refused: those naming a resourceVersion (what kube-apiserver refuses), half
# of them; or a third of every PATCH and PUT, status included (harsher than kube-apiserver).
CONFLICTS = {"preconditioned": (0.5, False), "every-write": (0.3, True)}


@pytest.fixture(params=sorted(CONFLICTS))
def proxy(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    rate, unconditional = CONFLICTS[request.param]
    with FaultProxy(
        control_plane.server_url,
        control_plane.ca_file,
        control_plane.pki.serving_cert,
        control_plane.pki.serving_key,
        conflict_rate=rate,
        unconditional=unconditional,
        watch_seconds=(1.0, 6.0),
    ) as running:
        yield running


@pytest.fixture
def operator_via_proxy(
    operator: OperatorProcess,
    proxy: FaultProxy,
    control_plane: ControlPlane,
    tmp_path: Path,
) -> Iterator[OperatorProcess]:
    """The operator as its ServiceAccount, but talking to the API server through the proxy;
    started again with the default settings afterwards (before the proxy goes)."""
    kubeconfig = proxy.write_kubeconfig(
        control_plane.operator_kubeconfig, tmp_path / "operator-via-proxy.kubeconfig"
    )
    operator.restart(**DEFAULT_ENV, KUBECONFIG=str(kubeconfig))
    yield operator
    operator.restart(**DEFAULT_ENV)


def test_conflicts_and_cut_watches_end_with_everything_ready_and_right_once(
    namespace: Namespace,  # first: emptied after the operator is off the proxy again
    operator_via_proxy: OperatorProcess,
    proxy: FaultProxy,
    pagerduty: PagerDutyView,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    operator = operator_via_proxy
    log_start = operator.log_size()
    manifests = examples.virtual_team()
    namespace.create(manifests)
    wait_for(
        "conflicts answered and watches cut",
        lambda: (len(proxy.conflicts) >= 2 and len(proxy.watches_cut) >= 3) or None,
        within=60,
    )
    objects = namespace.wait_all_ready(180)
    for obj in objects:
        status = obj["status"]
        assert status["observedGeneration"] == obj["metadata"]["generation"]
        ready = condition(obj, "Ready")
        assert (ready["status"], ready["observedGeneration"]) == (
            "True",
            obj["metadata"]["generation"],
        )
        found = pagerduty.get(obj["kind"], status["pagerduty"]["id"])
        assert f"{namespace.name}/{obj['kind']}/{obj['metadata']['name']}" in found["description"]
    pagerduty.assert_one_each(namespace.name, manifests)
    assert_clean_log(operator, pagerduty_token)
    assert_no_traceback(operator, log_start)
