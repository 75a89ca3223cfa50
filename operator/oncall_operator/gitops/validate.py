"""`oncall-operator validate PATH… | -`: every object of our kinds checked offline against the
CRDs (OpenAPI schema and CEL rules, as the API server checks it) and against the rest of the set.

Exit 0 clean, 1 findings, 2 usage or unreadable input. Other kinds are skipped silently.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from oncall_operator.api import EscalationPolicySpec, OnCallTeamSpec, RotationSpec
from oncall_operator.gitops.cel import RuleUnsupported
from oncall_operator.gitops.crosscheck import Parsed, cross_problems
from oncall_operator.gitops.documents import Document, UnreadableInput, read_documents
from oncall_operator.gitops.schema import (
    SchemaUnsupported,
    builtin_schemas,
    check_object,
    defaulted,
    schemas_from_directory,
)
from oncall_operator.reconcile.errors import field_path

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
SPEC_MODELS: dict[str, type[BaseModel]] = {
    "OnCallTeam": OnCallTeamSpec,
    "Rotation": RotationSpec,
    "EscalationPolicy": EscalationPolicySpec,
}


@dataclass(frozen=True)
class Finding:
    """One problem: where (file, document index, kind/name, field path) and what to do."""

    file: str
    index: int
    kind: str
    name: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.index}: {self.kind}/{self.name}: {self.path}: {self.message}"


def utc_now() -> dt.datetime:
    """The clock (tests replace it)."""
    return dt.datetime.now(dt.UTC)


def _finding(document: Document, path: str, message: str) -> Finding:
    return Finding(document.file, document.index, document.kind, document.name, path, message)


def validate_documents(
    documents: Sequence[Document],
    now: dt.datetime,
    schemas: Mapping[str, Mapping[str, Any]] | None = None,
    cross: bool = True,
) -> list[Finding]:
    """Findings for every object of our kinds in `documents`, in document order, then the
    findings across objects. RuleUnsupported/SchemaUnsupported when a CRD needs more than this
    validator implements."""
    schemas = builtin_schemas() if schemas is None else schemas
    findings: list[Finding] = []
    parsed: list[Parsed] = []
    seen: dict[tuple[str, str, str], Document] = {}
    for document in documents:
        if not document.is_ours():
            continue
        schema = schemas.get(f"{document.body.get('apiVersion')} {document.kind}")
        if schema is None:
            served = sorted(key.split()[0] for key in schemas if key.endswith(f" {document.kind}"))
            findings.append(
                _finding(document, "apiVersion", f"Use apiVersion {' or '.join(served)}.")
            )
            continue
        problems = check_object(document.body, schema)
        findings += [_finding(document, p.path, p.message) for p in problems]
        key = (document.kind, document.namespace, document.name)
        if key in seen:
            first = seen[key]
            findings.append(
                _finding(
                    document,
                    "metadata.name",
                    f"Rename or remove this object: {first.file}:{first.index} already defines "
                    f"{document.kind} {document.name}.",
                )
            )
            continue
        seen[key] = document
        if problems:
            continue
        spec = defaulted(document.body, schema).get("spec") or {}
        try:
            model = SPEC_MODELS[document.kind].model_validate(spec)
        except ValidationError as error:
            findings += [
                _finding(document, field_path(e["loc"]), _model_message(e["msg"]))
                for e in error.errors()
            ]
            continue
        assert isinstance(model, OnCallTeamSpec | RotationSpec | EscalationPolicySpec)
        parsed.append(Parsed(document, model))
    if cross:
        ours = [d for d in documents if d.is_ours()]
        findings += [
            _finding(p.document, p.path, p.message) for p in cross_problems(parsed, ours, now)
        ]
    return findings


def _model_message(message: str) -> str:
    text = message.removeprefix("Value error, ").strip()
    return f"Correct this: {text}." if not text.endswith(".") else f"Correct this: {text}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files, folders (searched recursively) or - for stdin",
    )
    parser.add_argument(
        "--output", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.add_argument(
        "--crds",
        type=Path,
        default=None,
        help="check against the CRDs in this folder instead of the ones this command was built with",
    )


def main(args: argparse.Namespace) -> int:
    try:
        documents = read_documents(args.paths)
        schemas = schemas_from_directory(args.crds) if args.crds else None
        if schemas is not None and not schemas:
            raise UnreadableInput(f"{args.crds}: holds no CustomResourceDefinition")
        findings = validate_documents(documents, utc_now(), schemas)
    except (UnreadableInput, RuleUnsupported, SchemaUnsupported, OSError) as error:
        print(f"oncall-operator validate: {error}", file=sys.stderr)
        return EXIT_USAGE
    checked = sum(1 for d in documents if d.is_ours())
    if args.output == "json":
        json.dump(
            {"checked": checked, "findings": [asdict(f) for f in findings]},
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        for finding in findings:
            print(finding)
        print(
            f"{len(findings)} finding{'s' * (len(findings) != 1)} in {checked} object"
            f"{'s' * (checked != 1)}.",
            file=sys.stderr,
        )
    return EXIT_FINDINGS if findings else EXIT_CLEAN
