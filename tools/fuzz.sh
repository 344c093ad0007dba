#!/usr/bin/env bash
# Builds the libFuzzer targets (build-sanitize/: clang, ASan + UBSan, tests/fuzz/) and runs one of them.
#   bash tools/fuzz.sh TARGET SECONDS     TARGET: onnx, topology, npy or wire (or fuzz_<name>)
# The corpus grows in build-sanitize/corpus/TARGET/. Seeds are gathered afresh each run from
# tests/fuzz/seeds/TARGET/, examples/ and ../shared/onnx-node-tests (when present). A crash input
# is copied to tests/fuzz/regressions/TARGET/, which ctest replays (fuzz_regressions_TARGET), and
# the script fails: fix the bug and keep the file. EDGESPLIT_FUZZ_BUILT=1 skips the build step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: tools/fuzz.sh onnx|topology|npy|wire SECONDS" >&2
  exit 2
fi
target="${1#fuzz_}"
seconds="$2"
case "$target" in
onnx | topology | npy | wire) ;;
*)
  echo "tools/fuzz.sh: unknown target '$1' (onnx, topology, npy, wire)" >&2
  exit 2
  ;;
esac

build="$root/build-sanitize"
if [ "${EDGESPLIT_FUZZ_BUILT:-0}" != 1 ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DEDGESPLIT_FUZZ=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target "fuzz_$target"
fi

# Seeds: copied under unique names, only files small enough to mutate quickly.
seeds="$build/seeds/$target"
rm -rf "$seeds"
mkdir -p "$seeds" "$build/corpus/$target" "$build/artifacts/$target"
add_seeds() { # FOLDER NAME_PATTERN...
  local folder="$1"
  shift
  [ -d "$folder" ] || return 0
  local patterns=()
  for pattern in "$@"; do patterns+=(-o -name "$pattern"); done
  find "$folder" -type f -size -128k \( -false "${patterns[@]}" \) -print0 |
    while IFS= read -r -d '' file; do
      cp "$file" "$seeds/$(echo "${file#"$folder"/}" | tr '/' '_')"
    done
}
add_seeds "$root/tests/fuzz/seeds/$target" '*'
shared="${EDGESPLIT_SHARED:-$root/../shared}"
case "$target" in
onnx)
  add_seeds "$root/examples" '*.onnx'
  add_seeds "$shared/onnx-node-tests" '*.onnx'
  ;;
topology) add_seeds "$root/examples" '*.json' ;;
npy) add_seeds "$root/examples" '*.npy' '*.npz' && add_seeds "$root/tests/data" '*.npy' '*.npz' ;;
wire) ;;
esac

corpora=("$build/corpus/$target" "$seeds")
[ -d "$root/tests/fuzz/regressions/$target" ] && corpora+=("$root/tests/fuzz/regressions/$target")
options=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
  -artifact_prefix="$build/artifacts/$target/")
[ -f "$root/tests/fuzz/$target.dict" ] && options+=(-dict="$root/tests/fuzz/$target.dict")
log="$build/fuzz_$target.log"
echo "fuzz_$target: ${seconds}s, $(find "$seeds" -type f | wc -l) seeds, log in $log" >&2
status=0
start=$SECONDS
"$build/fuzz_$target" "${options[@]}" "${corpora[@]}" >"$log" 2>&1 || status=$?

executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
echo "fuzz_$target: ${executions:-?} executions in $((SECONDS - start))s, corpus $(find "$build/corpus/$target" -type f | wc -l) files"
if [ "$status" -ne 0 ]; then
  tail -40 "$log" >&2
  mkdir -p "$root/tests/fuzz/regressions/$target"
  for artifact in "$build/artifacts/$target"/*; do
    [ -f "$artifact" ] || continue
    cp "$artifact" "$root/tests/fuzz/regressions/$target/"
    echo "fuzz_$target: finding kept as tests/fuzz/regressions/$target/$(basename "$artifact")" >&2
    rm "$artifact"
  done
  exit 1
fi
