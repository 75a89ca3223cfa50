"""`oncall-operator run`: start the operator (kopf) with the handlers of this package."""

from __future__ import annotations

import argparse
import logging

from oncall_operator.settings import OperatorSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--namespace",
        action="append",
        default=None,
        help="watch only this namespace (repeatable; default: ONCALL_WATCH_NAMESPACES, else all)",
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging")


def main(args: argparse.Namespace) -> int:
    import kopf

    import oncall_operator.handlers  # noqa: F401 - importing registers every handler

    settings = OperatorSettings.from_env()
    namespaces = tuple(args.namespace or settings.watch_namespaces)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    kopf.run(
        standalone=True,
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=f"http://0.0.0.0:{settings.liveness_port}/healthz",
    )
    return 0
