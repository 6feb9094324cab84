# Sourced by the build scripts: which LibTorch to build against (RFX_LIBTORCH) and where.
#   debian (default): Debian 12's libtorch-dev 1.13.1 (CPU), built into build/
#   pypi:             torch 2.11.0 from PyPI (CUDA 13.0) in the project's .venv, into build-pypi/
# Sets RFX_LIBTORCH, RFX_BUILD_DIR (unless given), RFX_CMAKE_ARGS (an array) and, for pypi,
# RFX_TORCH_ROOT (the torch package: include/, lib/, share/cmake/).
RFX_LIBTORCH=${RFX_LIBTORCH:-debian}
RFX_VENV=${RFX_VENV:-$PWD/.venv}
case "$RFX_LIBTORCH" in
  debian)
    RFX_BUILD_DIR=${RFX_BUILD_DIR:-build}
    RFX_CMAKE_ARGS=()
    ;;
  pypi)
    RFX_BUILD_DIR=${RFX_BUILD_DIR:-build-pypi}
    if [ ! -x "$RFX_VENV/bin/python" ]; then
      echo "RFX_LIBTORCH=pypi: no virtual environment at $RFX_VENV; run RFX_LIBTORCH=pypi" \
        "scripts/setup.sh first" >&2
      exit 1
    fi
    # The torch package's root holds include/, lib/ and share/cmake/Torch: as the prefix it is
    # searched before the system's, so a Debian libtorch-dev beside it is never picked up.
    RFX_TORCH_ROOT=$("$RFX_VENV/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
    RFX_CMAKE_ARGS=(-DCMAKE_PREFIX_PATH="$RFX_TORCH_ROOT" -DRFX_PYTHON="$RFX_VENV/bin/python")
    ;;
  *)
    echo "RFX_LIBTORCH=$RFX_LIBTORCH: allowed: debian (Debian's libtorch-dev 1.13), pypi" \
      "(torch 2.11 from PyPI in .venv)" >&2
    exit 2
    ;;
esac
