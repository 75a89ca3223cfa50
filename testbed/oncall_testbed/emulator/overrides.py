"""Schedule overrides, as PagerDuty keeps and renders them (NOTES.md "Overrides", the spec's
`/schedules/{id}/overrides` operations).

One rule a line:
- An override is {start, end, user}: no name, no description; it belongs to one schedule.
- POST takes `{"overrides": [...]}` and answers 201 with one `{status, override}` (or
  `{status: 400, errors, override}`) per item (the deprecated single-override form is not served).
- An override puts its user on call for all of [start, end), over every layer; where overrides
  overlap, the one created last wins ("the last created override will have priority").
- GET needs `since` and `until` and lists the overrides overlapping them, cut at the bounds
  unless `overflow=true` (`editable`, which the spec's own schema contradicts, is not served).
- DELETE of a past override is refused (400); of one in progress truncates it to now (200);
  of a future one deletes it (204).
- Overrides show in `final_schedule`, in `overrides_subschedule` and in `/oncalls`, never in
  the layers.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Sequence
from datetime import datetime

from aiohttp import web

from oncall_testbed.emulator import layers, queries, rendering
from oncall_testbed.emulator.errors import invalid, not_found
from oncall_testbed.emulator.state import Account, JSONDict
from oncall_testbed.emulator.validation import BodyValidator

_ID_ALPHABET = string.ascii_uppercase + string.digits

Reference = Callable[[web.Request, str, str], JSONDict]


def stored(schedule: JSONDict) -> list[JSONDict]:
    """The schedule's overrides in creation order (a schedule made before overrides has none)."""
    found: list[JSONDict] = schedule.setdefault("overrides", [])
    return found


def entries_of(schedule: JSONDict) -> list[rendering.Entry]:
    """The overrides as entries, in creation order (later ones win)."""
    return [
        rendering.Entry(o["user_id"], layers.instant(o["start"]), layers.instant(o["end"]))
        for o in stored(schedule)
    ]


def visible(
    overrides: Sequence[rendering.Entry], window: layers.Window, *, overflow: bool
) -> list[rendering.Entry]:
    """What the overrides sub-schedule shows in `window`: the winning parts of the overrides."""
    since, until = window
    painted = rendering.apply_overrides([], overrides)
    overlapping = [e for e in painted if e.start < until and e.end > since]
    if overflow:
        return overlapping
    return [rendering.Entry(e.user_id, max(e.start, since), min(e.end, until)) for e in overlapping]


