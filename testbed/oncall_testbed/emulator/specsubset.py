"""Extract from PagerDuty's OpenAPI file the operations the emulator serves and what they reference.

Run from the repository root to refresh the committed subset after updating the full spec:

    python -m oncall_testbed.emulator.specsubset ../shared/pagerduty/openapiv3.json \
        testbed/oncall_testbed/emulator/openapi-subset.json

The output is deterministic (the spec's own key order, two-space indent), so a test can check
that the committed subset is exactly what this script makes from the full file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

# path -> HTTP methods the emulator implements, as the spec spells them.
SERVED_OPERATIONS: dict[str, tuple[str, ...]] = {
    "/users": ("get",),
    "/users/{id}": ("get",),
    "/teams": ("get", "post"),
    "/teams/{id}": ("get", "put", "delete"),
    "/teams/{id}/members": ("get",),
    "/teams/{id}/users/{user_id}": ("put", "delete"),
    "/schedules": ("get", "post"),
    "/schedules/{id}": ("get", "put", "delete"),
    "/schedules/{id}/overrides": ("get", "post"),
    "/schedules/{id}/overrides/{override_id}": ("delete",),
    "/oncalls": ("get",),
    "/escalation_policies": ("get", "post"),
    "/escalation_policies/{id}": ("get", "put", "delete"),
    "/services": ("get", "post"),
    "/services/{id}": ("get", "delete"),
    "/incidents": ("get", "post"),
    "/incidents/{id}": ("get",),
    "/incidents/{id}/log_entries": ("get",),
    "/log_entries": ("get",),
}

SUBSET_FILE = Path(__file__).with_name("openapi-subset.json")
_REF_PREFIX = "#/components/"


def extract_subset(spec: dict[str, Any]) -> dict[str, Any]:
    """The served operations of `spec` plus every component they reach through `$ref`."""
    paths: dict[str, Any] = {}
    for path, methods in SERVED_OPERATIONS.items():
        item = spec["paths"][path]
        paths[path] = {
            key: value for key, value in item.items() if key not in _METHODS or key in methods
        }
    wanted = _referenced_components(spec, [paths, spec.get("security", [])])
    components: dict[str, Any] = {}
    for section, entries in spec["components"].items():
        kept = {name: value for name, value in entries.items() if (section, name) in wanted}
        if section == "securitySchemes":
            kept = dict(entries)  # tiny, and referenced by name from `security`, not by $ref
        if kept:
            components[section] = kept
    subset: dict[str, Any] = {
        key: spec[key] for key in ("openapi", "info", "servers", "security") if key in spec
    }
    subset["paths"] = paths
    subset["components"] = components
    return subset


_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def _referenced_components(spec: dict[str, Any], roots: Sequence[Any]) -> set[tuple[str, str]]:
    """(section, name) of every component reachable from `roots`, following refs transitively."""
    seen: set[tuple[str, str]] = set()
    pending = list(roots)
    while pending:
        for ref in _refs_in(pending.pop()):
            if not ref.startswith(_REF_PREFIX):
                raise ValueError(f"unsupported $ref outside components: {ref}")
            section, name = ref[len(_REF_PREFIX) :].split("/")[:2]
            if (section, name) not in seen:
                seen.add((section, name))
                pending.append(spec["components"][section][name])
    return seen


def _refs_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs_in(item)


def render(subset: dict[str, Any]) -> str:
    return json.dumps(subset, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("spec", type=Path, help="PagerDuty's full openapiv3.json")
    parser.add_argument("output", type=Path, nargs="?", default=SUBSET_FILE)
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    args.output.write_text(render(extract_subset(spec)), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
