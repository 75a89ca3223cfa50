"""Keys, certs, tokens and kubeconfigs of one control plane: private, random, trusted through the CA."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import yaml
from cryptography import x509

from oncall_testbed.controlplane.kubeconfig import write_kubeconfig
from oncall_testbed.controlplane.pki import ADMIN, OPERATOR, Pki


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_files_are_owner_only(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    pki.ensure()
    for path in (pki.ca_key, pki.serving_key, pki.service_account_key, pki.token_file):
        assert mode(path) == 0o600, path
    assert mode(pki.directory) == 0o700


def test_serving_cert_is_signed_by_the_ca_for_loopback(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    pki.ensure()
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    serving = x509.load_pem_x509_certificate(pki.serving_cert.read_bytes())
    serving.verify_directly_issued_by(ca)
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert "localhost" in names.get_values_for_type(x509.DNSName)


def test_tokens_are_random_per_state_dir_and_kept_across_starts(tmp_path: Path) -> None:
    first, second = Pki(tmp_path / "a"), Pki(tmp_path / "b")
    first.ensure()
    second.ensure()
    assert first.token(ADMIN) != second.token(ADMIN)
    assert first.token(ADMIN) != first.token(OPERATOR)
    assert len(first.token(ADMIN)) >= 40
    token = first.token(OPERATOR)
    first.ensure()
    assert first.token(OPERATOR) == token


def test_token_file_gives_the_operator_its_service_account_groups(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    pki.ensure()
    lines = {
        line.split(",", 2)[1]: line.split(",", 3)[3]
        for line in pki.token_file.read_text().splitlines()
    }
    assert lines == {
        "admin": '"system:masters,system:authenticated"',
        "system:serviceaccount:oncall-operator:oncall-operator": (
            '"system:serviceaccounts,system:serviceaccounts:oncall-operator,system:authenticated"'
        ),
    }


def test_kubeconfig_trusts_the_ca_and_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "admin.kubeconfig"
    write_kubeconfig(
        path,
        server_url="https://127.0.0.1:1234",
        ca_file=tmp_path / "ca.crt",
        user="admin",
        token="t0k",
    )
    config = yaml.safe_load(path.read_text())
    assert config["clusters"][0]["cluster"] == {
        "server": "https://127.0.0.1:1234",
        "certificate-authority": str(tmp_path / "ca.crt"),
    }
    assert config["users"][0]["user"] == {"token": "t0k"}
    assert mode(path) == 0o600
