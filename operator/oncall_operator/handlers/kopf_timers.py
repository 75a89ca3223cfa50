"""Timers that outlive a refused write.

kopf applies a timer's outcome (our status) with a patch after every tick, and when the API
server refuses that patch (409 Conflict, 422, a 5xx after kopf's own retries) the exception ends
the timer for good: the object's drift and reference checks stop until the operator restarts
(found with testbed's API-server fault proxy). kopf's daemons engine calls
`application.patch_and_check` for this and nothing else; `keep_timers_through_refused_writes`
wraps that one call so a refused write is logged and kept, and written with the next tick's
outcome instead. kopf does not export these names: if they are not where this expects them, it
changes nothing and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from kopf._cogs.clients.errors import APIError
from kopf._core.engines import daemons

log = logging.getLogger(__name__)

PatchAndCheck = Callable[..., Coroutine[Any, Any, tuple[str | None, Any]]]


class _Application:
    """kopf's `application` module as the daemons engine sees it, with `patch_and_check` kept."""

    def __init__(self, module: Any, patch_and_check: PatchAndCheck) -> None:
        self._module = module
        self.patch_and_check = patch_and_check

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def keeping_the_patch(original: PatchAndCheck) -> PatchAndCheck:
    """`original`, except that a patch the API server refused is returned as still to apply."""

    async def patch_and_check(**kwargs: Any) -> tuple[str | None, Any]:
        try:
            return await original(**kwargs)
        except APIError as error:
            kwargs["logger"].warning(
                "The API server refused the write of a timer's outcome (%s: %s); it is written "
                "again with the next tick's",
                error.status,
                error.args[0] if error.args else type(error).__name__,
            )
            return None, kwargs["patch"]

    return patch_and_check


def keep_timers_through_refused_writes() -> bool:
    """Install the wrapper once; False (and a warning) when kopf is not laid out as expected."""
    application = getattr(daemons, "application", None)
    if isinstance(application, _Application):
        return True
    original = getattr(application, "patch_and_check", None)
    if original is None:
        log.warning(
            "kopf's daemons engine has no application.patch_and_check: a timer whose "
            "write is refused stops until the operator restarts"
        )
        return False
    setattr(daemons, "application", _Application(application, keeping_the_patch(original)))  # noqa: B010 - kopf does not export it
    return True
