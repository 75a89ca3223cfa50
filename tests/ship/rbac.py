"""Put deploy/'s RBAC on a control plane (and take it off again), so that tests can act as the
operator's ServiceAccount with exactly the permissions a cluster would give it.

Reusable: `with deploy_rbac(kube_api_client, BASE): ...` around anything that runs the operator
with the control plane's operator identity (system:serviceaccount:oncall-operator:oncall-operator)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.ship.manifests import (
    BASE,
    RBAC_KINDS,
    REPO,
    SINGLE_NAMESPACE,
    Manifest,
    find_kubectl,
    kustomization_resources,
    kustomize,
    of_kinds,
)

GROUP = "oncall.dev"
VERSION = "v1alpha1"
ESTABLISHED_WITHIN_SECONDS = 30.0
RBAC_VISIBLE_WITHIN_SECONDS = 10.0
RBAC_VARIANTS = (BASE, SINGLE_NAMESPACE)


def rbac_manifests(directory: Path = BASE) -> list[Manifest]:
    """The ClusterRoles, Roles and bindings that `kubectl kustomize DIRECTORY` renders.

    Without a kubectl only the base can be read (its files carry no patches)."""
    kubectl = find_kubectl()
    if kubectl is not None:
        return of_kinds(kustomize(directory, kubectl), RBAC_KINDS)
    if directory != BASE:
        raise LookupError(f"rendering {directory} needs kubectl (kustomize patches)")
    return of_kinds(kustomization_resources(BASE), RBAC_KINDS)


def install_crds(api_client: client.ApiClient) -> None:
    """crds/ created or replaced, and Established."""
    extensions = client.ApiextensionsV1Api(api_client)
    names = []
    for path in sorted((REPO / "crds").glob(f"{GROUP}_*.yaml")):
        crd = yaml.safe_load(path.read_text())
        names.append(crd["metadata"]["name"])
        try:
            current = extensions.read_custom_resource_definition(crd["metadata"]["name"])
        except ApiException as error:
            if error.status != 404:
                raise
            extensions.create_custom_resource_definition(crd)
        else:
            crd["metadata"]["resourceVersion"] = current.metadata.resource_version
            extensions.replace_custom_resource_definition(crd["metadata"]["name"], crd)
    wait_until(
        lambda: all(_established(extensions, name) for name in names),
        ESTABLISHED_WITHIN_SECONDS,
        f"CRDs {names} not Established",
    )


def ensure_namespace(api_client: client.ApiClient, name: str) -> None:
    try:
        client.CoreV1Api(api_client).create_namespace({"metadata": {"name": name}})
    except ApiException as error:
        if error.status != 409:
            raise


@contextmanager
def deploy_rbac(api_client: client.ApiClient, directory: Path = BASE) -> Iterator[list[Manifest]]:
    """The operator's RBAC is exactly DIRECTORY's for the duration of the block.

    RBAC objects of the other deploy/ variants (e.g. the base's ClusterRoleBinding while the
    single-namespace overlay is tested) are taken away meanwhile; whatever existed before is put
    back afterwards, so tests sharing one control plane do not see each other's grants."""
    wanted = rbac_manifests(directory)
    wanted_keys = {_key(m) for m in wanted}
    others = [
        manifest
        for variant in RBAC_VARIANTS
        if variant != directory
        for manifest in rbac_manifests(variant)
        if _key(manifest) not in wanted_keys
    ]
    before: dict[tuple[str, str | None, str], Manifest] = {}
    for manifest in [*wanted, *others]:
        current = _read(api_client, manifest)
        if current is not None:
            before[_key(manifest)] = current
    for manifest in others:
        _delete(api_client, manifest)
    for manifest in wanted:
        namespace = manifest["metadata"].get("namespace")
        if namespace:
            ensure_namespace(api_client, namespace)
        _create_or_replace(api_client, manifest)
    try:
        yield wanted
    finally:
        for manifest in reversed(wanted):
            _delete(api_client, manifest)
        for saved in before.values():
            _create_or_replace(api_client, saved)


