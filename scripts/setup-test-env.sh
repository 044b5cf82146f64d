#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain: moto's server
# (Secrets Manager, IAM, STS, Cognito) in a virtualenv at .venv, tmux for the
# end-to-end terminal tests, util-linux's `script` for the bare-terminal test,
# and openssl for the TLS test's certificates.
# Safe to run again; it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/moto_server ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5' 'joserfc>=1.0'
fi

# The CRD schemas the copy menu's manifests are checked against (node from
# the machine's toolchain; npm reaches the registry).
if command -v npm >/dev/null 2>&1 && [ ! -d scripts/manifest-schemas/node_modules/@kubernetes-models/external-secrets ]; then
  (cd scripts/manifest-schemas && npm ci --no-audit --no-fund --loglevel=error)
fi

missing=()
# tool:Debian package
for pair in tmux:tmux openssl:openssl script:bsdutils; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]}) for the terminal and TLS tests" >&2
  fi
fi
