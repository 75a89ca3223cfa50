"""An asyncio server on a thread of its own, started and stopped from synchronous code (tests,
the CLIs): the PagerDuty emulator and the API server's fault proxy both run this way."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0


class LoopThread:
    """One event loop in one daemon thread; `what` names the server in errors."""

    def __init__(self, name: str, what: str) -> None:
        self._name = name
        self._what = what
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, serve: Callable[[], Awaitable[None]]) -> None:
        """Run `serve()` on a new loop in a new thread and return once it has returned (the
        server listens), raising what it raised; the loop then runs until `stop`."""
        if self._thread is not None:
            raise RuntimeError(f"{self._what} is already running")
        started = threading.Event()
        failure: list[BaseException] = []
        loop = self._loop = asyncio.new_event_loop()

        async def serving() -> None:
            await serve()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(serving())
            except BaseException as error:  # reported to start()'s caller
                failure.append(error)
                started.set()
                return
            started.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        if not started.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"{self._what} did not start in time")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]

    def stop(self, shutdown: Callable[[], Awaitable[None]]) -> None:
        """Run `shutdown()` on the loop, then stop the loop and its thread; nothing when not
        running."""
        if self._loop is None or self._thread is None:
            return
        loop = self._loop

        async def shutting_down() -> None:
            await shutdown()

        asyncio.run_coroutine_threadsafe(shutting_down(), loop).result(STOP_TIMEOUT_SECONDS)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=STOP_TIMEOUT_SECONDS)
        loop.close()
        self._loop = self._thread = None
