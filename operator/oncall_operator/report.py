"""`oncall-operator report --month YYYY-MM PATH…`: what each person served and carried in a month.

Per person: weekly shifts served (what pay is counted in; a partial week counts its share),
hours on call and of them out of hours, pages and night pages; per team: out-of-hours pages
against `maxOutOfHoursPagesPerMonth`. From PagerDuty's final schedule (overrides included) and
its log entries, through the same functions that fill `OnCallTeam.status.pages` and
`Rotation.status.load`.

The resources come from files, folders or standard input: the manifests in Git, or what the
cluster holds (`kubectl get oncallteams,rotations -A -o yaml | oncall-operator report … -`).
The runtime carries no Kubernetes client of its own (kopf's is the operator's, asynchronous and
tied to its login), and kubectl already speaks every kubeconfig authentication there is. A
Rotation's schedule is the one its status names, else the one whose managed-by line names it.

A weekly shift is the time a rotation covers in one week: a person's share of the month's
covered time, times the weeks in the month. Months are calendar months in UTC; the current
month is reported up to now.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from oncall_operator.api import OnCallTeamSpec
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import PagerDutyError
from oncall_operator.reconcile.pages import (
    FedRotation,
    people_of,
    rendered_hours,
    rotations_fed_by,
    scan_pages,
)
from oncall_operator.reconcile.users import resolve_emails
from oncall_operator.settings import PagerDutySettings, SettingsError
from oncall_operator.translate import load
from oncall_operator.translate.identity import managed_identity
from oncall_operator.translate.pages import Page, RotationHours, team_pages

EXIT_OK = 0
EXIT_ERROR = 2
WEEK = dt.timedelta(days=7)
HOUR = dt.timedelta(hours=1)


@dataclass
class PersonRow:
    email: str
    weekly_shifts: float = 0.0
    hours_on_call: float = 0.0
    out_of_hours_hours: float = 0.0
    pages: int = 0
    night_pages: int = 0
    max_pages_in_12h: int = 0


@dataclass
class TeamRow:
    namespace: str
    name: str
    out_of_hours_pages: int
    budget: int | None
    over_budget: bool
    rotations: list[str] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)


@dataclass
class Report:
    month: str
    since: str
    until: str
    teams: list[TeamRow] = field(default_factory=list)


def month_window(month: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[first instant, first instant of the next month) in UTC, cut at `now`."""
    try:
        first = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
    except ValueError:
        raise ValueError(f"--month {month!r}: expected YYYY-MM") from None
    following = (first + dt.timedelta(days=32)).replace(day=1)
    if first >= now:
        raise ValueError(f"--month {month}: has not begun")
    return first, min(following, now)


def report_teams(
    client: PagerDutyClient,
    teams: Sequence[tuple[str, str, Mapping[str, Any]]],
    rotations: Sequence[tuple[str, str, Mapping[str, Any] | None, str | None]],
    since: dt.datetime,
    until: dt.datetime,
    month: str,
) -> Report:
    """The report of `teams` (namespace, name, spec) fed by `rotations` (namespace, name, spec,
    PagerDuty schedule id) over [since, until): one log-entries scan for them all."""
    pages = scan_pages(client, since, until)
    report = Report(month=month, since=_text(since), until=_text(until))
    for namespace, name, raw_spec in teams:
        spec = OnCallTeamSpec.model_validate(dict(raw_spec))
        fed = rotations_fed_by(
            name, ((n, s, schedule) for ns, n, s, schedule in rotations if ns == namespace)
        )
        report.teams.append(_team_row(client, namespace, name, spec, fed, pages, since, until))
    return report


