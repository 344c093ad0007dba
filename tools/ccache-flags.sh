#!/usr/bin/env bash
# Prints the CMake options that put ccache in front of the compilers when it is installed (it is
# optional: tools/setup.sh does not require it), so that rebuilding the same sources in another
# clone or build folder of this machine is a cache hit. ccache is told to hash paths relative to
# the checkout, which is what makes two clones share entries.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v ccache >/dev/null || exit 0
launcher="env;CCACHE_BASEDIR=$root;ccache"
echo "-DCMAKE_C_COMPILER_LAUNCHER=$launcher -DCMAKE_CXX_COMPILER_LAUNCHER=$launcher"
