"""`oncall-operator run`: start the operator (kopf) with the handlers of this package."""

from __future__ import annotations

import argparse

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


def main(args: argparse.Namespace) -> int:
    import kopf

    import oncall_operator.handlers  # noqa: F401 - importing registers every handler

    settings = OperatorSettings.from_env()
    namespaces = tuple(args.namespace or settings.watch_namespaces)
    # As `kopf run` (the container's entry point) logs: the object's namespace/name on each line.
    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat.FULL, log_prefix=True)
    kopf.run(
        standalone=True,
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=f"http://{args.listen_address}:{settings.liveness_port}/healthz",
        memo=kopf.Memo(listen_address=args.listen_address, watch_namespaces=namespaces),
    )
    return 0
