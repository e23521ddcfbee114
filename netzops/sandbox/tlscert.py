"""The sandbox frontend's self-signed certificate, with a validity that tests can choose
(a few days for "expiring soon", zero or negative for "expired")."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def write(folder: Path, days: float, common_name: str = "localhost") -> Path:
    """Write server.crt and server.key valid until now + `days`; return the cert path."""
    now = datetime.now(UTC)
    not_after = now + timedelta(days=days)
    not_before = min(now - timedelta(minutes=5), not_after - timedelta(days=1))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Netzwaechter sandbox"),
        ]
    )
    sans = x509.SubjectAlternativeName(
        [x509.DNSName(common_name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(sans, critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_tmp, cert_tmp = folder / ".server.key.tmp", folder / ".server.crt.tmp"
    key_tmp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_tmp.chmod(0o600)
    cert_tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # renamed into place, key first: nginx never reads a half-written file (the window in
    # which the new key meets the old certificate is two renames, and nginx reloads after)
    key_tmp.replace(folder / "server.key")
    cert_tmp.replace(folder / "server.crt")
    return folder / "server.crt"
