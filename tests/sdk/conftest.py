"""Fixtures for driving the real mayfly-gateway with the official Akeyless Python SDK.

The gateway is started the way the Rust testkit (crates/testkit) starts it: the real binary on a
free loopback port over HTTPS, in a temporary data directory, with a known admin API key given
through MAYFLY_ADMIN_ACCESS_ID / MAYFLY_ADMIN_ACCESS_KEY, and ready once GET /health/ready
answers 200 while trusting the CA the gateway generated in <data-dir>/tls/ca.pem.

Every test that uses the `gateway` fixture runs twice: on SQLite and on PostgreSQL. The
PostgreSQL gateway gets a fresh database for the session (created and dropped with psql); when
no server is reachable it is skipped loudly, or fails with MAYFLY_TEST_REQUIRE_POSTGRES=1.

Each gateway issues its IAM users under its own IAM path (MAYFLY_IAM_USER_PATH), so gateways
sharing one moto never see each other's users.

Tests that issue credentials use moto, the AWS mock that scripts/test.sh starts WITHOUT IAM
auth enforcement (any well-formed key works). When the script was told to enforce auth
(MAYFLY_TEST_MOTO_NO_AUTH_ACTIONS), its moto would refuse made-up keys after a few requests, so
the session starts a private moto without enforcement instead. A missing moto is a failure with
instructions, never a skip: issuance must always be tested. The gateways get the session's moto
URL in MAYFLY_ALLOWED_ENDPOINTS (they refuse loopback endpoints that are not allowed), and the
origin of the session's fake Kubernetes API server (tests/sdk/kube_api.py), which Kubernetes
logins through a k8s auth config send their TokenReviews to.

Environment:
  MAYFLY_GATEWAY_BIN            the binary (default <target>/debug/mayfly-gateway; built if absent)
  MAYFLY_TEST_POSTGRES_URL      PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test)
  MAYFLY_TEST_REQUIRE_POSTGRES  1 = fail instead of skipping when PostgreSQL is unreachable
  MAYFLY_TEST_MOTO_URL          moto's loopback URL (set by scripts/test.sh)
  MAYFLY_TEST_MOTO_NO_AUTH_ACTIONS  non-empty = the script's moto enforces auth (see above)
  MAYFLY_MOTO_SERVER            the moto_server executable for a private moto
                                (default <repo>/.venv/bin/moto_server)
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import akeyless
import boto3
import pytest

import kube_api

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"
READY_TIMEOUT_SECONDS = 30.0
START_ATTEMPTS = 3
LOG_TAIL_LINES = 80

_postgres_skip_reasons: list[str] = []


# ----------------------------------------------------------------------------------------------
# Locating the binary


def gateway_binary() -> Path:
    """The gateway binary: MAYFLY_GATEWAY_BIN, else cargo's target dir (built once if absent)."""
    explicit = os.environ.get("MAYFLY_GATEWAY_BIN")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            pytest.fail(f"MAYFLY_GATEWAY_BIN points to {path}, which does not exist")
        return path
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    path = target / "debug" / "mayfly-gateway"
    if not path.is_file():
        result = subprocess.run(
            ["cargo", "build", "-p", "mayfly-gateway", "--bin", "mayfly-gateway"],
            cwd=REPO_ROOT,
            check=False,
        )
        if result.returncode != 0 or not path.is_file():
            pytest.fail(f"building mayfly-gateway failed (exit {result.returncode}); expected {path}")
    return path


# ----------------------------------------------------------------------------------------------
# PostgreSQL


