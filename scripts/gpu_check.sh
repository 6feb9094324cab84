#!/usr/bin/env bash
# The GPU check: rfx built here against PyPI's torch 2.11, run on a GPU machine that has Python
# torch 2.11 (its LibTorch), CMake and nvcc but none of Debian's -dev packages and no network.
#
#   scripts/gpu_check.sh bundle [DIR]             on this (CPU) machine: build (RFX_LIBTORCH=pypi)
#                                                 and pack DIR (default gpu-bundle/, <= 64 MiB)
#   scripts/gpu_check.sh run [DIR] [--out OUT] [--cpu] [--python PY]
#                                                 on the GPU machine, from the repository root
#
# DIR holds bin/ (rfx and the cuda test suite, stripped), lib/ (the shared libraries they need
# beyond glibc, libstdc++ and LibTorch/CUDA, which come from the machine's torch) and
# manifest.json (the torch version built against, the commit). Libraries that only OpenCV's
# image codecs pull in for formats rfx never reads (GDAL, GDCM, OpenEXR, TIFF, JPEG 2000, WebP:
# ~190 MB) travel as stand-ins with the same sonames, symbols and symbol versions
# (scripts/gpu_stub.py); a call into one would abort naming it, and none is made (PNG, JPEG and
# WebP travel for real).
# `run` does the steps of scripts/gpu_check.py (the cuda suite, rfx bench train beside Python
# torch's step on the same GPU, a short sweep with 1/2/4/8 trainings at once, one paper-scale
# training) within ~8 minutes and writes OUT/gpu_check.json. `--cpu` runs the same steps on the
# CPU at toy sizes: the proof, on a machine without a GPU, that the bundle starts and the script
# works.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: $0 bundle [DIR] | run [DIR] [--out OUT] [--cpu] [--python PY]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
cmd=$1
shift

# Sonames provided by the GPU machine itself: glibc's, the C++ runtime, the CUDA driver.
is_system_lib() {
  case "$1" in
    linux-vdso.so.* | ld-linux*.so.* | libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | \
      librt.so.* | libresolv.so.* | libutil.so.* | libstdc++.so.* | libgcc_s.so.* | libcuda.so.*)
      return 0 ;;
  esac
  return 1
}

# Pulled in by OpenCV's imgcodecs for image formats rfx never reads: empty stand-ins.
is_stub_lib() {
  case "$1" in
    libgdal.so.* | libgdcm*.so.* | libOpenEXR*.so.* | libIex*.so.* | libIlmThread*.so.* | \
      libImath*.so.* | libtiff.so.* | libopenjp2.so.*)
      return 0 ;;
  esac
  return 1
}

