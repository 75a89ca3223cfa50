"""Finding the PagerDuty object a resource manages, so creation never makes a duplicate.

In order: the object named by spec.pagerduty.id (adopt it); the one in status.pagerduty.id; an
object of the same name whose description carries this resource's managed marker (made by an
earlier reconcile whose status was never written); otherwise none, and the caller creates it.

One owner per PagerDuty object: an object found through spec.pagerduty.id or status.pagerduty.id
that carries another resource's managed marker, or that another resource of the same kind claims
in its status.pagerduty.id, is refused with OwnedElsewhere before anything is written; and a
deletion never deletes an object whose marker names another resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oncall_operator.pagerduty.errors import NotFound, PagerDutyError
from oncall_operator.reconcile.errors import AdoptionFailed, OwnedElsewhere, retry_deletion
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
    claims: Mapping[str, Sequence[str]] | None = None,
) -> PagerDutyObject | None:
    """The existing PagerDuty object of this resource, or None when it has to be created.

    Raises OwnedElsewhere when that object belongs to another resource (see the module's doc).
    """
    events_before = len(draft.events)
    found = _locate(kind, identity, name, spec_id, draft)
    if found is not None:
        try:
            owners = claims if claims is not None else {}  # not `or`: its size is O(objects)
            _refuse_if_owned_elsewhere(kind, identity, found, owners, draft)
        except OwnedElsewhere:
            del draft.events[events_before:]  # a refused adoption is no adoption
            raise
    return found


def _refuse_if_owned_elsewhere(
    kind: PagerDutyKind,
    identity: ObjectIdentity,
    found: PagerDutyObject,
    claims: Mapping[str, Sequence[str]],
    draft: StatusDraft,
) -> None:
    object_id = str(found["id"])
    marked = managed_identity(found.get("description"))
    if marked is not None and marked != identity:
        owner = f"{marked} (the managed marker in its description)"
    else:
        others = sorted(
            claimant
            for claimant in claims.get(object_id) or ()
            if claimant != str(identity) and claimant.split("/")[1:2] == [identity.kind]
        )
        if not others:
            return
        owner = f"{others[0]} (its status.pagerduty.id)"
    if draft.pagerduty_id == object_id:
        draft.status.pop("pagerduty", None)  # never ours: deleting this resource leaves it alone
    raise OwnedElsewhere(
        f"PagerDuty {kind.label} {object_id} is owned by {owner}; nothing was written to it, "
        "and deleting this resource will not delete it."
    )


def _locate(
    kind: PagerDutyKind,
    identity: ObjectIdentity,
    name: str,
    spec_id: str | None,
    draft: StatusDraft,
) -> PagerDutyObject | None:
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
                f"PagerDuty {kind.label} {known_id} (status.pagerduty.id) was deleted in "
                "PagerDuty, not through Git; making it again.",
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
        else:
            owner = managed_identity(kind.get(str(known_id)).get("description"))
            if owner is not None and owner != identity:
                return [Event("Normal", "Orphaned", f"{left}: it is owned by {owner}.")]
        kind.delete(str(known_id))
    except NotFound:
        return [Event("Normal", "Deleted", f"PagerDuty {kind.label} {known_id} was already gone.")]
    except PagerDutyError as error:
        raise retry_deletion(error, f"PagerDuty {kind.label} {known_id or meta.name}") from None
    return [Event("Normal", "Deleted", f"Deleted PagerDuty {kind.label} {known_id}.")]
