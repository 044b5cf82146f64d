#!/usr/bin/env bash
# Runs kiss's whole test suite: unit tests, gRPC integration tests against
# moto's server (Secrets Manager, IAM, STS, Cognito), the scripting verbs end
# to end, TUI snapshots, and the TUI driven in a real terminal (tmux).
# Installs what it needs first (moto in .venv, tmux); safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-test-env.sh
# Tests start the real binaries (kiss-server, kiss-tui): build them first.
cargo build --workspace --bins
cargo test --workspace --no-fail-fast "$@"
