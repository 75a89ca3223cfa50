"""Check emulator responses against PagerDuty's response schemas (the corrected spec subset).

Success responses are validated by openapi-core against the operation's declared response;
error responses against the error body every PagerDuty error shares. The emulator's own
/_emulator/ endpoints are not part of PagerDuty's API and are not checked.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx2
from jsonschema_path import SchemaPath
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.response.validators import V30ResponseDataValidator
from openapi_schema_validator import OAS30Validator

from oncall_testbed.emulator.validation import SPEC_BASE_URL, corrected_spec, load_subset


class ResponseMismatch(AssertionError):
    """An emulator response that PagerDuty's spec does not allow."""


@dataclass
class _Request:
    method: str
    path: str
    host_url: str = SPEC_BASE_URL
    body: bytes = b""
    content_type: str = "application/json"
    parameters: RequestParameters = field(default_factory=RequestParameters)

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass
class _Response:
    status_code: int
    data: bytes
    content_type: str
    headers: Mapping[str, str]


@cache
def _spec() -> dict[str, Any]:
    return corrected_spec(load_subset(), for_requests=False)


@cache
def _validator() -> V30ResponseDataValidator:
    return V30ResponseDataValidator(SchemaPath.from_dict(_spec()), base_url=SPEC_BASE_URL)


@cache
def _error_validator() -> OAS30Validator:
    schema = _spec()["components"]["responses"]["ArgumentError"]["content"]["application/json"]
    ref = schema["schema"]["$ref"].removeprefix("#/components/responses/").split("/")[0]
    error_schema = _spec()["components"]["responses"][ref]["content"]["application/json"]["schema"]
    return OAS30Validator(error_schema)


def check_response(method: str, path: str, status: int, body: bytes, content_type: str) -> None:
    """Raise ResponseMismatch if PagerDuty's spec does not allow this response."""
    if path.startswith("/_emulator/"):
        return
    if status >= 400:
        document = json.loads(body)
        errors = [e.message for e in _error_validator().iter_errors(document)]
        if errors or "error" not in document:
            raise ResponseMismatch(f"{method} {path} -> {status}: not an error body: {errors}")
        return
    request = _Request(method.lower(), path)
    response = _Response(
        status, body, content_type.split(";", maxsplit=1)[0] or "application/json", {}
    )
    problems = []
    for error in _validator().iter_errors(request, response):
        details = getattr(error.__cause__, "schema_errors", None) or [error]
        problems += [f"{list(getattr(d, 'absolute_path', []))}: {d}"[:500] for d in details]
    if problems:
        raise ResponseMismatch(f"{method} {path} -> {status}:\n" + "\n".join(problems[:10]))


def check_httpx_response(response: httpx2.Response) -> None:
    """check_response for an httpx2 (or pagerduty client) response; usable as an event hook."""
    response.read()
    check_response(
        response.request.method,
        urlsplit(str(response.request.url)).path,
        response.status_code,
        response.content,
        response.headers.get("content-type", ""),
    )


def validating_client(base_url: str, token: str, ca_file: str) -> httpx2.Client:
    """An httpx2 client for the emulator that checks every response against the spec."""
    return httpx2.Client(
        base_url=base_url,
        verify=ssl.create_default_context(cafile=ca_file),
        headers={
            "Authorization": f"Token token={token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        },
        event_hooks={"response": [check_httpx_response]},
    )
