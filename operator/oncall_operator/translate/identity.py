"""Which Kubernetes object a PagerDuty object belongs to, written into its description."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MANAGED_LINE = re.compile(
    r"^Managed by oncall-operator as ([^/\s;]+)/([^/\s;]+)/([^/\s;]+); edit it in Git, not here\.$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class ObjectIdentity:
    """A Kubernetes object of this API: namespace, kind (e.g. "Rotation") and name."""

    namespace: str
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"


def managed_line(identity: ObjectIdentity) -> str:
    """The line that tells a PagerDuty UI reader where the object's truth lives."""
    return f"Managed by oncall-operator as {identity}; edit it in Git, not here."


def managed_description(description: str | None, identity: ObjectIdentity) -> str:
    """The user's text (if any), then the managed-by line on a line of its own."""
    text = (description or "").rstrip()
    return f"{text}\n{managed_line(identity)}" if text else managed_line(identity)


def managed_identity(description: str | None) -> ObjectIdentity | None:
    """The identity named by the last managed-by line of a description; None if there is none."""
    matches = _MANAGED_LINE.findall((description or "").replace("\r\n", "\n"))
    if not matches:
        return None
    namespace, kind, name = matches[-1]
    return ObjectIdentity(namespace=namespace, kind=kind, name=name)
