"""`oncall-operator run`: start the operator (kopf) with the handlers of this package."""

from __future__ import annotations

import argparse
import secrets
import time
from dataclasses import dataclass

from oncall_operator.settings import OperatorSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--namespace",
        action="append",
        default=None,
        help="watch only this namespace (repeatable; default: ONCALL_WATCH_NAMESPACES, else all)",
    )
    parser.add_argument(
        "--listen-address",
        default="0.0.0.0",  # noqa: S104 - probed and scraped from the pod IP
        help="address of the liveness and metrics endpoints (default: 0.0.0.0)",
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging")


@dataclass(frozen=True)
class RunOptions:
    """What `kopf.run` is given: the image, deploy/ and the chart are checked against this."""

    namespaces: tuple[str, ...]
    clusterwide: bool
    liveness_endpoint: str
    peering_name: str | None = None
    # Kopf pauses every replica but the one of the highest priority: started earlier is higher,
    # so a replica that starts (a rolling update, a restart) waits until the working one is gone.
    priority: int = 0

    @property
    def standalone(self) -> bool:
        return self.peering_name is None


def run_options(args: argparse.Namespace, settings: OperatorSettings) -> RunOptions:
    namespaces = tuple(args.namespace or settings.watch_namespaces)
    return RunOptions(
        namespaces=namespaces,
        clusterwide=not namespaces,
        liveness_endpoint=f"http://{args.listen_address}:{settings.liveness_port}/healthz",
        peering_name=settings.peering_name,
        priority=started_priority(),
    )


def started_priority() -> int:
    """Higher for a process started earlier (microseconds before 2100; random in the last digits
    so that two replicas started in the same microsecond cannot tie and both pause)."""
    microseconds_left = 4_102_444_800_000_000 - time.time_ns() // 1000
    return microseconds_left * 1000 + secrets.randbelow(1000)


def main(args: argparse.Namespace) -> int:
    import kopf

    import oncall_operator.handlers  # noqa: F401 - importing registers every handler

    options = run_options(args, OperatorSettings.from_env())
    # As `kopf run` logs: the object's namespace/name on each line.
    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat.FULL, log_prefix=True)
    kopf.run(
        standalone=options.standalone,
        peering_name=options.peering_name,
        priority=options.priority,
        clusterwide=options.clusterwide,
        namespaces=options.namespaces,
        liveness_endpoint=options.liveness_endpoint,
        memo=kopf.Memo(listen_address=args.listen_address, watch_namespaces=options.namespaces),
    )
    return 0
