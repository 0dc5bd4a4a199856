#!/usr/bin/env bash
# Mayfly in five minutes, against moto (an AWS emulator), printing each step.
#
# It needs no AWS account and no running gateway:
#   1. starts moto from ./.venv (creating .venv like scripts/test.sh when it is missing) on a
#      free loopback port, and creates an IAM role in it for the assume_role producer;
#   2. starts its own gateway (target/release or target/debug mayfly-gateway, built with cargo
#      when neither exists) on a free loopback port with a temporary data directory and a
#      throw-away admin key;
#   3. with the `mayfly` CLI: creates a target, one producer of each mode (iam_user,
#      assume_role, federation_token, session_token), fetches a credential from each and USES
#      it (STS GetCallerIdentity, and for the IAM user an IAM call, with boto3), lists the tmp
#      creds, revokes the iam_user ones, lists again, shows the audit trail, and cleans up.
# Everything it started is stopped when it exits, however it exits.
#
# To run the steps against the gateway you already run (the README's first command), set
#   MAYFLY_DEMO_GATEWAY_URL=https://localhost:8000
#   MAYFLY_ACCESS_ID=p-... MAYFLY_ACCESS_KEY=...      (the admin key, from ./data/admin-credentials)
#   MAYFLY_CA_CERT=./data/tls/ca.pem                  (the default)
# The demo then creates its items under a unique folder /demo-XXXX, points its target at its
# own moto (the target's iam-endpoint / sts-endpoint), and deletes them at the end. A gateway
# only sends credentials to AWS's own endpoints and to origins its operator allows, so start
# that gateway with MAYFLY_ALLOWED_ENDPOINTS=http://127.0.0.1:5000 (for example) and give the
# demo the same port: MAYFLY_DEMO_MOTO_PORT=5000.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
venv="$repo_root/.venv"

# --- output helpers ----------------------------------------------------------------------------
step_no=0
step() {
    step_no=$((step_no + 1))
    printf '\n\033[1m== %d. %s\033[0m\n' "$step_no" "$*"
}
say() { printf '%s\n' "$*"; }
die() {
    printf 'demo.sh: %s\n' "$*" >&2
    exit 1
}
# Prints a command (on stderr, so that it shows when stdout is piped) and runs it.
show() {
    printf '\033[36m$ %s\033[0m\n' "$*" >&2
    "$@"
}

