#!/usr/bin/env bash
# Installs what edgesplit needs on Debian 12, and only what is missing: safe to run every time.
# Needs root (or sudo) for apt; reaches only the Debian and npm registries.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  cmake ninja-build g++ pkg-config
  libonnx-dev libprotobuf-dev protobuf-compiler llvm-dev libfmt-dev libcli11-dev
  nlohmann-json3-dev catch2 libzip-dev libssl-dev
  qemu-system-arm gcc-arm-none-eabi picolibc-arm-none-eabi libnewlib-arm-none-eabi
  qemu-system-misc gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf # the riscv32 board
  python3-onnx python3-numpy python3-jsonschema graphviz
  dpkg-dev file # cpack's .deb: dpkg-shlibdeps names the packages of the linked libraries
  clang libclang-rt-14-dev # the fuzz targets (libFuzzer) of tools/fuzz.sh
)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime's CPU build, the independent executor the tests compare against. --ignore-scripts
# skips the postinstall step, which would download GPU libraries and fails offline.
ort_dir="$root/build/ort"
if [ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]; then
  echo "setup: installing onnxruntime-node into build/ort" >&2
  mkdir -p "$ort_dir"
  (cd "$ort_dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
    onnxruntime-node@1.30.0 >/dev/null)
fi
