"""Members' terms and time off as instants: a term starts and ends at handoffs, time off at midnights.

Dates (`since`, `until`, `away`) are whole days in the team policy's time zone. A member joins a
layer at its first handoff on or after the start of `since`, and leaves it at its first handoff
on or after the end of `until` (the midnight after it), so a shift is never cut short.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from oncall_operator.api import Layer, Member, OnCallTeamSpec, TeamRole
from oncall_operator.translate.rotation import handoff_instant, next_handoff
from oncall_operator.translate.timemath import localise, require_aware, wall_clock

_TICK = dt.timedelta(microseconds=1)


def day_start(day: dt.date, time_zone: str) -> dt.datetime:
    """The instant a calendar day begins in the zone (UTC)."""
    return localise(dt.datetime.combine(day, dt.time()), time_zone)


def local_today(now: dt.datetime, time_zone: str) -> dt.date:
    """The calendar date in the zone at `now`."""
    return wall_clock(require_aware(now, "now"), time_zone).date()


def team_time_zone(team: OnCallTeamSpec) -> str:
    return team.policy.time_zone if team.policy else "UTC"


def handoff_on_or_after(layer: Layer, time_zone: str, moment: dt.datetime) -> dt.datetime:
    """The layer's first handoff at or after `moment`."""
    return next_handoff(
        handoff_instant(layer, time_zone), layer.shift_seconds, time_zone, moment - _TICK
    )


def turn_start(layer: Layer, time_zone: str, moment: dt.datetime) -> dt.datetime:
    """The start of the layer's turn that holds `moment` (its latest handoff at or before it)."""
    following = handoff_on_or_after(layer, time_zone, moment + _TICK)
    # One turn back in wall-clock time (handoffs keep local time across DST).
    back = localise(
        wall_clock(following, time_zone) - dt.timedelta(seconds=layer.shift_seconds), time_zone
    )
    return handoff_on_or_after(layer, time_zone, back)


def on_layer(
    member: Member,
    layer: Layer,
    rotation_zone: str,
    team_zone: str,
    turn: dt.datetime,
) -> bool:
    """Whether the member takes part in the layer's turn starting at `turn`: joined at the
    first handoff on or after the start of `since`, gone from the first handoff on or after the
    end of `until`."""
    if member.since is not None:
        joins = handoff_on_or_after(layer, rotation_zone, day_start(member.since, team_zone))
        if turn < joins:
            return False
    if member.until is not None:
        ends = day_start(member.until + dt.timedelta(days=1), team_zone)
        if turn >= handoff_on_or_after(layer, rotation_zone, ends):
            return False
    return True


def layer_members(
    team: OnCallTeamSpec,
    roles: Collection[TeamRole],
    layer: Layer,
    rotation_zone: str,
    turn: dt.datetime,
) -> list[Member]:
    """Members with one of `roles` who take part in the layer's turn starting at `turn`."""
    zone = team_time_zone(team)
    return [
        m for m in team.members if m.role in roles and on_layer(m, layer, rotation_zone, zone, turn)
    ]


def away_spans(member: Member, team_zone: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """The member's time off as instants: from the start of `from` to the end of `until`."""
    return [
        (day_start(a.from_, team_zone), day_start(a.until + dt.timedelta(days=1), team_zone))
        for a in member.away
    ]


def expiring_soon(team: OnCallTeamSpec, today: dt.date) -> list[str]:
    """Emails of members whose term ends within policy.termWarningDays of today (not ended)."""
    days = team.policy.term_warning_days if team.policy else 14
    return [
        m.email
        for m in team.members
        if m.until is not None and m.is_active(today) and (m.until - today).days <= days
    ]
