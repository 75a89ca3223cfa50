"""The API-server fault proxy refuses only what kube-apiserver could refuse with 409: a write
that names the resourceVersion it was based on (a merge patch without one is retried by the API
server itself); its live behaviour is tests/e2e/test_faults_apiserver.py's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oncall_testbed.controlplane.faultproxy import FaultProxy, _conflict, _has_precondition


@pytest.mark.parametrize(
    ("body", "preconditioned"),
    [
        ([{"op": "test", "path": "/metadata/resourceVersion", "value": "7"}], True),
        ([{"op": "add", "path": "/metadata/finalizers", "value": ["x"]}], False),
        ({"metadata": {"resourceVersion": "7", "name": "a"}, "spec": {}}, True),
        ({"status": {"observedGeneration": 1}}, False),
        ({"metadata": {"annotations": {"a": "b"}}}, False),
    ],
)
def test_only_writes_with_a_resource_version_can_conflict(
    body: object, preconditioned: bool
) -> None:
    assert _has_precondition(json.dumps(body).encode()) is preconditioned


def test_a_body_that_is_not_json_has_no_precondition() -> None:
    assert _has_precondition(b"not json") is False


def test_the_conflict_is_worded_as_the_api_server_words_it() -> None:
    answer = _conflict("/apis/oncall.dev/v1alpha1/namespaces/ns/rotations/weekly/status")
    body = json.loads(answer.text or "")
    assert (answer.status, body["reason"], body["code"]) == (409, "Conflict", 409)
    assert 'rotations.oncall.dev "weekly": the object has been modified' in body["message"]


@pytest.mark.parametrize(
    ("options", "message"),
    [({"conflict_rate": 1.5}, "conflict_rate"), ({"watch_seconds": (5.0, 1.0)}, "watch_seconds")],
)
def test_settings_it_cannot_honour_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultProxy("https://127.0.0.1:1", Path("ca"), Path("c"), Path("k"), **options)  # type: ignore[arg-type]