def postgres_server_url() -> str:
    return os.environ.get("MAYFLY_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def postgres_required() -> bool:
    return os.environ.get("MAYFLY_TEST_REQUIRE_POSTGRES", "").strip() in ("1", "true", "yes")


def with_database(url: str, database: str) -> str:
    """`url` with its database (the path) replaced; user, host, port and query kept."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + database))


def psql(url: str, sql: str) -> subprocess.CompletedProcess:
    if shutil.which("psql") is None:
        raise FileNotFoundError("psql is not installed")
    return subprocess.run(
        ["psql", "-w", "-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
        check=False,
    )


def loud(lines: list[str]) -> None:
    rule = "=" * 78
    # Written to the real stderr (fd 2) so pytest's capture cannot swallow it.
    os.write(2, ("\n" + rule + "\n" + "\n".join(lines) + "\n" + rule + "\n").encode())


def skip_or_fail_postgres(reason: str) -> None:
    if postgres_required():
        pytest.fail(f"POSTGRES SUITE REQUIRED (MAYFLY_TEST_REQUIRE_POSTGRES=1) but {reason}")
    message = f"POSTGRES SUITE SKIPPED: {reason}"
    if message not in _postgres_skip_reasons:
        _postgres_skip_reasons.append(message)
        loud([message])
    pytest.skip(message)


class PostgresDatabase:
    """A fresh `mayfly_test_<uuid>` database, dropped WITH (FORCE) by `drop()`."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.name = f"mayfly_test_{uuid.uuid4().hex}"
        self.url = with_database(server_url, self.name)

    def create(self) -> str | None:
        """Creates the database; returns why not when the server is unreachable."""
        try:
            probe = psql(self.server_url, "SELECT 1")
        except FileNotFoundError as e:
            return str(e)
        if probe.returncode != 0:
            return f"no server reachable at {self.server_url}: {probe.stderr.strip()}"
        created = psql(self.server_url, f'CREATE DATABASE "{self.name}"')
        if created.returncode != 0:
            pytest.fail(f"CREATE DATABASE {self.name} failed: {created.stderr.strip()}")
        return None

    def drop(self) -> None:
        dropped = psql(self.server_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        if dropped.returncode != 0:
            loud([f"could not drop test database {self.name}: {dropped.stderr.strip()}"])


# ----------------------------------------------------------------------------------------------
# The gateway process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def random_admin_credentials() -> tuple[str, str]:
    return "p-" + secrets.token_hex(6), secrets.token_hex(32)


@dataclass
class Gateway:
    """A running mayfly-gateway process and what tests need to know about it."""

    backend: str
    binary: Path
    root: Path
    env: dict[str, str]
    admin_access_id: str
    admin_access_key: str
    iam_user_path: str
    database: PostgresDatabase | None = None
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "gateway.log"

    @property
    def ca_cert_path(self) -> Path:
        return self.data_dir / "tls" / "ca.pem"

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def sqlite_path(self) -> Path | None:
        return None if self.database else self.data_dir / "mayfly.db"

    def logs(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", errors="replace")

    def log_tail(self) -> str:
        lines = self.logs().splitlines()[-LOG_TAIL_LINES:]
        return f"--- last lines of {self.log_path} ---\n" + "\n".join(lines)

    def start(self) -> None:
        """Starts the process and waits for readiness, retrying on a new port on early exit."""
        exits = []
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                log.write(f"=== sdk conftest: starting {self.binary} on 127.0.0.1:{self.port} ===\n".encode())
                log.flush()
                self.process = subprocess.Popen(
                    [str(self.binary), "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                )
            problem = self._wait_until_ready()
            if problem is None:
                return
            code = self.process.poll()
            if code is None:
                self.stop()
                pytest.fail(
                    f"{self.binary} did not answer 200 on /health/ready within "
                    f"{READY_TIMEOUT_SECONDS}s: {problem}\n{self.log_tail()}"
                )
            exits.append(f"attempt {attempt} on port {self.port}: exited with code {code}")
        pytest.fail(f"{self.binary} exited before becoming ready:\n" + "\n".join(exits) + "\n" + self.log_tail())

    def _wait_until_ready(self) -> str | None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        problem = f"{self.ca_cert_path} was not written"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"process exited with code {self.process.returncode}"
            if self.ca_cert_path.is_file():
                try:
                    context = ssl.create_default_context(cafile=str(self.ca_cert_path))
                    conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=2)
                    try:
                        conn.request("GET", "/health/ready")
                        status = conn.getresponse().status
                    finally:
                        conn.close()
                    if status == 200:
                        return None
                    problem = f"/health/ready answered {status}"
                except (OSError, ssl.SSLError, http.client.HTTPException) as e:
                    problem = f"/health/ready: {e!r}"
            time.sleep(0.1)
        return problem

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def make_api(base_url: str, ca_cert: Path) -> akeyless.V2Api:
    configuration = akeyless.Configuration(host=base_url)
    configuration.ssl_ca_cert = str(ca_cert)
    return akeyless.V2Api(akeyless.ApiClient(configuration))


# ----------------------------------------------------------------------------------------------
# Fixtures


@contextlib.contextmanager
def running_gateway(backend, moto_url, kube_api_server, extra_env=None, strip_env_prefixes=()):
    """A real gateway on `backend` ("sqlite" or "postgres", which gets a fresh database),
    stopped and cleaned up on exit.

    The gateway only sends target credentials to AWS's own endpoints and to origins listed in
    MAYFLY_ALLOWED_ENDPOINTS, and TokenReviews only to https origins it allows, so the
    session's moto and fake Kubernetes API server are listed there. `extra_env` is added to
    its environment last; variables starting with one of `strip_env_prefixes` are not
    inherited from this process (MAYFLY_* and DATABASE_URL never are).
    """
    binary = gateway_binary()
    database = None
    if backend == "postgres":
        database = PostgresDatabase(postgres_server_url())
        unreachable = database.create()
        if unreachable is not None:
            skip_or_fail_postgres(unreachable)

    root = Path(tempfile.mkdtemp(prefix="mayfly-sdk-test-"))
    access_id, access_key = random_admin_credentials()
    iam_user_path = f"/mayfly-sdk-{uuid.uuid4().hex}/"
    stripped = ("MAYFLY_", *strip_env_prefixes)
    env = {k: v for k, v in os.environ.items() if not (k.startswith(stripped) or k == "DATABASE_URL")}
    env.update(
        MAYFLY_ADMIN_ACCESS_ID=access_id,
        MAYFLY_ADMIN_ACCESS_KEY=access_key,
        MAYFLY_IAM_USER_PATH=iam_user_path,
        MAYFLY_ALLOWED_ENDPOINTS=f"{moto_url},{kube_api_server.origin}",
        RUST_LOG="info",
        NO_COLOR="1",
    )
    env.update(extra_env or {})
    if database is not None:
        env["DATABASE_URL"] = database.url
    gw = Gateway(
        backend=backend,
        binary=binary,
        root=root,
        env=env,
        admin_access_id=access_id,
        admin_access_key=access_key,
        iam_user_path=iam_user_path,
        database=database,
    )
    try:
        gw.start()
        yield gw
    finally:
        gw.stop()
        if database is not None:
            database.drop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def gateway(request, moto_url, kube_api_server) -> Gateway:
    """A real gateway per database backend, shared by the tests of the session (see
    `running_gateway`)."""
    with running_gateway(request.param, moto_url, kube_api_server) as gw:
        yield gw


@pytest.fixture(scope="session")
def kube_api_server() -> kube_api.KubeApi:
    """A fake Kubernetes API server (HTTPS, its own CA) answering TokenReviews for tokens signed
    with fixture key a, authorized by its `reviewer_jwt` (a kube-system service account's
    token). Started before the gateways, whose MAYFLY_ALLOWED_ENDPOINTS must name it."""
    reviewer = kube_api.sign(kube_api.k8s_claims("kube-system", "mayfly-token-reviewer"))
    server = kube_api.KubeApi(kube_api.KUBE_ISSUER, [kube_api.fixture_public_key("a")], reviewer_jwt=reviewer)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def api(gateway) -> akeyless.V2Api:
    """The official SDK client, pointed at the gateway and trusting its generated CA."""
    client = make_api(gateway.base_url, gateway.ca_cert_path)
    yield client
    client.api_client.close()


@pytest.fixture
def sdk_client(gateway):
    """A factory for extra SDK clients trusting the gateway's CA (e.g. on another base URL)."""
    clients = []

    def make(host: str) -> akeyless.V2Api:
        client = make_api(host, gateway.ca_cert_path)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.api_client.close()


@pytest.fixture(scope="session")
def token(gateway, api) -> str:
    """An admin token obtained through the SDK's `auth`."""
    out = api.auth(akeyless.Auth(access_id=gateway.admin_access_id, access_key=gateway.admin_access_key))
    return out.token


@pytest.fixture
def uid() -> str:
    """A short unique suffix so tests sharing a gateway never collide on names."""
    return uuid.uuid4().hex[:10]


# ----------------------------------------------------------------------------------------------
# moto


MOTO_READY_TIMEOUT_SECONDS = 60.0


def loopback_url(url: str) -> str:
    """`url` without a trailing slash; fails unless it is http(s) on a loopback address, so
    that no test can ever talk to anything but this machine."""
    url = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme not in ("http", "https") or not loopback:
        pytest.fail(f"MAYFLY_TEST_MOTO_URL={url!r}: moto must run on a loopback http(s) address")
    return url


def moto_server_executable() -> Path:
    explicit = os.environ.get("MAYFLY_MOTO_SERVER")
    path = Path(explicit) if explicit else REPO_ROOT / ".venv" / "bin" / "moto_server"
    if not path.is_file():
        pytest.fail(f"no moto_server at {path}: run scripts/test.sh (it installs moto into .venv)")
    return path


def start_private_moto(root: Path) -> tuple[subprocess.Popen, str, Path]:
    """A moto without auth enforcement on a free port; retried on a new port on early exit."""
    executable = moto_server_executable()
    log_path = root / "moto.log"
    env = {k: v for k, v in os.environ.items() if k != "INITIAL_NO_AUTH_ACTION_COUNT"}
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    for _ in range(START_ATTEMPTS):
        port = free_port()
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [str(executable), "-H", "127.0.0.1", "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + MOTO_READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return process, f"http://127.0.0.1:{port}", log_path
            except OSError:
                time.sleep(0.1)
        process.kill()
        process.wait()
    pytest.fail(f"{executable} did not start; log:\n{log_path.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def moto_url() -> str:
    """The URL of a moto without IAM auth enforcement (see the module doc)."""
    if os.environ.get("MAYFLY_TEST_MOTO_NO_AUTH_ACTIONS", "").strip():
        root = Path(tempfile.mkdtemp(prefix="mayfly-sdk-moto-"))
        process, url, _ = start_private_moto(root)
        try:
            yield url
        finally:
            process.kill()
            process.wait()
            shutil.rmtree(root, ignore_errors=True)
        return
    url = os.environ.get("MAYFLY_TEST_MOTO_URL", "")
    if not url.strip():
        pytest.fail(
            "MAYFLY_TEST_MOTO_URL is not set. Run the suite with scripts/test.sh, which starts "
            "moto, or start `MOTO_IAM_LOAD_MANAGED_POLICIES=true .venv/bin/moto_server -H "
            "127.0.0.1 -p PORT` yourself and export MAYFLY_TEST_MOTO_URL=http://127.0.0.1:PORT"
        )
    yield loopback_url(url)


@pytest.fixture(scope="session")
def iam(moto_url):
    """boto3's IAM client on moto, to check what the gateway did (any key works there)."""
    return boto3.client(
        "iam",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for reason in _postgres_skip_reasons:
        terminalreporter.write_sep("=", reason, red=True, bold=True)
