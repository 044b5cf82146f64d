#!/usr/bin/env bash
# Load, soak and faults (issue 11): 1,000 distinct users with valid tokens
# call every RPC against a real kiss-server process, on the local backend
# and on moto, for a set time, while the attacks of issue 11 run alongside
# and the driver rotates the IdP's signing key, stops and restarts the
# JWKS endpoint, restarts moto (aws) and kill -9s the server (local).
#
#   scripts/soak.sh [--seconds N] [--backend local|aws|both] [--users N]
#                   [--release] [other kiss-soak flags: --think-ms, --no-attacks ...]
#
# --seconds is per backend (default 60). The driver (kiss-testkit's
# `kiss-soak`) prints the fault timeline, calls and outcomes, unexpected
# errors, the read-back of acknowledged writes, audit records against
# answered calls, and the server's RSS and fd curve; it exits non-zero if
# any check fails. Its work directory is target/soak (data, audit logs,
# server logs), kept for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=dev
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --release) profile=release ;;
    *) args+=("$1") ;;
  esac
  shift
done
dir=debug
[ "$profile" = release ] && dir=release

scripts/setup-test-env.sh
cargo build --profile "$profile" -p kiss-server --bin kiss-server -p kiss-testkit --bin kiss-soak
# Run copies, so that a build while the soak runs cannot swap the binary
# the driver restarts after a kill -9.
bin=target/soak/bin
mkdir -p "$bin"
cp "target/$dir/kiss-server" "target/$dir/kiss-soak" "$bin/"

start=$(date +%s)
status=0
"$bin/kiss-soak" --server-bin "$bin/kiss-server" --work-dir target/soak ${args[@]+"${args[@]}"} || status=$?
echo "soak finished in $(($(date +%s) - start)) s (exit $status)"
exit "$status"
