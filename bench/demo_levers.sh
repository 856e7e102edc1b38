#!/usr/bin/env bash
# Auto (SIA-W+H) against harness-only (SIA-H) on an offline task (demo or cipher), over
# several seeds, with the same flags; prints each seed's held-out test score,
# what auto's final incumbent runs on, and the paired mean difference.
# A third run per seed isolates the weights lever: --mode weights for
# WEIGHTS_GENS generations, starting from harness-only's final incumbent
# (--harness .../best). Val and test rollouts share seeds across
# generations, so that run's test score minus harness-only's is exactly what
# its adapters added (0 when no update beat the harness on val).
#
#   bench/demo_levers.sh                 # seeds 1-3, the flags in docs/demo.md
#   SEEDS="1 2 3 4 5 6" bench/demo_levers.sh
#   FLAGS="--samples 16" MAX_GEN=12 bench/demo_levers.sh
#   MODES="harness weights" SEEDS="$(seq 1 16)" bench/demo_levers.sh   # the weights lever alone, more seeds
#   TASK=cipher bench/demo_levers.sh     # the same on the cipher task
#
# The first run pretrains the demo's base model (~2 min on 2 cores); later
# runs reuse the cached base. Needs python3 for the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"1 2 3"}
TASK=${TASK:-demo} # or cipher, the offline task built for the weights lever
MAX_GEN=${MAX_GEN:-10}
WEIGHTS_GENS=${WEIGHTS_GENS:-4}
MODES=${MODES:-"initial harness auto weights"} # harness is needed by auto's and weights' columns
FLAGS=${FLAGS:-"--samples 8 --train-items 192 --train-samples 4 --train-rounds 2"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/sia" ./cmd/sia
for seed in $SEEDS; do
	for mode in $MODES; do
		extra=(--mode "$mode" --max-gen "$MAX_GEN")
		case $mode in
		initial) extra=(--mode harness --max-gen 1) ;;
		weights) extra=(--mode weights --max-gen "$WEIGHTS_GENS" --harness "$out/harness$seed/run_1/best") ;;
		esac
		# shellcheck disable=SC2086
		"$out/sia" run --task "$TASK" --seed "$seed" $FLAGS "${extra[@]}" --runs-dir "$out/$mode$seed" >/dev/null 2>"$out/$mode$seed.log" ||
			{ cat "$out/$mode$seed.log" >&2; exit 1; }
		"$out/sia" show "$out/$mode$seed/run_1" --json >"$out/$mode$seed.json"
	done
done
python3 - "$out" $SEEDS <<'PY'
import json, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
def load(mode, s):
    try:
        return json.load(open(f"{out}/{mode}{s}.json"))
    except FileNotFoundError:
        return None
def incumbent(run):
    g = next(g for g in run["generations"] if g["gen"] == run["best"]["gen"])
    return f"gen {g['gen']}, adapter v{g['adapter_version']}"
def cell(run, with_incumbent=False):
    if run is None:
        return "-"
    return f"{run['test_score']:.4f}" + (f" ({incumbent(run)})" if with_incumbent else "")
print("seed | initial | harness | auto (its incumbent) | weights on harness's best (its incumbent)")
diffs, wdiffs = [], []
for s in seeds:
    i, h, a, w = (load(m, s) for m in ("initial", "harness", "auto", "weights"))
    if h and a:
        diffs.append(a["test_score"] - h["test_score"])
    if h and w:
        wdiffs.append(w["test_score"] - h["test_score"])
    print(f"{s} | {cell(i)} | {cell(h)} | {cell(a, True)} | {cell(w, True)}")
def summary(name, d):
    if not d:
        return
    mean = statistics.mean(d)
    se = statistics.stdev(d) / len(d) ** 0.5 if len(d) > 1 else float("nan")
    print(f"{name}: mean {mean:+.4f} (paired SE {se:.4f}), ahead in {sum(x > 0 for x in d)}/{len(d)}, behind in {sum(x < 0 for x in d)}/{len(d)}")
summary("auto - harness", diffs)
summary("weights on harness's best - harness", wdiffs)
print("(held-out test scores; initial: the Meta-Agent's harness, gen 1, on the base weights)")
PY
