#!/usr/bin/env bash
# Runs Mayfly's whole test suite on a fresh machine; `.ci/run` calls exactly this.
#
# What it does, in order:
#   1. creates ./.venv (python3 -m venv) with the pinned Python tools of tests/requirements.txt
#      (moto[server], the official akeyless SDK, boto3, pytest, schemathesis); skipped when
#      already installed;
#   1b. installs Debian's chromium and chromium-driver with apt-get when missing (the web
#      console's browser test, tests/sdk/test_console_browser.py, drives them);
#   2. starts moto_server on a free loopback port and exports MAYFLY_TEST_MOTO_URL;
#      it is stopped when this script exits, however it exits;
#   3. checks whether PostgreSQL is reachable and says loudly whether its suite runs;
#   4. builds the workspace binaries once (cargo build --workspace --bins --locked);
#   5. runs `cargo test --workspace --locked --no-fail-fast`, then the SDK tests in tests/sdk,
#      then schemathesis against a live gateway (tests/schemathesis/run.py: its /openapi.json,
#      an admin token, at least 1000 generated cases, no 5xx, every response as documented),
#      the import-cycle check of the application core and the gateway
#      (scripts/check-import-cycles.py), the generated-docs check and the deploy checks;
#   6. exits non-zero if anything failed.
#
# Settings (environment variables):
#   MAYFLY_TEST_POSTGRES_URL      PostgreSQL server the tests create their databases on
#                                 (default postgres://postgres@127.0.0.1:5432/test)
#   MAYFLY_TEST_REQUIRE_POSTGRES  1 = an unreachable PostgreSQL is a failure, not a skip (CI)
#   MAYFLY_TEST_MOTO_NO_AUTH_ACTIONS
#                                 moto's IAM auth enforcement. Empty (default): off, moto accepts
#                                 any credentials. A number N: moto serves the first N requests
#                                 without authentication (to bootstrap an admin user), then
#                                 enforces IAM auth (moto's INITIAL_NO_AUTH_ACTION_COUNT).
#   PYTHON                        interpreter used to create .venv (default python3)
#
# Extra arguments are passed to `cargo test` (e.g. a test name filter).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

venv="$repo_root/.venv"
requirements="tests/requirements.txt"
constraints="tests/constraints.txt"
log_dir="$repo_root/target/test-logs"
mkdir -p "$log_dir"

banner() {
    local rule
    rule="$(printf '=%.0s' {1..78})"
    printf '\n%s\n' "$rule"
    printf '%s\n' "$@"
    printf '%s\n\n' "$rule"
}

