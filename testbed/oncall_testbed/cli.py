"""The `oncall-testbed` command: the emulator, the local control plane and the demo."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module that owns it, one-line help). Each module exposes
# `add_arguments(parser)` and `main(args) -> int`; modules are imported lazily so that
# `--help` stays fast and `emulator` never loads the control plane's code.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "emulator": ("oncall_testbed.emulator.cli", "run the local PagerDuty REST API emulator"),
    "controlplane": (
        "oncall_testbed.controlplane.cli",
        "build, start and stop a local kube-apiserver + etcd for tests and the demo",
    ),
    "chart": (
        "oncall_testbed.release.chart",
        "regenerate the Helm chart (deploy/helm/oncall-operator) from deploy/base; --check to compare",
    ),
    "release": (
        "oncall_testbed.release.release",
        "write dist/install.yaml and the packaged Helm chart for the version of the git tag",
    ),
    "tools": (
        "oncall_testbed.gotools.cli",
        "build Go tools the tests use (promtool, ...) from the Go module proxy",
    ),
    "demo": (
        "oncall_testbed.demo",
        "start control plane, emulator and operator and apply the examples",
    ),
    "bench": (
        "oncall_testbed.bench",
        "measure the operator at scale: N teams on the control plane against the emulator",
    ),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oncall-testbed", description=__doc__)
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
