#!/bin/sh
# Container health check of the Mayfly image: GET /health/ready on the gateway's own port.
#
# Why `--insecure`: the check talks to 127.0.0.1 inside the container and sends nothing
# secret, so there is nothing for TLS to protect. Verifying would need the right CA *and* a
# certificate naming 127.0.0.1: true of the generated one (DATA_DIR/tls/ca.pem), but an
# operator's own certificate (MAYFLY_TLS_CERT) usually names only the public host, and the
# check must not fail because of that. Real clients always verify.
set -eu

listen="${MAYFLY_LISTEN:-0.0.0.0:8000}"
port="${listen##*:}"
case "${MAYFLY_INSECURE_PLAIN_HTTP:-}" in
    1 | true | TRUE | True | yes) scheme=http ;;
    *) scheme=https ;;
esac

exec curl --silent --show-error --fail --max-time 4 --insecure \
    --output /dev/null "${scheme}://127.0.0.1:${port}/health/ready"
