#!/usr/bin/env bash
# Builds rfx's libFuzzer targets (fuzz/*_fuzz.cpp) with Debian's clang, ASan and UBSan into
# build-fuzz/, and runs each for a bounded time on its corpus (fuzz/corpus/TARGET, which grows:
# new inputs go to build-fuzz/corpus/TARGET, the checked-in seeds stay as they are).
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]     (targets: config layers records)
# Prints one line per target: executions, corpus size, and whether it found a crash (the input
# is then in build-fuzz/crash-TARGET-*; make it a regression test). Exits 1 if any did.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(config layers records)
case "$seconds" in '' | *[!0-9]*) echo "fuzz.sh: SECONDS '$seconds' is not a whole number" >&2; exit 2 ;; esac
CXX=${CXX:-clang++}
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (apt-get install clang)" >&2; exit 2; }
out=build-fuzz
mkdir -p "$out/obj"
# The embedded defaults, as CMake generates them.
{
  echo 'namespace rfx {'
  echo 'extern const char* const kDefaultConfigYaml;'
  printf 'const char* const kDefaultConfigYaml = R"rfxyaml('
  cat configs/defaults.yaml
  echo ')rfxyaml";'
  echo '}  // namespace rfx'
} > "$out/defaults.cpp"
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
       -I src -I . -isystem /usr/include/opencv4)
common=(src/rfx/config/config.cpp src/rfx/config/config_file.cpp src/rfx/config/scalar.cpp
        src/rfx/util/strings.cpp src/rfx/util/files.cpp src/rfx/util/hash.cpp "$out/defaults.cpp")
declare -A extra=(
  [config]=""
  [layers]="src/rfx/nn/layer_spec.cpp"
  [records]="src/rfx/sweep/store.cpp src/rfx/sweep/sweep_dir.cpp src/rfx/sweep/plan.cpp
             src/rfx/sweep/merge.cpp src/rfx/util/lock.cpp
             src/rfx/stats/adaptive.cpp
             src/rfx/stats/psychometric.cpp src/rfx/stats/psychometric_ml.cpp"
)
compile() {  # source -> object, rebuilt when the source is newer
  local src=$1 obj="$out/obj/$(echo "$1" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
    "$CXX" "${flags[@]}" -c "$src" -o "$obj"
  fi
  echo "$obj"
}
found=0
for t in "${targets[@]}"; do
  [ -f "fuzz/${t}_fuzz.cpp" ] || { echo "fuzz.sh: no target '$t' (fuzz/${t}_fuzz.cpp)" >&2; exit 2; }
  objs=()
  for s in "${common[@]}" ${extra[$t]} "fuzz/${t}_fuzz.cpp"; do objs+=("$(compile "$s")"); done
  "$CXX" -fsanitize=fuzzer,address,undefined "${objs[@]}" -lyaml-cpp -o "$out/${t}_fuzz"
  mkdir -p "$out/corpus/$t"
  log="$out/${t}.log"
  set +e
  (cd "$out" && ASAN_OPTIONS=detect_leaks=0 "./${t}_fuzz" -max_total_time="$seconds" -timeout=10 \
     -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="crash-${t}-" "corpus/$t" \
     "../fuzz/corpus/$t") >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  [ -z "$execs" ] && execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  units=$(ls "$out/corpus/$t" | wc -l)
  if [ $rc -eq 0 ]; then
    echo "$t: ${execs:-?} executions in ${seconds}s, corpus $units new inputs, no crash"
  else
    found=1
    echo "$t: CRASH after ${execs:-?} executions (exit $rc): see $log and $out/crash-${t}-*"
  fi
done
exit $found
