"""Rotation -> PagerDuty schedule document, and PagerDuty schedule -> normal form for drift.

PagerDuty never deletes a layer: a removed layer is sent with `end` = now and stays in the
history; readers skip layers whose end is past. A layer edit that takes effect at the next
handoff ends the old layer then and adds a layer with the same name starting then, so the
person on call now stays on call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oncall_operator.api import (
    ChangesTakeEffect,
    Layer,
    LayerStatus,
    OnCallTeamSpec,
    RotationSpec,
)
from oncall_operator.translate.drift import difference, people, text_difference
from oncall_operator.translate.identity import ObjectIdentity, managed_description
from oncall_operator.translate.restrictions import layer_restrictions
from oncall_operator.translate.timemath import (
    localise,
    parse_instant,
    require_aware,
    rfc3339,
    wall_clock,
)


def handoff_instant(layer: Layer, time_zone: str) -> dt.datetime:
    """The spec's local handoff as an instant (gap -> transition, ambiguous -> first)."""
    return localise(layer.handoff_local, time_zone)


def next_handoff(
    virtual_start: dt.datetime, turn_seconds: int, time_zone: str, after: dt.datetime
) -> dt.datetime:
    """The first handoff strictly after `after`, in UTC.

    Handoffs keep local wall-clock time (the rule the emulator shares): handoff k is the
    anchor's naive local time + k turns, localised; k may be negative (before the anchor).
    """
    require_aware(virtual_start, "virtual_start")
    require_aware(after, "after")
    if turn_seconds <= 0:
        raise ValueError(f"turn length must be positive, got {turn_seconds} seconds")
    anchor = wall_clock(virtual_start, time_zone)
    turn = dt.timedelta(seconds=turn_seconds)

    def handoff(k: int) -> dt.datetime:
        return localise(anchor + k * turn, time_zone)

    # Estimate in wall-clock terms, then step over the hour a DST change may add or take.
    k = (wall_clock(after, time_zone) - anchor) // turn
    while handoff(k) > after:
        k -= 1
    while handoff(k) <= after:
        k += 1
    return handoff(k)


def layer_participants(
    spec: RotationSpec, layer: Layer, team: OnCallTeamSpec | None, turn: dt.datetime
) -> list[str]:
    """Emails taking turns on the layer from its turn starting at `turn`, in order: the explicit
    list, or the team's members whose terms include that turn (see translate.terms)."""
    if layer.participants.emails is not None:
        return list(layer.participants.emails)
    from_team = layer.participants.from_team
    if from_team is None or team is None:
        index = spec.layers.index(layer)
        raise ValueError(
            f"spec.layers[{index}].participants.fromTeam needs the team of spec.teamRef"
        )
    from oncall_operator.translate.terms import layer_members  # terms builds on this module

    members = layer_members(team, from_team.roles, layer, spec.time_zone, turn)
    return [member.email for member in members]


def effective_turn(layer: Layer, time_zone: str, now: dt.datetime, *, carried: bool) -> dt.datetime:
    """The turn a layer edit made now applies from: the next handoff for a NextHandoff layer
    that PagerDuty already carries, else the turn that holds now."""
    from oncall_operator.translate.terms import turn_start

    if carried and layer.changes_take_effect is ChangesTakeEffect.NEXT_HANDOFF:
        return next_handoff(handoff_instant(layer, time_zone), layer.shift_seconds, time_zone, now)
    return turn_start(layer, time_zone, now)


# --- the normal form: what the spec owns, comparable across PagerDuty's rewrites -----------


@dataclass(frozen=True)
class LayerForm:
    """A layer as the spec sees it: ids, PagerDuty's `start` resets and extras left out."""

    name: str
    users: tuple[str, ...]
    virtual_start: dt.datetime
    turn_seconds: int
    restrictions: frozenset[tuple[str, int, int, int]]
    end: dt.datetime | None
    future_start: dt.datetime | None  # only a start after now means anything (a pending layer)

    def content(self) -> tuple[object, ...]:
        """What a spec edit can change (not when the layer starts or ends)."""
        return (self.name, self.users, self.virtual_start, self.turn_seconds, self.restrictions)


