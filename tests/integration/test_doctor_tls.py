"""`ecr-sso doctor` probes endpoints with the TLS settings the helper uses: behind a
TLS-inspecting proxy (here: an HTTPS stand-in whose certificate a private CA signed) the
probe succeeds exactly when AWS_CA_BUNDLE, or the profile's ca_bundle, names that CA."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN_DIR, SSO, Env, environ_with
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fakeaws import FakeAWS

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"


@dataclass(frozen=True)
class TlsEndpoint:
    url: str
    ca_file: Path


def _certificate(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool) -> Any:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
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
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def tls_endpoint(tmp_path: Path) -> Iterator[TlsEndpoint]:
    """An HTTPS server on 127.0.0.1 whose certificate only a private CA vouches for."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate("ecr-sso test CA", ca_key, "ecr-sso test CA", ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _certificate("127.0.0.1", server_key, "ecr-sso test CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    chain = tmp_path / "server.pem"
    chain.write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + server_cert.public_bytes(pem)
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield TlsEndpoint(f"https://127.0.0.1:{server.server_address[1]}", ca_file)
    server.shutdown()
    server.server_close()


def endpoint_check(url: str, **env: str) -> dict[str, Any]:
    result = subprocess.run(
        [str(BIN_DIR / "ecr-sso"), "doctor", "--json"],
        capture_output=True,
        text=True,
        env=environ_with({"AWS_ENDPOINT_URL_ECR": url, **env}),
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert result.stderr == ""
    (check,) = [c for c in json.loads(result.stdout)["checks"] if c["check"] == f"endpoint {url}"]
    return dict(check)


@pytest.fixture
def set_up(env: Env, sso: SSO, aws: FakeAWS) -> None:
    sso.login()
    env.write_config(f'[registries]\n"{DEV}" = "dev"\n')
    env.docker_config_dir.mkdir(parents=True, exist_ok=True)
    (env.docker_config_dir / "config.json").write_text(
        json.dumps({"credHelpers": {DEV: "ecr-sso"}})
    )


@pytest.mark.usefixtures("set_up")
def test_probe_trusts_the_ca_of_aws_ca_bundle(tls_endpoint: TlsEndpoint) -> None:
    without = endpoint_check(tls_endpoint.url)
    with_bundle = endpoint_check(tls_endpoint.url, AWS_CA_BUNDLE=str(tls_endpoint.ca_file))

    assert without["ok"] is False
    assert without["detail"].startswith("its TLS certificate is not trusted (")
    assert "CERTIFICATE_VERIFY_FAILED" in without["detail"]
    assert without["fix"] == (
        "behind a TLS-inspecting proxy, set AWS_CA_BUNDLE (or ca_bundle in the profile) to"
        " the proxy's CA certificate"
    )
    assert with_bundle == {
        "check": f"endpoint {tls_endpoint.url}",
        "ok": True,
        "detail": f"answers (CA bundle {tls_endpoint.ca_file})",
        "fix": None,
    }


@pytest.mark.usefixtures("set_up")
def test_probe_trusts_the_ca_bundle_of_the_profile(env: Env, tls_endpoint: TlsEndpoint) -> None:
    text = env.aws_config.read_text()
    env.aws_config.write_text(
        text.replace("[profile dev]\n", f"[profile dev]\nca_bundle = {tls_endpoint.ca_file}\n")
    )

    check = endpoint_check(tls_endpoint.url)

    assert check["ok"] is True, check
    assert check["detail"] == f"answers (CA bundle {tls_endpoint.ca_file})"
    assert os.environ.get("AWS_CA_BUNDLE") is None
