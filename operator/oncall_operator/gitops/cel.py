"""The CEL the API server runs for `x-kubernetes-validations`, evaluated offline.

cel-expr-python (Google's CEL runtime) with its strings extension (lowerAscii, substring, ...)
plus the Kubernetes library functions it lacks (regex `find`/`findAll`, lists `sum`, `min`,
`max`, `isSorted`, `indexOf`, `lastIndexOf`). A rule using anything else fails to compile and
is reported as a rule this validator cannot evaluate, never silently passed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_strings

_T = cel.Type


class RuleUnsupported(Exception):
    """A rule this validator cannot compile (a function outside the libraries above)."""


@dataclass(frozen=True)
class RuleResult:
    """passed: the rule held; error: the evaluation failed (the API server refuses then too)."""

    passed: bool
    error: str | None = None


def _find(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    return found.group(0) if found else ""


def _find_all(text: str, pattern: str) -> list[str]:
    return [m.group(0) for m in re.finditer(pattern, text)]


def _find_all_limited(text: str, pattern: str, limit: int) -> list[str]:
    found = _find_all(text, pattern)
    return found if limit < 0 else found[:limit]


def _is_sorted(items: Sequence[Any]) -> bool:
    return list(items) == sorted(items)


def _index_of(items: Sequence[Any], value: Any) -> int:
    return next((i for i, item in enumerate(items) if item == value), -1)


def _last_index_of(items: Sequence[Any], value: Any) -> int:
    return next((i for i in range(len(items) - 1, -1, -1) if items[i] == value), -1)


def _member(name: str, overload: str, result: Any, params: list[Any], impl: Any) -> Any:
    return cel.FunctionDecl(
        name, [cel.Overload(overload, result, params, is_member=True, impl=impl)]
    )


def _kubernetes_library() -> Any:
    ints, strings, dyns = _T.List(_T.INT), _T.List(_T.STRING), _T.List(_T.DYN)
    return cel.CelExtension(
        "kubernetes",
        [
            _member("find", "string_find", _T.STRING, [_T.STRING, _T.STRING], _find),
            cel.FunctionDecl(
                "findAll",
                [
                    cel.Overload(
                        "string_find_all", strings, [_T.STRING, _T.STRING], True, _find_all
                    ),
                    cel.Overload(
                        "string_find_all_n",
                        strings,
                        [_T.STRING, _T.STRING, _T.INT],
                        True,
                        _find_all_limited,
                    ),
                ],
            ),
            _member("sum", "list_int_sum", _T.INT, [ints], sum),
            _member("min", "list_int_min", _T.INT, [ints], min),
            _member("max", "list_int_max", _T.INT, [ints], max),
            _member("isSorted", "list_is_sorted", _T.BOOL, [dyns], _is_sorted),
            _member("indexOf", "list_index_of", _T.INT, [dyns, _T.DYN], _index_of),
            _member("lastIndexOf", "list_last_index_of", _T.INT, [dyns, _T.DYN], _last_index_of),
        ],
    )


@cache
def _environment() -> Any:
    return cel.NewEnv(
        variables={"self": _T.DYN},
        extensions=[ext_strings.ExtStrings(), _kubernetes_library()],
    )


@cache
def compiled(rule: str) -> Any:
    """The rule compiled once; RuleUnsupported when this CEL cannot express it."""
    try:
        return _environment().compile(rule)
    except RuntimeError as error:
        raise RuleUnsupported(f"cannot evaluate the CRD rule {rule!r}: {error}") from None


def evaluate(rule: str, value: Any) -> RuleResult:
    """The rule applied to `value` bound to `self` (plain JSON-like Python data)."""
    try:
        result = compiled(rule).eval(data={"self": value})
    except RuntimeError as error:
        return RuleResult(passed=False, error=str(error))
    if result.type() == _T.ERROR:
        return RuleResult(passed=False, error=str(result.value()))
    return RuleResult(passed=result.plain_value() is True)
