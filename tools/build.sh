#!/usr/bin/env bash
# Set-up plus an incremental build of build/edgesplit and the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/setup.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release $(bash "$root/tools/ccache-flags.sh") >/dev/null
cmake --build "$root/build" -j"$(nproc)"
