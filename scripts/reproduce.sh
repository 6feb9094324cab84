#!/usr/bin/env bash
# Reproduces the study's experiments (experiments/NN_name.yaml, 1-16), the small-CNN studies
# (experiments/cnn_*.yaml, '#| kind: arch'; see run_arch) and the three-views figure.
#
#   scripts/reproduce.sh [NAME...] [--scale cpu|paper] [--out DIR] [--slurm N] [--list]
#                        [--workers W] [--probe 'ARGS'] [--sbatch ARG]... [-- RFX_ARGS...]
#
# NAME: 2, 02 or 02_input_skip_xavier; cnn_kernel (one small-CNN study) or cnn (all five);
# `views` is the figure of the study's three views of the field (after 02 and 03); no NAME =
# every experiment, then views. --scale cpu (default; --cpu)
# uses experiments/cpu/NAME.yaml with configs/cpu.yaml, --scale paper (--gpu) experiments/
# NAME.yaml with configs/gpu.yaml. --list prints each experiment's name, question and cost at
# both scales (the '#|' header lines of its YAMLs) and exits. --slurm N submits each sweep as N
# array tasks (rfx slurm; --sbatch ARG is passed to sbatch); rerun when the jobs are done.
# --workers W: trainings at once in a local sweep (default: the usable cores at cpu scale, each
# with train.threads=1, which is several times faster than one training on all cores; 1 at
# paper scale). Everything after `--` goes to every rfx sweep / probe call (e.g. -- --set train.steps=50),
# --probe 'ARGS' replaces the forward experiments' probe arguments (e.g. --probe '--depths 1:8').
#
# OUT/NAME/ (default OUT = out/reproduce): sweep/ (or sweep_<variant>/) and fit.json, or
# forward/; the figures; summary.txt (verdict, p with its CI or the radii, d50s, wall time).
# Resumable: sweeps resume, a probe whose output exists is skipped. Environment: RFX=PATH (an
# rfx executable; skips setup.sh and build.sh), RFX_VIEWS_DEPTHS='2 4 8' (the views' depths).
set -euo pipefail
cd "$(dirname "$0")/.."

scale=cpu
shards=0
workers=""
OUT=out/reproduce
list=0
probe_override=""
names=()
sbatch_args=()
rfx_args=()
usage="allowed: NAME..., --scale cpu|paper, --cpu, --gpu, --out DIR, --slurm N, --workers W, --list, --probe 'ARGS', --sbatch ARG, -- RFX_ARGS"
while [ $# -gt 0 ]; do
  case $1 in
    --cpu) scale=cpu ;;
    --gpu) scale=paper ;;
    --scale) shift; scale=${1:-}
             [ "$scale" = cpu ] || [ "$scale" = paper ] || {
               echo "reproduce.sh: --scale '$scale' is not allowed; allowed: cpu, paper" >&2; exit 2; } ;;
    --slurm) shift; shards=${1:-}; [[ $shards =~ ^[1-9][0-9]*$ ]] || {
               echo "reproduce.sh: --slurm '$shards' must be a number of shards >= 1" >&2; exit 2; } ;;
    --workers) shift; workers=${1:-}; [[ $workers =~ ^[1-9][0-9]*$ ]] || {
               echo "reproduce.sh: --workers '$workers' must be a number of trainings >= 1" >&2; exit 2; } ;;
    --out) shift; OUT=${1:?reproduce.sh: --out needs a directory} ;;
    --list) list=1 ;;
    --probe) shift; probe_override=${1:?reproduce.sh: --probe needs the probe arguments} ;;
    --sbatch) shift; sbatch_args+=("${1:?reproduce.sh: --sbatch needs an argument}") ;;
    --) shift; rfx_args=("$@"); break ;;
    -*) echo "reproduce.sh: unknown option '$1'; $usage" >&2; exit 2 ;;
    *) names+=("$1") ;;
  esac
  shift
done

# The experiments: the stems of experiments/NN_*.yaml.
all=()
for f in experiments/[0-9][0-9]_*.yaml experiments/cnn_*.yaml; do all+=("$(basename "$f" .yaml)"); done

