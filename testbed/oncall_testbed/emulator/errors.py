"""PagerDuty's error responses: `{"error": {"code", "message", "errors"}}` with the matching status."""

from __future__ import annotations

from typing import Any

from aiohttp import web

# PagerDuty's error codes (developer docs, "Errors").
INVALID_INPUT = 2001
AUTHENTICATION_FAILED = 2006
RATE_LIMITED = 2020
NOT_FOUND = 2100


class ApiError(Exception):
    """Raised by a handler; the error middleware turns it into PagerDuty's error body."""

    def __init__(
        self, status: int, code: int | None, message: str, errors: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if self.code is not None:
            error["code"] = self.code
        if self.errors is not None:
            error["errors"] = self.errors
        return {"error": error}

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response(self.body(), status=self.status, headers=headers)


def invalid(*errors: str) -> ApiError:
    """400 Invalid Input Provided, with one line per problem naming the field."""
    return ApiError(400, INVALID_INPUT, "Invalid Input Provided", list(errors))


def not_found() -> ApiError:
    return ApiError(404, NOT_FOUND, "Not Found")
