"""PagerDuty objects -> manifests of our kinds, so applying them adopts what is already there.

Each manifest carries spec.pagerduty.id; references go by name, people by email; a layer's
restrictions become a coverage preset when they are exactly the preset the operator would send
for some business hours (Custom windows otherwise), and its turn length and rotation start
become shiftLength and handoff. What our kinds cannot say is kept as a note: a YAML comment on
the object and a line on stderr, never dropped in silence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from oncall_operator.api import API_VERSION, TimeWindow, Weekday
from oncall_operator.translate.identity import ObjectIdentity, managed_identity, managed_line
from oncall_operator.translate.restrictions import (
    Stretch,
    business_hours_restrictions,
    complement,
    out_of_hours_restrictions,
    restriction_stretches,
    window_restrictions,
)
from oncall_operator.translate.timemath import (
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    parse_instant,
    wall_clock,
)

JSON = dict[str, Any]
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DAYS = list(Weekday)
_HANDOFF = {"always": "Always", "if_has_services": "IfHasServices"}


@dataclass
class Manifest:
    """One object to write, with the notes on what it could not express."""

    identity: ObjectIdentity
    body: JSON
    notes: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        comments = "".join(f"# NOTE: {note}\n" for note in self.notes)
        return comments + yaml.safe_dump(self.body, sort_keys=False, width=100)


def dns_name(text: str, fallback: str) -> str:
    """A Kubernetes object or layer name made from a PagerDuty name."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-")
    return name or fallback


def description_without_marker(description: str | None) -> str | None:
    """The user's text of a description: the managed-by line (if any) taken off."""
    identity = managed_identity(description)
    text = (description or "").replace("\r\n", "\n")
    if identity is not None:
        text = text.replace(managed_line(identity), "")
    return text.strip() or None


@dataclass
class Names:
    """Kubernetes names given to PagerDuty objects, unique per namespace and kind."""

    namespace: str
    given: dict[str, ObjectIdentity] = field(default_factory=dict)  # PagerDuty id -> identity
    taken: set[ObjectIdentity] = field(default_factory=set)

    def identity(self, kind: str, pagerduty_object: Mapping[str, Any]) -> ObjectIdentity:
        object_id = str(pagerduty_object["id"])
        if object_id in self.given:
            return self.given[object_id]
        marked = managed_identity(pagerduty_object.get("description"))
        if marked is not None and marked.kind == kind:
            identity = marked
        else:
            base = dns_name(str(pagerduty_object.get("name") or ""), object_id.lower())
            identity = ObjectIdentity(self.namespace, kind, base)
            n = 2
            while identity in self.taken:
                identity = ObjectIdentity(self.namespace, kind, f"{base[:60]}-{n}")
                n += 1
        self.given[object_id] = identity
        self.taken.add(identity)
        return identity


def _common(identity: ObjectIdentity, pagerduty_object: Mapping[str, Any]) -> JSON:
    spec: JSON = {}
    name = str(pagerduty_object.get("name") or "")
    if name != identity.name:
        spec["displayName"] = name
    description = description_without_marker(pagerduty_object.get("description"))
    if description:
        spec["description"] = description
    return spec


def _document(identity: ObjectIdentity, spec: JSON, pagerduty_id: str) -> JSON:
    return {
        "apiVersion": API_VERSION,
        "kind": identity.kind,
        "metadata": {"name": identity.name, "namespace": identity.namespace},
        "spec": {**spec, "pagerduty": {"id": pagerduty_id}},
    }


def team_manifest(
    names: Names,
    team: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    emails: Mapping[str, str],
) -> Manifest:
    identity = names.identity("OnCallTeam", team)
    spec = _common(identity, team)
    notes: list[str] = []
    spec_members = []
    for member in members:
        user_id = str(member["user"]["id"])
        if user_id not in emails:
            notes.append(f"member {user_id} has no email in PagerDuty and is left out")
            continue
        entry: JSON = {"email": emails[user_id]}
        if member.get("role") and member["role"] != "responder":
            entry["role"] = str(member["role"])
        spec_members.append(entry)
    spec["members"] = spec_members
    return Manifest(identity, _document(identity, spec, str(team["id"])), notes)


# --- schedules ---------------------------------------------------------------------------------


