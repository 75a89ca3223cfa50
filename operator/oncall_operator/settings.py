"""Every setting of the operator, typed, in one place: read from the environment by pydantic-settings.

`OperatorSettings` (ONCALL_*) shapes the operator; `PagerDutySettings` (PAGERDUTY_*) reaches the
account. Both are read once at start (the token file, PAGERDUTY_API_TOKEN_FILE, is re-read by the
client whenever it changes). A bad value stops the operator with a `SettingsError` that
names the variable and the value (never the token's).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DRIFT_INTERVAL_SECONDS = 300.0
DEFAULT_REFERENCE_POLL_SECONDS = 3.0
DEFAULT_READ_BUDGET_PER_MINUTE = 60
DEFAULT_API_URL = "https://api.pagerduty.com"
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_RATE_LIMIT = 900  # requests per minute; PagerDuty allows 960 for the whole account

Port = Annotated[int, Field(ge=0, le=65535)]


class SettingsError(ValueError):
    """A configuration variable has a value the operator cannot use."""


class _EnvironmentSettings(BaseSettings):
    """Settings read from prefixed environment variables; errors name the variable."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=True)
    ENV_PREFIX: ClassVar[str] = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings in `environ` (default: the process environment); blank values are unset."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = environ.get(cls.ENV_PREFIX + name.upper())
            if raw is not None and raw.strip() != "":
                values[name] = raw.strip()
        try:
            # model_validate, not the constructor: only `environ` counts, never os.environ behind it.
            return cls.model_validate(values)
        except ValidationError as error:
            raise SettingsError(cls._explain(error, values)) from None

    @classmethod
    def _explain(cls, error: ValidationError, values: Mapping[str, Any]) -> str:
        messages = []
        for problem in error.errors(include_url=False, include_input=False):
            field = str(problem["loc"][0]) if problem["loc"] else ""
            variable = cls.ENV_PREFIX + field.upper()
            shown = "<hidden>" if "token" in field else repr(values.get(field))
            reason = problem["msg"].removeprefix("Value error, ")
            messages.append(f"{variable}={shown} {_readable(problem['type'], reason)}")
        return "; ".join(messages)


def _readable(error_type: str, reason: str) -> str:
    if error_type in {"float_parsing", "int_parsing", "int_from_float"}:
        return "is not a number" if error_type == "float_parsing" else "is not a whole number"
    if error_type == "greater_than":
        return "must be greater than 0"
    return reason[0].lower() + reason[1:] if reason else "is not valid"


class OperatorSettings(_EnvironmentSettings):
    """ONCALL_*: what the operator watches, how often it looks again, where it serves health."""

    ENV_PREFIX: ClassVar[str] = "ONCALL_"

    watch_namespaces: tuple[str, ...] = ()  # empty: every namespace
    drift_interval_seconds: float = Field(DEFAULT_DRIFT_INTERVAL_SECONDS, gt=0)
    reference_poll_seconds: float = Field(DEFAULT_REFERENCE_POLL_SECONDS, gt=0)
    metrics_port: Port = 9090
    liveness_port: Port = 8080
    worker_limit: int = Field(8, gt=0)
    # PagerDuty reads per minute the operator may use at rest (the drift sweep): ~6% of the
    # account's 960. When the objects outgrow it, the sweep takes longer than the drift interval.
    read_budget_per_minute: int = Field(DEFAULT_READ_BUDGET_PER_MINUTE, gt=0)
    # High availability: with a peering name, replicas take turns through Kopf peering (the
    # oldest live replica works, the others wait); empty: standalone, one replica only.
    peering_name: str | None = None
    # A replica killed without a goodbye is taken over this long after its last keep-alive.
    peering_lifetime_seconds: int = Field(15, ge=5, le=600)

    @field_validator("watch_namespaces", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(ns.strip() for ns in value.split(",") if ns.strip())
        return value

    @field_validator("metrics_port", "liveness_port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> Any:
        if isinstance(value, str) and not (value.isdigit() and int(value) <= 65535):
            raise ValueError("is not a TCP port (0-65535)")
        return value


class PagerDutySettings(_EnvironmentSettings):
    """PAGERDUTY_*: the account's API, the token, and the share of its rate limit the operator may use."""

    ENV_PREFIX: ClassVar[str] = "PAGERDUTY_"

    api_token: SecretStr | None = None
    # A file holding the token (a mounted Secret); the client re-reads it when it changes.
    api_token_file: Path | None = None
    api_url: str = DEFAULT_API_URL
    ca_file: Path | None = None
    rate_limit: int = DEFAULT_RATE_LIMIT
    # Seconds a request may take before the client gives up on its answer.
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @field_validator("timeout_seconds", mode="before")
    @classmethod
    def _positive_seconds(cls, value: Any) -> Any:
        try:
            seconds = float(str(value))
        except ValueError:
            seconds = 0.0
        if not 0 < seconds <= 300:
            raise ValueError("is not a number of seconds between 0 and 300")
        return value

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _whole_number_at_least_two(cls, value: Any) -> Any:
        text = str(value)
        if not (text.isdigit() and int(text) >= 2):
            raise ValueError(
                "is not a whole number of requests per minute (at least 2; PagerDuty allows 960)"
            )
        return value

    def token(self) -> str | Path:
        """The API token, or the file that holds it; a `SettingsError` naming the variables when
        there is neither or both."""
        token = self.api_token.get_secret_value().strip() if self.api_token else ""
        if token and self.api_token_file:
            raise SettingsError(
                "PAGERDUTY_API_TOKEN and PAGERDUTY_API_TOKEN_FILE are both set: "
                "give the token one way only (in Kubernetes, the file from a mounted Secret)"
            )
        if self.api_token_file:
            return self.api_token_file
        if not token:
            raise SettingsError(
                "PAGERDUTY_API_TOKEN is not set: give the operator a PagerDuty REST API token "
                "(in Kubernetes, PAGERDUTY_API_TOKEN_FILE naming a file of a mounted Secret)"
            )
        return token
