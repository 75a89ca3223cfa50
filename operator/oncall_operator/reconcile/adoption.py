"""Finding the PagerDuty object a resource manages, so creation never makes a duplicate.

In order: the object named by spec.pagerduty.id (adopt it); the one in status.pagerduty.id; an
object of the same name whose description carries this resource's managed marker (made by an
earlier reconcile whose status was never written); otherwise none, and the caller creates it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oncall_operator.pagerduty.errors import NotFound, PagerDutyError
from oncall_operator.reconcile.errors import AdoptionFailed, retry_deletion
from oncall_operator.reconcile.model import Event, ObjectMeta
from oncall_operator.reconcile.status import StatusDraft, is_paused
from oncall_operator.translate.identity import ObjectIdentity, managed_identity

PagerDutyObject = dict[str, Any]


@dataclass(frozen=True)
class PagerDutyKind:
    """The client calls for one kind of PagerDuty object."""

    label: str  # "team", "schedule", "escalation policy"
    get: Callable[[str], PagerDutyObject]
    find: Callable[[str], Sequence[PagerDutyObject]]  # by name
    delete: Callable[[str], None]


def locate(
    kind: PagerDutyKind,
    identity: ObjectIdentity,
    name: str,
    spec_id: str | None,
    draft: StatusDraft,
) -> PagerDutyObject | None:
    """The existing PagerDuty object of this resource, or None when it has to be created."""
    if spec_id:
        try:
            found = kind.get(spec_id)
        except NotFound:
            raise AdoptionFailed(
                f"spec.pagerduty.id: PagerDuty has no {kind.label} {spec_id} to adopt."
            ) from None
        if draft.pagerduty_id != spec_id:
            draft.event("Adopted", f"Adopted PagerDuty {kind.label} {spec_id} (spec.pagerduty.id).")
        return found
    if known_id := draft.pagerduty_id:
        try:
            return kind.get(known_id)
        except NotFound:
            draft.event(
                "Recreating",
                f"PagerDuty {kind.label} {known_id} was deleted outside Git; making it again.",
                "Warning",
            )
            draft.status.pop("pagerduty", None)
    made_by_us = find_managed(kind, identity, name)
    if made_by_us is not None:
        draft.event(
            "Adopted",
            f"Adopted PagerDuty {kind.label} {made_by_us['id']}, which carries this object's "
            "managed marker.",
        )
    return made_by_us


def find_managed(
    kind: PagerDutyKind, identity: ObjectIdentity, name: str
) -> PagerDutyObject | None:
    """An object of this name that says it is managed as this very resource."""
    for candidate in kind.find(name):
        if managed_identity(candidate.get("description")) == identity:
            return candidate
    return None


def delete_managed(
    kind: PagerDutyKind,
    meta: ObjectMeta,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
) -> list[Event]:
    """Delete the resource's PagerDuty object as its deletionPolicy says; a 404 counts as done.

    A paused resource is left alone like an Orphan one: paused means PagerDuty is not touched.
    Read from the raw spec, so a resource with an invalid spec can still be deleted.
    """
    known_id = ((status.get("pagerduty") or {}).get("id")) or None
    left = f"Left PagerDuty {kind.label}{f' {known_id}' if known_id else ''} in place"
    if is_paused(meta):
        return [Event("Normal", "Orphaned", f"{left} (the object is paused).")]
    if spec.get("deletionPolicy") == "Orphan":
        return [Event("Normal", "Orphaned", f"{left} (deletionPolicy Orphan).")]
    identity = ObjectIdentity(namespace=meta.namespace, kind=meta.kind, name=meta.name)
    try:
        if not known_id:
            name = str(spec.get("displayName") or meta.name)
            made_by_us = find_managed(kind, identity, name)
            if made_by_us is None:
                return []
            known_id = str(made_by_us["id"])
        kind.delete(str(known_id))
    except NotFound:
        return [Event("Normal", "Deleted", f"PagerDuty {kind.label} {known_id} was already gone.")]
    except PagerDutyError as error:
        raise retry_deletion(error, f"PagerDuty {kind.label} {known_id or meta.name}") from None
    return [Event("Normal", "Deleted", f"Deleted PagerDuty {kind.label} {known_id}.")]
