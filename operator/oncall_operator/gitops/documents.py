"""Manifests read from files, folders (recursively, *.yaml, *.yml, *.json) and standard input
(`-`), every document of a multi-document stream numbered from 0 within its file."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from oncall_operator.api import API_VERSION

OUR_KINDS = ("OnCallTeam", "Rotation", "EscalationPolicy")
SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


class UnreadableInput(Exception):
    """A path that does not exist, cannot be read or is not YAML (exit code 2)."""


@dataclass(frozen=True)
class Document:
    """One YAML document: where it came from and what it holds."""

    file: str
    index: int
    body: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind") or "")

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str:
        return str((self.body.get("metadata") or {}).get("namespace") or "")

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, Mapping) else {}

    def is_ours(self) -> bool:
        """One of our three kinds (in any served version of our group)."""
        group = API_VERSION.split("/", 1)[0]
        api_version = str(self.body.get("apiVersion") or "")
        return self.kind in OUR_KINDS and api_version.split("/", 1)[0] == group


def read_documents(paths: Sequence[str], stdin: TextIO | None = None) -> list[Document]:
    """Every mapping document under `paths`, in path order (folders sorted); empty documents skipped."""
    documents: list[Document] = []
    for path in paths:
        for name, text in _texts(path, stdin or sys.stdin):
            documents += _parse(name, text)
    return documents


def _texts(path: str, stdin: TextIO) -> Iterator[tuple[str, str]]:
    if path == STDIN:
        yield "<stdin>", stdin.read()
        return
    target = Path(path)
    if target.is_dir():
        files = sorted(p for p in target.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    elif target.exists():
        files = [target]
    else:
        raise UnreadableInput(f"{path}: no such file or directory")
    for file in files:
        try:
            yield str(file), file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UnreadableInput(f"{file}: cannot be read ({error})") from None


def _parse(name: str, text: str) -> list[Document]:
    try:
        loaded = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        raise UnreadableInput(f"{name}: not valid YAML ({error})".replace("\n", " ")) from None
    return [
        Document(file=name, index=index, body=body)
        for index, body in enumerate(loaded)
        if isinstance(body, Mapping)
    ]
