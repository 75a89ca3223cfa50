"""deploy/'s RBAC on a real kube-apiserver: authenticated as the operator's ServiceAccount, with
exactly the roles deploy/ grants, every API call the operator (and kopf under it) makes succeeds,
and calls it never needs are Forbidden. Once for the cluster-wide base, once for the
single-namespace overlay (Role only)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.ship.manifests import BASE, REPO, SINGLE_NAMESPACE, find_kubectl, kustomize, only
from tests.ship.rbac import (
    GROUP,
    RBAC_VISIBLE_WITHIN_SECONDS,
    VERSION,
    allowed,
    deploy_rbac,
    ensure_namespace,
    install_crds,
    wait_until,
)

pytestmark = pytest.mark.controlplane

PLURALS = {
    "OnCallTeam": "oncallteams",
    "Rotation": "rotations",
    "EscalationPolicy": "escalationpolicies",
}
FINALIZER = f"{GROUP}/finalizer"


def example_objects() -> dict[str, dict[str, Any]]:
    """One object of each kind from examples/virtual-team (valid by the CRDs' schemas)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((REPO / "examples" / "virtual-team").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] in PLURALS:
                found.setdefault(doc["kind"], doc)
    assert set(found) == set(PLURALS)
    return found


@pytest.fixture(scope="module")
def crds(kube_api_client: client.ApiClient) -> None:
    install_crds(kube_api_client)


@pytest.fixture
def objects(
    kube_api_client: client.ApiClient, crds: None, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], list[tuple[str, str]]]]:
    """Creates, as admin, one object of each kind in a namespace; removes them afterwards."""
    custom = client.CustomObjectsApi(kube_api_client)
    created: list[tuple[str, str, str]] = []

    def create_in(namespace: str) -> list[tuple[str, str]]:
        ensure_namespace(kube_api_client, namespace)
        names = []
        for kind, example in example_objects().items():
            body = {
                **example,
                "metadata": {"name": f"rbac-{uuid.uuid4().hex[:8]}", "namespace": namespace},
            }
            custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURALS[kind], body)
            created.append((namespace, PLURALS[kind], body["metadata"]["name"]))
            names.append((PLURALS[kind], body["metadata"]["name"]))
        return names

    yield create_in
    for namespace, plural, name in created:
        try:
            custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, name, {"metadata": {"finalizers": None}}
            )
            custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
        except ApiException as error:
            if error.status != 404:
                raise


