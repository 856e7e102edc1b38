#!/usr/bin/env bash
# Go tinylm vs PyTorch on the CPU, same architecture and LoRA configuration,
# same cores.
#
#   bench/run.sh            # both parts below, 3 rounds (ROUNDS=n to change)
#   bench/run.sh matmul     # GFLOP/s of single products on the model's shapes:
#                           # tinylm's kernel sets, vek32 and OpenBLAS (PyTorch)
#   bench/run.sh step       # tokens/s of a LoRA training step and of sampling
#   CORES=1 bench/run.sh    # one core each: per-core efficiency, less
#                           # sensitive to other load on a shared machine
#
# Go runs with GOMAXPROCS=$CORES; PyTorch at its best 2-core setting
# (torch.set_num_threads(1) with OPENBLAS_NUM_THREADS=$CORES, see
# ../shared/ref/cpu-training-benchmark.md). On a machine with more CPUs than
# that, both are pinned to the first $CORES CPUs with taskset. Go and PyTorch
# alternate within each round so machine load affects both alike; the load
# average is printed before and after. Every figure comes twice: per second
# of wall time (what the targets are stated in; on a busy machine OpenBLAS's
# spinning threads lose more than Go's goroutines) and per CPU-second of the
# process (all threads together), which other work on the machine disturbs
# far less. PyTorch needs Debian's python3-torch
# and libopenblas0-pthread (without it torch falls back to the reference
# BLAS, ~20x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT=${1:-all}
case $WHAT in matmul | step | all) ;; *)
	echo "usage: bench/run.sh [matmul|step|all]" >&2
	exit 2
	;;
esac
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
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

for r in $(seq "$ROUNDS"); do
	if [ "$WHAT" != step ]; then
		GOMAXPROCS=$CORES "${pin[@]}" "$tmp/tinylm.test" -test.run '^$' -test.bench '^BenchmarkMatmul$' -test.benchtime 200ms |
			awk -v r="$r" '/^BenchmarkMatmul\// { g = "null"; c = "null";
				for (i = 1; i < NF; i++) { if ($(i+1) == "GFLOP/s") g = $i; if ($(i+1) == "GFLOP/cpu-s") c = $i }
				split($1, p, "/"); sub(/-[0-9]+$/, "", p[3]);
				printf "{\"impl\":\"%s\",\"bench\":\"matmul\",\"shape\":\"%s\",\"gflops\":%s,\"gflops_cpu\":%s,\"round\":%d}\n", p[3], p[2], g, c, r }' >>"$tmp/results.jsonl"
		OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=$CORES "${pin[@]}" "$PY" bench/torch/bench_tinylm.py --threads 1 --matmul |
			sed "s/}\$/, \"round\": $r}/" >>"$tmp/results.jsonl"
	fi
	if [ "$WHAT" != matmul ]; then
		GOMAXPROCS=$CORES "${pin[@]}" "$tmp/tinylm.test" -test.run '^$' -test.bench '^Benchmark(LoRAStep|Sample)$' -test.benchtime 20x |
			awk -v r="$r" '/^Benchmark/ { w = "null"; c = "null";
				for (i = 1; i < NF; i++) { if ($(i+1) == "tok/s") w = $i; if ($(i+1) == "tok/cpu-s") c = $i }
				b = ($1 ~ /LoRAStep/) ? "lora_step" : "sample";
				printf "{\"impl\":\"go\",\"bench\":\"%s\",\"tok_per_s\":%s,\"tok_per_cpu_s\":%s,\"round\":%d}\n", b, w, c, r }' >>"$tmp/results.jsonl"
		OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=$CORES "${pin[@]}" "$PY" bench/torch/bench_tinylm.py --threads 1 |
			sed "s/}\$/, \"round\": $r}/" >>"$tmp/results.jsonl"
	fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

CORES=$CORES "$PY" - "$tmp/results.jsonl" <<'PYEOF'
import json, math, os, statistics, sys
cores = os.environ["CORES"]
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds = max(r["round"] for r in rows)
torch_version = next((r.get("torch") for r in rows if r.get("torch")), "?")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


mm = [r for r in rows if r["bench"] == "matmul"]
if mm:
    sets = [i for i in dict.fromkeys(r["impl"] for r in mm) if i not in ("tinylm", "vek32", "pytorch")]
    for key, unit in (("gflops", "GFLOP/s (wall)"), ("gflops_cpu", "GFLOP per CPU-second")):
        print(f"\nmatmul {unit}, median of {rounds} rounds; Go GOMAXPROCS={cores}, OPENBLAS_NUM_THREADS={cores}")
        print("tinylm: what the model runs (kernel.go's choice); then each kernel set alone")
        print(f"{'shape':16} {'tinylm':>8} " + " ".join(f"{s:>8}" for s in sets) + f" {'vek32':>8} {'openblas':>8} {'tinylm/blas':>12} {'tinylm/vek32':>12}")
        ratios = []
        for shape in dict.fromkeys(r["shape"] for r in mm):
            g = {i: med([r.get(key) for r in mm if r["shape"] == shape and r["impl"] == i]) for i in ["tinylm"] + sets + ["vek32", "pytorch"]}
            ratio = g["tinylm"] / g["pytorch"]
            if not math.isnan(ratio):
                ratios.append(ratio)
            print(f"{shape:16} {g['tinylm']:>8.1f} " + " ".join(f"{g[s]:>8.1f}" for s in sets) + f" {g['vek32']:>8.1f} {g['pytorch']:>8.1f} {ratio:>12.2f} {g['tinylm']/g['vek32']:>12.2f}")
        if ratios:
            print(f"tinylm / OpenBLAS over the {len(ratios)} shapes: median {med(ratios):.2f}, min {min(ratios):.2f}")

st = [r for r in rows if r["bench"] in ("lora_step", "sample")]
if st:
    for key, unit in (("tok_per_s", "tok/s (wall)"), ("tok_per_cpu_s", "tokens per CPU-second")):
        print(f"\ntinylm {unit}, {rounds} rounds; PyTorch {torch_version}, 1 torch thread + OPENBLAS_NUM_THREADS={cores}; Go GOMAXPROCS={cores}")
        print(f"{'bench':10} {'round':>5} {'go':>10} {'torch':>10} {'go/torch':>9}")
        for bench in ("lora_step", "sample"):
            ratios = []
            for rd in sorted({r["round"] for r in st}):
                g = [r.get(key) for r in st if r["bench"] == bench and r["impl"] == "go" and r["round"] == rd]
                t = [r.get(key) for r in st if r["bench"] == bench and r["impl"] == "pytorch" and r["round"] == rd]
                if g and t and g[0] and t[0]:
                    ratios.append(g[0] / t[0])
                    print(f"{bench:10} {rd:>5} {g[0]:>10.0f} {t[0]:>10.0f} {g[0]/t[0]:>9.2f}")
            gs = [r.get(key) for r in st if r["bench"] == bench and r["impl"] == "go"]
            ts = [r.get(key) for r in st if r["bench"] == bench and r["impl"] == "pytorch"]
            if ratios:
                print(f"{bench:10} {'med':>5} {med(gs):>10.0f} {med(ts):>10.0f} {med(ratios):>9.2f}  (median of per-round ratios)")
PYEOF
