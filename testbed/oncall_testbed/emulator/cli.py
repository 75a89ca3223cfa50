"""`oncall-testbed emulator`: serve the PagerDuty REST API emulator until interrupted."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from oncall_testbed.emulator.control import DEFAULT_ONCALLS_RATE_LIMIT, DEFAULT_RATE_LIMIT
from oncall_testbed.emulator.server import EmulatorServer

TOKEN_ENVIRONMENT = "PAGERDUTY_EMULATOR_TOKEN"  # noqa: S105 - a variable name, not a secret


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8443, help="port to listen on (8443; 0: any)")
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENVIRONMENT),
        help=f"the API key clients must send (default: ${TOKEN_ENVIRONMENT})",
    )
    parser.add_argument("--users", type=Path, help="YAML file: users: [{name, email, time_zone}]")
    parser.add_argument("--state", type=Path, help="JSON file that keeps the state across restarts")
    parser.add_argument("--ca-file", type=Path, help="where to write the CA certificate (PEM)")
    parser.add_argument(
        "--tls-name",
        action="append",
        default=[],
        metavar="NAME",
        help="another DNS name or IP address for the server certificate (repeatable)",
    )
    parser.add_argument("--tls-cert", type=Path, help="serve this certificate (PEM) instead")
    parser.add_argument("--tls-key", type=Path, help="the key of --tls-cert (PEM)")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=DEFAULT_RATE_LIMIT,
        metavar="N",
        help=f"requests per minute per token ({DEFAULT_RATE_LIMIT}, as PagerDuty)",
    )
    parser.add_argument(
        "--oncalls-rate-limit",
        type=int,
        default=DEFAULT_ONCALLS_RATE_LIMIT,
        metavar="N",
        help="requests per minute per token to GET /oncalls, PagerDuty's own tighter limit "
        f"(not published; default {DEFAULT_ONCALLS_RATE_LIMIT})",
    )
    parser.add_argument(
        "--no-advanced-permissions",
        dest="advanced_permissions",
        action="store_false",
        help="do not add a schedule's or policy's users to its teams (PagerDuty does so on "
        "plans with Advanced Permissions; on by default)",
    )
    parser.add_argument(
        "--openapi-spec",
        type=Path,
        metavar="FILE",
        help="validate request bodies against this OpenAPI file (default: the bundled subset)",
    )


def load_users(path: Path) -> list[dict[str, Any]]:
    """The `users` list of a seed file; ValueError naming the file on a bad shape."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    users = document.get("users") if isinstance(document, dict) else None
    if not isinstance(users, list) or not all(isinstance(user, dict) for user in users):
        raise ValueError(f"{path}: expected `users: [{{name, email, time_zone}}, ...]`")
    return users


def main(args: argparse.Namespace) -> int:
    if not args.token:
        print(f"emulator: --token (or ${TOKEN_ENVIRONMENT}) is required", file=sys.stderr)
        return 2
    try:
        users = load_users(args.users) if args.users else None
        server = EmulatorServer(
            args.token,
            users=users,
            host=args.host,
            port=args.port,
            state_file=args.state,
            ca_file=args.ca_file,
            rate_limit_per_minute=args.rate_limit,
            oncalls_rate_limit_per_minute=args.oncalls_rate_limit,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            spec_file=args.openapi_spec,
            tls_names=args.tls_name,
            advanced_permissions=args.advanced_permissions,
        )
        server.start()
    except (OSError, ValueError) as error:
        print(f"emulator: {error}", file=sys.stderr)
        return 1
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"PagerDuty emulator listening on {server.base_url}", flush=True)
    print(f"CA certificate: {server.ca_file}", flush=True)
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        server.stop()
    print("PagerDuty emulator stopped", flush=True)
    return 0
