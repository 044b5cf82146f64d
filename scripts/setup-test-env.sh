#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain: moto's server
# (Secrets Manager, IAM, STS, Cognito) in a virtualenv at .venv, and tmux for
# the end-to-end terminal tests. Safe to run again; it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/moto_server ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5' 'joserfc>=1.0'
fi

if ! command -v tmux >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq tmux >/dev/null
  else
    echo "tmux is missing; install it (e.g. sudo apt-get install tmux) for the terminal tests" >&2
  fi
fi
