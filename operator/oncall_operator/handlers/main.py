"""`oncall-operator run`: start the operator (kopf) with the handlers of this package."""

from __future__ import annotations

import argparse
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
    standalone: bool = True


def run_options(args: argparse.Namespace, settings: OperatorSettings) -> RunOptions:
    namespaces = tuple(args.namespace or settings.watch_namespaces)
    return RunOptions(
        namespaces=namespaces,
        clusterwide=not namespaces,
        liveness_endpoint=f"http://{args.listen_address}:{settings.liveness_port}/healthz",
    )


def main(args: argparse.Namespace) -> int:
    import kopf

    import oncall_operator.handlers  # noqa: F401 - importing registers every handler

    options = run_options(args, OperatorSettings.from_env())
    # As `kopf run` logs: the object's namespace/name on each line.
    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat.FULL, log_prefix=True)
    kopf.run(
        standalone=options.standalone,
        clusterwide=options.clusterwide,
        namespaces=options.namespaces,
        liveness_endpoint=options.liveness_endpoint,
        memo=kopf.Memo(listen_address=args.listen_address, watch_namespaces=options.namespaces),
    )
    return 0
