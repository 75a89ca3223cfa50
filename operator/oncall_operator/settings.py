"""Operator configuration read once from the environment (the token itself stays with the client)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DRIFT_INTERVAL_SECONDS = 300.0
DEFAULT_REFERENCE_POLL_SECONDS = 3.0


class SettingsError(ValueError):
    """A configuration variable has a value the operator cannot use."""


@dataclass(frozen=True)
class OperatorSettings:
    watch_namespaces: tuple[str, ...]  # empty: every namespace
    drift_interval_seconds: float
    reference_poll_seconds: float
    metrics_port: int
    liveness_port: int
    worker_limit: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> OperatorSettings:
        namespaces = tuple(
            ns.strip() for ns in environ.get("ONCALL_WATCH_NAMESPACES", "").split(",") if ns.strip()
        )
        return cls(
            watch_namespaces=namespaces,
            drift_interval_seconds=_positive_float(
                environ, "ONCALL_DRIFT_INTERVAL_SECONDS", DEFAULT_DRIFT_INTERVAL_SECONDS
            ),
            reference_poll_seconds=_positive_float(
                environ, "ONCALL_REFERENCE_POLL_SECONDS", DEFAULT_REFERENCE_POLL_SECONDS
            ),
            metrics_port=_port(environ, "ONCALL_METRICS_PORT", 9090),
            liveness_port=_port(environ, "ONCALL_LIVENESS_PORT", 8080),
            worker_limit=int(_positive_float(environ, "ONCALL_WORKER_LIMIT", 8)),
        )


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be greater than 0")
    return value


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise SettingsError(f"{name}={raw!r} is not a TCP port (0-65535)")
    return int(raw)
