#!/usr/bin/env bash
# The whole test suite, set-up included: what CI runs.
#   bash tools/test.sh [CTEST_ARGS...]           every stage below
#   bash tools/test.sh --quick [CTEST_ARGS...]   the first stage only
# 1. quick: build/ and its ctest (CTEST_ARGS are passed to it);
# 2. sanitize: build-sanitize/ (clang, -DEDGESPLIT_FUZZ=ON: ASan + UBSan everywhere): the unit,
#    runtime and fuzz regression tests, and the fleet CLI tests (tests/cli/test_fleet*.py) with the
#    sanitized edgesplit, every AddressSanitizer or UndefinedBehaviorSanitizer report fatal;
# 3. fuzz: every tools/fuzz.sh target for EDGESPLIT_FUZZ_SECONDS (default 60) seconds, two at a
#    time.
# Every stage runs even when an earlier one failed; the script fails if any did.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=0
ctest_args=()
for arg in "$@"; do
  if [ "$arg" = --quick ]; then quick=1; else ctest_args+=("$arg"); fi
done
jobs="$(nproc)"
failed=()
step() { # NAME COMMAND...: runs the command, times it, records a failure
  local name="$1" start=$SECONDS
  shift
  echo "== $name" >&2
  if "$@"; then
    echo "== $name: ok ($((SECONDS - start)) s)" >&2
  else
    echo "== $name: FAILED ($((SECONDS - start)) s)" >&2
    failed+=("$name")
  fi
}

quick_suite() {
  bash "$root/tools/build.sh" && (cd "$root/build" && ctest --output-on-failure -j"$jobs" "${ctest_args[@]}")
}
step quick quick_suite
if [ "$quick" = 1 ]; then
  [ ${#failed[@]} -eq 0 ] || exit 1
  exit 0
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# One clang build serves the sanitize and fuzz stages: the fuzz build instruments everything with
# ASan and UBSan anyway, and a second full build would cost the 2-core CI machine ten minutes.
sanitize_build() {
  CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-sanitize" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DEDGESPLIT_FUZZ=ON $(bash "$root/tools/ccache-flags.sh") >/dev/null &&
    cmake --build "$root/build-sanitize" -j"$jobs"
}
sanitize_tests() (
  cd "$root/build-sanitize" &&
    ctest --output-on-failure -j"$jobs" -R '^(unit|runtime|runtime_no_allocation|fuzz_regressions_.*)$'
)
# One process per test class, as many at a time as there are cores: the sanitized compiler is slow
# and the classes (HAR, star fleets, the examples' fleets) take minutes each.
sanitize_fleet() (
  cd "$root/tests/cli" &&
    for module in test_fleet*.py; do
      /usr/bin/python3 "$root/tests/test_classes.py" "$module" | sed "s/^/${module%.py}./"
    done | EDGESPLIT="$root/build-sanitize/edgesplit" EDGESPLIT_SOURCE="$root" \
      EDGESPLIT_SHARED="${EDGESPLIT_SHARED:-$root/../shared}" \
      xargs -P"$jobs" -I{} /usr/bin/python3 -m unittest {}
)
step "sanitize: build (clang, ASan + UBSan, fuzz targets)" sanitize_build
step "sanitize: unit, runtime and fuzz regression tests" sanitize_tests
step "sanitize: fleet CLI tests" sanitize_fleet

# Each fuzzer is single-threaded: two at a time keep both cores busy.
fuzz_pair() { # TARGET TARGET
  local pids=() status=0
  for target in "$@"; do
    EDGESPLIT_FUZZ_BUILT=1 bash "$root/tools/fuzz.sh" "$target" "${EDGESPLIT_FUZZ_SECONDS:-60}" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  return "$status"
}
step "fuzz: onnx and topology" fuzz_pair onnx topology
step "fuzz: npy and wire" fuzz_pair npy wire

if [ ${#failed[@]} -ne 0 ]; then
  printf 'test.sh: failed: %s\n' "$(IFS=,; echo "${failed[*]}")" >&2
  exit 1
fi
