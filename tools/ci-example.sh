#!/usr/bin/env bash
# A pull-request gate as CI would run it: compile the examples with the base revision's edgesplit
# and with the PR's, compare the reports with `edgesplit diff` under limits, and fail on a
# regression. The markdown of every comparison lands in $OUT/diff.md, ready to be the body of a
# PR comment (e.g. `gh pr comment "$PR" --body-file build/ci/diff.md`).
#
#   tools/ci-example.sh BASE_REF [HEAD_REF]
#
# BASE_REF, HEAD_REF: any git revision (origin/main, a tag, HEAD~1). Without HEAD_REF the PR side
# is this checkout as it is, uncommitted changes included, built in $BUILD (after
# tools/setup.sh has installed what the build needs).
# A revision's tree is exported with `git archive` (read-only: unlike `git worktree add` it leaves
# the repository's worktree list and index alone) into $CACHE/<commit>/ and built there once;
# later runs reuse that build.
#
# Environment: LIMITS (the --max-increase of the gate, default below), OUT (default build/ci),
# CACHE (default build/ci-cache), BUILD (the checkout's build folder, default build).
# Exit: 0 within the limits, 1 a regression (diff.md says which), 2 the reports cannot be compared.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  sed -n '2,18p' "$0" >&2
  exit 2
fi
base_ref="$1"
head_ref="${2:-}"
limits="${LIMITS:-ram=2%,flash=2%,latency=5%,bytes=0%,energy=5%}"
out="${OUT:-$root/build/ci}"
cache="${CACHE:-$root/build/ci-cache}"
build="${BUILD:-$root/build}"

# The source tree of a revision, exported and built once per commit; prints the binary's path.
edgesplit_of() {
  local commit src
  commit="$(git -C "$root" rev-parse --verify "$1^{commit}")"
  src="$cache/$commit"
  if [ ! -x "$src/build/edgesplit" ]; then
    echo "ci: building $1 ($commit) in $src" >&2
    rm -rf "$src"
    mkdir -p "$src"
    git -C "$root" archive "$commit" | tar -x -C "$src"
    cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$src/build" --target edgesplit -j"$(nproc)" >/dev/null
  fi
  echo "$src/build/edgesplit"
}

# The examples the gate compiles: the HAR fleet, and the two-IMU model on one device.
compile_examples() { # EDGESPLIT SOURCE_TREE OUTDIR
  local har="$2/examples/har"
  "$1" compile "$har/model.onnx" --topology "$har/topology.json" \
    --calibration "$har/calibration.npz" -o "$3/har"
  "$1" compile "$2/examples/two_imu/model.onnx" --precision float32 -o "$3/two_imu"
}

rm -rf "$out"
mkdir -p "$out"
base_bin="$(edgesplit_of "$base_ref")"
if [ -n "$head_ref" ]; then
  head_bin="$(edgesplit_of "$head_ref")"
  head_src="$(dirname "$(dirname "$head_bin")")"
else
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target edgesplit -j"$(nproc)" >/dev/null
  head_bin="$build/edgesplit"
  head_src="$root"
fi
# Each side compiles its own copy of the examples: a PR that changes the model is measured too.
compile_examples "$base_bin" "$(dirname "$(dirname "$base_bin")")" "$out/base"
compile_examples "$head_bin" "$head_src" "$out/head"

# The PR's edgesplit judges: it knows the newest report fields and limits.
status=0
: >"$out/diff.md"
for example in har two_imu; do
  set +e
  (cd "$out" && "$head_bin" diff "base/$example" "head/$example" --max-increase "$limits" \
    --format md >"$example.md" 2>"$example.err")
  code=$?
  set -e
  { echo "<!-- example: $example -->"; cat "$out/$example.md"; echo; } >>"$out/diff.md"
  cat "$out/$example.err" >&2
  if [ "$code" -gt "$status" ]; then status=$code; fi
done
echo "ci: $out/diff.md written; gate exit code $status" >&2
exit "$status"
