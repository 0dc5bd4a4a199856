#!/usr/bin/env python3
"""Runs schemathesis against a live gateway, driven by the gateway's own /openapi.json.

Starts a private moto (the gateway's AWS: schemathesis counts every 5xx as a failure, so AWS
must answer, and fuzzing must not touch the moto other suites share) and the built gateway (a
temporary data directory, a free loopback port, generated TLS, a known admin API key), logs in,
creates the target and producers the document's request
examples name (so those examples exercise real successes, not only 404s), then runs
`schemathesis run` with the admin token as `Authorization: Bearer` and these checks:

  not_a_server_error           no 5xx at all (502/503/504 are documented, but with a working
                               AWS and database none should happen)
  status_code_conformance      every status is one the document lists for the operation
  content_type_conformance     every response is the documented media type
  response_schema_conformance  every body matches its documented schema (closed objects)

Operations that end the caller's own token (revoke-token with no token-to-revoke) run in a
second, last pass, so they cannot turn the rest of the run into a wall of 401s.

It fails (exit 1) if schemathesis reports a failure or generated fewer than MIN_CASES cases.

Environment:
  MAYFLY_GATEWAY_BIN     the gateway binary (default <target>/debug/mayfly-gateway)
  MAYFLY_MOTO_SERVER     the moto_server executable (default: the one next to this Python)
  SCHEMATHESIS_MAX_EXAMPLES  cases per operation and phase (default 25)
  SCHEMATHESIS_SEED      a seed, to replay a run
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_ACCESS_ID = "p-schemathesis01"
ADMIN_ACCESS_KEY = "schemathesis-admin-access-key-0123456789"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
MIN_CASES = 1000
# Operations that revoke the caller's own token: run last, on their own.
SELF_REVOKING = ["revoke-token"]


def log(msg: str) -> None:
    print(f"schemathesis/run.py: {msg}", flush=True)


def gateway_binary() -> Path:
    explicit = os.environ.get("MAYFLY_GATEWAY_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "debug" / "mayfly-gateway"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout}s")


class Moto:
    """A private moto_server without IAM auth enforcement (any made-up key works)."""

    def __init__(self, workdir: Path):
        exe = os.environ.get("MAYFLY_MOTO_SERVER") or str(Path(sys.executable).parent / "moto_server")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = open(workdir / "moto.log", "wb")
        env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
        self.proc = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.proc, "moto_server")
        log(f"moto pid {self.proc.pid} at {self.url}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


class Gateway:
    """The gateway process, its URL and the CA that signed its certificate."""

    def __init__(self, workdir: Path, aws_url: str):
        self.data_dir = workdir / "data"
        self.log_path = workdir / "gateway.log"
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.ca = self.data_dir / "tls" / "ca.pem"
        aws = aws_url
        env = {
            **os.environ,
            "MAYFLY_LISTEN": f"127.0.0.1:{self.port}",
            "MAYFLY_DATA_DIR": str(self.data_dir),
            "MAYFLY_ADMIN_ACCESS_ID": ADMIN_ACCESS_ID,
            "MAYFLY_ADMIN_ACCESS_KEY": ADMIN_ACCESS_KEY,
            "MAYFLY_IAM_USER_PATH": "/mayfly-schemathesis/",
            "AWS_ENDPOINT_URL": aws,
            # Targets may point at this moto too (fuzzed endpoints elsewhere get a 400).
            "MAYFLY_ALLOWED_ENDPOINTS": aws,
            "RUST_LOG": os.environ.get("RUST_LOG", "info"),
        }
        for name in ("DATABASE_URL", "MAYFLY_DATABASE_URL", "MAYFLY_CONFIG"):
            env.pop(name, None)
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(gateway_binary())], env=env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        log(f"gateway pid {self.proc.pid} on {self.url} (AWS endpoint {aws}, log {self.log_path})")

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self.proc.returncode}")
            if self.ca.exists():
                try:
                    status, _ = self.request("GET", "/health/ready")
                    if status == 200:
                        return
                except (OSError, ssl.SSLError):
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"the gateway was not ready within {timeout}s")

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self.context(), timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


def example(document: dict, path: str) -> dict | None:
    post = document["paths"].get(path, {}).get("post", {})
    return post.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")


def seed(gateway: Gateway, token: str, document: dict) -> None:
    """Creates what the request examples name: a target and a producer, plus a spare of each
    for the delete examples to delete."""
    target = example(document, "/create-aws-target")
    producer = example(document, "/gateway-create-producer-aws")
    retired_target = (example(document, "/delete-target") or {}).get("name")
    retired_producer = (example(document, "/gateway-delete-producer") or {}).get("name")
    if not target or not producer:
        raise RuntimeError("the document has no create examples to seed from")
    bodies = [("/create-aws-target", target), ("/gateway-create-producer-aws", producer)]
    if retired_target:
        bodies.append(("/create-aws-target", {**target, "name": retired_target}))
    if retired_producer:
        bodies.append(("/gateway-create-producer-aws", {**producer, "name": retired_producer}))
    for path, body in bodies:
        status, answer = gateway.request("POST", path, {**body, "token": token})
        if status != 200:
            raise RuntimeError(f"seeding {path} {body['name']}: {status} {answer}")
        log(f"seeded {path} {body['name']}")


def schemathesis(gateway: Gateway, token: str, workdir: Path, name: str, extra: list[str]) -> tuple[int, int]:
    """One `schemathesis run`; returns (exit code, generated cases)."""
    exe = Path(sys.executable).parent / "schemathesis"
    if not exe.exists():
        exe = Path(shutil.which("schemathesis") or "schemathesis")
    cmd = [
        str(exe),
        "run",
        f"{gateway.url}/openapi.json",
        "--tls-verify",
        str(gateway.ca),
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"),
        "--request-timeout",
        "40",
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-junit-path",
        str(REPO_ROOT / "target" / "test-logs" / f"schemathesis-{name}.xml"),
        "--no-color",
        *extra,
    ]
    if os.environ.get("SCHEMATHESIS_SEED"):
        cmd += ["--seed", os.environ["SCHEMATHESIS_SEED"]]
    shown = [("Authorization: Bearer ***" if c.startswith("Authorization:") else c) for c in cmd]
    log("running: " + " ".join(shown))
    out = subprocess.run(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(out.stdout, flush=True)
    match = re.search(r"(\d+) generated", out.stdout)
    return out.returncode, int(match.group(1)) if match else 0


def main() -> int:
    (REPO_ROOT / "target" / "test-logs").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="mayfly-schemathesis-"))
    started = time.monotonic()
    moto = Moto(workdir)
    try:
        gateway = Gateway(workdir, moto.url)
    except Exception:
        moto.stop()
        raise
    ok = False
    try:
        gateway.wait_ready()
        status, auth = gateway.request(
            "POST",
            "/auth",
            {"access-id": ADMIN_ACCESS_ID, "access-key": ADMIN_ACCESS_KEY, "access-type": "access_key"},
        )
        if status != 200:
            raise RuntimeError(f"admin login failed: {status} {auth}")
        token = auth["token"]
        # Fetched without a token: the document is public.
        status, document = gateway.request("GET", "/openapi.json")
        if status != 200 or not str(document.get("openapi", "")).startswith("3."):
            raise RuntimeError(f"GET /openapi.json: {status}")
        status, prefixed = gateway.request("GET", "/api/v2/openapi.json")
        if status != 200 or prefixed != document:
            raise RuntimeError(f"GET /api/v2/openapi.json: {status}, differs from /openapi.json")
        seed(gateway, token, document)

        last = [op for op in SELF_REVOKING if f"/{op}" in document["paths"]]
        exclude = [arg for op in last for arg in ("--exclude-operation-id", op)]
        code, cases = schemathesis(gateway, token, workdir, "main", exclude)
        codes = [code]
        if last:
            include = [arg for op in last for arg in ("--include-operation-id", op)]
            code2, cases2 = schemathesis(gateway, token, workdir, "self-revoking", include)
            codes.append(code2)
            cases += cases2
        elapsed = time.monotonic() - started
        log(f"{cases} generated cases in {elapsed:.0f}s; schemathesis exit codes {codes}")
        if cases < MIN_CASES:
            log(f"FAILED: fewer than {MIN_CASES} generated cases")
        ok = all(c == 0 for c in codes) and cases >= MIN_CASES
    except Exception as e:  # noqa: BLE001 - report any setup failure with the gateway's log
        log(f"FAILED: {e}")
    finally:
        gateway.stop()
        moto.stop()
        kept = REPO_ROOT / "target" / "test-logs" / "schemathesis-gateway.log"
        shutil.copyfile(gateway.log_path, kept)
        log(f"gateway log kept in {kept}")
        if not ok:
            log("gateway log, last 60 lines:")
            lines = gateway.log_path.read_text(errors="replace").splitlines()
            print("\n".join(lines[-60:]), flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