def _restriction_key(restriction: Mapping[str, Any]) -> tuple[str, int, int, int]:
    kind = str(restriction.get("type"))
    hours, minutes, *seconds = (int(p) for p in str(restriction["start_time_of_day"]).split(":"))
    start = hours * 3600 + minutes * 60 + (seconds[0] if seconds else 0)
    day = int(restriction.get("start_day_of_week") or 0) if kind == "weekly_restriction" else 0
    return (kind, day, start, int(restriction["duration_seconds"]))


def _user_ids(layer: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(entry["user"]["id"]) for entry in layer.get("users") or [])


def _end(layer: Mapping[str, Any], what: str) -> dt.datetime | None:
    end = layer.get("end")
    return None if end is None else parse_instant(end, f"{what}.end")


def _is_ended(layer: Mapping[str, Any], now: dt.datetime, what: str) -> bool:
    end = _end(layer, what)
    return end is not None and end <= now


def layer_form(layer: Mapping[str, Any], now: dt.datetime, what: str = "layer") -> LayerForm:
    """The normal form of one PagerDuty schedule layer."""
    start = layer.get("start")
    start_at = None if start is None else parse_instant(start, f"{what}.start")
    return LayerForm(
        name=str(layer.get("name") or ""),
        users=_user_ids(layer),
        virtual_start=parse_instant(
            layer.get("rotation_virtual_start"), f"{what}.rotation_virtual_start"
        ),
        turn_seconds=int(layer.get("rotation_turn_length_seconds") or 0),
        restrictions=frozenset(_restriction_key(r) for r in layer.get("restrictions") or []),
        end=_end(layer, what),
        future_start=start_at if start_at is not None and start_at > now else None,
    )


def _active_forms(schedule: Mapping[str, Any], now: dt.datetime) -> list[LayerForm]:
    layers = schedule.get("schedule_layers") or []
    return [
        layer_form(layer, now, f"schedule_layers[{i}]")
        for i, layer in enumerate(layers)
        if not _is_ended(layer, now, f"schedule_layers[{i}]")
    ]


def _team_ids(schedule: Mapping[str, Any]) -> set[str]:
    return {str(team.get("id")) for team in schedule.get("teams") or []}


def schedule_drift(
    existing: Mapping[str, Any],
    desired: Mapping[str, Any],
    now: dt.datetime,
    names: Mapping[str, str] | None = None,
) -> list[str]:
    """[] when PagerDuty's schedule matches the desired one in normal form; else one line per
    difference, saying what PagerDuty has and what the spec wants (translate.drift; users by the
    email `names` gives for their PagerDuty id). Ended layers, layer `start` (unless in the
    future), ids and read-only fields are ignored; times compare as instants and restrictions as
    a set. Teams are compared only when the desired schedule names one (a schedule without
    teamRef leaves them alone)."""
    require_aware(now, "now")
    names = names or {}
    lines = [
        text_difference(field, str(existing.get(field) or ""), str(desired.get(field) or ""))
        for field in ("name", "description", "time_zone")
        if (existing.get(field) or "") != (desired.get(field) or "")
    ]
    if "teams" in desired and _team_ids(existing) != _team_ids(desired):
        lines.append(difference("teams", sorted(_team_ids(existing)), sorted(_team_ids(desired))))
    have, want = _active_forms(existing, now), _active_forms(desired, now)
    if [f.name for f in have] != [f.name for f in want]:
        at_handoff = _changes_at_handoff(have, want, names)
        lines.extend(
            at_handoff
            if at_handoff is not None
            else [
                f"layers differ: PagerDuty has [{', '.join(f.name for f in have)}], "
                f"the spec wants [{', '.join(f.name for f in want)}]"
            ]
        )
        return lines
    for got, wanted in zip(have, want, strict=True):
        lines.extend(_layer_differences(f"layer {wanted.name}", got, wanted, names))
    return lines


