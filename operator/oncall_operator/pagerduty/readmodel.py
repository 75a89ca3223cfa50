"""The PagerDuty read model: account-wide caches filled by list calls and shared by every reconcile.

`CachingPagerDutyClient` is a `PagerDutyClient` whose reads come from snapshots of whole
collections — the user directory, teams, schedules with their layers, escalation policies —
each filled by one paginated list (100 per page) and refreshed by the drift sweep, paced by the
read budget. Writes go to PagerDuty exactly as before and their answers update the snapshots, so
a reconcile always sees what this process wrote. What no list gives is read per object and
cached: a team's members with their roles (checked against the directory's `teams` of each
user), and who a schedule puts on call (`final_schedule` is only on `GET /schedules/{id}`),
re-read when the schedule's layers or the window change — except where a shared request
answers for many: `GET /oncalls` for schedules a policy uses, and for a schedule this process
has just made (no override yet, so its final schedule is its layers') one list of its team's
schedules rendered over the window.

Find-before-create (a crash between PagerDuty's create and the status write must never make a
duplicate): the lookup by name is answered from a snapshot listed at most
`create_freshness_seconds` ago, and listed again first otherwise or when a write of that kind
ended without an answer (it may have been made). The snapshot always holds every create this
process made, also one made while a list was running. So what a lookup misses was made, at the
latest, within the last seconds by another process: with one operator at a time, nothing (with
Kopf peering the handlers set the freshness below the time a replica takes to take over).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import datetime as dt
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from oncall_operator.pagerduty.budget import ReadBudget, sweep_period
from oncall_operator.pagerduty.client import PAGE_LIMIT, PagerDutyClient
from oncall_operator.pagerduty.errors import NotFound, PagerDutyError, Unavailable
from oncall_operator.pagerduty.ratelimit import RateLimiter
from oncall_operator.pagerduty.token import TokenSource
from oncall_operator.translate.load import Entry
from oncall_operator.translate.timeoff import painted

JSON = dict[str, Any]
log = logging.getLogger(__name__)

# Set while a reconcile of an edited object runs: its own objects are read from PagerDuty.
_FRESH_READS: contextvars.ContextVar[bool] = contextvars.ContextVar("fresh_reads", default=False)


@contextlib.contextmanager
def reading_fresh(on: bool = True) -> Iterator[None]:
    """Within it, reads of single objects (a team, its members, a schedule, a policy) go to
    PagerDuty instead of the snapshots, and update them: for a spec edit or a resume from pause,
    which must correct what was changed by hand since the last sweep."""
    token = _FRESH_READS.set(on)
    try:
        yield
    finally:
        _FRESH_READS.reset(token)


DEFAULT_CREATE_FRESHNESS_SECONDS = 30.0
DEFAULT_MEMBER_ROLES_MAX_AGE_SECONDS = 3600.0
# PagerDuty publishes no figure for the tighter /oncalls limit; stay well under any plausible one.
DEFAULT_ONCALLS_PER_MINUTE = 120
# How long the first rendering of a new schedule waits for others to share its list request.
DEFAULT_FIRST_RENDER_GATHER_SECONDS = 0.5
_LAYER_FIELDS = (
    "id",
    "start",
    "end",
    "rotation_virtual_start",
    "rotation_turn_length_seconds",
    "users",
    "restrictions",
)


class Snapshot:
    """One collection as its list last returned it, with this process's later writes applied.

    Thread-safe. A write made while a list runs is applied again over the list's result, so an
    object created or deleted meanwhile is never lost or brought back by a list that predates it.
    """

    def __init__(self, label: str, index: Callable[[JSON], str] | None = None) -> None:
        self.label = label
        self._index_key = index
        self._items: dict[str, JSON] = {}
        self._by_key: dict[str, str] = {}
        self.listed_at: float | None = None  # when the last complete list started
        self.pages = 0  # requests the last list took
        self._dirty = False
        self._pending: dict[str, JSON | None] | None = None
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    def get(self, object_id: str) -> JSON | None:
        with self._lock:
            found = self._items.get(object_id)
            return copy.deepcopy(found) if found is not None else None

    def by_key(self, key: str) -> JSON | None:
        with self._lock:
            object_id = self._by_key.get(key)
            found = self._items.get(object_id) if object_id is not None else None
            return copy.deepcopy(found) if found is not None else None

    def matching(self, keep: Callable[[JSON], bool]) -> list[JSON]:
        with self._lock:
            return [copy.deepcopy(o) for o in self._items.values() if keep(o)]

    def put(self, obj: JSON) -> None:
        self._write(str(obj["id"]), copy.deepcopy(obj))

    def drop(self, object_id: str) -> None:
        self._write(object_id, None)

    def update(self, object_id: str, change: Callable[[JSON], None]) -> None:
        """Change a cached object in place (a membership written, say); no-op when absent."""
        with self._lock:
            found = self._items.get(object_id)
            if found is not None:
                change(found)
                if self._pending is not None:
                    self._pending[object_id] = copy.deepcopy(found)

    def mark_dirty(self) -> None:
        """A write ended without an answer: it may have been made; list again before trusting
        the absence of an object."""
        with self._lock:
            self._dirty = True

    def fresh_since(self, moment: float) -> bool:
        with self._lock:
            return self.listed_at is not None and self.listed_at > moment and not self._dirty

    def refresh(
        self, fetch: Callable[[], tuple[list[JSON], int]], clock: Callable[[], float], since: float
    ) -> None:
        """List again unless a list that started after `since` already did (one list at a
        time: threads asking together share it)."""
        with self._refresh_lock:
            if self.fresh_since(since):
                return
            with self._lock:
                self._pending = {}
                self._dirty = False
                started = clock()
            try:
                items, pages = fetch()
            except BaseException:
                with self._lock:
                    self._pending = None
                    self._dirty = True
                raise
            with self._lock:
                fresh = {str(o["id"]): o for o in items}
                for object_id, written in (self._pending or {}).items():
                    if written is None:
                        fresh.pop(object_id, None)
                    else:
                        fresh[object_id] = written
                self._items = fresh
                self._pending = None
                self._reindex()
                self.listed_at = started
                self.pages = pages

    def _write(self, object_id: str, obj: JSON | None) -> None:
        with self._lock:
            if obj is None:
                self._items.pop(object_id, None)
            else:
                self._items[object_id] = obj
            if self._pending is not None:
                self._pending[object_id] = obj
            self._reindex()

    def _reindex(self) -> None:
        if self._index_key is not None:
            self._by_key = {self._index_key(o): i for i, o in self._items.items()}


Key = TypeVar("Key", bound=Hashable)
Window = tuple[dt.datetime, dt.datetime]
RenderWindow = tuple[dt.datetime, dt.datetime, str]  # since, until, time zone ("": its own)


class Gatherer(Generic[Key]):
    """Answers for many ids in one request: reconciles asking at about the same time with the
    same key (a window, say) are served together. The first waits `gather_seconds` for others to
    join, `fetch`es for all of them (at most `max_ids` at a time) and hands each its answer; an
    id the fetch did not answer gets None. Thread-safe.
    """

    def __init__(
        self,
        fetch: Callable[[list[str], Key], Mapping[str, Any]],
        *,
        gather_seconds: float = 0.3,
        max_ids: int = 50,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._fetch = fetch
        self.gather_seconds = gather_seconds
        self.max_ids = max_ids
        self._sleep = sleep
        self._lock = threading.Condition()
        self._waiting: dict[Key, set[str]] = {}
        self._leading: set[Key] = set()
        self._answers: dict[tuple[str, Key], Any] = {}

    def ask(self, object_id: str, key: Key) -> Any:
        """The answer for `object_id` under `key`, fetched with the others asking now."""
        slot = (object_id, key)
        with self._lock:
            self._waiting.setdefault(key, set()).add(object_id)
            lead = key not in self._leading
            if lead:
                self._leading.add(key)
        if lead:
            self._sleep(self.gather_seconds)
            self._serve(key)
        with self._lock:
            while slot not in self._answers:
                if key not in self._leading:  # the leader left before serving us: lead
                    self._leading.add(key)
                    self._lock.release()
                    try:
                        self._serve(key)
                    finally:
                        self._lock.acquire()
                    continue
                self._lock.wait(1.0)
            answer = self._answers.pop(slot)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def _serve(self, key: Key) -> None:
        try:
            while True:
                with self._lock:
                    asked = sorted(self._waiting.get(key, set()))[: self.max_ids]
                    if not asked:
                        self._waiting.pop(key, None)
                        return
                    self._waiting[key] -= set(asked)
                try:
                    found = self._fetch(asked, key)
                    answers: dict[str, Any] = {i: found.get(i) for i in asked}
                except BaseException as error:  # every asker sees it
                    answers = dict.fromkeys(asked, error)
                with self._lock:
                    for object_id, answer in answers.items():
                        self._answers[(object_id, key)] = answer
                    self._lock.notify_all()
        finally:
            with self._lock:
                self._leading.discard(key)
                self._lock.notify_all()


class OnCallBatcher:
    """Who is on call for many schedules in one `GET /oncalls?schedule_ids[]=…` (PagerDuty answers
    it only for schedules some escalation policy uses, under a tighter rate limit of its own).

    Reconciles asking at about the same time for the same window (rotations handing off
    together) are served by one request (a `Gatherer` keyed by the window). Thread-safe.
    """

    def __init__(
        self,
        fetch: Callable[[list[str], dt.datetime, dt.datetime], list[JSON]],
        *,
        gather_seconds: float = 0.3,
        max_schedules: int = 50,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        def fetch_window(asked: list[str], window: Window) -> Mapping[str, Any]:
            since, until = window
            return _entries_by_schedule(fetch(asked, since, until), asked, since, until)

        self._gatherer: Gatherer[Window] = Gatherer(
            fetch_window, gather_seconds=gather_seconds, max_ids=max_schedules, sleep=sleep
        )

    @property
    def gather_seconds(self) -> float:
        return self._gatherer.gather_seconds

    @gather_seconds.setter
    def gather_seconds(self, seconds: float) -> None:
        self._gatherer.gather_seconds = seconds

    def entries(self, schedule_id: str, since: dt.datetime, until: dt.datetime) -> list[JSON]:
        """The schedule's final entries in since..until, clipped to it, oldest first."""
        found: list[JSON] = self._gatherer.ask(schedule_id, (since, until))
        return found


