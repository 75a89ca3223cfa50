"""The `oncall-operator` command: one subcommand per product feature, each owned by its module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module that owns it, one-line help). Each module exposes
# `add_arguments(parser)` and `main(args) -> int`; modules are imported lazily so that
# `oncall-operator crds` never loads kopf and `--help` stays fast. The emulator, the local
# control plane and the demo are the `oncall-testbed` command of the separate testbed package.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("oncall_operator.handlers.main", "run the operator (kopf) against the current cluster"),
    "crds": (
        "oncall_operator.api.crdgen",
        "write the CustomResourceDefinitions generated from the API models",
    ),
    "bench": (
        "oncall_operator.bench",
        "measure the operator at scale (runs `oncall-testbed bench`; needs the testbed)",
    ),
    "validate": (
        "oncall_operator.gitops.validate",
        "check manifests offline against the CRDs and each other (exit 0 clean, 1 findings)",
    ),
    "report": (
        "oncall_operator.report",
        "per person shifts, hours and pages of a month; per team pages against the budget",
    ),
    "plan": (
        "oncall_operator.gitops.plan",
        "show what the operator would change in PagerDuty for these manifests (read-only)",
    ),
    "import": (
        "oncall_operator.gitops.importing",
        "write manifests of existing PagerDuty teams, schedules and escalation policies",
    ),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oncall-operator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    requested = set(argv) & set(SUBCOMMANDS)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        if name in requested:
            importlib.import_module(module_name).add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
    module = importlib.import_module(args._module)
    return int(module.main(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
