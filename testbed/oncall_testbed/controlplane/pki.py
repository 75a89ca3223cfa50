"""Key material for one control plane: a CA, the API server's serving cert, service-account keys, tokens.

Everything is generated once per state directory (files 0600) and reused on later starts, so
kubeconfigs written earlier stay valid. Tokens are random and never printed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=365)
SERVICE_IP = "10.0.0.1"  # first address of SERVICE_CLUSTER_IP_RANGE: the `kubernetes` Service
SERVING_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
SERVING_IPS = ("127.0.0.1", SERVICE_IP)


@dataclass(frozen=True)
class Identity:
    """A static-token user of the API server."""

    name: str  # kubeconfig file stem and user entry
    user: str
    groups: tuple[str, ...]


ADMIN = Identity("admin", "admin", ("system:masters", "system:authenticated"))
OPERATOR_NAMESPACE = "oncall-operator"
OPERATOR_SERVICE_ACCOUNT = "oncall-operator"
OPERATOR = Identity(
    "operator",
    f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_SERVICE_ACCOUNT}",
    (
        "system:serviceaccounts",
        f"system:serviceaccounts:{OPERATOR_NAMESPACE}",
        "system:authenticated",
    ),
)
IDENTITIES = (ADMIN, OPERATOR)


@dataclass(frozen=True)
class Pki:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.directory / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.directory / "apiserver.key"

    @property
    def service_account_key(self) -> Path:
        return self.directory / "service-account.key"

    @property
    def service_account_public_key(self) -> Path:
        return self.directory / "service-account.pub"

    @property
    def token_file(self) -> Path:
        return self.directory / "tokens.csv"

    def ensure(self) -> None:
        """Create whatever is missing; keep what exists."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        if not (self.ca_cert.exists() and self.ca_key.exists()):
            self._write_ca()
            self.serving_cert.unlink(missing_ok=True)
        if not (self.serving_cert.exists() and self.serving_key.exists()):
            self._write_serving_cert()
        if not (self.service_account_key.exists() and self.service_account_public_key.exists()):
            self._write_service_account_keys()
        if not self.token_file.exists():
            self._write_tokens()

    def token(self, identity: Identity) -> str:
        for line in self.token_file.read_text().splitlines():
            token, user, *_ = line.split(",", 2)
            if user == identity.user:
                return token
        raise KeyError(f"no token for {identity.user} in {self.token_file}")

    def _write_ca(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, "oncall-operator local control plane CA")]
        )
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        _write_private(self.ca_key, _pem_key(key))
        self.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def _write_serving_cert(self) -> None:
        ca_key = serialization.load_pem_private_key(self.ca_key.read_bytes(), password=None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)  # _write_ca makes EC keys only
        ca_cert = x509.load_pem_x509_certificate(self.ca_cert.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVING_NAMES]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVING_IPS]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(self.serving_key, _pem_key(key))
        self.serving_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def _write_service_account_keys(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        _write_private(self.service_account_key, _pem_key(key))
        self.service_account_public_key.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def _write_tokens(self) -> None:
        # kube-apiserver's --token-auth-file: token,user,uid,"group1,group2"
        lines = [
            f'{secrets.token_urlsafe(32)},{identity.user},{identity.user},"{",".join(identity.groups)}"'
            for identity in IDENTITIES
        ]
        _write_private(self.token_file, ("\n".join(lines) + "\n").encode())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, content: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(content)
