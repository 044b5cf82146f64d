#!/usr/bin/env bash
# Runs kiss's whole test suite: unit tests, gRPC integration tests against
# moto's server (Secrets Manager, IAM, STS, Cognito), the scripting verbs end
# to end, TUI snapshots, and the TUI driven in a real terminal (tmux).
# Installs what it needs first (moto in .venv, tmux); safe to run again.
#
# A test that skips itself for a missing tool says so, and is listed again
# at the end; under CI=true a skip is a failure (the tests fail themselves,
# and this script fails if any skip was reported anyway).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
scripts/setup-test-env.sh
# Tests start the real binaries (kiss-server, kiss-tui): build them first,
# so the tests' own builds (kiss_testkit::binary!) find nothing to do.
cargo build --workspace --bins

skips=$(mktemp)
trap 'rm -f "$skips"' EXIT
status=0
KISS_TEST_SKIP_LOG="$skips" cargo test --workspace --no-fail-fast "$@" || status=$?

if [ -s "$skips" ]; then
  echo "==== $(wc -l <"$skips") test(s) checked nothing:" >&2
  cat "$skips" >&2
  if [ "${CI:-}" = true ]; then
    echo "==== CI=true: a skipped test is a failure" >&2
    status=1
  fi
fi
echo "tests finished in $(($(date +%s) - start)) s (exit $status)"
exit "$status"
