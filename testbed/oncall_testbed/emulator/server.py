"""Run the emulator: an aiohttp HTTPS server on its own event loop in a background thread.

with EmulatorServer(token="t", users=[{"name": "Ana", "email": "ana@example.com"}]) as pd:
    client = RestApiV2Client("t", base_url=pd.base_url, verify=str(pd.ca_file))
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from oncall_testbed.emulator.admin import AdminRoutes
from oncall_testbed.emulator.control import (
    DEFAULT_ONCALLS_RATE_LIMIT,
    DEFAULT_RATE_LIMIT,
    Controls,
    ScriptedResponse,
    middleware,
)
from oncall_testbed.emulator.incidents import IncidentRoutes
from oncall_testbed.emulator.paging import seed_incidents
from oncall_testbed.emulator.routes import PagerDutyRoutes, now
from oncall_testbed.emulator.state import Account, JSONDict
from oncall_testbed.emulator.tls import ServerCredentials, make_credentials
from oncall_testbed.emulator.validation import BodyValidator
from oncall_testbed.loopthread import LoopThread


class EmulatorServer:
    """A PagerDuty REST API v2 emulator serving HTTPS on `host:port` (port 0: any free port)."""

    def __init__(
        self,
        token: str,
        users: list[JSONDict] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: str | Path | None = None,
        ca_file: str | Path | None = None,
        rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
        oncalls_rate_limit_per_minute: int = DEFAULT_ONCALLS_RATE_LIMIT,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        spec_file: Path | None = None,
        tls_names: Sequence[str] = (),
        clock: Callable[[], datetime] = now,
        advanced_permissions: bool = True,
    ) -> None:
        if not token:
            raise ValueError("token: must not be empty")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key: give both or neither")
        self._token = self._initial_token = token
        self.host = host
        self._requested_port = port
        self.account = Account(state_file=Path(state_file) if state_file else None)
        self.account.load()
        if users:
            self.account.seed_users(users)
        self._initial_emails = {str(u.get("email", "")).lower() for u in users or []}
        self.controls = Controls(token, rate_limit_per_minute, oncalls_rate_limit_per_minute)
        self._validator = BodyValidator(spec_file) if spec_file else BodyValidator()
        self._clock = clock
        self._advanced_permissions = advanced_permissions
        self._tls_names = tuple(tls_names)
        self._ca_file = Path(ca_file) if ca_file else None
        self._given_tls = (Path(tls_cert), Path(tls_key)) if tls_cert and tls_key else None
        self._workdir: Path | None = None
        self._credentials: ServerCredentials | None = None
        self._serving = LoopThread("pagerduty-emulator", "the emulator")
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def __repr__(self) -> str:  # never show the token
        return f"EmulatorServer(host={self.host!r}, port={self._port!r})"

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        """Start serving; returns once the server is listening."""
        if self._serving.running:
            raise RuntimeError("the emulator is already running")
        self._credentials = self._make_credentials()
        self._serving.start(self._serve)
        return self

    async def _serve(self) -> None:
        assert self._credentials is not None
        app = web.Application(middlewares=[middleware(self.controls)])
        routes = PagerDutyRoutes(
            self.account, self._validator, self._clock, self._advanced_permissions
        )
        routes.add_to(app)
        IncidentRoutes(routes).add_to(app)
        AdminRoutes(self.account, self.controls).add_to(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            self.host,
            self._requested_port,
            ssl_context=self._credentials.server_context(),
        )
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        """Stop serving and free the port; the state file (if any) stays."""
        if not self._serving.running:
            return
        self._serving.stop(self._shutdown)
        self._runner = None
        self._port = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _make_credentials(self) -> ServerCredentials:
        if self._given_tls is not None:
            cert, key = self._given_tls
            return ServerCredentials(ca_file=self._ca_file or cert, cert_file=cert, key_file=key)
        self._workdir = Path(tempfile.mkdtemp(prefix="pagerduty-emulator-"))
        return make_credentials(self._workdir, self._ca_file, self._tls_names)

    # -- where to reach it -----------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_file(self) -> Path:
        if self._credentials is None:
            raise RuntimeError("the emulator is not running")
        return self._credentials.ca_file

    @property
    def token(self) -> str:
        return self._token

    # -- admin (the same things as the /_emulator/ endpoints) --------------------------------

    def seed_users(self, users: list[JSONDict]) -> list[JSONDict]:
        with self.account.lock:
            return [dict(u) for u in self.account.seed_users(users)]

    def seed_incidents(self, incidents: list[JSONDict]) -> list[JSONDict]:
        """Raise incidents on escalation policies at given times (see paging.seed_incidents)."""
        with self.account.lock:
            return [dict(i) for i in seed_incidents(self.account, incidents)]

    def requests(self) -> list[dict[str, Any]]:
        return self.controls.requests()

    def clear_requests(self) -> None:
        self.controls.clear_requests()

    def early_requests(self) -> list[dict[str, Any]]:
        """Requests that came before the `ratelimit-reset` of a 429 (see control.py)."""
        return self.controls.early_requests()

    def set_faults(
        self,
        error_rate: float = 0.0,
        latency_seconds: float = 0.0,
        error_status: int = 500,
        slow_rate: float = 0.0,
        slow_seconds: float = 0.0,
        drop_rate: float = 0.0,
    ) -> None:
        """See `Controls.set_faults`; no argument: no faults."""
        self.controls.set_faults(
            error_rate, latency_seconds, error_status, slow_rate, slow_seconds, drop_rate
        )

    def script_response(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        script = ScriptedResponse(method.upper(), path, status, body, headers, times)
        self.controls.script_response(script)

    def set_rate_limit(
        self, n: int, oncalls: int | None = None, window_seconds: float = 60.0
    ) -> None:
        """Requests per minute per key, and (when given) the tighter limit of GET /oncalls;
        `window_seconds` shortens the minute they are counted over (a test's, not PagerDuty's)."""
        self.controls.set_rate_limit(n, oncalls, window_seconds)

    def set_token(self, token: str) -> None:
        """Accept only `token` from now on: the old one is refused with 401 (a rotated key)."""
        self.controls.set_token(token)
        self._token = token

    def reset(self, *, initial_users_only: bool = False) -> None:
        """Wipe everything but the users, the request log, faults, scripts; keep users (only
        those the server was made with, when `initial_users_only`: a test seeding more users
        leaves none behind for the next).

        The rate limit and the token go back to the ones the server was made with.
        """
        self.account.reset(self._initial_emails if initial_users_only else None)
        self.controls.reset()
        self._token = self._initial_token