# --- 1. Python tools -------------------------------------------------------------------------
if [[ -x "$venv/bin/python" ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "test.sh: $venv is broken (its interpreter does not run); recreating it"
    rm -rf "$venv"
fi
if [[ ! -x "$venv/bin/python" ]]; then
    echo "test.sh: creating $venv"
    "${PYTHON:-python3}" -m venv "$venv"
fi
wanted="$(cat "$requirements" "$constraints" | sha256sum | cut -d' ' -f1)"
stamp="$venv/.mayfly-requirements.sha256"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
    echo "test.sh: installing $requirements into $venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        -r "$requirements" -c "$constraints"
    echo "$wanted" >"$stamp"
fi

# --- 1b. Chromium for the console's browser test --------------------------------------------
# Debian's packages (the browser and its WebDriver), as root or with sudo -n; the test fails,
# not skips, when they are missing.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        apt_run=()
        if [[ "$(id -u)" != 0 ]]; then
            if command -v sudo >/dev/null 2>&1; then apt_run=(sudo -n); else apt_run=(false); fi
        fi
        chromium_install() {
            "${apt_run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null 2>&1
        }
        echo "test.sh: installing chromium and chromium-driver (apt-get)"
        chromium_install || { "${apt_run[@]}" apt-get update -qq >/dev/null 2>&1 && chromium_install; } \
            || echo "test.sh: could not install chromium (needs root or sudo -n); the console browser test will fail"
    else
        echo "test.sh: no apt-get: install chromium and its chromedriver yourself; the console browser test will fail"
    fi
fi

# --- 2. moto ---------------------------------------------------------------------------------
moto_pid=""
cleanup() {
    if [[ -n "$moto_pid" ]]; then
        kill "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    "$venv/bin/python" -c \
        'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

moto_env=(MOTO_IAM_LOAD_MANAGED_POLICIES=true)
if [[ -n "${MAYFLY_TEST_MOTO_NO_AUTH_ACTIONS:-}" ]]; then
    moto_env+=("INITIAL_NO_AUTH_ACTION_COUNT=$MAYFLY_TEST_MOTO_NO_AUTH_ACTIONS")
fi

# Start moto; if it dies before listening (port taken between choosing and binding), retry.
moto_log="$log_dir/moto.log"
moto_port=""
for attempt in 1 2 3; do
    port="$(free_port)"
    env "${moto_env[@]}" "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$moto_log" 2>&1 &
    moto_pid=$!
    for _ in $(seq 1 300); do
        if ! kill -0 "$moto_pid" 2>/dev/null; then
            break
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            moto_port="$port"
            break
        fi
        sleep 0.1
    done
    [[ -n "$moto_port" ]] && break
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
    moto_pid=""
    echo "test.sh: moto_server did not start on port $port (attempt $attempt); log:"
    cat "$moto_log"
done
if [[ -z "$moto_port" ]]; then
    echo "test.sh: could not start moto_server" >&2
    exit 1
fi
export MAYFLY_TEST_MOTO_URL="http://127.0.0.1:$moto_port"
# Tests that need a private moto (e.g. one they stop mid-run) start this same executable.
export MAYFLY_MOTO_SERVER="$venv/bin/moto_server"
echo "test.sh: moto_server running at $MAYFLY_TEST_MOTO_URL (pid $moto_pid, log $moto_log)"

# --- 3. PostgreSQL ---------------------------------------------------------------------------
export MAYFLY_TEST_POSTGRES_URL="${MAYFLY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_shown="$(sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$MAYFLY_TEST_POSTGRES_URL")"
pg_problem=""
if command -v psql >/dev/null 2>&1; then
    if ! pg_out="$(PGCONNECT_TIMEOUT=5 psql -w -X -Atq -v ON_ERROR_STOP=1 \
        -d "$MAYFLY_TEST_POSTGRES_URL" -c 'SELECT 1' 2>&1 </dev/null)"; then
        pg_problem="psql: $pg_out"
    fi
elif command -v pg_isready >/dev/null 2>&1; then
    if ! pg_out="$(pg_isready -t 5 -d "$MAYFLY_TEST_POSTGRES_URL" 2>&1)"; then
        pg_problem="pg_isready: $pg_out"
    fi
else
    hostport="$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#' <<<"$MAYFLY_TEST_POSTGRES_URL")"
    pg_host="${hostport%%:*}"
    pg_port="5432"
    [[ "$hostport" == *:* ]] && pg_port="${hostport##*:}"
    if ! (exec 3<>"/dev/tcp/${pg_host:-127.0.0.1}/$pg_port") 2>/dev/null; then
        pg_problem="nothing listens on ${pg_host:-127.0.0.1}:$pg_port"
    fi
fi
if [[ -z "$pg_problem" ]]; then
    pg_summary="POSTGRES SUITE WILL RUN against $pg_shown (a fresh database per gateway)"
    banner "$pg_summary"
elif [[ "${MAYFLY_TEST_REQUIRE_POSTGRES:-}" == "1" ]]; then
    banner "POSTGRES SUITE REQUIRED (MAYFLY_TEST_REQUIRE_POSTGRES=1) BUT UNREACHABLE" \
        "at $pg_shown: $pg_problem"
    exit 1
else
    pg_summary="POSTGRES SUITE SKIPPED: $pg_shown unreachable ($pg_problem)"
    banner "$pg_summary" \
        "Set MAYFLY_TEST_POSTGRES_URL to a reachable server to run it."
fi

# --- 4. build once ---------------------------------------------------------------------------
cargo build --workspace --bins --locked
target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
[[ "$target_dir" == /* ]] || target_dir="$repo_root/$target_dir"
export MAYFLY_GATEWAY_BIN="$target_dir/debug/mayfly-gateway"
export MAYFLY_CLI_BIN="$target_dir/debug/mayfly"

# --- 5. tests --------------------------------------------------------------------------------
cargo_status=0
cargo test --workspace --locked --no-fail-fast "$@" || cargo_status=$?

pytest_status=0
"$venv/bin/python" -m pytest tests/sdk -q -rs || pytest_status=$?

schemathesis_status=0
"$venv/bin/python" tests/schemathesis/run.py || schemathesis_status=$?

cycles_status=0  # no module of the application core or the gateway imports one that imports it back
"$venv/bin/python" scripts/check-import-cycles.py crates/app/src gateway/src crates/identity/src crates/aws/src crates/domain/src crates/crypto/src crates/api-types/src crates/testkit/src crates/bench/src || cycles_status=$?

docs_status=0  # docs/api-reference.md and docs/cli.md match the built binaries
"$venv/bin/python" scripts/gen-api-reference.py --check --bin-dir "$target_dir/debug" || docs_status=$?

deploy_status=0; PYTHON="$venv/bin/python" scripts/check-deploy.sh || deploy_status=$?  # deploy/: Docker, compose, Helm, systemd

# --- 6. verdict ------------------------------------------------------------------------------
verdict() { if [[ "$1" == 0 ]]; then echo "ok"; else echo "FAILED (exit $1)"; fi; }
banner "cargo test: $(verdict "$cargo_status")" \
    "SDK tests (pytest tests/sdk): $(verdict "$pytest_status")" \
    "schemathesis (tests/schemathesis/run.py): $(verdict "$schemathesis_status")" \
    "import cycles (scripts/check-import-cycles.py): $(verdict "$cycles_status")" \
    "generated docs (scripts/gen-api-reference.py --check): $(verdict "$docs_status")" \
    "deploy files (scripts/check-deploy.sh): $(verdict "$deploy_status")" \
    "$pg_summary"
if [[ "$cargo_status" != 0 || "$pytest_status" != 0 || "$schemathesis_status" != 0 || "$cycles_status" != 0 || "$docs_status" != 0 || "$deploy_status" != 0 ]]; then
    exit 1
fi