def allowed(
    api_client: client.ApiClient,
    verb: str,
    resource: str,
    group: str = "",
    namespace: str | None = None,
    subresource: str | None = None,
) -> bool:
    """Whether the client's own identity may do this (a SelfSubjectAccessReview)."""
    attributes = {"verb": verb, "resource": resource, "group": group}
    if namespace is not None:
        attributes["namespace"] = namespace
    if subresource is not None:
        attributes["subresource"] = subresource
    review = client.AuthorizationV1Api(api_client).create_self_subject_access_review(
        {"spec": {"resourceAttributes": attributes}}
    )
    return bool(review.status.allowed)


def wait_until(condition: Callable[[], bool], within_seconds: float, failure: str) -> None:
    deadline = time.monotonic() + within_seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(0.1)


def _established(extensions: client.ApiextensionsV1Api, name: str) -> bool:
    conditions = extensions.read_custom_resource_definition(name).status.conditions or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)


def _rbac_calls(
    api: client.RbacAuthorizationV1Api, kind: str
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """(create, replace, delete) for one RBAC kind; namespaced ones take namespace= as well."""
    calls = {
        "ClusterRole": (
            api.create_cluster_role,
            api.replace_cluster_role,
            api.delete_cluster_role,
        ),
        "ClusterRoleBinding": (
            api.create_cluster_role_binding,
            api.replace_cluster_role_binding,
            api.delete_cluster_role_binding,
        ),
        "Role": (
            api.create_namespaced_role,
            api.replace_namespaced_role,
            api.delete_namespaced_role,
        ),
        "RoleBinding": (
            api.create_namespaced_role_binding,
            api.replace_namespaced_role_binding,
            api.delete_namespaced_role_binding,
        ),
    }
    return calls[kind]


def _key(manifest: Manifest) -> tuple[str, str | None, str]:
    metadata = manifest["metadata"]
    return (manifest["kind"], metadata.get("namespace"), metadata["name"])


def _read(api_client: client.ApiClient, manifest: Manifest) -> Manifest | None:
    """The object as it is on the server (without server-set metadata), or None."""
    api = client.RbacAuthorizationV1Api(api_client)
    readers: dict[str, Callable[..., Any]] = {
        "ClusterRole": api.read_cluster_role,
        "ClusterRoleBinding": api.read_cluster_role_binding,
        "Role": api.read_namespaced_role,
        "RoleBinding": api.read_namespaced_role_binding,
    }
    namespace = manifest["metadata"].get("namespace")
    where: dict[str, Any] = {"namespace": namespace} if namespace else {}
    try:
        found = readers[manifest["kind"]](name=manifest["metadata"]["name"], **where)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    current: Manifest = api_client.sanitize_for_serialization(found)
    current["kind"] = manifest["kind"]
    current["apiVersion"] = manifest["apiVersion"]
    current["metadata"] = {
        key: value
        for key, value in current["metadata"].items()
        if key in {"name", "namespace", "labels", "annotations"}
    }
    return current


def _create_or_replace(api_client: client.ApiClient, manifest: Manifest) -> None:
    create, replace, _ = _rbac_calls(client.RbacAuthorizationV1Api(api_client), manifest["kind"])
    namespace = manifest["metadata"].get("namespace")
    where: dict[str, Any] = {"namespace": namespace} if namespace else {}
    try:
        create(body=manifest, **where)
    except ApiException as error:
        if error.status != 409:
            raise
        replace(name=manifest["metadata"]["name"], body=manifest, **where)


def _delete(api_client: client.ApiClient, manifest: Manifest) -> None:
    _, _, delete = _rbac_calls(client.RbacAuthorizationV1Api(api_client), manifest["kind"])
    namespace = manifest["metadata"].get("namespace")
    where: dict[str, Any] = {"namespace": namespace} if namespace else {}
    try:
        delete(name=manifest["metadata"]["name"], **where)
    except ApiException as error:
        if error.status != 404:
            raise
