#!/usr/bin/env bash
# Auto (SIA-W+H) against harness-only (SIA-H) on an offline task (demo, cipher, cipher-split), over
# several seeds, with the same flags: four `sia sweep`s and one `sia compare`.
#
#   initial  the Meta-Agent's harness alone (--mode harness --max-gen 1)
#   harness  --mode harness for MAX_GEN generations
#   auto     --mode auto for MAX_GEN generations
#   weights  --mode weights for WEIGHTS_GENS generations, starting from harness-only's final
#            incumbent (--harness .../sweep_<task>_harness/run_{seed}/best): with common random
#            numbers its test score minus harness-only's is what its adapters added
#
# `sia compare` then sets them side by side by seed, with each one's paired difference from
# harness-only (mean, paired standard error, wins per seed) and how many accepted generations
# had a gain that was not significant.
#
#   bench/demo_levers.sh                          # seeds 1-3, the flags in docs/demo.md
#   SEEDS=1-6 bench/demo_levers.sh
#   FLAGS="--samples 16" MAX_GEN=12 bench/demo_levers.sh
#   MODES="harness weights" SEEDS=1-16 bench/demo_levers.sh   # the weights lever alone, more seeds
#   TASK=cipher bench/demo_levers.sh              # the same on the cipher task
#   FLAGS="... --lever-choice rules --confirm-frac 0" # the selection rules before issue 12 (--accept any is the default)
#
# Runs stay in RUNS_DIR (default runs-levers): running the script again resumes unfinished
# runs and skips finished ones. The first run pretrains the task's base model (~2 min on 2
# cores); later runs reuse the cached base.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-1-3}
SEEDS=${SEEDS// /,} # the old spelling "1 2 3" still works
TASK=${TASK:-demo} # or cipher, the offline task built for the weights lever
MAX_GEN=${MAX_GEN:-10}
WEIGHTS_GENS=${WEIGHTS_GENS:-4}
MODES=${MODES:-"initial harness auto weights"} # harness is needed by weights' column
FLAGS=${FLAGS:-"--samples 8 --train-items 192 --train-samples 4 --train-rounds 2"}
RUNS_DIR=${RUNS_DIR:-runs-levers}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/sia" ./cmd/sia
sweeps=()
for mode in $MODES; do
	extra=(--mode "$mode" --max-gen "$MAX_GEN")
	case $mode in
	initial) extra=(--mode harness --max-gen 1) ;;
	weights) extra=(--mode weights --max-gen "$WEIGHTS_GENS" --harness "$RUNS_DIR/sweep_${TASK}_harness/run_{seed}/best") ;;
	esac
	# shellcheck disable=SC2086
	"$bin/sia" sweep --seeds "$SEEDS" --name "${TASK}_$mode" --task "$TASK" $FLAGS "${extra[@]}" --runs-dir "$RUNS_DIR" >/dev/null
	sweeps+=("$RUNS_DIR/sweep_${TASK}_$mode")
done
# harness-only first: every other column is compared with it
order=()
for s in "${sweeps[@]}"; do [[ $s == *_harness ]] && order+=("$s"); done
for s in "${sweeps[@]}"; do [[ $s != *_harness ]] && order+=("$s"); done
"$bin/sia" compare "${order[@]}" --csv "$RUNS_DIR/${TASK}_levers.csv"