# A stand-in for `soname` (real: its path here) defining what the bundle imports from it
# (scripts/gpu_stub.py), written to `out`.
make_stub() {
  local soname=$1 real=$2 out=$3 tmp
  tmp=$(mktemp -d)
  python3 scripts/gpu_stub.py "$real" "$tmp" "$out"/../bin/* "$out"/*.so*
  local versions=()
  [ -s "$tmp/stub.map" ] && versions=(-Wl,--version-script="$tmp/stub.map")
  gcc -shared -fPIC -o "$out/$soname" -Wl,-soname,"$soname" "${versions[@]}" "$tmp/stub.c"
  rm -rf "$tmp"
}

bundle() {
  local dir=${1:-gpu-bundle}
  export RFX_LIBTORCH=pypi
  bash scripts/setup.sh
  source scripts/libtorch.sh
  RFX_TARGETS="rfx rfx_cuda_tests" bash scripts/build.sh
  rm -rf "$dir"
  mkdir -p "$dir/bin" "$dir/lib"
  local site
  site=$(dirname "$RFX_TORCH_ROOT")
  for exe in rfx rfx_cuda_tests; do
    strip --strip-unneeded -o "$dir/bin/$exe" "$RFX_BUILD_DIR/$exe"
  done
  # soname -> path as this machine resolves them, then a walk over DT_NEEDED from the binaries.
  local multiarch=/usr/lib/$(gcc -print-multiarch)
  declare -A path_of=() seen=()
  while read -r name _ path _; do
    [ -n "${path:-}" ] && path_of[$name]=$path
  done < <(ldd "$dir/bin/rfx" "$dir/bin/rfx_cuda_tests" | awk '$2 == "=>" {print $1, $2, $3}')
  local queue=() stubs=()
  for exe in "$dir"/bin/*; do
    while read -r so; do queue+=("$so"); done < <(objdump -p "$exe" | awk '/NEEDED/{print $2}')
  done
  while [ ${#queue[@]} -gt 0 ]; do
    local so=${queue[0]}
    queue=("${queue[@]:1}")
    [ -n "${seen[$so]:-}" ] && continue
    seen[$so]=1
    is_system_lib "$so" && continue
    local path=${path_of[$so]:-}
    if [ -z "$path" ]; then
      echo "gpu_check.sh: $so is not found on this machine (ldd)" >&2
      exit 1
    fi
    case "$path" in "$site"/*) continue ;; esac  # LibTorch and CUDA: the machine's torch
    # BLAS and LAPACK (OpenCV's core needs them; rfx calls neither): Debian's reference builds
    # (liblapack3, libblas3: 8 MB) rather than OpenBLAS behind them here (43 MB).
    case "$so" in
      libblas.so.3) [ -f "$multiarch/blas/libblas.so.3" ] && path=$multiarch/blas/libblas.so.3 ;;
      liblapack.so.3)
        [ -f "$multiarch/lapack/liblapack.so.3" ] && path=$multiarch/lapack/liblapack.so.3 ;;
    esac
    if is_stub_lib "$so"; then
      stubs+=("$so=$path")
      continue
    fi
    cp -L "$path" "$dir/lib/$so"
    while read -r dep; do queue+=("$dep"); done < <(objdump -p "$path" | awk '/NEEDED/{print $2}')
  done
  # Stand-ins last: they define what the real libraries and programs import from them.
  for stub in "${stubs[@]}"; do make_stub "${stub%%=*}" "${stub#*=}" "$dir/lib"; done
  local version commit
  version=$("$RFX_VENV/bin/python" -c 'import torch; print(torch.__version__)')
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  printf '{"torch_version": "%s", "commit": "%s", "built": "%s"}\n' "$version" "$commit" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$dir/manifest.json"
  # What travels: the bundle plus the working tree (tracked files), 64 MiB in all.
  local bundle_kib tree_kib
  bundle_kib=$(du -sk "$dir" | cut -f1)
  tree_kib=$(git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
  echo "gpu_check.sh: $dir: $((bundle_kib / 1024)) MiB ($(ls "$dir/lib" | wc -l) libraries)," \
    "working tree $((tree_kib / 1024)) MiB, torch $version"
  if [ $((bundle_kib + tree_kib)) -gt $((64 * 1024)) ]; then
    echo "gpu_check.sh: bundle and working tree exceed 64 MiB" >&2
    exit 1
  fi
}

case "$cmd" in
  bundle)
    [ $# -le 1 ] || usage
    bundle "$@"
    ;;
  run)
    dir=gpu-bundle
    if [ $# -ge 1 ] && [ "${1#--}" = "$1" ]; then dir=$1; shift; fi
    python=python3
    args=()
    while [ $# -gt 0 ]; do
      case "$1" in
        --python) [ $# -ge 2 ] || usage; python=$2; shift 2 ;;
        --out | --budget) [ $# -ge 2 ] || usage; args+=("$1" "$2"); shift 2 ;;
        --cpu) args+=(--cpu); shift ;;
        *) usage ;;
      esac
    done
    exec "$python" scripts/gpu_check.py --bundle "$dir" "${args[@]}"
    ;;
  *) usage ;;
esac