def _team_row(
    client: PagerDutyClient,
    namespace: str,
    name: str,
    spec: OnCallTeamSpec,
    rotations: Sequence[FedRotation],
    pages: Sequence[Page],
    since: dt.datetime,
    until: dt.datetime,
) -> TeamRow:
    resolved = resolve_emails(client, (m.email for m in spec.members))
    hours = [rendered_hours(client, r, resolved.user_ids, since, until) for r in rotations]
    counted = team_pages(pages, hours, people_of(client, spec, resolved.user_ids), since, until)
    rows = {p.email.lower(): PersonRow(email=p.email) for p in counted.people}
    for person in counted.people:
        row = rows[person.email.lower()]
        row.pages, row.night_pages = person.pages, person.night_pages
        row.max_pages_in_12h = person.max_pages_in_12h
    weeks = (until - since) / WEEK
    for rotation in hours:
        _add_served(rows, rotation, weeks, since, until)
    for row in rows.values():
        row.weekly_shifts = round(row.weekly_shifts, 2)
        row.hours_on_call = round(row.hours_on_call, 2)
        row.out_of_hours_hours = round(row.out_of_hours_hours, 2)
    budget = spec.policy.max_out_of_hours_pages_per_month if spec.policy else None
    return TeamRow(
        namespace=namespace,
        name=name,
        out_of_hours_pages=counted.out_of_hours,
        budget=budget,
        over_budget=budget is not None and counted.out_of_hours > budget,
        rotations=[r.name for r in rotations],
        people=list(rows.values()),
    )


def _add_served(
    rows: dict[str, PersonRow],
    rotation: RotationHours,
    weeks: float,
    since: dt.datetime,
    until: dt.datetime,
) -> None:
    """Add one rotation's hours and weekly-shift shares to the members' rows."""
    loads = load.load_of_entries(
        rotation.entries, rotation.business_hours, rotation.time_zone, since, until
    )
    covered = sum(person.hours for person in loads)
    per_week = covered / weeks if weeks else 0.0
    for person in loads:
        row = rows.get(person.email.lower())
        if row is None:
            continue  # on call here but not a member (someone else's override)
        row.hours_on_call += person.hours
        row.out_of_hours_hours += person.out_of_hours_hours
        if per_week:
            row.weekly_shifts += person.hours / per_week


def _text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- reading the resources -------------------------------------------------------------------


def resources(
    documents: Iterable[Mapping[str, Any]], default_namespace: str
) -> tuple[
    list[tuple[str, str, Mapping[str, Any]]], list[tuple[str, str, Mapping[str, Any], str | None]]
]:
    """Teams (namespace, name, spec) and rotations (namespace, name, spec, schedule id from the
    status) in the documents; `kind: List` (kubectl's -o yaml) is opened."""
    teams: list[tuple[str, str, Mapping[str, Any]]] = []
    rotations: list[tuple[str, str, Mapping[str, Any], str | None]] = []
    for body in _flattened(documents):
        if not str(body.get("apiVersion") or "").startswith("oncall.dev/"):
            continue
        metadata = body.get("metadata") or {}
        namespace = str(metadata.get("namespace") or default_namespace)
        name = str(metadata.get("name") or "")
        spec = body.get("spec") or {}
        if body.get("kind") == "OnCallTeam":
            teams.append((namespace, name, spec))
        elif body.get("kind") == "Rotation":
            schedule_id = ((body.get("status") or {}).get("pagerduty") or {}).get("id")
            rotations.append((namespace, name, spec, str(schedule_id) if schedule_id else None))
    return teams, rotations


def _flattened(documents: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for body in documents:
        if body.get("kind") == "List" or (
            isinstance(body.get("items"), list) and str(body.get("kind", "")).endswith("List")
        ):
            yield from (item for item in body.get("items") or [] if isinstance(item, Mapping))
        else:
            yield body


def schedule_ids_by_marker(client: PagerDutyClient) -> dict[tuple[str, str], str]:
    """(namespace, name) of each Rotation -> the schedule whose managed-by line names it."""
    found: dict[tuple[str, str], str] = {}
    for schedule in client.find_schedules(""):
        identity = managed_identity(schedule.get("description"))
        if identity is not None and identity.kind == "Rotation":
            found.setdefault((identity.namespace, identity.name), str(schedule["id"]))
    return found


# --- output ----------------------------------------------------------------------------------

PERSON_COLUMNS = (
    "namespace",
    "team",
    "email",
    "weekly_shifts",
    "hours_on_call",
    "out_of_hours_hours",
    "pages",
    "night_pages",
)
TEAM_COLUMNS = ("namespace", "team", "out_of_hours_pages", "budget", "over_budget")


def _person_records(report: Report) -> list[dict[str, Any]]:
    return [
        {"namespace": t.namespace, "team": t.name, **asdict(p)}
        for t in report.teams
        for p in t.people
    ]


def _team_records(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "namespace": t.namespace,
            "team": t.name,
            "out_of_hours_pages": t.out_of_hours_pages,
            "budget": t.budget,
            "over_budget": t.over_budget,
        }
        for t in report.teams
    ]