# header FILE KEY: the value of the '#| KEY: value' line of an experiment YAML.
header() { sed -n "s/^#| $2: //p" "$1" | head -n 1; }

if [ "$list" -eq 1 ]; then
  for n in "${all[@]}"; do
    printf '%s  [%s] %s\n    cpu:   %s\n    paper: %s\n' "$n" "$(header "experiments/$n.yaml" kind)" \
      "$(header "experiments/$n.yaml" question)" "$(header "experiments/cpu/$n.yaml" cost)" \
      "$(header "experiments/$n.yaml" cost)"
  done
  printf 'views  [figure] the study'"'"'s three views of the field per depth (theory, forward pass, gradient ERF, trained d50 of 02 and 03)\n'
  exit 0
fi

# Resolve NAMEs (2, 02, 02_input_skip_xavier, views); a bad one exits 2 before any work.
todo=()
[ ${#names[@]} -eq 0 ] && names=("${all[@]}" views)
for want in "${names[@]}"; do
  hits=()
  if [ "$want" = views ]; then hits=(views); else
    [[ $want =~ ^[0-9]$ ]] && want="0$want"
    for n in "${all[@]}"; do
      # a full name, a study experiment's number, or `cnn` (every small-CNN study)
      if [ "$n" = "$want" ] || [ "${n%%_*}" = "$want" ]; then hits+=("$n"); fi
    done
  fi
  if [ ${#hits[@]} -eq 0 ]; then
    echo "reproduce.sh: unknown experiment '$want'; allowed: ${all[*]} views (or their numbers; cnn = every cnn_*)" >&2
    exit 2
  fi
  todo+=("${hits[@]}")
done

# RFX=PATH uses that executable and skips the install and the build (the CLI test does).
if [ -z "${RFX:-}" ]; then
  bash scripts/setup.sh
  RFX_TARGETS=rfx bash scripts/build.sh >/dev/null
  RFX=./build/rfx
fi
PY=/usr/bin/python3
profile=configs/cpu.yaml
expdir=experiments/cpu
if [ "$scale" = paper ]; then profile=configs/gpu.yaml; expdir=experiments; fi
if [ -z "$workers" ]; then
  workers=1
  [ "$scale" = cpu ] && workers=$(nproc)
fi
# Several workers share the cores: one intra-op thread each (the user's -- args still win).
worker_args=(--workers "$workers")
[ "$workers" -gt 1 ] && worker_args+=(--set train.threads=1)
mkdir -p "$OUT"

pending=0      # sweeps left on the cluster
arch_failed=0  # a small-CNN study with a cell training that failed

# sweep_one CFG DIR PREFIX TITLE [--set ...]: run (or submit) one sweep, fit it and plot it.
# Returns 100 when the sweep is on the cluster, a failing command's status otherwise (callers
# test it, which turns off set -e inside, hence the explicit returns).
sweep_one() {
  local cfg=$1 dir=$2 prefix=$3 title=$4
  shift 4
  local args=(--config "$profile" --config "$cfg" "$@" "${rfx_args[@]}")
  if [ "$shards" -gt 0 ]; then
    local jobs="$dir/slurm/jobs.jsonl"
    if [ -f "$jobs" ]; then
      local ids
      ids=$(tail -n 1 "$jobs" | sed -E 's/.*"array_job":"([0-9]+)".*"merge_job":"([0-9]+)".*/\1,\2/')
      if [ -n "$(squeue -h -j "$ids" 2>/dev/null)" ]; then
        echo "reproduce.sh: jobs $ids of $dir are still queued or running; rerun when they are done" >&2
        pending=1; return 100
      fi
    fi
    if [ ! -s "$dir/results.jsonl" ]; then
      $RFX slurm "${args[@]}" --out "$dir" --shards "$shards" --submit -- "${sbatch_args[@]}" || return $?
      echo "reproduce.sh: $dir is on the cluster; rerun this command when its jobs are done" >&2
      pending=1; return 100
    fi
  else
    $RFX sweep --config "$profile" --config "$cfg" "$@" "${worker_args[@]}" "${rfx_args[@]}" \
      --out "$dir" || return $?
  fi
  $RFX fit "$dir" --json > "$prefix.fit.json" || return $?
  $PY scripts/plot_sweep.py "$dir" --rfx "$RFX" --out "$prefix" --title "$title" || return $?
}

# sweep_or_stop ARGS...: sweep_one; 1 (pending) if it is on the cluster; exits if it failed.
sweep_or_stop() {
  local rc=0
  sweep_one "$@" || rc=$?
  [ "$rc" -eq 100 ] && return 1
  [ "$rc" -ne 0 ] && { echo "reproduce.sh: the sweep $2 failed (exit $rc)" >&2; exit "$rc"; }
  return 0
}

run_sweep() {
  local n=$1 cfg="$expdir/$1.yaml" t0=$SECONDS
  local variants
  variants=$(header "$cfg" variants)
  if [ -z "$variants" ]; then
    sweep_or_stop "$cfg" "$OUT/$n/sweep" "$OUT/$n/sweep" "$n ($scale)" || return 0
    mv "$OUT/$n/sweep.fit.json" "$OUT/$n/fit.json"
    $PY scripts/summarize.py sweep "$n" $((SECONDS - t0)) "$OUT/$n/fit.json" > "$OUT/$n/summary.txt"
  else
    local fits=() labels=() v tag waiting=0
    for v in $variants; do
      tag=${v//=/_}
      sweep_or_stop "$cfg" "$OUT/$n/sweep_$tag" "$OUT/$n/sweep_$tag" "$n $v ($scale)" --set "$v" ||
        { waiting=1; continue; }
      mv "$OUT/$n/sweep_$tag.fit.json" "$OUT/$n/fit_$tag.json"
      fits+=("$OUT/$n/fit_$tag.json"); labels+=("$v")
    done
    [ "$waiting" -eq 1 ] && return 0
    $PY scripts/summarize.py sweep "$n" $((SECONDS - t0)) "${fits[@]}" \
      --labels "$(IFS=,; echo "${labels[*]}")" > "$OUT/$n/summary.txt"
  fi
}

run_forward() {
  local n=$1 cfg="$expdir/$1.yaml" t0=$SECONDS
  local probe seeds s dirs=()
  probe=${probe_override:-$(header "$cfg" probe)}
  # '#| seeds: S' (random weights): one probe per train.seed 0..S-1, summarised with CIs.
  seeds=$(header "$cfg" seeds)
  seeds=${seeds:-1}
  for ((s = 0; s < seeds; s++)); do
    local dir="$OUT/$n/forward" seed_args=()
    if [ "$seeds" -gt 1 ]; then dir="$OUT/$n/forward_seed_$s"; seed_args=(--set "train.seed=$s"); fi
    if [ ! -f "$dir/forward.json" ]; then
      # shellcheck disable=SC2086  # the probe line is a list of arguments
      $RFX probe forward --config "$profile" --config "$cfg" $probe "${seed_args[@]}" "${rfx_args[@]}" \
        --out "$dir.tmp" > /dev/null
      rm -rf "$dir"; mv "$dir.tmp" "$dir"
    fi
    dirs+=("$dir")
  done
  if [ "$(wc -l < "${dirs[0]}/radii.csv")" -gt 3 ]; then
    $PY scripts/plot_probe.py image "${dirs[0]}" --out "$OUT/$n/forward_image.png" --title "$n ($scale)"
  fi
  if [ "$seeds" -gt 1 ]; then
    $PY scripts/plot_probe.py seeds "${dirs[@]}" --out "$OUT/$n/forward_radius.png" --title "$n ($scale)"
  else
    $PY scripts/plot_probe.py forward "${dirs[0]}" --out "$OUT/$n/forward_radius.png"
  fi
  $PY scripts/summarize.py forward "$n" $((SECONDS - t0)) "${dirs[@]}" > "$OUT/$n/summary.txt"
}

# run_arch NAME: a small-CNN study (experiments/cnn_*.yaml, '#| kind: arch'). Per '#| variant: LABEL SET'
# line (SET is key=value for --set, or an overlay YAML for --config): a d50 sweep; '#| seeds: S'
# trainings of the '#| cell: key=value ...' with the gradient ERF at step 0 and at the end
# (train.erf_every larger than the steps), each in erf_LABEL_seed_S/; rfx profile's step time (60 steps)
# ('#| profile: ARGS' adds arguments, e.g. --input-shape 120,160) in profile_LABEL.json. Then
# summary.txt (d50s, accuracy at the cell, ERF σ before/after with CIs, step time) and arch.png.
run_arch() {
  local n=$1 cfg="$expdir/$1.yaml" t0=$SECONDS
  local seeds prof line label value s waiting=0 failed=0 cell_sets=() thread_args=() labels=()
  local variants=()
  mapfile -t variants < <(sed -n 's/^#| variant: //p' "$cfg")
  seeds=$(header "$cfg" seeds)
  seeds=${seeds:-1}
  prof=$(header "$cfg" profile)
  for value in $(header "$cfg" cell); do cell_sets+=(--set "$value"); done
  [ "$workers" -gt 1 ] && thread_args=(--set train.threads=1)
  for line in "${variants[@]}"; do
    label=${line%% *}
    value=${line#* }
    local vargs=(--set "$value")
    [[ $value == *.yaml ]] && vargs=(--config "$value")
    labels+=("$label")
    if sweep_or_stop "$cfg" "$OUT/$n/sweep_$label" "$OUT/$n/sweep_$label" "$n $label ($scale)" \
      "${vargs[@]}"; then
      mv "$OUT/$n/sweep_$label.fit.json" "$OUT/$n/fit_$label.json"
    else
      waiting=1
    fi
    for ((s = 0; s < seeds; s++)); do
      local dir="$OUT/$n/erf_${label}_seed_$s" again=()
      [ -f "$dir/result.json" ] && continue
      # A run killed part-way starts over (a few hundred steps; the seed makes it the same run).
      [ -d "$dir" ] && again=(--force)
      $RFX train --config "$profile" --config "$cfg" "${vargs[@]}" "${cell_sets[@]}" \
        --set "train.seed=$s" --set train.erf_every=1000000000 "${thread_args[@]}" \
        "${rfx_args[@]}" "${again[@]}" --out "$dir" < /dev/null > "$dir.log" 2>&1 &
      while [ "$(jobs -rp | wc -l)" -ge "$workers" ]; do wait -n || true; done
    done
    wait
    # A failed training is named and left out of the means (the summary counts the seeds it
    # used); the other seeds and variants go on, and a rerun retries it.
    for ((s = 0; s < seeds; s++)); do
      local dir="$OUT/$n/erf_${label}_seed_$s"
      if [ ! -f "$dir/result.json" ]; then
        echo "reproduce.sh: the cell training $dir failed ($(tail -n 1 "$dir.log" 2>/dev/null)); rerun to retry" >&2
        failed=1
      fi
    done
    if [ ! -s "$OUT/$n/profile_$label.json" ]; then
      # shellcheck disable=SC2086  # the profile line is a list of arguments
      $RFX profile --config "$profile" --config "$cfg" "${vargs[@]}" "${cell_sets[@]}" \
        "${thread_args[@]}" --steps 60 $prof "${rfx_args[@]}" --json > "$OUT/$n/profile_$label.json.tmp"
      mv "$OUT/$n/profile_$label.json.tmp" "$OUT/$n/profile_$label.json"
    fi
  done
  [ "$waiting" -eq 1 ] && return 0
  $PY scripts/summarize.py arch "$n" $((SECONDS - t0)) "$OUT/$n" --labels "$(IFS=,; echo "${labels[*]}")" \
    --seeds "$seeds" --cell "$(header "$cfg" cell)" > "$OUT/$n/summary.txt"
  $PY scripts/plot_arch.py "$OUT/$n" --labels "$(IFS=,; echo "${labels[*]}")" --seeds "$seeds" \
    --title "$n ($scale)" --out "$OUT/$n/arch.png"
  return "$failed"
}

# views: analytic radius, forward-pass radius and gradient-ERF radius of fresh nets per depth
# of experiment 02's net, and the trained d50 of 02 and 03 where they were run; the ERF map of the
# deepest net, zoomed, log scale.
run_views() {
  local d="$OUT/views" cfg="$expdir/02_input_skip_xavier.yaml" t0=$SECONDS
  local depths size
  if [ "$scale" = paper ]; then depths="2 4 8 12 16 24 32 48"; size=128; else depths="2 4 8 12 16 24"; size=64; fi
  [ -n "${RFX_VIEWS_DEPTHS:-}" ] && depths=$RFX_VIEWS_DEPTHS
  local last=${depths##* }
  mkdir -p "$d/theory" "$d/gradient"
  local n
  for n in $depths; do
    [ -f "$d/theory/depth_$n.json" ] ||
      $RFX theory --config "$cfg" --set net.depth="$n" --input "$size" --format json > "$d/theory/depth_$n.json"
    [ -f "$d/gradient/depth_$n.json" ] ||
      $RFX probe gradient --config "$profile" --config "$cfg" --set net.depth="$n" --size "$size" \
        --samples 16 "${rfx_args[@]}" --json --out "$d/gradient/depth_$n" > "$d/gradient/depth_$n.json"
  done
  if [ ! -f "$d/forward/forward.json" ]; then
    $RFX probe forward --config "$profile" --config "$expdir/06_forward_plain_constant.yaml" \
      --depths "1:$last" --size $((4 * last + 33)) "${rfx_args[@]}" --out "$d/forward.tmp" > /dev/null
    rm -rf "$d/forward"; mv "$d/forward.tmp" "$d/forward"
  fi
  local trained=()
  [ -f "$OUT/02_input_skip_xavier/fit.json" ] && trained+=(--trained "$OUT/02_input_skip_xavier/fit.json" "02 input-skip xavier")
  [ -f "$OUT/03_input_skip_shifted/fit.json" ] && trained+=(--trained "$OUT/03_input_skip_shifted/fit.json" "03 input-skip shifted")
  $PY scripts/plot_probe.py gradient "$d/gradient/depth_$last/erf_map.csv" \
    --title "gradient ERF, fresh net of depth $last ($scale)" --out "$d/erf_depth_$last.png"
  $PY scripts/plot_views.py --theory "$d"/theory/depth_*.json --forward "$d/forward" \
    --gradient "$d"/gradient/depth_*.json "${trained[@]}" --out "$d/views.png"
  echo "views: theory, forward (constant 0.01), gradient ERF at depths $depths; wall $((SECONDS - t0)) s" > "$d/summary.txt"
}

for n in "${todo[@]}"; do
  echo "== $n ($scale)" >&2
  if [ "$n" = views ]; then run_views; continue; fi
  mkdir -p "$OUT/$n"
  case $(header "$expdir/$n.yaml" kind) in
    sweep) run_sweep "$n" ;;
    forward) run_forward "$n" ;;
    arch) run_arch "$n" || arch_failed=1 ;;
    *) echo "reproduce.sh: $expdir/$n.yaml has no '#| kind: sweep|forward|arch' line" >&2; exit 1 ;;
  esac
  [ -f "$OUT/$n/summary.txt" ] && sed -n 2p "$OUT/$n/summary.txt" >&2
done
[ "$pending" -eq 1 ] && echo "reproduce.sh: some sweeps are on the cluster; rerun when they are done" >&2
echo "reproduce.sh: results in $OUT/<name>/ (summary.txt, fit.json, PNGs)" >&2
if [ "$arch_failed" -eq 1 ]; then
  echo "reproduce.sh: some cell trainings failed (named above); rerun to retry them" >&2
  exit 1
fi