def _layer_differences(
    what: str, got: LayerForm, wanted: LayerForm, names: Mapping[str, str], *, times: bool = True
) -> list[str]:
    """One line per difference of one layer; its end and future start too when `times`."""
    lines = []
    if got.users != wanted.users:
        lines.append(
            difference(f"{what}: users", people(got.users, names), people(wanted.users, names))
        )
    if got.virtual_start != wanted.virtual_start:
        lines.append(
            difference(
                f"{what}: rotation virtual start",
                rfc3339(got.virtual_start),
                rfc3339(wanted.virtual_start),
            )
        )
    if got.turn_seconds != wanted.turn_seconds:
        lines.append(
            difference(f"{what}: turn length", f"{got.turn_seconds} s", f"{wanted.turn_seconds} s")
        )
    if got.restrictions != wanted.restrictions:
        lines.append(
            difference(
                f"{what}: restrictions",
                _restrictions_count(got.restrictions),
                _restrictions_count(wanted.restrictions),
            )
            if len(got.restrictions) != len(wanted.restrictions)
            else f"{what}: restrictions differ"
        )
    if times:
        for label, attribute in (("end", "end"), ("start", "future_start")):
            have_at, want_at = getattr(got, attribute), getattr(wanted, attribute)
            if have_at != want_at:
                lines.append(difference(f"{what}: {label}", _instant(have_at), _instant(want_at)))
    return lines


def _changes_at_handoff(
    have: Sequence[LayerForm], want: Sequence[LayerForm], names: Mapping[str, str]
) -> list[str] | None:
    """The differences said layer by layer when the spec wants the same layers as PagerDuty
    has, some of them changing at their next handoff (a NextHandoff layer: the layer now ends
    then and one of the same name starts then); None when the layers differ otherwise."""
    groups: list[tuple[LayerForm, LayerForm | None]] = []
    index = 0
    while index < len(want):
        current = want[index]
        following = want[index + 1] if index + 1 < len(want) else None
        if (
            following is not None
            and following.name == current.name
            and following.future_start is not None
            and current.end == following.future_start
        ):
            groups.append((current, following))
            index += 2
        else:
            groups.append((current, None))
            index += 1
    if [current.name for current, _ in groups] != [f.name for f in have]:
        return None
    lines = []
    for got, (current, pending) in zip(have, groups, strict=True):
        what = f"layer {current.name}"
        if pending is None:
            lines.extend(_layer_differences(what, got, current, names))
            continue
        handoff = rfc3339(pending.future_start) if pending.future_start else ""
        changes = _layer_differences(what, got, pending, names, times=False)
        lines.extend(f"{line} from its next handoff ({handoff})" for line in changes)
        if not changes:
            lines.append(f"{what}: changes at its next handoff ({handoff})")
    return lines


def _restrictions_count(restrictions: frozenset[tuple[str, int, int, int]]) -> str:
    return f"{len(restrictions)} restriction{'' if len(restrictions) == 1 else 's'}"


