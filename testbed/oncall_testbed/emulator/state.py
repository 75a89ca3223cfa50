"""The emulator's account: users, teams, schedules, escalation policies, services, incidents and
their log entries.

Objects are kept as plain JSON-ready dicts holding only what a client sent or the emulator
decided (ids, layer history); everything derived (summary, self, references) is added when a
response is rendered. One lock guards it all: the HTTP handlers run on the server's event-loop
thread while the Python API's admin calls come from the caller's thread.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import string
import tempfile
import threading
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSONDict = dict[str, Any]

_ID_ALPHABET = string.ascii_uppercase + string.digits
_COLLECTIONS = (
    "users",
    "teams",
    "schedules",
    "escalation_policies",
    "services",
    "incidents",
    "log_entries",
)


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def new_id(taken: set[str] | dict[str, Any]) -> str:
    """A fresh PagerDuty-style id: P followed by six uppercase letters or digits."""
    while True:
        candidate = "P" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))
        if candidate not in taken:
            return candidate


@dataclass
class Account:
    """Everything one PagerDuty account holds, keyed by id, in insertion order."""

    users: dict[str, JSONDict] = field(default_factory=dict)
    teams: dict[str, JSONDict] = field(default_factory=dict)
    schedules: dict[str, JSONDict] = field(default_factory=dict)
    escalation_policies: dict[str, JSONDict] = field(default_factory=dict)
    services: dict[str, JSONDict] = field(default_factory=dict)
    incidents: dict[str, JSONDict] = field(default_factory=dict)
    log_entries: dict[str, JSONDict] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    state_file: Path | None = field(default=None, repr=False, compare=False)

    def all_ids(self) -> set[str]:
        return {key for name in _COLLECTIONS for key in getattr(self, name)}

    def add(self, collection: str, obj: JSONDict) -> JSONDict:
        """Store `obj` under a fresh id (set on the object) and return it."""
        obj["id"] = new_id(self.all_ids())
        getattr(self, collection)[obj["id"]] = obj
        return obj

    # -- seeding ---------------------------------------------------------------------------

    def seed_users(self, users: list[JSONDict]) -> list[JSONDict]:
        """Add users ({name, email, time_zone?}); an email already present is updated, not doubled."""
        seeded = []
        for index, raw in enumerate(users):
            name, email = raw.get("name"), raw.get("email")
            if not isinstance(name, str) or not name:
                raise ValueError(f"users[{index}].name: expected a non-empty string")
            if not isinstance(email, str) or "@" not in email:
                raise ValueError(f"users[{index}].email: expected an email address")
            time_zone = raw.get("time_zone", "Etc/UTC")
            if not isinstance(time_zone, str) or time_zone not in _known_zones():
                raise ValueError(f"users[{index}].time_zone: unknown time zone {time_zone!r}")
            existing = next(
                (u for u in self.users.values() if u["email"].lower() == email.lower()), None
            )
            record = {"name": name, "email": email, "time_zone": time_zone}
            if existing is not None:
                existing.update(record)
                seeded.append(existing)
            else:
                seeded.append(self.add("users", record))
        self.save()
        return seeded

    def reset(self, keep_emails: set[str] | None = None) -> None:
        """Forget everything but the users; with `keep_emails` (lower-cased), the users with
        other emails too (those seeded since the start)."""
        with self.lock:
            for name in _COLLECTIONS:
                if name != "users":
                    getattr(self, name).clear()
            if keep_emails is not None:
                for user_id in [
                    i for i, u in self.users.items() if u["email"].lower() not in keep_emails
                ]:
                    del self.users[user_id]
            self.save()

    # -- persistence -----------------------------------------------------------------------

    def to_json(self) -> JSONDict:
        return {name: list(getattr(self, name).values()) for name in _COLLECTIONS}

    def load(self) -> None:
        """Read the state file if it exists (a missing file is an empty account)."""
        if self.state_file is None or not self.state_file.exists():
            return
        try:
            document = json.loads(self.state_file.read_text(encoding="utf-8"))
            loaded = {
                name: {obj["id"]: obj for obj in document.get(name, [])} for name in _COLLECTIONS
            }
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{self.state_file}: not an emulator state file ({error})") from None
        for name, objects in loaded.items():
            getattr(self, name).update(objects)

    def save(self) -> None:
        """Write the state file atomically (a crash leaves the old or the new file, never half)."""
        if self.state_file is None:
            return
        directory = self.state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".emulator-state-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.to_json(), handle, indent=1)
            os.replace(temporary, self.state_file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
