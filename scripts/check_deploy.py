#!/usr/bin/env python3
"""The Python half of scripts/check-deploy.sh, which runs each step with its interpreter
($PYTHON, else ./.venv/bin/python) from the repository root:

  check_deploy.py static
      steps 2-4: yamllint on the hand-written YAML, the structure of compose.yaml,
      compose.ha.yaml and haproxy.cfg, and Helm lint/render through helm-python-sdk. Prints
      "ok"/"FAIL" per check; exits 1 if any check failed.
  check_deploy.py chart-tls DIR
      step 7: writes the TLS Secret the chart generates (tls.crt, tls.key, ca.crt) into DIR.
  check_deploy.py proxy-logins LB_PORT GW1_PORT GW2_PORT CA ADMIN_ID ADMIN_KEY
      step 8: logins through HAProxy from 127.0.0.2 and 127.0.0.3; exits non-zero with the
      reason on stderr when the PROXY v2 header does not name the clients.
  check_deploy.py free-port
      prints a free loopback TCP port.

See scripts/check-deploy.sh for what each step checks and why.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import re
import socket
import ssl
import sys

import yaml

errors: list[str] = []


def problem(msg: str) -> None:
    errors.append(msg)
    print(f"  FAIL {msg}")


def ok(msg: str) -> None:
    print(f"  ok   {msg}")


# yamllint: the same rules for hand-written files and rendered manifests.
YAMLLINT_CONFIG = """
extends: default
rules:
  document-start: disable
  line-length: {max: 130}
  truthy: {allowed-values: ["true", "false"], check-keys: false}
  comments: {min-spaces-from-content: 1}
  comments-indentation: disable
  indentation: {spaces: consistent, indent-sequences: whatever}
  empty-lines: {max: 2, max-end: 1}
