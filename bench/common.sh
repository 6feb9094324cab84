# Sourced by the sweep benchmark scripts (`. "$(dirname "$0")/common.sh"`): reads the two
# positional arguments every one of them takes, BUILD_DIR and OUT_DIR, and leaves the rest
# (extra --set ...) in "$@". Sets BUILD, OUT, RFX (the executable), SRC (the source tree),
# CPU_CFG (the CPU config flags the sweeps share) and creates OUT.
set -eu
BUILD=${1:?build dir}
OUT=${2:?output dir}
shift 2
RFX="$BUILD/rfx"
SRC=$(cd "$(dirname "$0")/.." && pwd)
CPU_CFG="--config $SRC/configs/cpu.yaml --config $SRC/experiments/e_depth_vs_distance_cpu.yaml"
mkdir -p "$OUT"
