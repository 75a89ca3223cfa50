"""The PagerDuty REST API v2 client of the operator; never imports kopf."""

from oncall_operator.pagerduty.client import (
    EU_API_URL,
    ClientHooks,
    PagerDutyClient,
)
from oncall_operator.pagerduty.errors import (
    Forbidden,
    InUse,
    Invalid,
    NotFound,
    PagerDutyError,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from oncall_operator.pagerduty.token import TokenSource
from oncall_operator.settings import DEFAULT_API_URL

__all__ = [
    "DEFAULT_API_URL",
    "EU_API_URL",
    "ClientHooks",
    "Forbidden",
    "InUse",
    "Invalid",
    "NotFound",
    "PagerDutyClient",
    "PagerDutyError",
    "RateLimited",
    "TokenSource",
    "Unauthorized",
    "Unavailable",
]
