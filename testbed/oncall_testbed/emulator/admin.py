"""The emulator's own endpoints under /_emulator/: seed, inspect and misbehave on purpose.

    GET    /_emulator/requests     the request log: [{method, path, status, time}] (status null:
                                   the connection was closed before an answer)
    DELETE /_emulator/requests     clear it, and the early requests
    GET    /_emulator/early_requests  requests that came before the ratelimit-reset of a 429
                                   their key was answered: [{method, path, time, early_seconds}]
    POST   /_emulator/users        {"users": [{name, email, time_zone}]}
    POST   /_emulator/incidents    {"incidents": [{escalation_policy_id, created_at, urgency, title,
                                   status}]}: raised on the policy at created_at; the emulator
                                   decides whom its first rule notifies (paging.py)
    PUT    /_emulator/faults       {"error_rate", "latency_seconds", "error_status", "slow_rate",
                                   "slow_seconds", "drop_rate"} (see Controls.set_faults)
    POST   /_emulator/scripts      {"method", "path", "status", "body", "headers", "times"}
    PUT    /_emulator/rate_limit   {"requests_per_minute": N, "oncalls_requests_per_minute": M,
                                   "window_seconds": S (60, PagerDuty's minute, unless given)}
    PUT    /_emulator/token        {"token": "..."}: accept only this token from now on (rotation)
    POST   /_emulator/reset        wipe everything but the users, and the log, faults and
                                   scripts, restore the rate limit and token; keep users
They need the same token as the PagerDuty endpoints.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from oncall_testbed.emulator.control import Controls, ScriptedResponse
from oncall_testbed.emulator.errors import invalid
from oncall_testbed.emulator.paging import seed_incidents
from oncall_testbed.emulator.state import Account


class AdminRoutes:
    def __init__(self, account: Account, controls: Controls) -> None:
        self.account = account
        self.controls = controls

    def add_to(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/_emulator/requests", self.get_requests)
        r.add_delete("/_emulator/requests", self.clear_requests)
        r.add_get("/_emulator/early_requests", self.get_early_requests)
        r.add_post("/_emulator/users", self.seed_users)
        r.add_post("/_emulator/incidents", self.seed_incidents)
        r.add_put("/_emulator/faults", self.set_faults)
        r.add_post("/_emulator/scripts", self.script_response)
        r.add_put("/_emulator/rate_limit", self.set_rate_limit)
        r.add_put("/_emulator/token", self.set_token)
        r.add_post("/_emulator/reset", self.reset)

    async def get_requests(self, request: web.Request) -> web.Response:
        return web.json_response(self.controls.requests())

    async def get_early_requests(self, request: web.Request) -> web.Response:
        return web.json_response(self.controls.early_requests())

    async def clear_requests(self, request: web.Request) -> web.Response:
        self.controls.clear_requests()
        return web.Response(status=204)

    async def seed_users(self, request: web.Request) -> web.Response:
        users = (await _body(request)).get("users")
        with self.account.lock:
            seeded = _checked(lambda: self.account.seed_users(_list(users, "users")))
        return web.json_response({"users": seeded}, status=201)

    async def seed_incidents(self, request: web.Request) -> web.Response:
        incidents = (await _body(request)).get("incidents")
        with self.account.lock:
            seeded = _checked(lambda: seed_incidents(self.account, _list(incidents, "incidents")))
        return web.json_response({"incidents": seeded}, status=201)

    async def set_faults(self, request: web.Request) -> web.Response:
        body = await _body(request)
        _checked(
            lambda: self.controls.set_faults(
                error_rate=float(body.get("error_rate", 0.0)),
                latency_seconds=float(body.get("latency_seconds", 0.0)),
                error_status=int(body.get("error_status", 500)),
                slow_rate=float(body.get("slow_rate", 0.0)),
                slow_seconds=float(body.get("slow_seconds", 0.0)),
                drop_rate=float(body.get("drop_rate", 0.0)),
            )
        )
        return web.Response(status=204)

    async def script_response(self, request: web.Request) -> web.Response:
        body = await _body(request)
        _checked(
            lambda: self.controls.script_response(
                ScriptedResponse(
                    method=str(body["method"]).upper(),
                    path=str(body["path"]),
                    status=int(body["status"]),
                    body=body.get("body"),
                    headers={str(k): str(v) for k, v in (body.get("headers") or {}).items()},
                    times=int(body.get("times", 1)),
                )
            )
        )
        return web.Response(status=204)

    async def set_rate_limit(self, request: web.Request) -> web.Response:
        body = await _body(request)
        oncalls = body.get("oncalls_requests_per_minute")
        _checked(
            lambda: self.controls.set_rate_limit(
                int(body["requests_per_minute"]),
                None if oncalls is None else int(oncalls),
                float(body.get("window_seconds", 60.0)),
            )
        )
        return web.Response(status=204)

    async def set_token(self, request: web.Request) -> web.Response:
        body = await _body(request)
        _checked(lambda: self.controls.set_token(str(body["token"])))
        return web.Response(status=204)

    async def reset(self, request: web.Request) -> web.Response:
        self.account.reset()
        self.controls.reset()
        return web.Response(status=204)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid("body: expected a JSON object")
    return body


def _list(value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError(f"{name}: expected a list of objects")
    return value


def _checked(action: Any) -> Any:
    """Run `action`, turning bad input (ValueError, KeyError, TypeError) into a 400."""
    try:
        return action()
    except KeyError as error:
        raise invalid(f"{error.args[0]}: required") from None
    except (ValueError, TypeError) as error:
        raise invalid(str(error)) from None
