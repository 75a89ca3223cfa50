"""Two replicas with Kopf peering, as deploy/base runs them, on the real control plane under
deploy/base's RBAC: only one works at a time; killing the working one mid-convergence hands over
to the other, which finishes the job with no duplicate PagerDuty object and no double write.
The takeover time is printed (docs/guarantees.md quotes it)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from oncall_testbed.controlplane import ControlPlane
from oncall_testbed.emulator import EmulatorServer
from tests.e2e import examples
from tests.e2e.kube import Namespace, wait_for
from tests.e2e.operator_run import OperatorProcess, assert_clean_log
from tests.e2e.pagerduty_view import PagerDutyView
from tests.ship.manifests import BASE

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

# deploy/base's value: a replica killed without a goodbye is taken over after this.
LIFETIME_SECONDS = int(
    next(
        e["value"]
        for e in yaml.safe_load((BASE / "deployment.yaml").read_text())["spec"]["template"]["spec"][
            "containers"
        ][0]["env"]
        if e["name"] == "ONCALL_PEERING_LIFETIME_SECONDS"
    )
)
PEERING = {"ONCALL_PEERING_NAME": "oncall-operator", "ONCALL_DRIFT_INTERVAL_SECONDS": "600"}
CREATES = {
    "/teams": "OnCallTeam",
    "/schedules": "Rotation",
    "/escalation_policies": "EscalationPolicy",
}


@pytest.fixture
def peering(operator_cluster: client.ApiClient) -> Iterator[None]:
    """deploy/base/peering.yaml applied: Kopf's peering CRDs and the ClusterKopfPeering, which is
    deleted again afterwards (other tests on the shared control plane, such as the Helm chart's
    install, create their own ClusterKopfPeering of the same name)."""
    documents = list(yaml.safe_load_all((BASE / "peering.yaml").read_text()))
    extensions = client.ApiextensionsV1Api(operator_cluster)
    for crd in (d for d in documents if d["kind"] == "CustomResourceDefinition"):
        if crd["metadata"]["name"] not in {
            c.metadata.name for c in extensions.list_custom_resource_definition().items
        }:
            extensions.create_custom_resource_definition(crd)
        wait_for(
            f"{crd['metadata']['name']} established",
            lambda name=crd["metadata"]["name"]: any(
                c.type == "Established" and c.status == "True"
                for c in extensions.read_custom_resource_definition(name).status.conditions or []
            ),
            within=30,
        )
    custom = client.CustomObjectsApi(operator_cluster)
    peerings = [d for d in documents if d["kind"] == "ClusterKopfPeering"]

    def delete_peerings() -> None:
        for obj in peerings:
            try:
                custom.delete_cluster_custom_object(
                    "kopf.dev", "v1", "clusterkopfpeerings", obj["metadata"]["name"]
                )
            except client.ApiException as error:
                if error.status != 404:
                    raise

    delete_peerings()
    for obj in peerings:
        custom.create_cluster_custom_object("kopf.dev", "v1", "clusterkopfpeerings", obj)
    yield
    delete_peerings()


@pytest.fixture
def replicas(
    operator: OperatorProcess,
    peering: None,
    control_plane: ControlPlane,
    tmp_path: Path,
) -> Iterator[tuple[OperatorProcess, OperatorProcess]]:
    """The session's standalone operator stopped; two peering replicas started, first then second."""
    operator.stop()
    first = OperatorProcess(tmp_path / "first.log", operator.base_env)
    second = OperatorProcess(tmp_path / "second.log", operator.base_env)
    try:
        first.start(**PEERING)
        wait_for(
            "the first replica at work",
            lambda: "Resuming operations" in first.log() or None,
            within=30,
        )
        second.start(**PEERING)
        # Kopf starts a replica paused until the peering says it is the oldest live one.
        wait_for(
            "both replicas' records in the peering",
            lambda: len(peers(control_plane)) == 2 or None,
            within=30,
        )
        time.sleep(2)
        assert "Resuming operations" not in second.log(), second.log_tail()
        yield first, second
    finally:
        first.stop()
        second.stop()


def peers(control_plane: ControlPlane) -> dict[str, object]:
    from kubernetes import config

    with config.new_client_from_config(config_file=str(control_plane.admin_kubeconfig)) as api:
        peering = client.CustomObjectsApi(api).get_cluster_custom_object(
            "kopf.dev", "v1", "clusterkopfpeerings", "oncall-operator"
        )
    return dict(peering.get("status") or {})


def posts(emulator: EmulatorServer) -> Counter[str]:
    return Counter(
        CREATES[r["path"]]
        for r in emulator.requests()
        if r["method"] == "POST" and r["path"] in CREATES
    )


def test_the_standby_takes_over_a_killed_replica_without_duplicates(
    replicas: tuple[OperatorProcess, OperatorProcess],
    namespace: Namespace,
    pagerduty: PagerDutyView,
    pagerduty_emulator: EmulatorServer,
    pagerduty_token: str,
) -> None:
    first, second = replicas
    manifests = examples.virtual_team()
    pagerduty_emulator.clear_requests()
    namespace.create(manifests)
    wait_for(
        "the first replica's first PagerDuty create",
        lambda: any(r["method"] == "POST" for r in pagerduty_emulator.requests()),
        within=30,
        every=0.05,
    )
    assert "reconcile (" not in second.log(), "the waiting replica reconciled"
    first.stop(kill=True)
    killed = time.monotonic()
    wait_for(
        "the second replica resuming",
        lambda: "Resuming operations" in second.log() or None,
        within=LIFETIME_SECONDS + 30,
        every=0.2,
    )
    takeover = time.monotonic() - killed
    namespace.wait_all_ready(60)
    converged = time.monotonic() - killed
    print(
        f"\nfailover: takeover {takeover:.1f}s after SIGKILL, all Ready {converged:.1f}s after it "
        f"(peering lifetime {LIFETIME_SECONDS}s)"
    )

    assert takeover <= LIFETIME_SECONDS + 5
    expected = Counter(m["kind"] for m in manifests)
    pagerduty.assert_one_each(namespace.name, manifests)
    # Each object was created once: the replica taking over adopted what the killed one made.
    assert posts(pagerduty_emulator) == expected
    assert_clean_log(second, pagerduty_token)


def test_a_graceful_stop_hands_over_at_once(
    replicas: tuple[OperatorProcess, OperatorProcess],
    namespace: Namespace,
) -> None:
    first, second = replicas
    stopped = time.monotonic()
    first.stop()  # SIGTERM: kopf removes its peering record on the way out
    wait_for(
        "the second replica resuming",
        lambda: "Resuming operations" in second.log() or None,
        within=15,
        every=0.2,
    )
    print(f"\nfailover after a graceful stop: {time.monotonic() - stopped:.1f}s")
    namespace.create([m for m in examples.virtual_team() if m["kind"] == "OnCallTeam"])
    namespace.wait_all_ready(60)
