"""A Kubernetes API server for the SDK tests that answers only TokenReviews, over HTTPS with
its own CA (generated per server), as a real cluster's does: `POST
/apis/authentication.k8s.io/v1/tokenreviews`, bearer-authenticated. The Python twin of the
Rust testkit's crates/testkit/src/kube_api.rs.

A service-account token is genuine when its RS256 signature verifies with one of the cluster's
public keys, it carries the cluster's issuer, has not expired, and (when the review names
`spec.audiences`) is for one of them. The reviewer must present the configured reviewer JWT,
or, when none is configured, a genuine token (as a service account bound to
`system:auth-delegator` would); otherwise 401. Every review is recorded (bearer, audiences,
verdict) so tests can see who called with what.

Also here: the test-only fixture keys (crates/testkit/fixtures/jwt-rsa-*.pem) and the RS256
signer the SDK tests make their workload tokens with.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FIXTURES = Path(__file__).resolve().parents[2] / "crates" / "testkit" / "fixtures"
KUBE_ISSUER = "https://kubernetes.default.svc.cluster.local"
TOKEN_REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"
MAX_BODY_BYTES = 64 * 1024
POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name"


# ----------------------------------------------------------------------------------------------
# Test keys and tokens


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fixture_private_key(key: str = "a"):
    return serialization.load_pem_private_key((FIXTURES / f"jwt-rsa-{key}.pem").read_bytes(), None)


def fixture_public_key(key: str = "a"):
    return fixture_private_key(key).public_key()


def sign(claims: dict, key: str = "a") -> str:
    """An RS256 JWT signed with fixture key `key`, its kid in the header."""
    header = {"alg": "RS256", "typ": "JWT", "kid": f"test-rsa-{key}"}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = fixture_private_key(key).sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def k8s_claims(namespace: str, account: str, audience: str = "mayfly", issuer: str = KUBE_ISSUER) -> dict:
    """The claims of a projected service-account token bound to pod `<account>-1`."""
    now = int(time.time())
    return {
        "aud": [audience], "iss": issuer,
        "iat": now - 5, "nbf": now - 5, "exp": now + 600,
        "sub": f"system:serviceaccount:{namespace}:{account}",
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": account, "uid": "u"},
                          "pod": {"name": f"{account}-1", "uid": "p"}},
    }


def verify_rs256(token: str, public_keys, issuer: str, audiences: list[str]) -> dict | None:
    """The claims of `token` if it is genuine for a cluster with these keys and issuer (and
    for one of `audiences`, when given); otherwise None."""
    try:
        head, payload, signature = token.split(".")
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(payload))
        raw_signature = b64url_decode(signature)
    except (ValueError, TypeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
        return None
    for key in public_keys:
        try:
            key.verify(raw_signature, f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
            break
        except InvalidSignature:
            continue
    else:
        return None
    now = time.time()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if claims.get("iss") != issuer or not isinstance(exp, (int, float)) or exp <= now:
        return None
    if isinstance(nbf, (int, float)) and nbf > now + 60:
        return None
    if audiences and not set(token_audiences(claims)) & set(audiences):
        return None
    return claims


def token_audiences(claims: dict) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


# ----------------------------------------------------------------------------------------------
# TLS: a CA of its own and a server certificate for 127.0.0.1


def _tls_material() -> tuple[str, bytes, bytes]:
    """(CA certificate PEM, server certificate chain PEM, server key PEM)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mayfly-sdk-test-kube-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return (
        ca_cert.public_bytes(pem).decode(),
        server_cert.public_bytes(pem),
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


# ----------------------------------------------------------------------------------------------
# The server


@dataclass(frozen=True)
class SeenReview:
    """One TokenReview the server received."""

    bearer: str
    audiences: list[str]
    #: Whether the reviewer was accepted and the reviewed token was genuine.
    authenticated: bool


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    cluster: "KubeApi"

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's own thread, so a client that
        # stalls mid-handshake never blocks the accept loop.
        try:
            tls = self.cluster._tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # A client hanging up (the gateway giving up, a TLS refusal) is not a test failure.


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _status(self, code: int, reason: str) -> None:
        self._answer(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                            "reason": reason, "code": code})

    def _body(self) -> bytes | None:
        """The request body (always read: closing a socket with unread data resets the
        connection, and the client could lose the answer); None when too large."""
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._body()
        self._status(404, "NotFound")

    do_PUT = do_DELETE = do_PATCH = do_GET

    def do_POST(self):  # noqa: N802
        body = self._body()
        if self.path.split("?")[0] != TOKEN_REVIEW_PATH:
            self._status(404, "NotFound")
            return
        if body is None:
            self._status(413, "RequestEntityTooLarge")
            return
        try:
            review = json.loads(body or b"null")
        except ValueError:
            review = None
        status, answer = self.server.cluster._review(self.headers.get("authorization") or "", review)
        self._answer(status, answer)


