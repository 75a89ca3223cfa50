"""How a difference between PagerDuty and the spec is said: one line per difference, naming
what PagerDuty has and what the spec wants, so a DriftCorrected Event tells the reader what was
changed by hand (and an Updated Event what a spec edit changed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# A value too long to quote in an Event line (a description) is named, not printed.
_QUOTED_UP_TO = 80


def difference(what: str, pagerduty: object, spec: object) -> str:
    """`what: PagerDuty has X, the spec wants Y`."""
    return f"{what}: PagerDuty has {_shown(pagerduty)}, the spec wants {_shown(spec)}"


def text_difference(what: str, pagerduty: str, spec: str) -> str:
    """Like `difference` for text: quoted, or just named when either side is long."""
    if len(pagerduty) > _QUOTED_UP_TO or len(spec) > _QUOTED_UP_TO:
        return f"{what} differs"
    return difference(what, f'"{pagerduty}"', f'"{spec}"')


def people(ids: Iterable[str], names: Mapping[str, str]) -> str:
    """`[a@example.com, PXYZ]`: each PagerDuty user id by the email `names` gives, else as is."""
    return "[" + ", ".join(names.get(i, i) for i in ids) + "]"


def _shown(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "none" if value is None or value == "" else str(value)