# --- what we start, and how it is stopped ------------------------------------------------------
work_dir="$(mktemp -d "${TMPDIR:-/tmp}/mayfly-demo.XXXXXX")"
moto_pid=""
gateway_pid=""
cleanup_items=""   # set once items exist on a gateway we did not start
cleanup() {
    local status=$?
    set +e
    if [[ -n "$cleanup_items" ]]; then
        "$cleanup_items" >/dev/null 2>&1
    fi
    for pid in "$gateway_pid" "$moto_pid"; do
        if [[ -n "$pid" ]]; then
            kill "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    if [[ $status != 0 ]]; then
        printf '\ndemo.sh: FAILED (exit %s).' "$status" >&2
        rmdir "$work_dir" 2>/dev/null || printf ' Logs: %s' "$work_dir" >&2
        printf '\n' >&2
    else
        rm -rf "$work_dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- prerequisites -----------------------------------------------------------------------------
if [[ ! -x "$venv/bin/moto_server" ]] || ! "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
    say "demo.sh: $venv has no moto/boto3 yet; installing tests/requirements.txt (once, a few minutes)"
    command -v "${PYTHON:-python3}" >/dev/null ||
        die "no python3 found: install Python 3, or run scripts/test.sh once"
    [[ -x "$venv/bin/python" ]] || "${PYTHON:-python3}" -m venv "$venv" ||
        die "could not create $venv; run scripts/test.sh once, it sets it up"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        -r tests/requirements.txt -c tests/constraints.txt ||
        die "could not install moto into $venv; run scripts/test.sh once, it sets it up"
fi
py="$venv/bin/python"

bin_dir=""
for dir in "${CARGO_TARGET_DIR:-$repo_root/target}/release" "${CARGO_TARGET_DIR:-$repo_root/target}/debug"; do
    if [[ -x "$dir/mayfly" && -x "$dir/mayfly-gateway" ]]; then
        bin_dir="$dir"
        break
    fi
done
if [[ -z "$bin_dir" ]]; then
    say "demo.sh: building the mayfly binaries (cargo build --release --bins)"
    cargo build --release --bin mayfly --bin mayfly-gateway
    bin_dir="${CARGO_TARGET_DIR:-$repo_root/target}/release"
fi
mayfly_bin="$bin_dir/mayfly"
export PATH="$bin_dir:$PATH"

free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until a command succeeds, as long as the process $1 lives.
wait_for() {
    local pid=$1 what=$2 log=$3
    shift 3
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$what exited before it was ready"; }
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    cat "$log" >&2
    die "$what was not ready after 30 s"
}

# --- 1. moto -----------------------------------------------------------------------------------
step "Start moto (an AWS emulator) on a free loopback port"
moto_port="${MAYFLY_DEMO_MOTO_PORT:-$(free_port)}"
MOTO_IAM_LOAD_MANAGED_POLICIES=true "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" \
    >"$work_dir/moto.log" 2>&1 &
moto_pid=$!
moto_url="http://127.0.0.1:$moto_port"
wait_for "$moto_pid" moto_server "$work_dir/moto.log" \
    "$py" -c "import urllib.request; urllib.request.urlopen('$moto_url/moto-api/')"
say "moto_server at $moto_url"

# boto3 against moto with the given keys; moto accepts any key (no auth enforcement).
export AWS_DEFAULT_REGION=us-east-1
aws_py() {
    MOTO_URL="$moto_url" "$py" -c "
import json, os, sys, boto3
def client(service, creds=None):
    creds = creds or {'access_key_id': 'AKIAIOSFODNN7EXAMPLE',
                      'secret_access_key': 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'}
    return boto3.client(service, endpoint_url=os.environ['MOTO_URL'], region_name='us-east-1',
                        aws_access_key_id=creds['access_key_id'],
                        aws_secret_access_key=creds['secret_access_key'],
                        aws_session_token=creds.get('security_token'))
$1" "${@:2}"
}

step "Create an IAM role in moto for the assume_role producer (boto3 iam.create_role)"
role_arn="$(aws_py '
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
         "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
print(client("iam").create_role(RoleName="mayfly-demo-deployer",
      AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])')"
say "role: $role_arn"

# --- 2. the gateway ----------------------------------------------------------------------------
export MAYFLY_CONFIG_DIR="$work_dir/cli"   # never read or write the user's CLI profiles
unset MAYFLY_TOKEN MAYFLY_PROFILE MAYFLY_INSECURE
if [[ -n "${MAYFLY_DEMO_GATEWAY_URL:-}" ]]; then
    step "Use the running gateway at $MAYFLY_DEMO_GATEWAY_URL"
    [[ -n "${MAYFLY_ACCESS_ID:-}" && -n "${MAYFLY_ACCESS_KEY:-}" ]] ||
        die "MAYFLY_DEMO_GATEWAY_URL needs the admin key in MAYFLY_ACCESS_ID and MAYFLY_ACCESS_KEY"
    export MAYFLY_GATEWAY_URL="$MAYFLY_DEMO_GATEWAY_URL"
    export MAYFLY_CA_CERT="${MAYFLY_CA_CERT:-$repo_root/data/tls/ca.pem}"
    prefix="/demo-$("$py" -c 'import secrets; print(secrets.token_hex(3))')"
else
    step "Start a gateway on a free loopback port (temporary data directory, known admin key)"
    gateway_port="$(free_port)"
    export MAYFLY_ACCESS_ID="p-$("$py" -c 'import secrets; print(secrets.token_hex(6))')"
    MAYFLY_ACCESS_KEY="$("$py" -c 'import secrets; print(secrets.token_hex(32))')"
    export MAYFLY_ACCESS_KEY
    # Settings of the user's own gateway (database, keys, TLS, config file) must not leak in.
    env -u DATABASE_URL -u MAYFLY_DATABASE_URL -u MAYFLY_CONFIG -u MAYFLY_MASTER_KEY \
        -u MAYFLY_TLS_CERT -u MAYFLY_TLS_KEY -u MAYFLY_INSECURE_PLAIN_HTTP -u MAYFLY_AUDIT_LOG \
        MAYFLY_ADMIN_ACCESS_ID="$MAYFLY_ACCESS_ID" MAYFLY_ADMIN_ACCESS_KEY="$MAYFLY_ACCESS_KEY" \
        AWS_ENDPOINT_URL="$moto_url" MAYFLY_ALLOWED_ENDPOINTS="$moto_url" \
        "$bin_dir/mayfly-gateway" --listen "127.0.0.1:$gateway_port" \
        --data-dir "$work_dir/data" >"$work_dir/gateway.log" 2>&1 &
    gateway_pid=$!
    export MAYFLY_GATEWAY_URL="https://localhost:$gateway_port"
    export MAYFLY_CA_CERT="$work_dir/data/tls/ca.pem"
    wait_for "$gateway_pid" mayfly-gateway "$work_dir/gateway.log" \
        "$py" -c "import ssl, urllib.request; urllib.request.urlopen('$MAYFLY_GATEWAY_URL/health/ready', context=ssl.create_default_context(cafile='$MAYFLY_CA_CERT'))"
    prefix="/demo"
fi
say "gateway $MAYFLY_GATEWAY_URL (trusting $MAYFLY_CA_CERT), admin access id $MAYFLY_ACCESS_ID"
say "The CLI reads MAYFLY_GATEWAY_URL, MAYFLY_CA_CERT, MAYFLY_ACCESS_ID and MAYFLY_ACCESS_KEY."

target="$prefix/aws/admin"
modes=(iam_user assume_role federation_token session_token)

# Deletes what the demo created (also run from the exit trap on a gateway we did not start).
delete_items() {
    local mode
    for mode in "${modes[@]}"; do
        "$mayfly_bin" gateway-delete-producer --name "$prefix/$mode" || true
    done
    "$mayfly_bin" delete-target --name "$target" || true
}

# Formats the gateway's JSON answers for reading: `fmt KIND < answer.json`.
cat >"$work_dir/fmt.py" <<'PY'
import json
import sys

SECRETS = {"secret_access_key", "security_token", "password", "access_key", "token"}


def mask(value):
    """Shortens secrets so the demo output can be shared."""
    if isinstance(value, dict):
        return {k: (v[:4] + "..." if k in SECRETS and isinstance(v, str) and v else mask(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


kind, text = sys.argv[1], sys.stdin.read()
if kind == "token":  # `mayfly auth` prints the token, as JSON or bare
    try:
        print(json.loads(text)["token"])
    except ValueError:
        print(text.strip())
    sys.exit(0)
answer = json.loads(text)
if kind == "json":
    print(json.dumps(mask(answer), indent=2))
elif kind == "producer":
    details = answer["producer_details"]
    print("  created %s: mode %s, user_ttl %s"
          % (details["dynamic_secret_name"], details["aws_access_mode"], details["user_ttl"]))
elif kind == "items":
    for item in answer["items"]:
        print("  %-32s %s / %s" % (item["item_name"], item["item_type"], item["item_sub_type"]))
elif kind == "tmp":
    for e in answer:
        print("  %-24s %-16s %-13s expires %s %s"
              % (e["id"], e["mode"], e["state"], e["expiration"], e["user"]))
    if not answer:
        print("  (none)")
elif kind == "audit":  # logins left out: they would be most of the trail
    for e in answer["events"]:
        if e["operation"] != "auth":
            print("  %s  %-34s %-24s %-7s %s"
                  % (e["time"], e["operation"], e["item"] or "-", e["outcome"], e["status"]))
else:
    sys.exit("fmt.py: unknown kind " + kind)
PY
fmt() { "$py" "$work_dir/fmt.py" "$1"; }

step "Log in once (/auth): the CLI then sends this token instead of logging in per command"
MAYFLY_TOKEN="$(show mayfly auth | fmt token)"
export MAYFLY_TOKEN
say "token ${MAYFLY_TOKEN:0:6}... (valid for the gateway's token_ttl, 60 minutes by default)"

demo_start="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# --- 3. target and producers -------------------------------------------------------------------
step "Create a target: the AWS admin connection producers use (its secret is sealed at rest)"
[[ -n "$gateway_pid" ]] || cleanup_items=delete_items
show mayfly create-aws-target --name "$target" \
    --access-key-id AKIAIOSFODNN7EXAMPLE --access-key "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" \
    --region us-east-1 --iam-endpoint "$moto_url" --sts-endpoint "$moto_url"

step "Create one producer per mode"
show mayfly gateway-create-producer-aws --name "$prefix/iam_user" --target-name "$target" \
    --aws-access-mode iam_user \
    --aws-user-policies arn:aws:iam::aws:policy/IAMReadOnlyAccess --user-ttl 1h | fmt producer
show mayfly gateway-create-producer-aws --name "$prefix/assume_role" --target-name "$target" \
    --aws-access-mode assume_role --aws-role-arns "$role_arn" --user-ttl 15m | fmt producer
show mayfly gateway-create-producer-aws --name "$prefix/federation_token" --target-name "$target" \
    --aws-access-mode federation_token \
    --aws-user-policies arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --user-ttl 15m | fmt producer
show mayfly gateway-create-producer-aws --name "$prefix/session_token" --target-name "$target" \
    --aws-access-mode session_token --user-ttl 15m | fmt producer
show mayfly list-items --path "$prefix" | fmt items

# --- 4. credentials, used ----------------------------------------------------------------------
for mode in "${modes[@]}"; do
    step "Fetch a credential from $prefix/$mode and use it"
    show mayfly get-dynamic-secret-value --name "$prefix/$mode" >"$work_dir/$mode.json"
    fmt json <"$work_dir/$mode.json"
    say "boto3 sts.get_caller_identity() with these credentials:"
    case "$mode" in
        federation_token | session_token)
            say "  (moto answers a fixed identity for these; AWS answers the federated user / the target's user)" ;;
    esac
    aws_py '
creds = json.load(open(sys.argv[1]))
print("  Arn:", client("sts", creds).get_caller_identity()["Arn"])
if "user" in creds:
    user = client("iam", creds).get_user(UserName=creds["user"])["User"]
    print("  iam.get_user:", user["Arn"], "(created", user["CreateDate"].isoformat() + ")")
' "$work_dir/$mode.json"
done

# --- 5. tmp creds and revocation ---------------------------------------------------------------
list_tmp_creds() {
    local mode
    for mode in "${modes[@]}"; do
        show mayfly gateway-get-producer-tmp-creds --name "$prefix/$mode" | fmt tmp
    done
}
iam_users_in_moto() {
    aws_py '
users = client("iam").list_users(PathPrefix="/mayfly/")["Users"]
print("  IAM users under /mayfly/ in moto:", [u["UserName"] for u in users] or "none")'
}

step "List the tmp creds (leases) of every producer"
list_tmp_creds
iam_users_in_moto

step "Revoke the iam_user credentials (deletes the IAM user and its key at once)"
show mayfly gateway-revoke-producer-tmp-creds --name "$prefix/iam_user" --revoke-all
say "STS credentials cannot be revoked one by one (AWS has no such call); they end at expiry:"
show mayfly gateway-revoke-producer-tmp-creds --name "$prefix/session_token" --revoke-all ||
    say "  (refused, as expected)"

step "List the tmp creds again"
list_tmp_creds
iam_users_in_moto

step "The audit trail since the demo started (every change, every issued credential, every refusal)"
show mayfly get-audit-events --since "$demo_start" --limit 1000 | fmt audit

# --- 6. clean up -------------------------------------------------------------------------------
step "Clean up: delete the producers and the target"
for mode in "${modes[@]}"; do
    show mayfly gateway-delete-producer --name "$prefix/$mode"
done
show mayfly delete-target --name "$target"
cleanup_items=""

step "Done"
say "Next: README.md (CI keys with one role), docs/concepts.md (when to use which mode)."
