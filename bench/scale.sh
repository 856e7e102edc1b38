#!/usr/bin/env bash
# Memory and time of the loop at scale: a task folder with ITEMS val items
# (default 100000) and a trivial Starlark harness (no model: 2*x + offset,
# with an offset knob for the builtin Feedback-Agent to search), run with
# `sia run --mode harness --samples SAMPLES --max-gen GENS` under
# /usr/bin/time -v. Prints the peak RSS, wall time, seconds per generation
# (from events.jsonl: every step's duration_s of that generation) and the
# bytes of rollout files per generation and per rollout.
#
#   nice -n 10 bench/scale.sh                      # 100,000 x 8, 2 generations
#   ITEMS=10000 nice -n 10 bench/scale.sh          # 10,000 x 8
#   SIA=/path/to/sia bench/scale.sh                # a prebuilt binary (else built from this checkout)
#
# Needs jq. --confirm-frac 0: the confirmation slice would only move items out
# of the selection slice; the final re-scoring on fresh samples still runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS=${ITEMS:-100000}
SAMPLES=${SAMPLES:-8}
GENS=${GENS:-2}
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"' EXIT
sia=${SIA:-}
if [ -z "$sia" ]; then
	go build -o "$tmp/sia" ./cmd/sia
	sia=$tmp/sia
fi

task=$tmp/task
mkdir -p "$task/data/public" "$task/data/private" "$task/reference"
cat >"$task/task.yaml" <<EOF
name: scale
metric: accuracy
verifier: exact
answer: an integer
splits:
  train: {file: public/train.csv}
  val: {carve_from: train, count: $ITEMS, seed: 3}
  test: {file: public/test.csv, gold: {file: private/test.csv}}
EOF
echo "Double x and add one." >"$task/task.md"
cat >"$task/reference/harness.star" <<'EOF'
KNOBS = {"offset": [0, 1, 2]}

def solve(item):
    return str(2 * int(item["x"]) + knobs["offset"])
EOF
awk -v n="$((ITEMS + 64))" 'BEGIN { print "id,x,label"; for (i = 0; i < n; i++) printf "t%07d,%d,%d\n", i, i % 1000, 2 * (i % 1000) + 1 }' >"$task/data/public/train.csv"
awk 'BEGIN { print "id,x"; for (i = 0; i < 100; i++) printf "q%03d,%d\n", i, i }' >"$task/data/public/test.csv"
awk 'BEGIN { print "id,label"; for (i = 0; i < 100; i++) printf "q%03d,%d\n", i, 2 * i + 1 }' >"$task/data/private/test.csv"

runs=$tmp/runs
/usr/bin/time -v -o "$tmp/time" "$sia" run --task-dir "$task" --mode harness --max-gen "$GENS" --samples "$SAMPLES" \
	--confirm-frac 0 --sandbox none --runs-dir "$runs" >"$tmp/out" 2>"$tmp/err" || {
	cat "$tmp/err" >&2
	exit 1
}
run=$runs/run_1
rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$tmp/time")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); printf "%.1f", (n == 3) ? p[1]*3600 + p[2]*60 + p[3] : p[1]*60 + p[2] }' "$tmp/time")
echo "items=$ITEMS samples=$SAMPLES gens=$GENS rollouts/gen=$((ITEMS * SAMPLES)) peak_rss_mib=$rss wall_s=$wall"
for g in $(seq 1 "$GENS"); do
	[ -d "$run/gen_$g" ] || continue
	secs=$(jq -s --argjson g "$g" '[.[] | select(.gen == $g and (.type == "harness_ready" or .type == "rollout_done" or .type == "verified" or .type == "decided")) | .duration_s // 0] | add' "$run/events.jsonl")
	bytes=$(find "$run/gen_$g" -maxdepth 1 -name 'rollouts.jsonl*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	echo "gen=$g seconds=$secs rollout_bytes=$bytes bytes/rollout=$(awk -v b="$bytes" -v n="$((ITEMS * SAMPLES))" 'BEGIN { printf "%.1f", b / n }')"
done
echo "run folder bytes=$(du -sb "$run" | cut -f1)"