def render_table(report: Report) -> str:
    def table(columns: Sequence[str], records: list[dict[str, Any]]) -> list[str]:
        cells = [[_cell(r[c]) for c in columns] for r in records]
        header = [c.upper().replace("_", "-") for c in columns]
        widths = [max(len(v) for v in column) for column in zip(header, *cells, strict=False)]
        return [
            "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
            for line in [header, *cells]
        ]

    lines = [f"On-call report for {report.month} ({report.since} to {report.until})", ""]
    lines += table(PERSON_COLUMNS, _person_records(report))
    lines += ["", *table(TEAM_COLUMNS, _team_records(report))]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def render_csv(report: Report) -> str:
    """One row per person and one per team, told apart by the `record` column."""
    out = io.StringIO()
    columns = ["record", *PERSON_COLUMNS, "out_of_hours_pages", "budget", "over_budget"]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in _person_records(report):
        writer.writerow({"record": "person", **record})
    for record in _team_records(report):
        writer.writerow({"record": "team", **record})
    return out.getvalue()


def render_json(report: Report) -> str:
    return json.dumps(asdict(report), indent=2) + "\n"


# --- the command -----------------------------------------------------------------------------


def utc_now() -> dt.datetime:
    """The clock (tests replace it)."""
    return dt.datetime.now(dt.UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files, folders or - for stdin: manifests, or `kubectl get oncallteams,rotations "
        "-A -o yaml`",
    )
    parser.add_argument("--month", required=True, help="the calendar month, YYYY-MM (UTC)")
    parser.add_argument("--namespace", help="only teams of this namespace")
    parser.add_argument("--team", help="only the team of this name")
    parser.add_argument(
        "--output", choices=("table", "csv", "json"), default="table", help="default: table"
    )


def main(args: argparse.Namespace) -> int:
    from oncall_operator.gitops.documents import UnreadableInput, read_documents

    try:
        since, until = month_window(args.month, utc_now())
        documents = [d.body for d in read_documents(args.paths)]
    except (ValueError, UnreadableInput) as error:
        print(f"oncall-operator report: {error}", file=sys.stderr)
        return EXIT_ERROR
    teams, rotations = resources(documents, "default")
    teams = [
        t
        for t in teams
        if (args.namespace is None or t[0] == args.namespace)
        and (args.team is None or t[1] == args.team)
    ]
    if not teams:
        print("oncall-operator report: no OnCallTeam matches in the input", file=sys.stderr)
        return EXIT_ERROR
    try:
        client = PagerDutyClient.from_settings(PagerDutySettings.from_env())
    except (SettingsError, ValueError) as error:
        print(f"oncall-operator report: {error}", file=sys.stderr)
        return EXIT_ERROR
    try:
        if any(schedule is None for *_, schedule in rotations):
            by_marker = schedule_ids_by_marker(client)
            rotations = [
                (ns, name, spec, schedule or by_marker.get((ns, name)))
                for ns, name, spec, schedule in rotations
            ]
        report = report_teams(client, teams, rotations, since, until, args.month)
    except PagerDutyError as error:
        print(f"oncall-operator report: PagerDuty: {error}", file=sys.stderr)
        return EXIT_ERROR
    except ValueError as error:  # a team spec that does not validate
        print(f"oncall-operator report: {error}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        client.close()
    render = {"table": render_table, "csv": render_csv, "json": render_json}[args.output]
    sys.stdout.write(render(report))
    return EXIT_OK
