"""TLS certificates as served: expiry, issuer, names — also expired or self-signed ones.

An unverified handshake reads the certificate whatever its state (``getpeercert()`` is
empty for unverified certificates, so the DER form is parsed with ``cryptography``); a
second, verifying handshake says whether clients would trust it.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from netzops.checks import Outcome, checker
from netzops.findings import Finding, Priority, remaining
from netzops.results import Result
from netzops.targets import Target, Tls

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class CertInfo:
    name: str
    endpoint: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    days_left: float
    sans: list[str]
    hostname_match: bool
    self_signed: bool
    trusted: bool
    verify_error: str


def _fetch_der(host: str, port: int, server_name: str) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=TIMEOUT_S) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("server sent no certificate")
    return der


def _verify(host: str, port: int, server_name: str) -> str:
    """'' when a default client trusts the certificate for `server_name`, else why not."""
    context = ssl.create_default_context()
    try:
        with (
            socket.create_connection((host, port), timeout=TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=server_name),
        ):
            return ""
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message or exc)


def _names(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    san = ext.value
    assert isinstance(san, x509.SubjectAlternativeName)
    return [
        *san.get_values_for_type(x509.DNSName),
        *(str(ip) for ip in san.get_values_for_type(x509.IPAddress)),
    ]


def host_key(name: str) -> str:
    """A host name as DNS compares it (RFC 4343, 6125): lower case, no trailing dot,
    internationalised names as their A-label; an IP address in its one canonical form."""
    text = name.strip().rstrip(".")
    try:
        return ipaddress.ip_address(text.strip("[]")).compressed
    except ValueError:
        pass
    try:
        return text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return text.lower()


def _matches(server_name: str, names: list[str]) -> bool:
    """Whether a certificate for `names` (SANs) serves `server_name`: host names compared
    case-insensitively; a wildcard `*.example.com` stands for exactly one left-most label
    (not example.com, not a.b.example.com) and never for an IP address."""
    wanted = host_key(server_name)
    label, _, parent = wanted.partition(".")
    for name in names:
        key = host_key(name.replace("*.", "wildcard.", 1) if name.startswith("*.") else name)
        if not name.startswith("*.") and key == wanted:
            return True
        wild = name.startswith("*.") and label and parent and key.partition(".")[2] == parent
        if wild and not _is_ip(wanted):
            return True
    return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def served(tls: Tls) -> x509.Certificate:
    """The certificate served at tls.host:tls.port for SNI `server_name`, unverified."""
    return x509.load_der_x509_certificate(
        _fetch_der(tls.host, tls.port, tls.server_name or tls.host)
    )


def inspect(tls: Tls, now: datetime | None = None) -> CertInfo:
    """What the certificate served at tls.host:tls.port says, and whether clients trust it."""
    server_name = tls.server_name or tls.host
    cert = served(tls)
    now = now or datetime.now(UTC)
    not_after = cert.not_valid_after_utc
    names = _names(cert)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return CertInfo(
        name=tls.name,
        endpoint=f"{tls.host}:{tls.port}",
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=not_after,
        days_left=round((not_after - now).total_seconds() / 86400.0, 2),
        sans=names,
        hostname_match=_matches(server_name, names or [str(a.value) for a in cn]),
        self_signed=cert.issuer == cert.subject,
        trusted=not (error := _verify(tls.host, tls.port, server_name)),
        verify_error=error,
    )


def _failed(check: str, title: str, exc: Exception) -> Result:
    """A certificate that cannot be read at all (not a failed handshake: that is per
    endpoint, P0)."""
    why = f"cannot read the certificate: {type(exc).__name__}: {exc}"[:240]
    return Result.of(check, title, findings=[Finding(check, "tls", Priority.P1, why)])


@checker("certs", (ValueError,), _failed)("tls", "TLS certificates")
def check(target: Target) -> Outcome:
    """Every TLS endpoint of the target: days left against thresholds, name match, trust."""
    rows: list[CertInfo] = []
    findings: list[Finding] = []
    metrics: dict[str, float] = {}
    for tls in target.tls:
        try:
            info = inspect(tls)
        except (OSError, ValueError) as exc:
            findings.append(
                Finding(
                    "tls",
                    tls.name,
                    Priority.P0,
                    f"no TLS handshake with {tls.host}:{tls.port}: {exc}"[:240],
                )
            )
            continue
        rows.append(info)
        metrics[f"tls.{tls.name}.days_left"] = info.days_left
        expiry = remaining(
            "tls", tls.name, info.days_left, target.bands["tls_days_left"], "certificate days left"
        )
        findings += [expiry] if expiry else []
        if not info.hostname_match:
            findings.append(
                Finding(
                    "tls",
                    tls.name,
                    Priority.P1,
                    f"certificate does not name {tls.server_name or tls.host}",
                )
            )
        if not info.trusted and target.http.verify_tls:
            findings.append(
                Finding(
                    "tls", tls.name, Priority.P1, f"certificate not trusted: {info.verify_error}"
                )
            )
    return Outcome(rows, findings, metrics)
