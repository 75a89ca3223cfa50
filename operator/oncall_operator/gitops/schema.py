"""An object of our kinds checked as the API server checks it: defaults filled in from the CRD's
OpenAPI schema, unknown fields refused (kubectl's strict field validation), the schema's
bounds, then every `x-kubernetes-validations` rule of the CRD evaluated with CEL.

The schema keywords understood here are exactly those a structural schema made by
`api/crdgen.py` may hold; a CRD using any other is refused (SchemaUnsupported) rather than
half-checked, so this validator and the API server cannot quietly disagree.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from oncall_operator.api.crdgen import KINDS, crd
from oncall_operator.gitops import cel

_UNDERSTOOD = frozenset(
    {
        "type", "description", "properties", "required", "items", "enum", "pattern", "format",
        "default", "minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum",
        "x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    }
)  # fmt: skip
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class SchemaUnsupported(Exception):
    """A CRD schema keyword this validator does not implement (names the path)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one object: the field path and one sentence of what to do."""

    path: str
    message: str


def _kind_schemas_from(crds: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for definition in crds:
        names = definition["spec"]["names"]
        group = definition["spec"]["group"]
        for version in definition["spec"]["versions"]:
            if version.get("served", True):
                api_version = f"{group}/{version['name']}"
                schemas[f"{api_version} {names['kind']}"] = version["schema"]["openAPIV3Schema"]
    return schemas


@cache
def builtin_schemas() -> dict[str, dict[str, Any]]:
    """The CRDs generated from the API models: the very files in crds/ (a test keeps them equal)."""
    return _kind_schemas_from(crd(kind) for kind in KINDS)


def schemas_from_directory(directory: Path) -> dict[str, dict[str, Any]]:
    """The CRDs in a directory of YAML files (e.g. crds/ of an installed release)."""
    documents = [
        doc
        for path in sorted(directory.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
    ]
    return _kind_schemas_from(documents)


def check_object(body: Mapping[str, Any], schema: Mapping[str, Any]) -> list[Problem]:
    """Everything the API server would refuse in this object (apiVersion and kind already matched)."""
    problems = _metadata_problems(body.get("metadata"))
    obj = copy.deepcopy({k: v for k, v in body.items() if k not in ("metadata", "status")})
    _apply_defaults(obj, schema)
    problems += _check(obj, _without_metadata(schema), "", root=True)
    return problems


def defaulted(body: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The object with the CRD's defaults filled in, as the API server stores it."""
    obj = copy.deepcopy(dict(body))
    _apply_defaults(obj, schema)
    return obj


def _without_metadata(schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in schema.get("properties", {}).items() if k != "metadata"}
    return {**schema, "properties": properties}


def _metadata_problems(metadata: Any) -> list[Problem]:
    if not isinstance(metadata, Mapping) or not metadata.get("name"):
        return [Problem("metadata.name", "Give the object a metadata.name.")]
    name = metadata["name"]
    if not isinstance(name, str) or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        return [
            Problem(
                "metadata.name",
                f"Rename {name!r}: a name is lowercase letters, digits, '-' and '.' "
                "(a DNS subdomain).",
            )
        ]
    return []


