"""Schedule layers as PagerDuty keeps them: history on update, and entries rendered for a window.

Stored layers are JSON dicts (as clients send them, users normalised) plus a `history` list of
earlier versions, each ended at the time it was replaced. History is never shown in responses;
it keeps the past rendering as it was ("edits apply only from the time they are made").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from oncall_testbed.emulator import rendering
from oncall_testbed.emulator.state import JSONDict

Window = tuple[datetime, datetime]
_NOT_COMPARED = frozenset({"start", "history", "id"})


def instant(text: str) -> datetime:
    """An ISO 8601 string as an aware UTC datetime (a naive one is read as UTC).

    RFC 3339 allows a lowercase `t` and `z`; Python's parser wants them uppercase.
    """
    parsed = datetime.fromisoformat(text.upper())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(moment: datetime, zone_name: str) -> str:
    return moment.astimezone(rendering.schedule_zone(zone_name)).isoformat()


def merge_update(
    current: Sequence[JSONDict], sent: Sequence[JSONDict], moment: datetime, zone_name: str
) -> list[JSONDict]:
    """The layers after a PUT, as PagerDuty keeps them.

    `sent` are fresh layers, each with the id of the layer it updates or a new id. A layer that
    changed keeps its id, gets its old version in `history` and its `start` reset to `moment`;
    an unchanged one stays as it was; layers missing from `sent` end at `moment` and stay.
    """
    existing = {layer["id"]: layer for layer in current}
    result: list[JSONDict] = []
    for fresh in sent:
        old = existing.pop(fresh["id"], None)
        if old is None:
            result.append(fresh)
        elif _same(old, fresh):
            result.append(old)
        else:
            start = fresh["start"]
            if instant(start) < moment:  # an update takes effect now
                start = iso(moment, zone_name)
            history = [*old["history"], _ended(old, moment, zone_name)]
            result.append({**fresh, "start": start, "history": history})
    for removed in existing.values():
        result.append(_ended(removed, moment, zone_name))
    return result


def _same(old: JSONDict, new: JSONDict) -> bool:
    def compared(layer: JSONDict) -> JSONDict:
        return {key: value for key, value in layer.items() if key not in _NOT_COMPARED}

    return compared(old) == compared(new)


def _ended(layer: JSONDict, moment: datetime, zone_name: str) -> JSONDict:
    end = layer.get("end")
    if end is None or instant(end) > moment:
        end = iso(moment, zone_name)
    return {**layer, "end": end}


def versions(layers: Sequence[JSONDict]) -> list[JSONDict]:
    """Every version of every layer, each layer's history just before it (its priority)."""
    return [version for layer in layers for version in (*layer["history"], layer)]


def render_entries(
    layer_versions: Sequence[JSONDict],
    zone_name: str,
    window: Window,
    *,
    overflow: bool,
    final: bool,
    overrides: Sequence[rendering.Entry] = (),
) -> list[rendering.Entry]:
    """Entries overlapping `window`: clipped to it, or whole shifts when `overflow`.

    final: the final schedule (later layers win, then `overrides` over them, the last created
    winning); otherwise the entries of the versions given.
    """
    since, until = window
    layers = [rendering.layer_from_json(layer) for layer in layer_versions]
    if not layers and not (final and overrides):
        return []
    low, high = since, until
    if overflow:  # render a margin so that a shift crossing an edge of the window is seen whole
        margin = max((layer.turn_length for layer in layers), default=timedelta()) + timedelta(
            days=8
        )
        low, high = since - margin, until + margin
    if final:
        entries = rendering.render_final(layers, zone_name, low, high)
        if overrides:
            entries = rendering.apply_overrides(entries, overrides)
    else:
        entries = sorted(
            (e for layer in layers for e in rendering.render_layer(layer, zone_name, low, high)),
            key=lambda e: e.start,
        )
    overlapping = [e for e in entries if e.start < until and e.end > since]
    return overlapping if overflow else [_clipped(e, window) for e in overlapping]


def coverage(entries: Sequence[rendering.Entry], window: Window) -> float:
    """Percentage of `window` the entries cover."""
    clipped = [_clipped(e, window) for e in entries]
    return rendering.coverage_percentage(clipped, *window)


def _clipped(entry: rendering.Entry, window: Window) -> rendering.Entry:
    since, until = window
    return rendering.Entry(entry.user_id, max(entry.start, since), min(entry.end, until))
