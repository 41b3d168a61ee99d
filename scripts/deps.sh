#!/usr/bin/env bash
# Installs the Debian packages Sculpt needs, quietly and only when missing (idempotent).
# Usage: scripts/deps.sh [extra-package | peer ...]
#   peer: what the PyTorch peer and the golden-value scripts need (./bench/run,
#         bench/prune_quality, scripts/make_*golden.py)
set -euo pipefail
extra=()
for a in "$@"; do
  case "$a" in
    # Debian's torch 1.13 and NumPy (the peer's arrays); OpenBLAS with its pthread build, without
    # which Debian's torch falls back to the reference BLAS (docs/benchmarks.md, "Running").
    peer) extra+=(python3-torch python3-numpy libopenblas0-pthread) ;;
    *) extra+=("$a") ;;
  esac
done
# ocl-icd-opencl-dev: Debian's libdnnl-dev CMake config calls find_package(OpenCL), but the
# package only Recommends it and we install with --no-install-recommends.
# python3: the benchmark drivers (bench/run, bench/prune_quality) and the README-commands test.
# fortunes: English text (/usr/share/games/fortunes) for recipes/char-lstm.toml.
packages=(build-essential cmake ninja-build libdnnl-dev ocl-icd-opencl-dev libomp-dev libcli11-dev
          libtomlplusplus-dev nlohmann-json3-dev libfmt-dev zlib1g-dev libgtest-dev
          dataset-fashion-mnist fortunes python3 "${extra[@]}")
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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 || {
  tail -15 "$log" >&2
  echo "sculpt: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
