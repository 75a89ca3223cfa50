"""Services, incidents and log entries over HTTP, with PagerDuty's semantics (NOTES.md).

- A service has one escalation policy; a policy in use by a service cannot be deleted.
- `POST /incidents` raises an incident on a service; it needs a `From` header with the email of
  a user of the account. Whom it pages is decided by paging.py with the emulator's renderer.
- An incident belongs to the teams of the escalation policy it was raised on: `team_ids[]`
  filters incidents and log entries by that association, never by who was paged.
- `GET /log_entries` lists the account's log entries over `since`..`until` (default: the last
  30 days), 100 per page at most; `GET /incidents/{id}/log_entries` one incident's.
  `include[]=incidents` puts the full incident in each entry instead of a reference.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from oncall_testbed.emulator import layers, paging, queries
from oncall_testbed.emulator.errors import invalid
from oncall_testbed.emulator.routes import HTML_BASE, PagerDutyRoutes
from oncall_testbed.emulator.state import JSONDict

INCIDENT_MAX_RANGE = timedelta(days=183)  # "6 months"
DEFAULT_RANGE = timedelta(days=30)


class IncidentRoutes:
    """Handlers for services, incidents and log entries; shares the account and helpers of
    the main routes (references, identity, validation)."""

    def __init__(self, base: PagerDutyRoutes) -> None:
        self.base = base
        self.account = base.account

    def add_to(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/services", self.list_services)
        r.add_post("/services", self.create_service)
        r.add_get("/services/{id}", self.get_service)
        r.add_delete("/services/{id}", self.delete_service)
        r.add_get("/incidents", self.list_incidents)
        r.add_post("/incidents", self.create_incident)
        r.add_get("/incidents/{id}", self.get_incident)
        r.add_get("/incidents/{id}/log_entries", self.list_incident_log_entries)
        r.add_get("/log_entries", self.list_log_entries)

    # -- services --------------------------------------------------------------------------

    async def list_services(self, request: web.Request) -> web.Response:
        with self.account.lock:
            services = queries.matching_name(self.account.services.values(), request)
            team_ids = queries.ids(request, "team_ids")
            if team_ids:
                services = [s for s in services if team_ids & set(self._service_teams(s))]
            rendered = [self._service(request, s) for s in services]
            return queries.page(request, "services", rendered)

    async def create_service(self, request: web.Request) -> web.Response:
        body = await self.base._valid_body(request, "/services")
        sent = body["service"]
        if not sent.get("name"):
            raise invalid("service.name: required")  # the schema allows it out; PagerDuty not
        with self.account.lock:
            policy_id = sent["escalation_policy"]["id"]
            if policy_id not in self.account.escalation_policies:
                raise invalid(f"service.escalation_policy.id: no escalation policy {policy_id}")
            service = self.account.add(
                "services",
                {
                    "name": sent["name"],
                    "description": sent.get("description"),
                    "escalation_policy_id": policy_id,
                },
            )
            self.account.save()
            return web.json_response({"service": self._service(request, service)}, status=201)

    async def get_service(self, request: web.Request) -> web.Response:
        with self.account.lock:
            service = self.base._find("services", request.match_info["id"])
            return web.json_response({"service": self._service(request, service)})

    async def delete_service(self, request: web.Request) -> web.Response:
        with self.account.lock:
            service_id = request.match_info["id"]
            self.base._find("services", service_id)
            del self.account.services[service_id]
            self.account.save()
            return web.Response(status=204)

    def _service_teams(self, service: JSONDict) -> list[str]:
        policy = self.account.escalation_policies.get(service["escalation_policy_id"]) or {}
        return list(policy.get("teams") or [])

    def _service(self, request: web.Request, service: JSONDict) -> JSONDict:
        rendered: JSONDict = {
            **self.base._identity(request, "services", service, service["name"]),
            "name": service["name"],
            "status": "active",
            "escalation_policy": self.base._reference(
                request, "escalation_policies", service["escalation_policy_id"]
            ),
            "teams": [
                self.base._reference(request, "teams", t) for t in self._service_teams(service)
            ],
        }
        if service.get("description") is not None:
            rendered["description"] = service["description"]
        return rendered

    # -- incidents -------------------------------------------------------------------------

    async def create_incident(self, request: web.Request) -> web.Response:
        body = await self.base._valid_body(request, "/incidents")
        sent = body["incident"]
        with self.account.lock:
            requester = request.headers.get("From", "").strip().lower()
            if not any(u["email"].lower() == requester for u in self.account.users.values()):
                raise invalid("From: the header must be the email of a user of this account")
            service = self.account.services.get(sent["service"]["id"])
            if service is None:
                raise invalid(f"incident.service.id: no service {sent['service']['id']}")
            policy_id = (sent.get("escalation_policy") or {}).get("id") or service[
                "escalation_policy_id"
            ]
            if policy_id not in self.account.escalation_policies:
                raise invalid(f"incident.escalation_policy.id: no escalation policy {policy_id}")
            incident = paging.raise_incident(
                self.account,
                title=sent["title"],
                created_at=self.base.clock(),
                policy_id=policy_id,
                service_id=service["id"],
                urgency=sent.get("urgency") or "high",
                status="triggered",
            )
            self.account.save()
            return web.json_response({"incident": self._incident(request, incident)}, status=201)

    async def get_incident(self, request: web.Request) -> web.Response:
        with self.account.lock:
            incident = self.base._find("incidents", request.match_info["id"])
            return web.json_response({"incident": self._incident(request, incident)})

    async def list_incidents(self, request: web.Request) -> web.Response:
        with self.account.lock:
            incidents = list(self.account.incidents.values())
            if request.query.get("date_range") != "all":
                since, until = self._window(request, INCIDENT_MAX_RANGE)
                incidents = [
                    i for i in incidents if since <= layers.instant(i["created_at"]) < until
                ]
            filters = {
                "team_ids": queries.ids(request, "team_ids"),
                "service_id": queries.ids(request, "service_ids"),
                "urgency": queries.ids(request, "urgencies"),
                "status": queries.ids(request, "statuses"),
            }
            if filters["team_ids"]:
                incidents = [i for i in incidents if filters["team_ids"] & set(i["team_ids"])]
            for key in ("service_id", "urgency", "status"):
                if filters[key]:
                    incidents = [i for i in incidents if i[key] in filters[key]]
            incidents.sort(key=lambda i: layers.instant(i["created_at"]))
            rendered = [self._incident(request, i) for i in incidents]
            return queries.page(request, "incidents", rendered)

    def _incident(self, request: web.Request, incident: JSONDict) -> JSONDict:
        reference = self.base._reference
        rendered: JSONDict = {
            **self.base._identity(request, "incidents", incident, incident["title"]),
            "incident_number": incident["incident_number"],
            "title": incident["title"],
            "created_at": incident["created_at"],
            "updated_at": incident["created_at"],
            "status": incident["status"],
            "urgency": incident["urgency"],
            "escalation_policy": reference(
                request, "escalation_policies", incident["escalation_policy_id"]
            ),
            # The spec: "This list will be empty if the Incident.status is resolved."
            "assignments": []
            if incident["status"] == "resolved"
            else [
                {"at": incident["created_at"], "assignee": reference(request, "users", user_id)}
                for user_id in incident["assignee_ids"]
            ],
            "teams": [reference(request, "teams", t) for t in incident["team_ids"]],
        }
        if incident.get("service_id"):
            rendered["service"] = reference(request, "services", incident["service_id"])
        return rendered

    # -- log entries -----------------------------------------------------------------------

    async def list_log_entries(self, request: web.Request) -> web.Response:
        with self.account.lock:
            since, until = self._window(request, longest=None)
            team_ids = queries.ids(request, "team_ids")
            entries = [
                e
                for e in self.account.log_entries.values()
                if since <= layers.instant(e["created_at"]) < until
                and (
                    not team_ids
                    or team_ids & set(self.account.incidents[e["incident_id"]]["team_ids"])
                )
            ]
            return self._log_entries_page(request, entries)

    async def list_incident_log_entries(self, request: web.Request) -> web.Response:
        with self.account.lock:
            incident = self.base._find("incidents", request.match_info["id"])
            entries = [
                e for e in self.account.log_entries.values() if e["incident_id"] == incident["id"]
            ]
            since, until = (
                queries.query_instant(request, "since"),
                queries.query_instant(request, "until"),
            )
            entries = [
                e
                for e in entries
                if (since is None or since <= layers.instant(e["created_at"]))
                and (until is None or layers.instant(e["created_at"]) < until)
            ]
            return self._log_entries_page(request, entries)

    def _log_entries_page(self, request: web.Request, entries: list[JSONDict]) -> web.Response:
        include = set(request.query.getall("include[]", []))
        entries = sorted(entries, key=lambda e: layers.instant(e["created_at"]))
        rendered = [self._log_entry(request, e, include) for e in entries]
        return queries.page(request, "log_entries", rendered)

    def _log_entry(self, request: web.Request, entry: JSONDict, include: set[str]) -> JSONDict:
        reference = self.base._reference
        incident = self.account.incidents[entry["incident_id"]]
        summary = {
            "trigger_log_entry": "Triggered",
            "assign_log_entry": "Assigned",
            "notify_log_entry": "Notified",
        }[entry["type"]]
        rendered: JSONDict = {
            "id": entry["id"],
            "type": entry["type"],
            "summary": f"{summary} {incident['title']}",
            "self": f"{request.url.origin()}/log_entries/{entry['id']}",
            "html_url": f"{HTML_BASE}/log_entries/{entry['id']}",
            "created_at": entry["created_at"],
            "incident": self._incident(request, incident)
            if "incidents" in include
            else reference(request, "incidents", incident["id"]),
            "teams": [reference(request, "teams", t) for t in incident["team_ids"]],
        }
        if entry.get("service_id"):
            rendered["service"] = reference(request, "services", entry["service_id"])
        if entry["type"] == "notify_log_entry":
            rendered["user"] = reference(request, "users", entry["user_id"])
        if entry["type"] == "assign_log_entry":
            rendered["assignees"] = [
                reference(request, "users", user_id) for user_id in entry["assignee_ids"]
            ]
        return rendered

    # -- shared ----------------------------------------------------------------------------

    def _window(self, request: web.Request, longest: timedelta | None) -> tuple[datetime, datetime]:
        until = queries.query_instant(request, "until") or self.base.clock()
        return queries.window(
            request,
            default_since=until - DEFAULT_RANGE,
            default_until=until,
            longest=longest or timedelta.max,
        )