def forbidden(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ApiException as error:
        if error.status == 403:
            return True
        raise
    return False


def watch_opens(open_watch: Callable[..., Any]) -> None:
    """A watch request answered 200 (a Forbidden one raises); closed at once."""
    response = open_watch(watch=True, timeout_seconds=1, _preload_content=False)
    try:
        assert response.status == 200
    finally:
        response.close()


def do_what_the_operator_does(
    operator: client.ApiClient, namespace: str, names: list[tuple[str, str]]
) -> None:
    custom = client.CustomObjectsApi(operator)
    for plural, name in names:
        custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)
        watch_opens(
            partial(custom.list_namespaced_custom_object, GROUP, VERSION, namespace, plural)
        )
        custom.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
        # kopf: the finalizer and its annotations (storage prefix operator.oncall.dev).
        custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            plural,
            name,
            {
                "metadata": {
                    "finalizers": [FINALIZER],
                    "annotations": {f"operator.{GROUP}/last-handled-configuration": "{}"},
                }
            },
        )
        custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, plural, name, {"status": {"observedGeneration": 1}}
        )
        custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, name, {"metadata": {"finalizers": None}}
        )
    plural, name = names[0]
    involved = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "OnCallTeam",
        "name": name,
        "namespace": namespace,
    }
    now = dt.datetime.now(dt.UTC)
    core = client.CoreV1Api(operator)
    event_name = f"{name}.{uuid.uuid4().hex[:8]}"
    core.create_namespaced_event(
        namespace,
        {
            "metadata": {"name": event_name, "namespace": namespace},
            "involvedObject": involved,
            "reason": "Created",
            "message": "Created the PagerDuty team",
            "type": "Normal",
            "firstTimestamp": now.isoformat(),
            "lastTimestamp": now.isoformat(),
            "source": {"component": "oncall-operator"},
        },
    )
    core.patch_namespaced_event(event_name, namespace, {"count": 2})
    events = client.EventsV1Api(operator)
    new_event_name = f"{name}.{uuid.uuid4().hex[:8]}"
    events.create_namespaced_event(
        namespace,
        {
            "metadata": {"name": new_event_name, "namespace": namespace},
            "regarding": involved,
            "reason": "DriftCorrected",
            "note": "PagerDuty had drifted from the spec",
            "type": "Normal",
            "action": "Reconcile",
            "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "reportingController": "oncall.dev/oncall-operator",
            "reportingInstance": "oncall-operator",
        },
    )
    events.patch_namespaced_event(
        new_event_name,
        namespace,
        {"series": {"count": 2, "lastObservedTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}},
    )


def check_what_the_operator_must_not_do(
    operator: client.ApiClient, namespace: str, names: list[tuple[str, str]]
) -> None:
    core = client.CoreV1Api(operator)
    custom = client.CustomObjectsApi(operator)
    plural, name = names[0]
    assert forbidden(lambda: core.list_namespaced_secret(namespace))
    assert forbidden(lambda: core.read_namespaced_secret("pagerduty-api-token", "oncall-operator"))
    assert forbidden(lambda: core.list_namespaced_pod(namespace))
    assert forbidden(lambda: core.delete_namespace(namespace))
    assert forbidden(
        lambda: custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
    )
    assert forbidden(
        lambda: custom.create_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            plural,
            {"apiVersion": f"{GROUP}/{VERSION}", "kind": "OnCallTeam", "metadata": {"name": "x"}},
        )
    )
    assert forbidden(
        lambda: client.RbacAuthorizationV1Api(operator).create_cluster_role_binding(
            {
                "metadata": {"name": "escalate"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "cluster-admin",
                },
                "subjects": [],
            }
        )
    )


def test_cluster_wide_operator_can_do_its_job_and_nothing_more(
    kube_api_client: client.ApiClient,
    operator_api_client: client.ApiClient,
    objects: Callable[[str], list[tuple[str, str]]],
) -> None:
    namespace = f"rbac-{uuid.uuid4().hex[:8]}"
    names = objects(namespace)
    with deploy_rbac(kube_api_client, BASE):
        wait_until(
            lambda: allowed(operator_api_client, "watch", "oncallteams", GROUP),
            RBAC_VISIBLE_WITHIN_SECONDS,
            "the operator's ClusterRole never took effect",
        )
        custom = client.CustomObjectsApi(operator_api_client)
        extensions = client.ApiextensionsV1Api(operator_api_client)
        for plural in PLURALS.values():
            custom.list_cluster_custom_object(GROUP, VERSION, plural)
            watch_opens(partial(custom.list_cluster_custom_object, GROUP, VERSION, plural))
        extensions.list_custom_resource_definition()
        watch_opens(extensions.list_custom_resource_definition)

        do_what_the_operator_does(operator_api_client, namespace, names)
        check_what_the_operator_must_not_do(operator_api_client, namespace, names)


def test_single_namespace_operator_can_do_its_job_there_and_nothing_elsewhere(
    kube_api_client: client.ApiClient,
    operator_api_client: client.ApiClient,
    objects: Callable[[str], list[tuple[str, str]]],
) -> None:
    kubectl = find_kubectl()
    if kubectl is None:
        pytest.skip("rendering the overlay needs kubectl")
    watched = only(kustomize(SINGLE_NAMESPACE, kubectl), "Role")["metadata"]["namespace"]
    elsewhere = f"rbac-{uuid.uuid4().hex[:8]}"
    names = objects(watched)
    other_names = objects(elsewhere)
    with deploy_rbac(kube_api_client, SINGLE_NAMESPACE):
        wait_until(
            lambda: allowed(operator_api_client, "watch", "oncallteams", GROUP, namespace=watched),
            RBAC_VISIBLE_WITHIN_SECONDS,
            "the operator's Role never took effect",
        )
        do_what_the_operator_does(operator_api_client, watched, names)
        check_what_the_operator_must_not_do(operator_api_client, watched, names)

        custom = client.CustomObjectsApi(operator_api_client)
        plural, name = other_names[0]
        assert forbidden(lambda: custom.list_cluster_custom_object(GROUP, VERSION, plural))
        assert forbidden(
            lambda: custom.list_namespaced_custom_object(GROUP, VERSION, elsewhere, plural)
        )
        assert forbidden(
            lambda: custom.patch_namespaced_custom_object(
                GROUP, VERSION, elsewhere, plural, name, {"metadata": {"finalizers": [FINALIZER]}}
            )
        )
        assert forbidden(
            lambda: client.ApiextensionsV1Api(operator_api_client).list_custom_resource_definition()
        )


def test_deploy_rbac_takes_other_grants_away_for_its_block_and_puts_them_back(
    kube_api_client: client.ApiClient, operator_api_client: client.ApiClient, crds: None
) -> None:
    def cluster_wide() -> bool:
        return allowed(operator_api_client, "list", "oncallteams", GROUP)

    with deploy_rbac(kube_api_client, BASE):
        wait_until(cluster_wide, RBAC_VISIBLE_WITHIN_SECONDS, "base RBAC never took effect")
        with deploy_rbac(kube_api_client, SINGLE_NAMESPACE):
            wait_until(
                lambda: not cluster_wide(),
                RBAC_VISIBLE_WITHIN_SECONDS,
                "the base's cluster-wide grant stayed during the single-namespace block",
            )
        wait_until(cluster_wide, RBAC_VISIBLE_WITHIN_SECONDS, "the base's grant was not put back")
    wait_until(
        lambda: not cluster_wide(),
        RBAC_VISIBLE_WITHIN_SECONDS,
        "the base's grant outlived its block",
    )