"""


# Rendered manifests carry base64 blobs (certificates) on one line: no line length there.
YAMLLINT_RENDERED = YAMLLINT_CONFIG.replace("line-length: {max: 130}", "line-length: disable")


def yamllint(files: dict[str, str], label: str, config: str = YAMLLINT_CONFIG) -> None:
    """Lints {name: text}; `label` names the set in the summary line."""
    from yamllint import config as ylconfig
    from yamllint import linter

    conf = ylconfig.YamlLintConfig(config)
    bad = False
    for name, text in files.items():
        for p in linter.run(text, conf, name):
            if p.level == "error":
                bad = True
                problem(f"yamllint {name}:{p.line}:{p.column}: {p.desc} ({p.rule})")
    if not bad:
        ok(f"yamllint {label}")


# ---- 2. hand-written YAML ----
HAND_WRITTEN = [
    "deploy/compose.yaml",
    "deploy/compose.ha.yaml",
    "deploy/helm/mayfly/Chart.yaml",
    "deploy/helm/mayfly/values.yaml",
]


def check_hand_written_yaml() -> None:
    yamllint({p: open(p, encoding="utf-8").read() for p in HAND_WRITTEN}, ", ".join(HAND_WRITTEN))


# ---- 3. compose ----
INTERP = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
VALID_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def env_of(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def check_interpolation(path: str) -> None:
    text = open(path, encoding="utf-8").read()
    # Every "${" must start a well-formed ${VAR}, ${VAR:-x}, ${VAR:?msg} ...; "$$" escapes.
    stripped = text.replace("$$", "")
    starts = stripped.count("${")
    good = len(INTERP.findall(stripped))
    if starts != good:
        problem(f"{path}: {starts - good} malformed ${{...}} interpolation(s)")
    else:
        ok(f"{path}: {good} interpolations well-formed")


def check_compose(path: str) -> dict:
    check_interpolation(path)
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)  # also expands the x-gateway anchors and merge keys
    services = doc.get("services")
    if not isinstance(services, dict) or not services:
        problem(f"{path}: no services")
        return {}
    declared_volumes = set((doc.get("volumes") or {}).keys())
    for name, svc in services.items():
        if not isinstance(svc, dict):
            problem(f"{path}: service {name} is not a mapping")
            continue
        if "image" not in svc and "build" not in svc:
            problem(f"{path}: service {name} has neither image nor build")
        hc = svc.get("healthcheck")
        if hc is not None and not (isinstance(hc.get("test"), list) and hc["test"]):
            problem(f"{path}: service {name}: healthcheck.test must be a non-empty list")
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        for dep, spec in deps.items():
            if dep not in services:
                problem(f"{path}: {name} depends on unknown service {dep}")
                continue
            cond = (spec or {}).get("condition", "service_started")
            if cond not in VALID_CONDITIONS:
                problem(f"{path}: {name} -> {dep}: unknown condition {cond}")
            if cond == "service_healthy" and "healthcheck" not in services[dep]:
                problem(f"{path}: {name} waits for {dep} healthy, but {dep} has no healthcheck")
            if services[dep].get("profiles") and not svc.get("profiles"):
                problem(f"{path}: {name} (always on) depends on {dep}, which is in a profile")
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
            if source and not source.startswith((".", "/", "~")) and source not in declared_volumes:
                problem(f"{path}: {name} uses undeclared volume {source}")
        for port in svc.get("ports") or []:
            if not re.fullmatch(r"(?:[\d.]+:)?(?:\$\{[^}]+\}|\d+):\d+(?:/(?:tcp|udp))?", str(port)):
                problem(f"{path}: {name}: unexpected port syntax {port!r}")
        for key in ("profiles",):
            if key in svc and not (isinstance(svc[key], list) and all(isinstance(p, str) for p in svc[key])):
                problem(f"{path}: {name}: {key} must be a list of names")
    return services


def gateway_env_ok(path: str, name: str, svc: dict) -> None:
    env = env_of(svc)
    for key in ("DATABASE_URL", "MAYFLY_MASTER_KEY"):
        if not env.get(key):
            problem(f"{path}: {name} lacks {key}")
    if not str(env.get("DATABASE_URL", "")).startswith("postgres://"):
        problem(f"{path}: {name}: DATABASE_URL is not a postgres:// URL")
    if "?" not in str(env.get("MAYFLY_MASTER_KEY", "")):
        problem(f"{path}: {name}: MAYFLY_MASTER_KEY must be required (${{MAYFLY_MASTER_KEY:?...}})")
    deps = svc.get("depends_on") or {}
    if (deps.get("db") or {}).get("condition") != "service_healthy":
        problem(f"{path}: {name} must wait for db to be healthy")



def check_compose_files() -> None:
    single = check_compose("deploy/compose.yaml")
    if single:
        for required in ("db", "gateway", "moto"):
            if required not in single:
                problem(f"deploy/compose.yaml: no service {required}")
        if {"db", "gateway", "moto"} <= single.keys():
            db = single["db"]
            if not str(db.get("image", "")).startswith("postgres:16"):
                problem("deploy/compose.yaml: db must be postgres:16")
            if "healthcheck" not in db:
                problem("deploy/compose.yaml: db has no healthcheck")
            gateway_env_ok("deploy/compose.yaml", "gateway", single["gateway"])
            if not any(str(p).endswith(":8000") for p in single["gateway"].get("ports") or []):
                problem("deploy/compose.yaml: gateway does not publish port 8000")
            if "AWS_ENDPOINT_URL" not in env_of(single["gateway"]):
                problem("deploy/compose.yaml: gateway cannot be pointed at moto (AWS_ENDPOINT_URL)")
            moto = single["moto"]
            if moto.get("profiles") != ["demo"]:
                problem("deploy/compose.yaml: moto must be in the demo profile only")
            if str(env_of(moto).get("MOTO_IAM_LOAD_MANAGED_POLICIES")).lower() != "true":
                problem("deploy/compose.yaml: moto needs MOTO_IAM_LOAD_MANAGED_POLICIES=true")
            if single["gateway"].get("profiles") or db.get("profiles"):
                problem("deploy/compose.yaml: db and gateway must run without a profile")
        ok("deploy/compose.yaml: structure checked")

    ha = check_compose("deploy/compose.ha.yaml")
    if ha:
        gateways = sorted(n for n, s in ha.items() if "MAYFLY_MASTER_KEY" in env_of(s))
        if len(gateways) < 2:
            problem(f"deploy/compose.ha.yaml: {len(gateways)} gateway(s), need at least 2")
        for name in gateways:
            gateway_env_ok("deploy/compose.ha.yaml", name, ha[name])
            env = env_of(ha[name])
            if not (env.get("MAYFLY_TLS_CERT") and env.get("MAYFLY_TLS_KEY")):
                problem(f"deploy/compose.ha.yaml: {name} must use the shared certificate (MAYFLY_TLS_CERT/KEY)")
            if ha[name].get("ports"):
                problem(f"deploy/compose.ha.yaml: {name} publishes ports; only the load balancer should")
        for key in ("DATABASE_URL", "MAYFLY_MASTER_KEY", "MAYFLY_TLS_CERT", "MAYFLY_TLS_KEY"):
            values = {str(env_of(ha[n]).get(key)) for n in gateways}
            if len(values) != 1:
                problem(f"deploy/compose.ha.yaml: gateways disagree on {key}: {values}")
        mounts = {tuple(ha[n].get("volumes") or []) for n in gateways}
        if len(mounts) != 1:
            problem("deploy/compose.ha.yaml: gateways must mount the same certificate files")
        lb = ha.get("lb")
        if not lb:
            problem("deploy/compose.ha.yaml: no lb service")
        else:
            if not any(str(p).endswith(":8000") for p in lb.get("ports") or []):
                problem("deploy/compose.ha.yaml: lb does not publish port 8000")
            cfg_mount = next((v for v in lb.get("volumes") or [] if "haproxy.cfg" in v), None)
            if cfg_mount is None:
                problem("deploy/compose.ha.yaml: lb does not mount haproxy.cfg")
            cfg = open("deploy/haproxy/haproxy.cfg", encoding="utf-8").read()
            servers = set(re.findall(r"^\s*server\s+\S+\s+([\w.-]+):8000\b", cfg, re.M))
            if servers != set(gateways):
                problem(f"deploy/haproxy/haproxy.cfg: backends {sorted(servers)} != gateways {gateways}")
            if not re.search(r"^\s*mode\s+tcp\b", cfg, re.M):
                problem("deploy/haproxy/haproxy.cfg: must pass TLS through (mode tcp)")
            if not re.search(r"http-check send .*uri /health/ready\b", cfg):
                problem("deploy/haproxy/haproxy.cfg: health check must use /health/ready")
            if not re.search(r"\bcheck-ssl\b", cfg):
                problem("deploy/haproxy/haproxy.cfg: health check must speak TLS (check-ssl)")
            if not re.search(r"^\s*bind\s+\S*:8000\b", cfg, re.M):
                problem("deploy/haproxy/haproxy.cfg: must listen on 8000")
            # HAProxy names each client in a PROXY v2 header; the gateways must trust exactly the
            # lb's fixed address (a gateway not trusting it refuses the connections).
            if not re.search(r"\bsend-proxy-v2\b", cfg) or not re.search(r"\bcheck-send-proxy\b", cfg):
                problem("deploy/haproxy/haproxy.cfg: servers must send-proxy-v2 (and check-send-proxy)")
            lb_nets = lb.get("networks") or {}
            lb_ips = {str((v or {}).get("ipv4_address")) for v in lb_nets.values()} if isinstance(lb_nets, dict) else set()
            trusted = {str(env_of(ha[n]).get("MAYFLY_TRUSTED_PROXIES")) for n in gateways}
            if len(lb_ips) != 1 or trusted != lb_ips:
                problem(f"deploy/compose.ha.yaml: gateways' MAYFLY_TRUSTED_PROXIES {trusted} must be lb's fixed address {lb_ips}")
        ok("deploy/compose.ha.yaml + haproxy.cfg: structure checked")


# ---- 4. Helm ----
CHART = "deploy/helm/mayfly"
PG = "postgres://mayfly:secret@db.example:5432/mayfly"
KEY = "k1:" + "A" * 43 + "="


def check_helm() -> None:
    try:
        import helm_python as helm
    except ImportError as e:  # pragma: no cover - the requirements install it
        problem(f"helm-python-sdk not importable ({e}); run scripts/test.sh to install tests/requirements.txt")
        helm = None

    if helm is not None:
        print(f"  helm SDK {helm.helm_sdk_version()} (helm-c {helm.helm_c_version()})")

        def lint(values: dict, label: str) -> None:
            report = helm.lint(CHART, values=values, strict=True)
            msgs = report.get("messages") or []
            serious = [m for m in msgs if m.get("severity", 0) >= 2] + [
                {"error": e} for e in report.get("errors") or []
            ]
            if serious:
                problem(f"helm lint --strict ({label}): {serious}")
            else:
                ok(f"helm lint --strict ({label})")

        def render(values: dict, label: str) -> dict[str, list[dict]]:
            try:
                with helm.Chart.load(CHART) as chart:
                    manifests = chart.render(values, name="mayfly", namespace="mayfly-ns")
            except Exception as e:  # HelmRenderError
                problem(f"helm template ({label}) failed: {e}")
                return {}
            docs: dict[str, list[dict]] = {}
            rendered = {
                f"{name} ({label})": text
                for name, text in sorted(manifests.items())
                if not name.endswith("NOTES.txt") and text.strip()
            }
            for name, text in rendered.items():
                try:
                    docs[name] = [d for d in yaml.safe_load_all(text) if d is not None]
                except yaml.YAMLError as e:
                    problem(f"helm template: {name} is not valid YAML: {e}")
            yamllint(rendered, f"{len(rendered)} rendered manifests ({label})", YAMLLINT_RENDERED)
            for name, items in docs.items():
                for d in items:
                    if not (d.get("apiVersion") and d.get("kind") and (d.get("metadata") or {}).get("name")):
                        problem(f"helm template ({label}): {name}: a document without apiVersion/kind/name")
            return docs

        def by_kind(docs: dict[str, list[dict]]) -> dict[str, list[dict]]:
            out: dict[str, list[dict]] = {}
            for items in docs.values():
                for d in items:
                    out.setdefault(d["kind"], []).append(d)
            return out

        def render_quietly(values: dict) -> None:
            """Renders with stderr silenced: Helm's Go side logs every `fail` call there, and the
            exception carries the same message."""
            import os

            sys.stderr.flush()
            saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            try:
                with helm.Chart.load(CHART) as chart:
                    chart.render(values, name="mayfly", namespace="mayfly-ns")
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                os.close(devnull)

        def expect_fail(values: dict, needle: str, label: str) -> None:
            try:
                render_quietly(values)
            except Exception as e:  # HelmRenderError; any failure must name the cause
                if needle in str(e):
                    ok(f"helm template refuses {label}")
                else:
                    problem(f"helm template ({label}) failed, but not with {needle!r}: {e}")
                return
            problem(f"helm template accepted {label}; it must fail")

        def check_deployment(kinds: dict, label: str, replicas, scheme: str) -> dict:
            deps = kinds.get("Deployment") or []
            if len(deps) != 1:
                problem(f"{label}: expected one Deployment, got {len(deps)}")
                return {}
            dep = deps[0]
            spec = dep["spec"]
            if spec.get("replicas") != replicas:
                problem(f"{label}: replicas {spec.get('replicas')} != {replicas}")
            pod = spec["template"]["spec"]
            psc = pod.get("securityContext") or {}
            if not (psc.get("runAsNonRoot") and psc.get("runAsUser") == 10001):
                problem(f"{label}: pod must run as non-root uid 10001")
            (c,) = pod["containers"]
            sc = c.get("securityContext") or {}
            if not (sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False):
                problem(f"{label}: container must have a read-only root fs and no privilege escalation")
            probes = {k: c.get(k, {}).get("httpGet", {}) for k in ("livenessProbe", "readinessProbe")}
            if probes["livenessProbe"].get("path") != "/health":
                problem(f"{label}: liveness probe must be /health")
            if probes["readinessProbe"].get("path") != "/health/ready":
                problem(f"{label}: readiness probe must be /health/ready")
            for k, p in probes.items():
                if p.get("scheme") != scheme:
                    problem(f"{label}: {k} scheme {p.get('scheme')} != {scheme}")
            if [p.get("containerPort") for p in c.get("ports", [])] != [8000]:
                problem(f"{label}: container port must be 8000")
            mounts = {m["mountPath"] for m in c.get("volumeMounts") or []}
            if not {"/data", "/tmp"} <= mounts:
                problem(f"{label}: /data and /tmp must be writable volumes (read-only root fs)")
            env = {e["name"]: e for e in c.get("env") or []}
            svc = kinds.get("Service") or [{}]
            if [p.get("port") for p in svc[0].get("spec", {}).get("ports", [])] != [8000]:
                problem(f"{label}: Service must expose 8000")
            return env

        # One gateway on SQLite: renders, no PDB (one pod cannot survive its own eviction).
        values = {"replicaCount": 1, "persistence": {"enabled": True}}
        lint(values, "1 replica, SQLite")
        kinds = by_kind(render(values, "1 replica, SQLite"))
        env = check_deployment(kinds, "1 replica, SQLite", 1, "HTTPS")
        if "DATABASE_URL" in env or "MAYFLY_MASTER_KEY" in env:
            problem("1 replica, SQLite: no DATABASE_URL / MAYFLY_MASTER_KEY expected")
        if "PodDisruptionBudget" in kinds:
            problem("1 replica, SQLite: a PDB with one replica blocks node drains")
        if "PersistentVolumeClaim" not in kinds:
            problem("1 replica, SQLite: persistence.enabled must create a PVC")
        if kinds.get("Deployment") and kinds["Deployment"][0]["spec"].get("strategy", {}).get("type") != "Recreate":
            problem("1 replica, SQLite: rollouts must not run two pods on one SQLite file (Recreate)")
        ok("1 replica, SQLite: rendered and checked")

        # Three gateways on PostgreSQL with inline values: chart Secret, generated shared TLS, PDB.
        values = {"replicaCount": 3, "database": {"url": PG}, "masterKey": {"value": KEY}}
        lint(values, "3 replicas, PostgreSQL")
        kinds = by_kind(render(values, "3 replicas, PostgreSQL"))
        env = check_deployment(kinds, "3 replicas, PostgreSQL", 3, "HTTPS")
        for key in ("DATABASE_URL", "MAYFLY_MASTER_KEY", "MAYFLY_TLS_CERT", "MAYFLY_TLS_KEY"):
            if key not in env:
                problem(f"3 replicas, PostgreSQL: env {key} missing")
        secrets = {s["metadata"]["name"]: s for s in kinds.get("Secret", [])}
        chart_secret = secrets.get("mayfly", {}).get("data", {})
        if base64.b64decode(chart_secret.get("DATABASE_URL", "")).decode() != PG:
            problem("3 replicas, PostgreSQL: chart Secret does not hold the database URL")
        tls = secrets.get("mayfly-tls", {})
        if tls.get("type") != "kubernetes.io/tls" or not all(
            base64.b64decode(tls.get("data", {}).get(k, "")).startswith(b"-----BEGIN")
            for k in ("tls.crt", "tls.key", "ca.crt")
        ):
            problem("3 replicas, PostgreSQL: generated TLS Secret missing or not PEM")
        if not kinds.get("PodDisruptionBudget"):
            problem("3 replicas, PostgreSQL: PDB expected")
        ok("3 replicas, PostgreSQL: rendered and checked")

        # Existing Secrets, HPA, plain HTTP behind a proxy.
        values = {
            "replicaCount": 2,
            "database": {"existingSecret": "pg", "existingSecretKey": "url"},
            "masterKey": {"existingSecret": "mk"},
            "admin": {"existingSecret": "admin"},
            "tls": {"insecurePlainHttp": True},
            "hpa": {"enabled": True, "minReplicas": 2, "maxReplicas": 5},
            "extraEnv": [{"name": "AWS_ENDPOINT_URL", "value": "http://moto:5000"}],
            "trustedProxies": "10.0.0.0/16, 10.1.0.0/16",
            "cloudIdentity": {
                "targets": "/platform/*",
                "irsaRoleArn": "arn:aws:iam::123456789012:role/mayfly-gateway",
            },
            "serviceAccount": {"annotations": {"team": "platform"}},
        }
        lint(values, "existing Secrets, HPA, plain HTTP")
        kinds = by_kind(render(values, "existing Secrets, HPA, plain HTTP"))
        env = check_deployment(kinds, "existing Secrets, HPA, plain HTTP", None, "HTTP")
        ref = (env.get("DATABASE_URL") or {}).get("valueFrom", {}).get("secretKeyRef", {})
        if ref != {"name": "pg", "key": "url"}:
            problem(f"existing Secrets: DATABASE_URL must come from secret pg/url, got {ref}")
        if kinds.get("Secret"):
            problem("existing Secrets: the chart must not create Secrets")
        hpa = (kinds.get("HorizontalPodAutoscaler") or [{}])[0].get("spec", {})
        if (hpa.get("minReplicas"), hpa.get("maxReplicas")) != (2, 5):
            problem("existing Secrets, HPA: HorizontalPodAutoscaler 2..5 expected")
        cm = (kinds.get("ConfigMap") or [{}])[0].get("data", {})
        if cm.get("MAYFLY_INSECURE_PLAIN_HTTP") != "true":
            problem("plain HTTP: MAYFLY_INSECURE_PLAIN_HTTP must be set")
        if cm.get("MAYFLY_TRUSTED_PROXIES") != "10.0.0.0/16, 10.1.0.0/16":
            problem("trustedProxies: MAYFLY_TRUSTED_PROXIES must be set from it")
        if cm.get("MAYFLY_CLOUD_IDENTITY_TARGETS") != "/platform/*":
            problem("cloudIdentity.targets: MAYFLY_CLOUD_IDENTITY_TARGETS must be set from it")
        sa = ((kinds.get("ServiceAccount") or [{}])[0].get("metadata") or {}).get("annotations") or {}
        if sa != {"team": "platform", "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/mayfly-gateway"}:
            problem(f"cloudIdentity.irsaRoleArn: the service account's IRSA annotation (beside the others) expected, got {sa}")
        ok("existing Secrets, HPA, plain HTTP, trusted proxies, IRSA: rendered and checked")

        # What the chart must refuse.
        expect_fail({"replicaCount": 3}, "needs PostgreSQL", "replicaCount 3 on SQLite")
        expect_fail({}, "needs PostgreSQL", "the defaults (2 replicas) without a database")
        expect_fail({"replicaCount": 1, "hpa": {"enabled": True}}, "needs PostgreSQL", "hpa on SQLite")
        expect_fail({"replicaCount": 3, "database": {"url": PG}}, "shared master key",
                    "replicaCount 3 without a master key")
        expect_fail({"replicaCount": 1, "tls": {"cert": "x"}}, "tls.cert and tls.key", "half a certificate")


def static_checks() -> int:
    """Steps 2-4 (YAML, compose, Helm); 1 if any check failed."""
    check_hand_written_yaml()
    check_compose_files()
    check_helm()
    if errors:
        print(f"\ncheck-deploy: {len(errors)} problem(s) in YAML/compose/Helm checks", file=sys.stderr)
        return 1
    return 0


def write_chart_tls(out_dir: str) -> None:
    """Step 7: the TLS Secret the chart generates, written out as the pod would see it."""
    import helm_python as helm

    with helm.Chart.load("deploy/helm/mayfly") as chart:
        manifests = chart.render({"replicaCount": 1}, name="mayfly", namespace="mayfly-ns")
    secret = yaml.safe_load(manifests["mayfly/templates/tls-secret.yaml"])
    for key in ("tls.crt", "tls.key", "ca.crt"):
        with open(f"{out_dir}/{key}", "wb") as f:
            f.write(base64.b64decode(secret["data"][key]))


def proxy_logins(lb: str, p1: str, p2: str, ca: str, admin_id: str, admin_key: str) -> None:
    """Step 8: client addresses through HAProxy's PROXY v2 header. A guesser at 127.0.0.2 is
    throttled, a client at 127.0.0.3 logs in at once, and each gateway's audit trail names
    both. Exits with the reason when not; prints a summary when so."""
    ctx = ssl.create_default_context(cafile=ca)

    def post(port, path, body, source="127.0.0.1"):
        c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=10,
                                        source_address=(source, 0))
        c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, (json.loads(data) if data else {})

    def login(key, source, port=lb):
        return post(port, "/auth", {"access-id": admin_id, "access-key": key}, source)[0]

    guesses = [login("wrong-key-wrong-key-0", "127.0.0.2") for _ in range(32)]
    if set(guesses) - {401, 429} or guesses.count(429) < 20:
        sys.exit(f"32 wrong logins from 127.0.0.2 answered {guesses}: expected 401s, then 429s")
    if login(admin_key, "127.0.0.2") != 429:
        sys.exit("the guessing client was not throttled (its right key went through at once)")
    others = [login(admin_key, "127.0.0.3") for _ in range(2)]
    if others != [200, 200]:
        sys.exit(f"a client at 127.0.0.3 was slowed by 127.0.0.2's guesses: {others}")
    seen = set()
    for port in (p1, p2):
        # Straight to the gateway: 127.0.0.1 is trusted but sends no header, so it is itself.
        status, auth = post(port, "/auth", {"access-id": admin_id, "access-key": admin_key})
        if status != 200:
            sys.exit(f"admin login at gateway port {port}: {status} {auth}")
        status, page = post(port, "/get-audit-events",
                            {"token": auth["token"], "operation": "auth", "limit": 1000})
        if status != 200:
            sys.exit(f"get-audit-events at gateway port {port}: {status} {page}")
        for e in page["events"]:
            seen.add((e["client_address"], e["outcome"]))
    if not {("127.0.0.2", "denied"), ("127.0.0.2", "rate_limited"), ("127.0.0.3", "ok")} <= seen:
        sys.exit(f"the audit trail does not name the clients behind HAProxy: {sorted(seen)}")
    if any(addr == "127.0.0.1" and outcome != "ok" for addr, outcome in seen):
        sys.exit(f"refusals were recorded under HAProxy's address: {sorted(seen)}")
    print(f"guesses: {guesses.count(401)} x 401, {guesses.count(429)} x 429; audit: {sorted(seen)}")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("static", help="steps 2-4: YAML, compose, Helm")
    tls = commands.add_parser("chart-tls", help="step 7: write the chart's generated TLS Secret")
    tls.add_argument("dir")
    logins = commands.add_parser("proxy-logins", help="step 8: client addresses through HAProxy")
    for name in ("lb", "p1", "p2", "ca", "admin_id", "admin_key"):
        logins.add_argument(name)
    commands.add_parser("free-port", help="print a free loopback port")
    args = parser.parse_args()
    if args.command == "static":
        return static_checks()
    if args.command == "chart-tls":
        write_chart_tls(args.dir)
    elif args.command == "proxy-logins":
        proxy_logins(args.lb, args.p1, args.p2, args.ca, args.admin_id, args.admin_key)
    else:
        print(free_port())
    return 0


if __name__ == "__main__":
    sys.exit(main())
