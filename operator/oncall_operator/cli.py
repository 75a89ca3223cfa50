"""The `oncall-operator` command: one subcommand per product feature, each owned by its module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module that owns it, one-line help). Each module exposes
# `add_arguments(parser)` and `main(args) -> int`; modules are imported lazily so that
# `oncall-operator emulator` never loads kopf and `--help` stays fast.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("oncall_operator.handlers.main", "run the operator (kopf) against the current cluster"),
    "emulator": ("oncall_operator.emulator.cli", "run the local PagerDuty REST API emulator"),
    "controlplane": (
        "oncall_operator.controlplane.cli",
        "build, start and stop a local kube-apiserver + etcd for tests and the demo",
    ),
    "crds": (
        "oncall_operator.api.crdgen",
        "write the CustomResourceDefinitions generated from the API models",
    ),
    "demo": (
        "oncall_operator.demo",
        "start control plane, emulator and operator and apply the examples",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oncall-operator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        if name in _requested_commands():
            importlib.import_module(module_name).add_arguments(sub_parser)
    return parser


def _requested_commands() -> set[str]:
    return {arg for arg in sys.argv[1:] if arg in SUBCOMMANDS}


def main(argv: Sequence[str] | None = None) -> int:
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    args = build_parser().parse_args(argv)
    module = importlib.import_module(args._module)
    return int(module.main(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
