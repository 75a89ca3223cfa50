"""EmulatorServer options: a certificate of one's own, another spec file, bad arguments."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx2
import pytest
from cryptography import x509

from oncall_testbed.emulator import EmulatorServer
from oncall_testbed.emulator.tls import make_credentials
from tests.emulator import bodies
from tests.emulator.spec_check import validating_client
from tests.emulator.test_specsubset import FULL_SPEC


def test_given_certificate_is_served(tmp_path: Path) -> None:
    credentials = make_credentials(tmp_path / "mine", extra_names=["pagerduty.test"])
    with EmulatorServer(
        "t",
        tls_cert=credentials.cert_file,
        tls_key=credentials.key_file,
        ca_file=credentials.ca_file,
    ) as server:
        assert server.ca_file == credentials.ca_file
        with validating_client(server.base_url, "t", str(server.ca_file)) as client:
            assert client.get("/users").status_code == 200


def test_a_fresh_ca_is_not_trusted_by_default(tmp_path: Path) -> None:
    with EmulatorServer("t", ca_file=tmp_path / "ca.pem") as server:
        assert (tmp_path / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
        with pytest.raises(httpx2.ConnectError):
            httpx2.get(f"{server.base_url}/users", verify=ssl.create_default_context())


@pytest.mark.skipif(not FULL_SPEC.exists(), reason=f"PagerDuty's full spec is not at {FULL_SPEC}")
def test_validates_against_another_spec_file() -> None:
    with (
        EmulatorServer("t", spec_file=FULL_SPEC) as server,
        validating_client(server.base_url, "t", str(server.ca_file)) as client,
    ):
        response = client.post("/schedules", json=bodies.schedule())
        assert response.status_code == 400
        assert client.post("/teams", json=bodies.team()).status_code == 201


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"token": ""}, "token"),
        ({"token": "t", "tls_cert": "cert.pem"}, "tls_cert and tls_key"),
        ({"token": "t", "users": [{"name": "No Email"}]}, r"users\[0\].email"),
    ],
)
def test_bad_arguments_are_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorServer(**arguments)  # type: ignore[arg-type]


def test_stop_is_idempotent_and_start_twice_is_refused() -> None:
    server = EmulatorServer("t").start()
    try:
        with pytest.raises(RuntimeError):
            server.start()
    finally:
        server.stop()
        server.stop()
    with pytest.raises(RuntimeError):
        _ = server.base_url


def test_unknown_user_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match=r"users\[0\].time_zone"):
        EmulatorServer("t", users=[{"name": "A", "email": "a@example.com", "time_zone": "Mars/X"}])


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"users": [{"name": "no id"}]}'])
def test_a_bad_state_file_is_named(tmp_path: Path, content: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    with pytest.raises(ValueError, match="not an emulator state file"):
        EmulatorServer("t", state_file=state)


def test_certificate_names_loopback_and_extra_names(tmp_path: Path) -> None:
    credentials = make_credentials(
        tmp_path, extra_names=["pagerduty-emulator.oncall-e2e.svc", "10.0.0.7"]
    )
    certificate = x509.load_pem_x509_certificate(credentials.cert_file.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [
        "localhost",
        "pagerduty-emulator.oncall-e2e.svc",
    ]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == [
        "127.0.0.1",
        "10.0.0.7",
    ]
    assert oct(credentials.key_file.stat().st_mode & 0o777) == "0o600"
