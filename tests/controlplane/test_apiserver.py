"""The control plane is the real kube-apiserver: it enforces what a mock would not.

A throwaway CRD (group test.oncall.dev, not the product's) with a CEL rule, a default and the
status subresource; each test proves one behaviour the operator depends on.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from oncall_testbed.controlplane import KUBERNETES_VERSION, ControlPlane

pytestmark = pytest.mark.controlplane

GROUP, VERSION, PLURAL = "test.oncall.dev", "v1", "widgets"
CEL_MESSAGE = "spec.minReplicas must not exceed spec.replicas"
FINALIZER = "test.oncall.dev/hold"
ESTABLISHED_WITHIN_SECONDS = 30.0

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PLURAL}.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {
            "plural": PLURAL,
            "singular": "widget",
            "kind": "Widget",
            "listKind": "WidgetList",
        },
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "x-kubernetes-validations": [
                                    {
                                        "rule": "self.minReplicas <= self.replicas",
                                        "message": CEL_MESSAGE,
                                    }
                                ],
                                "properties": {
                                    "replicas": {"type": "integer"},
                                    "minReplicas": {"type": "integer", "default": 1},
                                },
                                "required": ["replicas"],
                            },
                            "status": {
                                "type": "object",
                                "properties": {"phase": {"type": "string"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def widget_crd(kube_api_client: client.ApiClient) -> None:
    extensions = client.ApiextensionsV1Api(kube_api_client)
    name = WIDGET_CRD["metadata"]["name"]
    try:
        extensions.create_custom_resource_definition(WIDGET_CRD)
    except ApiException as error:
        if error.status != 409:
            raise
    deadline = time.monotonic() + ESTABLISHED_WITHIN_SECONDS
    while time.monotonic() < deadline:
        conditions = extensions.read_custom_resource_definition(name).status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return
        time.sleep(0.2)
    raise AssertionError(f"CRD {name} not Established within {ESTABLISHED_WITHIN_SECONDS}s")


@pytest.fixture
def namespace(kube_api_client: client.ApiClient) -> Iterator[str]:
    core = client.CoreV1Api(kube_api_client)
    name = f"cp-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture
def widgets(kube_api_client: client.ApiClient, widget_crd: None) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube_api_client)


def widget(name: str, replicas: int = 3, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, **spec},
    }


def create(api: client.CustomObjectsApi, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = api.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, body
    )
    return created


def get(api: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = api.get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )
    return found


def patch(
    api: client.CustomObjectsApi, namespace: str, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    patched: dict[str, Any] = api.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, body
    )
    return patched


def test_version_is_the_pinned_release(kube_api_client: client.ApiClient) -> None:
    info = client.VersionApi(kube_api_client).get_code()
    assert info.git_version == f"v{KUBERNETES_VERSION}"
    assert (info.major, info.minor) == tuple(KUBERNETES_VERSION.split(".")[:2])


def test_cel_rule_rejects_a_bad_object_with_the_servers_message(
    widgets: client.CustomObjectsApi, namespace: str
) -> None:
    with pytest.raises(ApiException) as rejected:
        create(widgets, namespace, widget("bad", replicas=2, minReplicas=5))
    assert rejected.value.status == 422
    details = json.loads(rejected.value.body)
    assert details["reason"] == "Invalid"
    assert CEL_MESSAGE in details["message"]
    assert [cause["field"] for cause in details["details"]["causes"]] == ["spec"]


def test_schema_default_is_applied_by_the_server(
    widgets: client.CustomObjectsApi, namespace: str
) -> None:
    assert create(widgets, namespace, widget("defaulted"))["spec"]["minReplicas"] == 1


def test_status_written_through_the_main_resource_is_dropped(
    widgets: client.CustomObjectsApi, namespace: str
) -> None:
    created = create(widgets, namespace, {**widget("w"), "status": {"phase": "Faked"}})
    assert "status" not in created
    patched = patch(widgets, namespace, "w", {"status": {"phase": "Faked"}})
    assert "status" not in patched
    widgets.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "w", {"status": {"phase": "Ready"}}
    )
    assert get(widgets, namespace, "w")["status"] == {"phase": "Ready"}


def test_generation_bumps_on_spec_changes_only(
    widgets: client.CustomObjectsApi, namespace: str
) -> None:
    assert create(widgets, namespace, widget("g"))["metadata"]["generation"] == 1
    widgets.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "g", {"status": {"phase": "Ready"}}
    )
    assert (
        patch(widgets, namespace, "g", {"metadata": {"labels": {"team": "a"}}})["metadata"][
            "generation"
        ]
        == 1
    )
    assert get(widgets, namespace, "g")["metadata"]["generation"] == 1
    assert patch(widgets, namespace, "g", {"spec": {"replicas": 4}})["metadata"]["generation"] == 2


def test_stale_resource_version_is_a_conflict(
    widgets: client.CustomObjectsApi, namespace: str
) -> None:
    stale = create(widgets, namespace, widget("c"))
    patch(widgets, namespace, "c", {"spec": {"replicas": 5}})
    stale["spec"]["replicas"] = 6
    with pytest.raises(ApiException) as conflict:
        widgets.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "c", stale)
    assert conflict.value.status == 409


def test_watch_sees_changes(widgets: client.CustomObjectsApi, namespace: str) -> None:
    listed = widgets.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    since = listed["metadata"]["resourceVersion"]
    create(widgets, namespace, widget("watched"))
    patch(widgets, namespace, "watched", {"spec": {"replicas": 7}})
    widgets.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "watched")
    seen = []
    stream = watch.Watch().stream(
        widgets.list_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        resource_version=since,
        timeout_seconds=10,
    )
    for event in stream:
        seen.append((event["type"], event["object"]["spec"]["replicas"]))
        if event["type"] == "DELETED":
            break
    assert seen == [("ADDED", 3), ("MODIFIED", 7), ("DELETED", 7)]


def test_finalizer_holds_deletion_until_removed(
    widgets: client.CustomObjectsApi, namespace: str
) -> None:
    body = widget("held")
    body["metadata"]["finalizers"] = [FINALIZER]
    create(widgets, namespace, body)
    widgets.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "held")
    held = get(widgets, namespace, "held")
    assert held["metadata"]["deletionTimestamp"]
    patch(widgets, namespace, "held", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        get(widgets, namespace, "held")
    assert gone.value.status == 404


def test_operator_identity_gets_only_what_rbac_grants(
    kube_api_client: client.ApiClient, operator_api_client: client.ApiClient, namespace: str
) -> None:
    as_operator = client.CoreV1Api(operator_api_client)
    with pytest.raises(ApiException) as denied:
        as_operator.list_namespaced_config_map(namespace)
    assert denied.value.status == 403
    message = json.loads(denied.value.body)["message"]
    assert (
        'User "system:serviceaccount:oncall-operator:oncall-operator" cannot list resource "configmaps"'
        in message
    )

    rbac = client.RbacAuthorizationV1Api(kube_api_client)
    rbac.create_namespaced_role(
        namespace,
        {
            "metadata": {"name": "read-configmaps"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
        },
    )
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": "operator-reads-configmaps"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "read-configmaps",
            },
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": "oncall-operator",
                    "namespace": "oncall-operator",
                }
            ],
        },
    )
    deadline = time.monotonic() + 10
    while True:  # RBAC is read through an informer: the grant shows up within moments
        try:
            as_operator.list_namespaced_config_map(namespace)
            break
        except ApiException as error:
            if error.status != 403 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    with pytest.raises(ApiException) as still_denied:
        as_operator.delete_namespaced_config_map("kube-root-ca.crt", namespace)
    assert still_denied.value.status == 403
    with pytest.raises(ApiException) as other_namespace:
        as_operator.list_namespaced_config_map("default")
    assert other_namespace.value.status == 403


def kubectl(plane: ControlPlane, *args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(plane.binaries.kubectl), f"--kubeconfig={plane.admin_kubeconfig}", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_kubectl_talks_to_it_and_renders_kustomizations(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    versions = json.loads(kubectl(control_plane, "version", "-o", "json"))
    assert versions["clientVersion"]["gitVersion"] == f"v{KUBERNETES_VERSION}"
    assert versions["serverVersion"]["gitVersion"] == f"v{KUBERNETES_VERSION}"
    assert (
        kubectl(control_plane, "get", "namespace", "default", "-o", "name").strip()
        == "namespace/default"
    )
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\nnamePrefix: p-\n")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    rendered = yaml.safe_load(kubectl(control_plane, "kustomize", str(tmp_path)))
    assert rendered["metadata"]["name"] == "p-c"
