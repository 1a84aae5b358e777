"""Certificates and keys of the local cluster: one CA, an admin client certificate and the
service-account signing key pair, kept between runs; and the certificates each start issues for the
addresses of that run (serving certificates) and for each part's identity (client certificates)."""

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_VALIDITY = datetime.timedelta(days=365)


@dataclass(frozen=True)
class ClusterPki:
    """Paths of the files `create_pki` writes into one folder."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def admin_cert(self) -> Path:
        return self.folder / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.folder / "admin.key"

    @property
    def service_account_key(self) -> Path:
        return self.folder / "service-account.key"

    @property
    def service_account_public_key(self) -> Path:
        return self.folder / "service-account.pub"


def create_pki(folder: Path) -> ClusterPki:
    """Writes every file once; later calls reuse them, so a restarted cluster keeps its identity."""
    pki = ClusterPki(folder)
    if pki.admin_key.exists():
        return pki
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = _new_key()
    ca_name = _name("company-exports-local-ca")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    _write(pki.ca_cert, pki.ca_key, ca_cert, ca_key)
    admin_key = _new_key()
    admin = _builder(
        _name("company-exports-admin", organization="system:masters"),
        ca_name,
        admin_key.public_key(),
    ).sign(ca_key, hashes.SHA256())
    _write(pki.admin_cert, pki.admin_key, admin, admin_key)
    signing_key = _new_key()
    pki.service_account_key.write_bytes(_private_pem(signing_key))
    pki.service_account_public_key.write_bytes(
        signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pki


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def issue_certificate(
    pki: ClusterPki,
    name: str,
    common_name: str,
    organization: str | None = None,
    addresses: tuple[str, ...] = (),
    dns_names: tuple[str, ...] = (),
) -> Certificate:
    """Signs a new certificate with the cluster's CA into `<folder>/<name>.crt` and `.key`.

    A client certificate's common name and organization are the user and group Kubernetes sees;
    a serving certificate names the IP addresses and DNS names it answers for.
    """
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_name = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes()).subject
    key = _new_key()
    builder = _builder(_name(common_name, organization), ca_name, key.public_key())
    alt_names: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address(address)) for address in addresses
    ]
    alt_names += [x509.DNSName(dns_name) for dns_name in dns_names]
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    certificate = Certificate(pki.folder / f"{name}.crt", pki.folder / f"{name}.key")
    _write(certificate.cert, certificate.key, builder.sign(ca_key, hashes.SHA256()), key)
    return certificate


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
    )


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(
    cert_path: Path, key_path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> None:
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(_private_pem(key))
    key_path.chmod(0o600)