def shift_length(seconds: int) -> str:
    """1w, 1d, 12h, 1d12h, 90m ... (the largest units first)."""
    parts = []
    minutes = seconds // 60
    for unit, size in (("w", 7 * 1440), ("d", 1440), ("h", 60), ("m", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0m"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def windows_of(stretches: Sequence[Stretch]) -> list[JSON]:
    """Custom windows covering the stretches (each at most a day, split at midnight), days with
    the same hours grouped; window_restrictions() joins them back into the same stretches."""
    pieces: dict[tuple[str, str], list[Weekday]] = {}
    for start, length in stretches:
        position, end = start, start + length
        while position < end:
            day_end = (position // MINUTES_PER_DAY + 1) * MINUTES_PER_DAY
            piece_end = min(end, day_end)
            day = _DAYS[(position // MINUTES_PER_DAY) % 7]
            key = (
                _hhmm(position % MINUTES_PER_DAY),
                "24:00" if piece_end == day_end else _hhmm(piece_end % MINUTES_PER_DAY),
            )
            pieces.setdefault(key, []).append(day)
            position = piece_end
    return [
        {"days": [d.value for d in sorted(set(days), key=_DAYS.index)], "start": start, "end": end}
        for (start, end), days in sorted(
            pieces.items(), key=lambda item: (_DAYS.index(item[1][0]), item[0])
        )
    ]


def _one_window(stretches: Sequence[Stretch]) -> TimeWindow | None:
    """The single daily window (same hours on some days) the stretches are, if they are one."""
    if not stretches or any(length >= MINUTES_PER_DAY for _, length in stretches):
        return None
    starts = {start % MINUTES_PER_DAY for start, _ in stretches}
    lengths = {length for _, length in stretches}
    if len(starts) != 1 or len(lengths) != 1:
        return None
    start, length = starts.pop(), lengths.pop()
    end = (start + length) % MINUTES_PER_DAY
    days = sorted(
        {_DAYS[start_of // MINUTES_PER_DAY] for start_of, _ in stretches}, key=_DAYS.index
    )
    return TimeWindow(days=days, start=_hhmm(start), end="24:00" if end == 0 else _hhmm(end))


def business_hours_candidates(layers: Sequence[Mapping[str, Any]]) -> list[TimeWindow]:
    """Business hours under which some layer's restrictions are exactly a preset."""
    found = [TimeWindow(days=_DAYS[:5], start="09:00", end="17:00")]
    for layer in layers:
        stretches = restriction_stretches(layer.get("restrictions") or [])
        for window in (_one_window(stretches), _one_window(complement(stretches))):
            if window is not None and window not in found:
                found.append(window)
    return found


def coverage_of(stretches: list[Stretch], business: TimeWindow) -> str | None:
    if stretches == [(0, MINUTES_PER_WEEK)]:
        return "Always"
    if stretches == restriction_stretches(business_hours_restrictions(business)):
        return "BusinessHours"
    try:
        if stretches == restriction_stretches(out_of_hours_restrictions(business)):
            return "OutOfHours"
    except ValueError:
        pass
    return None


def _active_layers(schedule: Mapping[str, Any], now: dt.datetime) -> list[Mapping[str, Any]]:
    """Layers not ended; of several with one name (an edit waiting for its handoff), the last."""
    latest: dict[str, Mapping[str, Any]] = {}
    order: list[str] = []
    for layer in schedule.get("schedule_layers") or []:
        end = layer.get("end")
        if end is not None and parse_instant(end, "layer.end") <= now:
            continue
        name = str(layer.get("name") or layer.get("id"))
        if name not in latest:
            order.append(name)
        latest[name] = layer
    return [latest[name] for name in order]


def rotation_manifest(
    names: Names,
    schedule: Mapping[str, Any],
    emails: Mapping[str, str],
    now: dt.datetime,
) -> Manifest:
    identity = names.identity("Rotation", schedule)
    spec = _common(identity, schedule)
    notes: list[str] = []
    zone = str(schedule.get("time_zone") or "UTC")
    teams = schedule.get("teams") or []
    if teams:
        spec["teamRef"] = {"name": names.identity("OnCallTeam", teams[0]).name}
        if len(teams) > 1:
            notes.append(
                f"PagerDuty associates {len(teams)} teams; only the first is kept as teamRef"
            )
    spec["timeZone"] = zone
    layers = _active_layers(schedule, now)
    business = next(
        (
            candidate
            for candidate in business_hours_candidates(layers)
            if all(
                coverage_of(restriction_stretches(layer.get("restrictions") or []), candidate)
                is not None
                for layer in layers
                if layer.get("restrictions")
            )
        ),
        TimeWindow(days=_DAYS[:5], start="09:00", end="17:00"),
    )
    if (business.days, business.start, business.end) != (_DAYS[:5], "09:00", "17:00"):
        spec["businessHours"] = {
            "days": [d.value for d in business.days],
            "start": business.start,
            "end": business.end,
        }
    spec_layers = []
    used: set[str] = set()
    for layer in layers:
        spec_layer, layer_notes = _layer(layer, zone, business, emails, used, now)
        notes += layer_notes
        if spec_layer is not None:
            spec_layers.append(spec_layer)
    spec["layers"] = spec_layers
    return Manifest(identity, _document(identity, spec, str(schedule["id"])), notes)


def _layer(
    layer: Mapping[str, Any],
    zone: str,
    business: TimeWindow,
    emails: Mapping[str, str],
    used: set[str],
    now: dt.datetime,
) -> tuple[JSON | None, list[str]]:
    pd_name = str(layer.get("name") or "")
    name = (
        pd_name if _DNS_LABEL.match(pd_name) and len(pd_name) <= 63 else dns_name(pd_name, "layer")
    )
    base, n = name, 2
    while name in used:
        name, n = f"{base[:60]}-{n}", n + 1
    used.add(name)
    notes = []
    if name != pd_name:
        notes.append(
            f"layer {pd_name!r} is named {name} here (layer names are DNS labels): applying ends "
            "the PagerDuty layer and starts the same one under the new name"
        )
    user_ids = [str(u["user"]["id"]) for u in layer.get("users") or []]
    people = [emails[u] for u in user_ids if u in emails]
    if len(people) < len(user_ids):
        notes.append(f"layer {name}: users without an email in PagerDuty are left out")
    if not people:
        notes.append(f"layer {name} has nobody with an email and is left out")
        return None, notes
    seconds = int(layer.get("rotation_turn_length_seconds") or 0)
    handoff = wall_clock(
        parse_instant(layer.get("rotation_virtual_start"), "rotation_virtual_start"), zone
    )
    spec: JSON = {
        "name": name,
        "participants": {"emails": people},
        "shiftLength": shift_length(seconds),
        "handoff": handoff.isoformat(timespec="seconds" if handoff.second else "minutes"),
    }
    if seconds % 60 or seconds < 3600:
        notes.append(
            f"layer {name}: a turn of {seconds} s is written as {spec['shiftLength']} (whole minutes, at least 1h)"
        )
    restrictions = layer.get("restrictions") or []
    if restrictions:
        stretches = restriction_stretches(restrictions)
        coverage = coverage_of(stretches, business)
        if coverage is None:
            spec["coverage"] = "Custom"
            spec["windows"] = windows_of(stretches)
        elif coverage != "Always":
            spec["coverage"] = coverage
        sent = (
            window_restrictions([TimeWindow.model_validate(w) for w in spec["windows"]])
            if coverage is None
            else None
        )
        if sent is not None and restriction_stretches(sent) != stretches:
            notes.append(f"layer {name}: its restrictions are not whole minutes and are rounded")
        if any(r.get("type") == "daily_restriction" for r in restrictions):
            notes.append(
                f"layer {name}: PagerDuty has daily restrictions; the operator writes the same "
                "hours as weekly restrictions"
            )
        if any(
            str(r.get("start_time_of_day", "")).count(":") == 2
            and not str(r["start_time_of_day"]).endswith(":00")
            for r in restrictions
        ):
            notes.append(
                f"layer {name}: restriction start times with seconds are rounded to minutes"
            )
    end = layer.get("end")
    if end is not None:
        notes.append(
            f"layer {name} ends at {end} in PagerDuty; a Rotation layer has no end, so applying clears it"
        )
    start = layer.get("start")
    if start is not None and parse_instant(start, "layer.start") > now:
        notes.append(f"layer {name} starts only at {start}; applying starts it now")
    return spec, notes


# --- escalation policies -----------------------------------------------------------------------


def policy_manifest(
    names: Names,
    policy: Mapping[str, Any],
    schedule_names: Mapping[str, str],
    emails: Mapping[str, str],
) -> Manifest:
    identity = names.identity("EscalationPolicy", policy)
    spec = _common(identity, policy)
    notes: list[str] = []
    teams = policy.get("teams") or []
    if teams:
        spec["teamRef"] = {"name": names.identity("OnCallTeam", teams[0]).name}
    rules = []
    for index, rule in enumerate(policy.get("escalation_rules") or []):
        targets = []
        for target in rule.get("targets") or []:
            kind, target_id = str(target.get("type")), str(target.get("id"))
            if kind.startswith("schedule") and target_id in schedule_names:
                targets.append({"rotationRef": {"name": schedule_names[target_id]}})
            elif kind.startswith("user") and target_id in emails:
                targets.append({"user": {"email": emails[target_id]}})
            else:
                notes.append(
                    f"rule {index + 1}: target {kind} {target_id} cannot be expressed and is left out"
                )
        if targets:
            rules.append(
                {
                    "escalateAfterMinutes": int(rule.get("escalation_delay_in_minutes") or 1),
                    "targets": targets,
                }
            )
        else:
            notes.append(f"rule {index + 1} has no target our kinds can express and is left out")
    spec["rules"] = rules
    if int(policy.get("num_loops") or 0):
        spec["repeat"] = int(policy["num_loops"])
    handoff = _HANDOFF.get(str(policy.get("on_call_handoff_notifications") or "if_has_services"))
    if handoff == "Always":
        spec["handoffNotifications"] = "Always"
    return Manifest(identity, _document(identity, spec, str(policy["id"])), notes)
