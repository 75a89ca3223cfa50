"""The PagerDuty REST endpoints the emulator serves, with PagerDuty's semantics (NOTES.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from aiohttp import web

from oncall_testbed.emulator import layers, overrides, queries, rendering, side_effects
from oncall_testbed.emulator.errors import invalid, not_found
from oncall_testbed.emulator.state import Account, JSONDict, new_id
from oncall_testbed.emulator.validation import BodyValidator

HTML_BASE = "https://emulator.pagerduty.local"
ONCALL_MAX_RANGE = timedelta(days=90)
SCHEDULE_DEFAULT_RANGE = timedelta(weeks=2)
_TYPE_BY_COLLECTION = {
    "users": "user",
    "teams": "team",
    "schedules": "schedule",
    "escalation_policies": "escalation_policy",
    "incidents": "incident",
    "services": "service",
}
_TARGET_TYPES = {
    "user": "user_reference",
    "user_reference": "user_reference",
    "schedule": "schedule_reference",
    "schedule_reference": "schedule_reference",
}


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class PagerDutyRoutes:
    """aiohttp handlers over one Account; `clock` is injectable so layer history can be tested."""

    def __init__(
        self,
        account: Account,
        validator: BodyValidator,
        clock: Callable[[], datetime] = now,
        advanced_permissions: bool = True,
    ) -> None:
        self.account = account
        self.validator = validator
        self.clock = clock
        # PagerDuty's Advanced Permissions side effects (side_effects.py); on, as on Business plans.
        self.advanced_permissions = advanced_permissions

    def add_to(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/users", self.list_users)
        r.add_get("/users/{id}", self.get_user)
        r.add_get("/teams", self.list_teams)
        r.add_post("/teams", self.create_team)
        r.add_get("/teams/{id}", self.get_team)
        r.add_put("/teams/{id}", self.update_team)
        r.add_delete("/teams/{id}", self.delete_team)
        r.add_get("/teams/{id}/members", self.list_members)
        r.add_put("/teams/{id}/users/{user_id}", self.add_member)
        r.add_delete("/teams/{id}/users/{user_id}", self.remove_member)
        r.add_get("/schedules", self.list_schedules)
        r.add_post("/schedules", self.create_schedule)
        r.add_get("/schedules/{id}", self.get_schedule)
        r.add_put("/schedules/{id}", self.update_schedule)
        r.add_delete("/schedules/{id}", self.delete_schedule)
        overrides.OverrideRoutes(self.account, self.validator, self._reference, self.clock).add_to(
            app
        )
        r.add_get("/oncalls", self.list_oncalls)
        r.add_get("/escalation_policies", self.list_policies)
        r.add_post("/escalation_policies", self.create_policy)
        r.add_get("/escalation_policies/{id}", self.get_policy)
        r.add_put("/escalation_policies/{id}", self.update_policy)
        r.add_delete("/escalation_policies/{id}", self.delete_policy)

    # -- users ---------------------------------------------------------------------------

    async def list_users(self, request: web.Request) -> web.Response:
        with self.account.lock:
            query = request.query.get("query", "").lower()
            team_ids = queries.ids(request, "team_ids")
            users = [
                u
                for u in self.account.users.values()
                if query in u["name"].lower() or query in u["email"].lower()
            ]
            if team_ids:
                users = [u for u in users if team_ids & self._teams_of_user(u["id"])]
            return queries.page(request, "users", [self._user(request, u) for u in users])

    async def get_user(self, request: web.Request) -> web.Response:
        with self.account.lock:
            user = self._find("users", request.match_info["id"])
            return web.json_response({"user": self._user(request, user)})

    def _user(self, request: web.Request, user: JSONDict) -> JSONDict:
        return {
            **self._identity(request, "users", user, user["name"]),
            "name": user["name"],
            "email": user["email"],
            "time_zone": user["time_zone"],
            "role": "user",
            "teams": [
                self._reference(request, "teams", team_id)
                for team_id in sorted(self._teams_of_user(user["id"]))
            ],
        }

    def _teams_of_user(self, user_id: str) -> set[str]:
        return {t["id"] for t in self.account.teams.values() if user_id in t["members"]}

    # -- teams ---------------------------------------------------------------------------

    async def list_teams(self, request: web.Request) -> web.Response:
        with self.account.lock:
            teams = queries.matching_name(self.account.teams.values(), request)
            return queries.page(request, "teams", [self._team(request, t) for t in teams])

    async def create_team(self, request: web.Request) -> web.Response:
        body = await self._valid_body(request, "/teams")
        with self.account.lock:
            fields = _team_fields(body["team"], {"description": None, "default_role": None})
            team = self.account.add("teams", {**fields, "members": {}})
            self.account.save()
            return web.json_response({"team": self._team(request, team)}, status=201)

    async def get_team(self, request: web.Request) -> web.Response:
        with self.account.lock:
            team = self._find("teams", request.match_info["id"])
            return web.json_response({"team": self._team(request, team)})

    async def update_team(self, request: web.Request) -> web.Response:
        body = await self._valid_body(request, "/teams/{id}")
        with self.account.lock:
            team = self._find("teams", request.match_info["id"])
            team.update(_team_fields(body["team"], team))
            self.account.save()
            return web.json_response({"team": self._team(request, team)})

    async def delete_team(self, request: web.Request) -> web.Response:
        with self.account.lock:
            team_id = request.match_info["id"]
            self._find("teams", team_id)
            owned = [
                f"{kind} {obj['id']}"
                for kind, collection in (
                    ("schedule", self.account.schedules),
                    ("escalation policy", self.account.escalation_policies),
                )
                for obj in collection.values()
                if team_id in obj["teams"]
            ]
            if owned:
                raise invalid(f"Team can't be deleted while it owns {', '.join(owned)}")
            del self.account.teams[team_id]
            self.account.save()
            return web.Response(status=204)

    async def list_members(self, request: web.Request) -> web.Response:
        with self.account.lock:
            team = self._find("teams", request.match_info["id"])
            members = [
                {"user": self._reference(request, "users", user_id), "role": role}
                for user_id, role in team["members"].items()
            ]
            return queries.page(request, "members", members)

    async def add_member(self, request: web.Request) -> web.Response:
        body = await queries.json_body(request, required=False)
        errors = self.validator.errors("put", "/teams/{id}/users/{user_id}", body) if body else []
        if errors:
            raise invalid(*errors)
        with self.account.lock:
            team = self._find("teams", request.match_info["id"])
            user_id = request.match_info["user_id"]
            self._find("users", user_id)
            team["members"][user_id] = (body or {}).get("role", "manager")
            self.account.save()
            return web.Response(status=204)

    async def remove_member(self, request: web.Request) -> web.Response:
        with self.account.lock:
            team = self._find("teams", request.match_info["id"])
            user_id = request.match_info["user_id"]
            self._find("users", user_id)
            team["members"].pop(user_id, None)
            self.account.save()
            return web.Response(status=204)

    def _team(self, request: web.Request, team: JSONDict) -> JSONDict:
        rendered = {**self._identity(request, "teams", team, team["name"]), "name": team["name"]}
        for optional in ("description", "default_role"):
            if team.get(optional) is not None:
                rendered[optional] = team[optional]
        return rendered

    # -- schedules -----------------------------------------------------------------------

    async def list_schedules(self, request: web.Request) -> web.Response:
        with self.account.lock:
            schedules = queries.matching_name(self.account.schedules.values(), request)
            team_ids = queries.ids(request, "team_ids")
            if team_ids:
                schedules = [s for s in schedules if team_ids & set(s["teams"])]
            zone = request.query.get("time_zone")
            if zone is not None:
                queries.check_zone(zone, "time_zone")
            window = queries.schedule_window(request, SCHEDULE_DEFAULT_RANGE)
            with_layers = "schedule_layers" in queries.includes(request)
            rendered = [
                self._listed_schedule(request, s, window, zone, with_layers) for s in schedules
            ]
            return queries.page(request, "schedules", rendered)

    def _listed_schedule(
        self,
        request: web.Request,
        schedule: JSONDict,
        window: tuple[datetime, datetime] | None,
        zone_name: str | None,
        with_layers: bool,
    ) -> JSONDict:
        """A schedule as the list shows it: its layers (rendered over since..until) only with
        include[]=schedule_layers, and never final_schedule or overrides_subschedule, whatever
        include[] asks: those come only from GET /schedules/{id} [api-schema issue 430]."""
        listed = self._schedule(request, schedule, window, zone_name)
        del listed["final_schedule"], listed["overrides_subschedule"]
        if not with_layers:
            del listed["schedule_layers"]
        return listed

    async def create_schedule(self, request: web.Request) -> web.Response:
        body = await self._valid_body(request, "/schedules")
        with self.account.lock:
            fields = self._schedule_fields(body["schedule"])
            taken: set[str] = set()
            new_layers = []
            for index, sent in enumerate(body["schedule"]["schedule_layers"]):
                new_layers.append(self._new_layer(sent, index, taken, fields["time_zone"]))
                taken.add(new_layers[-1]["id"])
            schedule = self.account.add("schedules", {**fields, "schedule_layers": new_layers})
            self._schedule_side_effects(schedule)
            self.account.save()
            # 200, not the 201 the spec says (api-schema issue 497).
            return web.json_response({"schedule": self._schedule(request, schedule, None)})

    async def get_schedule(self, request: web.Request) -> web.Response:
        with self.account.lock:
            schedule = self._find("schedules", request.match_info["id"])
            zone_name = queries.time_zone(request, schedule["time_zone"])
            window = queries.schedule_window(request, SCHEDULE_DEFAULT_RANGE)
            rendered = self._schedule(request, schedule, window, zone_name)
            return web.json_response({"schedule": rendered})

    async def update_schedule(self, request: web.Request) -> web.Response:
        body = await self._valid_body(request, "/schedules/{id}")
        with self.account.lock:
            schedule = self._find("schedules", request.match_info["id"])
            fields = self._schedule_fields(body["schedule"], schedule)
            updated = self._updated_layers(
                schedule, body["schedule"]["schedule_layers"], fields["time_zone"]
            )
            schedule.update(fields, schedule_layers=updated)
            self._schedule_side_effects(schedule)
            self.account.save()
            return web.json_response({"schedule": self._schedule(request, schedule, None)})

    async def delete_schedule(self, request: web.Request) -> web.Response:
        with self.account.lock:
            schedule_id = request.match_info["id"]
            self._find("schedules", schedule_id)
            if self._policies_using(schedule_id):
                raise invalid("Schedule can't be deleted if it's being used by escalation policies")
            del self.account.schedules[schedule_id]
            self.account.save()
            return web.Response(status=204)

    def _schedule_side_effects(self, schedule: JSONDict) -> None:
        if self.advanced_permissions:
            user_ids = side_effects.schedule_user_ids(schedule, self.clock())
            side_effects.add_users_to_teams(self.account, schedule["teams"], user_ids)

    def _policy_side_effects(self, policy: JSONDict) -> None:
        if self.advanced_permissions:
            user_ids = side_effects.policy_user_ids(policy)
            side_effects.add_users_to_teams(self.account, policy["teams"], user_ids)

    def _schedule_fields(self, sent: JSONDict, current: JSONDict | None = None) -> JSONDict:
        """Stored fields from a sent schedule; on update, fields not sent keep their value."""
        queries.check_zone(sent["time_zone"], "schedule.time_zone")
        fields: JSONDict = {"time_zone": sent["time_zone"]}
        fields["name"] = sent.get("name", current["name"] if current else "")
        fields["description"] = sent.get("description", current and current["description"])
        fields["teams"] = self._team_ids(sent, "schedule", current)
        return fields

    def _team_ids(self, sent: JSONDict, kind: str, current: JSONDict | None) -> list[str]:
        if "teams" not in sent:
            return list(current["teams"]) if current else []
        team_ids = [team["id"] for team in sent["teams"]]
        missing = [t for t in team_ids if t not in self.account.teams]
        if missing:
            raise invalid(*(f"{kind}.teams: no team {t}" for t in missing))
        return team_ids

    def _new_layer(self, sent: JSONDict, index: int, taken: set[str], zone_name: str) -> JSONDict:
        """A layer to store; its times are written in the schedule's time zone, as PagerDuty does."""

        def local(text: str | None, field: str) -> str | None:
            if text is None:
                return None
            try:
                return layers.iso(layers.instant(text), zone_name)
            except ValueError:
                where = f"schedule.schedule_layers[{index}].{field}"
                raise invalid(f"{where}: not an ISO 8601 date-time: {text[:40]!r}") from None

        layer: JSONDict = {
            "id": new_id(taken | self.account.all_ids()),
            "name": sent.get("name") or f"Layer {index + 1}",
            "start": local(sent["start"], "start"),
            "end": local(sent.get("end"), "end"),
            "rotation_virtual_start": local(
                sent["rotation_virtual_start"], "rotation_virtual_start"
            ),
            "rotation_turn_length_seconds": sent["rotation_turn_length_seconds"],
            "users": self._layer_users(sent["users"], index),
            "restrictions": list(sent.get("restrictions") or []),
            "history": [],  # earlier versions, ended at the time of each update
        }
        try:
            rendering.layer_from_json(layer)
        except ValueError as error:
            raise invalid(f"schedule.schedule_layers[{index}].{error}") from None
        return layer

    def _layer_users(self, users: Sequence[JSONDict], layer_index: int) -> list[JSONDict]:
        missing = [u["user"]["id"] for u in users if u["user"]["id"] not in self.account.users]
        if missing:
            raise invalid(
                *(f"schedule.schedule_layers[{layer_index}].users: no user {m}" for m in missing)
            )
        return [{"user": {"id": u["user"]["id"], "type": "user_reference"}} for u in users]

    def _updated_layers(
        self, schedule: JSONDict, sent_layers: list[JSONDict], zone_name: str
    ) -> list[JSONDict]:
        """PagerDuty's layer history: kept ids, new ids for new layers, missing layers ended."""
        current_ids = {layer["id"] for layer in schedule["schedule_layers"]}
        taken = set(current_ids)
        fresh_layers = []
        for index, sent in enumerate(sent_layers):
            fresh = self._new_layer(sent, index, taken, zone_name)
            if sent.get("id") in current_ids:
                fresh["id"] = sent["id"]
            taken.add(fresh["id"])
            fresh_layers.append(fresh)
        return layers.merge_update(
            schedule["schedule_layers"], fresh_layers, self.clock(), zone_name
        )

    def _schedule(
        self,
        request: web.Request,
        schedule: JSONDict,
        window: tuple[datetime, datetime] | None,
        zone_name: str | None = None,
    ) -> JSONDict:
        zone_name = zone_name or schedule["time_zone"]
        layers_json = schedule["schedule_layers"]
        overflow = queries.flag(request, "overflow")
        rendered_layers = []
        for layer in layers_json:
            public = {key: value for key, value in layer.items() if key != "history"}
            for bound in ("start", "end", "rotation_virtual_start"):  # in the asked time zone
                if public[bound] is not None:
                    public[bound] = layers.iso(layers.instant(public[bound]), zone_name)
            public["rendered_schedule_entries"] = []
            if window is not None:
                entries = layers.render_entries(
                    layers.versions([layer]), zone_name, window, overflow=overflow, final=False
                )
                public["rendered_schedule_entries"] = self._entries_json(
                    request, entries, zone_name
                )
                public["rendered_coverage_percentage"] = layers.coverage(entries, window)
            rendered_layers.append(public)
        final: JSONDict = {"name": "Final Schedule", "rendered_schedule_entries": []}
        overrides_subschedule: JSONDict = {"name": "Overrides", "rendered_schedule_entries": []}
        if window is not None:
            override_entries = overrides.entries_of(schedule)
            entries = layers.render_entries(
                layers.versions(layers_json),
                zone_name,
                window,
                overflow=overflow,
                final=True,
                overrides=override_entries,
            )
            final["rendered_schedule_entries"] = self._entries_json(request, entries, zone_name)
            final["rendered_coverage_percentage"] = layers.coverage(entries, window)
            shown = overrides.visible(override_entries, window, overflow=overflow)
            overrides_subschedule["rendered_schedule_entries"] = self._entries_json(
                request, shown, zone_name
            )
            overrides_subschedule["rendered_coverage_percentage"] = layers.coverage(shown, window)
        user_ids = dict.fromkeys(u["user"]["id"] for layer in layers_json for u in layer["users"])
        rendered: JSONDict = {
            **self._identity(request, "schedules", schedule, schedule["name"]),
            "name": schedule["name"],
            "time_zone": zone_name,
            "schedule_layers": rendered_layers,
            "final_schedule": final,
            "overrides_subschedule": overrides_subschedule,
            "escalation_policies": [
                self._reference(request, "escalation_policies", p)
                for p in self._policies_using(schedule["id"])
            ],
            "users": [self._reference(request, "users", u) for u in user_ids],
            "teams": [self._reference(request, "teams", t) for t in schedule["teams"]],
        }
        if schedule.get("description") is not None:
            rendered["description"] = schedule["description"]
        return rendered

    def _entries_json(
        self, request: web.Request, entries: Sequence[rendering.Entry], zone_name: str
    ) -> list[JSONDict]:
        return [
            {
                "start": layers.iso(e.start, zone_name),
                "end": layers.iso(e.end, zone_name),
                "user": self._reference(request, "users", e.user_id),
            }
            for e in entries
        ]

    def _policies_using(self, schedule_id: str) -> list[str]:
        return [
            p["id"]
            for p in self.account.escalation_policies.values()
            if any(
                t["type"] == "schedule_reference" and t["id"] == schedule_id
                for rule in p["escalation_rules"]
                for t in rule["targets"]
            )
        ]

    # -- on-calls ------------------------------------------------------------------------

    async def list_oncalls(self, request: web.Request) -> web.Response:
        with self.account.lock:
            zone_name = queries.time_zone(request, "Etc/UTC")
            moment = self.clock()
            since, until = queries.window(
                request, default_since=moment, default_until=moment, longest=ONCALL_MAX_RANGE
            )
            policy_ids = queries.ids(request, "escalation_policy_ids")
            schedule_ids = queries.ids(request, "schedule_ids")
            user_ids = queries.ids(request, "user_ids")
            # An instant (since == until) still asks who is on call at that moment.
            found = [
                o
                for o in self._oncalls((since, max(until, since + timedelta(seconds=1))))
                if (not policy_ids or o["policy"] in policy_ids)
                and (not schedule_ids or o["schedule"] in schedule_ids)
                and (not user_ids or o["user"] in user_ids)
            ]
            if queries.flag(request, "earliest"):
                found = _earliest(found)
            found.sort(key=lambda o: (o["policy"], o["level"], o["start"] or since, o["user"]))
            rendered = [self._oncall(request, o, zone_name) for o in found]
            return queries.page(request, "oncalls", rendered)

    def _oncalls(self, window: layers.Window) -> list[JSONDict]:
        """On-calls overlapping `window`: one per policy level, target user and (whole) shift."""
        found: list[JSONDict] = []
        for policy in self.account.escalation_policies.values():
            for level, rule in enumerate(policy["escalation_rules"], start=1):
                base = {"policy": policy["id"], "level": level}
                for target in rule["targets"]:
                    if target["type"] == "user_reference":  # on call for good: no start, no end
                        found.append(
                            {
                                **base,
                                "schedule": None,
                                "user": target["id"],
                                "start": None,
                                "end": None,
                            }
                        )
                        continue
                    schedule = self.account.schedules[target["id"]]
                    entries = layers.render_entries(
                        layers.versions(schedule["schedule_layers"]),
                        schedule["time_zone"],
                        window,
                        overflow=True,
                        final=True,
                        overrides=overrides.entries_of(schedule),
                    )
                    found.extend(
                        {
                            **base,
                            "schedule": schedule["id"],
                            "user": e.user_id,
                            "start": e.start,
                            "end": e.end,
                        }
                        for e in entries
                    )
        return found

    def _oncall(self, request: web.Request, oncall: JSONDict, zone_name: str) -> JSONDict:
        rendered: JSONDict = {
            "escalation_policy": self._reference(request, "escalation_policies", oncall["policy"]),
            "escalation_level": oncall["level"],
            "user": self._reference(request, "users", oncall["user"]),
            "start": None,
            "end": None,
        }
        if oncall["schedule"] is not None:
            rendered["schedule"] = self._reference(request, "schedules", oncall["schedule"])
            rendered["start"] = layers.iso(oncall["start"], zone_name)
            rendered["end"] = layers.iso(oncall["end"], zone_name)
        return rendered

    # -- escalation policies -------------------------------------------------------------

    async def list_policies(self, request: web.Request) -> web.Response:
        with self.account.lock:
            policies = queries.matching_name(self.account.escalation_policies.values(), request)
            team_ids = queries.ids(request, "team_ids")
            if team_ids:
                policies = [p for p in policies if team_ids & set(p["teams"])]
            user_ids = queries.ids(request, "user_ids")
            if user_ids:
                policies = [p for p in policies if user_ids & self._policy_user_ids(p)]
            rendered = [self._policy(request, p) for p in policies]
            return queries.page(request, "escalation_policies", rendered)

    async def create_policy(self, request: web.Request) -> web.Response:
        body = await self._valid_body(request, "/escalation_policies")
        with self.account.lock:
            fields = self._policy_fields(body["escalation_policy"], current=None)
            policy = self.account.add("escalation_policies", fields)
            self._policy_side_effects(policy)
            self.account.save()
            return web.json_response(
                {"escalation_policy": self._policy(request, policy)}, status=201
            )

    async def get_policy(self, request: web.Request) -> web.Response:
        with self.account.lock:
            policy = self._find("escalation_policies", request.match_info["id"])
            return web.json_response({"escalation_policy": self._policy(request, policy)})

    async def update_policy(self, request: web.Request) -> web.Response:
        body = await self._valid_body(request, "/escalation_policies/{id}")
        with self.account.lock:
            policy = self._find("escalation_policies", request.match_info["id"])
            policy.update(self._policy_fields(body["escalation_policy"], current=policy))
            self._policy_side_effects(policy)
            self.account.save()
            return web.json_response({"escalation_policy": self._policy(request, policy)})

    async def delete_policy(self, request: web.Request) -> web.Response:
        with self.account.lock:
            policy_id = request.match_info["id"]
            self._find("escalation_policies", policy_id)
            if self._services_using(policy_id):
                raise invalid(
                    "Escalation policy can't be deleted while it is used by services "
                    + ", ".join(self._services_using(policy_id))
                )
            del self.account.escalation_policies[policy_id]
            self.account.save()
            return web.Response(status=204)

    def _policy_fields(self, sent: JSONDict, current: JSONDict | None) -> JSONDict:
        """Stored fields from a sent policy; on update, fields not sent keep their value."""
        errors: list[str] = []
        team_ids = self._team_ids(sent, "escalation_policy", current)
        old_rule_ids = {rule["id"] for rule in current["escalation_rules"]} if current else set()
        taken = self.account.all_ids()
        rules = []
        for index, rule in enumerate(sent["escalation_rules"]):
            targets = []
            for t_index, target in enumerate(rule["targets"]):
                where = f"escalation_policy.escalation_rules[{index}].targets[{t_index}]"
                kind = _TARGET_TYPES.get(target["type"])
                collection = "users" if kind == "user_reference" else "schedules"
                if kind is None:
                    errors.append(f"{where}.type: {target['type']} is not supported")
                elif target["id"] not in getattr(self.account, collection):
                    errors.append(f"{where}.id: no {collection[:-1]} {target['id']}")
                targets.append({"id": target["id"], "type": kind})
            rule_id = rule.get("id") if rule.get("id") in old_rule_ids else new_id(taken)
            taken.add(rule_id)
            stored = {
                "id": rule_id,
                "escalation_delay_in_minutes": rule["escalation_delay_in_minutes"],
                "targets": targets,
            }
            if rule.get("escalation_rule_assignment_strategy") is not None:
                stored["escalation_rule_assignment_strategy"] = rule[
                    "escalation_rule_assignment_strategy"
                ]
            rules.append(stored)
        if errors:
            raise invalid(*errors)
        defaults = current or {
            "description": None,
            "num_loops": 0,
            "on_call_handoff_notifications": "if_has_services",
        }
        return {
            "name": sent["name"],
            "description": sent.get("description", defaults["description"]),
            "num_loops": sent.get("num_loops", defaults["num_loops"]),
            "on_call_handoff_notifications": sent.get(
                "on_call_handoff_notifications", defaults["on_call_handoff_notifications"]
            ),
            "escalation_rules": rules,
            "teams": team_ids,
        }

    def _policy(self, request: web.Request, policy: JSONDict) -> JSONDict:
        rendered: JSONDict = {
            **self._identity(request, "escalation_policies", policy, policy["name"]),
            "name": policy["name"],
            "num_loops": policy["num_loops"],
            "on_call_handoff_notifications": policy["on_call_handoff_notifications"],
            "escalation_rules": [
                {
                    **rule,
                    "targets": [
                        self._reference(request, _collection_of(t["type"]), t["id"])
                        for t in rule["targets"]
                    ],
                }
                for rule in policy["escalation_rules"]
            ],
            "services": [
                self._reference(request, "services", s) for s in self._services_using(policy["id"])
            ],
            "teams": [self._reference(request, "teams", t) for t in policy["teams"]],
        }
        if policy.get("description") is not None:
            rendered["description"] = policy["description"]
        return rendered

    def _services_using(self, policy_id: str) -> list[str]:
        return [
            s["id"]
            for s in self.account.services.values()
            if s["escalation_policy_id"] == policy_id
        ]

    def _policy_user_ids(self, policy: JSONDict) -> set[str]:
        ids: set[str] = set()
        for rule in policy["escalation_rules"]:
            for target in rule["targets"]:
                if target["type"] == "user_reference":
                    ids.add(target["id"])
                elif target["id"] in self.account.schedules:
                    schedule = self.account.schedules[target["id"]]
                    ids |= {
                        u["user"]["id"] for lay in schedule["schedule_layers"] for u in lay["users"]
                    }
        return ids

    # -- shared ----------------------------------------------------------------------------

    async def _valid_body(self, request: web.Request, path_pattern: str) -> JSONDict:
        body = await queries.json_body(request, required=True)
        errors = self.validator.errors(request.method, path_pattern, body)
        if errors:
            raise invalid(*errors)
        assert isinstance(body, dict)  # the schema requires an object
        return body

    def _find(self, collection: str, object_id: str) -> JSONDict:
        found: JSONDict | None = getattr(self.account, collection).get(object_id)
        if found is None:
            raise not_found()
        return found

    def _identity(
        self, request: web.Request, collection: str, obj: JSONDict, summary: str
    ) -> JSONDict:
        return {
            "id": obj["id"],
            "type": _TYPE_BY_COLLECTION[collection],
            "summary": summary,
            "self": f"{request.url.origin()}/{collection}/{obj['id']}",
            "html_url": f"{HTML_BASE}/{collection}/{obj['id']}",
        }

    def _reference(self, request: web.Request, collection: str, object_id: str) -> JSONDict:
        obj = getattr(self.account, collection).get(object_id)
        summary = "" if obj is None else obj.get("name") or obj.get("title") or ""
        reference = self._identity(request, collection, {"id": object_id}, summary)
        reference["type"] += "_reference"
        return reference


# -- helpers -----------------------------------------------------------------------------


def _collection_of(reference_type: str) -> str:
    return "users" if reference_type == "user_reference" else "schedules"


def _team_fields(sent: JSONDict, current: JSONDict) -> JSONDict:
    """Stored fields from a sent team; fields not sent keep their `current` value."""
    return {
        "name": sent["name"],
        "description": sent.get("description", current["description"]),
        "default_role": sent.get("default_role", current["default_role"]),
    }


def _earliest(oncalls: list[JSONDict]) -> list[JSONDict]:
    """Only the earliest on-call of each (policy, level, user)."""
    earliest: dict[tuple[str, int, str], JSONDict] = {}
    for oncall in oncalls:
        key = (oncall["policy"], oncall["level"], oncall["user"])
        current = earliest.get(key)
        if current is None or (oncall["start"] or datetime.min.replace(tzinfo=UTC)) < (
            current["start"] or datetime.min.replace(tzinfo=UTC)
        ):
            earliest[key] = oncall
    return list(earliest.values())
