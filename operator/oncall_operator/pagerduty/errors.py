"""The PagerDuty client's own error types: what went wrong, never the token."""

from __future__ import annotations


class PagerDutyError(Exception):
    """A PagerDuty call failed. The message names the method and path, never a credential."""

    def __init__(
        self, message: str, *, method: str = "", path: str = "", status: int | None = None
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{message}")


class RateLimited(PagerDutyError):
    """PagerDuty answered 429 on every allowed attempt; try again after `reset_seconds`."""

    def __init__(
        self,
        message: str,
        *,
        reset_seconds: float,
        method: str = "",
        path: str = "",
        status: int | None = 429,
    ) -> None:
        self.reset_seconds = reset_seconds
        super().__init__(message, method=method, path=path, status=status)


class Invalid(PagerDutyError):
    """PagerDuty refused the request as invalid (400); `errors` is PagerDuty's own list."""

    def __init__(
        self,
        message: str,
        *,
        errors: list[str],
        method: str = "",
        path: str = "",
        status: int | None = 400,
    ) -> None:
        self.errors = errors
        detail = f"{message}: {'; '.join(errors)}" if errors else message
        super().__init__(detail, method=method, path=path, status=status)


class NotFound(PagerDutyError):
    """The object does not exist (404)."""


class InUse(PagerDutyError):
    """The object cannot be deleted or changed while other objects use it."""


class Unauthorized(PagerDutyError):
    """The token was refused (401) or lacks the permission (403)."""


class Forbidden(Unauthorized):
    """The token is valid but may not do this (403)."""


class Unavailable(PagerDutyError):
    """PagerDuty could not be reached or answered 5xx on every allowed attempt."""