class OverrideRoutes:
    """The three override operations on one Account."""

    def __init__(
        self,
        account: Account,
        validator: BodyValidator,
        reference: Reference,
        clock: Callable[[], datetime],
    ) -> None:
        self.account = account
        self.validator = validator
        self.reference = reference
        self.clock = clock

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/schedules/{id}/overrides", self.list_overrides)
        app.router.add_post("/schedules/{id}/overrides", self.create_overrides)
        app.router.add_delete("/schedules/{id}/overrides/{override_id}", self.delete_override)

    async def list_overrides(self, request: web.Request) -> web.Response:
        since = queries.query_instant(request, "since")
        until = queries.query_instant(request, "until")
        if since is None or until is None:
            raise invalid("since and until are required")
        if until < since:
            raise invalid("until: must not be before since")
        with self.account.lock:
            schedule = self._schedule(request)
            zone_name = queries.time_zone(request, schedule["time_zone"])
            overflow = queries.flag(request, "overflow")
            listed: list[JSONDict] = []
            for override in stored(schedule):
                start, end = layers.instant(override["start"]), layers.instant(override["end"])
                if not (start < until and end > since):
                    continue
                if not overflow:
                    start, end = max(start, since), min(end, until)
                listed.append(self._rendered(request, override, start, end, zone_name))
            return web.json_response({"overrides": listed})

    async def create_overrides(self, request: web.Request) -> web.Response:
        body = await queries.json_body(request, required=True)
        if not isinstance(body, dict) or not isinstance(body.get("overrides"), list):
            raise invalid("overrides: expected a list of overrides")
        errors = self.validator.errors("post", "/schedules/{id}/overrides", body)
        if errors:
            raise invalid(*errors)
        with self.account.lock:
            schedule = self._schedule(request)
            zone_name = schedule["time_zone"]
            results: list[JSONDict] = []
            for index, sent in enumerate(body["overrides"]):
                try:
                    created = self._create(schedule, sent, f"overrides[{index}]")
                except ValueError as error:
                    results.append({"status": 400, "errors": [str(error)], "override": sent})
                    continue
                results.append(
                    {"status": 201, "override": self._rendered_stored(request, created, zone_name)}
                )
            self.account.save()
            return web.json_response(results, status=201)

    async def delete_override(self, request: web.Request) -> web.Response:
        with self.account.lock:
            schedule = self._schedule(request)
            overrides = stored(schedule)
            found = next(
                (o for o in overrides if o["id"] == request.match_info["override_id"]), None
            )
            if found is None:
                raise not_found()
            moment = self.clock()
            start, end = layers.instant(found["start"]), layers.instant(found["end"])
            if end <= moment:
                raise invalid("Cannot remove an override that has already ended")
            if start < moment:
                found["end"] = layers.iso(moment, schedule["time_zone"])
                self.account.save()
                return web.Response(status=200)
            overrides.remove(found)
            self.account.save()
            return web.Response(status=204)

    def _create(self, schedule: JSONDict, sent: object, where: str) -> JSONDict:
        if not isinstance(sent, dict):
            raise ValueError(f"{where}: expected an object")
        zone_name = sent.get("time_zone") or schedule["time_zone"]
        try:
            rendering.schedule_zone(zone_name)
        except ValueError:
            raise ValueError(
                f"{where}.time_zone: unknown time zone {str(zone_name)[:64]!r}"
            ) from None
        bounds = []
        for field in ("start", "end"):
            text = sent.get(field)
            if not isinstance(text, str):
                raise ValueError(f"{where}.{field}: required")
            try:
                bounds.append(_read_time(text, zone_name))
            except ValueError:
                raise ValueError(f"{where}.{field}: not an ISO 8601 date-time") from None
        start, end = bounds
        if end <= start:
            raise ValueError(f"{where}.end: must be after start")
        user = sent.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        if not isinstance(user_id, str) or user_id not in self.account.users:
            raise ValueError(f"{where}.user: no user {user_id!r}")
        taken = {o["id"] for s in self.account.schedules.values() for o in stored(s)}
        record = {
            "id": _override_id(taken),
            "start": layers.iso(start, schedule["time_zone"]),
            "end": layers.iso(end, schedule["time_zone"]),
            "user_id": user_id,
        }
        stored(schedule).append(record)
        return record

    def _schedule(self, request: web.Request) -> JSONDict:
        found: JSONDict | None = self.account.schedules.get(request.match_info["id"])
        if found is None:
            raise not_found()
        return found

    def _rendered_stored(
        self, request: web.Request, override: JSONDict, zone_name: str
    ) -> JSONDict:
        start, end = layers.instant(override["start"]), layers.instant(override["end"])
        return self._rendered(request, override, start, end, zone_name)

    def _rendered(
        self,
        request: web.Request,
        override: JSONDict,
        start: datetime,
        end: datetime,
        zone_name: str,
    ) -> JSONDict:
        return {
            "id": override["id"],
            "start": layers.iso(start, zone_name),
            "end": layers.iso(end, zone_name),
            "user": self.reference(request, "users", override["user_id"]),
        }


def _read_time(text: str, zone_name: str) -> datetime:
    """A date-time; one without an offset is read in `zone_name` (the override's time_zone)."""
    parsed = datetime.fromisoformat(text.upper())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=rendering.schedule_zone(zone_name))
    return layers.instant(parsed.isoformat())


def _override_id(taken: set[str]) -> str:
    """An id shaped like PagerDuty's override ids (Q followed by 13 letters or digits)."""
    while True:
        candidate = "Q" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(13))
        if candidate not in taken:
            return candidate