def _instant(moment: dt.datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


# --- the desired document ------------------------------------------------------------------


def _layer_content(spec: RotationSpec, index: int, user_ids: Sequence[str]) -> dict[str, Any]:
    layer = spec.layers[index]
    try:
        restrictions = layer_restrictions(layer, spec.business_hours)
    except ValueError as error:
        raise ValueError(f"spec.layers[{index}] ({layer.name}): {error}") from None
    return {
        "name": layer.name,
        "rotation_virtual_start": rfc3339(handoff_instant(layer, spec.time_zone), spec.time_zone),
        "rotation_turn_length_seconds": layer.shift_seconds,
        "users": [{"user": {"id": user_id, "type": "user_reference"}} for user_id in user_ids],
        "restrictions": restrictions,
    }


def _sent_back(layer: Mapping[str, Any]) -> dict[str, Any]:
    """An existing layer as it goes back in a PUT: its fields, not PagerDuty's extras."""
    sent: dict[str, Any] = {
        key: layer[key]
        for key in (
            "id",
            "name",
            "start",
            "end",
            "rotation_virtual_start",
            "rotation_turn_length_seconds",
            "restrictions",
        )
        if key in layer
    }
    sent["users"] = [
        {"user": {"id": user_id, "type": "user_reference"}} for user_id in _user_ids(layer)
    ]
    sent.setdefault("end", None)
    sent.setdefault("restrictions", [])
    return sent


def _ended_at(layer: Mapping[str, Any], now: dt.datetime, time_zone: str) -> dict[str, Any]:
    """The layer sent with end = now (never before its start, for a layer not yet begun)."""
    start = layer.get("start")
    end = max(now, parse_instant(start, "layer.start")) if start is not None else now
    return {**_sent_back(layer), "end": rfc3339(end, time_zone)}


def _layers_for(
    spec: RotationSpec,
    index: int,
    content: dict[str, Any],
    existing: Sequence[Mapping[str, Any]],
    now: dt.datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(layers carrying spec layer `index`, in order; layers of its name to end now)."""
    zone = spec.time_zone
    now_text = rfc3339(now, zone)
    if not existing:
        return [{"start": now_text, "end": None, **content}], []
    wanted = layer_form({**content, "start": now_text}, now).content()
    carrier, before = existing[-1], list(existing[:-1])
    carrier_form = layer_form(carrier, now)
    immediately = spec.layers[index].changes_take_effect is ChangesTakeEffect.IMMEDIATELY
    pending = carrier_form.future_start is not None

    if pending and not immediately:
        # The layer still on call until the handoff stays as it is; the pending one follows the spec.
        old = [_sent_back(before.pop())] if before else []
        updated = {**_sent_back(carrier), **content, "end": None}
        return [*old, updated], [_ended_at(layer, now, zone) for layer in before]
    if carrier_form.content() == wanted and not pending:
        kept = {**_sent_back(carrier), "end": None}
        return [kept], [_ended_at(layer, now, zone) for layer in before]
    if immediately:
        updated = {**_sent_back(carrier), **content, "start": now_text, "end": None}
        return [updated], [_ended_at(layer, now, zone) for layer in before]
    handoff = next_handoff(carrier_form.virtual_start, carrier_form.turn_seconds, zone, now)
    old_layer = {**_sent_back(carrier), "end": rfc3339(handoff, zone)}
    new_layer = {"start": rfc3339(handoff, zone), "end": None, **content}
    return [old_layer, new_layer], [_ended_at(layer, now, zone) for layer in before]


def schedule_doc(
    identity: ObjectIdentity,
    spec: RotationSpec,
    layer_user_ids: Mapping[str, Sequence[str]],
    existing: Mapping[str, Any] | None,
    now: dt.datetime,
    team_id: str | None,
) -> dict[str, Any]:
    """Full body for a schedule POST (existing None) or PUT (existing = PagerDuty's GET).

    Layers come out as: ended history first (unchanged), then layers removed from the spec
    (ended now), then each spec layer in spec order (later wins where layers overlap).
    """
    require_aware(now, "now")
    zone = spec.time_zone
    old_layers: list[Mapping[str, Any]] = list((existing or {}).get("schedule_layers") or [])
    history: list[dict[str, Any]] = []
    active: dict[str, list[Mapping[str, Any]]] = {}
    for i, layer in enumerate(old_layers):
        if _is_ended(layer, now, f"schedule_layers[{i}]"):
            history.append(_sent_back(layer))
        else:
            active.setdefault(str(layer.get("name") or ""), []).append(layer)

    spec_names = {layer.name for layer in spec.layers}
    removed = [
        _ended_at(layer, now, zone)
        for name, layers in active.items()
        if name not in spec_names
        for layer in layers
    ]
    carried: list[dict[str, Any]] = []
    for index, spec_layer in enumerate(spec.layers):
        user_ids = layer_user_ids.get(spec_layer.name) or []
        if not user_ids:
            raise ValueError(f"spec.layers[{index}] ({spec_layer.name}) has no PagerDuty users")
        content = _layer_content(spec, index, user_ids)
        carrying, ended = _layers_for(spec, index, content, active.get(spec_layer.name, []), now)
        removed += ended
        carried += carrying

    doc: dict[str, Any] = {
        "type": "schedule",
        "name": spec.display_name or identity.name,
        "description": managed_description(spec.description, identity),
        "time_zone": zone,
        "schedule_layers": [*history, *removed, *carried],
    }
    if team_id is not None:
        doc["teams"] = [{"id": team_id, "type": "team_reference"}]
    return doc


def layer_statuses(
    schedule: Mapping[str, Any], spec: RotationSpec, now: dt.datetime
) -> list[LayerStatus]:
    """For each spec layer, the id of the PagerDuty layer carrying it (the last not ended)."""
    carrier: dict[str, str] = {}
    for i, pd_layer in enumerate(schedule.get("schedule_layers") or []):
        if pd_layer.get("id") and not _is_ended(pd_layer, now, f"schedule_layers[{i}]"):
            carrier[str(pd_layer.get("name") or "")] = str(pd_layer["id"])
    return [
        LayerStatus(name=layer.name, id=carrier[layer.name])
        for layer in spec.layers
        if layer.name in carrier
    ]
