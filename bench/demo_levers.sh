#!/usr/bin/env bash
# Auto (SIA-W+H) against harness-only (SIA-H) on the offline demo task, over
# several seeds, with the same flags; prints each seed's held-out test score,
# what auto's final incumbent runs on, and the paired mean difference.
#
#   bench/demo_levers.sh                 # seeds 1-3, the flags in docs/demo.md
#   SEEDS="1 2 3 4 5 6" bench/demo_levers.sh
#   FLAGS="--max-gen 12 --samples 16" bench/demo_levers.sh
#
# The first run pretrains the demo's base model (~2 min on 2 cores); later
# runs reuse the cached base. Needs python3 for the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"1 2 3"}
FLAGS=${FLAGS:-"--max-gen 10 --samples 8 --train-items 192 --train-samples 4 --train-rounds 2"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/sia" ./cmd/sia
for seed in $SEEDS; do
	for mode in harness auto; do
		# shellcheck disable=SC2086
		"$out/sia" run --task demo --mode "$mode" --seed "$seed" $FLAGS --runs-dir "$out/$mode$seed" >/dev/null 2>"$out/$mode$seed.log" ||
			{ cat "$out/$mode$seed.log" >&2; exit 1; }
		"$out/sia" show "$out/$mode$seed/run_1" --json >"$out/$mode$seed.json"
	done
done
python3 - "$out" $SEEDS <<'PY'
import json, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
print("seed  harness  auto    auto's incumbent")
diffs = []
for s in seeds:
    h = json.load(open(f"{out}/harness{s}.json"))
    a = json.load(open(f"{out}/auto{s}.json"))
    inc = next(g for g in a["generations"] if g["gen"] == a["best"]["gen"])
    diffs.append(a["test_score"] - h["test_score"])
    print(f"{s:>4}  {h['test_score']:.4f}   {a['test_score']:.4f}  gen {inc['gen']}, adapter v{inc['adapter_version']}")
mean = statistics.mean(diffs)
se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
print(f"auto - harness: mean {mean:+.4f} (paired SE {se:.4f}), auto ahead in {sum(d > 0 for d in diffs)}/{len(diffs)}")
PY
