"""`oncall-testbed controlplane build|up|down|env|status`: the local control plane from the shell."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from oncall_testbed.controlplane.binaries import ControlPlaneError, find_binaries
from oncall_testbed.controlplane.build import ensure_binaries
from oncall_testbed.controlplane.server import ControlPlane

STATE_DIR_VARIABLE = "ONCALL_CONTROLPLANE_DIR"
DEFAULT_STATE_DIR = Path(".demo") / "controlplane"


def default_state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_VARIABLE) or DEFAULT_STATE_DIR)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "build", help="build kube-apiserver, etcd and kubectl into the envtest store unless found"
    )
    for name, help_text in (
        ("up", "start etcd + kube-apiserver in the background; returns once ready"),
        ("down", "stop what `up` started"),
        ("env", "print `export KUBECONFIG=...` for the running control plane"),
        ("status", "say whether it runs, where, and which binaries it uses"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            help=f"state directory (default ${STATE_DIR_VARIABLE} or {DEFAULT_STATE_DIR})",
        )
        if name == "env":
            action.add_argument(
                "--as-operator",
                action="store_true",
                help="the operator's ServiceAccount identity instead of the admin",
            )


def main(args: argparse.Namespace) -> int:
    try:
        return ACTIONS[args.action](args)
    except ControlPlaneError as error:
        print(f"controlplane: {error}", file=sys.stderr)
        return 1


def _plane(args: argparse.Namespace) -> ControlPlane:
    return ControlPlane(args.state_dir or default_state_dir())


def _progress(message: str) -> None:
    print(f"controlplane: {message}", flush=True)


def build(args: argparse.Namespace) -> int:
    binaries = ensure_binaries(build=True, progress=_progress)
    for name, path in (
        ("kube-apiserver", binaries.kube_apiserver),
        ("etcd", binaries.etcd),
        ("kubectl", binaries.kubectl),
    ):
        _progress(f"{name}: {path}")
    return 0


def up(args: argparse.Namespace) -> int:
    binaries = ensure_binaries(build=True, progress=_progress)
    plane = ControlPlane(args.state_dir or default_state_dir(), binaries=binaries)
    plane.start(progress=_progress)
    _progress(f"running at {plane.server_url}; logs in {plane.log_dir}")
    _progress(f'use it: eval "$(oncall-testbed controlplane env{_state_dir_flag(args)})"')
    return 0


def down(args: argparse.Namespace) -> int:
    plane = _plane(args)
    was_running = plane.is_running()
    plane.stop()
    _progress("stopped" if was_running else f"nothing was running in {plane.state_dir}")
    return 0


def env(args: argparse.Namespace) -> int:
    plane = _plane(args)
    if not plane.is_running():
        print(
            f"controlplane: not running in {plane.state_dir}; start it with `oncall-testbed controlplane up`",
            file=sys.stderr,
        )
        return 1
    kubeconfig = plane.operator_kubeconfig if args.as_operator else plane.admin_kubeconfig
    print(f"export KUBECONFIG={shlex.quote(str(kubeconfig))}")
    return 0


def status(args: argparse.Namespace) -> int:
    plane = _plane(args)
    try:
        binaries = find_binaries()
        print(f"binaries: {binaries.kube_apiserver}, {binaries.etcd}, {binaries.kubectl}")
    except ControlPlaneError as error:
        print(f"binaries: {error}")
    if not plane.is_running():
        print(f"stopped ({plane.state_dir})")
        return 1
    print(f"running at {plane.server_url} ({plane.state_dir}); logs in {plane.log_dir}")
    return 0


def _state_dir_flag(args: argparse.Namespace) -> str:
    return f" --state-dir {shlex.quote(str(args.state_dir))}" if args.state_dir else ""


ACTIONS = {"build": build, "up": up, "down": down, "env": env, "status": status}
