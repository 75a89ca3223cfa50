"""A timer whose outcome the API server refuses to write keeps ticking: the write is kept for the
next tick instead of ending the timer (kopf's own behaviour; handlers/kopf_timers.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from kopf._cogs.clients.errors import APIConflictError
from kopf._core.engines import daemons

from oncall_operator.handlers.kopf_timers import (
    keep_timers_through_refused_writes,
    keeping_the_patch,
)


def test_a_refused_write_is_kept_for_the_next_tick_and_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def refused(**_: Any) -> tuple[str | None, Any]:
        raise APIConflictError("the object has been modified", status=409, headers={})

    patch = {"status": {"observedGeneration": 2}}
    logger = logging.getLogger("test.kopf_timers")
    with caplog.at_level(logging.WARNING, logger="test.kopf_timers"):
        result = asyncio.run(keeping_the_patch(refused)(logger=logger, patch=patch))
    assert result == (None, patch)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "409: the object has been modified" in caplog.records[0].getMessage()


def test_a_write_that_goes_through_is_untouched() -> None:
    async def applied(**_: Any) -> tuple[str | None, Any]:
        return "42", None

    assert asyncio.run(keeping_the_patch(applied)(logger=logging.getLogger(), patch={})) == (
        "42",
        None,
    )


def test_installed_once_in_kopfs_daemons_engine() -> None:
    original = getattr(daemons, "application")  # noqa: B009 - kopf does not export it
    try:
        assert keep_timers_through_refused_writes() is True
        installed = getattr(daemons, "application")  # noqa: B009
        assert keep_timers_through_refused_writes() is True
        assert getattr(daemons, "application") is installed  # noqa: B009 - not wrapped twice
        assert installed.patches is original.patches
    finally:
        setattr(daemons, "application", original)  # noqa: B010
