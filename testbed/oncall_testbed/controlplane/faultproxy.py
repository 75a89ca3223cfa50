"""A misbehaving API server: a TLS proxy in front of the real kube-apiserver that a client's
kubeconfig points at instead.

It passes every request through with the client's own credentials, except that it

- answers 409 Conflict (a Status as the API server writes it) to a share of the writes to
  oncall.dev objects, their status included, that carry a resourceVersion precondition (a PUT or
  PATCH whose body names metadata.resourceVersion, a JSON patch that tests it), without passing
  them on: what a client sees when another writer changed the object between its read and its
  write. A merge patch without one is never refused so by kube-apiserver (it retries the write
  itself), so the proxy passes those on too unless `unconditional` says otherwise;
- ends watch streams (`?watch=true`) at a random moment: the chunked response simply ends, as
  when the API server's watch times out or the connection to it is rebalanced.

    with FaultProxy(plane.server_url, plane.ca_file, plane.pki.serving_cert,
                    plane.pki.serving_key, conflict_rate=0.3, watch_seconds=(1.0, 5.0)) as proxy:
        proxy.write_kubeconfig(plane.operator_kubeconfig, tmp / "operator-via-proxy.kubeconfig")

It serves with the control plane's own serving certificate (valid for 127.0.0.1), so the
kubeconfig keeps the control plane's CA. `conflicts` and `watches_cut` count what it did.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import threading
from pathlib import Path
from types import TracebackType

import aiohttp
import yaml
from aiohttp import web

from oncall_testbed.loopthread import LoopThread

GROUP_PATH = "/apis/oncall.dev/"
WRITES = frozenset({"PATCH", "PUT"})
# Hop-by-hop, or describing a body the proxy re-frames: never copied across.
_NOT_FORWARDED = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "accept-encoding",
        "upgrade",
    }
)


class FaultProxy:
    """The proxy, serving on 127.0.0.1 (any free port) from a thread of its own."""

    def __init__(
        self,
        upstream_url: str,
        ca_file: Path,
        cert_file: Path,
        key_file: Path,
        *,
        conflict_rate: float = 0.0,
        watch_seconds: tuple[float, float] | None = None,
        unconditional: bool = False,
        seed: int | None = None,
    ) -> None:
        """`conflict_rate`: the share of oncall.dev writes with a resourceVersion precondition
        answered 409 (`unconditional`: of every oncall.dev PATCH/PUT, which kube-apiserver
        itself would not refuse so);
        `watch_seconds`: (shortest, longest) time a watch stream lives before it is ended
        (None: watches are left alone)."""
        if not 0.0 <= conflict_rate <= 1.0:
            raise ValueError("conflict_rate: must be between 0 and 1")
        if watch_seconds is not None and not 0 < watch_seconds[0] <= watch_seconds[1]:
            raise ValueError("watch_seconds: must be (shortest, longest), both above 0")
        self.upstream_url = upstream_url.rstrip("/")
        self._ca_file = ca_file
        self._cert_file = cert_file
        self._key_file = key_file
        self.conflict_rate = conflict_rate
        self.watch_seconds = watch_seconds
        self.unconditional = unconditional
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not security
        self._lock = threading.Lock()
        self.conflicts: list[str] = []  # "METHOD path" of each request answered 409
        self.watches_cut: list[str] = []  # path of each watch ended early
        self._serving = LoopThread("apiserver-fault-proxy", "the fault proxy")
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port: int | None = None

    def __repr__(self) -> str:
        return f"FaultProxy(upstream_url={self.upstream_url!r}, port={self._port!r})"

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("the proxy is not running")
        return f"https://127.0.0.1:{self._port}"

    def write_kubeconfig(self, source: Path, target: Path) -> Path:
        """`source`'s kubeconfig (same identity, same CA) with its server set to the proxy."""
        config = yaml.safe_load(source.read_text())
        for cluster in config.get("clusters") or []:
            cluster["cluster"]["server"] = self.url
        target.touch(mode=0o600, exist_ok=True)
        target.chmod(0o600)  # it holds the identity's bearer token
        target.write_text(yaml.safe_dump(config, sort_keys=False))
        return target

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._serving.start(self._serve)
        return self

    def stop(self) -> None:
        self._serving.stop(self._shutdown)
        self._port = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def _serve(self) -> None:
        upstream_tls = ssl.create_default_context(cafile=str(self._ca_file))
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=upstream_tls),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            auto_decompress=False,
        )
        serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        serving.load_cert_chain(str(self._cert_file), str(self._key_file))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=serving)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # -- the request path ------------------------------------------------------------------

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if (
            request.method in WRITES
            and request.path.startswith(GROUP_PATH)
            and (self.unconditional or _has_precondition(body))
            and self._roll()
        ):
            with self._lock:
                self.conflicts.append(f"{request.method} {request.path}")
            return _conflict(request.path)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        is_watch = request.query.get("watch") in ("true", "1")
        async with self._session.request(
            request.method,
            self.upstream_url + request.path_qs,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for name, value in upstream.headers.items():
                if name.lower() not in _NOT_FORWARDED:
                    response.headers.add(name, value)
            await response.prepare(request)
            lifetime = self._watch_lifetime() if is_watch else None
            if await _copy(upstream, response, lifetime):
                with self._lock:
                    self.watches_cut.append(request.path)
            await response.write_eof()
            return response

    def _roll(self) -> bool:
        with self._lock:
            return self._random.random() < self.conflict_rate

    def _watch_lifetime(self) -> float | None:
        if self.watch_seconds is None:
            return None
        with self._lock:
            return self._random.uniform(*self.watch_seconds)


async def _copy(
    upstream: aiohttp.ClientResponse, response: web.StreamResponse, lifetime: float | None
) -> bool:
    """Copy the upstream body as it comes; True when `lifetime` ended it first."""
    loop = asyncio.get_running_loop()
    deadline = None if lifetime is None else loop.time() + lifetime
    while True:
        remaining = None if deadline is None else deadline - loop.time()
        if remaining is not None and remaining <= 0:
            return True
        try:
            chunk = await asyncio.wait_for(upstream.content.readany(), remaining)
        except TimeoutError:
            return True
        if not chunk:
            return False
        await response.write(chunk)


def _has_precondition(body: bytes) -> bool:
    """Whether a write names the resourceVersion it was based on (so it can be out of date)."""
    try:
        parsed = json.loads(body or b"null")
    except ValueError:
        return False
    if isinstance(parsed, list):  # a JSON patch: a test of /metadata/resourceVersion
        return any(
            isinstance(op, dict)
            and op.get("op") == "test"
            and op.get("path") == "/metadata/resourceVersion"
            for op in parsed
        )
    metadata = parsed.get("metadata") if isinstance(parsed, dict) else None
    return isinstance(metadata, dict) and "resourceVersion" in metadata


def _conflict(path: str) -> web.Response:
    """409 as kube-apiserver words it for a write based on an old resourceVersion."""
    parts = path.rstrip("/").split("/")
    # /apis/oncall.dev/v1alpha1/namespaces/<ns>/<plural>/<name>[/status]
    plural, name = (parts[6], parts[7]) if len(parts) >= 8 else ("", "")
    message = (
        f'Operation cannot be fulfilled on {plural}.oncall.dev "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Conflict",
        "details": {"name": name, "group": "oncall.dev", "kind": plural},
        "code": 409,
    }
    return web.Response(status=409, text=json.dumps(status), content_type="application/json")
