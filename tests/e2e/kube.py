"""The oncall.dev objects of one test namespace, as an engineer would handle them with kubectl."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException

GROUP, VERSION = "oncall.dev", "v1alpha1"
PLURALS = {
    "OnCallTeam": "oncallteams",
    "Rotation": "rotations",
    "EscalationPolicy": "escalationpolicies",
}
# Referrers first, so that a deletion never waits for a PagerDuty object still in use.
DELETION_ORDER = ("EscalationPolicy", "Rotation", "OnCallTeam")
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"

T = TypeVar("T")
Manifest = dict[str, Any]


def wait_for(
    what: str, probe: Callable[[], T | None], within: float = 60.0, every: float = 0.5
) -> T:
    """Poll until `probe` returns something truthy; fail naming `what` and the last value seen."""
    deadline = time.monotonic() + within
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f}s: {what} (last seen: {last!r})")
        time.sleep(every)


def condition(obj: Manifest, type_: str) -> dict[str, Any]:
    found = [c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == type_]
    return found[0] if found else {}


def is_ready(obj: Manifest) -> bool:
    status = obj.get("status") or {}
    return (
        status.get("observedGeneration") == obj["metadata"]["generation"]
        and condition(obj, "Ready").get("status") == "True"
    )


def describe(obj: Manifest) -> str:
    ready = condition(obj, "Ready")
    return (
        f"{obj['kind']} {obj['metadata']['name']}: Ready={ready.get('status')} "
        f"{ready.get('reason')}: {ready.get('message')}"
    )


class Namespace:
    """Create, read, edit, delete and wait for the oncall.dev objects of one namespace (admin)."""

    def __init__(self, api_client: client.ApiClient, name: str) -> None:
        self.api_client = api_client
        self.name = name
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)

    def create(self, manifests: Iterable[Manifest]) -> None:
        for manifest in manifests:
            body = {**manifest, "metadata": {**manifest["metadata"], "namespace": self.name}}
            self.custom.create_namespaced_custom_object(
                GROUP, VERSION, self.name, PLURALS[manifest["kind"]], body
            )

    def get(self, kind: str, name: str) -> Manifest:
        obj: Manifest = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.name, PLURALS[kind], name
        )
        return obj

    def find(self, kind: str, name: str) -> Manifest | None:
        try:
            return self.get(kind, name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def list(self, kind: str) -> list[Manifest]:
        found = self.custom.list_namespaced_custom_object(GROUP, VERSION, self.name, PLURALS[kind])
        items: list[Manifest] = found["items"]
        for item in items:
            item.setdefault("kind", kind)
        return items

    def all(self) -> list[Manifest]:
        return [obj for kind in PLURALS for obj in self.list(kind)]

    def patch(self, kind: str, name: str, patch: Manifest) -> Manifest:
        """A JSON merge patch of the object (spec, labels, annotations)."""
        obj: Manifest = self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.name, PLURALS[kind], name, patch
        )
        return obj

    def delete(self, kind: str, name: str) -> None:
        try:
            self.custom.delete_namespaced_custom_object(
                GROUP, VERSION, self.name, PLURALS[kind], name
            )
        except ApiException as error:
            if error.status != 404:
                raise

    def gone(self, kind: str, name: str) -> bool:
        return self.find(kind, name) is None

    def wait_ready(self, kind: str, name: str, within: float = 60.0) -> Manifest:
        last: list[Manifest] = []

        def probe() -> Manifest | None:
            obj = self.get(kind, name)
            last[:] = [obj]
            return obj if is_ready(obj) else None

        try:
            return wait_for(f"{kind} {self.name}/{name} Ready", probe, within)
        except AssertionError:
            raise AssertionError(f"not Ready within {within:.0f}s: {describe(last[0])}") from None

    def wait_all_ready(self, within: float = 60.0, except_paused: bool = False) -> list[Manifest]:
        """Every object of the namespace Ready (paused ones skipped when asked), else what is not."""
        pending: list[str] = []

        def probe() -> list[Manifest] | None:
            objects = self.all()
            waiting = [
                obj
                for obj in objects
                if not is_ready(obj)
                and not (except_paused and condition(obj, "Ready").get("reason") == "Paused")
            ]
            pending[:] = [describe(obj) for obj in waiting]
            return objects if objects and not waiting else None

        try:
            return wait_for(f"every object in {self.name} Ready", probe, within)
        except AssertionError:
            raise AssertionError(
                f"not Ready within {within:.0f}s:\n  " + "\n  ".join(pending)
            ) from None

    def events(self, name: str) -> list[dict[str, Any]]:
        found = self.core.list_namespaced_event(
            self.name, field_selector=f"involvedObject.name={name}"
        )
        return [
            {
                "type": e.type,
                "reason": e.reason,
                "message": e.message,
                "kind": e.involved_object.kind,
            }
            for e in found.items
        ]

    def table(self, kind: str) -> dict[str, Any]:
        """The server-side Table `kubectl get` prints: the CRD's printer columns, computed by the API server."""
        path = f"/apis/{GROUP}/{VERSION}/namespaces/{self.name}/{PLURALS[kind]}"
        request = self.api_client.param_serialize(
            "GET", path, header_params={"Accept": TABLE}, auth_settings=["BearerToken"]
        )
        response = self.api_client.call_api(*request)
        response.read()
        table: dict[str, Any] = json.loads(response.data)
        return table

    def delete_everything(self, within: float = 30.0) -> None:
        """Delete every object, referrers first, each kind gone before the next, and let the
        operator finalize them; a finalizer left after `within` seconds is removed, so that the
        next test starts clean."""
        deadline = time.monotonic() + within
        for kind in DELETION_ORDER:
            for obj in self.list(kind):
                self.delete(kind, obj["metadata"]["name"])
            while self.list(kind) and time.monotonic() < deadline:
                time.sleep(0.5)
        for obj in self.all():
            try:
                self.patch(obj["kind"], obj["metadata"]["name"], {"metadata": {"finalizers": None}})
            except ApiException as error:
                if error.status != 404:  # finalized meanwhile: gone is what was wanted
                    raise
