#!/usr/bin/env bash
# Runs the fuzz targets in fuzz/ (cargo-fuzz, libFuzzer, nightly).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   fuzz each target for SECONDS (default 60)
#   scripts/fuzz.sh --replay [TARGET...]    run each target over its committed
#                                           corpus only (same as SECONDS=0), for CI
#
# New inputs found while fuzzing go to fuzz/target/corpus/<target> (not
# committed); crashing inputs to fuzz/artifacts/<target>/. Prints runs and
# crashes per target and exits non-zero if any target crashed.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"

secs=60
if [[ ${1:-} == --replay ]]; then
  secs=0
  shift
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then
  secs=$1
  shift
fi

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing the nightly toolchain" >&2
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz
fi

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

logs=target/fuzz-logs
mkdir -p "$logs"
build_start=$SECONDS
if [[ $# -eq 0 ]]; then
  cargo +nightly fuzz build >"$logs/build.log" 2>&1 || { cat "$logs/build.log" >&2; exit 2; }
else
  for t in "${targets[@]}"; do
    cargo +nightly fuzz build "$t" >"$logs/build.log" 2>&1 || { cat "$logs/build.log" >&2; exit 2; }
  done
fi
echo "fuzz.sh: built in $((SECONDS - build_start)) s"
failed=0
summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "target/corpus/$t" "artifacts/$t"
  log="$logs/$t.log"
  touch "$logs/$t.start"
  start=$SECONDS
  if [[ $secs -eq 0 ]]; then
    args=("corpus/$t" -- -runs=0)
  else
    # The first directory is writable: new inputs land there, not in the
    # committed corpus.
    args=("target/corpus/$t" "corpus/$t" -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  fi
  if cargo +nightly fuzz run "$t" "${args[@]}" >"$log" 2>&1; then
    status=ok
  else
    status=CRASH
    failed=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p; s/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
  crashes=$(find "artifacts/$t" -type f -newer "$logs/$t.start" 2>/dev/null | wc -l || true)
  [[ $status == CRASH ]] && crashes=$((crashes > 0 ? crashes : 1))
  line=$(printf '%-16s %-6s runs=%-10s crashes=%-3s %4ss' "$t" "$status" "${runs:-?}" "$crashes" $((SECONDS - start)))
  summary+=("$line")
  echo "$line"
  if [[ $status == CRASH ]]; then
    grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written|artifact_prefix' "$log" | head -20 >&2 || true
    echo "fuzz.sh: full log in fuzz/$log" >&2
  fi
done

echo
echo "fuzz.sh: $( [[ $secs -eq 0 ]] && echo "replay of the committed corpus" || echo "${secs} s per target")"
printf '%s\n' "${summary[@]}"
exit "$failed"
