#!/usr/bin/env bash
# Installs the Debian packages Sculpt needs, quietly and only when missing (idempotent).
# Usage: scripts/deps.sh [extra-package...]
set -euo pipefail
# ocl-icd-opencl-dev: Debian's libdnnl-dev CMake config calls find_package(OpenCL), but the
# package only Recommends it and we install with --no-install-recommends.
packages=(build-essential cmake ninja-build libdnnl-dev ocl-icd-opencl-dev libomp-dev libcli11-dev
          libtomlplusplus-dev nlohmann-json3-dev libfmt-dev zlib1g-dev libgtest-dev
          dataset-fashion-mnist "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "sculpt: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  echo "sculpt: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