def _entries_by_schedule(
    oncalls: list[JSON], asked: list[str], since: dt.datetime, until: dt.datetime
) -> dict[str, list[JSON]]:
    """/oncalls entries (one per policy, level and shift, whole shifts) as each schedule's final
    entries clipped to since..until, the form `final_schedule.rendered_schedule_entries` has."""
    seen: dict[str, dict[tuple[str, dt.datetime, dt.datetime], JSON]] = {s: {} for s in asked}
    for oncall in oncalls:
        schedule_id = str((oncall.get("schedule") or {}).get("id") or "")
        if schedule_id not in seen or not oncall.get("start") or not oncall.get("end"):
            continue
        start = max(_instant(oncall["start"]), since)
        end = min(_instant(oncall["end"]), until)
        if start >= end:
            continue
        user = oncall.get("user") or {}
        seen[schedule_id][(str(user.get("id")), start, end)] = {
            "start": _iso(start),
            "end": _iso(end),
            "user": user,
        }
    return {
        s: [e for _, e in sorted(found.items(), key=lambda kv: kv[0][1])]
        for s, found in seen.items()
    }


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class CachingPagerDutyClient(PagerDutyClient):
    """A PagerDutyClient whose reads come from the read model (see the module's docstring)."""

    def __init__(
        self,
        token: str | TokenSource,
        *,
        read_budget_per_minute: int = 60,
        drift_interval_seconds: float = 300.0,
        create_freshness_seconds: float = DEFAULT_CREATE_FRESHNESS_SECONDS,
        member_roles_max_age_seconds: float = DEFAULT_MEMBER_ROLES_MAX_AGE_SECONDS,
        on_sweep_period: Callable[[float], None] | None = None,
        oncalls_per_minute: int = DEFAULT_ONCALLS_PER_MINUTE,
        first_render_gather_seconds: float = DEFAULT_FIRST_RENDER_GATHER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        **client_options: Any,
    ) -> None:
        super().__init__(token, clock=clock, sleep=sleep, **client_options)
        self.budget = ReadBudget(read_budget_per_minute, clock=clock, sleep=sleep)
        self.drift_interval_seconds = drift_interval_seconds
        self.create_freshness_seconds = create_freshness_seconds
        self.member_roles_max_age_seconds = member_roles_max_age_seconds
        self._on_sweep_period = on_sweep_period
        self.users = Snapshot("users", index=lambda u: str(u.get("email") or "").lower())
        self.teams = Snapshot("teams")
        self.schedules = Snapshot("schedules")
        self.policies = Snapshot("escalation_policies")
        self._members: dict[str, tuple[float, list[JSON]]] = {}
        # (schedule, since, until, time zone) -> (layers version, the rendering as compact JSON:
        # a third of its size as objects, and each hit decodes a copy of its own)
        # (schedule, since, until, time zone) -> (layers' version, the rendering as JSON, whether
        # it carries the layers' entries: not when it came from GET /oncalls)
        self._renders: dict[tuple[str, str, str, str], tuple[str, str, bool]] = {}
        self._cache_lock = threading.Lock()
        self._paced = threading.local()
        self.period: float = drift_interval_seconds
        self.oncalls = OnCallBatcher(self._fetch_oncalls)  # gathers in real time
        # Schedules this process made and whose overrides it has not written since: their final
        # schedule is their layers', which one list of their teams' schedules renders for many.
        self._new_schedules: set[str] = set()
        self.first_renders: Gatherer[RenderWindow] = Gatherer(
            self._fetch_first_renders, gather_seconds=first_render_gather_seconds
        )
        # GET /oncalls has its own tighter limit (NOTES.md): our own pace for it stays under it.
        self._oncalls_limiter = RateLimiter(oncalls_per_minute, clock=clock, sleep=sleep)
        self.last_sweep_reads = 0
        self.sweeps_done = 0
        self._demand = threading.Event()

    # -- users ------------------------------------------------------------------------------------
    def find_user_by_email(self, email: str) -> JSON | None:
        """From the directory; an email it lacks is looked for again at its next refresh."""
        self._filled(self.users)
        return self.users.by_key(email.strip().lower())

    def get_user(self, user_id: str) -> JSON:
        self._filled(self.users)
        found = self.users.get(user_id)
        if found is None:
            found = super().get_user(user_id)
            self.users.put(found)
        return found

    # -- teams ------------------------------------------------------------------------------------
    def get_team(self, team_id: str) -> JSON:
        return self._get_cached(self.teams, team_id, super().get_team)

    def find_teams(self, query: str) -> list[JSON]:
        return self._find_fresh(self.teams, query)

    def create_team(self, team: JSON) -> JSON:
        made = self._written(
            self.teams, lambda: super(CachingPagerDutyClient, self).create_team(team)
        )
        with self._cache_lock:
            self._members[str(made["id"])] = (self._clock(), [])  # a new team has no members
        return made

    def update_team(self, team_id: str, team: JSON) -> JSON:
        return self._written(
            self.teams, lambda: super(CachingPagerDutyClient, self).update_team(team_id, team)
        )

    def delete_team(self, team_id: str) -> None:
        self._deleted(self.teams, team_id, super().delete_team)
        with self._cache_lock:
            self._members.pop(team_id, None)

    def list_team_members(self, team_id: str) -> list[JSON]:
        """Cached per team; the sweep reads it again when the directory's memberships disagree
        or it is older than `member_roles_max_age_seconds` (a role changed by hand shows only so)."""
        with self._cache_lock:
            cached = self._members.get(team_id)
        if cached is not None and not _FRESH_READS.get():
            return copy.deepcopy(cached[1])
        return self._read_members(team_id)

    def set_team_member(self, team_id: str, user_id: str, role: str) -> None:
        try:
            super().set_team_member(team_id, user_id, role)
        except PagerDutyError:
            self._forget_members(team_id)
            raise
        member = {"user": {"id": user_id, "type": "user_reference"}, "role": role}
        self._change_members(
            team_id, lambda ms: [m for m in ms if _user_id(m) != user_id] + [member]
        )
        self.users.update(user_id, lambda u: _join(u, team_id))

    def remove_team_member(self, team_id: str, user_id: str) -> None:
        try:
            super().remove_team_member(team_id, user_id)
        except PagerDutyError:
            self._forget_members(team_id)
            raise
        self._change_members(team_id, lambda ms: [m for m in ms if _user_id(m) != user_id])
        self.users.update(user_id, lambda u: _leave(u, team_id))

    # -- schedules --------------------------------------------------------------------------------
    def get_schedule(
        self,
        schedule_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        time_zone: str | None = None,
        layers: bool = True,
    ) -> JSON:
        """Without a window: from the snapshot. With one (the final schedule, on call): read once
        per window and version of the layers, since no list carries `final_schedule`. Only with
        `layers=False` (the caller reads the final schedule alone) may the answer come from
        `GET /oncalls`, which has no layer entries: time off is judged from the layers."""
        if since is None and until is None:
            return self._get_cached(self.schedules, schedule_id, super().get_schedule)
        key = (schedule_id, _iso_or_empty(since), _iso_or_empty(until), time_zone or "")
        version = _layers_version(self.schedules.get(schedule_id))
        with self._cache_lock:
            cached = self._renders.get(key)
        if (
            cached is not None
            and version is not None
            and cached[0] == version
            and (cached[2] or not layers)
        ):
            found: JSON = json.loads(cached[1])
            return found
        listed = self.schedules.get(schedule_id)
        with self._cache_lock:
            first = schedule_id in self._new_schedules
            self._new_schedules.discard(schedule_id)
        rendered: JSON | None = None
        with_layers = True
        if listed is not None and since is not None and until is not None:
            if first and _team_ids(listed) and not _FRESH_READS.get():
                # Made by this process moments ago, no override yet: one list of its team's
                # schedules renders its layers, shared with the other new schedules asking now.
                rendered = self.first_renders.ask(schedule_id, (since, until, time_zone or ""))
            elif not layers and self._in_a_policy(schedule_id):
                # Batched with the other rotations asking now (a handoff they share, say).
                with_layers = False
                entries = self.oncalls.entries(schedule_id, since, until)
                rendered = {
                    **listed,
                    "final_schedule": {
                        "name": "Final Schedule",
                        "rendered_schedule_entries": entries,
                    },
                }
        if rendered is None:
            try:
                rendered = super().get_schedule(
                    schedule_id, since=since, until=until, time_zone=time_zone
                )
            except NotFound:
                self.schedules.drop(schedule_id)
                raise
        if version is None:  # not in the snapshot yet (made by someone else since the list)
            self.schedules.put(_without_rendering(rendered))
            version = _layers_version(rendered)
        rendered = _with_slim_entries(rendered)
        with self._cache_lock:
            self._renders = {k: v for k, v in self._renders.items() if k[0] != schedule_id}
            self._renders[key] = (
                str(version),
                json.dumps(rendered, separators=(",", ":")),
                with_layers,
            )
        return rendered

    def find_schedules(self, query: str) -> list[JSON]:
        return self._find_fresh(self.schedules, query)

    def schedules_of_team(self, team_id: str) -> list[JSON]:
        self._filled(self.schedules)
        return self.schedules.matching(lambda s: _has_team(s, team_id))

    def create_schedule(self, schedule: JSON) -> JSON:
        made = self._written(
            self.schedules, lambda: super(CachingPagerDutyClient, self).create_schedule(schedule)
        )
        with self._cache_lock:
            self._new_schedules.add(str(made["id"]))
        return made

    def update_schedule(self, schedule_id: str, schedule: JSON) -> JSON:
        return self._written(
            self.schedules,
            lambda: super(CachingPagerDutyClient, self).update_schedule(schedule_id, schedule),
            schedule_id,
        )

    def delete_schedule(self, schedule_id: str) -> None:
        self._deleted(self.schedules, schedule_id, super().delete_schedule)
        with self._cache_lock:
            self._new_schedules.discard(schedule_id)

    # -- escalation policies ----------------------------------------------------------------------
    def get_escalation_policy(self, policy_id: str) -> JSON:
        return self._get_cached(self.policies, policy_id, super().get_escalation_policy)

    def find_escalation_policies(self, query: str) -> list[JSON]:
        return self._find_fresh(self.policies, query)

    def escalation_policies_of_team(self, team_id: str) -> list[JSON]:
        self._filled(self.policies)
        return self.policies.matching(lambda p: _has_team(p, team_id))

    def create_escalation_policy(self, policy: JSON) -> JSON:
        return self._written(
            self.policies,
            lambda: super(CachingPagerDutyClient, self).create_escalation_policy(policy),
        )

    def update_escalation_policy(self, policy_id: str, policy: JSON) -> JSON:
        return self._written(
            self.policies,
            lambda: super(CachingPagerDutyClient, self).update_escalation_policy(policy_id, policy),
            policy_id,
        )

    def delete_escalation_policy(self, policy_id: str) -> None:
        self._deleted(self.policies, policy_id, super().delete_escalation_policy)

    def _in_a_policy(self, schedule_id: str) -> bool:
        self._filled(self.policies)
        return bool(
            self.policies.matching(
                lambda p: any(
                    str(t.get("id")) == schedule_id
                    for rule in p.get("escalation_rules") or []
                    for t in rule.get("targets") or []
                    if str(t.get("type", "")).startswith("schedule")
                )
            )
        )

    def _fetch_first_renders(self, asked: list[str], key: RenderWindow) -> dict[str, JSON]:
        """`GET /schedules?team_ids[]=…&since=…&until=…&include[]=schedule_layers` renders every
        layer of those teams' schedules (NOTES.md, "Reading many objects at once"); a schedule
        with no override has its layers' final schedule."""
        since, until, time_zone = key
        team_ids = sorted({t for i in asked for t in _team_ids(self.schedules.get(i) or {})})
        params: JSON = {
            "include[]": ["schedule_layers"],
            "team_ids[]": team_ids,
            "since": _iso(since),
            "until": _iso(until),
        }
        if time_zone:
            params["time_zone"] = time_zone
        wanted = set(asked)
        return {
            str(s["id"]): _with_final_of_layers(s)
            for s in self._list("schedules", params)
            if str(s.get("id")) in wanted
        }

    def _fetch_oncalls(
        self, schedule_ids: list[str], since: dt.datetime, until: dt.datetime
    ) -> list[JSON]:
        return self.list_oncalls(schedule_ids=schedule_ids, since=since, until=until)

    # -- the drift sweep --------------------------------------------------------------------------
    def sweep_once(self) -> int:
        """List every collection again and re-read the team memberships that need it, each read
        waiting for the read budget; returns the reads made. Hand edits in PagerDuty show after it."""
        already_paced = getattr(self._paced, "on", False)
        self._paced.on = True
        reads = 0
        try:
            for snapshot in self._snapshots():
                snapshot.refresh(self._lister(snapshot), self._clock, math.inf)  # always lists
                reads += snapshot.pages
            for team_id in self._members_to_read_again():
                try:
                    self._read_members(team_id)
                except NotFound:
                    self._forget_members(team_id)
                reads += 1
        finally:
            self._paced.on = already_paced
        self.last_sweep_reads = reads
        self.sweeps_done += 1
        self._set_period(sweep_period(self.drift_interval_seconds, reads, self.budget.per_minute))
        return reads

    def pace_this_thread(self) -> None:
        """Every read this thread makes from now on waits for the read budget (the thread that
        runs drift checks: what they read at rest stays inside the budget)."""
        self._paced.on = True

    def run_sweeps(self, stop: threading.Event) -> None:
        """Sweep until `stop` is set: the first after one drift interval (the reconciles at start
        fill the snapshots), then one every sweep period."""
        log.info(
            "drift sweep: every %.0fs at most, reads paced to a budget of %d per minute",
            self.period,
            self.budget.per_minute,
        )
        if stop.wait(self.drift_interval_seconds):
            return
        while not stop.is_set():
            started = self._clock()
            if self.take_demand():
                try:
                    self.sweep_once()
                except PagerDutyError as error:  # the next sweep tries again; reconciles go on
                    log.warning("drift sweep: reading PagerDuty failed: %s", error)
            if stop.wait(max(0.0, started + self.period - self._clock())):
                return

    def want_sweep(self) -> None:
        """A drift check came due: the next sweep is wanted. A replica that Kopf peering keeps
        paused runs no handler, so it never sweeps and reads nothing."""
        self._demand.set()

    def take_demand(self) -> bool:
        wanted = self._demand.is_set()
        self._demand.clear()
        return wanted

    # -- plumbing ---------------------------------------------------------------------------------
    def _request(
        self, method: str, path: str, *, params: JSON | None = None, json: JSON | None = None
    ) -> JSON:
        """Every read counts against the read budget: the sweep's wait for it, others spend it."""
        if method == "GET":
            if path.strip("/") == "oncalls":
                self._oncalls_limiter.acquire()
            if getattr(self._paced, "on", False):
                self.budget.wait_for_one()
            else:
                self.budget.spend()
        try:
            answer = super()._request(method, path, params=params, json=json)
        except Unavailable:
            written = self._snapshot_of(path) if method != "GET" else None
            if written is not None:
                written.mark_dirty()  # the write may have been made: list before creating
            raise
        if method != "GET":
            self._written_elsewhere(path)
        return answer

    def _written_elsewhere(self, path: str) -> None:
        """A write to a schedule's sub-resource (an override, say) changes what it renders; to a
        team's, its members: forget what is cached of them."""
        parts = path.strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "schedules":
            with self._cache_lock:
                self._renders = {k: v for k, v in self._renders.items() if k[0] != parts[1]}
                self._new_schedules.discard(parts[1])  # an override: its layers are not all
        if len(parts) >= 3 and parts[0] == "teams" and parts[2] != "users":
            self._forget_members(parts[1])

    def _snapshots(self) -> tuple[Snapshot, ...]:
        return (self.users, self.teams, self.schedules, self.policies)

    def _snapshot_of(self, path: str) -> Snapshot | None:
        collection = path.strip("/").split("/")[0]
        return next((s for s in self._snapshots() if s.label == collection), None)

    def _lister(self, snapshot: Snapshot) -> Callable[[], tuple[list[JSON], int]]:
        params: JSON = {"include[]": ["schedule_layers"]} if snapshot is self.schedules else {}

        def fetch() -> tuple[list[JSON], int]:
            items = self._list(snapshot.label, params)
            return items, max(1, -(-len(items) // PAGE_LIMIT))

        return fetch

    def _filled(self, snapshot: Snapshot) -> None:
        """The first read of a collection lists it; later ones take the snapshot as it is."""
        if snapshot.listed_at is None:
            snapshot.refresh(self._lister(snapshot), self._clock, float("-inf"))

    def _find_fresh(self, snapshot: Snapshot, query: str) -> list[JSON]:
        """By name, as PagerDuty's `query` matches, from a snapshot fresh enough to create on."""
        since = self._clock() - self.create_freshness_seconds
        if not snapshot.fresh_since(since):
            snapshot.refresh(self._lister(snapshot), self._clock, since)
        wanted = query.lower()
        return snapshot.matching(lambda o: wanted in str(o.get("name") or "").lower())

    def _get_cached(self, snapshot: Snapshot, object_id: str, read: Callable[[str], JSON]) -> JSON:
        self._filled(snapshot)
        found = None if _FRESH_READS.get() else snapshot.get(object_id)
        if found is not None:
            return found
        try:
            found = read(object_id)  # asked fresh, or made after the last list by someone else
        except NotFound:
            snapshot.drop(object_id)
            raise
        snapshot.put(_without_rendering(found))
        return found

    def _written(
        self, snapshot: Snapshot, write: Callable[[], JSON], object_id: str | None = None
    ) -> JSON:
        try:
            written = write()
        except NotFound:
            if object_id is not None:
                snapshot.drop(object_id)  # deleted by hand: the next reconcile makes it again
            raise
        snapshot.put(_without_rendering(written))
        if snapshot is not self.teams:
            # PagerDuty may add a schedule's or a policy's users to its teams by itself (Advanced
            # Permissions, NOTES.md "Side effects"): what is cached of their members may be old,
            # unless every one of those users is a member already (nobody to add).
            named = self._users_named_by(written, snapshot)
            for team_id in _team_ids(written):
                if named is None or not named <= self._cached_member_ids(team_id):
                    self._forget_members(team_id)
        return written

    def _users_named_by(self, written: JSON, snapshot: Snapshot) -> set[str] | None:
        """The users PagerDuty may add to the teams of a written schedule (its layers' users) or
        policy (the users it targets and those of the schedules it targets); None when unknown."""
        if snapshot is self.schedules:
            return {
                _user_id(u)
                for layer in written.get("schedule_layers") or []
                for u in layer.get("users") or []
            } | {str(u.get("id")) for u in written.get("users") or []}
        named: set[str] = set()
        for rule in written.get("escalation_rules") or []:
            for target in rule.get("targets") or []:
                kind, target_id = str(target.get("type") or ""), str(target.get("id") or "")
                if kind.startswith("user"):
                    named.add(target_id)
                    continue
                schedule = self.schedules.get(target_id)
                if schedule is None:
                    return None
                named |= self._users_named_by(schedule, self.schedules) or set()
        return named

    def _cached_member_ids(self, team_id: str) -> set[str]:
        with self._cache_lock:
            cached = self._members.get(team_id)
        return {_user_id(m) for m in cached[1]} if cached is not None else set()

    def _deleted(self, snapshot: Snapshot, object_id: str, delete: Callable[[str], None]) -> None:
        try:
            delete(object_id)
        except NotFound:
            snapshot.drop(object_id)
            raise
        snapshot.drop(object_id)

    def _read_members(self, team_id: str) -> list[JSON]:
        started = self._clock()
        members = super().list_team_members(team_id)
        with self._cache_lock:
            self._members[team_id] = (started, copy.deepcopy(members))
        return members

    def _change_members(self, team_id: str, change: Callable[[list[JSON]], list[JSON]]) -> None:
        with self._cache_lock:
            cached = self._members.get(team_id)
            if cached is not None:
                self._members[team_id] = (cached[0], change(cached[1]))

    def _forget_members(self, team_id: str) -> None:
        with self._cache_lock:
            self._members.pop(team_id, None)

    def _members_to_read_again(self) -> list[str]:
        """Teams whose cached members the directory contradicts, or that are too old to trust
        for roles (the directory says who is in a team, not with which role)."""
        oldest = self._clock() - self.member_roles_max_age_seconds
        in_directory: dict[str, set[str]] = {}
        for user in self.users.matching(lambda _: True):
            for team in user.get("teams") or []:
                in_directory.setdefault(str(team.get("id")), set()).add(str(user["id"]))
        with self._cache_lock:
            cached = dict(self._members)
        return [
            team_id
            for team_id, (read_at, members) in cached.items()
            if read_at < oldest
            or {_user_id(m) for m in members} != in_directory.get(team_id, set())
        ]

    def _set_period(self, period: float) -> None:
        previous, self.period = self.period, period
        if self._on_sweep_period is not None:
            self._on_sweep_period(period)
        if abs(period - previous) > 0.1 * previous:
            log.info(
                "drift sweep: every %.0fs now (was %.0fs): %d reads per sweep at %d per minute%s",
                period,
                previous,
                self.last_sweep_reads,
                self.budget.per_minute,
                ""
                if period <= self.drift_interval_seconds
                else f", longer than the drift interval of {self.drift_interval_seconds:.0f}s",
            )


def _team_ids(obj: JSON) -> list[str]:
    return [str(t.get("id")) for t in obj.get("teams") or [] if t.get("id")]


def _with_final_of_layers(listed: JSON) -> JSON:
    """A listed schedule with its layers rendered, and the final schedule they make without
    overrides: a later layer wins where it has someone on call, one user's adjacent pieces
    joined, as `GET /schedules/{id}` shows it."""
    users: dict[str, JSON] = {}
    layers: list[list[Entry]] = []
    for layer in listed.get("schedule_layers") or []:
        entries = []
        for entry in layer.get("rendered_schedule_entries") or []:
            user = entry.get("user") or {}
            user_id = str(user.get("id") or "")
            users.setdefault(user_id, user)
            start, end = _instant(str(entry["start"])), _instant(str(entry["end"]))
            if end > start:
                entries.append(Entry(user_id, start, end))
        layers.append(entries)
    joined: list[Entry] = []
    for entry in painted(layers):
        if joined and joined[-1].person == entry.person and joined[-1].end == entry.start:
            joined[-1] = Entry(entry.person, joined[-1].start, entry.end)
        else:
            joined.append(entry)
    final = [{"start": _iso(e.start), "end": _iso(e.end), "user": users[e.person]} for e in joined]
    return {
        **listed,
        "final_schedule": {"name": "Final Schedule", "rendered_schedule_entries": final},
        "overrides_subschedule": {"name": "Overrides", "rendered_schedule_entries": []},
    }


def _has_team(obj: JSON, team_id: str) -> bool:
    return any(str(t.get("id")) == team_id for t in obj.get("teams") or [])


def _user_id(member: JSON) -> str:
    return str((member.get("user") or {}).get("id") or "")


def _join(user: JSON, team_id: str) -> None:
    teams = [t for t in user.get("teams") or [] if str(t.get("id")) != team_id]
    user["teams"] = [*teams, {"id": team_id, "type": "team_reference"}]


def _leave(user: JSON, team_id: str) -> None:
    user["teams"] = [t for t in user.get("teams") or [] if str(t.get("id")) != team_id]


def _without_rendering(obj: JSON) -> JSON:
    """As a list shows it: no final_schedule or overrides_subschedule, no rendered entries."""
    kept = {k: v for k, v in obj.items() if k not in ("final_schedule", "overrides_subschedule")}
    if "schedule_layers" in kept:
        kept["schedule_layers"] = [
            {k: v for k, v in layer.items() if not k.startswith("rendered_")}
            for layer in kept["schedule_layers"]
        ]
    return kept


def _with_slim_entries(rendered: JSON) -> JSON:
    """The rendering with each entry's user as its id (and email when given): a schedule's
    entries over the load horizon run to hundreds, each naming its user in full, and one is
    kept per schedule; who the ids are is the directory's to say."""

    def slim(entries: list[JSON]) -> list[JSON]:
        return [
            {
                **entry,
                "user": {
                    k: v
                    for k, v in (entry.get("user") or {}).items()
                    if k in ("id", "type", "email")
                },
            }
            for entry in entries
        ]

    kept = dict(rendered)
    for part in ("final_schedule", "overrides_subschedule"):
        if isinstance(kept.get(part), dict):
            entries = kept[part].get("rendered_schedule_entries") or []
            kept[part] = {**kept[part], "rendered_schedule_entries": slim(entries)}
    kept["schedule_layers"] = [
        {**layer, "rendered_schedule_entries": slim(layer.get("rendered_schedule_entries") or [])}
        for layer in kept.get("schedule_layers") or []
    ]
    return kept


def _layers_version(schedule: JSON | None) -> str | None:
    """What a schedule's rendering depends on, as one comparable string."""
    if schedule is None:
        return None
    layers = [
        {field: layer.get(field) for field in _LAYER_FIELDS}
        for layer in schedule.get("schedule_layers") or []
    ]
    return json.dumps([schedule.get("time_zone"), layers], sort_keys=True, default=str)


def _iso_or_empty(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""