class KubeApi:
    """The fake API server, started at construction; `stop()` ends it."""

    def __init__(self, issuer: str, public_keys, reviewer_jwt: str | None):
        self.issuer = issuer
        self.public_keys = list(public_keys)
        #: What TokenReviews must be authorized with; None: a genuine token (self-review).
        self.reviewer_jwt = reviewer_jwt
        self._seen: list[SeenReview] = []
        self._lock = threading.Lock()
        self.ca_pem, chain, key = _tls_material()
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory(prefix="mayfly-kube-api-") as tmp:
            (Path(tmp) / "chain.pem").write_bytes(chain)
            (Path(tmp) / "key.pem").write_bytes(key)
            self._tls.load_cert_chain(Path(tmp) / "chain.pem", Path(tmp) / "key.pem")
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.cluster = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-kube-api", daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        """`https://127.0.0.1:PORT`: the `k8s-host`, and what MAYFLY_ALLOWED_ENDPOINTS lists."""
        return f"https://127.0.0.1:{self.port}"

    def reviews(self) -> list[SeenReview]:
        with self._lock:
            return list(self._seen)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _review(self, authorization: str, review) -> tuple[int, dict]:
        bearer = authorization[len("Bearer "):].strip() if authorization.startswith("Bearer ") else ""
        spec = review.get("spec") if isinstance(review, dict) else None
        spec = spec if isinstance(spec, dict) else {}
        token = spec.get("token") if isinstance(spec.get("token"), str) else ""
        audiences = [a for a in spec.get("audiences") or [] if isinstance(a, str)]
        if self.reviewer_jwt is not None:
            reviewer_ok = bool(bearer) and bearer == self.reviewer_jwt
        else:
            reviewer_ok = verify_rs256(bearer, self.public_keys, self.issuer, []) is not None
        claims = verify_rs256(token, self.public_keys, self.issuer, audiences) if token else None
        with self._lock:
            self._seen.append(SeenReview(bearer=bearer, audiences=audiences,
                                         authenticated=reviewer_ok and claims is not None))
        if not reviewer_ok:
            return 401, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
        answer = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                  "metadata": {"creationTimestamp": None}, "spec": spec}
        if claims is None:
            answer["status"] = {"authenticated": False,
                                "error": "[invalid bearer token, square/go-jose: error in cryptographic primitive]"}
            return 201, answer
        extra = {}
        pod = ((claims.get("kubernetes.io") or {}).get("pod") or {}).get("name")
        if isinstance(pod, str):
            extra[POD_NAME_EXTRA] = [pod]
        validated = token_audiences(claims)
        if audiences:
            validated = [a for a in validated if a in audiences]
        answer["status"] = {
            "authenticated": True,
            "audiences": validated,
            "user": {"username": claims.get("sub"), "uid": "8d1d1f62-0000-4000-8000-000000000003",
                     "groups": ["system:serviceaccounts"], "extra": extra},
        }
        return 201, answer

