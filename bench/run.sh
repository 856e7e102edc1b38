#!/usr/bin/env bash
# Go tinylm vs PyTorch on the CPU, same architecture and LoRA configuration,
# same 2 cores. Prints tokens/s for a LoRA training step and for sampling,
# per round and as medians, with the ratio Go / PyTorch.
#
#   bench/run.sh            # 3 rounds (ROUNDS=n to change)
#   CORES=1 bench/run.sh    # one core each: per-core efficiency, less
#                           # sensitive to other load on a shared machine
#
# Go runs with GOMAXPROCS=$CORES; PyTorch at its best 2-core setting
# (torch.set_num_threads(1) with OPENBLAS_NUM_THREADS=$CORES, see
# ../shared/ref/cpu-training-benchmark.md). On a machine with more CPUs than
# that, both are pinned to the first $CORES CPUs with taskset. Go and PyTorch
# alternate within each round so machine load affects both alike. PyTorch
# needs Debian's python3-torch and libopenblas0-pthread (without it torch
# falls back to the reference BLAS, ~20x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
CORES=${CORES:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pin=()
if [ "$(nproc)" -gt "$CORES" ] && command -v taskset >/dev/null; then
	pin=(taskset -c "0-$((CORES - 1))")
fi
if ! ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 >/dev/null 2>&1; then
	echo "warning: OpenBLAS not installed; PyTorch runs on the reference BLAS (apt-get install libopenblas0-pthread)" >&2
fi
go test -c -o "$tmp/tinylm.test" ./tinylm
PY=${PYTHON:-/usr/bin/python3}

for r in $(seq "$ROUNDS"); do
	GOMAXPROCS=$CORES "${pin[@]}" "$tmp/tinylm.test" -test.run '^$' -test.bench 'LoRAStep|Sample$' -test.benchtime 20x |
		awk -v r="$r" '/^Benchmark/ { for (i = 1; i < NF; i++) if ($(i+1) == "tok/s") {
			b = ($1 ~ /LoRAStep/) ? "lora_step" : "sample";
			printf "{\"impl\":\"go\",\"bench\":\"%s\",\"tok_per_s\":%s,\"round\":%d}\n", b, $i, r } }' >>"$tmp/results.jsonl"
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=$CORES "${pin[@]}" "$PY" bench/torch/bench_tinylm.py --threads 1 |
		sed "s/}\$/, \"round\": $r}/" >>"$tmp/results.jsonl"
done

CORES=$CORES "$PY" - "$tmp/results.jsonl" <<'PYEOF'
import json, os, statistics, sys
cores = os.environ["CORES"]
rows = [json.loads(l) for l in open(sys.argv[1])]
torch_version = next((r.get("torch") for r in rows if r.get("torch")), "?")
print(f"tinylm benchmark, {max(r['round'] for r in rows)} rounds; PyTorch {torch_version}, 1 torch thread + OPENBLAS_NUM_THREADS={cores}; Go GOMAXPROCS={cores}")
print(f"{'bench':10} {'round':>5} {'go tok/s':>10} {'torch tok/s':>12} {'go/torch':>9}")
for bench in ("lora_step", "sample"):
    ratios = []
    for rd in sorted({r["round"] for r in rows}):
        g = [r["tok_per_s"] for r in rows if r["bench"] == bench and r["impl"] == "go" and r["round"] == rd]
        t = [r["tok_per_s"] for r in rows if r["bench"] == bench and r["impl"] == "pytorch" and r["round"] == rd]
        if g and t:
            ratios.append(g[0] / t[0])
            print(f"{bench:10} {rd:>5} {g[0]:>10.0f} {t[0]:>12.0f} {g[0]/t[0]:>9.2f}")
    gs = [r["tok_per_s"] for r in rows if r["bench"] == bench and r["impl"] == "go"]
    ts = [r["tok_per_s"] for r in rows if r["bench"] == bench and r["impl"] == "pytorch"]
    if gs and ts:
        print(f"{bench:10} {'med':>5} {statistics.median(gs):>10.0f} {statistics.median(ts):>12.0f} {statistics.median(ratios):>9.2f}  (median of per-round ratios)")
PYEOF