def _apply_defaults(value: Any, schema: Mapping[str, Any]) -> None:
    """Drop null properties (the API server prunes nulls of non-nullable fields), then fill
    absent properties that have a default, depth first (the API server's order)."""
    if isinstance(value, dict):
        for name in [k for k, v in value.items() if v is None and not schema.get("nullable")]:
            del value[name]
        for name, sub in schema.get("properties", {}).items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                _apply_defaults(value[name], sub)
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            _apply_defaults(item, schema["items"])


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check(value: Any, schema: Mapping[str, Any], path: str, root: bool = False) -> list[Problem]:
    unsupported = set(schema) - _UNDERSTOOD
    if unsupported:
        raise SchemaUnsupported(f"{path or '<root>'}: schema keywords {sorted(unsupported)}")
    where = path or "the object"
    expected = schema.get("type")
    if expected and not _is_type(value, expected):
        return [Problem(where, f"Write {_a(expected)} here, not {_a(_type_name(value))}.")]
    problems: list[Problem] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append(Problem(_at(path, name), f"Add the required field {name}."))
        for name, item in value.items():
            if name in properties:
                problems += _check(item, properties[name], _at(path, name))
            elif not (root and name in ("apiVersion", "kind")):
                problems.append(
                    Problem(
                        _at(path, name), f"Remove the unknown field {name} (check its spelling)."
                    )
                )
    elif isinstance(value, list):
        problems += _bounds(len(value), schema, where, "minItems", "maxItems", "item")
        for index, item in enumerate(value):
            problems += _check(item, schema.get("items", {}), f"{path}[{index}]")
    elif isinstance(value, str):
        problems += _string_problems(value, schema, where)
    elif isinstance(value, (int, float)):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(Problem(where, f"Use a number of at least {schema['minimum']}."))
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(Problem(where, f"Use a number of at most {schema['maximum']}."))
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(choice) for choice in schema["enum"])
        problems.append(Problem(where, f"Use one of {choices} (not {value!r})."))
    # Like the API server: a node's rules run whenever its own type is right.
    return problems + _rules(value, schema, where)


def _string_problems(value: str, schema: Mapping[str, Any], where: str) -> list[Problem]:
    problems = _bounds(len(value), schema, where, "minLength", "maxLength", "character")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(
            Problem(where, f"Write a value matching {schema['pattern']} (not {value!r}).")
        )
    if schema.get("format") == "date":
        try:
            dt.date.fromisoformat(value)
            valid = len(value) == 10
        except ValueError:
            valid = False
        if not valid:
            problems.append(Problem(where, f"Write a date as YYYY-MM-DD (not {value!r})."))
    return problems


def _bounds(
    size: int, schema: Mapping[str, Any], where: str, low: str, high: str, unit: str
) -> list[Problem]:
    if low in schema and size < schema[low]:
        return [Problem(where, f"Give at least {schema[low]} {unit}{'s' * (schema[low] != 1)}.")]
    if high in schema and size > schema[high]:
        return [Problem(where, f"Give at most {schema[high]} {unit}{'s' * (schema[high] != 1)}.")]
    return []


def _rules(value: Any, schema: Mapping[str, Any], where: str) -> list[Problem]:
    problems = []
    for rule in schema.get("x-kubernetes-validations", []):
        if "oldSelf" in rule["rule"]:
            continue  # a transition rule: the API server runs it on updates only
        result = cel.evaluate(rule["rule"], value)
        if not result.passed:
            path = where + _field_path(str(rule.get("fieldPath") or ""))
            problems.append(Problem(path, _sentence(_message(rule, value))))
    return problems


def _field_path(field_path: str) -> str:
    """A rule's fieldPath (".a.b" or "['a']") as a suffix of the node's path."""
    return field_path if not field_path or field_path[0] in ".[" else f".{field_path}"


def _message(rule: Mapping[str, Any], value: Any) -> str:
    """messageExpression when it evaluates to a string, else message, else the API server's
    own wording."""
    expression = rule.get("messageExpression")
    if expression:
        try:
            text = cel.compiled(str(expression)).eval(data={"self": value}).plain_value()
        except (RuntimeError, cel.RuleUnsupported):
            text = None
        if isinstance(text, str) and text.strip():
            return text
    return str(rule.get("message") or f"failed rule: {rule['rule']}")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."


def _is_type(value: Any, expected: str) -> bool:
    if isinstance(value, bool) and expected != "boolean":
        return False
    return isinstance(value, _JSON_TYPES.get(expected, object))


def _type_name(value: Any) -> str:
    for name in _JSON_TYPES:
        if name != "number" and _is_type(value, name):
            return name
    return "number" if isinstance(value, float) else "null"


def _a(name: str) -> str:
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"
